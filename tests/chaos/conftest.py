"""The chaos suite's parts: real workers and beats it starts, kills and restarts; the Brandboom
sandbox with its faults; the demo brand's site; and the figures printed at the end.

Workers here are ``celery -A worker worker`` processes like production's, with the test seams of
``tests/chaos/worker_seams.py`` (``-I``) and a 10 s Redis visibility timeout, so a task whose
worker vanished is redelivered within seconds instead of an hour. Two ways to kill one:

- :meth:`ChaosWorker.kill_child` — SIGKILL the pool process running the task (what the kernel's
  OOM killer does): the worker's main process sees it die and, ``task_reject_on_worker_lost``,
  puts the message back at once;
- :meth:`ChaosWorker.kill` — SIGKILL the whole worker (a crashed host): nobody acknowledges or
  rejects the message; Redis gives it to another worker after the visibility timeout.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from core.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.chaos import figures
from tests.ports import start_on_a_free_port, start_on_port

ROOT = Path(__file__).resolve().parents[2]
SEAMS = "tests.chaos.worker_seams"
VISIBILITY_TIMEOUT = 10  # the smallest the settings allow; production's default is 3600
# Partner read timeout in the in-process fault cases (production: 30 s): long enough that a healthy
# local answer on a loaded 2-core machine never meets it, short enough that the hangs cost little.
READ_TIMEOUT = 1.0


# --- figures -------------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not figures.ROWS and not figures.RECOVERY and not figures.RETURN_ROWS:
        return
    tr = terminalreporter
    tr.section("chaos figures (RELIABILITY.md)")
    if figures.ROWS:
        tr.write_line("| " + " | ".join(figures.COLUMNS) + " |")
        for row in figures.ROWS:
            tr.write_line(figures.format_row(row))
    if figures.RETURN_ROWS:
        tr.write_line("| " + " | ".join(figures.RETURN_COLUMNS) + " |")
        for row in figures.RETURN_ROWS:
            tr.write_line(figures.format_row(row, figures.RETURN_COLUMNS))
    for line in figures.recovery_lines():
        tr.write_line(f"recovery after a killed worker — {line}")


# --- helpers -------------------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], Any], timeout: float = 60, interval: float = 0.1, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a prefork worker's pool processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


class ChaosWorker:
    """A real ``celery -A worker worker`` process (prefork), with the chaos seams imported."""

    def __init__(self, env: dict[str, str], name: str, app: Any, log_dir: Path, *, concurrency: int = 1) -> None:
        self.env, self.name, self.app, self.concurrency = env, name, app, concurrency
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def node(self) -> str:
        return f"{self.name}@{os.uname().nodename}"

    def start(self, timeout: float = 60) -> ChaosWorker:
        return self.launch().ready(timeout)

    def launch(self) -> ChaosWorker:
        """Start the process without waiting for it (``ready()`` waits): several start together."""
        with self.log.open("ab") as logf:
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
                    f"{self.name}@%h",
                    "--without-mingle",
                    "--without-gossip",
                    "-I",
                    SEAMS,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def ready(self, timeout: float = 60) -> ChaosWorker:
        """Wait until the worker answers a ping."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.app.control.ping(destination=[self.node], timeout=0.5):
                    return self
            except Exception:  # the broker may be restarting: keep asking
                time.sleep(0.2)
            assert self.proc.poll() is None, f"worker exited early; see {self.log}:\n{self.log.read_text()[-3000:]}"
        raise AssertionError(f"worker {self.name} did not answer a ping within {timeout:.0f} s; see {self.log}")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        return child_pids(self.proc.pid) if self.alive else []  # type: ignore[union-attr]

    def kill_child(self, pid: int | None = None) -> int:
        """SIGKILL a pool process — ``pid`` (a started task's ``result.info["pid"]``), else the only
        one at -c 1: the main process sees it die and requeues its task."""
        children = self.children()
        if pid is None:
            [pid] = children
        assert pid in children, f"{pid} is not a pool process of {self.name} ({children})"
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and pool, as a crashed host would."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
            self.proc.wait(10)  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGTERM)  # type: ignore[union-attr]
            try:
                self.proc.wait(15)  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                self.kill()

    def events(self) -> list[dict[str, Any]]:
        """The worker's JSON log lines (LOG_FORMAT=json)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found


class Beat:
    """A real ``celery -A worker beat`` process with its own schedule file and log."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("ab") as logf:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "worker",
                    "beat",
                    "-l",
                    "INFO",
                    "--schedule",
                    str(log_dir / f"{name}-schedule"),
                ],
                cwd=ROOT,
                env=env,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def events(self) -> list[str]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(str(json.loads(line).get("event", "")))
                except ValueError:
                    continue
        return found

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def flush_broker(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture()
def chaos_app(redis_url: str) -> Any:
    """The worker's Celery app in this process, on a broker emptied for the test."""
    from worker import app

    flush_broker(app.conf.broker_url)
    return app


@pytest.fixture()
def worker_env(db: str, redis_url: str, bobbin_home: Path) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=db,
        REDIS_URL=redis_url,
        BOBBIN_HOME=str(bobbin_home),
        LOG_FORMAT="json",
        VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        OUTBOX_FLUSH_SECONDS="5",
    )


