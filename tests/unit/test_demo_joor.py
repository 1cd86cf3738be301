"""The demo brand on JOOR: deterministic, drawn from the ERP world, and broken exactly where it says.

The strongest check runs every waiting JOOR order through the mapper and the real validator
against the world's master data held in memory, and compares the problems with the expected rows.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from bobbin import demo
from bobbin import demo_joor as dj
from connectors.joor import make_source
from connectors.joor.contract import ORDER_FIELDS
from connectors.joor.mapper import to_partner_order
from sandbox.joor.server import JoorSandbox
from services.masterdata import CustomerInfo, MasterData, claim_po, norm, norm_postal
from services.validation import Outcome, validate

TOKEN = "demo-joor-token"


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world()


@pytest.fixture(scope="module")
def joor(world: demo.DemoWorld) -> dj.JoorDemo:
    return dj.build_joor(world)


def master_data(world: demo.DemoWorld, extra: dict[str, list[dict[str, Any]]]) -> MasterData:
    """What services.masterdata.load() would read after loading the world, the extra rows and the
    JOOR site's mappings."""
    md = MasterData()
    for cu in world.customers + extra.get("customers", []):
        md.customers[cu["code"]] = CustomerInfo(
            cu["code"], cu["name"], cu["email"], cu["terms_code"], cu["ship_via_code"], cu["rep_code"]
        )
        md.customers_by_email[norm(cu["email"])].add(cu["code"])
    for a in world.customer_addresses + extra.get("customer_addresses", []):
        md.customer_addresses.setdefault(a["customer_code"], set()).add(a["address_key"])
        md.customers_by_name_postal[(norm(md.customers[a["customer_code"]].name), norm_postal(a["postal_code"]))].add(
            a["customer_code"]
        )
    for r in world.sales_reps:
        for k in (r["code"], r["name"], r["email"]):
            md.reps[norm(k)] = r["code"]
    for table, lookup in ((world.terms, md.terms), (world.ship_vias, md.ship_vias)):
        for row in table:
            lookup[norm(row["code"])] = lookup[norm(row["description"])] = row["code"]
    for w in world.warehouses:
        md.warehouses[norm(w["code"])] = md.warehouses[norm(w["name"])] = w["code"]
    for k in world.skus:
        md.sku_by_id[norm(k["sku"])] = k["sku"]
        md.sku_by_upc[k["upc"]] = k["sku"]
        md.sku_by_variant[(norm(k["style_number"]), norm(k["color_code"]), norm(k["size"]))] = k["sku"]
    for m in dj.joor_mappings()["mappings"]:
        md.mappings[m["kind"]][norm(m["partner_value"])] = m["erp_code"]
    return md


def waiting(seed: dict[str, Any]) -> list[dict[str, Any]]:
    """The orders a default JOOR site imports: approved, not exported."""
    return [o for o in seed["orders"] if o["status"] == "APPROVED" and o["export_status"] == "NOT_EXPORTED"]


@pytest.fixture(scope="module")
def outcomes(world: demo.DemoWorld, joor: dj.JoorDemo) -> dict[int, Outcome]:
    """Every waiting order validated in id order, as the holding area does (POs claimed as it goes)."""
    md = master_data(world, joor.extra_erp)
    price_types = dj.joor_mappings()["settings"]["price_types"]
    result = {}
    for raw in sorted(waiting(joor.seed), key=lambda o: o["order_id"]):
        order = to_partner_order(raw)
        outcome = validate(order, md, order_id=raw["order_id"], fields=ORDER_FIELDS, price_types=price_types)
        if outcome.resolved.customer_code and order.po_number:
            claim_po(md, outcome.resolved.customer_code, order.po_number, raw["order_id"])
        result[raw["order_id"]] = outcome
    return result


def test_same_world_same_joor_other_seed_other_orders(world: demo.DemoWorld, joor: dj.JoorDemo) -> None:
    assert dj.build_joor(demo.build_world(seed=7)) == joor
    assert dj.joor_seed(world) == joor.seed and dj.extra_erp_rows(world) == joor.extra_erp
    other = dj.joor_seed(demo.build_world(seed=8))
    assert [o["order_items"] for o in other["orders"]] != [o["order_items"] for o in joor.seed["orders"]]


