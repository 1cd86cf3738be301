"""Status writebacks through the outbox, against the Brandboom sandbox over HTTP.

No worker: these tests call ``services.writeback`` directly, on the real Postgres and the real
sandbox. Given the demo site's orders imported (each imported order has its "exported" status
waiting in the outbox), they show what happens to an outbox row when Brandboom fails for a
while, refuses, or when two flushers race — and that Brandboom receives each status once.

The HTTP layer retries a 500 a few times with backoff before the writeback counts one failed
attempt; its backoff is shrunk here (``fast_http_retries``) so a failed attempt costs
milliseconds. The number of faults injected per failed attempt is the client's real budget.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from connectors.http import DEFAULT_POLICY
from core.db import session_scope
from models import InboundOrder, OutboxEntry, Site, WritebackAttempt
from services import writeback
from tests.flushers import flushes_at_once

pytestmark = pytest.mark.integration

# One failed writeback attempt = the HTTP layer's whole retry budget spent on 500s.
HTTP_ATTEMPTS = DEFAULT_POLICY.max_attempts


@pytest.fixture()
def fast_http_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry loop and jitter, with a backoff of at most 20 ms instead of seconds."""
    import connectors.http as http

    real = http.backoff_wait
    tiny = http.HttpPolicy(backoff_base=0.005, backoff_cap=0.02)
    monkeypatch.setattr(http, "backoff_wait", lambda policy, attempt, rand=random.random: real(tiny, attempt, rand))


@pytest.fixture()
def imported_site(db: str, sandbox: Any, fast_http_retries: None) -> int:
    """Given the demo brand loaded and its Brandboom orders imported (writebacks not sent yet)."""
    from bobbin.demo_sites import load_demo
    from services.pipeline import import_site_orders

    load_demo(sandbox.url)
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id)))
    summary = import_site_orders(site_id)
    assert summary["imported"] >= 5, summary
    assert sandbox.status_changes() == []
    return site_id


@pytest.fixture()
def max_attempts() -> Iterator[int]:
    """WRITEBACK_MAX_ATTEMPTS=3 for this test (the setting is read at each failure)."""
    from core.settings import get_settings

    old = os.environ.get("WRITEBACK_MAX_ATTEMPTS")
    os.environ["WRITEBACK_MAX_ATTEMPTS"] = "3"
    get_settings.cache_clear()
    yield 3
    if old is None:
        os.environ.pop("WRITEBACK_MAX_ATTEMPTS", None)
    else:
        os.environ["WRITEBACK_MAX_ATTEMPTS"] = old
    get_settings.cache_clear()


# --- helpers ---------------------------------------------------------------------------------


def _imported_orders() -> list[InboundOrder]:
    with session_scope() as s:
        return list(s.scalars(select(InboundOrder).where(InboundOrder.state == "imported").order_by(InboundOrder.id)))


def _order_in(state: str) -> InboundOrder:
    with session_scope() as s:
        order = s.scalars(select(InboundOrder).where(InboundOrder.state == state).order_by(InboundOrder.id)).first()
    assert order is not None, f"the demo has no {state} order"
    return order


def _outbox(order_id: int, status: str) -> OutboxEntry:
    with session_scope() as s:
        return s.scalars(
            select(OutboxEntry).where(OutboxEntry.inbound_order_id == order_id, OutboxEntry.status == status)
        ).one()


def _attempts(outbox_id: int) -> list[WritebackAttempt]:
    with session_scope() as s:
        return list(
            s.scalars(
                select(WritebackAttempt).where(WritebackAttempt.outbox_id == outbox_id).order_by(WritebackAttempt.id)
            )
        )


def _make_due(outbox_id: int) -> None:
    """Time passes: the row's backoff is over."""
    with session_scope() as s:
        s.execute(update(OutboxEntry).where(OutboxEntry.id == outbox_id).values(next_attempt_at=func.now()))


def _db_now() -> datetime:
    with session_scope() as s:
        return s.scalar(select(func.now()))


def _changes(sandbox: Any, partner_order_id: str, status: str) -> int:
    return sum(1 for c in sandbox.status_changes() if c["order_id"] == partner_order_id and c["status"] == status)


