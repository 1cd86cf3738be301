"""``bobbin writebacks``: the outbox — status changes waiting for a partner, uncertain, held, given
up or sent — and a given-up one sent again. What it reads and changes is ``services.writebacks``,
which the console's Writebacks page calls too."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer
from rich.text import Text

from bobbin.cli.output import (
    DASH,
    OUTBOX_STYLES,
    console,
    ensure_database,
    err_console,
    fail,
    fmt_time,
    new_table,
    plural,
    print_error,
    print_json,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Status changes sent back to the partners (the outbox): list them, send a given-up one again.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
STYLES = {**OUTBOX_STYLES, "uncertain": "bold yellow", "retrying": "yellow", "queued": "yellow"}


class State(str, Enum):
    pending = "pending"
    uncertain = "uncertain"
    held = "held"
    dead = "dead"
    sent = "sent"


@app.command("list")
def list_writebacks(
    site: Annotated[str | None, typer.Argument(help="Only this site (name or id); all sites without it.")] = None,
    state: Annotated[
        State,
        typer.Option(
            "--state",
            help="pending (waiting for a try), uncertain (a try's outcome unknown), held (for a person), "
            "dead (given up), sent (the last 7 days).",
        ),
    ] = State.dead,
    page: Annotated[int, typer.Option("--page", min=1, help="Which page of 50, newest first.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """The outbox's rows in one state, 50 to a page, newest first, with the count of each state.

    Each row: its ID (for `bobbin writebacks retry`), the order (SITE:PARTNER_ORDER_ID), the change,
    its tries, the last and next try, and the partner's last message."""
    from core.db import session_scope
    from services import writebacks
    from services.sites import get_site

    ensure_database()
    with session_scope() as s:
        site_id = get_site(s, site).id if site else None
        found = writebacks.list_writebacks(
            s, state=state.value, site_id=site_id, limit=writebacks.PAGE_SIZE, offset=(page - 1) * writebacks.PAGE_SIZE
        )
    if as_json:
        print_json(
            {
                "site": site,
                "state": state.value,
                "page": page,
                "total": found.total,
                "counts": found.counts,
                "writebacks": [r.as_dict() for r in found.rows],
            }
        )
        return
    out = console()
    out.print(
        Text("  ·  ").join(
            [Text(f"{n:,} {name}", style=STYLES.get(name, "") if n else "dim") for name, n in found.counts.items()]
        )
        + Text(f"  ({'site ' + site if site else 'all sites'}; sent: the last {writebacks.SENT_DAYS} days)", "dim")
    )
    if not found.rows:
        where = f" on page {page}" if found.total else ""
        out.print(f"No {state.value} writebacks{where}.")
        return
    table = new_table(
        ("ID", {"justify": "right", "no_wrap": True}),
        ("Order", {"justify": "right", "no_wrap": True}),
        ("Partner order", {"no_wrap": True}),
        "Change",
        ("Tries", {"justify": "right"}),
        "Last try",
        "Sent" if state is State.sent else "Next try",
        ("Partner's message", {"overflow": "fold", "ratio": 1}),
        title=f"{state.value.capitalize()} writebacks ({found.total:,})",
    )
    for r in found.rows:
        message = r.last_error or r.last_note or ""
        if r.unknown:
            message = f"{r.unknown}" + (f" — {r.last_error}" if r.last_error else "")
        moment = r.sent_at if state is State.sent else (r.next_attempt_at if r.state == "pending" else None)
        table.add_row(
            str(r.id),
            str(r.order_id) if r.order_id is not None else f"return {r.return_id}",
            r.ref,
            r.change,
            str(r.attempts),
            fmt_time(r.last_try_at) if r.last_try_at else DASH,
            fmt_time(moment) if moment else DASH,
            Text(message or DASH, style="red" if r.state == "dead" else ""),
        )
    out.print(table)
    pages = -(-found.total // writebacks.PAGE_SIZE)
    if pages > 1:
        out.print(f"[dim]Page {page} of {pages}: --page N for another.[/dim]")
    if state is State.dead:
        out.print("[dim]Send one again, once its cause is fixed: bobbin writebacks retry ID…[/dim]")


@app.command("retry")
def retry(
    ids: Annotated[
        list[int], typer.Argument(metavar="ID…", help="Writeback ids (the ID column of `writebacks list`).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Send given-up (dead) writebacks again, now: each is put back to pending with its tries reset and
    sent at once; the partner's answer is shown. A writeback that is not dead is refused (one that
    is pending or uncertain is sent by the outbox itself; a sent one is not sent twice)."""
    from bobbin.cli.users import _actor
    from services import users, writebacks

    ensure_database()
    actor = _actor()

    def record(session: Any, rows: list[writebacks.WritebackRow]) -> None:
        for r in rows:
            users.record_action(
                session,
                None,
                "retry_writeback",
                actor=actor,
                order_id=r.order_id,
                site_id=r.site_id,
                detail={
                    "summary": f'sent "{r.change}" again (it had given up after {plural(r.attempts, "try", "tries")})',
                    "outbox_id": r.id,
                    "last_error": r.last_error,
                },
            )

    try:
        with err_console().status(f"Sending {plural(len(ids), 'writeback')} again…"):
            done = writebacks.retry_now(ids, record=record)
    except writebacks.WritebackError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "writebacks": [
                    {"id": o.row.id, "order": o.row.ref, "status": o.row.status, "result": o.result, "detail": o.detail}
                    for o in done.outcomes
                ],
                "refused": {str(k): v for k, v in done.refused.items()},
                "send_error": done.send_error,
            }
        )
    else:
        if done.outcomes:
            table = new_table(
                ("ID", {"justify": "right"}),
                ("Order", {"justify": "right"}),
                "Partner order",
                "Change",
                "Result",
                "Detail",
                title="Sent again",
            )
            for o in done.outcomes:
                table.add_row(
                    str(o.row.id),
                    str(o.row.order_id) if o.row.order_id is not None else f"return {o.row.return_id}",
                    o.row.ref,
                    o.row.change,
                    Text(o.result, style=STYLES.get(o.result, "")),
                    Text(o.detail or ""),
                )
            console().print(table)
        for reason in done.refused.values():
            print_error(reason)
    bad = [o for o in done.outcomes if o.result in ("dead", "held")]
    if done.refused or bad:
        raise typer.Exit(1)
