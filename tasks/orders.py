"""Order tasks. Names are stable: scripts and `celery call` rely on them."""

from __future__ import annotations

from typing import Any

from celery import Task

from services import fixes, pipeline
from worker import app


# pauses_before_waiting=1: a run reads the partner's lists from the first page, so an import that
# paused once for the partner's rate limit sleeps through it on its next run (worker.base).
# track_started: the console and `bobbin import` show it running (worker/__init__.py).
@app.task(name="tasks.orders.import_orders", bind=True, site_arg=True, pauses_before_waiting=1, track_started=True)
def import_orders(self: Task, site_id: int) -> dict[str, Any]:
    """Fetch, stage, validate and import a site's orders; then send writebacks and new-error mail.
    A partner down for now or the database gone away: retried with backoff (worker.base); its rate
    limit: paused once until the wait is over, then waited out."""
    summary = pipeline.import_site_orders(int(site_id), celery_task_id=self.request.id)
    if summary.get("fetched") or summary.get("modified"):  # writebacks queued by the run go out now
        app.send_task("tasks.status.flush_outbox", kwargs={"site_id": int(site_id)})
    if summary.get("new_errors"):
        app.send_task("tasks.notify.send_error_report", args=[int(site_id)])
    if summary.get("imported"):  # the new ERP orders go to the ERP's drop folder (tasks.erp)
        app.send_task("tasks.erp.export_orders", args=[int(site_id)])
    return summary


@app.task(name="tasks.orders.import_order")
def import_order(order_id: int, allow_duplicate: bool = False) -> dict[str, Any]:
    """Validate one held order again and import it if it is valid."""
    summary = fixes.import_by_hand([int(order_id)], allow_duplicate=allow_duplicate)
    if summary.get("imported"):
        app.send_task("tasks.status.flush_outbox")
    return summary


@app.task(name="tasks.orders.import_valid")
def import_valid(site_id: int | None = None) -> dict[str, Any]:
    """Import every valid held order (of one site, or all)."""
    summary = fixes.import_by_hand(site_id=None if site_id is None else int(site_id))
    if summary.get("imported"):
        app.send_task("tasks.status.flush_outbox")
    return summary
