"""Status writebacks through the outbox: mark orders shipped / paid / void (and exported).

``mark`` records the change in the ERP and queues one outbox row per (order, status) in one
transaction. ``flush`` sends what is due, each site's rows through a few lanes at once (its
partner's ``StatusWriteback.lanes``: Brandboom's ``writeback_concurrency`` setting, JOOR's credit
budget shared among them), every lane a thread with a database connection and a partner client of
its own. A lane sends one row at a time:

1. the row is claimed with a Postgres advisory lock on the lane's connection, so two lanes or
   two flushers never send the same row; the lock dies with the connection;
2. the attempt is recorded as in flight — ``attempts + 1``, ``sending_since`` set and a
   ``writeback_attempt`` row with no outcome yet — and *committed before the partner is called*,
   on that same connection;
3. a row that already had ``sending_since`` set is "uncertain": its previous attempt reached the
   partner, or may have, and no outcome was recorded (the answer was lost: read timeout,
   connection closed, body cut short — ``OutcomeUnknown`` from the HTTP layer — or the worker
   died while it waited). Before sending it again the partner is asked whether it already shows
   the change (``StatusWriter.writeback_applied``); if it does, the row is marked sent with the
   note "already applied on the partner" and nothing is sent. A partner that cannot tell
   (NotSupported) gets the change again, as before;
4. the outcome is recorded on that same connection, the row's lock let go with it (the outcome of
   sent rows ``SENT_BATCH`` at a time, not waiting for the disk: one lost in a crash leaves its
   row in flight, read back as in 3): sent; or a retryable failure waits with exponential
   backoff and jitter (a partner's rate limit, until its wait is over); or a refusal (4xx, bad
   credentials) or too many failures leaves the row ``dead`` with its last error, shown by
   ``bobbin status`` until a person re-queues it (``bobbin writebacks retry``, the console's
   Writebacks page: ``services.writebacks``). ``sending_since`` is cleared only when the outcome
   says the partner cannot have applied the change;
5. an answer about another record than the one the write named (``ContractViolation``) leaves
   the row ``held`` — not sent, not dead, not retried by itself — with a ``contract_violation``
   problem on the order, what the answer carried kept in the holding area, and the site's
   contacts told, until a person re-queues it.

A flush goes on while rows are due (each site's lanes take ``FLUSH_BATCH`` at a time) and skips,
for now, the rows of a site whose import is reading the partner's lists
(``core.locks.writeback_hold``).
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, create_engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from connectors.base import CUSTOMER_CODE, WRITEBACK_STATUSES, StatusWriter, identified
from connectors.errors import ContractViolation, NotSupported, OutcomeUnknown, PartnerError, RateLimited
from connectors.payload import excerpt
from connectors.registry import NotOffered, PartnerSpec, UnknownPartner, partner
from connectors.returns import ReturnWriter
from core import runtime
from core.crypto import CredentialsError
from core.db import session_scope
from core.locks import hold_key
from core.settings import get_settings
from models import InboundOrder, OrderError, OutboxEntry, ReturnError, SalesOrder, Site, WritebackAttempt
from services.context import SiteContext, SiteError
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


# --- the flush ---------------------------------------------------------------------------------
#
# A flush sends each site's due rows through a few lanes at once (the partner's ``lanes``: for
# Brandboom the site's ``writeback_concurrency``, for JOOR its credit budget), every lane a thread
# with a database connection and a partner client of its own (neither a connection nor a
# ``requests`` session is shared between threads). A lane claims a row with the row's advisory
# lock on its own connection, commits the attempt as in flight on that connection, calls the
# partner, and records the outcome on that same connection, letting the lock go with it: a lane
# whose connection dies loses its locks and cannot record anything after that, so its rows are
# found "uncertain" by the next flusher and read back, never recorded by one and claimed by another.

# Connections one flush opens at most, over all its sites; sites beyond wait for the next round.
MAX_FLUSH_LANES = 16

# The outcomes of this many sent rows are recorded together (one statement), each row's lock let
# go with its outcome.
SENT_BATCH = 10

# The lane's statements, prepared once on its connection (the server parses and plans each once,
# then only executes it) and executed on the driver's connection (``_execute``), one round trip each.
#
# Claim (``bobbin_wb_claim``), one row at a time: first the site's writeback hold the lane took for
# its previous row is let go (when ``$4``), then the hold is taken again (shared) and the row's
# advisory lock, and — only when both are granted (the UPDATE's condition reads the lock's result,
# so it runs after it) — the attempt is recorded as in flight, committed before the partner is
# called: attempts + 1 and sending_since set on the row if it is still pending and due, its attempt
# row without an outcome, and what was there before (an earlier attempt without outcome makes this
# one uncertain). ``got``: NULL when the hold was not granted (nothing taken: an import reads the
# site's lists), false when another flusher has the row (the hold is taken), true when both are
# held. The hold is let go before it is asked for again because a lock its session already holds
# is granted at once, past an import waiting for it: a lane that kept it would never let the import
# in.
#
# Outcomes (``bobbin_wb_sent`` for a batch of sent rows, ``bobbin_wb_failed`` for one row): the rows
# and their attempts, and then the rows' locks let go, in one statement. The locks are let go for the
# rows the UPDATE returned, so after it has locked them until the outcome commits: a flusher that
# takes such a row's advisory lock in that moment finds its claim's UPDATE waiting for the row, then
# the row no longer pending and due, and claims nothing. An outcome's commit does not wait for its
# WAL to reach the disk (``synchronous_commit`` off for that transaction alone; the claim's commit
# does wait): should the server crash before it does — or the lane die before a batch is recorded —
# the rows are found as they were claimed, in flight, so "uncertain", and read back from the partner
# before anything is sent again.
_PREPARE = """
PREPARE bobbin_wb_claim(bigint, integer, integer, boolean) AS
WITH released AS (
    SELECT CASE WHEN $4 THEN pg_advisory_unlock_shared($1) END AS done
), lock AS (
    SELECT CASE WHEN (SELECT true FROM released) THEN
        CASE WHEN pg_try_advisory_lock_shared($1) THEN pg_try_advisory_lock($2, $3) END
    END AS got
), claimed AS (
    UPDATE outbox AS o SET attempts = o.attempts + 1, sending_since = now()
    FROM outbox AS prev
    WHERE (SELECT got FROM lock) AND o.id = $3 AND prev.id = o.id
      AND o.state = 'pending' AND o.next_attempt_at <= now()
    RETURNING o.id, o.inbound_order_id, o.inbound_return_id, o.status, o.payload, o.attempts,
              prev.sending_since IS NOT NULL AS uncertain
), attempt AS (
    INSERT INTO writeback_attempt (outbox_id) SELECT id FROM claimed RETURNING id
), target AS (
    SELECT claimed.*, COALESCE(io.partner_order_id, ir.loop_return_id) AS partner_id
    FROM claimed
    LEFT JOIN inbound_order AS io ON io.id = claimed.inbound_order_id
    LEFT JOIN inbound_return AS ir ON ir.id = claimed.inbound_return_id
)
SELECT lock.got, attempt.id, target.inbound_order_id, target.inbound_return_id, target.partner_id, target.status,
       target.payload, target.attempts, target.uncertain
