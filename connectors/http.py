"""The one place partner HTTP failures are classified and retried.

Every partner client sends through :func:`send`. The decision "retry, give up, or ask a person"
is a plain table (Airbyte CDK style) rather than ``if`` chains spread over clients, so the rules
in SPEC ("retries with backoff and jitter on connection errors, 5xx and 429, honour
Retry-After, never on 4xx") live in one screenful:

=====================================  ===============  =====================================
what happened                          action           raised when it is final
=====================================  ===============  =====================================
connection could not be opened         RETRY            RetryableError (after max_attempts)
answer lost (read timeout, connection  RETRY if the     RetryableError (after max_attempts);
closed after sending, body cut short)  request is safe  OutcomeUnknown at once for a request
                                       to repeat        that is not
HTTP 5xx                               RETRY            RetryableError (after max_attempts)
HTTP 429                               RATE_LIMITED     RetryableError, waits for Retry-After;
                                                        RateLimited at once when Retry-After
                                                        is longer than ``longest_sleep``
HTTP 401, 403                          AUTH             AuthError ("check the site's credentials")
other HTTP 4xx                         REJECT           PartnerRejected
anything else                          OK               the response is returned
=====================================  ===============  =====================================

A request is safe to repeat when sending it twice does what sending it once does: by default
GET, HEAD, OPTIONS, PUT and DELETE (RFC 9110 section 9.2.2), and a caller says otherwise with
``idempotent=`` (a JOOR ``sync=1`` read marks orders exported; an inventory import sets absolute
counts). A write that is not safe to repeat is retried only when it provably never reached the
partner (the connection could not be opened) or the partner answered 5xx / 429; once it was sent
and the answer is lost, the partner may have applied it, and only the caller can find out
(``services.writeback`` reads the order back before it sends the change again).

A rate limit's wait is slept through only while it is short (``HttpPolicy.longest_sleep``, 5 s):
a longer one raises ``RateLimited`` carrying the wait, so the worker gives its slot back and the
task runs again after it (``worker.base``) instead of holding a worker asleep. JOOR's credit
budget follows the same rule (``connectors.joor.client.CreditBudget``). Inside :func:`patient`
every wait is slept through: where nothing else waits for this process (a person's command at a
terminal), or where the work cannot resume after a pause (an import's read pausing a second time).

urllib3's own retries are switched off: two retry loops stacked on each other multiply the
attempts and hide the waits from our logs.

Secrets ride in headers and query strings (signatures, keys), so nothing raised or logged here
contains either: messages name the method and the URL *path* only.
"""

from __future__ import annotations

import enum
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
import structlog
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError

from connectors.errors import AuthError, OutcomeUnknown, PartnerRejected, RateLimited, RetryableError

log = structlog.get_logger()

# How much of a refused response body is kept on the exception for the person reading it.
BODY_EXCERPT_CHARS = 200
# The longest rate-limit wait a client sleeps through; a longer one raises RateLimited.
LONGEST_SLEEP = 5.0

# How many ``patient()`` blocks this process is in. Process-wide, not per thread: an import reads
# its pages in a helper thread (services/prefetch.py); a worker's pool process runs one task at a time.
_patience = 0


@contextmanager
def patient() -> Iterator[None]:
    """Sleep through every rate-limit wait, however long, in this process while inside."""
    global _patience
    _patience += 1
    try:
        yield
    finally:
        _patience -= 1


def longest_sleep(limit: float) -> float:
    """The longest wait to sleep through: ``limit``, or no limit inside :func:`patient`."""
    return math.inf if _patience else limit


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, retry budget and pool size for one partner site.

    With the defaults the worst case before giving up is about 0.5+1+2+4 = 7.5 s of backoff
    (plus timeouts), well under a Celery task's time limit and the Redis visibility timeout.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    pool_size: int = 10
    # A rate limit asking for a longer wait than this raises RateLimited instead of sleeping.
    longest_sleep: float = LONGEST_SLEEP

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


DEFAULT_POLICY = HttpPolicy()


class Action(enum.Enum):
    OK = "ok"
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    REJECT = "reject"


# Exceptions worth another attempt: the request may never have reached the partner, or its
# answer was lost on the way back. Anything else from requests is a bug in how we built it.
RETRYABLE_EXCEPTIONS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

