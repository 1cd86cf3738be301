"""Brandboom Order → PartnerOrder, from JSON fixtures, including garbage the mapper must survive."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import ORDER_FIELDS, Address, PartnerOrder
from connectors.brandboom.contract import ORDER_FIELDS as BRANDBOOM_ORDER_FIELDS
from connectors.brandboom.mapper import DATES_INVALID, PAYLOAD_INVALID, to_partner_order

# A complete order in the [INF] shape of partners/README "Decisions for Bobbin".
FULL_ORDER = json.loads("""
{
  "id": 431, "poNumber": " PO-1001 ", "status": "export",
  "customer": {
    "id": 4310, "code": "C1001", "name": "Harbor Outfitters", "email": "buyer@harbor.example",
    "billingAddress": {"name": "Harbor Outfitters", "address1": "12 Harbor St", "address2": "",
                       "city": "Portland", "state": "ME", "zip": "04101", "country": "US"},
    "shippingAddress": {"name": "Harbor DC", "address1": "1 Dock Rd", "address2": "Bay 4",
                        "city": "Portland", "state": "ME", "zip": 4102, "country": "US"}
  },
  "rep": "Dana Reyes", "terms": "Net 30", "shippingOption": "UPS Ground",
  "shipDate": "2024-03-01", "cancelDate": "03/31/2024", "dateCreated": "2024-02-01 10:15:00",
  "currency": "USD", "priceTierID": 1548, "warehouseID": -1,
  "items": [
    {"styleNumber": "MKD1233", "optionCode": "GRY", "size": "M", "skuNumber": "MKD1233-GRY-M",
     "UPC": "012345678905", "quantity": 6, "price": "48.00"},
    {"styleNumber": "GrayTank", "optionCode": "GRY", "size": "S", "skuNumber": "",
     "UPC": null, "quantity": "12", "price": 15.1}
  ]
}
""")

GARBAGE_ORDER = json.loads("""
{
  "poNumber": {"nested": true}, "status": false,
  "customer": {"code": ["C1"], "companyName": "  Ünïcødé Boutique ✨ ", "billingAddress": "12 Main",
               "shippingAddress": {"zip": null}},
  "shipDate": "2024-02-30", "cancelDate": 20240101, "dateCreated": "0000-00-00 00:00:00",
  "warehouseID": 7,
  "items": [
    {"styleNumber": "A", "quantity": "two", "price": "12,50"},
    "not an item",
    {"styleNumber": 12.5, "quantity": true, "price": "NaN", "size": []},
    {"styleNumber": "B", "quantity": null, "price": "-Infinity"}
  ]
}
""")


def codes(order: PartnerOrder) -> list[tuple[str, str | None, int | None]]:
    return [(p.code, p.field, p.line_no) for p in order.problems]


def test_full_order_maps_every_field() -> None:
    order = to_partner_order(FULL_ORDER)
    assert order.problems == ()
    assert (order.partner_order_id, order.po_number, order.partner_status) == ("431", "PO-1001", "export")
    assert (order.sales_rep, order.payment_method, order.shipping_method) == ("Dana Reyes", "Net 30", "UPS Ground")
    assert (order.order_date, order.ship_date, order.cancel_date) == (
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 3, 31),
    )
    assert (order.currency, order.price_tier, order.warehouse) == ("USD", "1548", None)
    customer = order.customer
    assert (customer.partner_id, customer.code, customer.name, customer.email) == (
        "4310",
        "C1001",
        "Harbor Outfitters",
        "buyer@harbor.example",
    )
    assert customer.billing == Address("Harbor Outfitters", "12 Harbor St", None, "Portland", "ME", "04101", "US")
    assert order.ship_to == customer.shipping and order.ship_to is not None
    assert (order.ship_to.line2, order.ship_to.postal_code) == ("Bay 4", "4102")
    first, second = order.lines
    assert (first.line_no, first.style_number, first.color_code, first.size, first.sku_number, first.upc) == (
        1,
        "MKD1233",
        "GRY",
        "M",
        "MKD1233-GRY-M",
        "012345678905",
    )
    assert (first.quantity, first.price, first.raw_price) == (Decimal(6), Decimal("48.00"), "48.00")
    assert (second.sku_number, second.upc, second.quantity, second.price) == (None, None, Decimal(12), Decimal("15.1"))
    assert order.raw is FULL_ORDER


def test_garbage_fields_become_problems_not_crashes() -> None:
    order = to_partner_order(GARBAGE_ORDER)
    assert order.partner_order_id.startswith("unidentified-")
    assert (order.po_number, order.partner_status, order.warehouse) == (None, None, "7")
    assert order.customer.name == "Ünïcødé Boutique ✨" and order.customer.code is None
    assert order.customer.billing is None and order.customer.shipping == Address()
    assert order.order_date is None  # MySQL's empty date is not a problem
    assert len(order.problems) == 9 and set(codes(order)) == {
        (PAYLOAD_INVALID, "poNumber", None),
        (PAYLOAD_INVALID, "status", None),
        (DATES_INVALID, "shipDate", None),
        (DATES_INVALID, "cancelDate", None),
        (PAYLOAD_INVALID, "customer.code", None),
        (PAYLOAD_INVALID, "customer.billingAddress", None),
        (PAYLOAD_INVALID, "items.size", 3),
        (PAYLOAD_INVALID, "items", 2),
        (PAYLOAD_INVALID, "id", None),
    }
    dates = {p.field: p.value for p in order.problems if p.code == DATES_INVALID}
    assert dates == {"shipDate": "2024-02-30", "cancelDate": "20240101"}


def test_bad_quantities_and_prices_keep_what_was_received() -> None:
    lines = {line.line_no: line for line in to_partner_order(GARBAGE_ORDER).lines}
    assert sorted(lines) == [1, 3, 4]  # item 2 was not an object
    assert (lines[1].quantity, lines[1].raw_quantity, lines[1].price, lines[1].raw_price) == (
        None,
        "two",
        None,
        "12,50",
    )
    assert (lines[3].style_number, lines[3].quantity, lines[3].raw_quantity) == ("12.5", None, "true")
    assert (lines[3].price, lines[3].raw_price) == (None, "NaN")
    assert (lines[4].quantity, lines[4].raw_quantity, lines[4].price) == (None, None, None)


def test_missing_id_gets_a_stable_stand_in() -> None:
    payload = {"poNumber": "PO-9", "items": []}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = "unidentified-" + hashlib.sha1(canonical.encode()).hexdigest()[:16]
    reordered = {"items": [], "poNumber": "PO-9", "id": "   "}
    assert to_partner_order(payload).partner_order_id == expected
    assert to_partner_order(reordered).partner_order_id.startswith("unidentified-")
    assert codes(to_partner_order(payload)) == [(PAYLOAD_INVALID, "id", None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024-03-01 23:59:59", date(2024, 3, 1)),
        ("03/01/2024", date(2024, 3, 1)),
        (" 2024-03-01 ", date(2024, 3, 1)),
        ("", None),
        ("0000-00-00", None),
    ],
)
def test_accepted_date_formats(text: str, expected: date | None) -> None:
    order = to_partner_order({"id": 1, "items": [], "shipDate": text})
    assert order.ship_date == expected and order.problems == ()


def test_every_order_fact_names_its_brandboom_field() -> None:
    assert set(BRANDBOOM_ORDER_FIELDS) == set(ORDER_FIELDS)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
KEYS = [
    "id",
    "poNumber",
    "status",
    "customer",
    "rep",
    "terms",
    "shippingOption",
    "shipDate",
    "cancelDate",
    "currency",
    "priceTierID",
    "warehouseID",
    "dateCreated",
    "items",
    "code",
    "name",
    "companyName",
    "email",
    "billingAddress",
    "shippingAddress",
    "address1",
    "zip",
    "styleNumber",
    "optionCode",
    "size",
    "skuNumber",
    "UPC",
    "quantity",
    "price",
]
# JSON whose objects use the Order's own keys, so the typed paths see every kind of value.
ORDERISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2024-01-31", "01/31/2024", "12.50", " ", "0000-00-00"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=8),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(JSON | ORDERISH)
def test_never_raises_on_any_json(raw: Any) -> None:
    order = to_partner_order(raw)
    assert isinstance(order, PartnerOrder) and order.partner_order_id
    assert all(p.code in (PAYLOAD_INVALID, DATES_INVALID) for p in order.problems)
