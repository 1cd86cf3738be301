"""Partner failures, sorted into what the caller should do about them.

Three outcomes (STYLE: retry later / needs a person / skip):
- ``RetryableError``: the partner or the network failed for now (connection error, timeout,
  5xx, 429). The HTTP layer already retried with backoff; the caller may retry later.
  ``RateLimited`` is the kind of it that says how long: the partner's rate limit asks for a wait
  too long to sleep through in a worker.
  ``OutcomeUnknown`` is the kind of it where a write reached the partner and its answer was
  lost: the partner may have applied it, so the caller asks before sending it again.
- ``AuthError``: the partner refused our credentials. A person must fix the site's keys.
- ``PartnerRejected``: the partner understood and said no (4xx, or an error envelope).
  Retrying the same request will not help; a person must look.
"""

from __future__ import annotations


class PartnerError(Exception):
    """Base of every error raised by a partner client. ``value`` is the partner's own message."""

    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, value: object = None, partner: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.value = value
        self.partner = partner

    def __str__(self) -> str:
        return self.message


class RetryableError(PartnerError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """The partner's rate limit says wait ``retry_after`` seconds, longer than a worker should
    sleep holding its slot (``connectors.http.LONGEST_SLEEP``): a 429 whose Retry-After is that
    long, or JOOR's credit budget spent until its window resets. Nothing was sent that the partner
    applied. The task gives its slot back and runs again after the wait (``worker.base``), and
    resumes: an import reads its list again over the pages it committed, a push sends only what
    the partner has not accepted yet."""

    def __init__(self, message: str, *, retry_after: float, **kw: object) -> None:
        super().__init__(message, retry_after=retry_after, **kw)
        self.retry_after: float = retry_after


class OutcomeUnknown(RetryableError):
    """A write that is not safe to repeat was sent and its answer was lost (read timeout,
    connection closed after sending, body cut short): the partner may or may not have applied it.

    The HTTP layer does not repeat such a request. The caller finds out whether the partner shows
    the change before it sends it again (``services.writeback``: an "uncertain" outbox row)."""


class AuthError(PartnerError):
    """Credentials refused: 'check the site's credentials'."""


class PartnerRejected(PartnerError):
    """A 4xx or an error envelope: the request itself is wrong; do not retry."""


class NotSupported(PartnerRejected):
    """The partner's API offers no way to do this (e.g. a status it has no field for)."""


class ContractViolation(PartnerRejected):
    """The partner answered something its contract rules out for this request — a write or a
    read-back that named one record came back about another (or several). Nothing is treated as
    done: the caller holds the change for a person (``services.writeback``), with ``request`` and
    ``answer`` kept. ``records`` are what the answer carried (e.g. orders a marking read returned:
    the partner may have changed them, so the caller keeps them rather than lose them)."""

    def __init__(
        self, message: str, *, request: str, answer: object = None, records: list[object] | None = None, **kw: object
    ) -> None:
        super().__init__(message, value=answer, **kw)  # type: ignore[arg-type]
        self.request = request
        self.answer = answer
        self.records = list(records or [])
