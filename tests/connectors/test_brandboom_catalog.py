"""The Brandboom catalog and customer pushers against the Brandboom sandbox over real HTTP.

Styles are built by hand as the catalog service hands them over (``connectors.catalog``); what
Brandboom holds afterwards is read back from the sandbox's own record (``catalog()``: products,
prices per tier, SKUs), never from what the pusher meant to send."""

from __future__ import annotations

import dataclasses
import time
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from connectors.brandboom import SPEC
from connectors.brandboom import contract as c
from connectors.brandboom.catalog import (
    BrandboomCatalogPusher,
    BrandboomCustomerPusher,
    customer_fields,
)
from connectors.brandboom.client import BrandboomClient
from connectors.brandboom.settings import BrandboomSettings
from connectors.catalog import (
    ACCEPTED,
    REJECTED,
    REMOVED,
    CatalogColor,
    CatalogCustomer,
    CatalogSku,
    CatalogStyle,
    CustomerAddress,
    Price,
)
from connectors.errors import AuthError, RetryableError
from connectors.settings import SettingsError, validate_settings
from sandbox.brandboom import api as sandbox_api
from sandbox.brandboom.server import BrandboomSandbox
from tests.connectors.conftest import PUBLIC_KEY, SECRET_KEY, ClientFactory

USD, EUR = 1548, 1549  # the sandbox's two price tiers (default seed)
TIERS = {"WHL": USD, "WHLE": EUR, "MSRP": None}


# --- building styles as the catalog service would -------------------------------------------------
def prices(whl: str, eur: str = "18.40", retail: str | None = "44.00") -> tuple[Price, ...]:
    return (
        Price("WHL", "USD", Decimal(whl), None if retail is None else Decimal(retail)),
        Price("WHLE", "EUR", Decimal(eur)),
        Price("MSRP", "USD", Decimal("44.00")),  # its own price type in the ERP; mapped to none here
    )


def style(
    number: str,
    colors: tuple[str, ...] = ("BLK", "RED"),
    sizes: tuple[str, ...] = ("S", "M"),
    *,
    own: dict[str, str] | None = None,
    extra: tuple[Price, ...] = (),
    description: str | None = None,
    upc: bool = True,
) -> CatalogStyle:
    """A style whose colours sell at 20.00 USD, except those in ``own`` (colour -> its price)."""
    own = own or {}
    base = prices("20.00") + extra
    built = []
    for n, code in enumerate(colors):
        skus = tuple(
            CatalogSku(
                f"{number}-{code}-{size}", size, i, f"0{n}{i}{zlib.crc32(number.encode()) % 10**9:09d}" if upc else None
            )
            for i, size in enumerate(sizes)
        )
        mine = prices(own[code], retail="48.00") + extra if code in own else base
        built.append(CatalogColor(code, f"{code.title()} colour", skus, mine, own_prices=code in own))
    return CatalogStyle(number, description or f"Style {number}", "Fall 2026", "Tops", "WHSL", True, base, tuple(built))


def settings(**values: Any) -> BrandboomSettings:
    return BrandboomSettings.model_validate({"price_tiers": TIERS, **values})


@pytest.fixture
def pusher(make_brandboom_client: ClientFactory) -> Iterator[Any]:
    """Pushers on the sandbox: ``pusher(**settings)``."""
    made: list[BrandboomCatalogPusher] = []

    def make(**values: Any) -> BrandboomCatalogPusher:
        opened = SPEC.capability("catalog").open(make_brandboom_client(), settings(**values))
        assert isinstance(opened, BrandboomCatalogPusher)
        made.append(opened)
        return opened

    yield make
    for p in made:
        p.close()


def held(sandbox: BrandboomSandbox, number: str) -> list[dict[str, Any]]:
    """What Brandboom holds of a style: its products not deleted, as the sandbox stores them."""
    return [p for p in sandbox.catalog() if p["styleNumber"] == number and p.get("status") != c.PRODUCT_DELETED]