def _fail_next_post(sandbox: Any, partner_order_id: str, status: int = 500) -> None:
    """Brandboom answers POST orders/{id} with ``status`` for one whole writeback attempt."""
    sandbox.inject_fault(status=status, count=HTTP_ATTEMPTS, path=f"/orders/{partner_order_id}")


def _faults_left(sandbox: Any) -> int:
    """How many injected fault uses the sandbox has not played yet (requests that never came)."""
    return sum(f.count for f in sandbox.faults._faults)  # the FaultQueue has no public count


def _mark(order_ids: list[int], status: str) -> writeback.MarkResult:
    with session_scope() as s:
        return writeback.mark(s, order_ids, status)


# --- tests -----------------------------------------------------------------------------------


def test_failed_writeback_waits_with_backoff_then_is_sent_once(imported_site: int, sandbox: Any) -> None:
    # Given an imported order whose "exported" status waits in the outbox
    order = _imported_orders()[0]
    row = _outbox(order.id, "exported")
    assert (row.state, row.attempts) == ("pending", 0)

    # When Brandboom answers 500 to every try of the HTTP layer
    _fail_next_post(sandbox, order.partner_order_id)
    before = _db_now()
    result = writeback.flush(outbox_ids=[row.id])

    # Then the row stays pending, one attempt counted, with the error and a backed-off due time
    assert (result.sent, result.retrying, result.dead) == (0, 1, 0)
    row = _outbox(order.id, "exported")
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error and "HTTP 500" in row.last_error, row.last_error
    wait = row.next_attempt_at - before
    first = writeback.BACKOFF_BASE  # attempt 1 waits between half the base and the base (jitter)
    assert first / 2 - timedelta(seconds=1) <= wait <= first + timedelta(seconds=1), wait
    attempts = _attempts(row.id)
    assert [(a.ok, bool(a.error)) for a in attempts] == [(False, True)]
    assert _changes(sandbox, order.partner_order_id, "exported") == 0

    # When the scheduled flush comes back before the backoff is over: nothing is tried
    assert writeback.flush(outbox_ids=[row.id]).as_dict()["sent"] == 0
    assert len(_attempts(row.id)) == 1

    # When it is due again and Brandboom is healthy
    _make_due(row.id)
    result = writeback.flush(outbox_ids=[row.id])

    # Then it is sent, Brandboom recorded exactly one change, and both tries are on record
    assert (result.sent, result.retrying, result.dead) == (1, 0, 0)
    row = _outbox(order.id, "exported")
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
    assert row.sent_at is not None
    assert [a.ok for a in _attempts(row.id)] == [False, True]
    assert _changes(sandbox, order.partner_order_id, "exported") == 1

    # And a later flush does not send it again
    _make_due(row.id)
    assert writeback.flush(outbox_ids=[row.id]).sent == 0
    assert _changes(sandbox, order.partner_order_id, "exported") == 1


def test_writeback_is_dead_after_max_attempts(imported_site: int, sandbox: Any, max_attempts: int) -> None:
    # Given an imported order's "exported" writeback, and WRITEBACK_MAX_ATTEMPTS=3
    order = _imported_orders()[0]
    row_id = _outbox(order.id, "exported").id

    # When every attempt fails with a 500, each one once it is due
    states = []
    for _ in range(max_attempts):
        _fail_next_post(sandbox, order.partner_order_id)
        _make_due(row_id)
        writeback.flush(outbox_ids=[row_id])
        row = _outbox(order.id, "exported")
        states.append((row.state, row.attempts))

    # Then it retried twice and gave up on the third failure, with the error kept
    assert states == [("pending", 1), ("pending", 2), ("dead", 3)]
    assert "HTTP 500" in (row.last_error or "")
    assert [a.ok for a in _attempts(row_id)] == [False] * max_attempts
    assert _faults_left(sandbox) == 0, "each attempt should have spent the HTTP layer's whole budget"

    # And a dead row is not tried again, even when Brandboom is back
    _make_due(row_id)
    assert writeback.flush(outbox_ids=[row_id]).as_dict() == {
        "sent": 0,
        "retrying": 0,
        "dead": 0,
        "already_applied": 0,
        "held": 0,
        "held_for_person": 0,
        "violation_sites": [],
        "more": False,
        "errors": [],
    }
    assert len(_attempts(row_id)) == max_attempts
    assert _changes(sandbox, order.partner_order_id, "exported") == 0


