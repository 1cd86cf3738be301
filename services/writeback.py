"""Status writebacks through the outbox: mark orders shipped / paid / void (and exported).

``mark`` records the change in the ERP and queues one outbox row per (order, status) in one
transaction. ``flush`` sends what is due, one row at a time:

1. the row is claimed with a Postgres advisory lock (``_RowLocks``), so two flushers never send
   the same row; the lock lives on the flusher's connection and dies with it;
2. the attempt is recorded as in flight — ``attempts + 1``, ``sending_since`` set and a
   ``writeback_attempt`` row with no outcome yet — and *committed before the partner is called*;
3. a row that already had ``sending_since`` set is "uncertain": its previous attempt reached the
   partner, or may have, and no outcome was recorded (the answer was lost: read timeout,
   connection closed, body cut short — ``OutcomeUnknown`` from the HTTP layer — or the worker
   died while it waited). Before sending it again the partner is asked whether it already shows
   the change (``StatusWriter.writeback_applied``); if it does, the row is marked sent with the
   note "already applied on the partner" and nothing is sent. A partner that cannot tell
   (NotSupported) gets the change again, as before;
4. the outcome is committed: sent; or a retryable failure waits with exponential backoff and
   jitter; or a refusal (4xx, bad credentials) or too many failures leaves the row ``dead`` with
   its last error, shown by ``bobbin status`` until a person re-queues it (``bobbin writebacks
   retry``, the console's Writebacks page: ``services.writebacks``). ``sending_since`` is
   cleared only when the outcome says the partner cannot have applied the change;
5. an answer about another record than the one the write named (``ContractViolation``) leaves
   the row ``held`` — not sent, not dead, not retried by itself — with a ``contract_violation``
   problem on the order, what the answer carried kept in the holding area, and the site's
   contacts told, until a person re-queues it.

A flush goes on while rows are due (``FLUSH_BATCH`` at a time) and skips, for now, the rows of a
site whose import is reading the partner's lists (``core.locks.writeback_hold``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from connectors.base import CUSTOMER_CODE, WRITEBACK_STATUSES, StatusWriter, identified
from connectors.errors import ContractViolation, NotSupported, OutcomeUnknown, PartnerError
from connectors.payload import excerpt
from connectors.registry import NotOffered, PartnerSpec, UnknownPartner, partner
from core.crypto import CredentialsError
from core.db import get_engine, session_scope
from core.locks import hold_key
from core.settings import get_settings
from models import InboundOrder, OrderError, OutboxEntry, SalesOrder, Site, WritebackAttempt
from services.context import SiteContext
from services.holding import VALUE_MAX, stage_page
from services.outbox import queue_writeback

log = structlog.get_logger()

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
FLUSH_BATCH = 200  # rows read per query of a flush; a flush goes on to the next batch while rows are due
# How long one flush sends before it hands over to a new task (tasks.status.flush_outbox re-enqueues
# itself): well under VISIBILITY_TIMEOUT, and short enough that Flower shows progress as tasks.
FLUSH_BUDGET_SECONDS = 240.0
# First key of the two-key advisory locks on outbox rows (the second is the row id). Two-key
# locks never meet the one-key locks of core.locks.
OUTBOX_LOCK_SPACE = 0x0B0B0B0B
ALREADY_APPLIED = "already applied on the partner: not sent again"


class MarkError(ValueError):
    pass


def _spec(kind: str) -> PartnerSpec | None:
    try:
        return partner(kind)
    except UnknownPartner:
        return None


@dataclass
class MarkResult:
    queued: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def mark(session: Session, order_ids: list[int], status: str) -> MarkResult:
    """Record ``status`` on the ERP orders and queue it for the partner. Caller commits."""
    if status not in WRITEBACK_STATUSES:
        raise MarkError(f"status must be one of {', '.join(WRITEBACK_STATUSES)}, not {status!r}")
    result = MarkResult()
    orders = {
        o.id: o for o in session.scalars(select(InboundOrder).where(InboundOrder.id.in_(order_ids)).with_for_update())
    }
    kinds = dict(session.execute(select(Site.id, Site.kind)).all())
    by_site: dict[int, list[int]] = {}
    for oid in order_ids:
        order = orders.get(oid)
        spec = _spec(kinds[order.site_id]) if order else None
        if order is None or spec is None:
            result.skipped[oid] = "no such order" if order is None else "its site's partner is not installed"
        elif spec.writeback is None or status not in spec.writeback.statuses:
            result.skipped[oid] = (
                f"{spec.label} takes no '{status}' status through its API; change it on the partner by hand"
            )
        elif status in ("shipped", "paid") and order.state != "imported":
            result.skipped[oid] = f"order is {order.state}; only imported orders can be marked {status}"
        elif (
            status == "exported"
            and order.state != "imported"
            and (spec.orders is None or spec.orders.exported_when != "staged" or order.state == "rejected")
        ):
            # A partner told "exported" at staging (JOOR) takes it for any held order a person has
            # not rejected; the others only once the order is in the ERP.
            result.skipped[oid] = f"order is {order.state}; {spec.label} orders are marked exported once imported"
        else:
            by_site.setdefault(order.site_id, []).append(oid)
            result.queued.append(oid)
            if status == "void" and order.state != "imported":
                order.state = "rejected"
    if result.queued and status in ("shipped", "paid", "void"):
        session.execute(update(SalesOrder).where(SalesOrder.inbound_order_id.in_(result.queued)).values(status=status))
    for site_id, ids in by_site.items():
        queue_writeback(session, site_id, ids, status)
    return result


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: 30 s, 60 s, 120 s ... capped at an hour."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=(rng or random).uniform(ceiling.total_seconds() / 2, ceiling.total_seconds()))


@dataclass
class FlushResult:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    already_applied: int = 0  # of ``sent``: found applied on the partner, so not sent again
    held: int = 0  # skipped: the site's import was reading its lists (sent after it)
    held_for_person: int = 0  # the partner answered for another record: held until a person looks
    violation_sites: set[int] = field(default_factory=set)  # sites of those rows (their contacts are told)
    more: bool = False  # the time budget ran out with rows still due
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "dead": self.dead,
            "already_applied": self.already_applied,
            "held": self.held,
            "held_for_person": self.held_for_person,
            "violation_sites": sorted(self.violation_sites),
            "more": self.more,
            "errors": self.errors[:10],
        }


class _RowLocks:
    """Which outbox rows this flusher is sending: a session-level advisory lock per row, on one
    connection held for the whole flush.

    A row lock (FOR UPDATE) ends at commit, and the in-flight record must be committed before
    the partner is called; an advisory lock spans those commits. A flusher that dies (SIGKILL,
    lost connection) loses its connection and its locks with it, at once: its row is then found
    "uncertain" by the next flusher, never stuck behind a stale lock.
    """

    def __init__(self) -> None:
        self._conn = get_engine().connect()

    def try_claim(self, outbox_id: int, site_id: int) -> bool | None:
        """One statement for the site's writeback hold (shared) and the row's lock: None while an
        import reads the site's lists (nothing taken), False when another flusher has the row (the
        hold is taken: :meth:`release` it), True when both are held."""
        got = self._conn.execute(
            text(
                "SELECT CASE WHEN pg_try_advisory_lock_shared(:hold) "
                "THEN pg_try_advisory_lock(CAST(:space AS integer), CAST(:id AS integer)) END"
            ),
            {"hold": hold_key(site_id), "space": OUTBOX_LOCK_SPACE, "id": outbox_id},
        ).scalar()
        self._conn.commit()
        return None if got is None else bool(got)

    def release(self, outbox_id: int | None, site_id: int) -> None:
        """The row's lock (when ``outbox_id`` is given) and the site's shared hold, in one statement."""
        unlock_row = (
            "pg_advisory_unlock(CAST(:space AS integer), CAST(:id AS integer)), " if outbox_id is not None else ""
        )
        self._conn.execute(
            text(f"SELECT {unlock_row}pg_advisory_unlock_shared(:hold)"),
            {"hold": hold_key(site_id), "space": OUTBOX_LOCK_SPACE, "id": outbox_id},
        )
        self._conn.commit()

    def close(self) -> None:
        """Release whatever is still held (the connection goes back to the pool, which keeps
        session-level locks), then the connection."""
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
            self._conn.commit()
        except DBAPIError:
            self._conn.invalidate()  # the connection died: its locks died with it
        finally:
            self._conn.close()


def flush(
    *,
    site_id: int | None = None,
    outbox_ids: list[int] | None = None,
    budget_seconds: float = FLUSH_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> FlushResult:
    """Send the due outbox rows (all sites, one site, or the given rows), ``FLUSH_BATCH`` at a time
    in id order, until none is left or ``budget_seconds`` have passed (then ``more`` is set and
    the caller comes back, ``tasks.status.flush_outbox`` by re-enqueueing itself).

    A site whose import is reading the partner's lists holds its writebacks
    (``core.locks.writeback_hold``): its rows are skipped (``held``) and go out with the flush
    the import sends when it ends."""
    deadline = clock() + budget_seconds
    result = FlushResult()
    sources: dict[int, StatusWriter] = {}
    held_sites: set[int] = set()
    locks: _RowLocks | None = None
    after: int | None = None
    try:
        while True:
            batch = _due(site_id, outbox_ids, after)
            if not batch:
                return result
            if locks is None:
                locks = _RowLocks()
            for oid, row_site in batch:
                after = oid
                if clock() >= deadline:
                    result.more = True
                    return result
                claimed = None if row_site in held_sites else locks.try_claim(oid, row_site)
                if claimed is None:
                    held_sites.add(row_site)  # the rest of its rows wait for the import's own flush
                    result.held += 1
                    continue
                try:
                    if claimed:  # else another flusher is sending it
                        _send_one(oid, sources, result)
                finally:
                    locks.release(oid if claimed else None, row_site)
    finally:
        if locks is not None:
            locks.close()
        for src in sources.values():
            src.close()


def _due(site_id: int | None, outbox_ids: list[int] | None, after: int | None) -> list[tuple[int, int]]:
    """The next ``FLUSH_BATCH`` due rows after id ``after``: (outbox id, site id)."""
    with session_scope() as s:
        query = (
            select(OutboxEntry.id, OutboxEntry.site_id)
            .where(OutboxEntry.state == "pending", OutboxEntry.next_attempt_at <= func.now())
            .order_by(OutboxEntry.id)
            .limit(FLUSH_BATCH)
        )
        if after is not None:
            query = query.where(OutboxEntry.id > after)
        if site_id is not None:
            query = query.where(OutboxEntry.site_id == site_id)
        if outbox_ids is not None:
            query = query.where(OutboxEntry.id.in_(outbox_ids))
        return [(oid, sid) for oid, sid in s.execute(query).all()]


@dataclass(frozen=True)
class _Claim:
    """What one attempt needs once its in-flight record is committed."""

    outbox_id: int
    attempt_id: int
    site_id: int
    order_id: int
    partner_order_id: str
    status: str
    payload: dict[str, Any]
    attempts: int
    uncertain: bool  # the previous attempt has no recorded outcome


def _claim(outbox_id: int, sources: dict[int, StatusWriter]) -> tuple[_Claim, Site | None] | None:
    """Record the attempt as in flight, committed before the partner is called. Returns None
    when the row was sent, gave up or was put off meanwhile; the site when no source is open."""
    with session_scope() as session:
        row = session.scalar(
            select(OutboxEntry).where(
                OutboxEntry.id == outbox_id, OutboxEntry.state == "pending", OutboxEntry.next_attempt_at <= func.now()
            )
        )
        if row is None:
            return None
        order = session.get(InboundOrder, row.inbound_order_id)
        assert order is not None
        uncertain = row.sending_since is not None
        row.attempts += 1
        row.sending_since = datetime.now(UTC)
        attempt = WritebackAttempt(outbox_id=row.id, ok=None)
        session.add(attempt)
        session.flush()
        site = session.get(Site, row.site_id) if row.site_id not in sources else None
        claim = _Claim(
            row.id,
            attempt.id,
            row.site_id,
            order.id,
            order.partner_order_id,
            row.status,
            dict(row.payload or {}),
            row.attempts,
            uncertain,
        )
        return claim, site


def _send_one(outbox_id: int, sources: dict[int, StatusWriter], result: FlushResult) -> None:
    claimed = _claim(outbox_id, sources)
    if claimed is None:
        return
    claim, site = claimed
    # Whether the partner may hold the change without our knowing: true for an uncertain row
    # until the partner says otherwise, and after an attempt whose answer was lost.
    maybe_applied = claim.uncertain
    applied_before = False
    error: PartnerError | CredentialsError | None = None
    try:
        if claim.site_id not in sources:  # inside the try: a site with bad keys fails its own rows only
            assert site is not None
            sources[claim.site_id] = SiteContext.of(site).open("writeback")
        source = sources[claim.site_id]
        if claim.uncertain:
            applied_before = _already_applied(source, claim)
            maybe_applied = applied_before
        if not applied_before:
            if claim.status == CUSTOMER_CODE:
                source.set_customer_code(claim.payload["partner_customer_id"], claim.payload["erp_code"])
            else:
                source.mark_order(claim.partner_order_id, claim.status)
    except OutcomeUnknown as exc:
        maybe_applied, error = True, exc
    except ContractViolation as exc:
        _hold(claim, exc, result)
        return
    except (PartnerError, CredentialsError) as exc:
        error = exc
    except (NotOffered, UnknownPartner) as exc:  # the site's partner takes no writebacks (any more)
        error = NotSupported(str(exc))
    _record(claim, error, maybe_applied=maybe_applied, applied_before=applied_before, result=result)


def _hold(claim: _Claim, exc: ContractViolation, result: FlushResult) -> None:
    """The partner answered for something other than the row's target: nothing is counted as
    sent and nothing is retried by itself. The row is ``held`` for a person; the order gets a
    ``contract_violation`` problem with the request and the answer; what the answer carried is kept
    in the holding area (the partner may have changed it: a marking read marks what it returns);
    the site's contacts get an alarm (services.notify) and ``bobbin status`` shows it."""
    with session_scope() as session:
        row = session.get(OutboxEntry, claim.outbox_id)
        attempt = session.get(WritebackAttempt, claim.attempt_id)
        site = session.get(Site, claim.site_id)
        assert row is not None and attempt is not None and site is not None
        row.state, row.sending_since = "held", None
        row.last_error = str(exc)[:1000]
        attempt.ok, attempt.error = False, row.last_error
        attempt.note = f"contract violation: request {exc.request}; answer {excerpt(exc.answer)}"[:1000]
        session.execute(
            pg_insert(OrderError).on_conflict_do_nothing(),
            [
                {
                    "order_id": claim.order_id,
                    "code": "contract_violation",
                    "field": exc.request[:VALUE_MAX],
                    "value": excerpt(exc.answer)[:VALUE_MAX],
                    "severity": "error",
                    "message": f"{exc} (request: {exc.request})"[:2000],
                }
            ],
        )
        orders = partner(site.kind).capability("orders")
        kept = [orders.to_partner_order(record) for record in exc.records if isinstance(record, Mapping)]
        kept = [order for order in kept if identified(order.partner_order_id)]
        if kept:
            stage_page(session, claim.site_id, kept)
    result.held_for_person += 1
    result.violation_sites.add(claim.site_id)
    result.errors.append(f"order {claim.order_id} {claim.status}: {exc}")
    log.error(
        "writeback_contract_violation",
        order_id=claim.order_id,
        status=claim.status,
        request=exc.request,
        answer=excerpt(exc.answer),
        kept=len(kept),
    )


