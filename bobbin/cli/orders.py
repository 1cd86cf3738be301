"""``bobbin orders``: the holding area — list, look at, fix, import, reject, and mark orders.

The views are the ones staff know from the vendor module (seed 000): all, invalid, valid,
duplicated, imported (and rejected). What the commands read comes from ``services.orders`` and what
they change from ``services.fixes`` / ``services.writeback``; this module parses the arguments and
renders the answers (tables, text, JSON).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.json import JSON
from rich.padding import Padding
from rich.text import Text
from sqlalchemy.orm import Session

from bobbin.cli.output import (
    DASH,
    OUTBOX_STYLES,
    UsageError,
    console,
    ensure_database,
    err_console,
    fail,
    fitted_table,
    fmt_date,
    fmt_money,
    fmt_time,
    kv_table,
    new_table,
    plural,
    print_error,
    print_json,
    revalidation_line,
    state_text,
)

if TYPE_CHECKING:
    from services.orders import OrderOutcome

app = typer.Typer(
    no_args_is_help=True,
    help="Orders in the holding area: list, show, resolve, import, reject, mark shipped/paid/void.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
ORDER_HELP = "Bobbin order ids (the ID column of `orders list`) or SITE:PARTNER_ORDER_ID (e.g. brandboom-demo:9012)."


def order_ref(value: str) -> str:
    """The ORDER argument's parser: a Bobbin order id or SITE:PARTNER_ORDER_ID, checked for its form
    here (a usage error otherwise); looked up by :func:`resolve_refs` once the database is reached."""
    from services.orders import ref_syntax_error

    why = ref_syntax_error(value)
    if why:
        raise typer.BadParameter(why)
    return value.strip()


def resolve_refs(refs: Sequence[str]) -> list[int]:
    """Bobbin order ids for ORDER arguments, in the order given, each once (services.orders.resolve_order_refs:
    an unknown site or partner order id is one line, exit 1)."""
    from core.db import session_scope
    from services.orders import resolve_order_refs

    with session_scope() as s:
        return resolve_order_refs(s, refs)


OrderIds = Annotated[list[str], typer.Argument(metavar="ORDER", parser=order_ref, help=ORDER_HELP)]
OrderRef = Annotated[
    str,
    typer.Argument(
        metavar="ORDER", parser=order_ref, help="A Bobbin order id or SITE:PARTNER_ORDER_ID (e.g. brandboom-demo:9012)."
    ),
]


class View(str, Enum):
    all = "all"
    invalid = "invalid"
    valid = "valid"
    duplicated = "duplicated"
    imported = "imported"
    rejected = "rejected"


VIEW_STATES: dict[View, tuple[str, ...] | None] = {
    View.all: None,
    View.invalid: ("invalid",),
    View.valid: ("valid",),
    View.duplicated: ("duplicate",),
    View.imported: ("imported",),
    View.rejected: ("rejected",),
}
SHOWN_CODES = 2  # error codes shown per row in `orders list`; the rest is "+N"


class MarkStatus(str, Enum):
    shipped = "shipped"
    paid = "paid"
    void = "void"
    exported = "exported"


# --- reading -------------------------------------------------------------------------------------


def outcome_text(o: OrderOutcome, before: str | None = None) -> Text:
    state = o["state"]
    if state is None:
        return Text("no such order", style="red")
    if state == "imported":
        if before == "imported":
            return Text.assemble(("already imported", "dim"), f" as {o['sales_order']}" if o["sales_order"] else "")
        return Text.assemble(("imported", "green"), f" as {o['sales_order']}" if o["sales_order"] else "")
    if state in ("invalid", "duplicate"):
        text = Text.assemble(state_text(state), ": ", ", ".join(o["error_codes"]) or "see `bobbin orders show`")
        if state == "duplicate":
            text.append(" (check it, then reject it or import it with --allow-duplicate)", style="dim")
        return text
    return state_text(state)


def print_outcomes(outcomes: Sequence[OrderOutcome], before: dict[int, str] | None = None) -> None:
    table = new_table(("Order", {"justify": "right"}), "Site", "Partner #", "Now")
    for o in outcomes:
        table.add_row(
            str(o["id"]), o["site"] or DASH, o["partner_order_id"] or DASH, outcome_text(o, (before or {}).get(o["id"]))
        )
    console().print(table)


def _site_id(session: Session, ref: str | None) -> int | None:
    from services.sites import get_site

    return None if ref is None else get_site(session, ref).id


# --- list ----------------------------------------------------------------------------------------


@app.command("list")
def list_orders(
    site: Annotated[str | None, typer.Option("--site", help="Only this site (name or id).")] = None,
    view: Annotated[View, typer.Option("--view", help="Which orders (the views of the holding area).")] = View.all,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many, newest first (0 = all).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Orders in the holding area, newest first. Invalid ones show their first problems."""
    from core.db import session_scope
    from services import orders as queries

    ensure_database()
    with session_scope() as s:
        page = queries.list_orders(s, site_id=_site_id(s, site), states=VIEW_STATES[view], limit=limit or None)
    records, total = page.rows, page.total
    if as_json:
        print_json({"view": view.value, "site": site, "total": total, "count": len(records), "orders": records})
        return
    out = console()
    if not records:
        out.print(f"No {'' if view is View.all else view.value + ' '}orders{' on site ' + site if site else ''}.")
        return
    # Narrow terminals drop the columns people need least, so the problems stay readable.
    columns: list[tuple[str, dict[str, Any], int]] = [
        ("ID", {"justify": "right", "no_wrap": True}, 0),
        ("Site", {"no_wrap": True}, 105),
        ("Partner #", {"no_wrap": True}, 125),
        ("PO", {"no_wrap": True}, 0),
        ("Customer", {"max_width": 26, "overflow": "ellipsis", "no_wrap": True}, 0),
        ("Date", {"no_wrap": True}, 105),
        ("Lines", {"justify": "right", "no_wrap": True}, 125),
        ("Total", {"justify": "right", "no_wrap": True}, 85),
        ("State", {"no_wrap": True}, 0),
        ("Problems", {"overflow": "fold", "ratio": 1, "min_width": 14}, 0),
    ]
    cells = []
    for r in records:
        customer = Text(r["customer_ref"] or DASH)
        if r["customer_code"]:
            customer = Text.assemble((r["customer_code"], "bold"), " ", (r["customer_ref"] or "", "dim"))
        if r["error_codes"]:
            shown = r["error_codes"][:SHOWN_CODES]
            extra = len(r["error_codes"]) - len(shown)
            note = Text(", ".join(shown) + (f" +{extra}" if extra > 0 else ""), style="red")
        elif r["sales_order"]:
            note = Text(f"→ {r['sales_order']}", style="dim")
        else:
            note = Text(", ".join(r["warning_codes"]), style="yellow")
        cells.append(
            {
                "ID": str(r["id"]),
                "Site": r["site"],
                "Partner #": r["partner_order_id"],
                "PO": r["po_number"] or DASH,
                "Customer": customer,
                "Date": fmt_date(r["order_date"]),
                "Lines": str(r["lines"]),
                "Total": fmt_money(r["total"], r["currency"]),
                "State": state_text(r["state"]),
                "Problems": note,
            }
        )
    table = fitted_table(columns, cells, out.width)
    out.print(table)
    if total > len(records):
        out.print(f"[dim]Showing the newest {len(records):,} of {total:,}; --limit 0 shows all.[/dim]")
    if any(r["state"] in ("invalid", "duplicate") for r in records):
        out.print("[dim]What to do about an order: bobbin orders show ID[/dim]")


