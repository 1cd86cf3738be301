"""The catalog push's pure parts: content hashes, why an item goes, and matching partner products
to styles (no database, no partner)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from connectors.catalog import CatalogColor, CatalogSku, CatalogStyle, PartnerProduct, Price
from services.catalog import State, match_styles, style_hash, why_send


def style(number: str = "S1", upcs: tuple[str, ...] = ("001",), price: str = "10.00") -> CatalogStyle:
    prices = (Price("WHL", "USD", Decimal(price), Decimal("20.00")),)
    skus = tuple(
        CatalogSku(f"{number}-{i}", size, i, upc) for i, (size, upc) in enumerate(zip("SM", upcs, strict=False))
    )
    return CatalogStyle(
        number, "A sweater", "FA26", "Knits", "WHSL", True, prices, (CatalogColor("NVY", "Navy", skus, prices),)
    )


def state(outcome: str | None, accepted: str | None, sent: str | None = None, run_id: int | None = 1) -> State:
    return State("S1", outcome, accepted, sent or accepted, "P1", run_id, "A sweater", None)


def test_the_hash_is_of_the_content_not_of_the_partners_id_nor_the_decimal_spelling() -> None:
    a = style()
    assert style_hash(a) == style_hash(dataclasses.replace(a, partner_id="P9"))
    assert style_hash(a) != style_hash(style(price="10.01"))
    assert len(style_hash(a)) == 64


def test_why_an_item_goes() -> None:
    h = "h1"
    assert why_send(None, h) == "new"
    assert why_send(state(None, None), h) == "new"  # matched to a product, never answered for
    assert why_send(state("accepted", h), h) is None
    assert why_send(state("accepted", "old"), h) == "changed"
    assert why_send(state("rejected", h), h) == "refused before"
    assert why_send(state("removed", h), h) == "removed before"
    assert why_send(state("awaiting", None, sent=h), h) is None
    assert why_send(state("awaiting", None, sent="old"), h) == "changed"
    # A full push sends what is unchanged too, except what an interrupted full push got accepted
    assert why_send(state("accepted", h, run_id=7), h, full=True) == "full push"
    assert why_send(state("accepted", h, run_id=7), h, full=True, resumed=frozenset({7})) is None


def test_matching_takes_a_mapping_then_the_number_then_a_upc_and_never_one_product_twice() -> None:
    products = [
        PartnerProduct("P1", "s1"),  # the number, any case
        PartnerProduct("P2", None, ("002",)),
        PartnerProduct("P3", "OLD"),
        PartnerProduct("P4", "S4"),
        PartnerProduct("P5", "S4"),
        PartnerProduct("P6", "S6", ("006",)),
    ]
    styles = [
        style("S1", ("101",)),
        style("S2", ("002",)),
        style("S3", ("103",)),
        style("S4", ("104",)),
        style("S5", ("006",)),  # shares a UPC with P6, which carries S6's number
        style("S6", ("106",)),
        style("S7", ("107",)),
    ]
    matches, problems = match_styles(styles, products, {"S3": ["OLD"]}, {}, partner="Toy", site="shop")
    assert {k: (m.partner_id, m.by) for k, m in matches.items()} == {
        "S1": ("P1", "style number"),
        "S2": ("P2", "upc"),
        "S3": ("P3", "mapping"),
        "S6": ("P6", "style number"),
    }
    assert "several products on Toy by style number (P4, P5)" in problems["S4"]
    assert "already matched to style S6" in problems["S5"] and "bobbin map style shop PRODUCT S5" in problems["S5"]
    assert "S7" not in matches and "S7" not in problems  # nothing there: created
    # A product recorded for another style already is not taken again
    matches, problems = match_styles([style("S1")], products, {}, {"P1": "S9"}, partner="Toy")
    assert matches == {} and "already matched to style S9" in problems["S1"]
    # A mapped value the partner does not list is taken as its id, as a person gave it
    matches, _ = match_styles([style("S7")], [], {"S7": ["P77"]}, {})
    assert matches["S7"] == ("P77", "mapping")
