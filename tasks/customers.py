"""Customer push tasks. Names are stable: `celery call tasks.customers.push_customers --args='[1]'`."""

from __future__ import annotations

from typing import Any

from celery import Task

from services import customer_push
from worker import app


# track_started: the console shows it running (worker/__init__.py).
@app.task(name="tasks.customers.push_customers", bind=True, site_arg=True, track_started=True)
def push_customers(self: Task, site_id: int) -> dict[str, Any]:
    """Send the site's partner the customers that changed, after asking it about those it left
    awaiting. When it answers later (an asynchronous job), a follow-up poll is scheduled; refused
    customers are e-mailed to the site's contacts."""
    result = customer_push.push_customers(int(site_id), celery_task_id=self.request.id)
    if result.new_rejections:
        app.send_task("tasks.notify.send_error_report", args=[int(site_id)])
    if customer_push.follow_up_needed(result):
        app.send_task("tasks.customers.poll_customers", args=[int(site_id)], countdown=customer_push.POLL_AFTER_SECONDS)
    return result.summary()


@app.task(name="tasks.customers.poll_customers", bind=True, site_arg=True)
def poll_customers(self: Task, site_id: int) -> dict[str, Any]:
    """Ask the partner about the customers awaiting it and record what it settled."""
    result = customer_push.poll_customers(int(site_id), celery_task_id=self.request.id)
    if result.new_rejections:
        app.send_task("tasks.notify.send_error_report", args=[int(site_id)])
    return result.summary()
