"""eBay listing records: one per site (the seller's eBay account) and ERP SKU (seed 004: "an eBay
record per SKU ... with up to 12 images, listing format, duration, categories 1 and 2, an HTML
description and an 'update eBay' flag that puts the item in the next export").

A record is what the brand wants listed; the push (``services.ebay_listings``) sends the flagged
ones and writes back what eBay accepted (offer, listing, when) or why it refused the last try.
The flag is cleared only for what eBay accepted, so a refused or unsent record stays in the next
push. Refusals are also ``catalog_push_state`` rows of kind ``listing`` (key: the SKU): that is
where ``bobbin status``, the dashboard and the error e-mail read what a partner refused.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps

LISTING_FORMATS = ("FIXED_PRICE", "AUCTION")  # eBay's FormatTypeEnum, as the API names them
MAX_LISTING_IMAGES = 12  # seed 004's ERP: up to 12 pictures per record (the push checks it)


class EbayListing(Timestamps, Base):
    """One SKU's eBay listing on one site.

    ``image_urls``: the pictures in order (a JSON array of https URLs). ``needs_update``: the
    "update eBay" flag: set when the record is loaded or edited with new content, cleared by a push
    eBay accepted. ``offer_id`` / ``listing_id`` / ``group_key`` / ``published_at``: what eBay
    last accepted (the group: the style's inventory item group the SKU is listed in, as a
    variation). ``last_error``: eBay's refusal (errorId and message) or the check that kept the
    record back, with ``last_error_at``; NULL once accepted. ``warning``: what the last push changed
    on the way (a description whose script was removed)."""

    __tablename__ = "ebay_listing"
    __table_args__ = (
        UniqueConstraint("site_id", "sku"),
        Index("ix_ebay_listing_site_flagged", "site_id", postgresql_where=text("needs_update")),
        CheckConstraint(f"listing_format IN ({', '.join(repr(f) for f in LISTING_FORMATS)})", name="listing_format"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(ForeignKey("sku.sku", ondelete="CASCADE"), index=True)
    listing_format: Mapped[str] = mapped_column(String(12), default="FIXED_PRICE")
    duration: Mapped[str] = mapped_column(String(10), default="GTC")
    category1: Mapped[str | None] = mapped_column(String(20))
    category2: Mapped[str | None] = mapped_column(String(20))
    condition: Mapped[str] = mapped_column(String(30), default="NEW")
    title: Mapped[str | None] = mapped_column(Text)
    description_html: Mapped[str | None] = mapped_column(Text)
    image_urls: Mapped[list[Any]] = mapped_column(default=list)
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    needs_update: Mapped[bool] = mapped_column(default=True)
    offer_id: Mapped[str | None] = mapped_column(String(40))
    listing_id: Mapped[str | None] = mapped_column(String(40))
    group_key: Mapped[str | None] = mapped_column(String(50))
    published_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    warning: Mapped[str | None] = mapped_column(Text)