def test_seed_is_json_in_the_contract_shapes(world: demo.DemoWorld, joor: dj.JoorDemo) -> None:
    seed = joor.seed
    json.dumps(seed)  # numbers, not Decimals
    assert seed["account"] == {"account_id": "harbor", "name": demo.BRAND_NAME}
    assert dj.joor_seed(world, account="harbor-eu")["account"]["account_id"] == "harbor-eu"
    assert {(s["style_number"], s["color_code"], s["size"], s["upc"]) for s in seed["skus"]} == {
        (k["style_number"], k["color_code"], k["size"], k["upc"]) for k in world.skus
    }
    assert [w["warehouse_name"] for w in seed["warehouses"]] == ["Main Warehouse", "West Coast"]
    connections = {c["connection_id"]: c for c in seed["connections"]}
    assert len(connections) == len(world.customers) + 3
    assert len(waiting(seed)) == dj.JOOR_DEFAULT_ORDERS
    order = seed["orders"][0]
    assert set(order) >= {
        "order_id",
        "po_number",
        "status",
        "export_status",
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
        "payment_method_code",
        "payment_method",
        "shipping_method_code",
        "shipping_method",
        "warehouse_code",
        "warehouse_name",
        "billing_address",
        "shipping_address",
        "order_items",
    }
    assert set(order["shipping_address"]) == {
        "code",
        "name",
        "company",
        "line_1",
        "line_2",
        "city",
        "state",
        "zip",
        "country",
        "phone",
    }
    assert set(order["order_items"][0]) == {
        "style_number",
        "style_identifier",
        "color_code",
        "color_name",
        "size",
        "upc",
        "quantity",
        "quantity_shipped",
        "price",
    }
    for o in seed["orders"]:  # every order comes through one of the account's connections
        assert connections[o["connection_id"]]["retailer_id"] == o["retailer_id"]


def test_every_special_order_is_waiting_with_its_expected_rows(joor: dj.JoorDemo) -> None:
    orders = {o["order_id"]: o for o in waiting(joor.seed)}
    assert set(dj.JOOR_BROKEN_ORDERS) | set(dj.JOOR_AUTOMAP_ORDERS) | {dj.J_DUPLICATE_FIRST} <= set(orders)
    assert set(joor.expected_errors) == set(dj.JOOR_BROKEN_ORDERS)
    for oid, code in dj.JOOR_BROKEN_ORDERS.items():
        assert {e.code for e in joor.expected_errors[oid]} == {code}
        assert all(e.value is not None for e in joor.expected_errors[oid]), oid
    assert len(joor.expected_errors[dj.J_QUANTITY_INVALID]) == 2
    first, second = orders[dj.J_DUPLICATE_FIRST], orders[dj.J_DUPLICATE_PO]
    assert (first["po_number"], first["customer_code"]) == (second["po_number"], second["customer_code"])
    assert orders[dj.J_PAYLOAD_INVALID]["order_items"] == dj.PAYLOAD_GARBAGE
    assert orders[dj.J_PRICE_TYPE_MISSING]["currency_code"] not in dj.joor_mappings()["settings"]["price_types"]


def test_the_validator_finds_exactly_the_expected_rows(joor: dj.JoorDemo, outcomes: dict[int, Outcome]) -> None:
    for oid, outcome in outcomes.items():
        got = [(p.code, p.line_no, p.field, p.value, p.severity) for p in outcome.problems]
        expected = [(e.code, e.line_no, e.field, e.value, e.severity) for e in joor.expected_errors.get(oid, ())]
        assert got == expected, oid
        assert outcome.state == dj.JOOR_EXPECTED_STATE.get(oid, "valid"), oid


def test_customers_auto_map_as_expected(joor: dj.JoorDemo, outcomes: dict[int, Outcome]) -> None:
    how = {oid: outcomes[oid].resolved.customer_how for oid in dj.JOOR_AUTOMAP_ORDERS}
    assert how == {
        dj.J_AUTOMAP_CODE: "auto:code",
        dj.J_AUTOMAP_EMAIL: "auto:email",
        dj.J_AUTOMAP_NAME_POSTAL: "auto:name+postal",
        dj.J_AUTOMAP_AMBIGUOUS: None,
        dj.J_AUTOMAP_NONE: None,
    }
    assert {oid: outcomes[oid].resolved.customer_code for oid in dj.JOOR_AUTOMAP_ORDERS} == joor.expected_customers
    (ambiguous,) = outcomes[dj.J_AUTOMAP_AMBIGUOUS].problems
    twin = joor.extra_erp["customers"][0]["code"]
    assert "matches 2 ERP customers by name and postal code" in ambiguous.message and twin in ambiguous.message
    # and each of the others maps by its own way only
    orders = {o["order_id"]: o for o in joor.seed["orders"]}
    assert orders[dj.J_AUTOMAP_CODE]["customer_code"] == joor.expected_customers[dj.J_AUTOMAP_CODE]
    assert orders[dj.J_AUTOMAP_EMAIL]["customer_code"] is None
    assert orders[dj.J_AUTOMAP_NAME_POSTAL]["customer_code"] is None


