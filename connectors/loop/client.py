"""Loop Returns API client: CRUD verbs over HTTP, nothing about the ERP.

Like the other partner clients (an OCA backend adapter), this class knows Loop's URLs, its auth
header, its answers and its rate limit, and nothing else: turning a return into Bobbin's shapes is
``mapper.py``'s job, deciding what to do with it the returns service's. Every name on the wire
comes from ``contract.py``.

Failures follow ``connectors.errors``. The HTTP layer (``connectors.http``) sorts transport and
status failures (5xx and 429 retried with backoff, Retry-After honoured; other 4xx refused); this
module puts Loop's own words on them, and says what a person should do: a 401 means the API key is
wrong or lacks the Returns scope [DOC], so the message says exactly that. An action (process,
close, cancel, flag, note) answers HTTP 200 with either ``"true"`` or an error body [DOC]: the
body is read, and an error body raises :class:`LoopActionRefused` carrying Loop's code
(``UNPROCESSABLE_RETURN``, ``UNPROCESSABLE_FLAGGED_RETURN``) and message.

Rate limit [DOC]: 300 requests a minute per API key, 429 beyond. :class:`RequestPacer` counts the
requests this client sends in the last minute and waits *before* one would go over; a 429 that
still arrives (another process uses the same key) is retried by the HTTP layer after its
Retry-After, and the pacer holds every request until the minute is over. As everywhere in Bobbin,
a wait longer than ``HttpPolicy.longest_sleep`` is not slept in a worker: it raises
``RateLimited`` and the task runs again after it (``worker.base``).

Writes are not repeated blindly after a lost answer (``OutcomeUnknown``): process fulfils
exchanges and gift cards, and a note shows twice; the caller reads the return (or its notes)
before sending again. Flag is the one action safe to repeat (a flagged return stays flagged).
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
import structlog
from requests.auth import AuthBase

from connectors.errors import AuthError, ContractViolation, PartnerError, PartnerRejected, RateLimited
from connectors.http import HttpPolicy, PartnerClient, json_body, longest_sleep, parse_retry_after, send
from connectors.loop import contract as c
from core.logging import register_secret

log = structlog.get_logger()

# A 429's Retry-After may ask for up to the whole minute; the default policy's 30 s cap would retry
# into the same full minute. (A wait over ``longest_sleep`` raises RateLimited anyway.)
LOOP_POLICY = HttpPolicy(backoff_cap=c.RATE_LIMIT_WINDOW_SECONDS)
# How much of Loop's message goes into an exception's text (the whole answer stays on .value).
MESSAGE_EXCERPT_CHARS = 200
JSON_HEADERS = {"Accept": c.JSON_CONTENT_TYPE, "Content-Type": c.JSON_CONTENT_TYPE}
# Loop's "message" in a body excerpt cut off mid-JSON.
_MESSAGE_RE = re.compile(r'"message"\s*:\s*("(?:[^"\\]|\\.)*")')

# What a person should do about each refusal code [DOC codes; INF advice].
REFUSAL_ADVICE = {
    c.UNPROCESSABLE_FLAGGED_RETURN: "the return is flagged for review: a person must review it in Loop first",
    c.UNPROCESSABLE_RETURN: "the return's state does not allow it (already processed, closed, cancelled or "
    "expired): read the return's state in Loop",
}
DEFAULT_ADVICE = "see Loop's message; the return's state in Loop says what it allows"

Json = dict[str, Any]


class LoopActionRefused(PartnerRejected):
    """Loop answered an action on one return with its error body (HTTP 200 or 4xx): nothing was
    done. ``code`` is Loop's (``UNPROCESSABLE_RETURN`` ...), or None when the body carried only a
    message."""

    def __init__(self, message: str, *, action: str, return_id: str, code: str | None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.action = action
        self.return_id = return_id
        self.code = code


@dataclass(frozen=True)
class ReturnsPage:
    """One answer of the Detailed Returns List: the returns as received (the mapper judges them),
    Loop's ``nextPageUrl`` (None on a window's last page) and the window it belongs to. A caller
    that commits each page may move its cursor to ``window_end`` once it has committed the window's
    last page (``last_in_window``)."""

    returns: list[Any]
    next_page_url: str | None
    window_start: datetime
    window_end: datetime

    @property
    def last_in_window(self) -> bool:
        return self.next_page_url is None


class RequestPacer:
    """Loop's 300 requests a minute per key, as one client can count them.

    A sliding minute over the requests this client sent: before a request that would be the
    301st within 60 s, wait until the oldest of them is a minute old. [INF] Loop does not say
    whether its minute slides or is fixed; a sliding count never exceeds either. After a 429,
    every request waits for the partner's Retry-After, or [INF] a whole minute when it sent none.

    Not thread-safe, like the ``requests.Session`` beside it: one client per thread. A wait longer
    than ``longest_sleep`` (outside ``connectors.http.patient()``) raises ``RateLimited`` and
    nothing is sent or counted.
    """

    def __init__(
        self,
        limit: int = c.RATE_LIMIT_REQUESTS,
        window_seconds: float = c.RATE_LIMIT_WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        longest_sleep: float = LOOP_POLICY.longest_sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("the rate limit must allow at least one request")
        self.limit = limit
        self.window_seconds = window_seconds
        self.longest_sleep = longest_sleep
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._blocked_until: float | None = None

    def spend(self) -> None:
        """Count one request about to leave, first waiting if it would go over the limit."""
        wait = self.wait_needed()
        if wait > 0:
            if wait > longest_sleep(self.longest_sleep):
                log.info("loop_rate_wait_too_long", wait=round(wait, 3), sent=len(self._sent))
                raise RateLimited(
                    f"Loop's rate limit ({self.limit} requests a minute per API key) is reached; "
                    f"the next request may leave in {wait:.0f} s",
                    retry_after=wait,
                    partner=c.PARTNER,
                )
            log.info("loop_rate_wait", wait=round(wait, 3), sent=len(self._sent))
            self._sleep(wait)
            self._blocked_until = None
        self._forget(self._clock())
        self._sent.append(self._clock())

    def wait_needed(self) -> float:
        """Seconds until one more request may leave (0 when it may leave now)."""
        now = self._clock()
        self._forget(now)
        wait = 0.0
        if self._blocked_until is not None:
            wait = max(wait, self._blocked_until - now)
        if len(self._sent) >= self.limit:
            wait = max(wait, self._sent[len(self._sent) - self.limit] + self.window_seconds - now)
        return wait

    def throttled(self, retry_after: float | None) -> None:
        """Loop answered 429: nothing leaves before its Retry-After, or a whole minute."""
        wait = retry_after if retry_after is not None else self.window_seconds
        self._blocked_until = self._clock() + wait

    def _forget(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window_seconds:
            self._sent.popleft()


class _ApiKey(AuthBase):
    """Sets ``X-Authorization: <api key>`` [DOC] and paces each attempt.

    requests calls an auth object right before every attempt ``connectors.http.send`` makes,
    retries included, and each attempt counts against Loop's limit: this is the one place that
    sees them all. The 429 watch is a response hook on its own request, so hooks on a session lent
    to the client still run. Keeps the key out of the client's attributes and any repr."""

    def __init__(self, api_key: str, pacer: RequestPacer) -> None:
        register_secret(api_key)
        self._key = api_key
        self._pacer = pacer

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self._pacer.spend()
        request.headers[c.HEADER_AUTHORIZATION] = self._key
        request.register_hook("response", self._observe)
        return request

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 429:
            self._pacer.throttled(parse_retry_after(response.headers.get("Retry-After")))

    def __repr__(self) -> str:
        return "<LoopApiKey (key hidden)>"


