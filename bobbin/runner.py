"""`bobbin run` (what `make run` starts): the whole system on one machine.

Embedded Postgres and Redis when no URLs are set, migrations, the demo data, the Brandboom
sandbox, a mail catcher, and the Celery worker, beat and Flower as child processes. It imports
once at start so a new user sees orders within a minute, then beat takes over every 15 minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core import migrate, runtime
from core.db import session_scope
from core.embedded import free_port
from core.settings import get_settings
from models import Site
from services.fixes import upsert_mapping
from services.sites import create_site

if TYPE_CHECKING:
    from bobbin.demo import DemoWorld

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = "brandboom-demo"
JOOR_DEMO_SITE = "joor-demo"
console = Console()


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def load_demo(sandbox_url: str | None = None) -> str:
    """Load the demo ERP data and the demo Brandboom site (once); point the site at the sandbox."""
    url = sandbox_url or f"http://127.0.0.1:{get_settings().sandbox_port}/api/v2"
    return _load_site(DEMO_SITE, url, _brandboom_demo_site)


def load_joor_demo(joor_url: str | None = None) -> str:
    """The same for the demo JOOR site (and the ERP rows only the JOOR demo needs)."""
    url = joor_url or f"http://127.0.0.1:{get_settings().joor_sandbox_port}/v2"
    return _load_site(JOOR_DEMO_SITE, url, _joor_demo_site)


def _load_site(name: str, url: str, create: Callable[[Session, DemoWorld, str], None]) -> str:
    from bobbin.demo import build_world, load_erp

    with session_scope() as s:
        site = s.scalar(select(Site).where(Site.name == name))
        if site is not None:
            site.base_url = url
            return f"demo site {name} already there"
        world = build_world()
        counts = load_erp(s, world)
        create(s, world, url)
    loaded = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    return f"demo site {name} added" + (f"; loaded demo ERP data: {loaded}" if loaded else "")


def _brandboom_demo_site(s: Session, world: DemoWorld, url: str) -> None:
    from bobbin.demo import demo_mappings
    from sandbox.keys import sandbox_keys

    site = create_site(
        s,
        name=DEMO_SITE,
        kind="brandboom",
        base_url=url,
        credentials=dict(zip(("public_key", "secret_key"), sandbox_keys(), strict=True)),
        division=world.divisions[0]["code"],
        notify_emails=["orders@harborandpine.example"],
        settings={"default_warehouse": world.warehouses[0]["code"]},
    )
    for m in demo_mappings():
        upsert_mapping(s, site.id, m["kind"], m["partner_value"], m["erp_code"], m.get("how", "manual"))


def _joor_demo_site(s: Session, world: DemoWorld, url: str) -> None:
    from bobbin.demo_joor import extra_erp_rows, joor_mappings
    from models import Customer, CustomerAddress
    from sandbox.keys import joor_token

    extra = extra_erp_rows(world)
    for model, rows in ((Customer, extra.get("customers", [])), (CustomerAddress, extra.get("customer_addresses", []))):
        if rows:
            s.execute(pg_insert(model).on_conflict_do_nothing(), rows)
    setup = joor_mappings()
    site = create_site(
        s,
        name=JOOR_DEMO_SITE,
        kind="joor",
        base_url=url,
        credentials={"api_token": joor_token()},
        division=world.divisions[0]["code"],
        notify_emails=["orders@harborandpine.example"],
        settings={"default_warehouse": world.warehouses[0]["code"], **setup["settings"]},
    )
    for m in setup["mappings"]:
        upsert_mapping(s, site.id, m["kind"], m["partner_value"], m["erp_code"], m.get("how", "manual"))


class Child:
    def __init__(self, name: str, args: list[str], env: dict[str, str], logdir: Path, echo: bool) -> None:
        self.name = name
        self.logfile = logdir / f"{name}.log"
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._thread = threading.Thread(target=self._pump, args=(self.proc.stdout, echo), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str] | None, echo: bool) -> None:
        assert stream is not None
        with self.logfile.open("a") as log:
            for line in stream:
                log.write(line)
                log.flush()
                if echo:
                    console.print(
                        f"[dim]{self.name:>7}[/] | {line.rstrip()}", markup=True, highlight=False, soft_wrap=True
                    )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def _wait_for_worker(timeout: float = 60) -> bool:
    from worker import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return True
        time.sleep(0.5)
    return False


def run() -> None:
    settings = get_settings()
    home = settings.home.absolute()
    (home / "logs").mkdir(parents=True, exist_ok=True)
    with console.status("Starting Postgres and Redis…"):
        db_url = runtime.database_url(settings)
        redis_url = runtime.redis_url(settings)
    with console.status("Applying migrations…"):
        migrate.upgrade(db_url)
    sandbox_port = settings.sandbox_port if _port_free(settings.sandbox_port) else free_port()
    joor_port = settings.joor_sandbox_port if _port_free(settings.joor_sandbox_port) else free_port()
    flower_port = settings.flower_port if _port_free(settings.flower_port) else free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}/api/v2"
    joor_url = f"http://127.0.0.1:{joor_port}/v2"
    with console.status("Loading demo data…"):
        console.print(f"[green]✓[/] {load_demo(sandbox_url)}")
        console.print(f"[green]✓[/] {load_joor_demo(joor_url)}")

    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        BOBBIN_HOME=str(home),
        FLOWER_PORT=str(flower_port),
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("LOG_FORMAT", "console")
    mail_note = f"sent through {settings.smtp_url.split('@')[-1]}" if settings.smtp_url else ""
    py, bindir = sys.executable, Path(sys.executable).parent
    celery = str(bindir / "celery")
    logs = home / "logs"
    children = [
        Child("sandbox", [str(bindir / "bobbin"), "sandbox", "--port", str(sandbox_port)], env, logs, echo=False),
        Child(
            "joor",
            [str(bindir / "bobbin"), "sandbox", "--partner", "joor", "--port", str(joor_port)],
            env,
            logs,
            echo=False,
        ),
    ]
    if not settings.smtp_url:
        smtp_port = free_port()
        env["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
        children.append(
            Child(
                "mail",
                [
                    py,
                    "-c",
                    "import sys; from core.mail import serve; serve(sys.argv[1], int(sys.argv[2]))",
                    str(settings.mail_dir.absolute()),
                    str(smtp_port),
                ],
                env,
                logs,
                echo=False,
            )
        )
        mail_note = f"caught locally: each message is a file in {settings.mail_dir.absolute()}/"
    children += [
        Child(
            "worker",
            [celery, "-A", "worker", "worker", "-l", "INFO", "-E", "--concurrency", "2", "-n", "bobbin@%h"],
            env,
            logs,
            echo=True,
        ),
        Child("beat", [celery, "-A", "worker", "beat", "-l", "INFO"], env, logs, echo=True),
        Child(
            "flower",
            [celery, "-A", "worker", "flower", f"--port={flower_port}", "--address=127.0.0.1"],
            env,
            logs,
            echo=False,
        ),
    ]

    def shutdown(*_: object) -> None:
        console.print("\n[bold]Stopping…[/]")
        for c in reversed(children):
            c.stop()
        for c in children:
            c.wait(15)
        pidfile.unlink(missing_ok=True)
        console.print(
            "Stopped worker, beat, Flower and the sandboxes. Postgres and Redis keep running (`make stop` ends them)."
        )
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    pidfile = runtime.runner_pidfile(settings)
    pidfile.write_text(str(os.getpid()))  # `bobbin down` (make stop) stops this run first
    os.environ.update(DATABASE_URL=db_url, REDIS_URL=redis_url)
    if _wait_for_worker():
        from schedules import active_sites
        from worker import app

        for site in active_sites():
            app.send_task("tasks.orders.import_orders", args=[site.id])
    user, password = settings.flower_login()
    console.print(
        Panel.fit(
            f"[bold]Bobbin is running[/]\n\n"
            f"Flower      http://127.0.0.1:{flower_port}   login [bold]{user}[/] / [bold]{password}[/]\n"
            f"Sandboxes   {sandbox_url}   (Brandboom emulator, demo keys)\n"
            f"            {joor_url}       (JOOR emulator, demo token)\n"
            f"Mail        {mail_note}\n"
            f"Logs        {logs}/\n"
            f"Database    {_safe(db_url)}\n"
            f"Broker      {redis_url}\n\n"
            f"An import of every site started now; beat repeats it every {settings.import_interval_minutes} minutes.\n"
            f"In another terminal: [bold].venv/bin/bobbin status[/], [bold].venv/bin/bobbin orders list[/]\n"
            f"Stop with Ctrl-C (then `make stop` to stop Postgres and Redis).",
            title="make run",
        )
    )
    while True:
        for c in children:
            if c.proc.poll() is not None:
                console.print(f"[red]{c.name} exited with code {c.proc.returncode}; see {c.logfile}[/]")
                shutdown()
        time.sleep(1)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
