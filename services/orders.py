"""Orders in the holding area as people look at them: lists, one order in full, where orders stand now.

Read only, and plain data out: every function takes a session and returns dicts, dataclasses and
lists, which the CLI (``bobbin orders``) renders as tables or JSON and the web console as pages.

- ``list_orders`` is one page of orders, newest first, filtered by site and state, with the total
  that matched; each row carries its open error and warning codes and its ERP order number.
- ``order_detail`` is one order in full: header and lines from the normalized order, open problems
  with what to do about each, resolved ones, its ERP order, and the status changes sent back to the
  partner with every attempt.
- ``order_outcomes`` says where given orders stand after a fix or an import (state, ERP order,
  open error codes); an id with no order is kept, with no state.
- ``resolve_order_refs`` turns what people type for an order — a Bobbin id, or
  ``SITE:PARTNER_ORDER_ID`` (the site's name and the order's number on the partner) — into ids.
- The smaller reads (``states_of``, ``valid_order_ids``, ``pending_outbox_ids``, ``outbox_rows``)
  are what a command needs around a change it asks of ``services.fixes`` or ``services.writeback``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import InboundOrder, OrderError, OutboxEntry, SalesOrder, Site, WritebackAttempt
from services import problems
from services.fixes import FixError


class OrderNotFound(FixError):
    """No order has this id."""


class OrderRefError(FixError):
    """An order reference names no order: an unknown site, or no such partner order on it."""


class OrderRow(TypedDict):
    """One order as a list shows it."""

    id: int
    site: str
    site_id: int
    partner_order_id: str
    po_number: str | None
    customer_ref: str | None
    customer_code: str | None
    order_date: date | None
    lines: int
    total: Decimal | None
    currency: str | None
    state: str
    error_codes: list[str]
    warning_codes: list[str]
    sales_order: str | None


@dataclass(frozen=True)
class OrderPage:
    """The orders of one page, newest first, and how many matched in all."""

    rows: list[OrderRow]
    total: int


class OrderOutcome(TypedDict):
    """Where an order stands now; ``state`` (and the rest) is None when there is no such order."""

    id: int
    state: str | None
    site: str | None
    partner_order_id: str | None
    sales_order: str | None
    error_codes: list[str]


@dataclass(frozen=True)
class OutboxRow:
    """A status change queued for the partner, as far as it went."""

    order_id: int
    status: str
    state: str  # pending, sent, held or dead
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None


# --- naming orders ------------------------------------------------------------------------------

REF_HELP = "a Bobbin order id (the ID column of `bobbin orders list`) or SITE:PARTNER_ORDER_ID"


def ref_syntax_error(ref: str) -> str | None:
    """Why ``ref`` cannot name an order (None when it can): a Bobbin order id (digits) or
    ``SITE:PARTNER_ORDER_ID``."""
    text = ref.strip()
    if text.isdigit():
        return None
    site, colon, partner_id = text.partition(":")
    if colon and site.strip() and partner_id.strip():
        return None
    return f"{ref!r} is not an order: give {REF_HELP}"


def resolve_order_refs(session: Session, refs: Sequence[str | int]) -> list[int]:
    """Bobbin order ids for ``refs``, in the order given, each once. A ref is a Bobbin order id
    (taken as it is: a command says itself when there is no such order) or
    ``SITE:PARTNER_ORDER_ID`` — the site's name (or id) and the order's id on the partner, as
    ``orders list`` shows them (e.g. ``shop:9012``). Raises OrderRefError, one line,
    for a malformed ref, an unknown site (naming the sites) or a partner id the site does not hold."""
    from services.sites import SiteError, get_site

    parsed: list[int | tuple[int, str]] = []  # a Bobbin id, or (site id, partner order id)
    names: dict[int, str] = {}
    for ref in refs:
        if isinstance(ref, int):
            parsed.append(ref)
            continue
        why = ref_syntax_error(ref)
        if why:
            raise OrderRefError(why)
        text = ref.strip()
        if text.isdigit():
            parsed.append(int(text))
            continue
        site_ref, _, partner_id = text.partition(":")
        try:
            site = get_site(session, site_ref.strip())
        except SiteError as exc:
            raise OrderRefError(f"{text}: {exc}") from None
        names[site.id] = site.name
        parsed.append((site.id, partner_id.strip()))
    found: dict[tuple[int, str], int] = {}
    for site_id, name in names.items():
        pids = [p[1] for p in parsed if isinstance(p, tuple) and p[0] == site_id]
        for oid, pid in session.execute(
            select(InboundOrder.id, InboundOrder.partner_order_id).where(
                InboundOrder.site_id == site_id, InboundOrder.partner_order_id.in_(pids)
            )
        ):
            found[(site_id, pid)] = oid
        missing = [pid for pid in pids if (site_id, pid) not in found]
        if missing:
            held = (
                session.scalar(select(func.count()).select_from(InboundOrder).where(InboundOrder.site_id == site_id))
                or 0
            )
            raise OrderRefError(
                f"{name} holds no order with partner order id {', '.join(dict.fromkeys(missing))} "
                f"({held:,} order{'' if held == 1 else 's'} held there: `bobbin orders list --site {name}`; "
                f"one still waiting on the partner is held by its next import: `bobbin import {name}`)"
            )
    return list(dict.fromkeys(p if isinstance(p, int) else found[p] for p in parsed))


# --- problems and ERP orders of many orders -------------------------------------------------------


def open_problem_codes(session: Session, order_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """order id -> [(code, severity)] of its open problems, errors first, each code once."""
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not order_ids:
        return out
    rows = session.execute(
        select(OrderError.order_id, OrderError.code, OrderError.severity)
        .where(OrderError.order_id.in_(order_ids), OrderError.resolved_at.is_(None))
        .order_by(
            OrderError.order_id, (OrderError.severity != "error"), OrderError.line_no.nulls_first(), OrderError.id
        )
    )
    for oid, code, severity in rows:
        if (code, severity) not in out[oid]:
            out[oid].append((code, severity))
    return dict(out)


def sales_order_numbers(session: Session, order_ids: Sequence[int]) -> dict[int, str]:
    """order id -> number of the ERP sales order it was imported as (imported orders only)."""
    if not order_ids:
        return {}
    found = session.execute(
        select(SalesOrder.inbound_order_id, SalesOrder.number).where(SalesOrder.inbound_order_id.in_(order_ids))
    )
    return {oid: number for oid, number in found if oid is not None}


def _codes(codes: dict[int, list[tuple[str, str]]], order_id: int, *, errors: bool) -> list[str]:
    return [c for c, severity in codes.get(order_id, []) if (severity == "error") == errors]


# --- lists ---------------------------------------------------------------------------------------


def list_orders(
    session: Session,
    *,
    site_id: int | None = None,
    states: Collection[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> OrderPage:
    """Orders of one site (or all) in the given states (or any), newest first: ``limit`` of them
    (None: all) after the first ``offset``, and the total that matched."""
    where = []
    if site_id is not None:
        where.append(InboundOrder.site_id == site_id)
    if states:
        where.append(InboundOrder.state.in_(states))
    total = session.scalar(select(func.count()).select_from(InboundOrder).where(*where)) or 0
    query = (
        select(InboundOrder, Site.name)
        .join(Site, Site.id == InboundOrder.site_id)
        .where(*where)
        .order_by(InboundOrder.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    found = session.execute(query).all()
    ids = [o.id for o, _ in found]
    codes = open_problem_codes(session, ids)
    numbers = sales_order_numbers(session, ids)
    rows: list[OrderRow] = [
        {
            "id": o.id,
            "site": name,
            "site_id": o.site_id,
            "partner_order_id": o.partner_order_id,
            "po_number": o.po_number,
            "customer_ref": o.customer_ref,
            "customer_code": o.customer_code,
            "order_date": o.order_date,
            "lines": o.line_count,
            "total": o.total,
            "currency": o.currency,
            "state": o.state,
            "error_codes": _codes(codes, o.id, errors=True),
            "warning_codes": _codes(codes, o.id, errors=False),
            "sales_order": numbers.get(o.id),
        }
        for o, name in found
    ]
    return OrderPage(rows=rows, total=total)


def order_outcomes(session: Session, order_ids: Sequence[int]) -> list[OrderOutcome]:
    """Where the given orders stand now, in the order given: state, ERP order number, open error codes."""
    found = {
        o.id: (o, name)
        for o, name in session.execute(
            select(InboundOrder, Site.name)
            .join(Site, Site.id == InboundOrder.site_id)
            .where(InboundOrder.id.in_(order_ids))
        )
    }
    codes = open_problem_codes(session, order_ids)
    numbers = sales_order_numbers(session, order_ids)
    out: list[OrderOutcome] = []
    for oid in order_ids:
        if oid not in found:
            out.append(
                {
                    "id": oid,
                    "state": None,
                    "site": None,
                    "partner_order_id": None,
                    "sales_order": None,
                    "error_codes": [],
                }
            )
            continue
        order, site = found[oid]
        # (the keys in this order: `--json` output shows them as they come)
        out.append(
            {
                "id": oid,
                "site": site,
                "partner_order_id": order.partner_order_id,
                "state": order.state,
                "sales_order": numbers.get(oid),
                "error_codes": _codes(codes, oid, errors=True),
            }
        )
    return out


def states_of(session: Session, order_ids: Sequence[int]) -> dict[int, str]:
    """order id -> its state now (ids with no order are left out)."""
    if not order_ids:
        return {}
    return {
        oid: state
        for oid, state in session.execute(
            select(InboundOrder.id, InboundOrder.state).where(InboundOrder.id.in_(order_ids))
        )
    }


def valid_order_ids(session: Session, site_id: int | None = None) -> list[int]:
    """Ids of the valid orders of one site (or of every site), oldest first: what an import takes."""
    query = select(InboundOrder.id).where(InboundOrder.state == "valid").order_by(InboundOrder.id)
    if site_id is not None:
        query = query.where(InboundOrder.site_id == site_id)
    return list(session.scalars(query))


# --- status changes sent back --------------------------------------------------------------------


def pending_outbox_ids(session: Session, order_ids: Sequence[int], status: str) -> list[int]:
    """Outbox rows of the given orders for ``status`` still waiting to be sent."""
    if not order_ids:
        return []
    return list(
        session.scalars(
            select(OutboxEntry.id).where(
                OutboxEntry.inbound_order_id.in_(order_ids),
                OutboxEntry.status == status,
                OutboxEntry.state == "pending",
            )
        )
    )


def outbox_rows(session: Session, order_ids: Sequence[int], status: str) -> dict[int, OutboxRow]:
    """order id -> its outbox row for ``status`` (one per order and status), for the orders that have one."""
    if not order_ids:
        return {}
    return {
        w.inbound_order_id: OutboxRow(
            order_id=w.inbound_order_id,
            status=w.status,
            state=w.state,
            attempts=w.attempts,
            last_error=w.last_error,
            next_attempt_at=w.next_attempt_at,
            sent_at=w.sent_at,
        )
        for w in session.scalars(
            select(OutboxEntry).where(OutboxEntry.inbound_order_id.in_(order_ids), OutboxEntry.status == status)
        )
    }


# --- one order -----------------------------------------------------------------------------------


def resolution(code: str, order_id: int, site_name: str, value: str | None) -> str:
    """What a person does about a problem with ``code``, filled in for this order (site, value)."""
    hint = problems.kind(code).resolution
    try:
        from services.notify import fill_in
    except ImportError:  # the notifier is optional here: the bare hint is still right
        return hint
    return fill_in(hint, order_id=order_id, site_name=site_name, value=value)


def _line(ln: dict[str, Any]) -> dict[str, Any]:
    """A normalized order line as shown: what the partner sent where it could not be read."""
    amount = None
    try:
        if ln.get("quantity") is not None and ln.get("price") is not None:
            amount = Decimal(str(ln["quantity"])) * Decimal(str(ln["price"]))
    except ArithmeticError:
        amount = None
    return {
        "line_no": ln.get("line_no"),
        "style_number": ln.get("style_number"),
        "color_code": ln.get("color_code"),
        "size": ln.get("size"),
        "sku_number": ln.get("sku_number"),
        "upc": ln.get("upc"),
        "quantity": ln.get("quantity") if ln.get("quantity") is not None else ln.get("raw_quantity"),
        "price": ln.get("price") if ln.get("price") is not None else ln.get("raw_price"),
        "amount": amount,
    }


def order_detail(session: Session, order_id: int, *, raw: bool = False) -> dict[str, Any]:
    """One order in full (OrderNotFound when there is none): header, customer, addresses, lines,
    open and resolved problems (each with its resolution), the ERP order, and the writebacks with
    their attempts; with ``raw``, also the payload exactly as the partner sent it."""
    order = session.get(InboundOrder, order_id)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    site = session.get(Site, order.site_id)
    assert site is not None
    norm = order.normalized or {}
    customer = norm.get("customer") or {}
    errors = session.scalars(
        select(OrderError)
        .where(OrderError.order_id == order_id)
        .order_by(OrderError.resolved_at.desc().nulls_first(), OrderError.line_no.nulls_first(), OrderError.id)
    ).all()

    def problem(e: OrderError) -> dict[str, Any]:
        return {
            "id": e.id,
            "code": e.code,
            "title": problems.kind(e.code).title,
            "severity": e.severity,
            "line_no": e.line_no,
            "field": e.field,
            "value": e.value,
            "message": e.message,
            "resolution": resolution(e.code, order.id, site.name, e.value),
            "first_seen_at": e.first_seen_at,
            **({"resolved_at": e.resolved_at} if e.resolved_at else {}),
        }

    so = session.scalar(select(SalesOrder).where(SalesOrder.inbound_order_id == order_id))
    outbox = session.scalars(
        select(OutboxEntry).where(OutboxEntry.inbound_order_id == order_id).order_by(OutboxEntry.id)
    ).all()
    attempts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if outbox:
        for a in session.scalars(
            select(WritebackAttempt)
            .where(WritebackAttempt.outbox_id.in_([w.id for w in outbox]))
            .order_by(WritebackAttempt.id)
        ):
            attempts[a.outbox_id].append({"at": a.attempted_at, "ok": a.ok, "error": a.error, "note": a.note})
    record: dict[str, Any] = {
        "id": order.id,
        "site": site.name,
        "site_id": site.id,
        "partner_order_id": order.partner_order_id,
        "partner_status": order.partner_status,
        "state": order.state,
        "po_number": order.po_number,
        "customer": {
            "ref": order.customer_ref,
            "code": order.customer_code,
            "partner_id": customer.get("partner_id"),
            "partner_code": customer.get("code"),
            "name": customer.get("name"),
            "email": customer.get("email"),
        },
        "billing_address": customer.get("billing"),
        "ship_to": norm.get("ship_to"),
        "sales_rep": norm.get("sales_rep"),
        "payment_method": norm.get("payment_method"),
        "shipping_method": norm.get("shipping_method"),
        "warehouse": norm.get("warehouse"),
        "order_date": order.order_date,
        "ship_date": order.ship_date,
        "cancel_date": order.cancel_date,
        "currency": order.currency,
        "total": order.total,
        "line_count": order.line_count,
        "first_seen_at": order.first_seen_at,
        "last_seen_at": order.last_seen_at,
        "validated_at": order.validated_at,
        "imported_at": order.imported_at,
        "sales_order": None
        if so is None
        else {"number": so.number, "status": so.status, "total": so.total, "created_at": so.created_at},
        "lines": [_line(ln) for ln in norm.get("lines") or []],
        "problems": [problem(e) for e in errors if e.resolved_at is None],
        "resolved_problems": [problem(e) for e in errors if e.resolved_at is not None],
        "writebacks": [
            {
                "id": w.id,
                "status": w.status,
                "state": w.state,
                "attempts": w.attempts,
                "last_error": w.last_error,
                "next_attempt_at": w.next_attempt_at,
                "created_at": w.created_at,
                "sent_at": w.sent_at,
                "attempt_log": attempts.get(w.id, []),
            }
            for w in outbox
        ],
    }
    if raw:
        record["raw"] = order.raw
    return record
