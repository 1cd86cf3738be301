"""The ERP hand-off: imported sales orders out to the brand's ERP as files, shipments back.

**Out.** ``export_site_orders`` writes every imported sales order of a site that was not handed
to the ERP yet into one file in the site's drop folder (setting ``erp_drop_folder``, default
``<BOBBIN_HOME>/erp/outbox/<site name>/``), CSV or .xlsx (``erp_export_format``), in the layout
of :data:`EXPORT_COLUMNS` (docs/erp-handoff.md): an ``H`` row per order, an ``L`` row per line.
An order is written once, ever: ``erp_handoff`` has one row per sales order (unique), claimed in
the transaction that writes the file. The file is written under a hidden temporary name, the
claim committed, then the file renamed to its name (atomic: the ERP never sees half a file). A
crash between the commit and the rename leaves the temporary file, which the next export of the
site renames (its orders are recorded) — or deletes, when its run never committed (its orders
are written again by that next export). ``reexport_order`` writes one order again when a person
asks; it is counted on the order's row as a re-export, never as a second first export.

**Back.** ``load_shipments`` reads the ERP's shipment / invoice export (CSV / .xlsx, columns in
:data:`SHIPMENT_COLUMNS`) with the loaders' helpers (services/erp_load.py): good rows kept, a bad
row reported (row, column, value, problem) — and an order with any bad row is not applied at
all (its other rows are reported as not loaded), so nothing is half-applied. Shipments are upserted
per (line, ship date, tracking number, invoice), so a file loaded twice changes nothing. An
order whose every line is shipped becomes ``shipped``; a ``paid`` or ``void`` status does what
it says. Each change of an order's status is queued once for the partner through the outbox
(``services.writeback.mark``), the shipped change carrying carrier and tracking number in its
payload. ``load_shipment_files`` loads what the ERP drops in the watched folder
(``<BOBBIN_HOME>/erp/inbox/``) and moves each file to ``done/`` or ``failed/``.
"""

from __future__ import annotations

import csv
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.registry import label
from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from core.settings import get_settings
from models import (
    CustomerDeposit,
    ErpHandoff,
    InboundOrder,
    OutboxEntry,
    PriceType,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    Site,
    Sku,
    StyleColor,
)
from services.context import SiteContext, SiteError
from services.erp_load import Column, LoadError, LoadReport, RowProblem, RowReader, Sheet, data_rows, open_sheet
from services.runs import recorded_run
from services.writeback import mark

log = structlog.get_logger()

EXPORT_TASK = "export_orders"
SHIPMENTS_TASK = "load_shipment_files"
SHIPMENTS_LOCK = "bobbin:load_shipment_files"
FILE_PREFIX = "orders"
PART_SUFFIX = ".part"
# An unrecorded temporary file younger than this may belong to an export still writing it.
STALE_PART_SECONDS = 300
# A file in the watched folder changed less than this long ago may still be being written.
SETTLE_SECONDS = 10.0


class HandoffError(SiteError):
    """The hand-off cannot be done as asked (a drop folder that cannot be written, an order that
    is not in the ERP); the message says why and what to do."""


# --- The export layout --------------------------------------------------------------------------

# Every row has every column; an H row fills the order's, an L row the line's (and order_number).
# The order of the columns is the documented layout (README "ERP hand-off", docs/erp-handoff.md).
HEADER_COLUMNS: tuple[str, ...] = (
    "order_number",
    "partner",
    "partner_order_id",
    "customer_code",
    "po_number",
    "order_date",
    "start_date",
    "cancel_date",
    "terms",
    "ship_via",
    "rep",
    "division",
    "warehouse",
    "price_type",
    "currency",
    "ship_to_name",
    "ship_to_line1",
    "ship_to_line2",
    "ship_to_city",
    "ship_to_state",
    "ship_to_postal_code",
    "ship_to_country",
    "order_total",
    "line_count",
    "freight",
    "deposit",
    "marketplace_tax",
)
LINE_COLUMNS: tuple[str, ...] = (
    "line_no",
    "style",
    "color",
    "color_name",
    "size",
    "sku",
    "upc",
    "quantity",
    "price",
    "line_amount",
)
EXPORT_COLUMNS: tuple[str, ...] = ("record", *HEADER_COLUMNS, *LINE_COLUMNS)
HEADER_RECORD, LINE_RECORD = "H", "L"
CENT = Decimal("0.01")


@dataclass
class ExportOrder:
    """One order as the file writes it: its H row and its L rows (column -> value)."""

    sales_order_id: int
    number: str
    inbound_order_id: int | None
    header: dict[str, Any]
    lines: list[dict[str, Any]]

    def rows(self) -> Iterator[dict[str, Any]]:
        yield {"record": HEADER_RECORD, **self.header}
        for line in self.lines:
            yield {"record": LINE_RECORD, "order_number": self.number, **line}

    def summary(self) -> dict[str, Any]:
        h = self.header
        return {
            "sales_order": self.number,
            "order_id": self.inbound_order_id,
            "partner_order_id": h["partner_order_id"],
            "customer_code": h["customer_code"],
            "po_number": h["po_number"],
            "lines": len(self.lines),
            "total": h["order_total"],
            "currency": h["currency"],
        }


@dataclass
class ExportResult:
    site_id: int
    site: str
    partner: str
    folder: str
    format: str
    file: str | None = None  # the file written (full path); None when nothing was
    run_id: str | None = None
    orders: list[ExportOrder] = field(default_factory=list)
    dry_run: bool = False
    again: bool = False  # a person's re-export of one order
    first_export: bool = True  # (again) the order had not been handed off before
    skipped: str | None = None
    finished: list[str] = field(default_factory=list)  # files an interrupted export left, renamed now
    discarded: list[str] = field(default_factory=list)  # temporary files of exports that never committed

    @property
    def lines(self) -> int:
        return sum(len(o.lines) for o in self.orders)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "site_id": self.site_id,
            "site": self.site,
            "partner": self.partner,
            "folder": self.folder,
            "format": self.format,
            "file": self.file,
            "run_id": self.run_id,
            "orders": len(self.orders),
            "lines": self.lines,
            "dry_run": self.dry_run,
        }
        if self.again:
            out.update(again=True, first_export=self.first_export)
        if self.skipped:
            out["skipped"] = self.skipped
        if self.finished:
            out["finished"] = self.finished
        if self.discarded:
            out["discarded"] = self.discarded
        return out


