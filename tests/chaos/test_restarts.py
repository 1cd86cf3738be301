"""Case 2: Redis restarted during a run; Postgres restarted during a run.

These tests run on the suite's own embedded Postgres and Redis (persistent, append-only file; the
``own_servers`` fixture of ``tests/chaos/conftest.py``), so they can stop them and start them again
on the same port while a worker is importing. After each restart the interrupted run either finishes or is run again, and **new**
work still flows: a canary task (``chaos.canary``: the broker, a worker, a query) completes — a
worker that reconnects but no longer consumes would never run it (the canary's timeout is only
there to catch that; how soon it completes is a figure, not a pass mark).

Nothing waits a fixed time: a restart comes once the import has staged its first page (it is under
way, with most of its pages to go), and the server is started again on its port as soon as the old
one has let go of it — or, where the case is the import meeting the database down, once it has.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo import build_world, make_order
from core.db import session_scope
from models import InboundOrder, SyncRun
from services.runs import ABANDONED
from tests.chaos.conftest import (
    VISIBILITY_TIMEOUT,
    OwnServers,
    brandboom_added,
    brandboom_expected,
    drain_outbox,
    wait_until,
)
from tests.chaos.invariants import BrandboomRecord, check

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

CANARY_TIMEOUT = 60.0  # only catches a worker that no longer consumes; not a deadline
# The errors tasks.orders.import_orders retries after (the database went away), as a run records them
DATABASE_ERRORS = ("OperationalError: ", "InterfaceError: ")


def _state(result: Any) -> str:
    try:
        return str(result.state)
    except Exception:  # the result backend is the Redis being restarted
        return "UNKNOWN"


def _import_runs(site_id: int) -> list[str]:
    try:
        with session_scope() as s:
            return list(
                s.scalars(
                    select(SyncRun.outcome)
                    .where(SyncRun.site_id == site_id, SyncRun.task == "import_orders")
                    .order_by(SyncRun.id)
                )
            )
    except Exception:  # Postgres being restarted
        return []


def _task_runs(task_id: str) -> list[str]:
    try:
        with session_scope() as s:
            return list(
                s.scalars(select(SyncRun.outcome).where(SyncRun.celery_task_id == task_id).order_by(SyncRun.id))
            )
    except Exception:  # Postgres being restarted
        return []


def _canary(app: Any, tag: str) -> float:
    """Send the canary and wait for it to complete; the seconds it took (a figure for the notes)."""
    started = time.monotonic()
    result = app.send_task("chaos.canary", args=[tag])
    wait_until(
        lambda: _state(result) == "SUCCESS",
        timeout=CANARY_TIMEOUT,
        interval=0.1,
        what="the canary sent after the restart to complete (is the worker connected but not consuming?)",
    )
    took = time.monotonic() - started
    assert result.get(timeout=30)["tag"] == tag
    return took


def _slow_import(brandboom: Any, first_id: int) -> set[str]:
    """200 new orders, listing pages slow enough that an import lasts ~4 s (10 pages of 20, each
    held 0.3 s); their ids."""
    world = build_world()
    ids = brandboom.add_orders([make_order(world, id=first_id + i) for i in range(200)])
    brandboom.inject_fault(delay=0.3, path="orders/search", rate=1.0)
    return set(ids)


def _staged(ids: set[str]) -> int:
    with session_scope() as s:
        return int(
            s.scalar(select(func.count()).select_from(InboundOrder).where(InboundOrder.partner_order_id.in_(ids))) or 0
        )


def _under_way(site_id: int, ids: set[str]) -> None:
    """Wait until the import has staged its first page of ``ids`` — it is under way, most of its
    pages still to read — and check it still runs."""
    wait_until(lambda: _staged(ids) > 0, timeout=120, interval=0.05, what="the import to stage its first page")
    assert _import_runs(site_id)[-1:] == ["running"], "the import ended before the restart could interrupt it"
    assert _staged(ids) < len(ids), "the import staged every order before the restart could interrupt it"


def _interrupted_run(task_id: str) -> tuple[str, str | None]:
    """The outcome and error of the task's first run (the one the restart interrupted), once it is
    closed: by itself, or — when the database was down as it ended — by the task's retry."""

    def closed() -> tuple[str, str | None] | None:
        try:
            with session_scope() as s:
                row = s.execute(
                    select(SyncRun.outcome, SyncRun.error)
                    .where(SyncRun.celery_task_id == task_id)
                    .order_by(SyncRun.id)
                    .limit(1)
                ).one_or_none()
        except Exception:  # Postgres still coming back
            return None
        return (row.outcome, row.error) if row is not None and row.outcome != "running" else None

    return wait_until(closed, timeout=120, interval=0.2, what="the interrupted run to be closed")


