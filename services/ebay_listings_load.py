"""The ERP's eBay listing file (issue 17, seed 004's "eBay record per SKU"), loaded as ``bobbin erp
load ebay-listings FILE`` (CSV or .xlsx, read like every ERP file: ``services.erp_load``).

One row per site (the seller's eBay account) and SKU:

==================  ====================================================================
column              what it holds (blank: the default)
==================  ====================================================================
Site                the eBay site's name or id (required)
SKU                 the ERP SKU (required; must be loaded: ``bobbin erp load styles``)
Format              FIXED_PRICE or AUCTION (also "Fixed Price", "FixedPrice", "Auction"); FIXED_PRICE
Duration            GTC for fixed price; DAYS_1/3/5/7/10/21/30... (or 7, Days_7) for an auction;
                    GTC / DAYS_7
Category 1          the eBay category id (digits); a blank one keeps the SKU from being listed
Category 2          a second eBay category id
Condition           an eBay condition (NEW, NEW_OTHER, USED_EXCELLENT...) or File Exchange's
                    ConditionID (1000 = NEW); NEW
Title               at most 80 characters; "<style description> - <colour> / <size>"
Description HTML    the item description as HTML (sanitised when it is sent, not here)
Image 1..Image 12   picture URLs (https), in order; or one "Images" column with the URLs
                    separated by "|" (File Exchange's PicURL)
Price               the price (a fixed price, or an auction's opening bid)
Currency            USD
Update              Y: flag for the next push; N: store without flagging; blank: flag
                    when the row is new or its content changed
==================  ====================================================================

The file loads whole or not at all: every row is checked first (the site is an eBay site, the SKU
an ERP SKU, each value readable, a site and SKU at most once), and one bad row means nothing is
written, with every problem reported by its row number. Listing rules that a person may still fix
later (no category, a price of 0, 13 pictures, a missing picture) do not stop the load: the push
checks them (``connectors.ebay.listing.listing_problems``) and reports each SKU it keeps back.
The caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from connectors.ebay import listing as rules
from models import EbayListing, Site, Sku, Style, StyleColor
from services.erp_load import MAX_PRICE, Column, LoadReport, RowReader, data_rows, open_sheet, parse_money

EBAY_KIND = "ebay"
IMAGE_COLUMNS = rules.MAX_PICTURES  # Image 1..Image 12 (seed 004's ERP)
IMAGE_SEPARATOR = "|"  # [DOC partners README 5.1] File Exchange's PicURL: several URLs, |-separated
DEFAULT_CURRENCY = "USD"  # [INF] the demo brand's marketplace (EBAY_US)

EBAY_LISTING_COLUMNS: tuple[Column, ...] = (
    Column("site", ("site", "site_name", "seller", "seller_account", "ebay_site"), True),
    Column("sku", ("sku", "sku_id", "erp_sku", "custom_label", "customlabel"), True, header="SKU"),
    Column("format", ("format", "listing_format", "listing_type")),
    Column("duration", ("duration", "listing_duration")),
    Column(
        "category1", ("category_1", "category1", "category", "primary_category", "category_id"), header="Category 1"
    ),
    Column("category2", ("category_2", "category2", "secondary_category", "second_category"), header="Category 2"),
    Column("condition", ("condition", "condition_id", "conditionid")),
    Column("title", ("title", "item_title")),
    Column(
        "description_html",
        ("description_html", "description", "html_description", "html"),
        header="Description HTML",
    ),
    *(
        Column(f"image{n}", (f"image_{n}", f"image{n}", f"picture_{n}", f"picture{n}"), header=f"Image {n}")
        for n in range(1, IMAGE_COLUMNS + 1)
    ),
    Column("images", ("images", "image_urls", "picurl", "pic_url", "pictures")),
    Column("price", ("price", "start_price", "startprice")),
    Column("currency", ("currency",)),
    Column("update", ("update", "update_ebay", "flag")),
)
# What a cell may say for a format, read without case, spaces, _ or -.
FORMAT_WORDS = {
    "fixedprice": rules.FORMATS[0],
    "fixed": rules.FORMATS[0],
    "buyitnow": rules.FORMATS[0],
    "bin": rules.FORMATS[0],
    "auction": rules.FORMATS[1],
    "chinese": rules.FORMATS[1],
}
# [INF recalled] File Exchange's ConditionID numbers for the conditions an apparel seller uses.
CONDITION_IDS = {
    "1000": "NEW",
    "1500": "NEW_OTHER",
    "1750": "NEW_WITH_DEFECTS",
    "2990": "PRE_OWNED_EXCELLENT",
    "3000": "USED_EXCELLENT",
    "3010": "PRE_OWNED_FAIR",
}
YES = {"y", "yes", "true", "1", "x"}
NO = {"n", "no", "false", "0"}
MAX_SITE_CHARS = 100
# The fields whose change flags a record for the next push (the "update eBay" flag).
CONTENT_FIELDS = (
    "listing_format",
    "duration",
    "category1",
    "category2",
    "condition",
    "title",
    "description_html",
    "image_urls",
    "price",
    "currency",
)


@dataclass
class ListingLoadReport(LoadReport):
    """An eBay listings file's load: per row, new / changed / unchanged, and how many are flagged."""

    flagged: int = 0
    unchanged: int = 0
    flagged_skus: list[tuple[str, str]] = field(default_factory=list)  # (site, SKU), in file order

    def summary(self) -> str:
        if self.problems:
            return (
                f"ebay-listings {self.path}: {self.rows_read} rows read, nothing loaded: "
                f"{len({p.row for p in self.problems})} rows with problems"
            )
        return (
            f"ebay-listings {self.path}: {self.rows_read} rows read, {self.inserted} new, {self.updated} changed, "
            f"{self.unchanged} unchanged; {self.flagged} flagged for the next push"
        )


