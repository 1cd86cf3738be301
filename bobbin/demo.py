"""A deterministic demo brand, "Harbor & Pine": ERP master data, its Brandboom catalog, and orders.

One ``random.Random(seed)`` drives everything, so the same seed gives the same world on every
machine. Generation is pure Python over plain dicts (keyed by the models' column names for the ERP
rows; Brandboom's camelCase for the partner payloads): no database round trip until
:func:`load_erp`, which bulk-inserts. The scale is a parameter (``styles=``, ``customers=``) so a
benchmark can ask for 100k SKUs.

The Brandboom orders contain a fixed set of deliberately broken ones (:data:`BROKEN_ORDERS`), each
breaking exactly one validation rule, and :data:`EXPECTED_ERRORS` says which rows the validator
must write for each: code, line, field, value. Order ids are constants, not seed-dependent.

    python -m bobbin.demo samples [DIR]   # rewrite samples/*.csv and samples/styles.xlsx
"""

from __future__ import annotations

import copy
import csv
import random
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from connectors.base import Address

# --- The brand's fixed reference data ---------------------------------------------------------

BRAND_NAME = "Harbor & Pine"
BRAND_DOMAIN = "harborandpine.com"
# Brandboom ids of the brand's account (the numbers are made up, in the documented style).
BRANDBOOM_BRAND_ID = 19457
BRANDBOOM_ACCOUNT_ID = 912
SHOWROOM_US_ID = 21364
SHOWROOM_EU_ID = 21365
# Brandboom price tier id per ERP price type; MSRP travels inside each tier as "MSRP".
PRICE_TIER_IDS = {"WHL": 1548, "WHLE": 1549}
PRICE_TIER_CURRENCY = {1548: "USD", 1549: "EUR"}

DIVISIONS = [
    {"code": "WHSL", "name": "Wholesale"},
    {"code": "MAIN", "name": "Main (retail & e-commerce)"},
]
SALES_REPS = [
    {"code": "KM", "name": "Kate Morrison", "email": f"kate.morrison@{BRAND_DOMAIN}"},
    {"code": "DR", "name": "Daniel Reyes", "email": f"daniel.reyes@{BRAND_DOMAIN}"},
    {"code": "PS", "name": "Priya Shah", "email": f"priya.shah@{BRAND_DOMAIN}"},
    {"code": "TB", "name": "Tom Becker", "email": f"tom.becker@{BRAND_DOMAIN}"},
    {"code": "HOUSE", "name": "House Account", "email": f"orders@{BRAND_DOMAIN}"},
]
# How the brand typed each rep's name on Brandboom: not always the ERP's spelling, hence the
# "sales_rep" mappings in demo_mappings().
BRANDBOOM_REP_NAMES = {"KM": "Kate Morrison", "DR": "Dan Reyes", "PS": "Priya Shah", "TB": "Tom B.", "HOUSE": "House"}
TERMS = [
    {"code": "N30", "description": "Net 30"},
    {"code": "N60", "description": "Net 60"},
    {"code": "COD", "description": "COD"},
    {"code": "CC", "description": "Credit Card"},
    {"code": "PREPAY", "description": "Prepaid"},
]
SHIP_VIAS = [
    {"code": "UPSG", "description": "UPS Ground"},
    {"code": "FDX2", "description": "FedEx 2Day"},
    {"code": "LTL", "description": "LTL Freight"},
    {"code": "WILL", "description": "Will Call"},
]
WAREHOUSES = [
    {"code": "MAIN", "name": "Main DC"},
    {"code": "WEST", "name": "West Coast DC"},
]
PRICE_TYPES = [
    {"code": "WHL", "currency": "USD", "description": "Wholesale USD"},
    {"code": "MSRP", "currency": "USD", "description": "Suggested retail USD"},
    {"code": "WHLE", "currency": "EUR", "description": "Wholesale EUR"},
]
# Brandboom text -> ERP code, as the brand set them up on its Brandboom site.
TERMS_MAPPINGS = {"Net 30": "N30", "Net 60": "N60", "Credit Card": "CC", "COD": "COD"}
SHIP_VIA_MAPPINGS = {"UPS Ground": "UPSG", "FedEx 2Day": "FDX2"}
# Brandboom SKU/order "warehouseID" -> ERP warehouse. [INF] -1 means "none" (site default).
WAREHOUSE_MAPPINGS = {"1": "MAIN", "2": "WEST"}

MSRP_FACTOR = Decimal("2.2")
EUR_PER_USD = Decimal("0.92")
CENTS = Decimal("0.01")

SEASONS = {"FA26": ("Fall 2026", date(2026, 7, 15)), "SP27": ("Spring 2027", date(2027, 1, 15))}
SIZES_TOPS = ("XS", "S", "M", "L", "XL")
SIZES_MISSES = ("0", "2", "4", "6", "8", "10", "12", "14")
SIZES_DENIM = ("24", "25", "26", "27", "28", "29", "30", "31", "32", "34")
SIZES_OS = ("OS",)


@dataclass(frozen=True)
class Category:
    name: str
    letter: str  # style numbers read HP<letter><n>, e.g. HPT101
    sizes: tuple[str, ...]
    size_range: str
    whl: tuple[int, int]  # wholesale price range, USD
    nouns: tuple[str, ...]
    palette: str = "core"


CATEGORIES = (
    Category(
        "Tops",
        "T",
        SIZES_TOPS,
        "XS-XL",
        (16, 34),
        ("Crew Tee", "Pocket Tee", "Henley", "Camp Shirt", "Oxford Shirt", "Linen Tank", "Breton Top"),
    ),
    Category(
        "Knits",
        "K",
        SIZES_TOPS,
        "XS-XL",
        (38, 72),
        ("Fisherman Sweater", "Cashmere Crew", "Cardigan", "Cable Pullover", "Half-Zip"),
    ),
    Category(
        "Dresses",
        "D",
        SIZES_MISSES,
        "0-14",
        (48, 92),
        ("Wrap Dress", "Slip Dress", "Shirt Dress", "Midi Dress", "Tiered Maxi"),
    ),
    Category(
        "Denim",
        "J",
        SIZES_DENIM,
        "24-34",
        (42, 78),
        ("Straight Jean", "Wide-Leg Jean", "Barrel Jean", "Slim Jean"),
        palette="denim",
    ),
    Category("Pants", "P", SIZES_MISSES, "0-14", (38, 64), ("Pleated Trouser", "Chino", "Linen Pant", "Cargo Pant")),
    Category(
        "Outerwear",
        "O",
        SIZES_TOPS,
        "XS-XL",
        (88, 168),
        ("Chore Coat", "Waxed Jacket", "Quilted Vest", "Trench", "Barn Jacket"),
    ),
    Category(
        "Accessories",
        "A",
        SIZES_OS,
        "OS",
        (12, 48),
        ("Canvas Tote", "Wool Beanie", "Leather Belt", "Silk Scarf", "Baseball Cap"),
    ),
)
CATEGORY_WEIGHTS = (24, 14, 14, 12, 12, 10, 14)
STYLE_ADJECTIVES = (
    "Harbor",
    "Tidewater",
    "Pine Ridge",
    "Coastal",
    "Driftwood",
    "Bayside",
    "Marina",
    "Cove",
    "Cedar",
    "Lighthouse",
    "Dune",
    "Skiff",
    "Mooring",
    "Northshore",
)
PALETTES = {
    "core": (
        ("BLK", "Black"),
        ("NVY", "Navy"),
        ("IVR", "Ivory"),
        ("OLV", "Olive"),
        ("RST", "Rust"),
        ("HGR", "Heather Grey"),
        ("SAG", "Sage"),
        ("CML", "Camel"),
        ("WHT", "White"),
        ("BRG", "Burgundy"),
        ("SND", "Sand"),
        ("CHR", "Charcoal"),
        ("SKY", "Sky Blue"),
        ("FRS", "Forest"),
        ("TRC", "Terracotta"),
        ("ECR", "Ecru Stripe"),
    ),
    "denim": (
        ("IND", "Indigo Rinse"),
        ("LWS", "Light Wash"),
        ("MWS", "Mid Wash"),
        ("BLK", "Washed Black"),
        ("ECR", "Ecru"),
    ),
}