def drop_folder(ctx: SiteContext) -> Path:
    """The site's drop folder: its ``erp_drop_folder`` (relative to BOBBIN_HOME unless absolute),
    else ``<BOBBIN_HOME>/erp/outbox/<site name>/``."""
    home = get_settings().home
    chosen = getattr(ctx.settings, "erp_drop_folder", None)
    if chosen:
        path = Path(chosen).expanduser()
        return path if path.is_absolute() else home / path
    return home / "erp" / "outbox" / safe_name(ctx.name)


def export_format(ctx: SiteContext) -> str:
    return str(getattr(ctx.settings, "erp_export_format", None) or "csv")


def safe_name(text: str) -> str:
    """A site name as a file name's part: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "site"


def file_name(ctx: SiteContext, moment: datetime, run_id: str, fmt: str) -> str:
    """``orders_<site>_<UTC time>_<run id>.<csv|xlsx>``."""
    return f"{FILE_PREFIX}_{safe_name(ctx.name)}_{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}_{run_id}.{fmt}"


def _part_path(final: Path) -> Path:
    return final.with_name(f".{final.name}{PART_SUFFIX}")


def _site_context(site_id: int) -> SiteContext:
    with session_scope() as s:
        site = s.get(Site, site_id)
        if site is None:
            raise HandoffError(f"no site {site_id}")
        return SiteContext.of(site)


def _price_types(session: Session, ctx: SiteContext) -> dict[str, str]:
    """Currency -> ERP price type: the site's ``price_types``, else the ERP's only price type of a
    currency (a currency with several and no site setting gets none: the ERP picks its default)."""
    by_currency: dict[str, list[str]] = defaultdict(list)
    for code, currency in session.execute(select(PriceType.code, PriceType.currency).order_by(PriceType.code)):
        by_currency[currency.upper()].append(code)
    out = {cur: codes[0] for cur, codes in by_currency.items() if len(codes) == 1}
    out.update({cur.upper(): code for cur, code in (ctx.settings.price_types or {}).items()})
    return out


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def export_orders_of(session: Session, ctx: SiteContext, sales_order_ids: Iterable[int]) -> list[ExportOrder]:
    """The given sales orders as the export file writes them, in order-number order."""
    ids = sorted(set(sales_order_ids))
    if not ids:
        return []
    partner = label(ctx.site.kind)
    price_types = _price_types(session, ctx)
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ln, style, color, size, upc, color_name in session.execute(
        select(SalesOrderLine, Sku.style_number, Sku.color_code, Sku.size, Sku.upc, StyleColor.color_name)
        .join(Sku, Sku.sku == SalesOrderLine.sku)
        .outerjoin(
            StyleColor, (StyleColor.style_number == Sku.style_number) & (StyleColor.color_code == Sku.color_code)
        )
        .where(SalesOrderLine.sales_order_id.in_(ids))
        .order_by(SalesOrderLine.sales_order_id, SalesOrderLine.line_no)
    ):
        price = _money(ln.price)
        lines[ln.sales_order_id].append(
            {
                "line_no": ln.line_no,
                "style": style,
                "color": color,
                "color_name": color_name,
                "size": size,
                "sku": ln.sku,
                "upc": upc,
                "quantity": ln.quantity,
                "price": price,
                "line_amount": None if price is None else (price * ln.quantity).quantize(CENT),
            }
        )
    deposits = dict(
        session.execute(
            select(CustomerDeposit.sales_order_id, CustomerDeposit.amount).where(
                CustomerDeposit.sales_order_id.in_(ids)
            )
        ).all()
    )
    out = []
    for so, partner_order_id in session.execute(
        select(SalesOrder, InboundOrder.partner_order_id)
        .outerjoin(InboundOrder, InboundOrder.id == SalesOrder.inbound_order_id)
        .where(SalesOrder.id.in_(ids))
        .order_by(SalesOrder.number, SalesOrder.id)
    ):
        header = {
            "order_number": so.number,
            "partner": partner,
            "partner_order_id": partner_order_id,
            "customer_code": so.customer_code,
            "po_number": so.po_number,
            "order_date": so.order_date,
            "start_date": so.start_date,
            "cancel_date": so.cancel_date,
            "terms": so.terms_code,
            "ship_via": so.ship_via_code,
            "rep": so.rep_code,
            "division": so.division_code,
            "warehouse": so.warehouse_code,
            "price_type": price_types.get((so.currency or "").upper()),
            "currency": so.currency,
            "ship_to_name": so.ship_to_name,
            "ship_to_line1": so.ship_to_line1,
            "ship_to_line2": so.ship_to_line2,
            "ship_to_city": so.ship_to_city,
            "ship_to_state": so.ship_to_state,
            "ship_to_postal_code": so.ship_to_postal_code,
            "ship_to_country": so.ship_to_country,
            "order_total": _money(so.total),
            "line_count": len(lines[so.id]),
            "freight": _money(so.freight) if so.freight else None,
            "deposit": _money(deposits[so.id]) if so.id in deposits else None,
            "marketplace_tax": _money(so.marketplace_tax) if so.marketplace_tax is not None else None,
        }
        out.append(ExportOrder(so.id, so.number, so.inbound_order_id, header, lines[so.id]))
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_export_file(path: Path, fmt: str, orders: Iterable[ExportOrder]) -> None:
    """Write the orders to ``path`` (a new file) as CSV (UTF-8, comma, a header row) or .xlsx
    (one sheet "Orders": dates as dates, money and quantities as numbers, codes as text), and
    flush it to disk."""
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Orders")
        ws.append(list(EXPORT_COLUMNS))
        for order in orders:
            for row in order.rows():
                cells = []
                for col in EXPORT_COLUMNS:
                    value = row.get(col)
                    cell = WriteOnlyCell(ws, value=value)
                    if isinstance(value, date):
                        cell.number_format = "yyyy-mm-dd"
                    elif isinstance(value, Decimal):
                        cell.number_format = "0.00"
                    cells.append(cell)
                ws.append(cells)
        with path.open("xb") as fh:
            wb.save(fh)
            fh.flush()
            os.fsync(fh.fileno())
        return
    with path.open("x", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(EXPORT_COLUMNS)
        for order in orders:
            for row in order.rows():
                writer.writerow([_text(row.get(col)) for col in EXPORT_COLUMNS])
        fh.flush()
        os.fsync(fh.fileno())


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _recorded(session: Session, name: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(ErpHandoff)
            .where(or_(ErpHandoff.file_name == name, ErpHandoff.reexport_file_name == name))
        )
    )


def _publish(part: Path, final: Path) -> None:
    """Rename the finished temporary file to its name (atomic within the folder)."""
    try:
        os.replace(part, final)
    except FileNotFoundError:
        if not final.exists():
            raise
    _sync_folder(final.parent)


def _settle(part: Path) -> str:
    """After a failed commit: publish the file if its orders were recorded after all (the commit
    reached the database and its answer was lost), else delete it. Returns what was done."""
    final = part.with_name(part.name[1 : -len(PART_SUFFIX)])
    with session_scope() as s:
        recorded = _recorded(s, final.name)
    if recorded:
        _publish(part, final)
        return "published"
    part.unlink(missing_ok=True)
    return "deleted"


def settle_leftovers(ctx: SiteContext, folder: Path, result: ExportResult) -> None:
    """Temporary files an interrupted export of this site left: renamed to their names when their
    orders were recorded (the crash came between the commit and the rename), deleted when not
    (their orders were not recorded: this export writes them again)."""
    prefix = f".{FILE_PREFIX}_{safe_name(ctx.name)}_"
    for part in sorted(folder.glob(f"{prefix}*{PART_SUFFIX}")):
        final = part.with_name(part.name[1 : -len(PART_SUFFIX)])
        with session_scope() as s:
            recorded = _recorded(s, final.name)
        if recorded:
            _publish(part, final)
            result.finished.append(str(final))
            log.warning("erp_export_finished_leftover", file=str(final))
            continue
        try:
            age = datetime.now(UTC).timestamp() - part.stat().st_mtime
        except FileNotFoundError:
            continue
        if age >= STALE_PART_SECONDS:
            part.unlink(missing_ok=True)
            result.discarded.append(str(part))
            log.warning("erp_export_discarded_leftover", file=str(part))


def _prepare_folder(ctx: SiteContext) -> Path:
    folder = drop_folder(ctx)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HandoffError(
            f"cannot create the ERP drop folder {folder} of site {ctx.name}: {exc.strerror or exc}; "
            f"create it, or set another with `bobbin sites set {ctx.name} erp_drop_folder=PATH`"
        ) from None
    if not os.access(folder, os.W_OK):
        raise HandoffError(
            f"the ERP drop folder {folder} of site {ctx.name} cannot be written by this process; "
            f"fix its permissions, or set another with `bobbin sites set {ctx.name} erp_drop_folder=PATH`"
        )
    return folder


def _unexported_where(site_id: int) -> ColumnElement[bool]:
    """The site's sales orders not handed to the ERP yet (a void one is never handed)."""
    handed = select(ErpHandoff.id).where(ErpHandoff.sales_order_id == SalesOrder.id).exists()
    return and_(SalesOrder.site_id == site_id, SalesOrder.status != "void", ~handed)


