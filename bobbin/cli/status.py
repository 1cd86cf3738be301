"""``bobbin status``: is everything running, and what needs a person — per site."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

import typer
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bobbin.cli.output import (
    OUTBOX_STYLES,
    STATE_STYLES,
    ago,
    console,
    describe_error,
    fmt_time,
    new_table,
    print_error,
    print_json,
)
from connectors.registry import kinds

DEAD_SHOWN = 5  # dead writebacks listed per site; the count covers all
STATE_ORDER = ("downloaded", "valid", "invalid", "duplicate", "imported", "rejected")
IMPORT_TASK = "%import_orders"


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


def site_status(session: Session, site: Any) -> dict[str, Any]:
    from models import InboundOrder, OrderError, OutboxEntry, SyncRun

    def run(outcome: str) -> dict[str, Any] | None:
        r = session.scalars(
            select(SyncRun)
            .where(SyncRun.site_id == site.id, SyncRun.task.like(IMPORT_TASK), SyncRun.outcome == outcome)
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
            .limit(1)
        ).first()
        if r is None:
            return None
        return {
            "run_id": r.id,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "counts": r.counts or {},
            "error": r.error,
        }

    orders = dict(
        session.execute(
            select(InboundOrder.state, func.count()).where(InboundOrder.site_id == site.id).group_by(InboundOrder.state)
        ).all()
    )
    wb = session.execute(
        select(
            func.count().filter(OutboxEntry.state == "pending", OutboxEntry.attempts == 0),
            func.count().filter(OutboxEntry.state == "pending", OutboxEntry.attempts > 0),
            func.count().filter(OutboxEntry.state == "dead"),
            func.count().filter(OutboxEntry.state == "held"),
        ).where(OutboxEntry.site_id == site.id)
    ).one()
    dead = [
        {
            "outbox_id": w.id,
            "order_id": w.inbound_order_id,
            "status": w.status,
            "attempts": w.attempts,
            "last_error": w.last_error,
        }
        for w in session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.site_id == site.id, OutboxEntry.state == "dead")
            .order_by(OutboxEntry.id.desc())
            .limit(DEAD_SHOWN)
        )
    ]
    unresolved = (
        session.scalar(
            select(func.count())
            .select_from(OrderError)
            .join(InboundOrder, InboundOrder.id == OrderError.order_id)
            .where(
                InboundOrder.site_id == site.id,
                InboundOrder.state.in_(("downloaded", "invalid", "duplicate")),
                OrderError.resolved_at.is_(None),
                OrderError.severity == "error",
            )
        )
        or 0
    )
    from datetime import datetime

    from core.settings import get_settings
    from services.reconcile import dead_letters, site_alarm, site_warnings

    alarm = site_alarm(session, site, get_settings(), datetime.now(UTC))
    return {
        "id": site.id,
        "name": site.name,
        "kind": site.kind,
        "active": site.active,
        "alarm": alarm.sentence() if alarm else None,
        "dead_letters": dead_letters(session, site.id),
        "warnings": site_warnings(session, site.id),
        "last_import": run("ok"),
        "last_failure": run("failed"),
        "last_incomplete": run("incomplete"),
        "orders": {state: int(orders.get(state, 0)) for state in STATE_ORDER},
        "writebacks": {
            "pending": int(wb[0]),
            "retrying": int(wb[1]),
            "dead": int(wb[2]),
            "held": int(wb[3]),
            "dead_rows": dead,
        },
        "unresolved_errors": int(unresolved),
    }


def _health_text(name: str, h: dict[str, Any]) -> Text:
    return Text.assemble((name, "bold"), " ", ("ok", "green") if h["ok"] else ("DOWN", "bold red"), f" {h['detail']}")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (stable keys, ISO dates).")] = False,
) -> None:
    """Is everything running, and what needs a person, per site.

    Health of Postgres and Redis; per site: last import, last failure, orders per state,
    writebacks waiting / retrying / given up, and open problems."""
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
            last_text = Text.assemble(
                fmt_time(when),
                (f" ({ago(when)})", "dim"),
                f"\n{counts.get('fetched', 0)} fetched, {counts.get('new', 0)} new, "
                f"{counts.get('imported', 0)} imported",
            )
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
        orders = Text("\n").join(
            [Text(f"{n} {state}", style=STATE_STYLES.get(state, "")) for state, n in st["orders"].items() if n]
        ) or Text("none", style="dim")
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
            Text(str(st["unresolved_errors"]), style="red" if st["unresolved_errors"] else "green"),
        )
    out.print(table)
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
                    ("last import may have missed orders ", "red"),
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
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    (f"gave up sending {d['status']} ", "red"),
                    f"for order {d['order_id']} after {d['attempts']} tries: {d['last_error'] or '?'}",
                    (f"  (send again: bobbin orders mark {d['status']} {d['order_id']})", "dim"),
                )
            )
        if st["unresolved_errors"]:
            out.print(
                Text.assemble(
                    (f"{st['name']}: ", "bold"),
                    f"{st['unresolved_errors']} open problems — bobbin orders list --site {st['name']} --view invalid",
                    style="",
                )
            )
