"""The Loop sandbox's demo returns, and `serve_demo` for the sandbox seeded with the demo brand.

One ``random.Random(seed)`` picks dates, shoppers, reasons and items, so the same seed gives the
same returns on every machine. Every state (open, closed, cancelled, expired, review) meets every
outcome (refund, credit, exchange, exchange+refund, upsell, exchange+credit) at least once; a few
more returns follow, among them a closed return that was never processed, two returns of one order,
and a shopper whose name is not ASCII (so webhook bodies carry ``\\uXXXX``). Dates run from
:data:`DEMO_START` to :data:`DEMO_NOW`, more than Loop's 120-day window, so a poller must walk it
in windows.

The SKUs are the demo brand's (``bobbin/demo.py``: 5-character ERP ids): :data:`BUILTIN_CATALOG`
holds a few of them, and :func:`catalog_from_world` turns the whole demo world's catalog into rows.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.text import Text

from sandbox.brandboom.demo import _serve
from sandbox.loop import api as c
from sandbox.loop.server import DEFAULT_FIRST_RETURN_ID, DEFAULT_SHOP_ID, LoopSandbox, build_return

Obj = dict[str, Any]

# The demo shop's API key (Returns scope) and webhook secret: demo values, published on purpose.
# SANDBOX_LOOP_API_KEY / SANDBOX_LOOP_WEBHOOK_SECRET in the environment replace them.
DEMO_API_KEY = "harbor-demo-loop-key-3c9e71d2"
DEMO_WEBHOOK_SECRET = "harbor-demo-loop-webhook-secret-8a41"
# Where the demo shop's webhooks go, when set (`bobbin run` sets it to its web app's receiver).
EVENTS_URL_ENV = "SANDBOX_EVENTS_URL"
DEMO_SEED = 7
DEMO_START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DEMO_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the last demo change is before this
FIRST_ORDER_NUMBER = 1001
EXTRA_RETURNS = 12  # beyond one per (state, outcome)

# A few of the demo brand's SKUs, as catalog rows (sku, title, variant title, retail price, UPC).
BUILTIN_CATALOG: tuple[Obj, ...] = (
    {"sku": "109IX", "title": "Dune Fisherman Sweater", "variant_title": "Olive / XS", "price": "94.00"},
    {"sku": "1LP4S", "title": "Dune Fisherman Sweater", "variant_title": "Olive / S", "price": "94.00"},
    {"sku": "274QN", "title": "Dune Fisherman Sweater", "variant_title": "Olive / M", "price": "94.00"},
    {"sku": "2SU8K", "title": "Cedar Wrap Dress", "variant_title": "Ink / 4", "price": "128.00"},
    {"sku": "3DNCF", "title": "Cedar Wrap Dress", "variant_title": "Ink / 6", "price": "128.00"},
    {"sku": "3YJG8", "title": "Harbor Crew Tee", "variant_title": "Chalk / M", "price": "38.00"},
    {"sku": "4JBK3", "title": "Harbor Crew Tee", "variant_title": "Chalk / L", "price": "38.00"},
    {"sku": "54HNY", "title": "Slate Straight Jean", "variant_title": "Indigo / 28", "price": "118.00"},
)
SHOPPERS = (
    ("Maya", "Chen"),
    ("Jonah", "Reid"),
    ("Priya", "Nair"),
    ("Luis", "Ortega"),
    ("Hannah", "Brooks"),
    ("Omar", "Haddad"),
    ("Grace", "Kim"),
    ("Theo", "Walsh"),
)
UNICODE_SHOPPER = ("Zoë", "Ångström")
REASONS = (
    ("Size", "Too small"),
    ("Size", "Too large"),
    ("Quality", "Arrived damaged"),
    ("Style", "Not as pictured"),
    ("Other", "Changed my mind"),
)
NOTES = (
    "Label scanned at the carrier; parcel in transit.",
    "Shopper asked to swap the exchange size.",
)


def loop_api_key() -> str:
    return os.environ.get("SANDBOX_LOOP_API_KEY") or DEMO_API_KEY


def loop_webhook_secret() -> str:
    return os.environ.get("SANDBOX_LOOP_WEBHOOK_SECRET") or DEMO_WEBHOOK_SECRET


def catalog_from_world(world: Any) -> list[Obj]:
    """Catalog rows from a ``bobbin.demo.DemoWorld``: each SKU with its style's description, its
    colour and size, the style's MSRP (what a shopper paid) and its UPC."""
    titles = {s["number"]: s["description"] for s in world.styles}
    colors = {(s["style_number"], s["color_code"]): s["color_name"] for s in world.style_colors}
    msrp = {p["style_number"]: p["price"] for p in world.style_prices if p["price_type_code"] == "MSRP"}
    return [
        {
            "sku": s["sku"],
            "title": titles[s["style_number"]],
            "variant_title": f"{colors[(s['style_number'], s['color_code'])]} / {s['size']}",
            "price": str(msrp[s["style_number"]]),
            "barcode": s["upc"],
        }
        for s in world.skus
    ]


