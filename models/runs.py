"""Work recorded as rows: one sync run per task run, the writeback outbox and its attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SyncRun(Base):
    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_site_task_started", "site_id", "task", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(60))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    celery_task_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(
        String(10), default="running"
    )  # running | ok | incomplete | failed | skipped | dead
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None]


# pending -> sent, or dead once it gave up (attempts exhausted, or the partner refused).
OUTBOX_STATES = ("pending", "sent", "dead")


class OutboxEntry(Base):
    """A change waiting to go to a partner, for one held order or one held return (exactly one).
    Unique per (record, status): queuing twice is a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("inbound_order_id", "status"),
        UniqueConstraint("inbound_return_id", "status"),
        CheckConstraint("(inbound_order_id IS NULL) <> (inbound_return_id IS NULL)", name="one_record"),
        Index("ix_outbox_state_next", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    inbound_order_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_order.id", ondelete="CASCADE"))
    inbound_return_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_return.id", ondelete="CASCADE"))
    # An order's: exported | shipped | paid | void, or customer_code (store the ERP code on the
    # partner's customer). A return's: one of connectors.base.RETURN_ACTIONS (process, flag, a note).
    status: Mapped[str] = mapped_column(String(16))
    # What the change needs beyond the order (customer_code: the partner customer id and the code).
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
    # pending | sent | dead (gave up) | held (the partner answered for another record: a person looks)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None]
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]
    # Set, and committed, before each attempt reaches the partner; cleared when its outcome is
    # known. Found set on a row that nobody is sending, it means "uncertain": the last attempt's
    # answer was lost or its worker died, so the partner may have applied the change already.
    sending_since: Mapped[datetime | None]


class WritebackAttempt(Base):
    """One row per delivery attempt of an outbox entry."""

    __tablename__ = "writeback_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ok: Mapped[bool | None]  # None: no outcome recorded (in flight, or the worker died meanwhile)
    error: Mapped[str | None]
    note: Mapped[str | None]  # e.g. "already applied on the partner: not sent again"
