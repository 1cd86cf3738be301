"""The beat schedule, in one place: built from the active sites, wall-clock aligned.

Each active site imports every ``IMPORT_INTERVAL_MINUTES`` (or its own ``import_minutes``) on
minutes that divide the hour (0/15/30/45 by default), so runs never drift; the outbox is flushed
every ``OUTBOX_FLUSH_SECONDS``; the digest goes out daily at ``DIGEST_HOUR``. Each site's imported
orders are handed to the ERP every import interval (``erp-export:SITE``; an import that imported
orders also sends it), and the ERP's shipment files are picked up as often (``erp-shipments``).
A site may also push its inventory, catalog and customers on a schedule of its own
(``inventory_push_minutes``, ``catalog_push_minutes``, ``customers_push_minutes``: changed items only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from core.settings import Settings


@dataclass(frozen=True)
class SiteEntry:
    id: int
    name: str
    import_minutes: int | None
    inventory_push_minutes: int | None = None
    catalog_push_minutes: int | None = None
    customers_push_minutes: int | None = None
    orders: bool = True  # its partner sends orders (import-orders, erp-export)
    returns: bool = False  # its partner sends returns (import-returns)


def minute_spec(interval: int) -> str:
    """Minutes of the hour for an interval that divides 60: 15 -> '0,15,30,45'."""
    if interval <= 0 or 60 % interval:
        interval = 15
    return ",".join(str(m) for m in range(0, 60, interval))


def build_schedule(sites: list[SiteEntry], settings: Settings) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {
        "flush-outbox": {
            "task": "tasks.status.flush_outbox",
            "schedule": timedelta(seconds=settings.outbox_flush_seconds),
        },
        "daily-digest": {"task": "tasks.notify.send_digests", "schedule": crontab(minute=0, hour=settings.digest_hour)},
        "reconcile": {"task": "tasks.maintenance.reconcile", "schedule": timedelta(minutes=settings.reconcile_minutes)},
        # The ERP's shipment / invoice files dropped in <BOBBIN_HOME>/erp/inbox/ (services/erp_handoff.py).
        "erp-shipments": {
            "task": "tasks.erp.load_shipment_files",
            "schedule": timedelta(minutes=settings.import_interval_minutes),
            "options": {"expires": settings.import_interval_minutes * 60},
        },
    }
    for site in sites:
        interval = site.import_minutes or settings.import_interval_minutes
        if site.returns:  # the poll that catches any return webhook that never came
            schedule[f"import-returns:{site.name}"] = {
                "task": "tasks.returns.import_returns",
                "schedule": crontab(minute=minute_spec(interval)),
                "args": (site.id,),
                "options": {"expires": interval * 60},
            }
        if not site.orders:
            continue
        schedule[f"import-orders:{site.name}"] = {
            "task": "tasks.orders.import_orders",
            "schedule": crontab(minute=minute_spec(interval)),
            "args": (site.id,),
            # An import not started within one interval is superseded by the next one.
            "options": {"expires": interval * 60},
        }
        # Each import that imports orders sends the export; this catches orders imported by hand.
        schedule[f"erp-export:{site.name}"] = {
            "task": "tasks.erp.export_orders",
            "schedule": timedelta(minutes=interval),
            "args": (site.id,),
            "options": {"expires": interval * 60},
        }
        if site.inventory_push_minutes:  # optional: a normal push (changed rows only) every N minutes
            schedule[f"push-inventory:{site.name}"] = {
                "task": "tasks.inventory.push_inventory",
                "schedule": timedelta(minutes=site.inventory_push_minutes),
                "args": (site.id,),
                "options": {"expires": site.inventory_push_minutes * 60},
            }
        for name, task, minutes in (
            ("push-catalog", "tasks.catalog.push_catalog", site.catalog_push_minutes),
            ("push-customers", "tasks.customers.push_customers", site.customers_push_minutes),
        ):
            if minutes:  # optional: a normal push (changed items only) every N minutes
                schedule[f"{name}:{site.name}"] = {
                    "task": task,
                    "schedule": timedelta(minutes=minutes),
                    "args": (site.id,),
                    "options": {"expires": minutes * 60},
                }
    return schedule


def active_sites() -> list[SiteEntry]:
    from sqlalchemy import select

    from core.db import session_scope
    from models import Site

    with session_scope() as s:
        rows = s.execute(
            select(Site.id, Site.name, Site.kind, Site.settings).where(Site.active.is_(True)).order_by(Site.id)
        )
        return [
            SiteEntry(
                r.id,
                r.name,
                (r.settings or {}).get("import_minutes"),
                (r.settings or {}).get("inventory_push_minutes"),
                (r.settings or {}).get("catalog_push_minutes"),
                (r.settings or {}).get("customers_push_minutes"),
                *_pulls(r.kind),
            )
            for r in rows
        ]


def _pulls(kind: str) -> tuple[bool, bool]:
    """Whether a site of this kind sends orders, and returns (a kind no package serves: orders, as
    before, so its import fails loudly rather than silently never running)."""
    from connectors.registry import UnknownPartner, partner

    try:
        spec = partner(kind)
    except UnknownPartner:
        return True, False
    return spec.offers("orders"), spec.offers("returns")
