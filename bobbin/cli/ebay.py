"""``bobbin ebay``: an eBay site's listing records and the listings push (issue 17).

- ``listings SITE``: the records (SKU, title, format, categories, price, pictures, the "update eBay"
  flag, what eBay last accepted or refused);
- ``set SITE SKU --price ... --category1 ... --flag/--no-flag``: change one record (made when the
  SKU has none); a change of content flags it for the next push;
- ``push SITE [--dry-run]``: send the flagged records (``services.ebay_listings.push_listings``,
  the work of ``tasks.ebay.push_listings``);
- ``export-csv SITE [-o FILE]``: the flagged records as File Exchange's listing upload;
- ``import-csv SITE FILE``: the Seller Hub orders report through the same import as the API's sales
  (``bobbin.cli.ebay_csv``).

The records load in bulk with ``bobbin erp load ebay-listings FILE`` (:func:`load_listings_file`
prints that load). Services are imported inside the commands, as in the other command modules, so
``bobbin --help`` starts without them.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from bobbin.cli.ebay_csv import import_csv
from bobbin.cli.output import (
    DASH,
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

app = typer.Typer(
    no_args_is_help=True,
    help="eBay: the listing records of an eBay site, the listings push (inventory items, offers, publish), and the Seller Hub orders report.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
SiteArg = Annotated[str, typer.Argument(metavar="SITE", help="The eBay site's name or id.")]
PROBLEMS_SHOWN = 50  # rows of a problem table printed; --json lists them all


def _ebay_site(site: str) -> tuple[int, str]:
    """The site's id and name; a one-line failure when it is not an eBay site."""
    from core.db import session_scope
    from services.sites import get_site

    ensure_database()
    with session_scope() as s:
        st = get_site(s, site)
        if st.kind != "ebay":
            fail(f"site {st.name} is a {st.kind} site: eBay listings belong to eBay sites")
        return st.id, st.name


# --- listings ------------------------------------------------------------------------------------------
def _record_dict(r: Any) -> dict[str, Any]:
    return {
        "sku": r.sku,
        "title": r.title,
        "format": r.listing_format,
        "duration": r.duration,
        "category1": r.category1,
        "category2": r.category2,
        "condition": r.condition,
        "price": r.price,
        "currency": r.currency,
        "images": list(r.image_urls or []),
        "description_html": r.description_html,
        "update": r.needs_update,
        "offer_id": r.offer_id,
        "listing_id": r.listing_id,
        "group_key": r.group_key,
        "published_at": r.published_at,
        "last_error": r.last_error,
        "last_error_at": r.last_error_at,
        "warning": r.warning,
    }


