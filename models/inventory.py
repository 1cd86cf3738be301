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

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, func, text
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


# --- what changed since a push (services.inventory: "Only what changed") ---------------------------

# A transaction's id as a plain number (64 bits, never wraps): the journal's and the marks' unit.
CURRENT_XID = "pg_current_xact_id()::text::bigint"


class InventoryPushChange(Base):
    """A SKU whose push inputs changed: written by triggers on ``inventory``, ``sku`` and ``style``
    (migration ``inventory_push_changes``) in the transaction that changed them, and by a push for
    the SKUs it must look at again (open-order holdings that moved, rows a partner did not take).

    ``sku`` NULL means every SKU (a TRUNCATE). ``txid`` is the writing transaction's id: a push
    reads the rows at or after its site's mark (``InventoryPushMark.since``), so a change committed
    while a push runs is read by the next one. Rows no mark can need any more are deleted by each
    push and by the reconciler (``services.inventory.prune_changes``)."""

    __tablename__ = "inventory_push_change"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sku: Mapped[str | None] = mapped_column(String(20))
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text(CURRENT_XID), index=True)


class InventoryPushMark(Base):
    """Per site, where its next normal push may start from instead of working out every SKU.

    ``since``: the oldest transaction id that was still running when the last complete push read
    the ERP; the next push works out only the SKUs journaled at or after it (NULL: every SKU).
    ``basis``: the site's push settings that push worked with (a change of them means every SKU
    again). ``armed_after``: the journal is only written while a mark exists, so a transaction that
    wrote before the mark did may have journaled nothing; ``since`` is set only by a push whose
    reads began after every such transaction ended (NULL until the mark is in place)."""

    __tablename__ = "inventory_push_mark"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[int | None] = mapped_column(BigInteger)
    armed_after: Mapped[int | None] = mapped_column(BigInteger)
    basis: Mapped[str | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class InventoryPushHeld(Base):
    """What open orders held per (SKU, ERP warehouse) when the site's last push worked it out
    (``warehouse`` NULL: quantities naming no warehouse). Holdings change with orders of every
    site, so a push compares them with these instead of journaling every order line."""

    __tablename__ = "inventory_push_held"
    __table_args__ = (
        Index(
            "uq_inventory_push_held_key",
            "site_id",
            "sku",
            "warehouse",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(20))
    warehouse: Mapped[str | None]
    quantity: Mapped[int]
