"""``python -m sandbox.joor --port 8802 --token TOKEN [--demo]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sandbox.joor.server import serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.joor", description="Run the JOOR API v2 sandbox in the foreground."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument("--token", required=True, help="the API token clients must send (as 'OAuth2 <base64 token>')")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="serve the demo brand's JOOR account (bobbin.demo_joor) instead of the tiny built-in seed",
    )
    args = parser.parse_args(argv)
    seed = None
    if args.demo:
        from bobbin.demo import build_world
        from bobbin.demo_joor import joor_seed

        seed = joor_seed(build_world())
    serve(args.host, args.port, token=args.token, seed=seed)


if __name__ == "__main__":
    main()
