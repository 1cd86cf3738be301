"""The eBay sandbox spoken to with plain HTTP: OAuth, the Inventory and Fulfillment APIs, limits, faults.

The expected values are the documentation's own words (shared/partners/README.md 5.3 and eBay's
developer pages), written out here, and the orders the test seeded; never the sandbox's tables run a
second time.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from bobbin.demo import build_world
from sandbox.ebay.demo import DEMO_NOW, catalog_from_world, demo_seed
from sandbox.ebay.server import EbaySandbox

CLIENT_ID = "bobbin-test-client"
CLIENT_SECRET = "bobbin-test-secret"
REFRESH = "v^1.1#test-refresh-token"
TOKEN = "/identity/v1/oauth2/token"
INV = "/sell/inventory/v1"
FUL = "/sell/fulfillment/v1"
SCOPES = "https://api.ebay.com/oauth/api_scope/sell.inventory https://api.ebay.com/oauth/api_scope/sell.fulfillment"
LANG = {"Content-Language": "en-US"}
SEED = demo_seed()
POLICIES = {"fulfillmentPolicyId": "6196932000", "paymentPolicyId": "6196933000", "returnPolicyId": "6196934000"}


class Clock:
    def __init__(self) -> None:
        self.now = DEMO_NOW.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[EbaySandbox]:
    server = EbaySandbox(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH, seed=SEED, clock=clock
    ).start()
    yield server
    server.stop()


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


class Api:
    """Raw requests to the sandbox, returning the requests.Response; the token is fetched once."""

    def __init__(self, sandbox: EbaySandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.token: str | None = None

    def grant(self, refresh: str = REFRESH, scope: str | None = SCOPES, **headers: str) -> requests.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh}
        if scope is not None:
            form["scope"] = scope
        return self.session.post(self.sandbox.url + TOKEN, data=form, headers=headers or basic(), timeout=5)

    def call(self, method: str, path: str, *, token: str | None = "", **kwargs: Any) -> requests.Response:
        if token == "":
            if self.token is None:
                answer = self.grant()
                assert answer.status_code == 200, answer.text
                self.token = answer.json()["access_token"]
            token = self.token
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.sandbox.url + path, headers=headers, timeout=5, **kwargs)

    def item(self, sku: str, images: int = 2, **product: Any) -> requests.Response:
        body = {
            "product": {
                "title": f"Harbor Crew Tee {sku}",
                "description": "Soft cotton crew neck.",
                "aspects": {"Color": ["Chalk"], "Size": ["M"]},
                "imageUrls": [f"https://img.example.com/{sku}/{n}.jpg" for n in range(images)],
                **product,
            },
            "condition": "NEW",
            "availability": {"shipToLocationAvailability": {"quantity": 5}},
        }
        return self.call("PUT", f"{INV}/inventory_item/{sku}", json=body, headers=LANG)

    def offer(self, sku: str, **fields: Any) -> requests.Response:
        body = {
            "sku": sku,
            "marketplaceId": "EBAY_US",
            "format": "FIXED_PRICE",
            "availableQuantity": 5,
            "categoryId": "15687",
            "listingDescription": "Soft cotton crew neck.",
            "listingPolicies": POLICIES,
            "pricingSummary": {"price": {"value": "38.00", "currency": "USD"}},
            "merchantLocationKey": "harbor-warehouse",
            **fields,
        }
        return self.call("POST", f"{INV}/offer", json={k: v for k, v in body.items() if v is not None}, headers=LANG)

    def orders(self, **params: Any) -> dict[str, Any]:
        answer = self.call("GET", f"{FUL}/order", params=params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def api(sandbox: EbaySandbox) -> Api:
    return Api(sandbox)


def error_ids(answer: requests.Response) -> list[int]:
    return [e["errorId"] for e in answer.json()["errors"]]


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- OAuth ----------------------------------------------------------------------------------------
def test_a_refresh_token_grant_answers_a_user_access_token_for_two_hours(api: Api) -> None:
    answer = api.grant()
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["expires_in"] == 7200
    assert body["token_type"] == "User Access Token"


def test_wrong_client_credentials_are_invalid_client_401(api: Api) -> None:
    answer = api.grant(**basic(secret="wrong"))
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert api.grant(Authorization="Bearer nope").status_code == 401


def test_a_wrong_or_revoked_refresh_token_is_invalid_grant_400(api: Api, sandbox: EbaySandbox) -> None:
    wrong = api.grant(refresh="v^1.1#not-it")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert "error_description" in wrong.json()
    assert api.call("GET", f"{FUL}/order").status_code == 200
    sandbox.revoke_refresh_token()
    revoked = api.grant()
    assert revoked.status_code == 400
    assert revoked.json()["error"] == "invalid_grant"
    assert api.call("GET", f"{FUL}/order").status_code == 401  # its access tokens went with it


def test_a_scope_not_granted_is_invalid_scope(api: Api) -> None:
    answer = api.grant(scope="https://api.ebay.com/oauth/api_scope/sell.finances")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_missing_unknown_or_expired_bearer_tokens_are_401_errorid_1001(api: Api, clock: Clock) -> None:
    for token in (None, "not-a-token"):
        answer = api.call("GET", f"{FUL}/order", token=token)
        assert answer.status_code == 401
        (entry,) = answer.json()["errors"]
        assert entry["errorId"] == 1001
        assert entry["domain"] == "OAuth"
        assert {"category", "message", "longMessage"} <= set(entry)
    assert api.call("GET", f"{FUL}/order").status_code == 200
    clock.now += 7199
    assert api.call("GET", f"{FUL}/order").status_code == 200
    clock.now += 1
    expired = api.call("GET", f"{FUL}/order")
    assert expired.status_code == 401
    assert error_ids(expired) == [1001]
    api.token = None  # a new grant gives a working token
    assert api.call("GET", f"{FUL}/order").status_code == 200


def test_a_token_without_the_apis_scope_is_refused(api: Api) -> None:
    answer = api.grant(scope="https://api.ebay.com/oauth/api_scope/sell.fulfillment")
    token = answer.json()["access_token"]
    assert api.call("GET", f"{FUL}/order", token=token).status_code == 200
    assert api.call("GET", f"{INV}/inventory_item/109IX", token=token).status_code == 403


def test_the_access_token_lifetime_is_configurable(clock: Clock) -> None:
    short = EbaySandbox(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH, clock=clock, access_token_seconds=60
    ).start()
    try:
        api = Api(short)
        assert api.grant().json()["expires_in"] == 60
        assert api.call("GET", f"{FUL}/order").status_code == 200
        clock.now += 60
        assert api.call("GET", f"{FUL}/order").status_code == 401
    finally:
        short.stop()


# --- Inventory --------------------------------------------------------------------------------------
def test_an_inventory_item_is_put_with_content_language_and_read_back(api: Api) -> None:
    assert api.item("3YJG8").status_code == 204
    answer = api.call("GET", f"{INV}/inventory_item/3YJG8")
    assert answer.status_code == 200
    item = answer.json()
    assert item["sku"] == "3YJG8"
    assert item["product"]["title"] == "Harbor Crew Tee 3YJG8"
    assert item["availability"]["shipToLocationAvailability"]["quantity"] == 5
    no_language = api.call("PUT", f"{INV}/inventory_item/3YJG8", json={"condition": "NEW"})
    assert no_language.status_code == 400
    assert "errors" in no_language.json()
    assert api.call("DELETE", f"{INV}/inventory_item/3YJG8").status_code == 204
    missing = api.call("GET", f"{INV}/inventory_item/3YJG8")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["parameters"] == [{"name": "sku", "value": "3YJG8"}]


def test_at_most_24_images_a_title_of_80_and_a_known_condition(api: Api) -> None:
    assert api.item("4JBK3", images=24).status_code == 204
    too_many = api.item("4JBK3", images=25)
    assert too_many.status_code == 400
    entry = too_many.json()["errors"][0]
    assert set(entry) >= {"errorId", "domain", "category", "message", "longMessage", "parameters"}
    assert api.item("4JBK3", title="x" * 81).status_code == 400
    bad = api.call("PUT", f"{INV}/inventory_item/4JBK3", json={"condition": "BRAND_NEW"}, headers=LANG)
    assert bad.status_code == 400


def test_bulk_create_takes_at_most_25_and_answers_a_status_per_item(api: Api, sandbox: EbaySandbox) -> None:
    def entry(sku: str, images: int = 1) -> dict[str, Any]:
        urls = [f"https://img.example.com/{sku}/{n}.jpg" for n in range(images)]
        return {"sku": sku, "locale": "en_US", "product": {"title": sku, "imageUrls": urls}, "condition": "NEW"}

    path = f"{INV}/bulk_create_or_replace_inventory_item"
    too_many = api.call("POST", path, json={"requests": [entry(f"S{n}") for n in range(26)]}, headers=LANG)
    assert too_many.status_code == 400
    ok = api.call("POST", path, json={"requests": [entry(f"S{n}") for n in range(25)]}, headers=LANG)
    assert ok.status_code == 200
    assert [r["statusCode"] for r in ok.json()["responses"]] == [200] * 25
    mixed = api.call("POST", path, json={"requests": [entry("A1"), entry("A2", images=30)]}, headers=LANG)
    assert mixed.status_code == 207
    assert [(r["sku"], r["statusCode"]) for r in mixed.json()["responses"]] == [("A1", 200), ("A2", 400)]
    assert mixed.json()["responses"][1]["errors"]
    assert {i["sku"] for i in sandbox.inventory_items()} >= {"S0", "S24", "A1"}
    assert "A2" not in {i["sku"] for i in sandbox.inventory_items()}


def test_an_offer_is_created_once_per_sku_marketplace_and_format(api: Api) -> None:
    api.item("3YJG8")
    made = api.offer("3YJG8")
    assert made.status_code == 201
    offer_id = made.json()["offerId"]
    again = api.offer("3YJG8")
    assert again.status_code == 400
    assert again.json()["errors"][0]["parameters"] == [{"name": "offerId", "value": offer_id}]
    listed = api.call("GET", f"{INV}/offer", params={"sku": "3YJG8"}).json()
    assert listed["total"] == 1
    assert listed["offers"][0]["offerId"] == offer_id
    assert listed["offers"][0]["status"] == "UNPUBLISHED"
    assert api.offer("NOPE1").status_code == 400  # no inventory item


def test_publish_makes_one_listing_and_publishing_again_revises_it(api: Api, sandbox: EbaySandbox) -> None:
    api.item("3YJG8")
    offer_id = api.offer("3YJG8").json()["offerId"]
    first = api.call("POST", f"{INV}/offer/{offer_id}/publish")
    assert first.status_code == 200
    listing_id = first.json()["listingId"]
    changed = api.call(
        "PUT",
        f"{INV}/offer/{offer_id}",
        json={
            "availableQuantity": 3,
            "categoryId": "15687",
            "listingPolicies": POLICIES,
            "pricingSummary": {"price": {"value": "34.00", "currency": "USD"}},
            "merchantLocationKey": "harbor-warehouse",
        },
        headers=LANG,
    )
    assert changed.status_code == 204
    second = api.call("POST", f"{INV}/offer/{offer_id}/publish")
    assert second.json()["listingId"] == listing_id
    assert [p["listingId"] for p in sandbox.publishes()] == [listing_id, listing_id]
    assert [p["revised"] for p in sandbox.publishes()] == [False, True]
    assert len(sandbox.listings()) == 1
    offer = api.call("GET", f"{INV}/offer/{offer_id}").json()
    assert offer["status"] == "PUBLISHED"
    assert offer["listing"]["listingId"] == listing_id
    assert offer["pricingSummary"]["price"]["value"] == "34.00"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"categoryId": None}, "categoryId"),
        ({"pricingSummary": {"price": {"value": "0.00", "currency": "USD"}}}, "pricingSummary.price"),
        ({"pricingSummary": None}, "pricingSummary.price"),
        ({"listingPolicies": None}, "listingPolicies.paymentPolicyId"),
        ({"listingPolicies": {"fulfillmentPolicyId": "1", "paymentPolicyId": "2"}}, "listingPolicies.returnPolicyId"),
    ],
)
def test_publish_is_refused_without_a_category_a_price_or_policies(
    api: Api, sandbox: EbaySandbox, fields: dict[str, Any], field: str
) -> None:
    api.item("3YJG8")
    offer_id = api.offer("3YJG8", **fields).json()["offerId"]
    answer = api.call("POST", f"{INV}/offer/{offer_id}/publish")
    assert answer.status_code == 400
    named = [p["value"] for e in answer.json()["errors"] for p in e.get("parameters", []) if p["name"] == "field"]
    assert field in named
    assert sandbox.publishes() == []


def test_a_style_is_published_as_one_group_listing(api: Api, sandbox: EbaySandbox) -> None:
    for sku in ("3YJG8", "4JBK3"):
        api.item(sku)
        api.offer(sku)
    group = {
        "title": "Harbor Crew Tee",
        "description": "Soft cotton crew neck.",
        "imageUrls": ["https://img.example.com/harbor-crew-tee.jpg"],
        "variantSKUs": ["3YJG8", "4JBK3"],
        "variesBy": {"specifications": [{"name": "Size", "values": ["M", "L"]}]},
    }
    assert api.call("PUT", f"{INV}/inventory_item_group/HCT", json=group, headers=LANG).status_code == 204
    assert api.call("GET", f"{INV}/inventory_item_group/HCT").json()["inventoryItemGroupKey"] == "HCT"
    assert api.call("GET", f"{INV}/inventory_item/3YJG8").json()["groupIds"] == ["HCT"]
    body = {"inventoryItemGroupKey": "HCT", "marketplaceId": "EBAY_US"}
    first = api.call("POST", f"{INV}/offer/publish_by_inventory_item_group", json=body)
    assert first.status_code == 200, first.text
    second = api.call("POST", f"{INV}/offer/publish_by_inventory_item_group", json=body)
    assert second.json()["listingId"] == first.json()["listingId"]
    assert len(sandbox.listings()) == 1
    assert sandbox.publishes()[0]["skus"] == ["3YJG8", "4JBK3"]


def test_bulk_update_price_quantity_takes_at_most_25_with_a_status_each(api: Api, sandbox: EbaySandbox) -> None:
    api.item("3YJG8")
    offer_id = api.offer("3YJG8").json()["offerId"]
    path = f"{INV}/bulk_update_price_quantity"
    entry = {
        "sku": "3YJG8",
        "shipToLocationAvailability": {"quantity": 9},
        "offers": [{"offerId": offer_id, "availableQuantity": 9, "price": {"value": "36.00", "currency": "USD"}}],
    }
    assert api.call("POST", path, json={"requests": [entry] * 26}).status_code == 400
    ok = api.call("POST", path, json={"requests": [entry]})
    assert ok.status_code == 200
    assert [(r["sku"], r["statusCode"]) for r in ok.json()["responses"]] == [("3YJG8", 200), ("3YJG8", 200)]
    assert api.call("GET", f"{INV}/inventory_item/3YJG8").json()["availability"] == {
        "shipToLocationAvailability": {"quantity": 9}
    }
    offer = api.call("GET", f"{INV}/offer/{offer_id}").json()
    assert offer["availableQuantity"] == 9
    assert offer["pricingSummary"]["price"]["value"] == "36.00"
    unknown = {"sku": "ZZZZZ", "shipToLocationAvailability": {"quantity": 1}}
    mixed = api.call("POST", path, json={"requests": [entry, unknown]})
    assert mixed.status_code == 207
    assert [r["statusCode"] for r in mixed.json()["responses"]] == [200, 200, 404]


# --- Fulfillment ----------------------------------------------------------------------------------
def test_the_demo_holds_every_payment_and_fulfilment_state() -> None:
    orders = SEED["orders"]
    assert len(orders) == 20
    assert {o["orderPaymentStatus"] for o in orders} == {
        "PAID",
        "PENDING",
        "FAILED",
        "FULLY_REFUNDED",
        "PARTIALLY_REFUNDED",
    }
    assert {o["orderFulfillmentStatus"] for o in orders} == {"NOT_STARTED", "IN_PROGRESS", "FULFILLED"}
    assert any(o["cancelStatus"]["cancelState"] == "CANCELED" for o in orders)
    assert any("email" not in o["buyer"]["buyerRegistrationAddress"] for o in orders)
    for order in orders:
        pricing = order["pricingSummary"]
        subtotal = sum(float(line["lineItemCost"]["value"]) for line in order["lineItems"])
        assert float(pricing["priceSubtotal"]["value"]) == pytest.approx(subtotal)
        assert order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]["fullName"]
        assert {"lineItemId", "sku", "title", "quantity", "lineItemCost", "deliveryCost"} <= set(order["lineItems"][0])


def test_orders_page_by_lastmodifieddate_with_limit_offset_and_next(api: Api) -> None:
    listed = [o for o in SEED["orders"] if o["orderPaymentStatus"] != "PENDING"]  # not yet paid: not listed
    start = at(datetime(2026, 9, 1, tzinfo=UTC))
    seen: list[str] = []
    page = api.orders(filter=f"lastmodifieddate:[{start}..]", limit=6)
    assert page["total"] == len(listed)
    assert page["offset"] == 0
    assert page["limit"] == 6
    assert "prev" not in page
    while True:
        seen += [o["orderId"] for o in page["orders"]]
        if "next" not in page:
            break
        answer = api.session.get(page["next"], headers={"Authorization": f"Bearer {api.token}"}, timeout=5)
        page = answer.json()
        assert "prev" in page
    assert sorted(seen) == sorted(o["orderId"] for o in listed)
    assert len(seen) == len(set(seen))
    created = [o["creationDate"] for o in api.orders(filter=f"lastmodifieddate:[{start}..]", limit=50)["orders"]]
    assert created == sorted(created, reverse=True)


def test_lastmodifieddate_window_and_fulfilment_status_filters(api: Api, sandbox: EbaySandbox, clock: Clock) -> None:
    clock.now += 3600
    made = sandbox.create_order([{"sku": "3YJG8", "title": "Harbor Crew Tee", "price": "38.00", "quantity": 2}])
    since = at(DEMO_NOW + timedelta(minutes=30))
    recent = api.orders(filter=f"lastmodifieddate:[{since}..]")
    assert [o["orderId"] for o in recent["orders"]] == [made["orderId"]]
    closed = api.orders(filter=f"lastmodifieddate:[{since}..{at(DEMO_NOW + timedelta(minutes=40))}]")
    assert closed["total"] == 0
    open_orders = api.orders(filter="orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}", limit=200)["orders"]
    assert {o["orderFulfillmentStatus"] for o in open_orders} <= {"NOT_STARTED", "IN_PROGRESS"}
    assert made["orderId"] in {o["orderId"] for o in open_orders}
    assert api.call("GET", f"{FUL}/order", params={"filter": "orderfulfillmentstatus:{FULFILLED}"}).status_code == 400
    assert api.call("GET", f"{FUL}/order", params={"filter": "lastmodifieddate:yesterday"}).status_code == 400
    assert api.call("GET", f"{FUL}/order", params={"limit": 201}).status_code == 400


def test_order_ids_and_get_order(api: Api, sandbox: EbaySandbox) -> None:
    pending = sandbox.create_order(payment_status="PENDING")
    paid = sandbox.create_order(email=None)
    by_ids = api.orders(orderIds=f"{paid['orderId']},{pending['orderId']}")
    assert [o["orderId"] for o in by_ids["orders"]] == [paid["orderId"]]
    one = api.call("GET", f"{FUL}/order/{pending['orderId']}")
    assert one.status_code == 200
    assert one.json()["orderPaymentStatus"] == "PENDING"
    assert "email" not in api.call("GET", f"{FUL}/order/{paid['orderId']}").json()["buyer"]["buyerRegistrationAddress"]
    assert api.call("GET", f"{FUL}/order/99-99999-99999").status_code == 404


def test_shipping_fulfilment_is_201_with_a_location_and_moves_the_order_on(
    api: Api, sandbox: EbaySandbox, clock: Clock
) -> None:
    order = sandbox.create_order(
        [
            {"sku": "3YJG8", "title": "Harbor Crew Tee", "price": "38.00", "quantity": 2},
            {"sku": "54HNY", "title": "Slate Straight Jean", "price": "118.00", "quantity": 1},
        ]
    )
    first_line, second_line = (line["lineItemId"] for line in order["lineItems"])
    path = f"{FUL}/order/{order['orderId']}/shipping_fulfillment"
    clock.now += 60
    body = {
        "lineItems": [{"lineItemId": first_line, "quantity": 2}],
        "shippedDate": "2026-12-01T13:00:00.000Z",
        "shippingCarrierCode": "USPS",
        "trackingNumber": "9405509699937003457459",
    }
    made = api.call("POST", path, json=body)
    assert made.status_code == 201
    assert made.headers["Location"].endswith(f"{path}/9405509699937003457459")
    after = api.call("GET", f"{FUL}/order/{order['orderId']}").json()
    assert after["orderFulfillmentStatus"] == "IN_PROGRESS"
    assert after["lastModifiedDate"] > order["lastModifiedDate"]
    too_many = {"lineItems": [{"lineItemId": second_line, "quantity": 2}], "trackingNumber": "1Z999"}
    assert api.call("POST", path, json=too_many).status_code == 400
    assert api.call("POST", path, json={"lineItems": [{"lineItemId": "1", "quantity": 1}]}).status_code == 400
    rest = {"lineItems": [{"lineItemId": second_line, "quantity": 1}], "shippingCarrierCode": "UPS"}
    assert api.call("POST", path, json=rest).status_code == 201
    assert api.call("GET", f"{FUL}/order/{order['orderId']}").json()["orderFulfillmentStatus"] == "FULFILLED"
    listed = api.call("GET", path).json()
    assert listed["total"] == 2
    assert listed["fulfillments"][0]["shipmentTrackingNumber"] == "9405509699937003457459"
    assert listed["fulfillments"][0]["shippingCarrierCode"] == "USPS"
    one = api.call("GET", made.headers["Location"].split(str(sandbox.url))[1])
    assert one.json()["lineItems"] == [{"lineItemId": first_line, "quantity": 2}]
    assert [f["orderId"] for f in sandbox.fulfillments()] == [order["orderId"]] * 2


def test_a_cancelled_or_unpaid_order_cannot_be_shipped(api: Api, sandbox: EbaySandbox) -> None:
    for order in (sandbox.create_order(cancelled=True), sandbox.create_order(payment_status="FAILED")):
        line = order["lineItems"][0]["lineItemId"]
        answer = api.call(
            "POST",
            f"{FUL}/order/{order['orderId']}/shipping_fulfillment",
            json={"lineItems": [{"lineItemId": line, "quantity": 1}], "trackingNumber": "1Z1"},
        )
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["domain"] == "API_FULFILLMENT"


# --- faults and limits ---------------------------------------------------------------------------
def test_faults_are_queued_and_an_auth_fault_is_ebays_401(api: Api, sandbox: EbaySandbox) -> None:
    api.orders()
    sandbox.inject_fault(503, path="/sell/fulfillment")
    assert api.call("GET", f"{FUL}/order").status_code == 503
    assert api.call("GET", f"{FUL}/order").status_code == 200
    queued = requests.post(sandbox.url + "/_sandbox/faults", json="auth", timeout=5)
    assert queued.json() == {"queued": 1}
    refused = api.call("GET", f"{FUL}/order")
    assert refused.status_code == 401
    assert error_ids(refused) == [1001]
    played = requests.get(sandbox.url + "/_sandbox/faults", timeout=5).json()["played"]
    assert played == {"503": 1, "auth": 1}


def test_a_repeat_fault_puts_new_orders_ahead_of_the_offset(api: Api, sandbox: EbaySandbox) -> None:
    first = api.orders(limit=5)
    sandbox.inject_fault(repeat=2)
    second = api.orders(limit=5, offset=5)
    assert second["total"] == first["total"] + 2
    assert [o["orderId"] for o in second["orders"]][:2] == [o["orderId"] for o in first["orders"]][3:]


def test_over_the_rate_limit_is_429_with_retry_after(clock: Clock) -> None:
    limited = EbaySandbox(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH, clock=clock, rate_limit=3
    ).start()
    try:
        api = Api(limited)
        assert api.call("GET", f"{FUL}/order").status_code == 200  # the grant and this call
        assert api.call("GET", f"{FUL}/order").status_code == 200
        refused = api.call("GET", f"{FUL}/order")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["errors"][0]["errorId"]
        clock.now += 61
        assert api.call("GET", f"{FUL}/order").status_code == 200
    finally:
        limited.stop()


def test_reset_and_recorded_calls(api: Api, sandbox: EbaySandbox) -> None:
    api.item("3YJG8")
    sandbox.create_order()
    assert [c["path"] for c in sandbox.calls()] == [TOKEN, f"{INV}/inventory_item/3YJG8"]
    sandbox.reset()
    assert sandbox.inventory_items() == []
    assert len(sandbox.orders()) == len(SEED["orders"])
    assert sandbox.calls() == []


def test_the_demo_brand_catalog_feeds_the_demo_orders() -> None:
    catalog = catalog_from_world(build_world())
    skus = {row["sku"] for row in catalog}
    orders = demo_seed(catalog)["orders"]
    assert len(orders) == 20
    assert {line["sku"] for o in orders for line in o["lineItems"]} <= skus
    assert all(len(row["title"]) <= 80 for row in catalog)


def test_skip_and_add_faults_move_orders_out_of_and_behind_the_listing(api: Api, sandbox: EbaySandbox) -> None:
    open_filter = "orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}"
    first = api.orders(filter=open_filter, limit=3)
    sandbox.inject_fault(skip=2)
    second = api.orders(filter=open_filter, limit=3, offset=3)
    assert second["total"] == first["total"] - 2  # shipped elsewhere: they left the listing
    shipped = {o["orderId"]: o for o in sandbox.orders()}
    assert [shipped[o["orderId"]]["orderFulfillmentStatus"] for o in first["orders"][:2]] == ["FULFILLED"] * 2
    sandbox.inject_fault(add=1)
    last = api.orders(filter=open_filter, limit=200)
    assert last["total"] == second["total"] + 1
    assert last["orders"][-1]["orderId"] not in {o["orderId"] for o in SEED["orders"]}


def test_orders_are_made_and_read_through_the_control_endpoints(sandbox: EbaySandbox) -> None:
    made = requests.post(
        sandbox.url + "/_sandbox/orders",
        json={"lines": [{"sku": "3YJG8", "title": "Harbor Crew Tee", "price": "38.00"}], "email": None},
        timeout=5,
    ).json()
    assert "email" not in made["buyer"]["buyerRegistrationAddress"]
    read = requests.get(f"{sandbox.url}/_sandbox/orders/{made['orderId']}", timeout=5).json()
    assert read["orderId"] == made["orderId"]
    assert requests.post(sandbox.url + "/_sandbox/revoke", timeout=5).json() == {"revoked": True}


def test_get_offers_for_a_sku_without_offers_and_for_an_unknown_sku(api: Api) -> None:
    api.item("3YJG8")
    none_yet = api.call("GET", f"{INV}/offer", params={"sku": "3YJG8"})
    assert none_yet.status_code == 404
    unknown = api.call("GET", f"{INV}/offer", params={"sku": "NOPE1"})
    assert unknown.status_code == 404
    assert "NOPE1" in unknown.json()["errors"][0]["message"]
    assert error_ids(none_yet) != error_ids(unknown)
