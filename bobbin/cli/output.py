"""What every command shares: consoles, tables, ``--json`` output, and the one-line error.

Commands print with :func:`console` (stdout) and report failures with :func:`fail` (one red line on
stderr, exit 1). :class:`BobbinGroup` is the root command group: it turns the errors the services
raise for a person to fix (SiteError, FixError, MarkError, LoadError, bad settings, credentials
that cannot be decrypted, a database that cannot be reached) into that one line, so no expected
error ever shows a traceback. Anything else is a bug and keeps its traceback (without locals:
they may hold secrets).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

try:  # typer >= 0.20 carries its own copy of click: its exceptions are the ones it catches
    from typer._click.exceptions import UsageError as UsageError
except ImportError:  # pragma: no cover - older typer on the real click
    from click import UsageError as UsageError  # type: ignore[assignment]

# How each order state looks in a table (SPEC views: invalid, valid, duplicated, imported).
STATE_STYLES = {
    "downloaded": "cyan",
    "valid": "green",
    "invalid": "red",
    "duplicate": "yellow",
    "imported": "dim",
    "rejected": "dim magenta",
}
# Outbox rows: sent, pending (maybe retrying), dead (gave up).
OUTBOX_STYLES = {"sent": "green", "pending": "yellow", "dead": "bold red", "held": "bold magenta"}
DASH = "—"


class UserError(Exception):
    """A mistake in what the person asked for, found by the CLI itself (shown as one line, exit 1).
    A wrong combination of options is a ``UsageError`` instead (exit 2, with the usage line)."""


# --- consoles ------------------------------------------------------------------------------------


def console() -> Console:
    """stdout; made per use so a changed terminal width or a test runner's stream is honoured."""
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    err_console().print(f"[bold red]Error:[/bold red] {escape(message)}", soft_wrap=True)


def warn(message: str) -> None:
    err_console().print(f"[yellow]Warning:[/yellow] {escape(message)}", soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``Error: message`` on stderr and leave with ``code`` (1: the person must fix something)."""
    print_error(message)
    raise typer.Exit(code)


# --- JSON ----------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Dates and times as ISO 8601, money as a string (exact), everything else as JSON has it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    return value


def print_json(data: Any) -> None:
    typer.echo(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


# --- formatting ----------------------------------------------------------------------------------


def _zone() -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from core.settings import get_settings

    try:
        return ZoneInfo(get_settings().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def fmt_time(moment: datetime | None) -> str:
    """``2026-11-23 14:05`` in BOBBIN_TIMEZONE (UTC unless set)."""
    if moment is None:
        return DASH
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone()).strftime("%Y-%m-%d %H:%M")


def fmt_date(day: date | str | None) -> str:
    if day is None:
        return DASH
    return day.isoformat() if isinstance(day, date) else str(day)


def fmt_money(amount: Decimal | str | None, currency: str | None = None) -> str:
    if amount is None:
        return DASH
    try:
        text = f"{Decimal(str(amount)):,.2f}"
    except ArithmeticError:
        text = str(amount)
    return f"{text} {currency}" if currency else text


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def state_text(state: str) -> Text:
    return Text(state, style=STATE_STYLES.get(state, ""))


def new_table(*columns: str | tuple[str, dict[str, Any]], title: str | None = None) -> Table:
    """A table for comparing rows: bold header, no outer box (copies cleanly into an e-mail)."""
    table = Table(
        box=box.SIMPLE_HEAD,
        header_style="bold",
        title=title,
        title_justify="left",
        title_style="bold",
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    for col in columns:
        name, opts = (col, {}) if isinstance(col, str) else col
        table.add_column(name, **opts)
    return table


def fitted_table(
    columns: list[tuple[str, dict[str, Any], int]],
    rows: Iterable[Mapping[str, Any]],
    width: int,
    title: str | None = None,
) -> Table:
    """A table whose less needed columns give way on a narrow terminal: each column is
    ``(header, column options, narrowest terminal that still shows it)``; rows map header -> cell."""
    kept = [(name, opts) for name, opts, below in columns if width >= below]
    table = new_table(*kept, title=title)
    for row in rows:
        table.add_row(*[row.get(name) for name, _ in kept])
    return table


def kv_table(rows: Iterable[tuple[str, Any]]) -> Table:
    """Label / value pairs (a record's header)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value if isinstance(value, Text) else Text(DASH if value in (None, "") else str(value)))
    return table


def revalidation_line(result: Mapping[str, Any]) -> str:
    """One sentence from a re-validation summary (services.pipeline.validate_and_import)."""
    if "skipped" in result:
        return f"Re-validation postponed: {result['skipped']}."
    validated = int(result.get("validated", 0))
    if not validated:
        return "No held orders needed checking again."
    parts = [f"{result.get('valid', 0)} valid", f"{result.get('invalid', 0)} invalid"]
    if result.get("duplicate"):
        parts.append(f"{result['duplicate']} duplicate")
    text = (
        f"Checked {plural(validated, 'held order')} again: {', '.join(parts)}; "
        f"{plural(int(result.get('imported', 0)), 'order')} imported."
    )
    if result.get("resolved_errors") or result.get("new_errors"):
        text += (
            f" {plural(int(result.get('resolved_errors', 0)), 'problem')} resolved, "
            f"{int(result.get('new_errors', 0))} new."
        )
    return text


# --- errors --------------------------------------------------------------------------------------

_CONNECTION_WORDS = re.compile(
    r"connect|could not translate host|server closed|timeout expired|"
    r"password authentication|does not exist|no pg_hba|role .* does not exist",
    re.I,
)


def _database_source() -> str:
    from core.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        return "DATABASE_URL"
    return f"embedded server under {settings.home / 'postgres'}"


def _database_where() -> str:
    from sqlalchemy.engine import make_url

    url = os.environ.get("DATABASE_URL")
    try:
        from core.settings import get_settings

        url = get_settings().database_url or url
        parsed = make_url(url) if url else None
    except Exception:  # a malformed URL: say nothing of it rather than print it
        parsed = None
    if parsed is None:
        return "the configured address"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def connection_reason(text: str, password: str | None = None) -> str:
    """A short reason from a libpq / psycopg2 message (never the password)."""
    if password:
        text = text.replace(password, "****")
    lowered = text.lower()
    for needle, reason in (
        ("connection refused", "connection refused"),
        ("timeout expired", "timed out"),
        ("server closed the connection", "the server closed the connection"),
        ("no route to host", "no route to host"),
    ):
        if needle in lowered:
            return reason
    m = re.search(r'could not translate host name "([^"]+)"', text)
    if m:
        return f"unknown host {m.group(1)}"
    for pattern in (
        r'password authentication failed for user "[^"]+"',
        r'database "[^"]+" does not exist',
        r'role "[^"]+" does not exist',
        r"no pg_hba\.conf entry[^\n]*",
    ):
        m = re.search(pattern, text)
        if m:
            return m.group(0)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "unknown error")
    return re.sub(r'^connection to server at "[^"]*",? port \d+ failed:\s*', "", first)


def describe_database_error(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig)
    password = None
    try:
        from sqlalchemy.engine import make_url

        password = make_url(os.environ.get("DATABASE_URL", "")).password if os.environ.get("DATABASE_URL") else None
    except Exception:
        password = None
    if _CONNECTION_WORDS.search(text):
        return (
            f"cannot reach Postgres at {_database_where()} ({_database_source()}): {connection_reason(text, password)}"
        )
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(orig).__name__)
    if password:
        first = first.replace(password, "****")
    return f"database error: {first}"


