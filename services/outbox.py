"""The outbox: changes waiting to go to a partner, one row per (order, change).

Queued in the same transaction as the change that causes them (an import, a mark, a customer
created), sent by ``services.writeback.flush``.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Integer, String, Text, and_, any_, bindparam, cast, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.base import CUSTOMER_CODE, UNIDENTIFIED_PREFIX
from models import InboundOrder, InboundReturn, OutboxEntry

if TYPE_CHECKING:
    from services.context import SiteContext

EXPORTED = "exported"


def _queued_afresh(insert: Any) -> dict[str, Any]:
    """What a row queued again (upsert) becomes: pending now, its tries and last error cleared,
    with the new payload."""
    return {
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": func.now(),
        "last_error": None,
        "payload": insert.excluded.payload,
    }


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
    params = {
        "site_id": site_id,
        "ids": list(dict.fromkeys(order_ids)),
        "status": status,
        "payload": json.dumps(payload or {}),
    }
    return len(session.execute(_queue_statement(again), params).all())


@functools.cache
def _queue_statement(again: bool) -> Any:
    """``queue_writeback``'s statement, built once per ``again`` (an import queues a page at a time).

    One statement whatever the number of orders, its text always the same (compiled once, cached):
    the ids go in as one array parameter. A repeated id would make ON CONFLICT touch a row twice."""
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
    insert = pg_insert(table).from_select(["site_id", "inbound_order_id", "status", "payload"], rows)
    # A change that gave up (dead) or that a person held after a contract violation is queued afresh
    # when queued again (`bobbin orders mark`: the person looked).
    resend = ("dead", "held", "sent") if again else ("dead", "held")
    return insert.on_conflict_do_update(
        index_elements=[table.c.inbound_order_id, table.c.status],
        set_=_queued_afresh(insert),
        where=table.c.state.in_(resend),
    ).returning(table.c.id)


# When an order is taken: staged in the holding area, imported into the ERP, or seen changed on the
# partner after it was exported.
Moment = Literal["staged", "imported", "modified"]


def queue_exported(session: Session, ctx: SiteContext, order_ids: list[int], moment: Moment) -> int:
    """The one place "exported" is queued, by the partner's ``OrderPull.exported_when``:

    - ``staged``: only for partners told at staging (JOOR hands an order out until it is marked,
      so it is marked once the order is safe in the holding area, in the staging transaction);
    - ``imported``: for every partner (the order is in the ERP; where the partner was told at
      staging this is a no-op, unless that change gave up — then it is queued afresh);
    - ``modified``: again, for an order the partner changed after it was exported (it lists
      the order as changed until told again)."""
    if not ctx.spec.offers("writeback") or EXPORTED not in ctx.spec.capability("writeback").statuses:
        return 0
    if moment == "staged" and ctx.spec.capability("orders").exported_when != "staged":
        return 0
    return queue_writeback(session, ctx.id, order_ids, EXPORTED, again=moment == "modified")


def takes_customer_codes(ctx: SiteContext) -> bool:
    """Whether the site's partner can carry the ERP customer code on its customer."""
    return ctx.spec.offers("writeback") and CUSTOMER_CODE in ctx.spec.capability("writeback").statuses


def queue_customer_code(session: Session, ctx: SiteContext, order_id: int, partner_customer_id: str, code: str) -> int:
    """Store an ERP customer code on the partner's customer (where the partner takes one), so the
    customer's next order maps by itself (seed 002). ``order_id``: the order it was found on."""
    if not takes_customer_codes(ctx):
        return 0
    payload = {"partner_customer_id": partner_customer_id, "erp_code": code}
    return queue_writeback(session, ctx.id, [order_id], CUSTOMER_CODE, payload=payload)


def queue_return_action(
    session: Session,
    site_id: int,
    return_id: int,
    action: str,
    *,
    payload: dict[str, Any] | None = None,
    again: bool = False,
) -> bool:
    """Queue one of ``connectors.returns.RETURN_ACTIONS`` about one held return, in the caller's
    transaction (the change that causes it commits with it). Once per return and action, as an
    order's status: queuing again is a no-op, one that gave up (or was held) is queued afresh,
    and ``again`` sends one already sent once more (a new problem note). Returns whether a row
    became pending. A return held without Loop's id of its own is never queued."""
    table = OutboxEntry.__table__
    held = session.get(InboundReturn, return_id)
    if held is None or held.loop_return_id.startswith(UNIDENTIFIED_PREFIX):
        return False
    insert = pg_insert(table).values(site_id=site_id, inbound_return_id=return_id, status=action, payload=payload or {})
    # ``again`` also puts the new payload on a row still waiting (not one being sent).
    resend: Any = table.c.state.in_(("dead", "held", "sent") if again else ("dead", "held"))
    if again:
        resend = or_(resend, and_(table.c.state == "pending", table.c.sending_since.is_(None)))
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.inbound_return_id, table.c.status],
        set_=_queued_afresh(insert),
        where=resend,
    ).returning(table.c.id)
    return session.execute(stmt).first() is not None
