"""Catalog tasks. The name is stable: `celery call tasks.catalog.push_catalog --args='[1]'`."""

from __future__ import annotations

from typing import Any

from celery import Task

from services import catalog
from worker import app


# track_started: the console shows it running (worker/__init__.py).
@app.task(name="tasks.catalog.push_catalog", bind=True, site_arg=True, track_started=True)
def push_catalog(self: Task, site_id: int, full: bool = False) -> dict[str, Any]:
    """Send the site's partner the styles, images and linesheets that changed (``full``: all of
    them); one push per site at a time. A partner down for now retries later with backoff, and the
    retry resumes: batches already answered are recorded and not sent again. Items the partner
    refused for the first time are e-mailed to the site's contacts."""
    result = catalog.push_catalog(int(site_id), full=bool(full), celery_task_id=self.request.id)
    if result.new_rejections:
        app.send_task("tasks.notify.send_error_report", args=[int(site_id)])
    return result.summary()
