"""The JOOR sandbox's catalog and customer jobs: v4 products, SKUs, prices and price types; v2
styles (the list, one style, its deliveries = linesheets, deletion) and images; v2 bulk
connections as background jobs. Names come from the sandbox's own tables (``sandbox/joor/api.py``).

What the documentation states and the sandbox enforces:
- v4 writes take a JSON array and answer ``{"data": [...], "errors": [{status, message, details}]}``
  [DOC]; [INF] an item that fails is left out of ``data`` and named in ``errors`` with
  ``details.index`` (its place in the request) and its id / external_id; the others are applied
  (HTTP 200). A body that is not an array is HTTP 400 with the same envelope.
- products: ``name`` required; [INF] ``external_id`` and ``product_identifier`` (the style
  identifier, JOOR's unique style key [DOC]) unique per account: creating one again is an error.
- SKUs: ``product_id`` required; both traits (Color and Size, by their documented ids) required
  [DOC]; "all Color and Size combinations must be sent explicitly" [DOC]: a create leaving a
  product without some colour × size is refused for that product; a trait value's ``status``
  INACTIVE makes that colour or size unshoppable for the product [DOC] (every SKU with it).
- prices: sku_id, price_type_id (a price type of the account) and wholesale_value required [DOC];
  [INF] one price per SKU and price type: creating a second is an error (update it by id).
- images [DOC]: filename (<= 69) and display_order required; the raw body (image/jpeg or
  image/png, <= 4 MB) or ``url``; ``swatch`` needs ``color_code``; one colour image and one swatch
  per style-colour (a new one overwrites the old); ``replace_existing`` drops the style's images.
- deliveries [DOC]: ``delivery_overwrite`` 1 replace all (default), 2 replace API-created only,
  3 add only, 4 remove the listed; [INF] a delivery is named by ``delivery_name``.
- bulk connections [DOC]: a background job (queued, started, finished); [INF] it finishes after
  ``job_polls`` reads of its status or a control call; a record whose customer_code an existing
  connection carries updates it; a new one waits for JOOR Data Services' match (a control call).

Everything here runs under the sandbox's lock.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.joor import api as c

Obj = dict[str, Any]
PF, SF, TF, IDF, PRF, PTF = (
    c.ProductField,
    c.SkuField,
    c.TraitValueField,
    c.IdentifierField,
    c.PriceField,
    c.PriceTypeField,
)
STF, DF, JF, CF, CAF, IF = (
    c.StyleField,
    c.DeliveryField,
    c.JobField,
    c.ConnectionField,
    c.ConnectionAddressField,
    c.ItemField,
)
API_CREATED = "api_created"  # kept on a style's delivery: made through the API (mode 2 replaces only these)
MAX_V4_LIMIT = 500  # [INF]
JPEG_MAGIC, PNG_MAGIC = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


class CatalogError(Exception):
    """A request JOOR refuses as a whole: HTTP ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Catalog:
    """One account's catalog. ``skus`` is the account's v2 SKU list (what the inventory endpoints
    read): a v4 SKU is shown there too, as style_number / color_code / size / upc."""

    skus: list[Obj]
    price_types: list[Obj] = field(default_factory=list)
    products: dict[str, Obj] = field(default_factory=dict)
    v4_skus: dict[str, Obj] = field(default_factory=dict)
    prices: dict[str, Obj] = field(default_factory=dict)
    images: list[Obj] = field(default_factory=list)
    deliveries: dict[str, list[Obj]] = field(default_factory=dict)  # product id -> its deliveries
    views: dict[str, Obj] = field(default_factory=dict)  # v4 SKU id -> its entry in ``skus``
    jobs: dict[str, Obj] = field(default_factory=dict)
    pending_matches: dict[str, Obj] = field(default_factory=dict)  # customer_code -> record
    sales_reps: frozenset[str] | None = None  # when the seed names them, unknown codes are refused
    next_id: int = 1
    # kind -> field -> its look-up, kept in step with products / v4_skus / prices (every change to
    # an indexed field files it again), so a write is checked with look-ups, not passes over the
    # account's catalog: the same answers at 100,000 SKUs as at 10.
    lookups: dict[str, dict[str, _Lookup]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _table(self, kind: str) -> tuple[dict[str, Obj], str]:
        return {"product": (self.products, PF.ID), "sku": (self.v4_skus, SF.ID), "price": (self.prices, PRF.ID)}[kind]

    def _lookup(self, kind: str, key: str) -> _Lookup:
        return self.lookups.setdefault(kind, {}).setdefault(key, _Lookup())

    def file(self, kind: str, item: Obj, keys: Sequence[str] | None = None) -> None:
        """File an item (newly in its table, or with ``keys`` just changed) under its indexed fields."""
        _, id_key = self._table(kind)
        for key in INDEXED[kind] if keys is None else keys:
            self._lookup(kind, key).add(item.get(key), str(item[id_key]))

    def unfile(self, kind: str, item: Obj, keys: Sequence[str] | None = None) -> None:
        """Take an item out of its look-ups (before it leaves its table, or before ``keys`` change)."""
        _, id_key = self._table(kind)
        for key in INDEXED[kind] if keys is None else keys:
            self._lookup(kind, key).drop(item.get(key), str(item[id_key]))

    def find(self, kind: str, key: str, value: Any) -> list[Obj]:
        """The items of ``kind`` whose ``key`` equals ``value``, in the order they were filed (for
        a field that never changes, the table's order)."""
        table, _ = self._table(kind)
        ids = self._lookup(kind, key).ids(value)
        if ids is None:  # not text: compared with every item, as a scan would
            return [item for item in table.values() if item.get(key) == value]
        return [table[i] for i in ids if i in table and table[i].get(key) == value]


class _Lookup:
    """Ids by the value of one field, in the order filed. Text values only: any other value is
    looked up by a scan (``ids`` answers None)."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, None]] = {}

    def add(self, value: Any, item_id: str) -> None:
        if isinstance(value, str):
            self._ids.setdefault(value, {})[item_id] = None

    def drop(self, value: Any, item_id: str) -> None:
        found = self._ids.get(value) if isinstance(value, str) else None
        if found is not None:
            found.pop(item_id, None)
            if not found:
                del self._ids[value]

    def ids(self, value: Any) -> list[str] | None:
        return list(self._ids.get(value, ())) if isinstance(value, str) else None


# The fields looked up per kind of item (uniqueness checks, a product's SKUs, a SKU's prices).
INDEXED = {
    "product": (PF.EXTERNAL_ID, PF.PRODUCT_IDENTIFIER),
    "sku": (SF.EXTERNAL_ID, SF.PRODUCT_ID),
    "price": (PRF.SKU_ID,),
}


def load_catalog(account_skus: list[Obj], seed: Mapping[str, Any]) -> Catalog:
    """A catalog from a seed: its ``price_types`` (else one per currency and label its orders
    use), and a product per style of its v2 ``skus`` (as a brand makes them by hand: no external_id)."""
    catalog = Catalog(skus=account_skus)
    types = seed.get("price_types")
    if types is None:
        pairs = {
            (str(o.get(c.OrderField.PRICE_TYPE)), str(o.get(c.OrderField.CURRENCY_CODE)))
            for o in seed.get("orders", [])
        }
        types = [{PTF.NAME: n, PTF.CURRENCY_CODE: cur} for n, cur in sorted(pairs) if n != "None" and cur != "None"]
    for t in types:
        catalog.price_types.append(
            {
                PTF.ID: str(t.get(PTF.ID) or catalog.new_id("PT")),
                PTF.NAME: t[PTF.NAME],
                PTF.CURRENCY_CODE: t[PTF.CURRENCY_CODE],
                PTF.RETAIL_CURRENCY_CODE: t.get(PTF.RETAIL_CURRENCY_CODE) or t[PTF.CURRENCY_CODE],
            }
        )
    if seed.get("sales_reps") is not None:
        catalog.sales_reps = frozenset(str(r) for r in seed["sales_reps"])
    by_style: dict[str, list[Obj]] = {}
    for sku in account_skus:
        by_style.setdefault(str(sku.get(IF.STYLE_IDENTIFIER) or sku.get(IF.STYLE_NUMBER)), []).append(sku)
    for identifier, skus in by_style.items():
        pid = catalog.new_id("P")
        number = str(skus[0].get(IF.STYLE_NUMBER) or identifier)
        catalog.products[pid] = {
            PF.ID: pid,
            PF.NAME: number,
            PF.EXTERNAL_ID: None,
            PF.PRODUCT_IDENTIFIER: identifier,
            PF.DESCRIPTION: "",
            "_style_number": number,
        }
        catalog.file("product", catalog.products[pid])
        for view in skus:
            sid = catalog.new_id("S")
            catalog.v4_skus[sid] = {
                SF.ID: sid,
                SF.PRODUCT_ID: pid,
                SF.EXTERNAL_ID: None,
                SF.SKU_IDENTIFIER: None,
                SF.TRAIT_VALUES: [
                    _trait(c.TRAIT_COLOR, view.get(IF.COLOR_NAME) or view.get(IF.COLOR_CODE), view.get(IF.COLOR_CODE)),
                    _trait(c.TRAIT_SIZE, view.get(IF.SIZE), view.get(IF.SIZE)),
                ],
                SF.IDENTIFIERS: [{IDF.TYPE: c.IDENTIFIER_UPC, IDF.VALUE: view[IF.UPC]}] if view.get(IF.UPC) else [],
            }
            catalog.file("sku", catalog.v4_skus[sid])
            catalog.views[sid] = view
    return catalog


def _trait(trait_id: str, value: Any, external_id: Any, status: str = c.TRAIT_ACTIVE) -> Obj:
    return {TF.TRAIT_ID: trait_id, TF.VALUE: value, TF.EXTERNAL_ID: external_id, TF.ORDER_MINIMUM: 0, TF.STATUS: status}


# --- v4 ------------------------------------------------------------------------------------------
class V4:
    """The v4 endpoints of one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog

    def route(self, method: str, path: str, query: Mapping[str, str], body: Any) -> Obj:
        if method == "GET" and path == c.PRODUCTS:
            return _page(list(self.cat.products.values()), query, _product_view)
        if method == "GET" and path == c.SKUS:
            wanted = {p for p in str(query.get(c.P_PRODUCT_IDS) or "").split(",") if p}
            skus = [s for s in self.cat.v4_skus.values() if not wanted or s[SF.PRODUCT_ID] in wanted]
            return _page(skus, query, self._sku_view)
        if method == "GET" and path == c.PRICE_TYPES:
            return _page(self.cat.price_types, query, copy.deepcopy)
        writes = {
            c.PRODUCTS_BULK_CREATE: self._create_product,
            c.PRODUCTS_BULK_UPDATE: self._update_product,
            c.SKUS_BULK_UPDATE: self._update_sku,
            c.PRICES_BULK_CREATE: self._create_price,
            c.PRICES_BULK_UPDATE: self._update_price,
        }
        if method == "POST" and path == c.SKUS_BULK_CREATE:
            return self._create_skus(_items(body))
        if method == "POST" and path in writes:
            items, data, errors = _items(body), [], []
            for index, item in enumerate(items):
                try:
                    data.append(writes[path](item))
                except CatalogError as exc:
                    errors.append(_item_error(index, item, exc.message))
            return {c.V4_DATA: data, c.V4_ERRORS: errors}
        raise CatalogError(404, f"Unknown endpoint {method} /v4/{path}")

    # products
    def _create_product(self, item: Obj) -> Obj:
        name = item.get(PF.NAME)
        if not isinstance(name, str) or not name.strip():
            raise CatalogError(400, "name is required")
        external_id = item.get(PF.EXTERNAL_ID)
        if external_id and self.cat.find("product", PF.EXTERNAL_ID, external_id):
            raise CatalogError(400, f"A product with external_id {external_id} already exists")
        identifier = item.get(PF.PRODUCT_IDENTIFIER) or external_id or name
        self._unique_identifier(str(identifier), None)
        pid = self.cat.new_id("P")
        product = {
            PF.ID: pid,
            PF.NAME: name,
            PF.EXTERNAL_ID: external_id,
            PF.PRODUCT_IDENTIFIER: identifier,
            PF.DESCRIPTION: item.get(PF.DESCRIPTION) or "",
            PF.ORDER_MINIMUM: item.get(PF.ORDER_MINIMUM),
            PF.CATEGORY_IDS: list(item.get(PF.CATEGORY_IDS) or []),
            PF.PRODUCT_TRAIT_VALUES: copy.deepcopy(item.get(PF.PRODUCT_TRAIT_VALUES) or []),
            # [INF] a product made through v4 is the v2 style whose number and identifier are its
            # product_identifier
            "_style_number": str(identifier),
        }
        self.cat.products[pid] = product
        self.cat.file("product", product)
        return _product_view(product)

    def _update_product(self, item: Obj) -> Obj:
        product = self.cat.products.get(str(item.get(PF.ID)))
        if product is None:
            raise CatalogError(404, f"Product {item.get(PF.ID)} not found")
        if PF.EXTERNAL_ID in item and item[PF.EXTERNAL_ID] != product.get(PF.EXTERNAL_ID):
            raise CatalogError(400, "external_id cannot be changed by bulk_update")
        if item.get(PF.PRODUCT_IDENTIFIER):
            self._unique_identifier(str(item[PF.PRODUCT_IDENTIFIER]), product[PF.ID])
        self.cat.unfile("product", product)
        for key in (
            PF.NAME,
            PF.PRODUCT_IDENTIFIER,
            PF.DESCRIPTION,
            PF.ORDER_MINIMUM,
            PF.CATEGORY_IDS,
            PF.PRODUCT_TRAIT_VALUES,
        ):
            if key in item:
                product[key] = copy.deepcopy(item[key])
        self.cat.file("product", product)
        for sku in self.cat.find("sku", SF.PRODUCT_ID, product[PF.ID]):
            self._show(sku[SF.ID])
        return _product_view(product)

    def _unique_identifier(self, identifier: str, own: str | None) -> None:
        if any(p[PF.ID] != own for p in self.cat.find("product", PF.PRODUCT_IDENTIFIER, identifier)):
            raise CatalogError(400, f"A product with product_identifier {identifier} already exists")

    # SKUs
    def _create_skus(self, items: list[Obj]) -> Obj:
        data, errors = [], []
        staged: dict[str, list[tuple[int, Obj]]] = {}
        for index, item in enumerate(items):
            try:
                sku = self._new_sku(item)
            except CatalogError as exc:
                errors.append(_item_error(index, item, exc.message))
                continue
            staged.setdefault(sku[SF.PRODUCT_ID], []).append((index, sku))
        for pid, new in staged.items():
            old = self.cat.find("sku", SF.PRODUCT_ID, pid)
            every = {(_value(s, c.TRAIT_COLOR), _value(s, c.TRAIT_SIZE)) for s in old + [s for _, s in new]}
            twice = len(old) + len(new) != len(every)
            # [INF] the grid is of the colours and sizes still shoppable (ACTIVE)
            active = [s for s in old if _active(s)] + [s for _, s in new]
            pairs = {(_value(s, c.TRAIT_COLOR), _value(s, c.TRAIT_SIZE)) for s in active}
            colors = list(dict.fromkeys(p[0] for p in pairs))
            sizes = list(dict.fromkeys(p[1] for p in pairs))
            missing = [f"{col} / {size}" for col in colors for size in sizes if (col, size) not in pairs]
            if missing or twice:
                said = (
                    "All Color and Size combinations must be sent explicitly; missing: " + ", ".join(missing[:10])
                    if missing
                    else "A SKU with this Color and Size exists already on the product"
                )
                errors += [_item_error(index, items[index], said) for index, _ in new]
                continue
            for _, sku in new:
                self.cat.v4_skus[sku[SF.ID]] = sku
                self.cat.file("sku", sku)
                self._show(sku[SF.ID])
                data.append(self._sku_view(sku))
        return {c.V4_DATA: data, c.V4_ERRORS: errors}

    def _new_sku(self, item: Obj) -> Obj:
        pid = str(item.get(SF.PRODUCT_ID) or "")
        if pid not in self.cat.products:
            raise CatalogError(400, f"product_id {pid or '(none)'} is not a product of this account")
        external_id = item.get(SF.EXTERNAL_ID)
        if external_id and self.cat.find("sku", SF.EXTERNAL_ID, external_id):
            raise CatalogError(400, f"A SKU with external_id {external_id} already exists")
        return {
            SF.ID: self.cat.new_id("S"),
            SF.PRODUCT_ID: pid,
            SF.EXTERNAL_ID: external_id,
            SF.SKU_IDENTIFIER: item.get(SF.SKU_IDENTIFIER),
            SF.TRAIT_VALUES: _traits(item.get(SF.TRAIT_VALUES)),
            SF.IDENTIFIERS: _identifiers(item.get(SF.IDENTIFIERS)),
        }

    def _update_sku(self, item: Obj) -> Obj:
        sku = self.cat.v4_skus.get(str(item.get(SF.ID)))
        if sku is None:
            raise CatalogError(404, f"SKU {item.get(SF.ID)} not found")
        external_id = item.get(SF.EXTERNAL_ID)
        if external_id and any(s[SF.ID] != sku[SF.ID] for s in self.cat.find("sku", SF.EXTERNAL_ID, external_id)):
            raise CatalogError(400, f"A SKU with external_id {external_id} already exists")
        traits = _traits(item[SF.TRAIT_VALUES]) if SF.TRAIT_VALUES in item else sku[SF.TRAIT_VALUES]
        self.cat.unfile("sku", sku, (SF.EXTERNAL_ID,))
        for key in (SF.EXTERNAL_ID, SF.SKU_IDENTIFIER):
            if key in item:
                sku[key] = item[key]
        self.cat.file("sku", sku, (SF.EXTERNAL_ID,))
        if SF.IDENTIFIERS in item:
            sku[SF.IDENTIFIERS] = _identifiers(item[SF.IDENTIFIERS])
        sku[SF.TRAIT_VALUES] = traits
        for trait in traits:  # [DOC] a colour or size INACTIVE (or ACTIVE again) for the whole product
            for other in self.cat.find("sku", SF.PRODUCT_ID, sku[SF.PRODUCT_ID]):
                for t in other[SF.TRAIT_VALUES]:
                    if t[TF.TRAIT_ID] == trait[TF.TRAIT_ID] and t[TF.VALUE] == trait[TF.VALUE]:
                        t[TF.STATUS] = trait[TF.STATUS]
        self._show(sku[SF.ID])
        return self._sku_view(sku)

    def _show(self, sid: str) -> None:
        """Keep the SKU's v2 entry (what bulk-inventory finds) in step with it."""
        sku = self.cat.v4_skus[sid]
        product = self.cat.products[sku[SF.PRODUCT_ID]]
        upc = next((i[IDF.VALUE] for i in sku[SF.IDENTIFIERS] if i[IDF.TYPE] == c.IDENTIFIER_UPC), None)
        color: Obj = next((t for t in sku[SF.TRAIT_VALUES] if t[TF.TRAIT_ID] == c.TRAIT_COLOR), {})
        view = {
            IF.STYLE_NUMBER: product["_style_number"],
            IF.STYLE_IDENTIFIER: product[PF.PRODUCT_IDENTIFIER],
            IF.COLOR_CODE: color.get(TF.EXTERNAL_ID) or color.get(TF.VALUE),
            IF.COLOR_NAME: color.get(TF.VALUE),
            IF.SIZE: _value(sku, c.TRAIT_SIZE),
            IF.UPC: upc,
        }
        existing = self.cat.views.get(sid)
        if existing is None:
            self.cat.views[sid] = view
            self.cat.skus.append(view)
        else:
            existing.clear()
            existing.update(view)

    def _sku_view(self, sku: Obj) -> Obj:
        shown = {k: copy.deepcopy(v) for k, v in sku.items() if k != SF.TRAIT_VALUES}
        shown[SF.TRAIT_VALUES] = [
            {
                TF.TRAIT: {"id": t[TF.TRAIT_ID], "name": "Color" if t[TF.TRAIT_ID] == c.TRAIT_COLOR else "Size"},
                TF.VALUE: t[TF.VALUE],
                TF.EXTERNAL_ID: t[TF.EXTERNAL_ID],
                TF.ORDER_MINIMUM: t.get(TF.ORDER_MINIMUM),
                TF.STATUS: t[TF.STATUS],
            }
            for t in sku[SF.TRAIT_VALUES]
        ]
        shown[SF.PRICES] = [self._price_view(p) for p in self.cat.find("price", PRF.SKU_ID, sku[SF.ID])]
        return shown

    # prices
    def _create_price(self, item: Obj) -> Obj:
        sid, tid = str(item.get(PRF.SKU_ID) or ""), str(item.get(PRF.PRICE_TYPE_ID) or "")
        if sid not in self.cat.v4_skus:
            raise CatalogError(400, f"sku_id {sid or '(none)'} is not a SKU of this account")
        if not any(t[PTF.ID] == tid for t in self.cat.price_types):
            raise CatalogError(400, f"price_type_id {tid or '(none)'} is not a price type of this account")
        if any(p[PRF.PRICE_TYPE_ID] == tid for p in self.cat.find("price", PRF.SKU_ID, sid)):
            raise CatalogError(400, f"SKU {sid} has a price of price type {tid} already: update it by its id")
        price = {PRF.ID: self.cat.new_id("PR"), PRF.SKU_ID: sid, PRF.PRICE_TYPE_ID: tid}
        price.update(_money(item, required=True))
        self.cat.prices[price[PRF.ID]] = price
        self.cat.file("price", price)
        return self._price_view(price)

    def _update_price(self, item: Obj) -> Obj:
        price = self.cat.prices.get(str(item.get(PRF.ID)))
        if price is None:
            raise CatalogError(404, f"Price {item.get(PRF.ID)} not found")
        price.update(_money(item, required=False))
        return self._price_view(price)

    def _price_view(self, price: Obj) -> Obj:
        kind = next(t for t in self.cat.price_types if t[PTF.ID] == price[PRF.PRICE_TYPE_ID])
        return {
            PRF.ID: price[PRF.ID],
            PRF.SKU_ID: price[PRF.SKU_ID],
            PRF.PRICE_TYPE: copy.deepcopy(kind),
            PRF.WHOLESALE_VALUE: price[PRF.WHOLESALE_VALUE],
            PRF.RETAIL_VALUE: price.get(PRF.RETAIL_VALUE),
        }


def _items(body: Any) -> list[Obj]:
    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise CatalogError(400, "The body must be a JSON array of objects")
    return body


def _item_error(index: int, item: Obj, message: str) -> Obj:
    details: Obj = {c.V4_INDEX: index}
    for key in (PF.ID, PF.EXTERNAL_ID, PRF.SKU_ID):
        if item.get(key) is not None:
            details[key] = item[key]
    return {c.V4_STATUS: "400", c.V4_MESSAGE: message, c.V4_DETAILS: details}


def _traits(raw: Any) -> list[Obj]:
    if not isinstance(raw, list):
        raise CatalogError(400, "trait_values is required: a Color and a Size")
    traits = []
    for t in raw:
        if not isinstance(t, dict) or not t.get(TF.TRAIT_ID) or t.get(TF.VALUE) in (None, ""):
            raise CatalogError(400, "every trait value needs trait_id and value")
        status = t.get(TF.STATUS) or c.TRAIT_ACTIVE
        if status not in (c.TRAIT_ACTIVE, c.TRAIT_INACTIVE):
            raise CatalogError(400, f"status must be ACTIVE or INACTIVE, not {status!r}")
        traits.append(_trait(t[TF.TRAIT_ID], str(t[TF.VALUE]), t.get(TF.EXTERNAL_ID), status))
    ids = [t[TF.TRAIT_ID] for t in traits]
    if sorted(ids) != sorted([c.TRAIT_COLOR, c.TRAIT_SIZE]):
        raise CatalogError(400, "Each SKU must have both traits, Color and Size, once each")
    return traits


def _identifiers(raw: Any) -> list[Obj]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(i, dict) and i.get(IDF.TYPE) for i in raw):
        raise CatalogError(400, "identifiers must be a list of {type, value}")
    return [{IDF.TYPE: str(i[IDF.TYPE]).lower(), IDF.VALUE: str(i.get(IDF.VALUE) or "")} for i in raw]


