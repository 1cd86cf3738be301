"""eBay tasks. The names are stable: `celery -A worker call tasks.ebay.push_listings --args='[SITE_ID]'`."""

from __future__ import annotations

from typing import Any

from celery import Task

from services import ebay_listings
from worker import app


# No track_started: the console's work list does not show this push (tests/unit/test_task_overhead.py).
@app.task(name="tasks.ebay.push_listings", bind=True, site_arg=True)
def push_listings(self: Task, site_id: int) -> dict[str, Any]:
    """Send the site's flagged eBay listing records to eBay: inventory items, a style's group,
    offers, publish; one push per site at a time. eBay down for now retries later with backoff and
    the retry resumes (offers are looked up before any is made, a published one is not published
    again). SKUs eBay refused for the first time are e-mailed to the site's contacts."""
    result = ebay_listings.push_listings(int(site_id), celery_task_id=self.request.id)
    if result.new_rejections:
        app.send_task("tasks.notify.send_error_report", args=[int(site_id)])
    return result.summary()
