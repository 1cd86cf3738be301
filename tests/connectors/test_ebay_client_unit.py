"""EbayClient over real HTTP against a tiny eBay started in the test on 127.0.0.1: the OAuth token's
life (minted once, renewed before it expires, renewed once after a 401, a revoked refresh token),
eBay's error envelope, and the checks on each answer.

The tiny eBay below states the API in eBay's own words (partners/README 5.3: the token path, Basic
auth and form fields, ``invalid_grant``, errorId 1001, the ``errors`` envelope, Content-Language,
``responses``, ``next``, the Location of a new fulfilment): it imports nothing from the client's
contract, so a wrong name there fails here. Time is a fake clock: nothing waits for real.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from connectors.ebay.client import EbayClient, EbayRejected
from connectors.errors import AuthError, ContractViolation, OutcomeUnknown
from connectors.http import HttpPolicy
from sandbox.common import Request, Response, SandboxServer

CLIENT_ID = "Bobbin-Bobbin-PRD-1a2b3c4d5-e6f7a8b9"
CLIENT_SECRET = "PRD-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b"
REFRESH = "v^1.1#i^1#r^1#I^3#f^0#p^3#t^Ul4xMF8yOjRG"
FAST_POLICY = HttpPolicy(
    connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=1.0, longest_sleep=math.inf
)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
EXPIRED = {
    "errors": [
        {
            "errorId": 1001,
            "domain": "OAuth",
            "category": "REQUEST",
            "message": "Invalid access token",
            "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header.",
        }
    ]
}


class FakeTime:
    def __init__(self) -> None:
        self.now = 5000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class TinyEbay:
    """The token endpoint and whatever a test scripts; ``script`` answers API calls first."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.token_requests: list[Request] = []
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.expires_in = 7200
        self.revoked = False
        self.script: list[Response] = []
        self.base = ""

    def handle(self, request: Request) -> Response:
        if request.path == "/identity/v1/oauth2/token":
            return self._token(request)
        self.requests.append(request)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.valid:
            return Response.json(EXPIRED, status=401)
        if self.script:
            return self.script.pop(0)
        return Response(status=204)

    def _token(self, request: Request) -> Response:
        self.token_requests.append(request)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response.json({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != REFRESH or self.revoked:
            return Response.json(
                {"error": "invalid_grant", "error_description": "the provided authorization refresh token is invalid"},
                400,
            )
        token = f"v^1.1#i^1#access-{len(self.issued) + 1:04d}"
        self.issued.append(token)
        self.valid.add(token)
        return Response.json({"access_token": token, "expires_in": self.expires_in, "token_type": "User Access Token"})


@pytest.fixture
def ebay() -> Iterator[TinyEbay]:
    app = TinyEbay()
    server = SandboxServer(app)
    server.start()
    app.base = server.base_url
    yield app
    server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(ebay: TinyEbay, fake_time: FakeTime) -> Iterator[EbayClient]:
    made = EbayClient(
        ebay.base,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH,
        policy=FAST_POLICY,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )
    yield made
    made.close()


def bearer(request: Request) -> str:
    return str(request.headers.get("Authorization", "")).removeprefix("Bearer ")


# --- the token -----------------------------------------------------------------------------------
def test_one_token_serves_many_calls_and_is_asked_for_with_the_documented_form(
    ebay: TinyEbay, client: EbayClient
) -> None:
    client.put_inventory_item("LS100-BLK-S", {"product": {"title": "Linen Shirt"}})
    client.put_inventory_item("LS100-BLK-M", {"product": {"title": "Linen Shirt"}})
    assert len(ebay.token_requests) == 1
    form = parse_qs(ebay.token_requests[0].body.decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH]
    assert set(form["scope"][0].split(" ")) == {
        "https://api.ebay.com/oauth/api_scope/sell.inventory",
        "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    }
    assert ebay.token_requests[0].headers.get("Content-Type") == "application/x-www-form-urlencoded"
    assert [bearer(r) for r in ebay.requests] == [ebay.issued[0]] * 2
    for secret in (CLIENT_SECRET, REFRESH, ebay.issued[0]):
        assert secret not in repr(client)


def test_the_token_is_renewed_shortly_before_it_expires_not_after(
    ebay: TinyEbay, client: EbayClient, fake_time: FakeTime
) -> None:
    client.put_inventory_item("A1", {})
    fake_time.now += 7200 - 600  # well inside its life: kept
    client.put_inventory_item("A1", {})
    assert len(ebay.issued) == 1
    fake_time.now += 400  # within the last minutes: renewed before the call, no 401 on the way
    client.put_inventory_item("A1", {})
    assert len(ebay.issued) == 2
    assert [r.path for r in ebay.requests] == ["/sell/inventory/v1/inventory_item/A1"] * 3
    assert bearer(ebay.requests[-1]) == ebay.issued[1]


def test_a_short_lived_token_is_still_used_for_half_its_life(
    ebay: TinyEbay, client: EbayClient, fake_time: FakeTime
) -> None:
    ebay.expires_in = 60
    client.put_inventory_item("A1", {})
    fake_time.now += 29
    client.put_inventory_item("A1", {})
    assert len(ebay.issued) == 1
    fake_time.now += 2
    client.put_inventory_item("A1", {})
    assert len(ebay.issued) == 2


def test_a_401_gets_one_new_token_and_the_call_is_sent_once_more(ebay: TinyEbay, client: EbayClient) -> None:
    client.put_inventory_item("A1", {})
    ebay.valid.clear()  # eBay dropped the token early
    client.put_inventory_item("A1", {})
    assert len(ebay.issued) == 2
    assert [bearer(r) for r in ebay.requests] == [ebay.issued[0], ebay.issued[0], ebay.issued[1]]


def test_a_second_401_is_an_auth_error_not_a_loop(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script = []
    client.put_inventory_item("A1", {})
    ebay.valid.clear()
    original = ebay._token

    def token_never_valid(request: Request) -> Response:
        answer = original(request)
        ebay.valid.clear()
        return answer

    ebay._token = token_never_valid  # type: ignore[method-assign]
    with pytest.raises(AuthError) as raised:
        client.put_inventory_item("A1", {})
    assert "1001" in str(raised.value) and "Invalid access token" in str(raised.value)
    assert len(ebay.requests) == 3  # the first call, then the refused one twice


def test_a_revoked_refresh_token_says_the_seller_must_grant_access_again(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.revoked = True
    with pytest.raises(AuthError) as raised:
        client.get_offers("A1")
    message = str(raised.value)
    assert "invalid_grant" in message and "seller must grant Bobbin access" in message
    assert REFRESH not in message
    assert len(ebay.token_requests) == 1 and ebay.requests == []  # never retried


def test_wrong_app_keys_are_an_auth_error(ebay: TinyEbay, fake_time: FakeTime) -> None:
    with (
        EbayClient(
            ebay.base, client_id=CLIENT_ID, client_secret="wrong-secret", refresh_token=REFRESH, policy=FAST_POLICY
        ) as client,
        pytest.raises(AuthError, match="client id and client secret"),
    ):
        client.get_offers("A1")


def test_a_site_without_a_refresh_token_fails_before_any_request(ebay: TinyEbay) -> None:
    with pytest.raises(AuthError, match="grant Bobbin access"):
        EbayClient(ebay.base, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="")
    assert ebay.token_requests == []


# --- errors and answers --------------------------------------------------------------------------
def test_eBays_error_envelope_is_in_the_message(ebay: TinyEbay, client: EbayClient) -> None:
    body = {
        "errors": [
            {
                "errorId": 25002,
                "domain": "API_INVENTORY",
                "category": "REQUEST",
                "message": "A user error has occurred. Offer entity already exists.",
                "longMessage": "An offer already exists for this SKU and marketplace.",
                "parameters": [{"name": "offerId", "value": "5005317010"}],
            }
        ]
    }
    ebay.script.append(Response.json(body, status=400))
    with pytest.raises(EbayRejected) as raised:
        client.create_offer({"sku": "A1", "marketplaceId": "EBAY_US", "format": "FIXED_PRICE"})
    message = str(raised.value)
    assert "25002" in message and "already exists" in message and "offerId=5005317010" in message
    assert raised.value.error_ids == (25002,) and raised.value.parameter("offerId") == "5005317010"


def test_writes_carry_content_language(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script.append(Response.json({"offerId": "9001"}, status=201))
    assert client.create_offer({"sku": "A1"}) == "9001"
    ebay.script.append(Response.json({"offers": []}))
    client.get_offers("A1")
    write, read = ebay.requests
    assert write.headers.get("Content-Language") == "en-US" and write.json == {"sku": "A1"}
    assert read.query == {"sku": "A1"}


def test_a_lost_answer_to_create_offer_is_not_sent_again(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script.append(Response(status=201, drop=True))
    with pytest.raises(OutcomeUnknown):
        client.create_offer({"sku": "A1"})
    assert len(ebay.requests) == 1


def test_offers_for_another_sku_are_a_contract_violation(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script.append(Response.json({"offers": [{"offerId": "1", "sku": "B2"}], "total": 1}))
    with pytest.raises(ContractViolation, match="another SKU"):
        client.get_offers("A1")


def test_a_sku_without_offers_reads_as_none(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script.append(Response.json({"errors": [{"errorId": 25713, "message": "This Offer is not available."}]}, 404))
    assert client.get_offers("A1") == []
    ebay.script.append(Response.json({"errors": [{"errorId": 25702, "message": "SKU A1 is not available"}]}, 404))
    with pytest.raises(EbayRejected, match="25702"):
        client.get_offers("A1")


def test_bulk_calls_take_at_most_25_and_each_sku_once(ebay: TinyEbay, client: EbayClient) -> None:
    with pytest.raises(ValueError, match="at most 25"):
        client.bulk_create_or_replace_inventory_items([{"sku": f"S{i}"} for i in range(26)])
    with pytest.raises(ValueError, match="once"):
        client.bulk_update_price_quantity([{"sku": "S1"}, {"sku": "S1"}])
    assert ebay.requests == []


def test_bulk_results_per_sku_and_strangers_refused(ebay: TinyEbay, client: EbayClient) -> None:
    answer = {
        "responses": [
            {"statusCode": 200, "sku": "S1", "locale": "en_US"},
            {"statusCode": 400, "sku": "S2", "errors": [{"errorId": 25005, "message": "Invalid category"}]},
        ]
    }
    ebay.script.append(Response.json(answer, status=207))
    results = client.bulk_create_or_replace_inventory_items([{"sku": "S1"}, {"sku": "S2"}])
    assert [(r.sku, r.ok) for r in results] == [("S1", True), ("S2", False)]
    assert results[1].errors[0].error_id == 25005
    ebay.script.append(Response.json({"responses": [{"statusCode": 200, "sku": "S9"}]}))
    with pytest.raises(ContractViolation, match="S9"):
        client.bulk_update_price_quantity([{"sku": "S1", "shipToLocationAvailability": {"quantity": 3}}])


def test_order_pages_follow_next(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script.append(
        Response.json(
            {
                "total": 3,
                "limit": 2,
                "offset": 0,
                "orders": [{"orderId": "1"}, {"orderId": "2"}],
                "next": ebay.base + "/sell/fulfillment/v1/order?limit=2&offset=2",
            }
        )
    )
    ebay.script.append(Response.json({"total": 3, "limit": 2, "offset": 2, "orders": [{"orderId": "3"}]}))
    pages = list(client.iter_order_pages(T0, limit=2))
    assert [o["orderId"] for p in pages for o in p.orders] == ["1", "2", "3"]
    first = ebay.requests[0]
    assert first.query["filter"] == "lastmodifieddate:[2026-11-01T00:00:00.000Z..]"
    assert (first.query["limit"], first.query["offset"]) == ("2", "0")
    assert pages[1].offset == 2 and pages[1].last


def test_a_next_page_on_another_host_is_not_followed(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script.append(Response.json({"orders": [{"orderId": "1"}], "next": "https://elsewhere.example/order"}))
    with pytest.raises(Exception, match="not followed"):
        list(client.iter_order_pages(T0))


def test_get_order_must_answer_the_order_asked(ebay: TinyEbay, client: EbayClient) -> None:
    ebay.script.append(Response.json({"orderId": "other"}))
    with pytest.raises(ContractViolation):
        client.get_order("06-1")


def test_shipping_fulfillment_id_comes_from_location(ebay: TinyEbay, client: EbayClient) -> None:
    location = ebay.base + "/sell/fulfillment/v1/order/06-1/shipping_fulfillment/9405509699937003457459"
    ebay.script.append(Response(status=201, headers={"Location": location}))
    made = client.create_shipping_fulfillment("06-1", {"10052811170001": 2}, "USPS", "9405509699937003457459", T0)
    assert made == "9405509699937003457459"
    sent = ebay.requests[-1]
    assert sent.json == {
        "lineItems": [{"lineItemId": "10052811170001", "quantity": 2}],
        "shippedDate": "2026-11-01T00:00:00.000Z",
        "shippingCarrierCode": "USPS",
        "trackingNumber": "9405509699937003457459",
    }
    other = ebay.base + "/sell/fulfillment/v1/order/06-2/shipping_fulfillment/1"
    ebay.script.append(Response(status=201, headers={"Location": other}))
    with pytest.raises(ContractViolation, match="another order"):
        client.create_shipping_fulfillment("06-1", {"10052811170001": 2}, "USPS", "1", T0)


def test_too_many_images_are_refused_before_sending(ebay: TinyEbay, client: EbayClient) -> None:
    with pytest.raises(ValueError, match="at most 24"):
        client.put_inventory_item("A1", {"product": {"imageUrls": [f"https://img/{i}.jpg" for i in range(25)]}})
    assert ebay.requests == []
