"""Partner payloads Bobbin guessed, checked against partners that answer differently.

- a JOOR server that ignores the order a marking read names: nothing is counted as sent, each
  change is held for a person with a ``contract_violation`` problem (request and answer kept), the
  site's contacts are told, and no order is lost (what the server marked is kept in the holding
  area); once the server behaves and a person re-queues, each order is marked once;
- JOOR orders carrying their id as ``id`` (v4's spelling) import like ``order_id`` ones; orders
  carrying no id Bobbin reads are held as unreadable and never produce a write to JOOR;
- renamed optional fields (Brandboom and JOOR) raise a drift warning naming both names, in the
  run's summary, ``bobbin status`` and the error e-mail;
- a Brandboom read-back answered with another order is a contract violation, not an answer.

The expectations come from the sandbox's own orders and from the renames the test makes.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.cli.status import site_status
from bobbin.demo_sites import load_demo
from connectors.base import identified
from connectors.brandboom.client import BrandboomClient
from connectors.errors import NotSupported
from core.db import session_scope
from models import InboundOrder, OrderError, OutboxEntry, Site
from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY
from services import notify, writeback
from services.pipeline import import_site_orders

pytestmark = pytest.mark.integration


def _outbox_states(site_id: int, status: str = "exported") -> dict[str, int]:
    with session_scope() as s:
        return dict(
            s.execute(
                select(OutboxEntry.state, func.count())
                .where(OutboxEntry.site_id == site_id, OutboxEntry.status == status)
                .group_by(OutboxEntry.state)
            ).all()
        )


def _held_ids(site_id: int) -> set[str]:
    with session_scope() as s:
        return set(s.scalars(select(InboundOrder.partner_order_id).where(InboundOrder.site_id == site_id)))


def _waiting_on_joor(sandbox: Any) -> set[str]:
    return {
        str(o["order_id"])
        for o in sandbox.orders()
        if o["status"] == "APPROVED" and o["export_status"] == "NOT_EXPORTED"
    }


def test_a_joor_server_that_ignores_the_named_order_holds_every_mark_and_loses_nothing(
    joor_site: int, joor_sandbox: Any
) -> None:
    # Given JOOR's approved orders waiting, and a server that answers a read naming one order with
    # the list's first orders (marking them exported)
    waiting = _waiting_on_joor(joor_sandbox)
    joor_sandbox.ignore_order_filter = True

    # When the site is imported (every held order gets an "exported" writeback) and flushed
    summary = import_site_orders(joor_site)
    queued = _outbox_states(joor_site).get("pending", 0)
    result = writeback.flush(site_id=joor_site)

    # Then nothing counted as sent: each mark the server answered with other orders is held (the
    # ERP codes stored on JOOR connections name their connection in the path and go through)
    assert summary["fetched"] == len(waiting) and queued > 0
    assert result.held_for_person == queued, result.as_dict()
    assert result.sent == _outbox_states(joor_site, "customer_code").get("sent", 0)
    assert _outbox_states(joor_site) == {"held": queued}
    assert result.violation_sites == {joor_site}
    # and each held order carries the problem with the request and the answer kept
    with session_scope() as s:
        problems = list(s.scalars(select(OrderError).where(OrderError.code == "contract_violation")))
    assert len(problems) == queued
    assert all("GET order/" in (p.field or "") and "sync=1" in (p.field or "") for p in problems)
    assert all(p.value and "order" in p.value for p in problems)
    # and no order is lost: whatever the server marked exported is in the holding area
    marked = {str(m["order_id"]) for m in joor_sandbox.export_marks()}
    assert marked and marked <= _held_ids(joor_site)
    assert waiting <= _held_ids(joor_site)
    # and a person is told: in `bobbin status` and in the error e-mail
    with session_scope() as s:
        site = s.get(Site, joor_site)
        status = site_status(s, site)
        report = notify.new_errors_report(s, joor_site)
    assert any("held" in w and "another record" in w for w in status["warnings"]), status["warnings"]
    assert report is not None and any("held" in w for w in report.warnings)
    assert "contract_violation" in {c.code for c in report.by_code}

    # When the server behaves again and a person sends the changes again
    joor_sandbox.ignore_order_filter = False
    with session_scope() as s:
        ids = sorted(s.scalars(select(OutboxEntry.inbound_order_id).where(OutboxEntry.state == "held")))
        marked = writeback.mark(s, ids, "exported")
    again = writeback.flush(site_id=joor_site)

    # Then each is marked exported on JOOR
    assert marked.queued == ids and not marked.skipped
    assert again.sent == len(ids) and _outbox_states(joor_site) == {"sent": len(ids)}, again.as_dict()
    assert _waiting_on_joor(joor_sandbox) == set()


def test_joor_orders_with_id_import_and_orders_without_an_id_are_never_written_back(
    joor_site: int, joor_sandbox: Any
) -> None:
    # Given JOOR serves its order id as "id" (the v4 spelling)
    waiting = _waiting_on_joor(joor_sandbox)
    joor_sandbox.renamed_keys = {"order_id": "id"}
    # When imported and flushed
    summary = import_site_orders(joor_site)
    writeback.flush(site_id=joor_site)
    # Then every order is held under its JOOR id and marked exported once
    assert summary["fetched"] == len(waiting) and waiting <= _held_ids(joor_site)
    assert all(identified(pid) for pid in _held_ids(joor_site))
    assert sorted(str(m["order_id"]) for m in joor_sandbox.export_marks()) == sorted(waiting)


def test_joor_orders_carrying_no_id_are_held_unreadable_and_never_marked(joor_site: int, joor_sandbox: Any) -> None:
    # Given JOOR serves its orders with the id under a key Bobbin does not read
    waiting = _waiting_on_joor(joor_sandbox)
    joor_sandbox.renamed_keys = {"order_id": "orderRef"}
    # When imported and flushed
    summary = import_site_orders(joor_site)
    result = writeback.flush(site_id=joor_site)
    # Then each is held as unreadable, and no write of any kind was queued or sent to JOOR
    held = _held_ids(joor_site)
    assert summary["fetched"] == len(waiting) == len(held)
    assert not any(identified(pid) for pid in held)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        codes = set(s.scalars(select(OrderError.code)))
    assert "payload_invalid" in codes
    assert result.sent == 0 and joor_sandbox.export_marks() == [] and joor_sandbox.connection_updates() == []
    assert _waiting_on_joor(joor_sandbox) == waiting


@pytest.mark.parametrize(
    ("partner", "ours", "theirs"),
    [
        ("brandboom", "shipDate", "startShipDate"),
        ("joor", "start_ship_date", "ship_start"),
    ],
)
def test_a_renamed_optional_field_raises_a_drift_warning_naming_both(
    partner: str, ours: str, theirs: str, request: Any
) -> None:
    # Given the partner serves one optional field we read under another name
    if partner == "brandboom":
        sandbox = request.getfixturevalue("sandbox")
        request.getfixturevalue("db")
        load_demo(sandbox.url)
        with session_scope() as s:
            site_id = int(s.scalars(select(Site.id)).one())
    else:
        sandbox, site_id = request.getfixturevalue("joor_sandbox"), request.getfixturevalue("joor_site")
    sandbox.renamed_keys = {ours: theirs}
    # When one import runs
    summary = import_site_orders(site_id)
    # Then its summary warns, naming our name, theirs, and what is lost
    (warning,) = [w for w in summary.get("drift", []) if ours in w]
    assert theirs in warning and "ship-date checks are off" in warning, warning
    assert summary["fields_absent"]["start ship date"] == summary["fetched"]
    # and `bobbin status` and the error e-mail say the same
    with session_scope() as s:
        site = s.get(Site, site_id)
        assert warning in site_status(s, site)["warnings"]
        report = notify.new_errors_report(s, site_id)
    assert report is not None and warning in report.warnings
    message = notify.render(report)
    assert theirs in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_brandboom_read_back_picks_the_order_asked_for_or_cannot_tell(sandbox: Any) -> None:
    client = BrandboomClient(sandbox.url, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY)
    try:
        waiting = [str(o["id"]) for o in sandbox.orders() if o["status"] == "export"]
        target, other = waiting[0], waiting[1]
        client.update_order_status(other, "exported")
        # Given a server that answers GET orders/{id} with every order, whatever the id
        sandbox.ignore_order_id = True
        # Then the read-back picks the order asked for: another order's "exported" is not this one's
        assert str(client.get_order(target)["id"]) == target
        assert client.writeback_applied(target, "exported", {}) is False
        assert client.writeback_applied(other, "exported", {}) is True
        # And an answer that does not carry the order at all cannot tell (the change is then sent)
        sandbox.renamed_keys = {"id": "orderId"}
        with pytest.raises(NotSupported, match=f"not order {target}: cannot tell"):
            client.writeback_applied(target, "exported", {})
    finally:
        sandbox.ignore_order_id = False
        sandbox.renamed_keys = {}
        client.close()
