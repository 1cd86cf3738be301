"""A partner waiting on its rate limit gives its worker back (``worker.base``: the pause).

Real worker processes (one, prefork, concurrency 1), the JOOR sandbox with its credit window
shrunk to seconds, the Brandboom sandbox beside it:

- JOOR's window spent by someone else: the JOOR import meets a 429 asking for ~12 s, pauses (its
  task sent again with that countdown, not the exponential backoff), and the Brandboom site's
  import runs on the same single process meanwhile; after the countdown the JOOR import runs again
  and holds every waiting order exactly once.
- A JOOR import whose read needs more than one window of credits pauses once, then its next run
  waits the windows out (it reads its lists from the first page: pausing again would read the
  same pages again), and ends with every order held once.
- A JOOR inventory push of two batches with credits for one a window pauses after the first and
  its next run sends only the second: nothing is sent twice.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.joor import contract as c
from core.db import session_scope
from models import InboundOrder, Site, SyncRun

pytestmark = pytest.mark.integration

WINDOW = 12.0  # the JOOR sandbox's credit window in these tests, seconds


@pytest.fixture()
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    # A message waiting out a countdown is held by the worker, unacknowledged: the visibility
    # timeout must outlast it (the tests' usual 10 s would cut a 12 s pause to 5 s).
    return {**worker_env, "VISIBILITY_TIMEOUT": "60"}


@pytest.fixture()
def tight_joor(bobbin_home: Path) -> Iterator[Any]:
    """The JOOR sandbox with 10 credits per WINDOW seconds."""
    from bobbin.demo import build_world
    from bobbin.demo_joor import joor_seed
    from sandbox.joor.server import JoorSandbox
    from sandbox.keys import DEMO_JOOR_TOKEN

    sb = JoorSandbox(
        port=0, token=DEMO_JOOR_TOKEN, seed=joor_seed(build_world()), credits=10, window_seconds=WINDOW
    ).start()
    yield sb
    sb.stop()


def _site(name: str, **settings: Any) -> int:
    with session_scope() as s:
        site = s.scalars(select(Site).where(Site.name == name)).one()
        site.settings = {**site.settings, **settings}
        return int(site.id)


def _waiting(sandbox: Any) -> set[str]:
    """The orders the demo JOOR site imports: approved, not exported (as tests/integration/test_joor_e2e.py)."""
    from bobbin.demo_joor import JOOR_OTHER_ORDERS

    return {
        str(o["order_id"])
        for o in sandbox.orders()
        if o["export_status"] == c.STATE_NOT_EXPORTED and int(o["order_id"]) not in JOOR_OTHER_ORDERS
    }


def _held_once(site_id: int) -> set[str]:
    with session_scope() as s:
        rows = s.execute(
            select(InboundOrder.partner_order_id, func.count())
            .where(InboundOrder.site_id == site_id)
            .group_by(InboundOrder.partner_order_id)
        ).all()
    assert all(n == 1 for _, n in rows)
    return {str(pid) for pid, _ in rows}


def _runs(site_id: int, task: str) -> list[SyncRun]:
    with session_scope() as s:
        runs = list(
            s.scalars(select(SyncRun).where(SyncRun.site_id == site_id, SyncRun.task == task).order_by(SyncRun.id))
        )
        s.expunge_all()
        return runs


def _events(worker: Any, name: str) -> list[dict[str, Any]]:
    """The worker's JSON log entries of one event (each test's worker has a log file of its own)."""
    out = []
    for line in worker.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == name:
                out.append(entry)
    return out


def test_a_rate_limited_import_gives_the_worker_to_another_sites_import(
    db: str, sandbox: Any, tight_joor: Any, smtp: Any, start_worker: Any, celery_app: Any
) -> None:
    from bobbin.demo_sites import DEMO_SITE, JOOR_DEMO_SITE, load_demo, load_joor_demo
    from connectors.joor.client import JoorClient
    from sandbox.keys import DEMO_JOOR_TOKEN

    load_demo(sandbox.url)
    load_joor_demo(tight_joor.url)
    brandboom, joor = _site(DEMO_SITE), _site(JOOR_DEMO_SITE)
    waiting = _waiting(tight_joor)
    worker = start_worker(_name())  # one process, concurrency 1

    # Given another process spent the JOOR account's whole window (the site's client cannot know)
    with JoorClient(tight_joor.url, DEMO_JOOR_TOKEN, credits=10, window_seconds=WINDOW) as other:
        for _ in range(10):
            other.get_orders(order_type=c.ORDER_TYPE_APPROVED, sync=0, export_status=c.EXPORT_NOT_EXPORTED, count=1)

    # When the JOOR site is imported, and once it paused, the Brandboom site
    joor_job = celery_app.send_task("tasks.orders.import_orders", args=[joor])
    pauses = _wait_for(lambda: _events(worker, "task_paused_rate_limited"), "the JOOR import to pause")
    brandboom_job = celery_app.send_task("tasks.orders.import_orders", args=[brandboom])
    brandboom_summary = brandboom_job.get(timeout=60)
    brandboom_done = time.monotonic()

    # Then the Brandboom import ran on the one worker process while the JOOR import waited
    assert brandboom_summary["imported"] > 0, brandboom_summary
    assert joor_job.state == "RETRY"
    # And the JOOR import paused for JOOR's Retry-After, once, as a countdown (not the backoff)
    (pause,) = pauses
    assert 5 < pause["countdown"] <= WINDOW + 1, pause
    assert pause["task_id"] == joor_job.id and pause["pauses"] == 1
    # And after the countdown it ran again and holds every waiting order exactly once
    summary = joor_job.get(timeout=90)
    assert time.monotonic() - brandboom_done > 1  # the JOOR import was still waiting when Brandboom's ended
    assert _held_once(joor) == waiting and summary["fetched"] >= len(waiting)
    first, second = _runs(joor, "import_orders")
    # (the first run says it paused, why, and when it goes on: what the dashboard and status show)
    assert first.outcome == "paused" and "rate limit" in (first.error or "") and "429" in (first.error or "")
    assert "goes on in about" in (first.error or "")
    assert second.outcome == "ok" and second.celery_task_id == first.celery_task_id == joor_job.id
    (bb_run,) = _runs(brandboom, "import_orders")
    assert bb_run.finished_at is not None and bb_run.finished_at < second.started_at
    # And the pause came from JOOR's 429 (the first run sent one request, refused)
    (limited,) = _events(worker, "partner_rate_limited")
    assert limited["retry_after"] > 5


def test_an_import_needing_more_than_a_window_pauses_once_then_waits(
    db: str, tight_joor: Any, smtp: Any, start_worker: Any, celery_app: Any
) -> None:
    from bobbin.demo_sites import JOOR_DEMO_SITE, load_joor_demo

    load_joor_demo(tight_joor.url)
    # page_size 3: two new orders a page, ~18 pages, nearly two windows of 10 credits
    joor = _site(JOOR_DEMO_SITE, page_size=3, credits=10, credit_window_seconds=int(WINDOW))
    waiting = _waiting(tight_joor)
    worker = start_worker(_name())

    summary = celery_app.send_task("tasks.orders.import_orders", args=[joor]).get(timeout=120)

    # Then it paused once when its own count of credits ran out, and its next run slept through
    # the window instead of pausing again (the read starts from the first page each run)
    (pause,) = _events(worker, "task_paused_rate_limited")
    assert 5 < pause["countdown"] <= WINDOW + 1
    assert _events(worker, "joor_credit_wait"), "the second run waited for JOOR's next window"
    assert _held_once(joor) == waiting and summary["pages"] > 10
    first, second = _runs(joor, "import_orders")
    assert (first.outcome, second.outcome) == ("paused", "ok") and "credits" in (first.error or "")
    (used,) = tight_joor.credits_used().values()
    assert used["throttled"] == 0  # the client's own budget paced it


def test_a_rate_limited_push_resumes_with_what_was_not_sent(
    db: str, tight_joor: Any, start_worker: Any, celery_app: Any
) -> None:
    from bobbin.demo_sites import JOOR_DEMO_SITE, load_joor_demo

    load_joor_demo(tight_joor.url)
    # Credits for one bulk-inventory write (5) a window; the push needs two (~1,400 items, 1,000 a call)
    joor = _site(
        JOOR_DEMO_SITE,
        credits=5,
        credit_window_seconds=int(WINDOW),
        inventory_mode="both",
        inventory_warehouses={"MAIN": "Main Warehouse", "WEST": "West Coast"},
    )
    worker = start_worker(_name())

    summary = celery_app.send_task("tasks.inventory.push_inventory", args=[joor]).get(timeout=120)

    (pause,) = _events(worker, "task_paused_rate_limited")
    assert 5 < pause["countdown"] <= WINDOW + 1
    first, second = _runs(joor, "push_inventory")
    assert first.outcome == "paused" and "rate limit" in (first.error or "")
    assert second.outcome == "ok"
    # The first run's batch was recorded; the second run sent only the rest: each item once
    assert first.counts["batches"] == 2 and first.counts["rows_accepted"] == 1000
    assert summary["batches"] == 1 and summary["rows_sent"] == second.counts["rows_total"]
    items = len(tight_joor.inventory())
    assert first.counts["rows_accepted"] + summary["rows_accepted"] == items
    posts = [call for call in tight_joor.calls() if call["method"] == "POST" and "bulk-inventory" in call["path"]]
    assert len(posts) == 2
    assert celery_app.send_task("tasks.inventory.push_inventory", args=[joor]).get(timeout=60)["rows_sent"] == 0


def _name() -> str:
    return f"paused-{uuid.uuid4().hex[:8]}"


def _wait_for(predicate: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
