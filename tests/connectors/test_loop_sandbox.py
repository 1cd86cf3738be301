"""The Loop sandbox spoken to with plain HTTP: the documented API, its limits, faults and webhooks.

The expected values are the document's own words (shared/partners/README.md section 3), written
out here, and the returns the test seeded; never the sandbox's tables run a second time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from bobbin.demo import build_world
from sandbox.loop.demo import DEMO_NOW, catalog_from_world, demo_seed
from sandbox.loop.server import LoopSandbox

KEY = "loop-test-key-returns"
OTHER_SCOPES_KEY = "loop-test-key-labels-only"
SECRET = "loop-test-webhook-secret"
UNAUTHORIZED = {"error": {"code": "401", "http_code": "GEN-UNAUTHORIZED", "message": "Unauthorized."}}
LIST = "warehouse/return/list"
DETAILS = "warehouse/return/details"
STATES = ("open", "closed", "cancelled", "expired", "review")
OUTCOMES = ("refund", "credit", "exchange", "exchange+refund", "upsell", "exchange+credit")
SEED = demo_seed()
RETURNS = {r["id"]: r for r in SEED["returns"]}


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def stored(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = DEMO_NOW.timestamp()

    def __call__(self) -> float:
        return self.now


class Receiver:
    """A webhook receiver on 127.0.0.1: records each request's headers and raw body, and answers
    the statuses it is given in turn (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/loop/events"

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for _, body in self.received]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.stop()


@pytest.fixture
def sandbox(clock: Clock, receiver: Receiver) -> Iterator[LoopSandbox]:
    server = LoopSandbox(
        api_key=KEY,
        seed=SEED,
        clock=clock,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        backoff_base=0.01,
        backoff_cap=0.05,
    ).start()
    server.add_key(OTHER_SCOPES_KEY, ["Labels"])
    yield server
    server.stop()


class Api:
    """Raw requests to the sandbox, returning (HTTP status, decoded body)."""

    def __init__(self, sandbox: LoopSandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def call(self, method: str, path: str, *, key: str | None = KEY, **kwargs: Any) -> tuple[int, Any]:
        headers = {} if key is None else {"X-Authorization": key}
        response = self.session.request(method, f"{self.sandbox.url}/{path}", headers=headers, timeout=5, **kwargs)
        return response.status_code, response.json()

    def listing(self, **params: Any) -> list[dict[str, Any]]:
        status, body = self.call("GET", LIST, params=params)
        assert status == 200, body
        assert isinstance(body, list)
        return body

    def details(self, **params: Any) -> dict[str, Any]:
        status, body = self.call("GET", DETAILS, params=params)
        assert status == 200, body
        return dict(body)


@pytest.fixture
def api(sandbox: LoopSandbox) -> Iterator[Api]:
    made = Api(sandbox)
    yield made
    made.session.close()


def window(days: int = 120, end: datetime = DEMO_NOW) -> dict[str, str]:
    return {"from": at(end - timedelta(days=days)), "to": at(end)}


def expected_ids(states: tuple[str, ...], start: datetime, end: datetime, field: str = "created_at") -> list[str]:
    found = [r for r in RETURNS.values() if r["state"] in states and start <= stored(r[field]) <= end]
    return [str(r["id"]) for r in sorted(found, key=lambda r: (r[field], r["id"]))]


def of_state(state: str, outcome: str | None = None) -> int:
    return next(r["id"] for r in SEED["returns"] if r["state"] == state and outcome in (None, r["outcome"]))


# --- the demo data ----------------------------------------------------------------------------
def test_the_demo_holds_every_state_and_outcome_with_skus_and_string_money() -> None:
    assert {(r["state"], r["outcome"]) for r in SEED["returns"]} >= {(s, o) for s in STATES for o in OUTCOMES}
    assert demo_seed() == SEED  # seeded: the same returns every time
    for made in SEED["returns"]:
        assert made["line_items"] and all(len(line["sku"]) == 5 for line in made["line_items"])
        assert isinstance(made["total"], str) and isinstance(made["line_items"][0]["price"], str)
    span = max(stored(r["created_at"]) for r in RETURNS.values()) - min(
        stored(r["created_at"]) for r in RETURNS.values()
    )
    assert span > timedelta(days=120)  # a poller must walk the 120-day windows


# --- auth [DOC] --------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [None, "not-a-key", OTHER_SCOPES_KEY])
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", LIST), ("GET", f"{DETAILS}?return_id=30000001"), ("POST", "warehouse/return/30000001/process")],
)
def test_no_key_a_wrong_key_or_a_key_without_the_returns_scope_is_the_documented_401(
    api: Api, key: str | None, method: str, path: str
) -> None:
    assert api.call(method, path, key=key) == (401, UNAUTHORIZED)
    assert api.sandbox.actions() == []


