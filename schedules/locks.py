"""One at a time: per-site task locks and the single-beat lock, as Postgres advisory locks.

An advisory lock lives on one database connection, so a worker or beat that dies (even by
SIGKILL) releases it the moment its connection closes — no expiry to tune, no stale lock that
blocks a redelivered task. The lock name is readable: it is also set as the connection's
``application_name``, so ``pg_stat_activity`` shows who holds what.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from bobbin.db import get_engine


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a readable lock name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def site_lock_name(task: str, site_id: int) -> str:
    return f"bobbin:{task}:site:{site_id}"


def try_lock(conn: Connection, name: str) -> bool:
    got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar())
    if got:
        conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": name[:63]})
    conn.commit()
    return got


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Hold ``name`` for the block if nobody else does; yields False (never blocks) otherwise."""
    with get_engine().connect() as conn:
        got = try_lock(conn, name)
        try:
            yield got
        finally:
            if got:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
                    conn.execute(text("SELECT set_config('application_name', '', false)"))
                    conn.commit()
                except DBAPIError:
                    # The connection died (a database restart): the lock died with it. Raising here
                    # would hide the error that ended the block.
                    conn.invalidate()
