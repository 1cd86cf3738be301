"""ERP hand-off tasks. Names are stable: `celery call tasks.erp.export_orders --args='[1]'`."""

from __future__ import annotations

from typing import Any

from celery import Task

from services import erp_handoff
from worker import app


@app.task(name="tasks.erp.export_orders", bind=True, site_arg=True)
def export_orders(self: Task, site_id: int) -> dict[str, Any]:
    """Write the site's imported orders not handed to the ERP yet into one file in its drop folder
    (sent after each import that imported orders, and on the schedule). Each order is written once."""
    return erp_handoff.export_site_orders(int(site_id), celery_task_id=self.request.id).summary()


@app.task(name="tasks.erp.load_shipment_files", bind=True)
def load_shipment_files(self: Task, folder: str | None = None) -> dict[str, Any]:
    """Load the shipment / invoice files the ERP dropped in the watched folder (default
    <BOBBIN_HOME>/erp/inbox/), move each to done/ or failed/, and send the writebacks they queued."""
    result = erp_handoff.load_shipment_files(folder, celery_task_id=self.request.id)
    if result.writebacks_queued:
        app.send_task("tasks.status.flush_outbox")
    return result.summary()
