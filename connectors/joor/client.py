"""JOOR API v2 client: CRUD verbs over HTTP, nothing about the ERP.

Like an OCA Connector backend adapter, this class only knows JOOR's URLs, its auth header, its
response envelope and its rate limit. Mapping payloads to Bobbin's shapes is ``mapper.py``'s job;
deciding what to import is the order source's. Every name on the wire comes from ``contract.py``.

Failures follow ``connectors.errors``: the HTTP layer (``connectors.http``) sorts transport and
HTTP status failures; this module puts JOOR's own words on them (the ``comment`` of the v2
``response{code, comment, log_id}``) and treats an error code inside a 200 answer the same way.

Rate limit: JOOR grants 300 credits per account in a fixed 300-second window that starts at the
first request (GET 1 credit, writes 5) and answers 429 beyond. :class:`CreditBudget` counts the
credits this client spends and waits for the window to reset *before* a request would go over,
so a long import paces itself instead of collecting 429s. A 429 that still arrives (another
process spent credits on the same account) is retried by the HTTP layer after its Retry-After,
and the budget takes JOOR's word for when the window ends. Either wait is slept through only
while it is short (``HttpPolicy.longest_sleep``, 5 s); a longer one raises ``RateLimited`` with
the wait, and the task runs again once the window has reset, its worker free meanwhile
(``worker.base``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
import structlog
from requests.auth import AuthBase

from connectors.base import CUSTOMER_CODE
from connectors.errors import (
    AuthError,
    ContractViolation,
    NotSupported,
    PartnerError,
    PartnerRejected,
    RateLimited,
    RetryableError,
)
from connectors.http import (
    LONGEST_SLEEP,
    HttpPolicy,
    PartnerClient,
    body_excerpt,
    json_body,
    longest_sleep,
    parse_retry_after,
    send,
)
from connectors.joor import contract as c
from connectors.paging import OffsetPager
from core.logging import register_secret

log = structlog.get_logger()

# Retry-After from JOOR can be as long as its whole window; the default policy's 30 s cap would
# make the HTTP layer retry into the same exhausted window (where a policy sleeps that long at
# all: by default a wait over ``longest_sleep`` raises RateLimited). Exponential backoff stays at
# its usual few seconds (it is capped by its own formula long before 300 s).
JOOR_POLICY = HttpPolicy(backoff_cap=c.WINDOW_SECONDS)
# Added to a wait for the window to reset: our window starts when the first request leaves, JOOR's
# when it arrives, so JOOR's ends a little later than ours.
WINDOW_MARGIN_SECONDS = 1.0
# How much of a partner comment goes into an exception's text (the full comment stays on .value).
MESSAGE_EXCERPT_CHARS = 200
JSON_HEADERS = {"Accept": c.JSON_CONTENT_TYPE, "Content-Type": c.JSON_CONTENT_TYPE}
# The comment of a v2 envelope, found even in a body excerpt cut off mid-JSON.
_COMMENT_RE = re.compile(r'"comment"\s*:\s*("(?:[^"\\]|\\.)*")')

Json = dict[str, Any]


class JoorNotFound(PartnerRejected):
    """JOOR answered 404 in its own envelope: the thing asked for does not exist (as opposed to
    a wrong URL, which answers 404 without one)."""


@dataclass(frozen=True)
class OrdersPage:
    """One answer of ``GET order/``: the orders as received, and JOOR's paging numbers."""

    orders: list[Json]
    total: int | None
    next_start: int | None


