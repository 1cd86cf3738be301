"""Loop returns under chaos (issue 16): the same promise as the orders', counted return by return
from the Loop sandbox's own record (``invariants.check_returns``): every return held once, one RMA
with Loop's line items for each, Loop asked to process each received return once, each note on its
timeline once, one credit memo and one AR debit for each refund, nothing half-written.

- **A worker SIGKILLed between Loop's answer to ``process`` and the outbox commit** (its pool
  process, or the whole worker): Loop processed the return, Bobbin never recorded it. The flush is
  redelivered; the attempt was committed as in flight before the call, so the row is uncertain and
  read back (the return's state: closed) instead of sent again. Then the next poll posts each
  credit memo and AR debit once.
- **Loop answering 429 and 5xx** (the sandbox's ``inject_fault``, at a rate and by script) on the
  poll's list, on the details read of a webhook's processing, and on the process call (and the
  notes): a call that exhausts its retries raises ``RetryableError`` and the run, the event or the
  outbox row is tried again; a 429 asking for longer than a worker sleeps raises ``RateLimited``
  and pauses the task (shown on real workers at the end). Nothing lost, nothing doubled.
- **Webhooks duplicated, out of order and dropped across 50 returns**, through the real web app and
  a real worker with two pool processes (two events of one return may be applied at once): every
  return held once, no RMA, credit memo or AR debit doubled; the poll catches what never came.

In-process cases use the Loop client's real retry loop and pacer with short waits (``fast_loop``:
millisecond backoff, a 1 s read timeout) instead of seconds.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo import build_world
from bobbin.demo_sites import LOOP_DEMO_SITE, load_loop_demo
from connectors.errors import RetryableError
from core.db import session_scope
from models import InboundEvent, InboundReturn, OutboxEntry, Rma, Site, SyncRun, WritebackAttempt
from sandbox.loop.demo import catalog_from_world, loop_api_key, loop_webhook_secret
from sandbox.loop.server import LoopSandbox
from services import events, writeback
from services import rma as flow
from services.returns import import_site_returns
from tests.chaos import figures
from tests.chaos.conftest import READ_TIMEOUT, drain_outbox, wait_until
from tests.chaos.invariants import check_returns, measure_returns
from tests.console_app import Served

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

SEED = 16
SIGNATURE = "X-Loop-Signature"
DETAILS, LISTING, PROCESS = "warehouse/return/details", "warehouse/return/list", "/process"


# --- parts ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> list[dict[str, Any]]:
    return catalog_from_world(build_world())


@pytest.fixture()
def loop(bobbin_home: Any) -> Iterator[LoopSandbox]:
    """An empty Loop shop; its own rate limit out of the way (the cases inject their 429s), its
    webhooks retried quickly."""
    sb = LoopSandbox(api_key=loop_api_key(), rate_limit=1_000_000, backoff_base=0.05, backoff_cap=0.2).start()
    yield sb
    sb.stop()


@pytest.fixture()
def loop_site(db: str, loop: LoopSandbox) -> int:
    load_loop_demo(loop.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == LOOP_DEMO_SITE)))


@pytest.fixture()
def fast_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Loop client in this process with millisecond backoff and a 1 s read timeout: the real
    retry loop, pacer and error table otherwise (a 429's Retry-After is still waited for)."""
    import connectors.http as http
    import connectors.loop.client as loop_client

    real = http.send

    def send(session: Any, method: str, url: str, *, policy: Any, **kwargs: Any) -> Any:
        policy = replace(policy, read_timeout=READ_TIMEOUT, connect_timeout=1.0, backoff_base=0.005, backoff_cap=0.02)
        return real(session, method, url, policy=policy, **kwargs)

    monkeypatch.setattr(loop_client, "send", send)


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


def make_returns(loop: LoopSandbox, catalog: list[dict[str, Any]], n: int, **kw: Any) -> list[int]:
    """``n`` refund returns of one to three demo SKUs each, as shoppers start them."""
    rng = random.Random(n)
    return [loop.create_return(lines=rng.sample(catalog[:40], rng.randint(1, 3)), **kw)["id"] for _ in range(n)]


def rma_numbers(site_id: int) -> dict[int, str]:
    """Loop id -> the number of its RMA, for the RMAs still open."""
    with session_scope() as s:
        rows = s.execute(
            select(InboundReturn.loop_return_id, Rma.number)
            .join(Rma, Rma.inbound_return_id == InboundReturn.id)
            .where(InboundReturn.site_id == site_id, Rma.status == "open")
        ).all()
    return {int(loop_id): number for loop_id, number in rows}


