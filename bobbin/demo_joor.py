"""The demo brand "Harbor & Pine" on JOOR: its account, connections, catalog and orders.

Built from :func:`bobbin.demo.build_world` — the same ERP customers, SKUs / UPCs, terms, ship-vias,
reps and warehouses — in the [INF] v2 shapes of ``connectors.joor.contract``. As in ``demo.py``,
one ``random.Random`` seeded from the world's seed drives everything, so the same world gives the
same JOOR data, and the order ids are constants.

JOOR's Order Settings of the brand follow seed 002's advice to enter them "based on how it
appears in AIMS360": rep codes are the ERP's, some payment / shipping method codes are the ERP's
own (they resolve with no mapping) and some are JOOR-style codes the site maps
(:func:`joor_mappings`).

The approved orders contain a fixed set of deliberately broken ones (:data:`JOOR_BROKEN_ORDERS`,
each breaking exactly one validation rule; :data:`JOOR_EXPECTED_ERRORS` the rows the validator must
write), and five orders for customer auto-mapping (:data:`JOOR_AUTOMAP_ORDERS`: by ERP code, by
e-mail, by name + postal code, ambiguous, nobody). Loading the demo means loading
:func:`extra_erp_rows` too (the ambiguous case's second customer) and setting the site up as
:func:`joor_mappings` says (its ``price_types`` make the GBP order ``price_type_missing``).
"""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bobbin.demo import (
    BAD_DATE,
    BRAND_NAME,
    NEGATIVE_PRICE,
    ORDER_CREATED,
    SALES_REPS,
    UNKNOWN_COLOR,
    UNKNOWN_CUSTOMER_CODE,
    DemoWorld,
    ExpectedError,
    address_key,
    json_number,
)
from sandbox.joor import api as c

F, AF, IF, CF = c.OrderField, c.AddressField, c.ItemField, c.ConnectionField
Obj = dict[str, Any]

# --- The brand's JOOR Order Settings ------------------------------------------------------------

# (JOOR code, JOOR name, ERP code). Codes equal to the ERP's resolve by themselves; the others are
# mapped in joor_mappings().
PAYMENT_METHODS = (
    ("NET30", "Net 30", "N30"),
    ("NET60", "Net 60", "N60"),
    ("CC", "Credit Card", "CC"),
    ("COD", "COD", "COD"),
    ("PREPAID", "Prepaid", "PREPAY"),
)
SHIPPING_METHODS = (
    ("UPS-GND", "UPS Ground", "UPSG"),
    ("FEDEX-2DAY", "FedEx 2Day", "FDX2"),
    ("LTL", "LTL Freight", "LTL"),
    ("WILL-CALL", "Will Call", "WILL"),
)
# (JOOR warehouse_name, warehouse_code, ERP warehouse). The name is what bulk-inventory takes.
JOOR_WAREHOUSES = (("Main Warehouse", "MAIN-WH", "MAIN"), ("West Coast", "WEST-WH", "WEST"))
# [SEED] AIMS360 sends one price label per currency, e.g. "US Dollars" for USD.
PRICE_LABELS = {"USD": "US Dollars", "EUR": "Euro", "GBP": "British Pounds"}
# The site's price_types setting: order currency -> ERP price type. GBP has a label on JOOR but
# no ERP price type: the price_type_missing order uses it.
JOOR_PRICE_TYPES = {"USD": "WHL", "EUR": "WHLE"}

# JOOR ids of the brand's connections: ERP customer n (0-based, world order) has connection
# CONNECTION_BASE + n and retailer RETAILER_BASE + n; retailers with no ERP customer come after.
CONNECTION_BASE = 610001
RETAILER_BASE = 720001
C_UNKNOWN_CODE = 619001  # a connection whose customer_code is no ERP code
C_AMBIGUOUS = 619002  # a new retailer named like two ERP customers at one postal code
C_NOBODY = 619003  # a new retailer matching no ERP customer

# --- Orders -------------------------------------------------------------------------------------

JOOR_DEFAULT_ORDERS = 30  # approved orders waiting for export, broken and auto-map ones included

