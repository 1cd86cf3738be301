"""The ``bobbin`` command: its groups, and ``main()`` (the console script)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

import bobbin.cli.erp_handoff  # noqa: F401  (its commands join `bobbin erp`: export, shipments)
from bobbin.cli import (
    admin,
    catalog,
    customers,
    ebay,
    erp,
    importing,
    inventory,
    mapping,
    orders,
    report,
    returns,
    sites,
    status,
    users,
    web,
    writebacks,
)
from bobbin.cli.output import BobbinGroup
from connectors.registry import infos


def _listed(names: list[str]) -> str:
    """'A, B and C'."""
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


app = typer.Typer(
    cls=BobbinGroup,
    name="bobbin",
    help=f"Bobbin keeps the ERP in step with {_listed([partner.label for partner in infos()])}: import and fix "
    "orders and returns, map partner values, load ERP data, send order statuses back.",
    epilog="Every list and show command takes --json. Errors print one line and exit 1 (2 for a mistyped command).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold credentials
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(sites.app, name="sites")
app.add_typer(orders.app, name="orders")
app.add_typer(returns.app, name="returns")
app.add_typer(mapping.app, name="map")
app.add_typer(erp.app, name="erp")
app.add_typer(customers.app, name="customers")
app.add_typer(inventory.app, name="inventory")
app.add_typer(catalog.app, name="catalog")
app.add_typer(ebay.app, name="ebay")
app.add_typer(report.app, name="report")
app.add_typer(users.app, name="users")
app.add_typer(writebacks.app, name="writebacks")
app.command("status")(status.status)
importing.register(app)
admin.register(app)
web.register(app)


def _version(value: bool) -> None:
    if value:
        from bobbin import __version__

        typer.echo(f"bobbin {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
) -> None:
    """Bobbin: the ERP ↔ partner integration hub."""
    from connectors.http import patient

    # A command run here (an import --here, a push) waits out a partner's rate limit however long:
    # the person waits for it anyway, and no worker slot is held. Workers pause instead (worker.base).
    ctx.with_resource(patient())


def main() -> None:
    """Console script: logs only warnings (service logs would clutter the output), then the app."""
    from core.logging import configure

    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")  # an unreachable database fails in seconds, not minutes
    fmt = os.environ.get("LOG_FORMAT", "console")
    configure(
        level=os.environ.get("BOBBIN_CLI_LOG_LEVEL", "WARNING").upper(),
        fmt=fmt if fmt in ("json", "console") else "console",
    )
    app()


if __name__ == "__main__":
    main()
