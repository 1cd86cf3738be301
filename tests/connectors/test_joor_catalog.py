"""JOOR's catalog and customer pushers against the JOOR sandbox, over real HTTP on 127.0.0.1.

Styles are built by hand as the catalog service would hand them over (connectors.catalog); what
JOOR then holds is read back from the sandbox's control side."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest

from connectors.catalog import (
    ACCEPTED,
    AWAITING,
    REJECTED,
    REMOVED,
    CatalogColor,
    CatalogCustomer,
    CatalogSku,
    CatalogStyle,
    CustomerAddress,
    Image,
    Linesheet,
    Price,
)
from connectors.errors import RetryableError
from connectors.http import HttpPolicy
from connectors.joor import SPEC as JOOR_SPEC
from connectors.joor import contract
from connectors.joor.catalog import AWAITING_JOOR, JoorCatalogPusher
from connectors.joor.client import JoorClient
from connectors.joor.settings import JoorSettings
from connectors.settings import SettingsError, validate_settings
from sandbox.joor.server import JoorSandbox

TOKEN = "joor-catalog-token"
# longest_sleep: no limit, so the credit budget's waits are slept (on the fake clock) as a person's
# command would; a worker's task pauses instead (tests/connectors/test_joor_client.py, worker.base).
FAST_POLICY = HttpPolicy(
    connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=600.0, longest_sleep=math.inf
)
COLOR, SIZE = "U0tVVHJhaXQ6U3R5bGVDb2xvcg==", "U0tVVHJhaXQ6U2l6ZQ=="  # from JOOR's create-skus page
SITE = {"price_types": {"USD": "WHL", "EUR": "WHLE"}}  # the site's order currencies -> ERP price types
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1500


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sandbox(fake_time: FakeTime) -> Iterator[JoorSandbox]:
    sb = JoorSandbox(token=TOKEN, clock=fake_time.clock).start()
    yield sb
    sb.stop()


Factory = Callable[..., Any]


@pytest.fixture
def make(sandbox: JoorSandbox, fake_time: FakeTime) -> Iterator[Factory]:
    """make(kind="catalog"|"customers", credits=..., **settings) -> a pusher on a new client."""
    opened: list[Any] = []

    def build(kind: Literal["catalog", "customers"] = "catalog", credits: int = 300, **settings: Any) -> Any:
        client = JoorClient(
            sandbox.url, TOKEN, policy=FAST_POLICY, clock=fake_time.clock, sleep=fake_time.sleep, credits=credits
        )
        pusher_settings = JoorSettings.model_validate({**SITE, **settings})
        pusher = JOOR_SPEC.opener(kind)(client, pusher_settings)
        opened.append(pusher)
        return pusher

    yield build
    for pusher in opened:
        pusher.close()


def style(
    number: str,
    colors: tuple[tuple[str, str], ...] = (("BLK", "Black"), ("NVY", "Navy")),
    sizes: tuple[str, ...] = ("S", "M", "L"),
    *,
    whl: str = "40.00",
    description: str | None = None,
    partner_id: str | None = None,
    own: dict[str, str] | None = None,
    upc_base: int = 100,
) -> CatalogStyle:
    """A style as the ERP holds it: USD wholesale (with retail), EUR wholesale, an MSRP list the
    site does not sell in; ``own``: a colour's own USD wholesale."""
    prices = (
        Price("WHL", "USD", Decimal(whl), Decimal("90.00")),
        Price("WHLE", "EUR", Decimal("37.00"), Decimal("85.00")),
        Price("MSRP", "USD", Decimal("90.00")),
    )
    built = []
    for ci, (code, name) in enumerate(colors):
        skus = tuple(
            CatalogSku(f"{number}-{code}-{size}", size, si, f"{upc_base + ci * 10 + si:012d}")
            for si, size in enumerate(sizes)
        )
        mine = prices
        if own and code in own:
            mine = (Price("WHL", "USD", Decimal(own[code]), Decimal("95.00")), *prices[1:])
        built.append(CatalogColor(code, name, skus, mine, own_prices=mine != prices))
    return CatalogStyle(
        number, description or f"Style {number}", "FA26", "Tops", "WHSL", True, prices, tuple(built), partner_id
    )


