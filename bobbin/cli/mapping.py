"""``bobbin map``: translate a partner's values (payment terms, shipping methods, reps, customers,
warehouses) into ERP codes, per site. Adding a mapping checks the held orders again at once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

import typer
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from bobbin.cli.output import (
    UserError,
    console,
    ensure_database,
    fail,
    fmt_time,
    new_table,
    print_json,
    revalidation_line,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Mappings from partner values to ERP codes: add (map terms|ship-via|sales-rep|customer|warehouse), "
    "list, remove.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
SiteArg = Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")]
ValueArg = Annotated[
    str, typer.Argument(metavar="PARTNER_VALUE", help='The value as the partner sends it, quoted: "Net 90".')
]
CodeArg = Annotated[str, typer.Argument(metavar="ERP_CODE", help="The ERP code it stands for.")]

# mapping kind -> the order-error code an unmapped value of that kind produces (services/validation.py)
BLOCKING_CODES = {
    "terms": "terms_unmapped",
    "ship_via": "ship_via_unmapped",
    "sales_rep": "sales_rep_unknown",
    "customer": "customer_unknown",
    "warehouse": "warehouse_unmapped",
}
CODE_KINDS = {code: kind for kind, code in BLOCKING_CODES.items()}
OPEN_STATES = ("downloaded", "valid", "invalid", "duplicate")
SHOW_ERP_CODES_UP_TO = 30  # `map list` names the ERP codes to choose from when there are few


class MappingRow(TypedDict):
    """One mapping as `map list` shows it (and prints it with --json)."""

    kind: str
    partner_value: str
    erp_code: str
    how: str
    created_at: datetime


def cli_kind(kind: str) -> str:
    return kind.replace("_", "-")


def db_kind(text: str) -> str:
    from models.sites import MAPPING_KINDS

    kind = text.strip().lower().replace("-", "_")
    if kind not in MAPPING_KINDS:
        raise UserError(f"mapping kind must be one of {', '.join(cli_kind(k) for k in MAPPING_KINDS)}, not {text!r}")
    return kind


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).lower()


def blocked_values(session: Session, site_id: int, kinds: list[str] | None = None) -> list[dict[str, Any]]:
    """Partner values no mapping covers, from open orders' errors, with the orders each blocks."""
    from models import InboundOrder, OrderError

    codes = [BLOCKING_CODES[k] for k in (kinds or BLOCKING_CODES) if k in BLOCKING_CODES]
    rows = session.execute(
        select(OrderError.code, OrderError.value, OrderError.order_id, InboundOrder.customer_ref)
        .join(InboundOrder, InboundOrder.id == OrderError.order_id)
        .where(
            InboundOrder.site_id == site_id,
            InboundOrder.state.in_(OPEN_STATES),
            OrderError.resolved_at.is_(None),
            OrderError.code.in_(codes),
        )
        .order_by(OrderError.order_id)
    )
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for code, value, order_id, customer_ref in rows:
        key = (code, _norm(value))
        g = groups.setdefault(
            key,
            {
                "kind": CODE_KINDS[code],
                "partner_value": value,
                "orders": [],
                "customer_name": customer_ref if code == "customer_unknown" else None,
            },
        )
        if order_id not in g["orders"]:
            g["orders"].append(order_id)
    out = [{**g, "order_count": len(g["orders"])} for g in groups.values()]
    return sorted(out, key=lambda g: (-g["order_count"], g["kind"], g["partner_value"] or ""))


def erp_codes(session: Session, kind: str) -> list[tuple[str, str]] | None:
    """(code, description) of a small ERP table, to choose from; None when there are too many
    (customers: `bobbin orders resolve` is the way there)."""
    from models import SalesRep, ShipVia, Terms, Warehouse

    columns = {
        "terms": (Terms.code, Terms.description),
        "ship_via": (ShipVia.code, ShipVia.description),
        "sales_rep": (SalesRep.code, SalesRep.name),
        "warehouse": (Warehouse.code, Warehouse.name),
    }.get(kind)
    if columns is None:
        return None
    code, label = columns
    rows = session.execute(select(code, label).order_by(code).limit(SHOW_ERP_CODES_UP_TO + 1)).all()
    return None if len(rows) > SHOW_ERP_CODES_UP_TO else [(c, d) for c, d in rows]


def _add(kind: str, site_ref: str, partner_value: str, erp_code: str, as_json: bool) -> None:
    from core.db import session_scope
    from services import fixes
    from services.sites import get_site

    if not partner_value.strip():
        raise UserError("the partner value is empty")
    ensure_database()
    with session_scope() as s:
        site = get_site(s, site_ref)
        site_id, site_name = site.id, site.name
        waiting = [g for g in blocked_values(s, site_id, [kind]) if _norm(g["partner_value"]) == _norm(partner_value)]
    order_ids = sorted({oid for g in waiting for oid in g["orders"]})
    result = fixes.add_mapping(site_id, kind, partner_value, erp_code.strip())
    from bobbin.cli.orders import order_outcomes, print_outcomes

    with session_scope() as s:
        outcomes = order_outcomes(s, order_ids) if order_ids else []
    if as_json:
        print_json(
            {
                "site": site_name,
                "kind": kind,
                "partner_value": partner_value.strip(),
                "erp_code": erp_code.strip(),
                "revalidation": result,
                "orders": outcomes,
            }
        )
        return
    out = console()
    out.print(
        f'[green]Mapped {cli_kind(kind)} "{partner_value.strip()}" → {erp_code.strip()} on site {site_name}.[/green]'
    )
    out.print(revalidation_line(result))
    if outcomes:
        out.print("Orders that were waiting for this mapping:")
        print_outcomes(outcomes)