# Fixed ids of the deliberately broken orders (one rule each).
J_CUSTOMER_UNKNOWN = 4200001
J_REP_UNKNOWN = 4200002
J_PAYMENT_UNMAPPED = 4200003
J_SHIPPING_UNMAPPED = 4200004
J_SKU_UNKNOWN = 4200005
J_QUANTITY_INVALID = 4200006
J_PRICE_INVALID = 4200007
J_DATES_ORDER = 4200008
J_DATES_UNPARSEABLE = 4200009
J_ADDRESS_NEW = 4200010
J_WAREHOUSE_UNMAPPED = 4200011
J_DUPLICATE_FIRST = 4200012  # valid: the first order with the PO
J_DUPLICATE_PO = 4200013  # same customer, same PO as J_DUPLICATE_FIRST
J_PAYLOAD_INVALID = 4200014
J_PRICE_TYPE_MISSING = 4200015
# Customer auto-mapping: how each order's retailer should find its ERP customer.
J_AUTOMAP_CODE = 4300001  # customer_code is an ERP code (e-mail matches nobody)
J_AUTOMAP_EMAIL = 4300002  # no code; customer_email is an ERP customer's (name differs)
J_AUTOMAP_NAME_POSTAL = 4300003  # no code, unknown e-mail; name + postal code of an ERP customer
J_AUTOMAP_AMBIGUOUS = 4300004  # name + postal code of two ERP customers (see extra_erp_rows)
J_AUTOMAP_NONE = 4300005  # matches nobody
JOOR_AUTOMAP_ORDERS: dict[int, str] = {
    J_AUTOMAP_CODE: "customer_code",
    J_AUTOMAP_EMAIL: "email",
    J_AUTOMAP_NAME_POSTAL: "name_postal",
    J_AUTOMAP_AMBIGUOUS: "ambiguous",
    J_AUTOMAP_NONE: "none",
}
# Orders the default import (order_type 6, export_status 2) must not return: (status, export state).
JOOR_OTHER_ORDERS: dict[int, tuple[str, str]] = {
    4400001: (c.STATUS_PENDING, c.STATE_NOT_EXPORTED),
    4400002: (c.STATUS_NOTES, c.STATE_NOT_EXPORTED),
    4400003: (c.STATUS_CANCELLED, c.STATE_NOT_EXPORTED),
    4400004: (c.STATUS_APPROVED, c.STATE_EXPORTED),
    4400005: (c.STATUS_APPROVED, c.STATE_MODIFIED),  # shows in iter_modified_pages
    4400006: (c.STATUS_SHIPPED, c.STATE_NOT_EXPORTED),  # imported by a site with order_types [6, 7]
    4400007: (c.STATUS_SHIPPED, c.STATE_EXPORTED),
}

UNKNOWN_REP = ("TQ", "Taylor Quinn")
UNMAPPED_PAYMENT = ("NET90", "Net 90")
UNMAPPED_SHIPPING = ("PONY", "Pony Express")
UNMAPPED_WAREHOUSE = ("LA 3PL", "LA-3PL")
UNPRICED_CURRENCY = "GBP"
POPUP_ADDRESS = {
    "name": "Pop-Up",
    "line1": "1 Ferry Building",
    "line2": "Stall 12",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}
PAYLOAD_GARBAGE = "see attached PDF"

