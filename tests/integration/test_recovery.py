"""Recovery and alarms: the reconciler, the silence alarm, and the dead letter.

Given work left behind (a run whose worker vanished, orders staged but never imported), a site
that has stopped importing, or a task that kills its worker on every delivery, when the
reconciler runs (or the task is redelivered), then the stuck work is enqueued again, the silent
site raises one alarm e-mail and shows in `bobbin status`, and the poison task ends in a dead
letter instead of being redelivered forever.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from models import ErrorReport, InboundEvent, InboundOrder, Site, SyncRun
from services.reconcile import EVENT_GRACE, reconcile
from services.runs import ABANDONED

pytestmark = pytest.mark.integration


@pytest.fixture()
def site(db: str, sandbox: Any) -> int:
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id)))


def _age_site(site_id: int, hours: float) -> None:
    with session_scope() as s:
        s.execute(update(Site).where(Site.id == site_id).values(created_at=datetime.now(UTC) - timedelta(hours=hours)))


def test_a_silent_site_raises_one_alarm_mail_and_shows_in_status(site: int, smtp: Any) -> None:
    _age_site(site, hours=3)  # 12 intervals of 15 minutes without a successful import

    first = reconcile()
    second = reconcile()

    assert len(first["alarms"]) == 1 and "brandboom-demo" in first["alarms"][0]
    assert first["alarms_mailed"] == [site] and second["alarms_mailed"] == []
    mail = smtp.wait_for(1)[0]
    assert "ALARM" in mail["Subject"] and "stopped importing" in mail["Subject"]
    assert len(smtp.messages) == 1
    status = json.loads(
        CliRunner().invoke(__import__("bobbin.cli.main", fromlist=["app"]).app, ["status", "--json"]).stdout
    )
    assert status["sites"][0]["alarm"].startswith("site brandboom-demo has not imported")

    # When imports work again, the alarm clears; a later silence would mail again.
    with session_scope() as s:
        s.add(SyncRun(task="import_orders", site_id=site, outcome="ok", finished_at=datetime.now(UTC)))
    assert reconcile()["alarms"] == []
    with session_scope() as s:
        assert s.scalar(select(ErrorReport.kind).where(ErrorReport.site_id == site)) == "alarm"


def test_an_abandoned_run_is_closed_and_its_site_imported_again(site: int) -> None:
    with session_scope() as s:
        s.add(
            SyncRun(
                task="import_orders",
                site_id=site,
                outcome="running",
                started_at=datetime.now(UTC) - timedelta(minutes=10),
            )
        )

    with advisory_lock(site_lock_name("import_orders", site)):  # a live run holds the lock
        held = reconcile()
    freed = reconcile()

    assert held["abandoned_runs"] == 0
    assert freed["abandoned_runs"] == 1 and site in freed["reimport_sites"]
    with session_scope() as s:
        assert s.scalar(select(SyncRun.error).where(SyncRun.site_id == site)) == ABANDONED


def test_orders_stuck_before_import_get_their_site_imported_again(site: int) -> None:
    from services.pipeline import import_site_orders

    import_site_orders(site)
    with session_scope() as s:
        s.execute(
            update(InboundOrder)
            .where(InboundOrder.id == select(InboundOrder.id).limit(1).scalar_subquery())
            .values(state="valid", last_seen_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert site in reconcile()["reimport_sites"]


def test_events_left_unprocessed_past_the_grace_are_processed_again(site: int) -> None:
    # Given events a partner pushed: one received long ago and never processed (its message lost,
    # as when Redis restarts empty), one just received (its message still on its way), and one
    # received long ago and already processed
    now = datetime.now(UTC)
    with session_scope() as s:
        rows = {
            name: InboundEvent(
                site_id=site,
                event_id=f"evt-{name}",
                topic="return.created",
                state=state,
                payload={"id": f"evt-{name}"},
                body=b"{}",
                received_at=now - age,
            )
            for name, state, age in (
                ("lost", "received", EVENT_GRACE + timedelta(minutes=1)),
                ("fresh", "received", timedelta(seconds=5)),
                ("done", "ignored", EVENT_GRACE + timedelta(minutes=1)),
            )
        }
        s.add_all(rows.values())
        s.flush()
        ids = {name: row.id for name, row in rows.items()}

    # When the reconciler runs
    result = reconcile()

    # Then only the event left unprocessed past the grace is handed to a worker again
    assert result["reprocess_events"] == [ids["lost"]]


def test_a_task_that_kills_its_worker_every_time_ends_in_a_dead_letter(
    db: str, start_worker: Any, celery_app: Any
) -> None:
    from worker.base import MAX_DELIVERIES  # importing the app needs the test broker's URL set first

    start_worker("poisoned", extra_args=("-I", "tests.integration.poison_tasks"))

    result = celery_app.send_task("tests.poison").get(timeout=120)

    assert result["dead_letter"] is True
    assert f"{MAX_DELIVERIES} deliveries" in result["error"]
    with session_scope() as s:
        assert s.scalar(select(SyncRun.outcome).where(SyncRun.task == "poison")) == "dead"
