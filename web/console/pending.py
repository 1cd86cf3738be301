"""The console's sections that are not built yet: each page says so and names the CLI command that
does the same work meanwhile. A section that is built replaces its line in ``PENDING`` (and its
route) with its own module's routes."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.console.auth import require
from web.console.render import render

# path: (title, least role, the CLI commands meanwhile)
PENDING: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "/writebacks": ("Writebacks", "viewer", ("bobbin status", "bobbin orders mark shipped|paid|void ID…")),
    "/mappings": ("Mappings", "viewer", ("bobbin map list SITE", 'bobbin map terms SITE "PARTNER VALUE" CODE')),
    "/sites": ("Sites", "admin", ("bobbin sites list", "bobbin sites show SITE", "bobbin sites set SITE KEY=VALUE")),
}


def _page(path: str) -> Callable[[Request], object]:
    title, role, commands = PENDING[path]

    @require(role)
    async def page(request: Request) -> Response:
        return render(request, "pending.html", {"title": title, "commands": commands})

    return page


routes: list[BaseRoute] = [Route(path, _page(path), methods=["GET"]) for path in PENDING]
