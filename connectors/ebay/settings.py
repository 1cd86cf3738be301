"""Settings only an eBay site has (the shared ones are connectors.settings.SiteSettings).

An offer needs a marketplace, the language its texts are written in, the seller's inventory
location and the seller's business policies (shipping, payment, returns) [DOC createOffer /
publishOffer: refused without them]; the ids are made in the seller's eBay account."""

from __future__ import annotations

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
    create_customers: bool = Field(
        False,
        description=(
            "orders: make an ERP customer for a buyer whose e-mail matches none (seed 004: 'Create Customer'); "
            "off = the order waits for a person to pick the customer"
        ),
    )
