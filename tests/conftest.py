"""Real servers for the tests: Postgres and Redis.

Each test session starts its own embedded Postgres and Redis under a temporary directory, unless
``DATABASE_URL`` / ``REDIS_URL`` point at running servers (then a fresh database is created on
that Postgres, and a Redis database number is used as given). Migrations are applied with Alembic,
exactly as the run command does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.embedded import EmbeddedPostgres, EmbeddedRedis

_ORIGINAL_DB = os.environ.get("DATABASE_URL")
_ORIGINAL_REDIS = os.environ.get("REDIS_URL")


@pytest.fixture(scope="session")
def bobbin_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bobbin-home")
    os.environ["BOBBIN_HOME"] = str(home)
    os.environ.setdefault("BOBBIN_SECRET_KEYS", Fernet.generate_key().decode())
    os.environ.setdefault("LOG_FORMAT", "console")
    from core.settings import get_settings

    get_settings.cache_clear()
    return home


@pytest.fixture(scope="session")
def embedded_pg(bobbin_home: Path) -> Iterator[tuple[EmbeddedPostgres, int] | None]:
    if _ORIGINAL_DB:
        yield None
        return
    # Its own directory, outside pytest's numbered temp dirs: another pytest session starting on the
    # same machine tightens those to 0700, and the embedded server runs as its own user, so it could
    # no longer reach its data (seen when sessions ran side by side).
    root = Path(tempfile.mkdtemp(prefix="bobbin-test-pg-"))
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg")
    try:
        yield pg, pg.start()
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(embedded_pg: tuple[EmbeddedPostgres, int] | None, bobbin_home: Path) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from core.settings import Settings

    if embedded_pg is not None:
        pg, port = embedded_pg
        url = pg.ensure_database(port, "bobbin_test")
    else:
        base = make_url(Settings().database_url or "")  # type: ignore[call-arg]
        name = f"bobbin_test_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    from core.migrate import upgrade
    from core.settings import get_settings

    get_settings.cache_clear()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def embedded_redis(bobbin_home: Path) -> Iterator[int | None]:
    """The embedded Redis's port (None when REDIS_URL points at a running server)."""
    if _ORIGINAL_REDIS:
        yield None
        return
    rd = EmbeddedRedis(bobbin_home / "redis", persist=False)
    yield rd.start()
    rd.stop()


@pytest.fixture(scope="session")
def redis_url(embedded_redis: int | None) -> str:
    url = _ORIGINAL_REDIS or "" if embedded_redis is None else EmbeddedRedis.url(embedded_redis)
    os.environ["REDIS_URL"] = url
    from core.settings import get_settings

    get_settings.cache_clear()
    return url


def truncate_all(url: str) -> None:
    import models
    from core.db import engine_for

    names = ", ".join(f'"{t.name}"' for t in models.Base.metadata.sorted_tables)
    with engine_for(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture()
def db(pg_url: str) -> Iterator[str]:
    """An empty, migrated database for one test."""
    truncate_all(pg_url)
    yield pg_url


@pytest.fixture()
def session(db: str) -> Iterator[Session]:
    from core.db import engine_for

    with Session(engine_for(db), expire_on_commit=False) as s:
        yield s
