"""Writebacks sent in parallel: a few lanes per site, each row still sent once.

No worker: these tests call ``services.writeback.flush`` directly, on the real Postgres and the
real sandboxes over HTTP. The sandbox counts the requests it is answering at the same moment
(``FaultQueue.peak_in_flight``), so a test can see how many lanes were really in flight; a delay
fault makes each answer slow enough for the lanes to overlap.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.db import session_scope
from models import InboundOrder, OutboxEntry, Site, WritebackAttempt
from services import writeback
from services.outbox import queue_writeback
from tests.flushers import flushes_at_once

pytestmark = pytest.mark.integration

FIRST_ID = 8_000_001


# --- helpers ---------------------------------------------------------------------------------


def _site_settings(site_id: int, **changes: Any) -> None:
    with session_scope() as s:
        site = s.get(Site, site_id)
        assert site is not None
        site.settings = {**(site.settings or {}), **changes}


@pytest.fixture()
def brandboom_site(db: str, sandbox: Any) -> int:
    """The demo Brandboom site (nothing imported), its sandbox answering each status change."""
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        site_id = s.scalar(select(Site.id))
    assert site_id is not None
    return site_id


@pytest.fixture()
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    """Lanes read their site's rows 30 at a time, so a test of a few hundred rows crosses batches."""
    monkeypatch.setattr(writeback, "FLUSH_BATCH", 30)
    return 30


def _exported_waiting(site_id: int, sandbox: Any, n: int) -> list[str]:
    """``n`` imported orders on the site, each on the sandbox and each with its "exported" waiting."""
    ids = [str(FIRST_ID + k) for k in range(n)]
    sandbox.add_orders([{"id": oid, "poNumber": f"P-{oid}"} for oid in ids])
    with session_scope() as s:
        orders = [
            InboundOrder(site_id=site_id, partner_order_id=oid, raw={}, raw_hash=oid, state="imported") for oid in ids
        ]
        s.add_all(orders)
        s.flush()
        assert queue_writeback(s, site_id, [o.id for o in orders], "exported") == n
    return ids


def _changes(sandbox: Any) -> Counter[str]:
    return Counter(c["order_id"] for c in sandbox.status_changes() if c["status"] == "exported")


def _states() -> Counter[str]:
    with session_scope() as s:
        return Counter(dict(s.execute(select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)).all()))


def _attempt_count() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(WritebackAttempt)) or 0


def _make_all_due() -> None:
    with session_scope() as s:
        s.execute(update(OutboxEntry).values(next_attempt_at=func.now()))


# --- Brandboom -------------------------------------------------------------------------------


def test_two_flushers_of_four_lanes_send_each_row_once(brandboom_site: int, sandbox: Any, small_batches: int) -> None:
    # Given 200 imported orders whose "exported" waits (read 30 at a time), four lanes per flusher
    # (the default), and Brandboom answering a little slowly, so that the lanes and the flushers overlap
    ids = _exported_waiting(brandboom_site, sandbox, 200)
    sandbox.inject_fault(delay=0.01, count=10_000, path="/orders/")

    # When two flushers (the scheduled one and a person's) start at the same moment
    try:
        results = flushes_at_once(2, timeout=120)
    finally:
        sandbox.faults.clear()

    # Then Brandboom received 200 writes, each order's once, and every row has one attempt: sent
    assert _changes(sandbox) == Counter(ids)
    assert sum(r.sent for r in results) == 200, [r.as_dict() for r in results]
    assert all(r.retrying == r.dead == 0 for r in results), [r.as_dict() for r in results]
    assert _states() == Counter({"sent": 200})
    assert _attempt_count() == 200
    # And both flushers sent some, with more than one lane each in flight (and no more than 2 × 4)
    assert all(r.sent > 0 for r in results), [r.as_dict() for r in results]
    assert 4 < sandbox.faults.peak_in_flight <= 8, sandbox.faults.peak_in_flight


