"""One at a time: the per-site import lock, the single-beat lock, and the beat schedule.

Real Postgres advisory locks, a real Brandboom sandbox, and real ``celery -A worker beat``
processes: a lock held elsewhere makes an import skip (never block); a lock whose holder died is
free again without anybody clearing it; of two beats exactly one schedules, and the other takes
over when the first is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from core.db import get_engine, session_scope
from core.locks import advisory_lock, lock_key, site_lock_name
from models import Site, SyncRun
from schedules import SiteEntry, active_sites, build_schedule, minute_spec
from schedules.scheduler import BEAT_LOCK, STANDBY_POLL_SECONDS
from services.pipeline import import_site_orders
from tests.integration.conftest import ROOT, wait_until

pytestmark = pytest.mark.integration


def _libpq_dsn(url: str) -> str:
    """The test database's SQLAlchemy URL as a plain libpq URL for psycopg2.connect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _runs() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(SyncRun)) or 0)


@pytest.fixture()
def demo_site(db: str, sandbox: Any) -> int:
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id)))


# --- (a) per-site lock ---------------------------------------------------------------------------


def test_import_skips_while_another_run_holds_the_site_lock(demo_site: int) -> None:
    # Given another worker's import of the site holds the site's lock (on its own connection)
    name = site_lock_name("import_orders", demo_site)
    assert name == f"bobbin:import_orders:site:{demo_site}"
    with advisory_lock(name) as got:
        assert got

        # When the import task runs for the same site
        summary = import_site_orders(demo_site)

        # Then it skips at once, says why, and records no run
        assert summary == {"site_id": demo_site, "skipped": "another import of this site is running"}
        assert _runs() == 0

    # When the holder finished: the import runs and is recorded
    summary = import_site_orders(demo_site)
    assert summary.get("fetched") and "skipped" not in summary, summary
    with session_scope() as s:
        assert s.scalars(select(SyncRun.outcome)).all() == ["ok"]


def test_site_lock_is_per_site_and_per_task(demo_site: int) -> None:
    # Given the lock of another site, and of another task on this site, are held
    with (
        advisory_lock(site_lock_name("import_orders", demo_site + 1)) as a,
        advisory_lock(site_lock_name("push_inventory", demo_site)) as b,
    ):
        assert a and b
        # When the import of this site runs, then it is not blocked by them
        summary = import_site_orders(demo_site)
    assert "skipped" not in summary, summary


# --- (b) a dead holder's lock is free ------------------------------------------------------------

HOLDER = """
import sys, time, psycopg2
conn = psycopg2.connect(sys.argv[1])
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT pg_try_advisory_lock(%s)", (int(sys.argv[2]),))
print("locked" if cur.fetchone()[0] else "busy", flush=True)
time.sleep(600)
"""


def test_lock_is_released_when_its_holders_connection_dies(demo_site: int, pg_url: str) -> None:
    # Given a process holding the site's import lock on a raw psycopg2 connection
    name = site_lock_name("import_orders", demo_site)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, _libpq_dsn(pg_url), str(lock_key(name))],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        assert import_site_orders(demo_site).get("skipped")
        assert _runs() == 0

        # When that process dies without unlocking (SIGKILL: no goodbye to Postgres)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(10)

    # Then Postgres frees the lock with the connection, and the service takes it: no stale lock
    def lock_free() -> bool:
        with advisory_lock(name) as got:
            return got

    wait_until(lock_free, timeout=60, what="the dead holder's lock to be released")
    summary = import_site_orders(demo_site)
    assert summary.get("fetched") and "skipped" not in summary, summary


def test_lock_is_released_when_the_connection_is_closed_without_unlocking(demo_site: int, pg_url: str) -> None:
    # Given the lock taken on a raw psycopg2 connection in this process
    import psycopg2

    name = site_lock_name("import_orders", demo_site)
    conn = psycopg2.connect(_libpq_dsn(pg_url))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name),))
        assert cur.fetchone()[0] is True
    with advisory_lock(name) as got:
        assert not got

    # When the connection is dropped (no pg_advisory_unlock)
    conn.close()

    # Then the service can take it
    def lock_free() -> bool:
        with advisory_lock(name) as got:
            return got

    wait_until(lock_free, timeout=60, what="the closed connection's lock to be released")