FROM lock LEFT JOIN (target CROSS JOIN attempt) ON true;

PREPARE bobbin_wb_sent(integer, integer[], integer[], text[]) AS
WITH recorded AS (
    UPDATE outbox SET state = 'sent', sent_at = now(), last_error = NULL, sending_since = NULL
    WHERE id = ANY($2) RETURNING id
), attempt AS (
    UPDATE writeback_attempt AS a SET ok = true, note = t.note FROM unnest($3, $4) AS t(id, note) WHERE a.id = t.id
)
SELECT pg_advisory_unlock($1, recorded.id), set_config('synchronous_commit', 'off', true) FROM recorded;

PREPARE bobbin_wb_failed(integer, integer, text, boolean, boolean, timestamptz, text, integer) AS
WITH recorded AS (
    UPDATE outbox SET last_error = $3,
        sending_since = CASE WHEN $4 THEN sending_since END,
        state = CASE WHEN $5 THEN 'dead' ELSE state END,
        next_attempt_at = COALESCE($6, next_attempt_at)
    WHERE id = $1 RETURNING id
), attempt AS (
    UPDATE writeback_attempt SET ok = false, error = $3, note = $7 WHERE id = $2
)
SELECT pg_advisory_unlock($8, recorded.id), set_config('synchronous_commit', 'off', true) FROM recorded;
"""
_CLAIM = "EXECUTE bobbin_wb_claim(%s, %s, %s, %s)"
_SENT = "EXECUTE bobbin_wb_sent(%s, %s, %s, %s)"
_FAILED = "EXECUTE bobbin_wb_failed(%s, %s, %s, %s, %s, %s, %s, %s)"
_UNLOCK_ROW = "SELECT pg_advisory_unlock(%s, %s)"

_lane_engines: dict[str, Engine] = {}


def _lane_connection() -> Connection:
    """A connection of the lane's own, outside the process's pool, its statements prepared: each
    statement commits by itself, and closing it really closes it, so the advisory locks it holds
    end with it."""
    url = runtime.database_url()
    engine = _lane_engines.get(url)
    if engine is None:
        engine = _lane_engines[url] = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    conn = engine.connect()
    conn.exec_driver_sql(_PREPARE)
    return conn


def _execute(conn: Connection, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run one of the lane's statements on the driver's connection and return its rows. The lane
    runs one or two per row: this skips SQLAlchemy's execution layer, not its errors — a driver
    error is raised as SQLAlchemy raises it, the connection invalidated when it was lost, so the
    lane and a task's retry see what they would see otherwise."""
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn is not None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []
    except conn.dialect.loaded_dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, dbapi_conn, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            statement,
            params,
            exc,
            conn.dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=conn.dialect,
        ) from exc
    finally:
        cursor.close()


