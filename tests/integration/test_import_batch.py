"""The batched ERP import and its fallback.

Given valid held orders, when their batch cannot be written whole (here: one order's checked
result names a customer the ERP does not have), then nothing of that batch is half-written and
every order is imported one by one instead, each checked again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import session_scope
from models import InboundOrder, SalesOrder, SalesOrderLine, Site
from services import masterdata
from services.holding import open_order_ids, validate_orders
from services.pipeline import import_checked

pytestmark = pytest.mark.integration


def test_a_failing_batch_falls_back_to_one_order_at_a_time(db: str, sandbox: Any) -> None:
    from bobbin.demo_sites import load_demo
    from connectors.brandboom import make_source
    from services.holding import stage_page
    from services.sites import credentials, open_site

    load_demo(sandbox.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        source = make_source(site.base_url, credentials(site), {})
        for page in source.iter_order_pages():
            stage_page(s, site.id, page)
    with session_scope() as s:
        md = masterdata.load(s, site.id)
        ctx = open_site(s, site.id)
        checked = validate_orders(s, ctx, open_order_ids(s, site.id), md).checked
    assert len(checked) >= 3
    victim = min(checked)
    partner, outcome = checked[victim]
    checked[victim] = (partner, replace(outcome, resolved=replace(outcome.resolved, customer_code="NOPE1")))

    results = import_checked(ctx, checked, md)

    assert all(r.imported for r in results), [r for r in results if not r.imported]
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == len(checked)
        assert s.scalar(select(SalesOrder.customer_code).where(SalesOrder.inbound_order_id == victim)) != "NOPE1"
        assert s.scalar(select(func.count()).select_from(InboundOrder).where(InboundOrder.state == "imported")) == len(
            checked
        )
        lines = s.scalar(select(func.count()).select_from(SalesOrderLine))
    assert lines == sum(len(p.lines) for p, _ in checked.values())
