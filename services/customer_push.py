"""Customer push: send a site's partner the ERP's customers (with their addresses), as a diff, in
bounded batches — the work behind ``tasks.customers.push_customers`` and ``bobbin customers
push``. The partner's side is its ``CustomerPusher`` (``connectors.catalog``).

Customers of the site's division (or of no division) are read in two queries (customers,
addresses), hashed, and compared with ``catalog_push_state`` (kind ``customer``) exactly as the
catalog push compares styles (``services.catalog``): a customer goes when it was never accepted,
was rejected, or changed; each batch's answers are recorded at once, so a push that stops resumes.

Some partners answer later: a customer sent into an asynchronous job is ``awaiting`` with the
job's ticket (JOOR also matches a new customer to its retailers by hand, 1–2 business days). An
awaiting customer is shown as "sent, awaiting <partner>", not as a failure; it is not sent again
while it holds the same content, and its ticket is polled at the start of every push and by the
follow-up poll the task schedules (:func:`poll_customers`).
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from connectors.catalog import AWAITING, CatalogCustomer, CustomerAddress, CustomerPush, CustomerPusher
from core.db import new_session, session_scope
from core.locks import advisory_lock, site_lock_name
from models import SyncRun
from services.catalog import (
    TO_SEND,
    UNCHANGED,
    Batches,
    Progress,
    PushResult,
    Sent,
    State,
    content_hash,
    load_state,
    record_answers,
    why_send,
)
from services.context import SiteContext
from services.runs import recorded_run
from services.sites import open_site

log = structlog.get_logger()

TASK = "push_customers"
POLL_TASK = "poll_customers"
KIND = "customer"
POLL_AFTER_SECONDS = 300  # the task's follow-up poll of the jobs a push left awaiting

_CUSTOMERS_SQL = """
SELECT code, name, email, phone, terms_code, ship_via_code, rep_code, division_code
FROM customer
WHERE CAST(:division AS text) IS NULL OR division_code IS NULL OR division_code = :division
ORDER BY code
"""
_ADDRESSES_SQL = """
SELECT a.customer_code, a.kind, a.name, a.line1, a.line2, a.city, a.state, a.postal_code, a.country
FROM customer_address a JOIN customer c ON c.code = a.customer_code
WHERE CAST(:division AS text) IS NULL OR c.division_code IS NULL OR c.division_code = :division
ORDER BY a.customer_code, a.kind, a.id
"""


def read_customers(session: Session, division: str | None) -> list[CatalogCustomer]:
    """The customers of ``division`` (or of no division; all when None), with their addresses."""
    params = {"division": division}
    addresses: dict[str, list[CustomerAddress]] = {}
    for code, kind, *rest in session.execute(text(_ADDRESSES_SQL), params):
        addresses.setdefault(code, []).append(CustomerAddress(kind, *rest))
    return [
        CatalogCustomer(code, name, email, phone, terms, ship_via, rep, div, tuple(addresses.get(code, ())))
        for code, name, email, phone, terms, ship_via, rep, div in session.execute(text(_CUSTOMERS_SQL), params)
    ]


def customer_hash(customer: CatalogCustomer) -> str:
    return content_hash(customer)


def customer_problems(customer: CatalogCustomer) -> list[str]:
    """What no partner can take about a customer, each a sentence naming it and what to do."""
    if not customer.name.strip():
        return [f"Customer {customer.code} has no name in the ERP: give it one and load the customers again."]
    return []


def _awaiting(state: dict[str, State]) -> dict[str, State]:
    return {key: row for key, row in state.items() if row.outcome == AWAITING and row.ticket}


def plan_push(site_ref: int | str) -> PushResult:
    """A dry run: which customers a push would send now, and which are awaiting the partner. It
    writes nothing (a read-only transaction) and asks the partner nothing."""
    started = time.monotonic()
    session = new_session()
    try:
        session.execute(text("SET TRANSACTION READ ONLY"))
        ctx = open_site(session, site_ref)
        ctx.spec.capability("customers")
        customers = read_customers(session, ctx.site.division_code)
        state = load_state(session, ctx.id, (KIND,))[KIND]
        session.commit()
    finally:
        session.close()
    result = PushResult(ctx.id, ctx.name, ctx.label, what="customers", dry_run=True)
    for customer in customers:
        row = state.get(customer.code)
        why = why_send(row, customer_hash(customer))
        if why is None:
            result.add(KIND, AWAITING if row is not None and row.outcome == AWAITING else UNCHANGED)
            continue
        problems = customer_problems(customer)
        if problems:
            result.add(KIND, "rejected")
            result.rejected.append({"kind": KIND, "key": customer.code, "label": customer.name, "message": problems[0]})
            continue
        result.add(KIND, TO_SEND)
        result.items.append({"kind": KIND, "key": customer.code, "label": customer.name, "action": "send", "why": why})
    result.seconds = round(time.monotonic() - started, 3)
    return result


def push_customers(
    site_id: int,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    celery_task_id: str | None = None,
    batch_size: int | None = None,
) -> PushResult:
    """Push a site's customers to its partner (polling first what it left awaiting); one push per
    site at a time. ``progress(kind, done, total)``, ``batch_size`` as for the catalog push."""
    if dry_run:
        return plan_push(site_id)
    with session_scope() as s:
        open_site(s, site_id).spec.capability("customers")  # NotOffered, in words, before any run is recorded
    with advisory_lock(site_lock_name(TASK, site_id)) as got:
        if not got:
            return PushResult(site_id, what="customers", skipped="another customer push of this site is running")
        with recorded_run(TASK, site_id, celery_task_id, holds_lock=True) as run:
            result = _push(site_id, run.id, progress=progress, batch_size=batch_size, counts=run.counts)
            if result.skipped:
                run.outcome = "skipped"
            run.counts.update(result.summary())
            return result


def poll_customers(site_id: int, *, celery_task_id: str | None = None) -> PushResult:
    """Ask the partner about the customers awaiting it and record what it settled (the task's
    follow-up after a push). Skips while a push of the site runs: that push polls too."""
    with advisory_lock(site_lock_name(TASK, site_id)) as got:
        if not got:
            return PushResult(site_id, what="customers", skipped="a customer push of this site is running")
        with session_scope() as s:
            ctx = open_site(s, site_id)
            spec = ctx.spec.capability("customers")
            awaiting = _awaiting(load_state(s, site_id, (KIND,))[KIND])
        result = PushResult(ctx.id, ctx.name, ctx.label, what="customers")
        if not awaiting:
            return result
        with recorded_run(POLL_TASK, site_id, celery_task_id, holds_lock=True) as run:
            pusher = ctx.open("customers")
            try:
                _poll(ctx, spec, pusher, awaiting, result, run.id)
            finally:
                pusher.close()
            run.counts.update(result.summary())
        return result


def _poll(
    ctx: SiteContext,
    spec: CustomerPush,
    pusher: CustomerPusher,
    awaiting: dict[str, State],
    result: PushResult,
    run_id: int | None,
) -> dict[str, str]:
    """Ask about the tickets of ``awaiting`` customers, record and count what the partner settled;
    returns customer code -> its new outcome, for those it settled."""
    tickets = sorted({row.ticket for row in awaiting.values() if row.ticket})
    sent = {key: Sent(row.sent_hash, row.label, row.partner_id) for key, row in awaiting.items()}
    settled: dict[str, str] = {}
    for start in range(0, len(tickets), max(1, spec.batch)):
        answers = pusher.poll(tickets[start : start + spec.batch])
        with session_scope() as s:
            recorded = record_answers(s, ctx.id, run_id, KIND, answers, sent, sent_now=False)
        news = [a for a in recorded if not (a.outcome == AWAITING and awaiting[a.key].ticket == a.ticket)]
        Batches(ctx.id, run_id, KIND, result, state=awaiting).tally(news, sent)
        settled.update((a.key, a.outcome) for a in news if a.outcome != AWAITING)
    log.info("customers_polled", site=ctx.id, tickets=len(tickets), settled=len(settled))
    return settled


def _push(
    site_id: int, run_id: int, *, progress: Progress | None, batch_size: int | None, counts: dict[str, Any]
) -> PushResult:
    started = time.monotonic()
    with session_scope() as s:
        s.execute(update(SyncRun).where(SyncRun.id == run_id).values(counts={}))
        ctx = open_site(s, site_id)
        spec = ctx.spec.capability("customers")
        result = PushResult(ctx.id, ctx.name, ctx.label, what="customers", run_id=run_id)
        if not ctx.site.active:
            result.skipped = "the site is paused (bobbin sites resume SITE)"
            return result
        customers = read_customers(s, ctx.site.division_code)
        state = load_state(s, site_id, (KIND,))[KIND]
    pusher = ctx.open("customers")
    try:
        awaiting = _awaiting(state)
        settled: dict[str, str] = {}
        if awaiting:  # what the partner settled since: counted as this push's outcome for them
            settled = _poll(ctx, spec, pusher, awaiting, result, run_id)
            with session_scope() as s:
                state = load_state(s, site_id, (KIND,))[KIND]
            result.notes.append(_poll_note(settled, ctx.label))
        send: list[tuple[CatalogCustomer, str]] = []
        refused: dict[str, tuple[Sent, str]] = {}
        for customer in customers:
            digest = customer_hash(customer)
            row = state.get(customer.code)
            if customer.code in settled and row is not None and row.sent_hash == digest:
                continue  # just settled as it is now: a refusal found now is sent again next time
            if why_send(row, digest) is None:
                result.add(KIND, AWAITING if row is not None and row.outcome == AWAITING else UNCHANGED)
                continue
            problems = customer_problems(customer)
            if problems:
                refused[customer.code] = (Sent(digest, customer.name), " ".join(problems))
            else:
                send.append((customer, digest))
        digests = {c.code: d for c, d in send}
        sender = Batches(site_id, run_id, KIND, result, progress, state)
        sender.refuse(refused)
        sender.run(
            [c for c, _ in send],
            batch_size or spec.batch,
            pusher.send,
            lambda c: (c.code, Sent(digests[c.code], c.name)),
        )
    finally:
        pusher.close()
        result.seconds = round(time.monotonic() - started, 3)
        counts.update(result.summary())
    return result


def _poll_note(settled: dict[str, str], partner: str) -> str:
    per: dict[str, int] = {}
    for outcome in settled.values():
        per[outcome] = per.get(outcome, 0) + 1
    said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(per.items()))
    return f"Asked {partner} about the customers awaiting it: {said or 'none settled yet'}."


def follow_up_needed(result: PushResult, spec: CustomerPush | None = None) -> bool:
    """Whether a push left customers awaiting a partner that answers later (worth a poll soon)."""
    return bool(result.total(AWAITING)) and (spec is None or spec.asynchronous)