class LoopClient(PartnerClient):
    """One Loop shop's API key. ``base_url`` ends in ``/api/v1`` (trailing slash optional)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: HttpPolicy = LOOP_POLICY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        requests_per_minute: int = c.RATE_LIMIT_REQUESTS,
    ) -> None:
        if not api_key:
            raise AuthError(
                f"Loop site has no API key: check the site's API key (made in {c.KEY_PLACE}, "
                f"with the {c.SCOPE_RETURNS} scope)",
                partner=c.PARTNER,
            )
        super().__init__(base_url, policy, session, sleep)
        self.pacer = RequestPacer(
            requests_per_minute,
            c.RATE_LIMIT_WINDOW_SECONDS,
            clock=clock,
            sleep=sleep,
            longest_sleep=policy.longest_sleep,
        )
        self._auth = _ApiKey(api_key, self.pacer)

    # --- Detailed Returns List [DOC] ------------------------------------------------------------
    def returns_page(
        self,
        start: datetime,
        end: datetime,
        *,
        date_filter: str = c.FILTER_UPDATED_AT,
        states: Sequence[str] | None = None,
        page_size: int = c.REQUESTED_PAGE_SIZE,
    ) -> ReturnsPage:
        """The first page of returns whose ``date_filter`` (updated_at or created_at) falls in
        ``[start, end]``, a window of at most 120 days. ``states`` None lists Loop's default
        (open, closed, expired); name every state to see cancelled and review returns too."""
        if date_filter not in c.FILTERS:
            raise ValueError(f"date_filter must be one of {c.FILTERS}, not {date_filter!r}")
        if not 1 <= page_size <= c.MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {c.MAX_PAGE_SIZE}, not {page_size}")
        start, end = c.as_utc(start), c.as_utc(end)
        if end < start:
            raise ValueError("the window ends before it starts")
        if end - start > c.MAX_RANGE:
            raise ValueError(f"a window spans at most {c.MAX_RANGE_DAYS} days (Loop's limit); use iter_return_pages")
        params: dict[str, str | int] = {
            c.P_FROM: c.range_timestamp(start),
            c.P_TO: c.range_timestamp(end),
            c.P_FILTER: date_filter,
            c.P_PAGINATE: c.PAGINATE_TRUE,
            c.P_PAGE_SIZE: page_size,
        }
        if states is not None:
            unknown = [s for s in states if s not in c.STATES]
            if unknown or not states:
                raise ValueError(f"states must be some of {c.STATES}, not {list(states)!r}")
            params[c.P_STATE] = ",".join(states)
        url = self.base_url + c.RETURN_LIST
        body = self._json(self._send("GET", url, params=params), f"GET {c.RETURN_LIST}")
        return _returns_page(body, start, end, f"GET {c.RETURN_LIST}")

    def next_returns_page(self, page: ReturnsPage) -> ReturnsPage | None:
        """The page after ``page``: Loop's ``nextPageUrl`` followed as given [DOC]; None after the
        window's last page. The URL must point at the same host as the base URL (it carries no
        key, but the request does)."""
        if page.next_page_url is None:
            return None
        url = self._same_origin(page.next_page_url)
        body = self._json(self._send("GET", url), f"GET {c.RETURN_LIST} (next page)")
        return _returns_page(body, page.window_start, page.window_end, f"GET {c.RETURN_LIST}")

    def iter_return_pages(
        self,
        since: datetime,
        until: datetime | None = None,
        *,
        date_filter: str = c.FILTER_UPDATED_AT,
        states: Sequence[str] | None = None,
        page_size: int = c.REQUESTED_PAGE_SIZE,
    ) -> Iterator[ReturnsPage]:
        """Every return whose ``date_filter`` falls in ``[since, until]`` (until: now), a page at a
        time: the range cut into windows of at most 120 days, oldest first, each read by following
        ``nextPageUrl`` until it is null. A window's pages are all yielded, an empty one too, so the
        caller sees each window end and may move its cursor there. Naive datetimes are UTC."""
        end = until if until is not None else datetime.now(UTC)
        for start, stop in c.windows(since, end):
            page: ReturnsPage | None = self.returns_page(
                start, stop, date_filter=date_filter, states=states, page_size=page_size
            )
            followed: set[str] = set()
            while page is not None:
                yield page
                if page.next_page_url is not None:
                    if page.next_page_url in followed:
                        raise PartnerRejected(
                            f"Loop answered the same nextPageUrl twice for the window {c.range_timestamp(start)} "
                            f"to {c.range_timestamp(stop)}: paging would never end",
                            partner=c.PARTNER,
                        )
                    followed.add(page.next_page_url)
                page = self.next_returns_page(page)

    # --- Get Return Details [DOC] 3.6 -----------------------------------------------------------
    def get_return(self, return_id: str | int, *, currency_type: str | None = None) -> Json:
        """One return by its Loop id, as the details endpoint answers it. The answer must be that
        return: another one (or none) is a ContractViolation."""
        wanted = c.return_id_text(return_id)
        params = {c.P_RETURN_ID: wanted, **_currency(currency_type)}
        where = f"GET {c.RETURN_DETAILS}?{c.P_RETURN_ID}={wanted}"
        body = self._json(self._send("GET", self.base_url + c.RETURN_DETAILS, params=params), where)
        if not isinstance(body, dict):
            raise ContractViolation(
                f"Loop answered {where} with {_kind(body)}, not the return",
                request=where,
                answer=_excerpt(body),
                partner=c.PARTNER,
            )
        got = body.get(c.ReturnField.ID)
        if got is None or isinstance(got, (bool, dict, list)) or str(got).strip() != wanted:
            raise ContractViolation(
                f"Loop answered {where} with return {_excerpt(got)}, not return {wanted}",
                request=where,
                answer=_excerpt(body),
                partner=c.PARTNER,
            )
        return body

    def get_returns_for_order(
        self, *, order_id: str | int | None = None, order_name: str | None = None, currency_type: str | None = None
    ) -> list[Json]:
        """The return(s) of one order, by Shopify ``order_id`` or ``order_name`` [DOC]. [INF] Loop
        answers one return object; a list is taken too (an order may have several returns)."""
        if (order_id is None) == (order_name is None):
            raise ValueError("give exactly one of order_id and order_name")
        params: dict[str, str] = dict(_currency(currency_type))
        if order_id is not None:
            params[c.P_ORDER_ID] = str(order_id).strip()
        if order_name is not None:
            params[c.P_ORDER_NAME] = order_name.strip()
        where = f"GET {c.RETURN_DETAILS}"
        body = self._json(self._send("GET", self.base_url + c.RETURN_DETAILS, params=params), where)
        found = body if isinstance(body, list) else [body]
        if not all(isinstance(item, dict) for item in found):
            raise PartnerRejected(
                f"Loop answered {where} with something other than returns", value=_excerpt(body), partner=c.PARTNER
            )
        return [item for item in found if item]

    # --- actions on one return [DOC] 3.2 --------------------------------------------------------
    def process_return(self, return_id: str | int, details: Mapping[str, Any] | None = None) -> None:
        """Queue one return for processing: Loop archives it and fulfils its outcomes (exchange
        order, gift card). ``details`` become "Additional Details" on the Shopify orders it makes.
        Not repeated after a lost answer: read the return's state before sending it again."""
        self._act(c.ACTION_PROCESS, return_id, details, repeatable=False)

    def close_return(self, return_id: str | int) -> None:
        """Close one return without fulfilling its outcomes; its items cannot be returned again."""
        self._act(c.ACTION_CLOSE, return_id, None, repeatable=False)

    def cancel_return(self, return_id: str | int) -> None:
        """Cancel one return; the customer may return the items again."""
        self._act(c.ACTION_CANCEL, return_id, None, repeatable=False)

    def flag_return(self, return_id: str | int) -> None:
        """Flag one return for manual review in Loop. Safe to repeat: flagged stays flagged."""
        self._act(c.ACTION_FLAG, return_id, None, repeatable=True)

    # --- notes [DOC] 3.2 / 3.6 --------------------------------------------------------------------
    def notes(self, return_id: str | int) -> list[Json]:
        """The timeline notes of one return. [DOC] Loop answers 422 when a return has none: that
        is an empty list here."""
        rid = c.return_id_text(return_id)
        path = c.RETURN_NOTES.format(return_id=quote(rid, safe=""))
        try:
            response = self._send("GET", self.base_url + path)
        except PartnerRejected as exc:
            if exc.status == 422:
                return []
            raise
        body = self._json(response, f"GET {path}")
        found = body.get(c.R_NOTES) if isinstance(body, dict) else body
        if not isinstance(found, list):
            raise PartnerRejected(
                f"Loop answered GET {path} without a '{c.R_NOTES}' list", value=_excerpt(body), partner=c.PARTNER
            )
        return [note for note in found if isinstance(note, dict)]

    def add_note(self, return_id: str | int, content: str) -> str:
        """Add one note to a return's timeline; returns the text sent. Longer than 255 characters
        [DOC] is cut, not refused (:func:`connectors.loop.contract.fit_note`): a note tells the
        returns team what happened, and its start says it. Not repeated after a lost answer (it
        would show twice): read :meth:`notes` first."""
        text = c.fit_note(content)
        if text != content.strip():
            log.info("loop_note_cut", chars=len(content.strip()), kept=len(text))
        rid = c.return_id_text(return_id)
        path = c.RETURN_NOTE.format(return_id=quote(rid, safe=""))
        response = self._send(
            "POST", self.base_url + path, json={c.NOTE_CONTENT: text}, idempotent=False, action="note", return_id=rid
        )
        if not _note_echoed(response, text):
            _check_action_answer(response, "note", rid, f"POST {path}")
        return text

    # --- transport ---------------------------------------------------------------------------
    def _act(self, action: str, return_id: str | int, body: Mapping[str, Any] | None, *, repeatable: bool) -> None:
        rid = c.return_id_text(return_id)
        path = c.ACTION_PATHS[action].format(return_id=quote(rid, safe=""))
        kwargs: dict[str, Any] = {}
        if body is not None:
            if action not in c.ACTIONS_WITH_BODY:
                raise ValueError(f"Loop's {action} takes no body")
            kwargs["json"] = dict(body)
        response = self._send(
            "POST", self.base_url + path, idempotent=repeatable, action=action, return_id=rid, **kwargs
        )
        _check_action_answer(response, action, rid, f"POST {path}")

    def _send(
        self, method: str, url: str, *, action: str | None = None, return_id: str | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send one request (paced, keyed) and return the response; refusals reworded in Loop's
        words and with what a person should do."""
        where = f"{method} {urlsplit(url).path}"
        try:
            return send(
                self._session,
                method,
                url,
                policy=self.policy,
                sleep=self._sleep,
                auth=self._auth,
                headers=dict(JSON_HEADERS),
                **kwargs,
            )
        except (AuthError, PartnerRejected) as exc:
            raise _reworded(exc, where, action, return_id) from None

    def _json(self, response: requests.Response, where: str) -> Any:
        return json_body(response, f"Loop {where}", c.PARTNER)

    def _same_origin(self, next_url: str) -> str:
        url = urljoin(self.base_url, next_url)
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise PartnerRejected(
                f"Loop's nextPageUrl points at {theirs.scheme}://{theirs.hostname}, not at {ours.hostname}: "
                "not followed (the request would carry the site's API key there)",
                partner=c.PARTNER,
            )
        return url


# --- answers ---------------------------------------------------------------------------------
def error_of(body: Any) -> tuple[str | None, str | None]:
    """(code, message) of one of Loop's error bodies [DOC]: ``{"error": {code, http_code,
    message}}`` (401), ``{"errors": "Unauthorized."}`` (401, an older page), ``{"errors":
    {message, code}}`` (actions), ``{"message": ...}`` or ``{"content": ...}`` (some refusals),
    or ``"false"``. (None, None) when the body is none of these."""
    if isinstance(body, str):
        text = body.strip()
        return (None, text) if text and text.lower() != c.ANSWER_TRUE else (None, None)
    if body is False:
        return None, c.ANSWER_FALSE
    if not isinstance(body, dict):
        return None, None
    for key in (c.ERROR, c.ERRORS):
        inner = body.get(key)
        if isinstance(inner, str) and inner.strip():
            return None, inner.strip()
        if isinstance(inner, dict):
            code = inner.get(c.ERROR_HTTP_CODE) or inner.get(c.ERROR_CODE)
            message = inner.get(c.ERROR_MESSAGE)
            if code is not None or message is not None:
                return _text(code), _text(message)
        if isinstance(inner, list) and inner:  # [DOC mirror] {"errors": ["..."]} on a 400
            return None, "; ".join(str(item) for item in inner)
    for key in (c.ERROR_MESSAGE, c.ERROR_CONTENT):
        if isinstance(body.get(key), str) and body[key].strip():
            return _text(body.get(c.ERROR_CODE)), body[key].strip()
    return None, None


def error_in_text(text: str) -> tuple[str | None, str | None]:
    """:func:`error_of` for a body as text (maybe an excerpt cut off mid-JSON)."""
    try:
        return error_of(json.loads(text))
    except ValueError:
        match = _MESSAGE_RE.search(text)
        return (None, json.loads(match.group(1))) if match else (None, None)


def _note_echoed(response: requests.Response, text: str) -> bool:
    """[INF] the document gives no answer for a new note: besides ``"true"``, an answer that is the
    note itself (an object with its id and the content sent) says it was added."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get(c.NoteField.ID) is not None and body.get(c.NoteField.CONTENT) == text


