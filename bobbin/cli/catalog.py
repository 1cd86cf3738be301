"""``bobbin catalog``: send a site's partner the ERP's styles, images and linesheets that changed,
with a progress bar and a summary table; the items the partner refused, and the styles removed
there. The work is ``services.catalog``'s (the task and the console's button call the same);
``bobbin customers push`` shares the printing here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from bobbin.cli.output import (
    DASH,
    console,
    ensure_database,
    err_console,
    fail,
    fmt_time,
    new_table,
    plural,
    print_json,
    warn,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Catalog: push styles, SKUs, prices, images and linesheets to a site's partner; what it refused.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
SiteArg = Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")]
ROWS_SHOWN = 50  # items listed under a summary; --json has them all (up to the result's own limit)

DONE_COLUMNS = ("accepted", "rejected", "awaiting", "removed", "unchanged", "held back", "unanswered")
PLAN_COLUMNS = ("to send", "to remove", "rejected", "awaiting", "unchanged", "held back")
ALWAYS = {"accepted", "rejected", "awaiting", "removed", "unchanged", "to send", "to remove"}
STYLES = {"accepted": "green", "rejected": "red", "awaiting": "yellow", "removed": "magenta", "to send": "cyan"}
KIND_ORDER = ("style", "image", "linesheet", "customer", "listing")


def summary_table(result: Any) -> Any:
    """Kind × outcome: how many items the push settled each way (a dry run: would)."""
    columns = PLAN_COLUMNS if result.dry_run else DONE_COLUMNS
    shown = [c for c in columns if c in ALWAYS or result.total(c)]
    title = f"{'Would push' if result.dry_run else 'Pushed'} to {result.site} ({result.partner})"
    table = new_table("Kind", *((c.capitalize(), {"justify": "right"}) for c in shown), title=title)
    kinds = [k for k in KIND_ORDER if k in result.counts] or (
        [k for k in KIND_ORDER if k == "customer"] if result.what == "customers" else ["style"]
    )
    for kind in kinds:
        per = result.counts.get(kind, {})
        table.add_row(
            kind,
            *(Text(f"{per[c]:,}", style=STYLES.get(c, "")) if per.get(c) else Text(DASH, style="dim") for c in shown),
        )
    return table


def print_result(result: Any, *, command: str) -> None:
    """The summary table, then the refused items with the partner's words, removals, matches and notes."""
    out = console()
    out.print(summary_table(result))
    if result.rejected:
        verb = "would refuse" if result.dry_run else "refused"
        table = new_table("Kind", "Item", "Name", "Message", title=f"{result.partner} {verb}")
        for r in result.rejected[:ROWS_SHOWN]:
            table.add_row(r["kind"], r["key"], r.get("label") or DASH, Text(r.get("message") or DASH, style="red"))
        out.print(table)
        more = len(result.rejected) - ROWS_SHOWN
        if more > 0:
            out.print(f"… and {plural(more, 'more item')} (--json lists them).")
        if not result.dry_run:
            out.print(
                f"Refused items stay problem rows ([bold]bobbin catalog problems {result.site}[/bold]) and are sent "
                f"again by the next push ([bold]{command} {result.site}[/bold])."
            )
    awaiting = result.total("awaiting")
    if awaiting:
        out.print(
            Text(f"{awaiting:,} sent, awaiting {result.partner}: not failed; polled again later.", style="yellow")
        )
    if result.removed:
        table = new_table("Style", f"{result.partner} id", "Done", title=f"Removed on {result.partner}")
        for r in result.removed[:ROWS_SHOWN]:
            table.add_row(r["style"], r.get("partner_id") or DASH, r["action"])
        out.print(table)
    if result.matched:
        table = new_table("Style", f"{result.partner} product", "Matched by", title="Matched to products already there")
        for m in result.matched[:ROWS_SHOWN]:
            table.add_row(m["style"], m["partner_id"], m["by"])
        out.print(table)
    if result.dry_run and result.items:
        table = new_table("Kind", "Item", "Name", "Action", "Why", title="Would go")
        for item in result.items[:ROWS_SHOWN]:
            table.add_row(item["kind"], item["key"], item.get("label") or DASH, item["action"], item["why"])
        out.print(table)
        more = len(result.items) - ROWS_SHOWN
        if more > 0:
            out.print(f"… and {plural(more, 'more item')} (--json lists them).")
    for note in result.notes:
        warn(note)
    if result.dry_run:
        out.print("Nothing was sent or recorded.")
    else:
        out.print(
            f"{plural(result.sent, 'item')} sent in {plural(result.batches, 'batch', 'batches')}, "
            f"{result.seconds:.1f} s, run {result.run_id}."
        )