# --- the Detailed Returns List [DOC] -------------------------------------------------------------
def test_paging_by_cursor_until_next_page_url_is_null(api: Api) -> None:
    params = {**window(), "state": ",".join(STATES), "paginate": "true", "pageSize": 4}
    url: str | None = f"{api.sandbox.url}/{LIST}"
    pages, seen = 0, []
    while url is not None:
        response = api.session.get(url, params=params if pages == 0 else None, headers={"X-Authorization": KEY})
        body = response.json()
        assert response.status_code == 200 and set(body) == {"returns", "nextPageUrl", "previousPageUrl"}
        assert len(body["returns"]) <= 4 and body["previousPageUrl"] is None
        seen += [r["id"] for r in body["returns"]]
        url = body["nextPageUrl"]
        assert url is None or "&cursor=" in url
        pages += 1
    start = DEMO_NOW - timedelta(days=120)
    assert seen == expected_ids(STATES, start, DEMO_NOW)
    assert pages == -(-len(seen) // 4) and len(seen) > 8


def test_the_list_serves_string_ids_and_its_timestamp_format(api: Api) -> None:
    first = api.listing(**window(), state=",".join(STATES))[0]
    assert isinstance(first["id"], str) and isinstance(first["order_id"], str)
    assert isinstance(first["line_items"][0]["line_item_id"], str)
    original = RETURNS[int(first["id"])]
    assert first["created_at"] == stored(original["created_at"]).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert first["line_items"][0]["sku"] == original["line_items"][0]["sku"]
    assert first["return_total"] == original["return_total"] and isinstance(first["refund"], str)


def test_without_paginate_a_bare_array(api: Api) -> None:
    got = api.listing(**window(), state="open")
    assert [r["id"] for r in got] == expected_ids(("open",), DEMO_NOW - timedelta(days=120), DEMO_NOW)


def test_page_size_is_at_most_500(api: Api) -> None:
    assert api.call("GET", LIST, params={"paginate": "true", "pageSize": 500})[0] == 200
    status, body = api.call("GET", LIST, params={"paginate": "true", "pageSize": 501})
    assert status == 422 and body["errors"]["code"] == "INVALID_PARAMETER"


def test_the_120_day_window(api: Api) -> None:
    assert api.call("GET", LIST, params=window(120))[0] == 200
    status, body = api.call(
        "GET", LIST, params={"from": at(DEMO_NOW - timedelta(days=120, seconds=1)), "to": at(DEMO_NOW)}
    )
    assert status == 422 and body["errors"]["code"] == "INVALID_DATE_RANGE" and "120 days" in body["errors"]["message"]
    reversed_range = {"from": at(DEMO_NOW), "to": at(DEMO_NOW - timedelta(days=1))}
    assert api.call("GET", LIST, params=reversed_range)[0] == 422
    assert api.call("GET", LIST, params={"from": "yesterday"})[0] == 422


def test_with_neither_from_nor_to_the_last_24_hours(api: Api, clock: Clock) -> None:
    assert api.listing() == []  # the demo's last change is weeks before "now"
    made = api.sandbox.create_return()
    clock.now += 3600
    assert [r["id"] for r in api.listing()] == [str(made["id"])]
    clock.now += 24 * 3600
    assert api.listing() == []


def test_state_filter_and_its_default(api: Api) -> None:
    start = DEMO_NOW - timedelta(days=120)
    assert [r["id"] for r in api.listing(**window())] == expected_ids(("open", "closed", "expired"), start, DEMO_NOW)
    assert {r["state"] for r in api.listing(**window(), state="review")} == {"review"}
    both = api.listing(**window(), state="cancelled,review")
    assert [r["id"] for r in both] == expected_ids(("cancelled", "review"), start, DEMO_NOW)
    status, body = api.call("GET", LIST, params={"state": "open,lost"})
    assert status == 422 and body["errors"]["code"] == "INVALID_PARAMETER"


def test_updated_at_filter_finds_what_changed(api: Api, clock: Clock) -> None:
    old = min(RETURNS.values(), key=lambda r: r["created_at"])
    recent = {"from": at(DEMO_NOW), "to": at(DEMO_NOW + timedelta(hours=1))}
    assert api.listing(**recent, filter="updated_at", state=",".join(STATES)) == []
    clock.now += 60
    api.sandbox.update_return(old["id"], {"return_comment": "edited"})
    changed = api.listing(**recent, filter="updated_at", state=",".join(STATES))
    assert [r["id"] for r in changed] == [str(old["id"])]
    assert changed[0]["updated_at"] == at(DEMO_NOW + timedelta(seconds=60)).replace("Z", ".000Z")
    assert api.listing(**recent, filter="created_at", state=",".join(STATES)) == []
    assert api.call("GET", LIST, params={"filter": "edited_at"})[0] == 422


# --- Get Return Details [DOC] ----------------------------------------------------------------------
def test_details_by_each_key_with_integer_ids(api: Api) -> None:
    wanted = RETURNS[of_state("closed", "exchange")]
    by_id = api.details(return_id=wanted["id"])
    assert by_id["id"] == wanted["id"] and isinstance(by_id["order_id"], int)
    assert (
        isinstance(by_id["line_items"][0]["line_item_id"], int)
        and by_id["exchange_order_id"] == wanted["exchange_order_id"]
    )
    assert by_id["created_at"] == wanted["created_at"]  # "YYYY-MM-DD hh:mm:ss"
    datetime.strptime(by_id["updated_at"], "%Y-%m-%d %H:%M:%S")
    line = by_id["line_items"][0]
    assert line["line_item_title"] == wanted["line_items"][0]["title"] and "variant_title" in line
    assert api.details(order_id=wanted["provider_order_id"])["id"] == wanted["id"]
    assert api.details(order_name=wanted["order_name"])["id"] == wanted["id"]
    assert api.details(order_name=wanted["order_name"].lstrip("#"))["id"] == wanted["id"]
    assert api.details(return_id=wanted["id"], currency_type="presentment")["id"] == wanted["id"]


def test_details_of_an_order_with_two_returns_is_the_newest(api: Api) -> None:
    numbers = [r["order_number"] for r in RETURNS.values()]
    twice = next(n for n in numbers if numbers.count(n) == 2)
    newest = max(r["id"] for r in RETURNS.values() if r["order_number"] == twice)
    assert api.details(order_name=f"#{twice}")["id"] == newest


def test_details_refusals(api: Api) -> None:
    assert api.call("GET", DETAILS, params={"return_id": 1})[0] == 404
    assert api.call("GET", DETAILS)[0] == 422
    assert api.call("GET", DETAILS, params={"return_id": 30000001, "currency_type": "euro"})[0] == 422


# --- actions [DOC] ------------------------------------------------------------------------------------
def test_process_answers_true_closes_the_return_and_fulfils_it(api: Api) -> None:
    return_id = of_state("open", "refund")
    before = api.details(return_id=return_id)
    response = api.session.post(
        f"{api.sandbox.url}/warehouse/return/{return_id}/process", headers={"X-Authorization": KEY}, timeout=5
    )
    assert (response.status_code, response.json()) == (200, "true")
    after = api.details(return_id=return_id)
    assert after["state"] == "closed" and stored(after["updated_at"]) > stored(before["updated_at"])
    assert [r["amount"] for r in after["refunds"]] == [before["refund"]]
    assert api.call("POST", f"warehouse/return/{return_id}/process") == (
        200,
        {"errors": {"message": "The return is closed and cannot be processed.", "code": "UNPROCESSABLE_RETURN"}},
    )


def test_process_of_an_exchange_makes_the_exchange_order(api: Api) -> None:
    return_id = of_state("open", "exchange")
    assert api.details(return_id=return_id)["exchange_order_name"] is None
    assert api.call("POST", f"warehouse/return/{return_id}/process", json={"note": "graded A"}) == (200, "true")
    assert api.details(return_id=return_id)["exchange_order_name"]


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("review", "UNPROCESSABLE_FLAGGED_RETURN"),
        ("closed", "UNPROCESSABLE_RETURN"),
        ("cancelled", "UNPROCESSABLE_RETURN"),
        ("expired", "UNPROCESSABLE_RETURN"),
    ],
)
def test_process_refusals_are_http_200_with_the_error_body(api: Api, state: str, code: str) -> None:
    return_id = of_state(state)
    status, body = api.call("POST", f"warehouse/return/{return_id}/process")
    assert status == 200 and set(body) == {"errors"} and body["errors"]["code"] == code
    assert isinstance(body["errors"]["message"], str)
    assert api.details(return_id=return_id)["updated_at"] == RETURNS[return_id]["updated_at"]


