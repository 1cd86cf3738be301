"""``bobbin returns``: Loop returns and the ERP records made of them (issue 16) — list them, read
one in full, receive its goods, confirm a credit memo that waits for a person, import a site's
returns now.

What the commands read comes from ``services.return_queries`` and what they change from
``services.rma``; this module parses the arguments and renders the answers (tables, text, JSON).
A change is recorded with ``services.users.record_action`` (actor ``cli:<system user>``), in the
transaction that makes it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.padding import Padding
from rich.text import Text

from bobbin.cli.output import (
    DASH,
    OUTBOX_STYLES,
    console,
    ensure_database,
    err_console,
    fail,
    fmt_money,
    fmt_time,
    kv_table,
    new_table,
    plural,
    print_json,
    warn,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(
    no_args_is_help=True,
    help="Loop returns: list them, show one with its RMA and credit, receive the goods, confirm a credit memo, "
    "import a site's returns now.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
REF_HELP = "The return: its id (the ID column of `returns list`), its RMA (RMA0000012) or SITE:LOOP_RETURN_ID."
ALL = 1_000_000_000  # --limit 0: every return
WHOLE = re.compile(r"[0-9]{1,9}")  # a line number or units in --line N=QTY

STATE_STYLES = {
    "received": "cyan",
    "invalid": "red",
    "rma": "yellow",
    "received_goods": "yellow",
    "processed": "blue",
    "credited": "green",
    "void": "dim",
}
FLUSH_TASK = "tasks.status.flush_outbox"
RETURNS_TASK = "tasks.returns.import_returns"


def _state_text(state: str) -> Text:
    return Text(state, style=STATE_STYLES.get(state, ""))


def _state_option(value: str | None) -> str | None:
    """--state: one of the return states (any case; - for _), or a usage error listing them."""
    from models.returns import RETURN_STATES

    if value is None:
        return None
    wanted = value.strip().lower().replace("-", "_").replace(" ", "_")
    if wanted not in RETURN_STATES:
        listed = ", ".join(RETURN_STATES[:-1]) + " or " + RETURN_STATES[-1]
        raise typer.BadParameter(
            f"{value!r} is not a return state: use {listed} (`bobbin returns list -h` says what each means)."
        )
    return wanted


def _return_id(session: Session, ref: str) -> int:
    """The return a REF names, or the one-line error saying what was looked for."""
    from services.return_queries import ReturnNotFound, resolve_return

    try:
        return resolve_return(session, ref)
    except ReturnNotFound as exc:
        fail(str(exc))


def _actor() -> str:
    from bobbin.cli.users import _actor as actor

    return actor()


def send_flush(site_id: int) -> dict[str, Any]:
    """Ask the worker to send the site's outbox now (``tasks.status.flush_outbox``). With no broker
    to reach this changes nothing: the outbox flush (every minute, from beat) sends it. Returns
    ``{"sent": True, "task_id": …}`` or ``{"sent": False, "reason": …}``."""
    from bobbin.cli.status import redis_health

    health = redis_health()  # looked at first: a send to a broker that is down waits a long time
    if not health["ok"]:
        return {"sent": False, "reason": str(health["detail"])}
    try:
        from worker import app

        result = app.send_task(FLUSH_TASK, kwargs={"site_id": int(site_id)})
    except Exception as exc:  # the broker went away meanwhile: the scheduled flush sends it
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        return {"sent": False, "reason": first}
    return {"sent": True, "task_id": result.id}


def flush_words(flush: dict[str, Any], what: str, many: bool = False) -> tuple[bool, str]:
    """What a person reads of :func:`send_flush`'s answer about ``what`` was queued: (sent, words)."""
    it, was = ("them", "are") if many else ("it", "is")
    if flush["sent"]:
        return True, f"The outbox is asked to send {what} now (task {flush['task_id']})."
    reason = str(flush["reason"]).rstrip(".")
    return (
        False,
        f"{what} {was} queued, and the outbox flush will send {it}: the worker could not be asked now — {reason}",
    )


