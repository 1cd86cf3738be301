"""Case 1: the worker SIGKILLed in the middle of an import, 20 times at random points.

Given the demo brand's Brandboom site and a worker, each round adds 10 new orders on Brandboom
and sends ``tasks.orders.import_orders``; once the task has started, the worker is SIGKILLed at a
point of the import drawn at random (seeded) and watched for, not timed: when the nth request of
the import reaches Brandboom (each listing page is held there 0.1 s), when the round's orders are
staged, or when they are imported. Most rounds the kill takes its pool process (as the OOM killer
does: the main process puts the message back at once), two rounds the whole worker (as a crashed
host: a new worker gets the message after the 10 s visibility timeout). The same task id is
redelivered and finishes. Then every order is held once, imported once, marked exported once,
nothing half-written.

The time from the kill to the redelivered import's end is the recovery time (RELIABILITY.md).
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo import build_world, make_order
from core.db import session_scope
from models import InboundOrder, SalesOrder, Site
from tests.chaos import figures
from tests.chaos.conftest import brandboom_added, brandboom_expected, drain_outbox, wait_until
from tests.chaos.invariants import BrandboomRecord, check

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

KILLS = 20
WHOLE_WORKER_KILLS = {10, 20}  # these kills take the whole worker down; the others its pool process
ORDERS_PER_ROUND = 10
PAGE_SIZE = 10
PAGE_DELAY = 0.1  # each orders/search page is this slow, so a kill can land between pages
SEED = 20261123


def _progress(ids: set[str]) -> tuple[int, int]:
    """How many of ``ids`` are staged, and how many imported as ERP sales orders."""
    with session_scope() as s:
        staged = s.scalar(select(func.count()).select_from(InboundOrder).where(InboundOrder.partner_order_id.in_(ids)))
        done = s.scalar(
            select(func.count())
            .select_from(SalesOrder)
            .join(InboundOrder, InboundOrder.id == SalesOrder.inbound_order_id)
            .where(InboundOrder.partner_order_id.in_(ids))
        )
    return int(staged or 0), int(done or 0)


def _landed(ids: set[str]) -> str:
    """Where an import was when the kill landed, from what it had written."""
    staged, done = _progress(ids)
    if not staged:
        return "fetching (the round's orders not staged yet)"
    if staged < len(ids):
        return "fetching (part of the round's orders staged)"
    return "validating / importing" if done < len(ids) else "after importing (enqueuing writebacks / mail)"


def test_worker_sigkilled_mid_import_20_times_loses_and_doubles_nothing(
    demo_site: int, brandboom: Any, workers: Any, chaos_app: Any
) -> None:
    world = build_world()
    rng = random.Random(SEED)
    ids = itertools.count(500_000)
    with session_scope() as s:
        site = s.get(Site, demo_site)
        assert site is not None
        site.settings = {**site.settings, "page_size": PAGE_SIZE}
    brandboom.inject_fault(delay=PAGE_DELAY, path="orders/search", rate=1.0)
    # One pool process: a kill while the import runs can only land in the import (writebacks killed
    # mid-flight are test_partner_faults.py's answer-lost case)
    worker = workers("kills-0")

    def round_of_orders() -> set[str]:
        batch = [make_order(world, id=next(ids)) for _ in range(ORDERS_PER_ROUND)]
        return set(brandboom.add_orders(batch))

    def started(result: Any) -> None:
        wait_until(
            lambda: result.state in ("STARTED", "SUCCESS"), timeout=120, interval=0.02, what="the import to start"
        )

    # Given two uninterrupted rounds (the first also imports the demo's orders), to know how many
    # requests to Brandboom an import of one round makes once it is seen started
    for _ in range(2):
        round_of_orders()
        first = chaos_app.send_task("tasks.orders.import_orders", args=[demo_site])
        started(first)
        before = brandboom.faults.requests
        warm = first.get(timeout=120)
        assert warm["imported"] >= ORDERS_PER_ROUND, warm
        requests_per_round = brandboom.faults.requests - before
    assert requests_per_round >= 1, "an import made no request to Brandboom"

    def kill_point(fresh: set[str], requests_before: int) -> tuple[str, Callable[[], bool]]:
        """A point of the import, drawn at random, and how to see it has been reached."""
        point = rng.choice(("request", "staged", "imported"))
        if point == "request":
            n = rng.randint(1, requests_per_round)
            return f"request {n} to Brandboom", lambda: brandboom.faults.requests - requests_before >= n
        if point == "staged":
            return "the round staged", lambda: _progress(fresh)[0] == len(fresh)
        return "the round imported", lambda: _progress(fresh)[1] == len(fresh)

    kills: list[tuple[str, str]] = []
    rounds = 0
    while len(kills) < KILLS:
        rounds += 1
        assert rounds <= 2 * KILLS, f"only {len(kills)} of {rounds} kills landed mid-import"
        # When an import starts and reaches a point drawn at random, and the worker is SIGKILLed then
        fresh = round_of_orders()
        result = chaos_app.send_task("tasks.orders.import_orders", args=[demo_site])
        started(result)
        what, reached = kill_point(fresh, brandboom.faults.requests)
        # (an import that ends before the point — a round that needed fewer requests — ends the wait too)
        wait_until(
            lambda reached=reached, result=result: (
                reached() or result.backend.get_task_meta(result.id)["status"] != "STARTED"
            ),
            timeout=120,
            interval=0.01,
            what=f"the import to reach {what}",
        )
        # One read of the task's state: `.state` and `.info` each ask the backend, and the import may
        # finish between two reads (then `.info` is its summary, not the STARTED meta with the pid)
        meta = result.backend.get_task_meta(result.id)
        if meta["status"] != "STARTED":
            continue  # finished before the kill: not a kill mid-import, draw again
        whole = len(kills) + 1 in WHOLE_WORKER_KILLS
        if whole:
            worker.kill()
        else:
            worker.kill_child(meta["result"]["pid"])  # the pool process running this import
        killed_at = time.monotonic()
        kills.append(("whole worker" if whole else "pool process", _landed(fresh)))
        if whole:
            worker = workers(f"kills-{len(kills)}")  # the platform starts a new worker
        # Then the same task is redelivered and finishes
        summary = result.get(timeout=120)
        assert "skipped" not in summary and "dead_letter" not in summary, summary
        figures.add_recovery(
            "whole worker SIGKILLed → new worker → redelivered import done"
            if whole
            else "pool process SIGKILLed → requeued at once → import done",
            time.monotonic() - killed_at,
        )

    # When the last writebacks are sent and a last scheduled import finds nothing new
    last = chaos_app.send_task("tasks.orders.import_orders", args=[demo_site]).get(timeout=120)
    assert last["new"] == 0, last
    drain_outbox()

    # Then the promise holds, order by order
    where = Counter(phase for _, phase in kills)
    modes = Counter(mode for mode, _ in kills)
    check(
        demo_site,
        BrandboomRecord(brandboom),
        brandboom_expected(brandboom_added(brandboom)),
        scenario="SIGKILL the worker mid-import (redelivered, finishes)",
        runs=len(kills),
        note=f"{modes['pool process']} pool-process + {modes['whole worker']} whole-worker kills; landed: "
        + ", ".join(f"{n} {phase}" for phase, n in where.most_common()),
    )
    print(
        f"\nkills landed: {dict(where)}; an import makes ~{requests_per_round} requests; rounds {rounds}; "
        f"recovery median {statistics.median(figures.RECOVERY[next(iter(figures.RECOVERY))]):.1f} s"
    )