def _active(sku: Obj) -> bool:
    return all(t[TF.STATUS] == c.TRAIT_ACTIVE for t in sku[SF.TRAIT_VALUES])


def _value(sku: Obj, trait_id: str) -> str:
    return str(next((t[TF.VALUE] for t in sku[SF.TRAIT_VALUES] if t[TF.TRAIT_ID] == trait_id), ""))


def _money(item: Obj, *, required: bool) -> Obj:
    out: Obj = {}
    for key, needed in ((PRF.WHOLESALE_VALUE, required), (PRF.RETAIL_VALUE, False)):
        raw = item.get(key)
        if raw in (None, ""):
            if needed:
                raise CatalogError(400, f"{key} is required")
            continue
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise CatalogError(400, f"{key} {raw!r} is not a number") from None
        if value < 0:
            raise CatalogError(400, f"{key} must not be negative")
        out[key] = f"{value:.2f}"
    return out


def _product_view(product: Obj) -> Obj:
    return {k: copy.deepcopy(v) for k, v in product.items() if not k.startswith("_")}


def _page(items: Sequence[Obj], query: Mapping[str, str], view: Any) -> Obj:
    try:
        limit = int(query.get(c.P_LIMIT) or c.V4_PAGE_LIMIT)
        offset = int(query.get(c.P_OFFSET) or 0)
    except ValueError:
        raise CatalogError(400, "limit and offset must be whole numbers") from None
    if not 1 <= limit <= MAX_V4_LIMIT or offset < 0:
        raise CatalogError(400, f"limit must be 1 to {MAX_V4_LIMIT} and offset 0 or more")
    return {c.V4_DATA: [view(i) for i in list(items)[offset : offset + limit]], c.V4_ERRORS: []}


