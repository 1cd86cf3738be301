"""`bobbin sandbox --partner joor`: the JOOR sandbox seeded with the demo brand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from sandbox.brandboom.demo import _serve


def serve_demo(host: str, port: int, faults: Sequence[Any], out: Console) -> None:
    """Serve until Ctrl+C. Raises OSError when the port cannot be listened on."""
    from bobbin.demo import build_world
    from bobbin.demo_joor import joor_seed
    from sandbox.joor.server import JoorSandbox
    from sandbox.keys import joor_token

    sb = JoorSandbox(host, port, token=joor_token(), seed=joor_seed(build_world()))
    out.print(Text.assemble(("JOOR sandbox ", "bold"), "listening at ", (sb.url, "bold green"), "  (Ctrl+C stops it)"))
    out.print(
        f"  Add it as a site: [bold]BOBBIN_CRED_API_TOKEN=<token> bobbin sites add joor-sandbox --kind joor "
        f"--url {sb.url} --division WHSL[/bold]",
        soft_wrap=True,
    )
    _serve(sb, faults, out)
