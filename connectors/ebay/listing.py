"""eBay listings: the one place that says what an ERP listing record may send and how it is sent.

Three pure parts, no database and no HTTP (``services.ebay_listings`` reads the records and calls
the client; the unit tests call these directly):

- the HTML **sanitising policy** (:data:`ALLOWED_TAGS`, :data:`ALLOWED_ATTRIBUTES`, the URL
  schemes and inline-style properties kept) and :func:`sanitize_description`, built on ``nh3``
  (the Python binding of Ammonia, a maintained allow-list sanitiser). Script and style elements go
  with their content, event-handler attributes (``onclick``...) and ``javascript:`` / ``data:`` URLs
  go, ordinary formatting (paragraphs, lists, tables, bold, links, pictures, colours) stays. A
  description that held active content is still sent, sanitised, and the push says so as a
  warning for that SKU (:attr:`Sanitized.removed`): the seller's text is listed, never the script.
- the **listing rules** checked before anything is sent (:func:`listing_problems`): at most 12
  pictures, a category, a price above zero, a title eBay takes, a known format / duration /
  condition. Each failure is one sentence about the SKU; the other SKUs go on.
- the **bodies** of the Sell Inventory API calls (:func:`inventory_item`, :func:`item_group`,
  :func:`offer`), with every field name from ``contract.py`` or, for the few fields only listings
  use, from the constants below (each with its source).

Markers as in ``contract.py``: [DOC] eBay's developer documentation, [INF] our choice, [SEED] seed 004.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import nh3

from connectors.ebay import contract as c

# --- What a listing may carry ---------------------------------------------------------------------
# [SEED 004] the ERP kept 12 pictures per eBay record; eBay itself takes 24 (contract.MAX_IMAGES).
MAX_PICTURES: Final = c.ERP_MAX_IMAGES
MAX_TITLE_CHARS: Final = 80  # [DOC] InventoryItem product.title: "Max length: 80"
MAX_DESCRIPTION_CHARS: Final = 500_000  # [DOC] product.description / listingDescription
MAX_CATEGORY_CHARS: Final = 10  # [INF] eBay category ids are numbers of up to 6-7 digits today
MAX_GROUP_KEY_CHARS: Final = 50  # [DOC] inventoryItemGroupKey "Max length: 50"
# [DOC] slr:FormatTypeEnum.
FORMATS: Final = (c.FORMAT_FIXED_PRICE, c.FORMAT_AUCTION)
# [DOC] slr:ListingDurationEnum: "GTC is valid and applicable only to fixed-price listings; the
# DAYS_nn values are applicable to auction listings."
AUCTION_DURATIONS: Final = (
    "DAYS_1",
    "DAYS_3",
    "DAYS_5",
    "DAYS_7",
    "DAYS_10",
    "DAYS_21",
    "DAYS_30",
    "DAYS_60",
    "DAYS_90",
    "DAYS_120",
)
DURATIONS: Final = (c.DURATION_GTC, *AUCTION_DURATIONS)
DEFAULT_AUCTION_DURATION: Final = "DAYS_7"  # [INF] the common auction length
# [DOC] slr:ConditionEnum (the inventory item's condition).
CONDITIONS: Final = (
    "NEW",
    "LIKE_NEW",
    "NEW_OTHER",
    "NEW_WITH_DEFECTS",
    "CERTIFIED_REFURBISHED",
    "EXCELLENT_REFURBISHED",
    "VERY_GOOD_REFURBISHED",
    "GOOD_REFURBISHED",
    "SELLER_REFURBISHED",
    "USED_EXCELLENT",
    "USED_VERY_GOOD",
    "USED_GOOD",
    "USED_ACCEPTABLE",
    "FOR_PARTS_OR_NOT_WORKING",
    "PRE_OWNED_EXCELLENT",
    "PRE_OWNED_FAIR",
)
DEFAULT_CONDITION: Final = "NEW"  # an apparel brand sells its own new stock
CATEGORY_RE: Final = re.compile(r"^\d{1,10}$")

# Fields only listings use [DOC EbayOfferDetailsWithKeys / PricingSummary / InventoryItemGroup].
SECONDARY_CATEGORY_ID: Final = "secondaryCategoryId"  # [DOC] "applicable if the seller lists under two categories"
AUCTION_START_PRICE: Final = "auctionStartPrice"  # [DOC] an auction's opening bid (price = Buy It Now)
ASPECT_COLOR: Final = "Color"  # [DOC] the variation aspects a clothing category names
ASPECT_SIZE: Final = "Size"
ASPECT_BRAND: Final = "Brand"
MPN: Final = "mpn"  # [DOC] product.mpn: the manufacturer part number (the style number)
UPC: Final = "upc"  # [DOC] product.upc: an array of UPCs
AMOUNT_VALUE: Final = c.AmountField.VALUE
AMOUNT_CURRENCY: Final = c.AmountField.CURRENCY

# --- The sanitising policy (the one place it is written) --------------------------------------------
# Formatting a seller's description uses; anything else is dropped (its text kept).
ALLOWED_TAGS: Final = frozenset(
    {
        "a", "abbr", "b", "big", "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup",
        "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
# Removed with everything inside them (a script's code must not end up as visible text).
CONTENT_REMOVED_TAGS: Final = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed"})
ALLOWED_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {
    "*": frozenset({"align", "style", "title", "dir", "lang"}),
    "a": frozenset({"href", "name", "target"}),
    "img": frozenset({"src", "alt", "width", "height", "border"}),
    "font": frozenset({"color", "face", "size"}),
    "table": frozenset({"border", "cellpadding", "cellspacing", "width", "bgcolor", "summary"}),
    "td": frozenset({"colspan", "rowspan", "width", "valign", "bgcolor", "nowrap"}),
    "th": frozenset({"colspan", "rowspan", "width", "valign", "bgcolor", "scope"}),
    "tr": frozenset({"valign", "bgcolor"}),
    "col": frozenset({"span", "width"}),
    "colgroup": frozenset({"span", "width"}),
    "ol": frozenset({"start", "type"}),
    "ul": frozenset({"type"}),
    "li": frozenset({"value"}),
}
URL_SCHEMES: Final = frozenset({"https", "http", "mailto"})  # no javascript:, data:, vbscript:
# Inline CSS properties kept in style="..." (the rest of a declaration is dropped: no url(), no
# position:fixed overlays, no expression()).
STYLE_PROPERTIES: Final = frozenset(
    {
        "color", "background-color", "font-family", "font-size", "font-style", "font-weight", "text-align",
        "text-decoration", "text-transform", "line-height", "letter-spacing", "margin", "margin-top",
        "margin-bottom", "margin-left", "margin-right", "padding", "padding-top", "padding-bottom",
        "padding-left", "padding-right", "border", "border-collapse", "border-color", "border-style",
        "border-width", "width", "max-width", "height", "vertical-align", "list-style-type",
    }
)  # fmt: skip

# What the push names when it had to take something out (the warning).
_SCRIPT_TAG = re.compile(r"<\s*script\b", re.I)
_EVENT_ATTRIBUTE = re.compile(r"<[^>]*\s on[a-z]+\s*=", re.I | re.X)
_SCRIPT_URL = re.compile(r"(?:java|vb)script\s*:|data\s*:\s*text/html", re.I)
_OTHER_ACTIVE = re.compile(r"<\s*(?:iframe|object|embed)\b", re.I)


@dataclass(frozen=True)
class Sanitized:
    """A description as it is sent, and what was taken out of it (empty: nothing active)."""

    html: str
    removed: tuple[str, ...] = ()

    @property
    def warning(self) -> str | None:
        if not self.removed:
            return None
        return f"the HTML description had {', '.join(self.removed)}: removed before sending, the rest is listed"


def sanitize_description(html: str | None) -> Sanitized:
    """The description with only :data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES` left, and what
    active content (script tags, event-handler attributes, script URLs, frames) it held."""
    text = html or ""
    removed = []
    if _SCRIPT_TAG.search(text):
        removed.append("a script tag")
    if _EVENT_ATTRIBUTE.search(text):
        removed.append("event-handler attributes (on...=)")
    if _SCRIPT_URL.search(text):
        removed.append("a javascript: URL")
    if _OTHER_ACTIVE.search(text):
        removed.append("an embedded frame or object")
    clean = nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CONTENT_REMOVED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        filter_style_properties=set(STYLE_PROPERTIES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return Sanitized(clean.strip(), tuple(removed))


# --- The record, as the rules and the bodies read it --------------------------------------------------
@dataclass(frozen=True)
class ListingInput:
    """One listing record with what the ERP knows of its SKU (plain values, no ORM)."""

    sku: str
    title: str | None
    description_html: str | None
    listing_format: str
    duration: str
    category1: str | None
    category2: str | None
    condition: str
    image_urls: tuple[str, ...]
    price: Decimal | None
    currency: str
    style_number: str | None = None  # None: the SKU is not (or no longer) an ERP SKU
    style_description: str | None = None
    color_code: str | None = None
    color_name: str | None = None
    size: str | None = None
    size_index: int = 0
    upc: str | None = None
    quantity: int = 0  # available to sell on the site's warehouses
    brand: str | None = None


def listing_problems(item: ListingInput) -> list[str]:
    """Why this record cannot be sent, one sentence each (empty: it can)."""
    sku = item.sku
    problems = []
    if item.style_number is None:
        problems.append(f"SKU {sku} is not an ERP SKU (deleted or never loaded): load it with `bobbin erp load styles`")
    if len(sku) > c.MAX_SKU_CHARS:
        problems.append(f"eBay takes SKUs of at most {c.MAX_SKU_CHARS} characters; SKU {sku[:60]} is longer")
    if len(item.image_urls) > MAX_PICTURES:
        problems.append(f"eBay takes at most {MAX_PICTURES} pictures; SKU {sku} has {len(item.image_urls)}")
    elif not item.image_urls:
        problems.append(f"SKU {sku} has no picture: eBay lists nothing without one")
    bad_urls = [u for u in item.image_urls if not u.lower().startswith("https://")]
    if bad_urls:
        problems.append(f"SKU {sku}: eBay takes pictures by https URL only, not {bad_urls[0][:80]}")
    if not (item.category1 or "").strip():
        problems.append(f"SKU {sku} has no eBay category (category 1): set it before it can be listed")
    elif not CATEGORY_RE.match(item.category1 or ""):
        problems.append(f"SKU {sku}: category 1 {item.category1!r} is not an eBay category id (digits)")
    if item.category2 and not CATEGORY_RE.match(item.category2):
        problems.append(f"SKU {sku}: category 2 {item.category2!r} is not an eBay category id (digits)")
    if item.category2 and item.category2 == item.category1:
        problems.append(f"SKU {sku}: category 2 is the same as category 1")
    if item.price is None:
        problems.append(f"SKU {sku} has no price")
    elif item.price <= 0:
        problems.append(f"SKU {sku} has a price of {item.price}: eBay lists only at a price above zero")
    title = (item.title or "").strip()
    if not title:
        problems.append(f"SKU {sku} has no title")
    elif len(title) > MAX_TITLE_CHARS:
        problems.append(f"eBay takes titles of at most {MAX_TITLE_CHARS} characters; SKU {sku}'s has {len(title)}")
    if len(item.description_html or "") > MAX_DESCRIPTION_CHARS:
        problems.append(f"SKU {sku}'s description is longer than eBay's {MAX_DESCRIPTION_CHARS:,} characters")
    if item.listing_format not in FORMATS:
        problems.append(f"SKU {sku}: format {item.listing_format!r} is not one of {', '.join(FORMATS)}")
    elif item.listing_format == c.FORMAT_FIXED_PRICE and item.duration != c.DURATION_GTC:
        problems.append(f"SKU {sku}: a fixed-price listing runs GTC (good 'til cancelled), not {item.duration}")
    elif item.listing_format == c.FORMAT_AUCTION and item.duration not in AUCTION_DURATIONS:
        problems.append(
            f"SKU {sku}: an auction runs {', '.join(AUCTION_DURATIONS)}, not {item.duration or 'no duration'}"
        )
    if item.condition not in CONDITIONS:
        problems.append(f"SKU {sku}: condition {item.condition!r} is not an eBay condition (e.g. NEW)")
    if not re.fullmatch(r"[A-Z]{3}", item.currency or ""):
        problems.append(f"SKU {sku}: currency {item.currency!r} is not a 3-letter code")
    return problems


def _amount(value: Decimal, currency: str) -> dict[str, str]:
    return {AMOUNT_VALUE: f"{value.quantize(Decimal('0.01'))}", AMOUNT_CURRENCY: currency}


def aspects(item: ListingInput) -> dict[str, list[str]]:
    """The item's aspects: its colour and size (what a multi-variation listing varies by), and the
    brand when the site names one."""
    out: dict[str, list[str]] = {}
    if item.color_name or item.color_code:
        out[ASPECT_COLOR] = [str(item.color_name or item.color_code)]
    if item.size:
        out[ASPECT_SIZE] = [item.size]
    if item.brand:
        out[ASPECT_BRAND] = [item.brand]
    return out


def inventory_item(item: ListingInput, description: Sanitized) -> dict[str, Any]:
    """[DOC] createOrReplaceInventoryItem's body (``sku`` added for the bulk call)."""
    IF = c.ItemField
    product: dict[str, Any] = {
        IF.TITLE: (item.title or "").strip(),
        IF.DESCRIPTION: description.html,
        IF.ASPECTS: aspects(item),
        IF.IMAGE_URLS: list(item.image_urls),
    }
    if item.style_number:
        product[MPN] = item.style_number
    if item.upc:
        product[UPC] = [item.upc]
    return {
        IF.SKU: item.sku,
        IF.CONDITION: item.condition,
        IF.AVAILABILITY: {IF.SHIP_TO_LOCATION_AVAILABILITY: {IF.QUANTITY: max(0, int(item.quantity))}},
        IF.PRODUCT: product,
    }


def group_key(style_number: str) -> str:
    """[INF] a style's group is keyed by its style number (one seller account per site)."""
    return style_number[:MAX_GROUP_KEY_CHARS]


def item_group(items: Sequence[ListingInput], description: Sanitized, title: str) -> dict[str, Any]:
    """[DOC] createOrReplaceInventoryItemGroup's body: the style's SKUs, varying by Color and Size
    (each aspect only when its values differ), pictures varying by Color, the pictures of every
    SKU in order (at most 12, each once)."""
    GF = c.GroupField
    ordered = sorted(items, key=lambda i: (i.color_name or i.color_code or "", i.size_index, i.sku))
    specs = []
    colors = _unique(a for i in ordered for a in aspects(i).get(ASPECT_COLOR, []))
    sizes = _unique(a for i in ordered for a in aspects(i).get(ASPECT_SIZE, []))
    if len(colors) > 1 or (colors and len(sizes) <= 1):
        specs.append({GF.NAME: ASPECT_COLOR, GF.VALUES: colors})
    if len(sizes) > 1 or (sizes and not specs):
        specs.append({GF.NAME: ASPECT_SIZE, GF.VALUES: sizes})
    varies: dict[str, Any] = {GF.SPECIFICATIONS: specs}
    if len(colors) > 1:
        varies[GF.ASPECTS_IMAGE_VARIES_BY] = [ASPECT_COLOR]
    pictures = _unique(u for i in ordered for u in i.image_urls)[:MAX_PICTURES]
    common: dict[str, list[str]] = {}
    brands = _unique(i.brand for i in ordered if i.brand)
    if len(brands) == 1:
        common[ASPECT_BRAND] = brands
    return {
        GF.TITLE: title[:MAX_TITLE_CHARS],
        GF.DESCRIPTION: description.html,
        GF.IMAGE_URLS: pictures,
        "aspects": common,  # [DOC] InventoryItemGroup.aspects: what every variation shares
        GF.VARIANT_SKUS: [i.sku for i in ordered],
        GF.VARIES_BY: varies,
    }


@dataclass(frozen=True)
class OfferTerms:
    """The site's side of an offer (EbaySettings): marketplace, location, policies."""

    marketplace_id: str
    merchant_location_key: str | None = None
    fulfillment_policy_id: str | None = None
    payment_policy_id: str | None = None
    return_policy_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def offer(item: ListingInput, description: Sanitized, terms: OfferTerms) -> dict[str, Any]:
    """[DOC] createOffer / updateOffer's body. A fixed-price offer's price is ``price``; an
    auction's is its opening bid (``auctionStartPrice``) and its quantity 1 [DOC: "For auction
    listings, this value must be 1"]."""
    OF = c.OfferField
    assert item.price is not None
    auction = item.listing_format == c.FORMAT_AUCTION
    pricing = (
        {AUCTION_START_PRICE: _amount(item.price, item.currency)}
        if auction
        else {OF.PRICE: _amount(item.price, item.currency)}
    )
    body: dict[str, Any] = {
        OF.SKU: item.sku,
        OF.MARKETPLACE_ID: terms.marketplace_id,
        OF.FORMAT: item.listing_format,
        OF.LISTING_DURATION: item.duration,
        OF.CATEGORY_ID: item.category1,
        OF.LISTING_DESCRIPTION: description.html,
        OF.PRICING_SUMMARY: pricing,
    }
    if auction:  # [DOC] an auction's quantity is 1. A fixed-price offer names none: eBay then shows
        # the inventory item's ship-to-home quantity, which the inventory push keeps current.
        body[OF.AVAILABLE_QUANTITY] = 1
    if item.category2:
        body[SECONDARY_CATEGORY_ID] = item.category2
    policies = {
        OF.FULFILLMENT_POLICY_ID: terms.fulfillment_policy_id,
        OF.PAYMENT_POLICY_ID: terms.payment_policy_id,
        OF.RETURN_POLICY_ID: terms.return_policy_id,
    }
    body[OF.LISTING_POLICIES] = {k: v for k, v in policies.items() if v}
    if terms.merchant_location_key:
        body[OF.MERCHANT_LOCATION_KEY] = terms.merchant_location_key
    body.update(terms.extra)
    return body


def _unique(values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(str(value), None)
    return list(seen)
