"""LoopClient over real HTTP against a tiny Loop started in the test on 127.0.0.1, and the contract's
helpers (windows, ids, notes, webhook signatures).

The tiny Loop below states the API in Loop's own words (partners/README 3.1-3.6: paths, the
``X-Authorization`` header, the 401 body, cursor paging by ``nextPageUrl``, the 120-day range, the
actions' ``"true"`` or error body, notes' 422): it imports nothing from the client's contract, so a
wrong name there fails here. Time is a fake clock the client sleeps on: nothing waits for real.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest

from connectors.errors import AuthError, ContractViolation, OutcomeUnknown, PartnerRejected, RateLimited, RetryableError
from connectors.http import HttpPolicy
from connectors.loop import contract
from connectors.loop.client import LoopActionRefused, LoopClient, ReturnsPage
from sandbox.common import Request, Response, SandboxServer

KEY = "loop-returns-key-2026"
# Small timeouts and backoff keep the tests fast; waits go to the fake clock. Every wait is slept
# through (longest_sleep: no limit) unless a test asks for the default.
FAST_POLICY = HttpPolicy(
    connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=60.0, longest_sleep=math.inf
)
UNAUTHORIZED = {"error": {"code": "401", "http_code": "GEN-UNAUTHORIZED", "message": "Unauthorized."}}
T0 = datetime(2025, 1, 1, tzinfo=UTC)


class FakeTime:
    """One clock for the client; sleeping moves it forward and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class TinyLoop:
    """Loop's returns API, as much as these tests need. ``script`` answers are played first."""

    PREFIX = "/api/v1/warehouse/return/"

    def __init__(self) -> None:
        self.returns: list[dict[str, Any]] = []  # {"id": int, "state", "created", "updated"}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.action_answers: dict[tuple[str, int], Response] = {}
        self.script: list[Response] = []
        self.requests: list[Request] = []
        self.base = ""

    def add(self, rid: int, updated: datetime, state: str = "open") -> None:
        self.returns.append({"id": rid, "state": state, "created": updated - timedelta(days=1), "updated": updated})

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)
        if request.headers.get("X-Authorization") != KEY:
            return Response.json(UNAUTHORIZED, status=401)
        rest = request.path.removeprefix(self.PREFIX)
        if request.method == "GET" and rest == "list":
            return self._list(request.query)
        if request.method == "GET" and rest == "details":
            found = [r for r in self.returns if str(r["id"]) == request.query.get("return_id")]
            return Response.json(self._details(found[0])) if found else Response.json({"message": "Not found"}, 404)
        rid_text, _, verb = rest.partition("/")
        if not rid_text.isdigit():
            return Response.json({"message": "Not found"}, 404)
        rid = int(rid_text)
        if request.method == "GET" and verb == "notes":
            notes = self.notes.get(rid)
            return Response.json({"notes": notes}) if notes else Response.json("false", 422)
        if request.method == "POST" and verb == "note":
            content = (request.json or {}).get("content")
            if not isinstance(content, str) or not content or len(content) > 255:
                message = "Content is required and must be less than 255 characters."
                return Response.json({"errors": {"message": message}}, 422)
            self.notes.setdefault(rid, []).append({"id": 1, "content": content, "created_at": "2025-01-02 10:00:00"})
            return Response.json("true")
        if request.method == "POST" and verb in ("process", "close", "cancel", "flag"):
            return self.action_answers.get((verb, rid), Response.json("true"))
        return Response.json({"message": "Not found"}, 404)

    def _list(self, query: dict[str, str]) -> Response:
        start, end = when(query["from"]), when(query["to"])
        if end - start > timedelta(days=120):
            return Response.json({"message": "The date range may not exceed 120 days.", "errors": {}}, 422)
        field = "updated" if query.get("filter") == "updated_at" else "created"
        states = query.get("state", "open,closed,expired").split(",")
        chosen = [r for r in self.returns if start <= r[field] <= end and r["state"] in states]
        chosen.sort(key=lambda r: r["id"])
        size = int(query.get("pageSize", 150))
        at = int(query.get("cursor", 0))
        page = chosen[at : at + size]
        next_url = None
        if at + size < len(chosen):
            next_url = self.base + "/api/v1/warehouse/return/list?" + urlencode({**query, "cursor": at + size})
        return Response.json(
            {
                "returns": [self._listed(r) for r in page],
                "nextPageUrl": next_url,
                "previousPageUrl": None,
                "meta": {"note": "a field Bobbin does not know"},
            }
        )

    @staticmethod
    def _listed(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(r["id"]),
            "state": r["state"],
            "created_at": r["created"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "updated_at": r["updated"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "total": "10.00",
            "return_method": "a field Bobbin does not know",
        }

    @staticmethod
    def _details(r: dict[str, Any]) -> dict[str, Any]:
        return {"id": r["id"], "state": r["state"], "updated_at": r["updated"].strftime("%Y-%m-%d %H:%M:%S")}


@pytest.fixture
def loop() -> Iterator[TinyLoop]:
    app = TinyLoop()
    server = SandboxServer(app)
    server.start()
    app.base = server.base_url
    yield app
    server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(loop: TinyLoop, fake_time: FakeTime) -> Iterator[Any]:
    clients: list[LoopClient] = []

    def make(**overrides: Any) -> LoopClient:
        options: dict[str, Any] = {
            "policy": FAST_POLICY,
            "clock": fake_time.clock,
            "sleep": fake_time.sleep,
            **overrides,
        }
        client = LoopClient(options.pop("base_url", loop.base + "/api/v1"), options.pop("api_key", KEY), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Any) -> LoopClient:
    made: LoopClient = make_client()
    return made


def ids(pages: list[ReturnsPage]) -> list[str]:
    return [r["id"] for page in pages for r in page.returns]


# --- auth [DOC] 3.1 --------------------------------------------------------------------------------
def test_every_request_carries_the_key_in_x_authorization(loop: TinyLoop, client: LoopClient) -> None:
    loop.add(1, T0 + timedelta(hours=1))
    list(client.iter_return_pages(T0, T0 + timedelta(days=1)))
    client.notes(1)
    assert loop.requests and all(r.headers.get("X-Authorization") == KEY for r in loop.requests)
    assert KEY not in repr(client)


def test_a_site_without_a_key_is_an_auth_error_before_any_request(loop: TinyLoop) -> None:
    with pytest.raises(AuthError, match="no API key"):
        LoopClient(loop.base + "/api/v1", "")
    assert loop.requests == []


@pytest.mark.parametrize("body", [UNAUTHORIZED, {"errors": "Unauthorized."}], ids=["mirror", "older page"])
def test_401_says_the_key_is_wrong_or_lacks_the_returns_scope(
    loop: TinyLoop, make_client: Any, body: dict[str, Any]
) -> None:
    loop.script.append(Response.json(body, status=401))
    client = make_client(api_key="a-key-without-the-returns-scope")
    with pytest.raises(AuthError) as raised:
        client.get_return(7)
    message = str(raised.value)
    assert "lacks the Returns scope" in message and "wrong" in message
    assert "Unauthorized." in message and "Developer Tools" in message
    assert "a-key-without-the-returns-scope" not in message
    assert len(loop.requests) == 1  # never retried
    if "error" in body:
        assert "GEN-UNAUTHORIZED" in message


# --- the list: windows and cursor paging [DOC] 3.2 ----------------------------------------------
def test_pages_follow_next_page_url_until_it_is_null(loop: TinyLoop, client: LoopClient) -> None:
    for n in range(1, 8):
        loop.add(n, T0 + timedelta(hours=n))
    pages = list(client.iter_return_pages(T0, T0 + timedelta(days=2), page_size=3))
    assert [len(p.returns) for p in pages] == [3, 3, 1]
    assert ids(pages) == [str(n) for n in range(1, 8)]
    assert [p.last_in_window for p in pages] == [False, False, True]
    first, *more = [r.query for r in loop.requests]
    assert first["filter"] == "updated_at" and first["paginate"] == "true" and first["pageSize"] == "3"
    assert "cursor" not in first and [q["cursor"] for q in more] == ["3", "6"]
    assert first["from"] == "2025-01-01T00:00:00.000Z" and first["to"] == "2025-01-03T00:00:00.000Z"
    assert "state" not in first  # Loop's default states


def test_a_long_range_is_read_in_windows_of_at_most_120_days(loop: TinyLoop, client: LoopClient) -> None:
    since, until = T0, T0 + timedelta(days=300)
    for n, day in enumerate((5, 125, 200, 299), start=1):
        loop.add(n, since + timedelta(days=day))
    pages = list(client.iter_return_pages(since, until))
    spans = [(when(r.query["from"]), when(r.query["to"])) for r in loop.requests]
    assert len(spans) == 3
    assert all(end - start <= timedelta(days=120) for start, end in spans)
    assert spans[0][0] == since and spans[-1][1] == until
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))  # contiguous
    assert ids(pages) == ["1", "2", "3", "4"]
    assert [(p.window_start, p.window_end) for p in pages] == spans[:1] + spans[1:2] + spans[2:]


