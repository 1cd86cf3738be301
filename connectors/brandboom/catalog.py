"""Brandboom's catalog and customer push (``connectors.catalog``): styles through
``products/import`` in mode ``split`` or ``combine`` [DOC seed 001], removals through
``products/{id}``, customers through the customers API (partners/README 2.4).

One import row per SKU, carrying only the columns Bobbin owns: style number, option (colour)
code and name, size, skuNumber (the ERP SKU id, as seed 000 asks), UPC, the product name,
season, category, and the prices per price tier the site maps its ERP price types to. Brandboom
"overwrites" every column it receives and leaves the others alone [DOC], so what a brand edits on
Brandboom itself (descriptions, types, minimum quantities, images...) survives a push.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from connectors.brandboom import contract as c
from connectors.brandboom.client import BrandboomClient
from connectors.brandboom.settings import BrandboomSettings
from connectors.catalog import (
    ACCEPTED,
    REJECTED,
    REMOVED,
    CatalogCustomer,
    CatalogPush,
    CatalogStyle,
    CustomerAddress,
    CustomerPush,
    Image,
    ItemResult,
    Linesheet,
    PartnerProduct,
    Price,
)
from connectors.errors import PartnerRejected

# Styles per send_styles call: 200 styles of 4 colours x 6 sizes are 4,800 rows, one import.
BATCH_STYLES = 200
# Rows per products/import call, as the inventory push (~100 bytes a row here: ~0.5 MB of CSV).
# A batch with more rows than this is sent in several imports, a style never split across two.
MAX_IMPORT_ROWS = 5000
# Style numbers per products/search call when looking up what to remove (they ride in the URL).
STYLES_PER_SEARCH = 100
# Customers per send call: one request each (the customers API takes one at a time [INF]).
CUSTOMER_BATCH = 50
# How many of Brandboom's messages, and of the refused SKUs, a style's problem row quotes.
QUOTED_ROW_ERRORS = 3
QUOTED_SKUS = 5

# What a site does with a style made inactive in the ERP (the shared setting ``catalog_inactive``).
KEEP, DEACTIVATE, REMOVE = "keep", "deactivate", "remove"

Row = dict[str, Any]


class BrandboomCatalogPusher:
    """A Brandboom site's side of one catalog push (``connectors.catalog.CatalogPusher``)."""

    def __init__(self, client: BrandboomClient, settings: BrandboomSettings) -> None:
        self.client = client
        self.brand_id, self.showroom_id = settings.brand_id, settings.showroom_id
        self.price_tiers: dict[str, int | None] = dict(settings.price_tiers)
        self.mode = settings.catalog_mode
        # The shared setting may not exist on older settings models: keep is the safe default.
        self.inactive = str(getattr(settings, "catalog_inactive", KEEP) or KEEP)
        self.max_rows = MAX_IMPORT_ROWS

    # --- matching --------------------------------------------------------------------------
    def existing(self) -> Iterator[PartnerProduct]:
        """Every product of the site's brand / showroom (products/search, pages of 300), one
        PartnerProduct per style number: a style split by colour is several Brandboom products,
        whose ids are joined with commas. Products without a style number come one by one."""
        by_style: dict[str, list[Mapping[str, Any]]] = {}
        loose: list[Mapping[str, Any]] = []
        for page in self.client.iter_products(**self._scope()):
            for product in page:
                style = str(product.get(c.PRODUCT_STYLE_NUMBER) or "").strip()
                (by_style.setdefault(style, []) if style else loose).append(product)
        for style, products in by_style.items():
            yield _partner_product(style, products)
        for alone in loose:
            yield _partner_product(None, [alone])

    # --- styles ------------------------------------------------------------------------------
    def check(self, style: CatalogStyle) -> list[str]:
        """A style with no SKU (Brandboom keys every product row by style, option and size), and
        each price type the site maps to no Brandboom price tier. Brandboom keys by style +
        option + size or skuNumber, never by UPC, so a SKU without a UPC is fine."""
        problems = []
        if not any(color.skus for color in style.colors):
            problems.append(
                f"style {style.number} has no SKUs in the ERP: Brandboom needs a colour and a size for every "
                "product row; add its colours and sizes (or make the style inactive)"
            )
        unmapped = sorted({p.price_type for p in _prices_of(style)} - set(self.price_tiers))
        for code in unmapped:
            problems.append(
                f"style {style.number}: price type {code} has no Brandboom price tier: "
                f"`bobbin sites set SITE price_tiers={self._tiers_text(code)}` (the tier ids are in the showroom "
                f"settings on Brandboom; {code}:none leaves {code} out)"
            )
        return problems

    def rows(self, style: CatalogStyle, products: Sequence[Mapping[str, Any]] = ()) -> list[Row]:
        """The style's import rows, colour by colour in size order; only Bobbin's columns, and
        no column for a value the ERP does not have (a blank cell would overwrite nothing anyway).

        ``products``: the Brandboom products the style was matched to (its ``partner_id``). A SKU
        of theirs with the ERP SKU's skuNumber, else its UPC, else its option and size, keys the
        row with its own style number, option and size, so the import updates that product
        rather than making a second one (a product the brand made by hand under another style
        number, matched by UPC or by ``bobbin map style``)."""
        keys = _partner_keys(style, products)
        rows: list[Row] = []
        for color in style.colors:
            prices: Row = {}
            for price in color.prices or style.prices:
                tier = self.price_tiers.get(price.price_type)
                if tier is None:
                    continue  # left out on purpose (price_tiers maps it to none), or check() said so
                prices[c.ROW_PRICE.format(tier=tier)] = _money(price.wholesale)
                if price.retail is not None:
                    prices[c.ROW_MSRP.format(tier=tier)] = _money(price.retail)
            for sku in sorted(color.skus, key=lambda s: (s.size_index, s.size)):
                number, option, size = keys.get(sku.sku, (style.number, color.code, sku.size))
                row: Row = {
                    c.ROW_STYLE_NUMBER: number,
                    c.ROW_OPTION_CODE: option,
                    c.ROW_OPTION_NAME: color.name,
                    c.ROW_SIZE: size,
                    c.ROW_SKU_NUMBER: sku.sku,
                }
                if sku.upc:
                    row[c.ROW_UPC] = sku.upc
                row[c.ROW_NAME] = style.description
                if style.season:
                    row[c.ROW_SEASON] = style.season
                if style.category:
                    row[c.ROW_CATEGORY] = style.category
                row.update(prices)
                rows.append(row)
        return rows

    def mode_of(self, style: CatalogStyle) -> str:
        """split or combine as the site says; auto splits a style whose colours carry different
        prices (so each colour's product shows its own price) and combines the rest."""
        if self.mode == c.MODE_SPLIT or (self.mode == "auto" and style.split_by_color):
            return c.MODE_SPLIT
        return c.MODE_COMBINE

    def send_styles(self, batch: Sequence[CatalogStyle], *, full: bool) -> list[ItemResult]:
        """products/import per mode, at most ``max_rows`` rows a call; ``bypassDiff`` only on a
        full push. Each style is answered from the import's answer: refused rows make it
        rejected with Brandboom's messages; rows skipped as unchanged since the last import are
        held as sent."""
        answers: dict[str, ItemResult] = {}
        by_mode: dict[str, list[tuple[CatalogStyle, list[Row]]]] = {}
        matched = self._counterparts([s for s in batch if s.partner_id])
        for style in batch:
            rows = self.rows(style, matched.get(style.number, ()))
            if not rows:
                answers[style.number] = ItemResult(
                    style.number, REJECTED, f"style {style.number} has no SKUs: nothing to send to Brandboom"
                )
                continue
            by_mode.setdefault(self.mode_of(style), []).append((style, rows))
        for mode, styles in by_mode.items():
            for chunk in _chunks(styles, self.max_rows):
                answers.update(self._import(mode, chunk, full))
        if self.inactive == DEACTIVATE:
            self._make_active(answers, matched)
        return [answers[s.number] for s in batch if s.number in answers]

    def _make_active(self, answers: dict[str, ItemResult], matched: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """With ``catalog_inactive=deactivate`` the ERP's active flag decides the products' status,
        and an import leaves a product's status as it is: a style accepted now (the ERP sells it)
        whose products are suspended, as a push suspends an inactive style, has them made active
        again, POST products/{id} status 0 [INF, as the deactivation]. Its products are those its
        partner id names and those its rows landed on (a style split by colour since has new
        products, copies of the suspended one). Brandboom refusing leaves the style rejected with
        its words: the next push sends it, and makes it active, again."""
        wanted: dict[str, str] = {}  # Brandboom product id -> ERP style number
        for number, answer in answers.items():
            theirs = matched.get(number, ())
            if answer.outcome != ACCEPTED or not any(p.get(c.PRODUCT_STATUS) == c.PRODUCT_SUSPENDED for p in theirs):
                continue
            ids = [str(p.get(c.PRODUCT_ID)) for p in theirs] + (answer.partner_id or "").split(",")
            wanted.update((pid.strip(), number) for pid in ids if pid.strip())
        values = list(wanted)
        problems: dict[str, list[str]] = {}
        for start in range(0, len(values), STYLES_PER_SEARCH):
            query: dict[str, Sequence[str]] = {c.P_PRODUCT_ID: values[start : start + STYLES_PER_SEARCH]}
            for page in self.client.iter_products(c.MAX_PRODUCTS_PER_PAGE, **query):
                for product in page:
                    product_id = str(product.get(c.PRODUCT_ID))
                    owner = wanted.get(product_id)
                    if owner is None or product.get(c.PRODUCT_STATUS) != c.PRODUCT_SUSPENDED:
                        continue  # only the products asked for, and only those suspended
                    try:
                        self.client.update_product(product_id, {c.PRODUCT_STATUS: c.PRODUCT_ACTIVE})
                    except PartnerRejected as exc:
                        problems.setdefault(owner, []).append(f"product {product_id}: {exc.message}")
        for number, said in problems.items():
            answers[number] = ItemResult(
                number,
                REJECTED,
                f"Brandboom took style {number} but refused to make it active again: {'; '.join(said)}",
                answers[number].partner_id,
            )

    def _import(self, mode: str, chunk: list[tuple[CatalogStyle, list[Row]]], full: bool) -> dict[str, ItemResult]:
        rows = [row for _, style_rows in chunk for row in style_rows]
        try:
            value = self.client.import_products(
                mode, rows, brand_id=self.brand_id, showroom_id=self.showroom_id, bypass_diff=full
            )
        except PartnerRejected as exc:
            if isinstance(exc.value, dict) and isinstance(exc.value.get(c.R_ERRORS), list):
                return _answers(chunk, exc.value)  # every row refused: each style in Brandboom's words
            return {  # the whole import refused (a bad brandID, showroomID...)
                style.number: ItemResult(style.number, REJECTED, f"Brandboom refused the import: {exc.message}")
                for style, _ in chunk
            }
        return _answers(chunk, value)

    # --- removal -----------------------------------------------------------------------------
    def remove_styles(self, batch: Sequence[CatalogStyle]) -> list[ItemResult]:
        """As the site's ``catalog_inactive`` says: ``remove`` = DELETE products/{id} [DOC];
        ``deactivate`` = POST products/{id} with status 1, suspended [INF] (the Product's status
        [DOC]); ``keep`` = nothing sent. Every product of the style's number is acted on (a style
        split by colour is several), and the products it was matched to under another number;
        a style Brandboom has no product of is removed already."""
        if self.inactive not in (REMOVE, DEACTIVATE):
            return [
                ItemResult(s.number, ACCEPTED, f"kept on Brandboom (the site's catalog_inactive is {self.inactive})")
                for s in batch
            ]
        found = self._products_of([s.number for s in batch])
        for number, theirs in self._counterparts([s for s in batch if s.partner_id]).items():
            mine = found.setdefault(number, [])
            seen = {str(p.get(c.PRODUCT_ID)) for p in mine}
            mine.extend(p for p in theirs if str(p.get(c.PRODUCT_ID)) not in seen)
        results = []
        for style in batch:
            products = found.get(style.number, [])
            done, problems = [], []
            for product in products:
                product_id = str(product.get(c.PRODUCT_ID))
                try:
                    if self.inactive == REMOVE:
                        self.client.delete_product(product_id)
                    elif product.get(c.PRODUCT_STATUS) != c.PRODUCT_SUSPENDED:
                        self.client.update_product(product_id, {c.PRODUCT_STATUS: c.PRODUCT_SUSPENDED})
                except PartnerRejected as exc:
                    problems.append(f"product {product_id}: {exc.message}")
                    continue
                done.append(product_id)
            ids = ",".join(done) or None
            if problems:
                message = f"Brandboom refused to {self.inactive} style {style.number}: {'; '.join(problems)}"
                results.append(ItemResult(style.number, REJECTED, message, partner_id=ids))
            elif not products:
                results.append(ItemResult(style.number, REMOVED, "Brandboom has no product of this style"))
            else:
                what = "deleted" if self.inactive == REMOVE else "suspended (status 1)"
                results.append(ItemResult(style.number, REMOVED, f"{what} on Brandboom: product {ids}", ids))
        return results

    def _counterparts(self, styles: Sequence[CatalogStyle]) -> dict[str, list[Mapping[str, Any]]]:
        """ERP style number -> the Brandboom products its ``partner_id`` names: product ids
        (comma-separated, as :meth:`existing` and the import answer give them), or a Brandboom
        style number (a ``bobbin map style`` value that names no listed product)."""
        by_id: dict[str, str] = {}
        by_number: dict[str, str] = {}
        for style in styles:
            for part in str(style.partner_id or "").split(","):
                value = part.strip()
                if value:
                    (by_id if value.isdigit() else by_number)[value] = style.number
        found: dict[str, list[Mapping[str, Any]]] = {}
        for wanted, param, key in (
            (by_id, c.P_PRODUCT_ID, c.PRODUCT_ID),
            (by_number, c.P_STYLE_NUMBERS, c.PRODUCT_STYLE_NUMBER),
        ):
            values = list(wanted)
            for start in range(0, len(values), STYLES_PER_SEARCH):
                query: dict[str, Sequence[str]] = {param: values[start : start + STYLES_PER_SEARCH]}
                for page in self.client.iter_products(c.MAX_PRODUCTS_PER_PAGE, **query):
                    for product in page:
                        erp = wanted.get(str(product.get(key)))
                        if erp is not None:  # only the products asked for, whatever the answer holds
                            found.setdefault(erp, []).append(product)
        return found

    def _products_of(self, numbers: Sequence[str]) -> dict[str, list[Mapping[str, Any]]]:
        found: dict[str, list[Mapping[str, Any]]] = {}
        wanted = set(numbers)
        for start in range(0, len(numbers), STYLES_PER_SEARCH):
            part = list(numbers[start : start + STYLES_PER_SEARCH])
            for page in self.client.iter_products(styleNumbers=part, **self._scope()):
                for product in page:
                    style = str(product.get(c.PRODUCT_STYLE_NUMBER) or "")
                    if style in wanted:  # only the styles asked for, whatever the answer holds
                        found.setdefault(style, []).append(product)
        return found

    # --- what Brandboom does not take --------------------------------------------------------
    def send_images(self, batch: Sequence[Image]) -> list[ItemResult]:
        return [ItemResult(i.key(), REJECTED, NO_IMAGES) for i in batch]

    def send_linesheets(self, batch: Sequence[Linesheet]) -> list[ItemResult]:
        return [ItemResult(s.name, REJECTED, NO_LINESHEETS) for s in batch]

    def close(self) -> None:
        self.client.close()

    # --- helpers -----------------------------------------------------------------------------
    def _scope(self) -> dict[str, int]:
        scope = {}
        if self.brand_id is not None:
            scope[c.P_BRAND_ID] = self.brand_id
        if self.showroom_id is not None:
            scope[c.P_SHOWROOM_ID] = self.showroom_id
        return scope

    def _tiers_text(self, missing: str) -> str:
        """The price_tiers setting as typed, with the missing price type added."""
        known = [f"{code}:{'none' if tier is None else tier}" for code, tier in self.price_tiers.items()]
        return ",".join([*known, f"{missing}:<tier id>"])


NO_IMAGES = (
    "Brandboom's API document (seed 001) has no image upload; add images on Brandboom "
    "(its help pages list an add-on 'Image URL' import column, outside the API document)"
)
NO_LINESHEETS = "Brandboom has no linesheets through its API; group styles in a showroom or presentation on Brandboom"


def _partner_keys(style: CatalogStyle, products: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str, str]]:
    """ERP SKU id -> the (styleNumber, option, size) Brandboom keys it by, where that differs
    from the ERP's: the matched products' SKU with its skuNumber, else its UPC, else its option
    and size; a SKU they do not have goes under their style number (combine mode puts it in the
    same product)."""
    if not products:
        return {}
    skus = [s for p in products for s in p.get(c.PRODUCT_SKUS) or [] if isinstance(s, Mapping)]
    by_number = {str(s.get(c.SKU_NUMBER)): s for s in skus if s.get(c.SKU_NUMBER)}
    by_upc = {str(s.get(c.SKU_UPC)): s for s in skus if s.get(c.SKU_UPC)}
    by_place = {(str(s.get(c.SKU_OPTION)), str(s.get(c.SKU_SIZE))): s for s in skus}
    home = str(products[0].get(c.PRODUCT_STYLE_NUMBER) or style.number)
    keys = {}
    for color in style.colors:
        for sku in color.skus:
            theirs = (
                by_number.get(sku.sku)
                or (by_upc.get(sku.upc) if sku.upc else None)
                or by_place.get((color.code, sku.size))
            )
            key = (
                (
                    str(theirs.get(c.SKU_STYLE_NUMBER) or home),
                    str(theirs.get(c.SKU_OPTION)),
                    str(theirs.get(c.SKU_SIZE)),
                )
                if theirs is not None
                else (home, color.code, sku.size)
            )
            if key != (style.number, color.code, sku.size):
                keys[sku.sku] = key
    return keys


