"""The demo brand's sites: one per partner whose sandbox ``bobbin run`` starts, each pointed at its
sandbox. Demo data, like ``bobbin/demo.py``: the one place outside ``connectors/`` and
``sandbox/`` that names partners, because the demo brand sells through them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from bobbin.demo import DemoWorld
from core.db import session_scope
from core.settings import get_settings
from models import Site
from services.fixes import upsert_mapping
from services.sites import create_site

DEMO_SITE = "brandboom-demo"
JOOR_DEMO_SITE = "joor-demo"
LOOP_DEMO_SITE = "loop-demo"
EBAY_DEMO_SITE = "ebay-demo"
# The eBay demo store's buyers pay through eBay (paymentMethod EBAY) and pick USPS Priority.
EBAY_SHIP_VIA = {"code": "USPSP", "description": "USPS Priority Mail"}
# The demo brand's Shopify customer account in the ERP: returns whose shopper is no ERP customer
# go there (seed 003), and their AR debits offset the unapplied credit on it.
SHOPIFY_CUSTOMER = {"code": "SHOPIFY", "name": "Shopify web store", "email": "webstore@harborandpine.example"}


def load_demo(sandbox_url: str | None = None) -> str:
    """Load the demo ERP data and the demo Brandboom site (once); point the site at the sandbox."""
    url = sandbox_url or f"http://127.0.0.1:{get_settings().sandbox_port}/api/v2"
    return _load_site(DEMO_SITE, url, _brandboom_demo_site)


def load_joor_demo(joor_url: str | None = None) -> str:
    """The same for the demo JOOR site (and the ERP rows only the JOOR demo needs)."""
    url = joor_url or f"http://127.0.0.1:{get_settings().joor_sandbox_port}/v2"
    return _load_site(JOOR_DEMO_SITE, url, _joor_demo_site)


def load_loop_demo(loop_url: str | None = None) -> str:
    """The same for the demo Loop Returns site (and the Shopify customer account it credits)."""
    url = loop_url or f"http://127.0.0.1:{get_settings().loop_sandbox_port}/api/v1"
    return _load_site(LOOP_DEMO_SITE, url, _loop_demo_site)


def load_ebay_demo(ebay_url: str | None = None) -> str:
    """The same for the demo eBay store (and the ship-via its buyers pick)."""
    url = ebay_url or f"http://127.0.0.1:{get_settings().ebay_sandbox_port}"
    return _load_site(EBAY_DEMO_SITE, url, _ebay_demo_site)


# Partner kind -> its demo site's name.
DEMO_SITE_NAMES: dict[str, str] = {
    "brandboom": DEMO_SITE,
    "joor": JOOR_DEMO_SITE,
    "loop": LOOP_DEMO_SITE,
    "ebay": EBAY_DEMO_SITE,
}

# Partner kind -> its demo site's loader (given the sandbox's base URL). A partner without one
# has its sandbox started but no demo site.
DEMO_SITES: dict[str, Callable[[str | None], str]] = {
    "brandboom": load_demo,
    "joor": load_joor_demo,
    "loop": load_loop_demo,
    "ebay": load_ebay_demo,
}


def _load_site(name: str, url: str, create: Callable[[Session, DemoWorld, str], None]) -> str:
    from bobbin.demo import build_world, load_erp

    with session_scope() as s:
        site = s.scalar(select(Site).where(Site.name == name))
        if site is not None:
            site.base_url = url
            return f"demo site {name} already there"
        world = build_world()
        counts = load_erp(s, world)
        create(s, world, url)
    loaded = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    return f"demo site {name} added" + (f"; loaded demo ERP data: {loaded}" if loaded else "")


def _brandboom_demo_site(s: Session, world: DemoWorld, url: str) -> None:
    from bobbin.demo import demo_mappings
    from sandbox.keys import sandbox_keys

    site = create_site(
        s,
        name=DEMO_SITE,
        kind="brandboom",
        base_url=url,
        credentials=dict(zip(("public_key", "secret_key"), sandbox_keys(), strict=True)),
        division=world.divisions[0]["code"],
        notify_emails=["orders@harborandpine.example"],
        settings={"default_warehouse": world.warehouses[0]["code"], "price_tiers": _brandboom_price_tiers()},
    )
    for m in demo_mappings():
        upsert_mapping(s, site.id, m["kind"], m["partner_value"], m["erp_code"], m.get("how", "manual"))


def _brandboom_price_tiers() -> dict[str, int | None]:
    """The demo showrooms' price tiers per ERP price type (catalog push); MSRP travels inside each
    tier as its retail price, so the MSRP price type itself is left out."""
    from bobbin.demo import PRICE_TIER_IDS, PRICE_TYPES

    return {p["code"]: PRICE_TIER_IDS.get(p["code"]) for p in PRICE_TYPES}


def _joor_demo_site(s: Session, world: DemoWorld, url: str) -> None:
    from bobbin.demo_joor import extra_erp_rows, joor_mappings
    from models import Customer, CustomerAddress
    from sandbox.keys import joor_token

    extra = extra_erp_rows(world)
    for model, rows in (
        (Customer, extra.get("customers", [])),
        (CustomerAddress, extra.get("customer_addresses", [])),
    ):
        if rows:
            s.execute(pg_insert(model).on_conflict_do_nothing(), rows)
    setup = joor_mappings()
    site = create_site(
        s,
        name=JOOR_DEMO_SITE,
        kind="joor",
        base_url=url,
        credentials={"api_token": joor_token()},
        division=world.divisions[0]["code"],
        notify_emails=["orders@harborandpine.example"],
        settings={"default_warehouse": world.warehouses[0]["code"], **setup["settings"]},
    )
    for m in setup["mappings"]:
        upsert_mapping(s, site.id, m["kind"], m["partner_value"], m["erp_code"], m.get("how", "manual"))


def _loop_demo_site(s: Session, world: DemoWorld, url: str) -> None:
    from models import Customer
    from sandbox.loop.demo import loop_api_key, loop_webhook_secret

    s.execute(pg_insert(Customer).on_conflict_do_nothing(), [SHOPIFY_CUSTOMER])
    create_site(
        s,
        name=LOOP_DEMO_SITE,
        kind="loop",
        base_url=url,
        credentials={"api_key": loop_api_key(), "webhook_secret": loop_webhook_secret()},
        division=world.divisions[0]["code"],
        notify_emails=["returns@harborandpine.example"],
        # The demo shop's returns go back to June: the first poll reads them all.
        settings={
            "default_warehouse": world.warehouses[0]["code"],
            "shopify_customer": SHOPIFY_CUSTOMER["code"],
            "returns_first_days": 365,
        },
    )


def _ebay_demo_site(s: Session, world: DemoWorld, url: str) -> None:
    from models import ShipVia
    from sandbox.ebay.demo import ebay_client_id, ebay_client_secret, ebay_refresh_token

    s.execute(pg_insert(ShipVia).on_conflict_do_nothing(), [EBAY_SHIP_VIA])
    site = create_site(
        s,
        name=EBAY_DEMO_SITE,
        kind="ebay",
        base_url=url,
        credentials={
            "client_id": ebay_client_id(),
            "client_secret": ebay_client_secret(),
            "refresh_token": ebay_refresh_token(),
        },
        division=world.divisions[0]["code"],
        notify_emails=["orders@harborandpine.example"],
        # The demo store's sales go back to September: the first read takes them all.
        settings={
            "default_warehouse": world.warehouses[0]["code"],
            "orders_first_days": 365,
            # the demo seller's inventory location and business policies (made once in eBay)
            "merchant_location_key": "harbor-main",
            "fulfillment_policy_id": "6196932000",
            "payment_policy_id": "6196944000",
            "return_policy_id": "6196938000",
        },
    )
    upsert_mapping(s, site.id, "terms", "EBAY", "CC", "manual")
    upsert_mapping(s, site.id, "ship_via", "USPSPriority", EBAY_SHIP_VIA["code"], "manual")
