"""A Brandboom API v2 emulator, written from the API document (shared/seeds/001).

Paths, parameters, headers and field names come from the sandbox's own tables
(``sandbox/brandboom/api.py``), never from the client's contract. Where the document is silent
the choice is marked [INF] there or here.

It behaves as the document describes: every ``/api/`` request is signed (headers, or the same
as query parameters); errors arrive as an envelope ``{"status": "error", "value": ...}`` with
HTTP 200; ``numResults`` / ``resultOffset`` page searches; products/import takes an inline JSON
array or a CSV attachment named ``data`` and skips rows unchanged since the last import unless
``bypassDiff`` is true. In mode split / combine it writes only the columns a row carries (a
product's other columns stay as they are), keeps a price per SKU and price tier, regroups a
style's products as the mode says, and refuses a row on its own (no style, option and size for a
new SKU; a price tier the showrooms do not use), answering each refused row with its message.
Products are suspended or deleted through ``products/{id}``; customers are searched, created
(PUT) and updated (POST ``customers/{id}``) [INF].

``/_sandbox/...`` is not Brandboom's: unauthenticated control endpoints to add orders, read the
status changes and imports the client made, read back the catalog (``products``: every product
with its prices per tier and its SKUs' own) and ``customers``, make a brand's own edit on a
product (``brand-edit``), queue faults (docs/faults.md), and reset. An injected
``auth`` fault answers with the documented "Permission Denied" envelope; listing faults (repeat /
skip / add) disturb the ``orders/search`` listing, adding orders made by ``order_factory``.
"""

from __future__ import annotations

import copy
import csv
import hmac
import io
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog

from sandbox.brandboom import api as c
from sandbox.common import ControlHandlers, Fault, FaultQueue, PartnerSandbox, Request, Response, renamed

log = structlog.get_logger()

# [INF] the doc gives a default page of 300 for products only; orders use the same.
DEFAULT_PAGE = c.MAX_PRODUCTS_PER_PAGE
F, CF, AF, IF = c.OrderField, c.CustomerField, c.AddressField, c.ItemField

Obj = dict[str, Any]


