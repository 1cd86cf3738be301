"""Where each site stands, as ``bobbin status`` and the console's dashboard show it.

- ``site_status`` is one site's state in plain data: last import (and last failed or incomplete
  one), orders per state, writebacks waiting / retrying / given up / held, open problems, the
  silence alarm, the warnings and the dead letters (``services.reconcile``), and the catalog items
  (and customers) the partner refused or has not settled yet (``services.catalog``). ``bobbin status``
  prints it; its ``--json`` is exactly this.
- ``site_overview`` adds what the dashboard shows beside it: the partner's label, the last
  inventory, catalog and customer pushes, and the orders counted per holding-area view.
- ``task_run`` is the sync run a given Celery task id recorded, if it has started: how work
  someone asked for is going.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.registry import UnknownPartner, partner
from core.settings import get_settings
from models import InboundOrder, OrderError, OutboxEntry, Site, SyncRun
from services import catalog as catalog_push
from services.reconcile import dead_letters, site_alarm, site_warnings
from services.runs import is_import

DEAD_SHOWN = 5  # dead writebacks listed per site; the count covers all
STATE_ORDER = ("downloaded", "valid", "invalid", "duplicate", "imported", "rejected")
PUSH_TASK = "%push_inventory"
CATALOG_TASK = "%push_catalog"
CUSTOMERS_TASK = "%push_customers"
CATALOG_SHOWN = 5  # refused catalog items listed per site; the counts cover all
# The holding area's views (SPEC: All / Invalid / Valid / Duplicated, and the closed ones) and the
# states each one shows.
VIEWS: dict[str, tuple[str, ...]] = {
    "all": STATE_ORDER,
    "invalid": ("invalid",),
    "valid": ("valid",),
    "duplicated": ("duplicate",),
    "imported": ("imported",),
    "rejected": ("rejected",),
}


def _run_record(r: SyncRun | None, *, with_outcome: bool = False) -> dict[str, Any] | None:
    if r is None:
        return None
    record: dict[str, Any] = {
        "run_id": r.id,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "counts": r.counts or {},
        "error": r.error,
    }
    if with_outcome:
        record["outcome"] = r.outcome
    return record


def _last_run(session: Session, site_id: int, task: str | None, outcome: str | None = None) -> dict[str, Any] | None:
    """The site's newest run of ``task`` (a LIKE pattern; None: its import, of either kind)."""
    query = select(SyncRun).where(
        SyncRun.site_id == site_id, is_import(SyncRun.task) if task is None else SyncRun.task.like(task)
    )
    if outcome is not None:
        query = query.where(SyncRun.outcome == outcome)
    row = session.scalars(query.order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(1)).first()
    return _run_record(row, with_outcome=outcome is None)


def site_status(session: Session, site: Site) -> dict[str, Any]:
    """One site's state, as ``bobbin status`` shows it (and ``bobbin status --json`` prints it)."""
    orders = dict(
        session.execute(
            select(InboundOrder.state, func.count()).where(InboundOrder.site_id == site.id).group_by(InboundOrder.state)
        ).all()
    )
    wb = session.execute(
        select(
            func.count().filter(OutboxEntry.state == "pending", OutboxEntry.attempts == 0),
            func.count().filter(OutboxEntry.state == "pending", OutboxEntry.attempts > 0),
            func.count().filter(OutboxEntry.state == "dead"),
            func.count().filter(OutboxEntry.state == "held"),
        ).where(OutboxEntry.site_id == site.id)
    ).one()
    dead = [
        {
            "outbox_id": w.id,
            "order_id": w.inbound_order_id,
            "status": w.status,
            "attempts": w.attempts,
            "last_error": w.last_error,
        }
        for w in session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.site_id == site.id, OutboxEntry.state == "dead")
            .order_by(OutboxEntry.id.desc())
            .limit(DEAD_SHOWN)
        )
    ]
    unresolved = (
        session.scalar(
            select(func.count())
            .select_from(OrderError)
            .join(InboundOrder, InboundOrder.id == OrderError.order_id)
            .where(
                InboundOrder.site_id == site.id,
                InboundOrder.state.in_(("downloaded", "invalid", "duplicate")),
                OrderError.resolved_at.is_(None),
                OrderError.severity == "error",
            )
        )
        or 0
    )
    alarm = site_alarm(session, site, get_settings(), datetime.now(UTC))
    return {
        "id": site.id,
        "name": site.name,
        "kind": site.kind,
        "active": site.active,
        "alarm": alarm.sentence() if alarm else None,
        "dead_letters": dead_letters(session, site.id),
        "warnings": site_warnings(session, site.id),
        "last_import": _last_run(session, site.id, None, "ok"),
        "last_failure": _last_run(session, site.id, None, "failed"),
        "last_incomplete": _last_run(session, site.id, None, "incomplete"),
        "orders": {state: int(orders.get(state, 0)) for state in STATE_ORDER},
        "writebacks": {
            "pending": int(wb[0]),
            "retrying": int(wb[1]),
            "dead": int(wb[2]),
            "held": int(wb[3]),
            "dead_rows": dead,
        },
        "unresolved_errors": int(unresolved),
        "catalog": catalog_status(session, site.id),
    }