def products(sandbox: JoorSandbox, identifier: str | None = None) -> list[dict[str, Any]]:
    found = sandbox.products()
    return [p for p in found if identifier is None or p["product_identifier"] == identifier]


def prices_of(product: dict[str, Any]) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    """(SKU external id, price type name, currency) -> (wholesale, retail)."""
    return {
        (sku["external_id"], p["price_type"]["name"], p["price_type"]["currency_code"]): (
            p["wholesale_value"],
            p["retail_value"],
        )
        for sku in product["skus"]
        for p in sku["prices"]
    }


def image_calls(sandbox: JoorSandbox) -> list[dict[str, Any]]:
    return [call for call in sandbox.calls() if call["path"].endswith("/image/")]


# --- styles, SKUs, prices ------------------------------------------------------------------------
def test_a_style_is_created_then_updated_by_external_id_without_duplicates(make: Factory, sandbox: JoorSandbox) -> None:
    pusher = make()
    ts = style("TS100")
    assert pusher.check(ts) == []
    (first,) = pusher.send_styles([ts], full=True)
    assert first.outcome == ACCEPTED and first.partner_id
    (product,) = products(sandbox, "TS100")
    assert (product["id"], product["external_id"], product["name"]) == (first.partner_id, "TS100", "Style TS100")
    # every colour × size, the documented trait ids, the ERP SKU id as external_id, the UPC
    skus = {s["external_id"]: s for s in product["skus"]}
    assert len(skus) == 6
    blk_m = skus["TS100-BLK-M"]
    assert [(t["trait"]["id"], t["value"], t["external_id"], t["status"]) for t in blk_m["trait_values"]] == [
        (COLOR, "Black", "BLK", "ACTIVE"),
        (SIZE, "M", "M", "ACTIVE"),
    ]
    assert blk_m["identifiers"] == [{"type": "upc", "value": "000000000101"}]
    # a price per SKU and price type the site sells in (MSRP travels as the retail value)
    assert prices_of(product) == {
        **{(s, "US Dollars", "USD"): ("40.00", "90.00") for s in skus},
        **{(s, "Euro", "EUR"): ("37.00", "85.00") for s in skus},
    }

    # Pushed again as if the first answer had been lost (no partner id known): found by
    # external_id and updated, not made twice.
    changed = style("TS100", whl="42.50", description="Boxy tee")
    (again,) = pusher.send_styles([changed], full=False)
    assert again.outcome == ACCEPTED and again.partner_id == first.partner_id
    (product,) = products(sandbox, "TS100")
    assert product["name"] == "Boxy tee" and len(product["skus"]) == 6
    assert {v for k, v in prices_of(product).items() if k[1] == "US Dollars"} == {("42.50", "90.00")}
    assert len(prices_of(product)) == 12 and sum(len(s["prices"]) for s in product["skus"]) == 12
    # and with the partner id known, an unchanged style sends updates only
    (third,) = make().send_styles(
        [style("TS100", whl="42.50", description="Boxy tee", partner_id=first.partner_id)], full=False
    )
    assert third.outcome == ACCEPTED and len(products(sandbox, "TS100")) == 1


def test_a_hand_made_product_is_listed_matched_and_its_skus_kept(make: Factory, sandbox: JoorSandbox) -> None:
    pusher = make()
    listed = {p.style_number: p for p in pusher.existing()}
    assert set(listed) == {"LS100", "DN200"}  # the sandbox's hand-made styles
    ls = listed["LS100"]
    assert len(ls.upcs) == 4 and ls.partner_id
    before = {s["id"] for s in products(sandbox, "LS100")[0]["skus"]}
    # The ERP's LS100 has the same colours and sizes; matched by the service, sent with the id.
    erp = style("LS100", sizes=("S", "M"), partner_id=ls.partner_id)
    (done,) = pusher.send_styles([erp], full=True)
    assert done.outcome == ACCEPTED and done.partner_id == ls.partner_id
    (product,) = products(sandbox, "LS100")
    assert {s["id"] for s in product["skus"]} == before  # the same SKUs, now carrying the ERP's keys
    assert {s["external_id"] for s in product["skus"]} == {f"LS100-{c}-{z}" for c in ("BLK", "NVY") for z in ("S", "M")}