def test_naive_datetimes_are_utc_and_until_defaults_to_now(loop: TinyLoop, client: LoopClient) -> None:
    recent = datetime.now(UTC) - timedelta(hours=1)
    loop.add(1, recent)
    pages = list(client.iter_return_pages(recent.replace(tzinfo=None) - timedelta(hours=1)))
    assert ids(pages) == ["1"]
    assert loop.requests[0].query["from"].endswith("Z")


def test_an_empty_window_still_yields_its_page(loop: TinyLoop, client: LoopClient) -> None:
    loop.add(1, T0 + timedelta(days=150))
    pages = list(client.iter_return_pages(T0, T0 + timedelta(days=160)))
    assert [len(p.returns) for p in pages] == [0, 1]
    assert pages[0].last_in_window and pages[0].window_end == T0 + timedelta(days=120)


def test_by_created_at_and_every_state(loop: TinyLoop, client: LoopClient) -> None:
    loop.add(1, T0 + timedelta(days=3), state="cancelled")
    everything = list(contract.STATES)
    pages = list(client.iter_return_pages(T0, T0 + timedelta(days=5), date_filter="created_at", states=everything))
    assert ids(pages) == ["1"]
    assert loop.requests[0].query["filter"] == "created_at"
    assert loop.requests[0].query["state"] == "open,closed,cancelled,expired,review"
    assert ids(list(client.iter_return_pages(T0, T0 + timedelta(days=5)))) == []  # not in the default states


