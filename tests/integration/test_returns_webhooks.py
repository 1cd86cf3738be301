"""Loop's return webhooks end to end over real HTTP (issue 16): the Loop sandbox, configured with
the demo site's webhook secret, POSTs signed webhooks to the real web app (uvicorn serving
``web.app:create_app`` in a thread, ``POST /events/loop-demo``), which stores each event once
and hands its row id to a real Celery worker; the worker reads the return's details from Loop,
holds it and moves it along the flow, then flushes what it queued for Loop (the RMA's note).

- a created return becomes an RMA, with exactly one ``note_rma`` on Loop's timeline; its receipt
  asks Loop to process it, and Loop's ``return.closed`` webhook posts the credit memo and its AR
  debit once;
- a webhook delivered twice is stored once and makes one RMA;
- ``return.updated`` delivered before ``return.created`` converges to the same single RMA (and a
  cancellation delivered before the creation to no RMA at all);
- a bad signature is a 401 and nothing is stored;
- a webhook that never came is caught by the returns poll (``tasks.returns.import_returns``).

Written given / when / then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from bobbin.demo_sites import LOOP_DEMO_SITE, load_loop_demo
from core.db import session_scope
from models import ArAdjustment, CreditMemo, InboundEvent, InboundReturn, OutboxEntry, Rma, RmaLine, Site
from sandbox.loop.demo import loop_api_key, loop_webhook_secret
from sandbox.loop.server import LoopSandbox
from services import rma as flow
from tests.console_app import Served
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

SIGNATURE = "X-Loop-Signature"
TIMEOUT = 60  # seconds for the worker to get through what a step sent it


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@pytest.fixture()
def loop() -> Iterator[LoopSandbox]:
    # An empty shop; webhooks retried quickly (Loop's backoff is seconds to minutes)
    server = LoopSandbox(api_key=loop_api_key(), backoff_base=0.05, backoff_cap=0.2).start()
    yield server
    server.stop()


@pytest.fixture()
def site_id(db: str, loop: LoopSandbox, web: Served) -> int:
    """The demo Loop site on the sandbox, and the sandbox's webhooks going to the web app's
    receiver for it, signed with the site's webhook secret."""
    load_loop_demo(loop.url)
    loop.configure_webhooks(f"{web.url}/events/{LOOP_DEMO_SITE}", loop_webhook_secret())
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == LOOP_DEMO_SITE)))


# --- what Bobbin holds ------------------------------------------------------------------------------


def events_of(loop_id: int) -> list[dict[str, Any]]:
    """The stored events of one Loop return, oldest first."""
    with session_scope() as s:
        rows = s.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()
        return [
            {"id": r.id, "event_id": r.event_id, "topic": r.topic, "state": r.state, "note": r.note}
            for r in rows
            if r.event_id.startswith(f"{loop_id}:")
        ]


def all_events() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(InboundEvent)) or 0)


def rmas_of(loop_id: int) -> list[tuple[str, str, int]]:
    """(number, status, lines) of each RMA made for one Loop return."""
    with session_scope() as s:
        rows = s.execute(
            select(Rma.number, Rma.status, func.count(RmaLine.id))
            .join(InboundReturn, InboundReturn.id == Rma.inbound_return_id)
            .outerjoin(RmaLine, RmaLine.rma_id == Rma.id)
            .where(InboundReturn.loop_return_id == str(loop_id))
            .group_by(Rma.id)
        ).all()
        return [(number, status, int(lines)) for number, status, lines in rows]


def held_state(loop_id: int) -> str | None:
    with session_scope() as s:
        return s.scalar(select(InboundReturn.state).where(InboundReturn.loop_return_id == str(loop_id)))


def settled() -> bool:
    """Every stored event processed (or refused for good) and nothing waiting in the outbox."""
    with session_scope() as s:
        open_events = s.scalar(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.state.in_(("received", "failed")))
        )
        pending = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending"))
    return not open_events and not pending


def settle(loop: LoopSandbox) -> None:
    """Wait until Loop sent every webhook and Bobbin got through all of them and their outbox."""
    assert loop.wait_for_webhooks(TIMEOUT), "the sandbox still has webhooks to send"
    wait_until(settled, timeout=TIMEOUT, what="every event processed and the outbox sent")


def notes(loop: LoopSandbox, loop_id: int) -> list[str]:
    return [n["content"] for n in loop.notes(loop_id)]