def test_refusal_is_dead_at_once_without_retry(imported_site: int, sandbox: Any) -> None:
    # Given an imported order that no longer exists on Brandboom (deleted there: the sandbox
    # answers the error envelope "Order … not found" for its id)
    order = _imported_orders()[0]
    gone = "999999901"
    with session_scope() as s:
        s.execute(update(InboundOrder).where(InboundOrder.id == order.id).values(partner_order_id=gone))
    row_id = _outbox(order.id, "exported").id

    # When the writeback is sent
    result = writeback.flush(outbox_ids=[row_id])

    # Then it is dead after one attempt: a refusal is never retried
    assert (result.sent, result.retrying, result.dead) == (0, 0, 1)
    row = _outbox(order.id, "exported")
    assert (row.state, row.attempts) == ("dead", 1)
    assert "not found" in (row.last_error or ""), row.last_error
    assert [a.ok for a in _attempts(row_id)] == [False]
    _make_due(row_id)
    assert writeback.flush(outbox_ids=[row_id]).dead == 0
    assert len(_attempts(row_id)) == 1
    assert sandbox.status_changes() == []


def test_a_4xx_answer_is_dead_at_once(imported_site: int, sandbox: Any) -> None:
    # Given an imported order's writeback, when Brandboom answers HTTP 404 (a 4xx, not an envelope)
    order = _imported_orders()[0]
    row_id = _outbox(order.id, "exported").id
    _fail_next_post(sandbox, order.partner_order_id, status=404)
    writeback.flush(outbox_ids=[row_id])

    # Then the HTTP layer did not retry (the other queued 404s are still waiting) and the row is dead
    row = _outbox(order.id, "exported")
    assert (row.state, row.attempts) == ("dead", 1)
    assert "HTTP 404" in (row.last_error or "")
    assert _faults_left(sandbox) == HTTP_ATTEMPTS - 1
    sandbox.faults.clear()


def test_mark_skips_orders_that_were_not_imported(imported_site: int, sandbox: Any) -> None:
    # Given an invalid (never imported) order
    invalid = _order_in("invalid")

    # When a person marks it shipped
    result = _mark([invalid.id, 987654321], "shipped")

    # Then it is skipped with the reason, nothing is queued, and nothing reaches Brandboom
    assert result.queued == []
    assert result.skipped[invalid.id] == "order is invalid; only imported orders can be marked shipped"
    assert result.skipped[987654321] == "no such order"
    with session_scope() as s:
        assert (
            s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.inbound_order_id == invalid.id))
            == 0
        )
    writeback.flush()
    assert _changes(sandbox, invalid.partner_order_id, "shipped") == 0

    # And a status Brandboom does not take is refused before anything is queued
    with pytest.raises(writeback.MarkError, match="status must be one of"):
        _mark([invalid.id], "lost")


def test_marking_shipped_twice_queues_one_row_and_sends_once(imported_site: int, sandbox: Any) -> None:
    # Given an imported order
    order = _imported_orders()[0]

    # When it is marked shipped twice (two clicks, or a task run twice)
    first, second = _mark([order.id], "shipped"), _mark([order.id], "shipped")

    # Then one outbox row is queued, and Brandboom gets "shipped" once
    assert first.queued == second.queued == [order.id]
    with session_scope() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.inbound_order_id == order.id, OutboxEntry.status == "shipped")
            )
            == 1
        )
    writeback.flush(site_id=imported_site)
    _mark([order.id], "shipped")  # a third time, after it was sent: still nothing new
    writeback.flush(site_id=imported_site)
    assert _changes(sandbox, order.partner_order_id, "shipped") == 1
    assert _outbox(order.id, "shipped").state == "sent"


