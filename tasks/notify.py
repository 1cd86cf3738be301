"""Notifier tasks: the new-errors report after an import, and the daily digest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from core.mail import MailError
from models import Site
from services import notify
from worker import app


@app.task(name="tasks.notify.send_error_report", site_arg=True, autoretry_for=(MailError, OperationalError))
def send_error_report(site_id: int, kind: notify.ReportKind = "errors") -> dict[str, Any]:
    """E-mail the site's contacts the errors not reported yet (kind="errors") or all open ones ("digest")."""
    with advisory_lock(site_lock_name(f"notify_{kind}", int(site_id))) as got:
        if not got:
            return {"sent": False, "reason": "another report for this site is being sent"}
        with session_scope() as s:
            return notify.send_error_report(s, int(site_id), kind=kind)


@app.task(name="tasks.notify.send_digests")
def send_digests() -> dict[str, Any]:
    """Daily: one digest per active site with unresolved errors."""
    with session_scope() as s:
        site_ids = list(s.scalars(select(Site.id).where(Site.active.is_(True))))
    for sid in site_ids:
        send_error_report.delay(sid, "digest")
    return {"sites": site_ids}
