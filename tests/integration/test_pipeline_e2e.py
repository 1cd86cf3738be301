"""The Brandboom order story end to end, through a real worker on a real Redis broker, real
Postgres, the Brandboom sandbox over HTTP and a real SMTP server.

Given the demo brand in the ERP and its Brandboom account in the sandbox (orders breaking every
rule included), when beat's task imports the site, then each bad order holds exactly the error
rows expected, the valid ones are ERP sales orders marked "exported" on Brandboom, and the
contacts get one e-mail listing the new problems. A fix re-validates and imports; marking shipped
reaches Brandboom; running again creates nothing twice.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo import (
    BROKEN_ORDERS,
    EXPECTED_STATE,
    O_CUSTOMER_UNKNOWN,
    O_DUPLICATE_FIRST,
    O_DUPLICATE_PO,
    O_TERMS_UNMAPPED,
    UNMAPPED_TERMS,
    build_world,
)
from core.db import session_scope
from models import ErrorReport, InboundOrder, OrderError, OutboxEntry, SalesOrder, Site
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration


def _site_id() -> int:
    with session_scope() as s:
        return int(s.scalar(select(Site.id)))


def _orders_by_partner_id() -> dict[int, InboundOrder]:
    with session_scope() as s:
        return {int(o.partner_order_id): o for o in s.scalars(select(InboundOrder))}


def _open_errors(order_id: int) -> set[tuple[Any, ...]]:
    with session_scope() as s:
        rows = s.execute(
            select(OrderError.code, OrderError.line_no, OrderError.field, OrderError.value, OrderError.severity).where(
                OrderError.order_id == order_id, OrderError.resolved_at.is_(None)
            )
        ).all()
    return {tuple(r) for r in rows}


def _changes(sandbox: Any, status: str) -> set[str]:
    return {str(c["order_id"]) for c in sandbox.status_changes() if c["status"] == status}


@pytest.fixture()
def demo_site(db: str, sandbox: Any) -> int:
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    return _site_id()


def test_import_validate_notify_fix_mark(
    demo_site: int, sandbox: Any, smtp: Any, start_worker: Any, celery_app: Any
) -> None:
    world = build_world()
    worker = start_worker()

    # When beat's task imports the site
    summary = celery_app.send_task("tasks.orders.import_orders", args=[demo_site]).get(timeout=120)
    export_orders = {o["id"] for o in world.brandboom_orders if o["status"] == "export"}
    assert summary["fetched"] == len(export_orders)

    # Then every export order is staged once, and only those
    orders = _orders_by_partner_id()
    assert set(orders) == export_orders

    # And each broken order holds exactly the expected error rows, in the expected state
    for pid in BROKEN_ORDERS:
        order = orders[pid]
        assert order.state == ("imported" if EXPECTED_STATE[pid] == "valid" else EXPECTED_STATE[pid]), pid
        got = _open_errors(order.id)
        expected = world.expected_errors[pid]
        assert len(got) == len(expected), (pid, got, expected)
        for exp in expected:
            assert any(
                g[0] == exp.code
                and g[1] == exp.line_no
                and g[2] == exp.field
                and g[4] == exp.severity
                and (exp.value is None or g[3] == exp.value)
                for g in got
            ), (pid, exp, got)

    # And every valid order became one ERP sales order and is marked exported on Brandboom
    valid = world.valid_order_ids()
    assert {pid for pid, o in orders.items() if o.state == "imported"} == valid
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == len(valid)
    wait_until(lambda: _changes(sandbox, "exported") >= {str(p) for p in valid}, what="exported writebacks")

    # And the contacts get one e-mail listing the new problems, each order once
    mail = smtp.wait_for(1)[0]
    assert "orders@harborandpine.example" in mail["To"]
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    for pid, code in BROKEN_ORDERS.items():
        assert str(pid) in text, f"order {pid} ({code}) missing from the report"
    assert UNMAPPED_TERMS in text

    # When the import runs again: nothing new is staged, imported, or reported
    again = celery_app.send_task("tasks.orders.import_orders", args=[demo_site]).get(timeout=120)
    assert again["new"] == 0 and again["imported"] == 0 and again["new_errors"] == 0
    report = celery_app.send_task("tasks.notify.send_error_report", args=[demo_site]).get(timeout=60)
    assert report["sent"] is False
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ErrorReport)) == 1
        assert s.scalar(select(func.count()).select_from(InboundOrder)) == len(export_orders)

    # When a person maps the terms and creates the unknown customer from its order
    from services import fixes

    fixes.add_mapping(demo_site, "terms", UNMAPPED_TERMS, "N60")
    code, _ = fixes.create_customer_from_order(orders[O_CUSTOMER_UNKNOWN].id)

    # Then both orders are re-validated and imported, their errors resolved (kept, not deleted)
    after = _orders_by_partner_id()
    for pid in (O_TERMS_UNMAPPED, O_CUSTOMER_UNKNOWN):
        assert after[pid].state == "imported", pid
        assert _open_errors(after[pid].id) == set()
    with session_scope() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(OrderError)
                .where(OrderError.order_id == after[O_TERMS_UNMAPPED].id, OrderError.resolved_at.is_not(None))
            )
            == 1
        )
        assert (
            s.scalar(
                select(SalesOrder.customer_code).where(SalesOrder.inbound_order_id == after[O_CUSTOMER_UNKNOWN].id)
            )
            == code
        )

    # And the scheduled flush sends their "exported" status
    celery_app.send_task("tasks.status.flush_outbox").get(timeout=60)
    assert {str(O_TERMS_UNMAPPED), str(O_CUSTOMER_UNKNOWN)} <= _changes(sandbox, "exported")

    # When a person marks an imported order shipped
    shipped = after[O_DUPLICATE_FIRST].id
    result = celery_app.send_task("tasks.status.mark_orders", args=[[shipped], "shipped"]).get(timeout=60)
    assert result["queued"] == [shipped]

    # Then Brandboom received it, and the ERP order is shipped
    assert str(O_DUPLICATE_FIRST) in _changes(sandbox, "shipped")
    with session_scope() as s:
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.inbound_order_id == shipped)) == "shipped"
        assert (
            s.scalar(
                select(OutboxEntry.state).where(
                    OutboxEntry.inbound_order_id == shipped, OutboxEntry.status == "shipped"
                )
            )
            == "sent"
        )
    # And the duplicate stays held for a person to decide
    assert after[O_DUPLICATE_PO].state == "duplicate"

    # And no credential reached the worker's logs or the e-mail
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    logs = "".join(p.read_text() for p in worker.log.parent.glob("*.log"))
    assert "import_orders" in logs
    for secret in (DEMO_SECRET_KEY, DEMO_PUBLIC_KEY):
        assert secret not in logs
        assert secret not in mail.as_string()
