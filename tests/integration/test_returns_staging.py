"""Loop returns into the holding table (services.returns.stage_returns) on real Postgres, read from
the Loop sandbox over HTTP by the Loop client: each return held once, a newer state replaces the
held one, an older or repeated one is refused as stale, and a webhook's payload (no updated_at)
is not staged but reported for its details to be read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.loop.client import LoopClient
from connectors.loop.mapper import LoopReturn, to_loop_return
from models import InboundReturn, Site
from sandbox.loop.demo import DEMO_START, demo_seed
from sandbox.loop.server import LoopSandbox
from services.returns import stage_returns

pytestmark = pytest.mark.integration

KEY = "loop-staging-key"
ALL_STATES = ("open", "closed", "cancelled", "expired", "review")


@pytest.fixture()
def loop() -> Iterator[LoopSandbox]:
    server = LoopSandbox(api_key=KEY, seed=demo_seed()).start()
    yield server
    server.stop()


@pytest.fixture()
def site_id(session: Session) -> int:
    site = Site(name="loop-us", kind="loop", base_url="http://loop.test", credentials_encrypted="")
    session.add(site)
    session.commit()
    return site.id


def read_all(loop: LoopSandbox) -> list[LoopReturn]:
    client = LoopClient(loop.url, KEY)
    try:
        pages = client.iter_return_pages(
            DEMO_START - timedelta(days=1), datetime.now(UTC) + timedelta(minutes=1), states=ALL_STATES, page_size=10
        )
        return [to_loop_return(r) for page in pages for r in page.returns]
    finally:
        client.close()


def test_each_return_is_held_once_and_only_a_newer_state_replaces_it(
    session: Session, site_id: int, loop: LoopSandbox
) -> None:
    # Given every return of the demo shop, read from the sandbox
    first = read_all(loop)

    # When they are staged, then each is held once
    staged = stage_returns(session, site_id, first)
    session.commit()
    assert (len(staged.new_ids), staged.changed_ids, staged.stale) == (len(first), [], 0)
    assert session.scalar(select(func.count()).select_from(InboundReturn)) == len(first)

    # When the same pages are staged again, then nothing is written
    again = stage_returns(session, site_id, read_all(loop))
    session.commit()
    assert (again.new_ids, again.changed_ids, again.stale) == ([], [], len(first))

    # When one return changes in Loop and the list is read again, then that one alone is replaced
    target = next(r for r in loop.returns() if r["state"] == "open")
    loop.update_return(target["id"], {"state": "closed"})
    newer = read_all(loop)
    changed = stage_returns(session, site_id, newer)
    session.commit()
    held = session.scalars(select(InboundReturn).where(InboundReturn.loop_return_id == str(target["id"]))).one()
    assert changed.changed_ids == [held.id] and changed.new_ids == []
    assert (held.loop_state, held.raw["state"]) == ("closed", "closed")

    # When the older payload of that return arrives after it (out of order), then it is stale
    older = next(r for r in first if r.return_id == str(target["id"]))
    late = stage_returns(session, site_id, [older])
    session.commit()
    session.refresh(held)
    assert (late.changed_ids, late.stale, held.loop_state) == ([], 1, "closed")


def test_a_webhook_payload_is_reported_for_its_details_not_staged(
    session: Session, site_id: int, loop: LoopSandbox
) -> None:
    # Given the webhook Loop sends for a return (no updated_at in it)
    loop.configure_webhooks("http://127.0.0.1:9/loop", "s3cret")
    rid = loop.returns()[0]["id"]
    [event] = loop.send_webhook(rid, "return.updated", webhook="hold")
    webhook_return = to_loop_return(json.loads(event.body))

    # When it is staged, then nothing is held and its id is handed back for the details read
    staged = stage_returns(session, site_id, [webhook_return])
    session.commit()
    assert (staged.new_ids, staged.needs_details) == ([], [str(rid)])
    assert session.scalar(select(func.count()).select_from(InboundReturn)) == 0

    # When the details are read and staged instead, then the return is held with Loop's updated_at
    client = LoopClient(loop.url, KEY)
    try:
        detail = to_loop_return(client.get_return(str(rid)))
    finally:
        client.close()
    held = stage_returns(session, site_id, [detail])
    session.commit()
    assert len(held.new_ids) == 1
    row = session.get(InboundReturn, held.new_ids[0])
    assert row is not None and row.loop_updated_at == detail.updated_at
