"""A writeback whose answer was lost is checked on the partner, never sent blindly a second time.

No worker: these tests call ``services.writeback`` directly, on the real Postgres and the real
sandboxes over HTTP (faults injected in the sandbox, nothing of the server replaced). A status
change reaches the partner, and its answer is cut short or the connection is closed: the HTTP
layer does not repeat the write, the outbox row stays pending and "uncertain" (``sending_since``
set), and its next attempt asks the partner whether it shows the change already — marking the
row sent without sending when it does, sending it when it does not.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.db import session_scope
from models import InboundOrder, OutboxEntry, Site, WritebackAttempt
from services import writeback

pytestmark = pytest.mark.integration


# --- helpers ---------------------------------------------------------------------------------


def _row(outbox_id: int) -> OutboxEntry:
    with session_scope() as s:
        row = s.get(OutboxEntry, outbox_id)
        assert row is not None
        return row


def _first_pending(site_id: int, status: str = "exported") -> tuple[OutboxEntry, InboundOrder]:
    with session_scope() as s:
        row = s.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.site_id == site_id, OutboxEntry.status == status, OutboxEntry.state == "pending")
            .order_by(OutboxEntry.id)
        ).first()
        assert row is not None, f"no pending {status} writeback"
        order = s.get(InboundOrder, row.inbound_order_id)
        assert order is not None
        return row, order


def _attempts(outbox_id: int) -> list[tuple[bool | None, str | None]]:
    with session_scope() as s:
        return [
            (a.ok, a.note)
            for a in s.scalars(
                select(WritebackAttempt).where(WritebackAttempt.outbox_id == outbox_id).order_by(WritebackAttempt.id)
            )
        ]


def _make_due(outbox_id: int) -> None:
    """Time passes: the row's backoff is over."""
    with session_scope() as s:
        s.execute(update(OutboxEntry).where(OutboxEntry.id == outbox_id).values(next_attempt_at=func.now()))


def _assert_uncertain(outbox_id: int, result: writeback.FlushResult) -> None:
    """The attempt counts as failed, to be retried, and the row remembers its outcome is unknown."""
    assert (result.sent, result.retrying, result.dead) == (0, 1, 0), result.as_dict()
    row = _row(outbox_id)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.sending_since is not None
    assert "may have applied it" in (row.last_error or ""), row.last_error
    [(ok, note)] = _attempts(outbox_id)
    assert ok is False and note and "outcome unknown" in note


# --- Brandboom -------------------------------------------------------------------------------


@pytest.fixture()
def brandboom_site(db: str, sandbox: Any) -> int:
    """The demo brand loaded and its Brandboom orders imported ("exported" writebacks waiting)."""
    from bobbin.demo_sites import load_demo
    from services.pipeline import import_site_orders

    load_demo(sandbox.url)
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id)))
    assert import_site_orders(site_id)["imported"] >= 1
    assert sandbox.status_changes() == []
    return site_id


def _changes(sandbox: Any, partner_order_id: str) -> list[str]:
    return [c["status"] for c in sandbox.status_changes() if c["order_id"] == partner_order_id]


def test_brandboom_answer_cut_short_is_read_back_and_not_sent_again(brandboom_site: int, sandbox: Any) -> None:
    # Given an imported order's "exported" writeback, and Brandboom applying it but its answer cut short
    row, order = _first_pending(brandboom_site)
    sandbox.faults.inject(f"truncate:method=POST,path=/orders/{order.partner_order_id}@1st")

    # When the outbox is flushed
    result = writeback.flush(outbox_ids=[row.id])

    # Then Brandboom holds the change once, the POST was not repeated, and the row is uncertain
    assert _changes(sandbox, order.partner_order_id) == ["exported"]
    _assert_uncertain(row.id, result)

    # When it is due again
    _make_due(row.id)
    result = writeback.flush(outbox_ids=[row.id])

    # Then the order was read back, found exported, and the row marked sent without a second POST
    assert (result.sent, result.already_applied, result.retrying) == (1, 1, 0), result.as_dict()
    row = _row(row.id)
    assert (row.state, row.attempts, row.sending_since, row.last_error) == ("sent", 2, None, None)
    assert _attempts(row.id)[-1] == (True, writeback.ALREADY_APPLIED)
    assert _changes(sandbox, order.partner_order_id) == ["exported"]


def test_brandboom_connection_closed_unapplied_is_read_back_then_sent_once(brandboom_site: int, sandbox: Any) -> None:
    # Given a writeback whose POST reaches Brandboom, which closes the connection without doing it
    row, order = _first_pending(brandboom_site)
    sandbox.faults.inject(f"drop:method=POST,path=/orders/{order.partner_order_id}@1st")

    # When the outbox is flushed: the HTTP layer cannot know it was not applied, so it does not repeat it
    result = writeback.flush(outbox_ids=[row.id])
    assert _changes(sandbox, order.partner_order_id) == []
    _assert_uncertain(row.id, result)

    # When it is due again: the order is read back, not exported yet, so the change is sent
    _make_due(row.id)
    result = writeback.flush(outbox_ids=[row.id])

    # Then it was sent once, as an ordinary send (no "already applied" note)
    assert (result.sent, result.already_applied) == (1, 0), result.as_dict()
    assert _row(row.id).state == "sent" and _row(row.id).sending_since is None
    assert _attempts(row.id)[-1] == (True, None)
    assert _changes(sandbox, order.partner_order_id) == ["exported"]


