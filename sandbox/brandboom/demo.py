"""`bobbin sandbox --partner brandboom`: the Brandboom sandbox seeded with the demo brand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text


def serve_demo(host: str, port: int, faults: Sequence[Any], out: Console) -> None:
    """Serve until Ctrl+C. Raises OSError when the port cannot be listened on."""
    from bobbin.demo import PRICE_TIER_CURRENCY, PRICE_TIER_IDS, brandboom_seed
    from core.crypto import mask
    from sandbox.brandboom import BrandboomSandbox
    from sandbox.keys import are_demo_keys, sandbox_keys

    public_key, secret_key = sandbox_keys()
    seed: dict[str, Any] = dict(brandboom_seed())
    # The account's price tiers with their currencies (the showrooms list only their ids).
    seed["priceTiers"] = [
        {"id": tier, "name": code, "currency": PRICE_TIER_CURRENCY[tier]} for code, tier in PRICE_TIER_IDS.items()
    ]
    sb = BrandboomSandbox(host, port, public_key=public_key, secret_key=secret_key, seed=seed)
    demo = are_demo_keys(public_key, secret_key)
    waiting = sum(1 for o in seed.get("orders", []) if o.get("status") == "export")
    products, orders = len(seed.get("products", [])), len(seed.get("orders", []))
    out.print(
        Text.assemble(("Brandboom sandbox ", "bold"), "listening at ", (sb.url, "bold green"), "  (Ctrl+C stops it)")
    )
    out.print(f'  {products} products, {orders} orders ({waiting} waiting in status "export") from the demo brand.')
    out.print(f"  Public key {public_key}   Secret key {secret_key if demo else mask(secret_key)}")
    env = f"BOBBIN_CRED_PUBLIC_KEY={public_key} BOBBIN_CRED_SECRET_KEY={secret_key} " if demo else ""
    out.print(
        f"  Add it as a site: [bold]{env}bobbin sites add sandbox --kind brandboom --url {sb.url} "
        "--division WHSL[/bold]",
        soft_wrap=True,
    )
    _serve(sb, faults, out)


def _serve(sb: Any, faults: Sequence[Any], out: Console) -> None:
    for f in faults:
        sb.faults.inject(f)
        out.print(f"  [yellow]Fault[/yellow] {', '.join(f'{k}={v}' for k, v in f.describe().items())}")
    try:
        sb.serve_forever()
    except KeyboardInterrupt:
        out.print("Sandbox stopped.")