def _prices_of(style: CatalogStyle) -> Iterable[Price]:
    yield from style.prices
    for color in style.colors:
        yield from color.prices


def _money(value: Decimal) -> str:
    """A price as Brandboom takes it: digits and a point, no currency symbol."""
    return format(value, "f")


def _chunks(
    styles: list[tuple[CatalogStyle, list[Row]]], max_rows: int
) -> Iterator[list[tuple[CatalogStyle, list[Row]]]]:
    """Consecutive styles whose rows add up to at most ``max_rows`` (a bigger style goes alone)."""
    chunk: list[tuple[CatalogStyle, list[Row]]] = []
    size = 0
    for style, rows in styles:
        if chunk and size + len(rows) > max_rows:
            yield chunk
            chunk, size = [], 0
        chunk.append((style, rows))
        size += len(rows)
    if chunk:
        yield chunk


def _answers(chunk: list[tuple[CatalogStyle, list[Row]]], value: Any) -> dict[str, ItemResult]:
    """Each style's outcome from the import's answer [INF]: refused rows (``errors``, each with
    its row number and message; in these modes also rows Brandboom could place nowhere,
    ``notFound``) make the style rejected, quoting Brandboom; otherwise it is accepted, with the
    products its rows landed on (``productIDs``) as its id. An answer without these reads as
    "all taken", as for the inventory push."""
    total = sum(len(rows) for _, rows in chunk)
    summary = value if isinstance(value, dict) else {}
    refused: dict[int, str] = {}
    for error in summary.get(c.R_ERRORS) or []:
        if isinstance(error, dict) and isinstance(error.get(c.ERROR_ROW), int) and 0 <= error[c.ERROR_ROW] < total:
            refused[error[c.ERROR_ROW]] = str(error.get(c.ERROR_MESSAGE) or "refused")
    for index in summary.get(c.R_NOT_FOUND) or []:
        if isinstance(index, int) and 0 <= index < total:
            refused.setdefault(index, "Brandboom placed the row on no product")
    product_ids = summary.get(c.R_PRODUCT_IDS)
    if not isinstance(product_ids, list) or len(product_ids) != total:
        product_ids = [None] * total
    results = {}
    start = 0
    for style, rows in chunk:
        span = range(start, start + len(rows))
        start += len(rows)
        bad = [i for i in span if i in refused]
        if bad:
            said = list(dict.fromkeys(refused[i] for i in bad))
            quoted = "; ".join(said[:QUOTED_ROW_ERRORS])
            if len(said) > QUOTED_ROW_ERRORS:
                quoted += f" (and {len(said) - QUOTED_ROW_ERRORS} other messages)"
            skus = [str(rows[i - span.start].get(c.ROW_SKU_NUMBER)) for i in bad]
            named = ", ".join(skus[:QUOTED_SKUS]) + (
                f" and {len(skus) - QUOTED_SKUS} more" if len(skus) > QUOTED_SKUS else ""
            )
            message = (
                f"Brandboom refused {len(bad)} of {len(rows)} rows of style {style.number} (SKU {named}): {quoted}"
            )
            results[style.number] = ItemResult(style.number, REJECTED, message)
            continue
        ids = list(dict.fromkeys(str(product_ids[i]) for i in span if product_ids[i] not in (None, "")))
        results[style.number] = ItemResult(style.number, ACCEPTED, partner_id=",".join(ids) or None)
    return results