def delivered(loop: LoopSandbox, loop_id: int) -> list[tuple[str, int | None]]:
    """(trigger, HTTP status) of every delivery attempt of one return's webhooks, in order."""
    return [(a["trigger"], a["status"]) for a in loop.webhook_attempts() if a["return_id"] == loop_id]


# --- a created return ---------------------------------------------------------------------------


def test_a_created_return_becomes_an_rma_with_one_note_then_its_closed_webhook_credits_it(
    site_id: int, loop: LoopSandbox, web: Served, loop_catalog: list[dict[str, Any]], start_worker: Any
) -> None:
    # Given a worker, and a shopper starting a return of two items in Loop
    start_worker()
    made = loop.create_return(lines=loop_catalog[:2])
    rid = made["id"]

    # When Loop's return.created webhook reaches Bobbin and the worker has processed it
    settle(loop)

    # then the webhook was taken at once (200), stored once and processed
    assert delivered(loop, rid) == [("return.created", 200)]
    [event] = events_of(rid)
    assert (event["topic"], event["state"]) == ("return.created", "processed")
    assert "rmas_created 1" in (event["note"] or "")
    # and the return is one RMA with both lines, its number on Loop's timeline exactly once
    [(number, status, lines)] = rmas_of(rid)
    assert (status, lines) == ("open", 2)
    assert notes(loop, rid) == [f"ERP: {number} created for this return (2 line(s), customer SHOPIFY)"]
    assert loop.actions() == []

    # When the goods arrive and the worker asks Loop to process the return (the outbox)
    with session_scope() as s:
        assert flow.receive(s, number, None, source="cli", reference="dock 1").process_queued
    from worker import app

    app.send_task("tasks.status.flush_outbox", kwargs={"site_id": site_id}).get(timeout=TIMEOUT)
    settle(loop)

    # then Loop processed it once, and its return.closed webhook posted the credit memo for
    # Loop's refund and the AR debit offsetting it, each once
    assert [(a["action"], a["after"]) for a in loop.actions()] == [("process", "closed")]
    assert delivered(loop, rid) == [("return.created", 200), ("return.closed", 200)]
    refund = Decimal(loop.get_return(rid)["refunds"][0]["amount"])
    with session_scope() as s:
        memo = s.scalars(select(CreditMemo)).one()
        assert (memo.status, memo.amount) == ("posted", refund)
        debit = s.scalars(select(ArAdjustment)).one()
        assert (debit.amount, debit.credit_memo_id) == (refund, memo.id)
    assert held_state(rid) == "credited"
    rma_note, credit_note = notes(loop, rid)
    assert rma_note.startswith(f"ERP: {number} created") and credit_note.startswith(f"ERP: credit memo {memo.number}")


def test_a_webhook_delivered_twice_is_stored_once_and_makes_one_rma(
    site_id: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], start_worker: Any
) -> None:
    # Given a worker; when Loop sends the return.created webhook of a new return twice
    start_worker()
    made = loop.create_return(lines=[loop_catalog[0]], webhook="twice")
    rid = made["id"]
    settle(loop)

    # then both deliveries were answered 200, the second as a duplicate: one event is stored
    assert delivered(loop, rid) == [("return.created", 200), ("return.created", 200)]
    [event] = events_of(rid)
    assert event["state"] == "processed"
    # and one RMA was made, whose note reached Loop once
    [(number, _, lines)] = rmas_of(rid)
    assert lines == 1
    assert notes(loop, rid) == [f"ERP: {number} created for this return (1 line(s), customer SHOPIFY)"]


def test_updated_before_created_converges_to_the_same_single_rma(
    site_id: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], start_worker: Any
) -> None:
    # Given a return created and then changed in Loop (its label scanned), both webhooks held back
    start_worker()
    made = loop.create_return(lines=loop_catalog[:3], webhook="hold")
    rid = made["id"]
    labels = made["labels"]
    labels[0]["status"] = "delivered"
    loop.update_return(rid, {"labels": labels}, webhook="hold")

    # When Loop delivers them in reverse order: return.updated before return.created
    assert loop.release_webhooks(reverse=True) == 2
    settle(loop)

    # then both are stored and processed: the first made the RMA from the return's details as
    # Loop has them now, the second found it held already as Loop has it
    assert delivered(loop, rid) == [("return.updated", 200), ("return.created", 200)]
    updated, created = events_of(rid)
    assert (updated["topic"], updated["state"]) == ("return.updated", "processed")
    assert (created["topic"], created["state"]) == ("return.created", "processed")
    assert "rmas_created 1" in (updated["note"] or "")
    assert "held already as Loop has it now" in (created["note"] or "")
    # and there is one RMA, with all three lines, named on Loop's timeline once
    [(number, status, lines)] = rmas_of(rid)
    assert (status, lines) == ("open", 3)
    assert notes(loop, rid) == [f"ERP: {number} created for this return (3 line(s), customer SHOPIFY)"]

    # And a return cancelled in Loop whose cancellation arrives before its creation ends with no RMA
    gone = loop.create_return(lines=[loop_catalog[0]], webhook="hold")["id"]
    loop.update_return(gone, {"state": "cancelled"}, webhook="hold")
    assert loop.release_webhooks(reverse=True) == 2
    settle(loop)
    assert delivered(loop, gone) == [("return.updated", 200), ("return.created", 200)]
    assert (rmas_of(gone), held_state(gone), notes(loop, gone)) == ([], "void", [])