@dataclass(frozen=True)
class _Site:
    id: int
    name: str
    kind: str


def _sites(session: Session) -> dict[str, _Site]:
    """Every site by its name (lower case) and its id (as text)."""
    out: dict[str, _Site] = {}
    for site_id, name, kind in session.execute(select(Site.id, Site.name, Site.kind)):
        found = _Site(int(site_id), str(name), str(kind))
        out[str(name).strip().lower()] = found
        out[str(site_id)] = found
    return out


def read_format(text: str) -> str | None:
    """FIXED_PRICE / AUCTION from how a sheet may write it; None when it is neither."""
    if not text:
        return rules.FORMATS[0]
    return FORMAT_WORDS.get(re.sub(r"[\s_\-]+", "", text).lower())


def read_duration(text: str, listing_format: str) -> str | None:
    """GTC or DAYS_n from "GTC", "Days_7", "DAYS_7", "7"; blank: GTC (fixed price) / DAYS_7 (auction)."""
    if not text:
        return rules.DEFAULT_AUCTION_DURATION if listing_format == rules.FORMATS[1] else "GTC"
    word = text.strip().upper().replace(" ", "_")
    if word.isdigit():
        word = f"DAYS_{int(word)}"
    return word if word in rules.DURATIONS else None


def read_condition(text: str) -> str | None:
    if not text:
        return rules.DEFAULT_CONDITION
    if text.strip() in CONDITION_IDS:
        return CONDITION_IDS[text.strip()]
    word = re.sub(r"[\s\-]+", "_", text.strip()).upper()
    return word if word in rules.CONDITIONS else None


def read_flag(text: str) -> bool | None:
    """True (flag), False (do not flag), None (flag when new or changed)."""
    word = text.strip().lower()
    if not word:
        return None
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError(word)


def default_title(style_description: str, color_name: str | None, size: str) -> str:
    """ "Dune Fisherman Sweater - Olive / M", at most 80 characters."""
    tail = f" - {color_name} / {size}" if color_name else f" - {size}"
    return (style_description.strip()[: rules.MAX_TITLE_CHARS - len(tail)] + tail)[: rules.MAX_TITLE_CHARS]


def _images(r: RowReader) -> list[str]:
    numbered = [r.get(f"image{n}") for n in range(1, IMAGE_COLUMNS + 1)]
    listed = r.get("images")
    if listed and any(numbered):
        r.problem("images", listed, "write the pictures in the Images column or in Image 1..12, not in both.")
    urls = [u.strip() for u in listed.split(IMAGE_SEPARATOR)] if listed else numbered
    urls = [u for u in urls if u]
    for url in urls:
        if not url.lower().startswith("https://") or " " in url or len(url) < 12:
            name = "images" if listed else f"image{numbered.index(url) + 1}"
            r.problem(name, url, "a picture is an https:// URL (eBay takes no other).")
    return urls


def _category(r: RowReader, name: str, what: str) -> str | None:
    text = r.get(name)
    if not text:
        return None
    if not rules.CATEGORY_RE.match(text):
        r.problem(name, text, f"{what} is an eBay category id: digits only (e.g. 15687).")
        return None
    return text


