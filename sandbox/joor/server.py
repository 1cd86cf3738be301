"""A JOOR API v2 emulator, written from JOOR's documentation (shared/partners/README.md, section 1).

Paths, parameters, headers and field names come from ``connectors.joor.contract``, the same
module the client uses. Where the documentation is silent the choice is marked [INF] here or there.

It behaves as the documentation describes:
- every ``/v2/`` request carries ``Authorization: OAuth2 <base64 token>``; [INF] a missing or wrong
  one is HTTP 401 with the v2 envelope ``{"response": {"code": 401, "comment": ..., "log_id": ...}}``;
- ``GET /v2/order/`` takes order_type, export_status (default 1 with sync=0, 2 with sync=1), sync
  (default 1: the returned orders become exported, and "modified" ones exported again), check,
  date_start / date_end (modified-date range, one requires the other), customer_code,
  customer_group_name, order_id, start_from and count (default 50), and answers with the total
  and the next start;
- connections are read by id or by customer_code and updated with PUT;
- ``bulk-inventory`` sets quantities per warehouse (by name), per date (none = immediate, else
  future / WIP), per SKU (by upc or style_number + color_code + size), with overwrite and dec_pending;
- the catalog (``sandbox/joor/catalog.py``): v4 products, SKUs, prices and price types under
  ``/v4/``; v2 styles (list, one, PUT deliveries, DELETE) and their images; v2 bulk connections
  as background jobs;
- credits: per account a fixed window (300 s) from its first request; GET costs 1 credit, writes 5;
  beyond the window's credits (300) the answer is HTTP 429 with ``Retry-After`` (seconds to the
  window's end, [INF]) and ``X-Throttling-Account-Id`` (sent on every authenticated answer).

``/_sandbox/...`` is not JOOR's: unauthenticated control endpoints to add or modify orders, read
connections, their updates, the inventory and the export marks (every order a ``sync=1`` read
marked, for counting duplicates), the catalog (products, SKUs, prices, price types, images,
deliveries; a hand-made linesheet), the bulk connection jobs (finish them, approve new customers
as JOOR Data Services would), every API call received, read and reset credits, queue faults
(docs/faults.md), and reset. Control requests act on the first account unless ``?account=<id>`` names another. An
injected ``auth`` fault answers 401 "Invalid token."; listing faults (repeat / skip / add)
disturb the order listing, adding orders made by ``order_factory``.
"""

from __future__ import annotations

import copy
import hmac
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from sandbox.common import ControlHandlers, Fault, FaultQueue, PartnerSandbox, Request, Response, renamed
from sandbox.joor import api as c
from sandbox.joor import catalog as cat

log = structlog.get_logger()

F, AF, IF, CF, INV = c.OrderField, c.AddressField, c.ItemField, c.ConnectionField, c.InventoryField
IMMEDIATE = ""  # the inventory_date of immediate stock in the inventory table
# [INF] JOOR's wording of errors is not public; these say what went wrong.
MISSING_AUTH = "Authentication credentials were not provided (Authorization: OAuth2 <base64 token>)."
WRONG_AUTH = "Invalid token."
OVER_LIMIT = "Rate limit exceeded: {credits} credits per {window:g} seconds per account."

Obj = dict[str, Any]


class SandboxError(Exception):
    """A request JOOR would refuse: answered with the v2 envelope and HTTP ``status``."""

    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment


@dataclass
class Account:
    """One JOOR account: its data, what clients changed, and its credit window."""

    account_id: str
    authorization: str  # the exact Authorization header value that opens it
    warehouses: list[Obj] = field(default_factory=list)
    skus: list[Obj] = field(default_factory=list)
    connections: dict[str, Obj] = field(default_factory=dict)
    orders: dict[str, Obj] = field(default_factory=dict)
    # (warehouse name, inventory_date or IMMEDIATE, (style_number, color_code, size)) -> quantity
    inventory: dict[tuple[str, str, tuple[str, str, str]], int] = field(default_factory=dict)
    connection_updates: list[Obj] = field(default_factory=list)
    export_marks: list[Obj] = field(default_factory=list)  # {order_id, at} per order a sync=1 read marked
    rank: dict[str, int] = field(default_factory=dict)  # listing position overrides (listing faults)
    window_start: float | None = None
    spent: int = 0
    throttled: int = 0  # requests answered 429
    next_order_id: int = 1
    catalog: cat.Catalog = field(default_factory=lambda: cat.Catalog(skus=[]))
    calls: list[Obj] = field(default_factory=list)  # {method, path, query} of every API request answered


