"""The console's holding area and order pages over plain HTTP (no browser): the views, search,
filters and pages of the holding area; an order with its hints, history and payload; fixes made
from the page and what they released; import, reject, check again and mark back, one order or a
selection; a viewer refused; a stale form refused.

The real app runs under uvicorn (tests/console_app.py) against the test Postgres and Redis; the
demo's Brandboom site reads the Brandboom sandbox over HTTP, imported in this process by the
import's service (``services.pipeline.import_site_orders``), so each test starts from the demo's
orders held and checked. What a page shows is checked against the database and the sandbox.
Written given / when / then.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin import demo
from tests.console_app import Served, actions, add_user, hidden, sign_in

pytestmark = pytest.mark.integration

SITE = "brandboom-demo"
NET90_TWIN = 319003  # a second order with the demo's unmapped payment terms ("Net 90")
EXTRA = [320001 + i for i in range(30)]  # plain valid orders, so that the holding area has two pages


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@dataclass(frozen=True)
class Held:
    site_id: int
    ids: dict[int, int]  # partner order id -> Bobbin order id
    sandbox: Any

    def id(self, partner_order_id: int) -> int:
        return self.ids[partner_order_id]


@pytest.fixture()
def held(db: str, celery_app: Any, sandbox: Any) -> Held:
    """The demo site on the sandbox, with two more orders and an import done: the demo's orders
    held and checked (its broken ones invalid, the rest imported)."""
    from bobbin.demo_sites import DEMO_SITE, load_demo
    from core.db import session_scope
    from models import InboundOrder, Site
    from services.pipeline import import_site_orders

    load_demo(sandbox.url)
    by_id = {int(o["id"]): o for o in sandbox.orders()}
    twin = copy.deepcopy(by_id[demo.O_TERMS_UNMAPPED])
    twin.update(id=NET90_TWIN, poNumber="PO-NET90-TWIN")
    extra = []
    for n, pid in enumerate(EXTRA):
        o = copy.deepcopy(by_id[300001])
        o.update(id=pid, poNumber=f"PO-EXTRA-{n:03d}")
        extra.append(o)
    sandbox.add_orders([twin, *extra])
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
    return Held(site_id, ids, sandbox)


# --- reading pages ----------------------------------------------------------------------------------


def listed(page: str) -> list[int]:
    """The order ids a holding-area page lists, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [int(i) for i in re.findall(r'<a href="/orders/(\d+)">', body)]


def form_fields(page: str, action: str) -> dict[str, str]:
    """The inputs of the first form posting to ``action`` (hidden ones and their values)."""
    m = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert m, f"no form for {action} in the page"
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', m.group(1))
    }


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def state_of(order_id: int) -> str:
    from core.db import session_scope
    from services.orders import states_of

    with session_scope() as s:
        return states_of(s, [order_id])[order_id]


def flash_of(page: str) -> str:
    m = re.search(r'<p class="flash flash-(\w+)" role="status">(.*?)</p>', page, re.S)
    assert m, "the page shows no message"
    return html.unescape(m.group(2))


# --- the holding area ---------------------------------------------------------------------------------


def test_invalid_view_lists_exactly_the_demo_invalid_orders(web: Served, held: Held) -> None:
    # Given a viewer; when they open the invalid view of the demo site
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    page = client.get(f"{web.url}/holding", params={"site": SITE, "view": "invalid"}, timeout=30)
    # then it lists exactly the demo's invalid orders (and the twin with the same unmapped terms), newest first
    expected = {pid for pid, state in demo.EXPECTED_STATE.items() if state == "invalid"} | {NET90_TWIN}
    assert page.status_code == 200
    shown = listed(page.text)
    assert sorted(shown, reverse=True) == shown
    assert {pid for pid, oid in held.ids.items() if oid in shown} == expected and len(shown) == len(expected)
    assert f"Showing 1–{len(expected)} of {len(expected)} orders" in page.text
    # with each order's problem code
    row = page.text.split(f'<a href="/orders/{held.id(demo.O_TERMS_UNMAPPED)}">', 1)[1].split("</tr>", 1)[0]
    assert "terms_unmapped" in row and "invalid" in row
    # and a viewer gets no selection boxes nor action buttons
    assert 'name="order"' not in page.text and "Mark shipped" not in page.text