# --- v2 styles, deliveries and images ------------------------------------------------------------
def find_style(catalog: Catalog, style_identifier: str) -> Obj:
    """[INF] by the style identifier (JOOR's unique key for a style); the style number in the path
    is not checked."""
    found = catalog.find("product", PF.PRODUCT_IDENTIFIER, style_identifier)
    if len(found) > 1:  # filed in another order than the catalog's: the first in the catalog
        found = [p for p in catalog.products.values() if p[PF.PRODUCT_IDENTIFIER] == style_identifier]
    product = found[0] if found else None
    if product is None:
        raise CatalogError(404, f"Style {style_identifier} not found")
    return product


def style_view(catalog: Catalog, product: Obj) -> Obj:
    deliveries = [{k: v for k, v in d.items() if k != API_CREATED} for d in catalog.deliveries.get(product[PF.ID], [])]
    return {
        STF.STYLE_NAME: product[PF.NAME],
        STF.STYLE_NUMBER: product["_style_number"],
        STF.STYLE_IDENTIFIER: product[PF.PRODUCT_IDENTIFIER],
        STF.STYLE_DESCRIPTION: product.get(PF.DESCRIPTION) or "",
        STF.DELIVERIES: {STF.DELIVERY: deliveries},
    }


def put_style(catalog: Catalog, product: Obj, body: Any) -> None:
    """The style PUT's deliveries with their delivery_overwrite mode ([INF] other keys ignored)."""
    styles = body.get(c.R_STYLES) if isinstance(body, dict) else None
    style = styles.get(c.R_STYLE) if isinstance(styles, dict) else None
    if isinstance(style, list) and len(style) == 1:
        style = style[0]
    if not isinstance(style, dict):
        raise CatalogError(400, 'The body must be {"styles": {"style": {...}}}')
    if STF.DELIVERIES not in style:
        return
    mode = style.get(STF.DELIVERY_OVERWRITE, c.DELIVERY_OVERWRITE_ALL)
    if mode not in c.DELIVERY_OVERWRITE_MODES:
        raise CatalogError(400, f"delivery_overwrite must be 1, 2, 3 or 4, not {mode!r}")
    wrapper = style[STF.DELIVERIES]
    listed = wrapper.get(STF.DELIVERY, []) if isinstance(wrapper, dict) else wrapper
    if isinstance(listed, dict):
        listed = [listed]
    if not isinstance(listed, list) or not all(isinstance(d, dict) and d.get(DF.NAME) for d in listed):
        raise CatalogError(400, "every delivery needs a delivery_name")
    current = catalog.deliveries.get(product[PF.ID], [])
    named = {d[DF.NAME]: d for d in current}
    names = [d[DF.NAME] for d in listed]
    made = [{**copy.deepcopy(d), API_CREATED: named.get(d[DF.NAME], {}).get(API_CREATED, True)} for d in listed]
    if mode == c.DELIVERY_OVERWRITE_ALL:
        result = made
    elif mode == c.DELIVERY_OVERWRITE_API:
        result = [d for d in current if not d[API_CREATED] and d[DF.NAME] not in names] + made
    elif mode == c.DELIVERY_ADD:
        result = current + [d for d in made if d[DF.NAME] not in named]
    else:
        result = [d for d in current if d[DF.NAME] not in names]
    catalog.deliveries[product[PF.ID]] = result