def _check_action_answer(response: requests.Response, action: str, return_id: str, where: str) -> None:
    """[DOC] an action succeeded only when Loop answered ``"true"``; an error body at HTTP 200 is a
    refusal; anything else is outside the contract and nothing is taken as done."""
    text = response.text.strip()
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text  # [INF] a bare true, unquoted
    if body is True or (isinstance(body, str) and body.strip().lower() == c.ANSWER_TRUE):
        return
    code, message = error_of(body)
    if code is None and message is None:
        raise ContractViolation(
            f'Loop answered {where} with neither "true" nor an error: cannot tell whether it was done; '
            f"read return {return_id} in Loop",
            request=where,
            answer=_excerpt(body),
            partner=c.PARTNER,
        )
    raise _refused(action, return_id, code, message, response.status_code, body)


def _refused(
    action: str, return_id: str, code: str | None, message: str | None, status: int | None, value: Any
) -> LoopActionRefused:
    said = ": ".join(part for part in (code, (message or "")[:MESSAGE_EXCERPT_CHARS]) if part)
    advice = REFUSAL_ADVICE.get(code or "", DEFAULT_ADVICE)
    verb = "add a note to" if action == "note" else action
    return LoopActionRefused(
        f"Loop refused to {verb} return {return_id} ({said}): {advice}",
        action=action,
        return_id=return_id,
        code=code,
        status=status,
        value=value,
        partner=c.PARTNER,
    )