def test_search_by_partner_order_number_and_po(web: Served, held: Held) -> None:
    from core.db import session_scope
    from models import InboundOrder

    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    with session_scope() as s:
        everything = s.execute(
            select(
                InboundOrder.id,
                InboundOrder.partner_order_id,
                InboundOrder.po_number,
                InboundOrder.customer_ref,
                InboundOrder.customer_code,
            )
        ).all()

    def matching(q: str) -> set[int]:  # the same search, done here in Python over every order
        return {r[0] for r in everything if any(q.lower() in (v or "").lower() for v in r[1:])}

    # When the partner order number is searched, then that order alone is listed
    by_number = client.get(f"{web.url}/holding", params={"q": str(demo.O_TERMS_UNMAPPED)}, timeout=30)
    assert listed(by_number.text) == [held.id(demo.O_TERMS_UNMAPPED)]
    # when a PO is searched (any case, part of it), then the orders with that PO
    assert set(listed(client.get(f"{web.url}/holding", params={"q": "po-net90"}, timeout=30).text)) == {
        held.id(NET90_TWIN)
    }
    extra = client.get(f"{web.url}/holding", params={"q": "PO-EXTRA-00"}, timeout=30)
    assert set(listed(extra.text)) == matching("PO-EXTRA-00") and len(matching("PO-EXTRA-00")) == 10
    # when a customer's name is searched, then its orders, and the search stays in the form
    named = client.get(f"{web.url}/holding", params={"q": "magnolia"}, timeout=30)
    assert set(listed(named.text)) == matching("magnolia") == {held.id(demo.O_CUSTOMER_UNKNOWN)}
    assert 'name="q" value="magnolia"' in named.text
    # a search's own % and _ are taken literally
    assert listed(client.get(f"{web.url}/holding", params={"q": "%"}, timeout=30).text) == []


def test_filter_by_problem_code_and_date(web: Served, held: Held) -> None:
    from core.db import session_scope
    from models import InboundOrder

    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    # When the orders are filtered by a problem code, then only those with that open problem
    terms = client.get(f"{web.url}/holding", params={"code": "terms_unmapped"}, timeout=30)
    assert set(listed(terms.text)) == {held.id(demo.O_TERMS_UNMAPPED), held.id(NET90_TWIN)}
    skus = client.get(f"{web.url}/holding", params={"code": "sku_unknown", "view": "invalid"}, timeout=30)
    assert set(listed(skus.text)) == {held.id(demo.O_SKU_UNKNOWN), held.id(demo.O_SKU_UNKNOWN_TWO)}
    # when orders are filtered by date, then those ordered on those days
    with session_scope() as s:
        day = s.scalar(select(InboundOrder.order_date).where(InboundOrder.id == held.id(300001)))
        on_day = set(s.scalars(select(InboundOrder.id).where(InboundOrder.order_date == day)))
    assert day is not None
    dated = client.get(f"{web.url}/holding", params={"from": day.isoformat(), "to": day.isoformat()}, timeout=30)
    assert set(listed(dated.text)) == on_day
    # a filter that cannot be used says so in one line, and lists nothing
    bad = client.get(f"{web.url}/holding", params={"from": "31/31/2026"}, timeout=30)
    assert bad.status_code == 400 and "is not a date: give it as YYYY-MM-DD" in bad.text
    assert listed(bad.text) == []
    nowhere = client.get(f"{web.url}/holding", params={"site": "nowhere"}, timeout=30)
    assert nowhere.status_code == 400 and "No site 'nowhere'; sites: brandboom-demo" in text_of(nowhere.text)


def test_pages_of_fifty_with_the_total_and_sorting(web: Served, held: Held) -> None:
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    total = len(held.ids)
    assert total > 50
    # When the first page of all orders is opened, then 50 are shown, newest first, with the total
    first = client.get(f"{web.url}/holding", timeout=30)
    assert len(listed(first.text)) == 50 and f"Showing 1–50 of {total} orders" in first.text
    assert 'rel="next"' in first.text and "Page 1 of 2" in first.text
    # when the next page is opened, then the rest, and the two pages hold every order once
    second = client.get(f"{web.url}/holding", params={"page": 2}, timeout=30)
    assert f"Showing 51–{total} of {total} orders" in second.text and 'rel="prev"' in second.text
    assert listed(first.text) + listed(second.text) == sorted(held.ids.values(), reverse=True)
    # when the list is sorted by partner order number, going up, then so it is
    by_partner = client.get(f"{web.url}/holding", params={"sort": "partner"}, timeout=30)
    partner_of = {oid: pid for pid, oid in held.ids.items()}
    shown = [str(partner_of[oid]) for oid in listed(by_partner.text)]
    assert shown == sorted(str(p) for p in held.ids)[:50]
    assert '<th scope="col" aria-sort="ascending"><a href="/holding?sort=-partner">Partner #' in by_partner.text
    # an unknown sort says so
    assert client.get(f"{web.url}/holding", params={"sort": "colour"}, timeout=30).status_code == 400


