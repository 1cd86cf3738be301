"""Where the Chromium the browser tests drive is: ``CHROMIUM_PATH``, else Debian's
``/usr/bin/chromium``, else ``chromium`` / ``chromium-browser`` on PATH. Playwright's own browser
download is not used (it cannot be fetched on these machines); `.ci/run` installs Debian's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

INSTALL_HINT = (
    "no Chromium for the browser tests: install it (`apt-get install chromium`) or set CHROMIUM_PATH "
    "to a Chromium executable"
)


def find_chromium() -> str | None:
    given = os.environ.get("CHROMIUM_PATH")
    if given:
        return given if Path(given).is_file() and os.access(given, os.X_OK) else None
    debian = Path("/usr/bin/chromium")
    if debian.is_file() and os.access(debian, os.X_OK):
        return str(debian)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_missing() -> str | None:
    """Why Playwright cannot be used here (None when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the browser tests need Playwright: pip install -e '.[test]'"
    return None
