"""The README's pictures of the console, taken from a running Bobbin (``make run``) with Debian's
Chromium, as a person sees them.

    make run                                   # in another terminal; wait for the first import
    .venv/bin/python docs/screenshots.py       # writes docs/img/console-*.png

It signs in with an admin account of its own (``screenshots``, made with a generated password
through ``services.users``, the same as ``bobbin users add``) and opens the dashboard, the
invalid view of the demo's Brandboom site and its first invalid order.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
ACCOUNT = "screenshots"


def account() -> tuple[str, str]:
    import secrets

    from core.db import session_scope
    from services.users import AccountError, add_user, set_password

    password = secrets.token_urlsafe(18)
    with session_scope() as s:
        try:
            add_user(s, ACCOUNT, password, "admin", actor="docs/screenshots.py")
        except AccountError:
            set_password(s, ACCOUNT, password, actor="docs/screenshots.py")
    return ACCOUNT, password


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from core.settings import get_settings
    from tests.browser.chromium import find_chromium

    base = os.environ.get("CONSOLE_URL") or get_settings().console_url()
    chromium = find_chromium()
    if not chromium:
        print("no Chromium: apt-get install chromium (or set CHROMIUM_PATH)", file=sys.stderr)
        return 1
    name, password = account()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
        page.goto(f"{base}/login")
        page.get_by_label("Name").fill(name)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        page.screenshot(path=str(OUT / "console-dashboard.png"))
        page.goto(f"{base}/holding?site=brandboom-demo&view=invalid")
        page.screenshot(path=str(OUT / "console-holding.png"))
        first = page.locator("table.orders tbody tr a").first
        first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "console-order.png"), full_page=False)
        browser.close()
    for shot in sorted(OUT.glob("console-*.png")):
        print(shot.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
