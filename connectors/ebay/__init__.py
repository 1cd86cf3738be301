"""eBay connector (Sell Inventory and Sell Fulfillment REST APIs): contract, client, order mapper
and the site's settings. Not registered yet: the catalog push, the order source and the spec that
tells the rest of Bobbin what an eBay site can do come next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.ebay import contract
from connectors.ebay.client import BulkResult, EbayClient, EbayError, EbayRejected, OrdersPage
from connectors.ebay.mapper import EbayOrderExtras, order_extras, to_partner_order
from connectors.ebay.settings import EbaySettings
from connectors.errors import AuthError

__all__ = [
    "BulkResult",
    "EbayClient",
    "EbayError",
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
