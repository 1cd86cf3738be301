"""``bobbin status``: is everything running, and what needs a person — per site."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text
from sqlalchemy import select

from bobbin.cli.output import (
    OUTBOX_STYLES,
    STATE_STYLES,
    ago,
    console,
    describe_error,
    fmt_money,
    fmt_time,
    new_table,
    print_error,
    print_json,
)
from connectors.registry import kinds, label

# Returns per state, as the returns table colours them (services.rma's flow).
RETURN_STATE_STYLES = {
    "received": "cyan",
    "invalid": "red",
    "rma": "",
    "received_goods": "",
    "processed": "yellow",
    "credited": "green",
    "void": "dim",
}


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), text)


def postgres_health() -> dict[str, Any]:
    from sqlalchemy import text

    from bobbin.cli.output import _database_source, _database_where
    from core.db import get_engine

    try:
        from core import runtime

        runtime.database_url()
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return {"ok": False, "detail": describe_error(exc) or f"cannot start Postgres: {_first_line(str(exc))}"}
    return {"ok": True, "detail": f"{_database_where()} ({_database_source()})"}


def redis_health() -> dict[str, Any]:
    from core.embedded import EmbeddedRedis
    from core.settings import get_settings

    settings = get_settings()
    if settings.redis_url:
        url, source = settings.redis_url, "REDIS_URL"
    else:
        port = EmbeddedRedis(settings.home / "redis").running_port()
        if port is None:
            return {"ok": False, "detail": "embedded Redis is not running (`bobbin run` starts it)"}
        url, source = EmbeddedRedis.url(port), "embedded"
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        kw = client.connection_pool.connection_kwargs
        where = f"{kw.get('host', '?')}:{kw.get('port', '?')}"
    except Exception as exc:  # any failure is the answer, not a crash
        from redis.connection import parse_url

        try:
            kw = parse_url(url)
            where = f"{kw.get('host', '?')}:{kw.get('port', 6379)}"
        except Exception:
            where = "the configured address"
        return {"ok": False, "detail": f"cannot reach Redis at {where} ({source}): {_first_line(str(exc)).lower()}"}
    return {"ok": True, "detail": f"{where} ({source})"}


def site_status(session: Any, site: Any) -> dict[str, Any]:
    """One site's state (services/status.py: the dashboard of the console reads the same)."""
    from services.status import site_status as read

    return dict(read(session, site))


def _returns_url(site: str) -> str:
    """The console's page of the site's returns."""
    from services.links import console as console_links

    return console_links().returns(site)


def _last_import_text(st: dict[str, Any], counts: dict[str, Any]) -> str:
    """What the last import did, in the site's terms: orders imported, or returns made RMAs."""
    if st["orders"] is None and st["returns"] is not None:
        return (
            f"{counts.get('fetched', 0)} fetched, {counts.get('new', 0)} new, "
            f"{counts.get('rmas_created', 0)} RMA(s) made"
        )
    return f"{counts.get('fetched', 0)} fetched, {counts.get('new', 0)} new, {counts.get('imported', 0)} imported"


def _returns_table(sites: list[dict[str, Any]]) -> Any:
    """Per returns site: returns per state, open problems, credits waiting for a person, open exchanges."""
    table = new_table(
        "Site",
        "Returns",
        ("Open problems", {"justify": "right"}),
        ("Credits waiting", {"justify": "right"}),
        ("Open exchanges", {"justify": "right"}),
        title="Returns",
    )
    for st in sites:
        r = st["returns"]
        if r is None:
            continue
        states = Text("\n").join(
            [Text(f"{n} {state}", style=RETURN_STATE_STYLES.get(state, "")) for state, n in r["states"].items() if n]
        ) or Text("none", style="dim")
        table.add_row(
            st["name"],
            states,
            Text(str(r["open_problems"]), style="red" if r["open_problems"] else "green"),
            Text(str(r["credits_waiting"]), style="red" if r["credits_waiting"] else "green"),
            Text(str(r["open_exchanges"]), style="yellow" if r["open_exchanges"] else "green"),
        )
    return table


