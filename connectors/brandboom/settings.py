"""Settings only a Brandboom site has (the shared ones are connectors.settings.SiteSettings)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from connectors.brandboom import contract as c
from connectors.brandboom.client import DEFAULT_ORDER_PAGE
from connectors.settings import SiteSettings

# Values of a price_tiers entry that mean "this ERP price type is not sent to Brandboom".
NOT_SENT = ("", "none", "-", "null")
# Status writebacks in flight at once for one site (services/writeback.py): the default, and the most
# a site may ask for.
DEFAULT_WRITEBACK_CONCURRENCY = 4
MAX_WRITEBACK_CONCURRENCY = 16


class BrandboomSettings(SiteSettings):
    page_size: int = Field(
        DEFAULT_ORDER_PAGE,
        ge=2,
        le=c.MAX_PRODUCTS_PER_PAGE,
        description="orders per orders/search page (numResults; one of each page overlaps the page before)",
    )
    import_statuses: list[str] = Field(
        default_factory=lambda: [c.ORDER_STATUS_EXPORT], description="Brandboom order statuses to import"
    )
    brand_id: int | None = Field(None, description="Brandboom brandID sent with products/import (Account page)")
    showroom_id: int | None = Field(None, description="Brandboom showroomID sent with products/import")
    writeback_concurrency: int = Field(
        DEFAULT_WRITEBACK_CONCURRENCY,
        ge=1,
        le=MAX_WRITEBACK_CONCURRENCY,
        description=(
            "status writebacks sent at once, each on a connection of its own (Brandboom documents no rate "
            "limit; a few at a time is polite)"
        ),
    )
    # Catalog push (connectors/brandboom/catalog.py).
    price_tiers: dict[str, int | None] = Field(
        default_factory=dict,
        description=(
            "catalog push: ERP price type -> Brandboom priceTierID (WHL:1548,WHLE:1549); "
            "'none' leaves a price type out (MSRP:none)"
        ),
    )
    catalog_mode: Literal["split", "combine", "auto"] = Field(
        "auto",
        description=(
            "catalog push: products/import mode; split = one Brandboom product per colour, combine = one per "
            "style, auto = split only the styles whose colours carry different prices"
        ),
    )

    @field_validator("price_tiers", mode="before")
    @classmethod
    def _tier_ids(cls, raw: Any) -> Any:
        """Tier ids as typed (``"1548"``), 'none' for a price type not sent; each a positive id."""
        if not isinstance(raw, dict):
            return raw
        tiers: dict[str, int | None] = {}
        for code, value in raw.items():
            name = str(code).strip()
            if not name:
                raise ValueError("a price type code is empty")
            if value is None or (isinstance(value, str) and value.strip().lower() in NOT_SENT):
                tiers[name] = None
                continue
            try:
                tier = int(str(value).strip())
            except ValueError:
                raise ValueError(
                    f"{name}: {value!r} is not a Brandboom priceTierID (a number, or none to leave {name} out)"
                ) from None
            if tier < 1:
                raise ValueError(f"{name}: a priceTierID is a positive number, not {tier}")
            tiers[name] = tier
        return tiers
