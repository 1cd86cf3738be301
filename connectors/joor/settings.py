"""Settings only a JOOR site has (the shared ones are connectors.settings.SiteSettings)."""

from __future__ import annotations

from pydantic import Field, field_validator

from connectors.joor import contract as c
from connectors.settings import SiteSettings


class JoorSettings(SiteSettings):
    order_types: list[int] = Field(
        default_factory=lambda: [c.ORDER_TYPE_APPROVED],
        description="JOOR order types to import (6 approved, 7 shipped)",
    )
    credits: int = Field(
        c.CREDITS_PER_WINDOW,
        ge=5,
        description="API credits the account is granted per window (JOOR's default 300; some accounts are granted more)",
    )
    credit_window_seconds: int = Field(
        int(c.WINDOW_SECONDS), ge=1, description="length of the credit window in seconds"
    )
    inventory_dec_pending: bool = Field(
        False, description="inventory push: dec_pending=1, JOOR subtracts its pending orders from what is sent"
    )

    @field_validator("order_types")
    @classmethod
    def _known_types(cls, v: list[int]) -> list[int]:
        unknown = [t for t in v if t not in c.ORDER_TYPES]
        if unknown or not v:
            raise ValueError(f"must be among {sorted(c.ORDER_TYPES)}, got {v}")
        return v
