"""eBay connector (Sell Inventory and Sell Fulfillment REST APIs): contract, client, order mapper,
the order source and tracking writer, the inventory pusher, the listing rules (``listing.py``), the
site's settings, and the spec that tells the rest of Bobbin what an eBay site can do (import its
sales by last-modified time, take tracking back, take quantities). The listings push is
``services.ebay_listings``: eBay is the one partner with listing records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.ebay import contract
from connectors.ebay.client import BulkResult, EbayClient, EbayError, EbayRejected, OrdersPage
from connectors.ebay.inventory import INVENTORY
from connectors.ebay.mapper import EbayOrderExtras, order_extras, to_partner_order
from connectors.ebay.settings import EbaySettings
from connectors.ebay.source import WRITEBACK_STATUSES, EbayOrders, open_orders
from connectors.errors import AuthError
from connectors.registry import OrderPull, PartnerSpec, Sandbox, StatusWriteback

__all__ = [
    "SPEC",
    "BulkResult",
    "EbayClient",
    "EbayError",
    "EbayOrders",
    "EbayOrderExtras",
    "EbayRejected",
    "EbaySettings",
    "OrdersPage",
    "contract",
    "make_client",
    "order_extras",
    "to_partner_order",
]


def make_client(base_url: str, credentials: Mapping[str, Any], settings: EbaySettings | None = None) -> EbayClient:
    """The client of one eBay seller: ``client_id`` / ``client_secret`` are the eBay app's keys and
    ``refresh_token`` the seller's grant (made once through eBay's consent page)."""
    missing = [k for k in ("client_id", "client_secret", "refresh_token") if not credentials.get(k)]
    if missing:
        advice = contract.CONSENT_ADVICE if missing == ["refresh_token"] else "enter the eBay app's keys on the site"
        raise AuthError(f"eBay site has no {', '.join(missing)}: {advice}", partner=contract.PARTNER)
    settings = settings or EbaySettings()
    return EbayClient(
        base_url,
        client_id=str(credentials["client_id"]),
        client_secret=str(credentials["client_secret"]),
        refresh_token=str(credentials["refresh_token"]),
        content_language=settings.content_language,
    )


SPEC = PartnerSpec(
    kind="ebay",
    label="eBay",
    settings=EbaySettings,
    credential_fields=("client_id", "client_secret", "refresh_token"),
    client=make_client,
    orders=OrderPull(
        open=open_orders,
        to_partner_order=to_partner_order,
        order_fields=contract.ORDER_FIELDS,
        payload=contract.PAYLOAD,
        # eBay takes no "exported": nothing is queued (its writeback takes "shipped" only).
        exported_when="imported",
    ),
    # Tracking, once the ERP shipped an order: one shipping fulfilment per order, one at a time.
    writeback=StatusWriteback(open=open_orders, statuses=WRITEBACK_STATUSES),
    inventory=INVENTORY,
    sandbox=Sandbox(module="sandbox.ebay.demo", api_path="", port_setting="ebay_sandbox_port"),
    doc="eBay Sell APIs (the app's client id and secret, and the seller's refresh token)",
)