@dataclass(frozen=True)
class InventoryItem:
    """One ``inventory_item`` of a bulk-inventory load [DOC]. Identify the SKU by ``upc`` (JOOR's
    recommended key) or by style_number + color_code + size. ``warehouse`` is JOOR's warehouse
    *name*; None sends the item to JOOR's Default warehouse. ``inventory_date`` None means
    immediate stock; a date is future (WIP) stock."""

    inventory: int
    warehouse: str | None = None
    upc: str | None = None
    style_number: str | None = None
    color_code: str | None = None
    size: str | None = None
    inventory_date: date | None = None

    def to_json(self) -> Json:
        """The item as JOOR reads it: keys left out rather than sent empty."""
        f = c.InventoryField
        values = {
            f.WAREHOUSE: self.warehouse,
            f.STYLE_NUMBER: self.style_number,
            f.COLOR_CODE: self.color_code,
            f.SIZE: self.size,
            f.UPC: self.upc,
            f.INVENTORY_DATE: self.inventory_date.isoformat() if self.inventory_date else None,
            f.INVENTORY: int(self.inventory),
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class InventoryResult:
    """[DOC] the bulk-inventory answer: how many SKUs the load carried, and a pass/fail log per SKU."""

    sku_count: int
    inventory_log: list[Json]


class CreditBudget:
    """JOOR's credits as one client can count them (partners/README 1.8).

    Not thread-safe, like the ``requests.Session`` beside it: one client per thread. Credits spent
    by other processes on the same account are invisible here until JOOR answers 429; then
    :meth:`throttled` takes JOOR's Retry-After as the end of the window.

    A wait for the window longer than ``longest_sleep`` is not slept (unless inside
    ``connectors.http.patient()``): :meth:`spend` raises ``RateLimited`` with it, and nothing is
    sent or counted.
    """

    def __init__(
        self,
        credits: int = c.CREDITS_PER_WINDOW,
        window_seconds: float = c.WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        longest_sleep: float = LONGEST_SLEEP,
    ) -> None:
        if credits < c.WRITE_CREDITS:
            raise ValueError(f"a window of {credits} credits cannot pay for one write ({c.WRITE_CREDITS})")
        self.credits = credits
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self.longest_sleep = longest_sleep
        self._window_start: float | None = None
        self._spent = 0

    def spend(self, cost: int) -> None:
        """Pay for one request about to leave, first sleeping out the window if it cannot pay;
        RateLimited instead when that wait is longer than ``longest_sleep``."""
        now = self._clock()
        if self._window_start is not None and now - self._window_start >= self.window_seconds:
            self._window_start = None
        if self._window_start is not None and self._spent + cost > self.credits:
            wait = self._window_start + self.window_seconds - now + WINDOW_MARGIN_SECONDS
            if wait > longest_sleep(self.longest_sleep):
                log.info("joor_credits_spent", wait=round(wait, 3), spent=self._spent, credits=self.credits)
                raise RateLimited(
                    f"JOOR's API credits for this window are spent ({self._spent} of {self.credits}); "
                    f"the window resets in {wait:.0f} s",
                    retry_after=wait,
                    partner=c.PARTNER,
                )
            log.info("joor_credit_wait", wait=round(wait, 3), spent=self._spent, credits=self.credits)
            self._sleep(wait)
            self._window_start = None
        if self._window_start is None:
            self._window_start, self._spent = self._clock(), 0
        self._spent += cost

    def throttled(self, retry_after: float | None) -> None:
        """JOOR answered 429: this window is spent, and it ends ``retry_after`` seconds from now.
        Without a Retry-After (JOOR documents none) it ends when the window this client has been
        counting ends; a whole window from now only when the client has counted none yet."""
        now = self._clock()
        if retry_after is not None:
            end = now + retry_after
        elif self._window_start is not None and now - self._window_start < self.window_seconds:
            end = self._window_start + self.window_seconds
        else:
            end = now + self.window_seconds
        self._window_start = end - self.window_seconds
        self._spent = self.credits


class _MeteredOAuth2(AuthBase):
    """Pays each attempt's credits, sets the v2 header ``OAuth2 <base64 token>`` [DOC], and
    watches the answer for a 429.

    requests calls an auth object right before every attempt ``connectors.http.send`` makes,
    retries included, and every attempt costs JOOR credits: this is the one place that sees them
    all. The 429 watch is a response hook the auth adds to its own request (requests' documented
    way for authenticators), so hooks on a session lent to the client still run. Keeps the token
    out of the client's attributes and out of any repr.
    """

    def __init__(self, api_token: str, budget: CreditBudget) -> None:
        self._header = c.authorization(api_token)
        register_secret(self._header.split(" ", 1)[-1])  # the base64 form never reaches a log line either
        self._budget = budget

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self._budget.spend(c.request_credits(request.method or "GET"))
        request.headers[c.HEADER_AUTHORIZATION] = self._header
        request.register_hook("response", self._observe)
        return request

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A 429 means our count of the window was wrong: JOOR's Retry-After is its end."""
        if response.status_code == 429:
            self._budget.throttled(parse_retry_after(response.headers.get("Retry-After")))

    def __repr__(self) -> str:
        return "<JoorOAuth2 (token hidden)>"


class JoorClient(PartnerClient):
    """One JOOR account. ``base_url`` ends in ``/v2`` (trailing slash optional)."""

    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        policy: HttpPolicy = JOOR_POLICY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        credits: int = c.CREDITS_PER_WINDOW,
        window_seconds: float = c.WINDOW_SECONDS,
    ) -> None:
        if not api_token:
            raise AuthError("JOOR site has no API token: check the site's API token", partner=c.PARTNER)
        super().__init__(base_url, policy, session, sleep)
        self.budget = CreditBudget(
            credits, window_seconds, clock=clock, sleep=sleep, longest_sleep=policy.longest_sleep
        )
        self._auth = _MeteredOAuth2(api_token, self.budget)

    # --- orders [DOC] /get-orders; order JSON [INF] -------------------------------------------
    def get_orders(
        self,
        *,
        order_type: int,
        sync: int,
        export_status: int,
        start_from: int = 0,
        count: int = c.DEFAULT_COUNT,
        order_id: str | int | None = None,
        date_start: datetime | None = None,
        date_end: datetime | None = None,
        check: int | None = None,
    ) -> OrdersPage:
        """One ``GET order/``. With ``sync=1`` JOOR marks every order it returns exported: only
        :meth:`mark_exported` should ask for that."""
        if order_type not in c.ORDER_TYPES:
            raise ValueError(f"order_type must be one of {sorted(c.ORDER_TYPES)}, not {order_type!r}")
        if export_status not in c.EXPORT_STATUSES:
            raise ValueError(f"export_status must be one of {sorted(c.EXPORT_STATUSES)}, not {export_status!r}")
        if sync not in (0, 1):
            raise ValueError(f"sync must be 0 or 1, not {sync!r}")
        if (date_start is None) != (date_end is None):
            raise ValueError("date_start and date_end go together (JOOR: one requires the other)")
        params: dict[str, str | int] = {
            c.P_ORDER_TYPE: order_type,
            c.P_SYNC: sync,
            c.P_EXPORT_STATUS: export_status,
            c.P_START_FROM: start_from,
            c.P_COUNT: count,
        }
        if order_id is not None:
            params[c.P_ORDER_ID] = str(order_id)
        if date_start is not None and date_end is not None:
            params[c.P_DATE_START] = c.range_timestamp(date_start)
            params[c.P_DATE_END] = c.range_timestamp(date_end)
        if check is not None:
            params[c.P_CHECK] = check
        # A sync=1 read is a write (it marks what it returns): not repeated after a lost answer.
        return _orders_page(self._call("GET", c.ORDERS, params=params, idempotent=not sync), f"GET {c.ORDERS}")

    def order_pager(self, order_type: int, export_status: int, count: int = c.DEFAULT_COUNT) -> OffsetPager:
        """Every order of ``order_type`` in ``export_status``, one page at a time, read with
        ``sync=0`` so that reading marks nothing (see ``source.py`` for why that matters).

        Pages overlap by one order so that a list shrinking under the read is seen (and read
        again), see ``connectors.paging``; a page reaching JOOR's ``total`` is the last.
        """
        if count < 2:
            raise ValueError("count must be at least 2 (one order of each page is the overlap)")

        def fetch(start: int, size: int) -> list[Json]:
            page = self.get_orders(
                order_type=order_type, sync=0, export_status=export_status, start_from=start, count=size
            )
            totals[start] = page.total
            return page.orders

        def is_last(orders: Sequence[Json], start: int) -> bool:
            total = totals.get(start)
            return total is not None and start + len(orders) >= total

        totals: dict[int, int | None] = {}
        return OffsetPager(fetch, count, is_last=is_last)

    def iter_order_pages(
        self, order_type: int, export_status: int, count: int = c.DEFAULT_COUNT
    ) -> Iterator[list[Json]]:
        """Every order of ``order_type`` in ``export_status``: :meth:`order_pager` without its report."""
        return iter(self.order_pager(order_type, export_status, count))

    def mark_exported(self, order_id: str | int) -> None:
        """Mark one order exported on JOOR: ``GET order/{order_id}?sync=1`` — a read that names
        the order in its path, so it can only touch that order ([CODE] public code reads one order
        there; [DOC] a sync=1 read marks what it returns).

        [INF] order_type=8 and export_status=1 go along so that the list defaults (approved and
        shipped, not yet exported) cannot hide the order, which makes a repeated mark a no-op, and
        check=0 so that JOOR's field check cannot mark it Failed instead.

        The answer must be that order and nothing else; anything else is a ContractViolation
        carrying what came back (JOOR may have marked those orders: the caller keeps them).
        """
        path = c.ORDER.format(order_id=quote(str(order_id), safe=""))
        params = {c.P_SYNC: 1, c.P_ORDER_TYPE: c.ORDER_TYPE_ALL, c.P_EXPORT_STATUS: c.EXPORT_ALL, c.P_CHECK: 0}
        where = f"GET {path}?sync=1"
        # A sync=1 read is a write (it marks what it returns): not repeated after a lost answer.
        page = _orders_page(self._call("GET", path, params=params, idempotent=False), where)
        got = [c.order_id_of(order) for order in page.orders]
        if got == [str(order_id)]:
            return
        if not page.orders:
            raise PartnerRejected(f"JOOR has no order {order_id} to mark exported", partner=c.PARTNER)
        raise ContractViolation(
            f"JOOR answered {where} for order {order_id} with {_some(got)}: "
            "it may have marked those exported instead; nothing is counted as sent",
            request=f"GET {path}?{urlencode(params)}",
            answer=_excerpt({c.R_ORDER: page.orders}),
            records=list(page.orders),
            partner=c.PARTNER,
        )

    def is_exported(self, order_id: str | int) -> bool:
        """Whether JOOR counts the order exported: ``GET order/?sync=0&order_type=8&export_status=3
        &order_id=<id>`` ([DOC] parameters; sync=0 marks nothing) returns it only then, and the
        order's own ``export_status``, where it carries one, must say EXPORTED too."""
        page = self.get_orders(
            order_type=c.ORDER_TYPE_ALL,
            sync=0,
            export_status=c.EXPORT_EXPORTED,
            start_from=0,
            count=1,
            order_id=order_id,
        )
        return any(
            c.order_id_of(order) == str(order_id)
            and order.get(c.OrderField.EXPORT_STATUS, c.STATE_EXPORTED) == c.STATE_EXPORTED
            for order in page.orders
        )

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        """Whether JOOR already shows a writeback (what OrderSource.writeback_applied asks): "exported" by
        :meth:`is_exported`; the ERP customer code by reading the connection named in ``payload``
        (``partner_customer_id``) and comparing its customer_code with ``erp_code``."""
        if status == "exported":
            return self.is_exported(partner_order_id)
        if status == CUSTOMER_CODE:
            connection = self.get_connection(str(payload["partner_customer_id"]))
            return connection.get(c.ConnectionField.CUSTOMER_CODE) == str(payload["erp_code"])
        raise NotSupported(f"JOOR keeps no order status {status!r} that Bobbin can read back", partner=c.PARTNER)

    # --- connections (customers) [DOC] /connection-get ----------------------------------------
    def get_connection(self, connection_id: str | int) -> Json:
        path = c.CONNECTION.format(connection_id=quote(str(connection_id), safe=""))
        found = _connections(self._call("GET", path), f"GET {path}")
        if not found:
            raise PartnerRejected(f"JOOR has no connection {connection_id}", partner=c.PARTNER)
        return found[0]

    def get_connection_by_customer_code(self, customer_code: str) -> Json | None:
        """The connection carrying the brand's ``customer_code``, or None when JOOR has none."""
        path = c.CONNECTION_BY_CUSTOMER_CODE.format(customer_code=quote(customer_code, safe=""))
        try:
            found = _connections(self._call("GET", path), f"GET {path}")
        except JoorNotFound:
            return None
        return found[0] if found else None

    def update_connection(self, connection_id: str | int, fields: Mapping[str, Any]) -> None:
        """``PUT connection/{id}/`` with the fields to change, e.g. ``{"customer_code": "JUN01"}``.

        [DOC] PUT exists; [INF] its body: the simplest, a flat JSON object of connection fields.
        """
        if not fields:
            raise ValueError("no connection fields to update")
        path = c.CONNECTION.format(connection_id=quote(str(connection_id), safe=""))
        # Not repeated after a lost answer, though a PUT could be: the outbox reads the connection
        # back (writeback_applied) instead, so JOOR records the change once.
        self._call("PUT", path, json=dict(fields), idempotent=False)

    # --- inventory [DOC] /style-inventory-bulk-request ----------------------------------------
    def bulk_inventory(
        self, items: Sequence[InventoryItem], *, dec_pending: bool = False, overwrite: bool = False
    ) -> InventoryResult:
        """``POST bulk-inventory`` with ``{"inventory_items": {"inventory_item": [...]}}``.

        ``overwrite`` replaces the account's whole inventory with ``items``, hence no empty loads;
        ``dec_pending`` has JOOR subtract its pending order quantities from what is sent.
        """
        if not items:
            raise ValueError("no inventory items to send")
        params = {name: 1 for name, on in ((c.P_OVERWRITE, overwrite), (c.P_DEC_PENDING, dec_pending)) if on}
        body = {c.INVENTORY_ITEMS: {c.INVENTORY_ITEM: [item.to_json() for item in items]}}
        # Safe to repeat after a lost answer: the items carry absolute quantities.
        answer = self._call("POST", c.BULK_INVENTORY, params=params, json=body, idempotent=True)
        sku_count, inventory_log = answer.get(c.R_SKU_COUNT), answer.get(c.R_INVENTORY_LOG)
        if not isinstance(sku_count, int) or not isinstance(inventory_log, list):
            raise PartnerRejected(
                f"JOOR POST {c.BULK_INVENTORY} answered without sku_count / inventory_log",
                value=_excerpt(answer),
                partner=c.PARTNER,
            )
        return InventoryResult(sku_count, inventory_log)

    # --- catalog: v4 products, SKUs, prices [DOC] (contract.py names the pages) -------------------
    @property
    def v4_base_url(self) -> str:
        """The v4 base beside this v2 one: [DOC] both live on one host, /v2 and /v4."""
        base = self.base_url.rstrip("/")
        if base.endswith(c.BASE_PATH):
            base = base[: -len(c.BASE_PATH)]
        return base + c.V4_BASE_PATH + "/"

    def v4_get(self, path: str, params: Mapping[str, Any] | None = None) -> V4Answer:
        """One v4 GET: ``{"data": [...], "errors": [...]}``."""
        return _v4_answer(self._call("GET", path, base=self.v4_base_url, params=dict(params or {})), f"GET {path}")

    def v4_list(
        self, path: str, params: Mapping[str, Any] | None = None, limit: int = c.V4_PAGE_LIMIT
    ) -> Iterator[Json]:
        """Every item of a v4 list, a page at a time ([INF] limit + offset; a short page is the last)."""
        offset = 0
        while True:
            page = self.v4_get(path, {**(params or {}), c.P_LIMIT: limit, c.P_OFFSET: offset})
            yield from page.data
            if len(page.data) < limit:
                return
            offset += len(page.data)

    def v4_post(
        self,
        path: str,
        items: Sequence[Mapping[str, Any]],
        params: Mapping[str, Any] | None = None,
        *,
        repeatable: bool,
    ) -> V4Answer:
        """One v4 bulk write (a JSON array). ``repeatable``: safe to send again after a lost answer
        (an update by id is; a create is not: the outcome is then unknown)."""
        if not items:
            return V4Answer([], [])
        answer = self._call(
            "POST", path, base=self.v4_base_url, params=dict(params or {}), json=list(items), idempotent=repeatable
        )
        return _v4_answer(answer, f"POST {path}")

    # --- catalog: v2 styles and images [DOC] ------------------------------------------------------
    def styles_page(self, start_from: int = 0, count: int = c.DEFAULT_COUNT) -> tuple[list[Json], int | None]:
        """One page of ``GET style`` [DOC]: the styles and JOOR's next start (None on the last)."""
        body = self._call("GET", c.STYLES, params={c.P_START_FROM: start_from, c.P_COUNT: count})
        return _styles(body, f"GET {c.STYLES}")

    def style(self, style_number: str, style_identifier: str) -> tuple[list[Json], int | None]:
        """``GET style-number/{number}/{identifier}`` [DOC]: the style, as the list answers it."""
        body = self._call("GET", _style_path(c.STYLE_BY_NUMBER, style_number, style_identifier))
        return _styles(body, f"GET {c.STYLE_BY_NUMBER}")

    def put_style(self, style_number: str, style_identifier: str, style: Mapping[str, Any]) -> Json:
        """``PUT style-number/{number}/{identifier}`` with ``{"styles": {"style": {...}}}`` [DOC
        PUT exists; INF its body mirrors the POST's]. Repeating it sets the same again."""
        path = _style_path(c.STYLE_BY_NUMBER, style_number, style_identifier)
        return self._call("PUT", path, json={c.R_STYLES: {c.R_STYLE: dict(style)}}, idempotent=True)

    def delete_style(self, style_number: str, style_identifier: str) -> Json:
        """``DELETE style-number/{number}/{identifier}`` [DOC]: the style leaves JOOR (notes and
        pending orders lose it)."""
        return self._call("DELETE", _style_path(c.STYLE_BY_NUMBER, style_number, style_identifier), idempotent=True)

    def post_image(
        self,
        style_number: str,
        style_identifier: str,
        params: Mapping[str, Any],
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Json:
        """``POST style-number/{number}/{identifier}/image/`` [DOC] with the raw image as the body
        (its Content-Type image/jpeg or image/png) or ``url`` among the params. Not repeated
        after a lost answer (a style-level image would be added twice)."""
        path = _style_path(c.STYLE_IMAGE, style_number, style_identifier)
        headers = {"Accept": c.JSON_CONTENT_TYPE, "Content-Type": content_type or c.JSON_CONTENT_TYPE}
        return self._call("POST", path, params=dict(params), data=body, headers=headers, idempotent=False)

    # --- customers: bulk connections [DOC] ------------------------------------------------------
    def bulk_connection(self, connections: Sequence[Mapping[str, Any]]) -> Json:
        """``POST bulk-connection`` with ``{"bulk_connections": {"connection": [...]}}``: a
        background job; [INF] the answer carries the job as the job GET does. Sending it again
        after a lost answer makes a second job with the same records, which JOOR applies by
        customer code, so it may be repeated."""
        if not connections:
            raise ValueError("no connections to send")
        body = {c.R_BULK_CONNECTIONS: {c.R_CONNECTION: [dict(x) for x in connections]}}
        return _job(self._call("POST", c.BULK_CONNECTION, json=body, idempotent=True), f"POST {c.BULK_CONNECTION}")

    def bulk_connection_job(self, job_id: str | int) -> Json:
        """``GET bulk-connection/{job_id}`` [DOC]: status queued / started / finished."""
        path = c.BULK_CONNECTION_JOB.format(job_id=quote(str(job_id), safe=""))
        return _job(self._call("GET", path), f"GET {path}")

    # --- transport ---------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        base: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Json:
        """Send one request (paid from the credit budget) and return the decoded JSON object;
        ``base`` another base URL (the v4 one), ``headers`` other than JSON's."""
        url = (base or self.base_url) + path
        where = f"{method} {urlsplit(url).path}"
        try:
            response = send(
                self._session,
                method,
                url,
                policy=self.policy,
                sleep=self._sleep,
                auth=self._auth,
                headers=dict(headers or JSON_HEADERS),
                **kwargs,
            )
        except (AuthError, PartnerRejected) as exc:
            raise _with_comment(exc, where) from None
        body = _decode(response, where)
        _raise_for_envelope(body, response.status_code, where)
        return body


# --- the envelope --------------------------------------------------------------------------------
def envelope(body: Any) -> Json | None:
    """The v2 ``response{code, comment, log_id}`` of a body: at the top, or inside the wrapper of a
    list answer (``{"connections": {"response": {...}, "connection": [...]}}``)."""
    if not isinstance(body, dict):
        return None
    found = body.get(c.R_RESPONSE)
    if isinstance(found, dict):
        return found
    for value in body.values():
        inner = value.get(c.R_RESPONSE) if isinstance(value, dict) else None
        if isinstance(inner, dict):
            return inner
    return None


def comment_of(text: str) -> str | None:
    """JOOR's ``comment`` in a response body (or the start of one); None when there is none."""
    try:
        found = envelope(json.loads(text))
    except ValueError:
        found = None
    if found is not None:
        comment = found.get(c.R_COMMENT)
        return None if comment is None else str(comment)
    v4 = _v4_messages(text)
    if v4:
        return v4
    match = _COMMENT_RE.search(text)
    return json.loads(match.group(1)) if match else None


def _v4_messages(text: str) -> str | None:
    """The messages of a v4 ``errors[{status, message, details}]`` body, joined; None without."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    errors = body.get(c.V4_ERRORS) if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return None
    said = [str(e.get(c.V4_MESSAGE)) for e in errors if isinstance(e, dict) and e.get(c.V4_MESSAGE)]
    return "; ".join(said) or None


def _with_comment(exc: AuthError | PartnerRejected, where: str) -> PartnerError:
    """The HTTP layer's refusal, reworded with JOOR's comment and JOOR's advice."""
    raw = exc.value if isinstance(exc.value, str) else ""
    comment = comment_of(raw)
    said = f"HTTP {exc.status}" + (f": {comment[:MESSAGE_EXCERPT_CHARS]}" if comment else "")
    value = comment if comment is not None else exc.value
    if isinstance(exc, AuthError):
        return AuthError(
            f"JOOR refused {where} ({said}): check the site's API token",
            status=exc.status,
            value=value,
            partner=c.PARTNER,
        )
    kind = JoorNotFound if exc.status == 404 and comment is not None else PartnerRejected
    return kind(f"JOOR rejected {where} ({said})", status=exc.status, value=value, partner=c.PARTNER)


def _decode(response: requests.Response, where: str) -> Json:
    body = json_body(response, f"JOOR {where}", c.PARTNER)
    if not isinstance(body, dict):
        raise PartnerRejected(
            f"JOOR {where} answered with JSON that is not an object",
            status=response.status_code,
            value=body_excerpt(response),
            partner=c.PARTNER,
        )
    return body


def _raise_for_envelope(body: Json, http_status: int, where: str) -> None:
    """An error code inside a 2xx answer is an error all the same ([DOC] the envelope carries
    "success/error code and details"; [INF] that JOOR may send one with HTTP 200)."""
    found = envelope(body)
    code = _int(found.get(c.R_CODE)) if found is not None else None
    # [DOC] success is 200 in some answers and 0 in others (bulk-connection job, style delete).
    if code is None or code == 0 or 200 <= code < 300:
        return
    comment = str(found.get(c.R_COMMENT) or "") if found is not None else ""
    said = f"code {code}" + (f": {comment[:MESSAGE_EXCERPT_CHARS]}" if comment else "")
    if code in (401, 403):
        raise AuthError(
            f"JOOR refused {where} ({said}): check the site's API token",
            status=http_status,
            value=comment,
            partner=c.PARTNER,
        )
    if code == 429 or code >= 500:
        raise RetryableError(
            f"JOOR could not answer {where} now ({said})", status=http_status, value=comment, partner=c.PARTNER
        )
    raise PartnerRejected(f"JOOR rejected {where} ({said})", status=http_status, value=comment, partner=c.PARTNER)


def _orders_page(body: Json, where: str) -> OrdersPage:
    """[INF] ``{"orders": {"response": {..., "total", "next_start"}, "order": [...]}}``; also a
    bare ``"orders": [...]`` and paging numbers at the top level, as the real shape may be."""
    wrapper = body.get(c.R_ORDERS)
    meta: dict[str, Any] = {**body, **(envelope(body) or {})}
    orders: Any = wrapper.get(c.R_ORDER) if isinstance(wrapper, dict) else wrapper
    if isinstance(orders, dict):  # XML-to-JSON turns a one-element list into the element
        orders = [orders]
    if orders is None and isinstance(wrapper, dict):
        orders = []  # an empty list converted from XML disappears
    if not isinstance(orders, list):
        raise PartnerRejected(
            f"JOOR {where} returned no '{c.R_ORDERS}.{c.R_ORDER}' list", value=_excerpt(body), partner=c.PARTNER
        )
    return OrdersPage(orders, _int(meta.get(c.R_TOTAL)), _int(meta.get(c.R_NEXT_START)))


def _connections(body: Json, where: str) -> list[Json]:
    """[DOC] ``connections.connection[]`` (a lone connection may arrive as an object)."""
    wrapper = body.get(c.R_CONNECTIONS)
    found: Any = wrapper.get(c.R_CONNECTION) if isinstance(wrapper, dict) else None
    if isinstance(found, dict):
        found = [found]
    if found is None and isinstance(wrapper, dict):
        found = []
    if not isinstance(found, list):
        raise PartnerRejected(
            f"JOOR {where} returned no '{c.R_CONNECTIONS}.{c.R_CONNECTION}' list",
            value=_excerpt(body),
            partner=c.PARTNER,
        )
    return [item for item in found if isinstance(item, dict)]


@dataclass(frozen=True)
class V4Answer:
    """[DOC] the v4 envelope: what was done (``data``) and what was not (``errors``)."""

    data: list[Json]
    errors: list[Json]


def _v4_answer(body: Json, where: str) -> V4Answer:
    data, errors = body.get(c.V4_DATA, []), body.get(c.V4_ERRORS) or []
    if not isinstance(data, list) or not isinstance(errors, list):
        raise PartnerRejected(
            f"JOOR {where} answered without the v4 '{c.V4_DATA}' / '{c.V4_ERRORS}' lists",
            value=_excerpt(body),
            partner=c.PARTNER,
        )
    return V4Answer([d for d in data if isinstance(d, dict)], [e for e in errors if isinstance(e, dict)])


def _job(body: Json, where: str) -> Json:
    """[DOC] ``bulk_connections.bulk_connections_jobs[]``: the one job asked about."""
    wrapper = body.get(c.R_BULK_CONNECTIONS)
    jobs: Any = wrapper.get(c.R_BULK_CONNECTIONS_JOBS) if isinstance(wrapper, dict) else None
    if isinstance(jobs, dict):  # XML-to-JSON: a lone element, or {"bulk_connection_job": [...]}
        jobs = jobs.get("bulk_connection_job", jobs)
        jobs = [jobs] if isinstance(jobs, dict) else jobs
    if not isinstance(jobs, list) or not jobs or not isinstance(jobs[0], dict):
        raise PartnerRejected(
            f"JOOR {where} answered without '{c.R_BULK_CONNECTIONS}.{c.R_BULK_CONNECTIONS_JOBS}'",
            value=_excerpt(body),
            partner=c.PARTNER,
        )
    job: Json = jobs[0]
    return job


def _styles(body: Json, where: str) -> tuple[list[Json], int | None]:
    """[DOC] ``styles.style[]`` (a lone style may arrive as an object) and the next start."""
    wrapper = body.get(c.R_STYLES)
    found: Any = wrapper.get(c.R_STYLE) if isinstance(wrapper, dict) else None
    if isinstance(found, dict):
        found = [found]
    if found is None:
        found = []
    if not isinstance(found, list):
        raise PartnerRejected(
            f"JOOR {where} returned no '{c.R_STYLES}.{c.R_STYLE}' list", value=_excerpt(body), partner=c.PARTNER
        )
    meta = envelope(body) or {}
    return [s for s in found if isinstance(s, dict)], _int(meta.get(c.R_NEXT_START))


def _style_path(template: str, style_number: str, style_identifier: str) -> str:
    return template.format(style_number=quote(style_number, safe=""), style_identifier=quote(style_identifier, safe=""))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _some(ids: Sequence[str | None], shown: int = 5) -> str:
    """Order ids for a message: the first few, then how many more (an answer may carry a page)."""
    text = ", ".join(map(str, ids[:shown]))
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return f"order(s) {text}{more}"


def _excerpt(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text[:MESSAGE_EXCERPT_CHARS] + ("…" if len(text) > MESSAGE_EXCERPT_CHARS else "")