# --- show ----------------------------------------------------------------------------------------


def _address_text(a: dict[str, Any] | None) -> str | None:
    if not a:
        return None
    parts = [
        a.get("name"),
        a.get("line1"),
        a.get("line2"),
        a.get("city"),
        " ".join(p for p in (a.get("state"), a.get("postal_code")) if p),
        a.get("country"),
    ]
    return ", ".join(p for p in parts if p) or None


def show_order(r: dict[str, Any]) -> None:
    out = console()
    out.print(
        Text.assemble(
            (f"Order {r['id']}", "bold"),
            f"  {r['site']} #{r['partner_order_id']}  ",
            state_text(r["state"]),
            (f"  (partner status {r['partner_status']})" if r["partner_status"] else "", "dim"),
        )
    )
    c = r["customer"]
    who = c["name"] or c["ref"] or DASH
    ids = ", ".join(
        p
        for p in (
            f"partner id {c['partner_id']}" if c["partner_id"] else "",
            f"code {c['partner_code']}" if c["partner_code"] else "",
            c["email"] or "",
        )
        if p
    )
    customer = Text.assemble(
        who,
        (f" ({ids})" if ids else "", "dim"),
        " → ",
        (c["code"], "bold green") if c["code"] else ("no ERP customer", "red"),
    )
    so = r["sales_order"]
    rows: list[tuple[str, Any]] = [
        ("PO", r["po_number"]),
        ("Customer", customer),
        ("Ship to", _address_text(r["ship_to"])),
        (
            "Dates",
            f"ordered {fmt_date(r['order_date'])}  start ship {fmt_date(r['ship_date'])}  "
            f"cancel {fmt_date(r['cancel_date'])}",
        ),
        ("Terms", r["payment_method"]),
        ("Ship via", r["shipping_method"]),
        ("Sales rep", r["sales_rep"]),
        ("Warehouse", r["warehouse"] or "site default"),
        ("Total", f"{fmt_money(r['total'], r['currency'])} in {plural(r['line_count'], 'line')}"),
        (
            "Seen",
            f"first {fmt_time(r['first_seen_at'])}, last {fmt_time(r['last_seen_at'])}; "
            f"validated {fmt_time(r['validated_at'])}",
        ),
        (
            "ERP order",
            Text.assemble((so["number"], "bold"), f" ({so['status']}, imported {fmt_time(r['imported_at'])})")
            if so
            else None,
        ),
    ]
    if so and (so.get("freight") or so.get("deposit") or so.get("marketplace_tax")):
        money = [
            f"{label} {fmt_money(so[key], r['currency'])}"
            for label, key in (
                ("freight", "freight"),
                ("deposit paid", "deposit"),
                ("tax the marketplace remits", "marketplace_tax"),
            )
            if so.get(key)
        ]
        rows.append(("Paid by buyer", "  ".join(money)))
    out.print(kv_table(rows))

    line_codes: dict[int, list[str]] = defaultdict(list)
    for p in r["problems"]:
        if p["line_no"] is not None and p["code"] not in line_codes[p["line_no"]]:
            line_codes[p["line_no"]].append(p["code"])
    if r["lines"]:
        out.print()
        table = new_table(
            ("#", {"justify": "right"}),
            "Style",
            "Color",
            "Size",
            "SKU",
            ("Qty", {"justify": "right"}),
            ("Price", {"justify": "right"}),
            ("Amount", {"justify": "right"}),
            "Problem",
            title="Lines",
        )
        for ln in r["lines"]:
            codes = line_codes.get(ln["line_no"], [])
            table.add_row(
                str(ln["line_no"]),
                ln["style_number"] or DASH,
                ln["color_code"] or DASH,
                ln["size"] or DASH,
                ln["sku_number"] or DASH,
                str(ln["quantity"]) if ln["quantity"] is not None else DASH,
                fmt_money(ln["price"]),
                fmt_money(ln["amount"]),
                Text(", ".join(codes), style="red"),
                style="red" if codes else None,
            )
        out.print(table)

    if r["problems"]:
        errors = any(p["severity"] == "error" for p in r["problems"])
        out.print()
        out.print(Text("Problems to fix" if errors else "Warnings", style="bold"))
        for p in r["problems"]:
            colour = "yellow" if p["severity"] == "warning" else "red"
            out.print(
                Text.assemble(
                    ("● ", colour),
                    (p["code"], f"bold {colour}"),
                    f"  {p['title']}",
                    (" (warning: the order still imports)" if p["severity"] == "warning" else "", "dim"),
                )
            )
            out.print(Padding(Text(p["message"]), (0, 0, 0, 2)))
            out.print(Padding(Text.assemble(("Resolution: ", "bold"), p["resolution"].replace("`", "")), (0, 0, 0, 2)))
    elif r["state"] in ("valid", "downloaded"):
        out.print()
        out.print("[green]No open problems.[/green]")

    if r["resolved_problems"]:
        out.print()
        table = new_table(
            "Resolved", "Code", ("Line", {"justify": "right"}), "Value", "Message", title="Resolved problems"
        )
        for p in r["resolved_problems"]:
            table.add_row(
                fmt_time(p["resolved_at"]),
                p["code"],
                str(p["line_no"] or ""),
                p["value"] or "",
                p["message"],
                style="dim",
            )
        out.print(table)

    if r["writebacks"]:
        out.print()
        table = new_table(
            "Status",
            "State",
            ("Tries", {"justify": "right"}),
            "When",
            "Last error",
            title="Status sent back to the partner",
        )
        for w in r["writebacks"]:
            if w["state"] == "sent":
                when = f"sent {fmt_time(w['sent_at'])}"
            elif w["state"] == "pending":
                when = f"next try {fmt_time(w['next_attempt_at'])}"
            else:
                when = "gave up"
            table.add_row(
                w["status"],
                Text(w["state"], style=OUTBOX_STYLES.get(w["state"], "")),
                str(w["attempts"]),
                when,
                Text(w["last_error"] or "", style="red"),
            )
            for a in w["attempt_log"]:
                if a["ok"] is None:  # in flight, or its worker died: the next try asks the partner first
                    said = Text("no outcome recorded", style="yellow")
                elif a["ok"]:
                    said = Text(f"ok ({a['note']})" if a.get("note") else "ok", style="dim")
                else:
                    said = Text(a["error"] or "failed", style="red")
                table.add_row("", Text("  try", style="dim"), "", Text(fmt_time(a["at"]), style="dim"), said)
        out.print(table)

    if "raw" in r:
        out.print()
        out.print(Text("Payload as received", style="bold"))
        out.print(JSON(json.dumps(r["raw"], default=str)))


