"""Structured logs (structlog): JSON in production, readable in a terminal, secrets filtered.

Context (task id, task name, site, run id) is bound with ``structlog.contextvars`` once per task
(``worker`` signals and ``services.runs``) and appears on every line the task logs. Standard
library loggers (Celery's, kombu's) go through the same processors.

``configure()`` takes its level and format from the settings (``LOG_LEVEL``, ``LOG_FORMAT``) unless
the caller names them, so a script that uses the services from Python and configures logging gets
the level the environment asks for, as the worker and ``bobbin web`` do.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"(secret|password|passwd|token|signature|credential|api[_-]?key|auth)", re.I)
_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Make sure this exact value never appears in a log line, whatever key carries it."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _known_secrets:
            if secret in value:
                value = value.replace(secret, "****")
        return value
    if isinstance(value, dict):
        return {k: ("****" if SECRET_KEYS.search(str(k)) and v else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


def _redact_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return redact(event_dict)


def configure(level: str | None = None, fmt: str | None = None, stream: Any = None) -> None:
    """Send structlog and standard-library logs through one handler on ``stream`` (stderr).
    ``level`` / ``fmt`` default to the ``LOG_LEVEL`` / ``LOG_FORMAT`` settings; a name given here
    wins (the CLI logs warnings only, whatever ``LOG_LEVEL`` says)."""
    if level is None or fmt is None:
        from core.settings import get_settings

        settings = get_settings()
        level = level or settings.log_level
        fmt = fmt or settings.log_format
    level = level.upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR")
    stream = stream or sys.stderr
    json_out = fmt == "json" or (fmt == "auto" and not stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info if json_out else structlog.processors.StackInfoRenderer(),
        _redact_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(default=str)
        if json_out
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "kombu", "amqp", "tornado.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
