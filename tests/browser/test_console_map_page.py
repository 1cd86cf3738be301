"""The Mappings page in a real browser (Playwright driving Chromium): an operator opens it from the
navigation, picks the ERP terms for the value an order waits for, and sees the order released.
Written given / when / then."""

from __future__ import annotations

from typing import Any

import pytest

from bobbin import demo
from tests.browser.chromium import INSTALL_HINT, find_chromium, playwright_missing
from tests.console_app import PASSWORD, Served, add_user

if playwright_missing():
    pytest.skip(str(playwright_missing()), allow_module_level=True)
if find_chromium() is None:
    pytest.skip(INSTALL_HINT, allow_module_level=True)

from playwright.sync_api import expect  # only once Playwright is known to be there

pytestmark = pytest.mark.integration


def test_operator_maps_the_waiting_terms_and_the_order_imports(page: Any, web: Served, demo_site: int) -> None:
    from core.db import session_scope
    from services.orders import resolve_order_refs, states_of
    from services.pipeline import import_site_orders

    # Given the demo's orders held (one waits for the payment terms "Net 90")
    import_site_orders(demo_site)
    with session_scope() as s:
        [order_id] = resolve_order_refs(s, [f"brandboom-demo:{demo.O_TERMS_UNMAPPED}"])
    add_user("olivia", "operator")
    page.goto(f"{web.url}/login")
    page.get_by_label("Name").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # When the operator opens Mappings and maps "Net 90" to N60 from its list of ERP terms
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mappings").click()
    expect(page.get_by_role("heading", name="Waiting for a mapping")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Net 90")
    expect(row.get_by_role("link", name=str(order_id))).to_be_visible()
    row.get_by_label("ERP terms for “Net 90”").select_option("N60")
    row.get_by_role("button", name="Map").click()

    # then the page says the order was released and imported, and it is
    expect(page.get_by_role("status")).to_contain_text(
        f'Mapped terms "Net 90" → N60 on brandboom-demo. 1 order became valid, 1 imported: {order_id}'
    )
    expect(page.get_by_role("region", name="Terms (5)")).to_contain_text("Net 90")
    with session_scope() as s:
        assert states_of(s, [order_id]) == {order_id: "imported"}
    assert page.errors == []