@pytest.fixture()
def workers(worker_env: dict[str, str], chaos_app: Any, tmp_path: Path) -> Iterator[Callable[..., ChaosWorker]]:
    """``workers(name, concurrency=1, env=None, wait=True)`` starts a worker (``wait=False``: call
    its ``ready()`` later, so several start together); all are stopped after the test."""
    started: list[ChaosWorker] = []

    def start(name: str, concurrency: int = 1, env: dict[str, str] | None = None, wait: bool = True) -> ChaosWorker:
        w = ChaosWorker(
            {**worker_env, **(env or {})}, f"{name}-{os.getpid()}", chaos_app, tmp_path, concurrency=concurrency
        )
        started.append(w)
        w.launch()
        return w.ready() if wait else w

    yield start
    for w in started:
        w.stop()


@pytest.fixture()
def brandboom(bobbin_home: Path) -> Iterator[Any]:
    """The Brandboom sandbox seeded with the demo brand; orders its listing faults add are valid
    demo orders (``bobbin.demo.make_order``) with fresh ids."""
    from bobbin.demo import brandboom_seed, build_world, make_order
    from sandbox.brandboom.server import BrandboomSandbox
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    world = build_world()
    sb = BrandboomSandbox(port=0, public_key=DEMO_PUBLIC_KEY, secret_key=DEMO_SECRET_KEY, seed=brandboom_seed(world))
    ids = itertools.count(880_000)
    sb.order_factory = lambda n: [make_order(world, id=next(ids)) for _ in range(n)]
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture()
def demo_site(db: str, brandboom: Any) -> int:
    """The demo brand in the ERP and its Brandboom site on the sandbox, read in pages of 20."""
    from sqlalchemy import select

    from bobbin.demo_sites import load_demo
    from core.db import session_scope
    from models import Site

    load_demo(brandboom.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "page_size": 20}
        return int(site.id)


@pytest.fixture()
def joor(bobbin_home: Any) -> Iterator[Any]:
    from bobbin.demo import build_world
    from bobbin.demo_joor import joor_seed, make_joor_order
    from sandbox.joor.server import JoorSandbox
    from sandbox.keys import DEMO_JOOR_TOKEN

    world = build_world()
    sb = JoorSandbox(port=0, token=DEMO_JOOR_TOKEN, seed=joor_seed(world), credits=100_000)
    ids = itertools.count(4_880_000)
    sb.order_factory = lambda n: [make_joor_order(world, id=next(ids)) for _ in range(n)]
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture()
def joor_site(db: str, joor: Any) -> int:
    from sqlalchemy import select

    from bobbin.demo_sites import JOOR_DEMO_SITE, load_joor_demo
    from core.db import session_scope
    from models import Site

    load_joor_demo(joor.url)
    with session_scope() as s:
        site = s.scalars(select(Site).where(Site.name == JOOR_DEMO_SITE)).one()
        site.settings = {**site.settings, "page_size": 20}
        return int(site.id)


@pytest.fixture()
def fast_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """Partner clients in this process: a 0.3 s read timeout and millisecond backoff (and JOOR's 1 s
    margin after a Retry-After gone), so a hang costs 0.3 s and a retry nothing — the real
    retry loop, error table and credit budget otherwise."""
    import connectors.brandboom.client as brandboom_client
    import connectors.http as http
    import connectors.joor.client as joor_client

    real = http.send

    def send(session: Any, method: str, url: str, *, policy: Any, **kwargs: Any) -> Any:
        policy = replace(policy, read_timeout=READ_TIMEOUT, connect_timeout=1.0, backoff_base=0.005, backoff_cap=0.02)
        return real(session, method, url, policy=policy, **kwargs)

    monkeypatch.setattr(brandboom_client, "send", send)
    monkeypatch.setattr(joor_client, "send", send)
    monkeypatch.setattr(joor_client, "WINDOW_MARGIN_SECONDS", 0.01)  # after a 429, wait Retry-After only


