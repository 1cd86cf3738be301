"""``bobbin sites``: the partner accounts Bobbin talks to (one site per account)."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.text import Text
from sqlalchemy import select

from bobbin.cli.output import (
    DASH,
    UserError,
    console,
    ensure_database,
    fitted_table,
    fmt_time,
    kv_table,
    print_json,
    revalidation_line,
)

app = typer.Typer(no_args_is_help=True, help="Partner sites: add one, list them, pause or resume imports.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")]
SiteArg = Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")]


def _kinds_help() -> tuple[str, str]:
    from connectors.registry import infos

    known = infos()  # plain data: no partner package is imported for the help
    return ", ".join(f"{p.kind} ({p.doc or p.label})" for p in known), known[0].kind


# The partner kinds `sites add --kind` takes, from the registry.
_KINDS_HELP, _DEFAULT_KIND = _kinds_help()


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=what)
        out[key.strip()] = value
    return out


def missing_credentials(fields: tuple[str, ...], given: dict[str, str], label: str) -> list[str]:
    unknown = set(given) - set(fields)
    if unknown:
        raise UserError(f"{label} credentials are {', '.join(fields)}; not {', '.join(sorted(unknown))}")
    return [f for f in fields if not (given.get(f) or os.environ.get(f"BOBBIN_CRED_{f.upper()}"))]


def ask_credentials(fields: tuple[str, ...], given: dict[str, str], label: str) -> dict[str, str]:
    """Each credential from --credential, else BOBBIN_CRED_<FIELD>, else a hidden prompt."""
    creds: dict[str, str] = {}
    for name in fields:
        value = given.get(name) or os.environ.get(f"BOBBIN_CRED_{name.upper()}")
        if not value:
            if not sys.stdin.isatty():
                raise UserError(f"no {name} given and no terminal to ask for it: set BOBBIN_CRED_{name.upper()}")
            try:
                value = typer.prompt(f"{label} {name.replace('_', ' ')}", hide_input=True)
            except typer.Abort:
                raise UserError(f"no {name} given: type it at the prompt, or set BOBBIN_CRED_{name.upper()}") from None
        creds[name] = value.strip()
    return creds


def _last_import_text(run: dict[str, Any] | None) -> Text:
    if run is None:
        return Text("never", style="dim")
    when = run["finished_at"] or run["started_at"]
    style = {"ok": "green", "failed": "red", "running": "yellow", "paused": "yellow", "skipped": "dim"}.get(
        run["outcome"], ""
    )
    return Text.assemble(fmt_time(when), " ", (run["outcome"], style))


def show_site(record: dict[str, Any]) -> None:
    from services.sites import setting_text

    out = console()
    active = Text("active", style="green") if record["active"] else Text("paused", style="yellow")
    rows: list[tuple[str, Any]] = [
        ("Site", f"{record['name']} (id {record['id']})"),
        ("Partner", record["kind"]),
        ("URL", record["url"]),
        ("Division", record["division"]),
        ("Status", active),
        ("Schedule", record["schedule"]),
        ("Notify", ", ".join(record["notify"]) or Text("nobody (no error e-mails)", style="yellow")),
        ("Last import", _last_import_text(record["last_import"])),
    ]
    creds = record.get("credentials")
    if creds is not None:
        rows.append(
            (
                "Credentials",
                Text(creds["error"], style="red")
                if "error" in creds
                else "  ".join(f"{k} {v}" for k, v in creds.items()),
            )
        )
    if "settings" in record:
        rows.append(
            (
                "Settings",
                "  ".join(f"{k}={setting_text(v)}" for k, v in record["settings"].items() if v not in (None, {}, [])),
            )
        )
    if "orders" in record:
        rows.append(("Orders", Text(", ".join(f"{n} {s}" for s, n in sorted(record["orders"].items())) or "none yet")))
        rows.append(("Mappings", ", ".join(f"{n} {k}" for k, n in sorted(record["mappings"].items())) or "none"))
    run = record["last_import"]
    if run and run["outcome"] in ("failed", "paused") and run.get("error"):
        paused = run["outcome"] == "paused"
        rows.append(("Paused" if paused else "Last error", Text(run["error"], style="yellow" if paused else "red")))
    out.print(kv_table(rows))


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name for the site, used in every other command.")],
    url: Annotated[str, typer.Option("--url", help="The partner API's base URL (the sandbox prints its own).")],
    kind: Annotated[str, typer.Option("--kind", help=f"The partner: {_KINDS_HELP}.")] = _DEFAULT_KIND,
    division: Annotated[
        str | None, typer.Option("--division", help="ERP division code the site's orders belong to.")
    ] = None,
    notify: Annotated[
        list[str] | None, typer.Option("--notify", help="E-mail address for error reports (repeat for more).")
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--setting",
            metavar="KEY=VALUE",
            help="A site setting, e.g. default_warehouse=MAIN  import_minutes=15  inventory_mode=future  "
            "price_types=USD:WHL,EUR:WHLE  page_size=100 (each partner adds its own: README, Site settings).",
        ),
    ] = None,
    credential: Annotated[
        list[str] | None,
        typer.Option(
            "--credential",
            metavar="FIELD=VALUE",
            help="A credential (e.g. public_key=…). Careful: values given on the command line stay in your shell "
            "history; prefer the hidden prompt, or the BOBBIN_CRED_<FIELD> environment variable.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a partner site.

    Credentials are asked for with hidden input (or read from BOBBIN_CRED_<FIELD>, e.g.
    BOBBIN_CRED_PUBLIC_KEY), stored encrypted, and only ever shown masked."""
    from connectors.registry import UnknownPartner, partner
    from core.db import session_scope
    from services.sites import check_new_site, create_site, parse_setting_values, site_record

    try:
        spec = partner(kind)
    except UnknownPartner as exc:
        raise typer.BadParameter(str(exc), param_hint="--kind") from None
    settings = parse_setting_values(_pairs(setting, "--setting"), spec)
    given = _pairs(credential, "--credential")
    ensure_database()
    emails = list(notify or [])
    if missing_credentials(spec.credential_fields, given, spec.label):
        # Find a wrong name, division or setting before asking for secrets.
        with session_scope() as s:
            check_new_site(
                s, name=name, kind=kind, base_url=url, division=division, notify_emails=emails, settings=settings
            )
    creds = ask_credentials(spec.credential_fields, given, spec.label)
    with session_scope() as s:
        site = create_site(
            s,
            name=name,
            kind=kind,
            base_url=url,
            credentials=creds,
            division=division,
            notify_emails=emails,
            settings=settings,
        )
        s.flush()
        record = site_record(s, site, credentials=creds)
    if as_json:
        print_json(record)
        return
    console().print(f"[green]Added site {record['name']} (id {record['id']}).[/green]")
    show_site(record)
    console().print(
        f"\nIts orders are imported {record['schedule']} while the worker and beat run "
        "(`bobbin run`); `bobbin status` shows the last import."
    )


