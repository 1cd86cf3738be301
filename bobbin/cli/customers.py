"""`bobbin customers …`: changes to ERP customers that operations staff decide on."""

from __future__ import annotations

from typing import Annotated

import typer

from bobbin.cli.orders import order_ref, resolve_refs
from bobbin.cli.output import console, ensure_database, print_json, revalidation_line

app = typer.Typer(help="ERP customers: add a new ship-to address from an order.", no_args_is_help=True)
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
