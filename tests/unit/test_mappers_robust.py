"""What every partner mapper must survive, asked of each: a payload that is not an object, items
that are not a list, huge and odd values. Each mapper's own file tests its field names and formats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from connectors.base import PartnerOrder
from connectors.brandboom import mapper as brandboom
from connectors.joor import mapper as joor
from connectors.payload import PAYLOAD_INVALID


class Shape(NamedTuple):
    """Where a partner puts the facts these tests break."""

    to_partner_order: Any
    id: str
    po: str
    ship_date: str
    items: str


MAPPERS = {
    "brandboom": Shape(brandboom.to_partner_order, "id", "poNumber", "shipDate", "items"),
    "joor": Shape(joor.to_partner_order, "order_id", "po_number", "start_ship_date", "order_items"),
}


@pytest.fixture(params=sorted(MAPPERS))
def shape(request: Any) -> Shape:
    return MAPPERS[request.param]


def codes(order: PartnerOrder) -> list[tuple[str, str | None, int | None]]:
    return [(p.code, p.field, p.line_no) for p in order.problems]


@pytest.mark.parametrize("raw", [None, [], [1, 2], "order", 42, 3.5, True])
def test_payloads_that_are_not_objects(shape: Shape, raw: Any) -> None:
    order = shape.to_partner_order(raw)
    assert order.partner_order_id.startswith("unidentified-")
    assert order.raw == {"payload": raw}
    assert codes(order)[0] == (PAYLOAD_INVALID, None, None)


@pytest.mark.parametrize("items", [None, "see attached PDF", {"style_number": "A", "styleNumber": "A"}])
def test_items_that_are_not_a_list(shape: Shape, items: Any) -> None:
    order = shape.to_partner_order({shape.id: 1, shape.items: items})
    assert order.lines == () and codes(order) == [(PAYLOAD_INVALID, shape.items, None)]


def test_huge_and_odd_values_are_survived_and_excerpted(shape: Shape) -> None:
    huge = "x" * 1_000_000
    order = shape.to_partner_order(
        {
            shape.id: 10**5000,
            shape.po: [huge],
            shape.ship_date: huge,
            shape.items: [{"quantity": huge, "price": "1" * 5000}],
        }
    )
    assert order.partner_order_id.startswith("unidentified-")  # an id too long to print
    assert all(len(p.value or "") <= 201 for p in order.problems)
    (line,) = order.lines
    assert line.quantity is None and len(line.raw_quantity or "") <= 201
    assert line.price == Decimal("1" * 5000)
