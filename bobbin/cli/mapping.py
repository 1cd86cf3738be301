"""``bobbin map``: translate a partner's values (payment terms, shipping methods, reps, customers,
warehouses) into ERP codes, per site. Adding a mapping checks the held orders again at once. The work
is ``services.mappings``'s (the console's Mappings page calls the same functions); this prints it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from bobbin.cli.output import (
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
    help="Mappings from partner values to ERP codes: add (map terms|ship-via|sales-rep|customer|warehouse|style), "
    "list, remove.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
SiteArg = Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")]
ValueArg = Annotated[
    str, typer.Argument(metavar="PARTNER_VALUE", help='The value as the partner sends it, quoted: "Net 90".')
]
CodeArg = Annotated[str, typer.Argument(metavar="ERP_CODE", help="The ERP code it stands for.")]

SHOW_ERP_CODES_UP_TO = 30  # `map list` names the ERP codes to choose from when there are few


def cli_kind(kind: str) -> str:
    return kind.replace("_", "-")


def db_kind(text: str) -> str:
    from services.mappings import kind_of

    return kind_of(text)


def _add(kind: str, site_ref: str, partner_value: str, erp_code: str, as_json: bool) -> None:
    from core.db import session_scope
    from services import mappings
    from services.sites import get_site

    mappings.check_value(partner_value)
    ensure_database()
    with session_scope() as s:
        site = get_site(s, site_ref)
        site_id = site.id
    added = mappings.add_mapping(site_id, kind, partner_value, erp_code)
    if as_json:
        print_json(
            {
                "site": added.site_name,
                "kind": added.kind,
                "partner_value": added.partner_value,
                "erp_code": added.erp_code,
                "revalidation": added.revalidation,
                "orders": added.outcomes,
            }
        )
        return
    from bobbin.cli.orders import print_outcomes

    out = console()
    out.print(
        f'[green]Mapped {cli_kind(kind)} "{added.partner_value}" → {added.erp_code} on site {added.site_name}.[/green]'
    )
    out.print(revalidation_line(added.revalidation))
    if added.outcomes:
        out.print("Orders that were waiting for this mapping:")
        print_outcomes(added.outcomes)


def _register_add(kind: str, what: str) -> None:
    def command(site: SiteArg, partner_value: ValueArg, erp_code: CodeArg, as_json: JsonOpt = False) -> None:
        _add(kind, site, partner_value, erp_code, as_json)

    command.__doc__ = (
        f"Map a partner {what} to an ERP code for one site, then check the held orders "
        f"again (the ones it fixes are imported)."
    )
    if kind == "style":
        command.__doc__ = (
            "Match a product already on the partner (its id or number there) to an ERP style number: the "
            "catalog push updates that product instead of creating another."
        )
    app.command(cli_kind(kind))(command)


for _kind, _what in (
    ("terms", 'payment method ("Net 90")'),
    ("ship_via", 'shipping method ("Pony Express")'),
    ("sales_rep", 'sales rep name ("Taylor Quinn")'),
    ("customer", "customer (partner id, code, e-mail or name, as `map list` shows it)"),
    ("warehouse", 'warehouse id ("LA-3PL")'),
    ("style", "product"),
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
    from services import mappings as service
    from services.sites import get_site

    kinds = [db_kind(kind)] if kind else None
    ensure_database()
    with session_scope() as s:
        st = get_site(s, site)
        mappings = service.list_mappings(s, st.id, kinds)
        unmapped = service.blocked_values(s, st.id, kinds)
        choices = {k: service.code_choices(s, k, SHOW_ERP_CODES_UP_TO) for k in sorted({u["kind"] for u in unmapped})}
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
    from services import mappings
    from services.sites import get_site

    k = db_kind(kind)
    ensure_database()
    with session_scope() as s:
        st = get_site(s, site)
        site_id, site_name = st.id, st.name
    if mappings.remove_mapping(site_id, k, partner_value) is None:
        fail(
            f'site {site_name} has no {cli_kind(k)} mapping for "{partner_value.strip()}" '
            f"(see bobbin map list {site_name})"
        )
    if as_json:
        print_json({"site": site_name, "kind": k, "partner_value": partner_value.strip(), "removed": True})
        return
    console().print(f'Removed the {cli_kind(k)} mapping of "{partner_value.strip()}" on site {site_name}.')
