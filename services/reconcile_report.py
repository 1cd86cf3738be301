"""The reconciliation report of one site over a period (``bobbin report reconcile``).

Not the reconciler of stuck runs (``services/reconcile.py``): this one reads, writes nothing, and
answers an accountant's question — of the orders of a period, how many were on the partner, in
the holding area, imported to the ERP, handed to the ERP file and shipped, which order is missing
from a stage, and where the ERP order's total is not the partner's.

**Stages**, in the order an order passes them (:data:`STAGES`):

- ``partner`` — on the partner: the orders its list shows *now* as waiting to be imported (the
  site's own filter: the statuses / order types it imports, :func:`partner_covers`), read through
  the site's ``OrderSource`` exactly as an import reads it (nothing is staged or marked). An order
  leaves that list once the partner is told "exported", so it shows what still waits, not every
  order of the period; an order Bobbin holds that the list no longer shows is therefore not an
  exception. ``read_partner=False`` leaves the partner alone (the stage is not counted).
- ``held`` — a row in the holding area (``inbound_order``), in any state.
- ``imported`` — an ERP sales order (``sales_order.inbound_order_id``).
- ``handed_off`` — the sales order written to an ERP file (``erp_handoff``).
- ``shipped`` — the ERP says every line shipped (``shipment`` rows covering each line's
  quantity), or the sales order is ``shipped`` / ``paid``.

**Period**: an order belongs to it by its order date (the partner's, as held; for an order on the
partner that Bobbin never held, as read now) where the order carries one, else by the day Bobbin
first saw it (``inbound_order.first_seen_at`` in ``BOBBIN_TIMEZONE``), else — an order on the
partner, never held and without a date — by the day of the report. Both ends are included.

**Exceptions**: for each order, the first stage it is missing from after one it reached (an
order on the partner that was never held; one held but not imported, with its state and open
problems; one imported but not in an ERP file; one in an ERP file not shipped, partly shipped or
void), and for each imported order whose ERP total — the sum of its ``sales_order_line`` quantity
× price — differs by more than 0.01 from the partner's: the sum of quantity × price of the partner
order's lines (``services.holding.order_total``, with the quantity the site imports), as read from the
partner now when the order is on its list, else as the holding area holds it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from connectors.base import PartnerOrder
from connectors.settings import SiteSettings
from core.db import session_scope
from core.settings import get_settings
from models import ErpHandoff, InboundOrder, SalesOrder, SalesOrderLine, Shipment
from services.context import SiteContext, SiteError
from services.holding import for_site, order_total, partner_order, pg_safe
from services.orders import open_problem_codes
from services.sites import open_site

# (key, label), in the order an order passes them.
STAGES: tuple[tuple[str, str], ...] = (
    ("partner", "On the partner"),
    ("held", "In the holding area"),
    ("imported", "Imported to the ERP"),
    ("handed_off", "Handed to the ERP file"),
    ("shipped", "Shipped"),
)
STAGE_KEYS = tuple(k for k, _ in STAGES)
STAGE_LABELS = dict(STAGES)
TOLERANCE = Decimal("0.01")  # a total difference beyond this is an exception
CENT = Decimal("0.01")
PERIOD_BASIS = (
    "order date (the partner's) where the order has one, else the day Bobbin first saw it "
    "(BOBBIN_TIMEZONE), else — on the partner, never held, no date — the day of this report; both ends included"
)
MISSING, TOTAL = "missing", "total"


class ReportError(SiteError):
    """The report cannot be made as asked (a period that ends before it starts); one line, what to do."""


@dataclass
class Stage:
    key: str
    label: str
    count: int | None  # None: not looked at (the partner, with read_partner=False)
    orders: list[str] = field(default_factory=list)  # SITE:PARTNER_ORDER_ID of each order at the stage
    order_ids: list[int] = field(default_factory=list)  # their Bobbin ids (orders Bobbin holds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.key,
            "label": self.label,
            "count": self.count,
            "orders": self.orders,
            "order_ids": self.order_ids,
        }


@dataclass
class ReportException:
    """One order missing from a stage (``kind`` "missing", ``stage_missing`` says which) or one
    whose ERP total differs from the partner's (``kind`` "total")."""

    order: str  # SITE:PARTNER_ORDER_ID
    order_id: int | None  # the Bobbin id; None for an order Bobbin never held
    partner_order_id: str
    kind: str  # missing | total
    stage_missing: str | None  # a key of STAGES; None for a total difference
    note: str
    state: str | None = None  # the holding area's state
    sales_order: str | None = None  # the ERP sales order number
    partner_total: Decimal | None = None
    erp_total: Decimal | None = None
    currency: str | None = None
    order_date: date | None = None  # the day the period was matched on (see ``dated_by``)
    dated_by: str | None = None  # order date | first seen | report day

    @property
    def difference(self) -> Decimal | None:
        if self.partner_total is None or self.erp_total is None:
            return None
        return (self.erp_total - self.partner_total).quantize(CENT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "order_id": self.order_id,
            "partner_order_id": self.partner_order_id,
            "kind": self.kind,
            "stage_missing": self.stage_missing,
            "state": self.state,
            "sales_order": self.sales_order,
            "partner_total": self.partner_total,
            "erp_total": self.erp_total,
            "difference": self.difference,
            "currency": self.currency,
            "order_date": self.order_date,
            "dated_by": self.dated_by,
            "note": self.note,
        }