def _unexported(site_id: int) -> Select[Any]:
    return select(SalesOrder.id).where(_unexported_where(site_id)).order_by(SalesOrder.id)


def export_site_orders(site_id: int, *, dry_run: bool = False, celery_task_id: str | None = None) -> ExportResult:
    """Write the site's sales orders not handed to the ERP yet into one file in its drop folder
    (``dry_run``: say which, write and record nothing). One export per site at a time; another
    one running makes this one skip (``skipped``)."""
    ctx = _site_context(site_id)
    fmt = export_format(ctx)
    result = ExportResult(ctx.id, ctx.name, ctx.label, str(drop_folder(ctx)), fmt, dry_run=dry_run)
    if dry_run:
        with session_scope() as s:
            result.orders = export_orders_of(s, ctx, s.scalars(_unexported(ctx.id)))
        return result
    with advisory_lock(site_lock_name(EXPORT_TASK, ctx.id)) as got:
        if not got:
            result.skipped = "another export of this site is running"
            return result
        with recorded_run(EXPORT_TASK, ctx.id, celery_task_id, holds_lock=True) as run:
            _export(ctx, fmt, result, again=None)
            run.counts = {
                k: v for k, v in result.summary().items() if k in ("orders", "lines", "file", "run_id", "format")
            }
            if result.finished or result.discarded:
                run.counts.update(finished=len(result.finished), discarded=len(result.discarded))
    if result.file:
        log.info("erp_orders_exported", site=ctx.name, file=result.file, orders=len(result.orders))
    return result


def _export(ctx: SiteContext, fmt: str, result: ExportResult, again: int | None) -> None:
    """Claim, write, commit, publish (see the module's docstring). ``again``: re-export this one
    sales order (a person's decision) instead of the site's unexported ones."""
    folder = _prepare_folder(ctx)
    settle_leftovers(ctx, folder, result)
    run_id = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    final = folder / file_name(ctx, now, run_id, fmt)
    part = _part_path(final)
    written = False
    try:
        with session_scope() as s:
            if again is None:
                # One statement: every unexported order of the site recorded as in this file. A
                # concurrent claim of the same order waits on the unique key, then takes nothing.
                table = ErpHandoff.__table__
                claim = (
                    pg_insert(table)
                    .from_select(
                        ["sales_order_id", "site_id", "file_name", "run_id", "exported_at"],
                        select(
                            SalesOrder.id,
                            SalesOrder.site_id,
                            literal(final.name, String),
                            literal(run_id, String),
                            literal(now, DateTime(timezone=True)),
                        ).where(_unexported_where(ctx.id)),
                    )
                    .on_conflict_do_nothing(index_elements=["sales_order_id"])
                    .returning(table.c.sales_order_id)
                )
                claimed = list(s.scalars(claim))
            else:
                claimed = [again]
                existing = s.scalar(select(ErpHandoff).where(ErpHandoff.sales_order_id == again).with_for_update())
                if existing is None:
                    so_site = s.scalar(select(SalesOrder.site_id).where(SalesOrder.id == again))
                    s.add(
                        ErpHandoff(
                            sales_order_id=again, site_id=so_site, file_name=final.name, run_id=run_id, exported_at=now
                        )
                    )
                else:
                    result.first_export = False
                    existing.reexports += 1
                    existing.reexported_at = now
                    existing.reexport_file_name = final.name
                    existing.reexport_run_id = run_id
            if not claimed:
                return
            result.orders = export_orders_of(s, ctx, claimed)
            try:
                write_export_file(part, fmt, result.orders)
            except OSError as exc:
                raise HandoffError(
                    f"cannot write {part.name} in the ERP drop folder {folder}: {exc.strerror or exc}; "
                    "nothing was recorded, the next export writes these orders"
                ) from None
            written = True
        # committed: the orders are recorded as handed off in this file
    except BaseException:
        if written:  # the commit failed, or its answer was lost: the database says which
            try:
                _settle(part)
            except Exception as exc:  # the database is gone as well: the next export settles it
                log.warning("erp_export_unsettled", file=str(part), error=str(exc))
        else:
            part.unlink(missing_ok=True)
        raise
    _publish(part, final)
    result.file, result.run_id = str(final), run_id


