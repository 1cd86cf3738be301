"""`bobbin customers …`: changes to ERP customers that operations staff decide on, and the push of
the ERP's customers to a site's partner."""

from __future__ import annotations

from typing import Annotated

import typer

from bobbin.cli.orders import order_ref, resolve_refs
from bobbin.cli.output import console, ensure_database, print_json, revalidation_line

app = typer.Typer(
    help="ERP customers: add a new ship-to address from an order; push customers to a site's partner.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]


@app.command("add-address")
def add_address(
    order: Annotated[
        str,
        typer.Argument(
            metavar="ORDER",
            parser=order_ref,
            help="The order whose ship-to address is new (id or SITE:PARTNER_ORDER_ID).",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Add an order's new ship-to address to its ERP customer (Bobbin never adds one by itself)."""
    from services import fixes

    ensure_database()
    (order_id,) = resolve_refs([order])
    code, result = fixes.add_ship_to_address(order_id)
    if as_json:
        print_json({"order": order_id, "customer_code": code, "revalidation": result})
        return
    console().print(f"[green]Added the ship-to address of order {order_id} to customer {code}.[/green]")
    if result:
        console().print(revalidation_line(result))


@app.command("push")
def push(
    site: Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Push the ERP's customers (with their addresses) to the site's partner: only those it has not
    accepted as they are now. Customers the partner settles later show as "sent, awaiting" it and
    are asked about again by the next push."""
    from bobbin.cli.catalog import run_push
    from services import customer_push

    run_push(
        customer_push.push_customers,
        site,
        dry_run=dry_run,
        as_json=as_json,
        command="bobbin customers push",
        capability="customers",
    )
