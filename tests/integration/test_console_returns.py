"""The console's Returns pages over plain HTTP (no browser): the list by state and site with its
counts and pages, one return with its RMA, lines, receipts, postings and what went to Loop; goods
received from the page (restocked, recorded with who did it, Loop asked to process through the
outbox), an over-receipt refused with nothing written, a waiting credit confirmed, a broker that
is down losing nothing; viewers, forged forms and signed-out visitors refused.

The real app runs under uvicorn (tests/console_app.py) against the test Postgres and Redis; the
demo Loop site reads the Loop sandbox over HTTP, and its returns are imported in this process by
the import's service (``services.returns.import_site_returns``). What a page shows is checked
against the database, the broker's queue and the sandbox. Written given / when / then.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.console_app import PASSWORD, Served, actions, add_user, hidden, queued

pytestmark = pytest.mark.integration

SITE = "loop-demo"


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@dataclass(frozen=True)
class Shop:
    site_id: int
    loop: Any
    catalog: list[dict[str, Any]]

    def make(self, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """A return made in Loop and imported: (its Bobbin id, Loop's return)."""
        from services.returns import import_site_returns

        made = self.loop.create_return(**kwargs)
        import_site_returns(self.site_id)
        return return_id(made["id"]), made


@pytest.fixture()
def shop(db: str, celery_app: Any, loop: Any, loop_catalog: list[dict[str, Any]]) -> Shop:
    """The demo Loop site on the sandbox (its ERP data loaded), with an empty broker."""
    from bobbin.demo_sites import LOOP_DEMO_SITE, load_loop_demo
    from core.db import session_scope
    from models import Site

    load_loop_demo(loop.url)
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id).where(Site.name == LOOP_DEMO_SITE)))
    return Shop(site_id, loop, loop_catalog)


# --- signing in, reading pages and the database ------------------------------------------------------


def sign_in(url: str, username: str) -> Any:
    """A requests session signed in to the console, landing on Returns (the page these tests are about)."""
    import requests

    client = requests.Session()
    form = client.get(f"{url}/login", timeout=10)
    answer = client.post(
        f"{url}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": hidden(form.text), "next": "/returns"},
        timeout=30,
    )
    assert answer.status_code == 200 and answer.url == f"{url}/returns", (answer.status_code, answer.text[:500])
    return client


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def flash_of(page: str) -> tuple[str, str]:
    m = re.search(r'<p class="flash flash-(\w+)" role="status">(.*?)</p>', page, re.S)
    assert m, "the page shows no message"
    return m.group(1), html.unescape(m.group(2))


def rows_of(page: str) -> dict[int, str]:
    """return id -> the text of its row, for the rows a Returns page lists (in order)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return {int(i): text_of(row) for i, row in re.findall(r'<tr id="return-(\d+)">(.*?)</tr>', body, re.S)}


def table_rows(page: str, table_id: str) -> list[str]:
    """The text of each body row of the table with this id."""
    m = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert m, f"no table {table_id} in the page"
    body = m.group(1).split("<tbody>", 1)[1]
    return [text_of(row).strip() for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def tab_counts(page: str) -> dict[str, str]:
    nav = page.split('aria-label="States"', 1)[1].split("</nav>", 1)[0]
    return {label.strip(): count for label, count in re.findall(r">([^<>]+?) <span[^>]*>\((\d[\d,]*)\)</span>", nav)}


def input_value(page: str, name: str) -> str:
    tag = re.search(rf'<input [^>]*name="{re.escape(name)}"[^>]*>', page)
    assert tag, f"no input {name} in the page"
    m = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(m.group(1)) if m else ""


def return_id(loop_id: int) -> int:
    from core.db import session_scope
    from models import InboundReturn

    with session_scope() as s:
        return int(s.scalar(select(InboundReturn.id).where(InboundReturn.loop_return_id == str(loop_id))))


def rma_number(rid: int) -> str:
    from core.db import session_scope
    from models import Rma

    with session_scope() as s:
        return str(s.scalar(select(Rma.number).where(Rma.inbound_return_id == rid)))


def on_hand(sku: str, warehouse: str = "MAIN") -> int:
    from core.db import session_scope
    from models import Inventory

    with session_scope() as s:
        found = s.scalar(select(Inventory.on_hand).where(Inventory.sku == sku, Inventory.warehouse_code == warehouse))
        return int(found or 0)


def receipts(rid: int) -> list[tuple[int, int, str, str | None]]:
    """(line_no, quantity, source, reference) of each receipt of the return's RMA."""
    from core.db import session_scope
    from models import Rma, RmaLine, RmaReceipt

    with session_scope() as s:
        return [
            (n, q, src, ref)
            for n, q, src, ref in s.execute(
                select(RmaLine.line_no, RmaReceipt.quantity, RmaReceipt.source, RmaReceipt.reference)
                .join(RmaLine, RmaLine.id == RmaReceipt.rma_line_id)
                .join(Rma, Rma.id == RmaLine.rma_id)
                .where(Rma.inbound_return_id == rid)
                .order_by(RmaReceipt.id)
            )
        ]


