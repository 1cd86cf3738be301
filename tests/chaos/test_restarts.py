"""Case 2: Redis restarted during a run; Postgres restarted during a run.

These tests start their own embedded Postgres and Redis (persistent, append-only file) in a
temporary directory, so they can stop them and start them again on the same port while a worker
is importing. After each restart the interrupted run either finishes or is run again, and **new**
work still flows: a canary task (``chaos.canary``: the broker, a worker, a query) completes within
a deadline — a worker that reconnects but no longer consumes would never run it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bobbin.db import session_scope
from bobbin.demo import build_world, make_order
from bobbin.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from models import Site, SyncRun
from tests.chaos.conftest import (
    VISIBILITY_TIMEOUT, ChaosWorker, brandboom_added, brandboom_expected, drain_outbox, flush_broker, wait_until,
)
from tests.chaos.invariants import BrandboomRecord, check

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

CANARY_DEADLINE = 10.0  # seconds for new work to complete after a server is back


@dataclass
class OwnServers:
    pg: EmbeddedPostgres
    pg_port: int
    redis: EmbeddedRedis
    redis_port: int
    db_url: str

    @property
    def redis_url(self) -> str:
        return EmbeddedRedis.url(self.redis_port)

    def restart_redis(self, down: float = 1.0) -> None:
        self.redis.stop()
        time.sleep(down)
        assert self.redis.start(self.redis_port) == self.redis_port

    def restart_postgres(self, down: float = 1.0) -> None:
        self.pg.stop()
        time.sleep(down)
        assert self.pg.start(self.pg_port) == self.pg_port


@pytest.fixture(scope="module")
def own_servers(tmp_path_factory: pytest.TempPathFactory, bobbin_home: Path) -> Iterator[OwnServers]:
    from bobbin.migrate import upgrade

    root = tmp_path_factory.mktemp("own-servers")
    pg, redis = EmbeddedPostgres(root / "pg"), EmbeddedRedis(root / "redis", persist=True)
    pg_port = pg.start(free_port())
    redis_port = redis.start(free_port())
    try:
        url = pg.ensure_database(pg_port, "bobbin_chaos")
        upgrade(url)
        yield OwnServers(pg, pg_port, redis, redis_port, url)
    finally:
        redis.stop()
        pg.stop()


@pytest.fixture()
def on_own_servers(own_servers: OwnServers, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """This process talks to the own servers for the test; a Celery app on the own Redis."""
    from celery import Celery

    from bobbin.settings import get_settings
    from tests.conftest import truncate_all

    monkeypatch.setenv("DATABASE_URL", own_servers.db_url)
    monkeypatch.setenv("REDIS_URL", own_servers.redis_url)
    get_settings.cache_clear()
    truncate_all(own_servers.db_url)
    flush_broker(own_servers.redis_url)
    app = Celery("chaos-own-servers", broker=own_servers.redis_url, backend=own_servers.redis_url)
    app.conf.update(broker_connection_retry_on_startup=True,
                    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
                    result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT})
    yield app
    app.close()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture()
def own_worker(own_servers: OwnServers, on_own_servers: Any, bobbin_home: Path, tmp_path: Path) -> Iterator[Any]:
    env = dict(os.environ, DATABASE_URL=own_servers.db_url, REDIS_URL=own_servers.redis_url,
               BOBBIN_HOME=str(bobbin_home), LOG_FORMAT="json", VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
               OUTBOX_FLUSH_SECONDS="5")
    worker = ChaosWorker(env, f"restarts-{os.getpid()}", on_own_servers, tmp_path, concurrency=2).start()
    yield worker
    worker.stop()


@pytest.fixture()
def own_site(on_own_servers: Any, brandboom: Any) -> int:
    from bobbin.runner import load_demo

    load_demo(brandboom.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "page_size": 20}
        return int(site.id)


def _state(result: Any) -> str:
    try:
        return str(result.state)
    except Exception:  # the result backend is the Redis being restarted
        return "UNKNOWN"


def _import_runs(site_id: int) -> list[str]:
    try:
        with session_scope() as s:
            return list(s.scalars(select(SyncRun.outcome).where(SyncRun.site_id == site_id,
                                                                SyncRun.task == "import_orders")
                                  .order_by(SyncRun.id)))
    except Exception:  # Postgres being restarted
        return []


def _task_runs(task_id: str) -> list[str]:
    try:
        with session_scope() as s:
            return list(s.scalars(select(SyncRun.outcome).where(SyncRun.celery_task_id == task_id)
                                  .order_by(SyncRun.id)))
    except Exception:  # Postgres being restarted
        return []


def _canary(app: Any, tag: str) -> float:
    """Send the canary; the seconds it took to complete (fails past CANARY_DEADLINE)."""
    started = time.monotonic()
    deadline = started + CANARY_DEADLINE
    result = app.send_task("chaos.canary", args=[tag])
    while time.monotonic() < deadline:
        if _state(result) == "SUCCESS":
            assert result.get(timeout=5)["tag"] == tag
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the canary sent after the restart did not complete within {CANARY_DEADLINE:.0f} s: "
                         "the worker is connected but not consuming")


def _slow_import(brandboom: Any, first_id: int) -> None:
    """200 new orders, listing pages slow enough that an import lasts ~4 s."""
    world = build_world()
    brandboom.add_orders([make_order(world, id=first_id + i) for i in range(200)])
    brandboom.inject_fault(delay=0.3, path="orders/search", rate=1.0)


def _finish_and_check(app: Any, site_id: int, brandboom: Any, scenario: str, note: str) -> None:
    brandboom.faults.clear()
    # A run may still hold the site's lock (a retried import finishing): then this one skips, as it
    # must; new work flows when an import of the site runs to the end.
    wait_until(lambda: "skipped" not in app.send_task("tasks.orders.import_orders", args=[site_id]).get(timeout=120),
               timeout=120, interval=1, what="an import of the site that runs")
    drain_outbox()
    check(site_id, BrandboomRecord(brandboom), brandboom_expected(brandboom_added(brandboom)),
          scenario=scenario, runs=1, note=note)


def test_redis_restarted_during_a_run(own_servers: OwnServers, on_own_servers: Any, own_worker: Any,
                                      own_site: int, brandboom: Any) -> None:
    """The worker survives: kombu's crash on the detached channel (the consumer's cleanup restoring the
    unacked message) is a recoverable connection error (``worker/kombu_redis_guard.py``), and a lost
    connection does not cancel the running import (``worker_cancel_long_running_tasks_on_connection_loss``)."""
    app = on_own_servers
    # Given an import under way on a worker with a free pool slot
    _slow_import(brandboom, 540_000)
    result = app.send_task("tasks.orders.import_orders", args=[own_site])
    wait_until(lambda: _state(result) == "STARTED", timeout=30, interval=0.05, what="the import to start")
    time.sleep(1.0)

    # When Redis stops and starts again on the same port (its append-only file kept)
    own_servers.restart_redis()

    # Then new work flows while the interrupted import still runs (the free pool slot)
    took = _canary(app, "after-redis-restart")
    # And the interrupted run finishes
    wait_until(lambda: _state(result) == "SUCCESS", timeout=VISIBILITY_TIMEOUT + 50, interval=0.2,
               what="the interrupted import to finish (or be redelivered and finish)")
    runs = _import_runs(own_site)
    assert runs and runs[-1] == "ok", runs
    # And its message, whose acknowledgement went with the lost connection, comes back after the
    # visibility timeout and runs again: nothing new to import (or it skips on the site lock)
    done = f"Task tasks.orders.import_orders[{result.id}] succeeded"
    wait_until(lambda: sum(str(e.get("event", "")).startswith(done) for e in own_worker.events()) >= 2,
               timeout=VISIBILITY_TIMEOUT + 30, interval=0.5, what="the import whose acknowledgement was lost to be redelivered and end")
    # And the worker's main process is still the one that was started
    assert own_worker.alive, f"the worker exited; see {own_worker.log}"
    _finish_and_check(app, own_site, brandboom, "Redis restarted during a run",
                      f"runs {_task_runs(result.id)}; canary done {took:.1f} s after Redis was back")


def test_redis_restarted_while_the_worker_is_idle_new_work_still_flows(own_servers: OwnServers,
                                                                       on_own_servers: Any, own_worker: Any,
                                                                       own_site: int, brandboom: Any) -> None:
    app = on_own_servers
    # Given the site imported, and the worker idle (no message unacknowledged)
    _slow_import(brandboom, 545_000)
    brandboom.faults.clear()
    assert app.send_task("tasks.orders.import_orders", args=[own_site]).get(timeout=60)["imported"] >= 200
    wait_until(lambda: not app.control.inspect(destination=[own_worker.node], timeout=1).active()[own_worker.node],
               timeout=30, what="the worker to be idle")

    # When Redis stops and starts again on the same port
    own_servers.restart_redis()

    # Then the worker reconnects and new work flows: the canary, then a new order imported
    took = _canary(app, "after-idle-redis-restart")
    brandboom.add_orders([make_order(build_world(), id=549_999)])
    _finish_and_check(app, own_site, brandboom, "Redis restarted (worker idle)",
                      f"canary done {took:.1f} s after the restart")


def _postgres_restarted_during_a_run(app: Any, servers: OwnServers, site_id: int, brandboom: Any,
                                     first_id: int) -> Any:
    """An import under way when Postgres stops (fast: sessions cut) and starts again on its port."""
    _slow_import(brandboom, first_id)
    result = app.send_task("tasks.orders.import_orders", args=[site_id])
    wait_until(lambda: _import_runs(site_id)[-1:] == ["running"], timeout=30, interval=0.05,
               what="the import to start")
    time.sleep(1.0)
    servers.restart_postgres()
    return result


def test_postgres_restarted_during_a_run_new_work_still_flows(own_servers: OwnServers, on_own_servers: Any,
                                                              own_worker: Any, own_site: int,
                                                              brandboom: Any) -> None:
    app = on_own_servers
    # Given an import under way when Postgres restarts
    result = _postgres_restarted_during_a_run(app, own_servers, own_site, brandboom, 550_000)

    # Then new work still flows (pooled connections are checked before use): the canary, then a new
    # import of the site, and nothing the interrupted run did is lost or doubled
    took = _canary(app, "after-postgres-restart")
    wait_until(lambda: _state(result) in ("SUCCESS", "FAILURE"), timeout=60, interval=0.2,
               what="the interrupted import to end")
    _finish_and_check(app, own_site, brandboom, "Postgres restarted during a run",
                      f"canary done {took:.1f} s after the restart; the interrupted task ended {_state(result)}")


def test_postgres_restarted_during_a_run_the_run_is_retried(own_servers: OwnServers, on_own_servers: Any,
                                                            own_worker: Any, own_site: int, brandboom: Any) -> None:
    app = on_own_servers
    # Given an import under way when Postgres restarts
    result = _postgres_restarted_during_a_run(app, own_servers, own_site, brandboom, 560_000)

    # Then the interrupted task finishes, or is retried and finishes: a run of that task id ends ok.
    # (The result alone cannot tell: with the tests' 10 s visibility timeout a retry waiting for its
    # countdown is redelivered once more, and that copy skips on the site lock.)
    wait_until(lambda: "ok" in _task_runs(result.id), timeout=90, interval=0.2,
               what="the interrupted import, retried, to finish")
    _finish_and_check(app, own_site, brandboom, "Postgres restarted during a run: the interrupted task retried",
                      f"runs of the task: {_task_runs(result.id)}")