# Order id -> the error code it must produce. J_ADDRESS_NEW is a warning only: that order stays
# valid. J_AUTOMAP_AMBIGUOUS / J_AUTOMAP_NONE cannot be auto-mapped: customer_unknown, for a person.
JOOR_BROKEN_ORDERS: dict[int, str] = {
    J_CUSTOMER_UNKNOWN: "customer_unknown",
    J_REP_UNKNOWN: "sales_rep_unknown",
    J_PAYMENT_UNMAPPED: "terms_unmapped",
    J_SHIPPING_UNMAPPED: "ship_via_unmapped",
    J_SKU_UNKNOWN: "sku_unknown",
    J_QUANTITY_INVALID: "quantity_invalid",
    J_PRICE_INVALID: "price_invalid",
    J_DATES_ORDER: "dates_invalid",
    J_DATES_UNPARSEABLE: "dates_invalid",
    J_ADDRESS_NEW: "address_new",
    J_WAREHOUSE_UNMAPPED: "warehouse_unmapped",
    J_DUPLICATE_PO: "duplicate_po",
    J_PAYLOAD_INVALID: "payload_invalid",
    J_PRICE_TYPE_MISSING: "price_type_missing",
    J_AUTOMAP_AMBIGUOUS: "customer_unknown",
    J_AUTOMAP_NONE: "customer_unknown",
}
JOOR_EXPECTED_STATE: dict[int, str] = {
    oid: ("valid" if oid == J_ADDRESS_NEW else "duplicate" if oid == J_DUPLICATE_PO else "invalid")
    for oid in JOOR_BROKEN_ORDERS
}
# The exact error rows, fields named as JOOR's payload names them (contract.ORDER_FIELDS). Values
# that depend on the world's seed (the SKU, the PO) are None here; joor_expected_errors() fills them.
JOOR_EXPECTED_ERRORS: dict[int, tuple[ExpectedError, ...]] = {
    J_CUSTOMER_UNKNOWN: (ExpectedError("customer_unknown", None, F.CUSTOMER_CODE, UNKNOWN_CUSTOMER_CODE),),
    J_REP_UNKNOWN: (ExpectedError("sales_rep_unknown", None, F.SALES_REP_CODE, UNKNOWN_REP[0]),),
    J_PAYMENT_UNMAPPED: (ExpectedError("terms_unmapped", None, F.PAYMENT_METHOD_CODE, UNMAPPED_PAYMENT[0]),),
    J_SHIPPING_UNMAPPED: (ExpectedError("ship_via_unmapped", None, F.SHIPPING_METHOD_CODE, UNMAPPED_SHIPPING[0]),),
    # value: "STYLE/FUS/SIZE" of line 2
    J_SKU_UNKNOWN: (ExpectedError("sku_unknown", 2, F.ORDER_ITEMS),),
    J_QUANTITY_INVALID: (
        ExpectedError("quantity_invalid", 1, f"{F.ORDER_ITEMS}.{IF.QUANTITY}", "0"),
        ExpectedError("quantity_invalid", 2, f"{F.ORDER_ITEMS}.{IF.QUANTITY}", "abc"),
    ),
    J_PRICE_INVALID: (ExpectedError("price_invalid", 2, f"{F.ORDER_ITEMS}.{IF.PRICE}", str(NEGATIVE_PRICE)),),
    J_DATES_ORDER: (ExpectedError("dates_invalid", None, F.END_SHIP_DATE, "2027-01-31"),),
    J_DATES_UNPARSEABLE: (ExpectedError("dates_invalid", None, F.START_SHIP_DATE, BAD_DATE),),
    J_ADDRESS_NEW: (
        ExpectedError(
            "address_new",
            None,
            F.SHIPPING_ADDRESS,
            ", ".join(POPUP_ADDRESS[k] for k in ("line1", "city", "state", "postal_code")),
            severity="warning",
        ),
    ),
    J_WAREHOUSE_UNMAPPED: (ExpectedError("warehouse_unmapped", None, F.WAREHOUSE_CODE, UNMAPPED_WAREHOUSE[1]),),
    J_DUPLICATE_PO: (ExpectedError("duplicate_po", None, F.PO_NUMBER),),  # value: the shared PO
    J_PAYLOAD_INVALID: (ExpectedError("payload_invalid", None, F.ORDER_ITEMS, PAYLOAD_GARBAGE),),
    J_PRICE_TYPE_MISSING: (ExpectedError("price_type_missing", None, F.CURRENCY_CODE, UNPRICED_CURRENCY),),
    # The customer's key is the connection id when the order carries no customer_code.
    J_AUTOMAP_AMBIGUOUS: (ExpectedError("customer_unknown", None, F.CUSTOMER_CODE, str(C_AMBIGUOUS)),),
    J_AUTOMAP_NONE: (ExpectedError("customer_unknown", None, F.CUSTOMER_CODE, str(C_NOBODY)),),
}


@dataclass
class JoorDemo:
    """Everything JOOR-side of the demo for one world: the sandbox seed and what must come of it."""

    seed: Obj
    # JOOR_EXPECTED_ERRORS with the seed-dependent values filled in.
    expected_errors: dict[int, tuple[ExpectedError, ...]]
    # JOOR_AUTOMAP_ORDERS id -> the ERP customer code it must map to (None: it must not).
    expected_customers: dict[int, str | None]
    # ERP rows the JOOR demo needs beyond the world's (the ambiguous twin customer).
    extra_erp: dict[str, list[Obj]] = field(default_factory=dict)


# --- Public entry points ------------------------------------------------------------------------


def joor_seed(world: DemoWorld, *, account: str = "harbor", division: str | None = None) -> Obj:
    """What the JOOR sandbox starts with: account, warehouses, SKUs, connections and orders."""
    return build_joor(world, account=account, division=division).seed


def joor_expected_errors(world: DemoWorld, *, division: str | None = None) -> dict[int, tuple[ExpectedError, ...]]:
    return build_joor(world, division=division).expected_errors


def joor_expected_customers(world: DemoWorld, *, division: str | None = None) -> dict[int, str | None]:
    return build_joor(world, division=division).expected_customers


