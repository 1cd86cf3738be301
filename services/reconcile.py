"""Recovery and alarms: what a scheduled check finds stuck, silent or given up.

- **Abandoned runs**: a sync run still "running" whose site lock nobody holds belongs to a worker
  that is gone (and whose message may be gone too, e.g. a Redis restart without persistence).
  It is closed as failed and the site's import is enqueued again.
- **Stuck orders**: orders staged but not validated, or valid but not imported, past two import
  intervals: their site is validated and imported again.
- **Unprocessed events**: an event a partner pushed, stored as ``received`` more than
  ``EVENT_GRACE`` ago and still not processed, lost its message to the worker (the broker was down
  when it arrived, or Redis restarted empty): its processing task is enqueued again. Processing is
  idempotent (the row is locked and a processed row is left as it is), so an event whose message
  was only slow is processed once all the same.
- **Silent sites**: an active site with no successful import for ``ALARM_AFTER_INTERVALS``
  intervals raises an alarm — by e-mail once per silence, and in `bobbin status` for as long as it
  lasts (the silent non-sync is what users of integrations complain about most).
- **Dead letters** (writebacks that gave up, tasks whose worker kept dying) are counted for the
  status and the e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connectors.registry import label as partner_label
from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from core.mail import HEADER_POLICY, send_message
from core.settings import Settings, get_settings
from models import ErrorReport, InboundEvent, InboundOrder, OutboxEntry, Site, SyncRun
from services import links
from services.runs import ABANDONED, is_import
from services.sites import site_settings

log = structlog.get_logger()

RUN_GRACE = timedelta(minutes=2)  # a run younger than this may not have taken its lock yet
# An event is processed within moments of its arrival; one still "received" after this lost its message.
EVENT_GRACE = timedelta(minutes=2)
EVENT_SWEEP_LIMIT = 1000  # events enqueued again per pass, oldest first; the rest on the next pass


@dataclass(frozen=True)
class Alarm:
    site_id: int
    site_name: str
    since: datetime | None  # the last successful import, or None if never
    intervals: int  # how many import intervals without one
    last_error: str | None

    def sentence(self) -> str:
        when = f"since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else "ever"
        tail = f"; last error: {self.last_error}" if self.last_error else ""
        return f"site {self.site_name} has not imported successfully {when} ({self.intervals} intervals){tail}"


def interval_minutes(site: Site, settings: Settings) -> int:
    return site_settings(site).import_minutes or settings.import_interval_minutes


def site_alarm(session: Session, site: Site, settings: Settings, now: datetime) -> Alarm | None:
    """The silence alarm of one site, if it is silent for ALARM_AFTER_INTERVALS intervals."""
    if not site.active:
        return None
    window = timedelta(minutes=interval_minutes(site, settings) * settings.alarm_after_intervals)
    last_ok = session.scalar(
        select(func.max(SyncRun.finished_at)).where(
            SyncRun.site_id == site.id, is_import(SyncRun.task), SyncRun.outcome == "ok"
        )
    )
    reference = last_ok or site.created_at
    if now - reference < window:
        return None
    last_error = session.scalar(
        select(SyncRun.error)
        .where(
            SyncRun.site_id == site.id,
            is_import(SyncRun.task),
            SyncRun.outcome.in_(("failed", "dead", "incomplete")),
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    )
    intervals = int((now - reference) / timedelta(minutes=interval_minutes(site, settings)))
    first_line = next(iter((last_error or "").splitlines()), "")
    return Alarm(site.id, site.name, last_ok, intervals, first_line[:300] or None)


def site_warnings(session: Session, site_id: int) -> list[str]:
    """What a person should know about a site beyond its orders' problems, in words: writebacks
    held because the partner answered for another order, and the payload drift its last import
    saw (connectors/drift.py). One place for ``bobbin status`` and the error e-mail."""
    out: list[str] = []
    held = (
        session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.site_id == site_id, OutboxEntry.state == "held")
        )
        or 0
    )
    if held:
        out.append(
            f"{held} change(s) held: the partner answered a write for another record than the one "
            "named (contract_violation on each order or return, with the request and the answer); nothing was "
            "counted as sent"
        )
    counts = (
        session.scalar(
            select(SyncRun.counts)
            .where(
                SyncRun.site_id == site_id,
                is_import(SyncRun.task),
                SyncRun.finished_at.is_not(None),
                SyncRun.outcome.in_(("ok", "incomplete")),
            )
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        or {}
    )
    out.extend(str(w) for w in counts.get("drift") or ())
    return out


def dead_letters(session: Session, site_id: int) -> dict[str, int]:
    writebacks = (
        session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.site_id == site_id, OutboxEntry.state == "dead")
        )
        or 0
    )
    tasks = (
        session.scalar(
            select(func.count()).select_from(SyncRun).where(SyncRun.site_id == site_id, SyncRun.outcome == "dead")
        )
        or 0
    )
    return {"writebacks": int(writebacks), "tasks": int(tasks)}


def reconcile(now: datetime | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """One pass: returns the site ids to import again, the events to process again, and the alarms
    raised (e-mailed once)."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    to_import: set[int] = set()
    abandoned = 0
    with session_scope() as s:
        running = s.execute(
            select(SyncRun.id, SyncRun.site_id, SyncRun.task).where(
                is_import(SyncRun.task),
                SyncRun.outcome == "running",
                SyncRun.started_at < now - RUN_GRACE,
                SyncRun.site_id.is_not(None),
            )
        ).all()
    for run_id, site_id, task in running:
        assert site_id is not None  # (the query keeps site runs only)
        with advisory_lock(site_lock_name(task.rsplit(".", 1)[-1], site_id)) as free:
            if not free:
                continue  # a live run holds the lock: not stuck, just long
            with session_scope() as s:
                s.execute(
                    update(SyncRun)
                    .where(SyncRun.id == run_id, SyncRun.outcome == "running")
                    .values(outcome="failed", error=ABANDONED, finished_at=func.now())
                )
        abandoned += 1
        to_import.add(site_id)
    alarms: list[Alarm] = []
    with session_scope() as s:
        for site in s.scalars(select(Site).where(Site.active.is_(True))):
            stale = now - timedelta(minutes=2 * interval_minutes(site, settings))
            if s.scalar(
                select(func.count())
                .select_from(InboundOrder)
                .where(
                    InboundOrder.site_id == site.id,
                    InboundOrder.state.in_(("downloaded", "valid")),
                    InboundOrder.last_seen_at < stale,
                )
            ):
                to_import.add(site.id)
            last_outcome = s.scalar(
                select(SyncRun.outcome)
                .where(SyncRun.site_id == site.id, is_import(SyncRun.task), SyncRun.outcome != "skipped")
                .order_by(SyncRun.id.desc())
                .limit(1)
            )
            if last_outcome == "incomplete":  # its read could not be proven complete: read again now
                to_import.add(site.id)
            alarm = site_alarm(s, site, settings, now)
            if alarm:
                alarms.append(alarm)
    events = unprocessed_events(now)
    if events:
        log.warning("events_unprocessed", count=len(events), hint="their processing is enqueued again")
    mailed = [a.site_id for a in alarms if _mail_alarm_once(a, settings)]
    if alarms:
        log.warning("sites_silent", sites=[a.site_name for a in alarms])
    return {
        "abandoned_runs": abandoned,
        "reimport_sites": sorted(to_import),
        "reprocess_events": events,
        "alarms": [a.sentence() for a in alarms],
        "alarms_mailed": mailed,
    }


