"""Every documented spelling the mappers read (each listed in its partner's contract with its source),
and the drift counter over payloads that drift. Inputs are literal payloads written here."""

from __future__ import annotations

from connectors.brandboom.contract import PAYLOAD as BRANDBOOM
from connectors.brandboom.mapper import to_partner_order as brandboom_order
from connectors.drift import DriftCounter
from connectors.joor.contract import PAYLOAD as JOOR
from connectors.joor.mapper import to_partner_order as joor_order

ADDRESS = {
    "name": "Fern & Co",
    "address1": "1 Elm St",
    "city": "Austin",
    "state": "TX",
    "zip": "78701",
    "country": "US",
}
JOOR_ADDRESS = {
    "name": "Fern & Co",
    "line_1": "1 Elm St",
    "city": "Austin",
    "state": "TX",
    "zip": "78701",
    "country": "US",
    "email": "buyer@fern.example",
}


def test_joor_order_id_reads_as_order_id_or_v4_id() -> None:
    assert joor_order({"order_id": 7, "order_items": []}).partner_order_id == "7"
    assert joor_order({"id": 8, "order_items": []}).partner_order_id == "8"
    assert joor_order({"order_id": 7, "id": 8, "order_items": []}).partner_order_id == "7"
    missing = joor_order({"orderRef": 9, "order_items": []})
    assert missing.partner_order_id.startswith("unidentified-")
    assert any(p.code == "payload_invalid" and "order_id or id" in p.message for p in missing.problems)


def test_joor_customer_email_from_the_top_or_the_v4_address_objects() -> None:
    assert joor_order({"order_id": 1, "customer_email": "a@b.example"}).customer.email == "a@b.example"
    shipped = joor_order({"order_id": 1, "shipping_address": JOOR_ADDRESS})
    assert shipped.customer.email == "buyer@fern.example" and shipped.ship_to is not None
    assert shipped.ship_to.line1 == "1 Elm St"
    billed = joor_order({"order_id": 1, "billing_address": {**JOOR_ADDRESS, "email": "ap@fern.example"}})
    assert billed.customer.email == "ap@fern.example"


def test_brandboom_ship_to_in_each_documented_place() -> None:
    for order in (
        {"id": 1, "customer": {"shippingAddress": ADDRESS}},
        {"id": 1, "customer": {"shipping": ADDRESS}},
        {"id": 1, "customer": {"code": "C1"}, "shippingAddress": ADDRESS},
        {"id": 1, "shippingAddress": ADDRESS},
    ):
        mapped = brandboom_order(order)
        assert mapped.ship_to is not None and mapped.ship_to.city == "Austin", order
    billed = brandboom_order({"id": 1, "customer": {"billing": ADDRESS}})
    assert billed.customer.billing is not None and billed.customer.billing.postal_code == "78701"


def _joor(n: int, **over: object) -> dict[str, object]:
    order: dict[str, object] = {
        "order_id": n,
        "po_number": f"P{n}",
        "start_ship_date": "2027-01-01",
        "end_ship_date": "2027-02-01",
        "currency_code": "USD",
        "customer_email": "x@y.z",
        "shipping_address": JOOR_ADDRESS,
        "payment_method_code": "N30",
        "shipping_method_code": "UPS",
        "order_items": [{"style_number": "S", "quantity": 1}],
    }
    order.update(over)
    return {k: v for k, v in order.items() if v is not None}


def test_drift_is_silent_on_payloads_that_match_the_contract() -> None:
    counter = DriftCounter(JOOR)
    for n in range(10):
        counter.add(_joor(n))
    assert counter.warnings() == [] and counter.summary() == {"fields_absent": {"customer code": 10}}


def test_a_renamed_optional_field_is_named_with_its_new_name() -> None:
    counter = DriftCounter(JOOR)
    for n in range(10):
        counter.add(_joor(n, start_ship_date=None, ship_start="2027-01-01"))
    (warning,) = counter.warnings()
    assert warning == (
        "JOOR orders no longer carry `start_ship_date` (absent from 10 of 10); they carry "
        "`ship_start`, which the contract does not know: the ship-date checks are off for this site"
    )