def sku_prices(product: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {s["skuNumber"]: s["prices"] for s in product["skus"]}


# --- split / combine -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "uniform", "priced"),
    [
        ("combine", [["BLK", "RED"]], [["BLK", "RED"]]),
        ("split", [["BLK"], ["RED"]], [["BLK"], ["RED"]]),
        ("auto", [["BLK", "RED"]], [["BLK"], ["RED"]]),
    ],
)
def test_split_and_combine_make_the_products_the_mode_says(
    brandboom_sandbox: BrandboomSandbox, pusher: Any, mode: str, uniform: list[list[str]], priced: list[list[str]]
) -> None:
    # Given a style whose colours sell at one price, and one whose red costs more
    same, dearer = style("U-1"), style("P-1", own={"RED": "24.00"})
    # when both are pushed in the site's mode
    results = pusher(catalog_mode=mode).send_styles([same, dearer], full=False)
    # then both are accepted, with the products they landed on as their ids
    assert [(r.key, r.outcome) for r in results] == [("U-1", ACCEPTED), ("P-1", ACCEPTED)]
    for result in results:
        assert result.partner_id == ",".join(str(p["id"]) for p in held(brandboom_sandbox, result.key))
    # and Brandboom holds one product per style (combine) or per colour (split)
    assert [p["options"] for p in held(brandboom_sandbox, "U-1")] == uniform
    assert [p["options"] for p in held(brandboom_sandbox, "P-1")] == priced
    # and each SKU carries its colour's price whichever way it is grouped
    red = {
        sku: tiers[str(USD)]["price"] for p in held(brandboom_sandbox, "P-1") for sku, tiers in sku_prices(p).items()
    }
    assert red == {"P-1-BLK-S": 20, "P-1-BLK-M": 20, "P-1-RED-S": 24, "P-1-RED-M": 24}
    # and the import modes sent are the ones the setting asks for
    assert [i["mode"] for i in brandboom_sandbox.imports()] == {
        "combine": ["combine"],
        "split": ["split"],
        "auto": ["combine", "split"],
    }[mode]


def test_a_combined_product_with_dearer_colour_shows_a_price_range(
    brandboom_sandbox: BrandboomSandbox, pusher: Any
) -> None:
    pusher(catalog_mode="combine").send_styles([style("P-2", own={"RED": "24.00"})], full=False)
    (product,) = held(brandboom_sandbox, "P-2")
    assert product["prices"][str(USD)]["price"] == 20 and product["prices"][str(USD)]["priceRange"] == [20, 24]


def test_a_style_whose_colours_come_apart_is_split_and_the_brands_edits_follow(
    brandboom_sandbox: BrandboomSandbox, pusher: Any
) -> None:
    # Given a style pushed combined, and a description the brand wrote on Brandboom
    push = pusher(catalog_mode="auto")
    push.send_styles([style("M-1")], full=False)
    (combined,) = held(brandboom_sandbox, "M-1")
    brandboom_sandbox.edit_product(combined["id"], {"description": {"description": "Our words"}})
    # when the red colour gets a price of its own in the ERP and the style is pushed again
    push.send_styles([style("M-1", own={"RED": "26.00"})], full=False)
    # then Brandboom holds it split by colour, each product with the brand's description
    products = held(brandboom_sandbox, "M-1")
    assert [p["options"] for p in products] == [["BLK"], ["RED"]] and products[0]["id"] == combined["id"]
    assert [p["description"]["description"] for p in products] == ["Our words", "Our words"]
    assert [p["prices"][str(USD)]["price"] for p in products] == [20, 26]