# --- Customers ----------------------------------------------------------------------------------

# (city, state, first 3 zip digits, area code)
CITIES = (
    ("Portland", "OR", "972", "503"),
    ("Austin", "TX", "787", "512"),
    ("Savannah", "GA", "314", "912"),
    ("Charleston", "SC", "294", "843"),
    ("Boulder", "CO", "803", "303"),
    ("Asheville", "NC", "288", "828"),
    ("Burlington", "VT", "054", "802"),
    ("Santa Fe", "NM", "875", "505"),
    ("Nashville", "TN", "372", "615"),
    ("Madison", "WI", "537", "608"),
    ("Sausalito", "CA", "949", "415"),
    ("Brooklyn", "NY", "112", "718"),
    ("Minneapolis", "MN", "554", "612"),
    ("Kennebunkport", "ME", "040", "207"),
    ("Scottsdale", "AZ", "852", "480"),
    ("Seattle", "WA", "981", "206"),
    ("Chicago", "IL", "606", "312"),
    ("Boston", "MA", "021", "617"),
    ("Denver", "CO", "802", "720"),
    ("Nantucket", "MA", "025", "508"),
    ("Annapolis", "MD", "214", "410"),
    ("Sarasota", "FL", "342", "941"),
    ("Bozeman", "MT", "597", "406"),
    ("Traverse City", "MI", "496", "231"),
)
STREETS = (
    "Main St",
    "Water St",
    "Harbor Ave",
    "Elm St",
    "Market St",
    "Pine St",
    "Broadway",
    "Church St",
    "King St",
    "Front St",
    "Maple Ave",
    "Congress Ave",
    "Pearl St",
    "Union St",
    "Bay St",
)
BOUTIQUE_FIRST = (
    "Juniper",
    "Magpie",
    "Willow",
    "Saltwater",
    "Blue Heron",
    "Thistle",
    "Marigold",
    "Foxglove",
    "Linden",
    "Sparrow",
    "Wren",
    "Hazel",
    "Cypress",
    "Fern",
    "Poppy",
    "Sable",
    "Clover",
    "Birch",
    "Larkspur",
    "Anchor",
    "Kestrel",
    "Oak",
    "Tansy",
    "Osprey",
)
BOUTIQUE_SECOND = (
    "& Co.",
    "Boutique",
    "Mercantile",
    "Goods",
    "Supply",
    "House",
    "Collective",
    "General",
    "Outfitters",
    "Shop",
)
DEPARTMENT_STORES = (
    "Halvorsen's",
    "Baxter & Crane",
    "Whitcomb Brothers",
    "Ellery's",
    "Prescott & Lane",
    "Maison Dufresne",
    "Calloway's",
    "Ashby & Vale",
)
# Customer code the broken order uses: never generated for a real customer.
UNKNOWN_CUSTOMER_CODE = "MRW01"

# --- Orders -------------------------------------------------------------------------------------

ORDER_CREATED = date(2026, 11, 2)  # the demo "today" for order dates: fixed, never date.today()
DEFAULT_ORDERS = 25  # orders with status "export", broken ones included


@dataclass(frozen=True)
class ExpectedError:
    """One order-error row the validator must write for a demo order."""

    code: str
    line_no: int | None = None
    field: str | None = None  # the Brandboom payload key that holds the bad value
    value: str | None = None  # the offending value as received
    severity: str = "error"


# Fixed order ids of the deliberately broken orders (one rule each).
O_CUSTOMER_UNKNOWN = 310001
O_REP_UNKNOWN = 310002
O_TERMS_UNMAPPED = 310003
O_SHIP_VIA_UNMAPPED = 310004
O_SKU_UNKNOWN = 310005
O_SKU_UNKNOWN_TWO = 310006
O_QUANTITY_INVALID = 310007
O_PRICE_INVALID = 310008
O_DATES_ORDER = 310009
O_DATES_UNPARSEABLE = 310010
O_ADDRESS_NEW = 310011
O_WAREHOUSE_UNMAPPED = 310012
O_DUPLICATE_FIRST = 310013  # valid: the first order with the PO
O_DUPLICATE_PO = 310014  # same customer, same PO as O_DUPLICATE_FIRST
O_PAYLOAD_INVALID = 310015
# Orders in other statuses: search(status=export) must not return them, import must skip them.
NOT_EXPORT_ORDERS = {320001: "processing", 320002: "complete", 320003: "processing"}

UNKNOWN_REP = "Taylor Quinn"
UNMAPPED_TERMS = "Net 90"
UNMAPPED_SHIPPING = "Pony Express"
UNMAPPED_WAREHOUSE = "LA-3PL"
BAD_DATE = "31/31/2026"
UNKNOWN_STYLE = "HPZ999"  # no category uses the letter Z
UNKNOWN_COLOR = "FUS"  # "Fuchsia": in no palette
UNKNOWN_SIZE = "XXL"  # no size run has it
NEGATIVE_PRICE = -12.5