@dataclass
class ReconcileReport:
    site: str
    site_id: int
    partner: str
    date_from: date
    date_to: date
    partner_read: bool
    partner_covers: str  # what "on the partner" covers, in words
    generated_at: datetime
    period_basis: str = PERIOD_BASIS
    read_note: str | None = None  # the partner's list shifted while it was read
    stages: list[Stage] = field(default_factory=list)
    exceptions: list[ReportException] = field(default_factory=list)

    def stage(self, key: str) -> Stage:
        return next(s for s in self.stages if s.key == key)

    def missing_counts(self) -> dict[str, int]:
        """stage key -> orders missing from it; "total" -> total differences."""
        out = {k: 0 for k in STAGE_KEYS} | {TOTAL: 0}
        for e in self.exceptions:
            out[e.stage_missing or TOTAL] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "site_id": self.site_id,
            "partner": self.partner,
            "from": self.date_from,
            "to": self.date_to,
            "period_basis": self.period_basis,
            "partner_read": self.partner_read,
            "partner_covers": self.partner_covers,
            "read_note": self.read_note,
            "generated_at": self.generated_at,
            "stages": [s.as_dict() for s in self.stages],
            "missing": self.missing_counts(),
            "exceptions": [e.as_dict() for e in self.exceptions],
        }


# --- what "on the partner" covers -----------------------------------------------------------------


def _setting_text(value: Any) -> str:
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    return str(value)


def import_filter(ctx: SiteContext) -> list[str]:
    """The site's own settings that choose which partner orders it imports (its partner's
    settings described as "… to import"), as "description: value"."""
    model = type(ctx.settings)
    out = []
    for name, info in model.model_fields.items():
        if name in SiteSettings.model_fields:
            continue
        description = info.description or ""
        if "to import" in description:
            out.append(f"{description}: {_setting_text(getattr(ctx.settings, name))}")
    return out


def partner_covers(ctx: SiteContext, read: bool) -> str:
    """What the stage "on the partner" counts, in words, for the report's header."""
    if not ctx.spec.offers("orders"):
        return f"not read: {ctx.label} sites do not import orders"
    if not read:
        return (
            "not read (--no-partner): only Bobbin's tables, what the holding area saw; "
            "partner totals are as Bobbin holds them"
        )
    chosen = import_filter(ctx)
    which = f" ({'; '.join(chosen)})" if chosen else ""
    when = ctx.spec.capability("orders").exported_when
    step = "imported it" if when == "imported" else "held it"
    return (
        f"the orders {ctx.label} lists now as waiting to be imported{which}, dated in the period. "
        f"An order leaves that list once Bobbin has {step} and told {ctx.label} 'exported', so the list "
        f"shows what still waits, not every order of the period: an order Bobbin holds that the list no "
        f"longer shows is not an exception"
    )


