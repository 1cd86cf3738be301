"""The outbox as a person sees it: its rows per site and state, a page at a time, and a dead row
sent again. The console's Writebacks page (``/writebacks``) and ``bobbin writebacks list|retry``
both read and change it here.

What each state (``STATES``) means to a person:

- ``pending``: waiting for its first try, or for its next one after a failure — with its tries,
  when the next one is due and the partner's last message;
- ``uncertain``: a try was made and its outcome is not known (``outbox.sending_since`` is set: the
  answer was lost, or the worker died while it waited), so the partner may have the change already.
  Before sending it again the outbox asks the partner (``services.writeback``); a row being sent at
  this very moment looks the same and is told apart by its flusher's advisory lock (``sending_now``);
- ``held``: the partner answered for another record than the one the write named (a contract
  violation): not sent, not retried by itself, until a person checks the order on the partner;
- ``dead``: given up — the partner refused it, or ``WRITEBACK_MAX_ATTEMPTS`` tries failed — with the
  partner's last message. Only these are sent again by :func:`retry`;
- ``sent``: sent in the last ``SENT_DAYS`` days.

:func:`retry` puts dead rows back to pending, tries reset to 0 and due now, exactly once: it locks
the rows (``FOR UPDATE``) and resets only those still ``dead``, so a second retry of the same row —
at the same moment or later — finds it pending or sent and is refused; and it takes each row's
advisory lock, the one every flusher claims a row with (``services.writeback.OUTBOX_LOCK_SPACE``),
for its transaction, so a row a flusher holds is never changed under it. The row's
``sending_since`` is kept: a row that gave up after an attempt whose answer was lost is read back
from the partner before it is sent again. :func:`retry_now` then sends the rows at once through
``services.writeback.flush`` (the same claim as every flush) and reads where each one stands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from sqlalchemy import ColumnElement, Integer, and_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from connectors.errors import PartnerError
from core.crypto import CredentialsError
from core.db import session_scope
from core.settings import get_settings
from models import InboundOrder, InboundReturn, OutboxEntry, Site, WritebackAttempt
from services import writeback

log = structlog.get_logger()

STATES = ("pending", "uncertain", "held", "dead", "sent")
SENT_DAYS = 7  # how far back the "sent" state lists
PAGE_SIZE = 50
RETRY_MAX = 500  # rows one retry takes (a page's selection is 50)


class WritebackError(ValueError):
    """A request about writebacks that cannot be answered: said in one sentence a person can act on."""


@dataclass(frozen=True)
class WritebackRow:
    """One outbox row as a person reads it."""

    id: int
    site_id: int
    site: str
    order_id: int | None  # the held order, or None for a return's row
    partner_order_id: str  # the partner's id of the order (or of the return)
    status: str  # the change: exported, shipped, paid, void, customer_code; a return's process, flag, note_*
    state: str  # one of STATES
    attempts: int
    last_error: str | None  # the partner's last message (or why the try failed)
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    sending_since: datetime | None
    last_try_at: datetime | None = None
    last_note: str | None = None  # the last try's note, e.g. "already applied on the partner: not sent again"
    sending_now: bool = False  # a flusher holds the row at this moment
    return_id: int | None = None  # the held return, for a return's row

    @property
    def ref(self) -> str:
        """The order (or return) as SITE:PARTNER_ID."""
        return f"{self.site}:{self.partner_order_id}"

    @property
    def is_return(self) -> bool:
        return self.order_id is None

    @property
    def change(self) -> str:
        """The change in words: "shipped", or "customer code"."""
        return self.status.replace("_", " ")

    @property
    def unknown(self) -> str | None:
        """For an uncertain or held row: what is not known, in a sentence."""
        if self.state == "uncertain":
            if self.sending_now:
                return "being sent right now: its outcome is not known yet"
            return (
                f"the outcome of try {self.attempts} is not known (its answer was lost, or its worker stopped): "
                "the partner may have the change already, and is asked before it is sent again"
            )
        if self.state == "held":
            return (
                "the partner answered for another record than this order: nothing is known to have changed "
                "on the partner for it; check the order there, then mark it again"
            )
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site,
            "order_id": self.order_id,
            "order": self.ref,
            "status": self.status,
            "state": self.state,
            "attempts": self.attempts,
            "last_try_at": self.last_try_at,
            "next_attempt_at": self.next_attempt_at if self.state in ("pending", "uncertain") else None,
            "sent_at": self.sent_at,
            "last_error": self.last_error,
            "note": self.last_note,
            "unknown": self.unknown,
        }


@dataclass
class WritebackPage:
    rows: list[WritebackRow]
    total: int  # rows of the state (and site) asked for
    counts: dict[str, int]  # rows per state (of the site asked for)


def _shown_state(state: str, sending_since: datetime | None) -> str:
    if state == "pending" and sending_since is not None:
        return "uncertain"
    return state


def _sent_since() -> ColumnElement[Any]:
    return func.now() - timedelta(days=SENT_DAYS)


def _state_condition(state: str) -> ColumnElement[bool]:
    if state == "pending":
        return and_(OutboxEntry.state == "pending", OutboxEntry.sending_since.is_(None))
    if state == "uncertain":
        return and_(OutboxEntry.state == "pending", OutboxEntry.sending_since.is_not(None))
    if state == "sent":
        return and_(OutboxEntry.state == "sent", OutboxEntry.sent_at >= _sent_since())
    return OutboxEntry.state == state


def check_state(state: str) -> str:
    if state not in STATES:
        raise WritebackError(f"there is no writeback state {state!r}: use {', '.join(STATES)}")
    return state


def counts(session: Session, site_id: int | None = None) -> dict[str, int]:
    """Rows per state (``sent``: in the last ``SENT_DAYS`` days), of one site or all."""
    query = select(*(func.count().filter(_state_condition(state)) for state in STATES)).select_from(OutboxEntry)
    if site_id is not None:
        query = query.where(OutboxEntry.site_id == site_id)
    return {state: int(n) for state, n in zip(STATES, session.execute(query).one(), strict=True)}


def _rows_query() -> Any:
    return (
        select(OutboxEntry, Site.name, func.coalesce(InboundOrder.partner_order_id, InboundReturn.loop_return_id))
        .outerjoin(InboundOrder, InboundOrder.id == OutboxEntry.inbound_order_id)
        .outerjoin(InboundReturn, InboundReturn.id == OutboxEntry.inbound_return_id)
        .join(Site, Site.id == OutboxEntry.site_id)
    )


def _sending_now(session: Session, outbox_ids: Sequence[int]) -> set[int]:
    """The rows a flusher holds at this moment (its advisory lock on the row is granted)."""
    if not outbox_ids:
        return set()
    found = session.execute(
        text(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
            "AND classid::bigint = :space AND objid::bigint = ANY(:ids)"
        ).bindparams(bindparam("ids", type_=ARRAY(Integer))),
        {"space": writeback.OUTBOX_LOCK_SPACE, "ids": list(outbox_ids)},
    ).scalars()
    return {int(oid) for oid in found}


def _rows(session: Session, found: Sequence[Any]) -> list[WritebackRow]:
    """WritebackRows of (OutboxEntry, site name, partner order id) results, with each row's last try."""
    ids = [w.id for w, _, _ in found]
    last: dict[int, tuple[datetime, str | None]] = {}
    if ids:
        for outbox_id, at, note in session.execute(  # oldest first: the last one stays
            select(WritebackAttempt.outbox_id, WritebackAttempt.attempted_at, WritebackAttempt.note)
            .where(WritebackAttempt.outbox_id.in_(ids))
            .order_by(WritebackAttempt.id)
        ):
            last[outbox_id] = (at, note)
    in_flight = [w.id for w, _, _ in found if w.state == "pending" and w.sending_since is not None]
    now_sending = _sending_now(session, in_flight)
    return [
        WritebackRow(
            id=w.id,
            site_id=w.site_id,
            site=site,
            order_id=w.inbound_order_id,
            partner_order_id=partner_order_id,
            status=w.status,
            state=_shown_state(w.state, w.sending_since),
            attempts=w.attempts,
            last_error=w.last_error,
            created_at=w.created_at,
            next_attempt_at=w.next_attempt_at,
            sent_at=w.sent_at,
            sending_since=w.sending_since,
            last_try_at=last.get(w.id, (None, None))[0],
            last_note=last.get(w.id, (None, None))[1],
            sending_now=w.id in now_sending,
            return_id=w.inbound_return_id,
        )
        for w, site, partner_order_id in found
    ]