# --- columns and prices -------------------------------------------------------------------------
def test_rows_carry_only_bobbins_columns_and_prices_per_tier(brandboom_sandbox: BrandboomSandbox, pusher: Any) -> None:
    pusher(catalog_mode="combine").send_styles([style("C-1", sizes=("S", "M", "L"))], full=False)
    (sent,) = brandboom_sandbox.imports()
    # the rows sent: one per SKU, colour by colour in size order, only the columns Bobbin owns
    assert [(r["optionCode"], r["size"]) for r in sent["rows"]] == [
        (o, s) for o in ("BLK", "RED") for s in ("S", "M", "L")
    ]
    assert list(sent["rows"][0]) == [
        "styleNumber",
        "optionCode",
        "optionName",
        "size",
        "skuNumber",
        "UPC",
        "name",
        "season",
        "category",
        f"price:{USD}",
        f"MSRP:{USD}",
        f"price:{EUR}",
    ]
    # and Brandboom holds them: names, season, category, UPCs, prices per tier (MSRP the retail)
    (product,) = held(brandboom_sandbox, "C-1")
    assert product["referenceName"] == product["description"]["name"] == "Style C-1"
    assert product["description"]["season"] == ["Fall 2026"] and product["category"] == ["Tops"]
    assert product["description"]["optionsTranslation"] == {"BLK": "Blk colour", "RED": "Red colour"}
    assert all(s["UPC"] for s in product["skus"]) and product["sizes"] == ["S", "M", "L"]
    usd, eur = product["prices"][str(USD)], product["prices"][str(EUR)]
    assert (usd["price"], usd["MSRP"], usd["currency"]) == (20, 44, "USD")
    assert (eur["price"], eur["MSRP"], eur["currency"]) == (18.4, None, "EUR")
    # and a products/search in a tier answers that tier's price
    found = push_search(brandboom_sandbox, styleNumbers="C-1", priceTierID=EUR)
    assert found[0]["price"]["priceTierID"] == EUR and found[0]["price"]["price"] == 18.4


def push_search(sandbox: BrandboomSandbox, **params: Any) -> list[dict[str, Any]]:
    with BrandboomClient(sandbox.url, PUBLIC_KEY, SECRET_KEY) as client:
        found: list[dict[str, Any]] = client.search_products(**params)
        return found


def test_a_brands_own_columns_survive_a_push(brandboom_sandbox: BrandboomSandbox, pusher: Any) -> None:
    # Given a style on Brandboom, and the brand's own columns imported on top of it
    push = pusher(catalog_mode="combine")
    push.send_styles([style("E-1")], full=False)
    push.client.import_products(
        "combine",
        [
            {
                "styleNumber": "E-1",
                "optionCode": "BLK",
                "size": "S",
                "description": "Hand-written",
                "types": "Womens,Mens",
                "minQTY": 6,
                "name": "Brand's name",
            }
        ],
    )
    # when the ERP's style is pushed again (a full push, every row processed)
    push.send_styles([style("E-1", description="ERP name")], full=True)
    # then the columns Bobbin owns are the ERP's, and the brand's own are as the brand left them
    (product,) = held(brandboom_sandbox, "E-1")
    assert product["referenceName"] == "ERP name"
    assert product["description"]["description"] == "Hand-written"
    assert (product["types"], product["minQTY"]) == (["Womens", "Mens"], 6)
    # and the seeded product the push did not name is untouched
    assert held(brandboom_sandbox, "MKD1233")[0]["referenceName"] == "Linen Shirt"


def test_bypass_diff_only_on_a_full_push(brandboom_sandbox: BrandboomSandbox, pusher: Any) -> None:
    push = pusher(catalog_mode="combine")
    first = style("D-1")
    push.send_styles([first], full=False)
    (product,) = held(brandboom_sandbox, "D-1")
    # Given the brand renaming the product on Brandboom's pages
    brandboom_sandbox.edit_product(product["id"], {"referenceName": "Renamed by hand"})
    # when the same rows are pushed again incrementally: Brandboom skips them, unchanged since
    # its last import, and the style is held as sent
    again = push.send_styles([first], full=False)
    assert [(r.outcome, r.partner_id) for r in again] == [(ACCEPTED, str(product["id"]))]
    incremental = brandboom_sandbox.imports()[-1]
    assert incremental["bypassDiff"] is False and incremental["summary"]["numSkipped"] == 4
    assert held(brandboom_sandbox, "D-1")[0]["referenceName"] == "Renamed by hand"
    # when pushed in full: every row processed, the ERP's name restored
    push.send_styles([first], full=True)
    full = brandboom_sandbox.imports()[-1]
    assert full["bypassDiff"] is True and full["summary"]["numProcessed"] == 4
    assert held(brandboom_sandbox, "D-1")[0]["referenceName"] == "Style D-1"