class JoorSandbox(PartnerSandbox):
    """The emulator: in-memory accounts behind a lock, served on ``host:port`` (0 = a free port).

    ``window_seconds`` / ``credits`` shrink JOOR's rate limit for tests; ``clock`` (monotonic
    seconds) drives the credit window, so a test can move time instead of waiting.
    """

    api_base_path = c.BASE_PATH  # the API base, as a site's base URL: http://127.0.0.1:PORT/v2

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str,
        seed: Mapping[str, Any] | None = None,
        window_seconds: float = c.WINDOW_SECONDS,
        credits: int = c.CREDITS_PER_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_seconds = window_seconds
        self.credits = credits
        self._clock = clock
        self._lock = threading.RLock()
        self.faults = FaultQueue(auth_response=lambda request: _error(401, WRONG_AUTH), is_listing=_is_order_listing)
        # Makes the orders a listing fault adds: n -> n order objects (order_id assigned when
        # missing). None: copies of an approved order with new ids and PO numbers.
        self.order_factory: Callable[[int], list[Obj]] | None = None
        # A server that ignores the order named by a read (the order_id filter and GET order/{id}):
        # it answers with the list's first orders instead, marking them when sync=1. Not JOOR's
        # documented behaviour; it lets tests prove that Bobbin checks which order came back.
        self.ignore_order_filter = False
        # Top-level order keys served under other names (ours -> theirs), as a partner whose real
        # payload differs from our reading of its document would: {"order_id": "id"}.
        self.renamed_keys: dict[str, str] = {}
        # How many reads of a bulk connection job's status it takes to finish ([INF] JOOR runs
        # jobs in the order received; finish_jobs() finishes them at once).
        self.job_polls = 1
        # (token, seed) of every account, first the main one: reset() rebuilds them all.
        self._seeds: list[tuple[str, Obj]] = [
            (token, copy.deepcopy(dict(seed if seed is not None else default_seed())))
        ]
        self._accounts: dict[str, Account] = {}
        self._load()
        self._serve_on(host, port)

    # --- control (Python side of /_sandbox/) -------------------------------------------------
    def reset(self) -> None:
        """Back to the seeds: data, recorded updates, inventory, credits and queued faults."""
        self.faults.clear()
        self.ignore_order_filter, self.renamed_keys = False, {}
        self._load()

    def add_account(self, token: str, seed: Mapping[str, Any]) -> str:
        """Another account, opened by its own token (credits are counted per account)."""
        with self._lock:
            self._seeds.append((token, copy.deepcopy(dict(seed))))
            account = _account(token, self._seeds[-1][1])
            if account.account_id in self._accounts:
                self._seeds.pop()
                raise ValueError(f"account {account.account_id} exists already")
            self._accounts[account.account_id] = account
            return account.account_id

    def add_orders(self, orders: Obj | Sequence[Obj], account: str | None = None) -> list[str]:
        """Add orders; an order_id is assigned when missing; status defaults to APPROVED,
        export_status to NOT_EXPORTED, the dates to now."""
        with self._lock:
            return _add_orders(self._account(account), orders)

    def modify_order(self, order_id: str | int, changes: Mapping[str, Any], account: str | None = None) -> Obj:
        """Change an order as a JOOR user would; an exported order becomes "modified"."""
        with self._lock:
            order = self._account(account).orders.get(str(order_id))
            if order is None:
                raise KeyError(f"no order {order_id}")
            order.update({k: copy.deepcopy(v) for k, v in changes.items() if k != F.ORDER_ID})
            _check_status(order)
            order[F.DATE_MODIFIED] = _timestamp()
            if order[F.EXPORT_STATUS] == c.STATE_EXPORTED:
                order[F.EXPORT_STATUS] = c.STATE_MODIFIED
            return copy.deepcopy(order)

    def orders(self, account: str | None = None) -> list[Obj]:
        with self._lock:
            acct = self._account(account)
            return [_rendered(acct, order) for order in _sorted_orders(acct)]

    def connections(self, account: str | None = None) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(list(self._account(account).connections.values()))

    def connection_updates(self, account: str | None = None) -> list[Obj]:
        """Every accepted PUT connection: ``{connection_id, fields, at}``, oldest first."""
        with self._lock:
            return copy.deepcopy(self._account(account).connection_updates)

    def inventory(self, account: str | None = None) -> list[Obj]:
        """The account's inventory, one row per (warehouse, inventory_date, SKU); the date is
        None for immediate stock."""
        with self._lock:
            acct = self._account(account)
            upcs = {_sku_key(s): s.get(IF.UPC) for s in acct.skus}
            return [
                {
                    INV.WAREHOUSE: warehouse,
                    INV.INVENTORY_DATE: day or None,
                    INV.STYLE_NUMBER: key[0],
                    INV.COLOR_CODE: key[1],
                    INV.SIZE: key[2],
                    INV.UPC: upcs.get(key),
                    INV.INVENTORY: qty,
                }
                for (warehouse, day, key), qty in sorted(acct.inventory.items())
            ]

    def export_marks(self, account: str | None = None) -> list[Obj]:
        """Every order a sync=1 read marked exported: ``{order_id, at}``, oldest first (a mark
        of an order already exported counts too: it is a second delivery)."""
        with self._lock:
            return copy.deepcopy(self._account(account).export_marks)

    # --- the catalog and the customer jobs (Python side of /_sandbox/) ---------------------------
    def products(self, account: str | None = None) -> list[Obj]:
        """Every product as v4 shows it, with its SKUs (each with its prices), images and deliveries."""
        with self._lock:
            acct = self._account(account)
            v4 = cat.V4(acct.catalog)
            shown = []
            for product in acct.catalog.products.values():
                view = cat._product_view(product)
                view["skus"] = [
                    v4._sku_view(s) for s in acct.catalog.v4_skus.values() if s[cat.SF.PRODUCT_ID] == product[cat.PF.ID]
                ]
                view["images"] = [
                    copy.deepcopy(i) for i in acct.catalog.images if i["product_id"] == product[cat.PF.ID]
                ]
                view["deliveries"] = copy.deepcopy(acct.catalog.deliveries.get(product[cat.PF.ID], []))
                shown.append(view)
            return shown

    def catalog_skus(self, account: str | None = None) -> list[Obj]:
        with self._lock:
            acct = self._account(account)
            v4 = cat.V4(acct.catalog)
            return [v4._sku_view(s) for s in acct.catalog.v4_skus.values()]

    def price_types(self, account: str | None = None) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(self._account(account).catalog.price_types)

    def add_price_type(self, name: str, currency_code: str, account: str | None = None) -> Obj:
        """A price type made in JOOR's Order Settings ([DOC] currency + label unique)."""
        with self._lock:
            catalog = self._account(account).catalog
            if any(t[cat.PTF.NAME] == name and t[cat.PTF.CURRENCY_CODE] == currency_code for t in catalog.price_types):
                raise ValueError(f"price type {name} ({currency_code}) exists already")
            made = {
                cat.PTF.ID: catalog.new_id("PT"),
                cat.PTF.NAME: name,
                cat.PTF.CURRENCY_CODE: currency_code,
                cat.PTF.RETAIL_CURRENCY_CODE: currency_code,
            }
            catalog.price_types.append(made)
            return copy.deepcopy(made)

    def images(self, account: str | None = None) -> list[Obj]:
        """Every image JOOR holds: style identifier, filename sent and stored, display order,
        colour, swatch, format and size in bytes (None for an image given by URL), URL."""
        with self._lock:
            return copy.deepcopy(self._account(account).catalog.images)

    def deliveries(self, account: str | None = None) -> dict[str, list[Obj]]:
        """Style identifier -> its deliveries (``api_created`` False for a hand-made linesheet)."""
        with self._lock:
            catalog = self._account(account).catalog
            return {
                catalog.products[pid][cat.PF.PRODUCT_IDENTIFIER]: copy.deepcopy(found)
                for pid, found in catalog.deliveries.items()
                if found
            }

    def add_manual_delivery(self, style_identifier: str, delivery: Obj, account: str | None = None) -> list[Obj]:
        """Put a style on a linesheet as a person would in JOOR's web app (not through the API)."""
        with self._lock:
            catalog = self._account(account).catalog
            try:
                product = cat.find_style(catalog, style_identifier)
            except cat.CatalogError as exc:
                raise KeyError(exc.message) from None
            node = {k: v for k, v in delivery.items() if k != c.StyleField.STYLE_IDENTIFIER}
            if not node.get(c.DeliveryField.NAME):
                raise ValueError("a delivery needs a delivery_name")
            found = catalog.deliveries.setdefault(product[cat.PF.ID], [])
            found[:] = [d for d in found if d[c.DeliveryField.NAME] != node[c.DeliveryField.NAME]]
            found.append({**node, cat.API_CREATED: False})
            return copy.deepcopy(found)

    def calls(self, account: str | None = None) -> list[Obj]:
        """Every API request the account answered (not 401 / 429): ``{method, path, query}``."""
        with self._lock:
            return copy.deepcopy(self._account(account).calls)

    def bulk_jobs(self, account: str | None = None) -> list[Obj]:
        with self._lock:
            return [
                {**cat.job_view(j), "records": copy.deepcopy(j["_records"])}
                for j in self._account(account).catalog.jobs.values()
            ]

    def finish_jobs(self, account: str | None = None) -> int:
        """Finish every bulk connection job now (as JOOR's background worker would)."""
        with self._lock:
            acct = self._account(account)
            open_jobs = [j for j in acct.catalog.jobs.values() if j[cat.JF.STATUS] != c.JOB_FINISHED]
            for job in open_jobs:
                cat.finish_job(acct.catalog, acct.connections, job, _timestamp())
            return len(open_jobs)

    def pending_matches(self, account: str | None = None) -> dict[str, Obj]:
        """New customers sent in finished jobs, waiting for JOOR Data Services (by customer_code)."""
        with self._lock:
            return copy.deepcopy(self._account(account).catalog.pending_matches)

    def approve_connections(self, customer_codes: Sequence[str] | None = None, account: str | None = None) -> list[Obj]:
        """JOOR Data Services matches new customers (these, or every one waiting): each becomes a
        connection carrying its customer_code."""
        with self._lock:
            acct = self._account(account)
            return cat.approve(acct.catalog, acct.connections, customer_codes)

    def credits_used(self) -> dict[str, Obj]:
        """Per account: credits spent in the current window, and how many requests got a 429."""
        with self._lock:
            return {a.account_id: {"spent": a.spent, "throttled": a.throttled} for a in self._accounts.values()}

    def reset_credits(self) -> None:
        """Every account starts a fresh window with its next request."""
        with self._lock:
            for account in self._accounts.values():
                account.window_start, account.spent, account.throttled = None, 0, 0

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
        """Make the next ``count`` /v2/ requests (whose path contains ``path``) misbehave; ``more``
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
    def handle(self, request: Request) -> Response:
        """As every sandbox, and the v4 API beside v2 ([DOC] one host, /v2 and /v4)."""
        if request.path.startswith(c.V4_BASE_PATH + "/"):
            return self.faults.serve(request, lambda listing_fault: self._answer(request, listing_fault))
        return super().handle(request)

    def _not_found(self, request: Request) -> Response:
        return _error(404, f"Unknown path {request.path}")

    def _answer(self, request: Request, listing_fault: Fault | None) -> Response:
        v4 = request.path.startswith(c.V4_BASE_PATH + "/")
        fail = _error_v4 if v4 else _error
        account = self._authenticated(request)
        if account is None:
            missing = not request.headers.get(c.HEADER_AUTHORIZATION)
            return fail(401, MISSING_AUTH if missing else WRONG_AUTH)
        headers = {c.HEADER_THROTTLING_ACCOUNT: account.account_id}
        with self._lock:
            retry_after = self._charge(account, request.method)
            if retry_after is not None:
                comment = OVER_LIMIT.format(credits=self.credits, window=self.window_seconds)
                return fail(429, comment, {**headers, "Retry-After": str(retry_after)})
            account.calls.append({"method": request.method, "path": request.path, "query": dict(request.query)})
            try:
                if v4:
                    return Response.json(self._route_v4(account, request), headers=headers)
                return Response.json(self._route(account, request, listing_fault), headers=headers)
            except SandboxError as exc:
                return _error(exc.status, exc.comment, headers)
            except cat.CatalogError as exc:
                return fail(exc.status, exc.message, headers)

    def _route_v4(self, account: Account, request: Request) -> Obj:
        """[DOC] ``?account=<joor account id>`` on v4 calls; [INF] left out, the token's account."""
        asked = request.query.get(c.P_ACCOUNT)
        if asked not in (None, "", account.account_id):
            raise cat.CatalogError(403, f"The token does not open account {asked}")
        path = "/".join(s for s in request.path[len(c.V4_BASE_PATH) :].split("/") if s)
        return cat.V4(account.catalog).route(request.method, path, request.query, request.json)

    def _authenticated(self, request: Request) -> Account | None:
        given = str(request.headers.get(c.HEADER_AUTHORIZATION) or "").strip()
        with self._lock:
            return next(
                (
                    a
                    for a in self._accounts.values()
                    if hmac.compare_digest(given.encode("utf-8"), a.authorization.encode("utf-8"))
                ),
                None,
            )

    def _charge(self, account: Account, method: str) -> int | None:
        """Spend the request's credits; when the window cannot pay, the seconds to its end."""
        now = self._clock()
        if account.window_start is None or now - account.window_start >= self.window_seconds:
            account.window_start, account.spent = now, 0
        cost = c.request_credits(method)
        if account.spent + cost > self.credits:
            account.throttled += 1
            return max(1, math.ceil(account.window_start + self.window_seconds - now))
        account.spent += cost
        return None

    # --- routing -----------------------------------------------------------------------------
    def _route(self, account: Account, request: Request, listing_fault: Fault | None = None) -> Obj:
        segments = [s for s in request.path[len(c.BASE_PATH) :].split("/") if s]
        method = request.method
        if segments == ["order"] and method == "GET":
            return self._get_orders(account, request.query, listing_fault)
        if segments[:1] == ["order"] and len(segments) == 2 and method == "GET":  # [CODE] one order by id
            return self._get_orders(account, {**request.query, c.P_ORDER_ID: segments[1]})
        if segments[:2] == ["connection", "customer_code"] and len(segments) == 3 and method == "GET":
            return _connections_answer(
                [conn for conn in account.connections.values() if conn.get(CF.CUSTOMER_CODE) == segments[2]],
                f"No connection with customer_code {segments[2]}",
            )
        if segments[:1] == ["connection"] and len(segments) == 2:
            if method == "GET":
                connection = account.connections.get(segments[1])
                return _connections_answer([connection] if connection else [], f"Connection {segments[1]} not found")
            if method == "PUT":
                return self._update_connection(account, segments[1], request.json)
        if segments == [c.BULK_INVENTORY] and method in ("POST", "PUT"):
            return self._bulk_inventory(account, request)
        if segments == [c.STYLES] and method == "GET":
            return self._styles(account, request.query)
        if segments[:1] == ["style-number"] and (len(segments) == 3 or segments[3:] == ["image"]):
            return self._style(account, request, segments[1], segments[2], image=len(segments) == 4)
        if segments == [c.BULK_CONNECTION] and method in ("POST", "PUT"):
            job = cat.new_job(account.catalog, request.json, _timestamp())
            return _jobs_answer(job)
        if segments[:1] == [c.BULK_CONNECTION] and len(segments) == 2 and method == "GET":
            return self._poll_job(account, segments[1])
        raise SandboxError(404, f"Unknown endpoint {method} {request.path}")

    # --- styles, deliveries, images [DOC] ----------------------------------------------------
    def _styles(self, account: Account, query: Mapping[str, str]) -> Obj:
        start_from = _int_param(query, c.P_START_FROM, 0)
        count = _int_param(query, c.P_COUNT, c.DEFAULT_COUNT)
        if start_from < 0 or count < 1:
            raise SandboxError(400, "start_from must be 0 or more and count 1 or more")
        products = list(account.catalog.products.values())
        page = products[start_from : start_from + count]
        end = start_from + len(page)
        meta = {
            c.R_START_FROM: start_from,
            c.R_NEXT_START: end if end < len(products) else None,
            c.R_COUNT: len(page),
            c.R_TOTAL: len(products),
        }
        shown = [cat.style_view(account.catalog, p) for p in page]
        return {c.R_STYLES: {c.R_RESPONSE: _meta(200, "Success", **meta), c.R_STYLE: shown}}

    def _style(self, account: Account, request: Request, number: str, identifier: str, *, image: bool) -> Obj:
        try:
            product = cat.find_style(account.catalog, identifier)
            if image:
                if request.method != "POST":
                    raise SandboxError(404, f"Unknown endpoint {request.method} {request.path}")
                content_type = str(request.headers.get("Content-Type") or "").split(";")[0].strip()
                upload = cat.post_image(account.catalog, product, number, request.query, request.body, content_type)
                shown = {
                    k: upload[k]
                    for k in (c.StyleField.STYLE_NUMBER, c.StyleField.STYLE_IDENTIFIER, c.R_UPLOAD_ID, c.R_FILENAME)
                }
                return {c.R_IMAGE_UPLOAD: {c.R_RESPONSE: _meta(0, "")}, c.R_IMAGE_UPLOADED: shown}
            if request.method == "GET":
                view = cat.style_view(account.catalog, product)
                return {c.R_STYLES: {c.R_RESPONSE: _meta(200, "Success"), c.R_STYLE: [view]}}
            if request.method == "PUT":
                cat.put_style(account.catalog, product, request.json)
                view = cat.style_view(account.catalog, product)
                return {c.R_STYLES: {c.R_RESPONSE: _meta(200, "Success"), c.R_STYLE: [view]}}
            if request.method == "DELETE":
                cat.delete_style(account.catalog, product)
                return {c.R_STYLES_DELETED: {c.R_RESPONSE: _meta(0, "")}}
        except cat.CatalogError as exc:
            raise SandboxError(exc.status, exc.message) from None
        raise SandboxError(404, f"Unknown endpoint {request.method} {request.path}")

    # --- bulk connections [DOC] --------------------------------------------------------------
    def _poll_job(self, account: Account, job_id: str) -> Obj:
        job = account.catalog.jobs.get(job_id)
        if job is None:
            raise SandboxError(404, f"Bulk connection job {job_id} not found")
        job["_polls"] += 1
        if job["_polls"] >= self.job_polls:
            cat.finish_job(account.catalog, account.connections, job, _timestamp())
        elif job[cat.JF.STATUS] == c.JOB_QUEUED:
            job[cat.JF.STATUS], job[cat.JF.RECORD_PROGRESS] = c.JOB_STARTED, job[cat.JF.RECORD_COUNT] // 2
        return _jobs_answer(job)

    # --- orders [DOC] parameters, [INF] shape ------------------------------------------------
    def _get_orders(self, account: Account, query: Mapping[str, str], listing_fault: Fault | None = None) -> Obj:
        sync = _int_param(query, c.P_SYNC, 1, allowed=(0, 1))
        order_type = _int_param(query, c.P_ORDER_TYPE, c.ORDER_TYPE_APPROVED_AND_SHIPPED, allowed=c.ORDER_TYPES)
        export_status = _int_param(query, c.P_EXPORT_STATUS, c.DEFAULT_EXPORT_STATUS[sync], allowed=c.EXPORT_STATUSES)
        # [INF] no internal fields are configured as required in the sandbox, so check (validated
        # here) never withholds an order or marks it Failed.
        _int_param(query, c.P_CHECK, 1 if sync else 0, allowed=c.CHECK_VALUES)
        start_from = _int_param(query, c.P_START_FROM, 0)
        count = _int_param(query, c.P_COUNT, c.DEFAULT_COUNT)
        if start_from < 0 or count < 1:
            raise SandboxError(400, "start_from must be 0 or more and count 1 or more")
        modified_range = _date_range(query)
        wanted = {
            key: query[key] for key in (c.P_ORDER_ID, c.P_CUSTOMER_CODE, c.P_CUSTOMER_GROUP_NAME) if query.get(key)
        }
        if self.ignore_order_filter:  # a misbehaving server: the order named is not the order served
            wanted.pop(c.P_ORDER_ID, None)
        statuses, states = c.ORDER_TYPES[order_type], c.EXPORT_STATUSES[export_status]
        if listing_fault is not None:
            self._disturb_listing(
                account, listing_fault, lambda o: o[F.STATUS] in statuses and o[F.EXPORT_STATUS] in states
            )
        matching = [
            order
            for order in _sorted_orders(account)
            if order[F.STATUS] in statuses
            and order[F.EXPORT_STATUS] in states
            and all(str(_shown_value(account, order, key) or "") == value for key, value in wanted.items())
            and (modified_range is None or _in_range(order, modified_range))
        ]
        # Only the page is rendered (a copy per order): a listing of thousands stays quick.
        page = [
            (order, renamed(_rendered(account, order), self.renamed_keys))
            for order in matching[start_from : start_from + count]
        ]
        if sync:  # [DOC] a sync=1 read marks what it returns exported
            for order, _ in page:
                order[F.EXPORT_STATUS] = c.STATE_EXPORTED
                order[F.EXPORTED_ON] = _timestamp()
                account.export_marks.append({"order_id": str(order[F.ORDER_ID]), "at": order[F.EXPORTED_ON]})
        end = start_from + len(page)
        meta = {
            c.R_START_FROM: start_from,
            c.R_NEXT_START: end if end < len(matching) else None,
            c.R_COUNT: len(page),
            c.R_TOTAL: len(matching),
        }
        return {c.R_ORDERS: {c.R_RESPONSE: _meta(200, "Success", **meta), c.R_ORDER: [shown for _, shown in page]}}

    def _disturb_listing(self, account: Account, fault: Fault, listed: Callable[[Obj], bool]) -> None:
        """A listing fault (sandbox.common.Fault): orders added at the front, moved from the front
        to the end, or added at the end of the listing, just before a page is served."""
        ranks = account.rank.values()
        if fault.repeat:
            low = min(ranks, default=0)
            for n, order_id in enumerate(_add_orders(account, self._made_orders(account, fault.repeat)), start=1):
                account.rank[order_id] = low - n
        if fault.skip:
            high = max(ranks, default=0)
            front = [o for o in _sorted_orders(account) if listed(o)][: fault.skip]
            for n, order in enumerate(front, start=1):
                account.rank[str(order[F.ORDER_ID])] = high + n
        if fault.add:
            high = max(account.rank.values(), default=0)
            for n, order_id in enumerate(_add_orders(account, self._made_orders(account, fault.add)), start=1):
                account.rank[order_id] = high + n

    def _made_orders(self, account: Account, n: int) -> list[Obj]:
        if self.order_factory is not None:
            return list(self.order_factory(n))
        approved = [o for o in _sorted_orders(account) if o[F.STATUS] == c.STATUS_APPROVED]
        template = (approved or _sorted_orders(account) or [{}])[-1]
        made = []
        for k in range(n):
            order = {
                key: copy.deepcopy(v)
                for key, v in template.items()
                if key not in (F.ORDER_ID, F.DATE_CREATED, F.DATE_MODIFIED, F.EXPORTED_ON)
            }
            order[F.PO_NUMBER] = f"{template.get(F.PO_NUMBER) or 'PO'}-{account.next_order_id + k}"
            order[F.STATUS], order[F.EXPORT_STATUS] = c.STATUS_APPROVED, c.STATE_NOT_EXPORTED
            made.append(order)
        return made

    # --- connections [DOC] -------------------------------------------------------------------
    def _update_connection(self, account: Account, connection_id: str, body: Any) -> Obj:
        """[INF] PUT body: a flat object of connection fields, or the same under "connection"."""
        fields = body.get(c.R_CONNECTION, body) if isinstance(body, dict) else None
        if not isinstance(fields, dict) or not fields:
            raise SandboxError(400, "PUT connection needs a JSON object of connection fields")
        connection = account.connections.get(connection_id)
        if connection is None:
            raise SandboxError(404, f"Connection {connection_id} not found")
        fixed = {CF.CONNECTION_ID, CF.RETAILER_ID} & set(fields)
        if fixed:
            raise SandboxError(400, f"{', '.join(sorted(fixed))} cannot be changed")
        code = fields.get(CF.CUSTOMER_CODE)
        if code is not None and (not isinstance(code, str) or len(code) > 50):
            raise SandboxError(400, "customer_code must be text of at most 50 characters")  # [DOC] <= 50
        connection.update(copy.deepcopy(fields))
        account.connection_updates.append(
            {"connection_id": connection_id, "fields": copy.deepcopy(fields), "at": _timestamp()}
        )
        return _connections_answer([connection], "")

    # --- inventory [DOC] ---------------------------------------------------------------------
    def _bulk_inventory(self, account: Account, request: Request) -> Obj:
        wrapper = request.json.get(c.INVENTORY_ITEMS) if isinstance(request.json, dict) else None
        items = wrapper.get(c.INVENTORY_ITEM) if isinstance(wrapper, dict) else None
        items = [items] if isinstance(items, dict) else items
        if not isinstance(items, list):
            raise SandboxError(400, 'Body must be {"inventory_items": {"inventory_item": [...]}}')
        if request.query.get(c.P_OVERWRITE) == "1":  # [DOC] replaces the account's whole inventory
            account.inventory.clear()
        dec_pending = request.query.get(c.P_DEC_PENDING) == "1"
        inventory_log = []
        for item in items:
            label, ok = _apply_inventory(account, item, dec_pending)
            inventory_log.append(
                {c.LOG_SKU: label, c.LOG_ID: str(uuid.uuid4()), c.LOG_STATUS: c.LOG_PASS if ok else c.LOG_FAIL}
            )
        # [INF] sku_count counts the items received; the log says which passed.
        return {c.R_RESPONSE: _meta(200, "Success"), c.R_SKU_COUNT: len(items), c.R_INVENTORY_LOG: inventory_log}

    # --- /_sandbox/ (beside health, faults and reset); ?account= picks an account ---------------
    def health(self, request: Request) -> Obj:
        return {
            "ok": True,
            "accounts": sorted(self._accounts),
            "orders": len(self._account(request.query.get("account")).orders),
        }

    def _control_handlers(self, request: Request, action: str) -> ControlHandlers:
        account = request.query.get("account")
        body = request.json
        handlers: ControlHandlers = {
            ("POST", "orders"): lambda: {"ids": self.add_orders(_json_objects(body), account)},
            ("GET", "orders"): lambda: self.orders(account),
            ("GET", "connections"): lambda: self.connections(account),
            ("GET", "connection-updates"): lambda: self.connection_updates(account),
            ("GET", "export-marks"): lambda: self.export_marks(account),
            ("GET", "inventory"): lambda: self.inventory(account),
            ("GET", "credits"): self.credits_used,
            ("POST", "credits/reset"): self._control_reset_credits,
            ("GET", "products"): lambda: self.products(account),
            ("GET", "skus"): lambda: self.catalog_skus(account),
            ("GET", "price-types"): lambda: self.price_types(account),
            ("POST", "price-types"): lambda: self.add_price_type(
                str(_json_object(body).get(c.PriceTypeField.NAME)),
                str(_json_object(body).get(c.PriceTypeField.CURRENCY_CODE)),
                account,
            ),
            ("GET", "images"): lambda: self.images(account),
            ("GET", "deliveries"): lambda: self.deliveries(account),
            ("POST", "deliveries"): lambda: self.add_manual_delivery(
                str(_json_object(body).get(c.StyleField.STYLE_IDENTIFIER)), dict(_json_object(body)), account
            ),
            ("GET", "calls"): lambda: self.calls(account),
            ("GET", "bulk-jobs"): lambda: self.bulk_jobs(account),
            ("POST", "bulk-jobs/finish"): lambda: {"finished": self.finish_jobs(account)},
            ("GET", "pending-matches"): lambda: self.pending_matches(account),
            ("POST", "connections/approve"): lambda: self.approve_connections(
                (_json_object(body).get("customer_codes") if body else None), account
            ),
        }
        order_id = action.removeprefix("orders/")
        if order_id != action and "/" not in order_id:  # POST orders/<id>: change an order as a buyer would
            handlers[("POST", action)] = lambda: self.modify_order(order_id, _json_object(body), account)
        return handlers

    def _control_reset_credits(self) -> Obj:
        self.reset_credits()
        return {"ok": True}

    def _account(self, account_id: str | None) -> Account:
        if account_id is None:
            return next(iter(self._accounts.values()))
        try:
            return self._accounts[account_id]
        except KeyError:
            raise KeyError(f"no account {account_id}") from None

    def _load(self) -> None:
        with self._lock:
            self._accounts = {}
            for token, seed in self._seeds:
                account = _account(token, seed)
                self._accounts[account.account_id] = account


