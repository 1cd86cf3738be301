"""Inventory tasks. The name is stable: `celery call tasks.inventory.push_inventory --args='[1]'`."""

from __future__ import annotations

from typing import Any

from celery import Task

from services import inventory
from worker import app


# track_started: the console shows it running (worker/__init__.py).
@app.task(name="tasks.inventory.push_inventory", bind=True, site_arg=True, track_started=True)
def push_inventory(self: Task, site_id: int, full: bool = False) -> dict[str, Any]:
    """Send the site's partner the stock that changed (``full``: all of it); one push per site at
    a time. A partner that is down retries later with backoff, and the retry resumes: batches
    already accepted are recorded and not sent again."""
    result = inventory.push_inventory(int(site_id), full=bool(full), celery_task_id=self.request.id)
    return result.summary()
