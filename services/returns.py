"""Loop returns into the holding table (``inbound_return``): held once per site and return, the
newest state of each return winning, whatever order the payloads arrive in (issue 16).

Loop's list and details carry the return's ``updated_at``; a webhook does not (partners README
§3.6). So the rule is simple and holds for both paths: a payload is staged only with its
``updated_at``, and replaces what is held only when it is newer. A webhook is not staged as it
came: the task that applies it reads the return's details from Loop first (its state now, with
its ``updated_at``) and stages that — a webhook delivered twice, late, or out of order (updated
before created) then stages the same current state, and the older one is refused as stale.
``stage_returns`` reports such a payload in ``needs_details`` instead of guessing.

Bobbin's own ``state`` of a return (its flow: RMA, receipt, credit) is not touched here: what a
changed Loop state means for an RMA is the flow's to decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.returns import PartnerReturn
from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from models import InboundEvent, InboundReturn, ReturnCursor
from models.orders import pack_payload
from services.context import SiteContext
from services.holding import MAX_TOTAL, pg_safe, raw_hash, raw_json
from services.rma import ApplyResult, apply_returns, open_exchanges
from services.runs import recorded_run
from services.sites import open_site

log = structlog.get_logger()

# The poll reads from its cursor less this much again: a return Loop changed just before the last
# read ended may carry an updated_at a little before it. Re-read returns are stale and skipped.
CURSOR_OVERLAP = timedelta(minutes=5)
# The list is read up to this far past our clock (Loop's may run ahead of it); the cursor never
# moves past our clock at the read's start.
CLOCK_SKEW = timedelta(minutes=2)
# Held returns that may have work waiting (tried again each poll), at most this many a run.
RETRY_LIMIT = 1000
# inbound_return.loop_state and .loop_outcome hold at most this many characters. A longer value is no
# state or outcome Loop documents: it is held as None (the payload keeps it), never allowed to fail
# the page's one INSERT and, with it, every other return of the page.
LOOP_TEXT_MAX = 20


@dataclass
class StagedReturns:
    seen: int = 0
    new_ids: list[int] = field(default_factory=list)  # held for the first time
    changed_ids: list[int] = field(default_factory=list)  # a newer state of a held return
    stale: int = 0  # as held already, or older than what is held: nothing written
    needs_details: list[str] = field(default_factory=list)  # Loop ids with no updated_at (a webhook's)


# One statement for many returns (arrays per column). A held return takes the payload only when it
# is newer (Loop's updated_at later than the held one's) and differs; ``first_seen_at`` stays.
STAGE_RETURNS = text(
    """INSERT INTO inbound_return AS r (site_id, state, loop_return_id, raw, raw_hash, loop_state, loop_outcome,
        loop_updated_at, order_name, customer_email, currency, total)
    SELECT :site_id, 'received', p.* FROM unnest(
        CAST(:loop_return_id AS text[]), CAST(:raw AS bytea[]), CAST(:raw_hash AS text[]),
        CAST(:loop_state AS text[]), CAST(:loop_outcome AS text[]), CAST(:loop_updated_at AS timestamptz[]),
        CAST(:order_name AS text[]), CAST(:customer_email AS text[]), CAST(:currency AS text[]),
        CAST(:total AS numeric[])
    ) AS p
    ON CONFLICT (site_id, loop_return_id) DO UPDATE SET
        raw = excluded.raw, raw_hash = excluded.raw_hash, loop_state = excluded.loop_state,
        loop_outcome = excluded.loop_outcome, loop_updated_at = excluded.loop_updated_at,
        order_name = excluded.order_name, customer_email = excluded.customer_email,
        currency = excluded.currency, total = excluded.total, last_seen_at = now()
    WHERE (r.loop_updated_at IS NULL OR excluded.loop_updated_at > r.loop_updated_at)
        AND r.raw_hash <> excluded.raw_hash
    RETURNING r.id, r.xmax = 0 AS inserted"""
)
COLUMNS = (
    "loop_return_id",
    "raw",
    "raw_hash",
    "loop_state",
    "loop_outcome",
    "loop_updated_at",
    "order_name",
    "customer_email",
    "currency",
    "total",
)


def stage_returns(session: Session, site_id: int, returns: Sequence[PartnerReturn]) -> StagedReturns:
    """Hold these returns (as the mapper read them) for ``site_id``, each once, the newest state
    winning. Caller commits. A return repeated in ``returns``: its newest payload counts."""
    result = StagedReturns(seen=len(returns))
    newest: dict[str, PartnerReturn] = {}
    for r in returns:
        if r.updated_at is None:
            result.needs_details.append(r.return_id)
            continue
        rid = pg_safe(r.return_id)
        held = newest.get(rid)
        if held is None or (held.updated_at is not None and r.updated_at > held.updated_at):
            newest[rid] = r
    result.stale += len(returns) - len(result.needs_details) - len(newest)
    if not newest:
        return result
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for rid, r in newest.items():
        encoded = raw_json(r.raw)
        values = (
            rid,
            pack_payload(encoded),
            raw_hash(r.raw, encoded),
            _fits(pg_safe(r.state), LOOP_TEXT_MAX),
            _fits(pg_safe(r.outcome), LOOP_TEXT_MAX),
            r.updated_at,
            pg_safe(r.order_name),
            pg_safe(r.customer_email),
            pg_safe(r.currency) if r.currency and len(r.currency) == 3 else None,
            r.total if r.total is not None and r.total.is_finite() and abs(r.total) <= MAX_TOTAL else None,
        )
        for name, value in zip(COLUMNS, values, strict=True):
            columns[name].append(value)
    written = session.execute(STAGE_RETURNS, {"site_id": site_id, **columns}).all()
    for row in written:
        (result.new_ids if row.inserted else result.changed_ids).append(row.id)
    result.stale += len(newest) - len(written)
    return result


def _fits(value: str | None, length: int) -> str | None:
    return value if value is not None and len(value) <= length else None


# --- the poll (tasks.returns.import_returns) --------------------------------------------------------


def import_site_returns(site_id: int, *, celery_task_id: str | None = None) -> dict[str, Any]:
    """Read the site's returns updated since its cursor, hold each page (committed, the cursor moved
    once a window is held), then apply every new or changed return, and the held ones that may have
    work waiting (an invalid one whose SKU was loaded since, an exchange whose order reached the ERP).
    Each return is applied in its own transaction: one that fails stays held and is tried next time."""
    with advisory_lock(site_lock_name("import_returns", site_id)) as got:
        if not got:
            log.info("import_skipped_busy", site=site_id, task="import_returns")
            return {"site_id": site_id, "skipped": "another returns import of this site is running"}
        with recorded_run("import_returns", site_id, celery_task_id, holds_lock=True) as run:
            with session_scope() as s:
                ctx = open_site(s, site_id)
                if not ctx.site.active:
                    run.outcome = "skipped"
                    return {"site_id": site_id, "skipped": "site is inactive"}
                cursor = s.get(ReturnCursor, site_id)
                since = cursor.updated_since - CURSOR_OVERLAP if cursor is not None else None
            started = datetime.now(UTC)
            until = started + CLOCK_SKEW
            if since is None:
                since = started - timedelta(days=int(getattr(ctx.settings, "returns_first_days", 30)))
            counts = run.counts
            counts.update(fetched=0, new=0, changed=0, stale=0, pages=0)
            touched: list[int] = []
            source = ctx.open("returns")
            try:
                for batch in source.iter_batches(since, until):
                    with session_scope() as s:
                        staged = stage_returns(s, site_id, batch.returns)
                        if batch.through is not None:
                            _move_cursor(s, site_id, min(batch.through, started))
                    counts["pages"] += 1
                    counts["fetched"] += staged.seen
                    counts["new"] += len(staged.new_ids)
                    counts["changed"] += len(staged.changed_ids)
                    counts["stale"] += staged.stale
                    touched += staged.new_ids + staged.changed_ids
            finally:
                source.close()
            with session_scope() as s:
                touched += waiting(s, site_id)
            applied = apply_each(ctx, touched)
            counts.update(applied.as_counts())
            return {"site_id": site_id, "run_id": run.id, **counts}


def _move_cursor(session: Session, site_id: int, through: datetime) -> None:
    stmt = pg_insert(ReturnCursor).values(site_id=site_id, updated_since=through)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ReturnCursor.site_id],
            set_={"updated_since": stmt.excluded.updated_since, "updated_at": stmt.excluded.updated_at},
            where=ReturnCursor.updated_since < stmt.excluded.updated_since,
        )
    )


def waiting(session: Session, site_id: int) -> list[int]:
    """Held returns that may have a step to take: never applied or invalid (tried again), or Loop
    closed, cancelled or expired them and Bobbin has not finished; and open exchanges."""
    found = list(
        session.scalars(
            select(InboundReturn.id)
            .where(
                InboundReturn.site_id == site_id,
                or_(
                    InboundReturn.state.in_(("received", "invalid")),
                    InboundReturn.state.not_in(("credited", "void"))
                    & InboundReturn.loop_state.in_(("closed", "cancelled", "expired")),
                ),
            )
            .order_by(InboundReturn.id)
            .limit(RETRY_LIMIT)
        )
    )
    return found + open_exchanges(session, site_id)


def apply_each(ctx: SiteContext, return_ids: Sequence[int]) -> ApplyResult:
    """Apply each held return in a transaction of its own; one that fails is logged and left held."""
    total = ApplyResult()
    for return_id in dict.fromkeys(return_ids):
        try:
            with session_scope() as s:
                one = apply_returns(s, ctx, [return_id])
        except Exception:
            log.error("return_apply_failed", site=ctx.name, return_id=return_id, exc_info=True)
            continue
        for name in ("rma_created", "invalid", "credited", "waiting_confirmation", "exchange_debits", "voided"):
            getattr(total, name).extend(getattr(one, name))
        total.seen += one.seen
        total.new_problems += one.new_problems
    return total


# --- a pushed event (services.events.HANDLERS) -------------------------------------------------------


def apply_return_event(session: Session, event: InboundEvent) -> str | None:
    """A return webhook: read the return's details from Loop (its state now, with updated_at),
    hold it the way the poll does (a stale state is not applied), and apply it. In the event's
    transaction: the event is processed exactly when its return is held and applied."""
    from models import Site

    site = session.get(Site, event.site_id)
    if site is None:
        return "the site is gone"
    ctx = SiteContext.of(site)
    raw_id = (event.payload or {}).get("id")
    if raw_id is None:
        return "the event names no return"
    source = ctx.open("returns")
    try:
        current = source.details(str(raw_id))
    finally:
        source.close()
    staged = stage_returns(session, ctx.id, [current])
    ids = staged.new_ids + staged.changed_ids
    if not ids:
        return f"return {current.return_id}: held already as Loop has it now (updated_at {current.updated_at})"
    applied = apply_returns(session, ctx, ids)
    done = ", ".join(f"{k} {v}" for k, v in applied.as_counts().items() if v and k != "returns_applied")
    return f"return {current.return_id} held" + (f": {done}" if done else "")
