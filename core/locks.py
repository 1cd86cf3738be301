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

from core.db import get_engine


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


# --- The writeback hold: no writeback for a site while its import reads the partner's lists ------
# An import takes the site's hold exclusively while it reads its pages; a flusher takes it shared
# for each row it sends. Writebacks (an order marked exported, shipped or void) take orders off the
# partner's filtered lists; sent while a reader pages by offset, they make its later pages start
# past orders nobody has read (connectors/paging.py). Postgres queues lock requests in order, so a
# waiting import is not starved by a stream of flushers: once it waits, their try-locks fail.

# How long an import waits for the sends in flight to finish before it reads anyway (the paging
# check still sees a shift and reads again). One send is one HTTP call; JOOR's credit wait can be
# longer, and an import should not sit behind it.
HOLD_WAIT_SECONDS = 60


def hold_key(site_id: int) -> int:
    """The advisory-lock key of a site's writeback hold (flushers take it shared, per row)."""
    return lock_key(site_lock_name("writeback_hold", site_id))


@contextmanager
def writeback_hold(site_id: int, wait_seconds: float = HOLD_WAIT_SECONDS) -> Iterator[bool]:
    """Hold the site's writebacks for the block. Waits up to ``wait_seconds`` for sends in flight;
    yields False (and holds nothing) when they did not finish in time."""
    key = hold_key(site_id)
    with get_engine().connect() as conn:
        try:
            # SET LOCAL ends with this transaction; the session-level advisory lock outlives it.
            conn.execute(text(f"SET LOCAL lock_timeout = '{max(1, int(wait_seconds * 1000))}ms'"))
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            got = True
        except DBAPIError as exc:
            conn.rollback()
            if getattr(exc.orig, "pgcode", None) != "55P03":  # lock_not_available: waited out
                raise
            got = False
        try:
            yield got
        finally:
            if got:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
                except DBAPIError:
                    conn.invalidate()  # the connection died: the hold died with it