# Order id -> the error code it must produce (each breaks exactly one rule; the count and lines
# are in EXPECTED_ERRORS). O_ADDRESS_NEW is a warning only: that order stays valid.
BROKEN_ORDERS: dict[int, str] = {
    O_CUSTOMER_UNKNOWN: "customer_unknown",
    O_REP_UNKNOWN: "sales_rep_unknown",
    O_TERMS_UNMAPPED: "terms_unmapped",
    O_SHIP_VIA_UNMAPPED: "ship_via_unmapped",
    O_SKU_UNKNOWN: "sku_unknown",
    O_SKU_UNKNOWN_TWO: "sku_unknown",
    O_QUANTITY_INVALID: "quantity_invalid",
    O_PRICE_INVALID: "price_invalid",
    O_DATES_ORDER: "dates_invalid",
    O_DATES_UNPARSEABLE: "dates_invalid",
    O_ADDRESS_NEW: "address_new",
    O_WAREHOUSE_UNMAPPED: "warehouse_unmapped",
    O_DUPLICATE_PO: "duplicate_po",
    O_PAYLOAD_INVALID: "payload_invalid",
}
# The state each broken order must end in after validation.
EXPECTED_STATE: dict[int, str] = {
    oid: ("valid" if oid == O_ADDRESS_NEW else "duplicate" if oid == O_DUPLICATE_PO else "invalid")
    for oid in BROKEN_ORDERS
}
# The exact error rows; values that depend on the seed (customer code, SKU) are filled in by
# build_world into DemoWorld.expected_errors. Here they are None where they vary.
EXPECTED_ERRORS: dict[int, tuple[ExpectedError, ...]] = {
    O_CUSTOMER_UNKNOWN: (ExpectedError("customer_unknown", None, "customer.code", UNKNOWN_CUSTOMER_CODE),),
    O_REP_UNKNOWN: (ExpectedError("sales_rep_unknown", None, "rep", UNKNOWN_REP),),
    O_TERMS_UNMAPPED: (ExpectedError("terms_unmapped", None, "terms", UNMAPPED_TERMS),),
    O_SHIP_VIA_UNMAPPED: (ExpectedError("ship_via_unmapped", None, "shippingOption", UNMAPPED_SHIPPING),),
    # value: "STYLE/COLOR/SIZE" of the line (seed-dependent style: see DemoWorld.expected_errors)
    O_SKU_UNKNOWN: (ExpectedError("sku_unknown", 2, "items"),),
    O_SKU_UNKNOWN_TWO: (
        ExpectedError("sku_unknown", 1, "items", f"{UNKNOWN_STYLE}/BLK/M"),
        ExpectedError("sku_unknown", 3, "items"),
    ),
    O_QUANTITY_INVALID: (
        ExpectedError("quantity_invalid", 1, "items.quantity", "0"),
        ExpectedError("quantity_invalid", 2, "items.quantity", "abc"),
    ),
    O_PRICE_INVALID: (ExpectedError("price_invalid", 2, "items.price", str(NEGATIVE_PRICE)),),
    O_DATES_ORDER: (ExpectedError("dates_invalid", None, "cancelDate"),),
    O_DATES_UNPARSEABLE: (ExpectedError("dates_invalid", None, "shipDate", BAD_DATE),),
    O_ADDRESS_NEW: (ExpectedError("address_new", None, "customer.shippingAddress", severity="warning"),),
    O_WAREHOUSE_UNMAPPED: (ExpectedError("warehouse_unmapped", None, "warehouseID", UNMAPPED_WAREHOUSE),),
    O_DUPLICATE_PO: (ExpectedError("duplicate_po", None, "poNumber"),),
    O_PAYLOAD_INVALID: (ExpectedError("payload_invalid", None, "items"),),
}

# Table name -> the model's rows in DemoWorld, in foreign-key order (load_erp inserts in it).
ERP_TABLES = (
    "divisions",
    "sales_reps",
    "terms",
    "ship_vias",
    "warehouses",
    "price_types",
    "customers",
    "customer_addresses",
    "styles",
    "style_colors",
    "skus",
    "style_prices",
    "style_color_prices",
    "style_images",
    "linesheets",
    "linesheet_styles",
    "inventory",
)


@dataclass
class DemoWorld:
    seed: int
    # ERP rows: dicts keyed by the model's column names (models/erp.py).
    divisions: list[dict[str, Any]] = field(default_factory=list)
    sales_reps: list[dict[str, Any]] = field(default_factory=list)
    terms: list[dict[str, Any]] = field(default_factory=list)
    ship_vias: list[dict[str, Any]] = field(default_factory=list)
    warehouses: list[dict[str, Any]] = field(default_factory=list)
    price_types: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    customer_addresses: list[dict[str, Any]] = field(default_factory=list)
    styles: list[dict[str, Any]] = field(default_factory=list)
    style_colors: list[dict[str, Any]] = field(default_factory=list)
    skus: list[dict[str, Any]] = field(default_factory=list)
    style_prices: list[dict[str, Any]] = field(default_factory=list)
    style_color_prices: list[dict[str, Any]] = field(default_factory=list)
    style_images: list[dict[str, Any]] = field(default_factory=list)
    linesheets: list[dict[str, Any]] = field(default_factory=list)
    linesheet_styles: list[dict[str, Any]] = field(default_factory=list)
    inventory: list[dict[str, Any]] = field(default_factory=list)
    # Brandboom payloads (JSON-ready: numbers, strings, lists, dicts, null).
    brandboom_showrooms: list[dict[str, Any]] = field(default_factory=list)
    brandboom_products: list[dict[str, Any]] = field(default_factory=list)
    brandboom_orders: list[dict[str, Any]] = field(default_factory=list)
    # BROKEN_ORDERS' expected error rows with the seed-dependent values filled in.
    expected_errors: dict[int, tuple[ExpectedError, ...]] = field(default_factory=dict)
    # Indexes for make_order and tests (derived from the rows above).
    brandboom_customer_ids: dict[str, int] = field(default_factory=dict, repr=False)

    def table(self, name: str) -> list[dict[str, Any]]:
        return getattr(self, name)

    def valid_order_ids(self) -> set[int]:
        """Export orders that must validate (address_new orders included: a warning only)."""
        return {
            o["id"]
            for o in self.brandboom_orders
            if o["status"] == "export" and EXPECTED_STATE.get(o["id"], "valid") == "valid"
        }


# --- Small helpers ------------------------------------------------------------------------------

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# SKU ids: a bijection of the counter onto the 5-character base-36 ids not starting with "0"
# (36**4 .. 36**5 - 1), so they look like an ERP's ids, never repeat, and never need a lookup.
_SKU_SPACE = 36**5 - 36**4
_SKU_STEP = 1_000_003  # prime, coprime to _SKU_SPACE (= 2^8 * 3^8 * 5 * 7)
_SKU_OFFSET = 12_345
UPC_COMPANY_PREFIX = "84512"  # 5 digits + 6-digit item reference + check digit = UPC-A