@app.command("show")
def show(
    order: OrderRef,
    raw: Annotated[bool, typer.Option("--raw", help="Also print the payload exactly as the partner sent it.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """One order: header, lines, open problems with what to do, resolved ones, ERP order, writebacks."""
    from core.db import session_scope
    from services import orders as queries

    ensure_database()
    (order_id,) = resolve_refs([order])
    with session_scope() as s:
        record = queries.order_detail(s, order_id, raw=raw)
    if as_json:
        print_json(record)
        return
    show_order(record)


# --- fixing --------------------------------------------------------------------------------------


@app.command("resolve")
def resolve(
    order: Annotated[
        str,
        typer.Argument(
            metavar="ORDER", parser=order_ref, help="The order whose customer is unknown (id or SITE:PARTNER_ORDER_ID)."
        ),
    ],
    customer: Annotated[
        str | None, typer.Option("--customer", help="Map the order's customer to this ERP customer code.")
    ] = None,
    create_customer: Annotated[
        bool, typer.Option("--create-customer", help="Create the ERP customer from the order's customer block.")
    ] = False,
    code: Annotated[
        str | None, typer.Option("--code", help="Code for the new customer (default: made from its name).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fix an unknown customer: map it to an ERP customer, or create one from the order.

    Every held order of that customer is checked again, and the valid ones are imported."""
    from core.db import session_scope
    from services import fixes
    from services import orders as queries

    if bool(customer) == create_customer:
        raise UsageError("give either --customer CODE or --create-customer")
    if code and not create_customer:
        raise UsageError("--code goes with --create-customer")
    ensure_database()
    (order_id,) = resolve_refs([order])
    if customer:
        result = fixes.resolve_customer(order_id, customer.strip())
        made, message = customer.strip(), f"Mapped the customer of order {order_id} to ERP customer {customer.strip()}."
    else:
        made, result = fixes.create_customer_from_order(order_id, code)
        message = f"Created ERP customer {made} from order {order_id} and mapped the partner customer to it."
    with session_scope() as s:
        outcomes = queries.order_outcomes(s, [order_id])
    if as_json:
        print_json({"customer_code": made, "created": create_customer, "revalidation": result, "orders": outcomes})
        return
    console().print(f"[green]{message}[/green]")
    console().print(revalidation_line(result))
    print_outcomes(outcomes)


@app.command("import")
def import_orders(
    orders: Annotated[
        list[str] | None, typer.Argument(metavar="ORDER", parser=order_ref, help="Orders to import: " + ORDER_HELP)
    ] = None,
    all_valid: Annotated[
        bool, typer.Option("--all-valid", help="Import every valid order (of --site, or all sites).")
    ] = False,
    site: Annotated[str | None, typer.Option("--site", help="With --all-valid: only this site.")] = None,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="Import even if another order of the customer has the same PO (after checking it is not a true duplicate).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check orders again and import the valid ones into the ERP (each at most once, ever)."""
    from core.db import session_scope
    from services import fixes
    from services import orders as queries

    if bool(orders) == all_valid:
        raise UsageError("give order ids, or --all-valid")
    if site and not all_valid:
        raise UsageError("--site goes with --all-valid")
    ensure_database()
    order_ids = resolve_refs(orders) if orders else None
    with session_scope() as s:
        site_id = _site_id(s, site)
        ids = list(dict.fromkeys(order_ids)) if order_ids else queries.valid_order_ids(s, site_id)
        before = queries.states_of(s, ids)
    if not ids:
        if as_json:
            print_json({"imported": 0, "validated": 0, "orders": []})
        else:
            console().print("No valid orders to import.")
        return
    with err_console().status("Importing…"):
        totals = fixes.import_by_hand(ids if order_ids else None, site_id=site_id, allow_duplicate=allow_duplicate)
    with session_scope() as s:
        outcomes = queries.order_outcomes(s, ids)
    not_imported = [o for o in outcomes if o["state"] != "imported"]
    if as_json:
        print_json({**totals, "orders": outcomes})
    else:
        newly = sum(1 for o in outcomes if o["state"] == "imported" and before.get(o["id"]) != "imported")
        console().print(f"Imported {plural(newly, 'order')}.")
        print_outcomes(outcomes, before)
        if newly:
            console().print(
                "[dim]The partner is told each order was exported by the outbox flush "
                "(bobbin status shows what is waiting).[/dim]"
            )
    if order_ids and not_imported:
        print_error(
            f"{plural(len(not_imported), 'order')} not imported: {', '.join(str(o['id']) for o in not_imported)}"
        )
        raise typer.Exit(1)


class ReplayState(str, Enum):
    downloaded = "downloaded"
    valid = "valid"
    invalid = "invalid"
    duplicate = "duplicate"


@app.command("replay")
def replay(
    orders: Annotated[
        list[str] | None, typer.Argument(metavar="ORDER", parser=order_ref, help="Orders to replay: " + ORDER_HELP)
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Replay this site's held orders (name or id).")] = None,
    state: Annotated[
        list[ReplayState] | None,
        typer.Option("--state", help="With --site: only orders in this state (repeat it; default: every open one)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read held orders' payloads again through the partner's mapper (after a mapper fix), check
    them again and import the valid ones: the same rules as an import, each order at most once, ever.

    Imported and rejected orders are never replayed."""
    from services import replay as replaying

    if bool(orders) == bool(site):
        raise UsageError("give order ids, or --site SITE [--state STATE]")
    if state and not site:
        raise UsageError("--state goes with --site")
    ensure_database()
    with err_console().status("Replaying…"):
        if orders:
            results = replaying.replay_orders(resolve_refs(orders))
        else:
            assert site is not None
            results = [replaying.replay(site, states=[st.value for st in state] if state else None)]
    if as_json:
        print_json({"sites": [r.as_dict() for r in results]})
    else:
        for r in results:
            _print_replay(r)
    postponed = [r.site for r in results if r.postponed]
    asked = [oid for r in results for oid in r.skipped] if orders else []
    if postponed:
        fail(f"not replayed: an import of {', '.join(postponed)} is still running; replay again once it ends")
    if asked:
        if not as_json:  # each one was said, with why
            raise typer.Exit(1)
        fail(f"{plural(len(asked), 'order')} not replayed: {', '.join(map(str, asked))}")


def _print_replay(r: Any) -> None:
    out = console()
    c = r.counts
    if not r.orders and not r.skipped:
        out.print(f"No held orders of {r.site} to replay.")
        return
    if r.orders:
        parts = [f"{c.get('valid', 0)} valid", f"{c.get('invalid', 0)} invalid"]
        if c.get("duplicate"):
            parts.append(f"{c['duplicate']} duplicate")
        out.print(
            f"Replayed {plural(len(r.orders), 'order')} of {r.site}: {', '.join(parts)}; "
            f"{plural(int(c.get('imported', 0)), 'order')} imported, {plural(len(r.changed), 'state')} changed."
        )
        table = new_table(("Order", {"justify": "right"}), "Partner #", "Before", "Now", title=f"Replay of {r.site}")
        for o in r.orders:
            now: OrderOutcome = {
                "id": o.id,
                "state": o.after,
                "site": r.site,
                "partner_order_id": o.partner_order_id,
                "sales_order": o.sales_order,
                "error_codes": o.error_codes,
            }
            table.add_row(
                str(o.id),
                o.partner_order_id,
                state_text(o.before),
                outcome_text(now, o.before) if o.changed else Text.assemble(outcome_text(now), (" (as before)", "dim")),
            )
        out.print(table)
    for oid, why in r.skipped.items():
        print_error(f"order {oid} not replayed: {why}")


@app.command("reject")
def reject(orders: OrderIds, as_json: JsonOpt = False) -> None:
    """Reject orders: they are never imported (a partner re-send does not bring them back)."""
    from services import fixes

    ensure_database()
    rejected: list[int] = []
    failed: dict[int, str] = {}
    for oid in resolve_refs(orders):
        try:
            fixes.reject(oid)
            rejected.append(oid)
        except fixes.FixError as exc:
            failed[oid] = str(exc)
    if as_json:
        print_json({"rejected": rejected, "failed": {str(k): v for k, v in failed.items()}})
    else:
        if rejected:
            console().print(
                f"[green]Rejected {plural(len(rejected), 'order')}:[/green] {', '.join(map(str, rejected))}"
            )
        for oid, reason in failed.items():
            print_error(f"order {oid}: {reason}")
    if failed:
        raise typer.Exit(1)


@app.command("mark")
def mark(
    status: Annotated[MarkStatus, typer.Argument(help="shipped, paid, void or exported.")],
    refs: OrderIds,
    as_json: JsonOpt = False,
) -> None:
    """Tell the partner orders are shipped, paid or void (or exported).

    The status is recorded on the ERP order, queued, and sent right away; a failed send is retried
    by the outbox flush, and one the partner refuses shows in `bobbin status`."""
    from connectors.errors import PartnerError
    from core.crypto import CredentialsError
    from core.db import session_scope
    from services import orders as queries
    from services import writeback

    ensure_database()
    ids = resolve_refs(refs)
    with session_scope() as s:
        result = writeback.mark(s, ids, status.value)
    send_error = None
    if result.queued:
        with session_scope() as s:
            outbox_ids = queries.pending_outbox_ids(s, result.queued, status.value)
        if outbox_ids:
            try:
                with err_console().status(f"Sending {plural(len(outbox_ids), 'status change')} to the partner…"):
                    writeback.flush(outbox_ids=outbox_ids)
            except (PartnerError, CredentialsError) as exc:
                send_error = str(exc)
    with session_scope() as s:
        rows = queries.outbox_rows(s, result.queued, status.value)
    orders: list[dict[str, Any]] = []
    for oid in ids:
        if oid in result.skipped:
            orders.append({"id": oid, "result": "skipped", "detail": result.skipped[oid]})
            continue
        w = rows.get(oid)
        if w is None:
            orders.append({"id": oid, "result": "queued", "detail": None})
        elif w.state == "sent":
            orders.append({"id": oid, "result": "sent", "detail": w.sent_at})
        elif w.state == "dead":
            orders.append({"id": oid, "result": "refused", "detail": w.last_error})
        elif w.state == "held":  # the partner answered for another order: a person looks first
            orders.append({"id": oid, "result": "held", "detail": w.last_error})
        elif w.attempts:
            orders.append(
                {"id": oid, "result": "retrying", "detail": w.last_error, "next_attempt_at": w.next_attempt_at}
            )
        else:
            orders.append({"id": oid, "result": "queued", "detail": send_error})
    problems = [o for o in orders if o["result"] in ("skipped", "refused", "held")]
    if as_json:
        print_json({"status": status.value, "orders": orders, "send_error": send_error})
    else:
        styles = {
            "sent": "green",
            "retrying": "yellow",
            "queued": "yellow",
            "refused": "red",
            "skipped": "red",
            "held": "magenta",
        }
        table = new_table(("Order", {"justify": "right"}), "Result", "Detail", title=f"Mark {status.value}")
        for o in orders:
            detail = o["detail"]
            if o["result"] == "sent":
                detail = f"at {fmt_time(detail)}"
            elif o["result"] == "retrying":
                detail = f"next try {fmt_time(o['next_attempt_at'])}: {detail}"
            elif o["result"] == "queued" and not detail:
                detail = "waiting for the outbox flush"
            table.add_row(str(o["id"]), Text(o["result"], style=styles[o["result"]]), Text(str(detail or "")))
        console().print(table)
    if send_error:
        fail(f"the status changes are recorded and queued, but could not be sent now: {send_error}")
    if problems:
        fail(f"{plural(len(problems), 'order')} not marked {status.value}: {', '.join(str(o['id']) for o in problems)}")