# --- Re-export: one order again, a person's decision ---------------------------------------------

SO_NUMBER_RE = re.compile(r"SO\d+", re.I)


def find_sales_order(session: Session, ref: str | int) -> SalesOrder:
    """A sales order by its ERP number (``SO0000012``) or by its inbound order: a Bobbin order id
    (digits) or ``SITE:PARTNER_ORDER_ID``. HandoffError, in words, when there is none."""
    text = str(ref).strip()
    if SO_NUMBER_RE.fullmatch(text):
        so = session.scalar(select(SalesOrder).where(func.upper(SalesOrder.number) == text.upper()))
        if so is None:
            raise HandoffError(f"no ERP sales order {text.upper()}")
        return so
    from services.orders import resolve_order_refs

    [order_id] = resolve_order_refs(session, [text])
    order = session.get(InboundOrder, order_id)
    if order is None:
        raise HandoffError(f"no order {order_id} (`bobbin orders list` shows the orders held)")
    so = session.scalar(select(SalesOrder).where(SalesOrder.inbound_order_id == order_id))
    if so is None:
        raise HandoffError(
            f"order {order_id} is {order.state}, not imported: it is no ERP sales order yet, so there is "
            f"nothing to hand to the ERP (`bobbin orders show {order_id}`)"
        )
    return so


def reexport_order(ref: str | int, *, dry_run: bool = False) -> ExportResult:
    """Write one sales order to its site's drop folder again (``bobbin erp export --again``): a new
    file, recorded on the order's hand-off row as a re-export. An order never handed off is
    exported for the first time (and recorded so)."""
    with session_scope() as s:
        so = find_sales_order(s, ref)
        so_id, number, site_id = so.id, so.number, so.site_id
        handed = s.scalar(select(ErpHandoff.id).where(ErpHandoff.sales_order_id == so_id)) is not None
    if site_id is None:
        raise HandoffError(f"{number} belongs to no site: Bobbin hands only partner orders to the ERP")
    ctx = _site_context(site_id)
    fmt = export_format(ctx)
    result = ExportResult(
        ctx.id, ctx.name, ctx.label, str(drop_folder(ctx)), fmt, dry_run=dry_run, again=True, first_export=not handed
    )
    if dry_run:
        with session_scope() as s:
            result.orders = export_orders_of(s, ctx, [so_id])
        return result
    with advisory_lock(site_lock_name(EXPORT_TASK, ctx.id)) as got:
        if not got:
            raise HandoffError(f"an export of site {ctx.name} is running: try again in a minute")
        _export(ctx, fmt, result, again=so_id)
    log.info("erp_order_reexported", site=ctx.name, sales_order=number, file=result.file, first=result.first_export)
    return result


def handoffs(session: Session, sales_order_ids: Iterable[int]) -> dict[int, ErpHandoff]:
    """sales order id -> its hand-off row, for those handed to the ERP."""
    ids = list(sales_order_ids)
    if not ids:
        return {}
    return {h.sales_order_id: h for h in session.scalars(select(ErpHandoff).where(ErpHandoff.sales_order_id.in_(ids)))}


# --- Shipments back: the ERP's shipment / invoice export -----------------------------------------

SHIPMENT_COLUMNS = (
    Column(
        "order",
        ("order_number", "order", "order_no", "so_number", "sales_order", "sales_order_number", "so", "order_id"),
        True,
    ),
    Column("ship_date", ("ship_date", "shipped_on", "date_shipped", "shipment_date", "shipped", "invoice_date")),
    Column("carrier", ("carrier", "carrier_name", "shipper", "ship_via")),
    Column("tracking", ("tracking_number", "tracking", "tracking_no", "tracking_id")),
    Column("line_no", ("line_no", "line", "line_number", "order_line")),
    Column("sku", ("sku", "sku_id", "sku_number", "sku_no"), header="SKU"),
    Column("upc", ("upc", "upc_code", "barcode", "ean", "gtin"), header="UPC"),
    Column("quantity", ("quantity_shipped", "qty_shipped", "shipped_qty", "ship_qty", "quantity", "qty")),
    Column("status", ("status", "order_status", "invoice_status")),
    Column("invoice", ("invoice_number", "invoice", "invoice_no", "shipment_number", "shipment_no", "shipment_id")),
)
# What the status column may say (lower case) -> what Bobbin does. Blank is a shipment.
STATUS_WORDS = {
    "": "shipped",
    "shipped": "shipped",
    "ship": "shipped",
    "invoiced": "shipped",
    "partial": "shipped",
    "partially shipped": "shipped",
    "paid": "paid",
    "void": "void",
    "voided": "void",
    "cancelled": "void",
    "canceled": "void",
}
MAX_TEXT = {"carrier": 60, "tracking": 100, "invoice": 60}
FUTURE_SLACK = timedelta(days=1)  # a ship date up to a day ahead (time zones) is taken