def test_a_total_past_the_count_limit_says_more_than(web: Served, held: Held, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.console import holding

    # Given a list counted up to 50 orders (10,000 in use: counting every match of a broad search
    # reads most of the table) and more orders than that
    monkeypatch.setattr(holding, "COUNT_LIMIT", 50)
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    total = len(held.ids)
    # when the first page is opened, then it says "more than", and there is a next page
    first = client.get(f"{web.url}/holding", timeout=30)
    assert "Showing 1–50 of more than 50 orders" in first.text and "Page 1 of more than 1" in first.text
    assert 'rel="next"' in first.text
    second = client.get(f"{web.url}/holding", params={"page": 2}, timeout=30)
    assert f"Showing 51–{total} of more than 50 orders" in second.text
    # a page past the end counts them all to say how many pages there are
    past = client.get(f"{web.url}/holding", params={"page": 9}, timeout=30)
    assert f"No orders on page 9: there are 2 pages of {total} orders." in past.text
    # under the limit, the total is exact
    invalid = client.get(f"{web.url}/holding", params={"view": "invalid"}, timeout=30)
    assert "Showing 1–" in invalid.text and "more than" not in invalid.text


# --- one order ----------------------------------------------------------------------------------------


def test_order_page_shows_problems_with_hints_history_and_the_raw_payload(web: Served, held: Held) -> None:
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    order_id = held.id(demo.O_TERMS_UNMAPPED)
    # When the order is opened by its partner reference, then its own address is shown
    page = client.get(f"{web.url}/orders/{SITE}:{demo.O_TERMS_UNMAPPED}", timeout=30)
    assert page.status_code == 200 and page.url == f"{web.url}/orders/{order_id}"
    text = text_of(page.text)
    # with its header, its lines, its problem and what to do about it (the command filled in)
    assert f"Order {order_id}" in text and f"{SITE}:{demo.O_TERMS_UNMAPPED}" in text
    assert "Payment terms not mapped" in text and 'Payment method "Net 90" is not mapped to ERP terms.' in text
    assert f'<code>bobbin map terms {SITE} "Net 90" TERMS_CODE</code>' in html.unescape(page.text)
    assert '<h2 id="h-lines">Lines</h2>' in page.text and page.text.count("<tr>") >= 5
    # its history, and the payload as received, folded
    assert "held in the holding area" in text and "problem terms_unmapped: Net 90" in text
    assert "<details>" in page.text and "Payload as received from the partner" in text
    assert '"poNumber": "PO-' in html.unescape(page.text) and '"terms": "Net 90"' in html.unescape(page.text)
    # and a viewer gets no form that changes it
    assert 'action="/orders/' not in page.text
    # when an order that does not exist is asked for, then the 404 page
    for ref in ("999999", f"{SITE}:424242", "nowhere:1", "not-an-order"):
        missing = client.get(f"{web.url}/orders/{ref}", timeout=30)
        assert missing.status_code == 404 and "No such order" in missing.text, ref
        assert "Traceback" not in missing.text


def test_mapping_terms_from_the_order_page_releases_the_blocked_orders(web: Served, held: Held) -> None:
    from core.db import session_scope
    from models import Mapping

    # Given an operator on the page of an order held for unmapped terms (two orders wait on them)
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    order_id, twin = held.id(demo.O_TERMS_UNMAPPED), held.id(NET90_TWIN)
    page = client.get(f"{web.url}/orders/{order_id}", timeout=30).text
    fields = form_fields(page, f"/orders/{order_id}/map")
    assert fields["kind"] == "terms" and fields["partner_value"] == "Net 90" and fields["state"] == "invalid"
    assert '<option value="N60">N60' in page
    # when they map "Net 90" to the ERP's N60
    answer = client.post(f"{web.url}/orders/{order_id}/map", data={**fields, "erp_code": "N60"}, timeout=60)
    # then the order's page says what the fix released: both orders, imported
    assert answer.status_code == 200 and answer.url == f"{web.url}/orders/{order_id}"
    message = flash_of(answer.text)
    assert message.startswith(f'Mapped terms "Net 90" → N60 on {SITE}. 2 orders became valid, 2 imported: ')
    assert (
        f"{order_id} ({SITE}:{demo.O_TERMS_UNMAPPED} → SO" in message and f"{twin} ({SITE}:{NET90_TWIN} → SO" in message
    )
    assert state_of(order_id) == state_of(twin) == "imported"
    with session_scope() as s:
        assert (
            s.scalar(select(Mapping.erp_code).where(Mapping.site_id == held.site_id, Mapping.partner_value == "Net 90"))
            == "N60"
        )
    # and the change is recorded with who made it, and shown in the order's history
    [action] = actions("map")
    assert action["actor"] == "olivia" and action["user_id"] is not None and action["order_id"] == order_id
    assert action["detail"]["erp_code"] == "N60" and sorted(action["detail"]["released"]) == sorted([order_id, twin])
    assert 'olivia</span>: mapped terms "Net 90" → N60 on brandboom-demo' in html.unescape(answer.text)
    assert "imported as ERP order SO" in text_of(answer.text)


def test_customer_mapped_to_an_erp_customer_typed_in(web: Served, held: Held) -> None:
    from core.db import session_scope
    from models import Customer

    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    order_id = held.id(demo.O_CUSTOMER_UNKNOWN)
    page = client.get(f"{web.url}/orders/{order_id}", timeout=30).text
    # the customer's form offers the site's division customers to pick from
    with session_scope() as s:
        code = s.scalar(select(Customer.code).where(Customer.division_code == "WHSL").order_by(Customer.code))
    assert f'<option value="{code}">' in page and 'list="division-customers"' in page
    fields = form_fields(page, f"/orders/{order_id}/customer")
    # when a code that is no ERP customer is typed, then it says so and nothing changes
    wrong = client.post(f"{web.url}/orders/{order_id}/customer", data={**fields, "customer_code": "NOPE1"}, timeout=60)
    assert "'NOPE1' is not an ERP customer code." in flash_of(wrong.text) and state_of(order_id) == "invalid"
    # when an existing customer's code is typed, then the order imports for that customer
    answer = client.post(f"{web.url}/orders/{order_id}/customer", data={**fields, "customer_code": code}, timeout=60)
    assert f"Mapped the customer of order {order_id} to ERP customer {code}." in flash_of(answer.text)
    assert "1 order became valid, 1 imported" in flash_of(answer.text)
    assert state_of(order_id) == "imported"
    assert [a["detail"]["customer_code"] for a in actions("resolve_customer")] == [code]


def test_a_viewer_posting_a_fix_is_refused_and_nothing_changes(web: Served, held: Held) -> None:
    from core.db import session_scope
    from models import Mapping

    # Given a viewer (the page has no fix form for them; they post one by hand)
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    order_id = held.id(demo.O_TERMS_UNMAPPED)
    page = client.get(f"{web.url}/orders/{order_id}", timeout=30).text
    token = hidden(page)
    with session_scope() as s:
        mappings = s.scalar(select(func.count()).select_from(Mapping))
    data = {"csrf_token": token, "state": "invalid", "kind": "terms", "partner_value": "Net 90", "erp_code": "N60"}
    # when they post the mapping, an import, a mark, or a bulk action
    for action in ("map", "import", "reject", "mark"):
        answer = client.post(f"{web.url}/orders/{order_id}/{action}", data={**data, "status": "void"}, timeout=30)
        assert answer.status_code == 403 and "Your role (viewer) cannot do this: it needs operator." in answer.text
    bulk = client.post(
        f"{web.url}/holding/bulk", data={"csrf_token": token, "order": str(order_id), "action": "reject"}, timeout=30
    )
    assert bulk.status_code == 403
    # then nothing changed, and nothing was recorded
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Mapping)) == mappings
    assert state_of(order_id) == "invalid"
    assert [a["action"] for a in actions()] == ["user_added", "login"]


