"""Settings only a Brandboom site has (the shared ones are connectors.settings.SiteSettings)."""

from __future__ import annotations

from pydantic import Field

from connectors.brandboom import contract as c
from connectors.settings import SiteSettings


class BrandboomSettings(SiteSettings):
    import_statuses: list[str] = Field(
        default_factory=lambda: [c.ORDER_STATUS_EXPORT], description="Brandboom order statuses to import"
    )
    brand_id: int | None = Field(None, description="Brandboom brandID sent with products/import (Account page)")
    showroom_id: int | None = Field(None, description="Brandboom showroomID sent with products/import")
