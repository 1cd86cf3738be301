"""Inventory push: what each partner last accepted, and the batches it rejected (SPEC: inventory
push state, "so a push sends only what changed").

A state row is written only after the partner accepted the row that carried it, one batch at a
time, so the table is always a true picture of the partner's numbers as far as Bobbin knows —
which is what lets a normal push send only the difference and an interrupted push resume without
sending again what already got through.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# The two buckets of a SKU's stock: on hand now, and future (WIP) stock with the date it arrives.
PUSH_BUCKETS = ("immediate", "future")


class InventoryPushState(Base):
    """The quantity a partner accepted for one (site, SKU, partner warehouse, bucket, date).

    ``warehouse`` is the *partner's* warehouse name ('' = the partner's default warehouse), since
    that is what the partner holds: several ERP warehouses may add up into one of them.
    ``available_on`` is the future bucket's WIP date and is NULL for immediate stock, so a WIP date
    that moves is a new row (JOOR keeps each date as its own bucket). ``run_id`` is the sync run
    that sent it (no foreign key: pruning old runs must not touch the state).

    ``sku`` has no foreign key on purpose: a SKU deleted from the ERP keeps its row, so the next
    push sends it as 0 instead of leaving the partner showing stock nobody has. Without the key
    (and its index) a full push of 100k SKUs writes its state about twice as fast. Fill factor 80
    leaves room in each page, so re-sending a row updates it in place (a HOT update, no index
    write)."""

    __tablename__ = "inventory_push_state"
    __table_args__ = (
        Index(
            "uq_inventory_push_state_key",
            "site_id",
            "sku",
            "warehouse",
            "bucket",
            "available_on",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("(bucket = 'immediate') = (available_on IS NULL)", name="bucket_date"),
        {"postgresql_with": {"fillfactor": 80}},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(20))
    warehouse: Mapped[str] = mapped_column(String(100), default="")
    bucket: Mapped[str] = mapped_column(String(10))  # immediate | future
    available_on: Mapped[date | None]
    quantity: Mapped[int]
    run_id: Mapped[int | None]
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())


class InventoryPushRejection(Base):
    """A batch the partner refused: its message and the rows it held, exactly as sent.

    The rows' state is not written, so the next push sends them again; this row is for the person
    who must find out why (a SKU the partner does not know, a value it will not take)."""

    __tablename__ = "inventory_push_rejection"
    __table_args__ = (Index("ix_inventory_push_rejection_site_created", "site_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id", ondelete="SET NULL"))
    batch_no: Mapped[int]
    message: Mapped[str]
    row_count: Mapped[int]
    rows: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
