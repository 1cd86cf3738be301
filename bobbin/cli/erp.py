"""``bobbin erp load``: read the ERP's own exports (CSV / Excel) into the master data, then check
the held orders again — a new customer, style or code may be what they were waiting for.
``bobbin erp template``: the empty sheet of a kind, headed with exactly the columns its loader reads.

The kinds are the keys of ``services.erp_load.loaders()`` (and ``file_columns()`` for templates),
read when a command runs: a kind services.erp_load learns of (``ELSEWHERE``, ``register_kind``)
needs no change here. Other modules may add commands to ``app``.
"""

from __future__ import annotations

import csv
import sys
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape
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
    warn,
)

app = typer.Typer(
    no_args_is_help=True,
    help="ERP master data: load the ERP's exports (customers, styles, prices, images, linesheets, inventory "
    "and the codes orders are checked against), or write the empty sheet of one.",
)

BAD_ROWS_SHOWN = 50  # rows of the bad-row table printed; --json lists them all
# What a kind that replaces a style's / linesheet's rows removes, in the summary line.
REMOVED_WHAT = {"images": "image", "linesheets": "linesheet style"}
# The kinds this module's help names; the commands take whatever services.erp_load knows.
KINDS_HELP = (
    "customers, styles, prices, images, linesheets, inventory, terms, ship-via, reps, divisions, warehouses, "
    "price-types, receipts (goods received against RMAs), or ebay-listings (eBay listing records per SKU)"
)


class TemplateFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"


def _kinds(table: Literal["loaders", "file_columns"]) -> dict[str, Any]:
    """``services.erp_load``'s kinds: their loaders ("loaders") or their columns ("file_columns")."""
    from services import erp_load

    kinds: dict[str, Any] = erp_load.loaders() if table == "loaders" else erp_load.file_columns()
    return kinds


def _complete_kind(incomplete: str) -> list[str]:
    return [k for k in _kinds("loaders") if k.startswith(incomplete)]


