"""JoorClient and JoorOrderSource against the JOOR sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from connectors.errors import AuthError, ContractViolation, NotSupported, PartnerRejected, RateLimited, RetryableError
from connectors.http import HttpPolicy
from connectors.joor import SPEC as JOOR_SPEC
from connectors.joor import contract, make_source
from connectors.joor.client import WINDOW_MARGIN_SECONDS, CreditBudget, InventoryItem, JoorClient, JoorNotFound
from connectors.joor.source import JoorOrderSource
from sandbox.common import Request, Response, SandboxServer
from sandbox.joor.server import JoorSandbox

TOKEN = "joor-sandbox-token-2026"
# base64("joor-sandbox-token-2026"), worked out by hand once and pasted: the docs' "OAuth2 [Base64 encoded token]".
EXPECTED_HEADER = "OAuth2 am9vci1zYW5kYm94LXRva2VuLTIwMjY="
# Tiny backoff and timeouts keep the retry tests fast; waits are recorded on the fake clock, not slept.
# The cap is above any Retry-After here, so a 429's wait is honoured as sent; and any wait is slept
# through (longest_sleep: no limit), as in a person's command: the default policy's RateLimited
# beyond 5 s has tests of its own below.
FAST_POLICY = HttpPolicy(
    connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=600.0, longest_sleep=math.inf
)


class FakeTime:
    """One clock for the client and the sandbox; sleeping moves it forward and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def joor_sandbox(fake_time: FakeTime) -> Iterator[JoorSandbox]:
    sandbox = JoorSandbox(token=TOKEN, clock=fake_time.clock).start()
    yield sandbox
    sandbox.stop()


ClientFactory = Callable[..., JoorClient]