def unprocessed_events(now: datetime) -> list[int]:
    """The ids of events stored as ``received`` before ``now - EVENT_GRACE`` (oldest first, at most
    ``EVENT_SWEEP_LIMIT``): their processing task never ran, or its message was lost."""
    with session_scope() as s:
        return list(
            s.scalars(
                select(InboundEvent.id)
                .where(InboundEvent.state == "received", InboundEvent.received_at < now - EVENT_GRACE)
                .order_by(InboundEvent.received_at, InboundEvent.id)
                .limit(EVENT_SWEEP_LIMIT)
            )
        )


def _mail_alarm_once(alarm: Alarm, settings: Settings) -> bool:
    """E-mail the site's contacts once per silence: not again until it has imported successfully."""
    with session_scope() as s:
        site = s.get(Site, alarm.site_id)
        assert site is not None
        already = s.scalar(
            select(func.count())
            .select_from(ErrorReport)
            .where(
                ErrorReport.site_id == site.id,
                ErrorReport.kind == "alarm",
                ErrorReport.sent_at > (alarm.since or site.created_at),
            )
        )
        if already or not site.notify_emails:
            return False
        recipients = list(site.notify_emails)
        msg = EmailMessage()
        label = partner_label(site.kind)
        msg["Subject"] = f'[Bobbin] ALARM: {label} site "{site.name}" has stopped importing orders'
        msg["From"] = settings.mail_from
        msg["To"] = ", ".join(recipients)
        msg.set_content(
            f'Bobbin has not imported orders from {label} site "{site.name}" '
            f"{'since ' + format(alarm.since, '%Y-%m-%d %H:%M UTC') if alarm.since else 'ever since it was added'} "
            f"— {alarm.intervals} import intervals.\n\n"
            + (f"The last attempt failed with:\n  {alarm.last_error}\n\n" if alarm.last_error else "")
            + f"The site on the console's dashboard:\n  {links.console(settings).dashboard(site.id)}\n\n"
            "What to check:\n"
            f"  bobbin status                  (what failed, and whether the workers run)\n"
            f"  bobbin sites show {site.name}   (the site's URL; are its credentials still valid?)\n"
            "  celery -A worker inspect ping  (is a worker answering?)\n\n"
            "You get this message once per silence; the next one comes only after imports worked again.\n"
        )
        msg.policy = HEADER_POLICY
        send_message(msg, settings)
        s.add(
            ErrorReport(
                site_id=site.id,
                kind="alarm",
                subject=str(msg["Subject"]),
                recipients=recipients,
                order_count=0,
                error_count=0,
            )
        )
    return True
