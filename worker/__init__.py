"""The one Celery app: ``celery -A worker worker|beat|flower`` from the repository root.

Reliability settings follow Celery's own advice for work that must not be lost: tasks are
acknowledged after they finish (``acks_late``) and re-queued if the worker process dies
(``task_reject_on_worker_lost``), a worker takes one message at a time (prefetch 1), and the Redis
visibility timeout stays above the longest task. Every task is idempotent, so a redelivery is safe.

A Redis restart while a task runs must not end the worker: ``worker.kombu_redis_guard`` (installed
below, before the app consumes) turns kombu's crash on the detached channel into a recoverable
connection error, and a connection loss does not cancel the running tasks (they finish; their
message comes back after the visibility timeout and the copy converges or skips on the site lock).

Tasks go to queues by what they wait for (imports, pushes, writebacks, maintenance; the routing
table is ``worker.routes``); a worker consumes the queues its ``-Q`` names, or all of them.
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from core import runtime
from core.settings import get_settings
from worker import kombu_redis_client, kombu_redis_guard, routes

kombu_redis_guard.apply()
kombu_redis_client.apply()  # one Redis client per channel, not one per command (README "Task overhead")

settings = get_settings()
_redis = runtime.redis_url(settings)

app = Celery("bobbin", task_cls="worker.base:BobbinTask")
app.conf.update(
    broker_url=_redis,
    result_backend=_redis,
    result_expires=24 * 3600,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": settings.visibility_timeout,
        # How soon a message held by a dead worker is put back once its visibility timeout passed:
        # kombu scans the unacked index every interval × throttle seconds (100 s by default).
        "unacked_restore_interval": min(10, max(1, settings.visibility_timeout // 5)),
        "unacked_restore_throttle": 1,
    },
    result_backend_transport_options={"visibility_timeout": settings.visibility_timeout},
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # False: on a lost broker connection the running import finishes. With True it is terminated and
    # marked REVOKED, and its redelivered copy is discarded as revoked: neither finished nor retried.
    worker_cancel_long_running_tasks_on_connection_loss=False,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # STARTED costs every task a result-backend read and write; only the tasks whose state a person
    # watches while they run (the console's work buttons, `bobbin import`) set track_started=True.
    task_track_started=False,
    # Flower shows no tasks without these (SPEC: Flower).
    worker_send_task_events=True,
    task_send_sent_event=True,
    timezone=settings.timezone,
    enable_utc=True,
    worker_hijack_root_logger=False,
    beat_scheduler="schedules.scheduler:SiteScheduler",
    beat_schedule_filename=str(settings.home / "celerybeat-schedule"),
    beat_max_loop_interval=30,
    # The queues and the routing table (worker/routes.py). A worker without -Q consumes them all.
    # Each queue has its own exchange and routing key: queues sharing a key would each get a copy.
    task_queues=[Queue(name, Exchange(name), routing_key=name) for name in routes.QUEUES],
    task_default_queue=routes.DEFAULT_QUEUE,
    task_routes=(routes.ROUTES,),
    imports=(
        "tasks.orders",
        "tasks.status",
        "tasks.notify",
        "tasks.inventory",
        "tasks.catalog",
        "tasks.customers",
        "tasks.maintenance",
        "tasks.events",
        "tasks.returns",
        "tasks.erp",
        "tasks.ebay",
    ),
)

from worker import signals  # noqa: E402,F401  (connects logging and per-task context)

__all__ = ["app"]
