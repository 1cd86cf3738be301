"""The holding area in a real browser (Playwright driving Chromium): an operator signs in, opens
the invalid view, fixes an order's unknown customer by creating it from the order, watches the
order import, marks it shipped and sees the writeback sent to the Brandboom sandbox.

The demo site reads the sandbox over HTTP; its orders are imported in this process by the import's
service before the browser opens. Set ``CONSOLE_SCREENSHOTS`` to a directory to keep a screenshot
of each page the test passes through. Written given / when / then.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from bobbin import demo
from tests.browser.chromium import INSTALL_HINT, find_chromium, playwright_missing
from tests.console_app import PASSWORD, Served, actions, add_user

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


def test_operator_creates_the_customer_the_order_imports_and_is_marked_shipped(
    page: Any, web: Served, demo_site: int, sandbox: Any
) -> None:
    from core.db import session_scope
    from services.orders import resolve_order_refs
    from services.pipeline import import_site_orders

    # Given the demo's orders held (its order with an unknown customer among the invalid ones)
    import_site_orders(demo_site)
    with session_scope() as s:
        [order_id] = resolve_order_refs(s, [f"brandboom-demo:{demo.O_CUSTOMER_UNKNOWN}"])
    add_user("olivia", "operator")

    # When an operator signs in and opens the holding area's invalid view
    page.goto(f"{web.url}/login")
    page.get_by_label("Name").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Holding area").click()
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Invalid").click()
    # then the invalid orders are listed, Magnolia Row's with its problem
    expect(page.get_by_role("heading", name="Holding area")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Magnolia Row")
    expect(row).to_contain_text("customer_unknown")
    expect(row.get_by_label(f"Select order {order_id}")).to_be_visible()
    snap(page, "holding-invalid")

    # When they open the order
    row.get_by_role("link", name=str(order_id)).click()
    # then its page says what is wrong and what to do
    expect(page.get_by_role("heading", name=f"Order {order_id} invalid")).to_be_visible()
    problem = page.get_by_role("article", name=re.compile("Customer not in the ERP"))
    expect(problem).to_contain_text("What to do:")
    expect(problem.get_by_label("ERP customer code")).to_be_visible()
    snap(page, "order-invalid")

    # When they create the customer from the order
    problem.get_by_role("button", name="Create the customer from this order").click()
    # then the order's page says the customer was made and the order imported
    message = page.get_by_role("status")
    expect(message).to_contain_text(f"Created ERP customer MAGN1 from order {order_id}")
    expect(message).to_contain_text("1 order became valid, 1 imported")
    expect(page.get_by_role("heading", name=f"Order {order_id} imported")).to_be_visible()
    expect(page.get_by_role("region", name="Problems")).to_contain_text("No open problems.")
    expect(page.get_by_role("region", name="History")).to_contain_text("olivia: created ERP customer MAGN1")
    snap(page, "order-imported")

    # When they mark it shipped
    page.get_by_role("region", name="Actions").get_by_role("button", name="Mark shipped").click()
    # then the page shows the status sent back to the partner
    expect(page.get_by_role("status")).to_have_text(f"Marked shipped: {order_id} sent.")
    sent_back = page.get_by_role("region", name="Status sent back to the partner")
    expect(sent_back.get_by_role("row").filter(has_text="shipped")).to_contain_text("sent")
    snap(page, "order-shipped")
    # and the sandbox received it
    shipped = [c for c in sandbox.status_changes() if c["status"] == "shipped"]
    assert [c["order_id"] for c in shipped] == [str(demo.O_CUSTOMER_UNKNOWN)]
    assert [a["action"] for a in actions() if a["order_id"] == order_id] == ["create_customer", "mark_shipped"]
    # and no script or style was refused on the way
    assert page.errors == []
