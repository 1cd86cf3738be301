"""Housekeeping: the reconciler (stuck work, silent sites), run by beat every RECONCILE_MINUTES."""

from __future__ import annotations

from typing import Any

from services import events, inventory
from services import reconcile as reconciler
from services.runs import import_tasks
from worker import app


@app.task(name="tasks.maintenance.reconcile")
def reconcile() -> dict[str, Any]:
    """Close abandoned runs, re-enqueue stuck sites' imports and unprocessed events, raise alarms
    for silent sites; drop the inventory-change journal rows no push needs any more."""
    result = reconciler.reconcile()
    result["inventory_changes_pruned"] = inventory.prune_changes()
    for site_id, task in import_tasks(result["reimport_sites"]).items():
        app.send_task(task, args=[site_id])
    for event_id in result["reprocess_events"]:
        app.send_task(events.TASK, args=[event_id])
    return result
