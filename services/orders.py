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
- ``list_orders`` also searches (``q``: partner order number, PO, customer; ``SEARCH_MIN``
  characters at least), filters (an open problem's ``code``, the order date ``date_from`` /
  ``date_to``), sorts (``SORTS``, each read from an index) and counts up to a ``count_limit``, for
  the console's holding area at 100,000 orders (``bench/bench_holding.py`` times it); ``order_history`` is an order's life in time order (held, problems found
  and resolved, imported, each status sent back, each change a person made in the console).
- What a fix chooses from: ``erp_codes`` (terms, ship-via, reps, warehouses, price types),
  ``division_customers`` and ``customer_candidates``; ``state_stamps`` and ``open_order_states``
  let a caller tell whether an order changed since it was shown, and what a fix released.
- ``resolve_order_refs`` turns what people type for an order — a Bobbin id, or
  ``SITE:PARTNER_ORDER_ID`` (the site's name and the order's number on the partner) — into ids.
- The smaller reads (``states_of``, ``sites_of``, ``site_choices``, ``valid_order_ids``,
  ``pending_outbox_ids``, ``outbox_rows``) are what a command needs around a change it asks of
  ``services.fixes`` or ``services.writeback``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session, load_only

from models import (
    ConsoleAction,
    Customer,
    CustomerDeposit,
    InboundOrder,
    OrderError,
    OutboxEntry,
    PriceType,
    SalesOrder,
    SalesRep,
    ShipVia,
    Site,
    Terms,
    Warehouse,
    WritebackAttempt,
)
from models.orders import ORDER_SEARCH_TEXT, SORT_PREFIX
from services import problems
from services.fixes import FixError
from services.holding import OPEN_STATES, read_normalized


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
    """The orders of one page, newest first, and how many matched in all; ``capped``: more than
    ``total`` matched (the count stopped at the ``count_limit`` it was given)."""

    rows: list[OrderRow]
    total: int
    capped: bool = False


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


# The orders a list can be sorted by: name -> column (a name with a leading "-" sorts descending).
# Ties go by id in the same direction; orders with no value come last going up, first going down.
SORTS: dict[str, Any] = {
    "id": InboundOrder.id,
    "date": InboundOrder.order_date,
    "partner": InboundOrder.partner_order_id,
    "po": func.left(InboundOrder.po_number, SORT_PREFIX),  # as indexed (models.orders)
    "customer": func.left(InboundOrder.customer_ref, SORT_PREFIX),
    "state": InboundOrder.state,
    "site": Site.name,
}
DEFAULT_SORT = "-id"
LIST_COLUMNS = (
    InboundOrder.id,
    InboundOrder.site_id,
    InboundOrder.partner_order_id,
    InboundOrder.po_number,
    InboundOrder.customer_ref,
    InboundOrder.customer_code,
    InboundOrder.order_date,
    InboundOrder.line_count,
    InboundOrder.total,
    InboundOrder.currency,
    InboundOrder.state,
)
SEARCH_MAX = 100  # characters of a search that are used
# Characters a search needs: the trigram index answers a search from its three-letter pieces, so a
# shorter one would read every order (half a second at 100,000 orders, measured) to match few.
SEARCH_MIN = 3


class OrderQueryError(FixError):
    """A list was asked for in a way it cannot be (an unknown sort, dates the wrong way round)."""


def check_sort(sort: str) -> str:
    """``sort`` if it names a column of ``SORTS`` (optionally with a leading "-"), else OrderQueryError."""
    if sort.removeprefix("-") not in SORTS:
        names = ", ".join(sorted(SORTS))
        raise OrderQueryError(
            f"cannot sort by {sort!r}: sort by one of {names} (a leading - sorts newest/highest first)"
        )
    return sort


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(q: str) -> ColumnElement[bool]:
    """Orders whose partner order number, PO, customer (as the partner names it) or ERP customer
    code contains ``q``, ignoring case (the trigram index ``ix_inbound_order_search`` answers it).
    OrderQueryError when ``q`` is shorter than ``SEARCH_MIN`` characters."""
    text = q.strip()[:SEARCH_MAX]
    if len(text) < SEARCH_MIN:
        raise OrderQueryError(
            f"search for at least {SEARCH_MIN} characters of a partner order number, PO or customer "
            f"({text!r} is too short to look for among all the orders)"
        )
    return literal_column(ORDER_SEARCH_TEXT).ilike(_like(text), escape="\\")


def _count(session: Session, where: Sequence[ColumnElement[bool]], limit: int | None = None) -> int:
    """How many orders match ``where``; with ``limit``, counting stops there (at most ``limit``)."""
    if limit is None:
        return session.scalar(select(func.count()).select_from(InboundOrder).where(*where)) or 0
    matched = select(InboundOrder.id).where(*where).limit(limit).subquery()
    return session.scalar(select(func.count()).select_from(matched)) or 0