def flush(
    *,
    site_id: int | None = None,
    outbox_ids: list[int] | None = None,
    budget_seconds: float = FLUSH_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> FlushResult:
    """Send the due outbox rows (all sites, one site, or the given rows), each site's through
    its partner's lanes at once and the sites side by side (at most ``MAX_FLUSH_LANES``
    connections), each lane taking ``FLUSH_BATCH`` of its site's rows at a time in id order, until
    none is left or ``budget_seconds`` have passed (then ``more`` is set and the caller comes back,
    ``tasks.status.flush_outbox`` by re-enqueueing itself).

    A site whose import is reading the partner's lists holds its writebacks
    (``core.locks.writeback_hold``): its rows are skipped (``held``) and go out with the flush
    the import sends when it ends."""
    return _Flush(site_id, outbox_ids, clock() + budget_seconds, clock).run()


class _Flush:
    """One flush: which sites have rows due, a pool of lanes per site, and what they did."""

    def __init__(
        self, site_id: int | None, outbox_ids: list[int] | None, deadline: float, clock: Callable[[], float]
    ) -> None:
        self.site_id = site_id
        self.outbox_ids = outbox_ids
        self.deadline = deadline
        self.clock = clock
        self.result = FlushResult()
        self.stopped = False  # a lane failed (the database went away): the others stop too
        self._lock = threading.Lock()
        self._failure: BaseException | None = None
        self._cursors: dict[int, int] = {}  # site -> the last row id its lanes took
        # Sites whose import holds their writebacks, or whose partner's rate limit is spent for
        # longer than a lane sleeps: skipped from then on.
        self._held: set[int] = set()
        self._sites: dict[int, Site] = {}

    def out_of_time(self) -> bool:
        return self.clock() >= self.deadline

    def run(self) -> FlushResult:
        """Rounds of pools until no site has rows due past what its lanes took (rows that came
        due meanwhile, or sites beyond ``MAX_FLUSH_LANES``, go in the next round)."""
        while True:
            waiting = [w for w in _waiting(self.site_id, self.outbox_ids) if self._past_cursor(w)]
            if not waiting:
                return self.result
            if self.out_of_time():
                self.result.more = True
                return self.result
            pools = self._pools(waiting)
            self._run(pools)
            for pool in pools:
                self.result.held += pool.held
                if pool.is_held or pool.paused:
                    self._held.add(pool.site_id)
                if pool.after is not None:
                    self._cursors[pool.site_id] = pool.after
            if self._failure is not None:
                raise self._failure
            if self.result.more:
                return self.result

    def _past_cursor(self, waiting: tuple[int, int, int]) -> bool:
        site, _, last = waiting
        return site not in self._held and last > self._cursors.get(site, -1)

    def _pools(self, waiting: list[tuple[int, int, int]]) -> list[_SitePool]:
        missing = [site for site, _, _ in waiting if site not in self._sites]
        if missing:
            with session_scope() as s:
                self._sites.update({site.id: site for site in s.scalars(select(Site).where(Site.id.in_(missing)))})
        pools: list[_SitePool] = []
        used = 0
        for site_id, due, last in waiting:
            if used >= MAX_FLUSH_LANES:
                break
            ctx, want = _lanes(self._sites[site_id])
            lanes = max(1, min(want, due, MAX_FLUSH_LANES - used))
            used += lanes
            pools.append(_SitePool(self, self._sites[site_id], ctx, lanes, self._cursors.get(site_id), last))
        return pools

    def _run(self, pools: list[_SitePool]) -> None:
        """Every pool's lanes as threads (each in a copy of the caller's logging context), until all end."""
        threads = [
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(_lane, pool),
                name=f"writeback-site{pool.site_id}-{k}",
                daemon=True,
            )
            for pool in pools
            for k in range(pool.lanes)
        ]
        try:
            for thread in threads:
                thread.start()
        finally:
            try:
                for thread in threads:
                    if thread.ident is not None:
                        thread.join()
            except BaseException:
                self.stopped = True  # interrupted while waiting: the lanes end after their row
                raise

    def more(self) -> None:
        with self._lock:
            self.result.more = True

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            self.stopped = True
            if self._failure is None:
                self._failure = exc

    def add(self, part: FlushResult) -> None:
        with self._lock:
            into = self.result
            into.sent += part.sent
            into.retrying += part.retrying
            into.dead += part.dead
            into.already_applied += part.already_applied
            into.held_for_person += part.held_for_person
            into.violation_sites |= part.violation_sites
            into.errors.extend(part.errors)


