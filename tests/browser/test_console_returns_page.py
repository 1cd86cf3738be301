"""The Returns pages in a real browser (Playwright driving Chromium): an operator opens Returns,
opens a Loop return waiting for its goods, receives its lines on the page, and sees the RMA
received and Loop asked to process the return; once the outbox flush the page sent has run, the
Loop sandbox has processed it.

The demo Loop site reads the Loop sandbox over HTTP; its returns are imported in this process by
the import's service before the browser opens. The page after the receipt is kept as
``/tmp/returns-page.png`` (``RETURNS_SCREENSHOT`` names another file); set ``CONSOLE_SCREENSHOTS``
to a directory to keep a screenshot of each page the test passes through. Written given / when /
then.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import INSTALL_HINT, find_chromium, playwright_missing
from tests.console_app import PASSWORD, actions, add_user, queued

if playwright_missing():
    pytest.skip(str(playwright_missing()), allow_module_level=True)
if find_chromium() is None:
    pytest.skip(INSTALL_HINT, allow_module_level=True)

from playwright.sync_api import expect  # only once Playwright is known to be there

pytestmark = pytest.mark.integration

SCREENSHOT = os.environ.get("RETURNS_SCREENSHOT", "/tmp/returns-page.png")


def snap(page: Any, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture()
def loop() -> Iterator[Any]:
    from sandbox.loop.demo import loop_api_key
    from sandbox.loop.server import LoopSandbox

    server = LoopSandbox(api_key=loop_api_key()).start()
    yield server
    server.stop()


@pytest.fixture()
def loop_site(fresh: Any, loop: Any) -> int:
    """The demo Loop site on the sandbox (its ERP data loaded): the site's id."""
    from sqlalchemy import select

    from bobbin.demo_sites import LOOP_DEMO_SITE, load_loop_demo
    from core.db import session_scope
    from models import Site

    load_loop_demo(loop.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == LOOP_DEMO_SITE)))


def test_operator_receives_a_returns_goods_and_loop_is_asked_to_process_it(
    page: Any, web: Any, loop_site: int, loop: Any, fresh: Any
) -> None:
    from sqlalchemy import select

    from bobbin.demo import build_world
    from core.db import session_scope
    from models import InboundReturn, Rma
    from sandbox.loop.demo import catalog_from_world
    from services import writeback
    from services.returns import import_site_returns

    # Given a Loop return of two items, made into an RMA by an import, waiting for its goods
    catalog = catalog_from_world(build_world())[:2]
    made = loop.create_return(lines=catalog)
    import_site_returns(loop_site)
    with session_scope() as s:
        return_id, number = s.execute(
            select(InboundReturn.id, Rma.number)
            .join(Rma, Rma.inbound_return_id == InboundReturn.id)
            .where(InboundReturn.loop_return_id == str(made["id"]))
        ).one()
    add_user("olivia", "operator")

    # When an operator signs in (from a link to the Writebacks page) and opens Returns
    page.goto(f"{web.url}/login?next=%2Fwritebacks")
    page.get_by_label("Name").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Returns").click()
    # then the return is listed with its Loop id, state and RMA
    expect(page.get_by_role("heading", name="Returns", exact=True)).to_be_visible()
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text(str(made["id"]))
    expect(row).to_contain_text("Waiting for goods")
    expect(
        page.get_by_role("navigation", name="States").get_by_role("link", name=re.compile(r"^Waiting for goods"))
    ).to_contain_text("(1)")
    snap(page, "returns-list")

    # When they open it
    row.get_by_role("link", name=str(return_id), exact=True).click()
    # then its page says where it stands, with each line expected and the form prefilled
    expect(page.get_by_role("heading", name=f"Return {return_id} Waiting for goods")).to_be_visible()
    expect(page.get_by_role("region", name="RMA", exact=True)).to_contain_text("2 units still expected")
    receive = page.get_by_role("region", name="Receive goods")
    for n, item in enumerate(catalog, start=1):
        expect(receive.get_by_label(f"Units of line {n} ({item['sku']}) received")).to_have_value("1")
    snap(page, "return-waiting")

    # When they receive both lines, with a reference
    receive.get_by_label("Reference").fill("dock 4, carton 17")
    receive.get_by_role("button", name="Record the receipt").click()

    # then the page says the RMA is received and Loop is asked to process the return
    message = page.get_by_role("status")
    expect(message).to_contain_text(f"Received 2 units against {number}")
    expect(message).to_contain_text(f"Every line is in: {number} is received.")
    expect(message).to_contain_text("Loop is asked to process the return")
    expect(page.get_by_role("heading", name=f"Return {return_id} Goods received")).to_be_visible()
    expect(page.get_by_role("region", name="Return", exact=True)).to_contain_text(
        "goods received; Loop asked to process it"
    )
    rma = page.get_by_role("region", name="RMA", exact=True)
    expect(rma).to_contain_text("received")
    expect(rma).to_contain_text("0 units still expected")
    receipts = page.get_by_role("region", name="Receipts").get_by_role("row").filter(has_text="dock 4, carton 17")
    expect(receipts).to_have_count(2)
    sent = page.get_by_role("region", name="Sent to Loop").get_by_role("row").filter(has_text="Ask Loop to process")
    expect(sent).to_contain_text("pending")
    expect(page.get_by_role("region", name="Receive goods")).to_have_count(0)
    expect(page.get_by_role("region", name="Changed in the console")).to_contain_text(
        f"olivia: received 2 units against {number}"
    )
    page.screenshot(path=SCREENSHOT, full_page=True)
    snap(page, "return-received")
    # and the outbox flush was sent to the worker for the site
    flushes = [t for t in queued(fresh.conf.broker_url) if t["task"] == "tasks.status.flush_outbox"]
    assert [t["kwargs"] for t in flushes] == [{"site_id": loop_site}]

    # When that flush runs (here, in this process, as the worker would) and the page is read again
    writeback.flush(site_id=loop_site)
    page.reload()
    # then the request shows sent, and Loop processed the return
    expect(
        page.get_by_role("region", name="Sent to Loop").get_by_role("row").filter(has_text="Ask Loop to process")
    ).to_contain_text("sent")
    assert [(a["return_id"], a["action"], a["after"]) for a in loop.actions()] == [(made["id"], "process", "closed")]
    assert [a["action"] for a in actions() if a["action"] != "login"] == ["user_added", "receive_return"]
    # and no script or style was refused on the way
    assert page.errors == []