def serve(host: str = "127.0.0.1", port: int = 8802, *, token: str, seed: Mapping[str, Any] | None = None) -> None:
    """Run a sandbox in the foreground until interrupted (``bobbin sandbox --partner joor``)."""
    sandbox = JoorSandbox(host, port, token=token, seed=seed)
    log.info("sandbox_listening", partner=c.PARTNER, url=sandbox.url)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        log.info("sandbox_stopped", partner=c.PARTNER)


# --- accounts and orders -----------------------------------------------------------------------
def _account(token: str, seed: Mapping[str, Any]) -> Account:
    """An account from its seed: ``{"account": {account_id, name}, "warehouses": [...], "skus":
    [...], "connections": [...], "orders": [...]}`` (see default_seed)."""
    info = seed.get("account") or {}
    account = Account(
        account_id=str(info.get("account_id") or "sandbox"),
        authorization=c.authorization(token),
        warehouses=copy.deepcopy(list(seed.get("warehouses", []))),
        skus=copy.deepcopy(list(seed.get("skus", []))),
    )
    for connection in seed.get("connections", []):
        account.connections[str(connection[CF.CONNECTION_ID])] = copy.deepcopy(dict(connection))
    account.catalog = cat.load_catalog(account.skus, seed)
    _add_orders(account, list(seed.get("orders", [])))
    return account