# (action, state before) -> state after, or the refusal; written from the document ([DOC] close /
# cancel / flag) and the sandbox's stated choices where it is silent ([INF] in sandbox/loop/api.py).
TRANSITIONS = {
    ("close", "open"): "closed",
    ("close", "review"): "closed",
    ("cancel", "open"): "cancelled",
    ("cancel", "review"): "cancelled",
    ("flag", "open"): "review",
    ("flag", "review"): "review",
}


@pytest.mark.parametrize("action", ["close", "cancel", "flag"])
@pytest.mark.parametrize("state", STATES)
def test_close_cancel_and_flag_transitions(api: Api, action: str, state: str) -> None:
    return_id = of_state(state)
    status, body = api.call("POST", f"warehouse/return/{return_id}/{action}")
    after = api.details(return_id=return_id)
    expected = TRANSITIONS.get((action, state))
    if expected is None:
        assert status == 200 and body["errors"]["code"] == "UNPROCESSABLE_RETURN" and after["state"] == state
    else:
        assert (status, body, after["state"]) == (200, "true", expected)
    moved = expected is not None and expected != state
    assert (after["updated_at"] != RETURNS[return_id]["updated_at"]) is moved
    if action == "close" and moved:
        assert after["refunds"] == [] and after["exchange_order_id"] is None  # closed without fulfilling