# --- (c) one beat at a time, with real beat processes --------------------------------------------


class Beat:
    """A real ``celery -A worker beat`` process with its own schedule file and log."""

    def __init__(self, env: dict[str, str], home: Path, name: str) -> None:
        self.name = name
        self.log = home / f"{name}.log"
        self.log.write_bytes(b"")
        self._logf = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "beat",
                "-l",
                "INFO",
                "--schedule",
                str(home / f"{name}-schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def events(self) -> list[str]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                found.append(json.loads(line).get("event", ""))
            except ValueError:
                continue
        return found

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._logf.close()


def _beat_lock_holders() -> int:
    with get_engine().connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"), {"n": BEAT_LOCK}
            ).scalar()
            or 0
        )


@pytest.fixture()
def beats(db: str, redis_url: str, bobbin_home: Path, celery_app: Any, tmp_path: Path) -> Iterator[Any]:
    env = dict(os.environ, DATABASE_URL=db, REDIS_URL=redis_url, BOBBIN_HOME=str(bobbin_home), LOG_FORMAT="json")
    started: list[Beat] = []

    def start(name: str) -> Beat:
        beat = Beat(env, tmp_path, name)
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.kill()
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # the messages the holding beat sent


def test_exactly_one_beat_runs_and_a_standby_takes_over(beats: Any) -> None:
    # Given two beat processes started together
    one, two = beats("beat-one"), beats("beat-two")

    # Then exactly one acquires the beat lock, and the other logs that it stands by (the timeouts
    # only catch a beat that never gets there: starting one takes a while on a loaded machine)
    wait_until(
        lambda: "beat_lock_acquired" in one.events() + two.events(), timeout=120, what="a beat to take the beat lock"
    )
    wait_until(lambda: "beat_standby" in one.events() + two.events(), timeout=120, what="the other beat to stand by")
    holder, standby = (one, two) if "beat_lock_acquired" in one.events() else (two, one)
    assert "beat_standby" not in holder.events()
    assert "beat_lock_acquired" not in standby.events()
    assert holder.proc.poll() is None and standby.proc.poll() is None
    with advisory_lock(BEAT_LOCK) as got:
        assert not got, "the beat lock should be held by the running beat"
    assert _beat_lock_holders() == 1
    # And it stays that way across a standby poll (that nothing happens can only be watched for a
    # while: a slow machine makes this check weaker, never wrong)
    time.sleep(STANDBY_POLL_SECONDS + 1)
    assert "beat_lock_acquired" not in standby.events()

    # When the holder is killed (SIGKILL: no clean shutdown)
    holder.kill()

    # Then the standby takes over: it polls every STANDBY_POLL_SECONDS; how soon is not asserted
    # here (the timeout only catches a standby that never does)
    wait_until(lambda: "beat_lock_acquired" in standby.events(), timeout=120, what="the standby beat to take over")
    assert standby.proc.poll() is None
    assert _beat_lock_holders() == 1


# --- (d) the schedule ----------------------------------------------------------------------------


def _settings(**env: Any) -> Any:
    from core.settings import Settings

    return Settings(**{k: str(v) for k, v in env.items()})  # type: ignore[arg-type]


def _next_run(schedule: Any, after: datetime) -> datetime:
    last, delta, _now = schedule.remaining_delta(after)
    return last + delta  # type: ignore[no-any-return]