@dataclass
class ShipmentOrder:
    """What a shipments file did to one sales order."""

    sales_order: str
    order_id: int | None  # the inbound order
    site: str | None
    partner: str | None
    partner_order_id: str | None
    status_before: str
    status: str
    lines: int
    lines_shipped: int  # lines whose every unit shipped
    shipments_new: int = 0
    shipments_changed: int = 0
    queued: list[str] = field(default_factory=list)  # partner writebacks queued: shipped / paid / void
    notes: list[str] = field(default_factory=list)  # e.g. a partner that takes no "shipped"
    tracking_numbers: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.status != self.status_before:
            return self.status
        if self.status == "open" and self.lines_shipped < self.lines and (self.shipments_new or self.shipments_changed):
            return "partial"
        return "unchanged"

    def as_dict(self) -> dict[str, Any]:
        return {
            "sales_order": self.sales_order,
            "order_id": self.order_id,
            "site": self.site,
            "partner": self.partner,
            "partner_order_id": self.partner_order_id,
            "outcome": self.outcome,
            "status": self.status,
            "status_before": self.status_before,
            "lines": self.lines,
            "lines_shipped": self.lines_shipped,
            "shipments_new": self.shipments_new,
            "shipments_changed": self.shipments_changed,
            "tracking_numbers": self.tracking_numbers,
            "writebacks_queued": self.queued,
            "notes": self.notes,
        }


@dataclass
class ShipmentReport(LoadReport):
    """A shipments file's load: the loader's counts and bad rows, and what each order became."""

    orders: list[ShipmentOrder] = field(default_factory=list)

    @property
    def writebacks_queued(self) -> int:
        return sum(len(o.queued) for o in self.orders)

    def summary(self) -> str:
        outcomes: dict[str, int] = defaultdict(int)
        for o in self.orders:
            outcomes[o.outcome] += 1
        told = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
        return (
            f"shipments {self.path}: {self.rows_read} rows read, {self.rows_loaded} loaded, "
            f"{len({p.row for p in self.problems})} with problems; orders: {told or 'none'}; "
            f"{self.writebacks_queued} partner writebacks queued"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.path,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "shipments_new": self.inserted,
            "shipments_changed": self.updated,
            "writebacks_queued": self.writebacks_queued,
            "orders": [o.as_dict() for o in self.orders],
            "problems": [
                {"row": p.row, "column": p.column, "value": p.value, "message": p.message} for p in self.problems
            ],
            "ignored_columns": self.ignored_columns,
        }


@dataclass
class _SalesOrderInfo:
    id: int
    number: str
    status: str
    inbound_order_id: int | None
    site_id: int | None
    order_date: date | None
    lines: dict[int, tuple[int, str, int]] = field(default_factory=dict)  # line id -> (line no, sku, quantity)


@dataclass
class _ShipRow:
    row_no: int
    order_ref: str
    so_id: int
    status: str  # shipped | paid | void
    line_id: int | None = None
    quantity: int | None = None
    ship_date: date | None = None
    carrier: str | None = None
    tracking: str = ""
    invoice: str = ""


def _shipment_sheet(path: Path | str) -> Sheet:
    sheet = open_sheet(path, "shipments", SHIPMENT_COLUMNS)
    cols, name = sheet.columns, sheet.path.name
    if "quantity" not in cols and "status" not in cols:
        raise LoadError(
            f'{name} has no "quantity shipped" column (nor a "status" column): the shipments file needs the '
            "quantity shipped per line (and may say paid or void in a status column)."
        )
    if "quantity" in cols:
        if "ship_date" not in cols:
            raise LoadError(f'{name} has no "ship date" column: the shipments file needs it in row 1.')
        if not ({"line_no", "sku", "upc"} & set(cols)):
            raise LoadError(
                f'{name} names no order line: the shipments file needs a "line no" or a "SKU" (or "UPC") column.'
            )
    return sheet


def _lookup_orders(
    session: Session, refs: set[str]
) -> tuple[dict[str, _SalesOrderInfo], dict[str, str], dict[int, _SalesOrderInfo]]:
    """Order references -> sales orders: an ERP order number (SO…, any case), else a partner order
    id. Returns (ref -> order, ref -> why it names none, sales order id -> order)."""
    found: dict[str, _SalesOrderInfo] = {}
    why: dict[str, str] = {}
    by_id: dict[int, _SalesOrderInfo] = {}

    def info(so: SalesOrder) -> _SalesOrderInfo:
        if so.id not in by_id:
            by_id[so.id] = _SalesOrderInfo(so.id, so.number, so.status, so.inbound_order_id, so.site_id, so.order_date)
        return by_id[so.id]

    upper = {r.upper(): r for r in refs}
    for so in session.scalars(select(SalesOrder).where(func.upper(SalesOrder.number).in_(list(upper)))):
        found[upper[so.number.upper()]] = info(so)
    rest = [r for r in refs if r not in found]
    if rest:
        held: dict[str, list[tuple[InboundOrder, str, SalesOrder | None]]] = defaultdict(list)
        for order, site_name, so in session.execute(
            select(InboundOrder, Site.name, SalesOrder)
            .join(Site, Site.id == InboundOrder.site_id)
            .outerjoin(SalesOrder, SalesOrder.inbound_order_id == InboundOrder.id)
            .where(InboundOrder.partner_order_id.in_(rest))
        ):
            held[order.partner_order_id].append((order, site_name, so))
        for ref in rest:
            matches = held.get(ref, [])
            if not matches:
                why[ref] = (
                    f'unknown order "{ref}": no ERP sales order has this number and no partner order this id; '
                    "check the order number in the ERP export."
                )
            elif len(matches) > 1:
                sites = ", ".join(sorted(name for _, name, _ in matches))
                why[ref] = f'"{ref}" is a partner order id on several sites ({sites}): write the SO number instead.'
            else:
                order, site_name, imported = matches[0]
                if imported is None:
                    why[ref] = (
                        f"order {ref} of {site_name} is not imported yet (it is {order.state} in Bobbin, order "
                        f"{order.id}): it is no ERP sales order, so nothing can ship; import it first "
                        f"(`bobbin orders show {order.id}`), then load this file again."
                    )
                else:
                    found[ref] = info(imported)
    if by_id:
        for line in session.scalars(
            select(SalesOrderLine)
            .where(SalesOrderLine.sales_order_id.in_(list(by_id)))
            .order_by(SalesOrderLine.sales_order_id, SalesOrderLine.line_no)
        ):
            by_id[line.sales_order_id].lines[line.id] = (line.line_no, line.sku, line.quantity)
    return found, why, by_id