def _register_add(kind: str, what: str) -> None:
    def command(site: SiteArg, partner_value: ValueArg, erp_code: CodeArg, as_json: JsonOpt = False) -> None:
        _add(kind, site, partner_value, erp_code, as_json)

    command.__doc__ = (
        f"Map a partner {what} to an ERP code for one site, then check the held orders "
        f"again (the ones it fixes are imported)."
    )
    app.command(cli_kind(kind))(command)


for _kind, _what in (
    ("terms", 'payment method ("Net 90")'),
    ("ship_via", 'shipping method ("Pony Express")'),
    ("sales_rep", 'sales rep name ("Taylor Quinn")'),
    ("customer", "customer (partner id, code, e-mail or name, as `map list` shows it)"),
    ("warehouse", 'warehouse id ("LA-3PL")'),
):
    _register_add(_kind, _what)


@app.command("list")
def list_mappings(
    site: SiteArg,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this kind: terms, ship-via, sales-rep, customer, warehouse, style."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A site's mappings, and the partner values nothing maps yet with how many orders each blocks."""
    from core.db import session_scope
    from models import Mapping
    from services.sites import get_site

    kinds = [db_kind(kind)] if kind else None
    ensure_database()
    with session_scope() as s:
        st = get_site(s, site)
        q = select(Mapping).where(Mapping.site_id == st.id).order_by(Mapping.kind, Mapping.partner_value)
        if kinds:
            q = q.where(Mapping.kind.in_(kinds))
        mappings: list[MappingRow] = [
            {
                "kind": m.kind,
                "partner_value": m.partner_value,
                "erp_code": m.erp_code,
                "how": m.how,
                "created_at": m.created_at,
            }
            for m in s.scalars(q)
        ]
        unmapped = blocked_values(s, st.id, kinds)
        choices = {k: erp_codes(s, k) for k in sorted({u["kind"] for u in unmapped})}
        site_name = st.name
    if as_json:
        print_json({"site": site_name, "mappings": mappings, "unmapped": unmapped})
        return
    out = console()
    if mappings:
        table = new_table("Kind", "Partner value", "ERP code", "How", "Since", title=f"Mappings of {site_name}")
        for m in mappings:
            table.add_row(
                cli_kind(m["kind"]),
                m["partner_value"],
                Text(m["erp_code"], style="bold"),
                m["how"],
                fmt_time(m["created_at"]),
            )
        out.print(table)
    else:
        out.print(f"No mappings on {site_name} yet.")
    if not unmapped:
        out.print("[green]No held order is waiting for a mapping.[/green]")
        return
    out.print()
    table = new_table(
        "Kind", "Partner value", ("Orders blocked", {"justify": "right"}), "Orders", title="Not mapped yet"
    )
    for u in unmapped:
        shown = ", ".join(map(str, u["orders"][:5])) + (" …" if len(u["orders"]) > 5 else "")
        value = Text(u["partner_value"] if u["partner_value"] is not None else "(none)", style="red")
        if u.get("customer_name"):
            value.append(f" ({u['customer_name']})", style="dim")
        table.add_row(cli_kind(u["kind"]), value, str(u["order_count"]), shown)
    out.print(table)
    out.print(
        f'Map one with: [bold]bobbin map KIND {site_name} "PARTNER VALUE" ERP_CODE[/bold]'
        "  (a customer can also be created: bobbin orders resolve ID --create-customer)"
    )
    for k, codes in choices.items():
        if codes:
            out.print(f"[dim]ERP {cli_kind(k)} codes: " + ", ".join(f"{c} ({d})" for c, d in codes) + "[/dim]")


@app.command("remove")
def remove(
    kind: Annotated[
        str, typer.Argument(metavar="KIND", help="terms, ship-via, sales-rep, customer, warehouse or style.")
    ],
    site: SiteArg,
    partner_value: ValueArg,
    as_json: JsonOpt = False,
) -> None:
    """Remove a mapping; the held orders are checked again (imported orders are not touched)."""
    from core.db import session_scope
    from services import fixes
    from services.sites import get_site

    k = db_kind(kind)
    ensure_database()
    with session_scope() as s:
        st = get_site(s, site)
        site_id, site_name = st.id, st.name
    if not fixes.remove_mapping(site_id, k, partner_value):
        fail(
            f'site {site_name} has no {cli_kind(k)} mapping for "{partner_value.strip()}" '
            f"(see bobbin map list {site_name})"
        )
    if as_json:
        print_json({"site": site_name, "kind": k, "partner_value": partner_value.strip(), "removed": True})
        return
    console().print(f'Removed the {cli_kind(k)} mapping of "{partner_value.strip()}" on site {site_name}.')