def base36(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(_B36[r])
    return "".join(reversed(out))


def sku_id(counter: int) -> str:
    return base36(36**4 + (counter * _SKU_STEP + _SKU_OFFSET) % _SKU_SPACE, 5)


def gtin_check_digit(body: str) -> int:
    """GS1 check digit for the digits before it (UPC-A: 11 digits; EAN-13: 12)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def upc_for(counter: int) -> str:
    body = f"{UPC_COMPANY_PREFIX}{counter:06d}"
    return body + str(gtin_check_digit(body))


def money(value: Decimal | float | int) -> Decimal:
    return Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP)


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: 30 for 30.00, 24.5 for 24.50 (as the documented payloads)."""
    return int(value) if value == value.to_integral_value() else float(value)


def address_key(row: dict[str, Any]) -> str:
    """connectors.base.Address.key() joined with "|": the customer_address.address_key value."""
    return "|".join(
        Address(
            line1=row.get("line1"),
            line2=row.get("line2"),
            city=row.get("city"),
            state=row.get("state"),
            postal_code=row.get("postal_code"),
            country=row.get("country"),
        ).key()
    )


def _address_row(
    code: str, kind: str, name: str, line1: str, line2: str | None, city: str, state: str, zip_code: str
) -> dict[str, Any]:
    row = {
        "customer_code": code,
        "kind": kind,
        "name": name,
        "line1": line1,
        "line2": line2,
        "city": city,
        "state": state,
        "postal_code": zip_code,
        "country": "US",
    }
    row["address_key"] = address_key(row)
    return row


def _bb_address(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "address1": row["line1"],
        "address2": row["line2"] or "",
        "city": row["city"],
        "state": row["state"],
        "zip": row["postal_code"],
        "country": row["country"],
    }


# --- The world ----------------------------------------------------------------------------------


def build_world(seed: int = 7, styles: int = 40, customers: int = 30, orders: int = DEFAULT_ORDERS) -> DemoWorld:
    """The whole demo brand. Same arguments, same world (compare with ``==``)."""
    if styles < 3 or customers < 3:
        raise ValueError("the demo needs at least 3 styles and 3 customers")
    rng = random.Random(seed)
    world = DemoWorld(seed=seed)
    world.divisions = [dict(r) for r in DIVISIONS]
    world.sales_reps = [dict(r) for r in SALES_REPS]
    world.terms = [dict(r) for r in TERMS]
    world.ship_vias = [dict(r) for r in SHIP_VIAS]
    world.warehouses = [dict(r) for r in WAREHOUSES]
    world.price_types = [dict(r) for r in PRICE_TYPES]
    _build_catalog(world, rng, styles)
    _build_customers(world, rng, customers)
    world.brandboom_showrooms = _showrooms(len(world.styles))
    world.brandboom_products = _products(world)
    _build_orders(world, rng, orders)
    _build_catalog_extras(world)
    return world


def _build_catalog(world: DemoWorld, rng: random.Random, n_styles: int) -> None:
    counter = 0
    for i in range(n_styles):
        cat = rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS)[0]
        number = f"HP{cat.letter}{101 + i}"
        season = "FA26" if rng.random() < 0.45 else "SP27"
        world.styles.append(
            {
                "number": number,
                "description": f"{rng.choice(STYLE_ADJECTIVES)} {rng.choice(cat.nouns)}",
                "division_code": "WHSL",
                "season": season,
                "category": cat.name,
                "active": True,
            }
        )
        whl = money(rng.randrange(cat.whl[0] * 2, cat.whl[1] * 2 + 1)) / 2  # whole or half dollars
        whl = money(whl)
        world.style_prices += [
            {"style_number": number, "price_type_code": "WHL", "price": whl},
            {
                "style_number": number,
                "price_type_code": "MSRP",
                "price": money((whl * MSRP_FACTOR).to_integral_value()),
            },
            {"style_number": number, "price_type_code": "WHLE", "price": money(whl * EUR_PER_USD)},
        ]
        palette = PALETTES[cat.palette]
        for code, name in rng.sample(palette, rng.randint(2, min(4, len(palette)))):
            world.style_colors.append({"style_number": number, "color_code": code, "color_name": name})
            for size_index, size in enumerate(cat.sizes):
                sku = sku_id(counter)
                world.skus.append(
                    {
                        "sku": sku,
                        "style_number": number,
                        "color_code": code,
                        "size": size,
                        "size_index": size_index,
                        "upc": upc_for(100 + counter),
                    }
                )
                counter += 1
                _add_inventory(world, rng, sku, size, season)


IMAGE_HOST = f"https://images.{BRAND_NAME.lower().replace(' & ', 'and')}.example"
LINESHEET_FA26 = {
    "name": "Fall 2026 Wholesale",
    "season": "FA26",
    "delivery_start": date(2026, 7, 15),
    "delivery_end": date(2026, 9, 30),
}
COLOR_PREMIUM = Decimal("4.00")  # the demo's one colour that costs more than its style


def _build_catalog_extras(world: DemoWorld) -> None:
    """Retail prices, a colour's own price, two images and a linesheet. Drawn from the catalog
    without the random generator, so the orders built from it stay as they are."""
    msrp = {p["style_number"]: p["price"] for p in world.style_prices if p["price_type_code"] == "MSRP"}
    for p in world.style_prices:
        usd = msrp[p["style_number"]]
        p["retail"] = {"WHL": usd, "WHLE": money((usd * EUR_PER_USD).to_integral_value())}.get(p["price_type_code"])
    first = world.styles[0]["number"]
    colors = [c["color_code"] for c in world.style_colors if c["style_number"] == first]
    whl = next(p for p in world.style_prices if p["style_number"] == first and p["price_type_code"] == "WHL")
    world.style_color_prices = [
        {
            "style_number": first,
            "color_code": colors[-1],
            "price_type_code": "WHL",
            "wholesale": whl["price"] + COLOR_PREMIUM,
            "retail": whl["retail"] + 2 * COLOR_PREMIUM,
        }
    ]
    world.style_images = [
        {
            "style_number": first,
            "color_code": None,
            "kind": "style",
            "source": f"{IMAGE_HOST}/{first}/front.jpg",
            "folder": None,
            "position": 1,
            "alt_text": f"{world.styles[0]['description']}, front",
        },
        {
            "style_number": first,
            "color_code": colors[0],
            "kind": "style_color",
            "source": f"{IMAGE_HOST}/{first}/{colors[0]}.jpg",
            "folder": None,
            "position": 1,
            "alt_text": None,
        },
    ]
    world.linesheets = [dict(LINESHEET_FA26)]
    on_sheet = [s["number"] for s in world.styles if s["season"] == LINESHEET_FA26["season"]]
    world.linesheet_styles = [
        {"linesheet_name": LINESHEET_FA26["name"], "style_number": number, "position": i}
        for i, number in enumerate(on_sheet, start=1)
    ]


# Core sizes sell deeper: the stock a brand holds per size.
_SIZE_DEPTH = {"XS": 0.5, "S": 1.0, "M": 1.3, "L": 1.0, "XL": 0.6, "0": 0.4, "14": 0.4, "24": 0.5, "34": 0.4}


def _add_inventory(world: DemoWorld, rng: random.Random, sku: str, size: str, season: str) -> None:
    depth = _SIZE_DEPTH.get(size, 0.9)
    for wh, scale in (("MAIN", 96), ("WEST", 30)):
        on_hand = 0 if rng.random() < 0.08 else int(rng.randint(4, scale) * depth)
        allocated = min(on_hand, rng.randint(0, 8)) if rng.random() < 0.4 else 0
        future_qty, future_date = 0, None
        if wh == "MAIN" and (season == "SP27" or rng.random() < 0.15) and rng.random() < 0.5:
            future_qty = rng.choice((24, 36, 48, 72, 96))
            future_date = date(2026, 12, 1) + timedelta(days=7 * rng.randint(0, 10))
        world.inventory.append(
            {
                "sku": sku,
                "warehouse_code": wh,
                "on_hand": on_hand,
                "allocated": allocated,
                "future_qty": future_qty,
                "future_date": future_date,
            }
        )