@app.command("list")
def list_sites(as_json: JsonOpt = False) -> None:
    """Every site: partner, URL, division, active, who gets error e-mails, schedule, last import."""
    from core.db import session_scope
    from models import Site
    from services.sites import site_record

    ensure_database()
    with session_scope() as s:
        records = [site_record(s, site) for site in s.scalars(select(Site).order_by(Site.id))]
    if as_json:
        print_json({"sites": records})
        return
    if not records:
        console().print(
            f"No sites yet. Add one with [bold]bobbin sites add NAME --kind {_DEFAULT_KIND} --url URL[/bold]."
        )
        return
    nowrap = {"no_wrap": True}
    columns: list[tuple[str, dict[str, Any], int]] = [
        ("ID", {"justify": "right", **nowrap}, 0),
        ("Name", nowrap, 0),
        ("Kind", nowrap, 90),
        ("URL", nowrap, 110),
        ("Division", nowrap, 90),
        ("Active", nowrap, 0),
        ("Notify", {"overflow": "fold"}, 140),
        ("Schedule", nowrap, 0),
        ("Last import", nowrap, 0),
    ]
    rows = [
        {
            "ID": str(r["id"]),
            "Name": r["name"],
            "Kind": r["kind"],
            "URL": r["url"],
            "Division": r["division"] or DASH,
            "Active": Text("yes", style="green") if r["active"] else Text("paused", style="yellow"),
            "Notify": ", ".join(r["notify"]) or Text("nobody", style="yellow"),
            "Schedule": r["schedule"],
            "Last import": _last_import_text(r["last_import"]),
        }
        for r in records
    ]
    out = console()
    table = fitted_table(columns, rows, out.width)
    out.print(table)


@app.command("show")
def show(site: SiteArg, as_json: JsonOpt = False) -> None:
    """One site in full: settings, masked credentials, orders per state, mappings, last import."""
    from core.db import session_scope
    from services.sites import get_site, site_record

    ensure_database()
    with session_scope() as s:
        record = site_record(s, get_site(s, site), detail=True)
    if as_json:
        print_json(record)
        return
    show_site(record)


def _set_active(site_ref: str, active: bool, as_json: bool) -> None:
    from core.db import session_scope
    from services.sites import get_site, set_active

    ensure_database()
    with session_scope() as s:
        site = get_site(s, site_ref)
        changed = set_active(s, site, active)
        name = site.name
    if as_json:
        print_json({"site": name, "active": active, "changed": changed})
        return
    if not changed:
        console().print(f"Site {name} was already {'active' if active else 'paused'}.")
    elif active:
        console().print(f"[green]Site {name} resumed:[/green] orders are imported on schedule again.")
    else:
        console().print(
            f"[yellow]Site {name} paused:[/yellow] no imports until "
            f"[bold]bobbin sites resume {name}[/bold]. Held orders stay as they are."
        )


@app.command("pause")
def pause(site: SiteArg, as_json: JsonOpt = False) -> None:
    """Stop importing this site's orders (nothing is deleted)."""
    _set_active(site, False, as_json)


@app.command("resume")
def resume(site: SiteArg, as_json: JsonOpt = False) -> None:
    """Import this site's orders on schedule again."""
    _set_active(site, True, as_json)


@app.command("set")
def set_settings(
    site: SiteArg,
    values: Annotated[
        list[str],
        typer.Argument(
            metavar="KEY=VALUE", help="Settings to change, e.g. price_types=USD:WHL,EUR:WHLE or import_minutes=30."
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Change a site's settings; the held orders are checked again with them."""
    from core.db import session_scope
    from services.pipeline import revalidate_site
    from services.sites import get_site, open_site, parse_setting_values, site_record, update_settings

    ensure_database()
    with session_scope() as s:
        spec = open_site(s, site).spec
    changes = parse_setting_values(_pairs(values, "KEY=VALUE"), spec)
    with session_scope() as s:
        target = get_site(s, site)
        update_settings(s, target, changes)
        site_id = target.id
    result = revalidate_site(site_id)
    with session_scope() as s:
        record = site_record(s, get_site(s, site_id))
    if as_json:
        print_json({"site": record, "revalidation": result})
        return
    console().print(f"[green]Updated {', '.join(changes)} of site {record['name']}.[/green]")
    console().print(revalidation_line(result))
    show_site(record)