def extra_erp_rows(world: DemoWorld, *, division: str | None = None) -> dict[str, list[Obj]]:
    """ERP rows to load with the JOOR demo (table -> rows keyed like DemoWorld's): a second
    customer with the same name and postal code as another, which makes J_AUTOMAP_AMBIGUOUS
    ambiguous. ``demo.load_erp`` order applies: customers before customer_addresses."""
    return build_joor(world, division=division).extra_erp


def joor_mappings() -> Obj:
    """The JOOR site's setup the brand already did: ``mappings`` (rows for models.Mapping, no
    site_id: JOOR payment / shipping method and warehouse codes that differ from the ERP's) and
    ``settings`` (the site's ``price_types``: order currency -> ERP price type)."""
    rows = [
        {"kind": "terms", "partner_value": code, "erp_code": erp} for code, _, erp in PAYMENT_METHODS if code != erp
    ]
    rows += [
        {"kind": "ship_via", "partner_value": code, "erp_code": erp} for code, _, erp in SHIPPING_METHODS if code != erp
    ]
    rows += [{"kind": "warehouse", "partner_value": code, "erp_code": erp} for _, code, erp in JOOR_WAREHOUSES]
    return {"mappings": [{**r, "how": "manual"} for r in rows], "settings": {"price_types": dict(JOOR_PRICE_TYPES)}}


def make_joor_order(
    world: DemoWorld, *, id: int, customer: str | Obj | None = None, lines: int = 3, **overrides: Any
) -> Obj:
    """One more valid approved JOOR order for ``world``; ``overrides`` replace keys.

    The same (world seed, id) gives the same order. ``customer`` is an ERP customer code or row;
    by default one whose connection carries its code is drawn. The PO number is "JT-<id>", so it
    clashes with no demo order."""
    factory = _Factory(world, None)
    rng = random.Random(f"{world.seed}:joor-order:{id}")
    code = customer["code"] if isinstance(customer, dict) else customer
    code = code or rng.choice(factory.coded)["code"]
    order = factory.order(rng, id, code, lines, f"JT-{id}")
    order.update(overrides)
    return order


# --- Building -----------------------------------------------------------------------------------


