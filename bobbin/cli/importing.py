"""``bobbin import SITE``: import a site's orders now, by its name — through the worker when one
is running, here otherwise — and print the run's summary; ``--dry-run`` reads the partner and shows
what an import would stage, accept and hold, and writes nothing.

(``bobbin orders import ORDER…`` is another thing: it imports orders already held.)
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.text import Text

from bobbin.cli.output import (
    DASH,
    console,
    ensure_database,
    err_console,
    fail,
    fmt_money,
    kv_table,
    new_table,
    plural,
    print_json,
    state_text,
    warn,
)

ROWS_SHOWN = 50  # orders listed by --dry-run; --json has them all
WAIT_SECONDS = 1800  # how long `bobbin import` waits for the worker's answer by default


def register(app: typer.Typer) -> None:
    app.command("import")(import_site)


def import_site(
    site: Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Read the partner and show what an import would do; write nothing, mark nothing."
        ),
    ] = False,
    here: Annotated[
        bool, typer.Option("--here", help="Import in this process, even when a worker is running.")
    ] = False,
    timeout: Annotated[
        int, typer.Option("--timeout", min=1, help="Seconds to wait for the worker's answer.")
    ] = WAIT_SECONDS,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary (stable keys).")] = False,
) -> None:
    """Import a site's orders now: fetch, stage, check and import, then send "exported" back.

    Runs on the worker when one is running (its progress shows here), else in this process
    (--here asks for that). Prints the run's summary; --dry-run shows what would happen."""
    from core.db import session_scope
    from services.sites import get_site

    ensure_database()
    with session_scope() as s:
        found = get_site(s, site)
        site_id, name, active = found.id, found.name, found.active
    if dry_run:
        _dry_run(name, as_json)
        return
    if not active:
        fail(f"site {name} is paused: resume it first (`bobbin sites resume {name}`), or look with --dry-run")
    if here:
        where, summary = "here", _import_here(site_id, name, as_json)
    elif worker_running():
        where, summary = "worker", import_on_worker(site_id, name, timeout, as_json)
    else:
        if not as_json:
            err_console().print("[dim]No worker is running: importing in this process.[/dim]")
        where, summary = "here", _import_here(site_id, name, as_json)
    summary = {"site": name, "where": where, **summary}
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    if summary.get("skipped"):
        if not as_json:
            fail(f"{name} was not imported: {summary['skipped']}")
        raise typer.Exit(1)


# --- where the import runs ------------------------------------------------------------------------


def worker_running() -> bool:
    """Whether a Celery worker consuming the imports queue answers (a deployment may run a worker
    per queue group: worker/routes.py). Redis is looked at first, without starting anything: with
    no broker there is no worker."""
    from bobbin.cli.status import redis_health

    if not redis_health()["ok"]:
        return False
    from worker import app
    from worker.routes import IMPORTS

    try:
        answers = app.control.inspect(timeout=1.0).active_queues() or {}
    except Exception:  # a broker that went away meanwhile: no worker to send to
        return False
    return any(q.get("name") == IMPORTS for queues in answers.values() for q in queues or [])


ORDERS_TASK = "tasks.orders.import_orders"


def import_on_worker(
    site_id: int,
    name: str,
    timeout: int,
    quiet: bool,
    task: str = ORDERS_TASK,
    what: str = "import",
    subject: str | None = None,
) -> dict[str, Any]:
    """Send an import task of the site (``task``: the orders' by default) and wait for its summary,
    with a line saying where it is. ``what`` names the run in messages ("the returns import of
    SITE ...") and ``subject`` what is imported ("Importing SITE's returns ..."; default the site)."""
    from worker import app

    result = app.send_task(task, args=[site_id])
    started = time.monotonic()
    words = {"PENDING": "waiting for the worker", "STARTED": "running", "RETRY": "retrying (the partner is busy)"}
    subject = subject or name
    with err_console().status(f"Importing {subject} on the worker…") as line:
        while not result.ready():
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                fail(
                    f"the {what} of {name} is still running on the worker after {timeout} s (task {result.id}); "
                    "`bobbin status` shows its summary when it ends"
                )
            if not quiet:
                line.update(
                    f"Importing {subject} on the worker: {words.get(result.state, result.state.lower())}, "
                    f"{elapsed:.0f} s"
                )
            time.sleep(0.3)
    if result.failed():
        error = result.result
        first = next((ln.strip() for ln in str(error).splitlines() if ln.strip()), type(error).__name__)
        fail(f"the {what} of {name} failed on the worker: {first} (task {result.id}; `bobbin status` has the run)")
    summary = dict(result.get(timeout=10))
    summary["task_id"] = result.id
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary


