"""For the brand's developer: database migrations, encryption keys, the embedded servers, the
partner sandbox, and the run / demo commands (``bobbin/runner.py`` does that work)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from bobbin.cli.output import console, ensure_database, err_console, fail, plural, print_json, warn

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys for the sites' credentials (BOBBIN_SECRET_KEYS).")
demo_app = typer.Typer(no_args_is_help=True, help="The demo brand: ERP data and a sandbox site to try Bobbin with.")


def _runner() -> Any:
    try:
        import bobbin.runner as runner
    except ModuleNotFoundError as exc:
        if exc.name != "bobbin.runner":
            raise
        fail("this installation has no run command (bobbin/runner.py is missing)")
    return runner


def run() -> None:
    """Start everything in the foreground: database, broker, worker, beat and Flower.

    Postgres and Redis are embedded unless DATABASE_URL / REDIS_URL are set. Ctrl+C stops them."""
    _runner().run()


def demo_load() -> None:
    """Load the demo brand's ERP data and add a site for each partner sandbox (`bobbin sandbox`)."""
    runner = _runner()
    ensure_database()
    for line in runner.load_demo_sites(dict.fromkeys(_sandbox_kinds())):
        console().print(line)


def migrate() -> None:
    """Create or upgrade the database tables (Alembic migrations to the newest revision)."""
    from sqlalchemy import text

    from bobbin.cli.output import _database_where
    from core import runtime
    from core.db import get_engine
    from core.migrate import upgrade

    ensure_database()
    with err_console().status("Migrating…"):
        upgrade(runtime.database_url())
    with get_engine().connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    console().print(f"[green]Database at {_database_where()} is up to date[/green] (revision {revision}).")


def keys_new() -> None:
    """Print a new encryption key (stdout: the key only, so it can be piped)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())
    err_console().print(
        "[dim]Put it first in BOBBIN_SECRET_KEYS (comma-separated; the first key encrypts, every "
        "key decrypts), keep the old keys after it, run `bobbin keys rotate`, then drop the old keys."
        "[/dim]"
    )


def keys_rotate(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary.")] = False) -> None:
    """Re-encrypt every site's credentials with the first key of BOBBIN_SECRET_KEYS."""
    from cryptography.fernet import InvalidToken
    from sqlalchemy import select

    from core import crypto
    from core.db import session_scope
    from core.settings import get_settings
    from models import Site

    settings = get_settings()
    ensure_database()
    rotated: list[str] = []
    failed: list[str] = []
    with session_scope() as s:
        for site in s.scalars(select(Site).order_by(Site.id).with_for_update()):
            try:
                site.credentials_encrypted = crypto.rotate(site.credentials_encrypted)
                rotated.append(site.name)
            except InvalidToken:
                failed.append(site.name)
    if as_json:
        print_json({"rotated": rotated, "failed": failed})
    else:
        if not settings.secret_keys:
            warn(f"BOBBIN_SECRET_KEYS is not set: the development key in {settings.home / 'secret.key'} is used")
        elif len(settings.fernet_keys()) == 1:
            warn("BOBBIN_SECRET_KEYS holds one key: the credentials were re-encrypted with the same key")
        done = rotated and not failed and len(settings.fernet_keys()) > 1
        console().print(
            f"[green]Re-encrypted the credentials of {plural(len(rotated), 'site')}[/green] with the first "
            f"key. {'Keys after the first can be removed now.' if done else ''}"
        )
    if failed:
        fail(
            f"no key in BOBBIN_SECRET_KEYS decrypts the credentials of {', '.join(failed)}; re-add the key they were "
            "made with, or enter them again"
        )


def down() -> None:
    """Stop the embedded Postgres and Redis that run in the background under BOBBIN_HOME."""
    from core.runtime import stop_embedded

    stopped = stop_embedded()
    if stopped:
        console().print(f"Stopped {', '.join(stopped)}.")
    else:
        console().print("No embedded server was running.")


def _sandbox_kinds() -> list[str]:
    from connectors.registry import infos

    return [partner.kind for partner in infos() if partner.sandbox is not None]


# The partners with a sandbox, as typer's choices (connectors.registry says which).
SandboxPartner = Enum("SandboxPartner", {kind: kind for kind in _sandbox_kinds()}, type=str)  # type: ignore[misc]


DEFAULT_SANDBOX = next(iter(SandboxPartner))


def sandbox(
    partner: Annotated[SandboxPartner, typer.Option("--partner", help="Which partner's sandbox.")] = DEFAULT_SANDBOX,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="Port (default: the partner's sandbox port setting)."),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help='Misbehave, e.g. "500@20%" or "429:retry_after=2@3rd" (repeatable; docs/faults.md).',
        ),
    ] = None,
) -> None:
    """Run a partner sandbox in the foreground, seeded with the demo brand's products and orders.

    The demo credentials (sandbox/keys.py) unless the SANDBOX_* variables name others.
    --fault makes API requests fail at a rate or by script (POST /_sandbox/faults takes the same specs)."""
    import importlib

    from connectors.registry import partner as partner_spec
    from core.settings import get_settings
    from sandbox.common import FaultSpecError, parse_faults

    try:
        faults = parse_faults(list(fault)) if fault else []
    except FaultSpecError as exc:
        fail(str(exc))
    spec = partner_spec(partner.value)
    assert spec.sandbox is not None
    port = int(getattr(get_settings(), spec.sandbox.port_setting)) if port is None else port
    try:
        importlib.import_module(spec.sandbox.module).serve_demo(host, port, faults, console())
    except OSError as exc:
        fail(f"the sandbox cannot listen on {host}:{port}: {exc.strerror or exc}")


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
    keys_app.command("new")(keys_new)
    keys_app.command("rotate")(keys_rotate)
    app.add_typer(keys_app, name="keys")
    app.command("down")(down)
    app.command("sandbox")(sandbox)
    app.command("run")(run)
    demo_app.command("load")(demo_load)
    app.add_typer(demo_app, name="demo")
