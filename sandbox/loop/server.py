"""A Loop Returns API emulator, written from Loop's documentation (shared/partners/README.md, section 3).

Paths, parameters, headers, field names, error bodies and limits come from the sandbox's own tables
(``sandbox/loop/api.py``), never from the Loop client. Where the document is silent the choice is
marked [INF] there or here.

It behaves as the document describes:
- every ``/api/v1/`` request carries ``X-Authorization: <api key>``; a key without the Returns scope
  (and [INF] a missing or unknown key) is HTTP 401 with Loop's body
  ``{"error": {"code": "401", "http_code": "GEN-UNAUTHORIZED", "message": "Unauthorized."}}``;
- 300 requests per minute per key ([INF] a sliding window), then HTTP 429 with ``Retry-After``;
- ``GET warehouse/return/list``: from / to (at most 120 days apart, [INF] a longer range is a 422;
  neither: the last 24 hours), filter=created_at|updated_at, state (default open, closed, expired),
  paginate=true with pageSize (<= 500) and a cursor carried by ``nextPageUrl`` until it is null;
  without paginate a bare JSON array. Ids are strings, timestamps ``…T…000Z``;
- ``GET warehouse/return/details`` by return_id, order_id (Shopify's) or order_name: integer ids,
  timestamps ``YYYY-MM-DD hh:mm:ss``;
- ``POST warehouse/return/{id}/process|close|cancel|flag`` answer HTTP 200 with ``"true"`` or
  ``{"errors": {"message", "code"}}`` (UNPROCESSABLE_FLAGGED_RETURN, UNPROCESSABLE_RETURN); process
  fulfils the outcomes (refunds, the exchange order, the gift card);
- notes: ``GET …/notes`` (422 when there are none), ``POST …/note`` with ``content`` <= 255.

Webhooks (topic ``return``; triggers return.created, return.updated, return.closed) go to a
configured receiver when a return is made or changes, through the API or through
:meth:`LoopSandbox.create_return` / :meth:`LoopSandbox.update_return`: a compact body with ``/``
escaped and non-ASCII as ``\\uXXXX``, signed ``X-Loop-Signature: base64(HMAC-SHA256(body,
secret))``, retried 5 times with exponential backoff and full jitter on a non-2xx answer (short
backoffs for tests). Every attempt is recorded. For chaos tests a change's webhook can be sent
twice, dropped, or held back and released later in reverse order.

``/_sandbox/...`` is not Loop's: unauthenticated control endpoints to read, create and change
returns, read notes, actions, API calls and webhook deliveries, configure and release webhooks,
queue faults (docs/faults.md), and reset. An injected ``auth`` fault answers Loop's 401; listing
faults disturb the Detailed Returns List (see :meth:`LoopSandbox._disturb_listing`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import math
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

import structlog

from sandbox.common import ControlHandlers, Fault, FaultQueue, PartnerSandbox, Request, Response
from sandbox.loop import api as c

log = structlog.get_logger()

RF, LF, WF, FF, BF = c.ReturnField, c.LineItemField, c.WebhookField, c.RefundField, c.LabelField
Obj = dict[str, Any]
CENTS = Decimal("0.01")
TAX_RATE = Decimal("0.08")  # [INF] the demo shop's sales tax on returned lines
ONE_SECOND = timedelta(seconds=1)

# How a change's webhook is sent (the chaos tests' knobs): once, twice (a duplicate), never
# (dropped), or held until release_webhooks() (to deliver out of order).
SEND, TWICE, DROP, HOLD = "send", "twice", "drop", "hold"
WEBHOOK_MODES = (SEND, TWICE, DROP, HOLD)


class LoopError(Exception):
    """A request Loop refuses: answered with ``{"errors": {"message", "code"}}`` and ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --- webhooks ------------------------------------------------------------------------------------
@dataclass
class WebhookEvent:
    """One delivery of one change: the bytes and signature are fixed when the change happens."""

    delivery_id: int
    trigger: str
    return_id: int
    body: bytes
    signature: str
    url: str
    outcome: str = "pending"  # pending, held, dropped, delivered, gave_up
    attempts: int = 0

    def view(self) -> Obj:
        return {
            "delivery_id": self.delivery_id,
            "trigger": self.trigger,
            "return_id": self.return_id,
            "outcome": self.outcome,
            "attempts": self.attempts,
            "signature": self.signature,
            "body": self.body.decode("ascii"),
        }