def _customer_name(rng: random.Random, used: set[str], department_store: bool, city: str) -> str:
    for _ in range(20):
        name = (
            rng.choice(DEPARTMENT_STORES)
            if department_store
            else f"{rng.choice(BOUTIQUE_FIRST)} {rng.choice(BOUTIQUE_SECOND)}"
        )
        if name not in used:
            return name
    name = f"{name} {city}"
    n = 2
    while name in used:
        name, n = f"{name.rsplit(' #', 1)[0]} #{n}", n + 1
    return name


def _customer_code(name: str, counters: dict[str, int], used: set[str]) -> str:
    prefix = ("".join(ch for ch in name.upper() if ch.isalpha()) + "XXX")[:3]
    while True:
        counters[prefix] += 1
        n = counters[prefix]
        code = prefix + (f"{n:02d}" if n < 100 else base36(n, 2)) if n < 36 * 36 else "Z" + base36(len(used), 4)
        if code not in used and code != UNKNOWN_CUSTOMER_CODE:
            return code


def _build_customers(world: DemoWorld, rng: random.Random, n_customers: int) -> None:
    used_names: set[str] = set()
    used_codes: set[str] = set()
    counters: dict[str, int] = defaultdict(int)
    rep_codes = [r["code"] for r in SALES_REPS if r["code"] != "HOUSE"]
    for i in range(n_customers):
        dept = rng.random() < 0.15
        city, state, zip3, area = rng.choice(CITIES)
        name = _customer_name(rng, used_names, dept, city)
        used_names.add(name)
        code = _customer_code(name, counters, used_codes)
        used_codes.add(code)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
        if dept:
            terms = rng.choice(("N60", "N60", "N30"))
            ship_via = rng.choice(("LTL", "UPSG"))
        else:
            terms = rng.choices(("N30", "CC", "COD", "PREPAY"), weights=(55, 25, 8, 12))[0]
            ship_via = rng.choices(("UPSG", "FDX2", "WILL"), weights=(78, 16, 6))[0]
        world.customers.append(
            {
                "code": code,
                "name": name,
                "email": f"{'buying' if dept else 'orders'}@{slug}.com",
                "phone": f"({area}) 555-{rng.randint(100, 199):04d}",
                "division_code": "WHSL",
                "terms_code": terms,
                "ship_via_code": ship_via,
                "rep_code": "HOUSE" if i % 9 == 8 else rng.choice(rep_codes),
            }
        )
        world.brandboom_customer_ids[code] = 880001 + i
        street = f"{rng.randint(10, 2999)} {rng.choice(STREETS)}"
        zip_code = f"{zip3}{rng.randint(1, 99):02d}"
        suite = rng.choice((None, None, f"Suite {rng.randint(1, 4)}00"))
        if dept:
            # Head office bills; goods go to the DC, and some to the flagship store.
            world.customer_addresses.append(
                _address_row(code, "billing", f"{name} Accounts Payable", street, suite, city, state, zip_code)
            )
            dc_city, dc_state, dc_zip3, _ = rng.choice(CITIES)
            world.customer_addresses.append(
                _address_row(
                    code,
                    "shipping",
                    f"{name} Distribution Center",
                    f"{rng.randint(100, 9999)} Commerce Pkwy",
                    f"Dock {rng.randint(1, 12)}",
                    dc_city,
                    dc_state,
                    f"{dc_zip3}{rng.randint(1, 99):02d}",
                )
            )
            if rng.random() < 0.6:
                world.customer_addresses.append(
                    _address_row(
                        code,
                        "shipping",
                        f"{name} Flagship",
                        f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
                        None,
                        city,
                        state,
                        f"{zip3}{rng.randint(1, 99):02d}",
                    )
                )
        else:
            # A boutique bills and receives at the shop; some have a second door.
            world.customer_addresses.append(_address_row(code, "billing", name, street, suite, city, state, zip_code))
            world.customer_addresses.append(_address_row(code, "shipping", name, street, suite, city, state, zip_code))
            if rng.random() < 0.25:
                c2, s2, z2, _ = rng.choice(CITIES)
                world.customer_addresses.append(
                    _address_row(
                        code,
                        "shipping",
                        f"{name} ({c2})",
                        f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
                        None,
                        c2,
                        s2,
                        f"{z2}{rng.randint(1, 99):02d}",
                    )
                )


# --- Brandboom showrooms and products (seed 001 shapes) -----------------------------------------


def _showrooms(n_products: int) -> list[dict[str, Any]]:
    common = {
        "brandID": BRANDBOOM_BRAND_ID,
        "dateFormat": "MM/dd/yyyy",
        "numberFormat": "#,##0.00|.|,|",
        "terms": list(TERMS_MAPPINGS),
        "shippingOptions": list(SHIP_VIA_MAPPINGS),
        "numActiveProducts": n_products,
        "customFields": [],
        "currentClass": "Showroom",
    }
    return [
        {
            "id": SHOWROOM_US_ID,
            "name": f"{BRAND_NAME} Wholesale",
            "urlAlias": "hp-whsl",
            "isMaster": True,
            "locale": "en_US",
            "languageCode": "en",
            "priceTiers": [PRICE_TIER_IDS["WHL"]],
            "orderMinimum": 500,
            **common,
        },
        {
            "id": SHOWROOM_EU_ID,
            "name": f"{BRAND_NAME} Europe",
            "urlAlias": "hp-eu",
            "isMaster": False,
            "locale": "en_GB",
            "languageCode": "en",
            "priceTiers": [PRICE_TIER_IDS["WHLE"]],
            "orderMinimum": 750,
            **common,
        },
    ]