def test_a_batch_is_sent_in_bounded_imports_a_style_never_split(
    brandboom_sandbox: BrandboomSandbox, pusher: Any
) -> None:
    push = pusher(catalog_mode="combine")
    push.max_rows = 5
    batch = [style(f"B-{n}") for n in range(4)] + [style("B-BIG", sizes=("XS", "S", "M", "L"))]
    results = push.send_styles(batch, full=False)
    assert [r.outcome for r in results] == [ACCEPTED] * 5
    sizes = [len(i["rows"]) for i in brandboom_sandbox.imports()]
    assert sizes == [4, 4, 4, 4, 8]  # 4-row styles one per import; the 8-row style alone
    assert {r["styleNumber"] for i in brandboom_sandbox.imports() for r in i["rows"]} == {s.number for s in batch}


# --- refused rows --------------------------------------------------------------------------------
def test_refused_rows_make_their_style_rejected_with_brandbooms_words(
    brandboom_sandbox: BrandboomSandbox, pusher: Any
) -> None:
    # Given a style priced in a tier Brandboom has not got, and one with a colour without a code
    push = pusher(catalog_mode="combine", price_tiers={**TIERS, "OUT": 9999})
    fine = style("R-1")
    unknown_tier = style("R-2", extra=(Price("OUT", "USD", Decimal("9.00")),))
    no_code = style("R-3", colors=("BLK", ""))
    # when they are pushed together
    results = {r.key: r for r in push.send_styles([fine, unknown_tier, no_code], full=False)}
    # then each is answered: the fine one taken, the others rejected in Brandboom's words
    assert results["R-1"].outcome == ACCEPTED
    assert results["R-2"].outcome == REJECTED and results["R-2"].message is not None
    assert (
        "4 of 4 rows of style R-2" in results["R-2"].message and "Unknown price tier '9999'" in results["R-2"].message
    )
    assert results["R-3"].outcome == REJECTED and results["R-3"].message is not None
    assert results["R-3"].message.startswith("Brandboom refused 2 of 4 rows of style R-3 (SKU R-3--S, R-3--M): ")
    assert "optionCode missing: a new SKU needs styleNumber, optionCode and size" in results["R-3"].message
    # and Brandboom took nothing of a refused row, the rest of the batch went through
    assert held(brandboom_sandbox, "R-2") == [] and len(held(brandboom_sandbox, "R-1")) == 1
    assert [p["options"] for p in held(brandboom_sandbox, "R-3")] == [["BLK"]]
    # and a refused row sent again (the tier fixed on Brandboom's side) is processed, not skipped
    again = push.send_styles([no_code], full=False)
    assert again[0].outcome == REJECTED and brandboom_sandbox.imports()[-1]["summary"]["numSkipped"] == 2


def test_an_import_with_every_row_refused_is_an_error_envelope_still_answered_per_style(
    brandboom_sandbox: BrandboomSandbox, pusher: Any
) -> None:
    rows = [{"styleNumber": "W-1", "optionCode": "BLK", "size": "S", "price:9999": "5"}, {"UPC": "1"}]
    response = requests.post(
        f"{brandboom_sandbox.url}/products/import", json={"mode": "combine", "data": rows}, headers=signed(), timeout=5
    )
    body = response.json()
    assert (response.status_code, body["status"], body["method"]) == (200, "error", "import")
    assert [e["row"] for e in body["value"]["errors"]] == [0, 1] and "Unknown price tier" in str(body["value"])
    # and the pusher, told so, answers the style in Brandboom's words
    push = pusher(price_tiers={**TIERS, "OUT": 9999})
    (result,) = push.send_styles([style("W-2", extra=(Price("OUT", "USD", Decimal("1")),))], full=False)
    assert (
        result.outcome == REJECTED
        and "4 of 4 rows of style W-2 (SKU W-2-BLK-S, W-2-BLK-M, W-2-RED-S, W-2-RED-M): Unknown price tier '9999'"
        in (result.message or "")
    )


