"""The validation rules as pure functions: one ``MasterData`` built in memory, one partner order.

Each test breaks one rule and checks the exact problem (code, line, field, value) it yields, and
that a clean order yields none and resolves every ERP code.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import Address, PartnerCustomer, PartnerOrder, PartnerOrderLine, Problem
from services.masterdata import CustomerInfo, MasterData, address_key_string, claim_po, norm
from services.validation import validate

SHIP_TO = Address(name="Bloom", line1="12 Main St", city="Hudson", state="NY", postal_code="12534", country="US")


def master() -> MasterData:
    md = MasterData()
    md.customers["BLM01"] = CustomerInfo("BLM01", "Bloom Boutique", "buy@bloom.example", "N30", "UPSG", "KM")
    md.customer_addresses["BLM01"] = {address_key_string(SHIP_TO.key())}
    md.reps.update({"km": "KM", "kate morrison": "KM"})
    md.terms.update({"n30": "N30", "net 30": "N30"})
    md.ship_vias.update({"upsg": "UPSG", "ups ground": "UPSG"})
    md.warehouses.update({"main": "MAIN"})
    md.sku_by_id["a1b2c"] = "A1B2C"
    md.sku_by_variant[("hpt101", "blk", "m")] = "A1B2C"
    md.sku_by_upc["845120000017"] = "A1B2C"
    md.mappings["terms"][norm("Credit Card")] = "N30"
    return md


def line(n: int = 1, **kw: object) -> PartnerOrderLine:
    base = dict(
        line_no=n, style_number="HPT101", color_code="BLK", size="M", quantity=Decimal(3), price=Decimal("24.50")
    )
    base.update(kw)
    return PartnerOrderLine(**base)  # type: ignore[arg-type]


def order(**kw: object) -> PartnerOrder:
    base = dict(
        partner_order_id="1001",
        raw={},
        po_number="PO-1",
        customer=PartnerCustomer(partner_id="77", code="BLM01", name="Bloom Boutique"),
        ship_to=SHIP_TO,
        sales_rep="Kate Morrison",
        payment_method="Net 30",
        shipping_method="UPS Ground",
        ship_date=date(2027, 1, 10),
        cancel_date=date(2027, 2, 10),
        lines=(line(),),
    )
    base.update(kw)
    return PartnerOrder(**base)  # type: ignore[arg-type]


def codes(problems: list[Problem]) -> list[tuple[str, int | None, str | None, str | None]]:
    return [(p.code, p.line_no, p.field, p.value) for p in problems]


def test_a_clean_order_is_valid_and_resolves_every_code() -> None:
    out = validate(order(), master(), default_warehouse="MAIN")
    assert out.problems == []
    assert out.state == "valid"
    r = out.resolved
    assert (r.customer_code, r.rep_code, r.terms_code, r.ship_via_code, r.warehouse_code) == (
        "BLM01",
        "KM",
        "N30",
        "UPSG",
        "MAIN",
    )
    assert r.line_skus == {1: "A1B2C"}


def test_a_sku_matches_by_sku_number_or_upc_too() -> None:
    lines = (
        line(1, style_number=None, color_code=None, size=None, sku_number="a1b2c"),
        line(2, style_number=None, color_code=None, size=None, upc="845120000017"),
    )
    assert validate(order(lines=lines), master()).resolved.line_skus == {1: "A1B2C", 2: "A1B2C"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            dict(customer=PartnerCustomer(partner_id="88", code="ZZZ99", name="Nobody")),
            [("customer_unknown", None, "customer", "ZZZ99")],
        ),
        (dict(sales_rep="Taylor Quinn"), [("sales_rep_unknown", None, "rep", "Taylor Quinn")]),
        (dict(payment_method="Net 90"), [("terms_unmapped", None, "terms", "Net 90")]),
        (dict(shipping_method="Pony Express"), [("ship_via_unmapped", None, "shipping", "Pony Express")]),
        (dict(warehouse="LA-3PL"), [("warehouse_unmapped", None, "warehouse", "LA-3PL")]),
        (dict(cancel_date=date(2027, 1, 1)), [("dates_invalid", None, "cancel_date", "2027-01-01")]),
        (dict(lines=(line(1), line(2, color_code="FUS"))), [("sku_unknown", 2, "lines", "HPT101/FUS/M")]),
        (dict(lines=(line(1, quantity=Decimal(0), raw_quantity="0"),)), [("quantity_invalid", 1, "quantity", "0")]),
        (dict(lines=(line(1, quantity=None, raw_quantity="abc"),)), [("quantity_invalid", 1, "quantity", "abc")]),
        (
            dict(lines=(line(1, quantity=Decimal("1.5"), raw_quantity="1.5"),)),
            [("quantity_invalid", 1, "quantity", "1.5")],
        ),
        (
            dict(lines=(line(1, quantity=Decimal("1e9"), raw_quantity="1e9"),)),
            [("quantity_invalid", 1, "quantity", "1e9")],
        ),
        (dict(lines=(line(1, price=Decimal("-1"), raw_price="-1"),)), [("price_invalid", 1, "price", "-1")]),
        (dict(lines=(line(1, price=None),)), [("price_invalid", 1, "price", "(none)")]),
        (dict(lines=(line(1, price=Decimal("NaN"), raw_price="NaN"),)), [("price_invalid", 1, "price", "NaN")]),
        (dict(lines=()), [("payload_invalid", None, "lines", None)]),
    ],
)
def test_each_broken_rule_yields_exactly_its_problem(
    change: dict[str, object], expected: list[tuple[object, ...]]
) -> None:
    out = validate(order(**change), master(), default_warehouse="MAIN")
    assert codes(out.problems) == expected
    assert out.state == "invalid"


def test_a_mapping_wins_and_an_unset_value_falls_back_to_the_customer() -> None:
    out = validate(order(payment_method="Credit Card", shipping_method=None, sales_rep=None), master())
    assert (out.resolved.terms_code, out.resolved.ship_via_code, out.resolved.rep_code) == ("N30", "UPSG", "KM")
    assert out.state == "valid"


def test_a_new_ship_to_is_a_warning_and_the_order_stays_valid() -> None:
    out = validate(order(ship_to=replace(SHIP_TO, line1="1 Other Rd")), master())
    assert [(p.code, p.severity) for p in out.problems] == [("address_new", "warning")]
    assert out.state == "valid"


def test_the_same_address_written_differently_is_not_new() -> None:
    shouty = replace(SHIP_TO, line1="12  MAIN ST.", city="hudson", postal_code="12534 ")
    assert validate(order(ship_to=shouty), master()).problems == []


def test_a_later_order_with_the_same_po_of_the_same_customer_is_a_duplicate() -> None:
    md = master()
    claim_po(md, "BLM01", "PO-1", order_id=5)
    assert validate(order(), md, order_id=4).state == "valid"  # the older order keeps its PO
    later = validate(order(), md, order_id=9)
    assert codes(later.problems) == [("duplicate_po", None, "po", "PO-1")]
    assert later.state == "duplicate"


def test_problems_use_the_partner_field_names_given() -> None:
    out = validate(order(payment_method="Net 90"), master(), fields={"terms": "paymentTerms"})
    assert out.problems[0].field == "paymentTerms"


def test_every_problem_of_one_order_is_reported_not_only_the_first() -> None:
    out = validate(
        order(sales_rep="X", payment_method="Y", lines=(line(1, size="XXL"), line(2, quantity=None))), master()
    )
    assert [p.code for p in out.problems] == ["sales_rep_unknown", "terms_unmapped", "sku_unknown", "quantity_invalid"]
