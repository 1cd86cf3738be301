"""``bobbin erp export`` and ``bobbin erp shipments``: imported orders out to the brand's ERP as a
file in the site's drop folder, and the ERP's shipment / invoice export back (services/erp_handoff.py).

The commands join the ``bobbin erp`` group (``bobbin.cli.erp.app``) when this module is imported
(``bobbin/cli/main.py`` does)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from bobbin.cli.erp import app
from bobbin.cli.output import (
    DASH,
    UsageError,
    console,
    ensure_database,
    err_console,
    fail,
    fmt_money,
    fmt_time,
    new_table,
    plural,
    print_json,
    warn,
)

if TYPE_CHECKING:
    from services.erp_handoff import ExportOrder

ROWS_SHOWN = 50  # orders / bad rows printed; --json lists them all

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable summary.")]


# --- bobbin erp export ---------------------------------------------------------------------------


def _order_dict(order: ExportOrder) -> dict[str, Any]:
    return order.summary()


def _orders_table(orders: list[Any], title: str) -> Any:
    table = new_table(
        "Order",
        ("ID", {"justify": "right"}),
        "Partner order",
        "Customer",
        "PO",
        ("Lines", {"justify": "right"}),
        ("Total", {"justify": "right"}),
        title=title,
    )
    for o in orders[:ROWS_SHOWN]:
        s = o.summary()
        table.add_row(
            s["sales_order"],
            DASH if s["order_id"] is None else str(s["order_id"]),
            Text(s["partner_order_id"] or DASH),
            s["customer_code"] or DASH,
            Text(s["po_number"] or DASH),
            str(s["lines"]),
            fmt_money(s["total"], s["currency"]),
        )
    return table


@app.command("export")
def export(
    site: Annotated[
        str | None, typer.Argument(metavar="SITE", help="Site name or id: hand its new ERP orders to the ERP.")
    ] = None,
    again: Annotated[
        str | None,
        typer.Option(
            "--again",
            metavar="ORDER",
            help="Write one order again (an ERP sales order number like SO0000012, a Bobbin order id, "
            "or SITE:PARTNER_ORDER_ID): a person's decision, recorded as a re-export.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Hand imported orders to the ERP: one file in the site's drop folder (CSV or .xlsx).

    Each imported order is written once, ever: the orders already in a file are left out. The
    layout (an H row per order, an L row per line) is in docs/erp-handoff.md; the folder is the
    site's erp_drop_folder setting (default BOBBIN_HOME/erp/outbox/SITE/)."""
    from core.db import session_scope
    from services import erp_handoff
    from services.sites import get_site

    if (site is None) == (again is None):
        raise UsageError("give a SITE, or --again ORDER (not both)")
    ensure_database()
    if again is not None:
        result = erp_handoff.reexport_order(again, dry_run=dry_run)
    else:
        assert site is not None
        with session_scope() as s:
            site_id = get_site(s, site).id
        with err_console().status("Writing the ERP file…"):
            result = erp_handoff.export_site_orders(site_id, dry_run=dry_run)
    if result.skipped:
        if as_json:
            print_json(result.summary())
        fail(f"not exported: {result.skipped}; try again in a minute")
    handoff = None
    if result.again and result.orders and not dry_run:
        with session_scope() as s:
            handoff = erp_handoff.handoffs(s, [result.orders[0].sales_order_id]).get(result.orders[0].sales_order_id)
    if as_json:
        data = {**result.summary(), "orders": [_order_dict(o) for o in result.orders]}
        if handoff is not None:
            data.update(
                first_file=handoff.file_name,
                first_exported_at=handoff.exported_at,
                reexports=handoff.reexports,
            )
        print_json(data)
        return
    out = console()
    where = f"{result.site} ({result.partner})"
    if not result.orders:
        out.print(
            f"Nothing to hand to the ERP: every imported order of {where} is in a file already "
            f"(folder {result.folder})."
        )
        _leftovers(result)
        return
    verb = "Would write" if dry_run else "Wrote"
    out.print(_orders_table(result.orders, f"{verb} for {where}"))
    more = len(result.orders) - ROWS_SHOWN
    if more > 0:
        out.print(f"… and {plural(more, 'more order')} (--json lists them all).")
    if dry_run:
        out.print(
            f"{plural(len(result.orders), 'order')} ({plural(result.lines, 'line')}) would go to {result.folder} "
            f"as {result.format}. Nothing was written."
        )
        return
    if result.again and not result.first_export and handoff is not None:
        out.print(
            f"[green]Wrote {result.orders[0].number} again[/green] to {result.file} (run {result.run_id}): "
            f"re-export {handoff.reexports}; first written to {handoff.file_name} at {fmt_time(handoff.exported_at)}."
        )
    else:
        out.print(
            f"[green]Wrote {plural(len(result.orders), 'order')} ({plural(result.lines, 'line')})[/green] "
            f"to {result.file} (run {result.run_id})."
        )
    _leftovers(result)


