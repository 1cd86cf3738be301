"""JOOR API connector: contract, client, mapper, order source, inventory pusher, catalog and
customer pushers, and the spec that tells the rest of Bobbin what a JOOR site can do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import AuthError
from connectors.joor import contract
from connectors.joor.catalog import CATALOG, CUSTOMERS
from connectors.joor.client import InventoryItem, JoorClient
from connectors.joor.contract import ORDER_FIELDS, PAYLOAD
from connectors.joor.inventory import INVENTORY
from connectors.joor.mapper import to_partner_order
from connectors.joor.settings import JoorSettings
from connectors.joor.source import WRITEBACK_STATUSES, JoorOrderSource
from connectors.registry import OrderPull, PartnerSpec, Sandbox, StatusWriteback, order_source

__all__ = ["SPEC", "InventoryItem", "JoorClient", "JoorOrderSource", "JoorSettings", "make_source"]


def make_client(base_url: str, credentials: Mapping[str, Any], settings: JoorSettings | None = None) -> JoorClient:
    """The client of one JOOR site: ``api_token`` is the v2 token JOOR's integration manager
    issues, as given (the client base64-encodes it); the credit budget is the site's. A missing
    token is a person's job to fix, hence AuthError rather than KeyError."""
    api_token = credentials.get("api_token")
    if not api_token:
        raise AuthError("JOOR site has no api_token: check the site's API token", partner=contract.PARTNER)
    settings = settings or JoorSettings()
    return JoorClient(
        base_url, str(api_token), credits=settings.credits, window_seconds=float(settings.credit_window_seconds)
    )


# At most this many JOOR writebacks of one site in flight at once: the credit budget is what bounds
# them (JOOR asks for no constant hammering, partners/README 1.8), a few connections spend it at
# its full rate.
WRITEBACK_LANES = 4


def writeback_lanes(settings: JoorSettings) -> tuple[int, JoorSettings]:
    """Writebacks of one site in flight at once, sized by the site's credit budget: as many
    connections as the budget can pay a write on each (at most ``WRITEBACK_LANES``), each client
    counting an equal share of the site's credits per window. Together they spend the whole
    budget, at its full rate, and never more: JOOR documents no bulk call that marks orders
    exported (v4 ``orders/bulk_update`` sets IN_PROGRESS … CANCELLED only), so each mark is its
    own ``GET order/{id}?sync=1``."""
    lanes = max(1, min(WRITEBACK_LANES, settings.credits // contract.WRITE_CREDITS))
    return lanes, settings.model_copy(update={"credits": settings.credits // lanes})


def open_source(client: JoorClient, settings: JoorSettings) -> JoorOrderSource:
    return JoorOrderSource(client, order_types=settings.order_types, page_size=settings.page_size)


def make_source(
    base_url: str, credentials: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> JoorOrderSource:
    """The order source of one JOOR site from plain values (settings as stored on a site)."""
    source: JoorOrderSource = order_source(SPEC, base_url, credentials, settings)
    return source


SPEC = PartnerSpec(
    kind="joor",
    label="JOOR",
    settings=JoorSettings,
    credential_fields=("api_token",),
    client=make_client,
    orders=OrderPull(
        open=open_source,
        to_partner_order=to_partner_order,
        order_fields=ORDER_FIELDS,
        payload=PAYLOAD,
        exported_when="staged",
    ),
    writeback=StatusWriteback(open=open_source, statuses=WRITEBACK_STATUSES, lanes=writeback_lanes),
    inventory=INVENTORY,
    catalog=CATALOG,
    customers=CUSTOMERS,
    sandbox=Sandbox(module="sandbox.joor.demo", api_path="/v2", port_setting="joor_sandbox_port"),
    doc="JOOR API v2 (the API token from JOOR's integration manager)",
)
