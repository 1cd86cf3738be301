"""The eBay sandbox's demo orders, and `serve_demo` for the sandbox seeded with the demo brand.

One ``random.Random(seed)`` picks dates, buyers and items, so the same seed gives the same orders on
every machine. Every payment state (PAID, PENDING, FAILED, FULLY_REFUNDED, PARTIALLY_REFUNDED) and
fulfilment state (NOT_STARTED, IN_PROGRESS, FULFILLED) occurs, with a cancelled order, a buyer
without an e-mail, an order whose tax the seller collects, and a multi-line order. Dates run from
:data:`DEMO_START` to :data:`DEMO_NOW`.

The SKUs are the demo brand's (``bobbin/demo.py``: 5-character ERP ids): :data:`BUILTIN_CATALOG`
holds a few of them, and :func:`catalog_from_world` turns the whole demo world's catalog into rows.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.text import Text

from sandbox.brandboom.demo import _serve
from sandbox.ebay import api as c
from sandbox.ebay.server import FIRST_LINE_ITEM_ID, FIRST_SALES_RECORD, EbaySandbox, _order_id, build_order

Obj = dict[str, Any]

# The demo application's keys and the demo seller's refresh token: demo values, published on purpose.
# SANDBOX_EBAY_CLIENT_ID / SANDBOX_EBAY_CLIENT_SECRET / SANDBOX_EBAY_REFRESH_TOKEN replace them.
DEMO_CLIENT_ID = "HarborPi-bobbin-SBX-4f1c2a9e7-6d1b3c58"
DEMO_CLIENT_SECRET = "SBX-4f1c2a9e71d2-8b3e-4a07-9c15-2e6f"
DEMO_REFRESH_TOKEN = "v^1.1#i^1#harbor-demo-ebay-refresh-token-71d2"
DEMO_SEED = 11
DEMO_START = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)
DEMO_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the last demo change is before this
DEMO_ORDERS = 20

# A few of the demo brand's SKUs, as catalog rows (sku, title, retail price, colour, size).
BUILTIN_CATALOG: tuple[Obj, ...] = (
    {"sku": "109IX", "title": "Dune Fisherman Sweater - Olive / XS", "price": "94.00", "color": "Olive", "size": "XS"},
    {"sku": "1LP4S", "title": "Dune Fisherman Sweater - Olive / S", "price": "94.00", "color": "Olive", "size": "S"},
    {"sku": "274QN", "title": "Dune Fisherman Sweater - Olive / M", "price": "94.00", "color": "Olive", "size": "M"},
    {"sku": "2SU8K", "title": "Cedar Wrap Dress - Ink / 4", "price": "128.00", "color": "Ink", "size": "4"},
    {"sku": "3DNCF", "title": "Cedar Wrap Dress - Ink / 6", "price": "128.00", "color": "Ink", "size": "6"},
    {"sku": "3YJG8", "title": "Harbor Crew Tee - Chalk / M", "price": "38.00", "color": "Chalk", "size": "M"},
    {"sku": "4JBK3", "title": "Harbor Crew Tee - Chalk / L", "price": "38.00", "color": "Chalk", "size": "L"},
    {"sku": "54HNY", "title": "Slate Straight Jean - Indigo / 28", "price": "118.00", "color": "Indigo", "size": "28"},
)
BUYERS = (
    ("maya_chen", "Maya Chen"),
    ("jreid77", "Jonah Reid"),
    ("priya.nair", "Priya Nair"),
    ("lortega", "Luis Ortega"),
    ("hbrooks_pdx", "Hannah Brooks"),
    ("omar.h", "Omar Haddad"),
    ("gracekim", "Grace Kim"),
    ("theo_walsh", "Theo Walsh"),
)
UNICODE_BUYER = ("zoe_angstrom", "Zoë Ångström")
# (payment, fulfilment, cancelled): each state at least once, then random ones.
STATES: tuple[tuple[str, str, bool], ...] = (
    (c.PAYMENT_PAID, c.FULFILLMENT_NOT_STARTED, False),
    (c.PAYMENT_PAID, c.FULFILLMENT_IN_PROGRESS, False),
    (c.PAYMENT_PAID, c.FULFILLMENT_FULFILLED, False),
    (c.PAYMENT_PENDING, c.FULFILLMENT_NOT_STARTED, False),
    (c.PAYMENT_FAILED, c.FULFILLMENT_NOT_STARTED, False),
    (c.PAYMENT_FULLY_REFUNDED, c.FULFILLMENT_NOT_STARTED, True),
    (c.PAYMENT_PARTIALLY_REFUNDED, c.FULFILLMENT_FULFILLED, False),
)


def ebay_client_id() -> str:
    return os.environ.get("SANDBOX_EBAY_CLIENT_ID") or DEMO_CLIENT_ID


def ebay_client_secret() -> str:
    return os.environ.get("SANDBOX_EBAY_CLIENT_SECRET") or DEMO_CLIENT_SECRET


def ebay_refresh_token() -> str:
    return os.environ.get("SANDBOX_EBAY_REFRESH_TOKEN") or DEMO_REFRESH_TOKEN


def catalog_from_world(world: Any) -> list[Obj]:
    """Catalog rows from a ``bobbin.demo.DemoWorld``: each SKU with its style's description and its
    colour and size as the eBay title, the style's MSRP and its UPC."""
    titles = {s["number"]: s["description"] for s in world.styles}
    colors = {(s["style_number"], s["color_code"]): s["color_name"] for s in world.style_colors}
    msrp = {p["style_number"]: p["price"] for p in world.style_prices if p["price_type_code"] == "MSRP"}
    rows = []
    for s in world.skus:
        color = colors[(s["style_number"], s["color_code"])]
        rows.append(
            {
                "sku": s["sku"],
                "title": f"{titles[s['style_number']]} - {color} / {s['size']}"[: c.TITLE_MAX_CHARS],
                "price": str(msrp[s["style_number"]]),
                "color": color,
                "size": str(s["size"]),
                "upc": s["upc"],
            }
        )
    return rows