def build_joor(world: DemoWorld, *, account: str = "harbor", division: str | None = None) -> JoorDemo:
    """The JOOR side of ``world``: same world and arguments, same result (compare with ``==``)."""
    factory = _Factory(world, division)
    rng = random.Random(f"{world.seed}:joor")
    po_seq = iter(range(rng.randint(58000, 59000), 10**9))
    expected = copy.deepcopy(JOOR_EXPECTED_ERRORS)
    roles = factory.roles

    def new(order_id: int, code: str | None = None, n_lines: int | None = None) -> Obj:
        code = code or rng.choice(factory.regular)["code"]
        return factory.order(rng, order_id, code, n_lines or rng.randint(1, 12), f"JR-{next(po_seq)}")

    specials: dict[int, Obj] = {}

    o = new(J_CUSTOMER_UNKNOWN, n_lines=4)
    store = {
        "name": "Magnolia Row",
        "line1": "88 Bull St",
        "line2": None,
        "city": "Savannah",
        "state": "GA",
        "postal_code": "31401",
        "country": "US",
    }
    factory.retailer(o, factory.extra_connections[C_UNKNOWN_CODE], store, store)
    specials[J_CUSTOMER_UNKNOWN] = o

    o = new(J_REP_UNKNOWN, n_lines=3)
    o[F.SALES_REP_CODE], o[F.SALES_REP] = UNKNOWN_REP
    specials[J_REP_UNKNOWN] = o

    o = new(J_PAYMENT_UNMAPPED, n_lines=5)
    o[F.PAYMENT_METHOD_CODE], o[F.PAYMENT_METHOD] = UNMAPPED_PAYMENT
    specials[J_PAYMENT_UNMAPPED] = o

    o = new(J_SHIPPING_UNMAPPED, n_lines=2)
    o[F.SHIPPING_METHOD_CODE], o[F.SHIPPING_METHOD] = UNMAPPED_SHIPPING
    specials[J_SHIPPING_UNMAPPED] = o

    # Line 2: a color the style is not made in, added on JOOR only (so no UPC).
    o = new(J_SKU_UNKNOWN, n_lines=3)
    item = o[F.ORDER_ITEMS][1]
    item.update({IF.COLOR_CODE: UNKNOWN_COLOR, IF.COLOR_NAME: "Fuchsia", IF.UPC: None})
    expected[J_SKU_UNKNOWN] = (
        ExpectedError("sku_unknown", 2, F.ORDER_ITEMS, f"{item[IF.STYLE_NUMBER]}/{UNKNOWN_COLOR}/{item[IF.SIZE]}"),
    )
    specials[J_SKU_UNKNOWN] = o

    o = new(J_QUANTITY_INVALID, n_lines=3)
    o[F.ORDER_ITEMS][0][IF.QUANTITY] = 0
    o[F.ORDER_ITEMS][1][IF.QUANTITY] = "abc"
    specials[J_QUANTITY_INVALID] = o

    o = new(J_PRICE_INVALID, n_lines=3)
    o[F.ORDER_ITEMS][1][IF.PRICE] = NEGATIVE_PRICE
    specials[J_PRICE_INVALID] = o

    o = new(J_DATES_ORDER, n_lines=2)
    o[F.START_SHIP_DATE], o[F.END_SHIP_DATE] = "2027-02-15", "2027-01-31"
    specials[J_DATES_ORDER] = o

    o = new(J_DATES_UNPARSEABLE, n_lines=2)
    o[F.START_SHIP_DATE] = BAD_DATE
    specials[J_DATES_UNPARSEABLE] = o

    o = new(J_ADDRESS_NEW, n_lines=4)
    o[F.SHIPPING_ADDRESS] = _joor_address(
        {**POPUP_ADDRESS, "name": f"{o[F.CUSTOMER_NAME]} Pop-Up"}, o[F.CUSTOMER_NAME], "POPUP", None
    )
    specials[J_ADDRESS_NEW] = o

    o = new(J_WAREHOUSE_UNMAPPED, n_lines=3)
    o[F.WAREHOUSE_NAME], o[F.WAREHOUSE_CODE] = UNMAPPED_WAREHOUSE
    specials[J_WAREHOUSE_UNMAPPED] = o

    first = new(J_DUPLICATE_FIRST, n_lines=3)
    second = new(J_DUPLICATE_PO, code=first[F.CUSTOMER_CODE], n_lines=2)
    second[F.PO_NUMBER] = first[F.PO_NUMBER]
    expected[J_DUPLICATE_PO] = (ExpectedError("duplicate_po", None, F.PO_NUMBER, first[F.PO_NUMBER]),)
    specials[J_DUPLICATE_FIRST], specials[J_DUPLICATE_PO] = first, second

    o = new(J_PAYLOAD_INVALID, n_lines=2)
    o[F.ORDER_ITEMS] = PAYLOAD_GARBAGE
    specials[J_PAYLOAD_INVALID] = o

    o = new(J_PRICE_TYPE_MISSING, n_lines=3)
    o[F.CURRENCY_CODE], o[F.PRICE_TYPE] = UNPRICED_CURRENCY, PRICE_LABELS[UNPRICED_CURRENCY]
    specials[J_PRICE_TYPE_MISSING] = o

    # Auto-mapping. By code: the buyer's own e-mail, which is no ERP customer's.
    o = new(J_AUTOMAP_CODE, code=roles["customer_code"]["code"], n_lines=2)
    o[F.CUSTOMER_EMAIL] = f"buyer.{roles['customer_code']['code'].lower()}@fastmail.example"
    specials[J_AUTOMAP_CODE] = o
    # By e-mail: JOOR knows the store under a longer legal name.
    o = new(J_AUTOMAP_EMAIL, code=roles["email"]["code"], n_lines=3)
    o[F.CUSTOMER_NAME] = f"{roles['email']['name']} LLC"
    specials[J_AUTOMAP_EMAIL] = o
    # By name + postal code: the owner's e-mail, which the ERP does not have.
    o = new(J_AUTOMAP_NAME_POSTAL, code=roles["name_postal"]["code"], n_lines=2)
    o[F.CUSTOMER_EMAIL] = f"owner@{_slug(roles['name_postal']['name'])}.example"
    specials[J_AUTOMAP_NAME_POSTAL] = o
    # Ambiguous: a new JOOR retailer with the name and postal code of two ERP customers.
    twin_of = roles["ambiguous"]
    o = new(J_AUTOMAP_AMBIGUOUS, code=twin_of["code"], n_lines=2)
    factory.retailer(
        o, factory.extra_connections[C_AMBIGUOUS], factory.billing[twin_of["code"]], factory.billing[twin_of["code"]]
    )
    specials[J_AUTOMAP_AMBIGUOUS] = o
    o = new(J_AUTOMAP_NONE, n_lines=3)
    nobody = {
        "name": "Bluebird Provisions",
        "line1": "17 W Main St",
        "line2": None,
        "city": "Bozeman",
        "state": "MT",
        "postal_code": "59715",
        "country": "US",
    }
    factory.retailer(o, factory.extra_connections[C_NOBODY], nobody, nobody)
    specials[J_AUTOMAP_NONE] = o

    valid = [new(4100001 + i) for i in range(max(JOOR_DEFAULT_ORDERS - len(specials), 0))]
    for i, order in enumerate(valid):
        if i % 4 == 3:  # some orders in euros, priced in the EUR price type
            factory.in_euros(order)
    others = []
    for oid, (status, state) in JOOR_OTHER_ORDERS.items():
        o = new(oid)
        o[F.STATUS], o[F.EXPORT_STATUS] = status, state
        if status == c.STATUS_SHIPPED:
            for item in o[F.ORDER_ITEMS]:
                item[IF.QUANTITY_SHIPPED] = item[IF.QUANTITY]
        others.append(o)

    seed = {
        "account": {"account_id": account, "name": BRAND_NAME},
        # the brand's price types in JOOR's Order Settings, one label per currency [SEED]: what the
        # catalog push matches the ERP's price types to
        "price_types": [
            {"id": str(7001 + n), "name": label, "currency_code": currency}
            for n, (currency, label) in enumerate(sorted(PRICE_LABELS.items()))
        ],
        "warehouses": [{F.WAREHOUSE_NAME: name, F.WAREHOUSE_CODE: code} for name, code, _ in JOOR_WAREHOUSES],
        "skus": factory.joor_skus(),
        "connections": factory.connections(),
        "orders": valid + [specials[k] for k in sorted(specials)] + others,
    }
    customers = {
        J_AUTOMAP_CODE: roles["customer_code"]["code"],
        J_AUTOMAP_EMAIL: roles["email"]["code"],
        J_AUTOMAP_NAME_POSTAL: roles["name_postal"]["code"],
        J_AUTOMAP_AMBIGUOUS: None,
        J_AUTOMAP_NONE: None,
    }
    return JoorDemo(seed=seed, expected_errors=expected, expected_customers=customers, extra_erp=factory.twin_rows())