def _quantity(r: RowReader) -> int | None:
    value = r.get("quantity")
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        r.problem("quantity", value, f'quantity shipped "{value}" is not a whole number.')
        return None
    if not number.is_finite() or number != number.to_integral_value():
        r.problem("quantity", value, f'quantity shipped "{value}" is not a whole number.')
        return None
    if number < 0:
        r.problem("quantity", value, f"quantity shipped is negative ({value}): write what shipped, 0 or more.")
        return None
    return int(number)


def _line_of(r: RowReader, so: _SalesOrderInfo, upcs: dict[str, str]) -> int | None:
    """The order line a row names, by line number, SKU or UPC (a problem when none or several)."""
    by_no = {no: lid for lid, (no, _sku, _q) in so.lines.items()}
    line_id = None
    no_text = r.get("line_no")
    if no_text:
        try:
            number = Decimal(no_text)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number != number.to_integral_value():
            r.problem("line_no", no_text, f'line "{no_text}" is not a line number.')
            return None
        no = int(number)
        line_id = by_no.get(no)
        if line_id is None:
            have = ", ".join(str(n) for n in sorted(by_no)) or "none"
            r.problem("line_no", no_text, f"{so.number} has no line {no_text} (its lines: {have}).")
            return None
    sku_col = "sku" if r.get("sku") else "upc" if r.get("upc") else None
    if sku_col is None:
        if line_id is None:
            r.problem(
                "line_no" if r.has("line_no") else "sku",
                "",
                "the row names no order line: give the line number or the SKU.",
            )
        return line_id
    text = r.get(sku_col)
    sku = text if sku_col == "sku" else upcs.get(text.lstrip("0"), "")
    lines = [lid for lid, (_no, line_sku, _q) in so.lines.items() if line_sku.upper() == sku.upper()]
    if line_id is not None:
        if sku and line_id not in lines:
            r.problem(sku_col, text, f"line {no_text} of {so.number} is SKU {so.lines[line_id][1]}, not {text}.")
            return None
        return line_id
    if not lines:
        r.problem(sku_col, text, f"{so.number} has no line with {sku_col.upper()} {text}.")
        return None
    if len(lines) > 1:
        nos = " and ".join(str(so.lines[lid][0]) for lid in lines)
        r.problem(sku_col, text, f"{sku_col.upper()} {text} is on lines {nos} of {so.number}: give the line number.")
        return None
    return lines[0]


def _optional_text(r: RowReader, name: str, what: str) -> str:
    value = r.get(name)
    if len(value) > MAX_TEXT[name]:
        r.problem(name, value, f"the {what} is longer than {MAX_TEXT[name]} characters.")
    return value


def load_shipments(session: Session, path: Path | str) -> ShipmentReport:
    """Load the ERP's shipment / invoice export; the caller commits (see the module's docstring)."""
    sheet = _shipment_sheet(path)
    report = ShipmentReport("shipments", str(path), ignored_columns=sheet.ignored)
    readers = list(data_rows(sheet, report))
    refs = {r.get("order") for r in readers if r.get("order")}
    found, unknown, by_id = _lookup_orders(session, refs)
    skus = {sku for so in by_id.values() for (_no, sku, _q) in so.lines.values()}
    upcs = {
        upc.lstrip("0"): sku
        for sku, upc in session.execute(select(Sku.sku, Sku.upc).where(Sku.sku.in_(list(skus)), Sku.upc.is_not(None)))
        if upc
    }
    today = datetime.now(UTC).date()

    parsed: dict[int, list[_ShipRow]] = defaultdict(list)  # sales order id -> its good rows
    bad_orders: dict[int, int] = {}  # sales order id -> its first bad row
    for r in readers:
        ref = r.required("order", "The order number", 60)
        so = found.get(ref)
        if ref and so is None:
            r.problem("order", ref, unknown.get(ref, f'unknown order "{ref}".'))
        status_text = r.get("status")
        status = STATUS_WORDS.get(" ".join(status_text.lower().split()))
        if status is None:
            r.problem(
                "status", status_text, f'status "{status_text}" is not one Bobbin reads: write shipped, paid or void.'
            )
        quantity = _quantity(r) if r.get("quantity") else None
        if status == "shipped" and not r.get("quantity"):
            r.problem("quantity" if r.has("quantity") else "status", "", "the quantity shipped is empty.")
        if status == "void" and quantity:
            r.problem("quantity", r.get("quantity"), "a void row ships nothing: leave the quantity empty (or 0).")
        row = _ShipRow(r.row_no, ref, so.id if so else 0, status or "shipped")
        if quantity is not None and so is not None:
            row.quantity = quantity
            row.line_id = _line_of(r, so, upcs)
            row.ship_date = r.date("ship_date", "ship date")
            if not r.get("ship_date"):
                r.problem("ship_date", "", "the ship date is empty.")
            elif row.ship_date is not None:
                if row.ship_date > today + FUTURE_SLACK:
                    r.problem("ship_date", r.get("ship_date"), f"ship date {row.ship_date} is in the future.")
                elif so.order_date and row.ship_date < so.order_date:
                    r.problem(
                        "ship_date",
                        r.get("ship_date"),
                        f"ship date {row.ship_date} is before the order date {so.order_date} of {so.number}.",
                    )
            row.carrier = _optional_text(r, "carrier", "carrier") or None
            row.tracking = _optional_text(r, "tracking", "tracking number")
            row.invoice = _optional_text(r, "invoice", "invoice number")
        if r.problems:
            report.problems += r.problems
            if so is not None:
                bad_orders.setdefault(so.id, r.row_no)
            continue
        parsed[row.so_id].append(row)

    # The order as a whole, with what it shipped before: more shipped than ordered, void vs shipped.
    existing: dict[tuple[int, date, str, str], tuple[int, str | None]] = {}
    if parsed:
        for sh in session.scalars(select(Shipment).where(Shipment.sales_order_id.in_(list(parsed)))):
            existing[(sh.sales_order_line_id, sh.ship_date, sh.tracking_number, sh.invoice_number)] = (
                sh.quantity,
                sh.carrier,
            )
    plans: dict[int, dict[tuple[int, date, str, str], dict[str, Any]]] = {}
    for so_id, rows in parsed.items():
        if so_id in bad_orders:
            continue
        so = by_id[so_id]
        problems = _order_problems(sheet, so, rows, existing)
        if problems:
            report.problems += problems
            bad_orders[so_id] = min(p.row for p in problems)
            continue
        plan: dict[tuple[int, date, str, str], dict[str, Any]] = {}
        for row in rows:
            if row.quantity is None or row.line_id is None or row.ship_date is None:
                continue
            key = (row.line_id, row.ship_date, row.tracking, row.invoice)
            entry = plan.setdefault(key, {"quantity": 0, "carrier": None})
            entry["quantity"] += row.quantity
            entry["carrier"] = row.carrier or entry["carrier"]
        plans[so_id] = plan
    # Nothing of an order with a bad row is applied: its good rows say so.
    bad_rows = {p.row for p in report.problems}
    for so_id, first_bad in bad_orders.items():
        for row in parsed.get(so_id, []):
            if row.row_no in bad_rows:
                continue
            report.problems.append(
                RowProblem(
                    row.row_no,
                    None,
                    row.order_ref,
                    f"not loaded: row {first_bad} of the same order {by_id[so_id].number} has a problem; an "
                    "order's rows load together — fix that row and load the file again.",
                )
            )
    report.problems.sort(key=lambda p: p.row)

    with session.begin_nested():
        for so_id, plan in plans.items():
            report.orders.append(_apply(session, by_id[so_id], parsed[so_id], plan, existing, Path(path).name, report))
            report.rows_loaded += len(parsed[so_id])
    return report


