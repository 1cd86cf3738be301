"""A partner is one package plus one registration: the toy partner (``tests/toy_partner``, in the
test suite alone) runs a site through import, validation, writeback and inventory push (and the
catalog and customer push: tests/integration/test_catalog_push.py) with no change anywhere else in
Bobbin. It is registered for the test only, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bobbin.demo import build_world, demo_mappings, load_erp, make_order
from connectors.brandboom.mapper import to_partner_order as brandboom_order
from connectors.registry import NotOffered, UnknownPartner, kinds, partner, registered
from core.db import session_scope
from models import InboundOrder, OrderError, OutboxEntry, SalesOrder, Site
from services import inventory, writeback
from services.fixes import upsert_mapping
from services.pipeline import import_site_orders
from services.sites import SiteError, create_site, update_settings
from tests.toy_partner import SPEC
from tests.toy_partner.server import TOKEN, ToyServer

pytestmark = pytest.mark.integration


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def toy_order(world: Any, order_id: int, **line_overrides: Any) -> dict[str, Any]:
    """A valid order of the demo brand in the toy partner's own format (built from the demo's
    generator, whose orders are valid against the demo ERP)."""
    p = brandboom_order(make_order(world, id=order_id))
    customer = {k: _plain(v) for k, v in asdict(p.customer).items()}
    lines = [
        {
            "style": ln.style_number,
            "color": ln.color_code,
            "size": ln.size,
            "sku": ln.sku_number,
            "upc": ln.upc,
            "qty": _plain(ln.quantity),
            "price": _plain(ln.price),
        }
        for ln in p.lines
    ]
    lines[0].update(line_overrides)
    order = {
        "id": str(order_id),
        "status": "open",
        "channel": "wholesale",
        "po": p.po_number,
        "customer": customer,
        "ship_to": asdict(p.ship_to) if p.ship_to else None,
        "rep": p.sales_rep,
        "terms": p.payment_method,
        "ship_via": p.shipping_method,
        "warehouse": p.warehouse,
        "ship_date": _plain(p.ship_date),
        "cancel_date": _plain(p.cancel_date),
        "currency": p.currency,
        "lines": lines,
    }
    return json.loads(json.dumps(order, default=_plain))


@pytest.fixture()
def toy(db: str) -> Iterator[tuple[ToyServer, int, Any]]:
    world = build_world()
    server = ToyServer(known_skus={row["sku"] for row in world.skus})
    with session_scope() as s:
        load_erp(s, world)
    try:
        with registered(SPEC):
            with session_scope() as s:
                site = create_site(
                    s,
                    name="toy-shop",
                    kind="toy",
                    base_url=server.url,
                    credentials={"token": TOKEN},
                    division=world.divisions[0]["code"],
                    notify_emails=["ops@example.com"],
                    settings={"channel": "wholesale", "default_warehouse": world.warehouses[0]["code"]},
                )
                for m in demo_mappings():
                    upsert_mapping(s, site.id, m["kind"], m["partner_value"], m["erp_code"], "manual")
                site_id = site.id
            yield server, site_id, world
    finally:
        server.stop()


def test_the_toy_partner_is_known_only_while_registered(db: str) -> None:
    assert "toy" not in kinds()
    with pytest.raises(UnknownPartner, match="no partner kind 'toy'"):
        partner("toy")
    with registered(SPEC):
        assert "toy" in kinds() and partner("toy") is SPEC
    assert "toy" not in kinds()


def test_a_toy_site_is_imported_validated_written_back_and_pushed(toy: tuple[ToyServer, int, Any]) -> None:
    server, site_id, world = toy
    # Given two orders waiting on the partner: one valid, one naming a SKU the ERP does not have
    server.orders = {
        "9001": toy_order(world, 9001),
        "9002": toy_order(world, 9002, sku="NO-SUCH-SKU", upc=None, style="NOPE"),
    }

    # When the site's orders are imported
    summary = import_site_orders(site_id)

    # Then both are held, the valid one is in the ERP, the other holds its error
    assert (summary["fetched"], summary["new"], summary["imported"], summary["invalid"]) == (2, 2, 1, 1), summary
    assert server.reads and all(q["channel"] == ["wholesale"] for q in server.reads)  # the site's own setting
    with session_scope() as s:
        held = {o.partner_order_id: o for o in s.scalars(select(InboundOrder).where(InboundOrder.site_id == site_id))}
        assert (held["9001"].state, held["9002"].state) == ("imported", "invalid")
        [so] = s.scalars(select(SalesOrder).where(SalesOrder.inbound_order_id == held["9001"].id)).all()
        errors = s.scalars(select(OrderError.code).where(OrderError.order_id == held["9002"].id)).all()
        assert errors and all(e.startswith(("sku", "item", "style")) for e in errors), errors
        # And "exported" is queued for the imported order only (the partner is told once it is in the ERP)
        queued = s.execute(
            select(OutboxEntry.inbound_order_id, OutboxEntry.status).where(OutboxEntry.site_id == site_id)
        ).all()
        assert queued == [(held["9001"].id, "exported")]

    # When the outbox is flushed
    flushed = writeback.flush(site_id=site_id)

    # Then the partner got exactly one write, for that order
    assert flushed.sent == 1, flushed.as_dict()
    assert server.marks == [("9001", "exported")]
    assert server.orders["9001"]["status"] == "exported" and server.orders["9002"]["status"] == "open"

    # When the site's inventory is pushed
    pushed = inventory.push_inventory(site_id)

    # Then the partner holds what was accepted, one row per SKU and warehouse in the site's default
    assert pushed.rows_accepted > 0 and pushed.rows_accepted == pushed.rows_sent, pushed.summary()
    assert len(server.stock) == pushed.rows_accepted
    assert {wh for _, wh, _ in server.stock} == {""} and so.number

    # And a second push sends nothing (the diff is against what the partner accepted)
    assert inventory.push_inventory(site_id).rows_sent == 0


def test_the_toy_partner_settings_and_capabilities_are_its_own(toy: tuple[ToyServer, int, Any]) -> None:
    _, site_id, _ = toy
    with session_scope() as s:
        site = s.get_one(Site, site_id)
        # A setting of another partner is refused, in words naming the partner and its settings
        with pytest.raises(SiteError, match="order_types: not a setting of Toy sites .*channel"):
            update_settings(s, site, {"order_types": [6]})
        assert update_settings(s, site, {"channel": "retail"}).channel == "retail"  # type: ignore[attr-defined]
        # A capability it does not offer is a clear error naming those that do
        assert SPEC.offers("catalog") and SPEC.offers("customers")  # tests/integration/test_catalog_push.py
        with pytest.raises(NotOffered, match="Toy sites do not push events in Bobbin"):
            SPEC.capability("events")
