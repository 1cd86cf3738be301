"""Settings only a Loop site has (the shared ones are connectors.settings.SiteSettings).

A Loop site's ``default_warehouse`` is where returned goods are restocked (the RMA's warehouse)."""

from __future__ import annotations

from pydantic import Field

from connectors.loop import contract as c
from connectors.settings import SiteSettings


class LoopSettings(SiteSettings):
    shopify_customer: str | None = Field(
        None,
        description=(
            "returns: the ERP customer code of the Shopify customer account, where a return goes whose "
            "order and e-mail match no ERP customer (seed 003: the AR debit offsets its unapplied credit)"
        ),
    )
    returns_first_days: int = Field(
        30,
        ge=1,
        le=c.MAX_RANGE_DAYS * 12,
        description="returns: how many days back the first poll of a new site reads Loop's list (by updated_at)",
    )
    requests_per_minute: int = Field(
        c.RATE_LIMIT_REQUESTS,
        ge=1,
        le=c.RATE_LIMIT_REQUESTS,
        description="Loop requests a minute this site's key may spend (Loop allows 300 per key)",
    )