def _order_problems(
    sheet: Sheet,
    so: _SalesOrderInfo,
    rows: list[_ShipRow],
    existing: dict[tuple[int, date, str, str], tuple[int, str | None]],
) -> list[RowProblem]:
    """Problems of an order's rows taken together (each row alone was fine)."""
    problems: list[RowProblem] = []
    quantity_col = sheet.header_of("quantity") if "quantity" in sheet.columns else None
    status_col = sheet.header_of("status") if "status" in sheet.columns else None
    in_file: dict[int, int] = defaultdict(int)
    keys: set[tuple[int, date, str, str]] = set()
    for row in rows:
        if row.quantity is not None and row.line_id is not None and row.ship_date is not None:
            in_file[row.line_id] += row.quantity
            keys.add((row.line_id, row.ship_date, row.tracking, row.invoice))
    before: dict[int, int] = defaultdict(int)
    for key, (quantity, _carrier) in existing.items():
        if key[0] in so.lines and key not in keys:
            before[key[0]] += quantity
    for line_id, shipped in in_file.items():
        no, sku, ordered = so.lines[line_id]
        total = shipped + before[line_id]
        if total > ordered:
            earlier = f" ({before[line_id]} loaded before + {shipped} in this file)" if before[line_id] else ""
            for row in rows:
                if row.line_id == line_id and row.quantity:
                    problems.append(
                        RowProblem(
                            row.row_no,
                            quantity_col,
                            str(row.quantity),
                            f"more shipped than ordered: line {no} of {so.number} (SKU {sku}) ordered {ordered}, "
                            f"shipped {total}{earlier}; check the quantities in the ERP.",
                        )
                    )
    shipped_any = bool(in_file and any(in_file.values())) or any(before.values())
    for row in rows:
        if row.status == "void" and (shipped_any or so.status in ("shipped", "paid")):
            why = f"it is {so.status}" if so.status in ("shipped", "paid") else "shipments are recorded for it"
            problems.append(
                RowProblem(
                    row.row_no,
                    status_col,
                    "void",
                    f"{so.number} cannot be void: {why}; a void order is one the ERP never shipped.",
                )
            )
        elif so.status == "void" and row.status != "void":
            problems.append(
                RowProblem(
                    row.row_no,
                    status_col,
                    row.status,
                    f"{so.number} is void in the ERP: it cannot be {row.status}; check the order in the ERP.",
                )
            )
    return problems


def _apply(
    session: Session,
    so: _SalesOrderInfo,
    rows: list[_ShipRow],
    plan: dict[tuple[int, date, str, str], dict[str, Any]],
    existing: dict[tuple[int, date, str, str], tuple[int, str | None]],
    source: str,
    report: ShipmentReport,
) -> ShipmentOrder:
    site = session.get(Site, so.site_id) if so.site_id else None
    inbound = session.get(InboundOrder, so.inbound_order_id) if so.inbound_order_id else None
    out = ShipmentOrder(
        so.number,
        so.inbound_order_id,
        site.name if site else None,
        label(site.kind) if site else None,
        inbound.partner_order_id if inbound else None,
        so.status,
        so.status,
        len(so.lines),
        0,
    )
    for (line_id, ship_date, tracking, invoice), entry in plan.items():
        before = existing.get((line_id, ship_date, tracking, invoice))
        if before == (entry["quantity"], entry["carrier"]):
            continue
        values = pg_insert(Shipment).values(
            sales_order_id=so.id,
            sales_order_line_id=line_id,
            ship_date=ship_date,
            quantity=entry["quantity"],
            carrier=entry["carrier"],
            tracking_number=tracking,
            invoice_number=invoice,
            source_file=source,
        )
        stmt = values.on_conflict_do_update(
            index_elements=["sales_order_line_id", "ship_date", "tracking_number", "invoice_number"],
            set_={
                "quantity": values.excluded.quantity,
                "carrier": values.excluded.carrier,
                "source_file": values.excluded.source_file,
                "loaded_at": func.now(),
            },
        ).returning(literal_column("(xmax = 0)", Boolean))
        if session.scalar(stmt):
            out.shipments_new += 1
        else:
            out.shipments_changed += 1
    report.inserted += out.shipments_new
    report.updated += out.shipments_changed

    shipped: dict[int, int] = defaultdict(int)
    latest: tuple[date, str | None, str] | None = None
    tracking_numbers: list[str] = []
    for sh in session.scalars(
        select(Shipment).where(Shipment.sales_order_id == so.id).order_by(Shipment.ship_date, Shipment.id)
    ):
        shipped[sh.sales_order_line_id] += sh.quantity
        if sh.quantity and sh.tracking_number and sh.tracking_number not in tracking_numbers:
            tracking_numbers.append(sh.tracking_number)
        if sh.quantity:
            latest = (sh.ship_date, sh.carrier, sh.tracking_number)
    out.tracking_numbers = tracking_numbers
    out.lines_shipped = sum(1 for lid, (_no, _sku, qty) in so.lines.items() if shipped[lid] >= qty)
    fully = bool(so.lines) and out.lines_shipped == len(so.lines)

    changes: list[str] = []
    if any(r.status == "void" for r in rows):
        if so.status != "void":
            changes.append("void")
    else:
        if fully and so.status == "open":
            changes.append("shipped")
        if any(r.status == "paid" for r in rows) and so.status != "paid":
            changes.append("paid")
    if not changes:
        return out
    out.status = changes[-1]
    session.execute(update(SalesOrder).where(SalesOrder.id == so.id).values(status=out.status))
    if so.inbound_order_id is None:
        out.notes.append("not a partner order: nothing to tell a partner")
        return out
    for status in changes:
        result = mark(session, [so.inbound_order_id], status)
        if so.inbound_order_id in result.skipped:
            out.notes.append(result.skipped[so.inbound_order_id])
            continue
        out.queued.append(status)
        if status == "shipped" and latest is not None:
            payload = {
                "ship_date": latest[0].isoformat(),
                "carrier": latest[1],
                "tracking_number": latest[2] or None,
                "tracking_numbers": tracking_numbers,
            }
            session.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.inbound_order_id == so.inbound_order_id,
                    OutboxEntry.status == status,
                    OutboxEntry.state == "pending",
                )
                .values(payload=payload)
            )
    # mark() records its status on the order it queues; the order ends in its last status
    session.execute(update(SalesOrder).where(SalesOrder.id == so.id).values(status=out.status))
    log.info("erp_shipments_applied", sales_order=so.number, status=out.status, queued=out.queued)
    return out


