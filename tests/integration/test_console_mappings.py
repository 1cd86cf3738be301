"""The console's Mappings page over plain HTTP (no browser): a site's mappings and the partner
values held orders wait for; an operator maps one and sees what it released; a viewer is refused;
bad input is a sentence and writes nothing; a mapping removed after a confirmation, recorded.

The real app runs under uvicorn (tests/console_app.py) against the test Postgres and Redis; the
demo's Brandboom site reads the Brandboom sandbox over HTTP and is imported in this process
(``services.pipeline.import_site_orders``), so each test starts from the demo's orders held and
checked, with two orders waiting for the unmapped payment terms "Net 90". What a page says is
checked against the database. Written given / when / then.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bobbin import demo
from tests.console_app import Served, actions, add_user, hidden, sign_in

pytestmark = pytest.mark.integration

SITE = "brandboom-demo"
NET90_TWIN = 319003  # a second order with the demo's unmapped payment terms ("Net 90")


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@dataclass(frozen=True)
class Held:
    site_id: int
    ids: dict[int, int]  # partner order id -> Bobbin order id

    def id(self, partner_order_id: int) -> int:
        return self.ids[partner_order_id]


@pytest.fixture()
def held(db: str, celery_app: Any, sandbox: Any) -> Held:
    """The demo site on the sandbox with a second "Net 90" order, and an import done."""
    from bobbin.demo_sites import DEMO_SITE, load_demo
    from core.db import session_scope
    from models import InboundOrder, Site
    from services.pipeline import import_site_orders

    load_demo(sandbox.url)
    twin = copy.deepcopy(next(o for o in sandbox.orders() if int(o["id"]) == demo.O_TERMS_UNMAPPED))
    twin.update(id=NET90_TWIN, poNumber="PO-NET90-TWIN")
    sandbox.add_orders([twin])
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id).where(Site.name == DEMO_SITE)))
    import_site_orders(site_id)
    with session_scope() as s:
        ids = {
            int(pid): oid
            for pid, oid in s.execute(
                select(InboundOrder.partner_order_id, InboundOrder.id).where(InboundOrder.site_id == site_id)
            )
        }
    return Held(site_id, ids)


# --- reading pages ----------------------------------------------------------------------------------


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def flash_of(page: str) -> str:
    m = re.search(r'<p class="flash flash-(\w+)" role="status">(.*?)</p>', page, re.S)
    assert m, "the page shows no message"
    return html.unescape(m.group(2))


def section(page: str, heading_id: str) -> str:
    """The HTML of the section headed ``heading_id``."""
    m = re.search(rf'<section class="card" aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert m, f"no section {heading_id}"
    return m.group(1)


def waiting_row(page: str, value: str) -> str:
    """The row of "Waiting for a mapping" for a partner value."""
    for row in re.findall(r"<tr>(.*?)</tr>", section(page, "h-waiting"), re.S):
        if f"<strong>{html.escape(value)}</strong>" in row:
            return str(row)
    raise AssertionError(f"{value!r} is not waiting for a mapping")


def add_form(page: str, value: str) -> dict[str, str]:
    """The hidden fields of the form that maps the waiting ``value``."""
    row = waiting_row(page, value)
    m = re.search(r'<form method="post" action="/mappings/add"[^>]*>(.*?)</form>', row, re.S)
    assert m, f"no form maps {value!r}"
    return {
        n: html.unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', m.group(1))
    }


def state_of(order_id: int) -> str:
    from core.db import session_scope
    from services.orders import states_of

    with session_scope() as s:
        return states_of(s, [order_id])[order_id]


def mapping_of(site_id: int, kind: str, value: str) -> str | None:
    from core.db import session_scope
    from models import Mapping

    with session_scope() as s:
        return s.scalar(
            select(Mapping.erp_code).where(
                Mapping.site_id == site_id, Mapping.kind == kind, Mapping.partner_value == value
            )
        )


def mapping_count() -> int:
    from core.db import session_scope
    from models import Mapping

    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(Mapping)) or 0)


# --- the page ---------------------------------------------------------------------------------------


def test_the_page_lists_the_unmapped_terms_with_the_orders_they_block(web: Served, held: Held) -> None:
    # Given a viewer; when they open the Mappings page (the only site is the one shown)
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    page = client.get(f"{web.url}/mappings", timeout=30)
    assert page.status_code == 200
    assert '<option value="brandboom-demo" selected>' in page.text
    # then "Net 90" waits for a mapping, with the two orders it blocks, each linked to its page,
    # and its count linked to the holding area filtered by the problem's code
    row = waiting_row(page.text, demo.UNMAPPED_TERMS)
    net90 = [held.id(demo.O_TERMS_UNMAPPED), held.id(NET90_TWIN)]
    assert re.findall(r'<a href="/orders/(\d+)">', row) == [str(i) for i in sorted(net90)]
    holding = "/holding?" + urlencode({"site": SITE, "code": "terms_unmapped"})
    assert f'<a href="{html.escape(holding)}"' in row and ">2</a>" in row and "terms_unmapped" in row
    # the other values the demo's orders wait for are there too
    for value in (demo.UNMAPPED_SHIPPING, demo.UNMAPPED_WAREHOUSE):
        waiting_row(page.text, value)
    # each kind's mappings are listed with the ERP code's words and how they were made
    terms = text_of(section(page.text, "h-terms"))
    assert "Net 30 N30 — Net 30 manual" in terms and "Credit Card CC — Credit Card manual" in terms
    assert "UPS Ground UPSG" in text_of(section(page.text, "h-ship_via"))
    # and a viewer gets no form that changes anything
    assert 'action="/mappings/add"' not in page.text and "/mappings/remove" not in page.text
    # the holding area link lists exactly those two orders
    listed = client.get(f"{web.url}{holding}", timeout=30).text
    assert sorted(int(i) for i in re.findall(r'<a href="/orders/(\d+)">', listed)) == sorted(net90)
    # an unknown site is said in one line
    nowhere = client.get(f"{web.url}/mappings", params={"site": "nowhere"}, timeout=30)
    assert nowhere.status_code == 400 and "No site 'nowhere'; sites: brandboom-demo." in text_of(nowhere.text)


def test_an_operator_maps_net_90_and_the_blocked_orders_import(web: Served, held: Held) -> None:
    # Given an operator on the page, where "Net 90" blocks two orders and N60 is offered with its words
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    page = client.get(f"{web.url}/mappings", params={"site": SITE}, timeout=30).text
    fields = add_form(page, demo.UNMAPPED_TERMS)
    assert fields["kind"] == "terms" and fields["partner_value"] == "Net 90" and fields["site"] == SITE
    assert '<option value="N60">N60 — Net 60</option>' in waiting_row(page, demo.UNMAPPED_TERMS)
    order_id, twin = held.id(demo.O_TERMS_UNMAPPED), held.id(NET90_TWIN)
    # when they map it to N60
    answer = client.post(f"{web.url}/mappings/add", data={**fields, "erp_code": "N60"}, timeout=60)
    # then the page says what the mapping released: both orders, imported
    assert answer.status_code == 200 and answer.url == f"{web.url}/mappings?site={SITE}"
    message = flash_of(answer.text)
    assert message.startswith(f'Mapped terms "Net 90" → N60 on {SITE}. 2 orders became valid, 2 imported: '), message
    assert (
        f"{order_id} ({SITE}:{demo.O_TERMS_UNMAPPED} → SO" in message and f"{twin} ({SITE}:{NET90_TWIN} → SO" in message
    )
    # and so they did, in the database
    assert state_of(order_id) == state_of(twin) == "imported"
    assert mapping_of(held.site_id, "terms", "Net 90") == "N60"
    # "Net 90" no longer waits; it is listed with the site's terms mappings
    assert "<strong>Net 90</strong>" not in section(answer.text, "h-waiting")
    assert "Net 90 N60 — Net 60 manual" in text_of(section(answer.text, "h-terms"))
    # the change is recorded with who made it, once per order that waited, and shown in each order's history
    recorded = actions("map")
    assert sorted(a["order_id"] for a in recorded) == sorted([order_id, twin])
    assert {a["actor"] for a in recorded} == {"olivia"} and all(a["user_id"] for a in recorded)
    assert {a["site_id"] for a in recorded} == {held.site_id}
    assert recorded[0]["detail"]["erp_code"] == "N60" and sorted(recorded[0]["detail"]["released"]) == sorted(
        [order_id, twin]
    )
    history = client.get(f"{web.url}/orders/{twin}", timeout=30).text
    assert f'olivia</span>: mapped terms "Net 90" → N60 on {SITE}' in html.unescape(history)


def test_a_viewer_posting_a_change_is_refused_and_nothing_changes(web: Served, held: Held) -> None:
    # Given a viewer (the page has no forms for them; they post by hand, with their session's token)
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    token = hidden(client.get(f"{web.url}/mappings", timeout=30).text)
    before = mapping_count()
    data = {"csrf_token": token, "site": SITE, "kind": "terms", "partner_value": "Net 90", "erp_code": "N60"}
    # when they post a mapping, ask to remove one, or post the removal
    added = client.post(f"{web.url}/mappings/add", data=data, timeout=30)
    asked = client.get(
        f"{web.url}/mappings/remove", params={"site": SITE, "kind": "terms", "value": "Net 30"}, timeout=30
    )
    removed = client.post(f"{web.url}/mappings/remove", data={**data, "partner_value": "Net 30"}, timeout=30)
    # then each is refused, saying why
    for answer in (added, asked, removed):
        assert answer.status_code == 403 and "Your role (viewer) cannot do this: it needs operator." in answer.text
    # and nothing changed, nothing was recorded
    assert mapping_count() == before and mapping_of(held.site_id, "terms", "Net 30") == "N30"
    assert mapping_of(held.site_id, "terms", "Net 90") is None
    assert state_of(held.id(demo.O_TERMS_UNMAPPED)) == "invalid"
    assert [a["action"] for a in actions()] == ["user_added", "login"]
    # a form without the token is refused too, even for an operator
    add_user("olivia", "operator")
    operator = sign_in(web.url, "olivia")
    tokenless = operator.post(f"{web.url}/mappings/add", data={k: v for k, v in data.items() if k != "csrf_token"})
    assert tokenless.status_code == 403 and mapping_of(held.site_id, "terms", "Net 90") is None


def test_bad_input_is_a_sentence_on_the_page_and_nothing_is_written(web: Served, held: Held) -> None:
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    page = client.get(f"{web.url}/mappings", params={"site": SITE}, timeout=30).text
    fields = add_form(page, demo.UNMAPPED_TERMS)
    before = mapping_count()
    # When a code the ERP does not have is posted, then the page says so (400) and nothing is written
    wrong = client.post(f"{web.url}/mappings/add", data={**fields, "erp_code": "NOPE"}, timeout=60)
    assert wrong.status_code == 400
    assert flash_of(wrong.text) == "'NOPE' is not an ERP terms code. Nothing was changed."
    assert mapping_of(held.site_id, "terms", "Net 90") is None and state_of(held.id(demo.O_TERMS_UNMAPPED)) == "invalid"
    # when no code is picked, then it says to pick one
    empty = client.post(f"{web.url}/mappings/add", data={**fields, "erp_code": " "}, timeout=60)
    assert empty.status_code == 400
    assert flash_of(empty.text) == "Pick or type the ERP terms code to map “Net 90” to. Nothing was changed."
    # when another value is mapped with no value typed, then it says so
    blank = client.post(
        f"{web.url}/mappings/add", data={**fields, "partner_value": "  ", "erp_code": "N60"}, timeout=60
    )
    assert blank.status_code == 400
    assert flash_of(blank.text) == "Type the partner value to map to an ERP terms code. Nothing was changed."
    # a customer code typed wrong is kept in its field, to be corrected
    customer = add_form(page, next(v for v in _waiting_values(page) if _is_customer(page, v)))
    typo = client.post(f"{web.url}/mappings/add", data={**customer, "erp_code": "NOPE1"}, timeout=60)
    assert typo.status_code == 400 and "'NOPE1' is not an ERP customer code." in flash_of(typo.text)
    assert 'value="NOPE1"' in waiting_row(typo.text, customer["partner_value"])
    # and nothing was written, nor recorded
    assert mapping_count() == before and actions("map") == []


def _waiting_values(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r"<td><strong>([^<]*)</strong>", section(page, "h-waiting"))]


def _is_customer(page: str, value: str) -> bool:
    return waiting_row(page, value).lstrip().startswith("<td>customer</td>")


def test_remove_asks_first_then_removes_and_is_recorded(web: Served, held: Held) -> None:
    from services import mappings

    # Given "Net 90" mapped to N60 (its orders imported), and an operator on the page
    mappings.add_mapping(held.site_id, "terms", "Net 90", "N60")
    assert state_of(held.id(demo.O_TERMS_UNMAPPED)) == "imported"
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    page = client.get(f"{web.url}/mappings", params={"site": SITE}, timeout=30).text
    link = re.search(r'<a href="(/mappings/remove\?[^"]*value=Net\+90)"[^>]*>Remove…</a>', page)
    assert link, "no remove link for Net 90"
    # when they press "Remove…", then they are asked first, with what the mapping is
    asked = client.get(f"{web.url}{html.unescape(link.group(1))}", timeout=30)
    assert asked.status_code == 200
    words = text_of(asked.text)
    assert f"Remove the terms mapping of “Net 90” on {SITE}?" in words and "N60 — Net 60" in words
    assert mapping_of(held.site_id, "terms", "Net 90") == "N60"  # asking changed nothing
    form = re.search(r'<form method="post" action="/mappings/remove"[^>]*>(.*?)</form>', asked.text, re.S)
    assert form and "Remove the mapping</button>" in form.group(1)
    data = {n: html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1))}
    # when they confirm, then it is gone, and the page says so; imported orders stay imported
    done = client.post(f"{web.url}/mappings/remove", data=data, timeout=60)
    assert done.url == f"{web.url}/mappings?site={SITE}"
    assert flash_of(done.text) == (
        f'Removed the terms mapping "Net 90" → N60 on {SITE}. The held orders were checked again; none became '
        "invalid. Imported orders are not touched."
    )
    assert mapping_of(held.site_id, "terms", "Net 90") is None
    assert state_of(held.id(demo.O_TERMS_UNMAPPED)) == "imported"
    # and it is recorded with who did it
    [action] = actions("unmap")
    assert action["actor"] == "olivia" and action["user_id"] and action["site_id"] == held.site_id
    assert action["detail"]["kind"] == "terms" and action["detail"]["erp_code"] == "N60"
    assert action["detail"]["partner_value"] == "Net 90"
    # when the same form is posted again, then it says there is no such mapping, and records nothing
    again = client.post(f"{web.url}/mappings/remove", data=data, timeout=60)
    assert "has no terms mapping for “Net 90”" in flash_of(again.text) and len(actions("unmap")) == 1
    # and asking to remove a mapping that is not there is the 404 page
    missing = client.get(f"{web.url}{html.unescape(link.group(1))}", timeout=30)
    assert missing.status_code == 404 and "No such mapping" in missing.text