def _add_orders(account: Account, orders: Obj | Sequence[Obj]) -> list[str]:
    batch = [orders] if isinstance(orders, Mapping) else list(orders)
    ids = []
    for order in batch:
        order = copy.deepcopy(dict(order))
        if order.get(F.ORDER_ID) in (None, ""):
            order[F.ORDER_ID] = account.next_order_id
        order.setdefault(F.STATUS, c.STATUS_APPROVED)
        order.setdefault(F.EXPORT_STATUS, c.STATE_NOT_EXPORTED)
        _check_status(order)
        now = _timestamp()
        order.setdefault(F.DATE_CREATED, now)
        order.setdefault(F.DATE_MODIFIED, order[F.DATE_CREATED])
        account.next_order_id = max(account.next_order_id, _int_or(order[F.ORDER_ID], 0) + 1)
        account.orders[str(order[F.ORDER_ID])] = order
        ids.append(str(order[F.ORDER_ID]))
    return ids


def _check_status(order: Obj) -> None:
    if order.get(F.STATUS) not in c.ORDER_STATUSES:
        raise ValueError(f"status must be one of {', '.join(c.ORDER_STATUSES)}, not {order.get(F.STATUS)!r}")
    states = c.EXPORT_STATUSES[c.EXPORT_ALL]
    if order.get(F.EXPORT_STATUS) not in states:
        raise ValueError(f"export_status must be one of {', '.join(sorted(states))}")


