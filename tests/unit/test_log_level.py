"""LOG_LEVEL applies wherever logging is configured, including a script that uses the services
from Python and calls ``core.logging.configure()`` without naming a level.

Given LOG_LEVEL in the environment, when logging is configured without a level, then lines below
that level are dropped (structlog's and the standard library's alike), and a level the caller
names still wins.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from core.logging import configure
from core.settings import SettingsError, get_settings, load_settings


@pytest.fixture(autouse=True)
def restore_logging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No setting from the developer's environment or a stray .env file; logging as it was after."""
    for name in ("LOG_LEVEL", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOBBIN_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
    get_settings.cache_clear()


def log_lines(**configure_args: str) -> list[dict[str, str]]:
    """Configure logging into a buffer, log one line per level (structlog and stdlib), read them back."""
    buffer = io.StringIO()
    configure(stream=buffer, **configure_args)
    structlog.configure(cache_logger_on_first_use=False)  # this test's loggers keep no configuration
    log = structlog.get_logger("bobbin.test")
    std = logging.getLogger("bobbin.test.stdlib")
    log.debug("s-debug")
    log.info("s-info")
    log.warning("s-warning")
    std.info("l-info")
    std.error("l-error")
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def events(lines: list[dict[str, str]]) -> list[str]:
    return [line["event"] for line in lines]


def test_log_level_from_the_environment_applies_when_no_level_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # given LOG_LEVEL=WARNING (and JSON lines)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("LOG_FORMAT", "json")
    # when logging is configured as a script using the services would
    lines = log_lines()
    # then only warnings and above are written, from structlog and from the standard library
    assert events(lines) == ["s-warning", "l-error"]
    assert [line["level"] for line in lines] == ["warning", "error"]


def test_debug_from_the_environment_shows_debug_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")  # any case
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert events(log_lines()) == ["s-debug", "s-info", "s-warning", "l-info", "l-error"]


def test_the_default_is_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert events(log_lines()) == ["s-info", "s-warning", "l-info", "l-error"]


def test_a_level_the_caller_names_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    # given LOG_LEVEL=DEBUG, when the caller (the CLI, a test) names ERROR, then ERROR it is
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert events(log_lines(level="ERROR", fmt="json")) == ["l-error"]
    # and a level named in lower case is understood
    assert events(log_lines(level="warning", fmt="json")) == ["s-warning", "l-error"]


def test_a_bad_log_level_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load_settings()
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure(level="loud", fmt="json", stream=io.StringIO())
