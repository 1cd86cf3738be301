"""The base task: retries in one style, and a bound on redeliveries so a poison message ends in a
dead letter.

Retries: a task that meets a partner down for now (``RetryableError``) or the database gone away
(a restart: ``OperationalError`` / ``InterfaceError``) is retried by Celery's own ``autoretry_for``
with exponential backoff and full jitter (``retry_backoff`` seconds doubling per retry, at most
``retry_backoff_max``), up to ``max_retries`` times; every task is idempotent, so a retry is safe.
A task may narrow or widen ``autoretry_for`` in its decorator (the notifier adds ``MailError``).

With ``acks_late`` and ``task_reject_on_worker_lost``, a task whose run kills its worker (out of
memory, a segfault in a library, a kill by the platform) is redelivered — forever, unless
something counts. Each delivery of a task id is counted in Redis; past ``MAX_DELIVERIES`` the task
is not run again: a ``dead`` sync-run row records it, `bobbin status` and the error e-mail show it.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import redis
import structlog
from celery import Task
from sqlalchemy.exc import InterfaceError, OperationalError

from connectors.errors import RetryableError

log = structlog.get_logger()

MAX_DELIVERIES = 5
DELIVERY_KEY_TTL = 7 * 24 * 3600  # a counter outlives any redelivery cycle, then expires


class BobbinTask(Task):
    autoretry_for = (RetryableError, OperationalError, InterfaceError)
    retry_backoff = 30
    retry_backoff_max = 900
    retry_jitter = True
    max_retries = 5
    # Whether the first argument is a site id (a dead letter is then shown on that site). Set in
    # the task's decorator: @app.task(..., site_arg=True).
    site_arg = False

    @cached_property
    def _redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.app.conf.broker_url)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = getattr(self.request, "id", None)
        if task_id and not getattr(self.request, "is_eager", False):
            key = f"bobbin:deliveries:{task_id}"
            deliveries = int(self._redis.incr(key))
            self._redis.expire(key, DELIVERY_KEY_TTL)
            if deliveries > MAX_DELIVERIES:
                return self._dead_letter(task_id, deliveries, args)
        return super().__call__(*args, **kwargs)

    def after_return(self, status: str, retval: Any, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # The run ended (well or not) without killing its worker: its next delivery is a new start.
        if task_id and status != "RETRY":
            self._redis.delete(f"bobbin:deliveries:{task_id}")

    def _dead_letter(self, task_id: str, deliveries: int, args: Any) -> dict[str, Any]:
        from core.db import session_scope
        from models import SyncRun

        site_id = args[0] if args and self.site_arg and isinstance(args[0], int) else None
        error = (
            f"gave up: {deliveries - 1} deliveries of this task ended with its worker dying; "
            "it is not run again (see the worker log around that time)"
        )
        with session_scope() as s:
            s.add(
                SyncRun(
                    task=self.name.rsplit(".", 1)[-1],
                    site_id=site_id,
                    celery_task_id=task_id,
                    outcome="dead",
                    error=error,
                    finished_at=None,
                )
            )
        log.error("task_dead_lettered", task=self.name, task_id=task_id, deliveries=deliveries)
        return {"dead_letter": True, "error": error}