def list_writebacks(
    session: Session,
    *,
    state: str = "dead",
    site_id: int | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> WritebackPage:
    """A page of the rows in ``state`` (of one site or all), the newest first — queued last, or for
    ``sent`` sent last — with the total in that state and the count of every state."""
    check_state(state)
    condition = _state_condition(state)
    if site_id is not None:
        condition = and_(condition, OutboxEntry.site_id == site_id)
    order = (OutboxEntry.sent_at.desc(), OutboxEntry.id.desc()) if state == "sent" else (OutboxEntry.id.desc(),)
    found = session.execute(_rows_query().where(condition).order_by(*order).limit(limit).offset(offset)).all()
    every = counts(session, site_id)
    return WritebackPage(rows=_rows(session, found), total=every[state], counts=every)


def rows_by_id(session: Session, outbox_ids: Sequence[int]) -> dict[int, WritebackRow]:
    """The rows asked for that exist, by id."""
    if not outbox_ids:
        return {}
    found = session.execute(_rows_query().where(OutboxEntry.id.in_(list(outbox_ids)))).all()
    return {row.id: row for row in _rows(session, found)}


# --- a dead row sent again --------------------------------------------------------------------------


def _not_dead(row: WritebackRow) -> str:
    """Why a row that is not dead is not sent again, in a sentence a person can act on."""
    what = f'writeback {row.id} ("{row.change}" of order {row.order_id}, {row.ref})'
    if row.state == "sent":
        return f"{what} was sent already{_at(row.sent_at)}: nothing to send again"
    if row.state == "uncertain":
        return f"{what} is not dead: {row.unknown}"
    if row.state == "held":
        how = (
            f"`bobbin orders mark {row.status} {row.order_id}`"
            if row.status in ("exported", "shipped", "paid", "void")
            else f"`bobbin orders resolve {row.order_id} --customer CODE`"
        )
        return f"{what} is held, not dead: {row.unknown} ({how})"
    return f"{what} is not dead: it is pending, after {row.attempts} tries; the outbox sends it{_due(row)}"


def when(moment: datetime) -> str:
    """A moment in BOBBIN_TIMEZONE, for sentences: ``2026-12-03 09:15 UTC``."""
    try:
        zone: Any = ZoneInfo(get_settings().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()


def _at(moment: datetime | None) -> str:
    return f" at {when(moment)}" if moment else ""


def _due(row: WritebackRow) -> str:
    return f" at its next try ({when(row.next_attempt_at)})" if row.attempts else " at the next flush"


@dataclass
class RetryResult:
    retried: list[WritebackRow] = field(default_factory=list)  # as they were: dead, with their last message
    refused: dict[int, str] = field(default_factory=dict)  # outbox id -> why not


def retry(session: Session, outbox_ids: Sequence[int]) -> RetryResult:
    """Put the dead rows among ``outbox_ids`` back to pending: tries reset to 0, the last message
    cleared, due now. Each other id is refused with a sentence (no such writeback, or not dead:
    pending, uncertain, held, sent, or being sent this very moment). Exactly once: see the module's
    story. The caller commits (and may record who asked in the same transaction)."""
    ids = list(dict.fromkeys(int(i) for i in outbox_ids))
    if not ids:
        raise WritebackError("name the writebacks to send again (their ids, the ID column of `bobbin writebacks list`)")
    if len(ids) > RETRY_MAX:
        raise WritebackError(f"{len(ids)} writebacks at once is too many: send at most {RETRY_MAX} again at a time")
    result = RetryResult()
    # Lock the rows first, in id order: a retry of the same rows at the same moment waits here, then
    # reads them pending and is refused.
    locked = set(
        session.scalars(
            select(OutboxEntry.id).where(OutboxEntry.id.in_(ids)).order_by(OutboxEntry.id).with_for_update()
        )
    )
    rows = rows_by_id(session, sorted(locked))
    dead: list[WritebackRow] = []
    for oid in ids:
        row = rows.get(oid)
        if row is None:
            result.refused[oid] = f"there is no writeback {oid}"
        elif row.state != "dead":
            result.refused[oid] = _not_dead(row)
        elif not session.scalar(
            text("SELECT pg_try_advisory_xact_lock(CAST(:space AS integer), CAST(:id AS integer))"),
            {"space": writeback.OUTBOX_LOCK_SPACE, "id": oid},
        ):
            result.refused[oid] = f"writeback {oid} is being sent right now: look again in a moment"
        else:
            dead.append(row)
    if dead:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_([r.id for r in dead]), OutboxEntry.state == "dead")
            .values(state="pending", attempts=0, last_error=None, next_attempt_at=func.now())
        )
    result.retried = dead
    log.info("writeback_retry", retried=[r.id for r in dead], refused=sorted(result.refused))
    return result


