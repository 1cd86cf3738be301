"""The operator console's people and what they did: accounts with a role, and one row per change.

Accounts are never deleted (``active`` false disables one), so every recorded action keeps naming
who made it. An action names the order and the site it concerned when it concerned one, so an
order's history can show who did what to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# Each role may do what the ones before it may: viewer (look) < operator (fix, import, mark) < admin
# (sites, credentials, users).
CONSOLE_ROLES = ("viewer", "operator", "admin")


class ConsoleUser(Base):
    """A person who may sign in to the console. ``password_hash`` is an argon2id hash (PHC string)."""

    __tablename__ = "console_user"
    __table_args__ = (CheckConstraint(f"role IN ({', '.join(repr(r) for r in CONSOLE_ROLES)})", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_login_at: Mapped[datetime | None]


class ConsoleAction(Base):
    """One change made through the console (or to its accounts from the CLI): who, when, what.

    ``user_id`` is NULL for a change made outside the console (the ``bobbin users`` commands);
    ``actor`` always says who in words (the username, or ``cli:<system user>``). ``detail`` holds
    what the change needs to be read later (a task id, the old and new role, the fix's values)."""

    __tablename__ = "console_action"
    __table_args__ = (
        Index("ix_console_action_order_at", "order_id", "at"),
        Index("ix_console_action_site_action_at", "site_id", "action", "at"),
        Index("ix_console_action_at", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("console_user.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_order.id", ondelete="SET NULL"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