def _waiting(site_id: int | None, outbox_ids: list[int] | None) -> list[tuple[int, int, int]]:
    """Sites with rows due: (site id, rows due, the last row's id), the oldest row's site first."""
    with session_scope() as s:
        query = (
            select(OutboxEntry.site_id, func.count(), func.max(OutboxEntry.id))
            .where(OutboxEntry.state == "pending", OutboxEntry.next_attempt_at <= func.now())
            .group_by(OutboxEntry.site_id)
            .order_by(func.min(OutboxEntry.id))
        )
        if site_id is not None:
            query = query.where(OutboxEntry.site_id == site_id)
        if outbox_ids is not None:
            query = query.where(OutboxEntry.id.in_(outbox_ids))
        return [(int(site), int(due), int(last)) for site, due, last in s.execute(query).all()]


def _lanes(site: Site) -> tuple[SiteContext | None, int]:
    """The site's context with the settings each lane's client is built with, and how many lanes
    its partner takes at once; (None, 1) when the site cannot be read as its partner's (each row
    then fails on its own, with the reason, when its lane opens the partner)."""
    try:
        ctx = SiteContext.of(site)
    except (UnknownPartner, SiteError):
        return None, 1
    capability = ctx.spec.writeback
    if capability is None or capability.lanes is None:
        return ctx, 1
    lanes, settings = capability.lanes(ctx.settings)
    return replace(ctx, settings=settings), max(1, int(lanes))


class _SitePool:
    """One site's lanes: they take its due rows in id order from a shared batch (``FLUSH_BATCH``
    read at a time, by whichever lane finds it empty), and stop when none is left, when the
    flush's time is up, when the site's import holds its writebacks, or when the partner's rate
    limit is spent for longer than a lane sleeps."""

    def __init__(
        self, flush: _Flush, site: Site, ctx: SiteContext | None, lanes: int, after: int | None, last: int
    ) -> None:
        self.flush = flush
        self.site = site
        self.site_id = site.id
        self.ctx = ctx
        self.lanes = lanes
        self.after = after  # the last row id taken
        self.last = last  # the last row due when the round began: the cursor gets at least there
        self.held = 0  # rows skipped because the site's import holds its writebacks
        self.is_held = False
        self.paused = False  # the partner's rate limit asks for a longer wait: the rest waits for a later flush
        self._ids: deque[int] = deque()
        self._exhausted = False
        self._lock = threading.Lock()

    def next_id(self, conn: Connection) -> int | None:
        """The next row for a lane, or None: nothing left, time up, held, or the flush stopped."""
        with self._lock:
            if self.is_held or self.paused or self.flush.stopped:
                return None
            if not self._ids and not self._exhausted:
                batch = _due(conn, self.site_id, self.flush.outbox_ids, self.after)
                self._ids.extend(batch)
                if batch:
                    self.after = batch[-1]
                else:  # every row due when the round began was taken: the next round starts past them
                    self._exhausted = True
                    self.after = max(self.last, self.after or -1)
            if not self._ids:
                return None
            if self.flush.out_of_time():
                self.flush.more()
                return None
            return self._ids.popleft()

    def hold(self) -> None:
        """The site's import reads its lists: this row and the ones waiting in the batch are skipped."""
        with self._lock:
            self.is_held = True
            self.held += 1 + len(self._ids)
            self._ids.clear()

    def pause(self) -> None:
        """The partner's rate limit is spent until later: no lane takes another row this flush."""
        self.paused = True

    def open_source(self) -> StatusWriter:
        """The partner's writer for one lane, on a client of its own."""
        if self.ctx is None:
            return SiteContext.of(self.site).open("writeback")  # raises what stopped _lanes, for the row
        return self.ctx.open("writeback")


