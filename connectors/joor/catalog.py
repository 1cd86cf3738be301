"""JOOR's catalog and customer push (the shapes are ``connectors.catalog``'s).

Styles go through JOOR's v4 catalog, which JOOR says every new style integration must use
(partners/README §1.4; contract.py names the pages): a product per style (or per style and
colour with ``split_by_color``), ``external_id`` = the ERP style number so that a push repeated
after a lost answer finds the product instead of making a second one; its SKUs, every colour ×
size (Color and Size traits by their documented ids; ``external_id`` = the ERP SKU id; the UPC as
an identifier when the ERP has one: JOOR does not require it); and a price per SKU and price type
(wholesale and retail). A style is one item: its products, SKUs and prices are sent with it,
three kinds of bulk call per batch, and it is accepted only when all of them were.

Images go through the v2 image endpoint, one image per call; linesheets through each style's
deliveries (v2 style PUT with ``delivery_overwrite``); customers through v2 ``bulk-connection``, a
background job polled until it finishes and then read back connection by connection. Every call
is paid from the client's credit budget (GET 1 credit, writes 5; 300 a 5-minute window).

[INF] where the documentation is silent, each marked where it is used: the v4 list paging, the
price types path, the SKU answer's prices, the per-item ``details.index`` of a v4 error, the
deliveries' keys, the image answer, the finished job's refused records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from connectors.catalog import (
    ACCEPTED,
    AWAITING,
    REJECTED,
    REMOVED,
    CatalogColor,
    CatalogCustomer,
    CatalogPush,
    CatalogStyle,
    CustomerPush,
    Image,
    ItemResult,
    Linesheet,
    PartnerProduct,
    Price,
)
from connectors.errors import PartnerRejected
from connectors.joor import contract as c
from connectors.joor.client import JoorClient, JoorNotFound, V4Answer
from connectors.joor.settings import JoorSettings

Json = dict[str, Any]
PF, SF, TF, IDF, PRF, PTF = (
    c.ProductField,
    c.SkuField,
    c.TraitValueField,
    c.IdentifierField,
    c.PriceField,
    c.PriceTypeField,
)
STF, DF, JF, CF, CAF = c.StyleField, c.DeliveryField, c.JobField, c.ConnectionField, c.ConnectionAddressField

# Styles per send_styles call. [INF] JOOR publishes no bulk limit. A batch costs about six writes
# (products, SKUs and prices, each created and updated) and a GET of the SKUs per 50 products:
# ~35 credits, so ~8 batches (800 styles) a 300-credit window.
BATCH_STYLES = 100
BATCH_IMAGES = 1  # one call per image: an answer lost mid-batch cannot leave images sent but unrecorded
BATCH_CUSTOMERS = 100  # [DOC] JOOR matches 1-100 new connections in 1-2 business days
PRODUCT_IDS_PER_GET = 50  # [INF] product_ids per GET skus
STYLES_PER_PAGE = 200  # GET style ?count= (JOOR's default page is 50)
SPLIT_IDENTIFIER = "{style}-{color}"  # [DOC] "concatenating style number and color"; [INF] the colour's code
SPLIT_EXTERNAL_ID = "{style}::{color}"  # [INF] the ERP key of a style-colour product
AWAITING_JOOR = "sent, awaiting JOOR (new customers take 1–2 business days)"
INACTIVE_SETTING = "catalog_inactive"  # the site setting saying what becomes of a style inactive in the ERP


class JoorCatalogPusher:
    """One catalog push to one JOOR account (see the module's docstring)."""

    def __init__(self, client: JoorClient, settings: JoorSettings) -> None:
        self.client = client
        self.settings = settings
        self.params: Json = {c.P_ACCOUNT: settings.account_id} if settings.account_id else {}
        self._types: list[Json] | None = None
        self._products: dict[str, Json] | None = None  # JOOR product id -> product (GET products)
        self._styles: dict[str, tuple[str, list[Json]]] | None = None  # GET style, kept up to date

    def close(self) -> None:
        self.client.close()

    # --- what JOOR holds ---------------------------------------------------------------------
    def existing(self) -> Iterator[PartnerProduct]:
        """Every product, as the style number it stands for (its external_id when Bobbin made it,
        else its product_identifier) with its SKUs' UPCs; a style split by colour is one entry
        with its products' ids joined by commas."""
        upcs: dict[str, list[str]] = {}
        for sku in self.client.v4_list(c.SKUS, self.params):
            upcs.setdefault(str(sku.get(SF.PRODUCT_ID)), []).extend(_upcs(sku))
        grouped: dict[str, tuple[list[str], list[str], str | None]] = {}
        for pid, product in self._index(refresh=True).items():
            number = _style_number_of(product)
            if not number:
                continue
            ids, found, name = grouped.setdefault(number, ([], [], product.get(PF.NAME)))
            ids.append(pid)
            found.extend(upcs.get(pid, []))
        for number, (ids, found, name) in grouped.items():
            yield PartnerProduct(",".join(ids), number, tuple(dict.fromkeys(found)), name)

    def check(self, style: CatalogStyle) -> list[str]:
        n, problems = style.number, []
        if len(n) > c.STYLE_NUMBER_MAX:
            problems.append(
                f"style {n}: its number is longer than JOOR's {c.STYLE_NUMBER_MAX} characters: shorten it in the ERP"
            )
        if not any(color.skus for color in style.colors):
            problems.append(f"style {n} has no SKUs: JOOR needs at least one colour and size; add them in the ERP")
            return problems
        names = [_color_value(color) for color in style.colors]
        for twice in sorted({v for v in names if names.count(v) > 1}):
            problems.append(
                f"style {n}: two colours are named {twice!r}; JOOR tells colours apart by name: rename one in the ERP"
            )
        if self.settings.split_by_color:
            for color in style.colors:
                if len(_identifier(style, color, True)) > c.STYLE_IDENTIFIER_MAX:
                    problems.append(
                        f"style {n}: its identifier with colour {color.code} is longer than JOOR's 100 characters"
                    )
        else:
            # [DOC] "All Color and Size combinations must be sent explicitly"
            sizes = list(dict.fromkeys(sku.size for color in style.colors for sku in color.skus))
            for color in style.colors:
                have = [sku.size for sku in color.skus]
                missing = [size for size in sizes if size not in have]
                if missing:
                    problems.append(
                        f"style {n}: colour {color.code} has no size {', '.join(missing)} that other colours have; "
                        "JOOR needs every colour × size: add the SKUs in the ERP (or set the site's split_by_color)"
                    )
                for size in sorted({s for s in have if have.count(s) > 1}):
                    problems.append(f"style {n}: colour {color.code} has size {size} twice")
        return problems + self._price_types(style)[1]

    # --- styles ------------------------------------------------------------------------------
    def send_styles(self, batch: Sequence[CatalogStyle], *, full: bool) -> list[ItemResult]:
        units = {style.number: self._units(style) for style in batch}
        every = [u for found in units.values() for u in found]
        self._send_products(every)
        self._send_skus([u for u in every if u.product_id and not u.problems])
        self._send_prices([u for u in every if u.product_id and not u.problems])
        results = []
        for style in batch:
            found = units[style.number]
            ids = ",".join(u.product_id for u in found if u.product_id) or None
            problems = list(dict.fromkeys(p for u in found for p in u.problems))
            if problems:
                results.append(ItemResult(style.number, REJECTED, "; ".join(problems), ids))
            else:
                results.append(ItemResult(style.number, ACCEPTED, None, ids))
        return results

    def remove_styles(self, batch: Sequence[CatalogStyle]) -> list[ItemResult]:
        """As the site's ``catalog_inactive`` says: ``deactivate`` (every colour and size of the
        style INACTIVE through skus/bulk_update [DOC]: no longer shoppable, kept on JOOR) or
        ``remove`` ([DOC] v2 style DELETE; [INF] that it removes a product made through v4)."""
        mode = str(getattr(self.settings, INACTIVE_SETTING, "keep"))
        if mode not in ("deactivate", "remove"):
            said = f"the site's {INACTIVE_SETTING} setting is {mode!r}: nothing was removed from JOOR"
            return [ItemResult(s.number, REJECTED, f"style {s.number}: {said}") for s in batch]
        results = []
        for style in batch:
            products = [self._product_of(u) for u in self._units(style)]
            found = [p for p in products if p is not None]
            if not found:
                results.append(ItemResult(style.number, REMOVED, "not on JOOR: nothing to remove"))
                continue
            try:
                if mode == "remove":
                    for product in found:
                        self._delete(style.number, str(product[PF.PRODUCT_IDENTIFIER]))
                    said = "deleted from JOOR"
                else:
                    self._deactivate([str(p[PF.ID]) for p in found])
                    said = "deactivated on JOOR: its colours and sizes are INACTIVE (no longer shoppable)"
            except PartnerRejected as exc:
                results.append(ItemResult(style.number, REJECTED, f"style {style.number}: {_said(exc)}"))
                continue
            results.append(ItemResult(style.number, REMOVED, said, ",".join(str(p[PF.ID]) for p in found)))
        return results

    # --- images ------------------------------------------------------------------------------
    def send_images(self, batch: Sequence[Image]) -> list[ItemResult]:
        """Each image checked against JOOR's limits before anything is sent [DOC]: JPEG or PNG,
        at most 4 MB, a file name of at most 69 characters, a swatch with its colour, one image
        per style-colour at style-colour level (there, a colour's first image is also its
        swatch [SEED]). An image over a limit is rejected with the reason and not sent."""
        results = []
        for image in batch:
            prepared = self._prepare(image)
            if isinstance(prepared, str):
                results.append(ItemResult(image.key(), REJECTED, prepared))
                continue
            identifier, calls, body, content_type = prepared
            try:
                answers = [
                    self.client.post_image(image.style_number, identifier, params, body, content_type)
                    for params in calls
                ]
            except PartnerRejected as exc:
                results.append(ItemResult(image.key(), REJECTED, f"style {image.style_number}: {_said(exc)}"))
                continue
            uploaded = answers[0].get(c.R_IMAGE_UPLOADED)
            upload_id = uploaded.get(c.R_UPLOAD_ID) if isinstance(uploaded, dict) else None
            results.append(ItemResult(image.key(), ACCEPTED, None, None if upload_id is None else str(upload_id)))
        return results

    # --- linesheets --------------------------------------------------------------------------
    def send_linesheets(self, batch: Sequence[Linesheet]) -> list[ItemResult]:
        """Linesheets are a style's deliveries on JOOR. Each style of the batch's linesheets (and
        each style JOOR shows on one of them now) gets one style PUT with its delivery list: the
        deliveries it has on JOOR that the batch does not name, and the batch's linesheets that
        list it, sent with the site's ``delivery_overwrite`` (2 by default: JOOR replaces only the
        API-made linesheets, so hand-made ones keep the style). With 3 (add only) the style is
        added to the batch's linesheets that list it and taken off those that no longer do
        (mode 4 naming only them). [INF] the deliveries' keys and the PUT's body."""
        mode = self.settings.delivery_overwrite
        names = {sheet.name for sheet in batch}
        if self._styles is None:
            self._styles = self._styles_now()
        current = self._styles
        problems: dict[str, list[str]] = {sheet.name: [] for sheet in batch}
        wanted: dict[str, list[Linesheet]] = {}
        for sheet in batch:
            for number in dict.fromkeys(sheet.styles):
                identifiers = self._identifiers_on_joor(number, current)
                if not identifiers:
                    problems[sheet.name].append(number)
                for identifier in identifiers:
                    wanted.setdefault(identifier, []).append(sheet)
        touched = set(wanted) | {i for i, (_, deliveries) in current.items() if names & {_name(d) for d in deliveries}}
        failed: dict[str, list[str]] = {sheet.name: [] for sheet in batch}
        for identifier in sorted(touched):
            number, deliveries = current[identifier]
            sheets = wanted.get(identifier, [])
            on_joor = {_name(d) for d in deliveries}
            calls: list[tuple[int, list[Json]]] = []
            if mode == c.DELIVERY_ADD:
                added = [_delivery(s) for s in sheets if s.name not in on_joor]
                taken_off = [d for d in deliveries if _name(d) in names - {s.name for s in sheets}]
                calls += [(c.DELIVERY_ADD, added)] if added else []
                calls += [(c.DELIVERY_REMOVE, taken_off)] if taken_off else []
            else:
                kept = [d for d in deliveries if _name(d) not in names]
                calls.append((mode, kept + [_delivery(s) for s in sheets]))
            affected = [s.name for s in sheets] + sorted((names & on_joor) - {s.name for s in sheets})
            try:
                for how, listed in calls:
                    style = {
                        STF.STYLE_NUMBER: number,
                        STF.STYLE_IDENTIFIER: identifier,
                        STF.DELIVERY_OVERWRITE: how,
                        STF.DELIVERIES: {STF.DELIVERY: listed},
                    }
                    self.client.put_style(number, identifier, style)
            except PartnerRejected as exc:
                for name in affected:
                    failed[name].append(f"style {identifier}: {_said(exc)}")
                current[identifier] = (number, self._style_now(number, identifier, deliveries))
                continue
            if mode == c.DELIVERY_ADD:
                gone = {_name(d) for how, listed in calls if how == c.DELIVERY_REMOVE for d in listed}
                added = [d for how, listed in calls if how == c.DELIVERY_ADD for d in listed]
                current[identifier] = (number, [d for d in deliveries if _name(d) not in gone] + added)
            else:
                current[identifier] = (number, calls[0][1])
        results = []
        for sheet in batch:
            said = []
            if problems[sheet.name]:
                said.append(
                    f"linesheet {sheet.name}: style(s) {', '.join(problems[sheet.name])} are not on JOOR yet: "
                    "push the catalog first"
                )
            said += failed[sheet.name]
            results.append(
                ItemResult(sheet.name, REJECTED, "; ".join(said)) if said else ItemResult(sheet.name, ACCEPTED)
            )
        return results

    # --- products, SKUs, prices --------------------------------------------------------------
    def _units(self, style: CatalogStyle) -> list[_Unit]:
        if self.settings.split_by_color:
            return [
                _Unit(
                    style,
                    (color,),
                    _identifier(style, color, True),
                    SPLIT_EXTERNAL_ID.format(style=style.number, color=color.code),
                )
                for color in style.colors
            ]
        known = style.partner_id if style.partner_id and "," not in style.partner_id else None
        return [_Unit(style, style.colors, style.number, style.number, known)]

    def _send_products(self, units: list[_Unit]) -> None:
        new = [u for u in units if not u.product_id]
        rows = [_product_row(u, create=True) for u in new]
        answer = self.client.v4_post(c.PRODUCTS_BULK_CREATE, rows, self.params, repeatable=False)
        ok, failed = _outcome(answer, rows, lambda r: r.get(PF.EXTERNAL_ID), lambda d: d.get(PF.EXTERNAL_ID))
        for i, unit in enumerate(new):
            if i in ok:
                unit.product_id, unit.created = str(ok[i][PF.ID]), True
        if failed:  # made by an earlier push whose answer was lost, or by hand: find it by external_id
            index = {
                str(p.get(PF.EXTERNAL_ID)): pid for pid, p in self._index(refresh=True).items() if p.get(PF.EXTERNAL_ID)
            }
            for i, said in failed.items():
                unit = new[i]
                unit.product_id = index.get(unit.external_id)
                if unit.product_id is None:
                    unit.problems.append(f"style {unit.style.number}: JOOR refused the product: {said}")
        known = [u for u in units if u.product_id and not u.created and not u.problems]
        rows = [_product_row(u, create=False) for u in known]
        answer = self.client.v4_post(c.PRODUCTS_BULK_UPDATE, rows, self.params, repeatable=True)
        _, failed = _outcome(answer, rows, lambda r: str(r.get(PF.ID)), lambda d: str(d.get(PF.ID)))
        for i, said in failed.items():
            known[i].problems.append(f"style {known[i].style.number}: JOOR refused the product update: {said}")

    def _send_skus(self, units: list[_Unit]) -> None:
        have = self._skus_of([u.product_id for u in units if u.product_id and not u.created])
        creates: list[tuple[_Unit, Json]] = []
        updates: list[tuple[_Unit, Json]] = []
        for unit in units:
            on_joor = have.get(str(unit.product_id), [])
            by_external = {str(s.get(SF.EXTERNAL_ID)): s for s in on_joor if s.get(SF.EXTERNAL_ID)}
            by_upc = {upc: s for s in on_joor for upc in _upcs(s)}
            by_traits = {(_trait_value(s, c.TRAIT_COLOR), _trait_value(s, c.TRAIT_SIZE)): s for s in on_joor}
            used: set[str] = set()
            for color in unit.colors:
                for sku in color.skus:
                    found = (
                        by_external.get(sku.sku)
                        or (by_upc.get(sku.upc) if sku.upc else None)
                        or by_traits.get((_color_value(color), sku.size))
                    )
                    row = _sku_row(color, sku.sku, sku.size, sku.upc)
                    if found is not None and str(found[SF.ID]) not in used:
                        used.add(str(found[SF.ID]))
                        unit.skus[sku.sku] = str(found[SF.ID])
                        for price in found.get(SF.PRICES) or []:  # [INF] a SKU's prices in the GET answer
                            kind = price.get(PRF.PRICE_TYPE) or {}
                            unit.prices[(str(found[SF.ID]), str(kind.get(PTF.ID)))] = price
                        updates.append((unit, {SF.ID: found[SF.ID], **row}))
                    else:
                        creates.append((unit, {SF.PRODUCT_ID: unit.product_id, **row}))
            colors = {_color_value(color) for color in unit.colors}
            sizes = {sku.size for color in unit.colors for sku in color.skus}
            for left in (s for s in on_joor if str(s[SF.ID]) not in used):  # colours / sizes gone from the ERP
                traits, changed = [], False
                for t in left.get(SF.TRAIT_VALUES) or []:
                    trait_id = _trait_id(t)
                    gone = (trait_id == c.TRAIT_COLOR and t.get(TF.VALUE) not in colors) or (
                        trait_id == c.TRAIT_SIZE and t.get(TF.VALUE) not in sizes
                    )
                    status = c.TRAIT_INACTIVE if gone else t.get(TF.STATUS) or c.TRAIT_ACTIVE
                    changed |= status != (t.get(TF.STATUS) or c.TRAIT_ACTIVE)
                    traits.append(
                        {
                            TF.TRAIT_ID: trait_id,
                            TF.VALUE: t.get(TF.VALUE),
                            TF.EXTERNAL_ID: t.get(TF.EXTERNAL_ID),
                            TF.STATUS: status,
                        }
                    )
                if changed:
                    updates.append((unit, {SF.ID: left[SF.ID], SF.TRAIT_VALUES: traits}))
        # updates first: a colour or size made INACTIVE leaves the colour × size grid new SKUs complete
        rows = [row for _, row in updates]
        answer = self.client.v4_post(c.SKUS_BULK_UPDATE, rows, self.params, repeatable=True)
        _, failed = _outcome(answer, rows, lambda r: str(r.get(SF.ID)), lambda d: str(d.get(SF.ID)))
        for i, said in failed.items():
            unit = updates[i][0]
            unit.problems.append(
                f"style {unit.style.number}: JOOR refused SKU {rows[i].get(SF.EXTERNAL_ID) or rows[i][SF.ID]}: {said}"
            )
        rows = [row for _, row in creates]
        answer = self.client.v4_post(c.SKUS_BULK_CREATE, rows, self.params, repeatable=False)
        ok, failed = _outcome(answer, rows, lambda r: r.get(SF.EXTERNAL_ID), lambda d: d.get(SF.EXTERNAL_ID))
        for i, (unit, row) in enumerate(creates):
            if i in ok:
                unit.skus[str(row[SF.EXTERNAL_ID])] = str(ok[i][SF.ID])
            else:
                unit.problems.append(
                    f"style {unit.style.number}: JOOR refused SKU {row[SF.EXTERNAL_ID]}: {failed.get(i)}"
                )

    def _send_prices(self, units: list[_Unit]) -> None:
        creates: list[tuple[_Unit, Json]] = []
        updates: list[tuple[_Unit, Json]] = []
        for unit in units:
            kinds, problems = self._price_types(unit.style)
            if problems:
                unit.problems += problems
                continue
            for color in unit.colors:
                for price in color.prices or unit.style.prices:
                    type_id = kinds.get((price.price_type, price.currency.upper()))
                    if type_id is None:
                        continue  # a price type this site does not sell in (see _price_types)
                    values = _values(price)
                    for sku in color.skus:
                        sku_id = unit.skus.get(sku.sku)
                        if sku_id is None:
                            continue
                        found = unit.prices.get((sku_id, type_id))
                        if found is None:
                            creates.append((unit, {PRF.SKU_ID: sku_id, PRF.PRICE_TYPE_ID: type_id, **values}))
                        elif _changed(found, values):
                            updates.append((unit, {PRF.ID: found[PRF.ID], **values}))
        by_id: Callable[[Json], Any] = lambda item: str(item.get(PRF.ID))  # noqa: E731
        for path, pairs, repeatable, key in (
            (c.PRICES_BULK_UPDATE, updates, True, by_id),
            (c.PRICES_BULK_CREATE, creates, False, _price_key),
        ):
            rows = [row for _, row in pairs]
            answer = self.client.v4_post(path, rows, self.params, repeatable=repeatable)
            _, failed = _outcome(answer, rows, key, key)
            for i, said in failed.items():
                unit = pairs[i][0]
                unit.problems.append(f"style {unit.style.number}: JOOR refused a price: {said}")

    def _price_types(self, style: CatalogStyle) -> tuple[dict[tuple[str, str], str], list[str]]:
        """ERP (price type, currency) -> JOOR price type id, for the style's prices, and what
        cannot be mapped. In order: the site's ``price_types_joor``; a JOOR price type of that
        currency named like the ERP price type; the one JOOR price type of the currency ([SEED]
        one label per currency) when the ERP price type is the site's for that currency (its
        ``price_types``) or the site names none. An ERP price type the site's ``price_types``
        does not name for its currency (say a retail list) is not this site's: left out."""
        kinds: dict[tuple[str, str], str] = {}
        problems: list[str] = []
        prices = {(p.price_type, p.currency.upper()) for p in style.prices}
        prices |= {(p.price_type, p.currency.upper()) for color in style.colors for p in color.prices}
        known = self._joor_price_types()
        site = {k.upper(): v for k, v in self.settings.price_types.items()}
        for code, currency in sorted(prices):
            override = self.settings.price_types_joor.get(code)
            if override:
                if known and not any(str(t.get(PTF.ID)) == override for t in known):
                    problems.append(
                        f"style {style.number}: price type {code} ({currency}) is set to JOOR price type {override}, "
                        "which JOOR does not have: correct price_types_joor"
                    )
                kinds[(code, currency)] = override
                continue
            same = [t for t in known if str(t.get(PTF.CURRENCY_CODE) or "").upper() == currency]
            named = [t for t in same if str(t.get(PTF.NAME) or "").strip().lower() == code.lower()]
            if len(named) == 1:
                kinds[(code, currency)] = str(named[0][PTF.ID])
            elif currency in site and site[currency] != code:
                continue
            elif len(same) == 1:
                kinds[(code, currency)] = str(same[0][PTF.ID])
            else:
                problems.append(
                    f"style {style.number}: price type {code} ({currency}) has no JOOR price type: create it in JOOR "
                    f"Order Settings or `bobbin sites set SITE price_types_joor={code}:<id>`"
                )
        doubled: dict[str, list[str]] = {}
        for (code, currency), type_id in kinds.items():
            doubled.setdefault(type_id, []).append(f"{code} ({currency})")
        for type_id, codes in doubled.items():
            if len(codes) > 1:
                problems.append(
                    f"style {style.number}: price types {' and '.join(codes)} would both go to JOOR price type {type_id}: "
                    "set the site's price_types (currency -> ERP price type) or price_types_joor"
                )
        return kinds, problems

    def _joor_price_types(self) -> list[Json]:
        if self._types is None:
            self._types = list(self.client.v4_list(c.PRICE_TYPES, self.params))
        return self._types

    def _index(self, *, refresh: bool = False) -> dict[str, Json]:
        """JOOR's products by id ([DOC] GET products; [INF] its paging)."""
        if self._products is None or refresh:
            self._products = {str(p[PF.ID]): p for p in self.client.v4_list(c.PRODUCTS, self.params) if p.get(PF.ID)}
        return self._products

    def _product_of(self, unit: _Unit) -> Json | None:
        index = self._index()
        if unit.product_id and unit.product_id in index:
            return index[unit.product_id]
        return next((p for p in index.values() if p.get(PF.EXTERNAL_ID) == unit.external_id), None)

    def _skus_of(self, product_ids: Sequence[str | None]) -> dict[str, list[Json]]:
        found: dict[str, list[Json]] = {}
        ids = [i for i in product_ids if i]
        for start in range(0, len(ids), PRODUCT_IDS_PER_GET):
            chunk = ",".join(ids[start : start + PRODUCT_IDS_PER_GET])
            for sku in self.client.v4_list(c.SKUS, {**self.params, c.P_PRODUCT_IDS: chunk}):
                found.setdefault(str(sku.get(SF.PRODUCT_ID)), []).append(sku)
        return found

    def _deactivate(self, product_ids: list[str]) -> None:
        rows = []
        for skus in self._skus_of(product_ids).values():
            for sku in skus:
                traits = [
                    {
                        TF.TRAIT_ID: _trait_id(t),
                        TF.VALUE: t.get(TF.VALUE),
                        TF.EXTERNAL_ID: t.get(TF.EXTERNAL_ID),
                        TF.STATUS: c.TRAIT_INACTIVE,
                    }
                    for t in sku.get(SF.TRAIT_VALUES) or []
                ]
                rows.append({SF.ID: sku[SF.ID], SF.TRAIT_VALUES: traits})
        answer = self.client.v4_post(c.SKUS_BULK_UPDATE, rows, self.params, repeatable=True)
        if answer.errors:
            raise PartnerRejected(
                "JOOR refused to deactivate: " + "; ".join(str(e.get(c.V4_MESSAGE)) for e in answer.errors),
                partner=c.PARTNER,
            )

    def _delete(self, number: str, identifier: str) -> None:
        try:
            self.client.delete_style(number, identifier)
        except JoorNotFound:
            pass  # gone already

    # --- images --------------------------------------------------------------------------------
    def _prepare(self, image: Image) -> tuple[str, list[Json], bytes | None, str | None] | str:
        """(style identifier, the calls' params, body, content type), or why it is not sent."""
        n, color = image.style_number, image.color_code
        where = f"style {n}" + (f" colour {color}" if color else "") + f" image {image.position}"
        if image.kind == "swatch" and not color:
            return f"{where}: a swatch needs its colour (JOOR: color_code is required with swatch)"
        if self.settings.split_by_color and not color:
            return f"{where}: the style is split by colour on JOOR, so a style-level image has no product: give it a colour"
        path = urlsplit(image.source).path if image.is_url else image.source
        filename = PurePosixPath(unquote(path)).name or PurePosixPath(path).name
        if not filename:
            return f"{where}: {image.source} names no file"
        if len(filename) > c.IMAGE_FILENAME_MAX:
            return f"{where}: file name {filename} is {len(filename)} characters, JOOR takes at most {c.IMAGE_FILENAME_MAX}: rename it"
        content_type = c.IMAGE_EXTENSIONS.get(PurePosixPath(filename).suffix.lower())
        if content_type is None:
            return f"{where}: {filename} is not a JPEG or PNG (JOOR takes .jpg, .jpeg and .png)"
        color_level = self.settings.image_level == "style_color" and color is not None
        if color_level and image.position > 1:
            return (
                f"{where}: JOOR keeps one image per style-colour (and its swatch): only the colour's first image "
                "is sent; make this one first, or load images at style level"
            )
        body: bytes | None = None
        if not image.is_url:
            file = image.path or Path(image.source)
            try:
                size = file.stat().st_size
                if size > c.IMAGE_MAX_BYTES:
                    return f"{where}: {filename} is {size / 1_048_576:.1f} MB, JOOR takes at most 4 MB: make it smaller"
                body = file.read_bytes()
            except OSError:
                return f"{where}: the file {file} cannot be read: check the images folder"
            if not body.startswith(_MAGIC[content_type]):
                return f"{where}: {filename} is not a {'JPEG' if content_type == c.IMAGE_JPEG else 'PNG'} file inside"
        params: Json = {c.P_FILENAME: filename, c.P_DISPLAY_ORDER: image.position}
        if image.is_url:
            params[c.P_URL] = image.source
        identifier = _identifier_for(image.style_number, color, self.settings.split_by_color)
        if image.kind == "swatch":
            calls = [{**params, c.P_COLOR_CODE: color, c.P_SWATCH: "true"}]
        elif color_level:  # [SEED] the first style-colour image is also the colour's swatch
            calls = [{**params, c.P_COLOR_CODE: color}, {**params, c.P_COLOR_CODE: color, c.P_SWATCH: "true"}]
        else:
            calls = [params]
        return identifier, calls, body, content_type if body is not None else None

    # --- linesheets ------------------------------------------------------------------------------
    def _styles_now(self) -> dict[str, tuple[str, list[Json]]]:
        """Style identifier -> (style number, its deliveries), from JOOR's style list [DOC]."""
        found: dict[str, tuple[str, list[Json]]] = {}
        start: int | None = 0
        while start is not None:
            styles, next_start = self.client.styles_page(start, STYLES_PER_PAGE)
            for style in styles:
                identifier = str(style.get(STF.STYLE_IDENTIFIER))
                found[identifier] = (str(style.get(STF.STYLE_NUMBER) or identifier), self._deliveries_of(style))
            start = next_start if styles and next_start not in (None, start) else None
        return found

    @staticmethod
    def _deliveries_of(style: Json) -> list[Json]:
        wrapper = style.get(STF.DELIVERIES)
        listed: Any = wrapper.get(STF.DELIVERY) if isinstance(wrapper, dict) else wrapper
        listed = [listed] if isinstance(listed, dict) else listed or []
        return [d for d in listed if isinstance(d, dict)]

    def _style_now(self, number: str, identifier: str, before: list[Json]) -> list[Json]:
        """A style's deliveries read again after a refused PUT (what JOOR holds now is unknown)."""
        try:
            styles, _ = self.client.style(number, identifier)
        except PartnerRejected:
            return before
        return self._deliveries_of(styles[0]) if styles else before

    def _identifiers_on_joor(self, number: str, current: dict[str, tuple[str, list[Json]]]) -> list[str]:
        if not self.settings.split_by_color:
            return [number] if number in current else []
        prefix = SPLIT_IDENTIFIER.format(style=number, color="")  # [INF] STYLE- then the colour
        return sorted(i for i in current if i.startswith(prefix))


class JoorCustomerPusher:
    """Customers as JOOR connections through bulk-connection jobs [DOC]. A customer JOOR cannot
    take (no name, a name over 100 or a code over 50 characters) is rejected before sending.
    The rest are sent as one job and answered ``awaiting`` with the ticket ``<job id>/<code>``;
    :meth:`poll` reads the job, and once it has finished, each customer's connection by its code:
    found, accepted (its connection id recorded); refused by the job ([INF] the job's
    connection_errors), rejected with JOOR's comment; not found yet, still awaiting JOOR's Data
    Services, who match new customers by hand in 1-2 business days."""

    def __init__(self, client: JoorClient, settings: JoorSettings) -> None:
        self.client = client
        self.settings = settings

    def close(self) -> None:
        self.client.close()

    def send(self, batch: Sequence[CatalogCustomer]) -> list[ItemResult]:
        results: list[ItemResult] = []
        rows, sent = [], []
        for customer in batch:
            problem = _customer_problem(customer)
            if problem:
                results.append(ItemResult(customer.code, REJECTED, problem))
                continue
            rows.append(_connection_row(customer))
            sent.append(customer.code)
        if rows:
            job = self.client.bulk_connection(rows)
            job_id = job.get(JF.JOB_ID)
            if job_id is None:
                raise PartnerRejected(
                    "JOOR started no bulk connection job (no job id in its answer)", partner=c.PARTNER
                )
            said = f"sent to JOOR (bulk connection job {job_id}), waiting for the job to finish"
            results += [ItemResult(code, AWAITING, said, None, f"{job_id}/{code}") for code in sent]
        return results

    def poll(self, tickets: Sequence[str]) -> list[ItemResult]:
        jobs: dict[str, list[str]] = {}
        for ticket in tickets:
            job_id, _, code = ticket.partition("/")
            jobs.setdefault(job_id, []).append(code)
        results = []
        for job_id, codes in jobs.items():
            try:
                job = self.client.bulk_connection_job(job_id)
            except JoorNotFound:  # JOOR no longer keeps the job: the connections tell
                job = {JF.STATUS: c.JOB_FINISHED}
            if job.get(JF.STATUS) != c.JOB_FINISHED:
                continue
            refused = {
                str(e.get(CF.CUSTOMER_CODE)): str(e.get(c.R_COMMENT) or "refused")
                for e in job.get(JF.ERRORS) or []
                if isinstance(e, dict)
            }
            for code in codes:
                ticket = f"{job_id}/{code}"
                if code in refused:
                    results.append(ItemResult(code, REJECTED, f"customer {code}: JOOR refused it: {refused[code]}"))
                    continue
                connection = self.client.get_connection_by_customer_code(code)
                if connection is None:
                    results.append(ItemResult(code, AWAITING, AWAITING_JOOR, None, ticket))
                else:
                    found = connection.get(CF.CONNECTION_ID)
                    results.append(ItemResult(code, ACCEPTED, None, None if found is None else str(found)))
        return results


# --- helpers ---------------------------------------------------------------------------------------
@dataclass
class _Unit:
    """One JOOR product of a style: the whole style, or one colour when split."""

    style: CatalogStyle
    colors: tuple[CatalogColor, ...]
    identifier: str  # product_identifier = the v2 style identifier
    external_id: str
    product_id: str | None = None
    created: bool = False
    problems: list[str] = field(default_factory=list)
    skus: dict[str, str] = field(default_factory=dict)  # ERP SKU id -> JOOR SKU id
    prices: dict[tuple[str, str], Json] = field(default_factory=dict)  # (JOOR SKU id, price type id) -> price


_MAGIC = {c.IMAGE_JPEG: b"\xff\xd8\xff", c.IMAGE_PNG: b"\x89PNG\r\n\x1a\n"}


def _identifier(style: CatalogStyle, color: CatalogColor, split: bool) -> str:
    return _identifier_for(style.number, color.code, split)


def _identifier_for(number: str, color: str | None, split: bool) -> str:
    return SPLIT_IDENTIFIER.format(style=number, color=color) if split and color else number


def _style_number_of(product: Json) -> str | None:
    external = product.get(PF.EXTERNAL_ID)
    if external:
        return str(external).split("::", 1)[0]
    return str(product.get(PF.PRODUCT_IDENTIFIER) or product.get(PF.NAME) or "") or None


def _color_value(color: CatalogColor) -> str:
    return color.name or color.code


def _product_row(unit: _Unit, *, create: bool) -> Json:
    """[DOC] product keys. [INF] season, category and division are not sent: JOOR takes them as
    its own category and trait ids (GET /categories, /traits), which Bobbin does not map."""
    style = unit.style
    name = style.description or style.number
    if len(unit.colors) == 1 and unit.identifier != style.number:
        name = f"{name} - {_color_value(unit.colors[0])}"
    row: Json = {PF.NAME: name, PF.PRODUCT_IDENTIFIER: unit.identifier, PF.DESCRIPTION: style.description}
    if create:
        row[PF.EXTERNAL_ID] = unit.external_id
    else:
        row[PF.ID] = unit.product_id
    return row


def _sku_row(color: CatalogColor, sku_id: str, size: str, upc: str | None) -> Json:
    return {
        SF.EXTERNAL_ID: sku_id,
        SF.SKU_IDENTIFIER: sku_id,
        SF.TRAIT_VALUES: [
            {
                TF.TRAIT_ID: c.TRAIT_COLOR,
                TF.VALUE: _color_value(color),
                TF.EXTERNAL_ID: color.code,
                TF.STATUS: c.TRAIT_ACTIVE,
            },
            {TF.TRAIT_ID: c.TRAIT_SIZE, TF.VALUE: size, TF.EXTERNAL_ID: size, TF.STATUS: c.TRAIT_ACTIVE},
        ],
        SF.IDENTIFIERS: [{IDF.TYPE: c.IDENTIFIER_UPC, IDF.VALUE: upc}] if upc else [],
    }


def _trait_id(trait: Json) -> str:
    """A trait value's trait id: ``trait_id`` in a request, ``trait{id}`` in an answer [DOC]."""
    inner = trait.get(TF.TRAIT)
    return str(trait.get(TF.TRAIT_ID) or (inner.get("id") if isinstance(inner, dict) else "") or "")


def _trait_value(sku: Json, trait_id: str) -> str | None:
    for t in sku.get(SF.TRAIT_VALUES) or []:
        if isinstance(t, dict) and _trait_id(t) == trait_id:
            return None if t.get(TF.VALUE) is None else str(t[TF.VALUE])
    return None


def _upcs(sku: Json) -> list[str]:
    return [
        str(i.get(IDF.VALUE))
        for i in sku.get(SF.IDENTIFIERS) or []
        if isinstance(i, dict) and str(i.get(IDF.TYPE) or "").lower() == c.IDENTIFIER_UPC and i.get(IDF.VALUE)
    ]


def _values(price: Price) -> Json:
    """[DOC] the values as strings ("100.00")."""
    values = {PRF.WHOLESALE_VALUE: f"{price.wholesale:.2f}"}
    if price.retail is not None:
        values[PRF.RETAIL_VALUE] = f"{price.retail:.2f}"
    return values


def _changed(found: Json, values: Json) -> bool:
    for key, value in values.items():
        try:
            if Decimal(str(found.get(key))) != Decimal(value):
                return True
        except InvalidOperation:
            return True
    return False


def _price_key(item: Json) -> str:
    """A price by SKU and price type: ``price_type_id`` in a request, ``price_type{id}`` in an answer."""
    kind = item.get(PRF.PRICE_TYPE)
    type_id = kind.get(PTF.ID) if isinstance(kind, dict) else item.get(PRF.PRICE_TYPE_ID)
    return f"{item.get(PRF.SKU_ID)}/{type_id}"


def _outcome(
    answer: V4Answer, rows: Sequence[Json], row_key: Callable[[Json], Any], data_key: Callable[[Json], Any]
) -> tuple[dict[int, Json], dict[int, str]]:
    """Which rows JOOR applied (their answer) and which it refused (its message): [INF] an error
    names its row by ``details.index``; otherwise a row is applied when ``data`` carries its key."""
    failed: dict[int, str] = {}
    loose: list[str] = []
    for error in answer.errors:
        message = str(error.get(c.V4_MESSAGE) or error.get(c.V4_STATUS) or "refused")
        details = error.get(c.V4_DETAILS)
        index = details.get(c.V4_INDEX) if isinstance(details, dict) else None
        if isinstance(index, int) and 0 <= index < len(rows):
            failed[index] = f"{failed[index]}; {message}" if index in failed else message
        else:
            loose.append(message)
    answered: dict[Any, Json] = {}
    for item in answer.data:
        answered.setdefault(data_key(item), item)
    ok: dict[int, Json] = {}
    for i, row in enumerate(rows):
        if i in failed:
            continue
        found = answered.get(row_key(row))
        if found is not None:
            ok[i] = found
        else:
            failed[i] = "; ".join(loose) or "JOOR's answer does not name it"
    return ok, failed


def _said(exc: PartnerRejected) -> str:
    """JOOR's own words when it gave some, else the error's sentence."""
    return exc.value if isinstance(exc.value, str) and exc.value else str(exc)


def _name(delivery: Json) -> str:
    return str(delivery.get(DF.NAME) or "")


def _delivery(sheet: Linesheet) -> Json:
    node: Json = {DF.NAME: sheet.name}
    if sheet.season:
        node[DF.SEASON] = sheet.season
    if sheet.starts:
        node[DF.START_SHIP] = sheet.starts.isoformat()  # [DOC] dates YYYY-MM-DD
    if sheet.ends:
        node[DF.COMPLETE_SHIP] = sheet.ends.isoformat()
    return node


def _customer_problem(customer: CatalogCustomer) -> str | None:
    name = (customer.name or "").strip()
    if not name:
        return f"customer {customer.code} has no name: JOOR requires customer_name; add it in the ERP"
    if len(name) > c.CUSTOMER_NAME_MAX:
        return f"customer {customer.code}: its name is {len(name)} characters, JOOR takes at most {c.CUSTOMER_NAME_MAX}"
    if len(customer.code) > c.CUSTOMER_CODE_MAX:
        return f"customer {customer.code}: its code is longer than JOOR's {c.CUSTOMER_CODE_MAX} characters"
    return None


def _connection_row(customer: CatalogCustomer) -> Json:
    """[DOC] customer_name, customer_code, customer_contact_email, sales_rep_code; [INF] the
    addresses' keys (see ConnectionAddressField)."""
    row: Json = {CF.CUSTOMER_NAME: customer.name.strip(), CF.CUSTOMER_CODE: customer.code}
    if customer.email:
        row[CF.CUSTOMER_CONTACT_EMAIL] = customer.email
    if customer.rep_code:
        row[CF.SALES_REP_CODE] = customer.rep_code
    for kind, node, wrapper, one in (
        ("billing", CAF.BILLING, CAF.BILLING_ADDRESSES, CAF.BILLING_ADDRESS),
        ("shipping", CAF.SHIPPING, CAF.SHIPPING_ADDRESSES, CAF.SHIPPING_ADDRESS),
    ):
        found = [a for a in customer.addresses if a.kind == kind]
        if not found:
            continue
        listed = []
        for n, address in enumerate(found, start=1):
            values = {
                CAF.CODE: f"{customer.code}-{kind[0].upper()}{n}",
                CAF.NAME: address.name or customer.name,
                CAF.ADDRESS_1: address.line1,
                CAF.ADDRESS_2: address.line2,
                CAF.CITY: address.city,
                CAF.STATE: address.state,
                CAF.ZIP: address.postal_code,
                CAF.COUNTRY: address.country,
            }
            listed.append({f"{kind}_{key}": value for key, value in values.items() if value})
        row[node] = {wrapper: {one: listed}}
    return row


CATALOG = CatalogPush(
    open=JoorCatalogPusher,
    batch_styles=BATCH_STYLES,
    batch_images=BATCH_IMAGES,
    images=True,
    linesheets=True,
    removal=("deactivate", "remove"),
    notes={
        "styles": "v4 products / SKUs / prices (bulk_create, bulk_update), external_id = ERP style number",
        "images": "v2 image POST, style or style-colour level (image_level); JPEG/PNG <= 4 MB checked first",
        "linesheets": "style deliveries, delivery_overwrite 2 by default (hand-made linesheets kept)",
    },
)
CUSTOMERS = CustomerPush(open=JoorCustomerPusher, batch=BATCH_CUSTOMERS, asynchronous=True)
