"""The ASGI app: ``create_app()`` is the factory uvicorn serves (``web.app:create_app``).

Each part of the web side is a list of routes mounted at its own prefix: the event receiver at
``/events``, the console's static files at ``/static``, and the operator console's pages (sign-in
form, dashboard…) at the root. A path nobody serves is the console's 404 page; an error in the
code is its 500 page, never a traceback.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web import console, events
from web.console.errors import exception_handlers
from web.console.render import STATIC


async def healthz(request: Request) -> Response:
    """Liveness: the process answers (the database is checked by the requests that need it)."""
    return JSONResponse({"ok": True})


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/events", routes=events.routes),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *console.routes,
    ]


def create_app() -> Starlette:
    return Starlette(routes=routes(), exception_handlers=exception_handlers)
