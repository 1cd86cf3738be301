"""``bobbin inventory push``: send a site's partner the stock that changed, with a progress bar;
``--dry-run`` shows what would be sent and sends nothing."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from bobbin.cli.output import (
    DASH,
    console,
    ensure_database,
    err_console,
    fail,
    fmt_date,
    new_table,
    plural,
    print_json,
    warn,
)

app = typer.Typer(no_args_is_help=True, help="Inventory: push available-to-sell quantities to a site's partner.")

ROWS_SHOWN = 50  # changes listed by --dry-run and gone WIP dates listed after a push; --json has them all


def _change_dict(ch: Any) -> dict[str, Any]:
    return {
        "sku": ch.sku,
        "warehouse": ch.warehouse,
        "bucket": ch.bucket,
        "date": ch.available_on,
        "last_sent": ch.previous,
        "now": ch.quantity,
        "gone": ch.gone,
    }


def _warehouse_text(name: str) -> str:
    return name or "(default)"


def _show_plan(result: Any) -> None:
    out = console()
    if not result.changes:
        out.print(
            f"Nothing to send: {result.site}'s {result.partner} stock matches the ERP "
            f"({plural(result.desired, 'bucket')} checked)."
        )
        return
    table = new_table(
        "SKU",
        "Warehouse",
        "Bucket",
        "Date",
        ("Last sent", {"justify": "right"}),
        ("Now", {"justify": "right"}),
        title=f"Would send to {result.site} ({result.partner})",
    )
    for ch in result.changes[:ROWS_SHOWN]:
        table.add_row(
            ch.sku,
            _warehouse_text(ch.warehouse),
            ch.bucket,
            fmt_date(ch.available_on),
            DASH if ch.previous is None else str(ch.previous),
            Text(str(ch.quantity), style="yellow" if ch.gone else ""),
        )
    out.print(table)
    more = len(result.changes) - ROWS_SHOWN
    if more > 0:
        out.print(f"… and {plural(more, 'more bucket')} (--json lists them all).")
    out.print(
        f"{plural(result.changed, 'bucket')} changed of {result.desired:,} "
        f"→ {plural(result.rows_total, 'row')} for {result.partner}"
        f"{' (full push: everything)' if result.full else ''}. Nothing was sent."
    )
    _show_wip(result)


def _show_wip(result: Any) -> None:
    if not result.remove_wip_dates_count:
        return
    verb = "would be" if result.dry_run else "were"
    warn(
        f"{plural(result.remove_wip_dates_count, 'WIP date')} {verb} set to 0 but stay on {result.partner}: "
        f"its API cannot remove a WIP date — remove them by hand on {result.partner}."
    )
    table = new_table("SKU", "UPC / style", "Warehouse", "WIP date", ("Was", {"justify": "right"}))
    for item in result.remove_wip_dates[:ROWS_SHOWN]:
        named = item.get("upc") or " ".join(str(item[k]) for k in ("style_number", "color_code", "size") if item.get(k))
        table.add_row(item["sku"], named or DASH, item["warehouse"], item["date"], str(item["was"]))
    err_console().print(table)


def _show_result(result: Any) -> None:
    out = console()
    if not result.rows_sent and not result.rows_forgotten and not result.rows_not_held:
        out.print(
            f"Nothing to send: {result.site}'s {result.partner} stock already matches the ERP "
            f"({plural(result.desired, 'bucket')} checked, run {result.run_id})."
        )
        return
    refused_rows = result.rows_rejected and not result.batches_rejected  # refused one SKU at a time
    style = "green" if not (result.batches_rejected or result.rows_not_found or refused_rows) else "yellow"
    out.print(
        f"[{style}]Sent {plural(result.rows_sent, 'row')} to {result.site} ({result.partner}) in "
        f"{plural(result.batches, 'batch', 'batches')}:[/{style}] {result.rows_accepted:,} accepted"
        f"{f', {result.rows_not_found:,} SKUs unknown there' if result.rows_not_found else ''}"
        f"{f', {result.batches_rejected} batches rejected' if result.batches_rejected else ''}"
        f"{f', {result.rows_rejected:,} refused' if refused_rows else ''}"
        f" — {result.seconds:.1f} s, run {result.run_id}."
    )
    if result.rows_not_held:
        out.print(
            f"[dim]{plural(result.rows_not_held, 'SKU')} not sent: {result.partner} holds no item for them "
            "(list them there first); nothing is kept for them.[/dim]"
        )
    if result.rows_not_found:
        shown = ", ".join(result.not_found_skus[:10])
        warn(
            f"{result.partner} has no SKU {shown}{' …' if result.rows_not_found > 10 else ''}: "
            "add them there (or take their styles out of the push); they are sent again next time."
        )
    if result.rows_forgotten:
        warn(
            f"{plural(result.rows_forgotten, 'bucket')} of SKUs deleted from the ERP could not be named to "
            f"{result.partner} (no UPC or style left) and were dropped: it still shows their last counts. "
            "Fix them there by hand; make a style inactive rather than deleting its SKUs."
        )
    if result.rows_rejected:
        from core.db import session_scope
        from services.inventory import rejections

        with session_scope() as s:
            refused = [r for r in rejections(s, result.site_id) if r.run_id == result.run_id]
            for r in refused[:5]:
                sku = (r.rows[0] or {}).get("sku") if r.row_count == 1 and r.rows else None
                what = f"SKU {sku}" if sku else f"batch {r.batch_no} ({plural(r.row_count, 'row')})"
                warn(f"{what} rejected: {r.message}")
        warn("rejected rows are recorded with the partner's message and sent again by the next push.")
    _show_wip(result)


@app.command("push")
def push(
    site: Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")],
    full: Annotated[bool, typer.Option("--full", help="Send every row, not only the changed ones.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary.")] = False,
) -> None:
    """Push available-to-sell stock (immediate and/or future, per the site's inventory_mode).

    Only rows that differ from what the partner last accepted are sent, unless --full."""
    from connectors.errors import RetryableError
    from core.db import session_scope
    from services import inventory
    from services.sites import get_site

    ensure_database()
    with session_scope() as s:
        site_id = get_site(s, site).id
    if dry_run:
        with err_console().status("Comparing the ERP with what the partner accepted…"):
            result = inventory.plan_push(site_id, full=full)
        if as_json:
            print_json({**result.summary(), "changes": [_change_dict(ch) for ch in result.changes]})
        else:
            _show_plan(result)
        return
    try:
        if as_json:
            result = inventory.push_inventory(site_id, full=full)
        else:
            result = _push_with_bar(inventory, site_id, full)
    except RetryableError as exc:
        fail(
            f"{exc.partner or 'partner'}: {exc} — the batches accepted before are recorded; "
            "run the push again later to send the rest"
        )
    if result.skipped:
        if as_json:
            print_json(result.summary())
        fail(f"not pushed: {result.skipped}")
    if as_json:
        print_json(result.summary())
    else:
        _show_result(result)


def _push_with_bar(inventory: Any, site_id: int, full: bool) -> Any:
    columns = (
        TextColumn("[bold]Pushing[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console(), transient=True) as bar:
        task = bar.add_task("push", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return inventory.push_inventory(site_id, full=full, progress=progress)