def _say_flush(flush: dict[str, Any], what: str) -> None:
    sent, words = flush_words(flush, what)
    if sent:
        console().print(f"[dim]{words}[/dim]")
    else:
        warn(words)


# --- list ----------------------------------------------------------------------------------------


@app.command("list")
def list_returns(
    site: Annotated[str | None, typer.Option("--site", help="Only this site (name or id).")] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            callback=_state_option,
            help="Only returns in this state: received (held, not looked at yet), invalid (a problem keeps it "
            "from becoming an RMA), rma (waiting for the goods), received_goods (Loop asked to process it), "
            "processed (postings waiting), credited (credit memo and AR debit posted) or void.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="At most this many, newest change first (0 = all).")
    ] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Held Loop returns, newest change first, with the count of each state.

    Each row: its ID (for `returns show`, `receive`, `confirm`), the site and Loop's id, Bobbin's state,
    what Loop says (state / outcome), the Shopify order, the shopper's e-mail, the total, the RMA
    and the open problems."""
    from core.db import session_scope
    from services.return_queries import STATE_WORDS, list_returns
    from services.sites import get_site

    ensure_database()
    with session_scope() as s:
        site_id = get_site(s, site).id if site else None
        page = list_returns(s, site_id=site_id, state=state, limit=limit or ALL)
    if as_json:
        print_json(
            {
                "site": site,
                "state": state,
                "total": page.total,
                "count": len(page.rows),
                "counts": page.counts,
                "returns": [r.as_dict() for r in page.rows],
            }
        )
        return
    out = console()
    out.print(
        Text("  ·  ").join(
            [Text(f"{n:,} {name}", style=STATE_STYLES.get(name, "") if n else "dim") for name, n in page.counts.items()]
        )
        + Text(f"  ({'site ' + site if site else 'all sites'})", "dim")
    )
    if not page.rows:
        out.print(f"No {state + ' ' if state else ''}returns{' on site ' + site if site else ''}.")
        return
    table = new_table(
        ("ID", {"justify": "right", "no_wrap": True}),
        ("Site", {"no_wrap": True}),
        ("Loop id", {"no_wrap": True}),
        ("State", {"no_wrap": True}),
        "Loop",
        ("Order", {"no_wrap": True}),
        ("Customer e-mail", {"overflow": "fold"}),
        ("Total", {"justify": "right", "no_wrap": True}),
        ("RMA", {"no_wrap": True}),
        ("Problems", {"overflow": "fold", "ratio": 1}),
        title=f"{(state or 'all').replace('_', ' ').capitalize()} returns ({page.total:,})",
    )
    for r in page.rows:
        loop = " / ".join(p for p in (r.loop_state, r.loop_outcome) if p) or DASH
        table.add_row(
            str(r.id),
            r.site,
            Text(r.loop_return_id),
            _state_text(r.state),
            loop,
            Text(r.order_name or DASH),
            Text(r.customer_email or DASH),
            fmt_money(r.total, r.currency),
            r.rma or DASH,
            Text(", ".join(r.open_problems), style="red") if r.open_problems else Text(DASH, style="dim"),
        )
    out.print(table)
    if page.total > len(page.rows):
        out.print(f"[dim]Showing the newest {len(page.rows):,} of {page.total:,}; --limit 0 shows all.[/dim]")
    if state:
        out.print(f"[dim]{state}: {STATE_WORDS[state]}.[/dim]")
    out.print("[dim]One return in full: bobbin returns show ID[/dim]")


# --- show ----------------------------------------------------------------------------------------


def show_return(d: dict[str, Any]) -> None:
    """One return as ``return_detail(...).as_dict()`` has it."""
    out = console()
    out.print(
        Text.assemble(
            (f"Return {d['id']}", "bold"),
            f"  {d['site']} #{d['loop_return_id']}  ",
            _state_text(d["state"]),
            (f"  {d['state_words']}" if d["state_words"] else "", "dim"),
        )
    )
    rma = d["rma"]
    rows: list[tuple[str, Any]] = [
        ("Loop", " / ".join(p for p in (d["loop_state"], d["loop_outcome"]) if p) or None),
        ("Shopify order", d["order_name"]),
        ("Customer e-mail", d["customer_email"]),
        ("Total", fmt_money(d["total"], d["currency"]) if d["total"] is not None else None),
        ("Last change seen", fmt_time_text(d["last_seen_at"])),
    ]
    if rma:
        exchange = rma["exchange_order_name"]
        if exchange:
            exchange += " (in the ERP)" if rma["exchange_sales_order_id"] else " (not in the ERP yet)"
        rows += [
            (
                "RMA",
                Text.assemble((rma["number"], "bold"), f"  {rma['kind']}, {rma['status']}"),
            ),
            ("ERP customer", rma["customer_code"]),
            ("Warehouse", f"{rma['warehouse_code']} (returned goods restock here)"),
            ("Original order", "in the ERP" if rma["sales_order_id"] else "not in the ERP"),
            ("Exchange order", exchange),
        ]
    else:
        rows.append(("RMA", Text("none yet", style="yellow")))
    out.print(kv_table(rows))

    if d["lines"]:
        out.print()
        table = new_table(
            ("#", {"justify": "right"}),
            "SKU",
            ("Qty", {"justify": "right"}),
            ("Received", {"justify": "right"}),
            ("Outstanding", {"justify": "right"}),
            ("Refund", {"justify": "right"}),
            "Outcome",
            ("Reason", {"overflow": "fold"}),
            title="RMA lines",
        )
        for ln in d["lines"]:
            left = int(ln["outstanding"])
            table.add_row(
                str(ln["line_no"]),
                ln["sku"],
                str(ln["quantity"]),
                str(ln["received"]),
                Text(str(left), style="yellow" if left else "green"),
                fmt_money(ln["refund_amount"]),
                ln["outcome"] or DASH,
                Text(ln["reason"] or DASH),
            )
        out.print(table)

    if d["receipts"]:
        out.print()
        table = new_table(
            ("Line", {"justify": "right"}),
            ("Units", {"justify": "right"}),
            "Warehouse",
            "Source",
            ("Reference", {"overflow": "fold"}),
            "Received",
            "Restocked",
            title="Receipts",
        )
        for r in d["receipts"]:
            table.add_row(
                str(r["line_no"]),
                str(r["quantity"]),
                r["warehouse_code"],
                r["source"],
                Text(r["reference"] or DASH),
                fmt_time_text(r["received_at"]),
                fmt_time_text(r["restocked_at"]),
            )
        out.print(table)

    memo = d["credit_memo"]
    if memo:
        out.print()
        waiting = memo["status"] != "posted"
        out.print(Text("Credit memo", style="bold"))
        out.print(
            kv_table(
                [
                    (
                        "Number",
                        Text.assemble(
                            (memo["number"], "bold"),
                            "  ",
                            (memo["status"].replace("_", " "), "yellow" if waiting else "green"),
                        ),
                    ),
                    ("Amount", fmt_money(memo["amount"], memo["currency"])),
                    (
                        "Loop refunded",
                        f"{fmt_money(memo['loop_refund_amount'])}; the RMA's lines add up to "
                        f"{fmt_money(memo['lines_refund_amount'])}",
                    ),
                    ("Posted", fmt_time_text(memo["posted_at"]) if memo["posted_at"] else None),
                    ("Confirmed by", memo["confirmed_by"]),
                ]
            )
        )

    if d["ar_adjustments"]:
        out.print()
        table = new_table(
            ("ID", {"justify": "right"}),
            "Kind",
            ("Amount", {"justify": "right"}),
            "Customer",
            "Offsets",
            ("Reference", {"overflow": "fold"}),
            "Posted",
            title="AR adjustments",
        )
        for a in d["ar_adjustments"]:
            table.add_row(
                str(a["id"]),
                a["kind"],
                fmt_money(a["amount"]),
                a["customer_code"],
                a["offsets"],
                Text(a["reference"]),
                fmt_time_text(a["posted_at"]),
            )
        out.print(table)

    if d["problems"]:
        out.print()
        open_ones = [p for p in d["problems"] if not p["resolved_at"]]
        if open_ones:
            out.print(Text("Problems", style="bold"))
        for p in open_ones:
            colour = "yellow" if p["severity"] == "warning" else "red"
            out.print(
                Text.assemble(
                    ("● ", colour),
                    (p["code"], f"bold {colour}"),
                    (f"  line {p['line_no']}" if p["line_no"] is not None else "", "dim"),
                    (" (warning: the RMA is made anyway)" if p["severity"] == "warning" else "", "dim"),
                )
            )
            out.print(Padding(Text(p["message"].replace("`", "")), (0, 0, 0, 2)))
        resolved = [p for p in d["problems"] if p["resolved_at"]]
        if resolved:
            if open_ones:
                out.print()
            table = new_table(
                "Resolved",
                "Code",
                ("Line", {"justify": "right"}),
                ("Message", {"overflow": "fold"}),
                title="Resolved problems",
            )
            for p in resolved:
                table.add_row(
                    fmt_time_text(p["resolved_at"]),
                    p["code"],
                    str(p["line_no"] or ""),
                    Text(p["message"].replace("`", "")),
                    style="dim",
                )
            out.print(table)

    if d["loop_actions"]:
        out.print()
        table = new_table(
            "Action",
            "State",
            ("Tries", {"justify": "right"}),
            "Sent",
            ("Note / last error", {"overflow": "fold", "ratio": 1}),
            title="Sent to Loop (the outbox)",
        )
        for w in d["loop_actions"]:
            said = Text(w["last_error"], style="red") if w["last_error"] else Text(w["content"] or DASH)
            table.add_row(
                w["action"],
                Text(w["state"], style=OUTBOX_STYLES.get(w["state"], "")),
                str(w["attempts"]),
                fmt_time_text(w["sent_at"]),
                said,
            )
        out.print(table)

    hints = []
    outstanding = sum(int(ln["outstanding"]) for ln in d["lines"])
    if rma and rma["status"] != "void" and outstanding:
        hints.append(
            f"Receive the goods: bobbin returns receive {d['id']}  ({plural(outstanding, 'unit')} outstanding)"
        )
    if memo and memo["status"] != "posted":
        hints.append(f"Post the credit memo once checked: bobbin returns confirm {d['id']}")
    for hint in hints:
        out.print(f"[dim]{hint}[/dim]")


def fmt_time_text(value: Any) -> str:
    """A time as ``as_dict()`` gives it (ISO text), or a datetime, in the CLI's zone."""
    from datetime import datetime

    if value in (None, ""):
        return DASH
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return fmt_time(value)


