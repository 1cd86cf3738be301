"""The demo world: deterministic, internally consistent, and broken exactly where it says."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from bobbin import demo


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world()


def test_same_seed_same_world_other_seed_other_world(world: demo.DemoWorld) -> None:
    assert demo.build_world(seed=7) == world
    assert demo.brandboom_seed(demo.build_world(seed=7)) == demo.brandboom_seed(world)
    assert demo.build_world(seed=8).skus != world.skus


def test_default_scale_is_realistic(world: demo.DemoWorld) -> None:
    assert len(world.styles) == 40 and len(world.customers) == 30
    assert 4 <= len(world.sales_reps) <= 6
    assert {t["code"] for t in world.terms} >= {"N30", "N60", "COD", "CC", "PREPAY"}
    assert {p["code"]: p["currency"] for p in world.price_types} == {"WHL": "USD", "MSRP": "USD", "WHLE": "EUR"}
    assert {s["season"] for s in world.styles} == {"FA26", "SP27"}
    sizes_by_category: dict[str, set[str]] = {}
    style_cat = {s["number"]: s["category"] for s in world.styles}
    for k in world.skus:
        sizes_by_category.setdefault(style_cat[k["style_number"]], set()).add(k["size"])
    assert sizes_by_category.get("Tops", set()) <= set(demo.SIZES_TOPS)
    assert sizes_by_category.get("Accessories", {"OS"}) == {"OS"}
    colors_per_style = Counter(c["style_number"] for c in world.style_colors)
    assert set(colors_per_style.values()) <= {2, 3, 4}


def test_upcs_have_valid_check_digits_and_are_unique(world: demo.DemoWorld) -> None:
    upcs = [k["upc"] for k in world.skus]
    assert len(set(upcs)) == len(upcs)
    for upc in upcs:
        assert len(upc) == 12 and upc.isdigit()
        assert int(upc[-1]) == demo.gtin_check_digit(upc[:-1])
    assert demo.gtin_check_digit("03600029145") == 2  # a published UPC-A example: 036000291452


def test_sku_ids_are_unique_five_characters() -> None:
    world = demo.build_world(styles=400)
    ids = [k["sku"] for k in world.skus]
    assert len(set(ids)) == len(ids) > 4000
    assert all(len(i) == 5 and i.isalnum() and i == i.upper() for i in ids)
    assert len({(k["style_number"], k["color_code"], k["size"]) for k in world.skus}) == len(ids)


def test_prices_and_inventory(world: demo.DemoWorld) -> None:
    prices = {(p["style_number"], p["price_type_code"]): p["price"] for p in world.style_prices}
    for s in world.styles:
        whl, msrp = prices[(s["number"], "WHL")], prices[(s["number"], "MSRP")]
        assert isinstance(whl, Decimal) and 2 * whl <= msrp <= Decimal("2.4") * whl
        assert prices[(s["number"], "WHLE")] < whl
    assert len(world.inventory) == 2 * len(world.skus)
    assert all(0 <= i["allocated"] <= i["on_hand"] for i in world.inventory)
    assert any(i["future_qty"] and i["future_date"] for i in world.inventory)
    assert all(bool(i["future_qty"]) == bool(i["future_date"]) for i in world.inventory)


def test_brandboom_seed_is_json_in_the_documented_shapes(world: demo.DemoWorld) -> None:
    seed = demo.brandboom_seed(world)
    assert set(seed) == {"showrooms", "products", "orders"}
    json.dumps(seed)  # numbers, not Decimals
    product = seed["products"][0]
    assert {
        "id",
        "styleNumber",
        "options",
        "sizes",
        "optionAvailableCounts",
        "description",
        "price",
        "skus",
        "currentClass",
    } <= set(product)
    assert set(product["price"]) >= {"priceTierID", "currency", "MSRP", "price"}
    sku = product["skus"][0]
    assert {
        "skuNumber",
        "UPC",
        "option",
        "size",
        "inventoryCount",
        "futureInventoryCount",
        "futureInventoryDate",
        "warehouseID",
    } <= set(sku)
    erp_skus = {k["sku"] for k in world.skus}
    assert {s["skuNumber"] for p in seed["products"] for s in p["skus"]} == erp_skus
    assert seed["showrooms"][0]["priceTiers"] == [demo.PRICE_TIER_IDS["WHL"]]


def test_every_broken_order_is_in_the_seed(world: demo.DemoWorld) -> None:
    orders = {o["id"]: o for o in world.brandboom_orders}
    assert set(demo.BROKEN_ORDERS) <= set(orders)
    assert set(world.expected_errors) == set(demo.BROKEN_ORDERS)
    for oid, code in demo.BROKEN_ORDERS.items():
        assert orders[oid]["status"] == "export"
        assert {e.code for e in world.expected_errors[oid]} == {code}
    assert len(world.expected_errors[demo.O_SKU_UNKNOWN_TWO]) == 2
    assert len(world.expected_errors[demo.O_QUANTITY_INVALID]) == 2
    assert isinstance(orders[demo.O_PAYLOAD_INVALID]["items"], str)
    first, second = orders[demo.O_DUPLICATE_FIRST], orders[demo.O_DUPLICATE_PO]
    assert first["poNumber"] == second["poNumber"] and first["customer"]["code"] == second["customer"]["code"]
    assert sum(o["status"] == "export" for o in world.brandboom_orders) == demo.DEFAULT_ORDERS
    assert {o["status"] for o in world.brandboom_orders} == {"export", "processing", "complete"}


def _valid_order_problems(world: demo.DemoWorld, order: dict) -> list[str]:
    customers = {c["code"] for c in world.customers}
    addresses = {(a["customer_code"], a["address_key"]) for a in world.customer_addresses}
    skus = {(k["style_number"], k["color_code"], k["size"]): k for k in world.skus}
    reps = {m["partner_value"] for m in demo.demo_mappings() if m["kind"] == "sales_rep"}
    problems = []
    code = order["customer"]["code"]
    if code not in customers:
        problems.append(f"customer {code}")
    ship = order["customer"]["shippingAddress"]
    key = demo.address_key(
        {
            "line1": ship["address1"],
            "line2": ship["address2"],
            "city": ship["city"],
            "state": ship["state"],
            "postal_code": ship["zip"],
            "country": ship["country"],
        }
    )
    if (code, key) not in addresses:
        problems.append("ship-to")
    if order["rep"] not in reps or order["terms"] not in demo.TERMS_MAPPINGS:
        problems.append("rep/terms")
    if order["shippingOption"] not in demo.SHIP_VIA_MAPPINGS:
        problems.append("shipping")
    if str(order["warehouseID"]) not in {"-1", *demo.WAREHOUSE_MAPPINGS}:
        problems.append("warehouse")
    if not order["shipDate"] < order["cancelDate"]:
        problems.append("dates")
    if not 1 <= len(order["items"]) <= 12:
        problems.append("line count")
    for item in order["items"]:
        sku = skus.get((item["styleNumber"], item["optionCode"], item["size"]))
        if sku is None or sku["sku"] != item["skuNumber"] or sku["upc"] != item["UPC"]:
            problems.append(f"item {item}")
        if not (isinstance(item["quantity"], int) and item["quantity"] > 0 and item["price"] > 0):
            problems.append("qty/price")
    return problems


def test_valid_orders_reference_only_existing_master_data(world: demo.DemoWorld) -> None:
    valid = [o for o in world.brandboom_orders if o["id"] not in demo.BROKEN_ORDERS]
    assert len(valid) >= 10
    for order in valid:
        assert _valid_order_problems(world, order) == [], order["id"]
    # The only PO used twice by one customer is the duplicate_po pair's.
    orders = {o["id"]: o for o in world.brandboom_orders}
    dup = orders[demo.O_DUPLICATE_PO]
    pos = Counter((o["customer"]["code"], o["poNumber"]) for o in world.brandboom_orders)
    assert {k: n for k, n in pos.items() if n > 1} == {(dup["customer"]["code"], dup["poNumber"]): 2}


def test_each_broken_order_breaks_only_its_own_rule(world: demo.DemoWorld) -> None:
    orders = {o["id"]: o for o in world.brandboom_orders}
    expect = {
        demo.O_CUSTOMER_UNKNOWN: ["customer MRW01", "ship-to"],
        demo.O_REP_UNKNOWN: ["rep/terms"],
        demo.O_TERMS_UNMAPPED: ["rep/terms"],
        demo.O_SHIP_VIA_UNMAPPED: ["shipping"],
        demo.O_WAREHOUSE_UNMAPPED: ["warehouse"],
        demo.O_DATES_ORDER: ["dates"],
        demo.O_ADDRESS_NEW: ["ship-to"],
        demo.O_DUPLICATE_PO: [],
    }
    for oid, problems in expect.items():
        assert _valid_order_problems(world, orders[oid]) == problems, oid
    sku_lines = {e.line_no for e in world.expected_errors[demo.O_SKU_UNKNOWN_TWO]}
    assert sku_lines == {1, 3}
    bad = orders[demo.O_SKU_UNKNOWN]["items"][1]
    assert (
        world.expected_errors[demo.O_SKU_UNKNOWN][0].value == f"{bad['styleNumber']}/{bad['optionCode']}/{bad['size']}"
    )


def test_make_order_is_valid_and_deterministic(world: demo.DemoWorld) -> None:
    order = demo.make_order(world, id=990001, lines=5)
    assert order == demo.make_order(world, id=990001, lines=5)
    assert order["status"] == "export" and len(order["items"]) == 5 and order["poNumber"] == "T-990001"
    assert _valid_order_problems(world, order) == []
    code = world.customers[3]["code"]
    other = demo.make_order(world, id=990002, customer=code, poNumber="X-1", status="processing")
    assert other["customer"]["code"] == code and other["poNumber"] == "X-1" and other["status"] == "processing"


def test_demo_mappings_cover_what_valid_orders_use(world: demo.DemoWorld) -> None:
    rows = demo.demo_mappings()
    kinds = {r["kind"] for r in rows}
    assert kinds <= {"customer", "terms", "ship_via", "sales_rep", "warehouse", "style"}
    assert all(r["how"] == "manual" for r in rows)
    rep_codes = {r["code"] for r in world.sales_reps}
    assert {r["erp_code"] for r in rows if r["kind"] == "sales_rep"} == rep_codes
    assert ("terms", "Net 90") not in {(r["kind"], r["partner_value"]) for r in rows}


def test_scales_up() -> None:
    # Given / when a world ten times the demo's (how fast it is built is bench/'s business; the
    # suite's timeout only catches a build that never ends)
    big = demo.build_world(styles=600, customers=300)

    # Then it has the SKUs and customers asked for, each customer under its own 5-character code
    assert len(big.skus) > 6000 and len(big.customers) == 300
    assert len({c["code"] for c in big.customers}) == 300
    assert all(len(c["code"]) == 5 for c in big.customers)