def _products(world: DemoWorld) -> list[dict[str, Any]]:
    """One Product per style (combine mode), priced in the WHL tier, SKUs carrying the ERP ids."""
    prices = {(p["style_number"], p["price_type_code"]): p["price"] for p in world.style_prices}
    colors: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in world.style_colors:
        colors[c["style_number"]].append(c)
    skus: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in world.skus:
        skus[s["style_number"]].append(s)
    stock: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for inv in world.inventory:
        stock[inv["sku"]].append(inv)
    products = []
    sku_object_id = 7696290
    for i, style in enumerate(world.styles):
        number = style["number"]
        season_name, ship = SEASONS[style["season"]]
        created = f"{date(2026, 5, 1) + timedelta(days=i % 60)} 09:00:00"
        options = [c["color_code"] for c in colors[number]]
        sizes = list(dict.fromkeys(s["size"] for s in skus[number]))
        whl, msrp = prices[(number, "WHL")], prices[(number, "MSRP")]
        sku_objects, option_counts = [], {o: 0 for o in options}
        for s in skus[number]:
            sku_stock = stock[s["sku"]]
            count = sum(max(r["on_hand"] - r["allocated"], 0) for r in sku_stock)
            future = sum(r["future_qty"] for r in sku_stock)
            future_dates = [r["future_date"] for r in sku_stock if r["future_date"]]
            option_counts[s["color_code"]] += count
            sku_objects.append(
                {
                    "id": sku_object_id,
                    "styleNumber": number,
                    "option": s["color_code"],
                    "size": s["size"],
                    "skuNumber": s["sku"],
                    "UPC": s["upc"],
                    "description": "",
                    "processingCount": 0,
                    "completeCount": 0,
                    "pickAndPackCount": 0,
                    "shippedCount": 0,
                    "pendingCount": 0,
                    "exportedCount": 0,
                    "inventoryCount": count,
                    "futureProcessingCount": 0,
                    "futureCompleteCount": 0,
                    "futurePickAndPackCount": 0,
                    "futureShippedCount": 0,
                    "futurePendingCount": 0,
                    "futureExportedCount": 0,
                    "futureInventoryCount": future or None,
                    "futureInventoryDate": str(min(future_dates)) if future_dates else None,
                    "accountID": -1,
                    "brandID": BRANDBOOM_BRAND_ID,
                    "objectID": None,
                    "warehouseID": -1,
                    "dateCreated": created,
                    "dateModified": created,
                    "dateInventoryModified": created,
                    "importing": 0,
                    "isDeleted": False,
                    "isActive": True,
                }
            )
            sku_object_id += 1
        product_id = 1497120 + i
        products.append(
            {
                "id": product_id,
                "accountID": BRANDBOOM_ACCOUNT_ID,
                "brandID": BRANDBOOM_BRAND_ID,
                "statusLock": 0,
                "styleNumber": number,
                "options": options,
                "sizes": sizes,
                "optionAvailableCounts": {o: {"count": n, "hasInfinite": False} for o, n in option_counts.items()},
                "prepacks": [],
                "category": [style["category"]],
                "types": ["Womens"] if style["category"] in ("Dresses",) else ["Womens", "Mens"],
                "imageIDs": [],
                "referenceName": style["description"],
                "referenceDate": str(ship),
                "dateCreated": created,
                "dateModified": created,
                "status": 0,
                "minQTY": 1,
                "imageReference": "",
                "description": {
                    "id": product_id,
                    "language": "en",
                    "name": style["description"],
                    "description": f"{style['description']} from the {season_name} collection.",
                    "season": [season_name],
                    "sizeRange": sizes[0] if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}",
                    "options": options,
                    "optionsTranslation": {c["color_code"]: c["color_name"] for c in colors[number]},
                    "type": "I",
                },
                "price": {
                    "id": product_id,
                    "priceTierID": PRICE_TIER_IDS["WHL"],
                    "currency": "USD",
                    "MSRP": json_number(msrp),
                    "price": json_number(whl),
                    "discount": 0,
                    "priceRange": [json_number(whl)],
                    "currentClass": "ProductPrice",
                },
                "skus": sku_objects,
                "reference": "",
                "statusSR": 0,
                "currentClass": "Product",
                "showroomStatuses": [],
            }
        )
    return products


# --- Brandboom orders ---------------------------------------------------------------------------


class _OrderFactory:
    """Valid orders drawn from the world's own customers and SKUs."""

    def __init__(self, world: DemoWorld) -> None:
        self.world = world
        self.customers = {c["code"]: c for c in world.customers}
        self.billing: dict[str, dict[str, Any]] = {}
        self.shipping: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for a in world.customer_addresses:
            if a["kind"] == "billing":
                self.billing.setdefault(a["customer_code"], a)
            else:
                self.shipping[a["customer_code"]].append(a)
        self.whl = {p["style_number"]: p["price"] for p in world.style_prices if p["price_type_code"] == "WHL"}
        self.by_style_color: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for s in world.skus:
            self.by_style_color[(s["style_number"], s["color_code"])].append(s)
        self.style_colors = list(self.by_style_color)
        self.rep_names = {code: BRANDBOOM_REP_NAMES[code] for code in BRANDBOOM_REP_NAMES}
        self.terms_text = {code: text for text, code in TERMS_MAPPINGS.items()}
        self.shipping_text = {code: text for text, code in SHIP_VIA_MAPPINGS.items()}

    def order(self, rng: random.Random, order_id: int, customer_code: str, n_lines: int, po: str) -> dict[str, Any]:
        c = self.customers[customer_code]
        ship_to = rng.choice(self.shipping[customer_code])
        created = ORDER_CREATED + timedelta(days=rng.randint(0, 6))
        ship = date(2027, 1, 15) + timedelta(days=rng.choice((0, 0, 14, 31)))
        customer = {
            "id": self.world.brandboom_customer_ids[customer_code],
            "code": customer_code,
            "name": c["name"],
            "email": c["email"],
            "billingAddress": _bb_address(self.billing[customer_code]),
            "shippingAddress": _bb_address(ship_to),
        }
        return {
            "id": order_id,
            "poNumber": po,
            "status": "export",
            "customer": customer,
            "rep": self.rep_names[c["rep_code"]],
            "terms": self.terms_text.get(c["terms_code"], "Credit Card"),
            "shippingOption": self.shipping_text.get(c["ship_via_code"], "UPS Ground"),
            "warehouseID": rng.choice((-1, -1, -1, 1, 2)),
            "shipDate": str(ship),
            "cancelDate": str(ship + timedelta(days=30)),
            "dateCreated": f"{created} {rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:00",
            "currency": "USD",
            "priceTierID": PRICE_TIER_IDS["WHL"],
            "items": self.items(rng, n_lines),
        }

    def items(self, rng: random.Random, n_lines: int) -> list[dict[str, Any]]:
        """A buyer's lines: a few style-colors, a run of sizes each, in packs of 2-6."""
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        while len(lines) < n_lines:
            run = self.by_style_color[rng.choice(self.style_colors)]
            start = rng.randrange(len(run))
            for s in run[start : start + rng.randint(1, 4)]:
                if len(lines) == n_lines or s["sku"] in seen:
                    continue
                seen.add(s["sku"])
                lines.append(
                    {
                        "styleNumber": s["style_number"],
                        "optionCode": s["color_code"],
                        "size": s["size"],
                        "skuNumber": s["sku"],
                        "UPC": s["upc"],
                        "quantity": rng.choice((2, 3, 4, 6, 6, 12)),
                        "price": json_number(self.whl[s["style_number"]]),
                    }
                )
        return lines