def _kind(kind: str, table: Literal["loaders", "file_columns"] = "loaders") -> str:
    """The kind as the loaders key it (case and _ / - ignored), or a usage error naming them all."""
    kinds = _kinds(table)
    wanted = kind.strip().lower().replace("_", "-")
    found = next((k for k in kinds if k == wanted or k.replace("-", "") == wanted.replace("-", "")), None)
    if found is None:
        raise typer.BadParameter(
            f"{kind!r} is not a kind of ERP file: use one of {', '.join(kinds)}.", param_hint="KIND"
        )
    return found


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
    what: Annotated[
        str, typer.Argument(metavar="KIND", help=f"{KINDS_HELP}.", autocompletion=_complete_kind, show_default=False)
    ],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The ERP export: .csv or .xlsx.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary.")] = False,
    images_dir: Annotated[
        Path | None,
        typer.Option(
            "--images-dir",
            help="images: the folder the manifest's file paths are relative to (default: the manifest's folder).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load an ERP export: customers, styles, prices, images, linesheets, inventory, a file of codes, or receipts.

    Good rows are kept and bad rows are listed (row, column, value, problem);
    the command fails only when the file cannot be read at all. Then every held order is checked
    again and the ones that became valid are imported. A receipts file (goods received against RMAs:
    RMA, line, quantity, reference) loads whole or not at all: one bad row and nothing is received.
    The columns of each kind: `bobbin erp template KIND` writes its empty sheet."""
    from core.db import session_scope
    from services import fixes

    kind = _kind(what)
    loader = _kinds("loaders")[kind]
    if images_dir is not None:
        if kind != "images":
            raise typer.BadParameter("only the images manifest has image files", param_hint="--images-dir")
        if not images_dir.is_dir():
            fail(f"cannot read images from {images_dir}: no such folder")
        loader = partial(loader, images_dir=images_dir)
    if not file.exists():
        fail(f"cannot read {file}: no such file")
    if file.is_dir():
        fail(f"cannot read {file}: it is a folder")
    ensure_database()
    if kind == "receipts":
        _load_receipts(file, as_json)
        return
    if kind == "ebay-listings":  # all or nothing, and no held order waits for a listing
        from bobbin.cli.ebay import load_listings_file

        load_listings_file(file, as_json)
        return
    with err_console().status(f"Loading {kind} from {file.name}…"):
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
                "what": kind,
                "file": str(file),
                "rows_read": report.rows_read,
                "rows_loaded": report.rows_loaded,
                "rows_not_loaded": max(report.rows_read - report.rows_loaded, 0),
                "removed": getattr(report, "removed", 0),
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
    removed = getattr(report, "removed", 0)
    if removed:
        out.print(f"Removed {plural(removed, REMOVED_WHAT.get(kind, 'row'))} the file no longer lists.")
    if bad:
        not_loaded = max(report.rows_read - report.rows_loaded, 0) or bad_rows
        out.print(f"[yellow]{plural(not_loaded, 'row was', 'rows were')} not loaded:[/yellow]")
        table = new_table(("Row", {"justify": "right"}), "Column", ("Value", {"overflow": "fold"}), "Problem")
        for p in bad[:BAD_ROWS_SHOWN]:
            table.add_row(
                str(p["row"]) if p["row"] is not None else DASH,
                p["column"] or DASH,
                Text(str(p["value"]) if p["value"] not in (None, "") else DASH),
                Text(p["message"].replace("`", ""), style="red"),  # commands read as typed, as `orders show` does
            )
        out.print(table)
        if len(bad) > BAD_ROWS_SHOWN:
            out.print(f"[dim]… and {len(bad) - BAD_ROWS_SHOWN:,} more (--json lists them all).[/dim]")
        out.print("[dim]Fix those rows in the ERP export and load the file again: good rows load as updates.[/dim]")
    out.print(revalidation_line(revalidation) if per_site else "No held orders to check again.")


def _load_receipts(file: Path, as_json: bool) -> None:
    """``erp load receipts``: every row checked, then all received or none (services.receipts_load);
    a return received in full asks Loop to process it, and the site's outbox is asked to send that now."""
    from bobbin.cli.returns import flush_words, send_flush
    from core.db import session_scope
    from services.receipts_load import load_receipts

    with err_console().status(f"Loading receipts from {file.name}…"):
        with session_scope() as s:
            report = load_receipts(s, file)
    flushes = {site_id: send_flush(site_id) for site_id in report.process_sites}
    bad_rows = len({p.row for p in report.problems})
    if as_json:
        sites = {o.site_id: o.site for o in report.rmas}
        print_json({**report.as_dict(), "flush": {sites[k]: v for k, v in flushes.items()}})
        if report.problems:
            raise typer.Exit(1)
        return
    out = console()
    if report.ignored_columns:
        out.print(f"[dim]Columns not used: {', '.join(report.ignored_columns)}[/dim]")
    if report.problems:
        out.print(
            f"Read {plural(report.rows_read, 'row')} from {file.name}; "
            f"[red]{plural(bad_rows, 'row has', 'rows have')} problems[/red]:"
        )
        table = new_table(("Row", {"justify": "right"}), "Column", ("Value", {"overflow": "fold"}), "Problem")
        for p in report.problems[:BAD_ROWS_SHOWN]:
            table.add_row(
                str(p.row),
                p.column or DASH,
                Text(p.value if p.value not in (None, "") else DASH),
                Text(p.message, style="red"),
            )
        out.print(table)
        if len(report.problems) > BAD_ROWS_SHOWN:
            out.print(f"[dim]… and {len(report.problems) - BAD_ROWS_SHOWN:,} more (--json lists them all).[/dim]")
        fail(
            f"nothing was received from {file.name}: a receipts file loads whole or not at all; "
            "fix those rows and load the file again"
        )
    if not report.receipts:
        out.print(f"Read {plural(report.rows_read, 'row')} from {file.name}: nothing to receive.")
        return
    out.print(
        f"[green]Received {plural(report.units, 'unit')} on {plural(len(report.rmas), 'RMA')}[/green] from "
        f"{file.name} ({plural(len(report.receipts), 'receipt')}), restocked in each RMA's warehouse."
    )
    table = new_table(
        "RMA",
        ("Return", {"justify": "right"}),
        "Site",
        ("Units", {"justify": "right"}),
        "Received",
        ("Loop", {"overflow": "fold"}),
    )
    for o in report.rmas:
        loop = (
            "asked to process it"
            if o.process_queued
            else "asked once every line is in"
            if not o.complete
            else "not asked again (see `bobbin returns show`)"
        )
        table.add_row(
            o.rma,
            str(o.return_id),
            o.site,
            str(o.units),
            Text("in full", style="green") if o.complete else Text("in part", style="yellow"),
            loop,
        )
    out.print(table)
    names = {o.site_id: o.site for o in report.rmas}
    for site_id, flush in flushes.items():
        sent, words = flush_words(flush, f"{names[site_id]}'s requests to Loop", many=True)
        if sent:
            out.print(f"[dim]{words}[/dim]")
        else:
            warn(words)


@app.command("template")
def template(
    what: Annotated[
        str, typer.Argument(metavar="KIND", help=f"{KINDS_HELP}.", autocompletion=_complete_kind, show_default=False)
    ],
    fmt: Annotated[
        TemplateFormat | None,
        typer.Option("--format", help="csv or xlsx (default: from --output's suffix, else csv).", show_default=False),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write it (default: KIND.csv or KIND.xlsx here; - prints the CSV)."
        ),
    ] = None,
    price_types: Annotated[
        list[str] | None,
        typer.Option("--price-type", help="styles: add a price:TYPE column for this ERP price type (repeatable)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a file that is already there.")] = False,
) -> None:
    """Write the empty sheet of a kind of ERP file: the header row `bobbin erp load KIND` reads.

    Every column the loader reads, under its documented name; the command lists which are
    required. Fill one row per record and load it."""
    from services import erp_load

    kind = _kind(what, "file_columns")
    if price_types and kind != "styles":
        raise typer.BadParameter("only the styles file has price columns", param_hint="--price-type")
    extra = [f"{erp_load.PRICE_PREFIX}{t.strip().upper()}" for t in price_types or [] if t.strip()]
    if output is not None and str(output) == "-":
        if fmt is TemplateFormat.xlsx:
            raise typer.BadParameter("an .xlsx workbook cannot be printed: give a file", param_hint="--output")
        csv.writer(sys.stdout, lineterminator="\n").writerow(erp_load.template_headers(kind, extra))
        return
    suffix_format = {".xlsx": TemplateFormat.xlsx, ".csv": TemplateFormat.csv}.get(
        output.suffix.lower() if output else ""
    )
    if fmt is None:
        fmt = suffix_format or TemplateFormat.csv
    elif suffix_format is not None and suffix_format is not fmt:
        raise typer.BadParameter(f"{output} is not a .{fmt.value} file", param_hint="--output")
    path = output or Path(f"{kind}.{fmt.value}")
    if path.is_dir():
        fail(f"cannot write {path}: it is a folder")
    if path.exists() and not force:
        fail(f"{path} is already there: give another --output, or --force to overwrite it")
    try:
        erp_load.write_template(kind, path, fmt.value, extra)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    columns = erp_load.file_columns()[kind]
    out = console()
    out.print(f"Wrote {escape(str(path))}: the {kind} template, {plural(len(columns) + len(extra), 'column')}.")
    table = new_table("Column", "Required", ("Also read as", {"overflow": "fold"}))
    for c in columns:
        others = [a for a in c.aliases if a != erp_load.header_key(c.title)]
        table.add_row(c.title, "yes" if c.required else "", ", ".join(others) or DASH)
    for header in extra:
        table.add_row(header, "", DASH)
    out.print(table)
    if kind in erp_load.EXTRA_HEADERS and not extra:
        out.print(
            f"[dim]Also read: {erp_load.EXTRA_HEADERS[kind]} columns, one per ERP price type "
            "(--price-type TYPE adds price:TYPE).[/dim]"
        )
    out.print(f"Fill one row per record, then load it: [bold]bobbin erp load {kind} {escape(str(path))}[/bold]")