def test_check_names_the_style_and_what_to_do(pusher: Any) -> None:
    push = pusher(price_tiers={"WHL": USD, "MSRP": "none"})
    # a SKU without a UPC is fine: Brandboom keys by style, option and size, or skuNumber
    assert push.check(style("K-1", upc=False, extra=())) == [
        "style K-1: price type WHLE has no Brandboom price tier: "
        "`bobbin sites set SITE price_tiers=WHL:1548,MSRP:none,WHLE:<tier id>` (the tier ids are in the "
        "showroom settings on Brandboom; WHLE:none leaves WHLE out)"
    ]
    empty = CatalogStyle("K-2", "Empty", None, None, None, True, (), (CatalogColor("BLK", "Black", (), ()),))
    (problem,) = push.check(empty)
    assert problem.startswith("style K-2 has no SKUs in the ERP") and "add its colours and sizes" in problem
    assert pusher().check(style("K-3")) == []


def test_settings_refuse_a_tier_that_is_not_a_number() -> None:
    with pytest.raises(SettingsError, match="WHL: 'gold' is not a Brandboom priceTierID"):
        validate_settings(BrandboomSettings, {"price_tiers": {"WHL": "gold"}}, "Brandboom")
    with pytest.raises(SettingsError, match="catalog_mode"):
        validate_settings(BrandboomSettings, {"catalog_mode": "sideways"}, "Brandboom")
    assert settings(price_tiers={"WHL": "1548", "MSRP": "none"}).price_tiers == {"WHL": 1548, "MSRP": None}


# --- removal -------------------------------------------------------------------------------------
def test_inactive_styles_are_deleted_or_suspended_as_the_site_says(
    brandboom_sandbox: BrandboomSandbox, pusher: Any
) -> None:
    pusher(catalog_mode="split").send_styles([style("X-1"), style("X-2")], full=False)
    # deactivate: every product of the style suspended (status 1), still listed
    (suspended,) = pusher(catalog_inactive="deactivate").remove_styles([style("X-1")])
    ids = [str(p["id"]) for p in held(brandboom_sandbox, "X-1")]
    assert (suspended.outcome, suspended.partner_id) == (REMOVED, ",".join(ids))
    assert [p["status"] for p in held(brandboom_sandbox, "X-1")] == [c.PRODUCT_SUSPENDED] * 2
    # remove: DELETE products/{id}, no longer listed; a style Brandboom never had is removed already
    removed = pusher(catalog_inactive="remove").remove_styles([style("X-2"), style("NEVER")])
    assert [(r.key, r.outcome) for r in removed] == [("X-2", REMOVED), ("NEVER", REMOVED)]
    assert held(brandboom_sandbox, "X-2") == []
    assert [p["status"] for p in brandboom_sandbox.catalog() if p["styleNumber"] == "X-2"] == [c.PRODUCT_DELETED] * 2
    assert "X-2" not in {p.style_number for p in pusher().existing()}
    # keep: nothing sent
    before = len(brandboom_sandbox.imports()), brandboom_sandbox.faults.requests
    (kept,) = pusher(catalog_inactive="keep").remove_styles([style("X-1")])
    assert kept.outcome == ACCEPTED and "kept on Brandboom" in (kept.message or "")
    assert (len(brandboom_sandbox.imports()), brandboom_sandbox.faults.requests) == before


# --- matching ------------------------------------------------------------------------------------
def test_existing_lists_brandbooms_products_by_style_number(brandboom_sandbox: BrandboomSandbox, pusher: Any) -> None:
    pusher(catalog_mode="split").send_styles([style("S-1")], full=False)
    found = {p.style_number: p for p in pusher(brand_id=34).existing()}
    assert set(found) == {"MKD1233", "GrayTank", "DNM-STRT", "S-1"}
    assert found["MKD1233"].partner_id == "501" and found["MKD1233"].name == "Linen Shirt"
    assert found["S-1"].partner_id == ",".join(str(p["id"]) for p in held(brandboom_sandbox, "S-1"))
    assert set(found["S-1"].upcs) == set(style("S-1").upcs)
    assert list(pusher(brand_id=999).existing()) == []


