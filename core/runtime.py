"""Where the database and the broker are: the configured URLs, or the embedded servers.

With ``DATABASE_URL`` / ``REDIS_URL`` unset, the embedded servers under ``BOBBIN_HOME`` are
started (or found running) and their URLs exported into the environment, so every process this
one starts (worker, beat, Flower) uses the same servers.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.embedded import EmbeddedPostgres, EmbeddedRedis
from core.settings import Settings, get_settings

DATABASE_NAME = "bobbin"


def database_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    pg = EmbeddedPostgres(settings.home / "postgres")
    url = pg.ensure_database(pg.start(), DATABASE_NAME)
    os.environ["DATABASE_URL"] = url
    return url


def redis_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    if settings.redis_url:
        return settings.redis_url
    url = EmbeddedRedis.url(EmbeddedRedis(settings.home / "redis").start())
    os.environ["REDIS_URL"] = url
    return url


def stop_embedded(settings: Settings | None = None) -> list[str]:
    """Stop a running `bobbin run` (its worker, beat, Flower, sandboxes) and then whichever
    embedded servers run under BOBBIN_HOME; returns what was stopped."""
    settings = settings or get_settings()
    stopped = []
    if stop_runner(settings):
        stopped.append("`bobbin run` (worker, beat, Flower, sandboxes)")
    pg, rd = EmbeddedPostgres(settings.home / "postgres"), EmbeddedRedis(settings.home / "redis")
    if pg.running_port():
        pg.stop()
        stopped.append("the embedded Postgres")
    if rd.running_port():
        rd.stop()
        stopped.append("the embedded Redis")
    return stopped


def runner_pidfile(settings: Settings) -> Path:
    return settings.home / "run.pid"


def stop_runner(settings: Settings, timeout: float = 40.0) -> bool:
    """SIGTERM the `bobbin run` of this BOBBIN_HOME, if one runs, and wait for it to finish."""
    import signal
    import time

    pidfile = runner_pidfile(settings)
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return True