def receive_all(site_id: int) -> set[int]:
    """The warehouse receives every open RMA in full: Loop is to process each (the outbox)."""
    received = set()
    for loop_id, number in rma_numbers(site_id).items():
        with session_scope() as s:
            assert flow.receive(s, number, None, source="cli", reference="chaos dock").process_queued
        received.add(loop_id)
    return received


def process_requests(loop: LoopSandbox) -> Counter[int]:
    return Counter(int(a["return_id"]) for a in loop.actions() if a["action"] == "process")


def read_back_as_applied() -> int:
    with session_scope() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(WritebackAttempt)
                .where(WritebackAttempt.note == writeback.ALREADY_APPLIED)
            )
            or 0
        )


# --- (a) SIGKILL between Loop's answer to process and the outbox commit -------------------------------

KILL_RETURNS = 10
# The kills land when Loop has answered these process requests (counted over the redeliveries):
# three pool-process kills in one flush's life, or one kill of the whole worker.
KILL_AT = {False: (2, 5, 8), True: (3,)}


@pytest.mark.parametrize("whole", [False, True], ids=["pool-process", "whole-worker"])
def test_worker_killed_between_loops_process_answer_and_the_outbox_commit_processes_once(
    whole: bool, loop: LoopSandbox, loop_site: int, catalog: list[dict[str, Any]], workers: Any, chaos_app: Any
) -> None:
    # Given returns made into RMAs, their notes sent, and their goods received: a process waits for each
    loops = make_returns(loop, catalog, KILL_RETURNS)
    assert import_site_returns(loop_site)["rmas_created"] == KILL_RETURNS
    drain_outbox()
    received = receive_all(loop_site)
    assert received == set(loops)

    # and a worker that is SIGKILLed once Loop has answered the 2nd, 5th and 8th process request,
    # before the answer gets back to it: its pool process (the OOM killer: the main process puts the
    # flush back at once, and the next pool process runs it), or all of it once (a crashed host)
    points = KILL_AT[whole]
    worker = workers("returns-kill")
    original = loop.handle
    seen: list[int] = []
    killed_at: list[float] = []

    def handle(request: Any) -> Any:
        response = original(request)
        if request.method == "POST" and request.path.endswith(PROCESS):
            seen.append(1)
            if len(seen) in points:
                if whole:
                    worker.kill()
                else:
                    [child] = worker.children()
                    os.kill(child, signal.SIGKILL)
                    wait_until(lambda: child not in worker.children(), timeout=5, interval=0.01, what="the kill")
                killed_at.append(time.monotonic())
        return response

    loop.handle = handle
    try:
        # When the flush task runs, dies with Loop's answer on the way, and is delivered again
        result = chaos_app.send_task("tasks.status.flush_outbox", kwargs={"site_id": loop_site})
        wait_until(lambda: killed_at, timeout=60, what="the kill")
        if whole:
            workers("returns-kill-again")  # the platform starts a new worker; the message comes back to it
        done = result.get(timeout=120)
        figures.add_recovery(
            "Loop process: whole worker SIGKILLed → new worker → redelivered flush done"
            if whole
            else "Loop process: pool process SIGKILLed (the last of 3) → requeued at once → flush done",
            time.monotonic() - killed_at[-1],
        )
    finally:
        loop.handle = original
    drain_outbox()

    # Then Loop was asked to process each return exactly once: the rows in flight at the kill (the
    # killed one, and those its lane had sent but not yet recorded) were read back, found closed,
    # and not sent again
    assert len(killed_at) == len(points), killed_at
    assert process_requests(loop) == Counter(loops), loop.actions()
    assert all(a["after"] == "closed" for a in loop.actions())
    assert max(points) >= read_back_as_applied() >= len(points), done
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == KILL_RETURNS

    # When the next poll reads Loop's processed returns, then each gets its credit memo and AR debit,
    # once; a second poll changes nothing
    assert import_site_returns(loop_site)["credited"] == KILL_RETURNS
    drain_outbox()
    assert import_site_returns(loop_site)["credited"] == 0
    check_returns(
        loop_site,
        loop,
        processed=received,
        scenario=f"Loop: {'whole worker' if whole else 'pool process'} SIGKILLed between Loop's OK to "
        "process and the outbox commit",
        runs=len(points),
        note=f"{len(points)} kill(s) at process request(s) {', '.join(map(str, points))}; "
        f"{read_back_as_applied()} in-flight process(es) read back as applied, none sent again",
    )