def _sorted_orders(account: Account) -> list[Obj]:
    """By order id ([INF]), unless a listing fault moved some (``Account.rank``)."""
    return sorted(
        account.orders.values(),
        key=lambda o: (account.rank.get(str(o[F.ORDER_ID]), 0), _int_or(o[F.ORDER_ID], 0), str(o[F.ORDER_ID])),
    )


def _shown_value(account: Account, order: Obj, key: str) -> Any:
    """One key of the order as :func:`_rendered` would serve it, without copying the order."""
    if key == F.CUSTOMER_CODE:
        connection = account.connections.get(str(order.get(F.CONNECTION_ID)))
        if connection and connection.get(CF.CUSTOMER_CODE):
            return connection[CF.CUSTOMER_CODE]
    return order.get(key)


def _rendered(account: Account, order: Obj) -> Obj:
    """The order as served: a copy carrying its connection's customer_code when the connection has
    one. [INF] JOOR fills the code in from the connection, so once Bobbin stores an ERP code on a
    connection the retailer's orders arrive with it."""
    shown = copy.deepcopy(order)
    code = _shown_value(account, order, F.CUSTOMER_CODE)
    if code is not None:
        shown[F.CUSTOMER_CODE] = code
    return shown


def _date_range(query: Mapping[str, str]) -> tuple[datetime, datetime] | None:
    start, end = query.get(c.P_DATE_START), query.get(c.P_DATE_END)
    if not start and not end:
        return None
    if not (start and end):
        raise SandboxError(400, "date_start and date_end must be given together")
    return _parse_timestamp(start, c.P_DATE_START), _parse_timestamp(end, c.P_DATE_END)