@pytest.fixture
def make_client(joor_sandbox: JoorSandbox, fake_time: FakeTime) -> Iterator[ClientFactory]:
    """Build clients on the sandbox; keyword arguments override the token, url, budget..."""
    clients: list[JoorClient] = []

    def make(**overrides: Any) -> JoorClient:
        options: dict[str, Any] = {
            "base_url": joor_sandbox.url,
            "api_token": TOKEN,
            "policy": FAST_POLICY,
            "clock": fake_time.clock,
            "sleep": fake_time.sleep,
            **overrides,
        }
        client = JoorClient(options.pop("base_url"), options.pop("api_token"), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> JoorClient:
    return make_client()


def approved(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "order_id": 8000 + n,
        "po_number": f"PO-{n}",
        "connection_id": 501,
        "order_items": [{"style_number": "LS100", "color_code": "BLK", "size": "S", "quantity": 1, "price": 48}],
        **fields,
    }


def ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [str(o["order_id"]) for page in pages for o in page]


def waiting(client: JoorClient) -> list[str]:
    """Approved orders JOOR has not seen exported, read without marking anything."""
    return ids(list(client.iter_order_pages(contract.ORDER_TYPE_APPROVED, contract.EXPORT_NOT_EXPORTED)))


def recording_session(seen: list[requests.PreparedRequest]) -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    return session


# --- auth [DOC] ------------------------------------------------------------------------------
def test_authorization_header_is_oauth2_and_the_base64_token(make_client: ClientFactory) -> None:
    seen: list[requests.PreparedRequest] = []
    session = recording_session(seen)
    make_client(session=session).get_connection(501)
    (request,) = seen
    assert request.headers["Authorization"] == EXPECTED_HEADER == contract.authorization(TOKEN)
    assert (request.headers["Accept"], request.headers["Content-Type"]) == ("application/json",) * 2
    session.close()


def test_wrong_token_is_an_auth_error_naming_the_token(make_client: ClientFactory, fake_time: FakeTime) -> None:
    with pytest.raises(AuthError) as caught:
        make_client(api_token="not-the-token").get_orders(order_type=6, sync=0, export_status=2)
    assert "check the site's API token" in str(caught.value) and "Invalid token." in str(caught.value)
    assert caught.value.status == 401 and caught.value.value == "Invalid token."
    assert fake_time.sleeps == [] and "not-the-token" not in str(caught.value)
    with pytest.raises(AuthError, match="check the site's API token"):
        make_client(api_token="")


def test_the_token_never_shows_in_repr(client: JoorClient) -> None:
    text = repr(client) + repr(JoorOrderSource(client)) + repr(vars(client))
    assert TOKEN not in text and EXPECTED_HEADER.split()[1] not in text
    assert "127.0.0.1" in repr(client)


# --- orders ----------------------------------------------------------------------------------
# Pages overlap by one order (connectors/paging.py): 10, then 9 new per page; JOOR's total ends it.
@pytest.mark.parametrize(("added", "pages"), [(23, [10, 9, 6]), (18, [10, 9, 1])])
def test_paging_with_next_start_returns_every_order_once(
    joor_sandbox: JoorSandbox, make_client: ClientFactory, added: int, pages: list[int]
) -> None:
    # given the seed's 2 approved orders waiting (and a pending and a shipped one) plus `added` more
    joor_sandbox.add_orders([approved(n) for n in range(added)])
    seen: list[requests.PreparedRequest] = []
    session = recording_session(seen)
    # when
    got = list(make_client(session=session).iter_order_pages(6, 2, count=10))
    # then
    assert [len(page) for page in got] == pages
    assert len(ids(got)) == len(set(ids(got))) == added + 2
    queries = [dict(parse_qsl(urlsplit(r.url or "").query)) for r in seen]
    assert [q["start_from"] for q in queries] == [str(9 * n) for n in range(len(pages))]
    assert {q["sync"] for q in queries} == {"0"}  # never a read that marks
    session.close()


def test_sync0_reads_mark_nothing_and_mark_exported_does(joor_sandbox: JoorSandbox, client: JoorClient) -> None:
    # given two approved orders waiting; reading them twice changes nothing
    assert waiting(client) == waiting(client) == ["7001", "7002"]
    assert {o["export_status"] for o in joor_sandbox.orders()} == {"NOT_EXPORTED"}
    # when one is marked exported
    client.mark_exported("7001")
    # then it is exported on JOOR and no longer waiting; marking it again is a no-op
    assert waiting(client) == ["7002"]
    assert {o["order_id"]: o["export_status"] for o in joor_sandbox.orders()}[7001] == "EXPORTED"
    client.mark_exported(7001)
    assert waiting(client) == ["7002"]
    with pytest.raises(PartnerRejected, match="no order 999"):
        client.mark_exported(999)


def test_mark_exported_names_the_order_in_its_path_and_checks_the_answer(
    joor_sandbox: JoorSandbox, make_client: ClientFactory
) -> None:
    # given a JOOR that answers a read naming one order with the list's first orders (marking them)
    seen: list[requests.PreparedRequest] = []
    session = recording_session(seen)
    client = make_client(session=session)
    joor_sandbox.ignore_order_filter = True
    # when order 7002 is marked
    with pytest.raises(ContractViolation) as caught:
        client.mark_exported("7002")
    # then the request named 7002 in its path, once (a marking read is not repeated blindly) ...
    (request,) = seen
    assert urlsplit(request.url or "").path.endswith("/v2/order/7002")
    assert dict(parse_qsl(urlsplit(request.url or "").query)) == {
        "sync": "1",
        "order_type": "8",
        "export_status": "1",
        "check": "0",
    }
    # ... and the answer for other orders is refused, saying what came back and keeping it
    violation = caught.value
    assert str(violation).startswith("JOOR answered GET order/7002?sync=1 for order 7002 with order(s) 7001, 7002")
    assert "it may have marked those exported instead; nothing is counted as sent" in str(violation)
    assert violation.request == "GET order/7002?sync=1&order_type=8&export_status=1&check=0"
    assert [contract.order_id_of(o) for o in violation.records] == [str(o["order_id"]) for o in joor_sandbox.orders()][
        : len(violation.records)
    ]
    assert isinstance(violation.answer, str) and '"order_id": 7001' in violation.answer
    assert violation.partner == "joor" and not violation.retryable
    session.close()


def test_a_missing_order_is_refused_naming_it(joor_sandbox: JoorSandbox, client: JoorClient) -> None:
    with pytest.raises(PartnerRejected) as caught:
        client.mark_exported("999")
    assert str(caught.value) == "JOOR has no order 999 to mark exported" and caught.value.partner == "joor"
    assert not isinstance(caught.value, ContractViolation)


def test_writeback_applied_reads_export_status_and_connections(joor_sandbox: JoorSandbox, client: JoorClient) -> None:
    # The outbox's question before it sends again a change whose answer was lost: read with
    # sync=0, so asking marks nothing
    assert client.writeback_applied("7001", "exported", {}) is False
    assert client.is_exported(7001) is False and joor_sandbox.export_marks() == []
    client.mark_exported("7001")
    assert client.writeback_applied("7001", "exported", {}) is True
    assert client.is_exported("7002") is False and client.is_exported("999") is False
    assert [m["order_id"] for m in joor_sandbox.export_marks()] == ["7001"]
    code = {"partner_customer_id": "501", "erp_code": "C1001"}
    assert client.writeback_applied("7001", "customer_code", code) is True
    assert client.writeback_applied("7001", "customer_code", {**code, "erp_code": "OTHER"}) is False
    with pytest.raises(NotSupported):
        client.writeback_applied("7001", "shipped", {})


def test_modified_orders_come_through_iter_modified_pages(joor_sandbox: JoorSandbox) -> None:
    source = make_source(joor_sandbox.url, {"api_token": TOKEN}, {})
    # given an order imported and marked exported, then changed on JOOR
    source.mark_order("7001", "exported", {})
    joor_sandbox.modify_order(7001, {"po_number": "PO-7001-REV"})
    # then it is modified, not waiting
    (page,) = list(source.iter_modified_pages())
    assert [(o.partner_order_id, o.po_number) for o in page] == [("7001", "PO-7001-REV")]
    assert [o.partner_order_id for p in source.iter_order_pages() for o in p] == ["7002"]
    # and marking it exported again (the pipeline's answer) clears it
    source.mark_order("7001", "exported", {})
    assert list(source.iter_modified_pages()) == []
    source.close()


def test_date_range_goes_together_and_is_sent_in_utc(joor_sandbox: JoorSandbox, client: JoorClient) -> None:
    with pytest.raises(ValueError, match="together"):
        client.get_orders(order_type=8, sync=0, export_status=1, date_start=datetime(2026, 11, 1))
    joor_sandbox.modify_order(7002, {"po_number": "PO-7002-REV"})  # date_modified: now
    now = datetime.now(UTC)
    recent = client.get_orders(
        order_type=8, sync=0, export_status=1, date_start=now - timedelta(hours=1), date_end=now + timedelta(hours=1)
    )
    assert [o["order_id"] for o in recent.orders] == [7002] and recent.total == 1
    assert (
        contract.range_timestamp(datetime(2026, 11, 2, 9, 30, 1, 250000, tzinfo=timezone(timedelta(hours=-5))))
        == "2026-11-02T14:30:01.250Z"
    )


# --- credits [DOC] 300 per 300 s per account ---------------------------------------------------
def test_the_budget_sleeps_out_the_window_instead_of_meeting_429(fake_time: FakeTime) -> None:
    # given JOOR's limit shrunk to 10 credits a minute, on both sides, on one fake clock
    sandbox = JoorSandbox(token=TOKEN, credits=10, window_seconds=60, clock=fake_time.clock).start()
    client = JoorClient(
        sandbox.url,
        TOKEN,
        policy=FAST_POLICY,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        credits=10,
        window_seconds=60,
    )
    try:
        # when 25 GETs (1 credit each), then two PUTs (5 each) and a GET
        for _ in range(25):
            client.get_orders(order_type=6, sync=0, export_status=2, count=1)
        for _ in range(2):
            client.update_connection(501, {"customer_code": "C1001"})
        client.get_connection(501)
    finally:
        client.close()
        sandbox.stop()
    # then the client waited for each new window (plus its margin) and JOOR never said 429
    assert fake_time.sleeps == [61.0, 61.0, 61.0]  # after GETs 10 and 20, and before the second PUT
    assert sandbox.credits_used()["sandbox"] == {"spent": 6, "throttled": 0}


def test_a_429_that_still_arrives_is_retried_after_its_retry_after(fake_time: FakeTime) -> None:
    # given another process spent the account's credits (the client cannot know)
    sandbox = JoorSandbox(token=TOKEN, credits=3, window_seconds=60, clock=fake_time.clock).start()
    client = JoorClient(sandbox.url, TOKEN, policy=FAST_POLICY, clock=fake_time.clock, sleep=fake_time.sleep)
    try:
        for _ in range(3):
            client.get_connection(501)
        # when
        connection = client.get_connection(502)
    finally:
        client.close()
        sandbox.stop()
    # then JOOR's 429 was waited out once, as long as Retry-After said, and the call succeeded
    assert connection["customer_code"] == "C1002"
    assert fake_time.sleeps == [60.0]
    assert sandbox.credits_used()["sandbox"] == {"spent": 1, "throttled": 1}


def test_a_429_without_retry_after_waits_for_the_window_the_client_counted(fake_time: FakeTime) -> None:
    # given a budget of 10 credits a minute, 3 spent at t=0 and a 429 at t=20 with no Retry-After
    # (JOOR documents none: another process spent the rest of the account's window)
    budget = CreditBudget(10, 60, clock=fake_time.clock, sleep=fake_time.sleep, longest_sleep=math.inf)
    for _ in range(3):
        budget.spend(1)
    fake_time.sleep(20)
    # when the next request is paid for
    budget.throttled(None)
    budget.spend(1)
    # then it waits for the end of the window counted since t=0 (plus the margin), not a whole window
    assert fake_time.sleeps == [20, 40 + WINDOW_MARGIN_SECONDS]


def test_a_spent_budget_raises_rate_limited_with_the_wait_instead_of_sleeping(fake_time: FakeTime) -> None:
    # given the default policy (waits over 5 s are not slept) and JOOR's limit of 10 credits a minute
    sandbox = JoorSandbox(token=TOKEN, credits=10, window_seconds=60, clock=fake_time.clock).start()
    client = JoorClient(sandbox.url, TOKEN, clock=fake_time.clock, sleep=fake_time.sleep, credits=10, window_seconds=60)
    try:
        for _ in range(10):
            client.get_connection(501)
        fake_time.sleep(15)
        # when an 11th GET would go over the window
        with pytest.raises(RateLimited) as caught:
            client.get_connection(501)
    finally:
        client.close()
        sandbox.stop()
    # then it raised the time left in the window (plus the margin), sent nothing, and slept only the 15 s
    assert caught.value.retry_after == pytest.approx(45 + WINDOW_MARGIN_SECONDS)
    assert isinstance(caught.value, RetryableError) and caught.value.partner == "joor"
    assert fake_time.sleeps == [15]
    assert sandbox.credits_used()["sandbox"] == {"spent": 10, "throttled": 0}


def test_a_short_wait_for_the_window_is_still_slept(fake_time: FakeTime) -> None:
    budget = CreditBudget(10, 60, clock=fake_time.clock, sleep=fake_time.sleep)  # default: sleeps up to 5 s
    for _ in range(10):
        budget.spend(1)
    fake_time.sleep(57)
    budget.spend(1)  # the window ends in 3 s (+ the margin): slept, not raised
    assert fake_time.sleeps == [57, 3 + WINDOW_MARGIN_SECONDS]


def test_a_429_with_a_long_retry_after_raises_rate_limited_and_the_budget_keeps_the_window(
    fake_time: FakeTime,
) -> None:
    # given another process spent the account's credits (the client cannot know)
    sandbox = JoorSandbox(token=TOKEN, credits=3, window_seconds=60, clock=fake_time.clock).start()
    client = JoorClient(sandbox.url, TOKEN, clock=fake_time.clock, sleep=fake_time.sleep)
    try:
        for _ in range(3):
            client.get_connection(501)
        # when the next request meets JOOR's 429 (Retry-After 60)
        with pytest.raises(RateLimited) as caught:
            client.get_connection(502)
        # then the wait is JOOR's, nothing was slept, and the client's budget now knows the window's end
        assert caught.value.retry_after == 60.0 and fake_time.sleeps == []
        with pytest.raises(RateLimited) as again:
            client.get_connection(502)
        assert again.value.retry_after == pytest.approx(60 + WINDOW_MARGIN_SECONDS)
    finally:
        client.close()
        sandbox.stop()
    assert sandbox.credits_used()["sandbox"] == {"spent": 3, "throttled": 1}


def test_the_credit_budget_is_a_site_setting() -> None:
    source = make_source("http://127.0.0.1:1/v2", {"api_token": TOKEN}, {"credits": 3000, "credit_window_seconds": 60})
    assert (source.client.budget.credits, source.client.budget.window_seconds) == (3000, 60)
    source.close()
    default = make_source("http://127.0.0.1:1/v2", {"api_token": TOKEN}, {})
    assert (default.client.budget.credits, default.client.budget.window_seconds) == (300, 300)
    default.close()


# --- failures and retries --------------------------------------------------------------------
def test_5xx_is_retried(joor_sandbox: JoorSandbox, client: JoorClient, fake_time: FakeTime) -> None:
    joor_sandbox.inject_fault(502, count=2)
    assert client.get_connection(501)["connection_id"] == 501
    assert len(fake_time.sleeps) == 2


@pytest.mark.parametrize("status", [400, 404])
def test_4xx_is_not_retried(joor_sandbox: JoorSandbox, client: JoorClient, fake_time: FakeTime, status: int) -> None:
    joor_sandbox.inject_fault(status)
    with pytest.raises(PartnerRejected) as caught:
        client.get_connection(501)
    assert caught.value.status == status and fake_time.sleeps == []
    assert client.get_connection(501)["connection_id"] == 501  # the fault was used once


def test_joor_refusals_carry_its_comment(client: JoorClient, fake_time: FakeTime) -> None:
    with pytest.raises(JoorNotFound) as caught:
        client.get_connection(999)
    assert caught.value.value == "Connection 999 not found" and "Connection 999 not found" in str(caught.value)
    with pytest.raises(PartnerRejected, match="HTTP 400: start_from must be 0 or more and count 1 or more"):
        client.get_orders(order_type=6, sync=0, export_status=2, count=0)
    assert fake_time.sleeps == []


def test_retries_end_retryable_when_joor_stays_down(make_client: ClientFactory, fake_time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RetryableError, match="after 3 attempts"):
        make_client(base_url=f"http://127.0.0.1:{port}/v2").get_connection(501)
    assert len(fake_time.sleeps) == 2


class Scripted:
    """A server that answers the next request with a queued response: shapes the sandbox never sends."""

    def __init__(self) -> None:
        self.script: list[Response] = []

    def handle(self, request: Request) -> Response:
        return self.script.pop(0)


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    app = Scripted()
    server = SandboxServer(app)
    server.start()
    yield app, server.base_url + "/v2"
    server.stop()


def test_an_error_code_inside_a_200_answer_is_an_error(scripted: tuple[Scripted, str], fake_time: FakeTime) -> None:
    app, url = scripted
    client = JoorClient(url, TOKEN, policy=FAST_POLICY, clock=fake_time.clock, sleep=fake_time.sleep)
    app.script = [
        Response.json({"response": {"code": 403, "comment": "Account suspended", "log_id": "x"}}),
        Response.json({"connections": {"response": {"code": 500, "comment": "Try later"}, "connection": []}}),
        Response.json({"response": {"code": 400, "comment": "Bad"}}),
        Response(body=b"<html>oops</html>", content_type="text/html"),
    ]
    with pytest.raises(AuthError, match="Account suspended.*check the site's API token"):
        client.get_connection(1)
    with pytest.raises(RetryableError, match="Try later"):
        client.get_connection(1)
    with pytest.raises(PartnerRejected, match="code 400: Bad"):
        client.get_connection(1)
    with pytest.raises(RetryableError, match="not JSON"):  # a proxy page, not JOOR refusing
        client.get_connection(1)
    client.close()


def test_paging_that_would_not_end_is_refused(scripted: tuple[Scripted, str], fake_time: FakeTime) -> None:
    app, url = scripted
    client = JoorClient(url, TOKEN, policy=FAST_POLICY, clock=fake_time.clock, sleep=fake_time.sleep)
    # a server that ignores start_from answers every offset with the same full page
    page = {
        "orders": {"response": {"code": 200, "total": 9, "next_start": 2}, "order": [{"order_id": 1}, {"order_id": 2}]}
    }
    app.script = [Response.json(page)] * 3
    pages = client.iter_order_pages(6, 2, count=2)
    assert next(pages) == [{"order_id": 1}, {"order_id": 2}]
    assert next(pages) == [{"order_id": 1}]  # once can be honest: orders arrived in front
    with pytest.raises(PartnerRejected, match="never end"):
        next(pages)
    # the brief's flat shape is read too: orders list, total and next_start at the top
    app.script = [
        Response.json({"response": {"code": 200}, "orders": [{"order_id": 2}], "total": 1, "next_start": None})
    ]
    assert ids(list(client.iter_order_pages(6, 2))) == ["2"]
    client.close()


# --- connections [DOC] -----------------------------------------------------------------------
def test_connections_by_id_and_customer_code(client: JoorClient) -> None:
    assert client.get_connection(501)["customer_code"] == "C1001"
    assert client.get_connection_by_customer_code("C1002")["connection_id"] == 502  # type: ignore[index]
    assert client.get_connection_by_customer_code("NOPE 1/2") is None


def test_update_connection_is_recorded_and_orders_carry_the_code(joor_sandbox: JoorSandbox) -> None:
    source = make_source(joor_sandbox.url, {"api_token": TOKEN}, {"order_types": [3]})  # pending
    (before,) = [o for p in source.iter_order_pages() for o in p]
    assert (before.customer.partner_id, before.customer.code) == ("503", None)
    # when Bobbin stores the ERP code on the retailer's connection
    source.set_customer_code(before.customer.partner_id or "", "MAG01")
    # then JOOR recorded it, and the retailer's orders carry it
    assert [(u["connection_id"], u["fields"]) for u in joor_sandbox.connection_updates()] == [
        ("503", {"customer_code": "MAG01"})
    ]
    (after,) = [o for p in source.iter_order_pages() for o in p]
    assert after.customer.code == "MAG01"
    with pytest.raises(ValueError):
        source.client.update_connection(503, {})
    source.close()


# --- inventory [DOC] -------------------------------------------------------------------------
def test_bulk_inventory_is_applied_per_warehouse_date_and_sku(joor_sandbox: JoorSandbox, client: JoorClient) -> None:
    items = [
        InventoryItem(12, warehouse="Main Warehouse", upc="084512000011"),
        InventoryItem(
            40,
            warehouse="West Coast",
            style_number="DN200",
            color_code="IND",
            size="M",
            inventory_date=date(2027, 3, 1),
        ),
        InventoryItem(5, warehouse="Main Warehouse", upc="000000000000"),
        InventoryItem(5, warehouse="Nowhere", upc="084512000011"),
    ]
    result = client.bulk_inventory(items)
    assert result.sku_count == 4
    assert [(e["sku"], e["status"]) for e in result.inventory_log] == [
        ("084512000011", "pass"),
        ("084512000066", "pass"),
        ("000000000000", "fail"),
        ("084512000011", "fail"),
    ]
    assert {(r["warehouse"], r["inventory_date"], r["upc"], r["inventory"]) for r in joor_sandbox.inventory()} == {
        ("Main Warehouse", None, "084512000011", 12),
        ("West Coast", "2027-03-01", "084512000066", 40),
    }
    # dec_pending: JOOR subtracts the 2 units on the pending order 7003; overwrite replaces the rest
    client.bulk_inventory([InventoryItem(10, upc="084512000022")], dec_pending=True, overwrite=True)
    assert [(r["warehouse"], r["upc"], r["inventory"]) for r in joor_sandbox.inventory()] == [
        ("Default", "084512000022", 8)
    ]
    with pytest.raises(ValueError, match="no inventory items"):
        client.bulk_inventory([], overwrite=True)


def test_inventory_items_leave_out_what_is_not_set() -> None:
    assert InventoryItem(3, upc="1").to_json() == {"upc": "1", "inventory": 3}
    assert InventoryItem(
        0, warehouse="W", style_number="S", color_code="C", size="M", inventory_date=date(2027, 1, 2)
    ).to_json() == {
        "warehouse": "W",
        "style_number": "S",
        "color_code": "C",
        "size": "M",
        "inventory_date": "2027-01-02",
        "inventory": 0,
    }


# --- the order source ------------------------------------------------------------------------
def test_source_reads_configured_order_types_and_refuses_other_statuses(joor_sandbox: JoorSandbox) -> None:
    joor_sandbox.add_orders([approved(n) for n in range(3)])
    source = make_source(joor_sandbox.url, {"api_token": TOKEN}, {"order_types": [6, 7], "page_size": 2})
    spec = JOOR_SPEC
    assert (spec.orders.exported_when, spec.writeback.statuses) == ("staged", ("exported", "customer_code"))
    pages = list(source.iter_order_pages())
    assert [len(p) for p in pages] == [2, 1, 1, 1, 1]  # one order of overlap per page
    assert [o.partner_order_id for p in pages for o in p] == ["7001", "7002", "8000", "8001", "8002", "7004"]
    assert pages[0][0].po_number == "PO-7001" and pages[0][0].lines[0].style_number == "LS100"
    for status in ("shipped", "paid", "void", "customer_code"):
        with pytest.raises(NotSupported, match="only marks orders exported"):
            source.mark_order("7004", status, {})
    assert {o["export_status"] for o in joor_sandbox.orders()} == {"NOT_EXPORTED"}
    source.close()


def test_make_source_checks_the_token_and_the_order_types() -> None:
    with pytest.raises(AuthError, match="check the site's API token"):
        make_source("http://127.0.0.1:1/v2", {}, {})
    with pytest.raises(ValueError, match="order_types"):
        make_source("http://127.0.0.1:1/v2", {"api_token": TOKEN}, {"order_types": [9]})
    source = make_source("http://127.0.0.1:1/v2", {"api_token": TOKEN}, {"page_size": 100})
    assert (source.order_types, source.page_size) == ((6,), 100)
    source.close()
