"""The outbox: changes waiting to go to a partner, one row per (order, change).

Queued in the same transaction as the change that causes them (an import, a mark, a customer
created), sent by ``services.writeback.flush``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Integer, String, Text, any_, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.base import UNIDENTIFIED_PREFIX
from models import InboundOrder, OutboxEntry


def queue_writeback(
    session: Session,
    site_id: int,
    order_ids: list[int],
    status: str,
    *,
    payload: dict[str, Any] | None = None,
    again: bool = False,
) -> int:
    """Queue a change per order in the outbox. Queuing again is a no-op, a change that gave up
    (or was held for a person) is queued afresh, and ``again`` re-sends one already sent (an order changed on the partner
    after it was marked exported). Returns how many rows became pending.

    An order held without a partner id of its own (its payload carried none: a stand-in id,
    ``connectors.base.identified``) is never queued: no write may go to a partner for an order
    Bobbin cannot name there."""
    if not order_ids:
        return 0
    # One statement whatever the number of orders, its text always the same (compiled once, cached):
    # the ids go in as one array parameter. A repeated id would make ON CONFLICT touch a row twice.
    order = InboundOrder.__table__
    rows = select(
        bindparam("site_id", type_=Integer),
        order.c.id,
        bindparam("status", type_=String),
        cast(bindparam("payload", type_=Text), JSONB),
    ).where(
        order.c.id == any_(bindparam("ids", type_=ARRAY(Integer))),
        order.c.partner_order_id.not_like(UNIDENTIFIED_PREFIX + "%"),
    )
    table = OutboxEntry.__table__  # Core: an ORM-enabled INSERT … SELECT with parameters is taken for a bulk insert
    stmt = pg_insert(table).from_select(["site_id", "inbound_order_id", "status", "payload"], rows)
    # A change that gave up (dead) or that a person held after a contract violation is queued afresh
    # when queued again (`bobbin orders mark`: the person looked).
    resend = ("dead", "held", "sent") if again else ("dead", "held")
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.inbound_order_id, table.c.status],
        set_={
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": func.now(),
            "last_error": None,
            "payload": stmt.excluded.payload,
        },
        where=table.c.state.in_(resend),
    ).returning(table.c.id)
    params = {
        "site_id": site_id,
        "ids": list(dict.fromkeys(order_ids)),
        "status": status,
        "payload": json.dumps(payload or {}),
    }
    return len(session.execute(stmt, params).all())
