"""The ASGI app: ``create_app()`` is the factory uvicorn serves (``web.app:create_app``).

Each part of the web side is a list of routes mounted at its own prefix, so the operator console
joins as one more ``Mount`` next to the event receiver without touching it.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from web import events


async def healthz(request: Request) -> Response:
    """Liveness: the process answers (the database is checked by the requests that need it)."""
    return JSONResponse({"ok": True})


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/events", routes=events.routes),
        # the operator console mounts here next (Mount("/", routes=console.routes) or similar)
    ]


def create_app() -> Starlette:
    return Starlette(routes=routes())