# The ERP customers the auto-mapping orders are about, drawn from the boutiques.
ROLES = ("customer_code", "email", "name_postal", "ambiguous")


class _Factory:
    """JOOR payloads drawn from the world's own customers and SKUs."""

    def __init__(self, world: DemoWorld, division: str | None) -> None:
        if division is not None and division not in {d["code"] for d in world.divisions}:
            raise ValueError(f"the demo world has no division {division!r}")
        self.world = world
        self.customers = [cu for cu in world.customers if division is None or cu["division_code"] == division]
        styles = {s["number"] for s in world.styles if division is None or s["division_code"] == division}
        self.skus = [k for k in world.skus if k["style_number"] in styles]
        # Boutiques bill and receive at one address, which keeps the name + postal code cases plain.
        boutiques = [cu for cu in self.customers if cu["email"].startswith("orders@")]
        if len(boutiques) <= len(ROLES) or not self.skus:
            raise ValueError(f"division {division!r} has too few customers or no styles for the JOOR demo")
        picked = random.Random(f"{world.seed}:joor-roles").sample(boutiques, len(ROLES))
        self.roles = dict(zip(ROLES, picked, strict=True))
        # The retailers JOOR has not matched to an ERP code yet: their orders carry none.
        self.uncoded = {self.roles["email"]["code"], self.roles["name_postal"]["code"]}
        self.coded = [cu for cu in self.customers if cu["code"] not in self.uncoded]
        self.regular = [cu for cu in self.coded if cu not in picked]
        index = {cu["code"]: n for n, cu in enumerate(world.customers)}
        self.connection_of = {cu["code"]: self._connection(cu, index[cu["code"]]) for cu in self.customers}
        self.extra_connections = {
            C_UNKNOWN_CODE: _connection(
                C_UNKNOWN_CODE,
                RETAILER_BASE + 9001,
                UNKNOWN_CUSTOMER_CODE,
                "Magnolia Row",
                "hello@magnoliarow.com",
                "KM",
            ),
            C_AMBIGUOUS: _connection(
                C_AMBIGUOUS,
                RETAILER_BASE + 9002,
                "",
                self.roles["ambiguous"]["name"],
                f"hello@{_slug(self.roles['ambiguous']['name'])}-store.example",
                "DR",
            ),
            C_NOBODY: _connection(
                C_NOBODY, RETAILER_BASE + 9003, "", "Bluebird Provisions", "hello@bluebirdprovisions.com", "PS"
            ),
        }
        self.billing: dict[str, Obj] = {}
        self.shipping: dict[str, list[Obj]] = defaultdict(list)
        for a in world.customer_addresses:
            if a["kind"] == "billing":
                self.billing.setdefault(a["customer_code"], a)
            else:
                self.shipping[a["customer_code"]].append(a)
        self.prices = {(p["style_number"], p["price_type_code"]): p["price"] for p in world.style_prices}
        self.color_names = {(s["style_number"], s["color_code"]): s["color_name"] for s in world.style_colors}
        self.by_style_color: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for k in self.skus:
            self.by_style_color[(k["style_number"], k["color_code"])].append(k)
        self.style_colors = list(self.by_style_color)
        self.rep_names = {r["code"]: r["name"] for r in SALES_REPS}
        self.payment = {erp: (code, name) for code, name, erp in PAYMENT_METHODS}
        self.shipping_method = {erp: (code, name) for code, name, erp in SHIPPING_METHODS}

    def _connection(self, customer: Obj, n: int) -> Obj:
        code = "" if customer["code"] in self.uncoded else customer["code"]
        return _connection(
            CONNECTION_BASE + n, RETAILER_BASE + n, code, customer["name"], customer["email"], customer["rep_code"]
        )

    def connections(self) -> list[Obj]:
        return [copy.deepcopy(x) for x in (*self.connection_of.values(), *self.extra_connections.values())]

    def joor_skus(self) -> list[Obj]:
        """The catalog as JOOR holds it (styles not split by color: style_identifier = style)."""
        return [
            {
                IF.STYLE_NUMBER: k["style_number"],
                IF.STYLE_IDENTIFIER: k["style_number"],
                IF.COLOR_CODE: k["color_code"],
                IF.COLOR_NAME: self.color_names[(k["style_number"], k["color_code"])],
                IF.SIZE: k["size"],
                IF.UPC: k["upc"],
            }
            for k in self.skus
        ]

    def order(self, rng: random.Random, order_id: int, code: str, n_lines: int, po: str) -> Obj:
        """A valid approved order of ERP customer ``code`` through its JOOR connection."""
        customer = next(cu for cu in self.customers if cu["code"] == code)
        connection = self.connection_of[code]
        created = ORDER_CREATED + timedelta(days=rng.randint(0, 6))
        stamp = f"{created}T{rng.randint(13, 23):02d}:{rng.randint(0, 59):02d}:00.000Z"
        ship = date(2027, 1, 15) + timedelta(days=rng.choice((0, 0, 14, 31)))
        payment = self.payment[customer["terms_code"]]
        shipping = self.shipping_method[customer["ship_via_code"]]
        warehouse = rng.choice((None, None, *JOOR_WAREHOUSES))
        ship_to = rng.choice(self.shipping[code])
        order = {
            F.ORDER_ID: order_id,
            F.PO_NUMBER: po,
            F.STATUS: c.STATUS_APPROVED,
            F.EXPORT_STATUS: c.STATE_NOT_EXPORTED,
            F.DATE_CREATED: stamp,
            F.DATE_MODIFIED: stamp,
            F.START_SHIP_DATE: str(ship),
            F.END_SHIP_DATE: str(ship + timedelta(days=30)),
            F.CURRENCY_CODE: "USD",
            F.PRICE_TYPE: PRICE_LABELS["USD"],
            F.SALES_REP: self.rep_names[customer["rep_code"]],
            F.SALES_REP_CODE: customer["rep_code"],
            F.PAYMENT_METHOD_CODE: payment[0],
            F.PAYMENT_METHOD: payment[1],
            F.SHIPPING_METHOD_CODE: shipping[0],
            F.SHIPPING_METHOD: shipping[1],
            F.WAREHOUSE_NAME: warehouse[0] if warehouse else None,
            F.WAREHOUSE_CODE: warehouse[1] if warehouse else None,
            F.ORDER_ITEMS: self.items(rng, n_lines),
        }
        self.retailer(order, connection, self.billing[code], ship_to, phone=customer["phone"])
        return order

    def retailer(self, order: Obj, connection: Obj, billing: Obj, shipping: Obj, *, phone: str | None = None) -> None:
        """Make ``order`` come from ``connection``'s retailer, billed and shipped as given."""
        name = connection[CF.CUSTOMER_NAME]
        order.update(
            {
                F.CUSTOMER_CODE: connection[CF.CUSTOMER_CODE] or None,
                F.CUSTOMER_NAME: name,
                F.CUSTOMER_EMAIL: connection[CF.CUSTOMER_CONTACT_EMAIL],
                F.RETAILER_ID: connection[CF.RETAILER_ID],
                F.CONNECTION_ID: connection[CF.CONNECTION_ID],
                F.BILLING_ADDRESS: _joor_address(billing, name, "BILL", phone),
                F.SHIPPING_ADDRESS: _joor_address(shipping, name, "SHIP", phone),
            }
        )

    def items(self, rng: random.Random, n_lines: int) -> list[Obj]:
        """A buyer's lines: a few style-colors, a run of sizes each, in packs of 2-6; USD prices."""
        lines: list[Obj] = []
        seen: set[str] = set()
        while len(lines) < n_lines:
            run = self.by_style_color[rng.choice(self.style_colors)]
            start = rng.randrange(len(run))
            for k in run[start : start + rng.randint(1, 4)]:
                if len(lines) == n_lines or k["sku"] in seen:
                    continue
                seen.add(k["sku"])
                lines.append(
                    {
                        IF.STYLE_NUMBER: k["style_number"],
                        IF.STYLE_IDENTIFIER: k["style_number"],
                        IF.COLOR_CODE: k["color_code"],
                        IF.COLOR_NAME: self.color_names[(k["style_number"], k["color_code"])],
                        IF.SIZE: k["size"],
                        IF.UPC: k["upc"],
                        IF.QUANTITY: rng.choice((2, 3, 4, 6, 6, 12)),
                        IF.QUANTITY_SHIPPED: 0,
                        IF.PRICE: json_number(self.prices[(k["style_number"], JOOR_PRICE_TYPES["USD"])]),
                    }
                )
        return lines

    def in_euros(self, order: Obj) -> None:
        order[F.CURRENCY_CODE], order[F.PRICE_TYPE] = "EUR", PRICE_LABELS["EUR"]
        for item in order[F.ORDER_ITEMS]:
            item[IF.PRICE] = json_number(self.prices[(item[IF.STYLE_NUMBER], JOOR_PRICE_TYPES["EUR"])])

    def twin_rows(self) -> dict[str, list[Obj]]:
        """A second ERP customer named like the ambiguous role's, at its postal code (its other door)."""
        original = self.roles["ambiguous"]
        used = {cu["code"] for cu in self.world.customers}
        candidates = [f"{original['code'][:3]}{n:02d}" for n in range(99, 0, -1)] + [f"T{n:04d}" for n in range(10**4)]
        code = next(x for x in candidates if x not in used)
        billing = self.billing[original["code"]]
        door = {
            "customer_code": code,
            "name": original["name"],
            "line1": "400 Commerce Way",
            "line2": None,
            "city": billing["city"],
            "state": billing["state"],
            "postal_code": billing["postal_code"],
            "country": billing["country"],
        }
        door["address_key"] = address_key(door)
        customer = {**original, "code": code, "email": f"door2@{_slug(original['name'])}.com"}
        return {
            "customers": [customer],
            "customer_addresses": [{**door, "kind": "billing"}, {**door, "kind": "shipping"}],
        }


def _connection(connection_id: int, retailer_id: int, code: str, name: str, email: str, rep: str) -> Obj:
    """[DOC] connection fields (customer_code, customer_name, customer_contact_email,
    sales_rep_code); [INF] connection_id / retailer_id."""
    return {
        CF.CONNECTION_ID: connection_id,
        CF.RETAILER_ID: retailer_id,
        CF.CUSTOMER_CODE: code,
        CF.CUSTOMER_NAME: name,
        CF.CUSTOMER_CONTACT_EMAIL: email,
        CF.SALES_REP_CODE: rep,
    }


def _joor_address(row: Obj, company: str, code: str, phone: str | None) -> Obj:
    """An ERP address row (or one shaped like it) as a v4-style JOOR address [DOC]."""
    return {
        AF.CODE: code,
        AF.NAME: row["name"],
        AF.COMPANY: company,
        AF.LINE_1: row["line1"],
        AF.LINE_2: row.get("line2"),
        AF.CITY: row["city"],
        AF.STATE: row["state"],
        AF.ZIP: row["postal_code"],
        AF.COUNTRY: row["country"],
        AF.PHONE: phone,
    }


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:24]