def test_a_window_over_120_days_or_a_bad_argument_is_refused_before_sending(loop: TinyLoop, client: LoopClient) -> None:
    with pytest.raises(ValueError, match="120 days"):
        client.returns_page(T0, T0 + timedelta(days=120, seconds=1))
    with pytest.raises(ValueError, match="page_size"):
        client.returns_page(T0, T0 + timedelta(days=1), page_size=501)
    with pytest.raises(ValueError, match="date_filter"):
        client.returns_page(T0, T0 + timedelta(days=1), date_filter="edited_at")
    with pytest.raises(ValueError, match="states"):
        client.returns_page(T0, T0 + timedelta(days=1), states=["archived"])
    assert loop.requests == []
    client.returns_page(T0, T0 + timedelta(days=120))  # exactly 120 days is allowed
    assert len(loop.requests) == 1


def test_a_next_page_url_on_another_host_is_not_followed(loop: TinyLoop, client: LoopClient) -> None:
    loop.script.append(Response.json({"returns": [], "nextPageUrl": "https://elsewhere.example/list?cursor=x"}))
    with pytest.raises(PartnerRejected, match="not followed"):
        list(client.iter_return_pages(T0, T0 + timedelta(days=1)))
    assert len(loop.requests) == 1


def test_the_same_next_page_url_twice_ends_the_read(loop: TinyLoop, client: LoopClient) -> None:
    same = loop.base + "/api/v1/warehouse/return/list?cursor=abc"
    loop.script += [Response.json({"returns": [{"id": "1"}], "nextPageUrl": same})] * 3
    with pytest.raises(PartnerRejected, match="same nextPageUrl"):
        list(client.iter_return_pages(T0, T0 + timedelta(days=1)))
    assert len(loop.requests) == 2


