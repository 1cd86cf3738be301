"""Settings only a JOOR site has (the shared ones are connectors.settings.SiteSettings)."""

from __future__ import annotations

from typing import Literal

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
    # Catalog push (connectors/joor/catalog.py).
    account_id: str | None = Field(
        None,
        description="catalog push: the JOOR account id sent as ?account= on the v4 calls (unset: the token's account)",
    )
    price_types_joor: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "catalog push: ERP price type -> JOOR price type id, where matching by name and currency "
            "(GET price types) does not find it, e.g. WHL:<id>"
        ),
    )
    image_level: Literal["style", "style_color"] = Field(
        "style_color",
        description=(
            "catalog push: images at style level, or at style-colour level (each colour's first image, also its swatch)"
        ),
    )
    delivery_overwrite: int = Field(
        c.DELIVERY_OVERWRITE_API,
        description=(
            "catalog push, linesheets: JOOR's delivery_overwrite for each style's linesheet list; 2 (JOOR "
            "replaces only API-made linesheets, hand-made ones keep the style), 1 (JOOR replaces all), or 3 "
            "(add only; a style taken off a linesheet is removed from it alone)"
        ),
    )
    split_by_color: bool = Field(
        False, description="catalog push: one JOOR product per style and colour (style identifier STYLE-COLOUR)"
    )

    @field_validator("delivery_overwrite")
    @classmethod
    def _overwrite_mode(cls, v: int) -> int:
        if v == c.DELIVERY_REMOVE:
            raise ValueError(
                "4 (remove) would take every style off the linesheets it sends; choose 1 (replace all), "
                "2 (replace API-made, keep hand-made) or 3 (add only)"
            )
        if v not in c.DELIVERY_OVERWRITE_MODES:
            raise ValueError("must be 1 (replace all), 2 (replace API-made, keep hand-made) or 3 (add only)")
        return v

    @field_validator("order_types")
    @classmethod
    def _known_types(cls, v: list[int]) -> list[int]:
        unknown = [t for t in v if t not in c.ORDER_TYPES]
        if unknown or not v:
            raise ValueError(f"must be among {sorted(c.ORDER_TYPES)}, got {v}")
        return v