def test_an_unknown_return_is_404(api: Api) -> None:
    status, body = api.call("POST", "warehouse/return/99/flag")
    assert status == 404 and body["errors"]["code"] == "RETURN_NOT_FOUND"


# --- notes [DOC] -----------------------------------------------------------------------------------
def test_notes_422_when_none_then_kept_per_return_up_to_255_characters(api: Api) -> None:
    return_id, other = of_state("open"), of_state("expired")
    assert api.call("GET", f"warehouse/return/{return_id}/notes")[0] == 422
    status, note = api.call("POST", f"warehouse/return/{return_id}/note", json={"content": "x" * 255})
    assert status == 200 and note["content"] == "x" * 255
    for bad in ("x" * 256, "", None):
        assert api.call("POST", f"warehouse/return/{return_id}/note", json={"content": bad})[0] == 422
    api.call("POST", f"warehouse/return/{return_id}/note", json={"content": "RMA R-1001 created"})
    status, notes = api.call("GET", f"warehouse/return/{return_id}/notes")
    assert status == 200 and [n["content"] for n in notes] == ["x" * 255, "RMA R-1001 created"]
    assert api.call("GET", f"warehouse/return/{other}/notes")[0] == 422
    assert api.details(return_id=return_id)["updated_at"] == RETURNS[return_id]["updated_at"]


