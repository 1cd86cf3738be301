"""Catalog and customer push: what each partner holds of the ERP's catalog and customers, as far
as Bobbin knows, and every style it removed there.

One ``catalog_push_state`` row per site and item (``kind``: style, image, linesheet, customer, listing;
``key``: the style number, the image's key, the linesheet's name, the customer code, the SKU of an
eBay listing — ``services.ebay_listings``). A row is
written right after the partner answered for the item, one batch at a time, so an interrupted push
resumes: the next push sends only what is not recorded accepted with the content it has now.
Rejected rows are the problems a person sees (``bobbin status``, the dashboard, the error e-mail).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

CATALOG_ITEM_KINDS = ("style", "image", "linesheet", "customer", "listing")  # listing: an eBay SKU
CATALOG_OUTCOMES = ("accepted", "rejected", "awaiting", "removed")
REMOVAL_ACTIONS = ("remove", "deactivate")


class CatalogPushState(Base):
    """One item as the partner last answered for it.

    ``accepted_hash`` is the content hash (sha256 of the item's stable JSON) of what the partner
    last accepted: an incremental push sends the item again only when its hash now differs, or when
    the partner has not accepted it (no row, ``outcome`` NULL, rejected or removed). ``sent_hash``
    is the hash of what the last answer (or a check that kept it back) was about, so an awaiting
    item is not sent again while it still holds the same content. ``outcome`` NULL: matched to a
    product already on the partner (``partner_id``, ``matched_by``) but not answered for yet.
    ``ticket``: the partner's job an awaiting item is in (polled). ``reported_at``: when the error
    e-mail reported a rejection (NULL: not yet); a rejection that follows another outcome is
    reported again. ``run_id``: the sync run that wrote the row (no foreign key: pruning old runs
    must not touch the state)."""

    __tablename__ = "catalog_push_state"
    __table_args__ = (
        UniqueConstraint("site_id", "kind", "key"),
        Index("ix_catalog_push_state_site_outcome", "site_id", "outcome"),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in CATALOG_ITEM_KINDS)})", name="kind"),
        CheckConstraint(f"outcome IN ({', '.join(repr(o) for o in CATALOG_OUTCOMES)})", name="outcome"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(300))
    label: Mapped[str | None] = mapped_column(Text)  # what a person reads beside the key
    outcome: Mapped[str | None] = mapped_column(String(10))
    accepted_hash: Mapped[str | None] = mapped_column(String(64))
    sent_hash: Mapped[str | None] = mapped_column(String(64))
    partner_id: Mapped[str | None] = mapped_column(String(200))
    matched_by: Mapped[str | None] = mapped_column(String(20))  # style number | upc | mapping
    message: Mapped[str | None] = mapped_column(Text)
    ticket: Mapped[str | None] = mapped_column(String(200))
    run_id: Mapped[int | None]
    sent_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CatalogRemoval(Base):
    """A style made inactive in the ERP that a push removed or deactivated on the partner (or
    tried to: ``outcome`` rejected, with the partner's message), with what it was (``snapshot``:
    its description, colours and SKUs as the ERP had them). Never deleted by Bobbin."""

    __tablename__ = "catalog_removal"
    __table_args__ = (
        Index("ix_catalog_removal_site_created", "site_id", "created_at"),
        CheckConstraint(f"action IN ({', '.join(repr(a) for a in REMOVAL_ACTIONS)})", name="action"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id", ondelete="SET NULL"))
    style_number: Mapped[str] = mapped_column(String(30))
    partner_id: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(10))
    message: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