class SandboxError(Exception):
    """A request Brandboom would answer with an error envelope (HTTP 200 unless ``status``)."""

    def __init__(self, message: str, status: int = 200, value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.value = message if value is None else value  # the envelope's value: the message, or more


class BrandboomSandbox(PartnerSandbox):
    """The emulator: in-memory data behind a lock, served on ``host:port`` (0 = a free port)."""

    api_base_path = c.BASE_PATH  # the API base, as a site's base URL: http://127.0.0.1:PORT/api/v2

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_key: str,
        secret_key: str,
        seed: Mapping[str, Any] | None = None,
        max_clock_skew: float = 300,
    ) -> None:
        self.public_key = public_key
        self._secret_key = secret_key
        self.max_clock_skew = max_clock_skew
        self._seed = copy.deepcopy(dict(seed if seed is not None else default_seed()))
        self._lock = threading.RLock()
        self.faults = FaultQueue(auth_response=_denied, is_listing=_is_order_listing)
        # Makes the orders a listing fault adds: n -> n order objects (ids assigned when missing).
        # None: copies of a waiting order with new ids and PO numbers.
        self.order_factory: Callable[[int], list[Obj]] | None = None
        # Top-level order keys served under other names (ours -> theirs), as a partner whose real
        # payload differs from our reading of its document would: {"shipDate": "startShipDate"}.
        self.renamed_keys: dict[str, str] = {}
        # True: GET orders/{id} answers with every order, as a server that ignores the id would.
        self.ignore_order_id = False
        self._showrooms: list[Obj] = []
        self._products: list[Obj] = []
        self._orders: dict[str, Obj] = {}
        self._status_changes: list[Obj] = []
        self._imports: list[Obj] = []
        self._last_import: set[str] = set()  # rows of the last import, for the bypassDiff rule
        self._customers: dict[str, Obj] = {}
        # Price tiers the account's showrooms use: id -> {id, name, currency} (seed "priceTiers",
        # else the ids the showrooms list). [INF] the PriceTiers section was not captured.
        self._price_tiers: dict[int, Obj] = {}
        # Prices per SKU and tier imported in mode split / combine: SKU id -> tier -> {price, MSRP}.
        self._sku_prices: dict[int, dict[int, Obj]] = {}
        self._index: _SkuIndex | None = None
        self._next_order_id = self._next_product_id = self._next_sku_id = self._next_customer_id = 1
        self._load(self._seed)
        self._serve_on(host, port)

    # --- control (Python side of /_sandbox/) -------------------------------------------------
    def reset(self) -> None:
        """Back to the seed: data, recorded changes, imports and queued faults."""
        self.faults.clear()
        self.renamed_keys = {}
        self.ignore_order_id = False
        self._load(self._seed)

    def add_orders(self, orders: Obj | Sequence[Obj]) -> list[str]:
        """Add orders (an id is assigned when missing; status defaults to "export")."""
        batch = [orders] if isinstance(orders, Mapping) else list(orders)
        with self._lock:
            ids = []
            for order in batch:
                order = copy.deepcopy(dict(order))
                if order.get(F.ID) in (None, ""):
                    order[F.ID] = self._next_order_id
                order.setdefault(F.STATUS, c.ORDER_STATUS_EXPORT)
                self._next_order_id = max(self._next_order_id, _int_or(order[F.ID], 0) + 1)
                self._orders[str(order[F.ID])] = order
                ids.append(str(order[F.ID]))
            return ids

    def orders(self) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(list(self._orders.values()))

    def products(self) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(self._products)

    def catalog(self) -> list[Obj]:
        """Every product (deleted ones too, status 2) as stored, with ``prices``: its ProductPrice
        per tier it has a price in, and each SKU's own ``prices`` per tier (``{price, MSRP}``).
        Tier ids are text keys, as JSON has them. Not an API answer: what the account holds."""
        with self._lock:
            shown = []
            for product in self._products:
                view = copy.deepcopy(product)
                view["prices"] = {
                    str(tier): self._product_price(product, tier) for tier in self._price_tiers_of(product)
                }
                for sku in view.get(c.PRODUCT_SKUS, []):
                    own = self._sku_prices.get(_int_or(sku.get(c.SKU_ID), 0), {})
                    sku["prices"] = {str(tier): dict(values) for tier, values in sorted(own.items())}
                shown.append(view)
            return shown

    def edit_product(self, product_id: Any, changes: Any) -> Obj:
        """A brand's own edit on Brandboom's pages, not through the API (so no import diff is
        touched): Product keys set as given, a ``description`` object merged into the product's."""
        if not isinstance(changes, Mapping):
            raise ValueError("expected a JSON object of Product keys")
        with self._lock:
            try:
                product = self._product(str(product_id))
            except SandboxError as exc:
                raise KeyError(exc.message) from None
            for key, value in changes.items():
                if key == c.PRODUCT_DESCRIPTION and isinstance(value, Mapping):
                    product.setdefault(key, _new_description(product[c.PRODUCT_ID])).update(copy.deepcopy(dict(value)))
                elif key not in (c.PRODUCT_ID, c.PRODUCT_SKUS):
                    product[key] = copy.deepcopy(value)
            self._index = None
            return copy.deepcopy(product)

    def customers(self) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(list(self._customers.values()))

    def price_tiers(self) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(list(self._price_tiers.values()))

    def status_changes(self) -> list[Obj]:
        """Every accepted POST orders/{id} status: ``{order_id, status, at}``, oldest first."""
        with self._lock:
            return copy.deepcopy(self._status_changes)

    def imports(self) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(self._imports)

    def inject_fault(
        self,
        status: int | None = None,
        *,
        count: int | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        malformed: bool = False,
        drop: bool = False,
        path: str | None = None,
        **more: Any,
    ) -> Fault:
        """Make the next ``count`` /api/ requests (whose path contains ``path``) misbehave; ``more``
        takes the other :class:`~sandbox.common.Fault` fields (``rate``, ``nth``, ``truncate``,
        ``auth``, ``repeat``, ``skip``, ``add``, ``method``, ``seed``)."""
        return self.faults.inject(
            Fault(
                status=status,
                retry_after=retry_after,
                delay=delay,
                malformed=malformed,
                drop=drop,
                path=path,
                count=count,
                **more,
            )
        )

    # --- HTTP: the API (control endpoints and faults: sandbox.common.PartnerSandbox) -------------
    def _not_found(self, request: Request) -> Response:
        return _envelope("search", f"Unknown path {request.path}", ok=False, status=404)

    def _answer(self, request: Request, listing_fault: Fault | None) -> Response:
        segments = _segments(request)
        method = _envelope_method(request.method, segments)
        if not self._authenticated(request):
            return _envelope(method, c.PERMISSION_DENIED, ok=False)
        try:
            return _envelope(method, self._route(request, segments, listing_fault))
        except SandboxError as exc:
            return _envelope(method, exc.value, ok=False, status=exc.status)

    # --- auth [DOC] --------------------------------------------------------------------------
    def _authenticated(self, request: Request) -> bool:
        key, timestamp, signature = (
            _credential(request, name) for name in (c.HEADER_KEY, c.HEADER_TIMESTAMP, c.HEADER_SIGNATURE)
        )
        if not (key and timestamp and signature) or not _same(key, self.public_key):
            return False
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            return False
        expected = c.signature(self.public_key, self._secret_key, timestamp)
        return skew <= self.max_clock_skew and _same(signature.upper(), expected)

    # --- routing -----------------------------------------------------------------------------
    def _route(self, request: Request, segments: list[str], listing_fault: Fault | None = None) -> Any:
        if not segments:
            raise SandboxError("No API model given", status=404)
        model, rest = segments[0], segments[1:]
        explicit = rest[0] if rest else None
        params = request.params()
        # An explicit "search" works with any verb (the doc's PHP example POSTs orders/search).
        searching = explicit == c.METHOD_SEARCH or (explicit is None and request.method == "GET")
        by_id = explicit not in (None, c.METHOD_SEARCH, c.METHOD_IMPORT)
        if model == c.ORDERS:
            if searching:
                return self._search_orders(params, listing_fault)
            if by_id and request.method == "GET":
                return self._search_orders({**params, F.ID: None if self.ignore_order_id else explicit})
            if by_id and request.method in ("POST", "PUT"):  # the doc names both for update
                return self._update_order(str(explicit), params)
        elif model == c.SHOWROOMS and (searching or (by_id and request.method == "GET")):
            return self._search_showrooms(explicit if by_id else params.get(c.P_SHOWROOM_ID))
        elif model == c.PRODUCTS:
            if explicit == c.METHOD_IMPORT and request.method in ("POST", "PUT"):
                return self._import_products(request, params)
            if searching:
                return self._search_products(params)
            if by_id and request.method == "GET":
                return self._search_products({**params, c.P_PRODUCT_ID: explicit})
            if by_id and request.method in ("POST", "PUT"):  # the doc names both for update
                return self._update_product(str(explicit), params)
            if by_id and request.method == "DELETE":
                return self._delete_product(str(explicit))
        elif model == c.CUSTOMERS:
            if searching:
                return self._search_customers(params)
            if by_id and request.method == "GET":
                with self._lock:
                    found = [copy.deepcopy(self._customers[str(explicit)])] if str(explicit) in self._customers else []
                return {c.R_TOTAL: len(found), c.R_CUSTOMERS: found}
            if explicit is None and request.method in ("PUT", "POST"):  # create: the doc names both
                return self._create_customer(params)
            if by_id and request.method in ("POST", "PUT"):
                return self._update_customer(str(explicit), params)
        raise SandboxError(f"Unknown API method {request.method} {'/'.join(segments)}", status=404)

    # --- orders [INF] ------------------------------------------------------------------------
    def _search_orders(self, params: Mapping[str, Any], listing_fault: Fault | None = None) -> Obj:
        status, order_id = params.get(c.P_STATUS), params.get(F.ID)
        with self._lock:
            if listing_fault is not None:
                self._disturb_listing(listing_fault, status)
            found = [
                o
                for o in self._orders.values()
                if (status in (None, "") or o.get(F.STATUS) == status)
                and (order_id is None or str(o.get(F.ID)) == str(order_id))
            ]
            value = _page(found, params, c.R_ORDERS, all_when_zero=True)
            if self.renamed_keys:
                value[c.R_ORDERS] = [renamed(o, self.renamed_keys) for o in value[c.R_ORDERS]]
            return value

    def _disturb_listing(self, fault: Fault, status: Any) -> None:
        """A listing fault (sandbox.common.Fault): orders added at the front, moved from the front
        to the end, or added at the end of the listing, just before a page is served."""
        if fault.repeat:
            ids = self.add_orders(self._made_orders(fault.repeat))
            self._orders = {
                **{i: self._orders[i] for i in ids},
                **{k: v for k, v in self._orders.items() if k not in ids},
            }
        if fault.skip:
            front = [k for k, o in self._orders.items() if status in (None, "") or o.get(F.STATUS) == status][
                : fault.skip
            ]
            for key in front:
                self._orders[key] = self._orders.pop(key)
        if fault.add:
            self.add_orders(self._made_orders(fault.add))

    def _made_orders(self, n: int) -> list[Obj]:
        if self.order_factory is not None:
            return list(self.order_factory(n))
        waiting = [o for o in self._orders.values() if o.get(F.STATUS) == c.ORDER_STATUS_EXPORT]
        template = (waiting or list(self._orders.values()) or [{}])[-1]
        made = []
        for k in range(n):
            order = {key: copy.deepcopy(v) for key, v in template.items() if key != F.ID}
            order[F.PO_NUMBER] = f"{template.get(F.PO_NUMBER) or 'PO'}-{self._next_order_id + k}"
            order[F.STATUS] = c.ORDER_STATUS_EXPORT
            made.append(order)
        return made

    def _update_order(self, order_id: str, params: Mapping[str, Any]) -> Obj:
        status = params.get(c.P_STATUS)
        if status not in c.ORDER_UPDATE_STATUSES:
            raise SandboxError(f"Invalid status {status!r}; expected one of {', '.join(c.ORDER_UPDATE_STATUSES)}")
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise SandboxError(f"Order {order_id} not found")
            order[F.STATUS] = status
            self._status_changes.append({"order_id": order_id, "status": status, "at": _now()})
            return copy.deepcopy(order)

    # --- showrooms [DOC] ---------------------------------------------------------------------
    def _search_showrooms(self, ids: Any) -> Obj:
        wanted = _split(ids, ",")
        with self._lock:
            found = [s for s in self._showrooms if not wanted or str(s.get(c.SHOWROOM_ID)) in wanted]
            return {c.R_SHOWROOMS: copy.deepcopy(found)}

    # --- products [DOC] ----------------------------------------------------------------------
    def _search_products(self, params: Mapping[str, Any]) -> Obj:
        tier = _tier_or_none(params.get(c.P_PRICE_TIER_ID))
        with self._lock:
            matches = self._product_filter(params)
            found = [p for p in self._products if p.get(c.PRODUCT_STATUS) != c.PRODUCT_DELETED and matches(p)]
            value = _page(found, params, c.R_PRODUCTS, all_when_zero=False)
            by_id = {p[c.PRODUCT_ID]: p for p in found}
            for served in value[c.R_PRODUCTS]:
                price = self._product_price(by_id[served[c.PRODUCT_ID]], tier)
                if price is not None:
                    served[c.PRODUCT_PRICE] = price
            return value

    def _product_filter(self, params: Mapping[str, Any]) -> Callable[[Obj], bool]:
        """The products/search filters [DOC], each list parsed once for the whole search."""
        brand_ids = set(_split(params.get(c.P_BRAND_ID), ","))
        showroom_ids = _split(params.get(c.P_SHOWROOM_ID), ",")
        if showroom_ids:
            # [INF] products carry no showroom list; a showroom shows its brand's products.
            brand_ids |= {
                str(s.get(c.SHOWROOM_BRAND_ID)) for s in self._showrooms if str(s.get(c.SHOWROOM_ID)) in showroom_ids
            }
            if not brand_ids:
                raise SandboxError(f"Invalid showroomID {params.get(c.P_SHOWROOM_ID)}")
        product_ids = set(_split(params.get(c.P_PRODUCT_ID), ","))
        styles = set(_split(params.get(c.P_STYLE_NUMBERS), "^"))
        tier = _tier_or_none(params.get(c.P_PRICE_TIER_ID))

        def matches(product: Obj) -> bool:
            return (
                (not brand_ids or str(product.get(c.PRODUCT_BRAND_ID)) in brand_ids)
                and (not product_ids or str(product.get(c.PRODUCT_ID)) in product_ids)
                and (not styles or str(product.get(c.PRODUCT_STYLE_NUMBER)) in styles)
                # [INF] a tier filter keeps the products priced in it (and those priced in none)
                and (
                    tier is None or not self._price_tiers_of(product) or self._product_price(product, tier) is not None
                )
            )

        return matches

    def _price_tiers_of(self, product: Obj) -> list[int]:
        """The tiers a product has a price in: its stored ProductPrice's, and its SKUs' own."""
        tiers = {
            t
            for sku in product.get(c.PRODUCT_SKUS, [])
            for t in self._sku_prices.get(_int_or(sku.get(c.SKU_ID), 0), {})
        }
        stored = product.get(c.PRODUCT_PRICE)
        if isinstance(stored, dict) and _tier_or_none(stored.get(c.PRICE_TIER)) is not None:
            tiers.add(_int_or(stored.get(c.PRICE_TIER), 0))
        return sorted(tiers)

    def _product_price(self, product: Obj, tier: int | None) -> Obj | None:
        """The ProductPrice in ``tier`` [DOC]: from the prices its SKUs were imported with (price =
        the lowest, priceRange = [min] or [min, max]), else the stored one when it is that tier's.
        No tier: the stored one's tier, else the lowest tier the product has a price in."""
        stored = product.get(c.PRODUCT_PRICE)
        stored_tier = _tier_or_none(stored.get(c.PRICE_TIER)) if isinstance(stored, dict) else None
        if tier is None:
            tiers = self._price_tiers_of(product)
            tier = stored_tier if stored_tier is not None else (tiers[0] if tiers else None)
            if tier is None:
                return None
        own = [
            self._sku_prices[sku_id][tier]
            for sku in product.get(c.PRODUCT_SKUS, [])
            if tier in self._sku_prices.get(sku_id := _int_or(sku.get(c.SKU_ID), 0), {})
        ]
        priced = [p for p in own if p.get(c.PRICE_PRICE) is not None]
        if not priced:
            return copy.deepcopy(stored) if stored_tier == tier else None
        low = min(priced, key=lambda p: p[c.PRICE_PRICE])
        high = max(p[c.PRICE_PRICE] for p in priced)
        msrp = low.get(c.PRICE_MSRP)
        if msrp is None and stored_tier == tier:
            msrp = stored.get(c.PRICE_MSRP) if isinstance(stored, dict) else None
        return {
            c.PRODUCT_ID: product.get(c.PRODUCT_ID),
            c.PRICE_TIER: tier,
            c.PRICE_CURRENCY: self._price_tiers.get(tier, {}).get(c.PRICE_CURRENCY),
            c.PRICE_MSRP: msrp,
            c.PRICE_PRICE: low[c.PRICE_PRICE],
            c.PRICE_DISCOUNT: 0,
            c.PRICE_RANGE: [low[c.PRICE_PRICE]] if high == low[c.PRICE_PRICE] else [low[c.PRICE_PRICE], high],
            "currentClass": "ProductPrice",
        }

    def _update_product(self, product_id: str, params: Mapping[str, Any]) -> Obj:
        """[INF] POST products/{id} (the doc's REST table: update): the Product's ``status``
        (0 active, 1 suspended, 2 deleted [DOC]); the other keys are changed by products/import."""
        with self._lock:
            product = self._product(product_id)
            if c.PRODUCT_STATUS in params:
                status = _int_or(params[c.PRODUCT_STATUS], -1)
                if status not in c.PRODUCT_STATUSES:
                    raise SandboxError(
                        f"Invalid status {params[c.PRODUCT_STATUS]!r}; expected 0 (active), 1 (suspended) or 2 (deleted)"
                    )
                self._set_status(product, status)
            return copy.deepcopy(product)

    def _delete_product(self, product_id: str) -> Obj:
        """DELETE products/{id} [DOC]: the product is marked deleted (status 2) with its SKUs, and
        no longer listed. [INF] a later import of its SKUs makes a new product."""
        with self._lock:
            product = self._product(product_id)
            self._set_status(product, c.PRODUCT_DELETED)
            self._index = None
            return {c.PRODUCT_ID: product[c.PRODUCT_ID], c.PRODUCT_STATUS: c.PRODUCT_DELETED}

    def _product(self, product_id: str) -> Obj:
        for product in self._products:
            if str(product.get(c.PRODUCT_ID)) == str(product_id) and product.get(c.PRODUCT_STATUS) != c.PRODUCT_DELETED:
                return product
        raise SandboxError(f"Product {product_id} not found")

    def _set_status(self, product: Obj, status: int) -> None:
        product[c.PRODUCT_STATUS] = status
        product["dateModified"] = _now()
        for sku in product.get(c.PRODUCT_SKUS, []):
            sku[c.SKU_IS_DELETED] = status == c.PRODUCT_DELETED
            sku[c.SKU_IS_ACTIVE] = status == c.PRODUCT_ACTIVE

    def _import_products(self, request: Request, params: Mapping[str, Any]) -> Obj:
        mode = str(params.get(c.P_MODE) or "").lower()  # the doc's PHP example sends "COMBINE"
        if mode not in c.IMPORT_MODES:
            raise SandboxError(f"Invalid mode {params.get(c.P_MODE)!r}; expected split, combine or inventory")
        rows = _import_rows(request, params)
        bypass = str(params.get(c.P_BYPASS_DIFF, "")).lower() == "true"
        keys = [json.dumps(row, sort_keys=True, default=str) for row in rows]
        with self._lock:
            # [DOC] without bypassDiff, "only rows that weren't included in the last immediate
            # API import would be processed"; a bad inventory count fails the whole import.
            todo = {
                index: _with_inventory_values(row)
                for index, (row, key) in enumerate(zip(rows, keys, strict=True))
                if bypass or key not in self._last_import
            }
            summary = self._apply_rows(mode, todo, rows, params)
            refused = {e[c.ERROR_ROW] for e in summary[c.R_ERRORS]}
            # [INF] a refused row was not imported: the same row sent again is processed again.
            self._last_import = {key for index, key in enumerate(keys) if index not in refused}
            summary.update(
                {
                    c.R_NUM_ROWS: len(rows),
                    c.R_NUM_SKIPPED: len(rows) - len(todo),
                    c.R_SKIPPED: [index for index in range(len(rows)) if index not in todo],
                }
            )
            self._imports.append(
                {
                    "at": _now(),
                    "mode": mode,
                    "bypassDiff": bypass,
                    "brandID": params.get(c.P_BRAND_ID),
                    "showroomID": params.get(c.P_SHOWROOM_ID),
                    "rows": rows,
                    "summary": dict(summary),
                }
            )
            if todo and len(refused) == len(todo):
                # [INF] nothing taken: the documented error envelope ("false" or "error", HTTP
                # 200) whose value is "the error messages": here the same answer, rows and all.
                raise SandboxError("Every row was refused", value=summary)
            return summary

    def _apply_rows(self, mode: str, todo: Mapping[int, Obj], rows: Sequence[Obj], params: Mapping[str, Any]) -> Obj:
        """Inventory mode updates matching SKUs only; split and combine also create unknown ones
        and write the product columns a row carries (and nothing else). Each row is taken or
        refused whole (a refused row changes nothing); row numbers count the rows sent."""
        index = self._sku_index()
        updated, created, not_found, errors = 0, 0, [], []
        touched: set[str] = set()
        for number, row in todo.items():
            if mode == c.MODE_INVENTORY:
                skus = index.match(row) if _has_sku_key(row) else []
                for sku in skus:
                    _apply_sku_columns(sku, row, inventory_only=True)
                updated += len(skus)
                if not skus:
                    not_found.append(number)
                continue
            try:
                prices = self._row_prices(row)
                product_columns = _product_columns(row)
                skus = index.match(row)
                if not skus:
                    missing = [k for k in (c.ROW_STYLE_NUMBER, c.ROW_OPTION_CODE, c.ROW_SIZE) if not row.get(k)]
                    if missing:
                        known = f"no SKU has skuNumber {row[c.ROW_SKU_NUMBER]!r}; " if row.get(c.ROW_SKU_NUMBER) else ""
                        raise SandboxError(
                            f"{known}{', '.join(missing)} missing: a new SKU needs styleNumber, optionCode and size"
                        )
                    skus = [self._create_sku(mode, row, index, params)]
                    created += 1
                else:
                    updated += len(skus)
            except SandboxError as exc:
                errors.append({c.ERROR_ROW: number, c.ERROR_MESSAGE: exc.message})
                continue
            for sku in skus:
                _apply_sku_columns(sku, row, inventory_only=False)
                index.renumbered(sku)
                mine = self._sku_prices.setdefault(_int_or(sku.get(c.SKU_ID), 0), {})
                for tier, values in prices.items():
                    mine.setdefault(tier, {}).update(values)
                product = index.product_of(sku)
                if product is not None:
                    _apply_product_columns(product, sku, product_columns)
                    touched.add(str(product.get(c.PRODUCT_STYLE_NUMBER)))
        if mode != c.MODE_INVENTORY:
            regrouped = [self._regroup(mode, list(index.products_of(style))) for style in sorted(touched)]
            if any(regrouped):
                self._index = None  # products merged or split: filed again on the next look-up
        index = self._sku_index()
        product_ids = []
        for row in rows:
            found = index.match(row) if _has_sku_key(row) else []
            product = index.product_of(found[0]) if found else None
            product_ids.append(product.get(c.PRODUCT_ID) if product is not None else None)
        return {
            "mode": mode,
            c.R_NUM_PROCESSED: len(todo),
            c.R_NUM_UPDATED: updated,
            c.R_NUM_CREATED: created,
            c.R_NOT_FOUND: not_found,
            c.R_ERRORS: errors,
            c.R_PRODUCT_IDS: product_ids,
        }

    def _row_prices(self, row: Obj) -> dict[int, Obj]:
        """The row's price columns per tier (``price:1548``, ``MSRP:1548``), each tier one the
        account's showrooms use; a column naming another tier, or a price that is not a number,
        refuses the row."""
        prices: dict[int, Obj] = {}
        for column, value in row.items():
            for prefix, key in _PRICE_PREFIXES:
                if not column.startswith(prefix):
                    continue
                tier = _tier_or_none(column[len(prefix) :])
                if tier is None or tier not in self._price_tiers:
                    known = ", ".join(str(t) for t in sorted(self._price_tiers)) or "none"
                    raise SandboxError(
                        f"Unknown price tier {column[len(prefix) :]!r} in column {column!r} (price tiers: {known})"
                    )
                prices.setdefault(tier, {})[key] = _price(column, value)
        return prices

    def _create_sku(self, mode: str, row: Obj, index: _SkuIndex, params: Mapping[str, Any]) -> Obj:
        """combine: one product per style; split: one per style and option. [DOC] modes."""
        style, option, size = (str(row.get(k) or "") for k in (c.ROW_STYLE_NUMBER, c.ROW_OPTION_CODE, c.ROW_SIZE))
        product = next(
            (p for p in index.products_of(style) if mode != c.MODE_SPLIT or p.get(c.PRODUCT_OPTIONS) == [option]),
            None,
        )
        if product is None:
            product = self._new_product(style, self._brand_of(params))
            self._products.append(product)
            index.add_product(product)
        for key, value in ((c.PRODUCT_OPTIONS, option), (c.PRODUCT_SIZES, size)):
            if value not in product[key]:
                product[key].append(value)
        sku = {
            c.SKU_ID: self._next_sku_id,
            c.SKU_STYLE_NUMBER: style,
            c.SKU_OPTION: option,
            c.SKU_SIZE: size,
            c.SKU_NUMBER: str(row.get(c.ROW_SKU_NUMBER) or ""),
            c.SKU_UPC: "",
            c.SKU_INVENTORY_COUNT: None,
            c.SKU_FUTURE_INVENTORY_COUNT: None,
            c.SKU_FUTURE_INVENTORY_DATE: None,
            c.SKU_IS_DELETED: False,
            c.SKU_IS_ACTIVE: True,
        }
        self._next_sku_id += 1
        product[c.PRODUCT_SKUS].append(sku)
        index.add_sku(sku, product)
        return sku

    def _new_product(self, style: str, brand_id: Any) -> Obj:
        product_id = self._next_product_id
        self._next_product_id += 1
        return {
            c.PRODUCT_ID: product_id,
            c.PRODUCT_BRAND_ID: brand_id,
            c.PRODUCT_STYLE_NUMBER: style,
            c.PRODUCT_OPTIONS: [],
            c.PRODUCT_SIZES: [],
            c.PRODUCT_CATEGORY: [],
            c.PRODUCT_TYPES: [],
            c.PRODUCT_REFERENCE_NAME: "",
            c.PRODUCT_STATUS: c.PRODUCT_ACTIVE,
            c.PRODUCT_DESCRIPTION: _new_description(product_id),
            c.PRODUCT_SKUS: [],
            "dateCreated": _now(),
            "dateModified": _now(),
            "currentClass": "Product",
        }

    def _brand_of(self, params: Mapping[str, Any]) -> Any:
        """The brand a new product belongs to: the import's brandID, else its showroom's brand,
        else the brand of the first showroom. [INF]"""
        brand = _int_or(params.get(c.P_BRAND_ID), 0)
        if brand:
            return brand
        wanted = str(params.get(c.P_SHOWROOM_ID) or "")
        for showroom in self._showrooms:
            if not wanted or str(showroom.get(c.SHOWROOM_ID)) == wanted:
                return showroom.get(c.SHOWROOM_BRAND_ID)
        return None

    def _regroup(self, mode: str, products: list[Obj]) -> bool:
        """After an import in ``mode``, a style's products (not deleted) as the mode keeps them
        [DOC]: combine, one product holding every option (the others merged into the first);
        split, one product per option (the product columns copied to each new one). True when
        products were merged or split."""
        if mode == c.MODE_COMBINE:
            if len(products) < 2:
                return False
            keep = products[0]
            names = keep.setdefault(c.PRODUCT_DESCRIPTION, _new_description(keep[c.PRODUCT_ID]))
            for other in products[1:]:
                keep[c.PRODUCT_SKUS].extend(other.get(c.PRODUCT_SKUS, []))
                theirs = (other.get(c.PRODUCT_DESCRIPTION) or {}).get(c.DESCRIPTION_OPTIONS_TRANSLATION) or {}
                names.setdefault(c.DESCRIPTION_OPTIONS_TRANSLATION, {}).update(theirs)
                self._products = [p for p in self._products if p is not other]
            _refresh_options(keep)
            return True
        changed = False
        for product in list(products):
            options = list(dict.fromkeys(str(s.get(c.SKU_OPTION)) for s in product.get(c.PRODUCT_SKUS, [])))
            for option in options[1:]:
                split = copy.deepcopy({k: v for k, v in product.items() if k != c.PRODUCT_SKUS})
                split[c.PRODUCT_ID] = self._next_product_id
                self._next_product_id += 1
                if isinstance(split.get(c.PRODUCT_DESCRIPTION), dict):
                    split[c.PRODUCT_DESCRIPTION][c.PRODUCT_ID] = split[c.PRODUCT_ID]
                if isinstance(split.get(c.PRODUCT_PRICE), dict):
                    split[c.PRODUCT_PRICE][c.PRODUCT_ID] = split[c.PRODUCT_ID]
                split[c.PRODUCT_SKUS] = [s for s in product[c.PRODUCT_SKUS] if str(s.get(c.SKU_OPTION)) == option]
                _refresh_options(split)
                self._products.append(split)
            if len(options) > 1:
                product[c.PRODUCT_SKUS] = [s for s in product[c.PRODUCT_SKUS] if str(s.get(c.SKU_OPTION)) == options[0]]
                _refresh_options(product)
                changed = True
        return changed

    def _sku_index(self) -> _SkuIndex:
        """The SKU index, kept between imports (an import of n rows costs n look-ups, not a pass
        over the whole catalog); dropped when products are merged, split, deleted or edited."""
        if self._index is None:
            self._index = _SkuIndex(self._products)
        return self._index

    # --- customers [CODE] search, [INF] the rest (partners/README 2.4) ---------------------------
    def _search_customers(self, params: Mapping[str, Any]) -> Obj:
        since = str(params.get(c.P_DATE_MODIFIED) or "")
        with self._lock:
            found = [
                customer
                for customer in self._customers.values()
                if not since or str(customer.get(c.CustomerField.DATE_MODIFIED) or "") >= since
            ]
            return _page(found, params, c.R_CUSTOMERS, all_when_zero=False)

    def _create_customer(self, params: Mapping[str, Any]) -> Obj:
        fields = _customer_fields(params)
        for key, what in ((c.CustomerField.CODE, "code"), (c.CustomerField.NAME, "name")):
            if not str(fields.get(key) or "").strip():
                raise SandboxError(f"Customer {what} is required")
        with self._lock:
            code = str(fields[c.CustomerField.CODE])
            for customer in self._customers.values():
                if str(customer.get(c.CustomerField.CODE)) == code:
                    raise SandboxError(
                        f"A customer with code {code} already exists (id {customer[c.CustomerField.ID]})"
                    )
            customer = {c.CustomerField.ID: self._next_customer_id, c.CustomerField.ADDRESSES: [], **fields}
            customer[c.CustomerField.DATE_CREATED] = customer[c.CustomerField.DATE_MODIFIED] = _now()
            self._next_customer_id += 1
            self._customers[str(customer[c.CustomerField.ID])] = customer
            return copy.deepcopy(customer)

    def _update_customer(self, customer_id: str, params: Mapping[str, Any]) -> Obj:
        fields = _customer_fields(params)
        with self._lock:
            customer = self._customers.get(customer_id)
            if customer is None:
                raise SandboxError(f"Customer {customer_id} not found")
            for key in (c.CustomerField.CODE, c.CustomerField.NAME):
                if key in fields and not str(fields[key] or "").strip():
                    raise SandboxError(f"Customer {key} cannot be blank")
            code = fields.get(c.CustomerField.CODE)
            if code is not None and any(
                str(other.get(c.CustomerField.CODE)) == str(code) and other is not customer
                for other in self._customers.values()
            ):
                raise SandboxError(f"A customer with code {code} already exists")
            customer.update(fields)
            customer[c.CustomerField.DATE_MODIFIED] = _now()
            return copy.deepcopy(customer)

    # --- /_sandbox/ (beside health, faults and reset) --------------------------------------------
    def health(self, request: Request) -> Obj:
        return {"ok": True, "orders": len(self._orders), "products": len(self._products)}

    def _control_handlers(self, request: Request, action: str) -> ControlHandlers:
        return {
            ("POST", "orders"): lambda: {"ids": self.add_orders(_json_objects(request.json))},
            ("GET", "orders"): self.orders,
            ("GET", "status-changes"): self.status_changes,
            ("GET", "imports"): self.imports,
            ("GET", "products"): self.catalog,
            ("GET", "customers"): self.customers,
            ("GET", "price-tiers"): self.price_tiers,
            ("POST", "brand-edit"): lambda: self.edit_product(
                (request.json or {}).get(c.PRODUCT_ID), (request.json or {}).get("changes")
            ),
        }

    def _load(self, seed: Mapping[str, Any]) -> None:
        with self._lock:
            self._showrooms = copy.deepcopy(list(seed.get("showrooms", [])))
            self._products = copy.deepcopy(list(seed.get("products", [])))
            self._orders = {}
            self._status_changes = []
            self._imports = []
            self._last_import = set()
            self._sku_prices = {}
            self._index = None
            self._customers = {}
            self._next_customer_id = 1
            self._price_tiers = _price_tiers(seed, self._showrooms, self._products)
            self._next_order_id = 1
            self._next_product_id = 1 + max((_int_or(p.get(c.PRODUCT_ID), 0) for p in self._products), default=0)
            self._next_sku_id = 1 + max(
                (_int_or(s.get(c.SKU_ID), 0) for p in self._products for s in p.get(c.PRODUCT_SKUS, [])), default=0
            )
            self.add_orders(list(seed.get("orders", [])))
            for customer in copy.deepcopy(list(seed.get("customers", []))):
                customer.setdefault(c.CustomerField.ID, self._next_customer_id)
                self._next_customer_id = max(self._next_customer_id, _int_or(customer[c.CustomerField.ID], 0) + 1)
                self._customers[str(customer[c.CustomerField.ID])] = customer