def describe_error(exc: BaseException) -> str | None:
    """The one line a person reads for an expected error; None for a bug (keeps its traceback)."""
    from sqlalchemy import exc as sa_exc

    from connectors.errors import AuthError, PartnerError
    from connectors.registry import NotOffered, UnknownPartner
    from core.crypto import CredentialsError
    from services.fixes import FixError
    from services.sites import SiteError
    from services.writeback import MarkError

    expected: tuple[type[BaseException], ...] = (
        UserError,
        SiteError,
        FixError,
        MarkError,
        CredentialsError,
        UnknownPartner,
        NotOffered,
    )
    try:
        from services.erp_load import LoadError

        expected += (LoadError,)
    except ImportError:  # the loader is not there yet: nothing of it can be raised either
        pass
    if isinstance(exc, expected):
        return str(exc) or type(exc).__name__
    if isinstance(exc, AuthError):
        return f"{exc} (the partner refused the site's credentials: check them with `bobbin sites show SITE`)"
    if isinstance(exc, PartnerError):
        return f"{exc.partner or 'partner'}: {exc}"
    if isinstance(exc, sa_exc.ProgrammingError) and "UndefinedTable" in type(getattr(exc, "orig", None)).__name__:
        return "the database has no Bobbin tables yet (or an older schema): run `bobbin migrate`"
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return describe_database_error(exc)
    try:
        import psycopg2

        if isinstance(exc, psycopg2.OperationalError):
            return describe_database_error(exc)
    except ImportError:  # pragma: no cover
        pass
    return None


class BobbinGroup(TyperGroup):
    """The root group: expected errors of any subcommand become ``Error: …`` and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        from core.settings import SettingsError

        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except SettingsError as exc:  # a SystemExit carrying its one-line message
            print_error(str(exc))
            raise typer.Exit(1) from None
        except Exception as exc:
            message = describe_error(exc)
            if message is None:
                raise
            print_error(message)
            raise typer.Exit(1) from None


def ensure_database() -> None:
    """Reach the database before any work (starting the embedded one when no DATABASE_URL is set);
    say in one line what is wrong when it cannot be reached or started."""
    import subprocess

    from sqlalchemy import text

    from core import runtime
    from core.db import get_engine

    try:
        runtime.database_url()
    except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        fail(f"cannot start the embedded Postgres ({_database_source()}): {first}")
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))