class WebhookDispatcher:
    """Delivers webhook events from one background thread: first attempts in the order the changes
    happened, retries when their backoff is due (a retry never holds up other events).

    ``backoff_base`` / ``backoff_cap``: retry k waits a uniform draw up to
    ``min(cap, base * 2**(k-1))`` seconds (full jitter, seeded), or the receiver's Retry-After, at
    most ``max_retry_after``. ``attempts`` in all, then the event is given up.
    """

    def __init__(
        self,
        *,
        backoff_base: float = c.WEBHOOK_BACKOFF_BASE_SECONDS,
        backoff_cap: float = c.WEBHOOK_BACKOFF_CAP_SECONDS,
        max_retry_after: float = c.MAX_RETRY_AFTER_SECONDS,
        timeout: float = c.WEBHOOK_TIMEOUT_SECONDS,
        attempts: int = c.WEBHOOK_ATTEMPTS,
        jitter_seed: int = 0,
    ) -> None:
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.max_retry_after, self.timeout, self.max_attempts = max_retry_after, timeout, attempts
        self._rng = random.Random(jitter_seed)
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, WebhookEvent]] = []  # a heap of (due, seq, event)
        self._seq = itertools.count()
        self._sending = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        self.attempt_log: list[Obj] = []

    def submit(self, event: WebhookEvent, delay: float = 0.0) -> None:
        with self._cond:
            event.outcome = "pending"
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), event))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="loop-webhooks", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self.attempt_log.clear()
            self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._sending

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued or being sent (retries included), False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._sending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, _, event = heapq.heappop(self._queue)
                self._sending += 1
            try:
                self._attempt(event)
            finally:
                with self._cond:
                    self._sending -= 1
                    self._cond.notify_all()

    def _attempt(self, event: WebhookEvent) -> None:
        event.attempts += 1
        status, error, retry_after = self._post(event)
        ok = status is not None and 200 <= status < 300
        record: Obj = {
            "delivery_id": event.delivery_id,
            "trigger": event.trigger,
            "return_id": event.return_id,
            "attempt": event.attempts,
            "status": status,
            "error": error,
            "at": time.time(),
            "retry_in": None,
        }
        if ok:
            event.outcome = "delivered"
        elif event.attempts >= self.max_attempts:
            event.outcome = "gave_up"  # [DOC] 6 attempts, then Loop stops
        else:
            delay = self._backoff(event.attempts, retry_after)
            record["retry_in"] = delay
            with self._cond:
                heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), event))
        with self._cond:
            self.attempt_log.append(record)
        log.debug("sandbox_webhook", trigger=event.trigger, attempt=event.attempts, status=status, error=error)

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (retry - 1))
        with self._cond:
            return self._rng.uniform(0, ceiling)

    def _post(self, event: WebhookEvent) -> tuple[int | None, str | None, float | None]:
        request = urllib.request.Request(
            event.url,
            data=event.body,
            method="POST",
            headers={"Content-Type": c.WEBHOOK_CONTENT_TYPE, c.HEADER_SIGNATURE: event.signature},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                answer.read()
                return int(answer.status), None, None
        except urllib.error.HTTPError as exc:
            retry_after = _seconds_or_none(exc.headers.get("Retry-After"))
            exc.close()
            return int(exc.code), None, retry_after
        except (OSError, http.client.HTTPException) as exc:
            return None, type(exc).__name__, None


def encode_webhook_body(payload: Mapping[str, Any]) -> bytes:
    """[DOC] compact JSON, ``/`` as ``\\/``, non-ASCII as ``\\uXXXX`` (a ``/`` only occurs inside
    strings, so escaping it in the text is escaping it in the strings)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


# --- the sandbox ---------------------------------------------------------------------------------
class LoopSandbox(PartnerSandbox):
    """The emulator: one Loop shop in memory behind a lock, served on ``host:port`` (0 = a free port).

    ``api_key`` opens it with ``scopes`` (:meth:`add_key` adds others). ``rate_limit`` requests per
    ``rate_window`` seconds per key shrink Loop's limit for tests; ``clock`` (Unix seconds) drives
    timestamps, the default 24-hour window and the rate window, so a test can move time instead of
    waiting. ``seed``: ``{"shop_id", "returns": [...], "notes": {return id: [content, ...]}}`` (see
    ``sandbox/loop/demo.py``); none: an empty shop. ``webhook_url`` / ``webhook_secret``: where
    webhooks go (also :meth:`configure_webhooks`); ``backoff_base`` / ``backoff_cap``: their retry
    waits; ``webhook_updated_at``: put updated_at in webhook bodies (the documented example has none).
    """

    api_base_path = c.BASE_PATH  # the API base, as a site's base URL: http://127.0.0.1:PORT/api/v1

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str,
        scopes: Sequence[str] = (c.SCOPE_RETURNS,),
        seed: Mapping[str, Any] | None = None,
        rate_limit: int = c.RATE_LIMIT_REQUESTS,
        rate_window: float = c.RATE_LIMIT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        backoff_base: float = c.WEBHOOK_BACKOFF_BASE_SECONDS,
        backoff_cap: float = c.WEBHOOK_BACKOFF_CAP_SECONDS,
        max_retry_after: float = c.MAX_RETRY_AFTER_SECONDS,
        webhook_timeout: float = c.WEBHOOK_TIMEOUT_SECONDS,
        jitter_seed: int = 0,
        webhook_updated_at: bool = False,
    ) -> None:
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self._clock = clock
        self._lock = threading.RLock()
        self._keys: dict[str, frozenset[str]] = {api_key: frozenset(scopes)}
        self._seed: Obj = copy.deepcopy(dict(seed or {}))
        self.faults = FaultQueue(auth_response=lambda request: _unauthorized(), is_listing=_is_return_listing)
        self.webhook_url, self._webhook_secret = webhook_url, webhook_secret
        self.webhook_updated_at = webhook_updated_at
        # How the webhook of a change made through the API (or without a mode) is sent.
        self.webhook_mode = SEND
        self.dispatcher = WebhookDispatcher(
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retry_after=max_retry_after,
            timeout=webhook_timeout,
            jitter_seed=jitter_seed,
        )
        self._hits: dict[str, deque[float]] = {}
        self._load()
        self._serve_on(host, port)

    # --- lifecycle -----------------------------------------------------------------------------
    def stop(self) -> None:
        self.dispatcher.stop()
        super().stop()

    def reset(self) -> None:
        """Back to the seed: returns, notes, recorded calls, rate windows, webhooks and faults."""
        self.faults.clear()
        self.dispatcher.clear()
        self.webhook_mode = SEND
        self._load()

    # --- keys ----------------------------------------------------------------------------------
    def add_key(self, api_key: str, scopes: Sequence[str]) -> None:
        """Another key with its scopes ([DOC] keys carry scopes; rate limits are per key)."""
        with self._lock:
            self._keys[api_key] = frozenset(scopes)

    # --- the shop's returns (Python side of /_sandbox/) ---------------------------------------
    def returns(self) -> list[Obj]:
        """Every return as stored (the details shape: integer ids, ``YYYY-MM-DD hh:mm:ss``)."""
        with self._lock:
            return [copy.deepcopy(r) for r in sorted(self._returns.values(), key=lambda r: r[RF.ID])]

    def get_return(self, return_id: int) -> Obj:
        with self._lock:
            return copy.deepcopy(self._find(return_id))

    def notes(self, return_id: int) -> list[Obj]:
        with self._lock:
            return copy.deepcopy(self._notes.get(int(return_id), []))

    def actions(self) -> list[Obj]:
        """Every process / close / cancel / flag received: ``{return_id, action, before, after,
        code, at}`` (``after`` None and ``code`` set when refused), oldest first."""
        with self._lock:
            return copy.deepcopy(self._actions)

    def calls(self) -> list[Obj]:
        """Every API request answered past auth and the rate limit: ``{method, path, query}``."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def create_return(
        self,
        fields: Mapping[str, Any] | None = None,
        *,
        lines: Sequence[Mapping[str, Any]] | None = None,
        outcome: str = c.OUTCOME_REFUND,
        state: str = c.STATE_OPEN,
        webhook: str | None = None,
    ) -> Obj:
        """A shopper starts a return: built from ``lines`` (catalog rows: sku, title, variant_title,
        price, barcode; one line per unit) with ``outcome`` and ``state``, created now, then
        ``fields`` set over it. Sends ``return.created``; answers the return as stored."""
        with self._lock:
            made = self._make_return(fields, lines=lines, outcome=outcome, state=state)
            self._emit(made, c.TRIGGER_RETURN_CREATED, webhook)
            return copy.deepcopy(made)

    def update_return(
        self,
        return_id: int,
        changes: Mapping[str, Any],
        *,
        trigger: str | None = None,
        webhook: str | None = None,
    ) -> Obj:
        """Change a return as Loop would (a shopper's edit, a label scan, an admin): ``changes`` set
        over it, updated_at moved on (edited_at too when more than the state changes). Sends
        ``return.closed`` when it becomes closed, else ``return.updated`` (or ``trigger``)."""
        if trigger is not None and trigger not in c.RETURN_TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(c.RETURN_TRIGGERS)}")
        with self._lock:
            found = self._find(return_id)
            before = found[RF.STATE]
            state = changes.get(RF.STATE, before)
            if state not in c.STATES:
                raise ValueError(f"state must be one of {', '.join(c.STATES)}, not {state!r}")
            found.update({k: copy.deepcopy(v) for k, v in changes.items() if k != RF.ID})
            self._touch(found, edited=bool(set(changes) - {RF.STATE}))
            self._emit(found, trigger or _trigger(before, found[RF.STATE]), webhook)
            return copy.deepcopy(found)

    def add_note(self, return_id: int, content: str) -> Obj:
        """A note on the return's timeline, as a person in Loop's admin would add one."""
        with self._lock:
            return self._add_note(self._find(return_id), content)

    # --- webhooks (Python side of /_sandbox/) ---------------------------------------------------
    def configure_webhooks(
        self,
        url: str | None,
        secret: str | None,
        *,
        backoff_base: float | None = None,
        backoff_cap: float | None = None,
        max_retry_after: float | None = None,
    ) -> None:
        """Where webhooks go and the secret they are signed with (None: no webhooks)."""
        with self._lock:
            self.webhook_url, self._webhook_secret = url, secret
            if backoff_base is not None:
                self.dispatcher.backoff_base = backoff_base
            if backoff_cap is not None:
                self.dispatcher.backoff_cap = backoff_cap
            if max_retry_after is not None:
                self.dispatcher.max_retry_after = max_retry_after

    def send_webhook(self, return_id: int, trigger: str, *, webhook: str | None = None) -> list[WebhookEvent]:
        """Send the return as it is now under ``trigger`` (again), without changing it."""
        if trigger not in c.RETURN_TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(c.RETURN_TRIGGERS)}")
        with self._lock:
            return self._emit(self._find(return_id), trigger, webhook)

    def release_webhooks(self, *, reverse: bool = False) -> int:
        """Send the held webhooks, in the order their changes happened or (``reverse``) backwards."""
        with self._lock:
            held = [e for e in self._events if e.outcome == "held"]
            for event in reversed(held) if reverse else held:
                self.dispatcher.submit(event)
            return len(held)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted webhook is delivered or given up (retries included)."""
        return self.dispatcher.wait_idle(timeout)

    def webhook_events(self) -> list[WebhookEvent]:
        """Every webhook made, in the order of the changes: its bytes, signature and outcome."""
        with self._lock:
            return list(self._events)

    def webhook_attempts(self) -> list[Obj]:
        """Every delivery attempt: ``{delivery_id, trigger, return_id, attempt, status, error, at,
        retry_in}`` (status None: no HTTP answer; ``error`` says why)."""
        with self.dispatcher._cond:
            return copy.deepcopy(self.dispatcher.attempt_log)

    def inject_fault(self, status: int | None = None, *, count: int | None = None, **more: Any) -> Fault:
        """Make the next ``count`` API requests misbehave; ``more`` takes the other
        :class:`~sandbox.common.Fault` fields (``path``, ``retry_after``, ``rate``, ``nth``, ...)."""
        return self.faults.inject(Fault(status=status, count=count, **more))

    # --- HTTP: the API (control endpoints and faults: sandbox.common.PartnerSandbox) ---------------
    def _not_found(self, request: Request) -> Response:
        return _error(404, c.NOT_FOUND, f"Unknown path {request.path}")

    def _answer(self, request: Request, listing_fault: Fault | None) -> Response:
        key = str(request.headers.get(c.HEADER_AUTHORIZATION) or "").strip()
        if not self._authorized(key):
            return _unauthorized()
        with self._lock:
            retry_after = self._charge(key)
            if retry_after is not None:
                return Response.json(
                    {c.ERROR_MESSAGE: c.TOO_MANY_REQUESTS_MESSAGE}, 429, headers={"Retry-After": str(retry_after)}
                )
            self._calls.append({"method": request.method, "path": request.path, "query": dict(request.query)})
            try:
                return self._route(request, listing_fault)
            except LoopError as exc:
                return _error(exc.status, exc.code, exc.message)

    def _authorized(self, key: str) -> bool:
        """[DOC] a key without the Returns scope is refused; every path served here needs it."""
        with self._lock:
            for known, scopes in self._keys.items():
                if hmac.compare_digest(key.encode("utf-8"), known.encode("utf-8")):
                    return c.SCOPE_RETURNS in scopes
            return False

    def _charge(self, key: str) -> int | None:
        """Count the request in the key's window; when the window is full, the seconds to wait."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.rate_window:
            hits.popleft()
        if len(hits) >= self.rate_limit:
            return max(1, math.ceil(hits[0] + self.rate_window - now))
        hits.append(now)
        return None

    def _route(self, request: Request, listing_fault: Fault | None) -> Response:
        path = "/".join(s for s in request.path[len(c.BASE_PATH) :].split("/") if s)
        segments = path.split("/")
        if request.method == "GET" and path == c.RETURN_LIST:
            return self._list(request, listing_fault)
        if request.method == "GET" and path == c.RETURN_DETAILS:
            return Response.json(_details_view(self._details(request.query)))
        if segments[:2] == ["warehouse", "return"] and len(segments) == 4:
            return_id, verb = segments[2], segments[3]
            if request.method == "POST" and verb in c.ACTIONS:
                return self._act(_return_id(return_id), verb, request.json)
            if request.method == "GET" and path == c.RETURN_NOTES.format(return_id=return_id):
                return self._get_notes(_return_id(return_id))
            if request.method == "POST" and path == c.RETURN_NOTE.format(return_id=return_id):
                content = request.params().get(c.NOTE_CONTENT)
                return Response.json(self._add_note(self._find(_return_id(return_id)), content))
        raise LoopError(404, c.NOT_FOUND, f"Unknown endpoint {request.method} {request.path}")

    # --- the Detailed Returns List [DOC] -----------------------------------------------------------
    def _list(self, request: Request, listing_fault: Fault | None) -> Response:
        query = request.query
        start, end = _window(query, self._now())
        field = query.get(c.P_FILTER) or c.DEFAULT_FILTER
        if field not in c.FILTERS:
            raise LoopError(422, c.INVALID_PARAMETER, f"filter must be one of {', '.join(c.FILTERS)}")
        states = _states(query.get(c.P_STATE))
        paginate = _flag(query.get(c.P_PAGINATE), c.P_PAGINATE)
        size = _int_param(query.get(c.P_PAGE_SIZE), c.P_PAGE_SIZE, c.SERVED_DEFAULT_PAGE_SIZE)
        if not 1 <= size <= c.MAX_PAGE_SIZE:
            raise LoopError(422, c.INVALID_PARAMETER, f"pageSize must be between 1 and {c.MAX_PAGE_SIZE}")
        after = _decode_cursor(query.get(c.P_CURSOR)) if paginate else None
        low, high = _stamp(start), _stamp(end)

        def listed() -> list[Obj]:
            found = [r for r in self._returns.values() if r[RF.STATE] in states and low <= r[field] <= high]
            return sorted(found, key=lambda r: (r[field], r[RF.ID]))

        if listing_fault is not None:
            self._disturb_listing(listing_fault, listed(), field, after)
        matching = listed()
        if not paginate:
            return Response.json([_list_view(r) for r in matching])
        rest = [r for r in matching if after is None or (r[field], r[RF.ID]) > after]
        page = rest[:size]
        next_url = None
        if len(rest) > size:
            next_url = _page_url(request, _encode_cursor(page[-1][field], page[-1][RF.ID]))
        return Response.json(
            {
                c.R_RETURNS: [_list_view(r) for r in page],
                c.R_NEXT_PAGE_URL: next_url,
                c.R_PREVIOUS_PAGE_URL: None,
            }
        )

    def _disturb_listing(self, fault: Fault, listed: list[Obj], field: str, after: tuple[str, int] | None) -> None:
        """A listing fault (sandbox.common.Fault), just before a page is served. ``repeat=n``: the n
        returns served last before the cursor are edited; ``skip=n``: the n returns after the cursor
        are edited; ``add=n``: n new returns are made. Editing moves a return's updated_at to now,
        so in a listing by updated_at repeated ones come again at its end (if ``to`` reaches now)
        and skipped ones leave the window this pass (or come at its end), as a listing by last
        change does while returns change. New returns carry no webhook."""
        position = sum(1 for r in listed if after is not None and (r[field], r[RF.ID]) <= after)
        if fault.repeat:
            for found in listed[max(0, position - fault.repeat) : position]:
                self._touch(found, edited=True)
        if fault.skip:
            for found in listed[position : position + fault.skip]:
                self._touch(found, edited=True)
        if fault.add:
            template = listed[-1] if listed else None
            for _ in range(fault.add):
                lines = [_catalog_row(line) for line in template[RF.LINE_ITEMS]] if template else None
                outcome = template[RF.OUTCOME] if template else c.OUTCOME_REFUND
                self._make_return(None, lines=lines, outcome=outcome, state=c.STATE_OPEN)

    # --- Get Return Details [DOC] ------------------------------------------------------------------
    def _details(self, query: Mapping[str, str]) -> Obj:
        currency_type = query.get(c.P_CURRENCY_TYPE) or c.CURRENCY_TYPES[0]
        if currency_type not in c.CURRENCY_TYPES:
            raise LoopError(422, c.INVALID_PARAMETER, f"currency_type must be one of {', '.join(c.CURRENCY_TYPES)}")
        if query.get(c.P_RETURN_ID):
            return self._find(_return_id(query[c.P_RETURN_ID]))
        if query.get(c.P_ORDER_ID):
            wanted = query[c.P_ORDER_ID].strip()
            found = [r for r in self._returns.values() if str(r[RF.PROVIDER_ORDER_ID]) == wanted]
        elif query.get(c.P_ORDER_NAME):
            name = query[c.P_ORDER_NAME].strip().lstrip("#")  # [INF] with or without the "#"
            found = [r for r in self._returns.values() if str(r[RF.ORDER_NAME]).lstrip("#") == name]
        else:
            raise LoopError(
                422, c.INVALID_PARAMETER, f"one of {c.P_RETURN_ID}, {c.P_ORDER_ID} or {c.P_ORDER_NAME} is required"
            )
        if not found:
            raise LoopError(404, c.RETURN_NOT_FOUND, "No return found for that order.")
        return max(found, key=lambda r: r[RF.ID])

    # --- actions [DOC] -------------------------------------------------------------------------------
    def _act(self, return_id: int, action: str, body: Any) -> Response:
        found = self._find(return_id)
        before = found[RF.STATE]
        after = c.TRANSITIONS[action].get(before)
        record: Obj = {"return_id": return_id, "action": action, "before": before, "after": after, "code": None}
        record["at"] = _stamp(self._now())
        if (action, before) in c.FLAGGED_REFUSAL:
            record.update(after=None, code=c.UNPROCESSABLE_FLAGGED_RETURN)
            self._actions.append(record)
            return _action_error(
                c.UNPROCESSABLE_FLAGGED_RETURN, "The return is flagged for review and cannot be processed."
            )
        if after is None:
            record["code"] = c.UNPROCESSABLE_RETURN
            self._actions.append(record)
            return _action_error(c.UNPROCESSABLE_RETURN, f"The return is {before} and cannot be {_past(action)}.")
        self._actions.append(record)
        if after != before:
            found[RF.STATE] = after
            if action == c.ACTION_PROCESS:
                _fulfil(found)
                if body not in (None, {}, []):  # [DOC] becomes "Additional Details" on the Shopify orders
                    self._process_details[return_id] = copy.deepcopy(body)
            self._touch(found, edited=False)
            self._emit(found, _trigger(before, after), None)
        return Response.json(c.ANSWER_TRUE)

    # --- notes [DOC] -----------------------------------------------------------------------------
    def _get_notes(self, return_id: int) -> Response:
        self._find(return_id)
        notes = self._notes.get(return_id)
        if not notes:
            raise LoopError(422, c.NOTES_NOT_FOUND, "The return has no notes.")
        return Response.json(copy.deepcopy(notes))

    def _add_note(self, found: Obj, content: Any) -> Obj:
        if not isinstance(content, str) or not content.strip():
            raise LoopError(422, c.INVALID_PARAMETER, f"{c.NOTE_CONTENT} is required")
        if len(content) > c.NOTE_MAX_CHARS:
            raise LoopError(
                422, c.INVALID_PARAMETER, f"{c.NOTE_CONTENT} may not be longer than {c.NOTE_MAX_CHARS} characters"
            )
        notes = self._notes.setdefault(found[RF.ID], [])
        self._next_note_id += 1
        note = {
            c.NoteField.ID: self._next_note_id,
            c.NoteField.CONTENT: content,
            c.NoteField.CREATED_AT: _stamp(self._now()),
        }
        notes.append(note)
        return copy.deepcopy(note)

    # --- the return store --------------------------------------------------------------------------
    def _find(self, return_id: int) -> Obj:
        found = self._returns.get(int(return_id))
        if found is None:
            raise LoopError(404, c.RETURN_NOT_FOUND, f"Return {return_id} not found.")
        return found

    def _make_return(
        self, fields: Mapping[str, Any] | None, *, lines: Sequence[Mapping[str, Any]] | None, outcome: str, state: str
    ) -> Obj:
        return_id = max(self._returns, default=self._id_base) + 1
        made = build_return(
            return_id,
            state=state,
            outcome=outcome,
            lines=lines or DEFAULT_LINES,
            created_at=self._now(),
            shop_id=self.shop_id,
        )
        made.update({k: copy.deepcopy(v) for k, v in (fields or {}).items() if k != RF.ID})
        _check(made)
        self._returns[return_id] = made
        return made

    def _touch(self, found: Obj, *, edited: bool) -> None:
        """[INF] every change moves updated_at on, to now and at least one second past the last
        (Loop's timestamps have whole seconds, so two changes never share one)."""
        last = _parse_stamp(found[RF.UPDATED_AT])
        moment = max(self._now(), last + ONE_SECOND)
        found[RF.UPDATED_AT] = _stamp(moment)
        if edited:
            found[RF.EDITED_AT] = found[RF.UPDATED_AT]

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC).replace(microsecond=0)

    def _emit(self, found: Obj, trigger: str, mode: str | None) -> list[WebhookEvent]:
        """The webhook of a change, built now; sent, sent twice, dropped or held as ``mode`` says."""
        mode = mode or self.webhook_mode
        if mode not in WEBHOOK_MODES:
            raise ValueError(f"webhook mode must be one of {', '.join(WEBHOOK_MODES)}")
        if not self.webhook_url or self._webhook_secret is None:
            return []
        payload = {WF.TOPIC: c.TOPIC_RETURN, WF.TRIGGER: trigger, WF.SHOP_ID: self.shop_id}
        payload.update(_webhook_view(found, updated_at=self.webhook_updated_at))
        body = encode_webhook_body(payload)
        signature = c.webhook_signature(self._webhook_secret, body)
        made = []
        for _ in range(2 if mode == TWICE else 1):
            self._next_delivery_id += 1
            event = WebhookEvent(self._next_delivery_id, trigger, found[RF.ID], body, signature, self.webhook_url)
            self._events.append(event)
            made.append(event)
            if mode == DROP:
                event.outcome = "dropped"
            elif mode == HOLD:
                event.outcome = "held"
            else:
                self.dispatcher.submit(event)
        return made

    # --- /_sandbox/ (beside health, faults and reset) ---------------------------------------------------
    def health(self, request: Request) -> Obj:
        return {"ok": True, "returns": len(self._returns), "webhooks": bool(self.webhook_url)}

    def _control_handlers(self, request: Request, action: str) -> ControlHandlers:
        body = request.json if isinstance(request.json, dict) else {}
        handlers: ControlHandlers = {
            ("GET", "returns"): self.returns,
            ("POST", "returns"): lambda: self.create_return(
                {k: v for k, v in body.items() if k not in ("lines", "outcome", "state", "webhook")},
                lines=body.get("lines"),
                outcome=str(body.get("outcome") or c.OUTCOME_REFUND),
                state=str(body.get("state") or c.STATE_OPEN),
                webhook=body.get("webhook"),
            ),
            ("GET", "actions"): self.actions,
            ("GET", "calls"): self.calls,
            ("GET", "webhooks"): lambda: {
                "url": self.webhook_url,
                "mode": self.webhook_mode,
                "events": [e.view() for e in self.webhook_events()],
                "attempts": self.webhook_attempts(),
            },
            ("POST", "webhooks"): lambda: self._control_webhooks(body),
            ("POST", "webhooks/release"): lambda: {
                "released": self.release_webhooks(reverse=bool(body.get("reverse")))
            },
        }
        rest = action.removeprefix("returns/")
        if rest != action and rest.isdigit():
            handlers[("GET", action)] = lambda: self.get_return(int(rest))
            handlers[("POST", action)] = lambda: self.update_return(
                int(rest),
                {k: v for k, v in body.items() if k not in ("trigger", "webhook")},
                trigger=body.get("trigger"),
                webhook=body.get("webhook"),
            )
        if rest.endswith("/notes") and rest.split("/")[0].isdigit():
            handlers[("GET", action)] = lambda: self.notes(int(rest.split("/")[0]))
        return handlers

    def _control(self, request: Request) -> Response:
        try:
            return super()._control(request)
        except LoopError as exc:
            return Response.json({"error": exc.message}, exc.status)

    def _control_webhooks(self, body: Mapping[str, Any]) -> Obj:
        mode = body.get("mode")
        if mode is not None:
            if mode not in WEBHOOK_MODES:
                raise ValueError(f"mode must be one of {', '.join(WEBHOOK_MODES)}")
            self.webhook_mode = mode
        if "url" in body:
            self.configure_webhooks(body.get("url"), body.get("secret"))
        return {"url": self.webhook_url, "mode": self.webhook_mode}

    def _load(self) -> None:
        with self._lock:
            seed = self._seed
            self.shop_id = int(seed.get("shop_id") or DEFAULT_SHOP_ID)
            self._returns: dict[int, Obj] = {}
            for given in copy.deepcopy(list(seed.get(c.R_RETURNS, []))):
                _check(given)
                self._returns[int(given[RF.ID])] = given
            self._id_base = int(seed.get("first_return_id") or DEFAULT_FIRST_RETURN_ID) - 1
            self._notes: dict[int, list[Obj]] = {}
            self._next_note_id = 0
            for return_id, contents in dict(seed.get("notes", {})).items():
                for content in contents:
                    self._next_note_id += 1
                    note = {c.NoteField.ID: self._next_note_id, c.NoteField.CONTENT: content}
                    note[c.NoteField.CREATED_AT] = self._returns[int(return_id)][RF.CREATED_AT]
                    self._notes.setdefault(int(return_id), []).append(note)
            self._actions: list[Obj] = []
            self._calls: list[Obj] = []
            self._process_details: dict[int, Any] = {}
            self._events: list[WebhookEvent] = []
            self._next_delivery_id = 0
            self._hits.clear()