@app.command("show")
def show(
    ref: Annotated[str, typer.Argument(metavar="REF", help=REF_HELP)],
    as_json: JsonOpt = False,
) -> None:
    """One return in full: header and state, the RMA with its lines (received, outstanding), receipts,
    credit memo, AR debits, problems (open first) and what went to Loop about it."""
    from core.db import session_scope
    from services.return_queries import return_detail

    ensure_database()
    with session_scope() as s:
        detail = return_detail(s, _return_id(s, ref)).as_dict()
    if as_json:
        print_json(detail)
        return
    show_return(detail)


# --- receive -------------------------------------------------------------------------------------


def _quantities(lines: list[str]) -> dict[int, int] | None:
    """--line N=QTY values as {line number: units}; one clear line and exit 1 for a typo."""
    if not lines:
        return None
    wanted: dict[int, int] = {}
    for raw in lines:
        number, sep, qty = raw.partition("=")
        number, qty = number.strip(), qty.strip()
        if not sep or not WHOLE.fullmatch(number) or not WHOLE.fullmatch(qty):
            fail(f"--line {raw!r} is not LINE=UNITS: write the line's number and the units received, e.g. --line 2=1")
        if int(number) in wanted:
            fail(f"line {int(number)} is given twice (--line {raw}): give each line once, with all its units")
        wanted[int(number)] = int(qty)
    return wanted