# --- (b) 429 and 5xx on the poll, the details read and the process call --------------------------------

FAULT_RETURNS = 30
RATE = 0.30
KINDS = ["500", "502", "503", "429:retry_after=0.2"]


def inject(loop: LoopSandbox, path: str, *, seed: int, method: str | None = None) -> None:
    """On the requests whose path has ``path``: each kind at a rate, so a request meets one of them
    30 % of the time; then by script, a burst that exhausts one call's retries (5 × 503) and a 429
    asking for a minute (longer than a worker sleeps)."""
    each = 1 - (1 - RATE) ** (1 / len(KINDS))
    where = f"path={path}" + (f",method={method}" if method else "")
    loop.faults.seed = seed
    for kind in KINDS:
        loop.faults.inject(f"{kind}{',' if ':' in kind else ':'}{where}@{each:.4%}")
    loop.faults.inject(f"503:{where}@x5")
    loop.faults.inject(f"429:retry_after=60,{where}@8th")


def no_doubles(site_id: int, loop: LoopSandbox, what: str) -> None:
    """Mid-way: nothing may be doubled or half-written (what is still to come is counted at the end)."""
    fig = measure_returns(site_id, loop, processed=(), scenario=what, runs=1)
    assert not (fig.rmas_duplicated or fig.credits_duplicated or fig.half_written), (what, fig.as_row(), fig.details)
    assert max(process_requests(loop).values(), default=0) <= 1, (what, loop.actions())


