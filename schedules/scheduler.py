"""Beat's scheduler: the schedule from ``schedules.build_schedule``, refreshed as sites change,
and exactly one beat at a time.

The single-beat guard is a Postgres advisory lock held on a dedicated connection for the life of
the beat process. A second beat waits as a standby and takes over when the first one's connection
goes away (it stopped, crashed, or was killed) — no stale lock to clear by hand.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from celery.beat import PersistentScheduler
from sqlalchemy import Connection

from core.db import get_engine
from core.locks import try_lock
from core.settings import get_settings
from schedules import active_sites, build_schedule

log = structlog.get_logger()

BEAT_LOCK = "bobbin:beat"
REFRESH_SECONDS = 60  # how soon a new or deactivated site shows in the schedule
STANDBY_POLL_SECONDS = 5


class SiteScheduler(PersistentScheduler):
    _lock_conn: Connection | None = None
    _refreshed_at = 0.0

    def setup_schedule(self) -> None:
        self._hold_beat_lock()
        super().setup_schedule()
        self._refresh(force=True)

    def _hold_beat_lock(self) -> None:
        conn = get_engine().connect()
        waited = False
        while not try_lock(conn, BEAT_LOCK):
            if not waited:
                log.warning("beat_standby", reason="another beat holds the beat lock; waiting to take over")
                waited = True
            time.sleep(STANDBY_POLL_SECONDS)
        self._lock_conn = conn
        log.info("beat_lock_acquired")

    def _refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._refreshed_at < REFRESH_SECONDS:
            return
        try:
            entries = build_schedule(active_sites(), get_settings())
        except Exception as exc:  # keep the last schedule if the database is down for a moment
            log.warning("beat_schedule_refresh_failed", error=str(exc))
            return
        self.merge_inplace(entries)
        self._refreshed_at = time.monotonic()

    def _still_holding(self) -> None:
        """If the lock's connection died (Postgres restarted), the lock is gone: get it back, or stand by."""
        try:
            assert self._lock_conn is not None
            self._lock_conn.exec_driver_sql("SELECT 1")
            self._lock_conn.commit()
        except Exception:
            log.error("beat_lock_lost", reason="the database connection holding the beat lock closed")
            try:
                self._lock_conn.close()  # type: ignore[union-attr]
            except Exception:
                pass
            self._hold_beat_lock()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if time.monotonic() - self._refreshed_at >= REFRESH_SECONDS:
            self._still_holding()
        self._refresh()
        return float(super().tick(*args, **kwargs))

    def close(self) -> None:
        super().close()
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn = None