def _build_orders(world: DemoWorld, rng: random.Random, n_orders: int) -> None:
    f = _OrderFactory(world)
    codes = [c["code"] for c in world.customers]
    po_seq = iter(range(rng.randint(24000, 25000), 10**9))

    def new(order_id: int, customer_code: str | None = None, n_lines: int | None = None) -> dict[str, Any]:
        code = customer_code or rng.choice(codes)
        return f.order(rng, order_id, code, n_lines or rng.randint(1, 12), f"PO-{next(po_seq)}")

    specials: dict[int, dict[str, Any]] = {}
    expected = dict(EXPECTED_ERRORS)

    o = new(O_CUSTOMER_UNKNOWN, n_lines=4)
    o["customer"].update(
        {"id": 889001, "code": UNKNOWN_CUSTOMER_CODE, "name": "Magnolia Row", "email": "hello@magnoliarow.com"}
    )
    new_store = {
        "name": "Magnolia Row",
        "address1": "88 Bull St",
        "address2": "",
        "city": "Savannah",
        "state": "GA",
        "zip": "31401",
        "country": "US",
    }
    o["customer"]["billingAddress"] = dict(new_store)
    o["customer"]["shippingAddress"] = dict(new_store)
    specials[o["id"]] = o

    o = new(O_REP_UNKNOWN, n_lines=3)
    o["rep"] = UNKNOWN_REP
    specials[o["id"]] = o

    o = new(O_TERMS_UNMAPPED, n_lines=5)
    o["terms"] = UNMAPPED_TERMS
    specials[o["id"]] = o

    o = new(O_SHIP_VIA_UNMAPPED, n_lines=2)
    o["shippingOption"] = UNMAPPED_SHIPPING
    specials[o["id"]] = o

    # Line 2: a color the style is not made in (added on Brandboom only, so no SKU number / UPC).
    o = new(O_SKU_UNKNOWN, n_lines=3)
    line = o["items"][1]
    line.update({"optionCode": UNKNOWN_COLOR, "skuNumber": "", "UPC": ""})
    expected[O_SKU_UNKNOWN] = (
        ExpectedError("sku_unknown", 2, "items", f"{line['styleNumber']}/{UNKNOWN_COLOR}/{line['size']}"),
    )
    specials[o["id"]] = o

    # Lines 1 and 3: a style the ERP does not have, and a size the style's run does not have.
    o = new(O_SKU_UNKNOWN_TWO, n_lines=3)
    o["items"][0].update({"styleNumber": UNKNOWN_STYLE, "optionCode": "BLK", "size": "M", "skuNumber": "", "UPC": ""})
    line = o["items"][2]
    line.update({"size": UNKNOWN_SIZE, "skuNumber": "", "UPC": ""})
    expected[O_SKU_UNKNOWN_TWO] = (
        EXPECTED_ERRORS[O_SKU_UNKNOWN_TWO][0],
        ExpectedError("sku_unknown", 3, "items", f"{line['styleNumber']}/{line['optionCode']}/{UNKNOWN_SIZE}"),
    )
    specials[o["id"]] = o

    o = new(O_QUANTITY_INVALID, n_lines=3)
    o["items"][0]["quantity"] = 0
    o["items"][1]["quantity"] = "abc"
    specials[o["id"]] = o

    o = new(O_PRICE_INVALID, n_lines=3)
    o["items"][1]["price"] = NEGATIVE_PRICE
    specials[o["id"]] = o

    o = new(O_DATES_ORDER, n_lines=2)
    o["shipDate"], o["cancelDate"] = "2027-02-15", "2027-01-31"
    expected[O_DATES_ORDER] = (ExpectedError("dates_invalid", None, "cancelDate", "2027-01-31"),)
    specials[o["id"]] = o

    o = new(O_DATES_UNPARSEABLE, n_lines=2)
    o["shipDate"] = BAD_DATE
    specials[o["id"]] = o

    # A pop-up shop address the ERP does not have: imports with a warning.
    o = new(O_ADDRESS_NEW, n_lines=4)
    popup = {
        "name": f"{o['customer']['name']} Pop-Up",
        "address1": "1 Ferry Building",
        "address2": "Stall 12",
        "city": "San Francisco",
        "state": "CA",
        "zip": "94111",
        "country": "US",
    }
    o["customer"]["shippingAddress"] = popup
    specials[o["id"]] = o

    o = new(O_WAREHOUSE_UNMAPPED, n_lines=3)
    o["warehouseID"] = UNMAPPED_WAREHOUSE
    specials[o["id"]] = o

    first = new(O_DUPLICATE_FIRST, n_lines=3)
    second = new(O_DUPLICATE_PO, customer_code=first["customer"]["code"], n_lines=2)
    second["poNumber"] = first["poNumber"]
    second["dateCreated"] = first["dateCreated"][:11] + "23:59:00"
    expected[O_DUPLICATE_PO] = (ExpectedError("duplicate_po", None, "poNumber", first["poNumber"]),)
    specials[first["id"]] = first
    specials[second["id"]] = second

    o = new(O_PAYLOAD_INVALID, n_lines=2)
    o["items"] = "see attached PDF"
    expected[O_PAYLOAD_INVALID] = (ExpectedError("payload_invalid", None, "items", "see attached PDF"),)
    specials[o["id"]] = o

    valid = [new(300001 + i) for i in range(max(n_orders - len(specials), 0))]
    others = []
    for oid, status in NOT_EXPORT_ORDERS.items():
        o = new(oid)
        o["status"] = status
        others.append(o)
    world.brandboom_orders = valid + [specials[k] for k in sorted(specials)] + others
    world.expected_errors = expected


def make_order(
    world: DemoWorld, *, id: int, customer: str | dict[str, Any] | None = None, lines: int = 3, **overrides: Any
) -> dict[str, Any]:
    """One more valid Brandboom order (status "export") for ``world``; ``overrides`` replace keys.

    The same (world seed, id) gives the same order. ``customer`` is a customer code or row; by
    default one is drawn. The PO number is "T-<id>", so it clashes with no demo order."""
    rng = random.Random(f"{world.seed}:order:{id}")
    code = customer["code"] if isinstance(customer, dict) else customer
    code = code or rng.choice(world.customers)["code"]
    order = _OrderFactory(world).order(rng, id, code, lines, f"T-{id}")
    order.update(overrides)
    return order


def brandboom_seed(world: DemoWorld | None = None) -> dict[str, list[dict[str, Any]]]:
    """What the Brandboom sandbox starts with: showrooms, products and orders (deep copies)."""
    world = world or build_world()
    return {
        "showrooms": copy.deepcopy(world.brandboom_showrooms),
        "products": copy.deepcopy(world.brandboom_products),
        "orders": copy.deepcopy(world.brandboom_orders),
    }


def demo_mappings() -> list[dict[str, str]]:
    """The Brandboom site's mappings the brand already set up (rows for models.Mapping, no site_id)."""
    rows = [{"kind": "terms", "partner_value": k, "erp_code": v} for k, v in TERMS_MAPPINGS.items()]
    rows += [{"kind": "ship_via", "partner_value": k, "erp_code": v} for k, v in SHIP_VIA_MAPPINGS.items()]
    rows += [
        {"kind": "sales_rep", "partner_value": name, "erp_code": code} for code, name in BRANDBOOM_REP_NAMES.items()
    ]
    rows += [{"kind": "warehouse", "partner_value": k, "erp_code": v} for k, v in WAREHOUSE_MAPPINGS.items()]
    return [{**r, "how": "manual"} for r in rows]


# --- Into the ERP tables ------------------------------------------------------------------------

# Rows per INSERT statement in load_erp; SQLAlchemy's insertmanyvalues pages within it. A batch of
# inventory rows costs ~0.2 MB of parameters.
LOAD_BATCH_ROWS = 5000


