"""Where each site stands, as ``bobbin status`` and the console's dashboard show it.

- ``site_status`` is one site's state in plain data: last import (and last failed or incomplete
  one), orders per state, writebacks waiting / retrying / given up / held, open problems, the
  silence alarm, the warnings and the dead letters (``services.reconcile``), and the catalog items
  (and customers) the partner refused or has not settled yet (``services.catalog``). A site whose
  partner sends returns (Loop) has its returns instead (``returns_status``): per state, open
  problems, credits waiting for a person and open exchanges; a site whose partner sends no orders
  has ``orders`` None, not a row of zeros. ``bobbin status`` prints it; its ``--json`` is exactly this.
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

from connectors.registry import CAPABILITIES, UnknownPartner, partner
from core.settings import get_settings
from models import CreditMemo, InboundOrder, InboundReturn, OrderError, OutboxEntry, ReturnError, Rma, Site, SyncRun
from services import catalog as catalog_push
from services import return_queries
from services.reconcile import dead_letters, site_alarm, site_warnings
from services.rma import open_exchanges
from services.runs import is_import

DEAD_SHOWN = 5  # dead writebacks listed per site; the count covers all
STATE_ORDER = ("downloaded", "valid", "invalid", "duplicate", "imported", "rejected")
PUSH_TASK = "%push_inventory"
CATALOG_TASK = "%push_catalog"
CUSTOMERS_TASK = "%push_customers"
CATALOG_SHOWN = 5  # refused catalog items listed per site; the counts cover all
RETURNS_SHOWN = 5  # credits waiting and open exchanges listed per site; the counts cover all
# Returns whose problems need no one any more (credited: done; void: gone in Loop).
RETURNS_SETTLED = ("credited", "void")
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


def _sends(kind: str) -> tuple[bool, bool]:
    """Whether a site of this partner kind sends (orders, returns). A partner this installation no
    longer has: orders, as its sites had before."""
    try:
        spec = partner(kind)
    except UnknownPartner:
        return True, False
    return spec.offers("orders"), spec.offers("returns")


def site_status(session: Session, site: Site) -> dict[str, Any]:
    """One site's state, as ``bobbin status`` shows it (and ``bobbin status --json`` prints it)."""
    sends_orders, sends_returns = _sends(site.kind)
    orders = (
        dict(
            session.execute(
                select(InboundOrder.state, func.count())
                .where(InboundOrder.site_id == site.id)
                .group_by(InboundOrder.state)
            ).all()
        )
        if sends_orders
        else {}
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
            "return_id": w.inbound_return_id,  # a request to a returns partner names a return instead
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
        # None: the site's partner sends no orders (a returns site), so it has none to count.
        "orders": {state: int(orders.get(state, 0)) for state in STATE_ORDER} if sends_orders else None,
        "writebacks": {
            "pending": int(wb[0]),
            "retrying": int(wb[1]),
            "dead": int(wb[2]),
            "held": int(wb[3]),
            "dead_rows": dead,
        },
        "unresolved_errors": int(unresolved),  # of orders; a returns site's are in returns.open_problems
        "catalog": catalog_status(session, site.id),
        "returns": returns_status(session, site.id) if sends_returns else None,
    }


def returns_status(session: Session, site_id: int) -> dict[str, Any]:
    """What a returns site's returns need: how many are in each state, their open problems (errors
    of returns not credited or void), the credit memos waiting for a person to confirm them (Loop's
    refund did not match the RMA's lines) and the exchanges waiting for their order to reach the
    ERP — the first few of each with what a person looks them up by."""
    problems = session.scalar(
        select(func.count())
        .select_from(ReturnError)
        .join(InboundReturn, InboundReturn.id == ReturnError.return_id)
        .where(
            InboundReturn.site_id == site_id,
            InboundReturn.state.not_in(RETURNS_SETTLED),
            ReturnError.resolved_at.is_(None),
            ReturnError.severity == "error",
        )
    )
    waiting = session.execute(
        select(
            InboundReturn.id,
            InboundReturn.loop_return_id,
            Rma.number.label("rma"),
            CreditMemo.number,
            CreditMemo.loop_refund_amount,
            CreditMemo.lines_refund_amount,
            CreditMemo.currency,
        )
        .join(Rma, Rma.inbound_return_id == InboundReturn.id)
        .join(CreditMemo, CreditMemo.rma_id == Rma.id)
        .where(InboundReturn.site_id == site_id, CreditMemo.status == "pending_confirmation")
        .order_by(CreditMemo.id)
    ).all()
    exchange_ids = open_exchanges(session, site_id)
    exchanges = (
        session.execute(
            select(InboundReturn.id, InboundReturn.loop_return_id, Rma.number, Rma.exchange_order_name)
            .join(Rma, Rma.inbound_return_id == InboundReturn.id)
            .where(InboundReturn.id.in_(exchange_ids[:RETURNS_SHOWN]))
            .order_by(InboundReturn.id)
        ).all()
        if exchange_ids
        else []
    )
    return {
        "states": return_queries.state_counts(session, site_id),
        "open_problems": int(problems or 0),
        "credits_waiting": len(waiting),
        "credits_waiting_rows": [
            {
                "return_id": w.id,
                "loop_return_id": w.loop_return_id,
                "rma": w.rma,
                "credit_memo": w.number,
                "loop_refund_amount": w.loop_refund_amount,
                "lines_refund_amount": w.lines_refund_amount,
                "currency": w.currency,
            }
            for w in waiting[:RETURNS_SHOWN]
        ],
        "open_exchanges": len(exchange_ids),
        "open_exchange_rows": [
            {
                "return_id": e.id,
                "loop_return_id": e.loop_return_id,
                "rma": e.number,
                "exchange_order": e.exchange_order_name,
            }
            for e in exchanges
        ],
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
    holding-area view (None for a site without orders), the last inventory push (whatever its outcome) and last good one, and the last
    catalog and customer pushes."""
    st = site_status(session, site)
    try:
        spec = partner(site.kind)
        st["label"] = spec.label
        st["offers"] = {name: spec.offers(name) for name in CAPABILITIES}
    except UnknownPartner:  # a site of a partner this installation no longer has: show its kind
        st["label"] = site.kind
        st["offers"] = dict.fromkeys(CAPABILITIES, False)
    orders = st["orders"]
    st["views"] = (
        {view: sum(orders[s] for s in states) for view, states in VIEWS.items()} if orders is not None else None
    )
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
