"""Case 3: two beat processes running at once — each scheduled run is sent once.

Given a site importing every minute (``import_minutes=1``) and the outbox flushed every 5 s
(``OUTBOX_FLUSH_SECONDS=5``), when two real ``celery -A worker beat`` processes run side by side
across a minute boundary, then the messages they put on the broker (no worker consumes them, so
they stay there to be counted) hold the site's import once for that minute and one outbox flush
per 5 s — not two of each; a worker then running them imports every order once. (The takeover
when the holding beat dies is in tests/integration/test_locks_and_schedule.py.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from sqlalchemy import select

from bobbin.db import session_scope
from models import Site, SyncRun
from tests.chaos.conftest import Beat, brandboom_expected, drain_outbox, wait_until
from tests.chaos.invariants import BrandboomRecord, check

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

FLUSH_SECONDS = 5
AFTER_BOUNDARY = 6.0  # seconds past the minute to wait for the import message
MIN_WINDOW = 20.0     # seconds of two beats at least (below 60: never two minute boundaries)


def _sent(redis_url: str) -> list[tuple[str, list[Any]]]:
    """(task name, args) of every message waiting on the default queue (Celery protocol 2: the
    task in the headers, ``[args, kwargs, embed]`` as base64 JSON in the body)."""
    import base64

    import redis

    found = []
    for raw in redis.Redis.from_url(redis_url).lrange("celery", 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        found.append((message["headers"]["task"], list(args)))
    return found


def _import_runs(site_id: int) -> list[str]:
    with session_scope() as s:
        return list(s.scalars(select(SyncRun.outcome).where(SyncRun.site_id == site_id,
                                                            SyncRun.task == "import_orders")))


def test_two_beats_send_each_scheduled_run_once(demo_site: int, brandboom: Any, chaos_app: Any, workers: Any,
                                                worker_env: dict[str, str], tmp_path: Path) -> None:
    # Given the site imports every minute and the outbox is flushed every 5 s
    with session_scope() as s:
        site = s.get(Site, demo_site)
        assert site is not None
        site.settings = {**site.settings, "import_minutes": 1}
    env = {**worker_env, "OUTBOX_FLUSH_SECONDS": str(FLUSH_SECONDS)}

    # When two beats start together and run past the next minute boundary
    beats = [Beat(env, tmp_path, "beat-a"), Beat(env, tmp_path, "beat-b")]
    try:
        wait_until(lambda: any("beat_lock_acquired" in b.events() for b in beats), timeout=30, interval=0.1,
                   what="a beat to take the beat lock")
        holding_since = time.time()
        wait_until(lambda: any("beat_standby" in b.events() for b in beats), timeout=30, interval=0.2,
                   what="the other beat to stand by")
        boundary = (int(holding_since) // 60 + 1) * 60
        end = max(boundary + AFTER_BOUNDARY, holding_since + MIN_WINDOW)  # one boundary, several flushes
        time.sleep(max(0.0, end - time.time()))
        elapsed = time.time() - holding_since
    finally:
        for b in beats:
            b.kill()

    # Then the site's import for that minute was sent once, and one flush per 5 s
    sent = _sent(chaos_app.conf.broker_url)
    imports = [args for task, args in sent if task == "tasks.orders.import_orders"]
    flushes = [task for task, _ in sent if task == "tasks.status.flush_outbox"]
    expected_flushes = int(elapsed // FLUSH_SECONDS)
    holders = [b.name for b in beats if "beat_lock_acquired" in b.events()]
    assert holders and len(holders) == 1, holders
    assert imports == [[demo_site]], imports
    assert expected_flushes - 1 <= len(flushes) <= expected_flushes + 1, (len(flushes), elapsed)

    # And when a worker then runs what they sent, every order is imported once
    workers("after-beats")
    wait_until(lambda: not _sent(chaos_app.conf.broker_url) and _import_runs(demo_site) == ["ok"], timeout=60,
               interval=0.2, what="the worker to run the scheduled import and flushes")
    drain_outbox()
    check(demo_site, BrandboomRecord(brandboom), brandboom_expected(),
          scenario="Two beats at once: each scheduled run sent once", runs=1 + len(flushes),
          note=f"{elapsed:.0f} s of two beats: 1 import at the minute boundary, {len(flushes)} flushes every "
               f"{FLUSH_SECONDS} s (expected {expected_flushes}); the second beat stood by")