def demo_returns(catalog: Sequence[Mapping[str, Any]] | None = None, *, seed: int = DEMO_SEED) -> list[Obj]:
    """The demo returns as the sandbox stores them, oldest first (ids from the sandbox's first id)."""
    rows = [dict(r) for r in (catalog or BUILTIN_CATALOG)]
    rng = random.Random(seed)
    combos = [(state, outcome) for state in c.STATES for outcome in c.OUTCOMES]
    combos += [(rng.choice(c.STATES), rng.choice(c.OUTCOMES)) for _ in range(EXTRA_RETURNS)]
    span = int((DEMO_NOW - DEMO_START).total_seconds()) - 30 * 86400
    starts = sorted(DEMO_START + timedelta(seconds=rng.randrange(span)) for _ in combos)
    made: list[Obj] = []
    unprocessed_closed = False
    for n, ((state, outcome), created) in enumerate(zip(combos, starts, strict=True)):
        first, last = UNICODE_SHOPPER if n == 3 else rng.choice(SHOPPERS)
        email = f"{first.lower()}.{last.lower()}@example.com" if n != 3 else "zoe.angstrom@example.com"
        count = rng.choice((1, 1, 2, 2, 3)) if "+" not in outcome else rng.choice((2, 3))
        lines = [_line(rng.choice(rows), rows, rng, outcome) for _ in range(count)]
        # A closed refund that was closed without processing (nothing paid), once.
        processed = None
        if state == c.STATE_CLOSED and outcome == c.OUTCOME_REFUND and not unprocessed_closed:
            processed, unprocessed_closed = False, True
        updated = min(created + timedelta(hours=rng.randint(0, 24 * 20)), DEMO_NOW - timedelta(hours=1))
        order_number = FIRST_ORDER_NUMBER + n
        if n == len(combos) - 1:
            order_number = made[-1][c.ReturnField.ORDER_NUMBER]  # a second return of the same order
        made.append(
            build_return(
                DEFAULT_FIRST_RETURN_ID + n,
                state=state,
                outcome=outcome,
                lines=lines,
                created_at=created,
                updated_at=updated if state != c.STATE_OPEN or rng.random() < 0.5 else created,
                shop_id=DEFAULT_SHOP_ID,
                customer={"email": email, "first_name": first, "last_name": last},
                order_number=order_number,
                reasons=[rng.choice(REASONS) for _ in lines],
                discount_rate=Decimal("0.10") if rng.random() < 0.25 else Decimal("0"),
                processed=processed,
                label_status={c.STATE_OPEN: "in_transit", c.STATE_REVIEW: "delivered"}.get(state, "delivered"),
            )
        )
    return made


def demo_seed(catalog: Sequence[Mapping[str, Any]] | None = None, *, seed: int = DEMO_SEED) -> Obj:
    """``LoopSandbox(seed=...)``: the demo shop, its returns, and notes on two of them."""
    returns = demo_returns(catalog, seed=seed)
    reviewed = [r[c.ReturnField.ID] for r in returns if r[c.ReturnField.STATE] == c.STATE_REVIEW]
    return {
        "shop_id": DEFAULT_SHOP_ID,
        c.R_RETURNS: returns,
        "notes": {str(reviewed[0]): [NOTES[0]], str(reviewed[1]): list(NOTES)},
    }


def serve_demo(host: str, port: int, faults: Sequence[Any], out: Console) -> None:
    """Serve until Ctrl+C. Raises OSError when the port cannot be listened on."""
    from bobbin.demo import build_world

    # `bobbin run` names its web app's receiver for the demo site (SANDBOX_EVENTS_URL).
    events_url = os.environ.get(EVENTS_URL_ENV) or None
    sb = LoopSandbox(
        host,
        port,
        api_key=loop_api_key(),
        seed=demo_seed(catalog_from_world(build_world())),
        webhook_url=events_url,
        webhook_secret=loop_webhook_secret() if events_url else None,
    )
    count = len(sb.returns())
    out.print(Text.assemble(("Loop sandbox ", "bold"), "listening at ", (sb.url, "bold green"), "  (Ctrl+C stops it)"))
    out.print(f"  {count} returns of the demo brand's shop, in every state and outcome.")
    out.print(f"  API key (X-Authorization) {loop_api_key()}   webhook secret {loop_webhook_secret()}")
    if events_url:
        out.print(f"  Webhooks go to {events_url} (signed with the secret above).", soft_wrap=True)
    else:
        out.print("  Webhooks: POST /_sandbox/webhooks {url, secret} names the receiver.", soft_wrap=True)
    _serve(sb, faults, out)


def _line(row: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], rng: random.Random, outcome: str) -> Obj:
    """A returned unit; an exchange names the variant it is swapped for ([INF] its variant title)."""
    line = dict(row)
    if "exchange" in outcome or outcome == c.OUTCOME_UPSELL:
        siblings = [r for r in rows if r["title"] == row["title"] and r["sku"] != row["sku"]]
        line["exchange_variant"] = rng.choice(siblings)["variant_title"] if siblings else row["variant_title"]
    return line
