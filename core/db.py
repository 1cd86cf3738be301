"""Engine and sessions. One engine per process and URL; sessions are short and explicit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core import runtime

_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    if url not in _engines:
        # pool_pre_ping: a worker survives a Postgres restart without failing its next task.
        _engines[url] = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    return _engines[url]


def get_engine() -> Engine:
    return engine_for(runtime.database_url())


def reset_engines() -> None:
    """Drop pooled connections: after a fork (each worker child opens its own), or a server restart."""
    for eng in _engines.values():
        eng.dispose(close=False)
    _engines.clear()


def new_session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` is the database connection going away (Postgres restarted or killed),
    not something about the rows: nothing more can be written on that session, and a fallback
    that tries (a savepoint's rollback, one order at a time) would only fail again, turning the
    retryable error into another. Callers re-raise it; the task's retry takes it from there."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