def _in_range(order: Obj, bounds: tuple[datetime, datetime]) -> bool:
    modified = _parse_timestamp(str(order.get(F.DATE_MODIFIED)), F.DATE_MODIFIED)
    return bounds[0] <= modified <= bounds[1]


def _parse_timestamp(text: str, name: str) -> datetime:
    """[DOC] YYYY-MM-DDThh:mm:ss.sTZD (UTC); a plain date or no zone is read as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SandboxError(400, f"Invalid {name} {text!r}: expected YYYY-MM-DDThh:mm:ss.sTZD") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _timestamp() -> str:
    """Now as JOOR's v2 timestamps read: UTC, milliseconds, "Z"."""
    return c.range_timestamp(datetime.now(UTC))


# --- connections -------------------------------------------------------------------------------
def _connections_answer(found: list[Obj], not_found: str) -> Obj:
    """[DOC] connections.response{code, comment, start_from, next_start, count, log_id} and
    connections.connection[]; [INF] no match is HTTP 404 in that envelope."""
    if not found:
        raise SandboxError(404, not_found)
    meta = _meta(200, "Success", **{c.R_START_FROM: 0, c.R_NEXT_START: None, c.R_COUNT: len(found)})
    return {c.R_CONNECTIONS: {c.R_RESPONSE: meta, c.R_CONNECTION: copy.deepcopy(found)}}


