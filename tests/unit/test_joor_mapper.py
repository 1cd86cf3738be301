"""JOOR v2 order → PartnerOrder, from JSON fixtures, including garbage the mapper must survive."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import ORDER_FIELDS, Address, PartnerOrder
from connectors.joor.contract import ORDER_FIELDS as JOOR_ORDER_FIELDS
from connectors.joor.mapper import DATES_INVALID, PAYLOAD_INVALID, to_partner_order
from sandbox.joor.server import default_seed

# A complete order in the [INF] shape of connectors/joor/contract.py.
FULL_ORDER = json.loads("""
{
  "order_id": 4100001, "po_number": " JR-58001 ", "status": "APPROVED", "export_status": "NOT_EXPORTED",
  "date_created": "2026-11-02T14:05:00.000Z", "date_modified": "2026-11-03T09:00:00.000Z",
  "start_ship_date": "2027-01-15", "end_ship_date": "2027-02-14",
  "currency_code": "USD", "price_type": "US Dollars",
  "customer_code": "JUN01", "customer_name": "Juniper & Co.", "customer_email": "orders@juniperco.com",
  "retailer_id": 720004, "connection_id": 610004,
  "sales_representative": "Kate Morrison", "sales_representative_code": "KM",
  "payment_method_code": "NET30", "payment_method": "Net 30",
  "shipping_method_code": "UPS-GND", "shipping_method": "UPS Ground",
  "warehouse_name": "Main Warehouse", "warehouse_code": "MAIN-WH",
  "billing_address": {"code": "BILL", "name": "Juniper & Co.", "company": "Juniper & Co.",
                      "line_1": "12 Harbor St", "line_2": "", "city": "Portland", "state": "ME",
                      "zip": "04101", "country": "US", "phone": "(207) 555-0100"},
  "shipping_address": {"code": "SHIP", "name": null, "company": "Juniper DC", "line_1": "1 Dock Rd",
                       "line_2": "Bay 4", "city": "Portland", "state": "ME", "zip": 4102, "country": "US"},
  "order_items": [
    {"style_number": "HPT101", "style_identifier": "HPT101", "color_code": "BLK", "color_name": "Black",
     "size": "M", "upc": "845120001007", "quantity": 6, "quantity_shipped": 0, "price": 24.5},
    {"style_number": "HPJ102", "style_identifier": "HPJ102", "color_code": "IND", "color_name": "Indigo Rinse",
     "size": "28", "upc": null, "quantity": "12", "quantity_shipped": "12", "price": "48.00"}
  ]
}
""")

GARBAGE_ORDER = json.loads("""
{
  "po_number": {"nested": true}, "status": false, "customer_code": ["C1"],
  "customer_name": "  Ünïcødé Boutique ✨ ", "connection_id": null, "retailer_id": 99,
  "billing_address": "12 Main", "shipping_address": {"zip": null},
  "start_ship_date": "2024-02-30", "end_ship_date": 20240101, "date_created": "yesterday",
  "warehouse_code": 7,
  "order_items": [
    {"style_number": "A", "quantity": "two", "price": "12,50"},
    "not an item",
    {"style_number": 12.5, "quantity": true, "price": "NaN", "size": []},
    {"style_number": "B", "quantity": null, "price": "-Infinity", "quantity_shipped": "lots"}
  ]
}
""")


def codes(order: PartnerOrder) -> list[tuple[str, str | None, int | None]]:
    return [(p.code, p.field, p.line_no) for p in order.problems]


def test_full_order_maps_every_field() -> None:
    order = to_partner_order(FULL_ORDER)
    assert order.problems == ()
    assert (order.partner_order_id, order.po_number, order.partner_status) == ("4100001", "JR-58001", "APPROVED")
    # codes, not names: the brand keys the ERP's codes into JOOR's Order Settings
    assert (order.sales_rep, order.payment_method, order.shipping_method, order.warehouse) == (
        "KM",
        "NET30",
        "UPS-GND",
        "MAIN-WH",
    )
    assert (order.order_date, order.ship_date, order.cancel_date) == (
        date(2026, 11, 2),
        date(2027, 1, 15),
        date(2027, 2, 14),
    )
    assert (order.currency, order.price_tier) == ("USD", "US Dollars")
    customer = order.customer
    assert (customer.partner_id, customer.code, customer.name, customer.email) == (
        "610004",
        "JUN01",
        "Juniper & Co.",
        "orders@juniperco.com",
    )
    assert customer.billing == Address("Juniper & Co.", "12 Harbor St", None, "Portland", "ME", "04101", "US")
    # an address without a name is named by its company
    assert (
        order.ship_to
        == customer.shipping
        == Address("Juniper DC", "1 Dock Rd", "Bay 4", "Portland", "ME", "4102", "US")
    )
    first, second = order.lines
    assert (first.line_no, first.style_number, first.color_code, first.size, first.upc, first.sku_number) == (
        1,
        "HPT101",
        "BLK",
        "M",
        "845120001007",
        None,
    )
    assert (first.quantity, first.price, first.raw_price, first.shipped_quantity) == (
        Decimal(6),
        Decimal("24.5"),
        "24.5",
        Decimal(0),
    )
    assert (second.upc, second.quantity, second.price, second.shipped_quantity, second.raw_shipped_quantity) == (
        None,
        Decimal(12),
        Decimal("48.00"),
        Decimal(12),
        "12",
    )
    assert order.raw is FULL_ORDER


def test_names_stand_in_for_missing_codes() -> None:
    # given an order whose Order Settings have no codes (names only, v4-style objects accepted)
    raw = {
        **FULL_ORDER,
        "sales_representative_code": None,
        "payment_method_code": "",
        "shipping_method_code": None,
        "shipping_method": {"id": 3, "code": None, "name": "UPS Ground"},
        "warehouse_code": None,
        "connection_id": None,
    }
    order = to_partner_order(raw)
    assert (order.sales_rep, order.payment_method, order.shipping_method, order.warehouse) == (
        "Kate Morrison",
        "Net 30",
        "UPS Ground",
        "Main Warehouse",
    )
    assert order.customer.partner_id == "720004"  # the retailer id when there is no connection id
    assert order.problems == ()


def test_line_variants_are_read() -> None:
    wrapped = {
        "order_id": 1,
        "order_items": {
            "order_item": {
                "style_identifier": "HPT101-BLK",
                "color_name": "Black",
                "size_name": "M",
                "qty": 2,
                "price_wholesale": "9.5",
            }
        },
    }
    (line,) = to_partner_order(wrapped).lines
    assert (line.style_number, line.color_code, line.size, line.quantity, line.price) == (
        "HPT101-BLK",
        "Black",
        "M",
        Decimal(2),
        Decimal("9.5"),
    )
    items = to_partner_order({"order_id": 2, "items": [{"style_number": "A", "units": 3, "wholesale_price": 1}]}).lines
    assert (items[0].quantity, items[0].price) == (Decimal(3), Decimal(1))


def test_garbage_fields_become_problems_not_crashes() -> None:
    order = to_partner_order(GARBAGE_ORDER)
    assert order.partner_order_id.startswith("unidentified-")
    assert (order.po_number, order.partner_status, order.warehouse) == (None, None, "7")
    assert order.customer.name == "Ünïcødé Boutique ✨" and order.customer.code is None
    assert order.customer.partner_id == "99"
    assert order.customer.billing is None and order.customer.shipping == Address()
    assert len(order.problems) == 10 and set(codes(order)) == {
        (PAYLOAD_INVALID, "po_number", None),
        (PAYLOAD_INVALID, "status", None),
        (PAYLOAD_INVALID, "customer_code", None),
        (PAYLOAD_INVALID, "billing_address", None),
        (DATES_INVALID, "start_ship_date", None),
        (DATES_INVALID, "end_ship_date", None),
        (DATES_INVALID, "date_created", None),
        (PAYLOAD_INVALID, "order_items.size", 3),
        (PAYLOAD_INVALID, "order_items", 2),
        (PAYLOAD_INVALID, "order_id", None),
    }
    dates = {p.field: p.value for p in order.problems if p.code == DATES_INVALID}
    assert dates == {"start_ship_date": "2024-02-30", "end_ship_date": "20240101", "date_created": "yesterday"}


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
    assert (lines[4].shipped_quantity, lines[4].raw_shipped_quantity) == (None, "lots")


def test_missing_id_gets_a_stable_stand_in() -> None:
    payload = {"po_number": "PO-9", "order_items": []}
    again = {"order_items": [], "po_number": "PO-9", "order_id": "  "}
    assert to_partner_order(payload).partner_order_id == to_partner_order(dict(payload)).partner_order_id
    assert to_partner_order(again).partner_order_id.startswith("unidentified-")
    assert codes(to_partner_order(payload)) == [(PAYLOAD_INVALID, "order_id", None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-15", date(2027, 1, 15)),
        ("2027-01-15T23:59:59.123Z", date(2027, 1, 15)),
        ("2027-01-15T10:00:00+01:00", date(2027, 1, 15)),
        ("2027-01-15 10:00", date(2027, 1, 15)),
        ("01/15/2027", date(2027, 1, 15)),
        ("01-15-2027", date(2027, 1, 15)),
        (" 2027-01-15 ", date(2027, 1, 15)),
        ("", None),
    ],
)
def test_accepted_date_formats(text: str, expected: date | None) -> None:
    order = to_partner_order({"order_id": 1, "order_items": [], "start_ship_date": text})
    assert order.ship_date == expected and order.problems == ()


@pytest.mark.parametrize("text", ["31/31/2026", "2027-13-01", "20270115", "١٢٣٤-٠١-١٥", "2027-01-15T25"])
def test_unreadable_dates(text: str) -> None:
    order = to_partner_order({"order_id": 1, "order_items": [], "end_ship_date": text})
    assert order.cancel_date is None and codes(order) == [(DATES_INVALID, "end_ship_date", None)]


def test_the_sandbox_seed_maps_cleanly() -> None:
    for raw in default_seed()["orders"]:
        order = to_partner_order(raw)
        assert order.problems == () and order.lines and order.customer.partner_id


def test_every_order_fact_names_its_joor_field() -> None:
    assert set(JOOR_ORDER_FIELDS) == set(ORDER_FIELDS)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
KEYS = [
    "order_id",
    "po_number",
    "status",
    "order_type",
    "date_created",
    "start_ship_date",
    "end_ship_date",
    "currency_code",
    "price_type",
    "customer_code",
    "customer_name",
    "customer_email",
    "retailer_id",
    "connection_id",
    "sales_representative",
    "sales_representative_code",
    "payment_method",
    "payment_method_code",
    "shipping_method",
    "shipping_method_code",
    "warehouse_name",
    "warehouse_code",
    "billing_address",
    "shipping_address",
    "order_items",
    "items",
    "order_item",
    "code",
    "name",
    "company",
    "line_1",
    "zip",
    "style_number",
    "style_identifier",
    "color_code",
    "color_name",
    "size",
    "size_name",
    "upc",
    "quantity",
    "qty",
    "quantity_shipped",
    "price",
    "price_wholesale",
]
# JSON whose objects use the order's own keys, so the typed paths see every kind of value.
ORDERISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2027-01-31", "2027-01-31T10:00:00.000Z", "01/31/2027", "12.50", " "]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=8),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(JSON | ORDERISH)
def test_never_raises_on_any_json(raw: Any) -> None:
    order = to_partner_order(raw)
    assert isinstance(order, PartnerOrder) and order.partner_order_id
    assert all(p.code in (PAYLOAD_INVALID, DATES_INVALID) for p in order.problems)