def _rows(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    limit: int | None,
    offset: int,
) -> list[tuple[InboundOrder, str]]:
    """The list columns and site name of the orders matching ``where`` in ``order_by``'s order.

    A page is found first by id alone — a read of an index when the sort and filters have one
    (``(column, id)``), skipping ``offset`` entries without touching the table — and only its
    orders are then read (the last of 2,000 pages: 24 ms instead of 0.26 s, measured)."""
    # Only the columns a list shows: the payload stays on disk.
    query = (
        select(InboundOrder, Site.name)
        .options(load_only(*LIST_COLUMNS, raiseload=True))
        .join(Site, Site.id == InboundOrder.site_id)
    )
    if limit is None:
        return [(o, name) for o, name in session.execute(query.where(*where).order_by(*order_by).offset(offset))]
    page = select(InboundOrder.id).where(*where).order_by(*order_by).limit(limit).offset(offset).subquery("page")
    query = query.join(page, page.c.id == InboundOrder.id).order_by(*order_by)
    return [(o, name) for o, name in session.execute(query)]


def _rows_by_site(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    by_id: ColumnElement[Any],
    descending: bool,
    limit: int,
    offset: int,
) -> list[tuple[InboundOrder, str]]:
    """A page of the orders sorted by site name (then id): site by site, each read from the index
    on (site_id, id). No index holds the sites' names, and one sort of every order by name would
    read the whole table (0.2-0.4 s at 100,000 orders, measured); sites are few."""
    names = Site.name.desc() if descending else Site.name.asc()
    out: list[tuple[InboundOrder, str]] = []
    skip = offset
    for site_id in session.scalars(select(Site.id).order_by(names)):
        if len(out) >= limit:
            break
        in_site = [*where, InboundOrder.site_id == site_id]
        if skip:
            before = _count(session, in_site, skip)  # the site's orders that come before the page
            if before < skip:
                skip -= before
                continue
        out += _rows(session, in_site, [by_id], limit - len(out), skip)
        skip = 0
    return out