def test_a_colour_gone_from_the_erp_is_made_inactive_and_a_new_one_added(make: Factory, sandbox: JoorSandbox) -> None:
    pusher = make()
    (first,) = pusher.send_styles([style("TS300")], full=True)
    later = style("TS300", colors=(("BLK", "Black"), ("RED", "Red")), partner_id=first.partner_id, upc_base=500)
    (second,) = pusher.send_styles([later], full=False)
    assert second.outcome == ACCEPTED, second.message
    status = {
        (t["value"], t["status"])
        for s in products(sandbox, "TS300")[0]["skus"]
        for t in s["trait_values"]
        if t["trait"]["id"] == COLOR
    }
    assert status == {("Black", "ACTIVE"), ("Navy", "INACTIVE"), ("Red", "ACTIVE")}
    inventory_view = {(k["style_number"], k["color_code"], k["size"]) for k in sandbox._account(None).skus}
    assert ("TS300", "RED", "L") in inventory_view  # bulk-inventory finds the new SKUs too


def test_split_by_colour_makes_a_product_per_colour_with_its_own_prices(make: Factory, sandbox: JoorSandbox) -> None:
    pusher = make(split_by_color=True)
    (done,) = pusher.send_styles([style("TS400", own={"NVY": "44.00"})], full=True)
    assert done.outcome == ACCEPTED and done.partner_id and "," in done.partner_id
    blk, nvy = products(sandbox, "TS400-BLK")[0], products(sandbox, "TS400-NVY")[0]
    assert (blk["external_id"], nvy["external_id"]) == ("TS400::BLK", "TS400::NVY")
    assert {v[0] for k, v in prices_of(nvy).items() if k[1] == "US Dollars"} == {"44.00"}
    assert {v[0] for k, v in prices_of(blk).items() if k[1] == "US Dollars"} == {"40.00"}
    assert [p.style_number for p in pusher.existing()].count("TS400") == 1


def test_check_names_what_joor_cannot_take(make: Factory, sandbox: JoorSandbox) -> None:
    pusher = make()
    holes = style("TS500")
    ragged = CatalogStyle(
        "TS500",
        "Ragged",
        None,
        None,
        None,
        True,
        holes.prices,
        (holes.colors[0], CatalogColor("NVY", "Navy", holes.colors[1].skus[:2], holes.prices)),
    )
    assert pusher.check(ragged) == [
        "style TS500: colour NVY has no size L that other colours have; JOOR needs every colour × size: "
        "add the SKUs in the ERP (or set the site's split_by_color)"
    ]
    assert make(split_by_color=True).check(ragged) == []
    empty = CatalogStyle("TS501", "Empty", None, None, None, True, (), ())
    assert pusher.check(empty) == [
        "style TS501 has no SKUs: JOOR needs at least one colour and size; add them in the ERP"
    ]
    gbp = style("TS502")
    gbp = CatalogStyle(
        gbp.number, "GBP", None, None, None, True, (*gbp.prices, Price("WHLG", "GBP", Decimal("30"))), gbp.colors
    )
    assert pusher.check(gbp) == [
        "style TS502: price type WHLG (GBP) has no JOOR price type: create it in JOOR Order Settings or "
        "`bobbin sites set SITE price_types_joor=WHLG:<id>`"
    ]
    assert "which JOOR does not have" in make(price_types_joor={"WHLG": "9999"}).check(gbp)[0]
    gbp_type = sandbox.add_price_type("British Pounds", "GBP")  # made in JOOR's Order Settings
    assert make().check(gbp) == []  # the one GBP price type
    assert make(price_types_joor={"WHLG": gbp_type["id"]}).check(gbp) == []
    # a site that names no price type per currency: both USD lists go to the one USD price type
    both = make(price_types={}).check(style("TS503"))
    assert both == [
        "style TS503: price types MSRP (USD) and WHL (USD) would both go to JOOR price type 5001: "
        "set the site's price_types (currency -> ERP price type) or price_types_joor"
    ]


