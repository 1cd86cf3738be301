"""``python -m sandbox.ebay --port 8804 [--client-id ID --client-secret SECRET --refresh-token TOKEN] [--demo]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sandbox.ebay.demo import catalog_from_world, demo_seed, ebay_client_id, ebay_client_secret, ebay_refresh_token
from sandbox.ebay.server import serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.ebay", description="Run the eBay REST Sell API sandbox in the foreground."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8804)
    parser.add_argument("--client-id", default=None, help="the application's client id; default: the demo one")
    parser.add_argument("--client-secret", default=None, help="the application's client secret; default: the demo one")
    parser.add_argument("--refresh-token", default=None, help="the seller's refresh token; default: the demo one")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="orders of the demo brand's whole catalog (bobbin.demo) instead of the built-in SKUs",
    )
    args = parser.parse_args(argv)
    catalog = None
    if args.demo:
        from bobbin.demo import build_world

        catalog = catalog_from_world(build_world())
    serve(
        args.host,
        args.port,
        client_id=args.client_id or ebay_client_id(),
        client_secret=args.client_secret or ebay_client_secret(),
        refresh_token=args.refresh_token or ebay_refresh_token(),
        seed=demo_seed(catalog),
    )


if __name__ == "__main__":
    main()
