"""The eBay listing rules as pure functions (connectors.ebay.listing): the HTML sanitiser, the checks
a record passes before anything is sent, and the request bodies; and how the push splits records
into listings (services.ebay_listings.group_listings)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.ebay import listing as rules
from services.ebay_listings import Record, group_listings

OK = rules.ListingInput(
    sku="274QN",
    title="Dune Fisherman Sweater - Olive / M",
    description_html="<p>Hand-knit <b>merino</b>.</p>",
    listing_format="FIXED_PRICE",
    duration="GTC",
    category1="11484",
    category2=None,
    condition="NEW",
    image_urls=("https://img.example/274QN/1.jpg",),
    price=Decimal("94.00"),
    currency="USD",
    style_number="HPA101",
    style_description="Dune Fisherman Sweater",
    color_code="OLV",
    color_name="Olive",
    size="M",
    size_index=2,
    upc="012345678905",
    quantity=7,
)
TERMS = rules.OfferTerms("EBAY_US", "wh-1", "f-1", "p-1", "r-1")


# --- sanitiser ---------------------------------------------------------------------------------------------
def test_script_tags_and_their_code_are_removed_and_said() -> None:
    done = rules.sanitize_description("<p>Soft</p><script>alert(document.cookie)</script><SCRIPT src=x></SCRIPT>")
    assert done.html == "<p>Soft</p>"
    assert done.removed == ("a script tag",)
    assert done.warning is not None and "script tag" in done.warning


def test_event_handlers_and_script_urls_are_removed_formatting_kept() -> None:
    raw = (
        '<div align="center" style="color: red; position: fixed" onmouseover="x()">'
        "<h2>Care</h2><ul><li><i>Hand wash</i></li></ul>"
        '<a href="javascript:alert(1)">a</a> <a href="https://harborandpine.example/care">care</a>'
        '<img src="https://img.example/1.jpg" onerror="x()" alt="front">'
        '<table border="1"><tr><td colspan="2">Size chart</td></tr></table></div>'
    )
    done = rules.sanitize_description(raw)
    assert "onmouseover" not in done.html and "onerror" not in done.html and "javascript" not in done.html
    assert "position" not in done.html and "color:red" in done.html.replace(" ", "")
    for kept in ("<h2>Care</h2>", "<i>Hand wash</i>", 'href="https://harborandpine.example/care"', 'colspan="2"'):
        assert kept in done.html
    assert '<img src="https://img.example/1.jpg" alt="front">' in done.html
    assert set(done.removed) == {"event-handler attributes (on...=)", "a javascript: URL"}


def test_plain_formatting_passes_unchanged_without_a_warning() -> None:
    raw = "<p>Soft <b>merino</b> &amp; <em>cashmere</em>.</p><br><hr>"
    done = rules.sanitize_description(raw)
    assert done.removed == () and done.warning is None
    assert done.html == "<p>Soft <b>merino</b> &amp; <em>cashmere</em>.</p><br><hr>"


@pytest.mark.parametrize(
    "raw",
    [
        "<iframe src='https://evil.example'></iframe>ok",
        "<object data='x.swf'></object>ok",
        "<style>body{display:none}</style>ok",
        "<img src=x onerror=alert(1)>ok",
        '<a href="data:text/html,<script>alert(1)</script>">ok</a>',
    ],
)
def test_active_content_never_survives(raw: str) -> None:
    html = rules.sanitize_description(raw).html
    for bad in ("<iframe", "<object", "<style", "onerror", "data:", "<script"):
        assert bad not in html
    assert "ok" in html


def test_no_description_is_an_empty_one() -> None:
    assert rules.sanitize_description(None) == rules.Sanitized("")


# --- the checks before anything is sent -----------------------------------------------------------------
def test_a_good_record_passes() -> None:
    assert rules.listing_problems(OK) == []


def test_thirteen_pictures_are_one_too_many() -> None:
    thirteen = tuple(f"https://img.example/{i}.jpg" for i in range(13))
    assert rules.listing_problems(replace(OK, image_urls=thirteen)) == [
        "eBay takes at most 12 pictures; SKU 274QN has 13"
    ]
    assert rules.listing_problems(replace(OK, image_urls=thirteen[:12])) == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"category1": None}, "SKU 274QN has no eBay category"),
        ({"category1": "  "}, "SKU 274QN has no eBay category"),
        ({"category1": "shoes"}, "is not an eBay category id"),
        ({"category2": "11484"}, "category 2 is the same as category 1"),
        ({"price": Decimal("0")}, "SKU 274QN has a price of 0"),
        ({"price": Decimal("-1.00")}, "a price of -1.00"),
        ({"price": None}, "SKU 274QN has no price"),
        ({"image_urls": ()}, "has no picture"),
        ({"image_urls": ("http://img.example/1.jpg",)}, "https URL only"),
        ({"title": "x" * 81}, "titles of at most 80 characters"),
        ({"title": ""}, "has no title"),
        ({"listing_format": "CLASSIFIED"}, "is not one of FIXED_PRICE, AUCTION"),
        ({"duration": "DAYS_7"}, "a fixed-price listing runs GTC"),
        ({"listing_format": "AUCTION", "duration": "GTC"}, "an auction runs DAYS_1"),
        ({"condition": "MINT"}, "is not an eBay condition"),
        ({"style_number": None}, "is not an ERP SKU"),
    ],
)
def test_each_bad_record_is_one_clear_sentence(change: dict[str, object], said: str) -> None:
    problems = rules.listing_problems(replace(OK, **change))  # type: ignore[arg-type]
    assert len(problems) == 1 and said in problems[0], problems


def test_several_problems_are_all_named() -> None:
    problems = rules.listing_problems(replace(OK, category1=None, price=Decimal("0"), image_urls=()))
    assert len(problems) == 3


# --- bodies --------------------------------------------------------------------------------------------------
def test_inventory_item_body() -> None:
    body = rules.inventory_item(OK, rules.sanitize_description(OK.description_html))
    assert body == {
        "sku": "274QN",
        "condition": "NEW",
        "availability": {"shipToLocationAvailability": {"quantity": 7}},
        "product": {
            "title": "Dune Fisherman Sweater - Olive / M",
            "description": "<p>Hand-knit <b>merino</b>.</p>",
            "aspects": {"Color": ["Olive"], "Size": ["M"]},
            "imageUrls": ["https://img.example/274QN/1.jpg"],
            "mpn": "HPA101",
            "upc": ["012345678905"],
        },
    }


def test_fixed_price_and_auction_offers() -> None:
    two = replace(OK, category2="53159")
    body = rules.offer(two, rules.Sanitized("<p>x</p>"), TERMS)
    assert body["pricingSummary"] == {"price": {"value": "94.00", "currency": "USD"}}
    assert (body["format"], body["listingDuration"], body["categoryId"], body["secondaryCategoryId"]) == (
        "FIXED_PRICE",
        "GTC",
        "11484",
        "53159",
    )
    # a fixed-price offer leaves the quantity to the inventory item (the inventory push keeps it current)
    assert "availableQuantity" not in body and body["marketplaceId"] == "EBAY_US"
    assert body["listingPolicies"] == {"fulfillmentPolicyId": "f-1", "paymentPolicyId": "p-1", "returnPolicyId": "r-1"}
    assert body["merchantLocationKey"] == "wh-1" and body["listingDescription"] == "<p>x</p>"
    auction = rules.offer(replace(OK, listing_format="AUCTION", duration="DAYS_7"), rules.Sanitized(""), TERMS)
    assert auction["pricingSummary"] == {"auctionStartPrice": {"value": "94.00", "currency": "USD"}}
    assert auction["availableQuantity"] == 1 and "secondaryCategoryId" not in auction


def test_a_group_varies_by_colour_and_size_with_each_picture_once() -> None:
    skus = [
        replace(OK, sku="A", color_name="Olive", size="S", size_index=1, image_urls=("https://i/o.jpg",)),
        replace(OK, sku="B", color_name="Olive", size="M", size_index=2, image_urls=("https://i/o.jpg",)),
        replace(OK, sku="C", color_name="Ink", size="S", size_index=1, image_urls=("https://i/i.jpg",)),
    ]
    body = rules.item_group(skus, rules.Sanitized("<p>d</p>"), "Dune Fisherman Sweater")
    assert body["variantSKUs"] == ["C", "A", "B"]
    assert body["variesBy"]["specifications"] == [
        {"name": "Color", "values": ["Ink", "Olive"]},
        {"name": "Size", "values": ["S", "M"]},
    ]
    assert body["variesBy"]["aspectsImageVariesBy"] == ["Color"]
    assert body["imageUrls"] == ["https://i/i.jpg", "https://i/o.jpg"]
    assert body["title"] == "Dune Fisherman Sweater"


# --- listings: groups and single SKUs --------------------------------------------------------------------------
def _record(item: rules.ListingInput, group: str | None = None, listing: str | None = None) -> Record:
    return Record(1, item, True, None, listing, group, datetime(2026, 12, 1, tzinfo=UTC) if listing else None)


def test_two_fixed_price_skus_of_a_style_are_a_group_an_auction_and_a_lone_sku_are_not() -> None:
    a = _record(replace(OK, sku="A"))
    b = _record(replace(OK, sku="B", size="L"))
    auction = _record(replace(OK, sku="C", listing_format="AUCTION", duration="DAYS_7"))
    lone = _record(replace(OK, sku="D", style_number="HPA999"))
    listings = group_listings([a, b, auction, lone], {})
    shapes = sorted((x.key, tuple(x.skus)) for x in listings if x.key) + sorted(
        (x.key or "", tuple(x.skus)) for x in listings if not x.key
    )
    assert shapes == [("HPA101", ("A", "B")), ("", ("C",)), ("", ("D",))]


def test_one_flagged_sku_of_a_listed_group_goes_back_into_its_group() -> None:
    flagged = _record(replace(OK, sku="A"))
    listed = _record(replace(OK, sku="B"), group="HPA101", listing="110553000001")
    (only,) = group_listings([flagged], {"HPA101": [listed]})
    assert only.key == "HPA101" and only.skus == ["A"]
    assert [m.input.sku for m in only.members] == ["A", "B"]
