"""Settings only an eBay site has (the shared ones are connectors.settings.SiteSettings).

An offer needs a marketplace, the language its texts are written in, the seller's inventory
location and the seller's business policies (shipping, payment, returns) [DOC createOffer /
publishOffer: refused without them]; the ids are made in the seller's eBay account."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.ebay import contract as c
from connectors.settings import SiteSettings


class EbaySettings(SiteSettings):
    marketplace_id: str = Field(
        c.DEFAULT_MARKETPLACE, min_length=1, description="the eBay marketplace offers are listed on (e.g. EBAY_US)"
    )
    content_language: str = Field(
        c.DEFAULT_CONTENT_LANGUAGE,
        min_length=2,
        description="the language of item titles and descriptions (the Content-Language header, e.g. en-US)",
    )
    merchant_location_key: str | None = Field(
        None, description="offers: the seller's inventory location key (made once in eBay)"
    )
    fulfillment_policy_id: str | None = Field(None, description="offers: the seller's eBay shipping policy id")
    payment_policy_id: str | None = Field(None, description="offers: the seller's eBay payment policy id")
    return_policy_id: str | None = Field(None, description="offers: the seller's eBay return policy id")
    # Seed 004: eBay buyers are consumers, and a differing ship-to becomes a new address record.
    create_customers: bool = Field(
        True,
        description=(
            "orders: make an ERP customer for a buyer whose e-mail matches none (seed 004: 'Create Customer'); "
            "off = the order waits for a person to pick the customer"
        ),
    )
    new_ship_to: Literal["warn", "add"] = Field(
        "add", description="orders: a ship-to not on file becomes a new address of the customer (add), or a warning"
    )
    orders_first_days: int = Field(
        30, ge=1, le=1095, description="orders: how far back the site's first read goes (later reads use the cursor)"
    )
    page_size: int = Field(100, ge=2, le=c.MAX_LIMIT, description="orders per getOrders page (eBay's limit: 200)")