def test_marking_a_dead_writeback_again_requeues_it(imported_site: int, sandbox: Any) -> None:
    # Given a "shipped" writeback that gave up (Brandboom refused it: HTTP 400)
    order = _imported_orders()[0]
    _mark([order.id], "shipped")
    row_id = _outbox(order.id, "shipped").id
    _fail_next_post(sandbox, order.partner_order_id, status=400)
    writeback.flush(outbox_ids=[row_id])
    sandbox.faults.clear()
    assert (_outbox(order.id, "shipped").state, _outbox(order.id, "shipped").attempts) == ("dead", 1)

    # When a person marks it shipped again (after fixing the cause on Brandboom)
    result = _mark([order.id], "shipped")

    # Then the same row is pending again, attempts reset, error cleared, due now
    assert result.queued == [order.id]
    row = _outbox(order.id, "shipped")
    assert row.id == row_id
    assert (row.state, row.attempts, row.last_error) == ("pending", 0, None)
    assert row.next_attempt_at <= _db_now()

    # And the next flush sends it, once
    assert writeback.flush(outbox_ids=[row_id]).sent == 1
    assert _changes(sandbox, order.partner_order_id, "shipped") == 1
    assert [a.ok for a in _attempts(row_id)] == [False, True]


def test_concurrent_flushes_never_send_a_row_twice(imported_site: int, sandbox: Any) -> None:
    # Given every imported order's "exported" and "shipped" statuses waiting in the outbox
    orders = _imported_orders()
    _mark([o.id for o in orders], "shipped")
    with session_scope() as s:
        pending = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending"))
    assert pending == 2 * len(orders)
    # and Brandboom answering a little slowly, so the two flushers overlap
    sandbox.inject_fault(delay=0.02, count=10_000, path="/orders/")

    # When two flushers (the scheduled one and a manual one) start at the same moment
    try:
        results = flushes_at_once(2, timeout=60)
    finally:
        sandbox.faults.clear()

    # Then every row was sent exactly once between them, and Brandboom saw each change once
    assert sum(r.sent for r in results) == pending
    assert all(r.retrying == r.dead == 0 for r in results), [r.as_dict() for r in results]
    changes = [(c["order_id"], c["status"]) for c in sandbox.status_changes()]
    assert len(changes) == len(set(changes)) == pending
    assert set(changes) == {(o.partner_order_id, st) for o in orders for st in ("exported", "shipped")}
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(WritebackAttempt)) == pending
        assert s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state != "sent")) == 0
    # And the race really happened: both flushers sent some rows
    assert all(r.sent > 0 for r in results), [r.as_dict() for r in results]


def test_a_site_with_unreadable_credentials_fails_its_own_writebacks_only(imported_site: int, sandbox: Any) -> None:
    # Given a second site whose credentials cannot be decrypted (a key rotation that dropped the
    # old key), holding an order with a pending writeback, queued before the demo site's
    with session_scope() as s:
        broken = Site(
            name="broken-keys",
            kind="brandboom",
            base_url=sandbox.url,
            credentials_encrypted="garbage",
            notify_emails=[],
            settings={},
        )
        s.add(broken)
        s.flush()
        order = InboundOrder(site_id=broken.id, partner_order_id="999999", raw={}, raw_hash="x", state="imported")
        s.add(order)
        s.flush()
        s.add(OutboxEntry(site_id=broken.id, inbound_order_id=order.id, status="exported"))
        s.flush()
        broken_row = s.scalar(select(OutboxEntry.id).where(OutboxEntry.inbound_order_id == order.id))
        s.execute(
            update(OutboxEntry).where(OutboxEntry.id == broken_row).values(id=0)
        )  # first in id order, ahead of every healthy row

    # When the outbox is flushed
    result = writeback.flush()

    # Then the broken site's row is dead with the reason, and every other row was still sent
    with session_scope() as s:
        row = s.get(OutboxEntry, 0)
        assert row is not None and row.state == "dead"
        assert "cannot be decrypted" in (row.last_error or "")
        pending = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending"))
    assert pending == 0
    assert result.sent == len(_imported_orders()) - 1  # all but the broken site's one