def serve(
    host: str = "127.0.0.1",
    port: int = 8801,
    *,
    public_key: str,
    secret_key: str,
    seed: Mapping[str, Any] | None = None,
) -> None:
    """Run a sandbox in the foreground until interrupted (``bobbin sandbox`` calls this)."""
    sandbox = BrandboomSandbox(host, port, public_key=public_key, secret_key=secret_key, seed=seed)
    log.info("sandbox_listening", partner=c.PARTNER, url=sandbox.url)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        log.info("sandbox_stopped", partner=c.PARTNER)


# --- helpers -----------------------------------------------------------------------------------
def _segments(request: Request) -> list[str]:
    return [s for s in request.path[len(c.BASE_PATH) :].split("/") if s]


def _is_order_listing(request: Request) -> bool:
    """orders/search (any verb), or GET orders: the requests a listing fault disturbs."""
    segments = _segments(request)
    return segments[:1] == [c.ORDERS] and (
        segments[1:] == [c.METHOD_SEARCH] or (len(segments) == 1 and request.method == "GET")
    )


def _denied(request: Request) -> Response:
    """An injected wrong-signature fault: the documented "Permission Denied" envelope."""
    return _envelope(_envelope_method(request.method, _segments(request)), c.PERMISSION_DENIED, ok=False)


