"""Import valid inbound orders into the ERP sales-order tables: all or nothing, at most once.

An import locks the inbound rows (FOR UPDATE), writes the sales orders and their lines, sets the
inbound orders ``imported`` and queues their "exported" writebacks — committed together or not
at all. ``import_batch`` does it for a whole batch in a few statements (the normal path);
``import_order`` does one order after checking it again (by hand, and the fallback when a batch
fails). ``sales_order.inbound_order_id`` is unique, so even two workers racing on the same order
cannot import it twice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from connectors.base import Address, PartnerOrder, PartnerOrderLine
from models import CustomerDeposit, InboundOrder, OrderError, SalesOrder, SalesOrderLine, Site
from services.context import SiteContext
from services.holding import check_order
from services.masterdata import MasterData
from services.outbox import queue_exported
from services.validation import Outcome


@dataclass(frozen=True)
class ImportResult:
    order_id: int
    imported: bool
    reason: str = ""
    sales_order: str | None = None


def import_order(
    session: Session,
    order_id: int,
    md: MasterData,
    *,
    allow_duplicate: bool = False,
    ctx: SiteContext | None = None,
) -> ImportResult:
    """Import one order in the caller's transaction (the caller commits or rolls back). ``ctx``:
    the order's site, when the caller has it."""
    order = session.scalar(select(InboundOrder).where(InboundOrder.id == order_id).with_for_update())
    if order is None:
        return ImportResult(order_id, False, "no such order")
    existing = session.scalar(select(SalesOrder.number).where(SalesOrder.inbound_order_id == order_id))
    if existing or order.state == "imported":
        return ImportResult(order_id, False, "already imported", existing)
    allowed = ("valid", "duplicate") if allow_duplicate else ("valid",)
    if order.state not in allowed:
        return ImportResult(order_id, False, f"order is {order.state}, not valid")
    if ctx is None or ctx.id != order.site_id:
        site = session.get(Site, order.site_id)
        assert site is not None
        ctx = SiteContext.of(site)
    partner, outcome = check_order(order, ctx, md)
    blocking = [p for p in outcome.errors if not (allow_duplicate and p.code == "duplicate_po")]
    if blocking:
        return ImportResult(order_id, False, "; ".join(p.message for p in blocking[:3]))
    assert outcome.resolved.customer_code is not None
    lines = _lines(partner)
    r = outcome.resolved
    so = SalesOrder(**_sales_order_row(order_id, ctx.site, partner, outcome))
    session.add(so)
    session.flush()
    so.number = sales_order_number(so.id)
    session.execute(
        insert(SalesOrderLine),
        [
            {
                "sales_order_id": so.id,
                "line_no": ln.line_no,
                "sku": r.line_skus[ln.line_no],
                "quantity": int(ln.quantity or 0),  # (a valid order's lines all have one)
                "price": ln.price,
            }
            for ln in lines
        ],
    )
    _write_deposits(session, ctx, [(so.id, partner, r.customer_code)])
    order.state = "imported"
    order.imported_at = func.now()
    if allow_duplicate:
        session.execute(
            update(OrderError)
            .where(OrderError.order_id == order_id, OrderError.code == "duplicate_po", OrderError.resolved_at.is_(None))
            .values(resolved_at=func.now())
        )
    queue_exported(session, ctx, [order_id], "imported")
    session.flush()
    return ImportResult(order_id, True, sales_order=so.number)


def import_batch(
    session: Session, ctx: SiteContext, checked: dict[int, tuple[PartnerOrder, Outcome]]
) -> list[ImportResult]:
    """Import many valid orders in one transaction, a few statements for the whole batch.

    Each order is still all or nothing: the batch commits whole or not at all, and the caller
    falls back to ``import_order`` one by one when it fails. Orders whose row changed since they
    were checked (no longer ``valid``) or that already have a sales order are left out."""
    if not checked:
        return []
    ids = sorted(checked)
    still_valid = set(
        session.scalars(
            select(InboundOrder.id).where(InboundOrder.id.in_(ids), InboundOrder.state == "valid").with_for_update()
        )
    )
    already = set(session.scalars(select(SalesOrder.inbound_order_id).where(SalesOrder.inbound_order_id.in_(ids))))
    todo = [oid for oid in ids if oid in still_valid and oid not in already]
    if not todo:
        return [ImportResult(oid, False, "not valid any more or already imported") for oid in ids]
    numbers = _write_sales_orders(session, ctx, checked, todo)
    session.execute(
        update(InboundOrder).where(InboundOrder.id.in_(todo)).values(state="imported", imported_at=func.now())
    )
    queue_exported(session, ctx, todo, "imported")
    skipped = [ImportResult(oid, False, "not valid any more or already imported") for oid in ids if oid not in todo]
    return [ImportResult(oid, True, sales_order=numbers[oid]) for oid in todo] + skipped


def write_imports(
    session: Session, ctx: SiteContext, checked: dict[int, tuple[PartnerOrder, Outcome]]
) -> list[ImportResult]:
    """The sales orders of orders just validated in this transaction, their inbound rows written
    ``imported`` (and so locked) by the caller in it (``services.holding.validate_staged``): the
    headers and lines and the "exported" writebacks, nothing checked again. A sales order that
    exists already fails the batch on its unique key; the caller rolls back to its savepoint and
    imports one by one, which says why."""
    if not checked:
        return []
    todo = sorted(checked)
    numbers = _write_sales_orders(session, ctx, checked, todo)
    queue_exported(session, ctx, todo, "imported")
    return [ImportResult(oid, True, sales_order=numbers[oid]) for oid in todo]