def _assert_cut_or_survived(outcome: str, error: str | None) -> None:
    """What a run under way when Postgres restarts may have done, each for a reason:

    - ``ok``: no statement of it was in flight (the pool checks a connection before lending it);
    - ``failed`` with a database error: a statement was cut; the task retries it (tasks/orders.py);
    - ``failed`` as abandoned: cut while the database was down, so it could not say why; the
      task's retry closed it.

    Anything else (another error, the task given up) is a failure the restart should not cause."""
    assert outcome == "ok" or (
        outcome == "failed" and error is not None and (error.startswith(DATABASE_ERRORS) or error == ABANDONED)
    ), (outcome, error)


def _task_succeeded(result: Any) -> bool:
    state = _state(result)
    assert state != "FAILURE", f"the interrupted task failed: {result.info!r}"
    return state == "SUCCESS"


def _finish_and_check(app: Any, site_id: int, brandboom: Any, scenario: str, note: str) -> None:
    brandboom.faults.clear()
    # A run may still hold the site's lock (a retried import finishing): then this one skips, as it
    # must; new work flows when an import of the site runs to the end.
    wait_until(
        lambda: "skipped" not in app.send_task("tasks.orders.import_orders", args=[site_id]).get(timeout=120),
        timeout=120,
        interval=1,
        what="an import of the site that runs",
    )
    drain_outbox()
    check(
        site_id,
        BrandboomRecord(brandboom),
        brandboom_expected(brandboom_added(brandboom)),
        scenario=scenario,
        runs=1,
        note=note,
    )


def test_redis_restarted_during_a_run(
    own_servers: OwnServers, on_own_servers: Any, own_worker: Any, own_site: int, brandboom: Any
) -> None:
    """The worker survives: kombu's crash on the detached channel (the consumer's cleanup restoring the
    unacked message) is a recoverable connection error (``worker/kombu_redis_guard.py``), and a lost
    connection does not cancel the running import (``worker_cancel_long_running_tasks_on_connection_loss``)."""
    app = on_own_servers
    # Given an import under way (its first page staged) on a worker with a free pool slot
    ids = _slow_import(brandboom, 540_000)
    result = app.send_task("tasks.orders.import_orders", args=[own_site])
    _under_way(own_site, ids)

    # When Redis stops and starts again on the same port (its append-only file kept)
    own_servers.restart_redis()

    # Then new work flows while the interrupted import still runs (the free pool slot)
    took = _canary(app, "after-redis-restart")
    # And the interrupted run itself finishes: Redis going away does not touch it (its partner and
    # its database are up), so it ends ok rather than being cut
    wait_until(
        lambda: _task_succeeded(result),
        timeout=VISIBILITY_TIMEOUT + 110,
        interval=0.2,
        what="the interrupted import to finish",
    )
    assert _interrupted_run(result.id) == ("ok", None)
    # And its message, whose acknowledgement went with the lost connection, comes back after the
    # visibility timeout and runs again: nothing new to import (or it skips on the site lock)
    done = f"Task tasks.orders.import_orders[{result.id}] succeeded"
    wait_until(
        lambda: sum(str(e.get("event", "")).startswith(done) for e in own_worker.events()) >= 2,
        timeout=VISIBILITY_TIMEOUT + 110,
        interval=0.5,
        what="the import whose acknowledgement was lost to be redelivered and end",
    )
    # And the worker's main process is still the one that was started
    assert own_worker.alive, f"the worker exited; see {own_worker.log}"
    _finish_and_check(
        app,
        own_site,
        brandboom,
        "Redis restarted during a run",
        f"runs {_task_runs(result.id)}; canary done {took:.1f} s after Redis was back",
    )


