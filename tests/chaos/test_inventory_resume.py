"""Case 6: an inventory push interrupted (its worker SIGKILLed between batches) and resumed.

Given the demo brand's 686 SKUs with every ERP count moved away from what Brandboom shows, and a
worker whose Brandboom batches are 100 rows (7 batches, each slow), when the push task's pool
process is SIGKILLed while a batch is on its way, then the task is redelivered and the push
resumes: Brandboom ends with the ERP's available-to-sell for every SKU, no row whose acceptance
was recorded before the kill is sent again, and at most the one batch that was in flight (which
Brandboom may have applied without Bobbin learning it) goes twice — harmless, the counts are
absolute. An import on the same worker afterwards ends with the suite's usual check.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.db import session_scope
from models import InventoryPushState, SyncRun
from tests.chaos import figures
from tests.chaos.conftest import brandboom_expected, drain_outbox, wait_until
from tests.chaos.invariants import BrandboomRecord, check

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

BATCH = 100
SEED = 6


def _available_to_sell() -> dict[str, int]:
    """Per SKU of an active style, summed over warehouses: on hand − allocated (no open orders
    here), computed from the ERP tables independently of the service."""
    with session_scope() as s:
        rows = s.execute(
            text(
                "SELECT i.sku, i.on_hand, i.allocated FROM inventory i JOIN sku k ON k.sku = i.sku "
                "JOIN style st ON st.number = k.style_number WHERE st.active"
            )
        ).all()
    ats: dict[str, int] = defaultdict(int)
    for sku, on_hand, allocated in rows:
        ats[sku] += max(0, on_hand - allocated)
    return dict(ats)


def _state_of_run(run_id: int) -> set[str]:
    with session_scope() as s:
        return set(s.scalars(select(InventoryPushState.sku).where(InventoryPushState.run_id == run_id)))


def test_inventory_push_killed_between_batches_resumes_without_resending(
    demo_site: int, brandboom: Any, workers: Any, chaos_app: Any
) -> None:
    rng = random.Random(SEED)
    with session_scope() as s:
        s.execute(text("UPDATE inventory SET on_hand = on_hand + 7"))
    expected = _available_to_sell()
    brandboom.inject_fault(delay=0.4, path="products/import", rate=1.0)
    worker = workers("push", env={"CHAOS_INVENTORY_BATCH_ROWS": str(BATCH)})

    # When the push runs and its pool process is SIGKILLed after three batches were accepted
    result = chaos_app.send_task("tasks.inventory.push_inventory", args=[demo_site])
    wait_until(lambda: len(brandboom.imports()) >= 3, timeout=60, interval=0.02, what="three batches accepted")
    time.sleep(rng.uniform(0.05, 0.35))
    worker.kill_child()
    killed_at = time.monotonic()
    with session_scope() as s:
        first_run = s.scalar(select(func.max(SyncRun.id)).where(SyncRun.task == "push_inventory"))
    recorded_before = _state_of_run(first_run)

    # Then the same task is redelivered at once and the push resumes to the end
    summary = result.get(timeout=60)
    figures.add_recovery("inventory push: pool process SIGKILLed → requeued → push done", time.monotonic() - killed_at)
    assert summary["rows_accepted"] + len(recorded_before) >= len(expected) - BATCH, summary
    with session_scope() as s:
        runs = s.execute(
            select(SyncRun.id, SyncRun.outcome).where(SyncRun.task == "push_inventory").order_by(SyncRun.id)
        ).all()
    assert [r.outcome for r in runs] == ["failed", "ok"], runs

    # And Brandboom shows the ERP's available-to-sell for every SKU
    shown = {sku["skuNumber"]: sku["inventoryCount"] for p in brandboom.products() for sku in p["skus"]}
    wrong = {sku: (shown.get(sku), qty) for sku, qty in expected.items() if shown.get(sku) != qty}
    assert not wrong, f"{len(wrong)} SKUs differ (shown, expected): {list(wrong.items())[:5]}"

    # And no row recorded as accepted before the kill was sent again; only the in-flight batch twice
    sent = Counter(row["skuNumber"] for imp in brandboom.imports() for row in imp["rows"])
    twice = {sku for sku, n in sent.items() if n > 1}
    assert set(sent) == set(expected)
    assert len(recorded_before) >= 3 * BATCH and not (twice & recorded_before), sorted(twice & recorded_before)[:5]
    assert len(twice) <= BATCH and max(sent.values()) <= 2, (len(twice), max(sent.values()))
    assert _state_of_run(first_run) == recorded_before  # the resumed push did not re-send (re-record) them

    # And the orders side of the same system is untouched: an import on that worker, the usual check
    assert "skipped" not in chaos_app.send_task("tasks.orders.import_orders", args=[demo_site]).get(timeout=60)
    drain_outbox()
    check(
        demo_site,
        BrandboomRecord(brandboom),
        brandboom_expected(),
        scenario="Inventory push SIGKILLed mid-push, resumed",
        runs=1,
        note=f"{len(expected)} SKUs right ({len(wrong)} wrong); {len(recorded_before)} rows accepted before the "
        f"kill, {len(twice & recorded_before)} of them re-sent; {len(twice)} rows of the batch in flight at "
        "the kill sent twice (absolute counts, harmless)",
    )