@dataclass(frozen=True)
class Outcome:
    """Where a row sent again stands after the send."""

    row: WritebackRow  # as it is now
    was: WritebackRow  # as it was when it was dead
    result: str  # sent, retrying, dead, held, queued
    detail: str | None


def outcome_of(row: WritebackRow, send_error: str | None = None) -> tuple[str, str | None]:
    """(result, detail) of a row after a send: sent (or found applied already), retrying with the
    partner's message, dead again, held, or queued for the next flush."""
    if row.state == "sent":
        return "sent", row.last_note if row.last_note == writeback.ALREADY_APPLIED else None
    if row.state in ("dead", "held"):
        return row.state, row.last_error
    if row.attempts:
        return "retrying", f"{row.last_error or '?'}; next try {when(row.next_attempt_at)}"
    if row.sending_now:
        return "queued", "another flush is sending it now"
    return (
        "queued",
        send_error or "the outbox flush sends it (the site's import is reading its lists, or a flush had it)",
    )


@dataclass
class RetryOutcome:
    outcomes: list[Outcome] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    send_error: str | None = None


Recorder = Callable[[Session, list[WritebackRow]], None]


def retry_now(outbox_ids: Sequence[int], *, record: Recorder | None = None) -> RetryOutcome:
    """:func:`retry`, committed (with ``record(session, rows)`` in the same transaction: who asked),
    then the rows sent at once by ``services.writeback.flush`` and read again: each one's outcome."""
    with session_scope() as s:
        result = retry(s, outbox_ids)
        if record is not None and result.retried:
            record(s, result.retried)
    out = RetryOutcome(refused=result.refused)
    if not result.retried:
        return out
    try:
        writeback.flush(outbox_ids=[r.id for r in result.retried])
    except (PartnerError, CredentialsError) as exc:  # the rows stay pending for the scheduled flush
        out.send_error = str(exc)
    with session_scope() as s:
        now = rows_by_id(s, [r.id for r in result.retried])
    for was in result.retried:
        row = now.get(was.id)
        if row is None:  # its order was deleted meanwhile
            continue
        what, detail = outcome_of(row, out.send_error)
        out.outcomes.append(Outcome(row, was, what, detail))
    return out