def test_redis_restarted_while_the_worker_is_idle_new_work_still_flows(
    own_servers: OwnServers, on_own_servers: Any, own_worker: Any, own_site: int, brandboom: Any
) -> None:
    app = on_own_servers
    # Given the site imported, and the worker idle (no message unacknowledged)
    _slow_import(brandboom, 545_000)
    brandboom.faults.clear()
    assert app.send_task("tasks.orders.import_orders", args=[own_site]).get(timeout=120)["imported"] >= 200

    def idle() -> bool:  # (a worker too busy to answer in time is not known to be idle)
        replies = app.control.inspect(destination=[own_worker.node], timeout=2).active() or {}
        return own_worker.node in replies and not replies[own_worker.node]

    wait_until(idle, timeout=120, what="the worker to be idle")

    # When Redis stops and starts again on the same port
    own_servers.restart_redis()

    # Then the worker reconnects and new work flows: the canary, then a new order imported
    took = _canary(app, "after-idle-redis-restart")
    brandboom.add_orders([make_order(build_world(), id=549_999)])
    _finish_and_check(
        app, own_site, brandboom, "Redis restarted (worker idle)", f"canary done {took:.1f} s after the restart"
    )


def _postgres_restarted_during_a_run(app: Any, servers: OwnServers, site_id: int, brandboom: Any, first_id: int) -> Any:
    """An import under way (its first page staged) when Postgres stops (fast: sessions cut) and
    starts again on its port."""
    ids = _slow_import(brandboom, first_id)
    result = app.send_task("tasks.orders.import_orders", args=[site_id])
    _under_way(site_id, ids)
    servers.restart_postgres()
    return result


def test_postgres_restarted_during_a_run_new_work_still_flows(
    own_servers: OwnServers, on_own_servers: Any, own_worker: Any, own_site: int, brandboom: Any
) -> None:
    app = on_own_servers
    # Given an import under way when Postgres restarts
    result = _postgres_restarted_during_a_run(app, own_servers, own_site, brandboom, 550_000)

    # Then new work still flows (pooled connections are checked before use): the canary
    took = _canary(app, "after-postgres-restart")
    # And the interrupted run itself either got through or was cut and said so (see
    # _assert_cut_or_survived); its task, retried when it was cut, ends with a run that finished ok
    # and succeeds — it does not fail
    outcome, error = _interrupted_run(result.id)
    _assert_cut_or_survived(outcome, error)
    wait_until(
        lambda: "ok" in _task_runs(result.id),
        timeout=120,
        interval=0.2,
        what="a run of the interrupted task to finish ok",
    )
    wait_until(lambda: _task_succeeded(result), timeout=120, interval=0.2, what="the interrupted task to succeed")
    # And a new import of the site runs, and nothing the interrupted run did is lost or doubled
    _finish_and_check(
        app,
        own_site,
        brandboom,
        "Postgres restarted during a run",
        f"canary done {took:.1f} s after the restart; the interrupted run ended {outcome}"
        + (f" ({error.split(':')[0]})" if error else ""),
    )


def test_postgres_restarted_during_a_run_the_run_is_retried(
    own_servers: OwnServers, on_own_servers: Any, own_worker: Any, own_site: int, brandboom: Any
) -> None:
    app = on_own_servers
    # Given an import under way (its first page staged)
    ids = _slow_import(brandboom, 560_000)
    result = app.send_task("tasks.orders.import_orders", args=[own_site])
    _under_way(own_site, ids)

    # When Postgres stops, and stays down until the import has met it down (its next page cannot be
    # staged: the task goes into RETRY), then starts again on its port
    own_servers.pg.stop()
    try:
        wait_until(
            lambda: _state(result) == "RETRY",
            timeout=120,
            interval=0.1,
            what="the import to meet the database down and be retried",
        )
    finally:  # (back up whatever happened, for the tests after this one)
        own_servers.start_postgres()

    # Then the interrupted run is closed as failed, saying why: with the database error, or — as it
    # could not write while the database was down — as abandoned, by the retry
    outcome, error = _interrupted_run(result.id)
    assert outcome == "failed" and error is not None and (error == ABANDONED or error.startswith(DATABASE_ERRORS)), (
        outcome,
        error,
    )
    # And the retry finishes: a run of that task id ends ok. (The result alone cannot tell: with the
    # tests' 10 s visibility timeout a retry waiting for its countdown is redelivered once more,
    # and that copy skips on the site lock.)
    wait_until(
        lambda: "ok" in _task_runs(result.id),
        timeout=120,
        interval=0.2,
        what="the interrupted import, retried, to finish",
    )
    _finish_and_check(
        app,
        own_site,
        brandboom,
        "Postgres restarted during a run: the interrupted task retried",
        f"runs of the task: {_task_runs(result.id)}",
    )