# --- the suite's own Postgres and Redis, to stop, kill and start again -----------------------------


def _start_on(server: EmbeddedPostgres | EmbeddedRedis, port: int) -> int:
    """Start ``server`` on ``port``; raises unless it is up on that very port (not, say, another
    process that took the port while this one failed to bind it)."""
    got = server.start(port)
    if got != port or server.running_port() != port:
        raise RuntimeError(f"{type(server).__name__} is not up on port {port} (got {got}); see {server.datadir}")
    return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class OwnServers:
    """The suite's own embedded Postgres and Redis (append-only file), in a temporary directory:
    the restart and crash cases stop, kill and start them again on their ports."""

    pg: EmbeddedPostgres
    pg_port: int
    redis: EmbeddedRedis
    redis_port: int
    db_url: str

    @property
    def redis_url(self) -> str:
        return EmbeddedRedis.url(self.redis_port)

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """The environment of a worker or beat on these servers (``extra``: more settings)."""
        return dict(
            os.environ,
            DATABASE_URL=self.db_url,
            REDIS_URL=self.redis_url,
            BOBBIN_HOME=str(home),
            LOG_FORMAT="json",
            VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            OUTBOX_FLUSH_SECONDS="5",
            **extra,
        )

    def restart_redis(self, *, empty: bool = False) -> None:
        """Stop Redis, and once its process is gone start it again on the same port. ``empty``: its
        files are deleted before the start, so it comes back with nothing — every queued and
        unacknowledged message, result and console session gone, as with a Redis that keeps
        nothing on disk."""
        pid = int((self.redis.datadir / "redis.pid").read_text().strip())
        self.redis.stop()  # SIGTERM, waits a few seconds at most
        wait_until(lambda: not _alive(pid), timeout=60, interval=0.05, what="the stopped Redis to exit")
        if empty:  # the append-only file (a directory of them from Redis 7 on) and any snapshot
            shutil.rmtree(self.redis.datadir / "appendonlydir", ignore_errors=True)
            for name in ("appendonly.aof", "dump.rdb"):
                (self.redis.datadir / name).unlink(missing_ok=True)
        start_on_port(lambda port: _start_on(self.redis, port), self.redis_port, what="Redis")

    def restart_postgres(self) -> None:
        """Stop Postgres (fast: sessions cut; pg_ctl waits for the end) and start it again on its port."""
        self.pg.stop()
        self.start_postgres()

    def start_postgres(self) -> None:
        start_on_port(lambda port: _start_on(self.pg, port), self.pg_port, what="Postgres")

    def kill_postgres(self) -> list[int]:
        """SIGKILL the postmaster — no shutdown checkpoint, sessions cut mid-statement — and wait
        for the server processes it leaves (they exit on their own once it is gone; any still there
        after 10 s are SIGKILLed too). Starting it again is then a crash recovery (WAL replay).
        Returns the server's pids."""
        pid = int((self.pg.datadir / "postmaster.pid").read_text().splitlines()[0])
        children = child_pids(pid)
        os.kill(pid, signal.SIGKILL)
        server = [pid, *children]
        try:
            wait_until(lambda: not any(_alive(p) for p in server), timeout=10, interval=0.02, what="postgres to exit")
        except AssertionError:
            for p in server:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGKILL)
            wait_until(lambda: not any(_alive(p) for p in server), timeout=10, interval=0.02, what="postgres to die")
        return server

    def recovered(self) -> bool:
        """Whether the server's log says its last start was a crash recovery."""
        log = (self.pg.datadir / "server.log").read_text(errors="replace")
        last_start = log.rfind("starting PostgreSQL")
        return "not properly shut down; automatic recovery in progress" in log[last_start:]


@pytest.fixture(scope="package")
def own_servers(tmp_path_factory: pytest.TempPathFactory, bobbin_home: Path) -> Iterator[OwnServers]:
    from core.migrate import upgrade

    root = tmp_path_factory.mktemp("own-servers")
    pg, redis = EmbeddedPostgres(root / "pg"), EmbeddedRedis(root / "redis", persist=True)
    # Neither can bind port 0 and say which port it got: a probed free port, another if it was taken
    pg_port = start_on_a_free_port(lambda port: _start_on(pg, port), what="the own Postgres")
    redis_port = start_on_a_free_port(lambda port: _start_on(redis, port), what="the own Redis")
    try:
        url = pg.ensure_database(pg_port, "bobbin_chaos")
        upgrade(url)
        yield OwnServers(pg, pg_port, redis, redis_port, url)
    finally:
        redis.stop()
        pg.stop()