# --- reading the partner ------------------------------------------------------------------------


@dataclass
class PartnerRead:
    orders: dict[str, PartnerOrder]  # partner order id (as stored) -> the order as listed now
    read_note: str | None = None


def read_partner(ctx: SiteContext) -> PartnerRead:
    """Every order the site's partner lists as waiting (the site's filter), as an import reads
    them; nothing is staged, marked or recorded. The partner's errors propagate (PartnerError …)."""
    source = ctx.open("orders")
    orders: dict[str, PartnerOrder] = {}
    try:
        for page in source.iter_order_pages():
            for order in page:
                orders[pg_safe(order.partner_order_id)] = for_site(order, ctx.settings)
    finally:
        source.close()
    report = source.read_report
    note = report.sentence()
    if note and not report.complete:
        note += "; orders may be missing from the stage 'on the partner'"
    return PartnerRead(orders, note)


# --- the report ---------------------------------------------------------------------------------


def _zone() -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(get_settings().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def check_period(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise ReportError(
            f"the period starts after it ends (--from {date_from.isoformat()} is after --to {date_to.isoformat()}): "
            "give its first day with --from and its last with --to"
        )


def reconcile_site(
    site_ref: int | str, date_from: date, date_to: date, *, partner: bool = True, now: datetime | None = None
) -> ReconcileReport:
    """The report of one site (id or name) over ``date_from`` … ``date_to`` (both included),
    reading the partner's list unless ``partner`` is False. Database reads only. SiteError for an
    unknown site, ReportError for a period that ends before it starts."""
    check_period(date_from, date_to)
    with session_scope() as s:
        ctx = open_site(s, site_ref)
    read = partner and ctx.spec.offers("orders")
    listed = read_partner(ctx) if read else None  # no transaction open while the partner answers
    with session_scope() as s:
        s.connection().exec_driver_sql("SET TRANSACTION READ ONLY")
        return build_report(s, ctx, date_from, date_to, listed, now=now)


@dataclass
class _Held:
    id: int
    partner_order_id: str
    state: str
    order_date: date | None
    first_seen: date
    total: Decimal | None
    currency: str | None


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def _order_key(pid: str) -> tuple[int, int, str]:
    return (0, int(pid), pid) if pid.isdigit() else (1, 0, pid)


def build_report(
    session: Session,
    ctx: SiteContext,
    date_from: date,
    date_to: date,
    listed: PartnerRead | None,
    *,
    now: datetime | None = None,
) -> ReconcileReport:
    """The report from the database (``session``) and the partner's list as read (``listed``;
    None: the partner was not read)."""
    check_period(date_from, date_to)
    zone = _zone()
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    report = ReconcileReport(
        site=ctx.name,
        site_id=ctx.id,
        partner=ctx.label,
        date_from=date_from,
        date_to=date_to,
        partner_read=listed is not None,
        partner_covers=partner_covers(ctx, listed is not None),
        generated_at=now,
        read_note=listed.read_note if listed else None,
    )

    def ref(pid: str) -> str:
        return f"{ctx.name}:{pid}"

    # The holding area: the period's orders, and every order the partner lists (to know it is held).
    first_seen = cast(func.timezone(str(zone), InboundOrder.first_seen_at), Date)
    day = func.coalesce(InboundOrder.order_date, first_seen)
    columns = (
        InboundOrder.id,
        InboundOrder.partner_order_id,
        InboundOrder.state,
        InboundOrder.order_date,
        first_seen,
        InboundOrder.total,
        InboundOrder.currency,
    )
    held: dict[str, _Held] = {}
    for row in session.execute(select(*columns).where(InboundOrder.site_id == ctx.id, day.between(date_from, date_to))):
        held[row[1]] = _Held(*row)
    listed_orders = listed.orders if listed else {}
    held_elsewhere: dict[str, _Held] = {}  # listed now, held, dated outside the period
    unknown = [pid for pid in listed_orders if pid not in held]
    for chunk in _chunks(unknown, 5000):
        for row in session.execute(
            select(*columns).where(InboundOrder.site_id == ctx.id, InboundOrder.partner_order_id.in_(chunk))
        ):
            held_elsewhere[row[1]] = _Held(*row)

    # Orders on the partner in the period: a held one by its held date, else by its own.
    on_partner: dict[str, tuple[date, str]] = {}  # pid -> (day, dated by)
    for pid, order in listed_orders.items():
        if pid in held_elsewhere:
            continue
        if pid in held:
            h = held[pid]
            on_partner[pid] = (h.order_date or h.first_seen, "order date" if h.order_date else "first seen")
        elif order.order_date is not None:
            if date_from <= order.order_date <= date_to:
                on_partner[pid] = (order.order_date, "order date")
        elif date_from <= today <= date_to:
            on_partner[pid] = (today, "report day")

    # The ERP: sales orders, their lines' totals, hand-offs and shipments.
    ids = [h.id for h in held.values()]
    sales: dict[int, tuple[int, str, str, str | None]] = {}  # inbound id -> (so id, number, status, currency)
    erp_totals: dict[int, Decimal] = {}  # so id -> sum of quantity × price
    handed: dict[int, datetime] = {}  # so id -> when it was written to an ERP file
    line_qty: dict[int, dict[int, int]] = defaultdict(dict)  # so id -> line id -> quantity
    shipped_qty: dict[int, int] = defaultdict(int)  # line id -> quantity shipped
    for chunk in _chunks(ids, 5000):
        for so_id, number, inbound_id, status, currency in session.execute(
            select(
                SalesOrder.id, SalesOrder.number, SalesOrder.inbound_order_id, SalesOrder.status, SalesOrder.currency
            ).where(SalesOrder.inbound_order_id.in_(chunk))
        ):
            if inbound_id is not None:
                sales[inbound_id] = (so_id, number, status, currency)
    so_ids = [v[0] for v in sales.values()]
    for chunk in _chunks(so_ids, 5000):
        for line_id, so_id, quantity, price in session.execute(
            select(
                SalesOrderLine.id, SalesOrderLine.sales_order_id, SalesOrderLine.quantity, SalesOrderLine.price
            ).where(SalesOrderLine.sales_order_id.in_(chunk))
        ):
            line_qty[so_id][line_id] = quantity
            erp_totals[so_id] = erp_totals.get(so_id, Decimal("0")) + Decimal(quantity) * Decimal(price)
        for so_id, at in session.execute(
            select(ErpHandoff.sales_order_id, ErpHandoff.exported_at).where(ErpHandoff.sales_order_id.in_(chunk))
        ):
            handed[so_id] = at
        for line_id, qty in session.execute(
            select(Shipment.sales_order_line_id, func.sum(Shipment.quantity))
            .where(Shipment.sales_order_id.in_(chunk))
            .group_by(Shipment.sales_order_line_id)
        ):
            shipped_qty[line_id] = int(qty or 0)

    def shipped_lines(so_id: int) -> tuple[int, int]:
        lines = line_qty.get(so_id, {})
        return sum(1 for lid, q in lines.items() if shipped_qty.get(lid, 0) >= q), len(lines)

    def is_shipped(so_id: int, status: str) -> bool:
        done, count = shipped_lines(so_id)
        return status in ("shipped", "paid") or (count > 0 and done == count)

    # Partner totals: as listed now, else as held (read again through the mapper when the site
    # imports shipped quantities: the held total is of the ordered ones).
    partner_totals: dict[str, Decimal | None] = {}
    for pid, h in held.items():
        if pid in listed_orders:
            partner_totals[pid] = order_total(listed_orders[pid])
        else:
            partner_totals[pid] = _money(h.total)
    if ctx.settings.quantity != "ordered":
        again = [h.id for pid, h in held.items() if pid not in listed_orders]
        for chunk in _chunks(again, 1000):
            for inbound in session.scalars(select(InboundOrder).where(InboundOrder.id.in_(chunk))):
                partner_totals[inbound.partner_order_id] = order_total(partner_order(inbound, ctx))
    for pid, order in listed_orders.items():
        if pid in on_partner and pid not in held:
            partner_totals[pid] = order_total(order)

    # The stages.
    members: dict[str, list[str]] = {k: [] for k in STAGE_KEYS}
    members["partner"] = list(on_partner)
    for pid, h in held.items():
        members["held"].append(pid)
        so = sales.get(h.id)
        if so is None:
            continue
        members["imported"].append(pid)
        if so[0] in handed:
            members["handed_off"].append(pid)
        if is_shipped(so[0], so[2]):
            members["shipped"].append(pid)
    for key, label in STAGES:
        pids = sorted(members[key], key=_order_key)
        counted = None if key == "partner" and listed is None else len(pids)
        report.stages.append(
            Stage(key, label, counted, [ref(p) for p in pids], [held[p].id for p in pids if p in held])
        )

    # The exceptions.
    problems = open_problem_codes(session, [h.id for h in held.values() if h.state != "imported"])
    for pid in sorted({*held, *on_partner}, key=_order_key):
        found = held.get(pid)
        if found is None:  # on the partner, never held
            day_, dated_by = on_partner[pid]
            order = listed_orders[pid]
            report.exceptions.append(
                ReportException(
                    order=ref(pid),
                    order_id=None,
                    partner_order_id=pid,
                    kind=MISSING,
                    stage_missing="held",
                    note=f"on {ctx.label}, never held by Bobbin: its next import holds it (`bobbin import {ctx.name}`)",
                    partner_total=partner_totals.get(pid),
                    currency=order.currency,
                    order_date=day_,
                    dated_by=dated_by,
                )
            )
            continue
        h = found
        base = ReportException(
            order=ref(pid),
            order_id=h.id,
            partner_order_id=pid,
            kind=MISSING,
            stage_missing="imported",
            note="",
            state=h.state,
            partner_total=partner_totals.get(pid),
            currency=h.currency,
            order_date=h.order_date or h.first_seen,
            dated_by="order date" if h.order_date else "first seen",
        )
        so = sales.get(h.id)
        if so is None:
            report.exceptions.append(replace(base, note=_not_imported(h, problems)))
            continue
        so_id, number, status, currency = so
        erp_total = _money(erp_totals.get(so_id, Decimal("0")))
        base = replace(base, sales_order=number, erp_total=erp_total, currency=currency or h.currency)
        if so_id not in handed:
            report.exceptions.append(
                replace(
                    base,
                    stage_missing="handed_off",
                    note=f"imported as {number}, not written to an ERP file yet (`bobbin erp export {ctx.name}`)",
                )
            )
        elif not is_shipped(so_id, status):
            done, count = shipped_lines(so_id)
            if status == "void":
                note = f"{number} is void in the ERP: it will not ship"
            elif done or any(shipped_qty.get(lid, 0) for lid in line_qty.get(so_id, {})):
                note = f"{number} partly shipped: {done} of {count} lines in full"
            else:
                day_handed = handed[so_id].astimezone(zone).date().isoformat()
                note = f"{number} handed to the ERP on {day_handed}; no shipment loaded for it yet"
            report.exceptions.append(replace(base, stage_missing="shipped", note=note))
        partner_total = partner_totals.get(pid)
        if partner_total is not None and erp_total is not None and abs(erp_total - partner_total) > TOLERANCE:
            where = f"as {ctx.label} lists it now" if pid in listed_orders else "as Bobbin holds it"
            report.exceptions.append(
                replace(
                    base,
                    kind=TOTAL,
                    stage_missing=None,
                    note=(
                        f"ERP total of {number} ({erp_total}) differs from the partner's ({partner_total}, {where}) "
                        f"by {(erp_total - partner_total).quantize(CENT)}"
                    ),
                )
            )
    rank = {k: i for i, k in enumerate(STAGE_KEYS)}
    report.exceptions.sort(key=lambda e: (rank.get(e.stage_missing or "", len(rank)), _order_key(e.partner_order_id)))
    return report


def _not_imported(h: _Held, problems: dict[int, list[tuple[str, str]]]) -> str:
    codes = [c for c, severity in problems.get(h.id, []) if severity == "error"]
    shown = f": {', '.join(codes)}" if codes else ""
    look = f" (`bobbin orders show {h.id}`)"
    if h.state == "rejected":
        return "rejected by a person: never imported"
    if h.state == "invalid":
        return f"held as invalid{shown}{look}"
    if h.state == "duplicate":
        return f"held as a duplicate (same customer PO as an order before it){shown}{look}"
    if h.state == "valid":
        return f"valid, waiting to be imported (`bobbin orders import {h.id}`)"
    if h.state == "imported":  # marked imported without a sales order: should not happen
        return "marked imported but no ERP sales order exists for it"
    return f"held as {h.state}, not checked yet{look}"


def _chunks(items: list[Any] | Iterable[Any], size: int) -> Iterable[list[Any]]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- the .xlsx ----------------------------------------------------------------------------------

SUMMARY_SHEET, EXCEPTIONS_SHEET = "Summary", "Exceptions"
# as_dict key -> the exceptions sheet's column header, in the sheet's order.
EXCEPTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("order", "Order"),
    ("order_id", "Bobbin ID"),
    ("partner_order_id", "Partner order"),
    ("kind", "Kind"),
    ("stage_missing", "Stage missing"),
    ("state", "State"),
    ("sales_order", "Sales order"),
    ("partner_total", "Partner total"),
    ("erp_total", "ERP total"),
    ("difference", "Difference"),
    ("currency", "Currency"),
    ("order_date", "Order date"),
    ("dated_by", "Dated by"),
    ("note", "Note"),
)


def write_xlsx(report: ReconcileReport, path: Any) -> None:
    """The report as a workbook: a "Summary" sheet (the header, then one row per stage: orders at
    it and orders missing from it) and an "Exceptions" sheet (one row per exception, the columns of
    :data:`EXCEPTION_COLUMNS`: money and ids as numbers, dates as dates). OSError when it cannot
    be written."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    ws.append([f"Reconciliation of {report.site} ({report.partner})"])
    ws["A1"].font = Font(bold=True, size=13)
    for label, value in (
        ("Site", report.site),
        ("Partner", report.partner),
        ("From", report.date_from),
        ("To", report.date_to),
        ("Period by", report.period_basis),
        ('"On the partner" covers', report.partner_covers),
        ("Partner list", report.read_note or ("read in full" if report.partner_read else "not read")),
        ("Generated", report.generated_at.astimezone(UTC).replace(tzinfo=None)),
    ):
        ws.append([label, value])
        row = ws.max_row
        ws.cell(row, 1).font = bold
        cell = ws.cell(row, 2)
        if isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.append([])
    ws.append(["Stage", "Orders", "Missing from it"])
    for c in ws[ws.max_row]:
        c.font = bold
    missing = report.missing_counts()
    for stage in report.stages:
        ws.append([stage.label, stage.count if stage.count is not None else "not read", missing[stage.key]])
    ws.append(["Totals differing (ERP vs partner)", None, missing[TOTAL]])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 90
    ws.column_dimensions["C"].width = 16

    ex = wb.create_sheet(EXCEPTIONS_SHEET)
    ex.append([header for _, header in EXCEPTION_COLUMNS])
    for c in ex[1]:
        c.font = bold
    for e in report.exceptions:
        values = e.as_dict()
        ex.append([values[key] for key, _ in EXCEPTION_COLUMNS])
        for i, (key, _) in enumerate(EXCEPTION_COLUMNS, start=1):
            cell = ex.cell(ex.max_row, i)
            if key in ("partner_total", "erp_total", "difference"):
                cell.number_format = "0.00"
            elif key == "order_date":
                cell.number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFGHIJKLMN", (22, 10, 16, 9, 14, 11, 12, 13, 13, 12, 9, 12, 12, 90), strict=True):
        ex.column_dimensions[letter].width = width
    ex.freeze_panes = "A2"
    wb.save(path)