def test_a_stale_form_is_refused_with_the_fresh_page(web: Served, held: Held) -> None:
    from services.fixes import reject

    # Given an operator who opened an order's page
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    order_id = held.id(demo.O_SKU_UNKNOWN)
    page = client.get(f"{web.url}/orders/{order_id}", timeout=30).text
    fields = form_fields(page, f"/orders/{order_id}/import")
    # when someone else rejects the order meanwhile, and the operator then presses "Import"
    reject(order_id)
    answer = client.post(f"{web.url}/orders/{order_id}/import", data=fields, timeout=60)
    # then nothing is done: the page is drawn fresh, saying why
    assert answer.status_code == 409
    assert f"Nothing was done: order {order_id} (now rejected) changed since this page was drawn" in text_of(
        answer.text
    )
    assert 'class="state state-rejected">rejected' in answer.text
    assert state_of(order_id) == "rejected" and actions("import") == []
    # and the same holds for a selection in the holding area (the other order is left alone too)
    other = held.id(demo.O_PRICE_INVALID)
    listing = client.get(f"{web.url}/holding", params={"view": "invalid"}, timeout=30).text
    stamps = {k: v for k, v in re.findall(r'name="(stamp-\d+)" value="([^"]*)"', listing)}
    from services.pipeline import revalidate_site

    revalidate_site(held.site_id, [other])  # checked again meanwhile: its validated_at moved
    bulk = client.post(
        f"{web.url}/holding/bulk",
        data={
            "csrf_token": hidden(listing),
            "order": [str(other), str(held.id(demo.O_DATES_ORDER))],
            "action": "reject",
            "back": "/holding?view=invalid",
            **stamps,
        },
        timeout=60,
    )
    assert bulk.url == f"{web.url}/holding?view=invalid"
    assert f"Nothing was done: order {other} (now invalid) changed since this page was drawn" in flash_of(bulk.text)
    assert state_of(other) == state_of(held.id(demo.O_DATES_ORDER)) == "invalid"