def warehouse_of(rid: int) -> str:
    from core.db import session_scope
    from models import Rma

    with session_scope() as s:
        return str(s.scalar(select(Rma.warehouse_code).where(Rma.inbound_return_id == rid)))


def state_of(rid: int) -> str:
    from core.db import session_scope
    from models import InboundReturn

    with session_scope() as s:
        return str(s.scalar(select(InboundReturn.state).where(InboundReturn.id == rid)))


def flushes(broker_url: str) -> list[dict[str, Any]]:
    return [t for t in queued(broker_url) if t["task"] == "tasks.status.flush_outbox"]


# --- the list -------------------------------------------------------------------------------------------


def test_the_list_shows_each_return_with_its_state_counts_and_pages(
    web: Served, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two returns made into RMAs and one naming a SKU the ERP does not know
    first, _ = shop.make(lines=shop.catalog[:2])
    second, made_second = shop.make(lines=[shop.catalog[2]])
    bad, made_bad = shop.make(lines=[{**shop.catalog[3], "sku": "NOPE-404"}])
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")

    # When a viewer opens Returns
    page = client.get(f"{web.url}/returns", timeout=30)

    # then every return is listed, the newest change first, each linked to its page
    assert page.status_code == 200
    rows = rows_of(page.text)
    assert list(rows) == [bad, second, first]
    assert all(f'<a href="/returns/{rid}">{rid}</a>' in page.text for rid in rows)
    assert "Showing 1–3 of 3 returns" in page.text
    # with the counts of each state on the tabs
    counts = tab_counts(page.text)
    assert (counts["All"], counts["Waiting for goods"], counts["Invalid"], counts["Credited"]) == ("3", "2", "1", "0")
    # and in each row the site, Loop's id and state, the order, shopper, total, RMA and problems
    from core.db import session_scope
    from models import InboundReturn

    with session_scope() as s:
        held = s.get(InboundReturn, second)
        assert held is not None and held.total is not None
        total, email, order = f"{held.total} {held.currency}", held.customer_email, held.order_name
    row = rows[second]
    assert row.split()[:4] == [str(second), SITE, str(made_second["id"]), "Waiting"]
    assert f"open · refund {order} {email} {total} {rma_number(second)}" in row
    assert "order_unknown (warning)" in row  # the Shopify order is not in the ERP: it holds nothing back
    assert "sku_unknown" in rows[bad] and "Invalid" in rows[bad] and str(made_bad["id"]) in rows[bad]

    # When the Invalid tab is opened, then only the invalid return, with the state in words
    invalid = client.get(f"{web.url}/returns", params={"state": "invalid"}, timeout=30)
    assert list(rows_of(invalid.text)) == [bad]
    assert "Invalid: a problem keeps it from becoming an RMA." in text_of(invalid.text)
    # when the site is chosen, then its returns; a site or state that does not exist says so
    by_site = client.get(f"{web.url}/returns", params={"site": SITE}, timeout=30)
    assert list(rows_of(by_site.text)) == [bad, second, first]
    nowhere = client.get(f"{web.url}/returns", params={"site": "nowhere"}, timeout=30)
    assert nowhere.status_code == 400 and "No site 'nowhere'; sites: loop-demo" in text_of(nowhere.text)
    assert rows_of(nowhere.text) == {}
    bogus = client.get(f"{web.url}/returns", params={"state": "lost"}, timeout=30)
    assert bogus.status_code == 400 and "There is no return state 'lost': use received, invalid" in text_of(bogus.text)

    # When the pages hold two returns, then the first page shows two with a next page, the second one
    from web.console import returns as console_returns

    monkeypatch.setattr(console_returns, "PAGE_SIZE", 2)
    one = client.get(f"{web.url}/returns", timeout=30)
    assert list(rows_of(one.text)) == [bad, second] and "Page 1 of 2" in one.text and 'rel="next"' in one.text
    two = client.get(f"{web.url}/returns", params={"page": 2}, timeout=30)
    assert list(rows_of(two.text)) == [first] and "Showing 3–3 of 3 returns" in two.text
    past = client.get(f"{web.url}/returns", params={"page": 5}, timeout=30)
    assert "No returns on page 5: there are 2 pages of 3." in text_of(past.text)
    # and the navigation has Returns, the current section
    assert '<a href="/returns" aria-current="page">Returns</a>' in page.text


# --- one return -----------------------------------------------------------------------------------------


def test_a_return_page_shows_its_rma_lines_and_what_went_to_loop(web: Served, shop: Shop) -> None:
    from services import writeback

    # Given a return of two units made into an RMA, its note sent to Loop, and an invalid one
    rid, made = shop.make(lines=shop.catalog[:2])
    bad, made_bad = shop.make(lines=[{**shop.catalog[3], "sku": "NOPE-404"}])
    writeback.flush(site_id=shop.site_id)
    number = rma_number(rid)
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")

    # When a viewer opens it by its RMA number, and by SITE:LOOP_RETURN_ID
    page = client.get(f"{web.url}/returns/{number}", timeout=30)
    assert page.status_code == 200 and page.url == f"{web.url}/returns/{rid}"
    assert client.get(f"{web.url}/returns/{SITE}:{made['id']}", timeout=30).url == f"{web.url}/returns/{rid}"
    text = text_of(page.text)

    # then it says its state in words, its RMA, and each line with what is received and outstanding
    assert f"Return {rid} Waiting for goods" in text
    assert "RMA made; waiting for the goods (rma)" in text
    assert number in text and "2 units still expected" in text and "SHOPIFY" in text
    lines = table_rows(page.text, "rma-lines")
    assert [ln.split()[:5] for ln in lines] == [
        ["1", shop.catalog[0]["sku"], "1", "0", "1"],
        ["2", shop.catalog[1]["sku"], "1", "0", "1"],
    ]
    assert "Nothing received yet." in text and "No credit memo yet: it is made when Loop refunds the return." in text
    # and the note sent to Loop naming the RMA, with its outbox state
    [sent] = table_rows(page.text, "loop-actions")
    assert sent.startswith("Note on Loop's timeline: the RMA made sent 1")
    assert f"ERP: {number} created for this return (2 line(s), customer SHOPIFY)" in sent
    # a viewer gets no receive form
    assert 'action="/returns/' not in page.text

    # When the invalid return is opened, then its problem with its message, and no RMA
    invalid = text_of(client.get(f"{web.url}/returns/{bad}", timeout=30).text)
    assert "sku_unknown" in invalid and "SKU NOPE-404 is not in the ERP" in invalid
    assert "No RMA: the problems above keep the return from becoming one." in invalid
    assert "Flag for review in Loop" in invalid
    # a return that does not exist is the 404 page
    for ref in ("999999", "RMA9999999", f"{SITE}:424242", "not-a-return"):
        missing = client.get(f"{web.url}/returns/{ref}", timeout=30)
        assert missing.status_code == 404 and "No such return" in missing.text, ref
        assert "Traceback" not in missing.text


# --- receiving goods ------------------------------------------------------------------------------------


def test_goods_received_from_the_page_restock_and_ask_loop_to_process(web: Served, shop: Shop, celery_app: Any) -> None:
    from services import writeback

    # Given a return of two units made into an RMA, and an operator on its page
    rid, made = shop.make(lines=shop.catalog[:2])
    number, warehouse = rma_number(rid), warehouse_of(rid)
    sku1, sku2 = shop.catalog[0]["sku"], shop.catalog[1]["sku"]
    before = {sku1: on_hand(sku1, warehouse), sku2: on_hand(sku2, warehouse)}
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    page = client.get(f"{web.url}/returns/{rid}", timeout=30).text
    # the form holds each line's outstanding units
    assert input_value(page, "qty-1") == "1" and input_value(page, "qty-2") == "1"
    token = hidden(page)

    # When the first line alone is received, with a reference
    answer = client.post(
        f"{web.url}/returns/{rid}/receive",
        data={"csrf_token": token, "qty-1": "1", "qty-2": "0", "reference": "dock 2"},
        timeout=60,
    )

    # then the page says what was received and what is still expected
    assert answer.status_code == 200 and answer.url == f"{web.url}/returns/{rid}"
    assert flash_of(answer.text) == (
        "info",
        f"Received 1 unit against {number}: line 1 ({sku1}) 1 unit; restocked in {warehouse}. "
        "Still expected: line 2 (1 unit). Loop is asked to process the return once every line is in.",
    )
    # the receipt is recorded from the console with its reference, the unit is on hand
    assert receipts(rid) == [(1, 1, "console", "dock 2")]
    assert on_hand(sku1, warehouse) == before[sku1] + 1 and on_hand(sku2, warehouse) == before[sku2]
    # and who did it is recorded, and shown on the page; Loop is not asked yet
    [action] = actions("receive_return")
    assert (action["actor"], action["user_id"] is not None, action["site_id"]) == ("olivia", True, shop.site_id)
    assert action["detail"]["return_id"] == rid and action["detail"]["received"] == [[1, sku1, 1]]
    history = answer.text.split('id="h-history"', 1)[1]
    assert f"olivia</span>: received 1 unit against {number}: line 1 ({sku1}) 1 unit (reference dock 2)" in history
    assert flushes(celery_app.conf.broker_url) == [] and state_of(rid) == "rma"
    assert input_value(answer.text, "qty-2") == "1" and 'name="qty-1"' not in answer.text

    # When the rest is received
    done = client.post(
        f"{web.url}/returns/{rid}/receive",
        data={"csrf_token": token, "qty-2": "1", "reference": ""},
        timeout=60,
    )

    # then the RMA is received, Loop is asked to process it, and the outbox flush is sent for the site
    kind, message = flash_of(done.text)
    assert kind == "info" and message.endswith(
        f"Every line is in: {number} is received. Loop is asked to process the return: the request is in the outbox, and the worker is asked to send it now."
    )
    assert [t["kwargs"] for t in flushes(celery_app.conf.broker_url)] == [{"site_id": shop.site_id}]
    assert state_of(rid) == "received_goods"
    assert receipts(rid) == [(1, 1, "console", "dock 2"), (2, 1, "console", None)]
    text = text_of(done.text)
    assert "goods received; Loop asked to process it (received_goods)" in text
    assert 'id="receive"' not in done.text  # nothing left to receive
    process = [r for r in table_rows(done.text, "loop-actions") if r.startswith("Ask Loop to process")]
    assert process == ["Ask Loop to process the return pending 0 waiting for the outbox —"]

    # When the flush the page sent runs (here, in this process), then Loop processed the return
    writeback.flush(site_id=shop.site_id)
    assert [(a["return_id"], a["action"], a["after"]) for a in shop.loop.actions()] == [
        (made["id"], "process", "closed")
    ]
    after = client.get(f"{web.url}/returns/{rid}", timeout=30).text
    assert [r for r in table_rows(after, "loop-actions") if r.startswith("Ask Loop")][0].startswith(
        "Ask Loop to process the return sent 1"
    )


def test_an_over_receipt_is_refused_with_the_reason_and_nothing_is_written(
    web: Served, shop: Shop, celery_app: Any
) -> None:
    # Given an operator on the page of a return of two units
    rid, _ = shop.make(lines=shop.catalog[:2])
    number, warehouse = rma_number(rid), warehouse_of(rid)
    sku1 = shop.catalog[0]["sku"]
    before = on_hand(sku1, warehouse)
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    token = hidden(client.get(f"{web.url}/returns/{rid}", timeout=30).text)

    def post(**fields: str) -> Any:
        return client.post(f"{web.url}/returns/{rid}/receive", data={"csrf_token": token, **fields}, timeout=60)

    # When two units are received of a line that expects one
    answer = post(**{"qty-1": "2", "qty-2": "1", "reference": "dock 9"})

    # then nothing is done, the page says why and keeps what was typed
    assert answer.status_code == 400
    assert flash_of(answer.text) == (
        "error",
        f"Nothing was done: {number} line 1: 2 received, but only 1 of it is still expected.",
    )
    assert input_value(answer.text, "qty-1") == "2" and input_value(answer.text, "reference") == "dock 9"
    # and nothing was written: no receipt, no stock, no record, no flush, the return still waits
    assert receipts(rid) == [] and on_hand(sku1, warehouse) == before
    assert actions("receive_return") == [] and flushes(celery_app.conf.broker_url) == []
    assert state_of(rid) == "rma"

    # When what is typed is no number, or no line has units, or a line does not exist, then it says so
    words = post(**{"qty-1": "one", "qty-2": "1"})
    assert words.status_code == 400
    assert flash_of(words.text)[1] == "Nothing was received: line 1: 'one' is not a whole number of units."
    nothing = post(**{"qty-1": "0", "qty-2": ""})
    assert flash_of(nothing.text)[1] == "Nothing was received: type the units that arrived for at least one line."
    unknown = post(**{"qty-7": "1"})
    assert flash_of(unknown.text)[1] == f"Nothing was done: {number} has no line 7 (its lines: 1, 2)."
    negative = post(**{"qty-1": "-1"})
    assert flash_of(negative.text)[1] == f"Nothing was done: {number} line 1: receive at least 1 unit, not -1."
    assert receipts(rid) == [] and actions("receive_return") == []
    # a return that does not exist is the 404 page
    assert client.post(f"{web.url}/returns/999999/receive", data={"csrf_token": token}, timeout=30).status_code == 404


def test_a_broker_that_is_down_loses_no_receipt(
    web: Served, shop: Shop, celery_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    from core.db import session_scope
    from models import OutboxEntry

    # Given the worker's broker cannot be reached
    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", down)
    rid, _ = shop.make(lines=[shop.catalog[0]])
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    token = hidden(client.get(f"{web.url}/returns/{rid}", timeout=30).text)

    # When the return's goods are received
    answer = client.post(f"{web.url}/returns/{rid}/receive", data={"csrf_token": token, "qty-1": "1"}, timeout=60)

    # then the receipt stands, the request to Loop waits in the outbox, and the page says the
    # scheduled flush sends it later
    kind, message = flash_of(answer.text)
    assert kind == "info" and "the scheduled outbox flush sends it later" in message
    assert "Connection refused" in message
    assert receipts(rid) == [(1, 1, "console", None)] and state_of(rid) == "received_goods"
    with session_scope() as s:
        assert s.scalar(
            select(OutboxEntry.state).where(OutboxEntry.inbound_return_id == rid, OutboxEntry.status == "process")
        ) == ("pending")
    assert len(actions("receive_return")) == 1


# --- confirming a credit ----------------------------------------------------------------------------------


def test_a_credit_waiting_for_a_person_is_confirmed_from_the_page(web: Served, shop: Shop) -> None:
    from core.db import session_scope
    from models import ArAdjustment, CreditMemo
    from services import rma as flow
    from services import writeback
    from services.returns import import_site_returns

    # Given a return received and processed, but Loop refunded more than its lines add up to
    rid, made = shop.make(lines=[shop.catalog[0]])
    with session_scope() as s:
        flow.receive(s, rma_number(rid), None, source="cli")
    writeback.flush(site_id=shop.site_id)
    refunds = shop.loop.get_return(made["id"])["refunds"]
    shop.loop.update_return(made["id"], {"refunds": [{**refunds[0], "amount": "999.99"}]})
    import_site_returns(shop.site_id)
    add_user("olivia", "operator")
    add_user("victor", "viewer")
    client = sign_in(web.url, "olivia")

    # When the operator opens it, then the memo waits with the mismatch said, and a button to confirm it
    page = client.get(f"{web.url}/returns/{rid}", timeout=30).text
    with session_scope() as s:
        memo_number = s.scalar(select(CreditMemo.number))
    assert "refund_mismatch" in page and "waiting for a person's confirmation" in text_of(page)
    assert f"Confirm credit memo {memo_number}" in page
    # a viewer sees no button, and is refused when posting it by hand
    viewer = sign_in(web.url, "victor")
    seen = viewer.get(f"{web.url}/returns/{rid}", timeout=30).text
    assert "Confirm credit memo" not in seen
    refused = viewer.post(f"{web.url}/returns/{rid}/confirm-credit", data={"csrf_token": hidden(seen)}, timeout=30)
    assert refused.status_code == 403 and "it needs operator" in refused.text

    # When the operator confirms it
    answer = client.post(f"{web.url}/returns/{rid}/confirm-credit", data={"csrf_token": hidden(page)}, timeout=60)

    # then it is posted with its AR debit, confirmed by them, the return credited, and recorded
    kind, message = flash_of(answer.text)
    assert kind == "info" and message.startswith(
        f"Confirmed credit memo {memo_number} for 999.99 USD: it is posted with the AR debit offsetting it."
    )
    with session_scope() as s:
        memo = s.scalars(select(CreditMemo)).one()
        assert (memo.status, memo.confirmed_by) == ("posted", "olivia")
        assert s.scalars(select(ArAdjustment)).one().amount == Decimal("999.99")
    assert state_of(rid) == "credited"
    [action] = actions("confirm_credit")
    assert action["actor"] == "olivia" and action["detail"]["credit_memo"] == memo_number
    assert len(table_rows(answer.text, "ar-debits")) == 1 and "Confirm credit memo" not in answer.text
    # When it is confirmed again from a stale page, then it says so and nothing more is written
    again = client.post(f"{web.url}/returns/{rid}/confirm-credit", data={"csrf_token": hidden(page)}, timeout=60)
    assert again.status_code == 400
    assert flash_of(again.text) == ("error", f"Nothing was done: {memo_number} is posted already.")
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ArAdjustment)) == 1
    assert len(actions("confirm_credit")) == 1