def _partner_product(style: str | None, products: Sequence[Mapping[str, Any]]) -> PartnerProduct:
    upcs = dict.fromkeys(
        str(sku.get(c.SKU_UPC)).strip()
        for product in products
        for sku in product.get(c.PRODUCT_SKUS) or []
        if isinstance(sku, dict) and str(sku.get(c.SKU_UPC) or "").strip()
    )
    names = [str(p.get(c.PRODUCT_REFERENCE_NAME) or "") for p in products]
    return PartnerProduct(
        partner_id=",".join(str(p.get(c.PRODUCT_ID)) for p in products),
        style_number=style,
        upcs=tuple(upcs),
        name=next((n for n in names if n), None),
    )


# --- customers -----------------------------------------------------------------------------------


class BrandboomCustomerPusher:
    """Customers one request each, answered at once (``connectors.catalog.CustomerPusher``): a
    customer whose code Brandboom already has is updated (POST customers/{id}), others are
    created (PUT customers) [INF, the REST table]. Customer codes on Brandboom are read once
    per push (customers/search), so a customer made by an earlier push, or by hand with the
    ERP's code, is updated rather than made twice."""

    def __init__(self, client: BrandboomClient, settings: BrandboomSettings) -> None:
        self.client = client
        self._ids: dict[str, str] | None = None

    def _known(self) -> dict[str, str]:
        if self._ids is None:
            self._ids = {}
            for page in self.client.iter_customers():
                for customer in page:
                    code = str(customer.get(c.CustomerField.CODE) or "").strip()
                    if code and customer.get(c.CustomerField.ID) is not None:
                        self._ids.setdefault(code, str(customer[c.CustomerField.ID]))
        return self._ids

    def send(self, batch: Sequence[CatalogCustomer]) -> list[ItemResult]:
        known = self._known()
        results = []
        for customer in batch:
            fields = customer_fields(customer)
            existing = known.get(customer.code)
            try:
                if existing is None:
                    answer = self.client.create_customer(fields)
                else:
                    answer = self.client.update_customer(existing, fields)
            except PartnerRejected as exc:
                results.append(
                    ItemResult(customer.code, REJECTED, f"Brandboom refused customer {customer.code}: {exc}")
                )
                continue
            answered_code = str(answer.get(c.CustomerField.CODE) or "")
            answered_id = str(answer.get(c.CustomerField.ID) or "")
            if answered_code != customer.code or not answered_id or (existing and answered_id != existing):
                results.append(
                    ItemResult(
                        customer.code,
                        REJECTED,
                        f"Brandboom answered customer {answered_code or '?'} (id {answered_id or '?'}) when sent "
                        f"customer {customer.code}: not taken as sent",
                    )
                )
                continue
            known[customer.code] = answered_id
            results.append(ItemResult(customer.code, ACCEPTED, partner_id=answered_id))
        return results

    def poll(self, tickets: Sequence[str]) -> list[ItemResult]:
        return []  # every answer is final when sent

    def close(self) -> None:
        self.client.close()


