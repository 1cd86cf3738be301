"""The outbox: changes waiting to go to a partner, one row per (order, change).

Queued in the same transaction as the change that causes them (an import, a mark, a customer
created), sent by ``services.writeback.flush``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from models import OutboxEntry


def queue_writeback(session: Session, site_id: int, order_ids: list[int], status: str, *,
                    payload: dict[str, Any] | None = None, again: bool = False) -> int:
    """Queue a change per order in the outbox. Queuing again is a no-op, a change that gave up
    is queued afresh, and ``again`` re-sends one already sent (an order changed on the partner
    after it was marked exported). Returns how many rows became pending."""
    if not order_ids:
        return 0
    stmt = pg_insert(OutboxEntry).values([{"site_id": site_id, "inbound_order_id": oid, "status": status,
                                           "payload": payload or {}} for oid in order_ids])
    resend = ("dead", "sent") if again else ("dead",)
    stmt = stmt.on_conflict_do_update(
        index_elements=[OutboxEntry.inbound_order_id, OutboxEntry.status],
        set_={"state": "pending", "attempts": 0, "next_attempt_at": func.now(), "last_error": None,
              "payload": stmt.excluded.payload},
        where=OutboxEntry.state.in_(resend),
    ).returning(OutboxEntry.id)
    return len(session.execute(stmt).all())
