"""``python -m sandbox.loop --port 8803 [--api-key KEY] [--webhook-url URL --webhook-secret SECRET] [--demo]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sandbox.loop.demo import catalog_from_world, demo_seed, loop_api_key, loop_webhook_secret
from sandbox.loop.server import serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.loop", description="Run the Loop Returns API sandbox in the foreground."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8803)
    parser.add_argument(
        "--api-key", default=None, help="the X-Authorization key (Returns scope); default: the demo key"
    )
    parser.add_argument("--webhook-url", default=None, help="where return webhooks are sent (none: no webhooks)")
    parser.add_argument("--webhook-secret", default=None, help="the secret webhooks are signed with")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="returns of the demo brand's whole catalog (bobbin.demo) instead of the built-in SKUs",
    )
    args = parser.parse_args(argv)
    catalog = None
    if args.demo:
        from bobbin.demo import build_world

        catalog = catalog_from_world(build_world())
    serve(
        args.host,
        args.port,
        api_key=args.api_key or loop_api_key(),
        seed=demo_seed(catalog),
        webhook_url=args.webhook_url,
        webhook_secret=(args.webhook_secret or loop_webhook_secret()) if args.webhook_url else None,
    )


if __name__ == "__main__":
    main()