def test_an_attempt_left_without_outcome_is_uncertain(brandboom_site: int, sandbox: Any) -> None:
    # Given a row whose attempt was recorded in flight and never finished (its worker died after
    # Brandboom applied the change): sending_since set, an attempt without outcome, the change there
    row, order = _first_pending(brandboom_site)
    with session_scope() as s:
        s.execute(update(OutboxEntry).where(OutboxEntry.id == row.id).values(attempts=1, sending_since=func.now()))
        s.add(WritebackAttempt(outbox_id=row.id, ok=None))
    from connectors.brandboom.client import BrandboomClient
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    with BrandboomClient(sandbox.url, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY) as client:
        client.update_order_status(order.partner_order_id, "exported")

    # When the outbox is flushed (a redelivered flush task)
    result = writeback.flush(outbox_ids=[row.id])

    # Then the row is marked sent from the read-back, and Brandboom got the change once
    assert (result.sent, result.already_applied) == (1, 1), result.as_dict()
    assert _attempts(row.id) == [(None, None), (True, writeback.ALREADY_APPLIED)]
    assert _changes(sandbox, order.partner_order_id) == ["exported"]


# --- JOOR ------------------------------------------------------------------------------------


@pytest.fixture()
def joor_site(joor_site: int, joor_sandbox: Any) -> int:
    """The JOOR demo loaded and imported: each held order's "exported" mark waits in the outbox."""
    from services.pipeline import import_site_orders

    site_id = joor_site
    import_site_orders(site_id)
    assert joor_sandbox.export_marks() == []
    return site_id


def _marks(sandbox: Any, partner_order_id: str) -> int:
    return sum(1 for m in sandbox.export_marks() if m["order_id"] == partner_order_id)


def _export_status(sandbox: Any, partner_order_id: str) -> str:
    [order] = [o for o in sandbox.orders() if str(o["order_id"]) == partner_order_id]
    return str(order["export_status"])


def test_joor_mark_whose_answer_is_cut_short_is_read_back_and_not_marked_again(
    joor_site: int, joor_sandbox: Any
) -> None:
    from connectors.joor import contract as c

    # Given a held order's "exported" mark waiting, and JOOR marking it (the sync=1 read) but its
    # answer cut short
    row, order = _first_pending(joor_site)
    joor_sandbox.faults.inject("truncate:method=GET,path=/order/@1st")

    # When the outbox is flushed
    result = writeback.flush(outbox_ids=[row.id])

    # Then JOOR counts the order exported, marked once (the sync=1 read was not repeated), and the
    # row is uncertain
    assert _export_status(joor_sandbox, order.partner_order_id) == c.STATE_EXPORTED
    assert _marks(joor_sandbox, order.partner_order_id) == 1
    _assert_uncertain(row.id, result)

    # When it is due again
    _make_due(row.id)
    result = writeback.flush(outbox_ids=[row.id])

    # Then the order was read with sync=0 and export_status=3, found exported, and the row marked
    # sent without a second mark
    assert (result.sent, result.already_applied) == (1, 1), result.as_dict()
    row = _row(row.id)
    assert (row.state, row.attempts, row.sending_since) == ("sent", 2, None)
    assert _attempts(row.id)[-1] == (True, writeback.ALREADY_APPLIED)
    assert _marks(joor_sandbox, order.partner_order_id) == 1


def test_joor_mark_dropped_before_it_was_applied_is_sent_once(joor_site: int, joor_sandbox: Any) -> None:
    # Given a mark that reaches JOOR, which closes the connection without marking anything
    row, order = _first_pending(joor_site)
    joor_sandbox.faults.inject("drop:method=GET,path=/order/@1st")

    # When the outbox is flushed, and again once due
    _assert_uncertain(row.id, writeback.flush(outbox_ids=[row.id]))
    assert _marks(joor_sandbox, order.partner_order_id) == 0
    _make_due(row.id)
    result = writeback.flush(outbox_ids=[row.id])

    # Then the read-back found it not exported, so it was marked, once
    assert (result.sent, result.already_applied) == (1, 0), result.as_dict()
    assert _marks(joor_sandbox, order.partner_order_id) == 1


def test_joor_customer_code_whose_answer_is_lost_is_read_back(joor_site: int, joor_sandbox: Any) -> None:
    # Given a new ERP customer code waiting to be stored on a JOOR connection, and JOOR storing it
    # but its answer cut short
    connection_id = str(joor_sandbox.connections()[0]["connection_id"])
    _, order = _first_pending(joor_site)
    with session_scope() as s:
        row = OutboxEntry(
            site_id=joor_site,
            inbound_order_id=order.id,
            status="customer_code",
            payload={"partner_customer_id": connection_id, "erp_code": "ZZT01"},
        )
        s.add(row)
        s.flush()
        row_id = row.id
    joor_sandbox.faults.inject("truncate:method=PUT,path=/connection/@1st")

    # When the outbox is flushed, and again once due
    _assert_uncertain(row_id, writeback.flush(outbox_ids=[row_id]))
    _make_due(row_id)
    result = writeback.flush(outbox_ids=[row_id])

    # Then the connection was read back with the code on it: sent, and JOOR got one update
    assert (result.sent, result.already_applied) == (1, 1), result.as_dict()
    updates = [u for u in joor_sandbox.connection_updates() if str(u["connection_id"]) == connection_id]
    assert [u["fields"] for u in updates] == [{"customer_code": "ZZT01"}]