def test_remove_styles_deactivates_or_deletes_as_the_site_says(make: Factory, sandbox: JoorSandbox) -> None:
    pushed = {s.number: r.partner_id for s, r in zip(*_push(make(), "TS600", "TS601", "TS602"), strict=True)}
    kept = make().remove_styles([style("TS600", partner_id=pushed["TS600"])])
    assert kept[0].outcome == REJECTED and "catalog_inactive setting is 'keep'" in (kept[0].message or "")
    (off,) = make(catalog_inactive="deactivate").remove_styles([style("TS601", partner_id=pushed["TS601"])])
    assert off.outcome == REMOVED and "INACTIVE" in (off.message or "")
    statuses = {t["status"] for s in products(sandbox, "TS601")[0]["skus"] for t in s["trait_values"]}
    assert statuses == {"INACTIVE"}
    (gone,) = make(catalog_inactive="remove").remove_styles([style("TS602")])  # found by external_id
    assert gone.outcome == REMOVED and products(sandbox, "TS602") == [] and products(sandbox, "TS600")
    (again,) = make(catalog_inactive="remove").remove_styles([style("TS602")])
    assert again.outcome == REMOVED and again.message == "not on JOOR: nothing to remove"


def _push(pusher: JoorCatalogPusher, *numbers: str) -> tuple[list[CatalogStyle], list[Any]]:
    styles = [style(n, upc_base=1000 + 100 * i) for i, n in enumerate(numbers)]
    results = pusher.send_styles(styles, full=True)
    assert [r.outcome for r in results] == [ACCEPTED] * len(styles), [r.message for r in results]
    return styles, results


def test_the_credit_budget_paces_a_push_instead_of_collecting_429s(
    make: Factory, sandbox: JoorSandbox, fake_time: FakeTime
) -> None:
    pusher = make(credits=20)  # four writes a window
    _push(pusher, "TS700", "TS701")
    _push(pusher, "TS702")
    assert fake_time.sleeps and all(s > 0 for s in fake_time.sleeps)  # waited for the window
    assert sandbox.credits_used()["sandbox"]["throttled"] == 0


def test_a_failing_joor_is_a_retryable_error(make: Factory, sandbox: JoorSandbox) -> None:
    sandbox.inject_fault(503, count=3, path="/v4/products")
    with pytest.raises(RetryableError):
        make().send_styles([style("TS800")], full=True)
    (done,) = make().send_styles([style("TS800")], full=True)
    assert done.outcome == ACCEPTED and len(products(sandbox, "TS800")) == 1


# --- images -------------------------------------------------------------------------------------
def test_images_at_style_and_style_colour_level_with_the_swatch(
    make: Factory, sandbox: JoorSandbox, tmp_path: Path
) -> None:
    _push(make(), "TS900")
    (tmp_path / "front.jpg").write_bytes(JPEG)
    (tmp_path / "blk.png").write_bytes(PNG)
    folder = str(tmp_path)
    by_style = make(image_level="style").send_images(
        [
            Image("TS900", None, "style", 1, "front.jpg", folder),
            Image("TS900", "NVY", "style_color", 2, "blk.png", folder),
        ]
    )
    by_colour = make().send_images(
        [
            Image("TS900", "BLK", "style_color", 1, "blk.png", folder),
            Image("TS900", None, "style", 3, "https://img.example/ts900/back.png"),
        ]
    )
    assert [r.outcome for r in by_style + by_colour] == [ACCEPTED] * 4
    shown = sorted(
        (i["sent_filename"], i["display_order"], i["color_code"], i["swatch"], i["format"], i["bytes"], i["url"])
        for i in sandbox.images()
    )
    assert shown == [
        ("back.png", 3, None, False, "image/png", None, "https://img.example/ts900/back.png"),
        ("blk.png", 1, "BLK", False, "image/png", len(PNG), None),
        ("blk.png", 1, "BLK", True, "image/png", len(PNG), None),  # the first colour image is its swatch
        ("blk.png", 2, None, False, "image/png", len(PNG), None),  # style level: no colour
        ("front.jpg", 1, None, False, "image/jpeg", len(JPEG), None),
    ]
    assert all(i["filename"] != i["sent_filename"] for i in sandbox.images())  # JOOR appends its own string


