"""The worker settings that make up a task's overhead (README "Task overhead"), read from the one
Celery app: what was taken off every task stays off, what the guarantees need stays on, and the
tasks whose state a person watches still record STARTED. The ``redis_url`` fixture only gives the
app the test broker's URL; nothing is sent."""

from __future__ import annotations

from typing import Any

import pytest
from kombu.transport import redis as kombu_redis


@pytest.fixture()
def app(redis_url: str) -> Any:
    from worker import app

    app.loader.import_default_modules()
    return app


def test_the_guarantees_stay(app: Any) -> None:
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.worker_send_task_events and conf.task_send_sent_event  # Flower
    assert conf.result_backend  # every task's JSON summary is its answer


def test_started_is_recorded_only_for_the_work_a_person_watches(app: Any) -> None:
    from web.console.dashboard import WORK

    watched = {w.task for w in WORK} | {"tasks.orders.import_orders"}  # the console; `bobbin import`
    assert app.conf.task_track_started is False
    tracked = {name for name, task in app.tasks.items() if name.startswith("tasks.") and task.track_started}
    assert tracked == watched


def test_kombu_channels_reuse_their_redis_client(app: Any) -> None:
    assert getattr(kombu_redis.Channel._create_client, "_bobbin_reuses_client", False)