def test_existing_pages_past_300_products(brandboom_sandbox: BrandboomSandbox, pusher: Any) -> None:
    many = [style(f"N{n:03d}", colors=("BLK",), sizes=("OS",)) for n in range(310)]
    assert {r.outcome for r in pusher(catalog_mode="combine").send_styles(many, full=False)} == {ACCEPTED}
    seen = [p.style_number for p in pusher().existing()]
    assert len(seen) == 313 and len(set(seen)) == 313


def test_a_product_made_by_hand_is_matched_not_made_twice(brandboom_sandbox: BrandboomSandbox, pusher: Any) -> None:
    # Given a product the brand made on Brandboom without SKU numbers
    push = pusher(catalog_mode="combine")
    push.client.import_products(
        "combine", [{"styleNumber": "H-1", "optionCode": o, "size": "S"} for o in ("BLK", "RED")]
    )
    (by_hand,) = held(brandboom_sandbox, "H-1")
    # when the ERP's style of that number is pushed
    push.send_styles([style("H-1", sizes=("S",))], full=False)
    # then its SKUs are found by style, option and size and given the ERP's SKU numbers
    (product,) = held(brandboom_sandbox, "H-1")
    assert product["id"] == by_hand["id"] and [s["skuNumber"] for s in product["skus"]] == ["H-1-BLK-S", "H-1-RED-S"]


def test_a_style_matched_to_a_product_under_another_number_updates_that_product(
    brandboom_sandbox: BrandboomSandbox, pusher: Any
) -> None:
    # Given a product the brand made on Brandboom under its own style number and option code,
    # with the ERP's UPCs
    erp = style("HPT101", colors=("GRY",), sizes=("S", "M"))
    upcs = [s.upc for s in erp.colors[0].skus]
    push = pusher(catalog_mode="combine")
    push.client.import_products(
        "combine",
        [
            {"styleNumber": "HP-T101", "optionCode": "GREY", "size": size, "UPC": upc}
            for size, upc in zip(("S", "M"), upcs, strict=True)
        ],
    )
    (by_hand,) = held(brandboom_sandbox, "HP-T101")
    # and the catalog service matching it by UPC (the style's partner_id is that product)
    (listed,) = [p for p in push.existing() if p.style_number == "HP-T101"]
    assert set(listed.upcs) == set(upcs)
    # when the style is pushed
    (result,) = push.send_styles([dataclasses.replace(erp, partner_id=listed.partner_id)], full=False)
    # then the brand's product is updated under its own keys, and no second product is made
    assert (result.outcome, result.partner_id) == (ACCEPTED, str(by_hand["id"]))
    assert held(brandboom_sandbox, "HPT101") == []
    (product,) = held(brandboom_sandbox, "HP-T101")
    assert [(s["option"], s["size"], s["skuNumber"]) for s in product["skus"]] == [
        ("GREY", "S", "HPT101-GRY-S"),
        ("GREY", "M", "HPT101-GRY-M"),
    ]
    assert product["prices"][str(USD)]["price"] == 20 and product["referenceName"] == "Style HPT101"
    # and a mapping to the Brandboom style number (bobbin map style) finds the same product
    again = push.send_styles([dataclasses.replace(erp, partner_id="HP-T101")], full=True)
    assert again[0].partner_id == str(by_hand["id"]) and held(brandboom_sandbox, "HPT101") == []
    # and made inactive in the ERP, it is that product that is removed
    (removed,) = pusher(catalog_inactive="remove").remove_styles(
        [dataclasses.replace(erp, partner_id=again[0].partner_id)]
    )
    assert (removed.outcome, removed.partner_id) == (REMOVED, str(by_hand["id"]))
    assert held(brandboom_sandbox, "HP-T101") == []