def _envelope(method: str, value: Any, *, ok: bool = True, status: int = 200) -> Response:
    """[DOC] {method, status, value, type}; [INF] success sends JSON true, errors "error"."""
    return Response.json(
        {
            c.ENV_METHOD: method,
            c.ENV_STATUS: True if ok else c.STATUS_ERROR,
            c.ENV_VALUE: value,
            c.ENV_TYPE: c.TYPE_JSON,
        },
        status=status,
    )


def _envelope_method(verb: str, segments: list[str]) -> str:
    """The URL's {method} segment when present, else the one the doc implies from the verb."""
    if len(segments) > 1 and segments[1] in (c.METHOD_SEARCH, c.METHOD_IMPORT):
        return segments[1]
    if verb == "GET":
        return c.METHOD_SEARCH
    if verb == "DELETE":
        return c.METHOD_DELETE
    return c.METHOD_UPDATE if len(segments) > 1 else c.METHOD_CREATE


def _credential(request: Request, header: str) -> str | None:
    """A credential from its header, else from the query string under either name. [DOC]"""
    value = request.headers.get(header)
    if value:
        return str(value).strip()
    for name in c.QUERY_AUTH_ALIASES[header]:
        if request.query.get(name):
            return request.query[name].strip()
    return None


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also copes with non-ASCII header text."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _page(items: list[Obj], params: Mapping[str, Any], key: str, *, all_when_zero: bool) -> Obj:
    """numResults / resultOffset paging; value ``{"totolNumResults": N, key: [...]}``."""
    size = _int_param(params, c.P_NUM_RESULTS, DEFAULT_PAGE)
    offset = _int_param(params, c.P_RESULT_OFFSET, 0)
    if size <= 0:
        size = len(items) if all_when_zero else DEFAULT_PAGE
    if not all_when_zero:
        size = min(size, c.MAX_PRODUCTS_PER_PAGE)
    return {c.R_TOTAL: len(items), key: copy.deepcopy(items[max(offset, 0) : max(offset, 0) + size])}


