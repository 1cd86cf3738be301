"""A partner's list that shrinks while it is read: one completed run must hold every order.

Brandboom and JOOR page their "waiting for export" lists by offset. Every "exported" (or other)
writeback takes an order off that list; sent while an import pages through it, it makes the later
pages start past orders nobody read. Here 3,000 new orders wait on the partner, a flusher sends
writebacks all the time from another thread (as the beat's flush and the killed runs' follow-ups
would), and the import's worker is SIGKILLed mid-run. After the **one** run that completes — not
after several — every order that waited on the partner when the case began is in the holding area,
exactly once; and the completed run read its list in one pass (no writeback left while it read:
``core.locks.writeback_hold``). A second case has a person change orders on the partner
while the import reads (the sandbox's ``skip`` fault): the run sees the shift, reads again, misses
nothing, and says so in its summary.

The expected orders come from the sandbox's own list before the import, never from Bobbin.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo import build_world, make_order
from core.db import session_scope
from models import InboundOrder, Site, SyncRun
from services import writeback
from services.pipeline import import_site_orders
from tests.chaos.conftest import brandboom_added, brandboom_expected, drain_outbox, wait_until
from tests.chaos.invariants import BrandboomRecord, JoorRecord, check
from tests.chaos.test_partner_faults import joor_expected

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

ORDERS = 3_000
PAGE_SIZE = 100
KILL_AFTER_STAGED = 600  # the kill lands once this many of the new orders are staged (page 7 or so)


class Flusher(threading.Thread):
    """Flushes the outbox over and over while the import runs: real sends to the sandbox."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.sent = self.held = self.rounds = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                result = writeback.flush()
                self.sent += result.sent
                self.held += 1 if result.held else 0
                self.rounds += 1
                self.stop.wait(0.02)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def finish(self) -> None:
        self.stop.set()
        self.join(120)
        assert self.error is None, f"the flusher failed: {self.error!r}"


def _held(site_id: int) -> Counter[str]:
    with session_scope() as s:
        return Counter(s.scalars(select(InboundOrder.partner_order_id).where(InboundOrder.site_id == site_id)))


def _staged_of(site_id: int, ids: set[str]) -> int:
    with session_scope() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(InboundOrder)
                .where(InboundOrder.site_id == site_id, InboundOrder.partner_order_id.in_(ids))
            )
            or 0
        )


def _kill_mid_read_then_finish(site_id: int, new_ids: set[str], worker: Any, chaos_app: Any) -> dict[str, Any]:
    """Send the import, SIGKILL its pool process once KILL_AFTER_STAGED new orders are staged, and
    return the summary of the redelivered run that completes."""
    result = chaos_app.send_task("tasks.orders.import_orders", args=[site_id])
    wait_until(
        lambda: _staged_of(site_id, new_ids) >= KILL_AFTER_STAGED,
        timeout=180,
        interval=0.01,
        what=f"{KILL_AFTER_STAGED} orders staged",
    )
    meta = result.backend.get_task_meta(result.id)
    assert meta["status"] == "STARTED", f"the import ended before the kill: {meta}"
    staged_at_kill = _staged_of(site_id, new_ids)
    assert staged_at_kill < len(new_ids), "the kill came after the read ended"
    worker.kill_child(meta["result"]["pid"])
    summary: dict[str, Any] = result.get(timeout=600)
    assert "skipped" not in summary, summary
    return summary


def _assert_one_run_held_every_order(site_id: int, waiting: set[str], summary: dict[str, Any]) -> None:
    held = _held(site_id)
    missing = sorted(waiting - set(held))
    assert not missing, f"{len(missing)} waiting orders not held after one completed run: {missing[:20]}"
    doubled = {pid: n for pid, n in held.items() if n > 1}
    assert not doubled, doubled
    # the completed run read its list once, whole: nothing of this site was sent while it read
    assert (summary["read_complete"], summary["read_passes"], summary["pages_shifted"]) == (True, 1, 0), summary


def _one_run_under_flushes_and_a_kill(
    site_id: int, new_ids: set[str], waiting: set[str], name: str, workers: Any, chaos_app: Any
) -> Flusher:
    """The case itself: a worker, a flusher sending all the time, the import SIGKILLed mid-read;
    then what the one run that completes left. Returns the flusher, for the figures' note."""
    worker = workers(name)
    flusher = Flusher()
    flusher.start()
    try:
        # When the import's pool process is SIGKILLed mid-read, and the redelivered run completes
        summary = _kill_mid_read_then_finish(site_id, new_ids, worker, chaos_app)
        # Then that one run left every waiting order held exactly once
        _assert_one_run_held_every_order(site_id, waiting, summary)
    finally:
        flusher.finish()
    # and the flusher really ran beside it: it sent the killed run's writebacks and was held off
    # while the redelivered run read
    assert flusher.sent > 0 and flusher.held > 0, (flusher.sent, flusher.held, flusher.rounds)
    return flusher