def delete_style(catalog: Catalog, product: Obj) -> None:
    pid = product[PF.ID]
    for sku in catalog.find("sku", SF.PRODUCT_ID, pid):
        sid = sku[SF.ID]
        catalog.unfile("sku", sku)
        del catalog.v4_skus[sid]
        view = catalog.views.pop(sid, None)
        if view is not None:
            catalog.skus[:] = [v for v in catalog.skus if v is not view]
        for price in catalog.find("price", PRF.SKU_ID, sid):
            catalog.unfile("price", price)
            del catalog.prices[price[PRF.ID]]
    catalog.images[:] = [i for i in catalog.images if i["product_id"] != pid]
    catalog.deliveries.pop(pid, None)
    catalog.unfile("product", product)
    del catalog.products[pid]


def post_image(
    catalog: Catalog, product: Obj, style_number: str, query: Mapping[str, str], body: bytes, content_type: str
) -> Obj:
    filename = query.get(c.P_FILENAME) or ""
    if not filename:
        raise CatalogError(400, "filename is required")
    if len(filename) > c.IMAGE_FILENAME_MAX:
        raise CatalogError(400, f"filename is longer than {c.IMAGE_FILENAME_MAX} characters")
    try:
        order = int(query.get(c.P_DISPLAY_ORDER) or "")
    except ValueError:
        raise CatalogError(400, "display_order is required (a whole number)") from None
    swatch = str(query.get(c.P_SWATCH) or "").lower() == "true"
    color = query.get(c.P_COLOR_CODE) or None
    if swatch and not color:
        raise CatalogError(400, "color_code is required with swatch")
    if color is not None:
        colors = {
            catalog.views[sku[SF.ID]].get(IF.COLOR_CODE)
            for sku in catalog.find("sku", SF.PRODUCT_ID, product[PF.ID])
            if sku[SF.ID] in catalog.views
        }
        if color not in colors:
            raise CatalogError(400, f"Style {product[PF.PRODUCT_IDENTIFIER]} has no color {color}")
    url = query.get(c.P_URL) or None
    if url:
        fmt = c.IMAGE_EXTENSIONS.get("." + url.rsplit(".", 1)[-1].lower()) if "." in url.rsplit("/", 1)[-1] else None
        if fmt is None:
            raise CatalogError(400, "Images must be JPEG or PNG (.jpeg/.jpg/.png)")
        size = None
    else:
        if not body:
            raise CatalogError(400, "Send the image as the body, or its url")
        if len(body) > c.IMAGE_MAX_BYTES:
            raise CatalogError(400, "Images must not be larger than 4MB")
        fmt = c.IMAGE_JPEG if body.startswith(JPEG_MAGIC) else c.IMAGE_PNG if body.startswith(PNG_MAGIC) else None
        if fmt is None or content_type not in (c.IMAGE_JPEG, c.IMAGE_PNG):
            raise CatalogError(400, "Images must be JPEG or PNG (Content-Type image/jpeg or image/png)")
        size = len(body)
    if str(query.get(c.P_REPLACE_EXISTING) or "").lower() == "true":
        catalog.images[:] = [i for i in catalog.images if i["product_id"] != product[PF.ID] or i["color_code"]]
    if color is not None:  # [DOC] one colour image and one swatch per style-colour: overwritten
        catalog.images[:] = [
            i
            for i in catalog.images
            if not (i["product_id"] == product[PF.ID] and i["color_code"] == color and i["swatch"] == swatch)
        ]
    stem, dot, ext = filename.rpartition(".")
    upload = {
        "product_id": product[PF.ID],
        c.R_UPLOAD_ID: catalog.next_id + 4800000,
        STF.STYLE_NUMBER: style_number,
        STF.STYLE_IDENTIFIER: product[PF.PRODUCT_IDENTIFIER],
        # [DOC] "a randomly generated string is appended to any image files uploaded"
        c.R_FILENAME: f"{stem or ext}_{uuid.uuid4().hex[:8]}{dot}{ext if stem else ''}",
        "sent_filename": filename,
        "display_order": order,
        "color_code": color,
        "swatch": swatch,
        "format": fmt,
        "bytes": size,
        "url": url,
    }
    catalog.next_id += 1
    catalog.images.append(upload)
    return upload


