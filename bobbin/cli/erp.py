"""``bobbin erp load``: read the ERP's own exports (CSV / Excel) into the master data, then check
the held orders again — a new customer or style may be what they were waiting for."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from bobbin.cli.output import (
    DASH,
    console,
    ensure_database,
    err_console,
    fail,
    new_table,
    plural,
    print_json,
    revalidation_line,
)

app = typer.Typer(
    no_args_is_help=True, help="ERP master data: load customers, styles or inventory from the ERP's exports."
)

BAD_ROWS_SHOWN = 50  # rows of the bad-row table printed; --json lists them all


class What(str, Enum):
    customers = "customers"
    styles = "styles"
    inventory = "inventory"


def _loader(what: What) -> Any:
    try:
        from services import erp_load
    except ImportError:
        fail("the ERP file loader (services/erp_load.py) is not installed in this version")
    return {
        What.customers: erp_load.load_customers,
        What.styles: erp_load.load_styles,
        What.inventory: erp_load.load_inventory,
    }[what]


def _problem_dict(p: Any) -> dict[str, Any]:
    return {
        "row": getattr(p, "row", None),
        "column": getattr(p, "column", None),
        "value": getattr(p, "value", None),
        "message": getattr(p, "message", str(p)),
    }


def _sum_revalidation(results: dict[int, dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for r in results.values():
        for k, v in r.items():
            if isinstance(v, int):
                total[k] = total.get(k, 0) + v
            elif k == "skipped":
                total.setdefault("postponed_sites", 0)
                total["postponed_sites"] += 1
    return total


@app.command("load")
def load(
    what: Annotated[What, typer.Argument(help="customers, styles or inventory.")],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The ERP export: .csv or .xlsx.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary.")] = False,
) -> None:
    """Load an ERP export (customers, styles or inventory).

    Good rows are kept and bad rows are listed (row, column, value, problem);
    the command fails only when the file cannot be read at all. Then every held order is checked
    again and the ones that became valid are imported."""
    from core.db import session_scope
    from services import fixes

    loader = _loader(what)
    if not file.exists():
        fail(f"cannot read {file}: no such file")
    if file.is_dir():
        fail(f"cannot read {file}: it is a folder")
    ensure_database()
    with err_console().status(f"Loading {what.value} from {file.name}…"):
        with session_scope() as s:
            report = loader(s, file)
    with err_console().status("Checking held orders again…"):
        per_site = fixes.after_master_data_change()
    revalidation = _sum_revalidation(per_site)
    bad = [_problem_dict(p) for p in report.problems]
    bad_rows = len({p["row"] for p in bad}) if bad else 0
    if as_json:
        print_json(
            {
                "what": what.value,
                "file": str(file),
                "rows_read": report.rows_read,
                "rows_loaded": report.rows_loaded,
                "rows_not_loaded": max(report.rows_read - report.rows_loaded, 0),
                "problems": bad,
                "ignored_columns": list(getattr(report, "ignored_columns", None) or []),
                "revalidation": revalidation,
            }
        )
        return
    out = console()
    out.print(f"Read {plural(report.rows_read, 'row')} from {file.name}; loaded {report.rows_loaded:,}.")
    ignored = list(getattr(report, "ignored_columns", None) or [])
    if ignored:
        out.print(f"[dim]Columns not used: {', '.join(ignored)}[/dim]")
    if bad:
        not_loaded = max(report.rows_read - report.rows_loaded, 0) or bad_rows
        out.print(f"[yellow]{plural(not_loaded, 'row was', 'rows were')} not loaded:[/yellow]")
        table = new_table(("Row", {"justify": "right"}), "Column", ("Value", {"overflow": "fold"}), "Problem")
        for p in bad[:BAD_ROWS_SHOWN]:
            table.add_row(
                str(p["row"]) if p["row"] is not None else DASH,
                p["column"] or DASH,
                Text(str(p["value"]) if p["value"] not in (None, "") else DASH),
                Text(p["message"], style="red"),
            )
        out.print(table)
        if len(bad) > BAD_ROWS_SHOWN:
            out.print(f"[dim]… and {len(bad) - BAD_ROWS_SHOWN:,} more (--json lists them all).[/dim]")
        out.print("[dim]Fix those rows in the ERP export and load the file again: good rows load as updates.[/dim]")
    out.print(revalidation_line(revalidation) if per_site else "No held orders to check again.")