def test_lanes_in_flight_are_bounded_by_the_sites_setting(
    brandboom_site: int, sandbox: Any, small_batches: int
) -> None:
    # Given 40 writebacks, the site's writeback_concurrency set to 3, and each answer taking 50 ms
    ids = _exported_waiting(brandboom_site, sandbox, 40)
    _site_settings(brandboom_site, writeback_concurrency=3)
    sandbox.inject_fault(delay=0.05, count=10_000, path="/orders/")

    # When the outbox is flushed
    t0 = time.perf_counter()
    result = writeback.flush()
    elapsed = time.perf_counter() - t0
    sandbox.faults.clear()

    # Then every row was sent once, never more than 3 at a time, and 3 at a time most of the way
    assert (result.sent, result.retrying, result.dead) == (40, 0, 0), result.as_dict()
    assert _changes(sandbox) == Counter(ids)
    assert sandbox.faults.peak_in_flight == 3
    serial = 40 * 0.05
    assert elapsed < serial * 0.6, f"{elapsed:.2f} s for 40 rows of 50 ms at 3 lanes (one at a time: {serial} s)"


def test_one_at_a_time_when_the_site_says_so(brandboom_site: int, sandbox: Any) -> None:
    # Given a site that takes one writeback at a time
    ids = _exported_waiting(brandboom_site, sandbox, 10)
    _site_settings(brandboom_site, writeback_concurrency=1)
    sandbox.inject_fault(delay=0.02, count=10_000, path="/orders/")

    # When the outbox is flushed, then the rows went out one by one
    assert writeback.flush().sent == 10
    sandbox.faults.clear()
    assert sandbox.faults.peak_in_flight == 1
    assert _changes(sandbox) == Counter(ids)


def test_lost_answers_in_lanes_are_read_back(brandboom_site: int, sandbox: Any, small_batches: int) -> None:
    # Given 24 writebacks sent four at a time, one whose answer is cut short after Brandboom applied
    # it, and one whose connection is closed before Brandboom applied it
    ids = _exported_waiting(brandboom_site, sandbox, 24)
    applied, unapplied = ids[5], ids[17]
    sandbox.faults.inject(f"truncate:method=POST,path=/orders/{applied}@1st")
    sandbox.faults.inject(f"drop:method=POST,path=/orders/{unapplied}@1st")
    sandbox.inject_fault(delay=0.01, count=10_000, path="/orders/")

    # When the outbox is flushed
    first = writeback.flush()

    # Then the others were sent and the two rows are uncertain, their POSTs not repeated
    assert (first.sent, first.retrying, first.dead) == (22, 2, 0), first.as_dict()
    with session_scope() as s:
        uncertain = {
            o.partner_order_id
            for o in s.scalars(
                select(InboundOrder)
                .join(OutboxEntry, OutboxEntry.inbound_order_id == InboundOrder.id)
                .where(OutboxEntry.state == "pending", OutboxEntry.sending_since.is_not(None))
            )
        }
    assert uncertain == {applied, unapplied}
    assert _changes(sandbox)[applied] == 1 and _changes(sandbox)[unapplied] == 0

    # When they are due again
    _make_all_due()
    second = writeback.flush()
    sandbox.faults.clear()

    # Then each was read back: the applied one marked sent without a second POST, the other sent once
    assert (second.sent, second.already_applied, second.retrying) == (2, 1, 0), second.as_dict()
    assert _changes(sandbox) == Counter(ids)
    assert _states() == Counter({"sent": 24})
    with session_scope() as s:
        notes = list(s.scalars(select(WritebackAttempt.note).where(WritebackAttempt.note == writeback.ALREADY_APPLIED)))
    assert notes == [writeback.ALREADY_APPLIED]


