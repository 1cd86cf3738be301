"""Return tasks (Loop Returns). Names are stable: scripts and `celery call` rely on them."""

from __future__ import annotations

from typing import Any

from celery import Task

from core.db import session_scope
from services import returns, rma
from services.sites import open_site
from worker import app


# Beat runs it for each site that sends returns, every import interval: the safety net that
# catches any webhook that never came (and the only path where webhooks are not set up).
@app.task(name="tasks.returns.import_returns", bind=True, site_arg=True, pauses_before_waiting=1, track_started=True)
def import_returns(self: Task, site_id: int) -> dict[str, Any]:
    """Read the site's returns changed since its cursor, hold them and move each along the flow
    (RMA or problems, credit memo and AR debit, voids); then send what it queued for Loop."""
    summary = returns.import_site_returns(int(site_id), celery_task_id=self.request.id)
    _after(int(site_id), summary)
    return summary


@app.task(name="tasks.returns.receive")
def receive(rma_ref: str, quantities: dict[str, int] | None = None, reference: str | None = None) -> dict[str, Any]:
    """Record goods received against an RMA (number, or the return's id): ``quantities`` line
    number -> units, none for every outstanding unit. Restocks them; when the RMA is complete,
    asks Loop to process the return."""
    with session_scope() as s:
        done = rma.receive(
            s,
            rma_ref,
            {int(k): int(v) for k, v in quantities.items()} if quantities else None,
            source="cli",
            reference=reference or "celery call",
        )
        site_id = s.scalar(rma.site_of(rma_ref))
    if done.process_queued and site_id is not None:
        app.send_task("tasks.status.flush_outbox", kwargs={"site_id": int(site_id)})
    return {
        "rma": done.rma,
        "received": done.received,
        "complete": done.complete,
        "process_queued": done.process_queued,
    }


@app.task(name="tasks.returns.apply_waiting")
def apply_waiting(site_id: int) -> dict[str, Any]:
    """Move along the site's held returns that may have a step to take, without reading Loop
    (after a SKU was loaded, a customer set, an exchange order imported)."""
    with session_scope() as s:
        ctx = open_site(s, int(site_id))
        ids = returns.waiting(s, ctx.id)
    summary = {"site_id": int(site_id), **returns.apply_each(ctx, ids).as_counts()}
    _after(int(site_id), summary)
    return summary


def _after(site_id: int, summary: dict[str, Any]) -> None:
    if any(summary.get(k) for k in ("rmas_created", "returns_invalid", "credited", "voided", "new_errors")):
        app.send_task("tasks.status.flush_outbox", kwargs={"site_id": site_id})
    if summary.get("new_errors"):
        app.send_task("tasks.notify.send_error_report", args=[site_id])
