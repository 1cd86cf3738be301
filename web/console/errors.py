"""The app's answers to what no route handled: an unknown path (404 page), a method a route does
not take (405), and an error in the code (500 page, logged with its traceback, never shown).

The event receiver and ``/healthz`` are for machines: their refusals stay plain text."""

from __future__ import annotations

import uuid

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from web.console.auth import load_visitor
from web.console.render import error_page

log = structlog.get_logger()

MACHINE_PATHS = ("/events", "/healthz")


def _for_machines(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PATHS)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _for_machines(request):
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
    try:
        await load_visitor(request)  # the page shows the navigation to a signed-in visitor
    except Exception:
        pass
    if exc.status_code == 404:
        return error_page(request, 404, "Page not found", "There is no page at this address.")
    if exc.status_code == 405:
        return error_page(request, 405, "Not allowed here", "This address does not take that kind of request.")
    return error_page(request, exc.status_code, "Refused", str(exc.detail))


async def server_error(request: Request, exc: Exception) -> Response:
    reference = uuid.uuid4().hex[:8]
    log.error("web_error", path=request.url.path, reference=reference, exc_info=exc)
    if _for_machines(request):
        return PlainTextResponse(f"internal error (reference {reference})", status_code=500)
    return error_page(
        request,
        500,
        "Something went wrong",
        f"The page could not be drawn; the error is logged under reference {reference}. Try again, "
        "and if it keeps happening, give the reference to whoever runs Bobbin.",
    )


exception_handlers = {HTTPException: http_error, 500: server_error}