def test_a_bare_array_is_one_last_page_and_unknown_fields_pass_through(loop: TinyLoop, client: LoopClient) -> None:
    loop.script.append(Response.json([{"id": "9", "brand_new": True}]))
    [page] = list(client.iter_return_pages(T0, T0 + timedelta(days=1)))
    assert page.returns == [{"id": "9", "brand_new": True}] and page.last_in_window


def test_an_answer_without_returns_is_rejected(loop: TinyLoop, client: LoopClient) -> None:
    loop.script.append(Response.json({"data": []}))
    with pytest.raises(PartnerRejected, match="no 'returns' list"):
        client.returns_page(T0, T0 + timedelta(days=1))


# --- rate limit and server errors [DOC] 3.1 ------------------------------------------------------
def test_429_waits_as_retry_after_says_then_succeeds(loop: TinyLoop, client: LoopClient, fake_time: FakeTime) -> None:
    loop.add(1, T0 + timedelta(hours=1))
    loop.script.append(Response.json({"message": "Too Many Attempts."}, 429, headers={"Retry-After": "2"}))
    pages = list(client.iter_return_pages(T0, T0 + timedelta(days=1)))
    assert ids(pages) == ["1"]
    assert fake_time.sleeps == [2.0]
    assert len(loop.requests) == 2


def test_429_without_retry_after_holds_requests_for_a_minute(
    loop: TinyLoop, client: LoopClient, fake_time: FakeTime
) -> None:
    loop.script.append(Response.json({"message": "Too Many Attempts."}, 429))
    client.notes(1)
    assert math.isclose(sum(fake_time.sleeps), 60.0)
    assert len(loop.requests) == 2


def test_in_a_worker_a_long_rate_limit_wait_raises_rate_limited(loop: TinyLoop, make_client: Any) -> None:
    client = make_client(policy=HttpPolicy(max_attempts=3, backoff_base=0.01, backoff_cap=60.0))
    loop.script.append(Response.json({"message": "Too Many Attempts."}, 429))
    with pytest.raises(RateLimited) as raised:
        client.notes(1)
    assert raised.value.retry_after is not None and 55 < raised.value.retry_after <= 60
    assert len(loop.requests) == 1


def test_the_client_keeps_within_its_requests_per_minute(loop: TinyLoop, make_client: Any, fake_time: FakeTime) -> None:
    client = make_client(requests_per_minute=3)
    for _ in range(3):
        client.notes(1)
    assert fake_time.sleeps == []
    client.notes(1)  # the 4th within the minute waits for the 1st to be a minute old
    assert fake_time.sleeps == [60.0]
    assert len(loop.requests) == 4


def test_5xx_is_retried_and_then_a_retryable_error(loop: TinyLoop, client: LoopClient) -> None:
    loop.script.append(Response(status=502, body=b"bad gateway", content_type="text/plain"))
    assert client.notes(1) == []
    loop.script += [Response(status=503, body=b"unavailable", content_type="text/plain")] * 3
    with pytest.raises(RetryableError, match="HTTP 503"):
        client.notes(1)


# --- details [DOC] 3.6 ---------------------------------------------------------------------------
def test_get_return_asks_by_return_id_and_checks_the_answer(loop: TinyLoop, client: LoopClient) -> None:
    loop.add(37603922, T0)
    got = client.get_return("37603922", currency_type="presentment")
    assert got["id"] == 37603922  # details: an integer id
    assert loop.requests[-1].query == {"return_id": "37603922", "currency_type": "presentment"}
    loop.script.append(Response.json({"id": 5, "state": "open"}))
    with pytest.raises(ContractViolation, match="not return 37603922"):
        client.get_return(37603922)
    with pytest.raises(PartnerRejected, match="HTTP 404"):
        client.get_return(404404)


def test_returns_for_an_order_by_name(loop: TinyLoop, client: LoopClient) -> None:
    loop.script.append(Response.json({"id": 1, "order_name": "#7382018"}))
    assert client.get_returns_for_order(order_name="#7382018") == [{"id": 1, "order_name": "#7382018"}]
    assert loop.requests[-1].query == {"order_name": "#7382018"}
    with pytest.raises(ValueError):
        client.get_returns_for_order()


