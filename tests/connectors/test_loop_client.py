"""The Loop client against the Loop sandbox, over real HTTP on 127.0.0.1: the two were written
from the same document, each from its own tables (connectors/loop/contract.py, sandbox/loop/api.py),
so what one got wrong the other fails on here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.errors import AuthError
from connectors.loop.client import LoopActionRefused, LoopClient
from connectors.loop.contract import verify_webhook
from connectors.loop.mapper import to_loop_return
from sandbox.loop.demo import DEMO_NOW, DEMO_START, demo_seed
from sandbox.loop.server import LoopSandbox

KEY = "loop-test-key"
ALL_STATES = ("open", "closed", "cancelled", "expired", "review")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LoopSandbox]:
    server = LoopSandbox(api_key=KEY, seed=demo_seed()).start()
    yield server
    server.stop()


@pytest.fixture
def client(sandbox: LoopSandbox) -> Iterator[LoopClient]:
    sandbox.reset()
    c = LoopClient(sandbox.url, KEY)
    yield c
    c.close()


def test_every_return_is_read_across_120_day_windows_and_maps_without_problems(
    sandbox: LoopSandbox, client: LoopClient
) -> None:
    # Given the demo shop's returns, spread over more than 120 days
    expected = {str(r["id"]) for r in sandbox.returns()}
    assert len(expected) > 20

    # When the client reads every state by updated_at from before the first to after the last
    pages = list(
        client.iter_return_pages(
            DEMO_START - timedelta(days=1), DEMO_NOW + timedelta(days=1), states=ALL_STATES, page_size=7
        )
    )

    # Then it took more than one window and more than one page a window, and saw each return once
    assert len({(p.window_start, p.window_end) for p in pages}) >= 2
    assert len(pages) > len({(p.window_start, p.window_end) for p in pages})
    seen = [to_loop_return(r) for p in pages for r in p.returns]
    assert sorted(r.return_id for r in seen) == sorted(expected)
    assert not [r.problems for r in seen if r.problems]
    assert all(ln.sku for r in seen for ln in r.lines)


def test_details_process_and_a_note_each_touch_exactly_one_return(sandbox: LoopSandbox, client: LoopClient) -> None:
    # Given an open return and a flagged (review) one
    open_one = next(r for r in sandbox.returns() if r["state"] == "open")
    review = next(r for r in sandbox.returns() if r["state"] == "review")
    rid = str(open_one["id"])

    # When the open one is read in detail, processed and given a note
    detail = to_loop_return(client.get_return(rid))
    client.process_return(rid)
    client.add_note(rid, "RMA RMA0000042 created in the ERP")

    # Then the details matched the list, the return is closed and has the note, and nothing else moved
    assert (detail.return_id, detail.state, not detail.problems) == (rid, "open", True)
    assert sandbox.get_return(int(rid))["state"] == "closed"
    assert [n["content"] for n in client.notes(rid)] == ["RMA RMA0000042 created in the ERP"]
    assert [(a["return_id"], a["action"]) for a in sandbox.actions()] == [(int(rid), "process")]

    # When the flagged one is processed, then Loop's refusal is an error that says so
    with pytest.raises(LoopActionRefused, match="UNPROCESSABLE_FLAGGED_RETURN"):
        client.process_return(str(review["id"]))


def test_a_key_without_the_returns_scope_is_told_in_words(sandbox: LoopSandbox) -> None:
    sandbox.add_key("labels-only", ["Labels"])
    c = LoopClient(sandbox.url, "labels-only")
    try:
        with pytest.raises(AuthError, match="Returns scope"):
            c.get_return(str(sandbox.returns()[0]["id"]))
    finally:
        c.close()


def test_the_sandbox_signs_webhooks_the_client_verifies_and_maps(sandbox: LoopSandbox) -> None:
    # Given webhooks signed with a secret (held: the bytes are made, nothing is sent)
    sandbox.configure_webhooks("http://127.0.0.1:9/loop", "s3cret")
    rid = sandbox.returns()[0]["id"]
    [event] = sandbox.send_webhook(rid, "return.updated", webhook="hold")

    # Then the client's check accepts the bytes as sent and refuses them changed or re-signed
    assert verify_webhook(event.body, {"X-Loop-Signature": event.signature}, "s3cret")
    assert not verify_webhook(event.body + b" ", {"X-Loop-Signature": event.signature}, "s3cret")
    assert not verify_webhook(event.body, {"X-Loop-Signature": event.signature}, "other")
    # ... and the webhook-shaped return maps to the same return, without problems
    mapped = to_loop_return(json.loads(event.body))
    assert (mapped.return_id, mapped.problems) == (str(rid), ())
    sandbox.configure_webhooks(None, None)