def _import_here(site_id: int, name: str, quiet: bool) -> dict[str, Any]:
    """The task's work in this process: the import, then what the task leaves to others — the
    writebacks it queued, sent now, and the e-mail of its new problems."""
    from services import pipeline

    started = time.monotonic()
    with err_console().status(f"Importing {name} here…"):
        summary = pipeline.import_site_orders(site_id)
    summary["seconds"] = round(time.monotonic() - started, 1)
    if summary.get("skipped"):
        return summary
    if summary.get("fetched") or summary.get("modified"):
        summary["writebacks"] = flush_here(site_id, name)
    if summary.get("new_errors"):
        summary["error_report"] = report_here(site_id)
    if summary.get("imported"):
        summary["erp_export"] = _export_here(site_id, name)
    return summary


def _export_here(site_id: int, name: str) -> dict[str, Any]:
    """The new ERP orders into the site's drop folder, as the task's follow-up does (tasks.erp)."""
    from services import erp_handoff

    with err_console().status(f"Writing {name}'s new orders to the ERP drop folder…"):
        return erp_handoff.export_site_orders(site_id).summary()


def flush_here(site_id: int, name: str, what: str = "status changes") -> dict[str, Any]:
    """Send the site's outbox now, in this process (``what`` it holds, in the messages)."""
    from connectors.errors import PartnerError
    from core.crypto import CredentialsError
    from services import writeback

    try:
        with err_console().status(f"Sending {name}'s {what} to the partner…"):
            return writeback.flush(site_id=site_id).as_dict()
    except (PartnerError, CredentialsError) as exc:
        warn(f"the {what} are queued but could not be sent now: {exc} (the outbox flush sends them)")
        return {"error": str(exc)}


def report_here(site_id: int) -> dict[str, Any]:
    from core.db import session_scope
    from core.locks import advisory_lock, site_lock_name
    from core.mail import MailError
    from services import notify

    with advisory_lock(site_lock_name("notify_errors", site_id)) as got:
        if not got:
            return {"sent": False, "reason": "another report for this site is being sent"}
        try:
            with session_scope() as s:
                return dict(notify.send_error_report(s, site_id, kind="errors"))
        except MailError as exc:
            warn(f"the e-mail of the new problems could not be sent: {exc} (the daily digest lists them)")
            return {"sent": False, "reason": str(exc)}


# --- the summary ------------------------------------------------------------------------------------

SUMMARY_ROWS = (
    ("fetched", "Fetched"),
    ("new", "New"),
    ("changed", "Changed"),
    ("valid", "Valid"),
    ("invalid", "Invalid"),
    ("duplicate", "Duplicate"),
    ("imported", "Imported"),
    ("new_errors", "New problems"),
    ("resolved_errors", "Resolved"),
)


