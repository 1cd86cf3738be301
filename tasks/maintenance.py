"""Housekeeping: the reconciler (stuck work, silent sites), run by beat every RECONCILE_MINUTES."""

from __future__ import annotations

from typing import Any

from services import reconcile as reconciler
from worker import app


@app.task(name="tasks.maintenance.reconcile")
def reconcile() -> dict[str, Any]:
    """Close abandoned runs, re-enqueue stuck sites' imports, raise alarms for silent sites."""
    result = reconciler.reconcile()
    for site_id in result["reimport_sites"]:
        app.send_task("tasks.orders.import_orders", args=[site_id])
    return result