# --- bulk connections ----------------------------------------------------------------------------
def job_view(job: Obj) -> Obj:
    shown = {k: v for k, v in job.items() if not k.startswith("_")}
    if job[JF.STATUS] != c.JOB_FINISHED:
        shown.pop(JF.ERRORS, None)
    return shown


def new_job(catalog: Catalog, body: Any, now: str) -> Obj:
    root = body.get(c.R_BULK_CONNECTIONS) if isinstance(body, dict) else None
    records = root.get(c.R_CONNECTION) if isinstance(root, dict) else None
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise CatalogError(400, 'Body must be {"bulk_connections": {"connection": [...]}}')
    job_id = str(len(catalog.jobs) + 1)
    job = {
        JF.JOB_ID: int(job_id),
        JF.STATUS: c.JOB_QUEUED,
        JF.CREATED: now,
        JF.MODIFIED: now,
        JF.RECORD_COUNT: len(records),
        JF.RECORD_PROGRESS: 0,
        JF.ERRORS: [],
        "_records": copy.deepcopy(records),
        "_polls": 0,
    }
    catalog.jobs[job_id] = job
    return job


def finish_job(catalog: Catalog, connections: dict[str, Obj], job: Obj, now: str) -> None:
    """Run the job's records: an existing customer_code updates its connection; a new one waits
    for JOOR Data Services; a record JOOR cannot take is named in the job's errors."""
    if job[JF.STATUS] == c.JOB_FINISHED:
        return
    for record in job["_records"]:
        code = record.get(CF.CUSTOMER_CODE)
        problem = _record_problem(catalog, record)
        if problem:
            job[JF.ERRORS].append({CF.CUSTOMER_CODE: code, c.R_COMMENT: problem})
            continue
        found = next((x for x in connections.values() if code and x.get(CF.CUSTOMER_CODE) == code), None)
        if found is not None:
            found.update(
                {k: copy.deepcopy(v) for k, v in record.items() if k not in (CF.CONNECTION_ID, CF.RETAILER_ID)}
            )
        else:
            catalog.pending_matches[str(code)] = copy.deepcopy(record)
    job[JF.STATUS], job[JF.RECORD_PROGRESS], job[JF.MODIFIED] = c.JOB_FINISHED, job[JF.RECORD_COUNT], now