# Methods that are safe to repeat after a lost answer (RFC 9110 section 9.2.2: idempotent).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def never_sent(exc: Exception) -> bool:
    """Whether a transport failure happened before any byte of the request left: the connection
    could not be opened (refused, unreachable, name not resolved, connect timeout).

    Everything else — a read timeout, a connection closed while we waited, a body cut short —
    may have reached the partner. urllib3 reports a failed connect as the ``reason`` of the
    error requests wraps (``NewConnectionError`` is a kind of ``ConnectTimeoutError``)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    return isinstance(getattr(exc.args[0], "reason", None), ConnectTimeoutError)


STATUS_ACTIONS: dict[int, Action] = {
    401: Action.AUTH,
    403: Action.AUTH,
    429: Action.RATE_LIMITED,
}


def classify_status(status: int) -> Action:
    """The action for one HTTP status: the table above, then the 5xx / 4xx ranges."""
    if status in STATUS_ACTIONS:
        return STATUS_ACTIONS[status]
    if status >= 500:
        return Action.RETRY
    if status >= 400:
        return Action.REJECT
    return Action.OK


def backoff_wait(policy: HttpPolicy, attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): uniform in [0, ceiling].

    Full jitter spreads the retries of many workers hit by the same outage instead of having
    them return in lockstep. ``attempt`` is the 1-based number of the attempt that failed.
    """
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2.0 ** (attempt - 1))
    return ceiling * rand()


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110).

    Returns None when absent or unreadable, so the caller falls back to its own backoff.
    """
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def build_session(policy: HttpPolicy) -> requests.Session:
    """A pooled session: keep-alive connections reused across a run's pages, no urllib3 retries."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=policy.pool_size, pool_maxsize=policy.pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: HttpPolicy,
    sleep: Callable[[float], None] = time.sleep,
    idempotent: bool | None = None,
    **requests_kwargs: Any,
) -> requests.Response:
    """Send one request, retrying what the table says is transient; return a non-error response.

    Raises AuthError, PartnerRejected or (retries exhausted) RetryableError; OutcomeUnknown when
    a request that is not ``idempotent`` (default: by its method) was sent and its answer lost.
    Auth hooks passed as ``auth=`` run again on every attempt, so a signed request gets a fresh
    signature.
    """
    requests_kwargs.setdefault("timeout", policy.timeout)
    repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
    where = f"{method.upper()} {urlsplit(url).path}"
    failure = ""
    retry_after: float | None = None
    status: int | None = None
    for attempt in range(1, policy.max_attempts + 1):
        try:
            response = session.request(method, url, **requests_kwargs)
        except RETRYABLE_EXCEPTIONS as exc:
            if not repeatable and not never_sent(exc):
                log.warning("partner_answer_lost", request=where, attempt=attempt, error=type(exc).__name__)
                raise OutcomeUnknown(
                    f"{where} got no answer ({type(exc).__name__}); the partner may have applied it"
                ) from None
            failure, status, retry_after = type(exc).__name__, None, None
        except requests.RequestException as exc:
            raise PartnerRejected(f"{where} could not be sent ({type(exc).__name__})") from None
        else:
            action = classify_status(response.status_code)
            if action is Action.OK:
                return response
            _raise_if_final(action, response, where)
            status = response.status_code
            failure = f"HTTP {status}"
            retry_after = (
                parse_retry_after(response.headers.get("Retry-After")) if action is Action.RATE_LIMITED else None
            )
            if retry_after is not None and retry_after > longest_sleep(policy.longest_sleep):
                log.info("partner_rate_limited", request=where, attempt=attempt, retry_after=round(retry_after, 3))
                raise RateLimited(
                    f"{where} was refused for the rate limit (HTTP 429): the partner asks to wait {retry_after:.0f} s",
                    status=status,
                    retry_after=retry_after,
                )
        if attempt == policy.max_attempts:
            break
        wait = min(policy.backoff_cap, retry_after) if retry_after is not None else backoff_wait(policy, attempt)
        log.warning("partner_retry", request=where, attempt=attempt, status=status, error=failure, wait=round(wait, 3))
        sleep(wait)
    raise RetryableError(
        f"{where} failed after {policy.max_attempts} attempts (last: {failure})", status=status, retry_after=retry_after
    )


def _raise_if_final(action: Action, response: requests.Response, where: str) -> None:
    """Turn a non-retryable status into its exception; retryable ones fall through."""
    status = response.status_code
    if action is Action.AUTH:
        raise AuthError(
            f"{where} was refused (HTTP {status}): check the site's credentials",
            status=status,
            value=body_excerpt(response),
        )
    if action is Action.REJECT:
        raise PartnerRejected(f"{where} was rejected (HTTP {status})", status=status, value=body_excerpt(response))


def json_body(response: requests.Response, where: str, partner: str) -> Any:
    """The response's JSON. A partner that answers JSON answering anything else (a proxy's error
    page, a cut body) is the way there failing, not the partner refusing us: a RetryableError with
    the body's start, worth another try later. ``where`` names the call for the message."""
    try:
        # orjson first: a page of orders decodes in a third of the time. What it refuses and the
        # standard decoder takes (NaN, integers beyond 64 bits, a lone surrogate escape, another
        # encoding than UTF-8) is read as before.
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except ValueError:
        raise RetryableError(
            f"{where} answered with a body that is not JSON: {body_excerpt(response)!r}",
            status=response.status_code,
            value=body_excerpt(response),
            partner=partner,
        ) from None


def body_excerpt(response: requests.Response, limit: int = BODY_EXCERPT_CHARS) -> str:
    """The start of a response body, for a person to read; never the whole (maybe huge) body."""
    text = response.content[: limit * 4].decode("utf-8", "replace")
    return text[:limit] + ("…" if len(text) > limit else "")


class PartnerClient:
    """What every partner client shares: the base URL, a pooled session it may own, a repr that
    never shows credentials, and closing. Subclasses add the partner's verbs and auth."""

    def __init__(
        self, base_url: str, policy: HttpPolicy, session: requests.Session | None, sleep: Callable[[float], None]
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.policy = policy
        self._owns_session = session is None
        self._session = session if session is not None else build_session(policy)
        self._sleep = sleep

    def __repr__(self) -> str:
        parts = urlsplit(self.base_url)  # rebuilt without any user:password@ or query
        port = f":{parts.port}" if parts.port else ""
        return f"{type(self).__name__}({parts.scheme}://{parts.hostname}{port}{parts.path})"

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections, unless the session was lent to us by the caller."""
        if self._owns_session:
            self._session.close()
