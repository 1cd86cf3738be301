"""The operator console's accounts and the record of every change made through it.

- Accounts: ``add_user``, ``list_users``, ``set_role``, ``set_password``, ``disable_user``,
  ``enable_user``; passwords hashed with argon2id (``argon2-cffi``), never stored or logged.
- ``authenticate`` checks a password in constant time: an unknown or disabled account costs the
  same argon2 verification as a known one, so the answer's timing does not tell which names exist.
- Roles are ordered: viewer (looks) < operator (fixes, imports, marks) < admin (sites, credentials,
  accounts); ``allows(role, needed)`` says whether a role may do what needs ``needed``.
- ``record_action`` writes one ``console_action`` row: who, what, the order and site it concerned.
  Every change the console makes goes through it, and the account commands record theirs too.

Errors a person must fix (a taken name, a short password, an unknown role) are ``AccountError``,
one line each.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ConsoleAction, ConsoleUser
from models.console import CONSOLE_ROLES

ROLES = CONSOLE_ROLES
MIN_PASSWORD = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
# Verified against when the account does not exist, so that case costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(Exception):
    """A console account cannot be made or changed as asked (shown as one line)."""


@dataclass(frozen=True)
class User:
    """A console account as the rest of Bobbin sees it: no password hash."""

    id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    def allows(self, needed: str) -> bool:
        return self.active and allows(self.role, needed)

    @classmethod
    def of(cls, row: ConsoleUser) -> User:
        return cls(row.id, row.username, row.role, row.active, row.created_at, row.last_login_at)


def allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what needs ``needed`` (viewer < operator < admin)."""
    check_role(needed)
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"{role!r} is not a role: use {', '.join(ROLES)}")
    return role


def normalize_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise AccountError(
            f"{username!r} is not a usable name: 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters long")
    if password.strip() != password:
        raise AccountError("the password must not start or end with a space")


def generate_password() -> str:
    """A password to hand to a person once: 20 URL-safe characters (120 bits)."""
    return secrets.token_urlsafe(15)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _get(session: Session, username: str) -> ConsoleUser:
    row = session.scalar(select(ConsoleUser).where(ConsoleUser.username == normalize_username(username)))
    if row is None:
        names = session.scalars(select(ConsoleUser.username).order_by(ConsoleUser.username)).all()
        known = f"; accounts: {', '.join(names)}" if names else "; there are no accounts yet (bobbin users add NAME)"
        raise AccountError(f"no console account named {username!r}{known}")
    return row


def get_user(session: Session, user_id: int) -> User | None:
    row = session.get(ConsoleUser, user_id)
    return None if row is None else User.of(row)


def existing_username(session: Session, username: str) -> str | None:
    """The account's name if an account has this name (any case), else None."""
    try:
        name = normalize_username(username)
    except AccountError:
        return None
    return session.scalar(select(ConsoleUser.username).where(ConsoleUser.username == name))


def any_users(session: Session) -> bool:
    return session.scalar(select(ConsoleUser.id).limit(1)) is not None


def check_new_username(session: Session, username: str) -> str:
    """The name normalized (lower case), if it is usable and no account has it yet."""
    name = normalize_username(username)
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == name)):
        raise AccountError(f"a console account named {name!r} already exists")
    return name


def add_user(session: Session, username: str, password: str, role: str, *, actor: str) -> User:
    """A new active account (AccountError when the name is taken or unusable, the role unknown or
    the password too short); recorded as an action of ``actor``."""
    name = check_new_username(session, username)
    check_role(role)
    check_password(password)
    row = ConsoleUser(username=name, password_hash=hash_password(password), role=role, active=True)
    session.add(row)
    session.flush()
    session.refresh(row)
    record_action(session, None, "user_added", actor=actor, detail={"username": name, "role": role})
    return User.of(row)


def list_users(session: Session) -> list[User]:
    return [User.of(r) for r in session.scalars(select(ConsoleUser).order_by(ConsoleUser.username))]


def set_role(session: Session, username: str, role: str, *, actor: str, by: User | None = None) -> User:
    row = _get(session, username)
    check_role(role)
    old = row.role
    row.role = role
    session.flush()
    record_action(session, by, "user_role_set", actor=actor, detail={"username": row.username, "from": old, "to": role})
    return User.of(row)


def set_password(session: Session, username: str, password: str, *, actor: str, by: User | None = None) -> User:
    row = _get(session, username)
    check_password(password)
    row.password_hash = hash_password(password)
    session.flush()
    record_action(session, by, "user_password_set", actor=actor, detail={"username": row.username})
    return User.of(row)


def disable_user(session: Session, username: str, *, actor: str, by: User | None = None) -> User:
    """The account can no longer sign in, and its open sessions end at their next request."""
    row = _get(session, username)
    row.active = False
    session.flush()
    record_action(session, by, "user_disabled", actor=actor, detail={"username": row.username})
    return User.of(row)


def enable_user(session: Session, username: str, *, actor: str, by: User | None = None) -> User:
    row = _get(session, username)
    row.active = True
    session.flush()
    record_action(session, by, "user_enabled", actor=actor, detail={"username": row.username})
    return User.of(row)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active account with this name and password, else None — in the same time either way
    (one argon2 verification). Rehashes a hash made with older parameters, and notes the login."""
    try:
        name = normalize_username(username)
    except AccountError:
        name = None
    row = None if name is None else session.scalar(select(ConsoleUser).where(ConsoleUser.username == name))
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
        matched = row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        matched = False
    if not matched or row is None or not row.active:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
    row.last_login_at = datetime.now(UTC)
    session.flush()
    return User.of(row)


def record_action(
    session: Session,
    user: User | None,
    action: str,
    *,
    actor: str | None = None,
    order_id: int | None = None,
    site_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Record one change: by ``user`` (a console account), or by ``actor`` in words when no
    account made it (e.g. ``cli:root``). Returns the action's id. Written in the caller's
    transaction, so the record stands or falls with the change."""
    if user is None and not actor:
        raise ValueError("an action needs a user or an actor")
    row = ConsoleAction(
        user_id=None if user is None else user.id,
        actor=actor or (user.username if user else ""),
        action=action,
        order_id=order_id,
        site_id=site_id,
        detail=dict(detail or {}),
    )
    session.add(row)
    session.flush()
    return row.id


def latest_action(session: Session, action: str, site_id: int) -> ConsoleAction | None:
    """The newest action of this kind on a site (e.g. the last "import now" someone asked for)."""
    return session.scalars(
        select(ConsoleAction)
        .where(ConsoleAction.site_id == site_id, ConsoleAction.action == action)
        .order_by(ConsoleAction.at.desc(), ConsoleAction.id.desc())
        .limit(1)
    ).first()


def actions_count(session: Session, action: str | None = None) -> int:
    query = select(func.count()).select_from(ConsoleAction)
    if action is not None:
        query = query.where(ConsoleAction.action == action)
    return int(session.scalar(query) or 0)


FIRST_ADMIN = "admin"


def ensure_first_admin(session: Session, *, actor: str) -> tuple[str, str] | None:
    """On a Bobbin with no console account at all, make the admin ``admin`` with a generated
    password and return (name, password) to show once; else None (nothing is changed)."""
    if any_users(session):
        return None
    password = generate_password()
    add_user(session, FIRST_ADMIN, password, "admin", actor=actor)
    return FIRST_ADMIN, password
