"""``bobbin users``: who may sign in to the operator console, and with which role.

Roles: viewer (looks), operator (fixes, imports, marks orders), admin (also sites, credentials and
accounts). Passwords are typed twice at a hidden prompt, or generated (``--generate``) and shown
once; only their argon2 hash is kept. Every change is recorded with the system user who ran it.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bobbin.cli.output import DASH, console, ensure_database, fail, fmt_time, new_table, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from services.users import User

app = typer.Typer(
    no_args_is_help=True,
    help="Console accounts: add one, list them, change a role or a password, disable one.",
)


class Role(str, Enum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
NameArg = Annotated[str, typer.Argument(help="The account's name (what the person types to sign in).")]
GenerateOpt = Annotated[
    bool, typer.Option("--generate", help="Generate a password and print it once, instead of asking for one.")
]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment (a bare container)
        return "cli"


@contextmanager
def _accounts() -> Iterator[Session]:
    """A session for account changes; an AccountError becomes the one-line error."""
    from core.db import session_scope
    from services.users import AccountError

    ensure_database()
    try:
        with session_scope() as s:
            yield s
    except AccountError as exc:
        fail(str(exc))


def _password(generate: bool, check: Callable[[str], None]) -> tuple[str, bool]:
    """(password, generated): generated, or typed twice at a hidden prompt."""
    from services.users import AccountError, generate_password

    if generate:
        return generate_password(), True
    try:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    except typer.Abort:
        fail("no password given: type it (twice) at the prompt, or use --generate")
    try:
        check(password)
    except AccountError as exc:
        fail(str(exc))
    return password, False


def _show_generated(name: str, password: str) -> None:
    console().print(f"Password for [bold]{name}[/bold]: [bold]{password}[/bold]  (shown once: pass it on now)")


def add(
    name: NameArg,
    role: Annotated[Role, typer.Option("--role", help="viewer, operator or admin.")] = Role.viewer,
    generate: GenerateOpt = False,
) -> None:
    """Add a console account (the password is asked twice, hidden; or --generate)."""
    from services.users import add_user, check_new_username, check_password

    with _accounts() as s:
        name = check_new_username(s, name)  # before asking for a password
        password, generated = _password(generate, check_password)
        user = add_user(s, name, password, role.value, actor=_actor())
    console().print(f"[green]Added[/green] {user.username} ({user.role}).")
    if generated:
        _show_generated(user.username, password)


def _record(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "role": u.role,
        "active": u.active,
        "created_at": u.created_at,
        "last_login_at": u.last_login_at,
    }


def list_users(as_json: JsonOpt = False) -> None:
    """Every console account: role, active, created, last sign-in."""
    from services.users import list_users as read

    with _accounts() as s:
        records = [_record(u) for u in read(s)]
    if as_json:
        print_json({"users": records})
        return
    if not records:
        console().print("No console accounts yet. Add one with [bold]bobbin users add NAME --role admin[/bold].")
        return
    table = new_table("Name", "Role", "Active", "Created", "Last sign-in")
    for r in records:
        table.add_row(
            r["username"],
            r["role"],
            "yes" if r["active"] else "[yellow]disabled[/yellow]",
            fmt_time(r["created_at"]),
            fmt_time(r["last_login_at"]) if r["last_login_at"] else DASH,
        )
    console().print(table)


def set_role(name: NameArg, role: Annotated[Role, typer.Argument(help="viewer, operator or admin.")]) -> None:
    """Change an account's role (its open sessions have the new role at their next page)."""
    from services.users import set_role as change

    with _accounts() as s:
        user = change(s, name, role.value, actor=_actor())
    console().print(f"{user.username} is now {user.role}.")


def set_password(name: NameArg, generate: GenerateOpt = False) -> None:
    """Set a new password for an account (asked twice, hidden; or --generate)."""
    from services.users import check_password
    from services.users import set_password as change

    with _accounts() as s:
        password, generated = _password(generate, check_password)
        user = change(s, name, password, actor=_actor())
    console().print(f"Password of {user.username} changed.")
    if generated:
        _show_generated(user.username, password)


def disable(name: NameArg) -> None:
    """Disable an account: it cannot sign in, and its open sessions end at their next request."""
    from services.users import disable_user

    with _accounts() as s:
        user = disable_user(s, name, actor=_actor())
    console().print(f"{user.username} is disabled (enable it again with bobbin users enable {user.username}).")


def enable(name: NameArg) -> None:
    """Enable a disabled account again."""
    from services.users import enable_user

    with _accounts() as s:
        user = enable_user(s, name, actor=_actor())
    console().print(f"{user.username} is enabled ({user.role}).")


app.command("add")(add)
app.command("list")(list_users)
app.command("set-role")(set_role)
app.command("set-password")(set_password)
app.command("disable")(disable)
app.command("enable")(enable)