def _already_applied(source: StatusWriter, claim: _Claim) -> bool:
    """Ask the partner whether the uncertain row's change is there already. False when the
    partner cannot tell (NotSupported): the change is then sent again, as before this check."""
    try:
        applied = source.writeback_applied(claim.partner_order_id, claim.status, claim.payload)
    except NotSupported as exc:
        log.info("writeback_uncertain_resent", order_id=claim.order_id, status=claim.status, reason=str(exc))
        return False
    log.info("writeback_uncertain_checked", order_id=claim.order_id, status=claim.status, applied=applied)
    return applied


def _record(
    claim: _Claim,
    error: PartnerError | CredentialsError | None,
    *,
    maybe_applied: bool,
    applied_before: bool,
    result: FlushResult,
) -> None:
    """Commit the attempt's outcome on the row and on its attempt record."""
    with session_scope() as session:
        row = session.get(OutboxEntry, claim.outbox_id)
        attempt = session.get(WritebackAttempt, claim.attempt_id)
        assert row is not None and attempt is not None
        if error is None:
            row.state, row.sent_at, row.last_error, row.sending_since = "sent", datetime.now(UTC), None, None
            attempt.ok = True
            result.sent += 1
            if applied_before:
                attempt.note = ALREADY_APPLIED
                result.already_applied += 1
                log.info(
                    "writeback_already_applied", order_id=claim.order_id, status=claim.status, note=ALREADY_APPLIED
                )
            else:
                log.info("writeback_sent", order_id=claim.order_id, status=claim.status)
            return
        retryable = isinstance(error, PartnerError) and error.retryable
        give_up = not retryable or claim.attempts >= get_settings().writeback_max_attempts
        row.last_error = str(error)[:1000]
        if not maybe_applied:
            row.sending_since = None
        if give_up:
            row.state = "dead"
            result.dead += 1
        else:
            row.next_attempt_at = datetime.now(UTC) + backoff(claim.attempts)
            result.retrying += 1
        attempt.ok, attempt.error = False, row.last_error
        if maybe_applied:
            attempt.note = "outcome unknown: the partner is asked before the change is sent again"
        result.errors.append(f"order {claim.order_id} {claim.status}: {error}")
        log.warning(
            "writeback_failed",
            order_id=claim.order_id,
            status=claim.status,
            attempts=claim.attempts,
            gave_up=give_up,
            uncertain=maybe_applied,
            error=str(error),
        )
