"""`bobbin run` (what `make run` starts): the whole system on one machine.

Embedded Postgres and Redis when no URLs are set, migrations, the demo data, a sandbox per partner
that has one (connectors.registry), a mail catcher, the web app (inbound events), and the Celery
worker, beat and Flower as child processes. It imports
once at start so a new user sees orders within a minute, then beat takes over every 15 minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.panel import Panel

from connectors.registry import specs
from core import migrate, runtime
from core.embedded import free_port
from core.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
console = Console()


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass(frozen=True)
class SandboxRun:
    kind: str
    label: str
    port: int
    url: str  # the base URL a site of the partner uses against this sandbox


def sandboxes(settings: Settings) -> list[SandboxRun]:
    """A sandbox per partner that has one (the registry says which), on its configured port when
    that is free, else on a free one."""
    runs = []
    for spec in specs():
        if spec.sandbox is None:
            continue
        port = int(getattr(settings, spec.sandbox.port_setting))
        port = port if _port_free(port) else free_port()
        runs.append(SandboxRun(spec.kind, spec.label, port, f"http://127.0.0.1:{port}{spec.sandbox.api_path}"))
    return runs


def load_demo_sites(urls: dict[str, str | None]) -> list[str]:
    """The demo brand's site of each partner (bobbin/demo_sites.py), pointed at ``urls[kind]``
    (None: the sandbox's default port)."""
    from bobbin.demo_sites import DEMO_SITES

    return [DEMO_SITES[kind](url) for kind, url in urls.items() if kind in DEMO_SITES]


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
    emulators = sandboxes(settings)
    flower_port = settings.flower_port if _port_free(settings.flower_port) else free_port()
    web_port = settings.web_port if _port_free(settings.web_port) else free_port()
    with console.status("Loading demo data…"):
        for line in load_demo_sites({sb.kind: sb.url for sb in emulators}):
            console.print(f"[green]✓[/] {line}")
    first_admin = first_console_admin()
    from bobbin.demo_sites import DEMO_SITE_NAMES

    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        BOBBIN_HOME=str(home),
        FLOWER_PORT=str(flower_port),
        WEB_PORT=str(web_port),
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("LOG_FORMAT", "console")
    mail_note = f"sent through {settings.smtp_url.split('@')[-1]}" if settings.smtp_url else ""
    py, bindir = sys.executable, Path(sys.executable).parent
    celery = str(bindir / "celery")
    logs = home / "logs"
    children = [
        Child(
            f"sandbox-{sb.kind}",
            [str(bindir / "bobbin"), "sandbox", "--partner", sb.kind, "--port", str(sb.port)],
            # A sandbox that pushes events sends them to this run's web app, for its demo site.
            {
                **env,
                "SANDBOX_EVENTS_URL": f"http://127.0.0.1:{web_port}/events/{DEMO_SITE_NAMES.get(sb.kind, sb.kind)}",
            },
            logs,
            echo=False,
        )
        for sb in emulators
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
    from worker.routes import queue_arg  # importing worker builds the app on the broker started above

    children += [
        # One worker for every queue (imports, pushes, writebacks, maintenance, default), two
        # processes: enough on one machine. Production runs a worker per queue group
        # (docker-compose.yml), so a long push never holds the process an import waits for.
        Child(
            "worker",
            [
                celery,
                "-A",
                "worker",
                "worker",
                "-l",
                "INFO",
                "-E",
                "--concurrency",
                "2",
                "-Q",
                queue_arg(),
                "-n",
                "bobbin@%h",
            ],
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
        Child("web", [str(bindir / "bobbin"), "web", "--port", str(web_port)], env, logs, echo=False),
    ]

    def shutdown(*_: object) -> None:
        console.print("\n[bold]Stopping…[/]")
        for c in reversed(children):
            c.stop()
        for c in children:
            c.wait(15)
        pidfile.unlink(missing_ok=True)
        console.print(
            "Stopped worker, beat, Flower, the web app and the sandboxes. Postgres and Redis keep running (`make stop` ends them)."
        )
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    pidfile = runtime.runner_pidfile(settings)
    pidfile.write_text(str(os.getpid()))  # `bobbin down` (make stop) stops this run first
    os.environ.update(DATABASE_URL=db_url, REDIS_URL=redis_url)
    if _wait_for_worker():
        from schedules import active_sites
        from services.runs import import_tasks
        from worker import app

        for site_id, task in import_tasks([site.id for site in active_sites()]).items():
            app.send_task(task, args=[site_id])
    user, password = settings.flower_login()
    console_login = (
        f"login [bold]{first_admin[0]}[/] / [bold]{first_admin[1]}[/] (new admin: shown once)"
        if first_admin
        else "sign in with your console account (bobbin users add NAME --role ROLE)"
    )
    sandbox_lines = "\n".join(
        f"{'Sandboxes' if i == 0 else '':<12}{sb.url}   ({sb.label} emulator, demo credentials)"
        for i, sb in enumerate(emulators)
    )
    console.print(
        Panel.fit(
            f"[bold]Bobbin is running[/]\n\n"
            f"Flower      http://127.0.0.1:{flower_port}   login [bold]{user}[/] / [bold]{password}[/]\n"
            f"{sandbox_lines}\n"
            f"Console     http://127.0.0.1:{web_port}   {console_login}\n"
            f"Web         http://127.0.0.1:{web_port}   (partners' events: POST /events/SITE; /healthz)\n"
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


def first_console_admin() -> tuple[str, str] | None:
    """On the first run (no console account yet), an admin with a generated password: (name,
    password) to show once in the panel; later runs change nothing and return None."""
    from core.db import session_scope
    from services.users import ensure_first_admin

    with session_scope() as s:
        return ensure_first_admin(s, actor="bobbin run")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