# --- customers -----------------------------------------------------------------------------------
def customer(code: str, name: str = "Shop", *, same_address: bool = False) -> CatalogCustomer:
    """An ERP customer with a billing and a shipping address (the same place when ``same_address``)."""
    bill = CustomerAddress("billing", name, "1 Main St", None, "Boston", "MA", "02110", "US")
    ship = (
        dataclasses.replace(bill, kind="shipping")
        if same_address
        else CustomerAddress("shipping", name, "9 Dock Rd", "Unit 4", "Salem", "MA", "01970", "US")
    )
    return CatalogCustomer(
        code, name, f"{code.lower()}@shop.example", "555-0101", "N30", "UPSG", "KM", "WHSL", (bill, ship)
    )


@pytest.fixture
def customers(make_brandboom_client: ClientFactory) -> Iterator[BrandboomCustomerPusher]:
    made = SPEC.capability("customers").open(make_brandboom_client(), settings())
    assert isinstance(made, BrandboomCustomerPusher)
    yield made
    made.close()


def test_customers_are_created_or_updated_by_code_and_read_back(
    brandboom_sandbox: BrandboomSandbox, customers: BrandboomCustomerPusher
) -> None:
    # Given C1001 already on Brandboom (seeded), a new customer, and one without a name
    results = customers.send(
        [customer("C1001", "Harbor Outfitters Inc"), customer("C2002", same_address=True), customer("C3003", "")]
    )
    # then each is answered at once
    assert [(r.key, r.outcome) for r in results] == [("C1001", ACCEPTED), ("C2002", ACCEPTED), ("C3003", REJECTED)]
    assert results[0].partner_id == "7001" and "Customer name is required" in (results[2].message or "")
    # and Brandboom holds the updated one and the new one, with the template's address types
    held_customers = {x["code"]: x for x in brandboom_sandbox.customers()}
    assert set(held_customers) == {"C1001", "C2002"}
    assert held_customers["C1001"]["name"] == "Harbor Outfitters Inc"
    assert [a["type"] for a in held_customers["C1001"]["addresses"]] == ["B", "S"]
    assert [(a["type"], a["address1"]) for a in held_customers["C2002"]["addresses"]] == [("", "1 Main St")]
    assert str(held_customers["C2002"]["id"]) == results[1].partner_id
    # and sending them again updates them; nothing is made twice
    again = customers.send([customer("C2002", "Renamed Shop")])
    assert again[0].partner_id == results[1].partner_id
    assert [x["code"] for x in brandboom_sandbox.customers()].count("C2002") == 1
    assert customers.poll(["anything"]) == []


def test_customer_fields_leave_out_the_erps_codes() -> None:
    fields = customer_fields(customer("C9"))
    assert set(fields) == {"code", "name", "email", "phone", "addresses"}
    assert [a["type"] for a in fields["addresses"]] == ["B", "S"]


# --- faults --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["products/import", "products/search"])
def test_a_partner_down_is_a_retryable_error(brandboom_sandbox: BrandboomSandbox, pusher: Any, path: str) -> None:
    brandboom_sandbox.inject_fault(503, path=path, count=3)  # every attempt of the client's three
    push = pusher(catalog_inactive="remove")
    with pytest.raises(RetryableError):
        if path == "products/import":
            push.send_styles([style("F-1")], full=False)
        else:
            push.remove_styles([style("F-1")])
    assert brandboom_sandbox.faults.stats() == {"503": 3}


def test_customer_faults(brandboom_sandbox: BrandboomSandbox, customers: BrandboomCustomerPusher) -> None:
    brandboom_sandbox.inject_fault(502, path="customers", count=3)
    with pytest.raises(RetryableError):
        customers.send([customer("C5")])
    brandboom_sandbox.inject_fault(auth=True, path="customers")
    with pytest.raises(AuthError):
        customers.send([customer("C5")])
    assert customers.send([customer("C5")])[0].outcome == ACCEPTED


def test_a_truncated_import_answer_is_retried_safely(brandboom_sandbox: BrandboomSandbox, pusher: Any) -> None:
    # the import was applied and its answer lost: sent again (absolute values), taken once
    brandboom_sandbox.inject_fault(truncate=True, path="products/import")
    results = pusher(catalog_mode="combine").send_styles([style("T-1")], full=False)
    assert results[0].outcome == ACCEPTED and len(held(brandboom_sandbox, "T-1")) == 1
    assert len(held(brandboom_sandbox, "T-1")[0]["skus"]) == 4