def _note(flusher: Flusher) -> str:
    return f"flusher sent {flusher.sent} during the case, held off in {flusher.held} flushes while the list was read"


def test_brandboom_3000_orders_one_run_holds_all_despite_flushes_and_a_kill(
    demo_site: int, brandboom: Any, workers: Any, chaos_app: Any
) -> None:
    # Given 3,000 more valid orders waiting in "export", each page a little slow so the read
    # lasts, and a flusher sending writebacks all the time
    world = build_world()
    new_ids = set(brandboom.add_orders([make_order(world, id=500_000 + i) for i in range(ORDERS)]))
    with session_scope() as s:
        site = s.get(Site, demo_site)
        assert site is not None
        site.settings = {**site.settings, "page_size": PAGE_SIZE}
    waiting = {str(o["id"]) for o in brandboom.orders() if o["status"] == "export"}
    assert new_ids <= waiting
    brandboom.inject_fault(delay=0.03, path="orders/search", rate=1.0)
    flusher = _one_run_under_flushes_and_a_kill(demo_site, new_ids, waiting, "shrink-bb", workers, chaos_app)

    # And once the outbox is drained, the whole promise holds
    drain_outbox()
    check(
        demo_site,
        BrandboomRecord(brandboom),
        brandboom_expected(brandboom_added(brandboom)),
        scenario="Brandboom: 3,000 orders, flushes running, SIGKILL mid-read: one run holds all",
        runs=1,
        note=_note(flusher),
    )


def test_joor_3000_orders_one_run_holds_all_despite_flushes_and_a_kill(
    joor_site: int, joor: Any, workers: Any, chaos_app: Any
) -> None:
    # Given 3,000 more approved orders not yet exported, the site granted credits enough for
    # their marks, and a flusher sending writebacks all the time
    from bobbin.demo_joor import make_joor_order

    world = build_world()
    new_ids = {str(i) for i in joor.add_orders([make_joor_order(world, id=4_900_000 + i) for i in range(ORDERS)])}
    with session_scope() as s:
        site = s.get(Site, joor_site)
        assert site is not None
        site.settings = {**site.settings, "page_size": PAGE_SIZE, "credits": 100_000}
    before = joor.orders()
    waiting = JoorRecord(joor, before).waiting()
    assert new_ids <= waiting
    flusher = _one_run_under_flushes_and_a_kill(joor_site, new_ids, waiting, "shrink-joor", workers, chaos_app)

    drain_outbox()
    check(
        joor_site,
        JoorRecord(joor, before),
        joor_expected(before, joor),
        scenario="JOOR: 3,000 orders, flushes running, SIGKILL mid-read: one run holds all",
        runs=1,
        note=_note(flusher),
    )


@pytest.mark.parametrize("partner", ["brandboom", "joor"])
def test_a_person_changing_orders_mid_read_is_seen_and_read_again(partner: str, request: Any) -> None:
    # Given 200 more orders waiting, and before the 3rd page 7 orders already read leave the front
    # of the list (edited on the partner: its `skip` fault moves them to the end)
    from bobbin.demo_joor import make_joor_order

    world = build_world()
    if partner == "brandboom":
        sandbox, site_id = request.getfixturevalue("brandboom"), request.getfixturevalue("demo_site")
        sandbox.add_orders([make_order(world, id=600_000 + i) for i in range(200)])
        waiting = {str(o["id"]) for o in sandbox.orders() if o["status"] == "export"}
    else:
        sandbox, site_id = request.getfixturevalue("joor"), request.getfixturevalue("joor_site")
        sandbox.add_orders([make_joor_order(world, id=4_950_000 + i) for i in range(200)])
        waiting = JoorRecord(sandbox, sandbox.orders()).waiting()
    sandbox.faults.inject("skip:n=7@3rd")
    # When one import runs
    summary = import_site_orders(site_id)
    # Then it saw the shift, read the list again, and holds every waiting order once
    assert sandbox.faults.stats() == {"skip": 1}
    assert summary["pages_shifted"] >= 1 and summary["read_passes"] == 2 and summary["read_complete"], summary
    assert "nothing missed" in summary["read_note"]
    held = _held(site_id)
    assert waiting <= set(held) and max(held.values()) == 1
    with session_scope() as s:
        (outcome,) = s.scalars(select(SyncRun.outcome).where(SyncRun.site_id == site_id))
    assert outcome == "ok"