@app.command("listings")
def listings(
    site: SiteArg,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only the records flagged for the next push.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The site's eBay listing records: what each SKU is listed as, its flag, and eBay's last answer."""
    from core.db import session_scope
    from services import ebay_listings

    site_id, name = _ebay_site(site)
    with session_scope() as s:
        rows = [_record_dict(r) for r in ebay_listings.listings(s, site_id, flagged_only=flagged)]
    if as_json:
        print_json({"site": name, "listings": rows})
        return
    if not rows:
        console().print(
            f"No{' flagged' if flagged else ''} eBay listing records on {name} "
            "(load them: bobbin erp load ebay-listings FILE)."
        )
        return
    table = new_table(
        "SKU",
        ("Title", {"overflow": "fold", "max_width": 40}),
        "Format",
        "Cat 1",
        "Cat 2",
        ("Price", {"justify": "right"}),
        ("Pics", {"justify": "right"}),
        "Update",
        "eBay listing",
        ("Last answer", {"overflow": "fold", "max_width": 60}),
        title=f"eBay listings of {name}",
    )
    for r in rows:
        answer = (
            Text(r["last_error"], style="red")
            if r["last_error"]
            else Text(r["warning"], style="yellow")
            if r["warning"]
            else Text(f"published {fmt_time(r['published_at'])}", style="green")
            if r["published_at"]
            else Text(DASH, style="dim")
        )
        table.add_row(
            r["sku"],
            r["title"] or DASH,
            r["format"] + ("" if r["duration"] == "GTC" else f" {r['duration']}"),
            r["category1"] or Text("none", style="red"),
            r["category2"] or DASH,
            fmt_money(r["price"], r["currency"]) if r["price"] is not None else Text("none", style="red"),
            Text(str(len(r["images"])), style="red" if not r["images"] or len(r["images"]) > 12 else ""),
            Text("yes", style="bold yellow") if r["update"] else Text("no", style="dim"),
            (r["listing_id"] or DASH) + (f" (group {r['group_key']})" if r["group_key"] else ""),
            answer,
        )
    console().print(table)
    flagged_n = sum(1 for r in rows if r["update"])
    console().print(
        f"{plural(len(rows), 'record')}, {flagged_n:,} flagged for the next push (bobbin ebay push {name})."
    )


# --- set ------------------------------------------------------------------------------------------------
def _money(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not an amount", param_hint="--price") from None
    if not value.is_finite() or value < 0:
        raise typer.BadParameter(f"{text!r} is not an amount of 0 or more", param_hint="--price")
    return value


@app.command("set")
def set_listing(
    site: SiteArg,
    sku: Annotated[str, typer.Argument(metavar="SKU", help="The ERP SKU.")],
    price: Annotated[str | None, typer.Option("--price", help="The price (an auction's opening bid).")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="3-letter currency code.")] = None,
    category1: Annotated[str | None, typer.Option("--category1", help="The eBay category id.")] = None,
    category2: Annotated[
        str | None, typer.Option("--category2", help="A second eBay category id ('' removes it).")
    ] = None,
    listing_format: Annotated[str | None, typer.Option("--format", help="FIXED_PRICE or AUCTION.")] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="GTC, or DAYS_7 etc. for an auction.")] = None,
    condition: Annotated[str | None, typer.Option("--condition", help="An eBay condition: NEW, NEW_OTHER...")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The title (at most 80 characters).")] = None,
    description_file: Annotated[
        Path | None, typer.Option("--description-file", help="A file with the HTML description.", show_default=False)
    ] = None,
    image: Annotated[
        list[str] | None,
        typer.Option("--image", help="A picture URL (https); repeat it, in order. Replaces the record's pictures."),
    ] = None,
    no_images: Annotated[bool, typer.Option("--no-images", help="Remove every picture.")] = False,
    flag: Annotated[
        bool | None,
        typer.Option(
            "--flag/--no-flag",
            help="Set or clear the 'update eBay' flag (default: set when something changed).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change one SKU's eBay listing record (made when it has none); a change flags it for the next push."""
    from core.db import session_scope
    from services import ebay_listings
    from services.ebay_listings_load import read_condition, read_duration, read_format

    changes: dict[str, Any] = {}
    if price is not None:
        changes["price"] = _money(price)
    if currency is not None:
        changes["currency"] = currency.strip().upper()
    if category1 is not None:
        changes["category1"] = category1.strip() or None
    if category2 is not None:
        changes["category2"] = category2.strip() or None
    if listing_format is not None:
        found = read_format(listing_format)
        if found is None:
            raise typer.BadParameter("FIXED_PRICE or AUCTION", param_hint="--format")
        changes["listing_format"] = found
    if duration is not None:
        found = read_duration(duration, changes.get("listing_format", "FIXED_PRICE"))
        if found is None:
            raise typer.BadParameter(
                "GTC, or DAYS_1 / 3 / 5 / 7 / 10 / 21 / 30 for an auction", param_hint="--duration"
            )
        changes["duration"] = found
    if condition is not None:
        found = read_condition(condition)
        if found is None:
            raise typer.BadParameter("an eBay condition such as NEW or NEW_OTHER", param_hint="--condition")
        changes["condition"] = found
    if title is not None:
        changes["title"] = title.strip() or None
    if description_file is not None:
        if not description_file.is_file():
            fail(f"cannot read {description_file}: no such file")
        changes["description_html"] = description_file.read_text(encoding="utf-8")
    if image and no_images:
        raise typer.BadParameter("--image or --no-images, not both", param_hint="--no-images")
    if image is not None:
        changes["image_urls"] = [u.strip() for u in image if u.strip()]
    if no_images:
        changes["image_urls"] = []
    site_id, name = _ebay_site(site)
    try:
        with session_scope() as s:
            done = ebay_listings.edit_listing(s, site_id, sku.strip(), changes, flag=flag)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "site": name,
                "sku": done.sku,
                "created": done.created,
                "changed": {k: {"before": b, "after": a} for k, (b, a) in done.changed.items()},
                "update": done.flagged,
                "problems": done.problems,
            }
        )
        return
    out = console()
    if done.created:
        out.print(f"[green]Made an eBay listing record for {done.sku} on {name}.[/green]")
    if done.changed:
        table = new_table("Field", ("Before", {"overflow": "fold"}), ("After", {"overflow": "fold"}))
        for key, (before, after) in done.changed.items():
            table.add_row(key, _short(before), _short(after))
        out.print(table)
    elif not done.created:
        out.print(f"{done.sku} on {name}: nothing changed.")
    out.print(
        f"{done.sku}: "
        + (
            "[bold yellow]flagged[/bold yellow] for the next push (bobbin ebay push " + name + ")."
            if done.flagged
            else "not flagged."
        )
    )
    for problem in done.problems:
        warn(f"kept back at the push until fixed: {problem}")


