"""What a chaos worker imports with ``-I tests.chaos.worker_seams``: test seams, nothing else.

- ``chaos.canary``: a no-op through the broker, a worker and the database — if it completes after a
  Redis or Postgres restart, new work still flows (a worker that reconnects but stopped consuming
  would never run it).
- ``CHAOS_INVENTORY_BATCH_ROWS``: a smaller Brandboom inventory batch, so the demo catalog's push
  takes several batches and a kill can land between them.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from sqlalchemy import text

from worker import app


@app.task(name="chaos.canary")
def canary(tag: str) -> dict[str, Any]:
    from core.db import get_engine

    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"tag": tag, "pid": os.getpid()}


_rows = os.environ.get("CHAOS_INVENTORY_BATCH_ROWS")
if _rows:
    from connectors import registry

    _spec = registry.partner("brandboom")
    assert _spec.inventory is not None
    registry._loaded["brandboom"] = replace(_spec, inventory=replace(_spec.inventory, batch_rows=int(_rows)))