# --- The watched folder -------------------------------------------------------------------------


def inbox_folder() -> Path:
    """Where the ERP drops its shipment / invoice exports: ``<BOBBIN_HOME>/erp/inbox/``."""
    return get_settings().home / "erp" / "inbox"


@dataclass
class InboxFile:
    name: str
    moved_to: str
    ok: bool
    error: str | None = None  # the file could not be read (LoadError)
    report: ShipmentReport | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.name, "moved_to": self.moved_to, "ok": self.ok}
        if self.error:
            out["error"] = self.error
        if self.report is not None:
            out.update(
                rows_read=self.report.rows_read,
                rows_loaded=self.report.rows_loaded,
                problems=len(self.report.problems),
                orders=len(self.report.orders),
                writebacks_queued=self.report.writebacks_queued,
            )
        return out


@dataclass
class InboxResult:
    folder: str
    files: list[InboxFile] = field(default_factory=list)
    skipped: str | None = None

    @property
    def writebacks_queued(self) -> int:
        return sum(f.report.writebacks_queued for f in self.files if f.report is not None)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "folder": self.folder,
            "files": [f.as_dict() for f in self.files],
            "writebacks_queued": self.writebacks_queued,
        }
        if self.skipped:
            out["skipped"] = self.skipped
        return out


def _waiting_files(folder: Path, settle_seconds: float) -> list[Path]:
    now = datetime.now(UTC).timestamp()
    out = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(PART_SUFFIX):
            continue
        try:
            if now - path.stat().st_mtime < settle_seconds:
                continue  # may still be being written
        except FileNotFoundError:
            continue
        out.append(path)
    return out


def _move(path: Path, to: Path) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    target = to / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}_{path.name}"
    n = 1
    while target.exists():
        target = to / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}_{n}_{path.name}"
        n += 1
    os.replace(path, target)
    return target


def write_problems(path: Path, problems: Iterable[RowProblem]) -> None:
    """The bad rows of a file, next to it: row, column, value, problem (CSV, UTF-8)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("row", "column", "value", "problem"))
        for p in problems:
            writer.writerow((p.row, p.column or "", p.value or "", p.message))


def load_shipment_files(
    folder: Path | str | None = None, *, settle_seconds: float = SETTLE_SECONDS, celery_task_id: str | None = None
) -> InboxResult:
    """Load every shipments file waiting in the watched folder (``inbox_folder()`` unless given),
    oldest name first, each in its own transaction; then move it to ``done/`` (every row loaded)
    or ``failed/`` (unreadable: ``<file>.error.txt`` beside it; or some rows bad: the good rows are
    loaded and ``<file>.problems.csv`` lists the others). A file changed in the last
    ``settle_seconds`` is left for the next pass. One pass at a time."""
    inbox = Path(folder) if folder else inbox_folder()
    inbox.mkdir(parents=True, exist_ok=True)
    result = InboxResult(str(inbox))
    with advisory_lock(SHIPMENTS_LOCK) as got:
        if not got:
            result.skipped = "another pass over the shipments folder is running"
            return result
        files = _waiting_files(inbox, settle_seconds)
        if not files:
            return result
        with recorded_run(SHIPMENTS_TASK, None, celery_task_id) as run:
            for path in files:
                result.files.append(_load_one(path, inbox))
            run.counts = {
                "files": len(result.files),
                "failed": sum(1 for f in result.files if not f.ok),
                "writebacks_queued": result.writebacks_queued,
            }
    return result


def _load_one(path: Path, inbox: Path) -> InboxFile:
    try:
        with session_scope() as s:
            report = load_shipments(s, path)
    except LoadError as exc:
        moved = _move(path, inbox / "failed")
        moved.with_name(moved.name + ".error.txt").write_text(f"{exc}\n", encoding="utf-8")
        log.warning("erp_shipments_file_failed", file=path.name, error=str(exc))
        return InboxFile(path.name, str(moved), False, error=str(exc))
    if report.problems:
        moved = _move(path, inbox / "failed")
        write_problems(moved.with_name(moved.name + ".problems.csv"), report.problems)
        log.warning("erp_shipments_file_with_problems", file=path.name, summary=report.summary())
        return InboxFile(path.name, str(moved), False, report=report)
    moved = _move(path, inbox / "done")
    log.info("erp_shipments_file_loaded", file=path.name, summary=report.summary())
    return InboxFile(path.name, str(moved), True, report=report)
