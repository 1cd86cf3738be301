"""Cases 4 and 7: the same site's import running twice at once.

- Five imports of one site sent together to a worker with four pool processes: one runs, the
  other four skip (the per-site advisory lock), and the end state is exact.
- A task left unacknowledged past the (test-shortened, 10 s) Redis visibility timeout is handed to
  a second worker while the first copy still runs: the second copy finds the site's lock taken and
  skips, the first finishes — still exactly-once effects.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bobbin.demo import build_world, make_order
from core.db import session_scope
from models import Site, SyncRun
from tests.chaos.conftest import VISIBILITY_TIMEOUT, brandboom_added, brandboom_expected, drain_outbox, wait_until
from tests.chaos.invariants import BrandboomRecord, check

pytestmark = [pytest.mark.chaos, pytest.mark.integration]


def _import_runs(site_id: int) -> list[tuple[str, str | None]]:
    with session_scope() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(SyncRun.outcome, SyncRun.celery_task_id)
                .where(SyncRun.site_id == site_id, SyncRun.task == "import_orders")
                .order_by(SyncRun.id)
            )
        ]


def _page_size(site_id: int, size: int) -> None:
    with session_scope() as s:
        site = s.get(Site, site_id)
        assert site is not None
        site.settings = {**site.settings, "page_size": size}


def test_five_imports_of_one_site_at_once_run_once(
    demo_site: int, brandboom: Any, workers: Any, chaos_app: Any
) -> None:
    # Given 200 new orders on Brandboom and listing pages slow enough that an import lasts ~4 s
    world = build_world()
    brandboom.add_orders([make_order(world, id=600_000 + i) for i in range(200)])
    brandboom.inject_fault(delay=0.3, path="orders/search", rate=1.0)
    workers("five", concurrency=4)

    # When the site's import is sent five times at once
    results = [chaos_app.send_task("tasks.orders.import_orders", args=[demo_site]) for _ in range(5)]
    summaries = [r.get(timeout=120) for r in results]

    # Then one ran and the other four skipped, saying why, and only one run was recorded
    ran = [s for s in summaries if "skipped" not in s]
    skipped = [s for s in summaries if "skipped" in s]
    assert len(ran) == 1 and ran[0]["imported"] >= 200, summaries
    assert [s["skipped"] for s in skipped] == ["another import of this site is running"] * 4
    assert [outcome for outcome, _ in _import_runs(demo_site)] == ["ok"]

    # And the end state is exact
    brandboom.faults.clear()
    drain_outbox()
    check(
        demo_site,
        BrandboomRecord(brandboom),
        brandboom_expected(brandboom_added(brandboom)),
        scenario="Same site's import sent 5 times at once (-c 4)",
        runs=5,
        note="1 ran, 4 skipped",
    )


def test_task_redelivered_past_visibility_timeout_while_first_copy_runs(
    demo_site: int, brandboom: Any, workers: Any, chaos_app: Any
) -> None:
    # Given an import that lasts longer than the visibility timeout (~14 s of slow pages), two workers
    world = build_world()
    brandboom.add_orders([make_order(world, id=700_000 + i) for i in range(200)])
    _page_size(demo_site, 10)
    brandboom.inject_fault(delay=0.6, path="orders/search", rate=1.0)
    pair = [w.ready() for w in [workers("copy-a", wait=False), workers("copy-b", wait=False)]]

    # When the import is sent once and its message stays unacknowledged past the timeout
    result = chaos_app.send_task("tasks.orders.import_orders", args=[demo_site])

    # Then Redis hands the same message to the other worker while the first copy runs, and that
    # copy finds the site's lock taken and skips
    def second_copy_skipped() -> list[dict[str, Any]]:
        return [
            e
            for w in pair
            for e in w.events()
            if e.get("event") == "import_skipped_busy" and e.get("task_id") == result.id
        ]

    skipped = wait_until(
        second_copy_skipped, timeout=VISIBILITY_TIMEOUT + 25, interval=0.5, what="the redelivered copy to skip"
    )
    runs = _import_runs(demo_site)
    assert runs == [("running", result.id)], runs  # the first copy still runs

    # And the first copy finishes: one run, ok, under the same task id
    wait_until(
        lambda: _import_runs(demo_site) == [("ok", result.id)],
        timeout=60,
        interval=0.5,
        what="the first copy to finish",
    )
    assert len(skipped) == 1
    workers_that_ran = {
        w.name for w in pair for e in w.events() if e.get("event") == "run_started" and e.get("task_id") == result.id
    }
    assert len(workers_that_ran) == 1

    # And the effects are exactly once
    brandboom.faults.clear()
    drain_outbox()
    check(
        demo_site,
        BrandboomRecord(brandboom),
        brandboom_expected(brandboom_added(brandboom)),
        scenario="Unacked past the visibility timeout, redelivered while the first copy runs",
        runs=1,
        note="the second copy skipped on the site lock",
    )