def demo_orders(catalog: Sequence[Mapping[str, Any]] | None = None, *, seed: int = DEMO_SEED) -> list[Obj]:
    """The demo orders as the sandbox stores them, oldest first."""
    rows = [dict(r) for r in (catalog or BUILTIN_CATALOG)]
    rng = random.Random(seed)
    states = list(STATES) + [rng.choice(STATES[:3]) for _ in range(DEMO_ORDERS - len(STATES))]
    span = int((DEMO_NOW - DEMO_START).total_seconds()) - 3 * 86400
    starts = sorted(DEMO_START + timedelta(seconds=rng.randrange(span)) for _ in states)
    made: list[Obj] = []
    line_id = FIRST_LINE_ITEM_ID
    for n, ((payment, fulfilment, cancelled), created) in enumerate(zip(states, starts, strict=True)):
        username, full_name = UNICODE_BUYER if n == 9 else rng.choice(BUYERS)
        count = 3 if n == 2 else rng.choice((1, 1, 1, 2))
        lines = []
        for row in rng.sample(rows, k=min(count, len(rows))):
            lines.append(
                {
                    "sku": row["sku"],
                    "title": row["title"],
                    "price": row["price"],
                    "quantity": rng.choice((1, 1, 2)),
                    "variation": {"Color": row.get("color", ""), "Size": row.get("size", "")},
                }
            )
        number = FIRST_SALES_RECORD + n
        modified = min(created + timedelta(hours=rng.randint(0, 24 * 6)), DEMO_NOW - timedelta(hours=1))
        made.append(
            build_order(
                _order_id(number),
                lines=lines,
                created_at=created,
                modified_at=modified if fulfilment != c.FULFILLMENT_NOT_STARTED or cancelled else created,
                payment_status=payment,
                fulfillment_status=fulfilment,
                cancel_state=c.CANCEL_CANCELED if cancelled else c.CANCEL_NONE_REQUESTED,
                username=username,
                full_name=full_name,
                email=None if n == 4 else f"{username.replace('_', '.')}@example.com",
                sales_record=number,
                first_line_item_id=line_id,
                ebay_collects_tax=n != 6,
                delivery_discount="8.95" if n == 7 else None,
            )
        )
        line_id += len(lines)
    return made


def demo_seed(catalog: Sequence[Mapping[str, Any]] | None = None, *, seed: int = DEMO_SEED) -> Obj:
    """``EbaySandbox(seed=...)``: the demo seller's orders (no inventory yet: Bobbin lists it)."""
    return {"orders": demo_orders(catalog, seed=seed)}


def serve_demo(host: str, port: int, faults: Sequence[Any], out: Console) -> None:
    """Serve until Ctrl+C. Raises OSError when the port cannot be listened on."""
    from bobbin.demo import build_world

    sb = EbaySandbox(
        host,
        port,
        client_id=ebay_client_id(),
        client_secret=ebay_client_secret(),
        refresh_token=ebay_refresh_token(),
        seed=demo_seed(catalog_from_world(build_world())),
    )
    count = len(sb.orders())
    out.print(Text.assemble(("eBay sandbox ", "bold"), "listening at ", (sb.url, "bold green"), "  (Ctrl+C stops it)"))
    out.print(f"  {count} orders of the demo brand's eBay store, in every payment and fulfilment state.")
    out.print(f"  client id {ebay_client_id()}   client secret {ebay_client_secret()}", soft_wrap=True)
    out.print(f"  refresh token {ebay_refresh_token()}", soft_wrap=True)
    _serve(sb, faults, out)
