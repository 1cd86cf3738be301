"""Fixes people make after an import, through the CLI on real Postgres and the sandbox.

Given the demo Brandboom site imported once (orders held with problems), when a person adds a new
ship-to address, changes the site's price types, or lets Bobbin auto-map customers by e-mail or
name and postal code, then the orders concerned are checked again and the result says so.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bobbin.cli.main import app
from bobbin.demo import O_ADDRESS_NEW, build_world, make_order
from core.db import session_scope
from models import Customer, InboundOrder, Mapping, OrderError, Site
from services.pipeline import import_site_orders

pytestmark = pytest.mark.integration


def bobbin(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture()
def imported(db: str, sandbox: Any) -> int:
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id)))
    import_site_orders(site_id)
    return site_id


def _order(partner_id: int) -> InboundOrder:
    with session_scope() as s:
        return s.scalars(select(InboundOrder).where(InboundOrder.partner_order_id == str(partner_id))).one()


def _open(order_id: int) -> list[str]:
    with session_scope() as s:
        return list(
            s.scalars(select(OrderError.code).where(OrderError.order_id == order_id, OrderError.resolved_at.is_(None)))
        )


def test_a_new_ship_to_is_added_only_when_a_person_says_so(imported: int) -> None:
    order = _order(O_ADDRESS_NEW)
    assert order.state == "imported" and _open(order.id) == ["address_new"]

    result = bobbin("customers", "add-address", str(order.id), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customer_code"] == order.customer_code
    assert _open(order.id) == []


def test_price_types_per_currency_hold_orders_in_a_currency_the_site_does_not_price(imported: int) -> None:
    result = bobbin("sites", "set", "brandboom-demo", "price_types=EUR:WHLE", "--json")
    assert result.exit_code == 0, result.output
    with session_scope() as s:
        site = s.get(Site, imported)
        assert site is not None and site.settings["price_types"] == {"EUR": "WHLE"}

    # Held USD orders are checked again and now also lack a price type; imported ones stay imported.
    held = [o for o in (_order(310003), _order(310004))]
    assert all("price_type_missing" in _open(o.id) for o in held)

    bobbin("sites", "set", "brandboom-demo", "price_types=USD:WHL")
    assert all("price_type_missing" not in _open(o.id) for o in held)


def test_unknown_setting_is_one_clear_line(imported: int) -> None:
    result = bobbin("sites", "set", "brandboom-demo", "colour=blue")
    assert result.exit_code == 1
    assert "'colour' is not a setting of Brandboom sites; their settings: " in result.output


def test_customers_auto_map_by_email_then_name_and_postal_and_say_how(imported: int, sandbox: Any) -> None:
    world = build_world()
    with session_scope() as s:
        target = s.scalars(select(Customer).order_by(Customer.code)).first()
        assert target is not None
        code, email, name = target.code, target.email, target.name
        postal = world.customer_addresses[[a["customer_code"] for a in world.customer_addresses].index(code)][
            "postal_code"
        ]
    by_email, by_name = make_order(world, id=700001), make_order(world, id=700002)
    by_email["customer"] = {"id": 990001, "code": "", "name": "Someone Else", "email": email.upper()}
    address = {"name": name, "address1": "1 Elm St", "city": "X", "state": "NY", "zip": postal, "country": "US"}
    by_name["customer"] = {"id": 990002, "code": "", "name": name, "email": "", "shippingAddress": address}
    by_name["shippingAddress"] = address
    sandbox.add_orders([by_email, by_name])

    import_site_orders(imported)

    with session_scope() as s:
        hows = dict(s.execute(select(Mapping.partner_value, Mapping.how).where(Mapping.kind == "customer")).all())
        assert s.scalar(select(InboundOrder.customer_code).where(InboundOrder.partner_order_id == "700001")) == code
        assert s.scalar(select(InboundOrder.customer_code).where(InboundOrder.partner_order_id == "700002")) == code
    assert hows["990001"] == "auto:email"
    assert hows["990002"] == "auto:name+postal"
