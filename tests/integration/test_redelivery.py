"""A worker killed in the middle of an import: the task is redelivered and nothing is doubled.

Given a Brandboom account with a few hundred orders to import over many pages, when the worker is
SIGKILLed half-way through the fetch and a new worker picks the redelivered task up (acks_late,
a short visibility timeout), then every order is staged once, imported once, and queued for its
"exported" writeback once; the dead run's row says what happened to it.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo import build_world, make_order
from core.db import session_scope
from models import InboundOrder, OutboxEntry, SalesOrder, Site, SyncRun
from services.runs import ABANDONED
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

EXTRA_ORDERS = 240


@pytest.fixture()
def busy_site(db: str, sandbox: Any) -> int:
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    world = build_world()
    sandbox.add_orders([make_order(world, id=500000 + i) for i in range(EXTRA_ORDERS)])
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "page_size": 20}
        return site.id


def _count(model: Any, *where: Any) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_worker_killed_mid_import_is_redelivered_without_duplicates(
    busy_site: int, sandbox: Any, start_worker: Any, celery_app: Any
) -> None:
    first = start_worker("victim")
    # Every page is slow, so the kill lands while the fetch is under way.
    sandbox.inject_fault(delay=0.3, count=1000, path="orders/search")
    result = celery_app.send_task("tasks.orders.import_orders", args=[busy_site])
    wait_until(lambda: _count(InboundOrder) >= 60, timeout=60, what="some pages staged")

    first.kill()
    staged_at_kill = _count(InboundOrder)
    assert staged_at_kill < EXTRA_ORDERS, "the import finished before the kill; slow the sandbox more"
    sandbox.faults.clear()

    start_worker("rescuer")
    summary = result.get(timeout=180)  # the same task id, redelivered to the new worker
    assert summary.get("fetched"), summary

    extra = {str(500000 + i) for i in range(EXTRA_ORDERS)}
    with session_scope() as s:
        ids = s.scalars(select(InboundOrder.partner_order_id)).all()
        assert len(ids) == len(set(ids)), "an order was staged twice"
        assert set(ids) >= extra
        dup_so = s.execute(
            select(SalesOrder.inbound_order_id, func.count())
            .group_by(SalesOrder.inbound_order_id)
            .having(func.count() > 1)
        ).all()
        assert dup_so == []
        dup_outbox = s.execute(
            select(OutboxEntry.inbound_order_id, OutboxEntry.status, func.count())
            .group_by(OutboxEntry.inbound_order_id, OutboxEntry.status)
            .having(func.count() > 1)
        ).all()
        assert dup_outbox == []
        imported = s.scalar(select(func.count()).select_from(InboundOrder).where(InboundOrder.state == "imported"))
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == imported
        assert imported >= EXTRA_ORDERS
        runs = s.execute(
            select(SyncRun.outcome, SyncRun.error).where(SyncRun.task == "import_orders").order_by(SyncRun.id)
        ).all()
    assert runs[-1].outcome == "ok"
    assert ("failed", ABANDONED) in [tuple(r) for r in runs]
