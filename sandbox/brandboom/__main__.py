"""``python -m sandbox.brandboom --port 8801 --public-key KEY --secret-key SECRET``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sandbox.brandboom.server import serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.brandboom", description="Run the Brandboom API v2 sandbox in the foreground."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--secret-key", required=True)
    args = parser.parse_args(argv)
    serve(args.host, args.port, public_key=args.public_key, secret_key=args.secret_key)


if __name__ == "__main__":
    main()