# --- actions on one return [DOC] 3.2 / 3.6 ---------------------------------------------------------
@pytest.mark.parametrize("verb", ["process", "close", "cancel", "flag"])
def test_each_action_posts_to_exactly_one_return(loop: TinyLoop, client: LoopClient, verb: str) -> None:
    getattr(client, f"{verb}_return")("37603922")
    [request] = loop.requests
    assert (request.method, request.path) == ("POST", f"/api/v1/warehouse/return/37603922/{verb}")
    assert request.query == {} and request.body == b""


@pytest.mark.parametrize("bad", [["1", "2"], "1,2", "", " ", "../1", "1/process", True, -3, 1.5, None])
def test_an_action_on_anything_but_one_return_id_sends_nothing(loop: TinyLoop, client: LoopClient, bad: Any) -> None:
    with pytest.raises(ValueError):
        client.process_return(bad)
    with pytest.raises(ValueError):
        client.add_note(bad, "a note")
    assert loop.requests == []


def test_process_sends_its_additional_details(loop: TinyLoop, client: LoopClient) -> None:
    client.process_return(12, {"erp_rma": "RMA-001"})
    assert loop.requests[0].json == {"erp_rma": "RMA-001"}


def test_process_true_is_done_and_an_error_body_at_200_is_refused(loop: TinyLoop, client: LoopClient) -> None:
    client.process_return(1)  # "true"
    flagged = {"errors": {"message": "Return is flagged for review.", "code": "UNPROCESSABLE_FLAGGED_RETURN"}}
    loop.action_answers[("process", 2)] = Response.json(flagged)
    with pytest.raises(LoopActionRefused) as raised:
        client.process_return(2)
    refused = raised.value
    assert (refused.code, refused.action, refused.return_id, refused.status) == (
        "UNPROCESSABLE_FLAGGED_RETURN",
        "process",
        "2",
        200,
    )
    assert "Return is flagged for review." in str(refused) and "review it in Loop" in str(refused)

    closed = {
        "errors": {"message": "Return is closed and therefore cannot be processed.", "code": "UNPROCESSABLE_RETURN"}
    }
    loop.action_answers[("process", 3)] = Response.json(closed)
    with pytest.raises(LoopActionRefused, match="UNPROCESSABLE_RETURN: Return is closed"):
        client.process_return(3)

    loop.action_answers[("process", 4)] = Response.json(
        {"message": "Return is cancelled and therefore cannot be processed."}
    )
    with pytest.raises(LoopActionRefused, match="cancelled") as raised:
        client.process_return(4)
    assert raised.value.code is None

    loop.action_answers[("cancel", 5)] = Response.json({"content": "Return is expired and cannot be processed."})
    with pytest.raises(LoopActionRefused, match="expired"):
        client.cancel_return(5)


def test_an_action_answer_that_is_neither_true_nor_an_error_is_not_taken_as_done(
    loop: TinyLoop, client: LoopClient
) -> None:
    loop.action_answers[("process", 6)] = Response.json({"queued": 1})
    with pytest.raises(ContractViolation, match="cannot tell"):
        client.process_return(6)


def test_a_process_whose_answer_is_lost_is_not_sent_again(loop: TinyLoop, client: LoopClient) -> None:
    loop.script.append(Response(body=b'"true"', truncate=True))  # the answer stops short
    with pytest.raises(OutcomeUnknown):
        client.process_return(7)
    assert len(loop.requests) == 1


# --- notes [DOC] 3.2 / 3.6 -----------------------------------------------------------------------
def test_notes_422_means_none_and_a_note_is_added(loop: TinyLoop, client: LoopClient) -> None:
    assert client.notes(8) == []
    assert client.add_note(8, "  RMA RMA-001 created in the ERP  ") == "RMA RMA-001 created in the ERP"
    assert loop.requests[-1].json == {"content": "RMA RMA-001 created in the ERP"}
    assert [n["content"] for n in client.notes(8)] == ["RMA RMA-001 created in the ERP"]


def test_a_long_note_is_cut_to_255_characters_and_accepted(loop: TinyLoop, client: LoopClient) -> None:
    sent = client.add_note(9, "x" * 400)
    assert len(sent) == 255 and sent.endswith("…")
    assert loop.requests[-1].json == {"content": sent}
    with pytest.raises(ValueError):
        client.add_note(9, "   ")