# --- inventory ---------------------------------------------------------------------------------
def _apply_inventory(account: Account, item: Any, dec_pending: bool) -> tuple[str, bool]:
    """Apply one inventory_item; (its SKU as logged, whether it passed). Nothing changes on fail."""
    if not isinstance(item, dict):
        return "", False
    sku = _find_sku(account, item)
    label = str(
        (sku or item).get(IF.UPC)
        or "/".join(str(item.get(k) or "?") for k in (INV.STYLE_NUMBER, INV.COLOR_CODE, INV.SIZE))
    )
    warehouse = str(item.get(INV.WAREHOUSE) or c.DEFAULT_WAREHOUSE)
    known = {c.DEFAULT_WAREHOUSE} | {str(w.get(F.WAREHOUSE_NAME)) for w in account.warehouses}
    day = _inventory_date(item.get(INV.INVENTORY_DATE))
    quantity = item.get(INV.INVENTORY)
    if sku is None or warehouse not in known or day is None or isinstance(quantity, bool):
        return label, False
    try:
        count = int(str(quantity).strip())
    except ValueError:
        return label, False
    if dec_pending:  # [INF] pending = units on PENDING orders; the result is not below 0
        count = max(0, count - _pending_units(account, sku))
    account.inventory[(warehouse, day, _sku_key(sku))] = count
    return label, True


def _find_sku(account: Account, item: Obj) -> Obj | None:
    """[DOC] upc is the recommended key; else style_number + color_code + size."""
    upc = str(item.get(INV.UPC) or "").strip()
    if upc:
        return next((s for s in account.skus if str(s.get(IF.UPC)) == upc), None)
    wanted = tuple(str(item.get(k) or "") for k in (INV.STYLE_NUMBER, INV.COLOR_CODE, INV.SIZE))
    return next((s for s in account.skus if _sku_key(s) == wanted), None)


def _sku_key(sku: Obj) -> tuple[str, str, str]:
    return (str(sku.get(IF.STYLE_NUMBER) or ""), str(sku.get(IF.COLOR_CODE) or ""), str(sku.get(IF.SIZE) or ""))