def push_with_bar(push: Any, site_id: int, **kwargs: Any) -> Any:
    """Run ``push(site_id, progress=..., **kwargs)`` with one progress bar per kind of item."""
    columns = (
        TextColumn("[bold]{task.description}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console(), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(kind: str, done: int, total: int) -> None:
            if kind not in tasks:
                tasks[kind] = bar.add_task(f"{kind}s" if not kind.endswith("s") else kind, total=total)
            bar.update(tasks[kind], completed=done, total=total)

        return push(site_id, progress=progress, **kwargs)


def report_refusals(site_id: int) -> dict[str, Any]:
    """E-mail the items refused for the first time (the error report the task sends too)."""
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
            warn(f"the e-mail of the refused items could not be sent: {exc} (the daily digest lists them)")
            return {"sent": False, "reason": str(exc)}


def run_push(
    service: Any,
    site: str,
    *,
    dry_run: bool,
    as_json: bool,
    command: str,
    capability: Literal["catalog", "customers"],
    **kwargs: Any,
) -> None:
    """What `catalog push` and `customers push` share: the site, the dry run or the push with its
    bar, the summary, and the e-mail of new refusals."""
    from connectors.errors import RetryableError
    from core.db import session_scope
    from services.sites import open_site

    ensure_database()
    with session_scope() as s:
        ctx = open_site(s, site)
        ctx.spec.capability(capability)  # NotOffered: one line naming the partners that do
        site_id = ctx.id
    if dry_run:
        with err_console().status("Comparing the ERP with what the partner accepted…"):
            result = service(site_id, dry_run=True, **kwargs)
        if as_json:
            print_json(result.summary())
        else:
            print_result(result, command=command)
        return
    try:
        result = service(site_id, **kwargs) if as_json else push_with_bar(service, site_id, **kwargs)
    except RetryableError as exc:
        fail(
            f"{exc.partner or 'partner'}: {exc} — the batches answered before are recorded; "
            "run the push again later to send the rest"
        )
    if result.skipped:
        if as_json:
            print_json(result.summary())
        fail(f"not pushed: {result.skipped}")
    report = report_refusals(site_id) if result.new_rejections else None
    if as_json:
        print_json({**result.summary(), **({"report": report} if report else {})})
        return
    print_result(result, command=command)
    if report and report.get("sent"):
        console().print(f"The refused items were e-mailed to {', '.join(report.get('recipients', []))}.")


@app.command("push")
def push(
    site: SiteArg,
    full: Annotated[bool, typer.Option("--full", help="Send every item, not only the changed ones.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent, removed and refused; send nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Push the catalog: styles with their colours, SKUs and prices, then images and linesheets.

    Only what the partner has not accepted as it is now is sent, unless --full. Styles made
    inactive in the ERP are removed or deactivated per the site's catalog_inactive setting."""
    from services import catalog

    run_push(
        catalog.push_catalog,
        site,
        dry_run=dry_run,
        as_json=as_json,
        command="bobbin catalog push",
        capability="catalog",
        full=full,
    )


@app.command("problems")
def problems(
    site: SiteArg,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind: style, image, linesheet, customer or listing (eBay).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The items the partner refused (or a check kept back), with its message and what to do."""
    from core.db import session_scope
    from services import catalog
    from services.sites import get_site

    if kind is not None and kind not in KIND_ORDER:
        fail(f"--kind must be one of {', '.join(KIND_ORDER)}, not {kind!r}")
    ensure_database()
    with session_scope() as s:
        st = get_site(s, site)
        rows = catalog.problems(s, st.id, None if kind is None else [kind])
        name = st.name
    if as_json:
        print_json({"site": name, "problems": rows})
        return
    if not rows:
        console().print(f"[green]Nothing refused on {name}.[/green]")
        return
    table = new_table("Kind", "Item", "Name", "Message", "Since", title=f"Refused on {name}")
    for r in rows:
        table.add_row(
            r["kind"], r["key"], r["label"] or DASH, Text(r["message"] or DASH, style="red"), fmt_time(r["since"])
        )
    console().print(table)
    for k in [k for k in KIND_ORDER if any(r["kind"] == k for r in rows)]:
        console().print(Text.assemble((f"{k.capitalize()}s: ", "bold"), catalog.resolution(k, name).replace("`", "")))


@app.command("removals")
def removals(site: SiteArg, as_json: JsonOpt = False) -> None:
    """The styles the catalog push removed or deactivated on the partner (or tried to), newest first."""
    from core.db import session_scope
    from services import catalog
    from services.sites import get_site

    ensure_database()
    with session_scope() as s:
        st = get_site(s, site)
        rows: list[dict[str, Any]] = [
            {
                "style": r.style_number,
                "partner_id": r.partner_id,
                "action": r.action,
                "outcome": r.outcome,
                "message": r.message,
                "run_id": r.run_id,
                "at": r.created_at,
                "snapshot": r.snapshot,
            }
            for r in catalog.removals(s, st.id)
        ]
        name = st.name
    if as_json:
        print_json({"site": name, "removals": rows})
        return
    if not rows:
        console().print(f"No style was removed on {name}'s partner.")
        return
    table = new_table("When", "Style", "Description", "Partner id", "Action", "Outcome", title=f"Removals on {name}")
    for r in rows:
        table.add_row(
            fmt_time(r["at"]),
            r["style"],
            r["snapshot"].get("description") or DASH,
            r["partner_id"] or DASH,
            r["action"],
            Text(r["outcome"], style="red" if r["outcome"] == "rejected" else ""),
        )
    console().print(table)
