"""``bobbin web``: the web app under uvicorn — the operator console (``/``), the inbound event
receiver (``POST /events/SITE``) and ``GET /healthz``."""

from __future__ import annotations

from typing import Annotated

import typer

from bobbin.cli.output import ensure_database, fail
from core.settings import LOCAL_WEB_HOST


def web(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 in a container).")
    ] = LOCAL_WEB_HOST,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Port (default WEB_PORT, 8800).")] = None,
) -> None:
    """Serve the web app in the foreground: the operator console at /, partners' events (webhooks)
    at POST /events/SITE.

    Put it behind the brand's TLS proxy; partners sign each event, and a request whose signature
    does not match the site's secret is refused and not stored. Ctrl+C stops it."""
    import uvicorn

    from core import runtime
    from core.logging import configure
    from core.settings import get_settings

    settings = get_settings()
    configure(level=settings.log_level, fmt=settings.log_format)  # the outcome of every event is logged
    ensure_database()
    runtime.redis_url(settings)  # the broker new events are handed to (embedded when REDIS_URL is unset)
    try:
        uvicorn.run(
            "web.app:create_app",
            factory=True,
            host=host,
            port=settings.web_port if port is None else port,
            log_config=None,  # uvicorn's lines go through Bobbin's logging (core.logging)
            server_header=False,
            proxy_headers=True,
        )
    except OSError as exc:
        fail(f"the web app cannot listen on {host}:{port or settings.web_port}: {exc.strerror or exc}")


def register(app: typer.Typer) -> None:
    app.command("web")(web)