def test_a_bad_signature_is_401_and_nothing_is_stored(
    site_id: int, loop: LoopSandbox, web: Served, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given Loop signing its webhooks with a secret that is not the site's
    loop.configure_webhooks(f"{web.url}/events/{LOOP_DEMO_SITE}", "not-the-sites-webhook-secret")

    # When a return is created, Loop's webhook is refused on every attempt until Loop gives up
    rid = loop.create_return(lines=[loop_catalog[0]])["id"]
    assert loop.wait_for_webhooks(TIMEOUT)
    assert delivered(loop, rid) == [("return.created", 401)] * 6
    assert [e.outcome for e in loop.webhook_events()] == ["gave_up"]

    # And a body changed after Loop signed it (here: by hand) is refused as well
    [sent] = loop.webhook_events()
    tampered = sent.body.replace(b'"trigger":"return.created"', b'"trigger":"return.updated"')
    assert tampered != sent.body
    good_signature = base64.b64encode(
        hmac.new(loop_webhook_secret().encode(), sent.body, hashlib.sha256).digest()
    ).decode()
    answer = requests.post(
        f"{web.url}/events/{LOOP_DEMO_SITE}",
        data=tampered,
        headers={"Content-Type": "application/json", SIGNATURE: good_signature},
        timeout=30,
    )
    missing = requests.post(f"{web.url}/events/{LOOP_DEMO_SITE}", data=sent.body, timeout=30)

    # then each is a 401, and nothing is stored, held or made
    for refused in (answer, missing):
        assert refused.status_code == 401, refused.text
        assert refused.json() == {"error": "signature missing or does not match"}
    assert all_events() == 0
    assert (held_state(rid), rmas_of(rid)) == (None, [])

    # While the same body with its own signature is taken (the secret is the site's)
    ok = requests.post(
        f"{web.url}/events/{LOOP_DEMO_SITE}",
        data=sent.body,
        headers={"Content-Type": "application/json", SIGNATURE: good_signature},
        timeout=30,
    )
    assert ok.status_code == 200 and ok.json()["received"] is True


def test_a_webhook_that_never_came_is_caught_by_the_returns_poll(
    site_id: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], start_worker: Any, celery_app: Any
) -> None:
    # Given a worker, and a return created in Loop whose webhook is lost on the way
    start_worker()
    rid = loop.create_return(lines=loop_catalog[:2], webhook="drop")["id"]
    assert loop.wait_for_webhooks(TIMEOUT)
    assert delivered(loop, rid) == [] and all_events() == 0

    # When the scheduled returns poll runs
    summary = celery_app.send_task("tasks.returns.import_returns", args=[site_id]).get(timeout=TIMEOUT)

    # then it reads the return from Loop's list and makes its RMA, and the poll's follow-up flush
    # names it on Loop's timeline, once
    assert (summary["new"], summary["rmas_created"]) == (1, 1), summary
    wait_until(settled, timeout=TIMEOUT, what="the poll's outbox flush")
    [(number, _, lines)] = rmas_of(rid)
    assert lines == 2
    assert notes(loop, rid) == [f"ERP: {number} created for this return (2 line(s), customer SHOPIFY)"]

    # And when the poll runs again, nothing more is made or sent
    again = celery_app.send_task("tasks.returns.import_returns", args=[site_id]).get(timeout=TIMEOUT)
    assert (again["new"], again["rmas_created"]) == (0, 0), again
    wait_until(settled, timeout=TIMEOUT, what="the outbox")
    assert len(rmas_of(rid)) == 1 and len(notes(loop, rid)) == 1