def test_seeded_notes_are_served(api: Api) -> None:
    for return_id, contents in SEED["notes"].items():
        status, notes = api.call("GET", f"warehouse/return/{return_id}/notes")
        assert status == 200 and [n["content"] for n in notes] == contents


# --- rate limit [DOC] 300 requests per minute per key -------------------------------------------------
def test_the_301st_request_in_a_minute_is_429_and_the_window_slides(api: Api, clock: Clock) -> None:
    api.sandbox.add_key("second-key", ["Returns"])
    for _ in range(300):
        assert api.call("GET", f"{DETAILS}?return_id=30000001")[0] == 200
    response = api.session.get(f"{api.sandbox.url}/{LIST}", headers={"X-Authorization": KEY}, timeout=5)
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"
    assert api.call("GET", LIST, key="second-key")[0] == 200  # per key
    clock.now += 30
    assert api.call("GET", LIST)[0] == 429
    clock.now += 30.5
    assert api.call("GET", LIST)[0] == 200
    assert len(api.sandbox.calls()) == 302


def test_the_limit_is_configurable(clock: Clock) -> None:
    sandbox = LoopSandbox(api_key=KEY, rate_limit=3, rate_window=10, clock=clock).start()
    try:
        api = Api(sandbox)
        assert [api.call("GET", LIST)[0] for _ in range(4)] == [200, 200, 200, 429]
        clock.now += 10
        assert api.call("GET", LIST)[0] == 200
    finally:
        sandbox.stop()