def _returns_lines(st: dict[str, Any]) -> list[Text]:
    """What a returns site's returns need from a person, one line each, with where to do it."""
    r = st["returns"]
    if r is None:
        return []
    name = (f"{st['name']}: ", "bold")
    partner = label(st["kind"])
    out: list[Text] = []
    if r["open_problems"]:
        out.append(
            Text.assemble(
                name,
                (f"{r['open_problems']} open return problem(s)", "red"),
                f" — each says what to do: bobbin returns list --site {st['name']}, or {_returns_url(st['name'])}",
            )
        )
    if r["credits_waiting"]:
        out.append(
            Text.assemble(
                name,
                (f"{r['credits_waiting']} credit memo(s) wait for a person", "red"),
                ": the refund does not match the RMA's lines; check it, then confirm it",
            )
        )
        for w in r["credits_waiting_rows"]:
            out.append(
                Text(
                    f"    {w['credit_memo']} of return {w['return_id']} ({partner} id {w['loop_return_id']}, {w['rma']}): "
                    f"{partner} refunded {fmt_money(w['loop_refund_amount'], w['currency'])}, the lines add up to "
                    f"{fmt_money(w['lines_refund_amount'], w['currency'])}  (bobbin returns confirm {w['return_id']})",
                    style="dim",
                )
            )
    if r["open_exchanges"]:
        out.append(
            Text.assemble(
                name,
                (f"{r['open_exchanges']} exchange(s) wait for their order", "yellow"),
                " to reach the ERP (a sales order with the exchange order's name as PO); its AR debit is posted then",
            )
        )
        for e in r["open_exchange_rows"]:
            out.append(
                Text(
                    f"    return {e['return_id']} ({partner} id {e['loop_return_id']}, {e['rma']}): exchange order "
                    f"{e['exchange_order'] or '?'}",
                    style="dim",
                )
            )
    return out