def _models() -> dict[str, Any]:
    from models.erp import (
        Customer,
        CustomerAddress,
        Division,
        Inventory,
        Linesheet,
        LinesheetStyle,
        PriceType,
        SalesRep,
        ShipVia,
        Sku,
        Style,
        StyleColor,
        StyleColorPrice,
        StyleImage,
        StylePrice,
        Terms,
        Warehouse,
    )

    return {
        "divisions": Division,
        "sales_reps": SalesRep,
        "terms": Terms,
        "ship_vias": ShipVia,
        "warehouses": Warehouse,
        "price_types": PriceType,
        "customers": Customer,
        "customer_addresses": CustomerAddress,
        "styles": Style,
        "style_colors": StyleColor,
        "skus": Sku,
        "style_prices": StylePrice,
        "style_color_prices": StyleColorPrice,
        "style_images": StyleImage,
        "linesheets": Linesheet,
        "linesheet_styles": LinesheetStyle,
        "inventory": Inventory,
    }


def load_erp(session: Any, world: DemoWorld) -> dict[str, int]:
    """Insert the world's ERP master data; rows already there are left alone (ON CONFLICT DO
    NOTHING). Returns the rows inserted per table. The caller commits."""
    from sqlalchemy.dialects.postgresql import insert

    counts: dict[str, int] = {}
    for name, model in _models().items():
        rows = world.table(name)
        inserted = 0
        stmt = insert(model).on_conflict_do_nothing().returning(model.id)
        for start in range(0, len(rows), LOAD_BATCH_ROWS):
            # render_nulls: keep None values in the statement, so rows with and without a value
            # (future_date, address line 2) share one batch instead of breaking it into many.
            result = session.execute(
                stmt, rows[start : start + LOAD_BATCH_ROWS], execution_options={"render_nulls": True}
            )
            inserted += len(result.all())
        counts[name] = inserted
    return counts


# --- As ERP export files (the formats services/erp_load.py reads) --------------------------------

CUSTOMER_HEADER = [
    "Customer Code",
    "Name",
    "Email",
    "Phone",
    "Terms",
    "Ship Via",
    "Rep",
    "Division",
    "Address Type",
    "Address 1",
    "Address 2",
    "City",
    "State",
    "Zip",
    "Country",
]
STYLE_HEADER = [
    "Style",
    "Description",
    "Season",
    "Category",
    "Division",
    "Color Code",
    "Color Name",
    "Size",
    "SKU",
    "UPC",
]
INVENTORY_HEADER = ["SKU", "Warehouse", "On Hand", "Allocated", "Future Qty", "Future Date"]


def customer_file_rows(world: DemoWorld, codes: set[str] | None = None) -> list[list[Any]]:
    """One row per address; a billing address that is also a shipping address is one row, type blank."""
    by_code: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in world.customer_addresses:
        by_code[a["customer_code"]].append(a)
    rows = []
    for c in world.customers:
        if codes is not None and c["code"] not in codes:
            continue
        addresses = by_code[c["code"]]
        shipping_keys = {a["address_key"] for a in addresses if a["kind"] == "shipping"}
        billing_keys = {a["address_key"] for a in addresses if a["kind"] == "billing"}
        head = [
            c["code"],
            c["name"],
            c["email"],
            c["phone"],
            c["terms_code"],
            c["ship_via_code"],
            c["rep_code"],
            c["division_code"],
        ]
        for a in addresses:
            both = a["address_key"] in shipping_keys and a["address_key"] in billing_keys
            if both and a["kind"] == "shipping":
                continue
            kind = "" if both else ("B" if a["kind"] == "billing" else "S")
            rows.append(
                head + [kind, a["line1"], a["line2"] or "", a["city"], a["state"], a["postal_code"], a["country"]]
            )
            head = [c["code"]] + [""] * 7  # later rows of a customer: the code alone, like an ERP export
    return rows


def style_file_rows(world: DemoWorld, styles: set[str] | None = None) -> tuple[list[str], list[list[Any]]]:
    types = [p["code"] for p in world.price_types]
    header = STYLE_HEADER + [f"price:{t}" for t in types]
    prices = {(p["style_number"], p["price_type_code"]): p["price"] for p in world.style_prices}
    style_by = {s["number"]: s for s in world.styles}
    color_names = {(c["style_number"], c["color_code"]): c["color_name"] for c in world.style_colors}
    rows = []
    for k in world.skus:
        if styles is not None and k["style_number"] not in styles:
            continue
        s = style_by[k["style_number"]]
        rows.append(
            [
                s["number"],
                s["description"],
                s["season"],
                s["category"],
                s["division_code"],
                k["color_code"],
                color_names[(s["number"], k["color_code"])],
                k["size"],
                k["sku"],
                k["upc"],
            ]
            + [str(prices[(s["number"], t)]) for t in types]
        )
    return header, rows


def inventory_file_rows(world: DemoWorld, skus: set[str] | None = None) -> list[list[Any]]:
    return [
        [
            i["sku"],
            i["warehouse_code"],
            i["on_hand"],
            i["allocated"],
            i["future_qty"] or "",
            i["future_date"].isoformat() if i["future_date"] else "",
        ]
        for i in world.inventory
        if skus is None or i["sku"] in skus
    ]


def write_erp_files(
    world: DemoWorld,
    directory: Path | str,
    *,
    styles: int | None = None,
    customers: int | set[str] | None = None,
    xlsx: bool = False,
) -> dict[str, Path]:
    """Write customers.csv, styles.csv, inventory.csv (and styles.xlsx) for the first ``styles``
    styles and the first ``customers`` customers (or those codes) of the world; all by default.
    Returns the paths by kind."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    codes = (
        {c["code"] for c in world.customers[:customers]}
        if isinstance(customers, int)
        else set(customers)
        if customers is not None
        else None
    )
    style_set = {s["number"] for s in world.styles[:styles]} if styles is not None else None
    header, style_rows = style_file_rows(world, style_set)
    sku_set = {r[8] for r in style_rows}
    paths = {"customers": out / "customers.csv", "styles": out / "styles.csv", "inventory": out / "inventory.csv"}
    for kind, head, rows in (
        ("customers", CUSTOMER_HEADER, customer_file_rows(world, codes)),
        ("styles", header, style_rows),
        ("inventory", INVENTORY_HEADER, inventory_file_rows(world, sku_set)),
    ):
        with paths[kind].open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(head)
            writer.writerows(rows)
    if xlsx:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "Styles"
        ws.append(header)
        for row in style_rows:
            ws.append(row)  # UPCs stay text, as an ERP export writes them
        paths["styles_xlsx"] = out / "styles.xlsx"
        wb.save(paths["styles_xlsx"])
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "samples":
        print("usage: python -m bobbin.demo samples [DIR]", file=sys.stderr)
        return 2
    target = Path(args[1]) if len(args) > 1 else Path(__file__).resolve().parent.parent / "samples"
    world = build_world()
    # Five boutiques and a department store (billing and shipping addresses on separate rows).
    dept = next(c["code"] for c in world.customers if c["email"].startswith("buying@"))
    codes = {c["code"] for c in world.customers[:5]} | {dept}
    for kind, path in write_erp_files(world, target, styles=4, customers=codes, xlsx=True).items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