def list_orders(
    session: Session,
    *,
    site_id: int | None = None,
    states: Collection[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
    q: str | None = None,
    code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    sort: str = DEFAULT_SORT,
    count_limit: int | None = None,
) -> OrderPage:
    """Orders of one site (or all) in the given states (or any), sorted by ``sort`` (newest first
    by default): ``limit`` of them (None: all) after the first ``offset``, and the total that matched.

    ``q`` keeps the orders whose partner order number, PO or customer contains it (any case, at
    least ``SEARCH_MIN`` characters); ``code`` those with an open problem of that code;
    ``date_from`` / ``date_to`` those ordered on or after / on or before that day (an order with no
    date is left out when either is given). With ``count_limit``, the total is counted up to that
    many: past it the page says ``capped`` (counting every match of a broad search reads most of
    the table; its first pages do not)."""
    check_sort(sort)
    if date_from and date_to and date_from > date_to:
        raise OrderQueryError(f"the dates are the wrong way round: {date_from} is after {date_to}")
    where: list[ColumnElement[bool]] = []
    if site_id is not None:
        where.append(InboundOrder.site_id == site_id)
    if states:
        where.append(InboundOrder.state.in_(states))
    if q and q.strip():
        where.append(search_condition(q))
    if code:
        where.append(
            exists().where(
                OrderError.order_id == InboundOrder.id, OrderError.code == code, OrderError.resolved_at.is_(None)
            )
        )
    if date_from:
        where.append(InboundOrder.order_date >= date_from)
    if date_to:
        where.append(InboundOrder.order_date <= date_to)
    if count_limit is None:
        total, capped = _count(session, where), False
    else:
        total = _count(session, where, count_limit + 1)
        total, capped = min(total, count_limit), total > count_limit
    column = SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    # Ids follow the order dates (orders are held as they come), so reading ids newest first to
    # find a range of dates reads every newer order before it — the planner, taking the two as
    # unrelated, expects the range to turn up at once (an old month: 0.44 s at 100,000 orders).
    # Sorted as an expression the id is not read from its index: the range is read from the date
    # index and its ids sorted (6 ms).
    id_key: Any = InboundOrder.id + 0 if date_from or date_to else InboundOrder.id
    by_id: ColumnElement[Any] = id_key.desc() if descending else id_key.asc()
    # Postgres's own placing of empty values (last going up, first going down), and ties by id in
    # the same direction: what an index on (column, id) gives by reading it forwards or backwards.
    if column is InboundOrder.id or (column is Site.name and site_id is not None):
        order_by = [by_id]
    else:
        order_by = [column.desc() if descending else column.asc(), by_id]
    if column is Site.name and site_id is None and limit is not None:
        found = _rows_by_site(session, where, by_id, descending, limit, offset)
    else:
        found = _rows(session, where, order_by, limit, offset)
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
    return OrderPage(rows=rows, total=total, capped=capped)


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


def sites_of(session: Session, order_ids: Sequence[int]) -> dict[int, int]:
    """order id -> its site's id (ids with no order are left out)."""
    if not order_ids:
        return {}
    return {
        oid: site_id
        for oid, site_id in session.execute(
            select(InboundOrder.id, InboundOrder.site_id).where(InboundOrder.id.in_(order_ids))
        )
    }


def site_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every site, by name: what a list of orders can be narrowed to."""
    return [(sid, name) for sid, name in session.execute(select(Site.id, Site.name).order_by(Site.name))]


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
        if w.inbound_order_id is not None  # (the query names orders only)
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
    norm = read_normalized(order, site.kind)
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
    deposit = (
        session.scalar(select(CustomerDeposit.amount).where(CustomerDeposit.sales_order_id == so.id))
        if so is not None
        else None
    )
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
        else {
            "number": so.number,
            "status": so.status,
            "total": so.total,
            "created_at": so.created_at,
            # a marketplace sale's money (eBay): shipping as one amount, what the buyer paid, the tax it remits
            "freight": so.freight or None,
            "deposit": deposit,
            "marketplace_tax": so.marketplace_tax,
        },
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


# --- an order's history --------------------------------------------------------------------------


class HistoryEvent(TypedDict):
    """One thing that happened to an order: when, what (in words), and who (a person's name, or
    ``Bobbin`` for what the pipeline did by itself)."""

    at: datetime
    what: str
    who: str
    kind: str  # held, problem, resolved, checked, imported, writeback, attempt, action


def order_history(session: Session, order_id: int) -> list[HistoryEvent]:
    """What happened to the order, oldest first (OrderNotFound when there is none): held, each
    problem found and resolved, last checked, imported, each status queued for the partner and
    each try to send it, and each change a person made to it (``console_action``, with who)."""
    order = session.get(InboundOrder, order_id)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    bobbin = "Bobbin"
    events: list[HistoryEvent] = [
        {"at": order.first_seen_at, "what": "held in the holding area (downloaded)", "who": bobbin, "kind": "held"}
    ]
    for e in session.scalars(select(OrderError).where(OrderError.order_id == order_id).order_by(OrderError.id)):
        where = f" (line {e.line_no})" if e.line_no is not None else ""
        value = f": {e.value}" if e.value else ""
        word = "warning" if e.severity == "warning" else "problem"
        events.append(
            {"at": e.first_seen_at, "what": f"{word} {e.code}{where}{value}", "who": bobbin, "kind": "problem"}
        )
        if e.resolved_at is not None:
            events.append({"at": e.resolved_at, "what": f"{e.code}{where} resolved", "who": bobbin, "kind": "resolved"})
    if order.validated_at is not None:
        events.append({"at": order.validated_at, "what": "checked (last validation)", "who": bobbin, "kind": "checked"})
    so = session.scalar(select(SalesOrder).where(SalesOrder.inbound_order_id == order_id))
    if order.imported_at is not None or so is not None:
        at = order.imported_at or (so.created_at if so is not None else order.first_seen_at)
        number = f" as ERP order {so.number}" if so is not None else ""
        events.append({"at": at, "what": f"imported{number}", "who": bobbin, "kind": "imported"})
    outbox = session.scalars(select(OutboxEntry).where(OutboxEntry.inbound_order_id == order_id)).all()
    statuses = {w.id: w.status for w in outbox}
    for w in outbox:
        events.append(
            {"at": w.created_at, "what": f'"{w.status}" queued for the partner', "who": bobbin, "kind": "writeback"}
        )
    if statuses:
        for a in session.scalars(
            select(WritebackAttempt).where(WritebackAttempt.outbox_id.in_(list(statuses))).order_by(WritebackAttempt.id)
        ):
            if a.ok is None:
                said = "no answer recorded"
            elif a.ok:
                said = f"sent ({a.note})" if a.note else "sent"
            else:
                said = f"failed: {a.error or '?'}"
            events.append(
                {"at": a.attempted_at, "what": f'"{statuses[a.outbox_id]}" {said}', "who": bobbin, "kind": "attempt"}
            )
    for act in session.scalars(
        select(ConsoleAction).where(ConsoleAction.order_id == order_id).order_by(ConsoleAction.at, ConsoleAction.id)
    ):
        detail = act.detail if isinstance(act.detail, dict) else {}
        at = act.at
        try:  # a change recorded once made is placed when the person asked for it, before what it caused
            at = min(at, datetime.fromisoformat(str(detail["asked_at"])))
        except (KeyError, ValueError, TypeError):
            pass
        events.append({"at": at, "what": str(detail.get("summary") or act.action), "who": act.actor, "kind": "action"})
    # what a person did comes before what Bobbin did at the same moment (the same transaction)
    events.sort(key=lambda ev: (ev["at"], ev["kind"] != "action"))
    return events


# --- what a fix chooses from ---------------------------------------------------------------------

# mapping kind (and "price_type") -> the ERP table's code and the words shown beside it
_CODE_TABLES: dict[str, tuple[Any, Any]] = {
    "terms": (Terms.code, Terms.description),
    "ship_via": (ShipVia.code, ShipVia.description),
    "sales_rep": (SalesRep.code, SalesRep.name),
    "warehouse": (Warehouse.code, Warehouse.name),
    "price_type": (PriceType.code, PriceType.description),
}
ERP_CODE_KINDS = tuple(_CODE_TABLES)
CODES_MAX = 1000  # codes offered in one list (an ERP has tens of each)


def erp_codes(session: Session, kind: str) -> list[tuple[str, str]]:
    """(code, words) of the ERP's terms, ship-vias, sales reps, warehouses or price types (a price
    type says its currency), sorted by code: what a mapping of that kind may point at."""
    if kind not in _CODE_TABLES:
        raise OrderQueryError(f"no ERP codes of kind {kind!r}: use one of {', '.join(ERP_CODE_KINDS)}")
    code, label = _CODE_TABLES[kind]
    columns = [code, label] + ([PriceType.currency] if kind == "price_type" else [])
    out = []
    for row in session.execute(select(*columns).order_by(code).limit(CODES_MAX)):
        words = row[1] or ""
        if kind == "price_type":
            words = f"{words} ({row[2]})" if words else row[2]
        out.append((row[0], words))
    return out


class CustomerChoice(TypedDict):
    code: str
    name: str
    email: str | None
    why: str  # why it is offered: "same e-mail", "same name", "division WHSL"


def division_customers(session: Session, division_code: str | None, limit: int = 500) -> list[CustomerChoice]:
    """The ERP customers of a division (all, when the site has none), by name: at most ``limit``."""
    query = select(Customer.code, Customer.name, Customer.email).order_by(Customer.name, Customer.code).limit(limit)
    if division_code:
        query = query.where(Customer.division_code == division_code)
    why = f"division {division_code}" if division_code else "ERP customer"
    return [{"code": c, "name": n, "email": e, "why": why} for c, n, e in session.execute(query)]


def customer_candidates(session: Session, order_id: int, limit: int = 20) -> list[CustomerChoice]:
    """ERP customers the order's customer may be: the same e-mail, or the same name (any case) —
    the matches that were not taken by themselves because they were not unique, or not exact."""
    order = session.get(InboundOrder, order_id)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    site = session.get(Site, order.site_id)
    assert site is not None
    customer = read_normalized(order, site.kind).get("customer") or {}
    email = str(customer.get("email") or "").strip().lower()
    name = str(customer.get("name") or order.customer_ref or "").strip().lower()
    conditions = []
    if email:
        conditions.append(func.lower(Customer.email) == email)
    if name:
        conditions.append(func.lower(Customer.name) == name)
    if not conditions:
        return []
    out: list[CustomerChoice] = []
    for code, cname, cemail in session.execute(
        select(Customer.code, Customer.name, Customer.email)
        .where(or_(*conditions))
        .order_by(Customer.code)
        .limit(limit)
    ):
        same_email = bool(email) and (cemail or "").strip().lower() == email
        out.append({"code": code, "name": cname, "email": cemail, "why": "same e-mail" if same_email else "same name"})
    return out


# --- did it change? ------------------------------------------------------------------------------


def state_stamps(session: Session, order_ids: Sequence[int]) -> dict[int, tuple[str, datetime | None]]:
    """order id -> (state, validated_at) now: what changes whenever the order is checked, fixed,
    imported or rejected (ids with no order are left out)."""
    if not order_ids:
        return {}
    return {
        oid: (state, validated_at)
        for oid, state, validated_at in session.execute(
            select(InboundOrder.id, InboundOrder.state, InboundOrder.validated_at).where(InboundOrder.id.in_(order_ids))
        )
    }


def open_order_states(session: Session, site_ids: Collection[int]) -> dict[int, str]:
    """order id -> state of the sites' orders still open (not imported, not rejected): taken
    before a fix, it tells which orders the fix released."""
    if not site_ids:
        return {}
    return {
        oid: state
        for oid, state in session.execute(
            select(InboundOrder.id, InboundOrder.state).where(
                InboundOrder.site_id.in_(list(site_ids)), InboundOrder.state.in_(OPEN_STATES)
            )
        )
    }
