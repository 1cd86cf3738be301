"""Sites (one partner account each) and the per-site mappings between partner values and ERP codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps

# What a mapping row can translate (SPEC: mappings per site).
MAPPING_KINDS = ("customer", "terms", "ship_via", "sales_rep", "warehouse", "style")


class Site(Timestamps, Base):
    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # a partner kind of connectors.registry
    base_url: Mapped[str]
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    # Fernet token of the JSON credentials (core.crypto). Never decrypted outside a connector factory.
    credentials_encrypted: Mapped[str]
    # Import statuses, schedule, default warehouse, price types, ... (its partner's settings model, connectors.registry).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notify_emails: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)


class Mapping(Base):
    """Partner value -> ERP code, per site and kind (e.g. terms "Net 30" -> "N30").

    ``how`` says how it was made: "manual", "created" (customer created from an order), or an
    automatic rule ("auto:code", "auto:email", ...), so a person can see why an order mapped."""

    __tablename__ = "mapping"
    __table_args__ = (UniqueConstraint("site_id", "kind", "partner_value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    partner_value: Mapped[str]
    erp_code: Mapped[str]
    how: Mapped[str] = mapped_column(String(30), default="manual")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