def _lane(pool: _SitePool) -> None:
    """One lane: claim, send and record its site's rows one after another on its own connection."""
    lane = _Lane(pool)
    try:
        lane.run()
    except BaseException as exc:  # re-raised by the flush once every lane has ended
        pool.flush.fail(exc)
    finally:
        lane.close()


class _Lane:
    """A lane's connection, partner writer, the sent rows whose outcome it has not recorded yet,
    and what it did."""

    def __init__(self, pool: _SitePool) -> None:
        self.pool = pool
        self.site_id = pool.site_id
        self.result = FlushResult()
        self.conn: Connection | None = None
        self.source: StatusWriter | None = None
        self.holding = False  # the site's hold, taken for the last row claimed, not let go yet
        self.sent: list[tuple[_Claim, str | None]] = []  # sent, outcome not recorded yet (with its note)

    def run(self) -> None:
        self.conn = conn = _lane_connection()
        while (oid := self.pool.next_id(conn)) is not None:
            got, claim = _claim(conn, oid, self.site_id, release_hold=self.holding)
            self.holding = got is not None
            if got is None:
                self.pool.hold()  # the rest of its rows wait for the import's own flush
                break
            if claim is None:
                if got:  # the row was sent, gave up or was put off meanwhile: its lock goes
                    _execute(conn, _UNLOCK_ROW, (OUTBOX_LOCK_SPACE, oid))
                continue  # (got false: another flusher is sending it)
            self._send(claim)
        self.record_sent()

    def _send(self, claim: _Claim) -> None:
        """Send one claimed row; a sent one waits for its batch, any other outcome is recorded now."""
        assert self.conn is not None
        # Whether the partner may hold the change without our knowing: true for an uncertain row
        # until the partner says otherwise, and after an attempt whose answer was lost.
        maybe_applied = claim.uncertain
        applied_before = False
        error: PartnerError | CredentialsError | None = None
        try:
            if self.source is None:  # inside the try: a site with bad keys fails its own rows only
                self.source = self.pool.open_source()
            if claim.uncertain:
                applied_before = _already_applied(self.source, claim)
                maybe_applied = applied_before
            if not applied_before:
                if claim.return_id is not None:
                    _return_writer(self.source).act_on_return(claim.partner_order_id, claim.status, claim.payload)
                elif claim.status == CUSTOMER_CODE:
                    self.source.set_customer_code(claim.payload["partner_customer_id"], claim.payload["erp_code"])
                else:
                    self.source.mark_order(claim.partner_order_id, claim.status, claim.payload)
        except OutcomeUnknown as exc:
            maybe_applied, error = True, exc
        except RateLimited as exc:  # the partner's limit is spent for longer than a lane sleeps
            error = exc
            self.pool.pause()
        except ContractViolation as exc:
            _hold(self.conn, claim, exc, self.result)
            _execute(self.conn, _UNLOCK_ROW, (OUTBOX_LOCK_SPACE, claim.outbox_id))
            return
        except (PartnerError, CredentialsError) as exc:
            error = exc
        except (NotOffered, UnknownPartner) as exc:  # the site's partner takes no writebacks (any more)
            error = NotSupported(str(exc))
        if error is None:
            self.sent.append((claim, ALREADY_APPLIED if applied_before else None))
            if len(self.sent) >= SENT_BATCH:
                self.record_sent()
        else:
            _record_failure(self.conn, claim, error, maybe_applied=maybe_applied, result=self.result)

    def record_sent(self) -> None:
        """Record the outcome of the sent rows waiting for it, letting their locks go (one statement)."""
        if not self.sent or self.conn is None:
            return
        done, self.sent = self.sent, []
        _record_sent(self.conn, done, self.result)

    def close(self) -> None:
        """Record what was sent if the connection still can, then close the writer and the
        connection (its locks end with it); what the lane did goes into the flush's result."""
        try:
            if self.sent and self.conn is not None and not self.conn.invalidated:
                with contextlib.suppress(DBAPIError):  # unrecorded, the rows are read back later
                    self.record_sent()
        finally:
            if self.source is not None:
                with contextlib.suppress(Exception):
                    self.source.close()
            if self.conn is not None:
                with contextlib.suppress(DBAPIError):
                    self.conn.close()
            self.pool.flush.add(self.result)