def test_valid_orders_reference_only_existing_master_data(
    world: demo.DemoWorld, joor: dj.JoorDemo, outcomes: dict[int, Outcome]
) -> None:
    skus = {(k["style_number"], k["color_code"], k["size"]): k["upc"] for k in world.skus}
    codes = {c["code"] for c in world.customers}
    special = set(dj.JOOR_BROKEN_ORDERS) | set(dj.JOOR_AUTOMAP_ORDERS)
    regular = [o for o in joor.seed["orders"] if o["order_id"] not in special]
    assert len(regular) >= 15
    for order in regular:
        assert order["customer_code"] in codes, order["order_id"]
        for item in order["order_items"]:
            assert skus[(item["style_number"], item["color_code"], item["size"])] == item["upc"]
            assert isinstance(item["quantity"], int) and item["quantity"] > 0 and item["price"] > 0
    assert {o["currency_code"] for o in regular} == {"USD", "EUR"}
    assert all(outcomes[o["order_id"]].state == "valid" for o in regular if o["order_id"] in outcomes)
    # the only PO used twice by one customer is the duplicate pair's
    pos = Counter((o["customer_code"], o["po_number"]) for o in joor.seed["orders"])
    dup = {o["order_id"]: o for o in joor.seed["orders"]}[dj.J_DUPLICATE_PO]
    assert {k: n for k, n in pos.items() if n > 1} == {(dup["customer_code"], dup["po_number"]): 2}


def test_other_orders_wait_in_other_states(joor: dj.JoorDemo) -> None:
    orders = {o["order_id"]: o for o in joor.seed["orders"]}
    for oid, (status, state) in dj.JOOR_OTHER_ORDERS.items():
        assert (orders[oid]["status"], orders[oid]["export_status"]) == (status, state)
    shipped = orders[4400006]["order_items"]
    assert all(i["quantity_shipped"] == i["quantity"] for i in shipped)


def test_twin_customer_shares_name_and_postal_code_only(world: demo.DemoWorld, joor: dj.JoorDemo) -> None:
    (twin,) = joor.extra_erp["customers"]
    original = next(c for c in world.customers if c["name"] == twin["name"])
    assert twin["code"] not in {c["code"] for c in world.customers} and twin["email"] != original["email"]
    assert set(twin) == set(original)
    postal = {a["postal_code"] for a in world.customer_addresses if a["customer_code"] == original["code"]}
    assert {a["postal_code"] for a in joor.extra_erp["customer_addresses"]} <= postal
    assert {a["kind"] for a in joor.extra_erp["customer_addresses"]} == {"billing", "shipping"}
    assert all(a["customer_code"] == twin["code"] for a in joor.extra_erp["customer_addresses"])


def test_mappings_and_price_types(world: demo.DemoWorld) -> None:
    setup = dj.joor_mappings()
    assert setup["settings"] == {"price_types": {"USD": "WHL", "EUR": "WHLE"}}
    rows = setup["mappings"]
    assert {r["kind"] for r in rows} == {"terms", "ship_via", "warehouse"} and all(r["how"] == "manual" for r in rows)
    erp = {
        "terms": {t["code"] for t in world.terms},
        "ship_via": {s["code"] for s in world.ship_vias},
        "warehouse": {w["code"] for w in world.warehouses},
    }
    assert all(r["erp_code"] in erp[r["kind"]] for r in rows)
    assert ("terms", "NET90") not in {(r["kind"], r["partner_value"]) for r in rows}
    assert set(setup["settings"]["price_types"].values()) <= {p["code"] for p in world.price_types}


def test_make_joor_order_is_valid_and_deterministic(world: demo.DemoWorld, joor: dj.JoorDemo) -> None:
    order = dj.make_joor_order(world, id=990001, lines=5)
    assert order == dj.make_joor_order(world, id=990001, lines=5)
    assert (order["status"], order["po_number"], len(order["order_items"])) == ("APPROVED", "JT-990001", 5)
    md = master_data(world, joor.extra_erp)
    assert validate(to_partner_order(order), md, fields=ORDER_FIELDS).problems == []
    code = world.customers[3]["code"]
    other = dj.make_joor_order(world, id=990002, customer=code, po_number="X-1", status="SHIPPED")
    assert (other["customer_code"], other["po_number"], other["status"]) == (code, "X-1", "SHIPPED")


def test_divisions(world: demo.DemoWorld, joor: dj.JoorDemo) -> None:
    assert dj.joor_seed(world, division="WHSL") == joor.seed  # every demo customer and style is WHSL
    with pytest.raises(ValueError, match="too few customers"):
        dj.joor_seed(world, division="MAIN")
    with pytest.raises(ValueError, match="no division"):
        dj.joor_seed(world, division="NOPE")


def test_the_sandbox_serves_the_demo_seed(joor: dj.JoorDemo) -> None:
    sandbox = JoorSandbox(token=TOKEN, seed=joor.seed).start()
    try:
        source = make_source(sandbox.url, {"api_token": TOKEN}, {"page_size": 12})
        ids = [o.partner_order_id for page in source.iter_order_pages() for o in page]
        assert len(ids) == len(set(ids)) == dj.JOOR_DEFAULT_ORDERS
        assert [o.partner_order_id for p in source.iter_modified_pages() for o in p] == ["4400005"]
        source.close()
    finally:
        sandbox.stop()