def _print_summary(summary: dict[str, Any]) -> None:
    out = console()
    name = summary["site"]
    if summary.get("skipped"):
        return
    how = "on the worker" if summary["where"] == "worker" else "here"
    run = f", run {summary['run_id']}" if summary.get("run_id") else ""
    style = "green" if not summary.get("invalid") and not summary.get("duplicate") else "yellow"
    out.print(
        f"[{style}]Imported {name} {how}{run}[/{style}] — "
        f"{plural(int(summary.get('imported', 0)), 'new ERP order')} in {summary.get('seconds', 0):.1f} s."
    )
    rows: list[tuple[str, Any]] = [(label, f"{int(summary.get(key, 0)):,}") for key, label in SUMMARY_ROWS]
    if summary.get("modified"):
        rows.append(("Changed after export", f"{summary['modified']:,}"))
    if summary.get("exported_again"):
        rows.append(('"exported" sent again', f"{summary['exported_again']:,} (the partner still listed them)"))
    wb = summary.get("writebacks") or {}
    if wb.get("sent") or wb.get("retrying") or wb.get("dead"):
        rows.append(
            (
                "Sent back",
                f"{plural(int(wb.get('sent', 0)), 'status change')}"
                + (f", {wb['retrying']} retrying" if wb.get("retrying") else "")
                + (f", {wb['dead']} given up" if wb.get("dead") else ""),
            )
        )
    out.print(kv_table(rows))
    if summary.get("read_note"):
        warn(f"{name}: {summary['read_note']}")
    for drift in summary.get("drift") or []:
        warn(f"{name}: {drift}")
    if summary.get("exported_not_taken"):
        warn(
            f"{plural(int(summary['exported_not_taken']), 'imported order')} still listed as waiting after "
            '"exported" was sent several times: Bobbin stopped sending it (problem exported_not_taken)'
        )
    if summary.get("invalid") or summary.get("duplicate"):
        out.print(f"[dim]What needs a person: bobbin orders list --site {name} --view invalid[/dim]")
    report = summary.get("error_report") or {}
    if report.get("sent"):
        out.print(
            f"[dim]The new problems were e-mailed to {', '.join(report.get('recipients') or []) or 'the site'}.[/dim]"
        )


# --- dry run ----------------------------------------------------------------------------------------


def _dry_run(name: str, as_json: bool) -> None:
    from services.preview import preview_site_orders

    with err_console().status(f"Reading {name}'s waiting orders (nothing is written)…"):
        preview = preview_site_orders(name)
    if as_json:
        print_json(preview.as_dict())
        return
    out = console()
    c = preview.counts()
    if not preview.orders:
        out.print(f"No orders are waiting on {preview.site} ({preview.partner}). Nothing was written.")
        return
    out.print(
        Text.assemble(
            (f"Dry run of {preview.site} ({preview.partner}): ", "bold"),
            f"{plural(c['fetched'], 'order')} waiting. An import would stage {c['new']:,} new and "
            f"{c['changed']:,} changed, check {c['held']:,} held already again, and leave "
            f"{c['imported'] + c['rejected']:,} imported or rejected alone.",
        )
    )
    out.print(
        Text.assemble(
            "As checked now: ",
            (f"{c['valid']:,} valid", "green"),
            " (imported by the run), ",
            (f"{c['invalid']:,} invalid", "red" if c["invalid"] else ""),
            ", ",
            (f"{c['duplicate']:,} duplicate", "yellow" if c["duplicate"] else ""),
            " (same customer PO as an order before it).",
        )
    )
    shown = [o for o in preview.orders if o.problems or o.action != "new"]
    if shown:
        table = new_table(
            "Partner #",
            "Held",
            "PO",
            "Customer",
            ("Total", {"justify": "right"}),
            "Would be",
            ("Problems", {"overflow": "fold", "ratio": 1}),
            title="Orders with problems, or held already",
        )
        for o in shown[:ROWS_SHOWN]:
            held = Text(DASH) if o.held_as is None else Text.assemble(f"{o.held_as} ", state_text(o.held_state or ""))
            if o.state is None:
                would = Text(f"left alone ({o.action})", style="dim")
            else:
                would = Text.assemble(state_text(o.state), (f" ({o.action})", "dim"))
            problems = Text()
            for p in o.problems:
                if problems:
                    problems.append("\n")
                colour = "red" if p.severity == "error" else "yellow"
                problems.append(p.code, style=f"bold {colour}")
                problems.append(f" {p.message}")
            table.add_row(
                o.partner_order_id,
                held,
                o.po_number or DASH,
                Text.assemble((o.customer_code, "bold"), " ", (o.customer or "", "dim"))
                if o.customer_code
                else Text(o.customer or DASH),
                fmt_money(o.total, o.currency),
                would,
                problems,
            )
        out.print(table)
        if len(shown) > ROWS_SHOWN:
            out.print(f"… and {plural(len(shown) - ROWS_SHOWN, 'more order')} (--json lists them all).")
    clean = len(preview.orders) - len(shown)
    if clean:
        out.print(f"[dim]{plural(clean, 'new order')} without problems not listed (--json lists every order).[/dim]")
    if preview.read_note:
        warn(f"{preview.site}: {preview.read_note}")
    out.print("[dim]Nothing was written: no order staged, imported or marked on the partner, no run recorded.[/dim]")
