"""The inventory push on real parts: Postgres, the Brandboom sandbox over HTTP, a real worker.

The demo brand (686 SKUs in two warehouses) is loaded with its Brandboom site; the sandbox starts
from the demo catalog. What the sandbox holds after a push is compared with an independent
computation of available-to-sell from the ERP tables, and what was sent is read from the
sandbox's own record of the imports it received.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from connectors.errors import RetryableError
from connectors.joor.inventory import BATCH_ROWS as JOOR_BATCH_ROWS
from core.db import session_scope
from models import (
    Customer,
    InventoryPushRejection,
    InventoryPushState,
    SalesOrder,
    SalesOrderLine,
    Site,
    Style,
    SyncRun,
)
from services import inventory
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

BATCH = 100  # rows per products/import call in these tests: the demo's 686 SKUs make 7 batches


@pytest.fixture()
def site_id(db: str, sandbox: Any) -> int:
    """The demo brand and its Brandboom site (mode "both"), with every ERP count moved away from
    what the sandbox was seeded with, so a push that does nothing cannot pass."""
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "inventory_mode": "both"}
        s.execute(text("UPDATE inventory SET on_hand = on_hand + 7"))
        return site.id


def sales_order(
    number: str, status: str, lines: list[tuple[str, int]], warehouse: str | None = "MAIN", site_id: int | None = None
) -> None:
    with session_scope() as s:
        customer = s.scalars(select(Customer.code).order_by(Customer.code)).first()
        so = SalesOrder(number=number, customer_code=customer, status=status, warehouse_code=warehouse, site_id=site_id)
        s.add(so)
        s.flush()
        s.add_all(
            SalesOrderLine(sales_order_id=so.id, line_no=n, sku=sku, quantity=qty, price=Decimal("10"))
            for n, (sku, qty) in enumerate(lines, start=1)
        )


def expected_brandboom() -> dict[str, tuple[int, int | None, str | None]]:
    """Per SKU of an active style, computed here from the ERP tables, independently of the service:
    (on hand − allocated − open order lines, summed over warehouses; future total; latest WIP date)."""
    with session_scope() as s:
        held: dict[tuple[str, str], int] = defaultdict(int)
        for sku, wh, qty in s.execute(
            text(
                "SELECT l.sku, COALESCE(o.warehouse_code, st.settings ->> 'default_warehouse'), l.quantity "
                "FROM sales_order_line l JOIN sales_order o ON o.id = l.sales_order_id "
                "LEFT JOIN site st ON st.id = o.site_id WHERE o.status = 'open'"
            )
        ):
            held[(sku, wh)] += qty
        rows = s.execute(
            text(
                "SELECT i.sku, i.warehouse_code, i.on_hand, i.allocated, i.future_qty, i.future_date FROM inventory i "
                "JOIN sku k ON k.sku = i.sku JOIN style st ON st.number = k.style_number WHERE st.active"
            )
        ).all()
    now: dict[str, int] = defaultdict(int)
    future: dict[str, int] = defaultdict(int)
    dates: dict[str, list[date]] = defaultdict(list)
    for sku, wh, on_hand, allocated, fq, fd in rows:
        now[sku] += max(0, on_hand - allocated - held[(sku, wh)])
        if fq and fd:
            future[sku] += fq
            dates[sku].append(fd)
    return {sku: (now[sku], future.get(sku), max(dates[sku]).isoformat() if dates[sku] else None) for sku in now}


def sandbox_skus(sandbox: Any) -> dict[str, dict[str, Any]]:
    return {sku["skuNumber"]: sku for product in sandbox.products() for sku in product["skus"]}


def sent_skus(imports: list[dict[str, Any]]) -> list[str]:
    return [row["skuNumber"] for imp in imports for row in imp["rows"]]


def state_count(site_id: int) -> int:
    with session_scope() as s:
        return int(
            s.scalar(select(func.count()).select_from(InventoryPushState).where(InventoryPushState.site_id == site_id))
            or 0
        )


def fault_before_batch(sandbox: Any, batch_no: int, **fault: Any) -> Any:
    """A progress callback that queues a sandbox fault for the ``batch_no``-th products/import."""

    def progress(done: int, total: int) -> None:
        if done == (batch_no - 1) * BATCH:
            sandbox.inject_fault(path="products/import", **fault)

    return progress


# --- the numbers ---------------------------------------------------------------------------------


def test_full_push_makes_the_sandbox_show_the_erps_available_to_sell(site_id: int, sandbox: Any) -> None:
    # Given open orders holding stock — one at MAIN, one of the site with no warehouse (its default,
    # MAIN), one of no site and no warehouse (taken from the SKU's warehouses in code order) — and
    # a shipped and a void order, which hold nothing
    skus = sorted(expected_brandboom())
    sales_order("SO-OPEN-1", "open", [(skus[0], 5), (skus[1], 2)])
    sales_order("SO-OPEN-2", "open", [(skus[2], 3)], warehouse=None, site_id=site_id)
    sales_order("SO-OPEN-3", "open", [(skus[3], 4)], warehouse=None)
    sales_order("SO-SHIP-1", "shipped", [(skus[4], 4)])
    sales_order("SO-VOID-1", "void", [(skus[5], 4)])
    # When the inventory is pushed in full
    result = inventory.push_inventory(site_id, full=True, batch_rows=BATCH)
    # Then every SKU went once, with bypassDiff
    imports = sandbox.imports()
    assert all(imp["mode"] == "inventory" and imp["bypassDiff"] for imp in imports)
    assert len(imports) == 7 and sorted(sent_skus(imports)) == skus
    assert result.rows_accepted == len(skus) and result.rows_not_found == 0 and result.batches_rejected == 0
    # And the sandbox shows the ERP's ATS (summed over warehouses) and its future stock
    expected = expected_brandboom()
    now, future, day = expected[skus[3]]  # the unplaced order takes 4 from whatever is available
    expected[skus[3]] = (now - min(4, now), future, day)
    shown = sandbox_skus(sandbox)
    for sku, want in expected.items():
        got = shown[sku]
        assert (got["inventoryCount"], got["futureInventoryCount"], got["futureInventoryDate"]) == want, sku
    # And the run is recorded with its counts
    with session_scope() as s:
        run = s.get(SyncRun, result.run_id)
        assert run.task == "push_inventory" and run.outcome == "ok"
        assert run.counts["rows_accepted"] == len(skus) and run.counts["full"] is True


def test_a_normal_push_sends_only_the_changed_rows(site_id: int, sandbox: Any) -> None:
    # Given everything was pushed once
    inventory.push_inventory(site_id, batch_rows=BATCH)
    before = len(sandbox.imports())
    # When 1 % of the inventory rows change (14 of 1,372)
    with session_scope() as s:
        changed = (
            s.execute(
                text(
                    "UPDATE inventory SET on_hand = on_hand + 5 WHERE id IN (SELECT id FROM inventory ORDER BY id DESC LIMIT 14) "
                    "RETURNING sku"
                )
            )
            .scalars()
            .all()
        )
    result = inventory.push_inventory(site_id, batch_rows=BATCH)
    # Then only those SKUs are sent, in one batch, without bypassDiff, and the sandbox follows
    imports = sandbox.imports()[before:]
    assert sorted(sent_skus(imports)) == sorted(set(changed))
    assert [imp["bypassDiff"] for imp in imports] == [False]
    assert result.rows_sent == len(set(changed)) == result.rows_accepted
    shown, expected = sandbox_skus(sandbox), expected_brandboom()
    assert all(shown[sku]["inventoryCount"] == expected[sku][0] for sku in changed)
    # And a third push finds nothing to send
    again = inventory.push_inventory(site_id, batch_rows=BATCH)
    assert again.rows_sent == 0 and len(sandbox.imports()) == before + 1


@pytest.mark.parametrize("full", [False, True], ids=["normal", "full"])
def test_an_interrupted_push_resumes_without_resending_what_was_accepted(
    site_id: int, sandbox: Any, full: bool
) -> None:
    # Given the sandbox fails every attempt at the 3rd batch (the client's retries run out)
    with pytest.raises(RetryableError):
        inventory.push_inventory(
            site_id, full=full, batch_rows=BATCH, progress=fault_before_batch(sandbox, 3, status=503, count=5)
        )
    # Then the two batches that got through are recorded, and the run failed with its counts
    first = sent_skus(sandbox.imports())
    assert len(first) == 2 * BATCH
    with session_scope() as s:
        run = s.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run.outcome == "failed" and run.counts["rows_accepted"] == 2 * BATCH
    # When the push runs again (the same way)
    result = inventory.push_inventory(site_id, full=full, batch_rows=BATCH)
    # Then it sends exactly the rest
    rest = sent_skus(sandbox.imports()[2:])
    assert not set(rest) & set(first)
    assert sorted(first + rest) == sorted(expected_brandboom())
    assert result.rows_accepted == len(rest) == 686 - 2 * BATCH
    shown, expected = sandbox_skus(sandbox), expected_brandboom()
    assert all(shown[sku]["inventoryCount"] == now for sku, (now, _, _) in expected.items())


def test_a_rejected_batch_is_recorded_and_the_rest_goes_on(site_id: int, sandbox: Any) -> None:
    # Given Brandboom refuses the 2nd batch
    result = inventory.push_inventory(site_id, batch_rows=BATCH, progress=fault_before_batch(sandbox, 2, status=400))
    # Then the run carries on: 6 batches accepted, 1 rejected and recorded with its rows
    assert (result.batches, result.batches_rejected) == (7, 1)
    assert result.rows_accepted == 686 - BATCH and result.rows_rejected == BATCH
    with session_scope() as s:
        rejection = s.scalars(select(InventoryPushRejection)).one()
        refused = [row["skuNumber"] for row in rejection.rows]
        assert (rejection.site_id, rejection.run_id, rejection.batch_no) == (site_id, result.run_id, 2)
        assert rejection.row_count == BATCH and "400" in rejection.message
        assert all("inventoryCount" in row for row in rejection.rows)
        assert s.get(SyncRun, result.run_id).outcome == "ok"
    applied = sent_skus(sandbox.imports())
    assert not set(refused) & set(applied) and len(applied) == 686 - BATCH
    # When the next normal push runs, it sends exactly the refused rows
    again = inventory.push_inventory(site_id, batch_rows=BATCH)
    assert sorted(sent_skus(sandbox.imports()[6:])) == sorted(refused) and again.rows_accepted == BATCH


def test_a_dry_run_sends_nothing_and_says_what_would_go(site_id: int, sandbox: Any) -> None:
    # When a dry run is asked for
    plan = inventory.push_inventory(site_id, dry_run=True)
    # Then nothing was sent or recorded
    assert sandbox.imports() == [] and state_count(site_id) == 0
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun)) == 0
    # And it lists every bucket, which is what the real push then sends
    assert plan.dry_run and plan.rows_total == 686 and plan.changed == len(plan.changes)
    assert {c.bucket for c in plan.changes} == {"immediate", "future"}
    result = inventory.push_inventory(site_id)
    assert sorted(sent_skus(sandbox.imports())) == sorted({c.sku for c in plan.changes})
    assert state_count(site_id) == plan.changed == result.changed


def test_inactive_styles_drop_out_and_a_gone_wip_date_is_zeroed(site_id: int, sandbox: Any) -> None:
    # Given everything was pushed, then a style is made inactive and one SKU's WIP stock arrives
    inventory.push_inventory(site_id)
    before = len(sandbox.imports())
    with session_scope() as s:
        style = s.scalars(select(Style).order_by(Style.number)).first()
        style.active = False
        dropped = set(s.scalars(text("SELECT sku FROM sku WHERE style_number = :n"), {"n": style.number}))
        received = s.execute(
            text(
                "UPDATE inventory SET future_qty = 0, future_date = NULL WHERE id = (SELECT min(i.id) FROM inventory i "
                "JOIN sku k ON k.sku = i.sku WHERE i.future_qty > 0 AND k.style_number <> :n "
                "AND NOT EXISTS (SELECT 1 FROM inventory j WHERE j.sku = i.sku AND j.id <> i.id AND j.future_qty > 0)) "
                "RETURNING sku"
            ),
            {"n": style.number},
        ).scalar_one()
    # When the next push runs
    result = inventory.push_inventory(site_id)
    # Then the inactive style's SKUs are sent as 0 and the received WIP bucket as 0, then forgotten
    rows = {row["skuNumber"]: row for imp in sandbox.imports()[before:] for row in imp["rows"]}
    assert set(rows) == dropped | {received}
    assert all(rows[sku]["inventoryCount"] == "0" for sku in dropped)
    assert rows[received]["futureInventoryCount"] == "0"
    shown = sandbox_skus(sandbox)
    assert all(shown[sku]["inventoryCount"] == 0 for sku in dropped)
    assert result.remove_wip_dates_count == 0  # Brandboom overwrites its one future bucket itself
    with session_scope() as s:
        left = set(s.scalars(select(InventoryPushState.sku).where(InventoryPushState.sku.in_(dropped))))
        assert not left
    assert inventory.push_inventory(site_id).rows_sent == 0


def test_a_sku_deleted_from_the_erp_is_sent_as_zero_once(site_id: int, sandbox: Any) -> None:
    # Given everything was pushed, then a SKU is deleted from the ERP (its inventory rows go with it)
    inventory.push_inventory(site_id)
    before = len(sandbox.imports())
    with session_scope() as s:
        deleted = s.execute(text("DELETE FROM sku WHERE sku = (SELECT min(sku) FROM sku) RETURNING sku")).scalar_one()
    # When the next push runs
    result = inventory.push_inventory(site_id)
    # Then Brandboom is told it has none (by skuNumber), and its state is forgotten
    rows = [row for imp in sandbox.imports()[before:] for row in imp["rows"]]
    assert [(r["skuNumber"], r["inventoryCount"]) for r in rows] == [(deleted, "0")]
    assert sandbox_skus(sandbox)[deleted]["inventoryCount"] == 0 and result.rows_forgotten == 0
    with session_scope() as s:
        assert not s.scalar(
            select(func.count()).select_from(InventoryPushState).where(InventoryPushState.sku == deleted)
        )
    assert inventory.push_inventory(site_id).rows_sent == 0


def test_a_push_skips_while_another_push_of_the_site_runs(site_id: int, sandbox: Any) -> None:
    from core.locks import advisory_lock, site_lock_name

    with advisory_lock(site_lock_name("push_inventory", site_id)) as got:
        assert got
        result = inventory.push_inventory(site_id)
    assert result.skipped and sandbox.imports() == []


def test_a_scheduled_push_is_in_the_beat_schedule_only_when_the_site_asks(site_id: int) -> None:
    from core.settings import get_settings
    from schedules import active_sites, build_schedule

    assert not any(name.startswith("push-inventory") for name in build_schedule(active_sites(), get_settings()))
    with session_scope() as s:
        site = s.get(Site, site_id)
        site.settings = {**site.settings, "inventory_push_minutes": 30}
    entry = build_schedule(active_sites(), get_settings())["push-inventory:brandboom-demo"]
    assert entry["task"] == "tasks.inventory.push_inventory" and entry["args"] == (site_id,)
    assert entry["schedule"].total_seconds() == 1800


# --- the CLI and the task ------------------------------------------------------------------------


def json_out(stdout: str) -> Any:
    """The JSON document a command printed. Under CliRunner the test session's INFO logs share
    stdout (``bobbin`` itself logs warnings only, to stderr), so read from the document's start."""
    return json.loads(stdout[stdout.index("{") if stdout.startswith("{") else stdout.index("\n{") + 1 :])


