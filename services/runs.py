"""Sync runs: one row per task run, with its outcome and counts, and the log context bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import ColumnElement, func, or_, select, update

from core.db import session_scope
from core.logging import redact
from models import SyncRun

log = structlog.get_logger()


# A site's import: of its orders, or — a returns partner's site — of its returns. A sync run
# records the task's short name (``import_orders``), some with a prefix.
IMPORT_TASKS = ("import_orders", "import_returns")


def is_import(task: Any) -> ColumnElement[bool]:
    """SQL: the sync run's ``task`` column is a site's import (of either kind)."""
    return or_(*(task.like(f"%{name}") for name in IMPORT_TASKS))


def import_task(kind: str) -> str:
    """The Celery task that imports a site of this partner kind (its orders, else its returns)."""
    from connectors.registry import UnknownPartner, partner

    try:
        returns_only = not partner(kind).offers("orders") and partner(kind).offers("returns")
    except UnknownPartner:  # the order import says so, in the site's run
        returns_only = False
    return "tasks.returns.import_returns" if returns_only else "tasks.orders.import_orders"


def import_tasks(site_ids: list[int]) -> dict[int, str]:
    """site id -> the Celery task that imports it (sites that are gone are left out)."""
    from models import Site

    with session_scope() as s:
        kinds = s.execute(select(Site.id, Site.kind).where(Site.id.in_(site_ids))).all()
    return {site_id: import_task(kind) for site_id, kind in kinds}


@dataclass
class Run:
    id: int
    counts: dict[str, Any] = field(default_factory=dict)
    outcome: str = "ok"
    note: str | None = None  # why the outcome is not "ok", for a person (kept in sync_run.error)


ABANDONED = "abandoned: the worker stopped before this run finished; a later run redid its work"


@contextmanager
def recorded_run(
    task: str, site_id: int | None, celery_task_id: str | None = None, *, holds_lock: bool = False
) -> Iterator[Run]:
    """Record a run: 'running' at start, then ok / skipped / failed with counts and the error text.

    ``holds_lock``: the caller holds this task's site lock, so any other 'running' row of the same
    task and site belongs to a worker that died; it is closed as failed, with why."""
    with session_scope() as s:
        if holds_lock:
            s.execute(
                update(SyncRun)
                .where(SyncRun.task == task, SyncRun.site_id == site_id, SyncRun.outcome == "running")
                .values(outcome="failed", error=ABANDONED, finished_at=func.now())
            )
        row = SyncRun(task=task, site_id=site_id, celery_task_id=celery_task_id)
        s.add(row)
        s.flush()
        run = Run(row.id)
    structlog.contextvars.bind_contextvars(run_id=run.id, site=site_id)
    log.info("run_started", task=task)
    try:
        yield run
    except BaseException as exc:
        try:
            _finish(run.id, "failed", run.counts, redact(f"{type(exc).__name__}: {exc}"))
        except Exception:  # the database is gone too: the reconciler closes this run later
            log.warning("run_not_closed", run_id=run.id)
        log.error("run_failed", task=task, error=str(exc), counts=run.counts)
        raise
    else:
        _finish(run.id, run.outcome, run.counts, run.note)
        log.info("run_finished", task=task, outcome=run.outcome, **run.counts)
    finally:
        structlog.contextvars.unbind_contextvars("run_id", "site")


def _finish(run_id: int, outcome: str, counts: dict[str, Any], error: str | None) -> None:
    with session_scope() as s:
        s.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(outcome=outcome, counts=counts, error=error, finished_at=func.now())
        )


def mark_paused(celery_task_id: str, countdown: float, reason: str) -> None:
    """The run the task ``celery_task_id`` just ended with a partner's rate limit is paused, not
    failed: the task was sent again to run after ``countdown`` seconds (``worker.base``). Its
    newest run says so, with when it goes on, so the dashboard and ``bobbin status`` show a wait
    rather than a failure."""
    with session_scope() as s:
        newest = (
            select(SyncRun.id)
            .where(SyncRun.celery_task_id == celery_task_id)
            .order_by(SyncRun.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        s.execute(
            update(SyncRun)
            .where(SyncRun.id == newest, SyncRun.outcome == "failed")
            .values(
                outcome="paused",
                error=redact(f"paused for the partner's rate limit ({reason}); goes on in about {countdown:.0f} s"),
            )
        )
