"""A Brandboom API v2 emulator, written from the API document (shared/seeds/001).

Paths, parameters, headers and field names come from ``connectors.brandboom.contract``, the same
module the client uses. Where the document is silent the choice is marked [INF] here or there.

It behaves as the document describes: every ``/api/`` request is signed (headers, or the same
as query parameters); errors arrive as an envelope ``{"status": "error", "value": ...}`` with
HTTP 200; ``numResults`` / ``resultOffset`` page searches; products/import takes an inline JSON
array or a CSV attachment named ``data`` and skips rows unchanged since the last import unless
``bypassDiff`` is true.

``/_sandbox/...`` is not Brandboom's: unauthenticated control endpoints to add orders, read the
status changes and imports the client made, queue faults (docs/faults.md), and reset. An injected
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

    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


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
        self._next_order_id = self._next_product_id = self._next_sku_id = 1
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
            return _envelope(method, exc.message, ok=False, status=exc.status)

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
        with self._lock:
            found = [p for p in self._products if self._product_matches(p, params)]
            return _page(found, params, c.R_PRODUCTS, all_when_zero=False)

    def _product_matches(self, product: Obj, params: Mapping[str, Any]) -> bool:
        brand_ids = set(_split(params.get(c.P_BRAND_ID), ","))
        showroom_ids = _split(params.get(c.P_SHOWROOM_ID), ",")
        if showroom_ids:
            # [INF] products carry no showroom list; a showroom shows its brand's products.
            brand_ids |= {
                str(s.get(c.SHOWROOM_BRAND_ID)) for s in self._showrooms if str(s.get(c.SHOWROOM_ID)) in showroom_ids
            }
            if not brand_ids:
                raise SandboxError(f"Invalid showroomID {params.get(c.P_SHOWROOM_ID)}")
        tier = params.get(c.P_PRICE_TIER_ID)
        price = product.get(c.PRODUCT_PRICE)
        checks = (
            not brand_ids or str(product.get(c.PRODUCT_BRAND_ID)) in brand_ids,
            _in_list(product.get(c.PRODUCT_ID), params.get(c.P_PRODUCT_ID), ","),
            _in_list(product.get(c.PRODUCT_STYLE_NUMBER), params.get(c.P_STYLE_NUMBERS), "^"),
            # [INF] one price per product in the sandbox: a tier filter keeps the products priced in it
            tier in (None, "") or not isinstance(price, dict) or str(price.get(c.P_PRICE_TIER_ID)) == str(tier),
        )
        return all(checks)

    def _import_products(self, request: Request, params: Mapping[str, Any]) -> Obj:
        mode = str(params.get(c.P_MODE) or "").lower()  # the doc's PHP example sends "COMBINE"
        if mode not in c.IMPORT_MODES:
            raise SandboxError(f"Invalid mode {params.get(c.P_MODE)!r}; expected split, combine or inventory")
        rows = _import_rows(request, params)
        bypass = str(params.get(c.P_BYPASS_DIFF, "")).lower() == "true"
        keys = [json.dumps(row, sort_keys=True, default=str) for row in rows]
        with self._lock:
            todo = [
                _with_inventory_values(row)
                for row, key in zip(rows, keys, strict=True)
                if bypass or key not in self._last_import
            ]
            self._last_import = set(keys)
            summary = self._apply_rows(mode, todo)
            summary.update(numRows=len(rows), numSkipped=len(rows) - len(todo))
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
            return summary

    def _apply_rows(self, mode: str, rows: list[Obj]) -> Obj:
        """Inventory mode updates matching SKUs only; split/combine also create unknown ones."""
        updated, created, not_found = 0, 0, []
        for index, row in enumerate(rows):
            if not (
                row.get(c.ROW_SKU_NUMBER)
                or all(row.get(k) for k in (c.ROW_STYLE_NUMBER, c.ROW_OPTION_CODE, c.ROW_SIZE))
            ):
                not_found.append(index)
                continue
            skus = self._matching_skus(row)
            for sku in skus:
                _apply_sku_columns(sku, row, inventory_only=mode == c.MODE_INVENTORY)
            if skus:
                updated += len(skus)
            elif mode != c.MODE_INVENTORY and row.get(c.ROW_STYLE_NUMBER):
                self._create_sku(mode, row)
                created += 1
            else:
                not_found.append(index)
        return {
            "mode": mode,
            "numProcessed": len(rows),
            "numUpdated": updated,
            "numCreated": created,
            "notFound": not_found,
        }

    def _matching_skus(self, row: Obj) -> list[Obj]:
        """By skuNumber when given, else by styleNumber + optionCode + size. [DOC]"""
        number = str(row.get(c.ROW_SKU_NUMBER) or "")
        wanted = (str(row.get(c.ROW_STYLE_NUMBER)), str(row.get(c.ROW_OPTION_CODE)), str(row.get(c.ROW_SIZE)))
        return [
            sku
            for product in self._products
            for sku in product.get(c.PRODUCT_SKUS, [])
            if (
                str(sku.get(c.SKU_NUMBER) or "") == number
                if number
                else (str(sku.get(c.SKU_STYLE_NUMBER)), str(sku.get(c.SKU_OPTION)), str(sku.get(c.SKU_SIZE))) == wanted
            )
        ]

    def _create_sku(self, mode: str, row: Obj) -> None:
        """combine: one product per style; split: one per style and option. [DOC] modes."""
        style, option, size = (str(row.get(k) or "") for k in (c.ROW_STYLE_NUMBER, c.ROW_OPTION_CODE, c.ROW_SIZE))
        product = next(
            (
                p
                for p in self._products
                if p.get(c.PRODUCT_STYLE_NUMBER) == style
                and (mode == "combine" or p.get(c.PRODUCT_OPTIONS) == [option])
            ),
            None,
        )
        if product is None:
            product = {
                c.PRODUCT_ID: self._next_product_id,
                c.PRODUCT_STYLE_NUMBER: style,
                c.PRODUCT_OPTIONS: [],
                c.PRODUCT_SIZES: [],
                c.PRODUCT_SKUS: [],
            }
            self._next_product_id += 1
            self._products.append(product)
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
        }
        self._next_sku_id += 1
        _apply_sku_columns(sku, row, inventory_only=False)
        product[c.PRODUCT_SKUS].append(sku)

    # --- /_sandbox/ (beside health, faults and reset) --------------------------------------------
    def health(self, request: Request) -> Obj:
        return {"ok": True, "orders": len(self._orders), "products": len(self._products)}

    def _control_handlers(self, request: Request, action: str) -> ControlHandlers:
        return {
            ("POST", "orders"): lambda: {"ids": self.add_orders(_json_objects(request.json))},
            ("GET", "orders"): self.orders,
            ("GET", "status-changes"): self.status_changes,
            ("GET", "imports"): self.imports,
        }

    def _load(self, seed: Mapping[str, Any]) -> None:
        with self._lock:
            self._showrooms = copy.deepcopy(list(seed.get("showrooms", [])))
            self._products = copy.deepcopy(list(seed.get("products", [])))
            self._orders = {}
            self._status_changes = []
            self._imports = []
            self._last_import = set()
            self._next_order_id = 1
            self._next_product_id = 1 + max((_int_or(p.get(c.PRODUCT_ID), 0) for p in self._products), default=0)
            self._next_sku_id = 1 + max(
                (_int_or(s.get(c.SKU_ID), 0) for p in self._products for s in p.get(c.PRODUCT_SKUS, [])), default=0
            )
            self.add_orders(list(seed.get("orders", [])))


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
        for column in (c.SKU_NUMBER, c.SKU_UPC):
            if column in row:
                sku[column] = str(row[column])


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


def _in_list(value: Any, wanted: Any, separator: str) -> bool:
    allowed = _split(wanted, separator)
    return not allowed or str(value) in allowed


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _now() -> str:
    """Brandboom's date format [DOC] "2015-03-02 12:47:04" (UTC here)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def default_seed() -> dict[str, Any]:
    """A tiny built-in data set: 2 showrooms, 3 products, 3 orders (2 waiting in "export")."""
    showrooms = [
        _showroom(101, "Spring Wholesale", brand_id=34, master=True),
        _showroom(102, "Key Accounts", brand_id=34, master=False),
    ]
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
    return {"showrooms": showrooms, "products": products, "orders": orders}


def _showroom(showroom_id: int, name: str, *, brand_id: int, master: bool) -> Obj:
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
        "priceTiers": [1548],
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
