"""Console accounts: ``bobbin users …`` and ``services.users`` on the test Postgres.

Passwords are hashed with argon2 (never stored as typed), checked in constant time, and every
change is recorded with who made it. Written given / when / then.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bobbin.cli.main import app

pytestmark = pytest.mark.integration


def cli(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=input, env={"COLUMNS": "200"})


def stored(username: str) -> Any:
    from core.db import session_scope
    from models import ConsoleUser

    with session_scope() as s:
        return s.scalar(select(ConsoleUser).where(ConsoleUser.username == username))


def recorded() -> list[tuple[str, str, dict[str, Any]]]:
    from core.db import session_scope
    from models import ConsoleAction

    with session_scope() as s:
        return [(a.actor, a.action, a.detail) for a in s.scalars(select(ConsoleAction).order_by(ConsoleAction.id))]


def test_users_add_asks_the_password_twice_and_keeps_only_its_argon2_hash(db: str) -> None:
    # When an admin is added with a password typed twice
    result = cli("users", "add", "Ada", "--role", "admin", input="a long passphrase\na long passphrase\n")
    # then it is added (the name in lower case), hashed with argon2id
    assert result.exit_code == 0, result.output
    assert "Added ada (admin)." in result.output
    row = stored("ada")
    assert row.role == "admin" and row.active
    assert row.password_hash.startswith("$argon2id$") and "a long passphrase" not in row.password_hash
    # and the change is recorded with the system user who made it
    [(actor, action, detail)] = recorded()
    assert actor.startswith("cli") and action == "user_added" and detail == {"username": "ada", "role": "admin"}


def test_users_add_refuses_mismatch_short_password_taken_name_and_bad_role(db: str) -> None:
    mismatch = cli(
        "users", "add", "ada", input="a long passphrase\nanother one here\na long passphrase\na long passphrase\n"
    )
    assert mismatch.exit_code == 0 and "Error: The two entered values do not match." in mismatch.output
    short = cli("users", "add", "bob", input="short\nshort\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    taken = cli("users", "add", "ADA", "--generate")
    assert taken.exit_code == 1 and "a console account named 'ada' already exists" in taken.output
    role = cli("users", "add", "carl", "--role", "boss", "--generate")
    assert role.exit_code == 2 and "boss" in role.output
    name = cli("users", "add", "no spaces please", "--generate")
    assert name.exit_code == 1 and "is not a usable name" in name.output
    assert stored("bob") is None and stored("carl") is None


def test_generated_password_is_printed_once_and_works(db: str) -> None:
    from core.db import session_scope
    from services.users import authenticate

    result = cli("users", "add", "olivia", "--role", "operator", "--generate")
    assert result.exit_code == 0, result.output
    password = re.search(r"Password for olivia: (\S+)", result.output)
    assert password, result.output
    with session_scope() as s:
        user = authenticate(s, "olivia", password.group(1))
        assert user is not None and user.role == "operator" and user.last_login_at is not None
        assert authenticate(s, "olivia", password.group(1) + "x") is None
        assert authenticate(s, "nobody", password.group(1)) is None


def test_list_set_role_set_password_disable_enable(db: str) -> None:
    from core.db import session_scope
    from services.users import authenticate

    cli("users", "add", "olivia", "--role", "operator", "--generate")
    cli("users", "add", "victor", "--generate")  # viewer by default
    # list, as a table and as JSON
    table = cli("users", "list")
    assert table.exit_code == 0 and "olivia" in table.output and "viewer" in table.output
    listed = json.loads(cli("users", "list", "--json").output)["users"]
    assert [(u["username"], u["role"], u["active"]) for u in listed] == [
        ("olivia", "operator", True),
        ("victor", "viewer", True),
    ]
    # set-role
    assert cli("users", "set-role", "victor", "operator").exit_code == 0
    assert stored("victor").role == "operator"
    unknown = cli("users", "set-role", "nobody", "admin")
    assert unknown.exit_code == 1 and "no console account named 'nobody'; accounts: olivia, victor" in unknown.output
    # set-password
    assert cli("users", "set-password", "olivia", input="brand new password\nbrand new password\n").exit_code == 0
    # disable: it can no longer sign in, even with the right password; enable brings it back
    assert cli("users", "disable", "olivia").exit_code == 0
    with session_scope() as s:
        assert authenticate(s, "olivia", "brand new password") is None
    assert cli("users", "enable", "olivia").exit_code == 0
    with session_scope() as s:
        assert authenticate(s, "olivia", "brand new password") is not None
    assert [action for _, action, _ in recorded()] == [
        "user_added",
        "user_added",
        "user_role_set",
        "user_password_set",
        "user_disabled",
        "user_enabled",
    ]
    assert recorded()[2][2] == {"username": "victor", "from": "viewer", "to": "operator"}


def test_first_admin_is_made_once(db: str) -> None:
    from core.db import session_scope
    from services.users import authenticate, ensure_first_admin

    with session_scope() as s:
        first = ensure_first_admin(s, actor="bobbin run")
    assert first is not None and first[0] == "admin" and len(first[1]) >= 20
    with session_scope() as s:
        assert ensure_first_admin(s, actor="bobbin run") is None
        user = authenticate(s, *first)
        assert user is not None and user.role == "admin"


def test_roles_are_ordered() -> None:
    from services.users import AccountError, allows

    assert allows("admin", "operator") and allows("operator", "operator") and allows("operator", "viewer")
    assert not allows("viewer", "operator") and not allows("operator", "admin")
    assert not allows("someone", "viewer")
    with pytest.raises(AccountError):
        allows("admin", "boss")