def test_a_field_absent_from_a_few_orders_or_in_a_tiny_run_is_not_drift() -> None:
    few = DriftCounter(JOOR)
    for n in range(10):
        few.add(_joor(n, currency_code=None if n < 3 else "USD"))
    assert few.warnings() == [] and few.absent["currency"] == 3
    tiny = DriftCounter(JOOR)
    for n in range(2):
        tiny.add(_joor(n, currency_code=None))
    assert tiny.warnings() == []


def test_an_unknown_key_warns_at_once_and_item_keys_are_watched_too() -> None:
    counter = DriftCounter(BRANDBOOM)
    counter.add({"id": 1, "items": [{"styleNumber": "S", "quantity": 1, "colorway": "Navy"}], "giftNote": "hi"})
    (warning,) = counter.warnings()
    assert "`giftNote` (1 of 1)" in warning and "`items[].colorway` (1 of 1)" in warning


# --- boundaries and exact words (mutation testing found these unchecked) -------------------------


def test_the_share_and_the_run_size_are_boundaries() -> None:
    # exactly half absent is not drift; one more is
    half = DriftCounter(JOOR)
    for n in range(10):
        half.add(_joor(n, currency_code=None if n < 5 else "USD"))
    assert half.warnings() == []
    over = DriftCounter(JOOR)
    for n in range(10):
        over.add(_joor(n, currency_code=None if n < 6 else "USD"))
    assert over.warnings() == [
        "JOOR orders no longer carry `currency_code` (absent from 6 of 10): the currency "
        "and price-type checks are off for this site"
    ]
    # a run of exactly DRIFT_MIN_ORDERS orders counts
    five = DriftCounter(JOOR)
    for n in range(5):
        five.add(_joor(n, currency_code=None))
    assert len(five.warnings()) == 1


def test_required_and_unwatched_fields_never_warn() -> None:
    counter = DriftCounter(JOOR)
    for n in range(10):
        counter.add(_joor(n, po_number=None, customer_code=None) | {"order_id": n})
    counter.add({"id": 99, "order_items": []})  # the v4 id: the required id is there
    assert [w for w in counter.warnings() if "customer_code" in w or "order_id" in w] == []
    assert counter.absent["customer code"] == 11 and "order id" not in counter.absent


def test_unknown_keys_beyond_three_are_counted_and_the_summary_keeps_them() -> None:
    counter = DriftCounter(BRANDBOOM)
    counter.add({"id": 1, "items": [], "a1": 1, "a2": 1, "a3": 1, "a4": 1, "a5": 1})
    (warning,) = counter.warnings()
    assert warning.endswith(
        " and 2 more, which Bobbin's contract does not know: check whether the partner renamed a field Bobbin reads"
    )
    summary = counter.summary()
    assert summary["keys_unknown"] == {"a1": 1, "a2": 1, "a3": 1, "a4": 1, "a5": 1}
    assert summary["drift"] == [warning]
    assert set(summary) == {"fields_absent", "keys_unknown", "drift"}


def test_nested_objects_and_joor_item_aliases_are_checked_for_unknown_keys() -> None:
    counter = DriftCounter(JOOR)
    counter.add(
        _joor(
            1,
            shipping_address={**JOOR_ADDRESS, "gate_code": "7"},
            order_items=None,
            items=[{"style_number": "S", "quantity": 1, "bundle": True}],
        )
    )
    assert set(counter.unknown) == {"shipping_address.gate_code", "order_items[].bundle"}
    bb = DriftCounter(BRANDBOOM)
    bb.add({"id": 1, "customer": {"code": "C", "vatNumber": "x"}, "items": [{"styleNumber": "S"}, "not an item"]})
    assert set(bb.unknown) == {"customer.vatNumber"}


def test_a_field_counts_as_present_under_any_spelling_and_absent_when_empty() -> None:
    counter = DriftCounter(BRANDBOOM)
    for n in range(6):
        counter.add({"id": n, "items": [], "customer": {"shipping": ADDRESS, "email": ""}})
    assert "ship-to address" not in counter.absent
    assert counter.absent["customer e-mail"] == 6
