"""Brandboom API v2 connector: contract, client, mapper, order source, inventory pusher, catalog
and customer pushers, and the spec that tells the rest of Bobbin what a Brandboom site can do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import WRITEBACK_STATUSES
from connectors.brandboom import contract
from connectors.brandboom.catalog import CATALOG, CUSTOMERS
from connectors.brandboom.client import BrandboomClient
from connectors.brandboom.contract import ORDER_FIELDS, PAYLOAD
from connectors.brandboom.inventory import INVENTORY
from connectors.brandboom.mapper import to_partner_order
from connectors.brandboom.settings import BrandboomSettings
from connectors.brandboom.source import BrandboomOrderSource
from connectors.errors import AuthError
from connectors.registry import OrderPull, PartnerSpec, Sandbox, StatusWriteback, order_source

__all__ = ["SPEC", "BrandboomClient", "BrandboomOrderSource", "BrandboomSettings", "make_source"]

CREDENTIALS = ("public_key", "secret_key")


def make_client(base_url: str, credentials: Mapping[str, Any], settings: Any = None) -> BrandboomClient:
    """The client of one Brandboom site. Missing keys are a person's job to fix, hence AuthError."""
    public_key, secret_key = credentials.get("public_key"), credentials.get("secret_key")
    if not public_key or not secret_key:
        raise AuthError(
            "Brandboom site has no public_key / secret_key: check the site's credentials", partner=contract.PARTNER
        )
    return BrandboomClient(base_url, str(public_key), str(secret_key))


def open_source(client: BrandboomClient, settings: BrandboomSettings) -> BrandboomOrderSource:
    return BrandboomOrderSource(client, statuses=tuple(settings.import_statuses), page_size=settings.page_size)


def writeback_lanes(settings: BrandboomSettings) -> tuple[int, BrandboomSettings]:
    """Writebacks of one site in flight at once: the site's ``writeback_concurrency``."""
    return settings.writeback_concurrency, settings


def make_source(
    base_url: str, credentials: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> BrandboomOrderSource:
    """The order source of one Brandboom site from plain values (settings as stored on a site)."""
    source: BrandboomOrderSource = order_source(SPEC, base_url, credentials, settings)
    return source


SPEC = PartnerSpec(
    kind="brandboom",
    label="Brandboom",
    settings=BrandboomSettings,
    credential_fields=CREDENTIALS,
    client=make_client,
    orders=OrderPull(
        open=open_source,
        to_partner_order=to_partner_order,
        order_fields=ORDER_FIELDS,
        payload=PAYLOAD,
        exported_when="imported",
    ),
    writeback=StatusWriteback(open=open_source, statuses=WRITEBACK_STATUSES, lanes=writeback_lanes),
    inventory=INVENTORY,
    catalog=CATALOG,
    customers=CUSTOMERS,
    sandbox=Sandbox(module="sandbox.brandboom.demo", api_path="/api/v2", port_setting="sandbox_port"),
    doc="Brandboom API v2 (public and secret key from the Account page)",
)