def test_each_image_limit_is_refused_before_anything_is_sent(
    make: Factory, sandbox: JoorSandbox, tmp_path: Path
) -> None:
    _push(make(), "TS910")
    (tmp_path / "big.jpg").write_bytes(JPEG[:4] + b"\x00" * (4 * 1024 * 1024 + 1))
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    (tmp_path / "fake.png").write_bytes(JPEG)
    long_name = "x" * 66 + ".jpg"  # 70 characters
    (tmp_path / long_name).write_bytes(JPEG)
    (tmp_path / "second.jpg").write_bytes(JPEG)
    folder = str(tmp_path)
    images = [
        Image("TS910", None, "style", 1, "big.jpg", folder),
        Image("TS910", None, "style", 2, "anim.gif", folder),
        Image("TS910", None, "style", 3, long_name, folder),
        Image("TS910", None, "swatch", 1, "second.jpg", folder),
        Image("TS910", "BLK", "style_color", 2, "second.jpg", folder),
        Image("TS910", None, "style", 4, "missing.jpg", folder),
        Image("TS910", None, "style", 5, "fake.png", folder),
    ]
    results = make().send_images(images)
    assert [r.outcome for r in results] == [REJECTED] * len(images)
    said = [r.message or "" for r in results]
    assert "big.jpg is 4.0 MB, JOOR takes at most 4 MB" in said[0]
    assert "anim.gif is not a JPEG or PNG" in said[1]
    assert f"file name {long_name} is 70 characters, JOOR takes at most 69: rename it" in said[2]
    assert "a swatch needs its colour" in said[3]
    assert "JOOR keeps one image per style-colour" in said[4]
    assert "cannot be read" in said[5]
    assert "fake.png is not a PNG file inside" in said[6]
    assert image_calls(sandbox) == [] and sandbox.images() == []
    # what JOOR itself refuses comes back in its words: a colour the style does not have
    (refused,) = make().send_images([Image("TS910", "PNK", "style_color", 1, "second.jpg", folder)])
    assert refused.outcome == REJECTED and "has no color PNK" in (refused.message or "")
    assert len(image_calls(sandbox)) == 1


# --- linesheets ---------------------------------------------------------------------------------
def test_linesheets_through_deliveries_keep_a_hand_made_linesheet(make: Factory, sandbox: JoorSandbox) -> None:
    _push(make(), "TS950", "TS951")
    sandbox.add_manual_delivery("TS950", {"delivery_name": "Buyer Picks"})
    fall = Linesheet("Fall 2026 Wholesale", "FA26", date(2026, 7, 15), date(2026, 9, 30), ("TS950", "TS951"))
    pusher = make()  # delivery_overwrite 2 by default
    (done,) = pusher.send_linesheets([fall])
    assert done.outcome == ACCEPTED, done.message
    names = {k: {(d["delivery_name"], d["api_created"]) for d in v} for k, v in sandbox.deliveries().items()}
    assert names == {
        "TS950": {("Buyer Picks", False), ("Fall 2026 Wholesale", True)},
        "TS951": {("Fall 2026 Wholesale", True)},
    }
    fall_node = next(d for d in sandbox.deliveries()["TS951"])
    assert (fall_node["start_ship_date"], fall_node["complete_ship_date"], fall_node["season"]) == (
        "2026-07-15",
        "2026-09-30",
        "FA26",
    )
    assert len([c for c in sandbox.calls() if c["method"] == "PUT"]) == 2  # one PUT per style
    # a second batch of the same push keeps what the first one put on the style
    (resort,) = pusher.send_linesheets([Linesheet("Resort", None, None, None, ("TS950",))])
    assert resort.outcome == ACCEPTED
    assert {d["delivery_name"] for d in sandbox.deliveries()["TS950"]} == {
        "Buyer Picks",
        "Fall 2026 Wholesale",
        "Resort",
    }
    # TS950 leaves the Fall linesheet: it keeps the hand-made one and Resort; TS951 stays on Fall
    (again,) = make().send_linesheets([Linesheet("Fall 2026 Wholesale", "FA26", None, None, ("TS951",))])
    assert again.outcome == ACCEPTED
    names_only = {k: {d["delivery_name"] for d in v} for k, v in sandbox.deliveries().items()}
    assert names_only == {"TS950": {"Buyer Picks", "Resort"}, "TS951": {"Fall 2026 Wholesale"}}
    # add only (3): TS951 joins Resort, TS950 leaves it (mode 4 naming Resort alone); a style not
    # on JOOR is named, the others are still sent
    (partly,) = make(delivery_overwrite=3).send_linesheets([Linesheet("Resort", None, None, None, ("TS951", "NOPE1"))])
    assert partly.outcome == REJECTED
    assert partly.message == "linesheet Resort: style(s) NOPE1 are not on JOOR yet: push the catalog first"
    names_only = {k: {d["delivery_name"] for d in v} for k, v in sandbox.deliveries().items()}
    assert names_only == {"TS950": {"Buyer Picks"}, "TS951": {"Fall 2026 Wholesale", "Resort"}}