def test_a_refused_note_says_loops_words(loop: TinyLoop, client: LoopClient) -> None:
    refusal = {"errors": {"message": "Content is required and must be less than 255 characters."}}
    loop.script.append(Response.json(refusal, 422))
    with pytest.raises(LoopActionRefused, match="must be less than 255") as raised:
        client.add_note(10, "ok")
    assert raised.value.status == 422 and raised.value.action == "note"


# --- contract helpers --------------------------------------------------------------------------------
def test_range_timestamp_is_utc_with_milliseconds() -> None:
    aware = datetime(2026, 3, 1, 9, 30, 1, 250999, tzinfo=UTC)
    assert contract.range_timestamp(aware) == "2026-03-01T09:30:01.250Z"
    assert contract.range_timestamp(datetime(2026, 3, 1)) == "2026-03-01T00:00:00.000Z"
    east = datetime(2026, 3, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert contract.range_timestamp(east) == "2026-03-01T00:00:00.000Z"


def test_windows_cover_the_range_in_spans_of_at_most_120_days() -> None:
    start, end = T0, T0 + timedelta(days=365, hours=5)
    spans = contract.windows(start, end)
    assert spans[0][0] == start and spans[-1][1] == end
    assert all(b - a <= timedelta(days=120) for a, b in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    assert len(spans) == 4
    assert contract.windows(start, start) == [] and contract.windows(end, start) == []
    assert contract.windows(start, start + timedelta(days=120)) == [(start, start + timedelta(days=120))]


def test_return_id_text_takes_one_number() -> None:
    assert contract.return_id_text(37603922) == "37603922"
    assert contract.return_id_text(" 37603922 ") == "37603922"
    for bad in ("", "1,2", "١٢", "12a", True, -1, 2.0, [1], None):
        with pytest.raises(ValueError):
            contract.return_id_text(bad)


def test_fit_note_keeps_short_notes_and_cuts_long_ones() -> None:
    assert contract.fit_note(" a ") == "a"
    exact = "y" * 255
    assert contract.fit_note(exact) == exact
    cut = contract.fit_note("word " * 100)
    assert len(cut) <= 255 and cut.endswith("…")


# --- webhook signatures [DOC] 3.4 / 3.6 --------------------------------------------------------------
SECRET = "loop-webhook-secret"
# Compact, with "/" escaped as "\/" and non-ASCII as \uXXXX, as Loop sends it [DOC].
BODY = b'{"topic":"return","trigger":"return.created","id":"37603922","status_page_url":"https:\\/\\/s.example\\/r","customer_detail":{"first_name":"Ren\\u00e9"}}'


def documented_signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(raw body, secret)), straight from the document."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_the_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    expected = documented_signature(SECRET, BODY)
    assert contract.webhook_signature(SECRET, BODY) == expected
    # RFC 4231 test case 2, in base64
    assert (
        contract.webhook_signature("Jefe", b"what do ya want for nothing?")
        == base64.b64encode(bytes.fromhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")).decode()
    )
    assert contract.signature_valid(BODY, expected, SECRET)
    assert contract.verify_webhook(BODY, {"x-loop-signature": expected}, SECRET)
    assert contract.verify_webhook(BODY, {"X-Loop-Signature": f" {expected}\n"}, SECRET)


def test_a_tampered_body_a_wrong_secret_or_no_signature_fails() -> None:
    good = documented_signature(SECRET, BODY)
    assert not contract.signature_valid(BODY.replace(b"37603922", b"37603923"), good, SECRET)
    assert not contract.signature_valid(BODY, documented_signature("another-secret", BODY), SECRET)
    assert not contract.signature_valid(BODY, None, SECRET)
    assert not contract.signature_valid(BODY, "", SECRET)
    assert not contract.signature_valid(BODY, good, "")
    assert not contract.verify_webhook(BODY, {"x-other": good}, SECRET)
    # the same JSON re-serialised is other bytes: only the received bytes verify
    reserialised = json.dumps(json.loads(BODY), separators=(",", ":"), ensure_ascii=False).encode()
    assert reserialised != BODY and not contract.signature_valid(reserialised, good, SECRET)
