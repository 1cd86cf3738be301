"""``bobbin report``: reports for people who check the numbers.

``bobbin report reconcile SITE --from DATE --to DATE`` — of a period's orders: how many were on the
partner, in the holding area, imported to the ERP, handed to the ERP file and shipped; each order
missing from a stage, and each ERP total that differs from the partner's
(``services/reconcile_report.py``). A table here, ``--json``, and ``--xlsx PATH`` (a summary sheet
and a sheet of the exceptions).
"""

from __future__ import annotations

from datetime import date
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
    fitted_table,
    fmt_money,
    fmt_time,
    kv_table,
    new_table,
    plural,
    print_json,
    state_text,
    warn,
)

app = typer.Typer(no_args_is_help=True, help="Reports: a site's orders reconciled from the partner to shipment.")

ROWS_SHOWN = 50  # exceptions printed; --json and --xlsx have them all
# A stage an order is missing from, as the exceptions table says it.
MISSING_WORDS = {
    "partner": "partner",
    "held": "holding area",
    "imported": "ERP import",
    "handed_off": "ERP file",
    "shipped": "shipment",
}


def parse_day(value: str, option: str) -> date:
    """A YYYY-MM-DD date, or one line saying what to give."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} {value!r} is not a date: give it as YYYY-MM-DD (e.g. 2026-11-01)")


@app.command("reconcile")
def reconcile(
    site: Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")],
    date_from: Annotated[
        str, typer.Option("--from", metavar="DATE", help="The period's first day, YYYY-MM-DD (included).")
    ],
    date_to: Annotated[str, typer.Option("--to", metavar="DATE", help="The period's last day, YYYY-MM-DD (included).")],
    no_partner: Annotated[
        bool,
        typer.Option(
            "--no-partner", help="Do not read the partner's list: only Bobbin's tables (what the holding area saw)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report (stable keys, ISO dates).")] = False,
    xlsx: Annotated[
        Path | None,
        typer.Option("--xlsx", metavar="PATH", help="Also write the report as .xlsx: a summary and the exceptions."),
    ] = None,
) -> None:
    """Reconcile a site's orders of a period: on the partner, held, imported, handed to the ERP
    file, shipped; every order missing from a stage and every total that differs.

    Orders are placed in the period by their order date, else by the day Bobbin first saw them."""
    from services.reconcile_report import check_period, reconcile_site, write_xlsx

    first, last = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    check_period(first, last)  # before reaching anything
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        fail(f"--xlsx {str(xlsx)!r}: give a file name ending in .xlsx")
    ensure_database()
    if no_partner:
        report = reconcile_site(site, first, last, partner=False)
    else:
        with err_console().status(f"Reading {site}'s waiting orders on the partner (nothing is written)…"):
            report = reconcile_site(site, first, last)
    if xlsx is not None:
        try:
            write_xlsx(report, xlsx)
        except OSError as exc:
            fail(f"cannot write {xlsx}: {exc.strerror or exc}")
    if as_json:
        print_json(report.as_dict())
    else:
        _show(report)
    if xlsx is not None:
        err_console().print(f"Wrote {xlsx} (sheets Summary and Exceptions).", soft_wrap=True)
    if report.read_note:
        warn(f"{report.site}: {report.read_note}")


def _show(report: Any) -> None:
    out = console()
    out.print(
        Text.assemble(
            (f"Reconciliation of {report.site} ({report.partner}) ", "bold"),
            f"{report.date_from.isoformat()} – {report.date_to.isoformat()}",
        )
    )
    out.print(
        kv_table(
            [
                ("Period by", report.period_basis),
                ('"On the partner" covers', report.partner_covers),
                ("Generated", fmt_time(report.generated_at)),
            ]
        )
    )
    missing = report.missing_counts()
    stages = new_table("Stage", ("Orders", {"justify": "right"}), ("Missing from it", {"justify": "right"}))
    for stage in report.stages:
        count = Text("not read", style="dim") if stage.count is None else Text(f"{stage.count:,}")
        gap = missing[stage.key]
        stages.add_row(stage.label, count, Text(f"{gap:,}", style="red" if gap else "dim"))
    stages.add_row(
        "Totals differing (ERP vs partner)",
        "",
        Text(f"{missing['total']:,}", style="red" if missing["total"] else "dim"),
    )
    out.print()
    out.print(stages)
    if not report.exceptions:
        out.print("[green]No exceptions:[/green] every order of the period reached every stage, every total agrees.")
        return
    columns: list[tuple[str, dict[str, Any], int]] = [
        ("Order", {"no_wrap": True}, 0),
        ("ID", {"justify": "right"}, 110),
        ("Missing from", {"no_wrap": True}, 0),
        ("State", {}, 120),
        ("Sales order", {"no_wrap": True}, 100),
        ("Partner total", {"justify": "right", "no_wrap": True}, 90),
        ("ERP total", {"justify": "right", "no_wrap": True}, 90),
        ("Note", {"overflow": "fold", "ratio": 1}, 0),
    ]
    rows = [
        {
            "Order": Text(e.order),
            "ID": DASH if e.order_id is None else str(e.order_id),
            "Missing from": Text("(total differs)", style="bold red")
            if e.stage_missing is None
            else Text(MISSING_WORDS.get(e.stage_missing, e.stage_missing), style="yellow"),
            "State": state_text(e.state) if e.state else Text(DASH),
            "Sales order": e.sales_order or DASH,
            "Partner total": fmt_money(e.partner_total, e.currency),
            "ERP total": fmt_money(e.erp_total, e.currency),
            "Note": Text(e.note),
        }
        for e in report.exceptions[:ROWS_SHOWN]
    ]
    out.print()
    table = fitted_table(columns, rows, out.width, title=f"Exceptions ({len(report.exceptions):,})")
    out.print(table)
    if len(report.exceptions) > ROWS_SHOWN:
        out.print(
            f"… and {plural(len(report.exceptions) - ROWS_SHOWN, 'more exception')} (--json and --xlsx list them all)."
        )