def _due(conn: Connection, site_id: int, outbox_ids: list[int] | None, after: int | None) -> list[int]:
    """The next ``FLUSH_BATCH`` due rows of the site after id ``after``."""
    query = (
        select(OutboxEntry.id)
        .where(
            OutboxEntry.site_id == site_id, OutboxEntry.state == "pending", OutboxEntry.next_attempt_at <= func.now()
        )
        .order_by(OutboxEntry.id)
        .limit(FLUSH_BATCH)
    )
    if after is not None:
        query = query.where(OutboxEntry.id > after)
    if outbox_ids is not None:
        query = query.where(OutboxEntry.id.in_(outbox_ids))
    return list(conn.execute(query).scalars())


@dataclass(frozen=True)
class _Claim:
    """What one attempt needs once its in-flight record is committed."""

    outbox_id: int
    attempt_id: int
    site_id: int
    order_id: int | None  # the held order the row is about, or None for a return's row
    return_id: int | None  # the held return the row is about (connectors.returns.RETURN_ACTIONS)
    partner_order_id: str  # the partner's id of the order or the return
    status: str
    payload: dict[str, Any]
    attempts: int
    uncertain: bool  # the previous attempt has no recorded outcome

    @property
    def what(self) -> str:
        return f"return {self.return_id}" if self.return_id is not None else f"order {self.order_id}"


def _claim(conn: Connection, outbox_id: int, site_id: int, *, release_hold: bool) -> tuple[bool | None, _Claim | None]:
    """Let go of the site's hold the lane took for its previous row (``release_hold``), take it
    again with the row's lock, and record the attempt as in flight, committed before the partner
    is called (one statement, ``bobbin_wb_claim``). Returns what the locks gave (None: the site's
    import holds its writebacks, nothing taken; False: another flusher has the row, the hold is
    taken; True: both held), and the claim — None when the row was sent, gave up or was put off
    meanwhile."""
    [row] = _execute(conn, _CLAIM, (hold_key(site_id), OUTBOX_LOCK_SPACE, outbox_id, release_hold))
    got, attempt_id, order_id, return_id, partner_id, status, payload, attempts, uncertain = row
    if not got or attempt_id is None:
        return got, None
    claim = _Claim(
        outbox_id,
        attempt_id,
        site_id,
        order_id,
        return_id,
        partner_id,
        status,
        dict(payload or {}),
        attempts,
        bool(uncertain),
    )
    return True, claim