def customer_fields(customer: CatalogCustomer) -> dict[str, Any]:
    """The Customer as sent [INF, camelCase like the Product object]: code, name, e-mail, phone
    and the addresses, each with the customer template's Type [SEED 000]: B billing, S shipping,
    blank when one address is both. Terms, ship-via and rep stay out: Brandboom names them in
    its own words (the showroom's terms), not the ERP's codes."""
    fields: dict[str, Any] = {c.CustomerField.CODE: customer.code, c.CustomerField.NAME: customer.name}
    if customer.email:
        fields[c.CustomerField.EMAIL] = customer.email
    if customer.phone:
        fields[c.CustomerField.PHONE] = customer.phone
    addresses: list[dict[str, Any]] = []
    places: dict[tuple[Any, ...], dict[str, Any]] = {}
    for address in customer.addresses:
        body = _address(address)
        key = tuple(body.values())
        kind = c.ADDRESS_TYPE_BILLING if address.kind == "billing" else c.ADDRESS_TYPE_SHIPPING
        same = places.get(key)
        if same is not None:
            if same[c.AddressField.TYPE] != kind:
                same[c.AddressField.TYPE] = c.ADDRESS_TYPE_BOTH
            continue
        entry = {c.AddressField.TYPE: kind, **body}
        places[key] = entry
        addresses.append(entry)
    if addresses:
        fields[c.CustomerField.ADDRESSES] = addresses
    return fields


