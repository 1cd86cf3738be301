"""An eBay sale's page in a real browser (Playwright driving Chromium): what the buyer paid — the
one freight amount, the deposit, the tax eBay remits — beside the ERP order, and a held sale's
reason. Set ``CONSOLE_SCREENSHOTS`` to a directory to keep a screenshot of each page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import INSTALL_HINT, find_chromium, playwright_missing
from tests.console_app import PASSWORD, Served, add_user
from tests.integration.conftest import ebay, ebay_site  # noqa: F401  (the fixtures, by name)

if playwright_missing():
    pytest.skip(str(playwright_missing()), allow_module_level=True)
if find_chromium() is None:
    pytest.skip(INSTALL_HINT, allow_module_level=True)

from playwright.sync_api import expect  # only once Playwright is known to be there

pytestmark = pytest.mark.integration


def snap(page: Any, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_an_ebay_sale_shows_freight_deposit_and_tax_and_a_held_one_its_reason(
    page: Any,
    web: Served,
    fresh: Any,
    ebay_site: int,  # noqa: F811
) -> None:
    from sqlalchemy import select

    from connectors.ebay.mapper import order_extras
    from core.db import session_scope
    from models import InboundOrder
    from services.pipeline import import_site_orders

    # Given the demo store's sales imported (17 in the ERP, 2 held)
    import_site_orders(ebay_site)
    with session_scope() as s:
        sold = s.scalars(select(InboundOrder).where(InboundOrder.state == "imported").order_by(InboundOrder.id)).first()
        assert sold is not None
        sold_id, extras = sold.id, order_extras(sold.raw)
        held_id = s.scalar(select(InboundOrder.id).where(InboundOrder.state == "invalid").order_by(InboundOrder.id))
    add_user("olivia", "operator")
    page.goto(f"{web.url}/login")
    page.get_by_label("Name").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # When the operator opens an imported sale
    page.goto(f"{web.url}/orders/{sold_id}")
    # Then its page shows what the buyer paid, as eBay's order says
    details = page.locator("dl").first
    expect(details).to_contain_text(f"Freight{extras.freight}")
    expect(details).to_contain_text(f"Deposit paid{extras.deposit}")
    expect(details).to_contain_text(f"Tax the marketplace remits{extras.ebay_collected_tax}")
    snap(page, "ebay-order-imported")

    # When they open a held one, then it says why it waits
    page.goto(f"{web.url}/orders/{held_id}")
    expect(page.get_by_text("Held: not ready on the partner").first).to_be_visible()
    snap(page, "ebay-order-held")
    assert page.errors == []