def _record_problem(catalog: Catalog, record: Obj) -> str | None:
    name, code = record.get(CF.CUSTOMER_NAME), record.get(CF.CUSTOMER_CODE)
    if not isinstance(name, str) or not name.strip():
        return "customer_name is required"
    if len(name) > c.CUSTOMER_NAME_MAX:
        return f"customer_name is longer than {c.CUSTOMER_NAME_MAX} characters"
    if code is not None and (not isinstance(code, str) or len(code) > c.CUSTOMER_CODE_MAX):
        return f"customer_code must be text of at most {c.CUSTOMER_CODE_MAX} characters"
    rep = record.get(CF.SALES_REP_CODE)
    if rep and catalog.sales_reps is not None and rep not in catalog.sales_reps:
        return f"Unknown sales_rep_code {rep}: add the sales representative in JOOR first"
    return None


def approve(catalog: Catalog, connections: dict[str, Obj], codes: Sequence[str] | None) -> list[Obj]:
    """JOOR Data Services matches new customers: each becomes a connection (an existing one
    without a customer code when one has the same name, else a new retailer)."""
    made = []
    for code in list(codes if codes is not None else catalog.pending_matches):
        record = catalog.pending_matches.pop(str(code), None)
        if record is None:
            raise KeyError(f"no customer {code} waits for a match")
        twin = next(
            (
                x
                for x in connections.values()
                if not x.get(CF.CUSTOMER_CODE) and x.get(CF.CUSTOMER_NAME) == record.get(CF.CUSTOMER_NAME)
            ),
            None,
        )
        if twin is None:
            ids = [int(k) for k in connections if str(k).isdigit()] or [900000]
            twin = {CF.CONNECTION_ID: max(ids) + 1, CF.RETAILER_ID: max(ids) + 100001}
            connections[str(twin[CF.CONNECTION_ID])] = twin
        twin.update({k: copy.deepcopy(v) for k, v in record.items() if k not in (CF.CONNECTION_ID, CF.RETAILER_ID)})
        made.append(copy.deepcopy(twin))
    return made