# --- who may change a return ------------------------------------------------------------------------------


def test_viewers_forged_forms_and_signed_out_visitors_are_refused(web: Served, shop: Shop, celery_app: Any) -> None:
    import requests

    # Given a return waiting for its goods, a viewer and an operator
    rid, _ = shop.make(lines=[shop.catalog[0]])
    add_user("victor", "viewer")
    add_user("olivia", "operator")
    viewer, operator = sign_in(web.url, "victor"), sign_in(web.url, "olivia")
    viewer_token = hidden(viewer.get(f"{web.url}/returns/{rid}", timeout=30).text)
    data = {"qty-1": "1", "reference": "dock 1"}

    # When a viewer posts a receipt by hand, then it is refused for their role
    refused = viewer.post(f"{web.url}/returns/{rid}/receive", data={"csrf_token": viewer_token, **data}, timeout=30)
    assert refused.status_code == 403 and "Your role (viewer) cannot do this: it needs operator." in refused.text
    # when an operator's form carries no token, or another session's, then it is refused as forged
    for token in ("", viewer_token):
        forged = operator.post(f"{web.url}/returns/{rid}/receive", data={"csrf_token": token, **data}, timeout=30)
        assert forged.status_code == 403 and "did not carry this session's security token" in text_of(forged.text)
    forged = operator.post(f"{web.url}/returns/{rid}/confirm-credit", data={}, timeout=30)
    assert forged.status_code == 403
    # when someone signed out posts it, or opens the pages, then it is refused or sent to sign in
    outsider = requests.Session()
    assert outsider.post(f"{web.url}/returns/{rid}/receive", data=data, timeout=30).status_code == 403
    signed_out = outsider.get(f"{web.url}/returns/{rid}", timeout=30)
    assert signed_out.url == f"{web.url}/login?next=%2Freturns%2F{rid}"
    # then nothing was received, nothing recorded, nothing sent
    assert receipts(rid) == [] and state_of(rid) == "rma"
    assert [a["action"] for a in actions() if a["action"] in ("receive_return", "confirm_credit")] == []
    assert flushes(celery_app.conf.broker_url) == []