@contextlib.contextmanager
def _transaction(conn: Connection) -> Iterator[Session]:
    """A session on the lane's connection whose statements commit together (the lane's own
    statements otherwise commit one by one)."""
    conn.commit()  # ends SQLAlchemy's (empty) autobegun transaction before the level changes
    conn.execution_options(isolation_level="READ COMMITTED")
    try:
        with Session(bind=conn, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        conn.execution_options(isolation_level="AUTOCOMMIT")


def _hold(conn: Connection, claim: _Claim, exc: ContractViolation, result: FlushResult) -> None:
    """The partner answered for something other than the row's target: nothing is counted as
    sent and nothing is retried by itself. The row is ``held`` for a person; the order gets a
    ``contract_violation`` problem with the request and the answer; what the answer carried is kept
    in the holding area (the partner may have changed it: a marking read marks what it returns);
    the site's contacts get an alarm (services.notify) and ``bobbin status`` shows it."""
    with _transaction(conn) as session:
        row = session.get(OutboxEntry, claim.outbox_id)
        attempt = session.get(WritebackAttempt, claim.attempt_id)
        site = session.get(Site, claim.site_id)
        assert row is not None and attempt is not None and site is not None
        row.state, row.sending_since = "held", None
        row.last_error = str(exc)[:1000]
        attempt.ok, attempt.error = False, row.last_error
        attempt.note = f"contract violation: request {exc.request}; answer {excerpt(exc.answer)}"[:1000]
        problem = {
            "code": "contract_violation",
            "field": exc.request[:VALUE_MAX],
            "value": excerpt(exc.answer)[:VALUE_MAX],
            "severity": "error",
            "message": f"{exc} (request: {exc.request})"[:2000],
        }
        kept = []
        if claim.return_id is not None:  # a return's problem; what Loop answered is read again by the poll
            session.execute(
                pg_insert(ReturnError).on_conflict_do_nothing(), [{"return_id": claim.return_id, **problem}]
            )
        else:
            session.execute(pg_insert(OrderError).on_conflict_do_nothing(), [{"order_id": claim.order_id, **problem}])
            orders = partner(site.kind).capability("orders")
            kept = [orders.to_partner_order(record) for record in exc.records if isinstance(record, Mapping)]
            kept = [order for order in kept if identified(order.partner_order_id)]
            if kept:
                stage_page(session, claim.site_id, kept)
    result.held_for_person += 1
    result.violation_sites.add(claim.site_id)
    result.errors.append(f"{claim.what} {claim.status}: {exc}")
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
        if claim.return_id is not None:
            applied = _return_writer(source).return_action_applied(claim.partner_order_id, claim.status, claim.payload)
        else:
            applied = source.writeback_applied(claim.partner_order_id, claim.status, claim.payload)
    except NotSupported as exc:
        log.info("writeback_uncertain_resent", order_id=claim.order_id, status=claim.status, reason=str(exc))
        return False
    log.info("writeback_uncertain_checked", order_id=claim.order_id, status=claim.status, applied=applied)
    return applied


def _return_writer(source: StatusWriter) -> ReturnWriter:
    """The site's writer as a return writer: NotSupported when its partner takes no return actions."""
    if not isinstance(source, ReturnWriter):
        raise NotSupported("this site's partner takes no actions about returns")
    return source


def _record_sent(conn: Connection, sent: list[tuple[_Claim, str | None]], result: FlushResult) -> None:
    """Commit the outcome of sent rows (each with its note) on the rows and their attempts,
    letting the rows' locks go (one statement)."""
    _execute(
        conn,
        _SENT,
        (
            OUTBOX_LOCK_SPACE,
            [claim.outbox_id for claim, _ in sent],
            [claim.attempt_id for claim, _ in sent],
            [note for _, note in sent],
        ),
    )
    for claim, note in sent:
        result.sent += 1
        if note == ALREADY_APPLIED:
            result.already_applied += 1
            log.info("writeback_already_applied", order_id=claim.order_id, status=claim.status, note=ALREADY_APPLIED)
        else:
            log.info("writeback_sent", order_id=claim.order_id, status=claim.status)


def _record_failure(
    conn: Connection,
    claim: _Claim,
    error: PartnerError | CredentialsError,
    *,
    maybe_applied: bool,
    result: FlushResult,
) -> None:
    """Commit a failed attempt's outcome on the row and on its attempt record, letting the row's
    lock go (one statement): retried later with backoff, or given up (dead)."""
    retryable = isinstance(error, PartnerError) and error.retryable
    give_up = not retryable or claim.attempts >= get_settings().writeback_max_attempts
    # A rate limit says when to come back (nothing was sent); other failures back off.
    wait = timedelta(seconds=error.retry_after) if isinstance(error, RateLimited) else backoff(claim.attempts)
    message = str(error)[:1000]
    _execute(
        conn,
        _FAILED,
        (
            claim.outbox_id,
            claim.attempt_id,
            message,
            maybe_applied,
            give_up,
            None if give_up else datetime.now(UTC) + wait,
            "outcome unknown: the partner is asked before the change is sent again" if maybe_applied else None,
            OUTBOX_LOCK_SPACE,
        ),
    )
    if give_up:
        result.dead += 1
    else:
        result.retrying += 1
    result.errors.append(f"{claim.what} {claim.status}: {error}")
    log.warning(
        "writeback_failed",
        order_id=claim.order_id,
        status=claim.status,
        attempts=claim.attempts,
        gave_up=give_up,
        uncertain=maybe_applied,
        error=str(error),
    )