@pytest.fixture()
def on_own_servers(own_servers: OwnServers, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """This process talks to the own servers for the test; a Celery app on the own Redis."""
    from celery import Celery

    from core.settings import get_settings
    from tests.conftest import truncate_all
    from worker import app as worker_app  # (imported on the session's Redis, which it keeps)

    monkeypatch.setenv("DATABASE_URL", own_servers.db_url)
    monkeypatch.setenv("REDIS_URL", own_servers.redis_url)
    get_settings.cache_clear()
    truncate_all(own_servers.db_url)
    flush_broker(own_servers.redis_url)
    app = Celery("chaos-own-servers", broker=own_servers.redis_url, backend=own_servers.redis_url)
    app.conf.update(
        # the worker's queues and routes, so a task sent from here lands on the queue it consumes
        task_queues=worker_app.conf.task_queues,
        task_default_queue=worker_app.conf.task_default_queue,
        task_routes=worker_app.conf.task_routes,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    )
    yield app
    app.close()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture()
def own_worker(own_servers: OwnServers, on_own_servers: Any, bobbin_home: Path, tmp_path: Path) -> Iterator[Any]:
    env = own_servers.env(bobbin_home)
    worker = ChaosWorker(env, f"restarts-{os.getpid()}", on_own_servers, tmp_path, concurrency=2).start()
    yield worker
    worker.stop()


@pytest.fixture()
def own_site(on_own_servers: Any, brandboom: Any) -> int:
    from sqlalchemy import select

    from bobbin.demo_sites import load_demo
    from core.db import session_scope
    from models import Site

    load_demo(brandboom.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "page_size": 20}
        return int(site.id)


def drain_outbox(timeout: float = 90.0) -> None:
    """Send every pending writeback, as the scheduled flush would over the next hours: each round
    makes the waiting rows due at once (the backoff is time passing, not a result) and flushes.

    The worker may be flushing the same rows at the same time (the flush an import sends when it
    ends, or a retried one): its rows are locked to it and this flush skips them, and a site whose
    import still runs holds its writebacks. So rounds go on, a moment apart, until nothing is
    pending or ``timeout`` has passed; the failure says what each pending row last showed."""
    import time

    from sqlalchemy import func, select, update

    from core.db import session_scope
    from models import OutboxEntry
    from services import writeback

    deadline = time.monotonic() + timeout
    rounds, last = 0, None
    while True:
        with session_scope() as s:
            s.execute(update(OutboxEntry).where(OutboxEntry.state == "pending").values(next_attempt_at=func.now()))
        last = writeback.flush().as_dict()
        rounds += 1
        with session_scope() as s:
            pending = s.execute(
                select(OutboxEntry.id, OutboxEntry.site_id, OutboxEntry.attempts, OutboxEntry.last_error)
                .where(OutboxEntry.state == "pending")
                .order_by(OutboxEntry.id)
            ).all()
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"{len(pending)} writebacks still pending after {rounds} flushes in {timeout:.0f} s; "
                f"the last flush: {last}; first pending (id, site, attempts, last error): {pending[:5]}"
            )
        if not last["sent"]:
            time.sleep(0.25)  # skipped (locked to another flusher, or held): let that one finish


def brandboom_expected(extra: Any = ()) -> Any:
    """Which Brandboom orders must end imported: the demo's valid ones, one of its two same-PO
    orders, and ``extra`` (orders made with ``make_order``, valid by construction)."""
    from bobbin.demo import O_DUPLICATE_FIRST, O_DUPLICATE_PO, build_world
    from tests.chaos.invariants import Expected

    pair = {str(O_DUPLICATE_FIRST), str(O_DUPLICATE_PO)}
    valid = {str(i) for i in build_world().valid_order_ids()} - pair
    return Expected(valid, [pair]).plus(extra)


def brandboom_added(sandbox: Any) -> set[str]:
    """Brandboom orders the tests (or listing faults) added: ids from 500000 (the demo's are 31xxxx)."""
    return {str(o["id"]) for o in sandbox.orders() if int(o["id"]) >= 500_000}
