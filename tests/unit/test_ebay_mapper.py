"""The eBay order mapper on orders written here in eBay's own words (Fulfillment API Order:
orderId, buyer.buyerRegistrationAddress, fulfillmentStartInstructions[].shippingStep.shipTo,
lineItems[].lineItemCost / deliveryCost / ebayCollectAndRemitTaxes, pricingSummary,
paymentSummary), and on broken payloads: it never raises."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.ebay.mapper import EbayOrderExtras, order_extras, parse_timestamp, to_partner_order


def usd(value: str) -> dict[str, str]:
    return {"value": value, "currency": "USD"}


def ebay_order(**fields: Any) -> dict[str, Any]:
    """Two lines, one buyer, shipping and handling on each line, eBay-collected sales tax."""
    return {
        "orderId": "06-10532-19887",
        "legacyOrderId": "110523401234-29876543001",
        "creationDate": "2026-11-30T18:02:44.000Z",
        "lastModifiedDate": "2026-11-30T18:05:10.000Z",
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "salesRecordReference": "1042",
        "buyer": {
            "username": "jane_d_1984",
            "buyerRegistrationAddress": {
                "fullName": "Jane Doe",
                "email": "Jane.Doe@example.com",
                "contactAddress": {
                    "addressLine1": "1 Registered Way",
                    "city": "Austin",
                    "stateOrProvince": "TX",
                    "postalCode": "73301",
                    "countryCode": "US",
                },
            },
        },
        "pricingSummary": {
            "priceSubtotal": usd("96.00"),
            "deliveryCost": usd("12.00"),
            "tax": usd("0.00"),
            "total": usd("108.00"),
        },
        "paymentSummary": {
            # The buyer paid the order and the sales tax eBay collects: 108.00 + 4.95 + 2.97.
            "payments": [{"paymentMethod": "EBAY", "paymentStatus": "PAID", "amount": usd("115.92")}],
            "refunds": [],
            "totalDueSeller": usd("108.00"),
        },
        "fulfillmentStartInstructions": [
            {
                "fulfillmentInstructionsType": "SHIP_TO",
                "shippingStep": {
                    "shippingServiceCode": "USPSPriority",
                    "shipTo": {
                        "fullName": "Jane Doe",
                        "email": "ship-to@example.com",
                        "contactAddress": {
                            "addressLine1": "22 Gift Street",
                            "addressLine2": "Apt 3",
                            "city": "Dallas",
                            "stateOrProvince": "TX",
                            "postalCode": "75201",
                            "countryCode": "US",
                        },
                    },
                },
            }
        ],
        "lineItems": [
            {
                "lineItemId": "10052811170001",
                "sku": "LS100-BLK-S",
                "title": "Linen Shirt Black S",
                "quantity": 2,
                "lineItemCost": usd("60.00"),
                "deliveryCost": {"shippingCost": usd("8.00"), "handlingCost": usd("2.00")},
                "ebayCollectAndRemitTaxes": [{"taxType": "STATE_SALES_TAX", "amount": usd("4.95")}],
            },
            {
                "lineItemId": "10052811170002",
                "sku": "LS100-BLK-M",
                "quantity": 3,
                "lineItemCost": usd("36.00"),
                "deliveryCost": {"shippingCost": usd("3.00"), "discountAmount": usd("1.00")},
                "ebayCollectAndRemitTaxes": [{"taxType": "STATE_SALES_TAX", "amount": usd("2.97")}],
            },
        ],
        **fields,
    }


def test_a_paid_order_maps_customer_ship_to_and_lines() -> None:
    order = to_partner_order(ebay_order())
    assert order.problems == ()
    assert order.partner_order_id == "06-10532-19887"
    assert order.customer.email == "Jane.Doe@example.com"  # the buyer's own e-mail first
    assert order.customer.partner_id == "jane_d_1984" and order.customer.name == "Jane Doe"
    assert order.ship_to is not None
    assert (order.ship_to.line1, order.ship_to.line2, order.ship_to.city) == ("22 Gift Street", "Apt 3", "Dallas")
    assert (order.ship_to.state, order.ship_to.postal_code, order.ship_to.country) == ("TX", "75201", "US")
    assert order.order_date == date(2026, 11, 30)
    assert order.currency == "USD" and order.shipping_method == "USPSPriority" and order.payment_method == "EBAY"
    assert order.partner_status == "NOT_STARTED" and order.po_number == "1042"
    assert [(ln.sku_number, ln.quantity, ln.price) for ln in order.lines] == [
        ("LS100-BLK-S", Decimal(2), Decimal("30.00")),
        ("LS100-BLK-M", Decimal(3), Decimal("12.00")),
    ]


def test_freight_is_shipping_plus_handling_less_discounts_in_one_amount() -> None:
    extras = order_extras(ebay_order())
    assert extras.problems == ()
    assert extras.freight == Decimal("8.00") + Decimal("2.00") + Decimal("3.00") - Decimal("1.00")
    assert extras.buyer_paid == Decimal("115.92") and extras.refunded is None
    assert extras.deposit == Decimal("108.00")  # less the tax eBay keeps and remits
    assert extras.ebay_collected_tax == Decimal("4.95") + Decimal("2.97")
    assert extras.seller_tax == Decimal("0.00") and extras.total == Decimal("108.00")
    assert extras.currency == "USD" and extras.hold_reason is None


def test_a_special_fee_the_buyer_paid_is_part_of_the_one_freight_amount() -> None:
    raw = ebay_order()
    raw["pricingSummary"]["fee"] = usd("1.50")  # e.g. an electronic waste recycling fee
    assert order_extras(raw).freight == Decimal("12.00") + Decimal("1.50")


def test_without_line_delivery_costs_the_orders_own_delivery_cost_is_freight() -> None:
    raw = ebay_order()
    for item in raw["lineItems"]:
        del item["deliveryCost"]
    raw["pricingSummary"]["deliveryDiscount"] = usd("-2.00")
    assert order_extras(raw).freight == Decimal("10.00")


def test_the_ship_to_email_is_not_the_buyers_and_matches_no_one() -> None:
    # eBay puts its relay address (…@members.ebay.com) on the ship-to: not the buyer's own e-mail
    # an ERP customer record holds, so a buyer without one has none (a clear problem downstream).
    raw = ebay_order()
    del raw["buyer"]["buyerRegistrationAddress"]["email"]
    assert to_partner_order(raw).customer.email is None


def test_unpaid_and_cancelled_orders_carry_a_hold_reason() -> None:
    unpaid = order_extras(ebay_order(orderPaymentStatus="PENDING"))
    assert unpaid.hold_reason is not None and "not paid" in unpaid.hold_reason
    cancelled = order_extras(ebay_order(cancelStatus={"cancelState": "CANCELED"}))
    assert cancelled.hold_reason == "the order was cancelled on eBay"
    refunded = order_extras(ebay_order(orderPaymentStatus="FULLY_REFUNDED"))
    assert refunded.hold_reason == "the order was fully refunded on eBay"


def test_refunds_and_unpaid_payments_are_kept_apart() -> None:
    raw = ebay_order()
    raw["paymentSummary"]["payments"].append({"paymentStatus": "FAILED", "amount": usd("99.00")})
    raw["paymentSummary"]["refunds"] = [{"refundStatus": "REFUNDED", "amount": usd("12.00")}]
    extras = order_extras(raw)
    assert extras.buyer_paid == Decimal("115.92") and extras.refunded == Decimal("12.00")
    assert extras.deposit == Decimal("96.00")


def test_a_line_whose_quantity_or_cost_is_not_a_number_keeps_the_text() -> None:
    raw = ebay_order()
    raw["lineItems"][0]["quantity"] = "two"
    raw["lineItems"][1]["lineItemCost"] = usd("lots")
    lines = to_partner_order(raw).lines
    assert lines[0].quantity is None and lines[0].raw_quantity == "two" and lines[0].price is None
    assert lines[1].price is None and lines[1].raw_price == "lots"


def test_an_uneven_unit_price_is_kept_to_four_places() -> None:
    raw = ebay_order()
    raw["lineItems"][0]["lineItemCost"] = usd("10.00")
    raw["lineItems"][0]["quantity"] = 3
    assert to_partner_order(raw).lines[0].price == Decimal("3.3333")


def test_a_positive_unit_price_too_small_for_four_places_is_not_rounded_to_nothing() -> None:
    raw = ebay_order()
    raw["lineItems"][0]["lineItemCost"] = usd("0.000042")
    raw["lineItems"][0]["quantity"] = 1
    assert to_partner_order(raw).lines[0].price == Decimal("0.000042")  # the validator refuses a fraction of a cent
    raw["lineItems"][0]["lineItemCost"] = usd("0.00")
    assert to_partner_order(raw).lines[0].price == Decimal("0.00")


def test_mixed_currencies_are_a_problem() -> None:
    raw = ebay_order()
    raw["lineItems"][1]["deliveryCost"]["shippingCost"] = {"value": "3.00", "currency": "GBP"}
    extras = order_extras(raw)
    assert any("GBP" in p.message for p in extras.problems)


def test_broken_shapes_are_problems_not_crashes() -> None:
    raw = ebay_order(lineItems=[{"sku": ["x"], "quantity": 1}, "a line"], buyer="nobody")
    order = to_partner_order(raw)
    fields = {p.field for p in order.problems}
    assert "lineItems" in fields and "buyer" in fields
    assert order.lines[0].sku_number is None


def test_an_order_without_an_id_gets_a_stable_stand_in() -> None:
    raw = ebay_order()
    del raw["orderId"]
    del raw["legacyOrderId"]
    first, second = to_partner_order(raw), to_partner_order(copy.deepcopy(raw))
    assert first.partner_order_id.startswith("unidentified-")
    assert first.partner_order_id == second.partner_order_id == order_extras(raw).order_id


def test_timestamps() -> None:
    assert parse_timestamp("2015-08-04T19:09:02.768Z") == date(2015, 8, 4)
    assert parse_timestamp("2015-08-04") == date(2015, 8, 4)
    assert parse_timestamp("yesterday") is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
KEYS = st.sampled_from(
    [
        "orderId",
        "buyer",
        "lineItems",
        "pricingSummary",
        "paymentSummary",
        "fulfillmentStartInstructions",
        "cancelStatus",
        "creationDate",
        "orderPaymentStatus",
    ]
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_never_raises_on_arbitrary_json(raw: Any) -> None:
    order = to_partner_order(raw)
    extras = order_extras(raw)
    assert isinstance(extras, EbayOrderExtras)
    assert order.partner_order_id == extras.order_id


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=6))
def test_never_raises_when_known_fields_hold_anything(fields: dict[str, Any]) -> None:
    raw = ebay_order(**fields)
    to_partner_order(raw)
    order_extras(raw)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["sku", "quantity", "lineItemCost", "deliveryCost"]), JSON)))
def test_never_raises_on_odd_lines(items: list[dict[str, Any]]) -> None:
    raw = ebay_order(lineItems=items)
    order = to_partner_order(raw)
    order_extras(raw)
    assert len(order.lines) == len(items)