def serve(
    host: str = "127.0.0.1",
    port: int = 8803,
    *,
    api_key: str,
    seed: Mapping[str, Any] | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> None:
    """Run a sandbox in the foreground until interrupted (``python -m sandbox.loop``)."""
    sandbox = LoopSandbox(
        host, port, api_key=api_key, seed=seed, webhook_url=webhook_url, webhook_secret=webhook_secret
    )
    log.info("sandbox_listening", partner=c.PARTNER, url=sandbox.url)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        log.info("sandbox_stopped", partner=c.PARTNER)
    finally:
        sandbox.dispatcher.stop()


# --- building returns -------------------------------------------------------------------------------
DEFAULT_SHOP_ID = 41207  # [INF] a Loop shop id in the documented example's style
DEFAULT_FIRST_RETURN_ID = 30_000_001  # [INF] Loop return ids are large integers
# The line a return made without lines carries (the demo catalog's style: 5-character SKUs).
DEFAULT_LINES: tuple[Obj, ...] = (
    {"sku": "109IX", "title": "Dune Fisherman Sweater", "variant_title": "Olive / XS", "price": "94.00"},
)
GATEWAY = "shopify_payments"  # [INF] the refunds' gateway
RESTOCK_LOCATION_ID = 61_230_001  # [INF] the Shopify location returned items go back to


def build_return(
    return_id: int,
    *,
    state: str,
    outcome: str,
    lines: Sequence[Mapping[str, Any]],
    created_at: datetime,
    updated_at: datetime | None = None,
    shop_id: int = DEFAULT_SHOP_ID,
    customer: Mapping[str, str] | None = None,
    address: Mapping[str, str] | None = None,
    order_number: int | None = None,
    reasons: Sequence[tuple[str, str]] = (("Size", "Too small"),),
    discount_rate: Decimal = Decimal("0"),
    processed: bool | None = None,
    label_status: str = "in_transit",
    currency: str = "USD",
) -> Obj:
    """A return as the sandbox stores it (the details shape), with totals that add up.

    ``lines``: catalog rows ``{sku, title, variant_title, price, barcode?, location_id?}``, one per
    unit returned ([INF] Loop has no quantity: a unit is a line). ``outcome`` decides each line's
    outcome: exchange lines first, refund or credit lines after (exchange+refund / exchange+credit
    split the lines in two). [INF] an upsell is an exchange for dearer items: the shopper pays the
    difference (``upsell``). ``processed`` (default: the return is closed) fills what process
    fulfils: refunds, the exchange order, the gift card order.
    """
    if state not in c.STATES:
        raise ValueError(f"state must be one of {', '.join(c.STATES)}, not {state!r}")
    if outcome not in c.OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(c.OUTCOMES)}, not {outcome!r}")
    if not lines:
        raise ValueError("a return needs at least one line")
    number = order_number or 1000 + return_id % 100_000
    created = _stamp(created_at)
    line_outcomes = _line_outcomes(outcome, len(lines))
    items, sums = [], {k: Decimal(0) for k in ("price", "discount", "tax", "exchange", "refund", "credit")}
    for n, (row, line_outcome) in enumerate(zip(lines, line_outcomes, strict=True)):
        price = _money(row["price"])
        discount = _money(price * discount_rate)
        tax = _money((price - discount) * TAX_RATE)
        parent, reason = reasons[n % len(reasons)]
        refunded = line_outcome == c.OUTCOME_REFUND
        items.append(
            {
                LF.LINE_ITEM_ID: return_id * 100 + n + 1,
                LF.PROVIDER_LINE_ITEM_ID: 14_500_000_000_000 + return_id * 100 + n + 1,
                LF.PRODUCT_ID: int(row.get("product_id") or 8_100_000_000_000 + _small_hash(row["title"])),
                LF.VARIANT_ID: int(row.get("variant_id") or 45_000_000_000_000 + _small_hash(row["sku"])),
                LF.SKU: row["sku"],
                LF.TITLE: row["title"],
                LF.VARIANT_TITLE: row.get("variant_title") or "",
                LF.PRICE: str(price),
                LF.DISCOUNT: str(discount),
                LF.TAX: str(tax),
                LF.REFUND: str(price - discount + tax if refunded else Decimal("0.00")),
                LF.REFUND_ITEM: str(price - discount if refunded else Decimal("0.00")),
                LF.REFUND_TAX: str(tax if refunded else Decimal("0.00")),
                LF.RETURNED_AT: created,
                LF.EXCHANGE_VARIANT: row.get("exchange_variant") if line_outcome == c.OUTCOME_EXCHANGE else None,
                LF.RETURN_REASON: reason,
                LF.PARENT_RETURN_REASON: parent,
                LF.RETURN_COMMENT: row.get("comment") or "",
                LF.BARCODE: row.get("barcode") or "",
                LF.OUTCOME: line_outcome,
                LF.PROVIDER_RESTOCK_LOCATION_ID: int(row.get("location_id") or RESTOCK_LOCATION_ID),
            }
        )
        sums["price"] += price
        sums["discount"] += discount
        sums["tax"] += tax
        sums[line_outcome] += price - discount + tax
    return_total = sums["price"] - sums["discount"] + sums["tax"]
    exchange_total = sums["exchange"]
    upsell = Decimal("0.00")
    if outcome == c.OUTCOME_UPSELL:  # [INF] the new items cost a fifth more; the shopper pays it
        upsell = _money(exchange_total * Decimal("0.2"))
        exchange_total += upsell
    exchange_tax = _money(exchange_total - exchange_total / (1 + TAX_RATE)) if exchange_total else Decimal("0.00")
    customer = dict(customer or {"email": "shopper@example.com", "first_name": "Sam", "last_name": "Shopper"})
    made: Obj = {
        RF.ID: return_id,
        RF.STATE: state,
        RF.CREATED_AT: created,
        RF.UPDATED_AT: _stamp(updated_at or created_at),
        RF.EDITED_AT: None,
        RF.TOTAL: str(_money(return_total)),
        RF.OUTCOME: outcome,
        RF.ORDER_ID: 70_000_000 + return_id % 10_000_000,
        RF.ORDER_NAME: f"#{number}",
        RF.PROVIDER_ORDER_ID: 5_600_000_000_000 + number,
        RF.ORDER_NUMBER: number,
        RF.PROVIDER_ORDER_NUMBER: number,
        RF.CUSTOMER: customer["email"],
        RF.ORIGIN_COUNTRY: "United States",
        RF.ORIGIN_COUNTRY_CODE: "US",
        RF.MULTI_CURRENCY: False,
        RF.CURRENCY: currency,
        RF.RETURN_PRODUCT_TOTAL: str(_money(sums["price"])),
        RF.RETURN_DISCOUNT_TOTAL: str(_money(sums["discount"])),
        RF.RETURN_TAX_TOTAL: str(_money(sums["tax"])),
        RF.RETURN_TOTAL: str(_money(return_total)),
        RF.RETURN_CREDIT_TOTAL: str(_money(sums["credit"])),
        RF.EXCHANGE_PRODUCT_TOTAL: str(_money(exchange_total - exchange_tax)),
        RF.EXCHANGE_DISCOUNT_TOTAL: "0.00",
        RF.EXCHANGE_TAX_TOTAL: str(exchange_tax),
        RF.EXCHANGE_TOTAL: str(_money(exchange_total)),
        RF.EXCHANGE_CREDIT_TOTAL: str(_money(sums["exchange"])),
        RF.GIFT_CARD: str(_money(sums["credit"])),
        RF.GIFT_CARD_ORDER_NAME: None,
        RF.GIFT_CARD_ORDER_ID: None,
        RF.HANDLING_FEE: "0.00",
        RF.REFUND: str(_money(sums["refund"])),
        RF.UPSELL: str(upsell),
        RF.REFUNDS: [],
        RF.EXCHANGE_ORDER_NAME: None,
        RF.EXCHANGE_ORDER_ID: None,
        RF.LABELS: [
            {
                BF.STATUS: label_status,
                BF.UPDATED_AT: created,
                BF.URL: f"https://labels.example.com/loop/{return_id}.pdf",
                BF.RATE: "7.50",
                BF.CARRIER: "USPS",
                BF.TRACKING_NUMBER: f"9400111899{return_id:012d}",
                BF.LINE_ITEMS: [item[LF.LINE_ITEM_ID] for item in items],
            }
        ],
        RF.LINE_ITEMS: items,
        WF.PROVIDER_ORDER_EXTERNAL_ID: 5_600_000_000_000 + number,
        WF.PROVIDER_ORDER_SALES_CHANNEL: "web",
        WF.CUSTOMER_DETAIL: {k: customer.get(k, "") for k in c.CUSTOMER_DETAIL_FIELDS},
        WF.ADDRESS: {k: v for k, v in (address or _default_address(customer)).items() if k in c.ADDRESS_FIELDS},
        WF.STATUS_PAGE_URL: f"https://returns.example.com/#/return/{return_id}",
        WF.IS_GIFT_RETURN: False,
    }
    if processed if processed is not None else state == c.STATE_CLOSED:
        _fulfil(made)
    return made