def _int_param(params: Mapping[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SandboxError(f"Invalid {name} {value!r}") from None


def _import_rows(request: Request, params: Mapping[str, Any]) -> list[Obj]:
    """``data`` as a CSV attachment, an inline JSON array (form field or JSON body). [DOC]"""
    upload = request.files.get(c.P_DATA)
    if upload is not None:
        if (
            upload.filename
            and not upload.filename.lower().endswith(".csv")
            and upload.content_type != c.CSV_CONTENT_TYPE
        ):
            raise SandboxError("The sandbox reads CSV attachments only")
        text = upload.content.decode("utf-8-sig", "replace")
        # A blank cell is a column not sent, so it overwrites nothing. [INF]
        return [
            {k: v for k, v in row.items() if k is not None and v not in ("", None)}
            for row in csv.DictReader(io.StringIO(text))
        ]
    data = params.get(c.P_DATA)
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise SandboxError("data is not a JSON array") from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise SandboxError("data must be an array of objects or a CSV attachment")
    return data


def _apply_sku_columns(sku: Obj, row: Obj, *, inventory_only: bool) -> None:
    """Overwrite only the columns the row carries (the doc: leave out what must not change)."""
    for column in c.INVENTORY_COLUMNS:
        if column in row:
            sku[column] = row[column]
    if any(column in row for column in c.INVENTORY_COLUMNS):
        sku[c.SKU_DATE_INVENTORY_MODIFIED] = _now()
    if not inventory_only:
        for column in (c.ROW_SKU_NUMBER, c.ROW_UPC):
            if column in row:
                sku[column] = str(row[column])


# The price columns' names up to the tier id ("price:", "MSRP:"), with the ProductPrice key each sets.
_PRICE_PREFIXES = ((c.ROW_PRICE.split("{", 1)[0], c.PRICE_PRICE), (c.ROW_MSRP.split("{", 1)[0], c.PRICE_MSRP))


class _SkuIndex:
    """The SKUs of products not deleted, by skuNumber and by style + option + size, with the
    product of each: built once per import, so n rows cost n look-ups, not n scans."""

    def __init__(self, products: Iterable[Obj]) -> None:
        self._by_number: dict[str, list[Obj]] = {}
        self._by_sos: dict[tuple[str, str, str], list[Obj]] = {}
        self._product: dict[int, Obj] = {}  # id(sku) -> its product
        self._filed: dict[int, str] = {}  # id(sku) -> the skuNumber it is filed under
        self._styles: dict[str, list[Obj]] = {}
        for product in products:
            if product.get(c.PRODUCT_STATUS) == c.PRODUCT_DELETED:
                continue
            self.add_product(product)
            for sku in product.get(c.PRODUCT_SKUS, []):
                self.add_sku(sku, product)

    def add_product(self, product: Obj) -> None:
        self._styles.setdefault(str(product.get(c.PRODUCT_STYLE_NUMBER)), []).append(product)

    def products_of(self, style: str) -> list[Obj]:
        return self._styles.get(style, [])

    def add_sku(self, sku: Obj, product: Obj) -> None:
        self._product[id(sku)] = product
        self._by_sos.setdefault(_sos(sku), []).append(sku)
        number = str(sku.get(c.SKU_NUMBER) or "")
        self._filed[id(sku)] = number
        if number:
            self._by_number.setdefault(number, []).append(sku)

    def renumbered(self, sku: Obj) -> None:
        """File the SKU under its skuNumber again after an import changed it."""
        old, new = self._filed.get(id(sku), ""), str(sku.get(c.SKU_NUMBER) or "")
        if old == new:
            return
        if old:
            self._by_number[old] = [s for s in self._by_number.get(old, []) if s is not sku]
        if new:
            self._by_number.setdefault(new, []).append(sku)
        self._filed[id(sku)] = new

    def match(self, row: Obj) -> list[Obj]:
        """By skuNumber, else by styleNumber + optionCode + size [DOC]: a SKU made on Brandboom
        by hand (no skuNumber yet) is found by its style, option and size, not made twice."""
        number = str(row.get(c.ROW_SKU_NUMBER) or "")
        found = list(self._by_number.get(number, [])) if number else []
        if found or not all(row.get(k) for k in (c.ROW_STYLE_NUMBER, c.ROW_OPTION_CODE, c.ROW_SIZE)):
            return found
        key = (str(row[c.ROW_STYLE_NUMBER]), str(row[c.ROW_OPTION_CODE]), str(row[c.ROW_SIZE]))
        return list(self._by_sos.get(key, []))

    def product_of(self, sku: Obj) -> Obj | None:
        return self._product.get(id(sku))


def _sos(sku: Obj) -> tuple[str, str, str]:
    return (str(sku.get(c.SKU_STYLE_NUMBER)), str(sku.get(c.SKU_OPTION)), str(sku.get(c.SKU_SIZE)))


def _has_sku_key(row: Obj) -> bool:
    """[DOC] "at least the Style Number, Option Code, Size or the SKU Number"."""
    return bool(row.get(c.ROW_SKU_NUMBER)) or all(
        row.get(k) for k in (c.ROW_STYLE_NUMBER, c.ROW_OPTION_CODE, c.ROW_SIZE)
    )


def _tier_or_none(value: Any) -> int | None:
    try:
        tier = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return tier if tier > 0 else None


def _price(column: str, value: Any) -> int | float | None:
    """A price cell as a JSON number (whole numbers as int, as the doc's examples show them);
    blank is no price."""
    if value is None or str(value).strip() == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise SandboxError(f"Invalid price {value!r} in column {column!r}") from None
    if not number.is_finite() or number < 0:
        raise SandboxError(f"Invalid price {value!r} in column {column!r}")
    return int(number) if number == number.to_integral_value() else float(number)


def _product_columns(row: Obj) -> Obj:
    """The product columns a row carries, parsed; a bad value refuses the row."""
    columns: Obj = {}
    for column in (*c.PRODUCT_COLUMNS, c.ROW_OPTION_NAME):
        if column not in row or row[column] is None:
            continue
        value = row[column]
        if column in (c.ROW_SEASON, c.ROW_CATEGORY, c.ROW_TYPES):
            columns[column] = value if isinstance(value, list) else _split(value, c.ROW_LIST_SEPARATOR)
        elif column == c.ROW_MIN_QTY:
            try:
                columns[column] = int(float(value))
            except (TypeError, ValueError):
                raise SandboxError(f"Invalid {column} {value!r}") from None
        else:
            columns[column] = str(value)
    return columns


def _new_description(product_id: Any) -> Obj:
    """[DOC] a ProductDescription, empty, in English."""
    return {
        c.PRODUCT_ID: product_id,
        "language": "en",
        c.DESCRIPTION_NAME: "",
        c.DESCRIPTION_TEXT: "",
        c.DESCRIPTION_SEASON: [],
        c.DESCRIPTION_OPTIONS: [],
        c.DESCRIPTION_OPTIONS_TRANSLATION: {},
        "type": "I",
    }


def _apply_product_columns(product: Obj, sku: Obj, columns: Obj) -> None:
    """Write the product columns the row carried (only those) onto the SKU's product."""
    if not columns:
        return
    description = product.get(c.PRODUCT_DESCRIPTION)
    if not isinstance(description, dict):
        description = product[c.PRODUCT_DESCRIPTION] = _new_description(product.get(c.PRODUCT_ID))
    for column, value in columns.items():
        if column == c.ROW_NAME:
            product[c.PRODUCT_REFERENCE_NAME] = description[c.DESCRIPTION_NAME] = value
        elif column == c.ROW_DESCRIPTION:
            description[c.DESCRIPTION_TEXT] = value
        elif column == c.ROW_SEASON:
            description[c.DESCRIPTION_SEASON] = list(value)
        elif column == c.ROW_CATEGORY:
            product[c.PRODUCT_CATEGORY] = list(value)
        elif column == c.ROW_TYPES:
            product[c.PRODUCT_TYPES] = list(value)
        elif column == c.ROW_MIN_QTY:
            product[c.PRODUCT_MIN_QTY] = value
        elif column == c.ROW_OPTION_NAME:
            description.setdefault(c.DESCRIPTION_OPTIONS_TRANSLATION, {})[str(sku.get(c.SKU_OPTION))] = value
    product["dateModified"] = _now()


def _refresh_options(product: Obj) -> None:
    """A product's options and sizes as its SKUs have them, in their order."""
    skus = product.get(c.PRODUCT_SKUS, [])
    options = list(dict.fromkeys(str(s.get(c.SKU_OPTION)) for s in skus))
    product[c.PRODUCT_OPTIONS] = options
    product[c.PRODUCT_SIZES] = list(dict.fromkeys(str(s.get(c.SKU_SIZE)) for s in skus))
    description = product.get(c.PRODUCT_DESCRIPTION)
    if isinstance(description, dict):
        description[c.DESCRIPTION_OPTIONS] = list(options)
        names = description.get(c.DESCRIPTION_OPTIONS_TRANSLATION) or {}
        description[c.DESCRIPTION_OPTIONS_TRANSLATION] = {o: n for o, n in names.items() if o in options}


def _price_tiers(seed: Mapping[str, Any], showrooms: Sequence[Obj], products: Sequence[Obj]) -> dict[int, Obj]:
    """The account's price tiers: the seed's own list (id, name, currency), every id a showroom
    lists, with the currency a seeded ProductPrice shows for it."""
    tiers: dict[int, Obj] = {}
    for tier in seed.get("priceTiers", []):
        tier_id = _tier_or_none(tier.get(c.PRODUCT_ID))
        if tier_id is not None:
            tiers[tier_id] = {
                c.PRODUCT_ID: tier_id,
                "name": tier.get("name"),
                c.PRICE_CURRENCY: tier.get(c.PRICE_CURRENCY),
            }
    for showroom in showrooms:
        for value in showroom.get(c.SHOWROOM_PRICE_TIERS) or []:
            tier_id = _tier_or_none(value)
            if tier_id is not None:
                tiers.setdefault(tier_id, {c.PRODUCT_ID: tier_id, "name": None, c.PRICE_CURRENCY: None})
    for product in products:
        price = product.get(c.PRODUCT_PRICE)
        tier_id = _tier_or_none(price.get(c.PRICE_TIER)) if isinstance(price, dict) else None
        if tier_id in tiers and not tiers[tier_id][c.PRICE_CURRENCY]:
            tiers[tier_id][c.PRICE_CURRENCY] = price.get(c.PRICE_CURRENCY) if isinstance(price, dict) else None
    return tiers


_CUSTOMER_KEYS = (
    c.CustomerField.CODE,
    c.CustomerField.NAME,
    c.CustomerField.COMPANY_NAME,
    c.CustomerField.EMAIL,
    c.CustomerField.PHONE,
)
_ADDRESS_KEYS = (
    c.AddressField.NAME,
    c.AddressField.ADDRESS1,
    c.AddressField.ADDRESS2,
    c.AddressField.CITY,
    c.AddressField.STATE,
    c.AddressField.ZIP,
    c.AddressField.COUNTRY,
)


def _customer_fields(params: Mapping[str, Any]) -> Obj:
    """The Customer keys a create / update carries (others are not stored); addresses checked
    for the template's Type column: B, S or blank [SEED 000]."""
    fields: Obj = {k: None if params[k] is None else str(params[k]) for k in _CUSTOMER_KEYS if k in params}
    if c.CustomerField.ADDRESSES not in params:
        return fields
    raw = params[c.CustomerField.ADDRESSES]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SandboxError("addresses is not a JSON array") from None
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise SandboxError("addresses must be an array of address objects")
    addresses = []
    for n, address in enumerate(raw, start=1):
        kind = str(address.get(c.AddressField.TYPE) or "").strip().upper()
        if kind not in c.ADDRESS_TYPES:
            raise SandboxError(
                f"Address {n}: invalid type {address.get(c.AddressField.TYPE)!r}; "
                "expected B (billing), S (shipping) or blank (both)"
            )
        addresses.append({c.AddressField.TYPE: kind, **{k: address.get(k) for k in _ADDRESS_KEYS}})
    fields[c.CustomerField.ADDRESSES] = addresses
    return fields


def _with_inventory_values(row: Obj) -> Obj:
    """The row with its inventory columns parsed; a bad value fails the import before any change."""
    return {key: _inventory_value(key, value) if key in c.INVENTORY_COLUMNS else value for key, value in row.items()}


def _inventory_value(column: str, value: Any) -> Any:
    """Counts as int (``null`` = unlimited [DOC]); the future date as given."""
    if value is None or str(value).strip().lower() in ("", "null"):
        return None
    if column == c.SKU_FUTURE_INVENTORY_DATE:
        return str(value)
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise SandboxError(f"Invalid {column} {value!r}") from None


def _json_objects(payload: Any) -> list[Obj]:
    items = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(item, dict) for item in items):
        raise ValueError("expected a JSON object or an array of objects")
    return items


def _split(value: Any, separator: str) -> list[str]:
    if value in (None, ""):
        return []
    return [part.strip() for part in str(value).split(separator) if part.strip()]


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _now() -> str:
    """Brandboom's date format [DOC] "2015-03-02 12:47:04" (UTC here)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def default_seed() -> dict[str, Any]:
    """A tiny built-in data set: 2 showrooms using 2 price tiers, 3 products, 3 orders (2 waiting
    in "export"), 1 customer."""
    showrooms = [
        _showroom(101, "Spring Wholesale", brand_id=34, master=True),
        _showroom(102, "Key Accounts", brand_id=34, master=False, tiers=[1548, 1549]),
    ]
    tiers = [{"id": 1548, "name": "WHL", "currency": "USD"}, {"id": 1549, "name": "WHLE", "currency": "EUR"}]
    products = [
        _product(501, "MKD1233", "Linen Shirt", ["GRY", "NVY"], ["S", "M", "L"], 48),
        _product(502, "GrayTank", "Gray Tank 23", ["GRY"], ["S", "M"], 15),
        _product(503, "DNM-STRT", "Straight Denim", ["IND"], ["28", "30", "32"], 62),
    ]
    orders = [
        _order(
            431,
            "PO-1001",
            "export",
            "C1001",
            "Harbor Outfitters",
            [("MKD1233", "GRY", "M", 6, "48.00"), ("GrayTank", "GRY", "S", 12, "15.00")],
        ),
        _order(432, "PO-1002", "export", "C1002", "Juniper & Co", [("DNM-STRT", "IND", "30", 4, "62.00")]),
        _order(433, "PO-1003", "processing", "C1001", "Harbor Outfitters", [("MKD1233", "NVY", "L", 3, "48.00")]),
    ]
    customers = [
        {
            CF.ID: 7001,
            CF.CODE: "C1001",
            CF.NAME: "Harbor Outfitters",
            CF.EMAIL: "buyer@c1001.example",
            CF.PHONE: "207-555-0100",
            CF.ADDRESSES: [
                {
                    AF.TYPE: c.ADDRESS_TYPE_BOTH,
                    AF.NAME: "Harbor Outfitters",
                    AF.ADDRESS1: "12 Harbor St",
                    AF.ADDRESS2: None,
                    AF.CITY: "Portland",
                    AF.STATE: "ME",
                    AF.ZIP: "04101",
                    AF.COUNTRY: "US",
                }
            ],
            CF.DATE_CREATED: "2024-01-02 09:00:00",
            CF.DATE_MODIFIED: "2024-01-02 09:00:00",
        }
    ]
    return {"showrooms": showrooms, "priceTiers": tiers, "products": products, "orders": orders, "customers": customers}


def _showroom(showroom_id: int, name: str, *, brand_id: int, master: bool, tiers: Sequence[int] = (1548,)) -> Obj:
    """[DOC] Showroom object."""
    return {
        "id": showroom_id,
        "name": name,
        "urlAlias": f"sr{showroom_id}",
        "brandID": brand_id,
        "isMaster": master,
        "locale": "en_US",
        "languageCode": "en",
        "dateFormat": "MM/dd/yyyy",
        "numberFormat": "#,##0.00|.|,|",
        "priceTiers": list(tiers),
        "terms": ["Net 30", "Credit Card"],
        "shippingOptions": ["UPS Ground"],
        "numActiveProducts": 3,
        "orderMinimum": 0,
        "customFields": [],
        "currentClass": "Showroom",
    }


def _product(product_id: int, style: str, name: str, options: list[str], sizes: list[str], price: int) -> Obj:
    """[DOC] Product object (trimmed to the fields the sandbox serves), one SKU per option×size."""
    skus = [
        {
            "id": product_id * 100 + n,
            "styleNumber": style,
            "option": option,
            "size": size,
            "skuNumber": f"{style}-{option}-{size}",
            "UPC": "",
            "inventoryCount": 20,
            "futureInventoryCount": None,
            "futureInventoryDate": None,
            "warehouseID": -1,
            "dateInventoryModified": "2024-01-02 09:00:00",
            "isDeleted": False,
            "isActive": True,
        }
        for n, (option, size) in enumerate(((o, s) for o in options for s in sizes), start=1)
    ]
    return {
        "id": product_id,
        "brandID": 34,
        "styleNumber": style,
        "options": options,
        "sizes": sizes,
        "referenceName": name,
        "status": 0,
        "price": {
            "id": product_id,
            "priceTierID": 1548,
            "currency": "USD",
            "MSRP": price * 2,
            "price": price,
            "discount": 0,
            "priceRange": [price],
            "currentClass": "ProductPrice",
        },
        "skus": skus,
        "currentClass": "Product",
    }


def _order(
    order_id: int, po: str, status: str, code: str, name: str, items: Iterable[tuple[str, str, str, int, str]]
) -> Obj:
    """[INF] Order object, as partners/README "Decisions for Bobbin" shapes it."""
    address = {
        AF.NAME: name,
        AF.ADDRESS1: "12 Harbor St",
        AF.ADDRESS2: None,
        AF.CITY: "Portland",
        AF.STATE: "ME",
        AF.ZIP: "04101",
        AF.COUNTRY: "US",
    }
    return {
        F.ID: order_id,
        F.PO_NUMBER: po,
        F.STATUS: status,
        F.CUSTOMER: {
            CF.ID: order_id * 10,
            CF.CODE: code,
            CF.NAME: name,
            CF.EMAIL: f"buyer@{code.lower()}.example",
            CF.BILLING_ADDRESS: address,
            CF.SHIPPING_ADDRESS: dict(address),
        },
        F.REP: "Dana Reyes",
        F.TERMS: "Net 30",
        F.SHIPPING_OPTION: "UPS Ground",
        F.SHIP_DATE: "2024-03-01",
        F.CANCEL_DATE: "2024-03-31",
        F.CURRENCY: "USD",
        F.PRICE_TIER_ID: 1548,
        F.WAREHOUSE_ID: -1,
        F.DATE_CREATED: "2024-02-01 10:15:00",
        F.ITEMS: [
            {
                IF.STYLE_NUMBER: style,
                IF.OPTION_CODE: option,
                IF.SIZE: size,
                IF.SKU_NUMBER: f"{style}-{option}-{size}",
                IF.UPC: "",
                IF.QUANTITY: qty,
                IF.PRICE: price,
            }
            for style, option, size, qty, price in items
        ],
    }