def test_mark_shipped_sends_the_writeback_and_the_page_shows_sent(web: Served, held: Held) -> None:
    # Given an operator on an imported order's page
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    order_id = held.id(300001)
    assert state_of(order_id) == "imported"
    page = client.get(f"{web.url}/orders/{order_id}", timeout=30).text
    assert "Mark shipped" in page
    # when they mark it shipped
    answer = client.post(
        f"{web.url}/orders/{order_id}/mark",
        data={**form_fields(page, f"/orders/{order_id}/mark"), "status": "shipped"},
        timeout=60,
    )
    # then the sandbox received exactly that, and the page shows the writeback sent
    assert [(c["order_id"], c["status"]) for c in held.sandbox.status_changes() if c["status"] == "shipped"] == [
        ("300001", "shipped")
    ]
    assert flash_of(answer.text) == f"Marked shipped: {order_id} sent."
    row = answer.text.split("<td>shipped</td>", 1)[1].split("</tr>", 1)[0]
    assert '<span class="outbox outbox-sent">sent</span>' in row
    assert "olivia</span>: marked shipped" in answer.text
    # when a selection is marked paid in the holding area, then each order's outcome is said
    listing = client.get(f"{web.url}/holding", params={"view": "imported"}, timeout=30).text
    two = [held.id(300002), held.id(300003)]
    stamps = {k: v for k, v in re.findall(r'name="(stamp-\d+)" value="([^"]*)"', listing)}
    bulk = client.post(
        f"{web.url}/holding/bulk",
        data={"csrf_token": hidden(listing), "order": [str(i) for i in two], "action": "mark-paid", **stamps},
        timeout=60,
    )
    assert flash_of(bulk.text) == f"Marked paid: {two[0]} sent; {two[1]} sent."
    paid = {c["order_id"] for c in held.sandbox.status_changes() if c["status"] == "paid"}
    assert paid == {"300002", "300003"}
    assert [a["order_id"] for a in actions("mark_paid")] == two
    # and an order that is not imported is not marked shipped, saying why
    invalid = held.id(demo.O_PRICE_INVALID)
    listing = client.get(f"{web.url}/holding", params={"view": "invalid"}, timeout=30).text
    refused = client.post(
        f"{web.url}/holding/bulk",
        data={
            "csrf_token": hidden(listing),
            "order": str(invalid),
            "action": "mark-shipped",
            f"stamp-{invalid}": dict(re.findall(r'name="(stamp-\d+)" value="([^"]*)"', listing))[f"stamp-{invalid}"],
        },
        timeout=60,
    )
    assert flash_of(refused.text) == (
        f"Marked shipped: {invalid} skipped (order is invalid; only imported orders can be marked shipped)."
    )
    assert 'class="flash flash-error"' in refused.text and actions("mark_shipped")[-1]["order_id"] == order_id