def _line_outcomes(outcome: str, count: int) -> list[str]:
    if outcome in (c.OUTCOME_EXCHANGE, c.OUTCOME_UPSELL):
        return [c.OUTCOME_EXCHANGE] * count
    if outcome in (c.OUTCOME_REFUND, c.OUTCOME_CREDIT):
        return [outcome] * count
    # exchange+refund / exchange+credit: the first half (at least one line) exchanged, the rest not
    rest = c.OUTCOME_REFUND if outcome == c.OUTCOME_EXCHANGE_REFUND else c.OUTCOME_CREDIT
    exchanged = max(1, count // 2)
    return [c.OUTCOME_EXCHANGE] * exchanged + [rest] * (count - exchanged)


def _fulfil(found: Obj) -> None:
    """[DOC] processing fulfils the outcomes: [INF] the refund is paid (refunds[]), the exchange
    order and the gift card order are made in Shopify (their names and ids filled in)."""
    number = found[RF.ORDER_NUMBER]
    refund = _money(found[RF.REFUND])
    if refund > 0 and not found[RF.REFUNDS]:
        found[RF.REFUNDS] = [
            {
                FF.GATEWAY: GATEWAY,
                FF.AMOUNT: str(refund),
                FF.CURRENCY: found[RF.CURRENCY],
                FF.PROVIDER_REFUND_ID: 9_100_000_000_000 + found[RF.ID],
            }
        ]
    if _money(found[RF.EXCHANGE_TOTAL]) > 0 and found[RF.EXCHANGE_ORDER_ID] is None:
        found[RF.EXCHANGE_ORDER_NAME] = f"EXC-{number}"  # [INF] Loop names exchange orders EXC-<order>
        found[RF.EXCHANGE_ORDER_ID] = 5_700_000_000_000 + found[RF.ID]
    if _money(found[RF.GIFT_CARD]) > 0 and found[RF.GIFT_CARD_ORDER_ID] is None:
        found[RF.GIFT_CARD_ORDER_NAME] = f"GC-{number}"  # [INF]
        found[RF.GIFT_CARD_ORDER_ID] = 5_800_000_000_000 + found[RF.ID]


def _default_address(customer: Mapping[str, str]) -> Obj:
    name = f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip()
    return {
        "name": name,
        "company": "",
        "address1": "41 Wharf Road",
        "address2": "",
        "city": "Portland",
        "state": "Maine",
        "zip": "04101",
        "country": "United States",
        "country_code": "US",
        "phone": "",
    }


def _catalog_row(line: Mapping[str, Any]) -> Obj:
    """The catalog row a stored line was built from (to make another return like it)."""
    return {
        "sku": line[LF.SKU],
        "title": line[LF.TITLE],
        "variant_title": line[LF.VARIANT_TITLE],
        "price": line[LF.PRICE],
        "barcode": line[LF.BARCODE],
    }


def _check(found: Obj) -> None:
    """A return fit to store: an integer id, a known state, timestamps (any of the three documented
    formats) rewritten in the stored one, so listings compare them as text."""
    if not isinstance(found.get(RF.ID), int) or found.get(RF.STATE) not in c.STATES:
        raise ValueError(f"a return needs an integer id and a state in {', '.join(c.STATES)}")
    for key in c.TIMESTAMP_FIELDS:
        if found.get(key) or key != RF.EDITED_AT:
            found[key] = _stamp(_parse_stamp(found.get(key)))


# --- rendering per endpoint -------------------------------------------------------------------------
def _details_view(found: Obj) -> Obj:
    """[DOC] details: integer ids, ``YYYY-MM-DD hh:mm:ss``; lines name line_item_title and variant_title."""
    shown = {k: copy.deepcopy(v) for k, v in found.items() if k not in c.WEBHOOK_ONLY_FIELDS}
    shown[RF.LINE_ITEMS] = [_details_line(line) for line in found[RF.LINE_ITEMS]]
    return shown


def _details_line(line: Obj) -> Obj:
    shown = {}
    for key, value in line.items():
        shown[LF.LINE_ITEM_TITLE if key == LF.TITLE else key] = copy.deepcopy(value)
    return shown


def _list_view(found: Obj) -> Obj:
    """[DOC] the list: string ids, ``…T…000Z``; [INF] no exchange_order_id, lines name title only."""
    shown = {k: copy.deepcopy(v) for k, v in found.items() if k not in c.WEBHOOK_ONLY_FIELDS}
    del shown[RF.EXCHANGE_ORDER_ID]
    _restyle(shown, c.LIST_TIME_FORMAT, string_ids=c.RETURN_ID_FIELDS)
    return shown


def _webhook_view(found: Obj, *, updated_at: bool) -> Obj:
    """[DOC example] the webhook: ids mixed (WEBHOOK_STRING_IDS strings, WEBHOOK_INT_IDS integers),
    ``…T…Z``, the webhook-only fields; no updated_at unless asked."""
    shown = copy.deepcopy(found)
    if not updated_at:
        del shown[RF.UPDATED_AT]
    del shown[RF.EXCHANGE_ORDER_ID]
    string_ids = tuple(k for k in c.RETURN_ID_FIELDS if k not in c.WEBHOOK_INT_IDS)
    _restyle(shown, c.WEBHOOK_TIME_FORMAT, string_ids=string_ids)
    return shown


def _restyle(shown: Obj, time_format: str, *, string_ids: Sequence[str]) -> None:
    """Ids as strings (lines, refunds and labels' line ids too) and timestamps in ``time_format``."""
    for key in string_ids:
        if shown.get(key) is not None:
            shown[key] = str(shown[key])
    for key in c.TIMESTAMP_FIELDS:
        if shown.get(key):
            shown[key] = _parse_stamp(shown[key]).strftime(time_format)
    for line in shown[RF.LINE_ITEMS]:
        line.pop(LF.VARIANT_TITLE, None)
        for key in c.LINE_ID_FIELDS:
            if line.get(key) is not None:
                line[key] = str(line[key])
        for key in c.LINE_TIMESTAMP_FIELDS:
            if line.get(key):
                line[key] = _parse_stamp(line[key]).strftime(time_format)
    for refund in shown[RF.REFUNDS]:
        for key in c.REFUND_ID_FIELDS:
            if refund.get(key) is not None:
                refund[key] = str(refund[key])
    for label in shown[RF.LABELS]:
        label[BF.LINE_ITEMS] = [str(i) for i in label[BF.LINE_ITEMS]]
        for key in c.LABEL_TIMESTAMP_FIELDS:
            if label.get(key):
                label[key] = _parse_stamp(label[key]).strftime(time_format)


# --- helpers ---------------------------------------------------------------------------------------
def _unauthorized() -> Response:
    return Response.json(c.UNAUTHORIZED_BODY, 401)


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({c.ERRORS: {c.ERROR_MESSAGE: message, c.ERROR_CODE: code}}, status)


def _action_error(code: str, message: str) -> Response:
    """[DOC] an action Loop cannot do: HTTP 200 with the error body."""
    return _error(200, code, message)


def _trigger(before: str, after: str) -> str:
    return c.TRIGGER_RETURN_CLOSED if after == c.STATE_CLOSED and before != c.STATE_CLOSED else c.TRIGGER_RETURN_UPDATED


def _past(action: str) -> str:
    return {c.ACTION_PROCESS: "processed", c.ACTION_CLOSE: "closed", c.ACTION_CANCEL: "cancelled"}.get(
        action, "flagged"
    )


def _is_return_listing(request: Request) -> bool:
    """A page of the Detailed Returns List: the requests a listing fault disturbs."""
    path = "/".join(s for s in request.path[len(c.BASE_PATH) :].split("/") if s)
    return request.method == "GET" and path == c.RETURN_LIST


def _window(query: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    """[DOC] from / to at most 120 days apart, neither: the last 24 hours. [INF] only from: up to
    now; only to: the 24 hours before it; a longer range, or to before from: 422."""
    given_from, given_to = query.get(c.P_FROM), query.get(c.P_TO)
    end = _parse_param_time(given_to, c.P_TO) if given_to else now
    start = _parse_param_time(given_from, c.P_FROM) if given_from else end - timedelta(hours=c.DEFAULT_RANGE_HOURS)
    if end < start:
        raise LoopError(422, c.INVALID_DATE_RANGE, f"{c.P_TO} must not be before {c.P_FROM}")
    if end - start > timedelta(days=c.MAX_RANGE_DAYS):
        raise LoopError(
            422, c.INVALID_DATE_RANGE, f"The range from {c.P_FROM} to {c.P_TO} may not exceed {c.MAX_RANGE_DAYS} days."
        )
    return start, end


def _parse_param_time(text: str, name: str) -> datetime:
    """[INF] ISO 8601 dates and datetimes (``Z``, an offset, or none: UTC), to the second."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise LoopError(422, c.INVALID_PARAMETER, f"{name} is not a date-time: {text!r}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _states(text: str | None) -> tuple[str, ...]:
    if not text:
        return c.DEFAULT_STATES
    states = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in states if s not in c.STATES]
    if unknown or not states:
        raise LoopError(422, c.INVALID_PARAMETER, f"state must be a comma-separated list of {', '.join(c.STATES)}")
    return states


def _flag(text: str | None, name: str) -> bool:
    """[INF] true / 1 and false / 0 (or absent)."""
    value = (text or "").strip().lower()
    if value in (c.PAGINATE_TRUE, "1"):
        return True
    if value in ("", "false", "0"):
        return False
    raise LoopError(422, c.INVALID_PARAMETER, f"{name} must be true or false")


def _int_param(text: str | None, name: str, default: int) -> int:
    if text in (None, ""):
        return default
    try:
        return int(str(text))
    except ValueError:
        raise LoopError(422, c.INVALID_PARAMETER, f"{name} must be an integer") from None


def _return_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise LoopError(404, c.RETURN_NOT_FOUND, f"Return {text} not found.") from None


def _encode_cursor(stamp: str, return_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([stamp, return_id]).encode()).decode().rstrip("=")


def _decode_cursor(text: str | None) -> tuple[str, int] | None:
    if not text:
        return None
    try:
        stamp, return_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        _parse_stamp(stamp)
        return str(stamp), int(return_id)
    except (ValueError, TypeError, binascii.Error):
        raise LoopError(422, c.INVALID_PARAMETER, "cursor is not one this API gave") from None


def _page_url(request: Request, cursor: str) -> str:
    """[DOC] nextPageUrl: the same request with ``&cursor=...`` (the host the client called)."""
    host = request.headers.get("Host") or "127.0.0.1"
    query = urlencode([(k, v) for k, v in request.query.items() if k != c.P_CURSOR])
    return f"http://{host}{request.path}?{query}&{urlencode({c.P_CURSOR: cursor})}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(c.DETAILS_TIME_FORMAT)


def _parse_stamp(text: Any) -> datetime:
    """A stored timestamp; seeds may use any of the three documented formats."""
    value = str(text or "")
    for fmt in (c.DETAILS_TIME_FORMAT, c.LIST_TIME_FORMAT, c.WEBHOOK_TIME_FORMAT):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"not a Loop timestamp: {value!r}")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENTS, rounding=ROUND_HALF_UP)


def _small_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") % 1_000_000_000


def _seconds_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