def test_schedule_imports_each_site_on_the_clock() -> None:
    # Given two active sites: one on the default interval, one with its own import_minutes
    sites = [SiteEntry(1, "bb-us", None), SiteEntry(2, "bb-eu", 5)]
    settings = _settings(IMPORT_INTERVAL_MINUTES=15, OUTBOX_FLUSH_SECONDS=45, DIGEST_HOUR=6)

    # When the beat schedule is built
    schedule = build_schedule(sites, settings)

    # Then each site imports on wall-clock minutes, with its id, expiring after one interval
    assert set(schedule) == {
        "flush-outbox",
        "daily-digest",
        "reconcile",
        "import-orders:bb-us",
        "import-orders:bb-eu",
        "erp-export:bb-us",
        "erp-export:bb-eu",
        "erp-shipments",
    }
    us, eu = schedule["import-orders:bb-us"], schedule["import-orders:bb-eu"]
    assert us["task"] == eu["task"] == "tasks.orders.import_orders"
    assert (us["args"], eu["args"]) == ((1,), (2,))
    assert us["schedule"]._orig_minute == "0,15,30,45"
    assert us["schedule"].minute == {0, 15, 30, 45} and us["schedule"].hour == set(range(24))
    assert eu["schedule"].minute == set(range(0, 60, 5))
    assert (us["options"]["expires"], eu["options"]["expires"]) == (15 * 60, 5 * 60)
    utc = UTC
    assert _next_run(us["schedule"], datetime(2026, 3, 2, 10, 7, tzinfo=utc)) == datetime(
        2026, 3, 2, 10, 15, tzinfo=utc
    )
    assert _next_run(us["schedule"], datetime(2026, 3, 2, 23, 45, tzinfo=utc)) == datetime(2026, 3, 3, 0, 0, tzinfo=utc)

    # And the outbox is flushed every OUTBOX_FLUSH_SECONDS, the digest daily at DIGEST_HOUR:00
    assert schedule["flush-outbox"] == {"task": "tasks.status.flush_outbox", "schedule": timedelta(seconds=45)}
    digest = schedule["daily-digest"]
    assert digest["task"] == "tasks.notify.send_digests"
    assert (digest["schedule"].minute, digest["schedule"].hour) == ({0}, {6})


def test_schedule_follows_import_interval_setting() -> None:
    # Given IMPORT_INTERVAL_MINUTES=20 and no site override, then imports run at :00, :20, :40
    schedule = build_schedule([SiteEntry(7, "s", None)], _settings(IMPORT_INTERVAL_MINUTES=20))
    assert schedule["import-orders:s"]["schedule"].minute == {0, 20, 40}


@pytest.mark.parametrize("interval", [d for d in range(1, 61) if 60 % d == 0])
def test_minute_spec_for_every_divisor_of_60(interval: int) -> None:
    # Given an interval that divides the hour, then the runs are on its multiples from :00
    spec = minute_spec(interval)
    assert spec == ",".join(str(m) for m in range(0, 60, interval))
    assert spec.split(",")[0] == "0"
    assert len(spec.split(",")) == 60 // interval


def test_minute_spec_falls_back_to_15_for_an_interval_off_the_clock() -> None:
    assert minute_spec(7) == minute_spec(0) == minute_spec(-5) == "0,15,30,45"


def test_active_sites_leaves_out_inactive_sites(db: str) -> None:
    # Given three sites, one paused, one with its own import_minutes
    from services.sites import create_site

    with session_scope() as s:
        ids = [
            create_site(
                s,
                name=n,
                kind="brandboom",
                base_url="https://manage.brandboom.com/api/v2",
                credentials={"public_key": "P" * 32, "secret_key": "S" * 32},
                division=None,
                notify_emails=[],
                settings=st,
            ).id
            for n, st in (("us", None), ("eu", {"import_minutes": 30}), ("old", None))
        ]
        s.get(Site, ids[2]).active = False  # type: ignore[union-attr]

    # When beat reads the active sites, then the paused one is left out of the schedule
    entries = active_sites()
    assert entries == [SiteEntry(ids[0], "us", None), SiteEntry(ids[1], "eu", 30)]
    schedule = build_schedule(entries, _settings())
    assert sorted(k for k in schedule if k.startswith("import-orders:")) == ["import-orders:eu", "import-orders:us"]
    assert schedule["import-orders:eu"]["schedule"].minute == {0, 30}
