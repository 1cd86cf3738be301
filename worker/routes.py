"""The queues and which tasks run on each: the one routing table.

Every task used to share Celery's one queue, so a long push, or a partner's worker waiting on its
rate limit, delayed every other site's import and a person's "Import now". Work is now split by
what it waits for, and each group can have workers of its own:

============  ===================================================  ===========================
queue         tasks                                                why apart
============  ===================================================  ===========================
imports       tasks.orders.* (import_orders, import_order,         what a person waits for
              import_valid), tasks.returns.* (the returns poll),   ("Import now"), every 15 min
              tasks.events.* (webhooks)
pushes        tasks.inventory.*, tasks.catalog.*,                  long: 100,000 SKUs, a whole
              tasks.customers.*, tasks.ebay.* (eBay listings)      catalog, minutes each
writebacks    tasks.status.* (flush_outbox, mark_orders)           many small partner calls
maintenance   tasks.notify.* (error reports, digests),             e-mail, housekeeping, the ERP
              tasks.maintenance.* (the reconciler),                hand-off: short, not urgent
              tasks.erp.* (ERP files out and in)
default       anything not routed above (none of Bobbin's own      a new task is never lost:
              tasks: tests/unit/test_routes.py checks)             the maintenance workers take it
============  ===================================================  ===========================

Routes go by module (``tasks.<module>.*``): a new task in an existing module follows its module;
a new module needs a line here (the unit test names it otherwise). A retry stays on the queue its
task came from (Celery keeps the routing key).

``WORKER_GROUPS`` is how production runs them (docker-compose.yml: one worker service per group,
each scaled on its own); ``make run`` runs one worker consuming every queue, and a worker started
without ``-Q`` consumes every queue of ``QUEUES`` too (Celery's default when ``task_queues`` is set).
"""

from __future__ import annotations

# This module imports nothing: docker-compose.yml's test reads it without building the Celery app.

IMPORTS = "imports"
PUSHES = "pushes"
WRITEBACKS = "writebacks"
MAINTENANCE = "maintenance"
# Where a task no route names goes; the maintenance workers consume it.
DEFAULT_QUEUE = "default"

QUEUES: tuple[str, ...] = (IMPORTS, PUSHES, WRITEBACKS, MAINTENANCE, DEFAULT_QUEUE)

ROUTES: dict[str, str] = {
    "tasks.orders.*": IMPORTS,
    "tasks.returns.*": IMPORTS,
    "tasks.events.*": IMPORTS,
    "tasks.inventory.*": PUSHES,
    "tasks.catalog.*": PUSHES,
    "tasks.customers.*": PUSHES,
    "tasks.ebay.*": PUSHES,
    "tasks.status.*": WRITEBACKS,
    "tasks.notify.*": MAINTENANCE,
    "tasks.maintenance.*": MAINTENANCE,
    "tasks.erp.*": MAINTENANCE,
}

# The worker groups of a deployment: each consumes its queues (``celery -A worker worker -Q …``).
WORKER_GROUPS: dict[str, tuple[str, ...]] = {
    "imports": (IMPORTS,),
    "pushes": (PUSHES,),
    "writebacks": (WRITEBACKS,),
    "maintenance": (MAINTENANCE, DEFAULT_QUEUE),
}


def queue_arg(queues: tuple[str, ...] = QUEUES) -> str:
    """The value of a worker's ``-Q``: ``imports,pushes,…``."""
    return ",".join(queues)
