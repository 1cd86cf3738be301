"""Case 2b: Redis restarted empty; Postgres killed with SIGKILL (crash recovery).

With work on its own queues, Redis holds every message between beat, the web app and the workers:
the two faults here are the ones a queue-based design must survive beyond a clean restart
(``test_restarts.py``). Both run on the suite's own Postgres and Redis (``own_servers``).

- **Redis restarted empty** (as a Redis that keeps nothing on disk, restarted): while two sites
  import on a real beat (every minute, the outbox flushed every 5 s, the reconciler every minute)
  and a worker is busy, with an import, outbox flushes and a pushed event's processing queued
  behind it, Redis stops and comes back with nothing — queued and unacknowledged messages,
  results, delivery counters, console sessions gone. Beat and the reconciler must bring every
  flow back within one import interval: each site imports again, every order reaches the ERP (its
  sales order, and the drop-folder file) once, every writeback is sent once, the event is
  processed, no run stays "running". Console sessions are gone: people sign in again.
- **Postgres SIGKILLed** — the postmaster killed, no shutdown checkpoint, every session cut — and
  started again (a crash recovery: the WAL replayed), once in the middle of an import's page and
  once while a writeback is in flight (committed as in flight, applied by the partner, its
  outcome not yet committed). The import is retried and finishes with every order once; the
  in-flight writeback is read back from the partner and not sent again.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bobbin.demo import build_world, make_order
from core.db import session_scope
from models import ErpHandoff, InboundEvent, OutboxEntry, SalesOrder, Site, SyncRun, WritebackAttempt
from services import writeback
from services.pipeline import import_site_orders
from services.reconcile import EVENT_GRACE
from tests.chaos import figures
from tests.chaos.conftest import (
    Beat,
    ChaosWorker,
    OwnServers,
    brandboom_added,
    brandboom_expected,
    drain_outbox,
    wait_until,
)
from tests.chaos.invariants import BrandboomRecord, JoorRecord, check
from tests.chaos.test_partner_faults import joor_expected
from tests.chaos.test_restarts import _finish_and_check, _slow_import, _staged, _state, _task_runs

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

INTERVAL = 60  # the sites' import interval here (import_minutes=1), and the reconciler's
# What "within one interval" allows on top: the worker reconnecting, finishing what it runs, and the
# run itself, on a loaded 2-core machine
SLACK = 30
START_TIMEOUT = 120  # only catches a worker or beat that never starts


# --- Redis restarted empty -------------------------------------------------------------------------


def _broker_messages(url: str) -> int:
    """Messages Redis holds: waiting on any queue (a list), or delivered and not yet acknowledged."""
    import redis

    client = redis.Redis.from_url(url)
    waiting = sum(int(client.llen(k)) for k in client.scan_iter() if client.type(k) == b"list")
    return waiting + int(client.hlen("unacked"))


def _imports_since(site_id: int, since: datetime) -> list[tuple[datetime, str]]:
    with session_scope() as s:
        return [
            (r.started_at, r.outcome)
            for r in s.execute(
                select(SyncRun.started_at, SyncRun.outcome)
                .where(SyncRun.site_id == site_id, SyncRun.task == "import_orders", SyncRun.started_at > since)
                .order_by(SyncRun.id)
            )
        ]


def _running_import(site_id: int) -> int | None:
    with session_scope() as s:
        return s.scalar(
            select(SyncRun.id).where(
                SyncRun.site_id == site_id, SyncRun.task == "import_orders", SyncRun.outcome == "running"
            )
        )


def _restored(site_ids: list[int], event_id: int, since: datetime) -> dict[str, Any] | None:
    """What the flows look like since ``since``, once all are back: each site imported ok, the
    outbox empty, every sales order handed to the ERP, the event processed, no run left running."""
    with session_scope() as s:
        unsent = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state != "sent"))
        not_handed = s.scalar(
            select(func.count())
            .select_from(SalesOrder)
            .outerjoin(ErpHandoff, ErpHandoff.sales_order_id == SalesOrder.id)
            .where(ErpHandoff.id.is_(None))
        )
        event = s.get(InboundEvent, event_id)
        running = s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.outcome == "running"))
    imports = {site: _imports_since(site, since) for site in site_ids}
    if unsent or not_handed or running or event is None or event.state == "received":
        return None
    assert event.state == "ignored", (event.state, event.note)  # no Bobbin handler for the topic yet
    if not all(any(outcome == "ok" for _, outcome in runs) for runs in imports.values()):
        return None
    assert event.processed_at is not None
    return {"imports": imports, "event_processed_at": event.processed_at}


def test_redis_restarted_empty_beat_and_the_reconciler_restore_every_flow(
    own_servers: OwnServers,
    on_own_servers: Any,
    own_site: int,
    brandboom: Any,
    joor: Any,
    bobbin_home: Path,
    tmp_path: Path,
) -> None:
    from bobbin.demo_sites import JOOR_DEMO_SITE, load_joor_demo
    from connectors.registry import registered
    from services.sites import create_site
    from tests import toy_events as toy

    app = on_own_servers
    world = build_world()
    # Given the Brandboom and JOOR demo sites importing every minute on beat (the outbox flushed
    # every 5 s, the reconciler every minute), and a site whose partner pushes events
    load_joor_demo(joor.url)
    with session_scope() as s:
        for site in s.scalars(select(Site)):
            site.settings = {**site.settings, "page_size": 20, "import_minutes": 1}
        joor_site = int(s.scalar(select(Site.id).where(Site.name == JOOR_DEMO_SITE)))
    env = own_servers.env(bobbin_home, RECONCILE_MINUTES="1", BOBBIN_PARTNERS=f"{toy.KIND}=tests.toy_events")
    with registered(toy.SPEC):
        with session_scope() as s:
            hooks = create_site(
                s,
                name="toy-hooks",
                kind=toy.KIND,
                base_url="https://partner.example/api",
                credentials={toy.SECRET_FIELD: "whsec-chaos"},
                division=None,
                notify_emails=["ops@brand.example"],
            )
            hooks.active = False  # it only pushes events: no import on the schedule
        # And one worker process, busy with one task at a time, and a beat
        worker = ChaosWorker(env, f"empty-redis-{random.randrange(10**6)}", app, tmp_path, concurrency=1).launch()
        beat = Beat(env, tmp_path, "beat-empty-redis")
        try:
            _redis_emptied(own_servers, app, worker, beat, own_site, joor_site, brandboom, joor, world)
        finally:
            beat.kill()
            worker.stop()


def _redis_emptied(
    servers: OwnServers,
    app: Any,
    worker: ChaosWorker,
    beat: Beat,
    bb_site: int,
    joor_site: int,
    brandboom: Any,
    joor: Any,
    world: Any,
) -> None:
    from bobbin.demo_joor import make_joor_order
    from services import events
    from tests import toy_events as toy
    from tests.console_app import add_user
    from web.console import sessions

    joor_before = joor.orders()
    worker.ready(START_TIMEOUT)
    wait_until(lambda: "beat_lock_acquired" in beat.events(), timeout=START_TIMEOUT, what="the beat to start")
    # And a person signed in to the console
    _, cookie = sessions.create(add_user("olivia", "operator"))
    assert sessions.load(cookie) is not None

    # And the worker busy with a long import of Brandboom (200 new orders, pages held 0.6 s) ...
    bb_new = set(brandboom.add_orders([make_order(world, id=570_000 + i) for i in range(200)]))
    brandboom.inject_fault(delay=0.6, path="orders/search", rate=1.0)
    app.send_task("tasks.orders.import_orders", args=[bb_site])
    wait_until(lambda: _staged(bb_new) > 0, timeout=120, interval=0.05, what="the long import to stage a page")
    # ... while orders flow on JOOR: its demo orders imported (their "exported" writebacks waiting
    # for beat's flush, queued behind the long import), then new orders, whose import waits behind
    # it too, and an event the partner pushes, whose processing waits as well
    import_site_orders(joor_site)
    joor.add_orders([make_joor_order(world, id=4_870_000 + i) for i in range(20)])
    app.send_task("tasks.orders.import_orders", args=[joor_site])
    body = b'{"id": "evt-empty-redis", "topic": "return.created"}'
    signed_at = str(int(time.time()))
    received = events.receive(
        "toy-hooks",
        body,
        {toy.TIMESTAMP_HEADER: signed_at, toy.SIGNATURE_HEADER: toy.sign("whsec-chaos", body, signed_at)},
        enqueue=lambda row_id: app.send_task(events.TASK, args=[row_id]),
    )
    assert received.result == "received" and received.row_id is not None
    lost = _broker_messages(app.conf.broker_url)
    assert lost >= 3, f"only {lost} messages in Redis: the import, the event and the flushes should wait there"
    with session_scope() as s:
        pending = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending"))
    assert pending, "no writeback was pending when Redis was emptied"
    under_way = _running_import(bb_site)
    assert under_way is not None, "the long import ended before Redis was emptied"
    assert _staged(bb_new) < len(bb_new), "the long import staged every order before Redis was emptied"

    # When Redis stops and comes back empty (nothing kept on disk)
    servers.restart_redis(empty=True)
    back = datetime.now(UTC)
    back_clock = time.monotonic()
    brandboom.faults.clear()  # (the pages no longer slow)
    # (The event's message is gone; the reconciler takes up an event left unprocessed 2 minutes:
    # that time passes here at once, as the test's intervals are minutes, not the production's.)
    with session_scope() as s:
        s.execute(
            update(InboundEvent)
            .where(InboundEvent.id == received.row_id)
            .values(received_at=InboundEvent.received_at - EVENT_GRACE)
        )

    # Then within one interval every flow is back: each site imported again (by beat), every
    # writeback sent (by beat's flush), every sales order handed to the ERP, the event processed
    # (by the reconciler), and no run left "running" (the long import, whose message went with
    # Redis, finished on the worker)
    restored = wait_until(
        lambda: _restored([bb_site, joor_site], received.row_id, back),
        timeout=2 * INTERVAL + SLACK,
        interval=0.5,
        what="every flow to be back after Redis came back empty",
    )
    took = time.monotonic() - back_clock
    first_import = {site: (runs[0][0] - back).total_seconds() for site, runs in restored["imports"].items() if runs}
    event_after = (restored["event_processed_at"] - back).total_seconds()
    for site, seconds in first_import.items():
        assert seconds <= INTERVAL + SLACK, f"site {site} imported again {seconds:.0f} s after Redis came back"
    assert event_after <= INTERVAL + SLACK, f"the event was processed {event_after:.0f} s after Redis came back"
    assert worker.alive, f"the worker exited; see {worker.log}"
    # And the import under way, whose message went with Redis, finished on the worker all the same
    with session_scope() as s:
        assert s.scalar(select(SyncRun.outcome).where(SyncRun.id == under_way)) == "ok"
    # And console sessions went with Redis: people sign in again
    assert sessions.load(cookie) is None

    # And nothing was lost or doubled: every order held and imported once, every change sent once
    # (no drain here: beat's flushes sent them)
    note = (
        f"{lost} messages lost; imports again after {', '.join(f'{s:.0f}' for s in sorted(first_import.values()))} s, "
        f"event processed after {event_after:.0f} s, all flows back after {took:.0f} s (interval {INTERVAL} s)"
    )
    check(
        bb_site,
        BrandboomRecord(brandboom),
        brandboom_expected(brandboom_added(brandboom)),
        scenario="Redis restarted empty (Brandboom site)",
        runs=1,
        note=note,
    )
    check(
        joor_site,
        JoorRecord(joor, joor_before),
        joor_expected(joor_before, joor),
        scenario="Redis restarted empty (JOOR site)",
        runs=1,
        note=note,
    )
    figures.add_recovery("Redis restarted empty: every flow back", took)


# --- Postgres SIGKILLed ----------------------------------------------------------------------------


def _kill_postgres_when(brandboom: Any, servers: OwnServers, hit: Any, *, delay: float = 0.0) -> threading.Event:
    """Kill Postgres (SIGKILL) once Brandboom has handled the first request ``hit(request)`` picks:
    ``delay`` seconds after its answer is made, or (0) before the answer leaves. Returns the event
    set once the server is dead."""
    original = brandboom.handle
    done = threading.Event()

    def kill() -> None:
        servers.kill_postgres()
        done.set()

    def handle(request: Any) -> Any:
        response = original(request)
        if not done.is_set() and hit(request):
            brandboom.handle = original
            if delay:
                threading.Timer(delay, kill).start()
            else:
                kill()
        return response

    brandboom.handle = handle
    return done


def _no_run_left_running() -> bool:
    with session_scope() as s:
        return not s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.outcome == "running"))


def test_postgres_sigkilled_mid_page_the_import_resumes_exactly_once(
    own_servers: OwnServers, on_own_servers: Any, own_worker: Any, own_site: int, brandboom: Any
) -> None:
    app = on_own_servers
    # Given an import of 200 new orders under way, and Postgres SIGKILLed while the import takes in
    # its 4th page: a moment drawn at random (seeded) in the 50 ms after Brandboom answered it
    delay = random.Random(20261203).uniform(0.0, 0.05)
    pages = iter(range(1, 100))
    killed = _kill_postgres_when(
        brandboom,
        own_servers,
        lambda request: "orders/search" in request.path and next(pages) == 4,
        delay=delay,
    )
    ids = _slow_import(brandboom, 580_000)
    result = app.send_task("tasks.orders.import_orders", args=[own_site])
    wait_until(killed.is_set, timeout=120, interval=0.05, what="Postgres to be killed mid-import")
    killed_at = time.monotonic()

    # When it starts again: a crash recovery
    own_servers.start_postgres()
    assert own_servers.recovered(), f"Postgres did not recover from a crash; see {own_servers.pg.datadir}/server.log"
    staged_then = _staged(ids)

    # Then the import is retried and finishes (a run of its task id ends ok), no run is left running
    wait_until(lambda: "ok" in _task_runs(result.id), timeout=120, interval=0.2, what="the import to finish")
    took = time.monotonic() - killed_at
    wait_until(_no_run_left_running, timeout=60, interval=0.2, what="no run left running")
    runs = _task_runs(result.id)
    # And every order is held once and imported once, every change sent once
    _finish_and_check(
        app,
        own_site,
        brandboom,
        "Postgres SIGKILLed mid-page of an import (crash recovery)",
        f"{staged_then} of 200 staged when killed; runs of the task {runs}; finished {took:.1f} s after the kill",
    )
    figures.add_recovery("Postgres SIGKILLed mid-import: the retried import done", took)


def test_postgres_sigkilled_with_a_writeback_in_flight_it_is_read_back_not_sent_again(
    own_servers: OwnServers, on_own_servers: Any, own_worker: Any, own_site: int, brandboom: Any
) -> None:
    app = on_own_servers
    # Given the demo imported, its "exported" writebacks waiting, and Postgres SIGKILLed once
    # Brandboom has applied the first change a flush sends, before the answer leaves: that row (and
    # those the flush's other lanes are sending) was committed as in flight, its outcome is not
    import_site_orders(own_site)
    killed = _kill_postgres_when(brandboom, own_servers, lambda request: request.method == "POST")
    result = app.send_task("tasks.status.flush_outbox", kwargs={"site_id": own_site})
    wait_until(killed.is_set, timeout=120, interval=0.05, what="Postgres to be killed mid-flush")
    killed_at = time.monotonic()

    # When it starts again (a crash recovery), and the flush runs again as beat sends it
    own_servers.start_postgres()
    assert own_servers.recovered(), f"Postgres did not recover from a crash; see {own_servers.pg.datadir}/server.log"
    with session_scope() as s:
        in_flight = s.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.sending_since.is_not(None))
        )
    assert in_flight, "no writeback was in flight when Postgres was killed"
    # (the cut flush is retried, as a task that lost its database is: it does not fail)
    wait_until(lambda: _state(result) in ("RETRY", "FAILURE", "SUCCESS"), timeout=60, what="the cut flush to end")
    assert _state(result) != "FAILURE", f"the flush cut by the kill failed: {result.info!r}"
    app.send_task("tasks.status.flush_outbox", kwargs={"site_id": own_site}).get(timeout=120)
    took = time.monotonic() - killed_at
    drain_outbox()

    # Then the changes in flight were read back from Brandboom, found applied, and not sent again
    # (one a lane had not sent yet when the server died is found not applied, and sent once)
    with session_scope() as s:
        read_back = s.scalar(
            select(func.count()).select_from(WritebackAttempt).where(WritebackAttempt.note == writeback.ALREADY_APPLIED)
        )
    assert read_back >= 1
    assert _no_run_left_running()
    # And each imported order was marked exported on Brandboom exactly once
    check(
        own_site,
        BrandboomRecord(brandboom),
        brandboom_expected(),
        scenario="Postgres SIGKILLed with a writeback in flight (crash recovery): sent once",
        runs=1,
        note=f"{in_flight} row(s) in flight at the kill, {read_back} read back as applied; "
        f"flushed {took:.1f} s after the kill; the cut flush ended {_state(result)}",
    )
    figures.add_recovery("Postgres SIGKILLed mid-flush: the outbox flushed", took)