def _inventory_date(value: Any) -> str | None:
    """IMMEDIATE when absent; YYYY-MM-DD or MM-DD-YYYY as ISO [DOC]; None when unreadable."""
    if value in (None, ""):
        return IMMEDIATE
    for fmt in c.INVENTORY_DATE_FORMATS:
        try:
            return datetime.strptime(str(value).strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _pending_units(account: Account, sku: Obj) -> int:
    total = 0
    for order in account.orders.values():
        items = order.get(F.ORDER_ITEMS)
        if order.get(F.STATUS) != c.STATUS_PENDING or not isinstance(items, list):
            continue
        for line in items:
            if isinstance(line, dict) and (
                str(line.get(IF.UPC) or "") == str(sku.get(IF.UPC)) or _sku_key(line) == _sku_key(sku)
            ):
                total += _int_or(line.get(IF.QUANTITY), 0)
    return total


# --- helpers -----------------------------------------------------------------------------------
def _is_order_listing(request: Request) -> bool:
    """A page of orders (GET order/ without order_id): the requests a listing fault disturbs."""
    return (
        request.method == "GET"
        and request.path.rstrip("/") == f"{c.BASE_PATH}/order"
        and not request.query.get(c.P_ORDER_ID)
    )


def _meta(code: int, comment: str, **extra: Any) -> Obj:
    """[DOC] the v2 ``response{code, comment, log_id}``; [INF] log_id is a UUID, as inventory logs."""
    return {c.R_CODE: code, c.R_COMMENT: comment, c.R_LOG_ID: str(uuid.uuid4()), **extra}


def _error(status: int, comment: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response.json({c.R_RESPONSE: _meta(status, comment)}, status=status, headers=headers)


def _error_v4(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """[DOC] the v4 envelope: ``{"data": [], "errors": [{status, message, details}]}``."""
    body = {c.V4_DATA: [], c.V4_ERRORS: [{c.V4_STATUS: str(status), c.V4_MESSAGE: message, c.V4_DETAILS: {}}]}
    return Response.json(body, status=status, headers=headers)


def _jobs_answer(job: Obj) -> Obj:
    """[DOC] ``{"bulk_connections": {"response": {"code": 0}, "bulk_connections_jobs": [{...}]}}``."""
    return {c.R_BULK_CONNECTIONS: {c.R_RESPONSE: _meta(0, ""), c.R_BULK_CONNECTIONS_JOBS: [cat.job_view(job)]}}


def _int_param(
    query: Mapping[str, str], name: str, default: int, *, allowed: Mapping[int, Any] | Sequence[int] | None = None
) -> int:
    value = query.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise SandboxError(400, f"Invalid {name} {value!r}") from None
    if allowed is not None and number not in allowed:
        raise SandboxError(400, f"Invalid {name} {value!r}: expected one of {', '.join(map(str, allowed))}")
    return number


def _json_objects(payload: Any) -> list[Obj]:
    items = payload if isinstance(payload, list) else [payload]
    if not items or not all(isinstance(item, dict) for item in items):
        raise ValueError("expected a JSON object or an array of objects")
    return items


def _json_object(payload: Any) -> Obj:
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    return payload


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def default_seed() -> dict[str, Any]:
    """A tiny built-in data set: 2 warehouses, 8 SKUs, 3 connections (one without a customer
    code yet), 4 orders: 2 approved and 1 shipped waiting for export, 1 pending."""
    skus = [
        {
            IF.STYLE_NUMBER: style,
            IF.STYLE_IDENTIFIER: style,
            IF.COLOR_CODE: color,
            IF.COLOR_NAME: name,
            IF.SIZE: size,
            IF.UPC: f"0845120{n:04d}{n % 10}",
        }
        for n, (style, color, name, size) in enumerate(
            [
                (s, col, nm, z)
                for s, colors in (
                    ("LS100", (("BLK", "Black"), ("NVY", "Navy"))),
                    ("DN200", (("IND", "Indigo"), ("ECR", "Ecru"))),
                )
                for col, nm in colors
                for z in ("S", "M")
            ],
            start=1,
        )
    ]
    connections = [
        {
            CF.CONNECTION_ID: 501,
            CF.RETAILER_ID: 9001,
            CF.CUSTOMER_CODE: "C1001",
            CF.CUSTOMER_NAME: "Harbor Outfitters",
            CF.CUSTOMER_CONTACT_EMAIL: "buyer@harbor.example",
            CF.SALES_REP_CODE: "KM",
        },
        {
            CF.CONNECTION_ID: 502,
            CF.RETAILER_ID: 9002,
            CF.CUSTOMER_CODE: "C1002",
            CF.CUSTOMER_NAME: "Juniper & Co",
            CF.CUSTOMER_CONTACT_EMAIL: "orders@juniper.example",
            CF.SALES_REP_CODE: "DR",
        },
        {
            CF.CONNECTION_ID: 503,
            CF.RETAILER_ID: 9003,
            CF.CUSTOMER_CODE: "",
            CF.CUSTOMER_NAME: "Magpie Goods",
            CF.CUSTOMER_CONTACT_EMAIL: "hello@magpie.example",
            CF.SALES_REP_CODE: "KM",
        },
    ]
    orders = [
        _order(7001, "PO-7001", c.STATUS_APPROVED, connections[0], [(skus[0], 6, "48.00"), (skus[3], 4, "48.00")]),
        _order(7002, "PO-7002", c.STATUS_APPROVED, connections[1], [(skus[4], 3, "62.00")]),
        _order(7003, "PO-7003", c.STATUS_PENDING, connections[2], [(skus[1], 2, "48.00")]),
        _order(7004, "PO-7004", c.STATUS_SHIPPED, connections[0], [(skus[6], 5, "62.00")]),
    ]
    return {
        "account": {"account_id": "sandbox", "name": "Sandbox Brand"},
        # [DOC] price types: a currency + label pair, unique; [SEED] one label per currency.
        "price_types": [
            {"id": "5001", "name": "US Dollars", "currency_code": "USD"},
            {"id": "5002", "name": "Euro", "currency_code": "EUR"},
        ],
        "sales_reps": ["KM", "DR"],
        "warehouses": [
            {F.WAREHOUSE_NAME: "Main Warehouse", F.WAREHOUSE_CODE: "MAIN-WH"},
            {F.WAREHOUSE_NAME: "West Coast", F.WAREHOUSE_CODE: "WEST-WH"},
        ],
        "skus": skus,
        "connections": connections,
        "orders": orders,
    }


def _order(order_id: int, po: str, status: str, connection: Obj, lines: list[tuple[Obj, int, str]]) -> Obj:
    """[INF] a v2 order in the shape contract.OrderField names."""
    address = {
        AF.CODE: "MAIN",
        AF.NAME: connection[CF.CUSTOMER_NAME],
        AF.COMPANY: connection[CF.CUSTOMER_NAME],
        AF.LINE_1: "12 Harbor St",
        AF.LINE_2: None,
        AF.CITY: "Portland",
        AF.STATE: "ME",
        AF.ZIP: "04101",
        AF.COUNTRY: "US",
        AF.PHONE: "(207) 555-0100",
    }
    shipped = status == c.STATUS_SHIPPED
    return {
        F.ORDER_ID: order_id,
        F.PO_NUMBER: po,
        F.STATUS: status,
        F.EXPORT_STATUS: c.STATE_NOT_EXPORTED,
        F.DATE_CREATED: "2026-11-02T15:04:00.000Z",
        F.DATE_MODIFIED: "2026-11-02T15:04:00.000Z",
        F.START_SHIP_DATE: "2027-01-15",
        F.END_SHIP_DATE: "2027-02-14",
        F.CURRENCY_CODE: "USD",
        F.PRICE_TYPE: "US Dollars",
        F.CUSTOMER_CODE: connection[CF.CUSTOMER_CODE] or None,
        F.CUSTOMER_NAME: connection[CF.CUSTOMER_NAME],
        F.CUSTOMER_EMAIL: connection[CF.CUSTOMER_CONTACT_EMAIL],
        F.RETAILER_ID: connection[CF.RETAILER_ID],
        F.CONNECTION_ID: connection[CF.CONNECTION_ID],
        F.SALES_REP: "Kate Morrison",
        F.SALES_REP_CODE: connection[CF.SALES_REP_CODE],
        F.PAYMENT_METHOD: "Net 30",
        F.PAYMENT_METHOD_CODE: "NET30",
        F.SHIPPING_METHOD: "UPS Ground",
        F.SHIPPING_METHOD_CODE: "UPS-GND",
        F.WAREHOUSE_NAME: "Main Warehouse",
        F.WAREHOUSE_CODE: "MAIN-WH",
        F.BILLING_ADDRESS: address,
        F.SHIPPING_ADDRESS: dict(address),
        F.ORDER_ITEMS: [
            {
                IF.STYLE_NUMBER: sku[IF.STYLE_NUMBER],
                IF.STYLE_IDENTIFIER: sku[IF.STYLE_IDENTIFIER],
                IF.COLOR_CODE: sku[IF.COLOR_CODE],
                IF.COLOR_NAME: sku[IF.COLOR_NAME],
                IF.SIZE: sku[IF.SIZE],
                IF.UPC: sku[IF.UPC],
                IF.QUANTITY: qty,
                IF.QUANTITY_SHIPPED: qty if shipped else 0,
                IF.PRICE: price,
            }
            for sku, qty, price in lines
        ],
    }