# ``n`` ids from sales_order's sequence (its name looked up once per statement, not once per id).
NEXT_SALES_ORDER_IDS = text(
    "SELECT nextval(q.seq) FROM (SELECT CAST(pg_get_serial_sequence('sales_order', 'id') AS regclass) AS seq) AS q, "
    "generate_series(1, :n)"
)


def _write_sales_orders(
    session: Session, ctx: SiteContext, checked: dict[int, tuple[PartnerOrder, Outcome]], todo: list[int]
) -> dict[int, str]:
    """COPY the sales orders of ``todo`` and their lines; their numbers by inbound order id."""
    # Ids drawn from the table's own sequence first, so headers and lines go in by COPY in one pass
    # each (no statement per order, no RETURNING to wait for) and the number is known here.
    so_ids = dict(
        zip(
            todo,
            session.scalars(NEXT_SALES_ORDER_IDS, {"n": len(todo)}),
            strict=True,
        )
    )
    numbers = {oid: sales_order_number(so_ids[oid]) for oid in todo}
    header_rows = []
    for oid in todo:
        row = _sales_order_row(oid, ctx.site, *checked[oid])
        row.update(id=so_ids[oid], number=numbers[oid], status="open")
        header_rows.append([None if row[c] == "" else row[c] for c in SALES_ORDER_COPY_COLUMNS])
    copy_rows(session, SalesOrder.__table__, SALES_ORDER_COPY_COLUMNS, header_rows)
    copy_rows(
        session,
        SalesOrderLine.__table__,
        ("sales_order_id", "line_no", "sku", "quantity", "price"),
        (
            (so_ids[oid], ln.line_no, checked[oid][1].resolved.line_skus[ln.line_no], int(ln.quantity), ln.price)  # type: ignore[arg-type]
            for oid in todo
            for ln in _lines(checked[oid][0])
        ),
    )
    _write_deposits(
        session, ctx, [(so_ids[oid], checked[oid][0], checked[oid][1].resolved.customer_code) for oid in todo]
    )
    return numbers


def _write_deposits(session: Session, ctx: SiteContext, orders: Iterable[tuple[int, PartnerOrder, str | None]]) -> None:
    """What the buyer already paid for each order (a marketplace sale): one deposit per sales
    order, applied by the ERP to its invoice (seed 004)."""
    rows = [
        {
            "sales_order_id": so_id,
            "customer_code": customer,
            "amount": partner.deposit,
            "currency": partner.currency if partner.currency and len(partner.currency) == 3 else None,
            "reference": f"{ctx.label} order {partner.partner_order_id}"[:200],
        }
        for so_id, partner, customer in orders
        if partner.deposit is not None and partner.deposit > 0 and customer
    ]
    if rows:
        session.execute(insert(CustomerDeposit), rows)


def sales_order_number(sales_order_id: int) -> str:
    """The ERP order number of a sales order: SO and its id, seven digits at least."""
    return f"SO{sales_order_id:07d}"


def copy_rows(session: Session, table: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write many rows with Postgres COPY, in the session's transaction (the fastest bulk path:
    no statement to compile, no parameters to bind — the benchmark's floor)."""
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    buf.seek(0)
    cursor = session.connection().connection.cursor()
    try:
        cursor.copy_expert(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)
    finally:
        cursor.close()


# The sales_order columns an import writes (COPY; created_at keeps its default). An empty text goes
# in as NULL: CSV cannot tell the two apart, and the mappers already read blank values as None.
SALES_ORDER_COPY_COLUMNS = (
    "id",
    "number",
    "inbound_order_id",
    "site_id",
    "division_code",
    "customer_code",
    "po_number",
    "order_date",
    "start_date",
    "cancel_date",
    "terms_code",
    "ship_via_code",
    "rep_code",
    "warehouse_code",
    "currency",
    "ship_to_name",
    "ship_to_line1",
    "ship_to_line2",
    "ship_to_city",
    "ship_to_state",
    "ship_to_postal_code",
    "ship_to_country",
    "status",
    "total",
    "freight",
    "marketplace_tax",
)


def _lines(partner: PartnerOrder) -> list[PartnerOrderLine]:
    return [ln for ln in partner.lines if ln.quantity is not None and ln.price is not None]


def _sales_order_row(order_id: int, site: Site, partner: PartnerOrder, outcome: Outcome) -> dict[str, Any]:
    r, ship_to = outcome.resolved, partner.ship_to or Address()
    return {
        "number": f"PENDING-{order_id}",
        "inbound_order_id": order_id,
        "site_id": site.id,
        "division_code": site.division_code,
        "customer_code": r.customer_code,
        "po_number": partner.po_number,
        "order_date": partner.order_date,
        "start_date": partner.ship_date,
        "cancel_date": partner.cancel_date,
        "terms_code": r.terms_code,
        "ship_via_code": r.ship_via_code,
        "rep_code": r.rep_code,
        "warehouse_code": r.warehouse_code,
        "currency": partner.currency if partner.currency and len(partner.currency) == 3 else None,
        "ship_to_name": ship_to.name,
        "ship_to_line1": ship_to.line1,
        "ship_to_line2": ship_to.line2,
        "ship_to_city": ship_to.city,
        "ship_to_state": ship_to.state,
        "ship_to_postal_code": ship_to.postal_code,
        "ship_to_country": ship_to.country,
        "total": sum((ln.quantity * ln.price for ln in _lines(partner)), Decimal("0")),  # type: ignore[operator]
        "freight": partner.freight or Decimal("0"),
        "marketplace_tax": partner.marketplace_tax,
    }