def test_an_import_waiting_for_the_hold_gets_it_between_two_rows(
    brandboom_site: int, sandbox: Any, small_batches: int
) -> None:
    from core.locks import writeback_hold

    # Given 400 writebacks being sent four at a time, each answer taking 30 ms (3 s in all)
    ids = _exported_waiting(brandboom_site, sandbox, 400)
    sandbox.inject_fault(delay=0.03, count=10_000, path="/orders/")
    results: list[writeback.FlushResult] = []
    flusher = threading.Thread(target=lambda: results.append(writeback.flush()))
    flusher.start()
    deadline = time.monotonic() + 20
    while len(_changes(sandbox)) < 20:
        assert time.monotonic() < deadline, "the flush sent nothing"
        time.sleep(0.01)

    # When the site's import asks for its writeback hold to read the partner's lists
    t0 = time.monotonic()
    with writeback_hold(brandboom_site, wait_seconds=10) as got:
        waited = time.monotonic() - t0
        seen = sum(_changes(sandbox).values())
        time.sleep(0.3)
        during = sum(_changes(sandbox).values()) - seen
    flusher.join(60)
    sandbox.faults.clear()

    # Then it had it within a row's time, not at the end of the flush, and nothing reached
    # Brandboom while it held it; the lanes stopped, leaving the rest for the import's flush
    assert got and waited < 0.5, waited
    assert during == 0
    [first] = results
    assert first.held > 0 and first.sent < 400, first.as_dict()

    # And the next flush sends the rest: every order's change once
    assert writeback.flush().sent == 400 - first.sent
    assert _changes(sandbox) == Counter(ids)
    assert _attempt_count() == 400


def test_lanes_stop_when_the_flush_time_is_up(brandboom_site: int, sandbox: Any) -> None:
    # Given 30 writebacks and a flush whose time is up after the first few rows
    _exported_waiting(brandboom_site, sandbox, 30)
    ticks = iter(range(10_000))
    result = writeback.flush(budget_seconds=6, clock=lambda: float(next(ticks)))

    # Then it sent some, says there is more, and left the rest pending, none in flight
    assert result.more, result.as_dict()
    assert 0 < result.sent < 30
    assert _states() == Counter({"sent": result.sent, "pending": 30 - result.sent})
    assert _attempt_count() == result.sent


# --- JOOR ------------------------------------------------------------------------------------


def _joor_marks_waiting(joor: Any, credits: int, window: int) -> tuple[int, int, int]:
    """The JOOR demo imported (its "exported" marks and customer codes waiting in the outbox), then
    the site and the sandbox both granted ``credits`` per ``window`` seconds, a fresh window
    begun: (site id, marks waiting, customer codes waiting)."""
    from bobbin.demo_sites import JOOR_DEMO_SITE, load_joor_demo
    from services.pipeline import import_site_orders

    load_joor_demo(joor.url)
    with session_scope() as s:
        site_id = s.scalar(select(Site.id).where(Site.name == JOOR_DEMO_SITE))
    assert site_id is not None
    import_site_orders(site_id)
    _site_settings(site_id, credits=credits, credit_window_seconds=window)
    joor.credits, joor.window_seconds = credits, window
    joor.reset_credits()
    with session_scope() as s:
        waiting = dict(
            s.execute(
                select(OutboxEntry.status, func.count())
                .where(OutboxEntry.state == "pending")
                .group_by(OutboxEntry.status)
            ).all()
        )
    exported, codes = waiting.pop("exported", 0), waiting.pop("customer_code", 0)
    assert exported > credits and not waiting, (exported, codes, waiting)
    return site_id, exported, codes


def _throttled(joor: Any) -> int:
    """Requests JOOR answered 429 (over the account's credits)."""
    return sum(account["throttled"] for account in joor.credits_used().values())


def test_joor_lanes_share_the_credit_budget_at_its_full_rate(db: str, joor_sandbox: Any) -> None:
    from connectors.joor import writeback_lanes
    from connectors.joor.settings import JoorSettings

    # Given the JOOR demo's marks waiting, more than one window can pay on a site (and an account)
    # granted 20 credits per 2 s, JOOR answering slowly enough for the lanes to overlap
    joor = joor_sandbox
    site_id, exported, codes = _joor_marks_waiting(joor, credits=20, window=2)
    joor.faults.inject({"delay": 0.02, "count": 10_000, "path": "/order/"})

    # When the outbox is flushed
    t0 = time.perf_counter()
    result = writeback.flush(site_id=site_id)
    elapsed = time.perf_counter() - t0

    # Then every order was marked once, by 4 lanes of 5 credits a window each, and JOOR never had
    # to refuse one: the lanes waited for the next window instead
    assert writeback_lanes(JoorSettings(credits=20))[0] == 4
    assert (result.sent, result.retrying, result.dead) == (exported + codes, 0, 0), result.as_dict()
    marks = Counter(m["order_id"] for m in joor.export_marks())
    assert len(marks) == exported and set(marks.values()) == {1}
    assert len(joor.connection_updates()) == codes  # customer codes the import queued (a PUT: 5 credits)
    assert _throttled(joor) == 0, joor.credits_used()
    assert 1 < joor.faults.peak_in_flight <= 4
    assert elapsed >= 2, f"{exported} marks at 20 credits per 2 s took {elapsed:.2f} s"