def test_cli_dry_run_table_and_json_push(site_id: int, sandbox: Any) -> None:
    from bobbin.cli.main import app

    runner = CliRunner()
    # When a person asks what would be sent
    shown = runner.invoke(app, ["inventory", "push", "brandboom-demo", "--dry-run"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Last sent" in shown.stdout and "Nothing was sent" in shown.stdout and sandbox.imports() == []
    # When they push (JSON for a script)
    pushed = runner.invoke(app, ["inventory", "push", "brandboom-demo", "--json"])
    assert pushed.exit_code == 0, pushed.output
    summary = json_out(pushed.stdout)
    assert summary["rows_accepted"] == 686 and summary["site"] == "brandboom-demo"
    # And a second dry run has nothing left
    again = runner.invoke(app, ["inventory", "push", str(site_id), "--dry-run", "--json"])
    assert json_out(again.stdout)["changes"] == []


def test_the_task_pushes_through_a_real_worker(site_id: int, sandbox: Any, start_worker: Any, celery_app: Any) -> None:
    # Given a worker
    start_worker()
    # When the task is called the way `celery call` does
    async_result = celery_app.send_task("tasks.inventory.push_inventory", args=[site_id], kwargs={"full": True})
    summary = async_result.get(timeout=120)
    # Then the sandbox received every SKU and the worker's run is recorded
    assert summary["rows_accepted"] == 686 and summary["full"] is True
    assert len(sent_skus(sandbox.imports())) == 686
    with session_scope() as s:
        run = s.get(SyncRun, summary["run_id"])
        assert run.outcome == "ok" and run.celery_task_id == async_result.id
    wait_until(lambda: state_count(site_id) > 0, what="push state")


@pytest.fixture(autouse=True)
def _no_stale_faults(sandbox: Any) -> Iterator[None]:
    yield
    sandbox.faults.clear()


# --- JOOR ----------------------------------------------------------------------------------------

JOOR_WAREHOUSES = {"MAIN": "Main Warehouse", "WEST": "West Coast"}  # as the brand named them on JOOR


@pytest.fixture()
def joor_site(joor_site: int) -> int:
    """The demo JOOR site, pushing both buckets of MAIN and WEST to JOOR's warehouses of those names."""
    with session_scope() as s:
        site = s.get_one(Site, joor_site)
        site.settings = {**site.settings, "inventory_mode": "both", "inventory_warehouses": JOOR_WAREHOUSES}
        return site.id


def expected_joor() -> dict[tuple[str, str | None, str], int]:
    """(JOOR warehouse name, WIP date or None, UPC) -> quantity, from the ERP tables."""
    with session_scope() as s:
        rows = s.execute(
            text(
                "SELECT k.upc, i.warehouse_code, i.on_hand - i.allocated, i.future_qty, i.future_date FROM inventory i "
                "JOIN sku k ON k.sku = i.sku JOIN style st ON st.number = k.style_number WHERE st.active"
            )
        ).all()
    out: dict[tuple[str, str | None, str], int] = {}
    for upc, wh, free, fq, fd in rows:
        out[(JOOR_WAREHOUSES[wh], None, upc)] = max(0, free)
        if fq and fd:
            out[(JOOR_WAREHOUSES[wh], fd.isoformat(), upc)] = fq
    return out


def joor_shown(joor_sandbox: Any) -> dict[tuple[str, str | None, str], int]:
    return {(r["warehouse"], r["inventory_date"], r["upc"]): r["inventory"] for r in joor_sandbox.inventory()}


def test_joor_gets_one_item_per_warehouse_date_and_sku_within_its_credits(joor_site: int, joor_sandbox: Any) -> None:
    # When the inventory is pushed to JOOR
    result = inventory.push_inventory(joor_site, full=True)
    # Then JOOR holds, per warehouse name, immediate stock and each WIP date, keyed by UPC
    expected = expected_joor()
    assert joor_shown(joor_sandbox) == expected
    assert result.rows_accepted == len(expected) == result.rows_total and result.rows_not_found == 0
    # And it took ceil(items / batch) writes, paced within JOOR's credits (no 429)
    (used,) = joor_sandbox.credits_used().values()
    assert used["throttled"] == 0 and used["spent"] == 5 * result.batches
    assert result.batches == -(-len(expected) // JOOR_BATCH_ROWS)
    # And a normal push right after has nothing to send
    assert inventory.push_inventory(joor_site).rows_sent == 0


def test_a_wip_date_gone_in_the_erp_is_zeroed_on_joor_and_reported_for_a_person(
    joor_site: int, joor_sandbox: Any
) -> None:
    # Given everything was pushed
    inventory.push_inventory(joor_site)
    # When one SKU's WIP stock arrives (its future bucket is gone) and another's WIP date moves
    with session_scope() as s:
        future = s.execute(
            text(
                "SELECT i.id, k.sku, k.upc, i.warehouse_code, i.future_date FROM inventory i "
                "JOIN sku k ON k.sku = i.sku WHERE i.future_qty > 0 ORDER BY i.id LIMIT 2"
            )
        ).all()
        (arrived_id, arrived_sku, arrived_upc, wh1, day1), (moved_id, moved_sku, moved_upc, wh2, day2) = future
        s.execute(text("UPDATE inventory SET future_qty = 0, future_date = NULL WHERE id = :i"), {"i": arrived_id})
        s.execute(text("UPDATE inventory SET future_date = future_date + 14 WHERE id = :i"), {"i": moved_id})
    # Then a dry run already warns that those dates stay on JOOR
    from bobbin.cli.main import app

    dry = CliRunner().invoke(app, ["inventory", "push", "joor-demo", "--dry-run"], env={"COLUMNS": "200"})
    assert dry.exit_code == 0, dry.output
    assert "2 WIP dates would be set to 0" in dry.stderr and "remove them by hand" in dry.stderr
    assert arrived_upc in dry.stderr and day1.isoformat() in dry.stderr
    # When the push runs
    result = inventory.push_inventory(joor_site)
    # Then JOOR shows the new date, and 0 on the two dates it cannot drop through its API
    shown = joor_shown(joor_sandbox)
    assert shown[(JOOR_WAREHOUSES[wh1], day1.isoformat(), arrived_upc)] == 0
    assert shown[(JOOR_WAREHOUSES[wh2], day2.isoformat(), moved_upc)] == 0
    assert shown == {
        **expected_joor(),
        (JOOR_WAREHOUSES[wh1], day1.isoformat(), arrived_upc): 0,
        (JOOR_WAREHOUSES[wh2], day2.isoformat(), moved_upc): 0,
    }
    # And the run's report tells a person which WIP dates to remove on JOOR, by SKU, UPC, warehouse and date
    wanted = {
        (arrived_sku, arrived_upc, JOOR_WAREHOUSES[wh1], day1.isoformat()),
        (moved_sku, moved_upc, JOOR_WAREHOUSES[wh2], day2.isoformat()),
    }
    assert {(w["sku"], w["upc"], w["warehouse"], w["date"]) for w in result.remove_wip_dates} == wanted
    with session_scope() as s:
        counts = s.get(SyncRun, result.run_id).counts
    assert counts["remove_wip_dates_count"] == 2 and len(counts["remove_wip_dates"]) == 2
    # And once accepted they are forgotten: the next push neither sends nor reports them again
    again = inventory.push_inventory(joor_site)
    assert again.rows_sent == 0 and again.remove_wip_dates_count == 0


def test_dec_pending_is_sent_when_the_site_asks(joor_site: int, joor_sandbox: Any) -> None:
    # Given the site asks JOOR to take its pending orders off what is sent
    with session_scope() as s:
        site = s.get(Site, joor_site)
        site.settings = {**site.settings, "inventory_dec_pending": True}
    pending: dict[str, int] = defaultdict(int)
    for order in joor_sandbox.orders():
        if order.get("status") == "PENDING":
            for line in order.get("order_items") or []:
                pending[str(line.get("upc"))] += int(line.get("quantity") or 0)
    assert pending, "the demo JOOR account has a pending order"
    # When the inventory is pushed
    inventory.push_inventory(joor_site)
    # Then JOOR lowered the pending SKUs' counts, which it does only with dec_pending=1
    shown, expected = joor_shown(joor_sandbox), expected_joor()
    for (wh, day, upc), qty in expected.items():
        assert shown[(wh, day, upc)] == max(0, qty - pending.get(upc, 0)), (wh, day, upc)


def test_a_sku_deleted_from_the_erp_is_forgotten_for_joor_which_has_no_name_for_it(
    joor_site: int, joor_sandbox: Any
) -> None:
    # Given everything was pushed to JOOR, then a SKU is deleted from the ERP: no UPC or style left
    inventory.push_inventory(joor_site)
    with session_scope() as s:
        deleted = s.execute(text("DELETE FROM sku WHERE sku = (SELECT min(sku) FROM sku) RETURNING sku")).scalar_one()
    shown_before = joor_shown(joor_sandbox)
    # When the next push runs, nothing is sent, its state is forgotten, and the count says so
    result = inventory.push_inventory(joor_site)
    assert result.rows_sent == 0 and result.rows_forgotten >= 1
    assert joor_shown(joor_sandbox) == shown_before
    with session_scope() as s:
        assert not s.scalar(
            select(func.count()).select_from(InventoryPushState).where(InventoryPushState.sku == deleted)
        )
    assert inventory.push_inventory(joor_site).rows_forgotten == 0