# --- faults (sandbox.common) ----------------------------------------------------------------------------
def test_faults_are_queued_through_the_control_endpoint_and_counted(api: Api) -> None:
    control = f"{api.sandbox.control_url}/faults"
    queued = requests.post(control, json=["503:path=details@x2", "429:retry_after=2"], timeout=5).json()
    assert queued == {"queued": 2}
    first = api.session.get(f"{api.sandbox.url}/{LIST}", headers={"X-Authorization": KEY}, timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    for _ in range(2):
        assert api.session.get(f"{api.sandbox.url}/{DETAILS}?return_id=30000001", timeout=5).status_code == 503
    assert api.call("GET", DETAILS, params={"return_id": 30000001})[0] == 200
    assert requests.get(control, timeout=5).json()["played"] == {"429": 1, "503": 2}
    api.sandbox.inject_fault(auth=True)
    assert api.call("GET", LIST) == (401, UNAUTHORIZED)


def test_a_listing_fault_edits_returns_ahead_of_the_cursor(api: Api, clock: Clock) -> None:
    clock.now += 3600
    params = {**window(119), "filter": "updated_at", "state": ",".join(STATES), "paginate": "true", "pageSize": 5}
    first = api.call("GET", LIST, params=params)[1]
    api.sandbox.inject_fault(skip=2)
    second = api.session.get(first["nextPageUrl"], headers={"X-Authorization": KEY}, timeout=5).json()
    jumped = [str(r["id"]) for r in api.sandbox.returns() if stored(r["updated_at"]) > DEMO_NOW]
    everything = expected_ids(STATES, DEMO_NOW - timedelta(days=119), DEMO_NOW, "updated_at")
    assert jumped == everything[5:7]  # edited now: past this pass's window, caught by the next one
    assert [r["id"] for r in second["returns"]] == everything[7:12]


# --- webhooks [DOC] -------------------------------------------------------------------------------------
def verify(headers: dict[str, str], body: bytes) -> bool:
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(headers["x-loop-signature"], expected)


def test_a_new_return_sends_a_signed_compact_return_created(sandbox: LoopSandbox, receiver: Receiver) -> None:
    made = sandbox.create_return(
        {"customer": "zoe@example.com"},
        lines=[{"sku": "274QN", "title": "Dune Fisherman Sweater", "variant_title": "Olive / M", "price": "94.00"}],
        outcome="credit",
    )
    assert sandbox.wait_for_webhooks(5)
    [(headers, body)] = receiver.received
    assert verify(headers, body) and headers["content-type"] == "application/json"
    assert b"\\/" in body and b"https://" not in body and b", " not in body and b'": ' not in body
    event = json.loads(body)
    assert (event["topic"], event["trigger"], event["shop_id"]) == ("return", "return.created", SEED["shop_id"])
    assert event["id"] == str(made["id"]) and event["order_id"] == made["order_id"]  # ids mixed [DOC example]
    assert isinstance(event["provider_order_number"], int) and isinstance(event["provider_order_id"], str)
    assert event["line_items"][0]["sku"] == "274QN" and event["gift_card"] == made["gift_card"]
    assert event["created_at"].endswith("Z") and "T" in event["created_at"] and "updated_at" not in event
    assert set(event["customer_detail"]) == {"email", "first_name", "last_name"} and "status_page_url" in event
    tampered = body.replace(b"274QN", b"274QM")
    assert not verify(headers, tampered)


def test_non_ascii_is_escaped_in_the_signed_bytes(sandbox: LoopSandbox, receiver: Receiver) -> None:
    unicode_return = next(r for r in SEED["returns"] if r["customer_detail"]["first_name"] == "Zoë")
    sandbox.send_webhook(unicode_return["id"], "return.updated")
    assert sandbox.wait_for_webhooks(5)
    [(headers, body)] = receiver.received
    assert b"Zo\\u00eb" in body and body.isascii() and verify(headers, body)
    assert json.loads(body)["customer_detail"]["first_name"] == "Zoë"


def test_a_change_sends_updated_and_closing_sends_closed(api: Api, receiver: Receiver) -> None:
    return_id = of_state("open")
    api.sandbox.update_return(return_id, {"return_comment": "wrong colour"})
    api.call("POST", f"warehouse/return/{return_id}/process")  # through the API too
    api.call("POST", f"warehouse/return/{of_state('open', 'credit')}/flag")
    assert api.sandbox.wait_for_webhooks(5)
    got = [(e["trigger"], e["id"], e["state"]) for e in receiver.bodies()]
    assert got == [
        ("return.updated", str(return_id), "open"),
        ("return.closed", str(return_id), "closed"),
        ("return.updated", str(of_state("open", "credit")), "review"),
    ]


def test_a_non_2xx_answer_is_retried_with_the_same_bytes(sandbox: LoopSandbox, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    made = sandbox.create_return()
    assert sandbox.wait_for_webhooks(5)
    assert [a["status"] for a in sandbox.webhook_attempts()] == [500, 503, 200]
    assert len({body for _, body in receiver.received}) == 1 and len(receiver.received) == 3
    assert all(verify(headers, body) for headers, body in receiver.received)
    [event] = sandbox.webhook_events()
    assert (event.outcome, event.attempts, event.return_id) == ("delivered", 3, made["id"])


def test_six_attempts_then_it_gives_up(sandbox: LoopSandbox, receiver: Receiver) -> None:
    receiver.statuses = [500] * 10
    sandbox.create_return()
    assert sandbox.wait_for_webhooks(5)
    attempts = sandbox.webhook_attempts()
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5, 6] and len(receiver.received) == 6
    assert (
        all(a["retry_in"] is not None and a["retry_in"] <= 0.05 for a in attempts[:5])
        and attempts[5]["retry_in"] is None
    )
    assert sandbox.webhook_events()[0].outcome == "gave_up"


def test_an_unreachable_receiver_is_retried_and_recorded(sandbox: LoopSandbox, receiver: Receiver) -> None:
    url = receiver.url
    receiver.stop()
    sandbox.configure_webhooks(url, SECRET)
    sandbox.create_return()
    assert sandbox.wait_for_webhooks(5)
    attempts = sandbox.webhook_attempts()
    assert len(attempts) == 6 and all(a["status"] is None and a["error"] for a in attempts)


def test_duplicate_dropped_and_out_of_order_sends(sandbox: LoopSandbox, receiver: Receiver) -> None:
    twice = sandbox.create_return(webhook="twice")
    assert sandbox.wait_for_webhooks(5)
    assert len(receiver.received) == 2 and receiver.received[0][1] == receiver.received[1][1]

    sandbox.create_return(webhook="drop")
    assert sandbox.wait_for_webhooks(5) and len(receiver.received) == 2
    assert sandbox.webhook_events()[-1].outcome == "dropped"

    late = sandbox.create_return(webhook="hold")
    sandbox.update_return(late["id"], {"state": "closed"}, webhook="hold")
    assert sandbox.wait_for_webhooks(5) and len(receiver.received) == 2
    assert sandbox.release_webhooks(reverse=True) == 2
    assert sandbox.wait_for_webhooks(5)
    got = [(e["trigger"], e["id"]) for e in receiver.bodies()[2:]]
    assert got == [("return.closed", str(late["id"])), ("return.created", str(late["id"]))]
    assert twice["id"] != late["id"]


def test_webhooks_are_driven_through_the_control_endpoints(sandbox: LoopSandbox, receiver: Receiver) -> None:
    control = sandbox.control_url
    assert requests.post(f"{control}/webhooks", json={"mode": "hold"}, timeout=5).json()["mode"] == "hold"
    made = requests.post(
        f"{control}/returns",
        json={
            "outcome": "exchange+refund",
            "lines": [
                {"sku": "3YJG8", "title": "Harbor Crew Tee", "variant_title": "Chalk / M", "price": "38.00"},
                {"sku": "4JBK3", "title": "Harbor Crew Tee", "variant_title": "Chalk / L", "price": "38.00"},
            ],
        },
        timeout=5,
    ).json()
    assert [line["outcome"] for line in made["line_items"]] == ["exchange", "refund"]
    requests.post(f"{control}/returns/{made['id']}", json={"state": "cancelled"}, timeout=5)
    assert requests.post(f"{control}/webhooks/release", json={"reverse": True}, timeout=5).json() == {"released": 2}
    assert sandbox.wait_for_webhooks(5)
    state = requests.get(f"{control}/webhooks", timeout=5).json()
    assert [e["trigger"] for e in state["events"]] == ["return.created", "return.updated"]
    assert [a["trigger"] for a in state["attempts"]] == ["return.updated", "return.created"]
    assert requests.post(f"{control}/reset", timeout=5).json() == {"ok": True}
    assert requests.get(f"{control}/webhooks", timeout=5).json()["events"] == []
    assert len(sandbox.returns()) == len(SEED["returns"])


def test_the_documented_body_can_carry_updated_at_when_asked(clock: Clock, receiver: Receiver) -> None:
    sandbox = LoopSandbox(
        api_key=KEY, seed=SEED, clock=clock, webhook_url=receiver.url, webhook_secret=SECRET, webhook_updated_at=True
    ).start()
    try:
        sandbox.update_return(of_state("open"), {"state": "expired"})
        assert sandbox.wait_for_webhooks(5)
        assert receiver.bodies()[0]["updated_at"].endswith("Z")
    finally:
        sandbox.stop()


def test_the_demo_brand_catalog_feeds_the_demo_returns() -> None:
    catalog = catalog_from_world(build_world())
    known = {row["sku"] for row in catalog}
    seeded = demo_seed(catalog)
    assert all(line["sku"] in known for r in seeded["returns"] for line in r["line_items"])
    assert {(r["state"], r["outcome"]) for r in seeded["returns"]} >= {(s, o) for s in STATES for o in OUTCOMES}