def _leftovers(result: Any) -> None:
    for name in result.finished:
        warn(f"an interrupted export had left {name} unfinished: its orders were recorded, so it is in place now")
    for name in result.discarded:
        warn(f"removed {name}: an export that never completed left it; its orders were written again")


# --- bobbin erp shipments ------------------------------------------------------------------------

OUTCOME_STYLES = {"shipped": "green", "paid": "green", "void": "magenta", "partial": "yellow", "unchanged": "dim"}


@app.command("shipments")
def shipments(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The ERP's shipment / invoice export: .csv or .xlsx.")],
    as_json: JsonOpt = False,
) -> None:
    """Load the ERP's shipment / invoice export: orders shipped, paid or void, told to the partners.

    One row per order line shipped (order number, ship date, carrier, tracking number, line number
    or SKU, quantity shipped) and a status column for paid and void (docs/erp-handoff.md). Good
    rows are kept, bad rows listed (row, column, value, problem); an order with a bad row is not
    loaded at all. Loading the same file again changes nothing and sends nothing."""
    from core.db import session_scope
    from services import erp_handoff

    if not file.exists():
        fail(f"cannot read {file}: no such file")
    if file.is_dir():
        fail(f"cannot read {file}: it is a folder")
    ensure_database()
    with err_console().status(f"Loading shipments from {file.name}…"):
        with session_scope() as s:
            report = erp_handoff.load_shipments(s, file)
    if as_json:
        print_json(report.as_dict())
        return
    out = console()
    out.print(f"Read {plural(report.rows_read, 'row')} from {file.name}; loaded {report.rows_loaded:,}.")
    if report.ignored_columns:
        out.print(f"[dim]Columns not used: {', '.join(report.ignored_columns)}[/dim]")
    if report.orders:
        table = new_table(
            "Order",
            "Site",
            "Partner order",
            "Outcome",
            ("Lines shipped", {"justify": "right"}),
            ("Tracking", {"overflow": "fold"}),
            ("To the partner", {"overflow": "fold"}),
        )
        for o in report.orders[:ROWS_SHOWN]:
            told = ", ".join(f"{s} queued" for s in o.queued) or "; ".join(o.notes) or DASH
            table.add_row(
                o.sales_order,
                o.site or DASH,
                Text(o.partner_order_id or DASH),
                Text(o.outcome, style=OUTCOME_STYLES.get(o.outcome, "")),
                f"{o.lines_shipped}/{o.lines}",
                Text(", ".join(o.tracking_numbers) or DASH),
                Text(told, style="" if o.queued or not o.notes else "yellow"),
            )
        out.print(table)
        if len(report.orders) > ROWS_SHOWN:
            out.print(f"[dim]… and {len(report.orders) - ROWS_SHOWN:,} more orders (--json lists them all).[/dim]")
    if report.problems:
        rows = len({p.row for p in report.problems})
        out.print(f"[yellow]{plural(rows, 'row was', 'rows were')} not loaded:[/yellow]")
        table = new_table(("Row", {"justify": "right"}), "Column", ("Value", {"overflow": "fold"}), "Problem")
        for p in report.problems[:ROWS_SHOWN]:
            table.add_row(
                str(p.row),
                p.column or DASH,
                Text(p.value if p.value not in (None, "") else DASH),
                Text(p.message.replace("`", ""), style="red"),  # commands read as typed, as `erp load` shows them
            )
        out.print(table)
        if len(report.problems) > ROWS_SHOWN:
            out.print(f"[dim]… and {len(report.problems) - ROWS_SHOWN:,} more (--json lists them all).[/dim]")
        out.print(
            "[dim]Fix those rows in the ERP export and load the file again: rows loaded before change nothing.[/dim]"
        )
    queued = report.writebacks_queued
    if queued:
        out.print(
            f"{plural(queued, 'status change')} queued for the partners: the outbox flush sends "
            "them within a minute (now: `celery -A worker call tasks.status.flush_outbox`)."
        )
    elif report.orders:
        out.print("Nothing new for the partners.")
