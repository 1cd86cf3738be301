"""``POST /events/{site}``: the receiver of the events partners push (webhooks).

It reads the raw body (at most ``MAX_BODY_BYTES``: 413 beyond) and hands it, with the headers, to
``services.events.receive`` off the event loop (its database work is synchronous), then answers
what that decided: 200 stored (or already stored), 400 malformed (kept for a person), 401 bad or
missing signature or too old (nothing stored), 404 no such site or its partner takes no events.
"""

from __future__ import annotations

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from services import events

log = structlog.get_logger()

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: far above any webhook a partner documents


def _send_to_worker(row_id: int) -> None:
    """Only the event's row id goes on the queue (the payload stays in Postgres)."""
    from worker import app

    app.send_task(events.TASK, args=[row_id])


def _too_large(site: str) -> Response:
    log.warning("event_refused", site=site, result="too_large", limit=MAX_BODY_BYTES)
    return JSONResponse({"error": f"the body is larger than {MAX_BODY_BYTES} bytes"}, status_code=413)


async def receive(request: Request) -> Response:
    site = str(request.path_params["site"])
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _too_large(site)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return _too_large(site)
        chunks.append(chunk)
    outcome = await run_in_threadpool(
        events.receive, site, b"".join(chunks), dict(request.headers), enqueue=_send_to_worker
    )
    return JSONResponse(outcome.body, status_code=outcome.status)


routes: list[BaseRoute] = [Route("/{site}", receive, methods=["POST"])]
