"""The Loop return mapper on the three documented shapes (list, details, webhook), written here in
Loop's own words (partners/README 3.3, 3.4, 3.6), and on broken payloads: it never raises."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.drift import DriftCounter
from connectors.loop.contract import PAYLOAD
from connectors.loop.mapper import LoopReturn, parse_timestamp, to_loop_return


def list_return(**fields: Any) -> dict[str, Any]:
    """A return as the Detailed Returns List answers it: ids as strings, money as strings,
    timestamps ``…T…000Z``."""
    return {
        "id": "37603922",
        "state": "open",
        "created_at": "2023-08-22T14:08:31.000Z",
        "updated_at": "2023-08-23T09:00:00.000Z",
        "total": "63.30",
        "outcome": "refund",
        "order_id": "5512",
        "order_name": "#7382018",
        "provider_order_id": "2347613440760",
        "order_number": "7382018",
        "customer": "shopper@example.com",
        "currency": "USD",
        "return_total": "63.30",
        "return_credit_total": "0.00",
        "exchange_total": "0.00",
        "handling_fee": "0.00",
        "refund": "63.30",
        "refunds": [{"gateway": "shopify_payments", "amount": "63.30", "currency": "USD", "provider_refund_id": "991"}],
        "line_items": [
            {
                "line_item_id": "80011",
                "provider_line_item_id": "12001",
                "product_id": "700",
                "variant_id": "7001",
                "sku": "LS100-BLK-S",
                "title": "Linen Shirt",
                "price": "48.00",
                "discount": "0.00",
                "tax": "3.84",
                "refund": "51.84",
                "return_reason": "Too small",
                "parent_return_reason": "Fit",
                "barcode": "0123456789012",
                "outcome": "refund",
                "provider_restock_location_id": "66001",
                "returned_at": "2023-08-22T14:08:31.000Z",
            },
            {
                "line_item_id": "80012",
                "sku": "LS100-BLK-M",
                "title": "Linen Shirt",
                "price": "11.46",
                "refund": "11.46",
                "return_reason": "Changed my mind",
                "outcome": "refund",
            },
        ],
        **fields,
    }


def details_return(**fields: Any) -> dict[str, Any]:
    """The same return as Get Return Details answers it: integer ids, ``2023-08-22 14:08:31``,
    the line title as ``line_item_title`` with ``variant_title``, the exchange order."""
    return {
        "id": 37603922,
        "state": "closed",
        "created_at": "2023-08-22 14:08:31",
        "updated_at": "2023-08-24 10:15:00",
        "total": "63.30",
        "outcome": "exchange+refund",
        "order_id": 5512,
        "order_name": "#7382018",
        "provider_order_id": 2347613440760,
        "customer": "shopper@example.com",
        "currency": "USD",
        "exchange_order_name": "#EXC-7382018",
        "exchange_order_id": 2347613449999,
        "refund": "11.46",
        "line_items": [
            {
                "line_item_id": 80011,
                "sku": "LS100-BLK-S",
                "line_item_title": "Linen Shirt",
                "variant_title": "Black / S",
                "price": "48.00",
                "refund": "0.00",
                "outcome": "exchange",
                "provider_restock_location_id": 66001,
            }
        ],
        **fields,
    }


def webhook_return(**fields: Any) -> dict[str, Any]:
    """The return webhook: topic and trigger, customer_detail, mixed id types, ``…T…Z``, no updated_at."""
    return {
        "topic": "return",
        "trigger": "return.created",
        "shop_id": 4411,
        "id": "37603922",
        "state": "open",
        "created_at": "2023-08-22T14:08:31Z",
        "total": "63.30",
        "outcome": "credit",
        "order_id": 5512,
        "order_name": "#7382018",
        "provider_order_id": "2347613440760",
        "order_number": "7382018",
        "provider_order_number": 7382018,
        "provider_order_external_id": 2347613440760,
        "provider_order_sales_channel": "web",
        "customer_detail": {"email": "shopper@example.com", "first_name": "Ada", "last_name": "Lane"},
        "address": {"name": "Ada Lane", "address1": "1 Main St", "city": "Portland", "zip": "97201"},
        "status_page_url": "https://shop.example.com/returns/1",
        "is_gift_return": False,
        "currency": "USD",
        "return_credit_total": "63.30",
        "refunds": [],
        "labels": [],
        "line_items": [{"line_item_id": "80011", "sku": "LS100-BLK-S", "title": "Linen Shirt", "price": "63.30"}],
        **fields,
    }


def codes(ret: LoopReturn) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in ret.problems]


# --- the three shapes ------------------------------------------------------------------------------
def test_a_list_return_is_read_whole() -> None:
    ret = to_loop_return(list_return())
    assert ret.problems == ()
    assert ret.return_id == "37603922" and ret.identified
    assert (ret.state, ret.outcome, ret.currency) == ("open", "refund", "USD")
    assert (ret.order_id, ret.order_name, ret.provider_order_id, ret.order_number) == (
        "5512",
        "#7382018",
        "2347613440760",
        "7382018",
    )
    assert ret.customer_email == "shopper@example.com"
    assert ret.total == Decimal("63.30") and ret.refund == Decimal("63.30")
    assert ret.return_credit_total == Decimal("0.00")
    assert ret.created_at == datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)
    assert ret.updated_at == datetime(2023, 8, 23, 9, 0, tzinfo=UTC)
    assert ret.trigger is None
    [refund] = ret.refunds
    assert (refund.gateway, refund.amount, refund.currency, refund.provider_refund_id) == (
        "shopify_payments",
        Decimal("63.30"),
        "USD",
        "991",
    )
    first, second = ret.lines
    assert (first.line_no, first.line_item_id, first.sku, first.quantity) == (1, "80011", "LS100-BLK-S", 1)
    assert (first.price, first.tax, first.refund) == (Decimal("48.00"), Decimal("3.84"), Decimal("51.84"))
    assert (first.return_reason, first.parent_return_reason, first.outcome) == ("Too small", "Fit", "refund")
    assert first.restock_location_id == "66001" and first.title == "Linen Shirt"
    assert first.returned_at == datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)
    assert (second.line_no, second.sku, second.quantity, second.price) == (2, "LS100-BLK-M", 1, Decimal("11.46"))
    # the lines' refunds add up to the return's: read as exact decimals, not floats
    assert sum((line.refund or Decimal(0) for line in ret.lines), Decimal(0)) == Decimal("63.30")


def test_a_details_return_reads_integer_ids_and_its_own_timestamp_and_title() -> None:
    ret = to_loop_return(details_return())
    assert ret.problems == ()
    assert ret.return_id == "37603922"
    assert (ret.order_id, ret.provider_order_id) == ("5512", "2347613440760")
    assert (ret.exchange_order_name, ret.exchange_order_id) == ("#EXC-7382018", "2347613449999")
    assert ret.outcome == "exchange+refund" and ret.state == "closed"
    assert ret.created_at == datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)  # no zone in details: UTC
    assert ret.updated_at == datetime(2023, 8, 24, 10, 15, tzinfo=UTC)
    [line] = ret.lines
    assert (line.line_item_id, line.title, line.variant_title) == ("80011", "Linen Shirt", "Black / S")
    assert line.restock_location_id == "66001" and line.refund == Decimal("0.00")


def test_a_webhook_return_reads_customer_detail_trigger_and_mixed_ids() -> None:
    ret = to_loop_return(webhook_return())
    assert ret.problems == ()
    assert ret.return_id == "37603922"
    assert ret.trigger == "return.created"
    assert ret.customer_email == "shopper@example.com"
    assert (ret.order_id, ret.provider_order_id, ret.order_number) == ("5512", "2347613440760", "7382018")
    assert ret.created_at == datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)
    assert ret.updated_at is None  # the webhook carries none
    assert ret.return_credit_total == Decimal("63.30") and ret.refunds == ()
    assert [line.sku for line in ret.lines] == ["LS100-BLK-S"]


def test_ids_are_the_same_text_whether_loop_sent_strings_or_integers() -> None:
    from_list, from_details = to_loop_return(list_return()), to_loop_return(details_return())
    assert from_list.return_id == from_details.return_id == "37603922"
    assert from_list.order_id == from_details.order_id == "5512"
    assert from_list.lines[0].line_item_id == from_details.lines[0].line_item_id == "80011"
    assert to_loop_return(list_return(id=" 37603922 ")).return_id == "37603922"


def test_customer_falls_back_to_customer_detail_and_a_customer_object_is_read() -> None:
    assert to_loop_return(webhook_return(customer="top@example.com")).customer_email == "top@example.com"
    assert to_loop_return(list_return(customer={"email": "obj@example.com"})).customer_email == "obj@example.com"
    assert to_loop_return(list_return(customer=None)).customer_email is None


# --- unknown and bad values ------------------------------------------------------------------------
def test_unknown_fields_are_ignored_and_only_counted_for_drift() -> None:
    raw = list_return(brand_new_field={"x": 1}, return_method="mail")
    raw["line_items"][0]["resale_grade"] = "A"
    ret = to_loop_return(raw)
    assert ret.problems == ()
    assert ret == to_loop_return(raw)  # deterministic
    assert ret.lines[0].sku == "LS100-BLK-S"
    counter = DriftCounter(PAYLOAD)
    counter.add(raw)
    assert set(counter.unknown) == {"brand_new_field", "return_method", "line_items[].resale_grade"}


@pytest.mark.parametrize("shape", [list_return, details_return, webhook_return], ids=["list", "details", "webhook"])
def test_every_documented_key_is_known_to_the_drift_contract(shape: Any) -> None:
    assert list(PAYLOAD.unknown_keys(shape())) == []


def test_bad_money_is_a_problem_naming_the_field_and_the_rest_is_read() -> None:
    raw = list_return(total="63,30", refund="NaN")
    raw["line_items"][1]["price"] = "eleven"
    raw["refunds"][0]["amount"] = {"value": "63.30"}
    ret = to_loop_return(raw)
    assert ret.total is None and ret.refund is None
    assert ret.lines[1].price is None and ret.lines[1].refund == Decimal("11.46")
    assert ret.refunds[0].amount is None
    assert codes(ret) == [
        ("payload_invalid", "total"),
        ("payload_invalid", "refund"),
        ("payload_invalid", "refunds.amount"),
        ("payload_invalid", "line_items.price"),
    ]
    line_problem = ret.problems[3]
    assert line_problem.line_no == 2 and line_problem.value == "eleven"
    assert "63,30" in (ret.problems[0].value or "")
    assert ret.order_name == "#7382018" and len(ret.lines) == 2


def test_money_as_a_json_number_is_read_exactly() -> None:
    ret = to_loop_return(list_return(total=63.3, refund=0))
    assert ret.total == Decimal("63.3") and ret.refund == Decimal(0)
    assert ret.problems == ()


def test_blank_money_and_timestamps_are_absent_not_problems() -> None:
    ret = to_loop_return(list_return(handling_fee="", updated_at="  "))
    assert ret.handling_fee is None and ret.updated_at is None
    assert ret.problems == ()


def test_a_bad_timestamp_is_a_dates_problem() -> None:
    ret = to_loop_return(list_return(updated_at="yesterday"))
    assert ret.updated_at is None
    assert codes(ret) == [("dates_invalid", "updated_at")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-08-22 14:08:31", datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)),
        ("2023-08-22T14:08:31.000Z", datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)),
        ("2023-08-22T14:08:31.000000Z", datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)),
        ("2023-08-22T14:08:31Z", datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)),
        ("2023-08-22T16:08:31+02:00", datetime(2023, 8, 22, 14, 8, 31, tzinfo=UTC)),
        ("2023-02-30 14:08:31", None),
        ("22/08/2023", None),
    ],
)
def test_timestamps_in_each_documented_format(text: str, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


def test_a_return_without_an_id_gets_a_stable_stand_in() -> None:
    raw = list_return()
    del raw["id"]
    first, again = to_loop_return(raw), to_loop_return(dict(raw))
    assert first.return_id == again.return_id and not first.identified
    assert ("payload_invalid", "id") in codes(first)


def test_a_wrong_shape_is_a_problem_never_an_exception() -> None:
    ret = to_loop_return(list_return(line_items={"line_item_id": "1"}, refunds="none"))
    assert ret.lines == () and ret.refunds == ()
    assert codes(ret) == [("payload_invalid", "refunds"), ("payload_invalid", "line_items")]

    ret = to_loop_return(list_return(line_items=["80011", {"line_item_id": 80012, "sku": ["a"]}]))
    assert [line.line_no for line in ret.lines] == [2]
    assert ret.lines[0].sku is None
    assert codes(ret) == [("payload_invalid", "line_items"), ("payload_invalid", "line_items.sku")]

    raw = list_return()
    del raw["line_items"]
    assert ("payload_invalid", "line_items") in codes(to_loop_return(raw))


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        "37603922",
        12,
        {},
        {"id": True, "state": ["open"], "customer_detail": "x", "created_at": 5, "line_items": [None, 3, []]},
        {"id": {"nested": 1}, "total": float("inf"), "refunds": [{"amount": True}], "line_items": [{}]},
        {"id": "x" * 5000, "line_items": [{"price": "1e999999", "returned_at": "2023-13-01T00:00:00Z"}]},
    ],
)
def test_the_mapper_never_raises(raw: Any) -> None:
    ret = to_loop_return(raw)
    assert isinstance(ret, LoopReturn)
    assert ret.return_id
    assert ret.problems  # each of these is wrong somewhere, and says so