def load_ebay_listings(session: Session, path: Path | str) -> ListingLoadReport:
    """Load the eBay listings file: every row checked first, then each record inserted or updated
    (flagged when new or changed, or as its Update column says), or nothing written when any row
    is bad. The caller commits."""
    sheet = open_sheet(path, "ebay-listings", EBAY_LISTING_COLUMNS)
    report = ListingLoadReport("ebay-listings", str(path), ignored_columns=sheet.ignored)
    readers = list(data_rows(sheet, report))
    sites = _sites(session)
    wanted = {r.get("sku") for r in readers if r.get("sku")}
    erp: dict[str, tuple[str, str, str | None, str]] = {}  # SKU -> (style, description, colour name, size)
    if wanted:
        for sku, style, description, color_name, size in session.execute(
            select(Sku.sku, Sku.style_number, Style.description, StyleColor.color_name, Sku.size)
            .join(Style, Style.number == Sku.style_number)
            .outerjoin(
                StyleColor,
                (StyleColor.style_number == Sku.style_number) & (StyleColor.color_code == Sku.color_code),
            )
            .where(Sku.sku.in_(sorted(wanted)))
        ):
            erp[str(sku)] = (str(style), str(description), color_name, str(size))

    rows: list[tuple[int, dict[str, Any], bool | None]] = []
    seen: dict[tuple[int, str], int] = {}
    for r in readers:
        site_text = r.get("site")
        site = sites.get(site_text.strip().lower()) if site_text else None
        if not site_text:
            r.problem("site", site_text, "the site is empty: name the eBay site (bobbin sites list).")
        elif site is None:
            r.problem("site", site_text, f'unknown site "{site_text}": name an eBay site (bobbin sites list).')
        elif site.kind != EBAY_KIND:
            r.problem("site", site_text, f'site "{site.name}" is a {site.kind} site, not an eBay site.')
        sku = r.get("sku")
        known = erp.get(sku)
        if not sku:
            r.problem("sku", sku, "the SKU is empty.")
        elif known is None:
            r.problem("sku", sku, f"unknown SKU {sku}: it is not an ERP SKU; load it first (bobbin erp load styles).")
        elif site is not None:
            first = seen.setdefault((site.id, sku), r.row_no)
            if first != r.row_no:
                r.problem("sku", sku, f"SKU {sku} of site {site.name} is in row {first} already; keep one row.")
        listing_format = read_format(r.get("format"))
        if listing_format is None:
            r.problem("format", r.get("format"), "the format is FIXED_PRICE or AUCTION.")
        duration = read_duration(r.get("duration"), listing_format or rules.FORMATS[0])
        if duration is None:
            r.problem("duration", r.get("duration"), f"the duration is one of {', '.join(rules.DURATIONS)}.")
        condition = read_condition(r.get("condition"))
        if condition is None:
            r.problem("condition", r.get("condition"), "not an eBay condition: write NEW, NEW_OTHER, USED_EXCELLENT...")
        category1 = _category(r, "category1", "category 1")
        category2 = _category(r, "category2", "category 2")
        title = r.get("title")
        if len(title) > rules.MAX_TITLE_CHARS:
            r.problem("title", title, f"eBay takes titles of at most {rules.MAX_TITLE_CHARS} characters.")
        images = _images(r)
        price: Decimal | None = None
        price_text = r.get("price")
        if price_text:
            price = parse_money(price_text)
            if price is None:
                r.problem("price", price_text, f'the price "{price_text}" is not a number.')
            elif price < 0:
                r.problem("price", price_text, "the price is negative.")
                price = None
            elif price > MAX_PRICE:
                r.problem("price", price_text, f"the price is too large (at most {MAX_PRICE:,}).")
                price = None
            else:
                price = price.quantize(Decimal("0.01"))
        currency = (r.get("currency") or DEFAULT_CURRENCY).upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            r.problem("currency", r.get("currency"), "the currency is a 3-letter code (USD).")
        try:
            flag = read_flag(r.get("update"))
        except ValueError:
            r.problem("update", r.get("update"), "write Y (flag for the next push), N, or leave it blank.")
            flag = None
        if r.problems:
            report.problems += r.problems
            continue
        assert site is not None and known is not None
        rows.append(
            (
                r.row_no,
                {
                    "site_id": site.id,
                    "sku": sku,
                    "listing_format": listing_format,
                    "duration": duration,
                    "category1": category1,
                    "category2": category2,
                    "condition": condition,
                    "title": title or default_title(known[1], known[2], known[3]),
                    "description_html": r.get("description_html") or None,
                    "image_urls": images,
                    "price": price,
                    "currency": currency,
                },
                flag,
            )
        )
    report.problems.sort(key=lambda p: p.row)
    if report.problems or not rows:
        return report

    names = {s.id: s.name for s in sites.values()}
    existing = {
        (rec.site_id, rec.sku): rec
        for rec in session.scalars(
            select(EbayListing).where(EbayListing.sku.in_(sorted({v["sku"] for _, v, _ in rows}))).with_for_update()
        )
    }
    values = []
    for _, value, flag in rows:
        before = existing.get((value["site_id"], value["sku"]))
        changed = before is None or any(getattr(before, f) != value[f] for f in CONTENT_FIELDS)
        if before is None:
            report.inserted += 1
        elif changed:
            report.updated += 1
        else:
            report.unchanged += 1
        keep = bool(before.needs_update) if before is not None else False
        value["needs_update"] = keep or (changed if flag is None else flag)
        if value["needs_update"]:
            report.flagged += 1
            report.flagged_skus.append((names[value["site_id"]], value["sku"]))
        values.append(value)
    stmt = insert(EbayListing)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[EbayListing.site_id, EbayListing.sku],
            set_={
                **{f: stmt.excluded[f] for f in CONTENT_FIELDS},
                "needs_update": stmt.excluded.needs_update,
                "updated_at": func.now(),
            },
        ),
        values,
    )
    report.rows_loaded = len(values)
    report.keys = {v["sku"] for v in values}
    return report