def _short(value: Any) -> Text:
    if value in (None, "", []):
        return Text(DASH, style="dim")
    text = json.dumps(value) if isinstance(value, list) else str(value)
    return Text(text if len(text) <= 120 else text[:117] + "…")


# --- push -----------------------------------------------------------------------------------------------
@app.command("push")
def push(
    site: SiteArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print every request that would be sent; send nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Send the flagged listing records to eBay: inventory items, a style's group, offers, then publish.

    A record that fails a listing rule (more than 12 pictures, no category, a price of 0...) is kept
    back and named; the rest go. The flag is cleared only for what eBay accepted."""
    from bobbin.cli.catalog import report_refusals
    from connectors.errors import AuthError, RetryableError
    from services import ebay_listings
    from services.sites import SiteError

    site_id, name = _ebay_site(site)
    if dry_run:
        result = ebay_listings.push_listings(site_id, dry_run=True)
        for note in result.notes:
            warn(note)
        if as_json:
            print_json(result.as_dict())
            return
        _print_plan(result)
        return
    try:
        if as_json:
            result = ebay_listings.push_listings(site_id)
        else:
            columns = (
                TextColumn("[bold]{task.description}[/bold]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err_console(), transient=True) as bar:
                task = bar.add_task("eBay listings", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = ebay_listings.push_listings(site_id, progress=progress)
    except RetryableError as exc:
        fail(f"eBay: {exc} — what eBay answered before is recorded; run the push again later to send the rest")
    except AuthError as exc:
        fail(f"eBay: {exc}")
    except SiteError as exc:
        fail(str(exc))
    if result.skipped:
        if as_json:
            print_json(result.summary())
        fail(f"not pushed: {result.skipped}")
    report = report_refusals(site_id) if result.new_rejections else None
    if as_json:
        print_json({**result.as_dict(), **({"report": report} if report else {})})
        return
    _print_result(result)
    if report and report.get("sent"):
        console().print(f"The refused listings were e-mailed to {', '.join(report.get('recipients', []))}.")


def _problem_table(title: str, rows: dict[str, str], style: str) -> Any:
    table = new_table("SKU", ("Why", {"overflow": "fold"}), title=title)
    for sku, why in list(rows.items())[:PROBLEMS_SHOWN]:
        table.add_row(sku, Text(why, style=style))
    return table


def _print_problems(result: Any) -> None:
    out = console()
    if result.kept_back:
        out.print(_problem_table("Kept back (fix the record; it stays flagged)", result.kept_back, "red"))
    if result.rejected:
        out.print(_problem_table("Refused by eBay (it stays flagged)", result.rejected, "red"))
    if result.warnings:
        out.print(_problem_table("Sent with a change", result.warnings, "yellow"))
    more = max(len(result.kept_back), len(result.rejected), len(result.warnings)) - PROBLEMS_SHOWN
    if more > 0:
        out.print("[dim]… and more (--json lists them all).[/dim]")


def _print_plan(result: Any) -> None:
    out = console()
    out.print(
        f"[bold]Dry run for {result.site}[/bold]: {plural(result.flagged, 'flagged record')}, "
        f"{result.flagged - len(result.kept_back):,} would be sent, {len(result.kept_back):,} kept back."
    )
    for call in result.calls:
        out.print(Text.assemble((call.call, "bold"), f"  [{', '.join(call.skus)}]"))
        if call.body is not None:
            out.print(Text(json.dumps(call.body, indent=2, default=str, ensure_ascii=False), style="dim"))
    _print_problems(result)
    out.print("Nothing was sent or recorded.")


def _print_result(result: Any) -> None:
    out = console()
    if not result.flagged:
        out.print(f"Nothing flagged on {result.site}: nothing to send.")
        return
    table = new_table("Listing", "SKUs", title=f"Published on eBay from {result.site}")
    for listing_id, skus in result.published:
        table.add_row(listing_id, ", ".join(skus))
    if result.published:
        out.print(table)
    if result.already_live:
        out.print(f"Updated on live listings (not published again): {', '.join(result.already_live)}")
    _print_problems(result)
    colour = "green" if not (result.rejected or result.kept_back) else "yellow"
    out.print(
        f"[{colour}]{plural(len(result.accepted), 'SKU')} accepted by eBay[/{colour}], "
        f"{len(result.rejected):,} refused, {len(result.kept_back):,} kept back, of {result.flagged:,} flagged; "
        f"{result.seconds:.1f} s, run {result.run_id}."
    )


# --- export-csv -------------------------------------------------------------------------------------------
@app.command("export-csv")
def export_csv(
    site: SiteArg,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="The file to write (default: print it).", show_default=False)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the flagged records as File Exchange's listing upload, for a seller who uploads files.

    The columns: *Action, *Category, *Title, *Description, *ConditionID, *Format, *Duration,
    *StartPrice, *Quantity, CustomLabel, PicURL... Records that fail a listing rule are left out
    and named; nothing is changed (the flag is cleared by a push)."""
    from services import ebay_listings

    site_id, _ = _ebay_site(site)
    done = ebay_listings.export_csv(site_id)
    if output is not None:
        output.write_text(done.text, encoding="utf-8")
    if as_json:
        print_json(
            {
                "site": done.site,
                "rows": done.rows,
                "file": str(output) if output else None,
                "kept_back": done.kept_back,
                "warnings": done.warnings,
                **({} if output else {"csv": done.text}),
            }
        )
        return
    if output is None:
        typer.echo(done.text, nl=False)
        for sku, why in done.kept_back.items():
            warn(f"left out {sku}: {why}")
        return
    out = console()
    out.print(f"Wrote {plural(done.rows, 'listing row')} of {done.site} to {output}.")
    if done.kept_back:
        out.print(_problem_table("Left out (fix the record)", done.kept_back, "red"))
    if done.warnings:
        out.print(_problem_table("Written with a change", done.warnings, "yellow"))


# --- bobbin erp load ebay-listings --------------------------------------------------------------------
def load_listings_file(file: Path, as_json: bool) -> None:
    """``bobbin erp load ebay-listings FILE``: every row checked, then all loaded or none
    (``services.ebay_listings_load``)."""
    from core.db import session_scope
    from services.ebay_listings_load import load_ebay_listings

    with err_console().status(f"Loading eBay listings from {file.name}…"):
        with session_scope() as s:
            report = load_ebay_listings(s, file)
    problems = [{"row": p.row, "column": p.column, "value": p.value, "message": p.message} for p in report.problems]
    if as_json:
        print_json(
            {
                "what": "ebay-listings",
                "file": str(file),
                "rows_read": report.rows_read,
                "rows_loaded": report.rows_loaded,
                "new": report.inserted,
                "changed": report.updated,
                "unchanged": report.unchanged,
                "flagged": report.flagged,
                "problems": problems,
                "ignored_columns": report.ignored_columns,
            }
        )
        if problems:
            raise typer.Exit(1)
        return
    out = console()
    if report.ignored_columns:
        out.print(f"[dim]Columns not used: {', '.join(report.ignored_columns)}[/dim]")
    if problems:
        bad_rows = len({p["row"] for p in problems})
        out.print(
            f"Read {plural(report.rows_read, 'row')} from {file.name}; "
            f"[red]{plural(bad_rows, 'row has', 'rows have')} problems[/red]:"
        )
        table = new_table(("Row", {"justify": "right"}), "Column", ("Value", {"overflow": "fold"}), "Problem")
        for p in problems[:PROBLEMS_SHOWN]:
            table.add_row(
                str(p["row"]),
                str(p["column"] or DASH),
                Text(str(p["value"]) if p["value"] not in (None, "") else DASH),
                Text(str(p["message"]), style="red"),
            )
        out.print(table)
        if len(problems) > PROBLEMS_SHOWN:
            out.print(f"[dim]… and {len(problems) - PROBLEMS_SHOWN:,} more (--json lists them all).[/dim]")
        fail(
            f"nothing was loaded from {file.name}: an eBay listings file loads whole or not at all; "
            "fix those rows and load the file again"
        )
    out.print(
        f"Read {plural(report.rows_read, 'row')} from {file.name}: {report.inserted:,} new, "
        f"{report.updated:,} changed, {report.unchanged:,} unchanged; "
        f"[bold]{plural(report.flagged, 'record')} flagged[/bold] for the next push."
    )
    sites = sorted({site for site, _ in report.flagged_skus})
    for site in sites:
        out.print(f"[dim]Send them: bobbin ebay push {site} (or --dry-run first).[/dim]")


app.command("import-csv")(import_csv)
