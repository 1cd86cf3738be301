"""Status writebacks through the outbox: mark orders shipped / paid / void (and exported).

``mark`` records the change in the ERP and queues one outbox row per (order, status) in one
transaction. ``flush`` sends what is due: each row is claimed with FOR UPDATE SKIP LOCKED, so
two flushers never send the same row; every try is an attempt row; a retryable failure waits
with exponential backoff and jitter; a refusal (4xx, bad credentials) or too many failures leaves
the row ``dead`` with its last error, shown by ``bobbin status`` until a person re-queues it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bobbin.db import new_session, session_scope
from bobbin.settings import get_settings
from connectors.base import WRITEBACK_STATUSES, OrderSource
from bobbin.crypto import CredentialsError
from connectors.errors import PartnerError
from connectors.registry import connector
from models import InboundOrder, OutboxEntry, SalesOrder, Site, WritebackAttempt
from services.outbox import queue_writeback
from services.sites import open_source

log = structlog.get_logger()

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
FLUSH_BATCH = 200  # rows claimed per flush call; the scheduled flush comes back for the rest


class MarkError(ValueError):
    pass


@dataclass
class MarkResult:
    queued: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def mark(session: Session, order_ids: list[int], status: str) -> MarkResult:
    """Record ``status`` on the ERP orders and queue it for the partner. Caller commits."""
    if status not in WRITEBACK_STATUSES:
        raise MarkError(f"status must be one of {', '.join(WRITEBACK_STATUSES)}, not {status!r}")
    result = MarkResult()
    orders = {o.id: o for o in session.scalars(select(InboundOrder).where(InboundOrder.id.in_(order_ids))
                                               .with_for_update())}
    kinds = dict(session.execute(select(Site.id, Site.kind)).all())
    by_site: dict[int, list[int]] = {}
    for oid in order_ids:
        order = orders.get(oid)
        spec = connector(kinds[order.site_id]) if order else None
        if order is None or spec is None:
            result.skipped[oid] = "no such order"
        elif status not in spec.writeback_statuses:
            result.skipped[oid] = (f"{spec.label} takes no '{status}' status through its API; "
                                   "change it on the partner by hand")
        elif status in ("shipped", "paid", "exported") and order.state != "imported":
            result.skipped[oid] = f"order is {order.state}; only imported orders can be marked {status}"
        else:
            by_site.setdefault(order.site_id, []).append(oid)
            result.queued.append(oid)
            if status == "void" and order.state != "imported":
                order.state = "rejected"
    if result.queued and status in ("shipped", "paid", "void"):
        session.execute(update(SalesOrder).where(SalesOrder.inbound_order_id.in_(result.queued))
                        .values(status=status))
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
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "retrying": self.retrying, "dead": self.dead, "errors": self.errors[:10]}


def flush(*, site_id: int | None = None, outbox_ids: list[int] | None = None) -> FlushResult:
    """Send the due outbox rows (all sites, one site, or the given rows)."""
    with session_scope() as s:
        query = (select(OutboxEntry.id).where(OutboxEntry.state == "pending", OutboxEntry.next_attempt_at <= func.now())
                 .order_by(OutboxEntry.id).limit(FLUSH_BATCH))
        if site_id is not None:
            query = query.where(OutboxEntry.site_id == site_id)
        if outbox_ids is not None:
            query = query.where(OutboxEntry.id.in_(outbox_ids))
        ids = list(s.scalars(query))
    result = FlushResult()
    sources: dict[int, OrderSource] = {}
    try:
        for oid in ids:
            _send_one(oid, sources, result)
    finally:
        for src in sources.values():
            src.close()
    return result


def _send_one(outbox_id: int, sources: dict[int, OrderSource], result: FlushResult) -> None:
    session = new_session()
    try:
        row = session.scalar(select(OutboxEntry).where(OutboxEntry.id == outbox_id, OutboxEntry.state == "pending")
                             .with_for_update(skip_locked=True))
        if row is None:  # sent meanwhile, or another flusher holds it
            return
        order = session.get(InboundOrder, row.inbound_order_id)
        assert order is not None
        row.attempts += 1
        try:
            if row.site_id not in sources:  # inside the try: a site with bad keys fails its own rows only
                site = session.get(Site, row.site_id)
                assert site is not None
                sources[row.site_id] = open_source(site)
            source = sources[row.site_id]
            if row.status == "customer_code":
                source.set_customer_code(row.payload["partner_customer_id"], row.payload["erp_code"])
            else:
                source.mark_order(order.partner_order_id, row.status)
        except (PartnerError, CredentialsError) as exc:
            retryable = isinstance(exc, PartnerError) and exc.retryable
            give_up = not retryable or row.attempts >= get_settings().writeback_max_attempts
            row.last_error = str(exc)[:1000]
            if give_up:
                row.state = "dead"
                result.dead += 1
            else:
                row.next_attempt_at = datetime.now(timezone.utc) + backoff(row.attempts)
                result.retrying += 1
            result.errors.append(f"order {order.id} {row.status}: {exc}")
            session.add(WritebackAttempt(outbox_id=row.id, ok=False, error=row.last_error))
            log.warning("writeback_failed", order_id=order.id, status=row.status, attempts=row.attempts,
                        gave_up=give_up, error=str(exc))
        else:
            row.state, row.sent_at, row.last_error = "sent", datetime.now(timezone.utc), None
            session.add(WritebackAttempt(outbox_id=row.id, ok=True))
            result.sent += 1
            log.info("writeback_sent", order_id=order.id, status=row.status)
        session.commit()
    finally:
        session.close()