@app.command("receive")
def receive(
    ref: Annotated[str, typer.Argument(metavar="REF", help=REF_HELP)],
    lines: Annotated[
        list[str] | None,
        typer.Option(
            "--line",
            metavar="N=QTY",
            help="Units received of line N (repeatable); without --line every outstanding unit is received.",
            show_default=False,
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="What the receipt is known by (a dock slip); default: who received it."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the goods of a return received: restocked at once into the RMA's warehouse.

    Once every line is in, Loop is asked to process the return (refund it, or make its exchange
    order), through the outbox. A line that is not the RMA's, more units than are still expected, or
    a void RMA is refused, and nothing is written."""
    from sqlalchemy import select

    from core.db import session_scope
    from models import InboundReturn, Rma, Site
    from services import rma as flow
    from services import users
    from services.return_queries import STATE_WORDS

    quantities = _quantities(lines or [])
    if reference is not None and not reference.strip():
        fail("--reference is empty: give what the receipt is known by, or leave --reference out")
    ensure_database()
    actor = _actor()
    said = (reference or actor).strip()
    with session_scope() as s:
        return_id = _return_id(s, ref)
        held = s.get(InboundReturn, return_id)
        assert held is not None
        found = s.scalar(select(Rma).where(Rma.inbound_return_id == return_id))
        if found is None:
            fail(
                f"return {return_id} has no RMA yet: it is {held.state} ({STATE_WORDS.get(held.state, '')}); "
                f"`bobbin returns show {return_id}` says why"
            )
        number, warehouse, site_id = found.number, found.warehouse_code, held.site_id
        try:
            done = flow.receive(s, number, quantities, source="cli", reference=said)
        except flow.ReturnFlowError as exc:
            fail(f"{exc}; nothing was received")
        left = flow.outstanding(s, found)
        site_name = s.scalar(select(Site.name).where(Site.id == site_id))
        state_now = held.state
        units = sum(q for _, _, q in done.received)
        received = [{"line_no": n, "sku": sku, "quantity": q} for n, sku, q in done.received]
        users.record_action(
            s,
            None,
            "receive_return",
            actor=actor,
            site_id=site_id,
            detail={
                "summary": f"received {plural(units, 'unit')} on {number} (return {return_id})"
                + ("; Loop asked to process it" if done.process_queued else ""),
                "return_id": return_id,
                "rma": number,
                "received": received,
                "reference": said,
                "complete": done.complete,
            },
        )
    flush = send_flush(site_id) if done.process_queued else None
    if as_json:
        print_json(
            {
                "return_id": return_id,
                "site": site_name,
                "rma": number,
                "warehouse": warehouse,
                "received": received,
                "outstanding": {str(k): v for k, v in left.items()},
                "complete": done.complete,
                "process_queued": done.process_queued,
                "flush": flush,
            }
        )
        return
    out = console()
    out.print(
        f"[green]Received {plural(units, 'unit')} on {number}[/green] (return {return_id}, {site_name}), "
        f"restocked in warehouse {warehouse}."
    )
    table = new_table(
        ("Line", {"justify": "right"}),
        "SKU",
        ("Received now", {"justify": "right"}),
        ("Still expected", {"justify": "right"}),
    )
    for n, sku, q in done.received:
        table.add_row(str(n), sku, str(q), str(left.get(n, 0)))
    out.print(table)
    if done.process_queued:
        out.print("Every line is received: Loop is asked to process the return (refund it or make its exchange order).")
        assert flush is not None
        _say_flush(flush, "the request to process the return")
    elif done.complete:
        out.print(
            f"Every line is received. Loop is not asked again: the return is {state_now} ({STATE_WORDS.get(state_now, '')})."
        )
    else:
        rest = sum(v for v in left.values() if v > 0)
        out.print(
            f"{plural(rest, 'unit')} still expected; Loop is asked to process the return once every line is received."
        )


# --- confirm -------------------------------------------------------------------------------------


@app.command("confirm")
def confirm(
    ref: Annotated[str, typer.Argument(metavar="RETURN_REF", help=REF_HELP)],
    as_json: JsonOpt = False,
) -> None:
    """Post a credit memo that waits for a person: Loop's refund did not match the RMA's lines.

    The memo is posted for what Loop refunded, with the AR debit that offsets the unapplied credit
    it leaves on the customer account, and the mismatch is resolved. Check the amounts first
    (`bobbin returns show RETURN_REF`)."""
    from sqlalchemy import select

    from core.db import session_scope
    from models import ArAdjustment, InboundReturn, Site
    from services import rma as flow
    from services import users

    ensure_database()
    actor = _actor()
    with session_scope() as s:
        return_id = _return_id(s, ref)
        try:
            memo = flow.confirm_credit(s, return_id, by=actor)
        except flow.ReturnFlowError as exc:
            fail(f"{exc}; nothing was posted")
        s.flush()
        held = s.get(InboundReturn, return_id)
        assert held is not None
        debit = s.scalars(select(ArAdjustment).where(ArAdjustment.credit_memo_id == memo.id)).one_or_none()
        site_name = s.scalar(select(Site.name).where(Site.id == held.site_id))
        result: dict[str, Any] = {
            "return_id": return_id,
            "site": site_name,
            "state": held.state,
            "credit_memo": {
                "number": memo.number,
                "amount": memo.amount,
                "currency": memo.currency,
                "loop_refund_amount": memo.loop_refund_amount,
                "lines_refund_amount": memo.lines_refund_amount,
                "confirmed_by": memo.confirmed_by,
            },
            "ar_debit": None
            if debit is None
            else {
                "id": debit.id,
                "amount": debit.amount,
                "customer_code": debit.customer_code,
                "reason": debit.reason,
                "reference": debit.reference,
            },
        }
        users.record_action(
            s,
            None,
            "confirm_credit",
            actor=actor,
            site_id=held.site_id,
            detail={
                "summary": f"confirmed {memo.number} for {memo.amount} {memo.currency} (Loop refunded "
                f"{memo.loop_refund_amount}, the lines add up to {memo.lines_refund_amount}) on return {return_id}",
                "return_id": return_id,
                "credit_memo": memo.number,
                "ar_adjustment_id": None if debit is None else debit.id,
            },
        )
        site_id = held.site_id
    flush = send_flush(site_id)
    result["flush"] = flush
    if as_json:
        print_json(result)
        return
    out = console()
    m = result["credit_memo"]
    out.print(
        f"[green]Posted credit memo {m['number']}[/green] for {fmt_money(m['amount'], m['currency'])} "
        f"(return {return_id}, {site_name}; Loop refunded {fmt_money(m['loop_refund_amount'])}, the RMA's lines "
        f"add up to {fmt_money(m['lines_refund_amount'])}), confirmed by {m['confirmed_by']}."
    )
    a = result["ar_debit"]
    if a is not None:
        out.print(
            f"AR debit {a['id']} of {fmt_money(a['amount'])} posted on customer {a['customer_code']}: "
            f"{a['reason']} ({a['reference']})."
        )
    out.print(f"The return is {result['state']}.")
    _say_flush(flush, "the note telling Loop")


# --- import --------------------------------------------------------------------------------------

SUMMARY_ROWS = (
    ("fetched", "Fetched"),
    ("new", "New"),
    ("changed", "Changed"),
    ("stale", "Unchanged"),
    ("rmas_created", "RMAs created"),
    ("returns_invalid", "Invalid"),
    ("new_errors", "New problems"),
    ("credited", "Credited"),
    ("credit_waiting", "Credit waiting"),
    ("exchange_debits", "Exchange debits"),
    ("voided", "Voided"),
)


@app.command("import")
def import_returns(
    site: Annotated[str, typer.Argument(metavar="SITE", help="Site name or id (a site whose partner sends returns).")],
    here: Annotated[
        bool, typer.Option("--here", help="Import in this process, even when a worker is running.")
    ] = False,
    timeout: Annotated[int, typer.Option("--timeout", min=1, help="Seconds to wait for the worker's answer.")] = 1800,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary (stable keys).")] = False,
) -> None:
    """Import a site's returns now: read Loop's returns changed since the last read, hold them and
    move each along (RMA or problems, credit memo and AR debit, voids), then send what that queued
    for Loop.

    Runs on the worker when one is running (its progress shows here), else in this process (--here
    asks for that). Prints the run's summary."""
    from bobbin.cli import importing
    from connectors.registry import partner
    from core.db import session_scope
    from services.sites import get_site

    ensure_database()
    with session_scope() as s:
        found = get_site(s, site)
        site_id, name, active, kind = found.id, found.name, found.active, found.kind
    partner(kind).capability("returns")  # NotOffered: one line naming the partners that send returns
    if not active:
        fail(f"site {name} is paused: resume it first (`bobbin sites resume {name}`)")
    if here:
        where, summary = "here", _import_here(site_id, name)
    elif importing.worker_running():
        where = "worker"
        summary = importing.import_on_worker(
            site_id, name, timeout, as_json, task=RETURNS_TASK, what="returns import", subject=f"{name}'s returns"
        )
    else:
        if not as_json:
            err_console().print("[dim]No worker is running: importing in this process.[/dim]")
        where, summary = "here", _import_here(site_id, name)
    summary = {"site": name, "where": where, **summary}
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    if summary.get("skipped"):
        if not as_json:
            fail(f"the returns of {name} were not imported: {summary['skipped']}")
        raise typer.Exit(1)


def _import_here(site_id: int, name: str) -> dict[str, Any]:
    """The task's work in this process: the import, then what the task leaves to others — what it
    queued for Loop, sent now, and the e-mail of its new problems."""
    import time

    from bobbin.cli import importing
    from services.returns import import_site_returns

    started = time.monotonic()
    with err_console().status(f"Importing {name}'s returns here…"):
        summary = import_site_returns(site_id)
    summary["seconds"] = round(time.monotonic() - started, 1)
    if summary.get("skipped"):
        return summary
    if any(summary.get(k) for k in ("rmas_created", "returns_invalid", "credited", "voided", "new_errors")):
        summary["writebacks"] = importing.flush_here(site_id, name, "notes and flags for Loop")
    if summary.get("new_errors"):
        summary["error_report"] = importing.report_here(site_id)
    return summary


def _print_summary(summary: dict[str, Any]) -> None:
    out = console()
    if summary.get("skipped"):
        return
    name = summary["site"]
    how = "on the worker" if summary["where"] == "worker" else "here"
    run = f", run {summary['run_id']}" if summary.get("run_id") else ""
    style = "yellow" if summary.get("returns_invalid") or summary.get("credit_waiting") else "green"
    out.print(
        f"[{style}]Imported {name}'s returns {how}{run}[/{style}] — "
        f"{plural(int(summary.get('rmas_created', 0)), 'new RMA')} in {summary.get('seconds', 0):.1f} s."
    )
    rows: list[tuple[str, Any]] = [(label, f"{int(summary.get(key, 0)):,}") for key, label in SUMMARY_ROWS]
    wb = summary.get("writebacks") or {}
    if wb.get("sent") or wb.get("retrying") or wb.get("dead"):
        rows.append(
            (
                "Sent to Loop",
                f"{plural(int(wb.get('sent', 0)), 'action')}"
                + (f", {wb['retrying']} retrying" if wb.get("retrying") else "")
                + (f", {wb['dead']} given up" if wb.get("dead") else ""),
            )
        )
    out.print(kv_table(rows))
    if summary.get("returns_invalid"):
        out.print(f"[dim]What needs a person: bobbin returns list --site {name} --state invalid[/dim]")
    if summary.get("credit_waiting"):
        out.print(f"[dim]Credit memos waiting for a person: bobbin returns list --site {name} --state processed[/dim]")
    report = summary.get("error_report") or {}
    if report.get("sent"):
        out.print(
            f"[dim]The new problems were e-mailed to {', '.join(report.get('recipients') or []) or 'the site'}.[/dim]"
        )