def test_bulk_reject_check_again_and_import_a_duplicate_anyway(web: Served, held: Held) -> None:
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    listing = client.get(f"{web.url}/holding", timeout=30).text
    stamps = {k: v for k, v in re.findall(r'name="(stamp-\d+)" value="([^"]*)"', listing)}

    def bulk(action: str, ids: list[int]) -> str:
        answer = client.post(
            f"{web.url}/holding/bulk",
            data={"csrf_token": hidden(listing), "order": [str(i) for i in ids], "action": action, **stamps},
            timeout=60,
        )
        assert answer.status_code == 200
        return flash_of(answer.text)

    # When two invalid orders are rejected, then both are, each recorded
    rejected = [held.id(demo.O_QUANTITY_INVALID), held.id(demo.O_PRICE_INVALID)]
    assert bulk("reject", rejected) == f"Rejected 2 orders: {rejected[0]}, {rejected[1]}."
    assert state_of(rejected[0]) == state_of(rejected[1]) == "rejected"
    assert sorted(a["order_id"] for a in actions("reject")) == sorted(rejected)
    # when orders are checked again, then it says they are still held and why
    again = bulk("revalidate", [held.id(demo.O_SKU_UNKNOWN)])
    assert again.startswith("Checked 1 order again. No held order became valid.")
    assert f"Still held: {held.id(demo.O_SKU_UNKNOWN)} (sku_unknown)." in again
    # when the duplicate is imported anyway, then it is
    duplicate = held.id(demo.O_DUPLICATE_PO)
    assert state_of(duplicate) == "duplicate"
    assert bulk("import-duplicate", [duplicate]).startswith(f"Imported 1 order: {duplicate} ({SITE}:")
    assert state_of(duplicate) == "imported"
    # when nothing is selected, then it says so
    assert bulk("import", []) == "Select the orders first (the boxes in the first column)."


def test_price_type_for_the_orders_currency_set_from_the_order_page(web: Served, held: Held) -> None:
    from core.db import session_scope
    from models import Site
    from services.orders import resolve_order_refs
    from services.pipeline import import_site_orders
    from services.sites import update_settings

    # Given the site prices only EUR orders, and a USD order arrives (held for that alone)
    with session_scope() as s:
        site = s.get(Site, held.site_id)
        assert site is not None
        update_settings(s, site, {"price_types": {"EUR": "WHLE"}})
    new = copy.deepcopy(next(o for o in held.sandbox.orders() if int(o["id"]) == 300001))
    new.update(id=330001, poNumber="PO-USD-ONLY")
    held.sandbox.add_orders([new])
    import_site_orders(held.site_id)
    with session_scope() as s:
        [order_id] = resolve_order_refs(s, [f"{SITE}:330001"])
    assert state_of(order_id) == "invalid"
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    page = client.get(f"{web.url}/orders/{order_id}", timeout=30).text
    assert "No price type for the order's currency" in text_of(page)
    fields = form_fields(page, f"/orders/{order_id}/price-type")
    assert fields["currency"] == "USD" and '<option value="WHL">WHL' in page
    # when the operator picks the USD price type
    answer = client.post(f"{web.url}/orders/{order_id}/price-type", data={**fields, "price_type": "WHL"}, timeout=60)
    # then the site prices USD orders with it, and the order imports
    message = flash_of(answer.text)
    assert message.startswith(f"Set the price type of USD orders on {SITE} to WHL. 1 order became valid, 1 imported: ")
    assert state_of(order_id) == "imported"
    with session_scope() as s:
        site = s.get(Site, held.site_id)
        assert site is not None and site.settings["price_types"] == {"EUR": "WHLE", "USD": "WHL"}
    [action] = actions("set_price_type")
    assert action["actor"] == "olivia" and action["detail"]["price_type"] == "WHL"
