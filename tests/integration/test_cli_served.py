"""The `bobbin` commands as a person starts them: real processes of the installed console script.

- `bobbin migrate` on an empty database, then `bobbin demo load` (each twice: nothing doubles);
- a served `bobbin sandbox` (Brandboom and JOOR): its health endpoint and a real API call over
  HTTP, then Ctrl-C;
- `bobbin inventory push` to JOOR without --dry-run: what the JOOR sandbox received;
- `bobbin run` (worker, beat, Flower, both sandboxes, the mail catcher) until its first imports are
  done and mailed, then `bobbin down`, which stops it and every process it started.

The commands get the test session's Postgres server and Redis through DATABASE_URL / REDIS_URL
(a fresh database, or a Redis database number of their own, where a command would change what
other tests see) and a temporary BOBBIN_HOME, so no embedded server is started. Expected values
come from the demo world's definition, the migrations on disk and the sandboxes' own records.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from core.embedded import free_port
from tests.integration.conftest import ROOT, wait_until

pytestmark = pytest.mark.integration

BOBBIN = str(Path(sys.executable).parent / "bobbin")  # the installed console script


# --- helpers -------------------------------------------------------------------------------------


def cli_env(home: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a command: the session's servers, a home of its own, no SMTP_URL (a test's
    SMTP server is not the command's), output wide enough that no line the test reads wraps."""
    env = {k: v for k, v in os.environ.items() if k != "SMTP_URL"}
    env.update(
        BOBBIN_HOME=str(home),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        LOG_FORMAT="console",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def bobbin(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BOBBIN, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def http(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes]:
    """(status, body) of a GET; an HTTP error status is an answer too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def answers(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes] | None:
    try:
        return http(url, headers, timeout=2)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def refuses(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Served:
    """A long-running command (its output in a file, so no pipe fills up)."""

    def __init__(self, args: list[str], env: dict[str, str], out: Path) -> None:
        self.out = out
        self._file = out.open("wb")
        self.proc = subprocess.Popen(
            [BOBBIN, *args],
            cwd=ROOT,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # As a person starts it in a terminal: Ctrl-C delivered. A suite run from a script's
            # background job inherits SIGINT ignored, and a child keeps that across exec.
            preexec_fn=_sigint_default,
        )

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, ready: Any, timeout: float, what: str) -> Any:
        """Until ``ready()`` answers, failing at once (with the output) if the command exits first."""

        def check() -> Any:
            assert self.alive(), f"{what}: the command exited with {self.proc.returncode}:\n{self.output()[-4000:]}"
            return ready()

        return wait_until(check, timeout=timeout, interval=0.3, what=what)

    def close(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._file.close()


@pytest.fixture()
def fresh_db(pg_url: str) -> Iterator[str]:
    """An empty database (no tables at all) on the session's Postgres server; dropped afterwards."""
    base = make_url(pg_url)
    name = f"bobbin_cli_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def fresh_engine(fresh_db: str) -> Iterator[Engine]:
    engine = create_engine(fresh_db)
    yield engine
    engine.dispose()


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# --- bobbin migrate, bobbin demo load --------------------------------------------------------------


def test_migrate_then_demo_load_on_an_empty_database(
    fresh_db: str, fresh_engine: Engine, redis_url: str, tmp_path: Path
) -> None:
    from alembic.script import ScriptDirectory

    import models
    from bobbin.demo import build_world, demo_mappings
    from bobbin.demo_joor import extra_erp_rows, joor_mappings
    from core import crypto
    from core.migrate import alembic_config
    from models import Customer, Inventory, Mapping, Site, Sku, Style, Warehouse
    from sandbox.ebay.demo import ebay_client_id, ebay_client_secret, ebay_refresh_token
    from sandbox.keys import DEMO_JOOR_TOKEN, sandbox_keys
    from sandbox.loop.demo import loop_api_key, loop_webhook_secret

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    bb_port, joor_port, loop_port, ebay_port = free_port(), free_port(), free_port(), free_port()
    env = cli_env(
        tmp_path / "home",
        fresh_db,
        redis_url,
        SANDBOX_PORT=str(bb_port),
        SANDBOX_JOOR_PORT=str(joor_port),
        SANDBOX_LOOP_PORT=str(loop_port),
        SANDBOX_EBAY_PORT=str(ebay_port),
    )
    # Given an empty database
    assert inspect(fresh_engine).get_table_names() == []

    # When `bobbin migrate` runs
    out = ok(bobbin("migrate", env=env))

    # Then it says the database is at the newest migration on disk, and every model's table exists
    assert f"is up to date (revision {head})" in out
    tables = set(inspect(fresh_engine).get_table_names())
    assert {t.name for t in models.Base.metadata.sorted_tables} | {"alembic_version"} <= tables
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    # And running it again changes nothing
    assert f"is up to date (revision {head})" in ok(bobbin("migrate", env=env))

    # When `bobbin demo load` runs
    out = ok(bobbin("demo", "load", env=env))

    # Then the demo sites are added, pointing at the sandboxes' configured ports, with their keys
    assert "demo site brandboom-demo added" in out and "demo site joor-demo added" in out
    assert "demo site loop-demo added" in out and "demo site ebay-demo added" in out
    with Session(fresh_engine) as s:
        sites = {site.name: site for site in s.scalars(select(Site))}
        assert {name: (site.kind, site.base_url) for name, site in sites.items()} == {
            "brandboom-demo": ("brandboom", f"http://127.0.0.1:{bb_port}/api/v2"),
            "joor-demo": ("joor", f"http://127.0.0.1:{joor_port}/v2"),
            "loop-demo": ("loop", f"http://127.0.0.1:{loop_port}/api/v1"),
            "ebay-demo": ("ebay", f"http://127.0.0.1:{ebay_port}"),
        }
        assert crypto.decrypt_json(sites["ebay-demo"].credentials_encrypted) == {
            "client_id": ebay_client_id(),
            "client_secret": ebay_client_secret(),
            "refresh_token": ebay_refresh_token(),
        }
        assert crypto.decrypt_json(sites["loop-demo"].credentials_encrypted) == {
            "api_key": loop_api_key(),
            "webhook_secret": loop_webhook_secret(),
        }
        assert crypto.decrypt_json(sites["brandboom-demo"].credentials_encrypted) == dict(
            zip(("public_key", "secret_key"), sandbox_keys(), strict=True)
        )
        assert crypto.decrypt_json(sites["joor-demo"].credentials_encrypted) == {"api_token": DEMO_JOOR_TOKEN}
        mappings = dict(s.execute(select(Mapping.site_id, func.count()).group_by(Mapping.site_id)).all())
        assert mappings == {
            sites["brandboom-demo"].id: len(demo_mappings()),
            sites["joor-demo"].id: len(joor_mappings()["mappings"]),
            sites["ebay-demo"].id: 2,  # eBay's payment method to terms, its shipping service to a ship-via
        }
    # And the demo brand's ERP data is loaded, as the demo world defines it
    world = build_world()
    expected = {
        Style: len(world.styles),
        Sku: len(world.skus),
        Inventory: len(world.inventory),
        Warehouse: len(world.warehouses),
        # the JOOR demo's extra customers, and the Loop demo's Shopify customer account
        Customer: len(world.customers) + len(extra_erp_rows(world).get("customers", [])) + 1,
    }
    assert {m.__name__: count(fresh_engine, m) for m in expected} == {m.__name__: n for m, n in expected.items()}

    # When it runs again, nothing is added twice
    out = ok(bobbin("demo", "load", env=env))
    assert "demo site brandboom-demo already there" in out and "demo site joor-demo already there" in out
    assert {m.__name__: count(fresh_engine, m) for m in expected} == {m.__name__: n for m, n in expected.items()}
    assert count(fresh_engine, Site) == 4


# --- a served sandbox -----------------------------------------------------------------------------


def _brandboom_headers(public_key: str, secret_key: str) -> dict[str, str]:
    """Brandboom's documented auth, computed here: uppercase MD5 of PUBLIC…SECRET…TIMESTAMP…"""
    stamp = str(int(time.time()))
    signature = (
        hashlib.md5(f"PUBLIC{public_key}SECRET{secret_key}TIMESTAMP{stamp}".encode(), usedforsecurity=False)
        .hexdigest()
        .upper()
    )
    return {"X-Auth-Key": public_key, "X-Auth-Timestamp": stamp, "X-Auth-Signature": signature}


def test_served_sandboxes_answer_health_and_the_api_over_http_then_stop_on_ctrl_c(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    from bobbin.demo import brandboom_seed, build_world
    from bobbin.demo_joor import joor_seed
    from sandbox.keys import DEMO_JOOR_TOKEN, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    world = build_world()
    bb_seed, j_seed = brandboom_seed(world), joor_seed(world)
    env = cli_env(tmp_path / "home", pg_url, redis_url)
    bb_port, joor_port = free_port(), free_port()

    # Given both sandboxes started as a person starts them
    bb = Served(["sandbox", "--port", str(bb_port)], env, tmp_path / "brandboom.out")
    joor = Served(["sandbox", "--partner", "joor", "--port", str(joor_port)], env, tmp_path / "joor.out")
    try:
        # When their health endpoints are asked
        bb_health = bb.wait_ready(
            lambda: answers(f"http://127.0.0.1:{bb_port}/_sandbox/health"),
            90,
            "the Brandboom sandbox's health endpoint",
        )
        joor_health = joor.wait_ready(
            lambda: answers(f"http://127.0.0.1:{joor_port}/_sandbox/health"), 90, "the JOOR sandbox's health endpoint"
        )

        # Then each is up with the demo brand's data
        assert bb_health[0] == 200 and json.loads(bb_health[1]) == {
            "ok": True,
            "orders": len(bb_seed["orders"]),
            "products": len(bb_seed["products"]),
        }
        assert joor_health[0] == 200
        health = json.loads(joor_health[1])
        assert health["ok"] is True and health["orders"] == len(j_seed["orders"])
        assert f"listening at http://127.0.0.1:{bb_port}/api/v2" in bb.output()
        assert f"listening at http://127.0.0.1:{joor_port}/v2" in joor.output()

        # When Brandboom's order search is called, signed with the demo keys
        query = urlencode({"status": "export", "numResults": 0})
        url = f"http://127.0.0.1:{bb_port}/api/v2/orders/search?{query}"
        status, body = http(url, _brandboom_headers(DEMO_PUBLIC_KEY, DEMO_SECRET_KEY))
        # Then it answers the documented envelope with every order waiting in "export"
        envelope = json.loads(body)
        waiting = {o["id"] for o in bb_seed["orders"] if o["status"] == "export"}
        assert status == 200 and envelope["status"] is True, envelope
        assert envelope["value"]["totolNumResults"] == len(waiting)
        assert {o["id"] for o in envelope["value"]["orders"]} == waiting
        # And a wrong signature gets the documented "Permission Denied"
        denied = json.loads(http(url, _brandboom_headers(DEMO_PUBLIC_KEY, "0" * 32))[1])
        assert denied["status"] != True and denied["value"] == "Permission Denied"  # noqa: E712 (JSON true)

        # When JOOR's order list is read (sync=0: nothing marked) with the demo token
        query = urlencode({"sync": 0, "order_type": 6, "export_status": 2, "count": 100})
        url = f"http://127.0.0.1:{joor_port}/v2/order/?{query}"
        token = "OAuth2 " + base64.b64encode(DEMO_JOOR_TOKEN.encode()).decode()
        status, body = http(url, {"Authorization": token})
        # Then it lists the approved orders not yet exported, and without the token it refuses
        expected = {
            str(o["order_id"])
            for o in j_seed["orders"]
            if o["status"] == "APPROVED" and o["export_status"] in ("NOT_EXPORTED", "FAILED")
        }
        listed = json.loads(body)["orders"]
        assert status == 200 and {str(o["order_id"]) for o in listed["order"]} == expected
        assert listed["response"]["total"] == len(expected)
        assert http(url)[0] == 401

        # When each is stopped with Ctrl-C
        for served in (bb, joor):
            served.proc.send_signal(signal.SIGINT)
        # Then each says so, exits 0 and frees its port
        for served, port in ((bb, bb_port), (joor, joor_port)):
            assert served.proc.wait(60) == 0, served.output()
            assert "Sandbox stopped." in served.output()
            assert refuses(port)
    finally:
        bb.close()
        joor.close()


# --- bobbin inventory push to JOOR (not a dry run) -------------------------------------------------

JOOR_WAREHOUSES = {"MAIN": "Main Warehouse", "WEST": "West Coast"}  # the brand's JOOR warehouse names


def test_inventory_push_to_joor_from_the_cli_sends_the_erps_stock(
    joor_site: int, joor_sandbox: Any, pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    from core.db import session_scope
    from models import SalesOrder, Site, SyncRun

    # Given the JOOR site pushes immediate and future stock of MAIN and WEST to JOOR's warehouses
    with session_scope() as s:
        site = s.get_one(Site, joor_site)
        site.settings = {**site.settings, "inventory_mode": "both", "inventory_warehouses": JOOR_WAREHOUSES}
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 0  # no order holds stock
        rows = s.execute(
            text(
                "SELECT k.upc, i.warehouse_code, i.on_hand, i.allocated, i.future_qty, i.future_date FROM inventory i "
                "JOIN sku k ON k.sku = i.sku JOIN style st ON st.number = k.style_number WHERE st.active"
            )
        ).all()
    # And what JOOR should then hold, per (warehouse, WIP date or none, UPC), from the ERP rows
    expected: dict[tuple[str, str | None, str], int] = {}
    for upc, warehouse, on_hand, allocated, future_qty, future_date in rows:
        expected[(JOOR_WAREHOUSES[warehouse], None, upc)] = max(0, on_hand - allocated)
        if future_qty and future_date:
            expected[(JOOR_WAREHOUSES[warehouse], future_date.isoformat(), upc)] = future_qty
    assert joor_sandbox.inventory() == [] and expected
    env = cli_env(tmp_path / "home", pg_url, redis_url)

    # When a person pushes the inventory (not a dry run)
    out = ok(bobbin("inventory", "push", "joor-demo", env=env))

    # Then the command says how many rows JOOR accepted, naming the partner as people do
    assert f"Sent {len(expected):,} rows to joor-demo (JOOR) in " in out
    assert f"{len(expected):,} accepted" in out
    # And JOOR holds exactly the ERP's stock, and was never throttled
    shown = {(r["warehouse"], r["inventory_date"], r["upc"]): r["inventory"] for r in joor_sandbox.inventory()}
    assert shown == expected
    (credits,) = joor_sandbox.credits_used().values()
    assert credits["throttled"] == 0
    # And the push is recorded as a run
    with session_scope() as s:
        run = s.scalars(select(SyncRun).where(SyncRun.site_id == joor_site, SyncRun.task == "push_inventory")).one()
        assert run.outcome == "ok" and run.counts["rows_accepted"] == len(expected)

    # When it is pushed again with nothing changed
    again = json.loads(ok(bobbin("inventory", "push", "joor-demo", "--json", env=env)))
    # Then nothing is sent, and JOOR still holds the same stock
    assert again["rows_sent"] == 0
    assert {
        (r["warehouse"], r["inventory_date"], r["upc"]): r["inventory"] for r in joor_sandbox.inventory()
    } == expected


# --- bobbin run, then bobbin down -----------------------------------------------------------------------


def _redis_db_of_its_own(url: str) -> str:
    """The session's Redis under another database number: `bobbin run`'s worker and beat must not
    take the messages of the other tests' workers, nor they its."""
    parts = urlsplit(url)
    current = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(current + 7) % 16}"))


def _ok_imports(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT s.name FROM sync_run r JOIN site s ON s.id = r.site_id "
                    "WHERE r.task = 'import_orders' AND r.outcome = 'ok' AND r.finished_at IS NOT NULL"
                )
            ).scalars()
        )


def test_run_starts_everything_imports_and_mails_then_down_stops_it(
    fresh_db: str, fresh_engine: Engine, redis_url: str, tmp_path: Path
) -> None:
    from email import message_from_bytes

    import psutil
    import redis

    home = tmp_path / "home"
    run_redis = _redis_db_of_its_own(redis_url)
    bb_port, joor_port, flower_port, ebay_port = free_port(), free_port(), free_port(), free_port()
    env = cli_env(
        home,
        fresh_db,
        run_redis,
        SANDBOX_PORT=str(bb_port),
        SANDBOX_JOOR_PORT=str(joor_port),
        SANDBOX_EBAY_PORT=str(ebay_port),
        FLOWER_PORT=str(flower_port),
        FLOWER_USER="ops",
        FLOWER_PASSWORD="pw-for-this-test",
    )
    redis.Redis.from_url(run_redis).flushdb()
    children: list[Any] = []

    # Given `bobbin run` started on an empty database, with no SMTP_URL (mail is caught in files)
    run = Served(["run"], env, tmp_path / "run.out")
    try:
        # When it says it is running
        run.wait_ready(lambda: "Bobbin is running" in run.output(), 180, "`bobbin run` to say it is running")
        out = run.output()
        # Then it names where everything is
        assert f"http://127.0.0.1:{flower_port}" in out and "login ops / pw-for-this-test" in out
        assert f"http://127.0.0.1:{bb_port}/api/v2" in out and f"http://127.0.0.1:{joor_port}/v2" in out
        assert f"each message is a file in {home.absolute() / 'mail'}/" in out
        # And both sandboxes answer
        for port in (bb_port, joor_port, ebay_port):
            status, body = run.wait_ready(
                lambda p=port: answers(f"http://127.0.0.1:{p}/_sandbox/health"), 60, f"the sandbox on {port}"
            )
            assert status == 200 and json.loads(body)["ok"] is True
        # And the first order import of each demo site finished on its worker
        run.wait_ready(
            lambda: _ok_imports(fresh_engine) == {"brandboom-demo", "joor-demo", "ebay-demo"},
            180,
            "the first import of the demo sites",
        )
        # And each order site's error report was caught as a file by its mail catcher (the eBay
        # store's: its held sales, not paid or cancelled)
        mail_dir = home / "mail"
        order_reports = (
            '[Bobbin] Brandboom "brandboom-demo": ',
            '[Bobbin] JOOR "joor-demo": ',
            '[Bobbin] eBay "ebay-demo": ',
        )

        def subjects_once_all_came() -> list[str] | None:
            subjects = sorted(str(message_from_bytes(p.read_bytes())["Subject"]) for p in mail_dir.glob("*.eml"))
            return subjects if all(any(s.startswith(r) for s in subjects) for r in order_reports) else None

        subjects = run.wait_ready(subjects_once_all_came, 120, "the error reports in the mail directory")
        for report in order_reports:
            sent = [s for s in subjects if s.startswith(report)]
            assert len(sent) == 1 and "orders need attention" in sent[0], (report, subjects)
        # (the Loop demo site's returns report may come in the same minute or the next: its poll
        # runs on a beat of its own; if it came, it is that one, once)
        others = [s for s in subjects if not s.startswith(order_reports)]
        assert len(others) <= 1, subjects
        assert all('"loop-demo": ' in s and "returns need attention" in s for s in others), subjects
        # And Flower answers, behind its login
        login = "Basic " + base64.b64encode(b"ops:pw-for-this-test").decode()
        status, _ = run.wait_ready(
            lambda: answers(f"http://127.0.0.1:{flower_port}/", {"Authorization": login}), 120, "Flower"
        )
        assert status == 200
        assert http(f"http://127.0.0.1:{flower_port}/")[0] == 401
        children = psutil.Process(run.proc.pid).children(recursive=True)
        assert len(children) >= 6  # both sandboxes, the mail catcher, the worker, beat, Flower

        # When `bobbin down` runs
        down = bobbin("down", env=env, timeout=180)

        # Then it stopped the run (and no embedded server: none was started)
        assert "Stopped `bobbin run` (worker, beat, Flower, sandboxes)." in ok(down)
        assert "embedded" not in down.stdout
        # And the run ended cleanly, and every process it started is gone
        assert run.proc.wait(60) == 0, run.output()[-4000:]
        gone, alive = psutil.wait_procs(children, timeout=60)
        assert alive == [], [p.pid for p in alive]
        assert all(refuses(p) for p in (bb_port, joor_port, ebay_port, flower_port))
        assert not (home / "run.pid").exists()
        from celery import Celery

        probe = Celery(broker=run_redis)
        try:
            assert probe.control.ping(timeout=1.0) == []  # no worker left on its broker
        finally:
            probe.close()
        # And running it again finds nothing to stop
        assert "No embedded server was running." in ok(bobbin("down", env=env))
    finally:
        run.close()
        for child in children:  # only if the run could not stop them itself
            try:
                if child.is_running():
                    child.kill()
            except psutil.NoSuchProcess:
                pass
        redis.Redis.from_url(run_redis).flushdb()