def _reworded(exc: AuthError | PartnerRejected, where: str, action: str | None, return_id: str | None) -> PartnerError:
    """The HTTP layer's refusal in Loop's words, with what to do about it."""
    raw = exc.value if isinstance(exc.value, str) else ""
    code, message = error_in_text(raw)
    said = ": ".join(part for part in (f"HTTP {exc.status}", code, (message or "")[:MESSAGE_EXCERPT_CHARS]) if part)
    if isinstance(exc, AuthError):
        return AuthError(
            f"Loop refused {where} ({said}): the site's API key is wrong or lacks the {c.SCOPE_RETURNS} scope; "
            f"check the key and its scopes in {c.KEY_PLACE}",
            status=exc.status,
            value=exc.value,
            partner=c.PARTNER,
        )
    if action is not None and return_id is not None and (code is not None or message is not None):
        return _refused(action, return_id, code, message, exc.status, exc.value)
    return PartnerRejected(f"Loop rejected {where} ({said})", status=exc.status, value=exc.value, partner=c.PARTNER)


def _returns_page(body: Any, start: datetime, end: datetime, where: str) -> ReturnsPage:
    """[DOC] ``{"returns": [...], "nextPageUrl": ..., "previousPageUrl": ...}`` with paginate=true;
    a bare array (the unpaginated answer) is one last page."""
    if isinstance(body, list):
        return ReturnsPage(body, None, start, end)
    returns = body.get(c.R_RETURNS) if isinstance(body, dict) else None
    if not isinstance(returns, list):
        raise PartnerRejected(f"Loop {where} returned no '{c.R_RETURNS}' list", value=_excerpt(body), partner=c.PARTNER)
    next_url = body.get(c.R_NEXT_PAGE_URL)
    if isinstance(next_url, str):
        next_url = next_url.strip() or None  # [INF] an empty URL ends the window as null does
    elif next_url is not None:
        raise PartnerRejected(
            f"Loop {where} answered a '{c.R_NEXT_PAGE_URL}' that is not a URL",
            value=_excerpt(next_url),
            partner=c.PARTNER,
        )
    return ReturnsPage(returns, next_url, start, end)


def _currency(currency_type: str | None) -> dict[str, str]:
    if currency_type is None:
        return {}
    if currency_type not in c.CURRENCY_TYPES:
        raise ValueError(f"currency_type must be one of {c.CURRENCY_TYPES}, not {currency_type!r}")
    return {c.P_CURRENCY_TYPE: currency_type}


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", type(None): "nothing"}.get(type(value), type(value).__name__)


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MESSAGE_EXCERPT_CHARS] + ("…" if len(text) > MESSAGE_EXCERPT_CHARS else "")