def test_joor_credits_spent_for_long_the_rows_wait_for_the_window(db: str, joor_sandbox: Any) -> None:
    # Given more marks waiting than a window of 20 credits can pay, in a window of 10 minutes (a
    # wait longer than a lane sleeps through outside a worker's flush task)
    joor = joor_sandbox
    site_id, exported, codes = _joor_marks_waiting(joor, credits=20, window=600)

    # When the outbox is flushed (as a person's command would, not inside the task)
    t0 = time.perf_counter()
    result = writeback.flush(site_id=site_id)
    elapsed = time.perf_counter() - t0

    # Then the lanes spent the budget and stopped at once: JOOR refused nothing, nothing was
    # marked twice, the rows a lane could not pay for wait until the window resets (not a backoff),
    # and the rest wait untouched for a later flush
    assert elapsed < 30, elapsed
    assert _throttled(joor) == 0, joor.credits_used()
    marks = Counter(m["order_id"] for m in joor.export_marks())
    assert set(marks.values()) <= {1}
    assert result.sent == len(marks) + len(joor.connection_updates()) > 0, result.as_dict()
    assert 1 <= result.retrying <= 4 and result.dead == 0, result.as_dict()
    with session_scope() as s:
        waiting = s.execute(
            select(OutboxEntry.attempts, OutboxEntry.last_error, OutboxEntry.next_attempt_at, func.now()).where(
                OutboxEntry.state == "pending", OutboxEntry.attempts > 0
            )
        ).all()
        untouched = s.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.state == "pending", OutboxEntry.attempts == 0)
        )
    assert len(waiting) == result.retrying
    for attempts, error, due, now in waiting:
        assert attempts == 1 and "credits" in (error or ""), error
        assert due - now > timedelta(seconds=500), due - now  # when the window resets
    assert untouched == exported + codes - result.sent - result.retrying


def test_a_lane_that_loses_its_connection_records_nothing_and_the_row_is_read_back(
    brandboom_site: int, sandbox: Any
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    # Given one writeback, Brandboom slow to answer it
    [oid] = _exported_waiting(brandboom_site, sandbox, 1)
    sandbox.inject_fault(delay=1.0, count=1, path=f"/orders/{oid}")

    # When the lane's database connection is cut while the partner is being called (its claim
    # committed, the change applied by Brandboom, the answer not back yet)
    failure: list[BaseException] = []

    def flusher() -> None:
        try:
            writeback.flush()
        except BaseException as exc:  # what the task would see
            failure.append(exc)

    thread = threading.Thread(target=flusher)
    thread.start()
    deadline = time.monotonic() + 10
    while _states() != Counter({"pending": 1}) or not _in_flight():
        assert time.monotonic() < deadline, "the row was never claimed"
        time.sleep(0.02)
    with session_scope() as s:
        cut = s.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE 'EXECUTE bobbin_wb%'"
            )
        ).all()
    assert cut, "no lane connection found"
    thread.join(30)

    # Then the flush fails with the database error (a task retries it), nothing was recorded by
    # that lane, and its locks went with its connection: the row is in flight, "uncertain"
    assert failure and isinstance(failure[0], OperationalError), failure
    assert _in_flight() and _states() == Counter({"pending": 1})
    assert _changes(sandbox) == Counter([oid])

    # When the outbox is flushed again, the change is read back: applied, so not sent again
    _make_all_due()
    result = writeback.flush()
    assert (result.sent, result.already_applied) == (1, 1), result.as_dict()
    assert _changes(sandbox) == Counter([oid])


def _in_flight() -> bool:
    with session_scope() as s:
        return bool(
            s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.sending_since.is_not(None)))
        )