# --- the sandbox's side over plain HTTP -------------------------------------------------------------
def test_sandbox_customer_api_envelopes(
    brandboom_sandbox: BrandboomSandbox, make_brandboom_client: ClientFactory
) -> None:
    client = make_brandboom_client()
    made = client.create_customer({"code": "Z1", "name": "Zed", "addresses": [{"type": "s", "address1": "x"}]})
    assert made["addresses"][0]["type"] == "S" and made["dateCreated"]
    for bad, words in (
        ({"code": "Z1", "name": "Again"}, "already exists"),
        ({"code": "Z2", "name": "Z", "addresses": [{"type": "X"}]}, "expected B (billing), S (shipping) or blank"),
    ):
        response = requests.put(f"{brandboom_sandbox.url}/customers", json=bad, headers=signed(), timeout=5)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "error" and words in body["value"]
    assert [x["code"] for page in client.iter_customers(page_size=1) for x in page] == ["C1001", "Z1"]
    assert [x["code"] for x in client.search_customers(date_modified="2025-01-01")] == ["Z1"]


def signed() -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        c.HEADER_KEY: PUBLIC_KEY,
        c.HEADER_TIMESTAMP: ts,
        c.HEADER_SIGNATURE: c.signature(PUBLIC_KEY, SECRET_KEY, ts),
    }


def test_sandbox_control_endpoints_show_the_catalog(brandboom_sandbox: BrandboomSandbox) -> None:
    base = brandboom_sandbox.control_url
    products = requests.get(f"{base}/products", timeout=5).json()
    assert [p["styleNumber"] for p in products] == ["MKD1233", "GrayTank", "DNM-STRT"]
    assert products[0]["prices"][str(USD)]["price"] == 48
    assert [x["code"] for x in requests.get(f"{base}/customers", timeout=5).json()] == ["C1001"]
    edited = requests.post(f"{base}/brand-edit", json={"id": 502, "changes": {"minQTY": 3}}, timeout=5)
    assert edited.json()["minQTY"] == 3
    assert requests.post(f"{base}/brand-edit", json={"id": 9, "changes": {}}, timeout=5).status_code == 404


# --- the contract -------------------------------------------------------------------------------
def test_every_column_and_field_sent_is_one_the_sandbox_tables_know(pusher: Any) -> None:
    """The sandbox's own tables (copied from the document) name every column the pusher sends."""
    t = sandbox_api
    known = {
        t.ROW_STYLE_NUMBER,
        t.ROW_OPTION_CODE,
        t.ROW_OPTION_NAME,
        t.ROW_SIZE,
        t.ROW_SKU_NUMBER,
        t.ROW_UPC,
        *t.PRODUCT_COLUMNS,
    }
    tiers = {t.ROW_PRICE.format(tier=USD), t.ROW_MSRP.format(tier=USD), t.ROW_PRICE.format(tier=EUR)}
    columns = {k for row in pusher().rows(style("Q-1", own={"RED": "22.00"})) for k in row}
    assert columns == (known - {t.ROW_DESCRIPTION, t.ROW_TYPES, t.ROW_MIN_QTY}) | tiers
    fields = customer_fields(customer("Q"))
    assert set(fields) <= {v for k, v in vars(t.CustomerField).items() if k.isupper()}
    assert {k for a in fields["addresses"] for k in a} <= {v for k, v in vars(t.AddressField).items() if k.isupper()}
    assert {a["type"] for a in fields["addresses"]} <= set(t.ADDRESS_TYPES)
    # and the capability as the spec declares it
    catalog = SPEC.capability("catalog")
    assert (catalog.images, catalog.linesheets, catalog.removal) == (False, False, ("remove", "deactivate"))
    assert catalog.batch_styles * 24 <= 5000  # a batch of 4 colours x 6 sizes fits one import
    assert SPEC.capability("customers").asynchronous is False
