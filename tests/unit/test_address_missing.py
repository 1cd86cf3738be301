"""``address_missing``: an order that carries no readable ship-to imports with a warning a person
reads, instead of an ERP order with an empty ship-to nobody was told about."""

from __future__ import annotations

import pytest

from connectors.base import Address
from connectors.brandboom.mapper import to_partner_order
from services import problems
from services.validation import validate
from tests.unit.test_validation import SHIP_TO, master, order


@pytest.mark.parametrize(
    "ship_to",
    [None, Address(), Address(name="Bloom", country="US")],
    ids=["none", "empty", "name and country only"],
)
def test_an_order_without_a_ship_to_is_valid_with_one_warning(ship_to: Address | None) -> None:
    out = validate(order(ship_to=ship_to), master(), default_warehouse="MAIN", fields={"ship_to": "shippingAddress"})
    assert [(p.code, p.severity, p.field, p.value) for p in out.problems] == [
        ("address_missing", "warning", "shippingAddress", None)
    ]
    assert out.state == "valid"  # a warning does not block the import


def test_an_order_with_a_ship_to_has_no_such_warning() -> None:
    assert validate(order(ship_to=SHIP_TO), master(), default_warehouse="MAIN").problems == []


def test_a_brandboom_order_with_no_address_anywhere_gets_the_warning() -> None:
    raw = {
        "id": 5,
        "poNumber": "PO-1",
        "customer": {"code": "BLM01", "name": "Bloom Boutique"},
        "rep": "Kate Morrison",
        "terms": "Net 30",
        "shippingOption": "UPS Ground",
        "items": [{"styleNumber": "HPT101", "optionCode": "BLK", "size": "M", "quantity": 3, "price": 24.5}],
    }
    partner = to_partner_order(raw)
    assert partner.ship_to is None or partner.ship_to.is_empty()
    out = validate(partner, master(), default_warehouse="MAIN")
    assert [p.code for p in out.problems] == ["address_missing"]
    assert out.state == "valid"


def test_the_catalogue_says_what_to_do() -> None:
    kind = problems.kind("address_missing")
    assert kind.severity == "warning" and "ship-to" in kind.resolution
    assert problems.kind("exported_not_taken").severity == "warning"
    assert "exported_not_taken" in problems.NOT_FROM_VALIDATION
