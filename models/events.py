"""Events partners push to Bobbin (webhooks), one row per site and partner event id, as received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# received -> processed (a handler applied it) | ignored (no handler for its topic; the note says so)
#          | failed (its handler raised; the note has the error). malformed: signed, but not an event
# this partner sends (the note says why); its raw body is kept for a person and nothing is run.
EVENT_STATES = ("received", "processed", "ignored", "failed", "malformed")


class InboundEvent(Base):
    """One event as a partner pushed it. ``(site_id, event_id)`` is unique, so a partner sending the
    same event again (its retries, a replay) is stored once and processed once."""

    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("site_id", "event_id"),
        CheckConstraint(f"state IN ({', '.join(repr(s) for s in EVENT_STATES)})", name="state"),
        Index("ix_inbound_event_state_received", "state", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    # The partner's own id of the event; for a malformed body, "malformed-<sha256 of the body>".
    event_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(10), default="received")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))  # NULL when malformed
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the raw body, byte for byte as received
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]
    note: Mapped[str | None]  # for a person: why ignored, why malformed, the error of a failed run
