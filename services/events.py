"""Events partners push to Bobbin (webhooks): receiving one, and processing it.

``receive`` is what the web receiver (``web/events.py``) calls with a request's raw body: it finds
the site and its partner's :class:`~connectors.events.EventSource`, checks the signature (and the
signed time, where the partner signs one), parses the event and stores it once per site and event
id, then hands the new row's id to ``tasks.events.process_event``. It answers with an
:class:`Outcome` the receiver turns into the HTTP answer. Nothing is stored for a request whose
signature does not check out; a signed body that is not an event is kept, raw, for a person.

``process_event`` (the task) applies a stored event through the Bobbin handler its partner maps
the topic to (today: ``returns.apply``, a return read again from the partner, held and moved
along the flow, ``services.returns``). A topic no handler takes is marked ``ignored`` with a note
that says so, and stays stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from connectors.errors import RetryableError
from connectors.events import EventSource, InboundEvent, MalformedEvent
from connectors.registry import NotOffered, UnknownPartner, partner
from connectors.returns import APPLY_RETURN
from core.crypto import CredentialsError
from core.db import session_scope
from models import InboundEvent as EventRow
from models import Site
from services.holding import pg_safe
from services.returns import apply_return_event
from services.sites import credentials

log = structlog.get_logger()

TASK = "tasks.events.process_event"
MAX_ID_LENGTH = 255  # inbound_event.event_id and .topic
# The id and topic are text columns: a NUL or a lone surrogate in them would make the driver raise
# (not a database error), so such an event is malformed before it is stored.
UNSTORABLE_WORDS = "a character Postgres cannot store as text (NUL or a lone surrogate)"

Result = Literal["received", "duplicate", "malformed", "unauthorized", "not_found", "unavailable"]

# A Bobbin handler applies one event, in the caller's transaction, and returns a note for a person
# (or None). The name is what a partner's EventSource.topics maps its topics to.
Handler = Callable[[Session, EventRow], str | None]
HANDLERS: dict[str, Handler] = {APPLY_RETURN: apply_return_event}


@dataclass(frozen=True)
class Outcome:
    """What became of one request: the HTTP status and JSON body to answer with, and the row."""

    result: Result
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    row_id: int | None = None


@dataclass(frozen=True)
class _Receiver:
    site_id: int
    site: str
    kind: str
    source: EventSource
    secret: str | None = field(repr=False)  # the signing secret: never in a repr, log or traceback


def receive(
    site_name: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    enqueue: Callable[[int], None] | None = None,
) -> Outcome:
    """Check, parse and store one pushed event for the site named ``site_name``; hand a new one's
    row id to ``enqueue`` (the web app passes the worker's; None: stored only, for tests and
    callers that process by themselves)."""
    headers = {k.lower(): v for k, v in headers.items()}
    bound = log.bind(site=site_name, bytes=len(body))
    with session_scope() as s:
        found = _receiver(s, site_name)
    if isinstance(found, Outcome):
        bound.info("event_refused", result=found.result, reason=found.body.get("error"))
        return found
    bound = bound.bind(partner=found.kind)

    refused = _check_signature(found, body, headers, time.time() if now is None else now)
    if refused is not None:
        bound.warning("event_refused", result=refused.result, reason=refused.body.get("error"))
        return refused

    try:
        event = _parse(found.source, body, headers)
        row_id = _store(found, event, body)
    except MalformedEvent as exc:
        return _keep_malformed(found, body, str(exc), bound)
    bound = bound.bind(event_id=event.event_id, topic=event.topic)
    if row_id is None:
        bound.info("event_duplicate")
        return Outcome("duplicate", 200, {"duplicate": True})
    bound.info("event_received", id=row_id)
    if enqueue is not None:
        _enqueue(row_id, enqueue, bound)
    return Outcome("received", 200, {"received": True, "id": row_id}, row_id=row_id)


def _receiver(s: Session, site_name: str) -> _Receiver | Outcome:
    # By name only (not services.sites.get_site): this answers anyone on the internet, so a number
    # is not taken as a site id and an unknown name is not answered with the list of sites.
    site = s.scalar(select(Site).where(Site.name == site_name))
    if site is None:
        return Outcome("not_found", 404, {"error": f"no site named {site_name!r}"})
    try:
        source = partner(site.kind).capability("events")
    except UnknownPartner:
        return Outcome("not_found", 404, {"error": f"site {site_name!r} has a partner this Bobbin does not know"})
    except NotOffered as exc:
        return Outcome("not_found", 404, {"error": f"site {site_name!r} takes no events: {exc}"})
    try:
        secret = credentials(site).get(source.secret_field)
    except CredentialsError:
        log.error("event_credentials_unreadable", site=site_name, hint="no key in BOBBIN_SECRET_KEYS decrypts them")
        return Outcome("unavailable", 503, {"error": "this site's events cannot be checked now"})
    return _Receiver(site.id, site.name, site.kind, source, str(secret) if secret else None)


def _check_signature(found: _Receiver, body: bytes, headers: Mapping[str, str], now: float) -> Outcome | None:
    refused = Outcome("unauthorized", 401, {"error": "signature missing or does not match"})
    if not found.secret:
        log.error(
            "event_secret_missing",
            site=found.site,
            field=found.source.secret_field,
            hint=f"the site has no {found.source.secret_field!r} credential: every event is refused",
        )
        return refused
    try:
        ok = bool(found.source.verify(body, headers, found.secret))
    except Exception:  # a partner's verify choking on odd headers: unsigned as far as we can tell
        log.warning("event_verify_failed", site=found.site, exc_info=True)
        ok = False
    if not ok:
        return refused
    window = found.source.replay_seconds
    if window and found.source.timestamp is not None:
        signed_at = found.source.timestamp(headers)
        if signed_at is None:
            return Outcome("unauthorized", 401, {"error": "no signed timestamp"})
        age = now - signed_at
        if abs(age) > window:
            when = f"{age:.0f} s old" if age > 0 else f"{-age:.0f} s in the future"
            return Outcome("unauthorized", 401, {"error": f"signed {when}; events must be signed within {window} s"})
    return None


def _parse(source: EventSource, body: bytes, headers: Mapping[str, str]) -> InboundEvent:
    """The partner's parse, with whatever it raises on a bad body turned into MalformedEvent."""
    try:
        event = source.parse(body, headers)
    except MalformedEvent:
        raise
    except UnicodeDecodeError:
        raise MalformedEvent("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise MalformedEvent(f"the body is not JSON ({exc})") from None
    except Exception as exc:
        raise MalformedEvent(f"the partner's event parser failed on it: {type(exc).__name__}: {exc}") from None
    if not isinstance(event.event_id, str) or not event.event_id.strip():
        raise MalformedEvent("the event has no id")
    if len(event.event_id) > MAX_ID_LENGTH:
        raise MalformedEvent(f"the event id is longer than {MAX_ID_LENGTH} characters")
    if pg_safe(event.event_id) != event.event_id:
        raise MalformedEvent(f"the event id holds {UNSTORABLE_WORDS}")
    if not isinstance(event.topic, str) or not event.topic.strip():
        raise MalformedEvent("the event has no topic")
    if len(event.topic) > MAX_ID_LENGTH:
        raise MalformedEvent(f"the event topic is longer than {MAX_ID_LENGTH} characters")
    if pg_safe(event.topic) != event.topic:
        raise MalformedEvent(f"the event topic holds {UNSTORABLE_WORDS}")
    if not isinstance(event.payload, Mapping):
        raise MalformedEvent("the event's payload is not a JSON object")
    return event


def _store(found: _Receiver, event: InboundEvent, body: bytes) -> int | None:
    """Insert the event once per site and event id: the new row's id, or None if it was there."""
    with session_scope() as s:
        try:
            return s.execute(
                pg_insert(EventRow)
                .values(
                    site_id=found.site_id,
                    event_id=event.event_id,
                    topic=event.topic,
                    state="received",
                    payload=dict(event.payload),
                    body=body,
                )
                .on_conflict_do_nothing(index_elements=["site_id", "event_id"])
                .returning(EventRow.id)
            ).scalar_one_or_none()
        except StatementError as exc:  # e.g. a \u0000 in a string: JSON that JSONB cannot hold
            first = str(exc.orig or exc).strip().splitlines()[0]
            raise MalformedEvent(f"the payload cannot be stored as JSON: {first}") from None


def malformed_id(body: bytes) -> str:
    """The stand-in event id of a malformed body: the same bad body is kept once."""
    return f"malformed-{hashlib.sha256(body).hexdigest()}"


def _keep_malformed(found: _Receiver, body: bytes, reason: str, bound: Any) -> Outcome:
    """Keep a signed body that is no event, raw, for a person; answer 400 with the reason."""
    stand_in = malformed_id(body)
    with session_scope() as s:
        row_id = s.execute(
            pg_insert(EventRow)
            .values(
                site_id=found.site_id,
                event_id=stand_in,
                topic=None,
                state="malformed",
                payload=None,
                body=body,
                note=pg_safe(reason),
            )
            .on_conflict_do_nothing(index_elements=["site_id", "event_id"])
            .returning(EventRow.id)
        ).scalar_one_or_none()
        if row_id is None:
            row_id = s.scalar(
                select(EventRow.id).where(EventRow.site_id == found.site_id, EventRow.event_id == stand_in)
            )
    bound.warning("event_malformed", id=row_id, reason=reason)
    return Outcome("malformed", 400, {"error": reason}, row_id=row_id)


def _enqueue(row_id: int, enqueue: Callable[[int], None], bound: Any) -> None:
    """Hand the row to a worker. Should the broker be down, the event stays stored as ``received``
    (the partner is still told it arrived: it did); the reconciler enqueues it again once it is
    older than ``services.reconcile.EVENT_GRACE`` (or by hand:
    ``celery -A worker call tasks.events.process_event --args='[ID]'``)."""
    try:
        enqueue(row_id)
    except Exception:
        bound.error("event_enqueue_failed", id=row_id, hint="the reconciler enqueues it again", exc_info=True)


# --- processing (the task) -------------------------------------------------------------------


def process_event(row_id: int) -> dict[str, Any]:
    """Apply one stored event (``inbound_event.id``) through its Bobbin handler, once.

    A row already processed, ignored or malformed is left as it is (a redelivered task changes
    nothing); a received or failed one is (re)tried. The row is locked while it is applied, so
    two deliveries at once do not both apply it.

    A handler meeting its partner down for now or asking to wait (``RetryableError``, its rate
    limit's ``RateLimited`` too) is not the event's fault: the row stays ``received``, with a note
    saying why, and the error is raised for the task to be retried, or paused, as every partner
    call is (``worker.base``); should the task give up, the reconciler enqueues it again. Any other
    error leaves the row ``failed`` with it, for a person."""
    retry: RetryableError | None = None
    with session_scope() as s:
        row = s.get(EventRow, row_id, with_for_update=True)
        if row is None:
            log.warning("event_missing", id=row_id)
            return {"id": row_id, "state": None, "changed": False, "note": "no such event (its site was deleted?)"}
        bound = log.bind(id=row_id, site_id=row.site_id, event_id=row.event_id, topic=row.topic)
        if row.state not in ("received", "failed"):
            return {"id": row_id, "state": row.state, "changed": False, "note": row.note, "site_id": row.site_id}
        site = s.get(Site, row.site_id)
        kind = site.kind if site is not None else "?"
        try:
            source = partner(kind).capability("events")
        except (UnknownPartner, NotOffered) as exc:
            # This process does not know the partner (yet): a deployment matter, so `failed`, which a
            # person can run again once it is set up, not `ignored`.
            row.state, row.note = "failed", f"cannot process: {exc}"
        else:
            handler_name = source.topics.get(row.topic or "")
            handler = HANDLERS.get(handler_name) if handler_name else None
            if handler is None:
                row.state, row.note = "ignored", f"no Bobbin handler for topic {row.topic!r} yet"
            else:
                try:
                    with s.begin_nested():
                        note = handler(s, row)
                except RetryableError as exc:
                    bound.warning("event_retry", handler=handler_name, error=str(exc))
                    row.note, retry = f"{handler_name}: {type(exc).__name__}: {exc} (tried again)", exc
                except Exception as exc:
                    bound.error("event_failed", handler=handler_name, exc_info=True)
                    row.state, row.note = "failed", f"{handler_name}: {type(exc).__name__}: {exc}"
                else:
                    row.state, row.note = "processed", note
        if retry is None:
            row.processed_at = s.scalar(select(func.now()))
            bound.info("event_processed", state=row.state, note=row.note)
            return {"id": row_id, "state": row.state, "changed": True, "note": row.note, "site_id": row.site_id}
    raise retry