def catalog_status(session: Session, site_id: int) -> dict[str, Any]:
    """What the catalog and customer pushes left for a person: items the partner refused (per kind,
    the first few with its message) and customers sent and awaiting the partner."""
    counts = catalog_push.state_counts(session, site_id)
    refused = {kind: per.get("rejected", 0) for kind, per in counts.items() if per.get("rejected")}
    return {
        "rejected": sum(refused.values()),
        "rejected_by_kind": refused,
        "awaiting": sum(per.get("awaiting", 0) for per in counts.values()),
        "rejected_rows": catalog_push.problems(session, site_id, limit=CATALOG_SHOWN) if refused else [],
    }


def newer(a: dict[str, Any] | None, than: dict[str, Any] | None) -> bool:
    """Whether run record ``a`` started after ``than`` (or ``than`` is missing): a failure newer
    than the last good import is worth showing, an older one is not."""
    return a is not None and (than is None or (a["started_at"], a["run_id"]) > (than["started_at"], than["run_id"]))


def site_overview(session: Session, site: Site) -> dict[str, Any]:
    """``site_status`` and what the dashboard shows beside it: the partner's label, the orders per
    holding-area view, the last inventory push (whatever its outcome) and last good one, and the last
    catalog and customer pushes."""
    st = site_status(session, site)
    try:
        spec = partner(site.kind)
        st["label"] = spec.label
        st["offers"] = {name: spec.offers(name) for name in ("orders", "inventory", "catalog", "customers")}
    except UnknownPartner:  # a site of a partner this installation no longer has: show its kind
        st["label"] = site.kind
        st["offers"] = {"orders": False, "inventory": False, "catalog": False, "customers": False}
    st["views"] = {view: sum(st["orders"][s] for s in states) for view, states in VIEWS.items()}
    st["last_push"] = _last_run(session, site.id, PUSH_TASK)  # with its outcome
    st["last_push_ok"] = _last_run(session, site.id, PUSH_TASK, "ok")
    st["last_catalog_push"] = _last_run(session, site.id, CATALOG_TASK)
    st["last_customer_push"] = _last_run(session, site.id, CUSTOMERS_TASK)
    st["failure_is_newer"] = newer(st["last_failure"], st["last_import"])
    st["incomplete_is_newer"] = newer(st["last_incomplete"], st["last_import"])
    return st


def sites_overview(session: Session) -> list[dict[str, Any]]:
    return [site_overview(session, site) for site in session.scalars(select(Site).order_by(Site.id))]


def task_run(session: Session, celery_task_id: str) -> dict[str, Any] | None:
    """The sync run the Celery task ``celery_task_id`` recorded (its newest, if it was retried),
    with its outcome: None while the task has not started."""
    r = session.scalars(
        select(SyncRun).where(SyncRun.celery_task_id == celery_task_id).order_by(SyncRun.id.desc()).limit(1)
    ).first()
    return _run_record(r, with_outcome=True)