# --- customers ----------------------------------------------------------------------------------
def customer(code: str, name: str = "", rep: str | None = "KM") -> CatalogCustomer:
    home = CustomerAddress("billing", None, "1 Main St", None, "Portland", "ME", "04101", "US")
    return CatalogCustomer(
        code, name or f"Customer {code}", f"{code.lower()}@x.example", None, "N30", None, rep, "WHSL", (home,)
    )


def test_customers_go_as_a_job_polled_to_accepted_awaiting_or_rejected(make: Factory, sandbox: JoorSandbox) -> None:
    sandbox.job_polls = 2
    pusher = make("customers")
    sent = pusher.send(
        [customer("C1001", "Harbor Outfitters"), customer("C9001"), customer("C9002", rep="ZZ"), customer("C9003", " ")]
    )
    outcome = {r.key: (r.outcome, r.message) for r in sent}
    assert outcome["C9003"] == (
        REJECTED,
        "customer C9003 has no name: JOOR requires customer_name; add it in the ERP",
    )
    assert {k: o for k, (o, _) in outcome.items() if k != "C9003"} == dict.fromkeys(
        ("C1001", "C9001", "C9002"), AWAITING
    )
    (job,) = sandbox.bulk_jobs()
    records = {r["customer_code"]: r for r in job["records"]}
    assert set(records) == {"C1001", "C9001", "C9002"}  # nothing sent for the rejected one
    assert records["C9001"]["billing"]["billing_addresses"]["billing_address"][0]["billing_city"] == "Portland"
    tickets = [r.ticket for r in sent if r.ticket]
    assert pusher.poll(tickets) == []  # the job is still running: nothing settled
    settled = {r.key: r for r in pusher.poll(tickets)}
    assert (settled["C1001"].outcome, settled["C1001"].partner_id) == (ACCEPTED, "501")
    assert (settled["C9001"].outcome, settled["C9001"].message) == (AWAITING, AWAITING_JOOR)
    assert settled["C9002"].outcome == REJECTED and "Unknown sales_rep_code ZZ" in (settled["C9002"].message or "")
    # JOOR Data Services match the new customer: the next poll accepts it
    sandbox.approve_connections(["C9001"])
    (later,) = pusher.poll([settled["C9001"].ticket or ""])
    assert later.outcome == ACCEPTED and later.partner_id


def test_a_failing_bulk_connection_is_a_retryable_error(make: Factory, sandbox: JoorSandbox) -> None:
    sandbox.inject_fault(500, count=3, path="/v2/bulk-connection")
    with pytest.raises(RetryableError):
        make("customers").send([customer("C9100")])
    assert sandbox.bulk_jobs() == []


# --- the contract -------------------------------------------------------------------------------
def test_the_spec_offers_the_catalog_and_asynchronous_customers() -> None:
    assert JOOR_SPEC.offers("catalog") and JOOR_SPEC.offers("customers")
    push = JOOR_SPEC.capability("catalog")
    assert (push.images, push.linesheets, push.removal, push.batch_images) == (True, True, ("deactivate", "remove"), 1)
    assert JOOR_SPEC.capability("customers").asynchronous
    assert contract.TRAIT_COLOR == COLOR and contract.TRAIT_SIZE == SIZE


def test_catalog_settings_are_validated_in_words() -> None:
    settings = validate_settings(JoorSettings, {}, "JOOR")
    assert isinstance(settings, JoorSettings)
    assert (settings.image_level, settings.delivery_overwrite, settings.split_by_color) == ("style_color", 2, False)
    with pytest.raises(SettingsError, match="4 \\(remove\\) would take every style off"):
        validate_settings(JoorSettings, {"delivery_overwrite": 4}, "JOOR")
    with pytest.raises(SettingsError, match="image_level"):
        validate_settings(JoorSettings, {"image_level": "swatch"}, "JOOR")
