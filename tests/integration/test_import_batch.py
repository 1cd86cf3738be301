"""The batched ERP import and its fallback.

Given valid held orders, when their batch cannot be written whole (here: one order's checked
result names a customer the ERP does not have), then nothing of that batch is half-written and
every order is imported one by one instead, each checked again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select, update

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


def _staged_demo(sandbox: Any) -> tuple[Any, Any, dict[int, Any]]:
    """The demo site's orders staged as an import stages them: (context, master data, fresh)."""
    from bobbin.demo_sites import load_demo
    from connectors.brandboom import make_source
    from services.holding import stage_page
    from services.sites import credentials, open_site

    load_demo(sandbox.url)
    fresh: dict[int, Any] = {}
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        source = make_source(site.base_url, credentials(site), {})
        for page in source.iter_order_pages():
            fresh.update(stage_page(s, site.id, page).fresh)
    with session_scope() as s:
        return open_site(s, site.id), masterdata.load(s, site.id), fresh


def _states() -> dict[int, str]:
    with session_scope() as s:
        return {oid: state for oid, state in s.execute(select(InboundOrder.id, InboundOrder.state))}


def test_staged_orders_are_validated_and_imported_in_one_transaction(db: str, sandbox: Any) -> None:
    from services.erp_import import write_imports
    from services.holding import validate_staged

    ctx, md, fresh = _staged_demo(sandbox)
    # Given one staged order a person rejected before the import validated it
    rejected = max(fresh)
    with session_scope() as s:
        s.execute(update(InboundOrder).where(InboundOrder.id == rejected).values(state="rejected"))

    # When the page is validated with its import in the same transaction
    with session_scope() as s:
        v = validate_staged(s, ctx, fresh, md, then_import=lambda session, c: write_imports(session, ctx, c))

    # Then every valid order went straight from downloaded to imported, with its sales order
    assert v.imported is not None and v.import_error is None
    imported = {r.order_id for r in v.imported if r.imported}
    assert imported and imported == set(v.checked) - {rejected}
    states = _states()
    assert {oid for oid, st in states.items() if st == "imported"} == imported
    with session_scope() as s:
        assert set(s.scalars(select(SalesOrder.inbound_order_id))) == imported
        assert s.scalar(
            select(func.count()).select_from(InboundOrder).where(InboundOrder.imported_at.is_not(None))
        ) == len(imported)
    # And the order the person acted on is as they left it, not imported
    assert states[rejected] == "rejected"
    # And the others hold their problems' states
    assert {st for oid, st in states.items() if oid not in imported and oid != rejected} <= {"invalid", "duplicate"}


def test_a_failing_import_in_the_validation_transaction_rolls_back_alone(db: str, sandbox: Any) -> None:
    from services.erp_import import write_imports
    from services.holding import validate_staged
    from services.pipeline import import_orders

    ctx, md, fresh = _staged_demo(sandbox)

    def poisoned(session: Any, checked: dict[int, Any]) -> Any:
        victim = min(checked)
        partner, outcome = checked[victim]
        checked = {
            **checked,
            victim: (partner, replace(outcome, resolved=replace(outcome.resolved, customer_code="NOPE1"))),
        }
        return write_imports(session, ctx, checked)

    # When the batch's import fails on a foreign key inside the validation's transaction
    with session_scope() as s:
        v = validate_staged(s, ctx, fresh, md, then_import=poisoned)

    # Then nothing of the import was written, and the validation was: valid orders held valid
    assert v.imported is None and "NOPE1" in (v.import_error or "")
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 0
    states = _states()
    assert {oid for oid, st in states.items() if st == "valid"} == set(v.checked)
    assert "downloaded" not in states.values()
    # And one by one they all import, each checked again
    results = import_orders(sorted(v.checked), md, ctx=ctx)
    assert all(r.imported for r in results)
    assert {oid for oid, st in _states().items() if st == "imported"} == set(v.checked)


def test_postgres_gone_mid_import_raises_the_retryable_error(db: str, sandbox: Any) -> None:
    """A connection that dies inside the import (Postgres restarted or killed) is not an import that
    failed on its rows: no fallback is tried on it, and the error the task retries on comes out
    (a fallback on the dead session raised PendingRollbackError instead, which is not retried)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from core.db import get_engine
    from services.erp_import import write_imports
    from services.holding import validate_staged

    ctx, md, fresh = _staged_demo(sandbox)

    def server_gone(session: Any, checked: dict[int, Any]) -> Any:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with get_engine().connect() as other:  # the session's server process ends, as in a crash
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        return write_imports(session, ctx, checked)

    # When the session's connection dies while the page's valid orders are being imported
    with pytest.raises(OperationalError) as raised, session_scope() as s:
        validate_staged(s, ctx, fresh, md, then_import=server_gone)

    # Then the error is the retryable one, and nothing of the page's validation or import was written
    assert raised.value.connection_invalidated
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 0
    assert set(_states().values()) == {"downloaded"}
