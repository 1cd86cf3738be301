"""The base task: retries in one style, and a bound on redeliveries so a poison message ends in a
dead letter.

Retries: a task that meets a partner down for now (``RetryableError``) or the database gone away
(a restart: ``OperationalError`` / ``InterfaceError``) is retried by Celery's own ``autoretry_for``
with exponential backoff and full jitter (``retry_backoff`` seconds doubling per retry, at most
``retry_backoff_max``), up to ``max_retries`` times; every task is idempotent, so a retry is safe.
A task may narrow or widen ``autoretry_for`` in its decorator (the notifier adds ``MailError``).

A partner's rate limit is not an outage: ``RateLimited`` (a 429 asking for more than a few seconds,
or JOOR's credit budget spent until its window resets) gives the worker's slot back. The task is
sent again with the wait as its countdown (``_pause``), not the exponential backoff; the pause
uses none of ``max_retries``, and the worker takes other work meanwhile (Celery holds a message
with a countdown aside, without counting it against the prefetch). The run that paused resumes
when it runs again: an import reads the list again over the pages it committed, a push sends what
the partner has not accepted yet. At most ``MAX_PAUSES`` pauses, then the task fails with the
rate limit's message. A task whose run starts its work from the top again (an import reads its
lists from the first page) sets ``pauses_before_waiting``: after that many pauses its runs sleep
through the rate limit's waits (``connectors.http.patient``), so a read that needs more than one
window of a partner's credits still ends. A countdown longer than half the broker's visibility timeout is cut to that
(a message held longer would be redelivered): the task then meets the limit again and pauses again.

With ``acks_late`` and ``task_reject_on_worker_lost``, a task whose run kills its worker (out of
memory, a segfault in a library, a kill by the platform) is redelivered — forever, unless
something counts. Each delivery of a task id is counted in Redis; past ``MAX_DELIVERIES`` the task
is not run again: a ``dead`` sync-run row records it, `bobbin status` and the error e-mail show it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cached_property
from typing import Any

import redis
import structlog
from celery import Task
from celery.exceptions import Retry
from sqlalchemy.exc import InterfaceError, OperationalError

from connectors.errors import RateLimited, RetryableError
from connectors.http import patient

log = structlog.get_logger()

MAX_DELIVERIES = 5
DELIVERY_KEY_TTL = 7 * 24 * 3600  # a counter outlives any redelivery cycle, then expires
MAX_PAUSES = 288  # a day of JOOR's 5-minute credit windows
PAUSES_HEADER = "bobbin_pauses"  # a message header: how many times this task paused for a rate limit


class BobbinTask(Task):
    autoretry_for = (RetryableError, OperationalError, InterfaceError)
    dont_autoretry_for = (RateLimited,)  # paused with the partner's wait instead (_pause)
    retry_backoff = 30
    retry_backoff_max = 900
    retry_jitter = True
    max_retries = 5
    # Whether the first argument is a site id (a dead letter is then shown on that site). Set in
    # the task's decorator: @app.task(..., site_arg=True).
    site_arg = False
    # How many times the task gives its slot back for a rate limit before its runs sleep through
    # the waits instead; None: every time (up to MAX_PAUSES). @app.task(..., pauses_before_waiting=1).
    pauses_before_waiting: int | None = None

    @cached_property
    def _redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.app.conf.broker_url)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = getattr(self.request, "id", None)
        if task_id and not getattr(self.request, "is_eager", False):
            key = f"bobbin:deliveries:{task_id}"
            with self._redis.pipeline(transaction=False) as pipe:  # one round trip, not two
                pipe.incr(key)
                pipe.expire(key, DELIVERY_KEY_TTL)
                deliveries = int(pipe.execute()[0])
            if deliveries > MAX_DELIVERIES:
                return self._dead_letter(task_id, deliveries, args)
        try:
            with self._waiting():
                return super().__call__(*args, **kwargs)
        except RateLimited as exc:
            pause = None if self.request.is_eager or self.request.called_directly else self._pause(exc)
            if pause is None:
                raise
            raise pause from exc

    def _paused(self) -> int:
        """How many times this task paused for a rate limit so far (a header its pauses carry)."""
        return int((self.request.headers or {}).get(PAUSES_HEADER) or 0)

    def _waiting(self) -> AbstractContextManager[None]:
        """Sleep through rate limits in this run when the task paused as often as it may."""
        limit = self.pauses_before_waiting
        return patient() if limit is not None and self._paused() >= limit else nullcontext()

    def _pause(self, exc: RateLimited) -> Retry | None:
        """Send this task again to run after the rate limit's wait, as a retry that does not count
        against ``max_retries``; the Retry to raise (None after MAX_PAUSES: the task fails)."""
        request = self.request
        headers = dict(request.headers or {})
        pauses = self._paused() + 1
        if pauses > MAX_PAUSES:
            log.error("task_rate_limited_too_long", task=self.name, task_id=request.id, pauses=pauses - 1)
            return None
        visibility = float(self.app.conf.broker_transport_options.get("visibility_timeout") or 3600)
        countdown = round(max(1.0, min(float(exc.retry_after), visibility / 2)), 3)
        headers[PAUSES_HEADER] = pauses
        # The same task id, arguments, queue and retry count; only the countdown and the pause count.
        again = self.signature_from_request(request, countdown=countdown, headers=headers)
        again.apply_async()
        # Its run (if it records one) says "paused", with when it goes on, not "failed".
        from services.runs import mark_paused

        try:
            mark_paused(request.id, countdown, str(exc))
        except Exception:  # the database is away: the run stays "failed"; the pause still happens
            log.warning("run_pause_not_recorded", task=self.name, task_id=request.id, exc_info=True)
        log.info(
            "task_paused_rate_limited",
            task=self.name,
            task_id=request.id,
            countdown=countdown,
            pauses=pauses,
            reason=str(exc),
        )
        return Retry(exc=exc, when=countdown, sig=again)

    def after_return(self, status: str, retval: Any, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # The run ended (well, failed, or handed to a retry or a pause) without killing its worker:
        # its next delivery is a new start. (Kept on a retry, the count made a task's fifth retry a
        # dead letter, and a task paused five times for a partner's rate limit too.)
        if task_id:
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