def _address(address: CustomerAddress) -> dict[str, Any]:
    return {
        c.AddressField.NAME: address.name,
        c.AddressField.ADDRESS1: address.line1,
        c.AddressField.ADDRESS2: address.line2,
        c.AddressField.CITY: address.city,
        c.AddressField.STATE: address.state,
        c.AddressField.ZIP: address.postal_code,
        c.AddressField.COUNTRY: address.country,
    }


# Images: the API document (seed 001) has no image upload (the Product only lists imageIDs), so
# none are sent. Linesheets: Brandboom has none through its API (showrooms and presentations
# group products on Brandboom). Inactive styles: deleted or suspended per the site's
# catalog_inactive.
CATALOG = CatalogPush(
    open=BrandboomCatalogPusher,
    batch_styles=BATCH_STYLES,
    images=False,
    linesheets=False,
    removal=(REMOVE, DEACTIVATE),
    notes={
        "styles": "products/import, split or combine per site (catalog_mode), prices per price tier (price_tiers)",
        "images": "not in Brandboom's API document; added on Brandboom",
        "linesheets": "none through the API",
        "removal": "remove = DELETE products/{id}; deactivate = status 1 (suspended), 0 again once sold again",
    },
)
CUSTOMERS = CustomerPush(open=BrandboomCustomerPusher, batch=CUSTOMER_BATCH)