def test_loop_429s_and_5xx_on_the_poll_the_details_and_process_lose_and_double_nothing(
    loop: LoopSandbox, loop_site: int, catalog: list[dict[str, Any]], fast_loop: None
) -> None:
    rng = random.Random(SEED)
    tries: Counter[str] = Counter()
    # Given 30 returns whose webhooks Loop holds back (their bodies are posted to the receiver here)
    loop.configure_webhooks("http://127.0.0.1:9/events-here", loop_webhook_secret())
    loop.webhook_mode = "hold"  # (and those of the changes process makes: the poll reads them)
    loops = make_returns(loop, catalog, FAULT_RETURNS)
    bodies = [(e.body, e.signature) for e in loop.webhook_events()]
    rng.shuffle(bodies)

    # When two thirds of them arrive while Loop's details answer 5xx and 429 (30 %, and by script)
    inject(loop, DETAILS, seed=SEED)
    for body, signature in bodies[: 2 * FAULT_RETURNS // 3]:
        stored = events.receive(LOOP_DEMO_SITE, body, {SIGNATURE: signature})
        assert stored.result == "received" and stored.row_id is not None, stored
        for _ in range(20):  # the task's retries and pauses, as the worker makes them
            try:
                done = events.process_event(stored.row_id)
            except RetryableError as exc:  # the event stays received, saying why; the task runs again
                tries[f"event {type(exc).__name__}"] += 1
                with session_scope() as s:
                    row = s.get(InboundEvent, stored.row_id)
                    assert row is not None and row.state == "received" and "(tried again)" in (row.note or "")
                continue
            assert done["state"] == "processed", done
            break
        else:
            raise AssertionError(f"event {stored.row_id} never processed")
    no_doubles(loop_site, loop, "after the events")

    # and the poll (which catches the third whose webhook never came) meets them on Loop's list
    inject(loop, LISTING, seed=SEED + 1)
    for run in range(1, 20):
        try:
            summary = import_site_returns(loop_site)
        except RetryableError as exc:  # RateLimited too: the task is retried or paused, then runs again
            tries[f"poll {type(exc).__name__}"] += 1
            no_doubles(loop_site, loop, f"after poll run {run}")
            continue
        assert "skipped" not in summary, summary
        break
    else:
        raise AssertionError("the poll never completed")
    drain_outbox()
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == FAULT_RETURNS

    # When the goods arrive and the outbox sends each process (and the notes) through 5xx and 429s
    received = receive_all(loop_site)
    inject(loop, PROCESS, seed=SEED + 2, method="POST")
    inject(loop, "/note", seed=SEED + 3, method="POST")
    for flush in range(1, 40):
        result = writeback.flush(site_id=loop_site)
        tries["flush retrying"] += result.retrying
        no_doubles(loop_site, loop, f"after flush {flush}")
        with session_scope() as s:
            waiting = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending"))
            # (a row that failed waits with backoff, or for the rate limit: time passing, here at once)
            s.execute(
                OutboxEntry.__table__.update().where(OutboxEntry.state == "pending").values(next_attempt_at=func.now())
            )
        if not waiting:
            break
    else:
        raise AssertionError("process requests still waiting after 40 flushes")
    played = loop.faults.stats()
    with session_scope() as s:
        paused = s.scalar(
            select(func.count())
            .select_from(WritebackAttempt)
            .where(WritebackAttempt.error.like("%rate limit (HTTP 429)%"))
        )

    # and Loop recovers: the next poll posts the credits, the flushes send their notes
    loop.faults.clear()
    assert import_site_returns(loop_site)["credited"] == FAULT_RETURNS
    drain_outbox()

    # Then every path met its faults and was tried again: the events and the poll both retried
    # (RetryableError) and paused (RateLimited), the outbox rows retried and paused for Loop's wait
    assert tries["event RetryableError"] and tries["event RateLimited"], tries
    assert tries["poll RetryableError"] and tries["poll RateLimited"], tries
    assert tries["flush retrying"] and paused, (tries, paused)
    assert set(played) == {"500", "502", "503", "429"}, played
    # And nothing was lost, doubled or half-written
    check_returns(
        loop_site,
        loop,
        processed=received,
        scenario="Loop: 429 and 5xx (30 %, and scripted bursts) on the poll, the details read and process",
        runs=sum(played.values()),
        note=f"{loop.faults.requests} requests; tried again: "
        + ", ".join(f"{k} {v}" for k, v in sorted(tries.items())),
    )
    assert set(loops) == {int(r["id"]) for r in loop.returns()}


def test_a_rate_limited_poll_and_event_pause_their_tasks_on_a_real_worker(
    loop: LoopSandbox, loop_site: int, catalog: list[dict[str, Any]], workers: Any, chaos_app: Any
) -> None:
    # Given a worker, and Loop answering its next list and details requests with a 429 asking for 8 s
    # (longer than a worker sleeps through: connectors.http.LONGEST_SLEEP)
    worker = workers("returns-pause")
    loop.configure_webhooks("http://127.0.0.1:9/events-here", loop_webhook_secret())
    [first] = make_returns(loop, catalog, 1, webhook="hold")
    loop.faults.inject(f"429:retry_after=8,path={LISTING}@x1")
    loop.faults.inject(f"429:retry_after=8,path={DETAILS}@x1")

    # When the poll runs, and a webhook arrives and is handed to the worker
    poll = chaos_app.send_task("tasks.returns.import_returns", args=[loop_site])
    [event] = loop.webhook_events()
    stored = events.receive(
        LOOP_DEMO_SITE,
        event.body,
        {SIGNATURE: event.signature},
        enqueue=lambda row_id: chaos_app.send_task(events.TASK, args=[row_id]),
    )
    summary = poll.get(timeout=60)

    # then both gave the worker back for Loop's wait, and went on after it: the poll's run says
    # "paused", then a run of the same task held the return; the event was processed
    assert summary["fetched"] >= 1, summary
    with session_scope() as s:
        runs = [
            r.outcome for r in s.scalars(select(SyncRun).where(SyncRun.task == "import_returns").order_by(SyncRun.id))
        ]
    assert runs == ["paused", "ok"], runs
    assert stored.row_id is not None
    wait_until(lambda: events_state(stored.row_id) == "processed", timeout=60, what="the paused event's processing")
    assert loop.faults.stats() == {"429": 2}
    paused = sorted(e["task"] for e in worker.events() if e.get("event") == "task_paused_rate_limited")
    assert paused == ["tasks.events.process_event", "tasks.returns.import_returns"], paused
    wait_until(settled, timeout=60, what="the outbox")
    check_returns(
        loop_site,
        loop,
        processed=(),
        scenario="Loop: 429 asking for 8 s on the poll and a webhook's details, on a real worker",
        runs=2,
        note="both tasks paused for the wait (run 'paused', then 'ok'), then went on",
    )
    assert first in rma_numbers(loop_site)


def events_state(row_id: int) -> str | None:
    with session_scope() as s:
        return s.scalar(select(InboundEvent.state).where(InboundEvent.id == row_id))


# --- (c) webhooks duplicated, out of order and dropped across 50 returns ----------------------------

HOOK_RETURNS = 50
MODES = ("send", "twice", "drop", "hold")


def settled() -> bool:
    """Every stored event processed and nothing waiting in the outbox (a failed event is a bug here)."""
    with session_scope() as s:
        failed = s.scalars(select(InboundEvent.note).where(InboundEvent.state == "failed")).all()
        assert not failed, failed[:5]
        events_open = s.scalar(select(func.count()).select_from(InboundEvent).where(InboundEvent.state == "received"))
        pending = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending"))
    return not events_open and not pending


def settle(loop: LoopSandbox) -> None:
    assert loop.wait_for_webhooks(120), "the sandbox still has webhooks to send"
    wait_until(settled, timeout=120, interval=0.2, what="every event processed and the outbox sent")


def test_webhooks_duplicated_out_of_order_and_dropped_across_50_returns(
    loop: LoopSandbox,
    loop_site: int,
    web: Served,
    catalog: list[dict[str, Any]],
    workers: Any,
    chaos_app: Any,
) -> None:
    rng = random.Random(SEED)
    # Given the web app receiving Loop's webhooks for the site, and a worker with two pool processes
    loop.configure_webhooks(f"{web.url}/events/{LOOP_DEMO_SITE}", loop_webhook_secret())
    workers("returns-hooks", concurrency=2)

    # When 50 returns are created, 20 of them changed (a label scanned) and 5 cancelled, each change's
    # webhook sent once, twice, never, or held back; then the held ones are sent in reverse order
    modes: Counter[str] = Counter()

    def mode() -> str:
        chosen = rng.choice(MODES)
        modes[chosen] += 1
        return chosen

    loops = [
        loop.create_return(lines=rng.sample(catalog[:40], rng.randint(1, 3)), webhook=mode())["id"]
        for _ in range(HOOK_RETURNS)
    ]
    for rid in rng.sample(loops, 20):
        labels = loop.get_return(rid)["labels"]
        labels[0]["status"] = "delivered"
        loop.update_return(rid, {"labels": labels}, webhook=mode())
    cancelled = rng.sample(loops, 5)
    for rid in cancelled:
        loop.update_return(rid, {"state": "cancelled"}, webhook=mode())
    loop.release_webhooks(reverse=True)
    settle(loop)

    # then nothing is doubled, whatever came twice, late or first
    no_doubles(loop_site, loop, "after the webhooks")
    # and the returns poll catches the returns whose webhooks never came
    first_poll = chaos_app.send_task("tasks.returns.import_returns", args=[loop_site]).get(timeout=120)
    settle(loop)
    assert set(rma_numbers(loop_site)) == set(loops) - set(cancelled), first_poll

    # When the goods arrive for every open RMA and the outbox asks Loop to process them, Loop's
    # return.closed webhooks held: a fifth of them then dropped, a fifth also sent twice at once, and
    # the rest sent in reverse order
    received = receive_all(loop_site)
    loop.webhook_mode = "hold"
    chaos_app.send_task("tasks.status.flush_outbox", kwargs={"site_id": loop_site}).get(timeout=120)
    wait_until(lambda: set(process_requests(loop)) == received, timeout=120, what="every process sent")
    closed = [e for e in loop.webhook_events() if e.outcome == "held"]
    assert {e.return_id for e in closed} == received
    for event in closed:
        draw = rng.random()
        if draw < 0.2:
            event.outcome = "dropped"
            modes["closed dropped"] += 1
        elif draw < 0.4:
            loop.send_webhook(event.return_id, event.trigger, webhook="twice")
            modes["closed sent 3 times"] += 1
    loop.webhook_mode = "send"
    loop.release_webhooks(reverse=True)
    settle(loop)
    no_doubles(loop_site, loop, "after the closed webhooks")

    # and the next poll catches the closed returns whose webhook never came
    last_poll = chaos_app.send_task("tasks.returns.import_returns", args=[loop_site]).get(timeout=120)
    settle(loop)

    # Then every return is held once, each open one has its RMA, each processed once, each refund
    # credited once with its AR debit, each note on Loop's timeline once
    deliveries = Counter(a["status"] for a in loop.webhook_attempts())
    with session_scope() as s:
        stored = Counter(s.scalars(select(InboundEvent.state)))
    check_returns(
        loop_site,
        loop,
        processed=received,
        scenario="Loop: webhooks duplicated, out of order and dropped across 50 returns (web app, -c 2)",
        runs=sum(modes.values()),
        note=f"webhooks {dict(sorted(modes.items()))}; deliveries {dict(deliveries)}; events stored "
        f"{dict(stored)}; polls caught {first_poll['new']} + {last_poll['changed']}",
    )
