"""The browser tests: Playwright (Python) driving a real Chromium — Debian's, found by
``tests/browser/chromium.py`` — headless, against the real app under uvicorn on the test Postgres
and Redis. Without a Chromium the tests of this directory are skipped with one line saying how
to install it; the rest of the suite runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.chromium import find_chromium
from tests.console_app import Served
from tests.integration.conftest import celery_app, sandbox  # noqa: F401  (the fixtures, by name)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    assert executable, "the tests of this directory skip themselves when there is no Chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A page in a new browser context: no cookies from another test. Console errors of the page
    (a script refused by the Content-Security-Policy, say) are kept in ``page.errors``."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda msg: pg.errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    yield pg
    context.close()


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@pytest.fixture()
def fresh(db: str, celery_app: Any) -> Any:  # noqa: F811
    """An empty database and Redis: no account, session, queued task or counted failure."""
    return celery_app


@pytest.fixture()
def demo_site(fresh: Any, sandbox: Any) -> int:  # noqa: F811
    """The demo brand with its Brandboom site on the sandbox: the site's id."""
    from sqlalchemy import select

    from bobbin.demo_sites import DEMO_SITE, load_demo
    from core.db import session_scope
    from models import Site

    load_demo(sandbox.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == DEMO_SITE)))
