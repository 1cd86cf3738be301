"""``bobbin ebay import-csv SITE FILE``: an eBay Seller Hub orders report into an eBay site, through
the same holding area, checks and exactly-once import as the sales read over eBay's API
(``services.ebay_csv``). Registered by the ``bobbin ebay`` app as
``app.command("import-csv")(import_csv)``.

A report with a bad row is refused whole: the bad rows are listed (row, column, value, problem)
and nothing is imported (exit 1). Otherwise each order of the file is listed with what became of
it: imported (its ERP order), held for a person (its first problem), held unpaid, or already
brought by the API and left as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.text import Text

from bobbin.cli.output import (
    DASH,
    STATE_STYLES,
    console,
    ensure_database,
    err_console,
    fail,
    kv_table,
    new_table,
    plural,
    print_json,
)

BAD_ROWS_SHOWN = 50  # bad rows printed; --json lists them all
ORDERS_SHOWN = 100  # orders of the file printed; --json lists them all
SUMMARY_ROWS = (
    ("rows", "Rows read"),
    ("orders", "Orders in the file"),
    ("new", "New"),
    ("changed", "Changed since last imported"),
    ("unchanged", "Held already, unchanged"),
    ("from_api", "Brought by the API already (left as they are)"),
    ("imported", "Imported"),
    ("invalid", "Waiting for a person"),
    ("duplicate", "Duplicates"),
    ("new_errors", "New problems"),
    ("resolved_errors", "Resolved problems"),
)


def import_csv(
    site: Annotated[str, typer.Argument(metavar="SITE", help="The eBay site (name or id).", show_default=False)],
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="The orders report downloaded from eBay Seller Hub (CSV).", show_default=False
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary (stable keys).")] = False,
) -> None:
    """Import an eBay Seller Hub orders report (CSV) into an eBay site, as the API's sales are imported.

    Each order is matched to an ERP customer by the buyer's e-mail (or created, as the site says),
    a differing ship-to becomes a new address, shipping and handling become one freight amount,
    what the buyer paid becomes a deposit, eBay-collected tax is kept apart; unpaid orders are held.
    An order already imported (by an earlier file or by the API) is never imported twice.
    A file with a bad row (no order number, an amount or date that cannot be read, a quantity that
    is not a whole number) is refused whole: the bad rows are listed and nothing is imported."""
    from services.ebay_csv import ReportRejected, import_orders_csv
    from services.sites import SiteError

    if not file.exists():
        fail(f"cannot read {file}: no such file")
    if file.is_dir():
        fail(f"cannot read {file}: it is a folder")
    ensure_database()
    try:
        with err_console().status(f"Importing {file.name} into {site}…"):
            summary = import_orders_csv(site, file)
    except ReportRejected as exc:
        _refused(file, exc, as_json)
    except SiteError as exc:
        fail(str(exc))
    if as_json:
        print_json(summary)
        if summary.get("skipped"):
            raise typer.Exit(1)
        return
    if summary.get("skipped"):
        fail(f"{file.name} was not imported into {summary['site']}: {summary['skipped']}")
    _print_summary(summary)


def _refused(file: Path, exc: Any, as_json: bool) -> NoReturn:
    """A refused file: its bad rows (row, column, value, problem), then exit 1."""
    problems = [{"row": p.row, "column": p.column, "value": p.value, "message": p.message} for p in exc.problems]
    if as_json:
        print_json({"file": str(file), "imported": False, "error": str(exc), "problems": problems})
        raise typer.Exit(1)
    if not problems:
        fail(str(exc))
    out = console()
    bad_rows = len({p["row"] for p in problems})
    out.print(f"[red]{plural(bad_rows, 'row has', 'rows have')} problems[/red] in {file.name}:")
    table = new_table(("Row", {"justify": "right"}), "Column", ("Value", {"overflow": "fold"}), "Problem")
    for p in problems[:BAD_ROWS_SHOWN]:
        table.add_row(
            str(p["row"]),
            p["column"] or DASH,
            Text(str(p["value"]) if p["value"] not in (None, "") else DASH),
            Text(p["message"], style="red"),
        )
    out.print(table)
    if len(problems) > BAD_ROWS_SHOWN:
        out.print(f"[dim]… and {len(problems) - BAD_ROWS_SHOWN:,} more (--json lists them all).[/dim]")
    fail(
        f"nothing was imported from {file.name}: a report is imported whole or not at all; "
        "correct those rows (or download the report again) and import it again"
    )


def _print_summary(summary: dict[str, Any]) -> None:
    out = console()
    name, imported = summary["site"], int(summary.get("imported", 0))
    waiting = int(summary.get("invalid", 0)) + int(summary.get("duplicate", 0))
    style = "yellow" if waiting else "green"
    out.print(
        f"[{style}]Imported {summary['file']} into {name}[/{style}] (run {summary['run_id']}) — "
        f"{plural(imported, 'new ERP order')}."
    )
    out.print(kv_table([(label, f"{int(summary.get(key, 0)):,}") for key, label in SUMMARY_ROWS]))
    orders = summary.get("order_outcomes") or []
    table = new_table(
        "Order", "Rows", ("Lines", {"justify": "right"}), "State", "ERP order", ("Problem", {"overflow": "fold"})
    )
    for o in orders[:ORDERS_SHOWN]:
        state = "from the API" if o["source"] == "api" else (o["state"] or DASH)
        table.add_row(
            o["order_number"],
            ", ".join(str(r) for r in o["rows"]),
            str(o["lines"]),
            Text(state, style=STATE_STYLES.get(o["state"] or "", "")),
            o["sales_order"] or DASH,
            Text(o["problems"][0], style="red") if o["problems"] else Text(DASH),
        )
    out.print(table)
    if len(orders) > ORDERS_SHOWN:
        out.print(f"[dim]… and {len(orders) - ORDERS_SHOWN:,} more (--json lists them all).[/dim]")
    if summary.get("ignored_columns"):  # a whole report has 80-odd columns: most say nothing the ERP keeps
        out.print(
            f"[dim]{plural(len(summary['ignored_columns']), 'column')} of the report not used (--json names them).[/dim]"
        )
    if waiting:
        out.print(f"[dim]What needs a person: bobbin orders list --site {name} --view invalid[/dim]")