def _health_text(name: str, h: dict[str, Any]) -> Text:
    return Text.assemble((name, "bold"), " ", ("ok", "green") if h["ok"] else ("DOWN", "bold red"), f" {h['detail']}")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")] = False,
) -> None:
    """Is everything running, and what needs a person, per site.

    Health of Postgres and Redis; per site: last import, last failure, orders per state,
    writebacks waiting / retrying / given up, and open problems. A site that sends returns (Loop):
    its returns per state, open return problems, credits waiting for a person and open exchanges."""
    from core.db import session_scope
    from models import Site

    health = {"postgres": postgres_health(), "redis": redis_health()}
    sites: list[dict[str, Any]] = []
    if health["postgres"]["ok"]:
        with session_scope() as s:
            sites = [site_status(s, site) for site in s.scalars(select(Site).order_by(Site.id))]
    if as_json:
        print_json({"health": health, "sites": sites})
        if not health["postgres"]["ok"]:
            raise typer.Exit(1)
        return
    out = console()
    out.print(
        Text("  ·  ").join([_health_text("Postgres", health["postgres"]), _health_text("Redis", health["redis"])])
    )
    if not health["postgres"]["ok"]:
        print_error(health["postgres"]["detail"])
        raise typer.Exit(1)
    if not sites:
        out.print(
            "No sites yet. Add one with [bold]bobbin sites add NAME --kind KIND --url URL[/bold] (KIND: "
            f"{', '.join(kinds())})."
        )
        return
    table = new_table("Site", "Active", "Last import", "Orders", "Writebacks", ("Open problems", {"justify": "right"}))
    for st in sites:
        last = st["last_import"]
        if last:
            when = last["finished_at"] or last["started_at"]
            counts = last["counts"]
            last_text = Text.assemble(fmt_time(when), (f" ({ago(when)})", "dim"), f"\n{_last_import_text(st, counts)}")
            if counts.get("pages_shifted"):
                last_text.append(
                    f"\nlist shifted at {counts['pages_shifted']} page(s), "
                    f"read {counts.get('read_passes', 1)}×: nothing missed",
                    style="yellow",
                )
        else:
            last_text = Text("never", style="dim")
        failure = st["last_failure"]
        if failure and (
            not last or ((failure["started_at"], failure["run_id"]) > (last["started_at"], last["run_id"]))
        ):
            last_text.append(f"\nfailed {fmt_time(failure['finished_at'] or failure['started_at'])}", style="red")
        if st["orders"] is None:  # a returns site: its returns are in the table below
            orders = Text(f"none: sends returns ({sum(st['returns']['states'].values())})", style="dim")
        else:
            orders = Text("\n").join(
                [Text(f"{n} {state}", style=STATE_STYLES.get(state, "")) for state, n in st["orders"].items() if n]
            ) or Text("none", style="dim")
        problems = st["unresolved_errors"] + (st["returns"]["open_problems"] if st["returns"] else 0)
        w = st["writebacks"]
        writebacks = Text("\n").join(
            [
                t
                for t in (
                    Text(f"{w['pending']} pending", style=OUTBOX_STYLES["pending"]) if w["pending"] else None,
                    Text(f"{w['retrying']} retrying", style="yellow") if w["retrying"] else None,
                    Text(f"{w['dead']} dead", style=OUTBOX_STYLES["dead"]) if w["dead"] else None,
                    Text(f"{w['held']} held", style=OUTBOX_STYLES["held"]) if w["held"] else None,
                )
                if t
            ]
        ) or Text("none", style="dim")
        table.add_row(
            st["name"],
            Text("yes", style="green") if st["active"] else Text("paused", style="yellow"),
            last_text,
            orders,
            writebacks,
            Text(str(problems), style="red" if problems else "green"),
        )
    out.print(table)
    if any(st["returns"] is not None for st in sites):
        out.print(_returns_table(sites))
    for st in sites:
        if st["alarm"]:
            out.print(Text.assemble(("ALARM ", "bold red"), st["alarm"]))
        for warning in st["warnings"]:
            out.print(Text.assemble((f"{st['name']}: ", "bold"), ("WARNING ", "bold yellow"), warning))
        if st["dead_letters"]["tasks"]:
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    (f"{st['dead_letters']['tasks']} task(s) gave up ", "red"),
                    "after their worker died on every delivery (sync runs with outcome 'dead')",
                )
            )
        failure = st["last_failure"]
        last = st["last_import"]
        short = st["last_incomplete"]
        if short and (not last or (short["started_at"], short["run_id"]) > (last["started_at"], last["run_id"])):
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    (f"last import may have missed {'orders' if st['orders'] is not None else 'returns'} ", "red"),
                    f"{fmt_time(short['finished_at'] or short['started_at'])}: {short['error'] or '?'}",
                )
            )
        if failure and (not last or (failure["started_at"], failure["run_id"]) > (last["started_at"], last["run_id"])):
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    ("last import failed ", "red"),
                    f"{fmt_time(failure['finished_at'] or failure['started_at'])}: {failure['error'] or '?'}",
                )
            )
        for d in st["writebacks"]["dead_rows"]:
            record = f"order {d['order_id']}" if d["order_id"] is not None else f"return {d['return_id']}"
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    (f"gave up sending {d['status']} ", "red"),
                    f"for {record} after {d['attempts']} tries: {d['last_error'] or '?'}",
                    (f"  (send again: bobbin writebacks retry {d['outbox_id']})", "dim"),
                )
            )
        refused = st["catalog"]["rejected"]
        if refused:
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    (f"{refused} catalog item(s) refused by {label(st['kind'])}", "red"),
                    f" — bobbin catalog problems {st['name']}",
                )
            )
            for r in st["catalog"]["rejected_rows"]:
                out.print(Text(f"    {r['kind']} {r['key']}: {r['message'] or '?'}", style="dim"))
        if st["catalog"]["awaiting"]:
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    (f"{st['catalog']['awaiting']} sent, awaiting {label(st['kind'])}", "yellow"),
                    " (asked again by the next push)",
                )
            )
        for line in _returns_lines(st):
            out.print(line)
        if st["unresolved_errors"]:
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    f"{st['unresolved_errors']} open problems — bobbin orders list --site {st['name']} --view invalid",
                    style="",
                )
            )
