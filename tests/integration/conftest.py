"""End-to-end parts: the Brandboom sandbox over HTTP, a real SMTP server, real Celery workers.

A worker is a separate ``celery -A worker worker`` process on the test Redis and Postgres, so a
test can kill it (SIGKILL) and start another, exactly as production would see it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 60) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(self.messages) >= count, f"expected {count} message(s), got {len(self.messages)}"
        return self.messages


@pytest.fixture()
def smtp(bobbin_home: Path) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    from core.settings import get_settings

    get_settings.cache_clear()
    yield inbox
    controller.stop()
    os.environ.pop("SMTP_URL", None)
    get_settings.cache_clear()


@pytest.fixture()
def sandbox(bobbin_home: Path) -> Iterator[Any]:
    from bobbin.demo import brandboom_seed, build_world
    from sandbox.brandboom.server import BrandboomSandbox
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    sb = BrandboomSandbox(
        port=0, public_key=DEMO_PUBLIC_KEY, secret_key=DEMO_SECRET_KEY, seed=brandboom_seed(build_world())
    )
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture()
def joor_sandbox(bobbin_home: Path) -> Iterator[Any]:
    from bobbin.demo import build_world
    from bobbin.demo_joor import joor_seed
    from sandbox.joor.server import JoorSandbox
    from sandbox.keys import DEMO_JOOR_TOKEN

    sb = JoorSandbox(port=0, token=DEMO_JOOR_TOKEN, seed=joor_seed(build_world())).start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def loop_catalog() -> list[dict[str, Any]]:
    """The demo brand's SKUs as Loop catalog rows (sku, title, variant title, price, UPC): what a
    test's returns are made of (``loop.create_return(lines=loop_catalog[:2])``)."""
    from bobbin.demo import build_world
    from sandbox.loop.demo import catalog_from_world

    return list(catalog_from_world(build_world()))


@pytest.fixture()
def loop() -> Iterator[Any]:
    """An empty Loop shop (the demo API key): each test makes its own returns."""
    from sandbox.loop.demo import loop_api_key
    from sandbox.loop.server import LoopSandbox

    server = LoopSandbox(api_key=loop_api_key()).start()
    yield server
    server.stop()


@pytest.fixture()
def loop_site(db: str, loop: Any) -> int:
    """The Loop demo loaded (its ERP data, the Shopify customer, the site pointing at ``loop``): the site id."""
    from sqlalchemy import select

    from bobbin.demo_sites import LOOP_DEMO_SITE, load_loop_demo
    from core.db import session_scope
    from models import Site

    load_loop_demo(loop.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == LOOP_DEMO_SITE)))


@pytest.fixture()
def ebay() -> Iterator[Any]:
    """The demo eBay store (its 20 sales in every payment and fulfilment state, no listings yet),
    with the demo app keys and refresh token."""
    from bobbin.demo import build_world
    from sandbox.ebay.demo import catalog_from_world, demo_seed, ebay_client_id, ebay_client_secret, ebay_refresh_token
    from sandbox.ebay.server import EbaySandbox

    server = EbaySandbox(
        "127.0.0.1",
        0,
        client_id=ebay_client_id(),
        client_secret=ebay_client_secret(),
        refresh_token=ebay_refresh_token(),
        seed=demo_seed(catalog_from_world(build_world())),
    ).start()
    yield server
    server.stop()


@pytest.fixture()
def ebay_site(db: str, ebay: Any) -> int:
    """The eBay demo loaded (its ERP data, mappings, the site pointing at ``ebay``): the site id."""
    from sqlalchemy import select

    from bobbin.demo_sites import EBAY_DEMO_SITE, load_ebay_demo
    from core.db import session_scope
    from models import Site

    load_ebay_demo(ebay.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == EBAY_DEMO_SITE)))


@pytest.fixture()
def joor_site(db: str, joor_sandbox: Any) -> int:
    """The JOOR demo loaded (its ERP data, mappings and site pointing at ``joor_sandbox``): the site id.
    A test module that needs more (an import, settings) overrides it, asking for this one by name."""
    from sqlalchemy import select

    from bobbin.demo_sites import JOOR_DEMO_SITE, load_joor_demo
    from core.db import session_scope
    from models import Site

    load_joor_demo(joor_sandbox.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == JOOR_DEMO_SITE)))


class Worker:
    """A real Celery worker process."""

    def __init__(self, env: dict[str, str], name: str, extra_args: tuple[str, ...] = ()) -> None:
        self.env, self.name, self.extra_args = env, name, extra_args
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(env["BOBBIN_HOME"]) / f"{name}.log"

    def start(self) -> Worker:
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
                "1",
                "--pool",
                "prefork",
                "-n",
                f"{self.name}@%h",
                "--without-mingle",
                "--without-gossip",
                *self.extra_args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        from worker import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = app.control.ping(destination=[f"{self.name}@{os.uname().nodename}"], timeout=0.5)
            if replies:
                return self
            assert self.proc.poll() is None, f"worker exited early; see {self.log}:\n{self.log.read_text()[-3000:]}"
        raise AssertionError(f"worker did not answer a ping within 60 s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and its pool child), as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture()
def worker_env(pg_url: str, redis_url: str, bobbin_home: Path, smtp: Inbox) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        BOBBIN_HOME=str(bobbin_home),
        LOG_FORMAT="json",
        VISIBILITY_TIMEOUT="10",
        OUTBOX_FLUSH_SECONDS="5",
    )


@pytest.fixture()
def celery_app(redis_url: str) -> Any:
    from worker import app

    _purge(app)
    return app


def _purge(app: Any) -> None:
    import redis

    # A clean broker per test: no message left over from a previous test's killed worker.
    redis.Redis.from_url(app.conf.broker_url).flushdb()


@pytest.fixture()
def start_worker(worker_env: dict[str, str], celery_app: Any) -> Iterator[Any]:
    started: list[Worker] = []

    def start(name: str | None = None, extra_args: tuple[str, ...] = ()) -> Worker:
        w = Worker(worker_env, name or f"w{len(started) + 1}-{os.getpid()}", extra_args).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def wait_until(predicate: Any, timeout: float = 60, interval: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
