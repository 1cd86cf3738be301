"""Case 3: two beat processes running at once — each scheduled run is sent once.

Given a site importing every minute (``import_minutes=1``) and the outbox flushed every 5 s
(``OUTBOX_FLUSH_SECONDS=5``), when two real ``celery -A worker beat`` processes run side by side
until the next minute boundary has passed and several flushes were due, then the messages they put
on the broker (no worker consumes them, so they stay there to be counted) all come from the beat
holding the beat lock — the standby sent none — and hold the site's import once for that minute;
a worker then running them imports every order once. (The takeover when the holding beat dies is
in tests/integration/test_locks_and_schedule.py.)

Nothing here waits on the wall clock: the test waits for the messages themselves (with timeouts
that only catch a beat that never sends them), and tells the senders apart by the ``origin`` each
Celery message carries (``gen<pid>@<host>`` of the process that sent it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.db import session_scope
from models import Site, SyncRun
from tests.chaos.conftest import Beat, brandboom_expected, drain_outbox, wait_until
from tests.chaos.invariants import BrandboomRecord, check

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

FLUSH_SECONDS = 5
FLUSHES = 3  # flushes sent before the beats are stopped: several chances for a second beat to double one
START_TIMEOUT = 120  # starting a beat is slow on a loaded machine; this only catches one that never starts
IMPORT_TIMEOUT = 180  # the next minute boundary is up to 60 s away; the rest is slack for a loaded machine


def _sent(redis_url: str) -> list[tuple[str, list[Any], str]]:
    """(task name, args, origin) of every message waiting on the worker's queues (Celery protocol 2:
    the task and the sender's ``gen<pid>@<host>`` in the headers, ``[args, kwargs, embed]`` as
    base64 JSON in the body)."""
    import base64

    import redis

    from worker.routes import QUEUES

    client = redis.Redis.from_url(redis_url)
    found = []
    for queue in QUEUES:
        for raw in client.lrange(queue, 0, -1):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            found.append((message["headers"]["task"], list(args), str(message["headers"].get("origin"))))
    return found


def _import_runs(site_id: int) -> list[str]:
    with session_scope() as s:
        return list(
            s.scalars(select(SyncRun.outcome).where(SyncRun.site_id == site_id, SyncRun.task == "import_orders"))
        )


def test_two_beats_send_each_scheduled_run_once(
    demo_site: int, brandboom: Any, chaos_app: Any, workers: Any, worker_env: dict[str, str], tmp_path: Path
) -> None:
    broker = chaos_app.conf.broker_url

    def sent(task: str) -> list[list[Any]]:
        return [args for name, args, _ in _sent(broker) if name == task]

    # Given the site imports every minute and the outbox is flushed every 5 s
    with session_scope() as s:
        site = s.get(Site, demo_site)
        assert site is not None
        site.settings = {**site.settings, "import_minutes": 1}
    env = {**worker_env, "OUTBOX_FLUSH_SECONDS": str(FLUSH_SECONDS)}

    # When two beats start together: one takes the beat lock, the other stands by
    beats = [Beat(env, tmp_path, "beat-a"), Beat(env, tmp_path, "beat-b")]
    try:
        holder = wait_until(
            lambda: next((b for b in beats if "beat_lock_acquired" in b.events()), None),
            timeout=START_TIMEOUT,
            interval=0.2,
            what="a beat to take the beat lock",
        )
        wait_until(
            lambda: any("beat_standby" in b.events() for b in beats),
            timeout=START_TIMEOUT,
            interval=0.2,
            what="the other beat to stand by",
        )
        # And they run side by side until several flushes were sent and the next minute boundary
        # brought the site's import; then both stop at once, long before another boundary (so one
        # import is the right count)
        wait_until(
            lambda: len(sent("tasks.status.flush_outbox")) >= FLUSHES,
            timeout=START_TIMEOUT,
            interval=0.2,
            what=f"{FLUSHES} outbox flushes to be sent",
        )
        wait_until(
            lambda: sent("tasks.orders.import_orders"),
            timeout=IMPORT_TIMEOUT,
            interval=0.2,
            what="the site's import to be sent at the minute boundary",
        )
    finally:
        for b in beats:
            b.kill()

    # Then one beat held the lock, and every message on the broker came from it: the standby sent none
    messages = _sent(broker)
    holders = [b.name for b in beats if "beat_lock_acquired" in b.events()]
    assert holders == [holder.name], holders
    senders = {origin.split("@")[0] for _, _, origin in messages}
    assert senders == {f"gen{holder.proc.pid}"}, (senders, {b.name: b.proc.pid for b in beats})
    # And the site's import for that minute was sent once (and each flush once: they all came
    # from the one beat, which sends an entry once when it is due)
    imports = [args for task, args, _ in messages if task == "tasks.orders.import_orders"]
    flushes = [task for task, _, _ in messages if task == "tasks.status.flush_outbox"]
    assert imports == [[demo_site]], imports
    assert len(flushes) >= FLUSHES, flushes

    # And when a worker then runs what they sent, every order is imported once
    workers("after-beats")
    wait_until(
        lambda: not _sent(broker) and _import_runs(demo_site) == ["ok"],
        timeout=120,
        interval=0.2,
        what="the worker to run the scheduled import and flushes",
    )
    drain_outbox()
    check(
        demo_site,
        BrandboomRecord(brandboom),
        brandboom_expected(),
        scenario="Two beats at once: each scheduled run sent once",
        runs=1 + len(flushes),
        note=f"1 import at the minute boundary and {len(flushes)} flushes (every {FLUSH_SECONDS} s), "
        "all sent by the beat holding the lock; the second beat stood by",
    )
