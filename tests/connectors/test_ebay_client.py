"""EbayClient against the eBay sandbox (sandbox/ebay/) over real HTTP: the token's life, inventory
items and groups, offers and publishing, the bulk calls and their limit, order paging, shipping
fulfilments, faults. What a test expects comes from what it asked the sandbox for, never from the
client run a second time."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.ebay.client import EbayClient, EbayRejected
from connectors.ebay.mapper import order_extras, to_partner_order
from connectors.errors import AuthError, OutcomeUnknown, RateLimited, RetryableError
from connectors.http import HttpPolicy
from sandbox.ebay.server import EbaySandbox

CLIENT_ID = "BobbinAp-Bobbin-PRD-5a1b2c3d4-0f9e8d7c"
CLIENT_SECRET = "PRD-a1b2c3d4e5f6-0a1b-2c3d-4e5f-6a7b"
REFRESH = "v^1.1#i^1#p^3#r^1#I^3#f^0#t^Ul4xMF8xMTpBQ0ZF"
FAST_POLICY = HttpPolicy(
    connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=0.05, longest_sleep=math.inf
)
START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
POLICIES = {"fulfillmentPolicyId": "6196932000", "paymentPolicyId": "6196938000", "returnPolicyId": "6196947000"}


class Clock:
    """The sandbox's clock (Unix seconds): moved by the test, never slept on."""

    def __init__(self) -> None:
        self.now = START.timestamp()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[EbaySandbox]:
    made = EbaySandbox(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH, clock=clock.time
    ).start()
    yield made
    made.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sandbox: EbaySandbox, sleeps: list[float]) -> Iterator[EbayClient]:
    made = EbayClient(
        sandbox.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH,
        policy=FAST_POLICY,
        sleep=sleeps.append,
    )
    yield made
    made.close()


def item(title: str, quantity: int = 5, images: int = 2) -> dict[str, Any]:
    return {
        "availability": {"shipToLocationAvailability": {"quantity": quantity}},
        "condition": "NEW",
        "product": {
            "title": title,
            "description": f"{title}, washed linen.",
            "aspects": {"Brand": ["Bobbin Test Brand"]},
            "imageUrls": [f"https://img.example.com/{title.replace(' ', '-')}/{n}.jpg" for n in range(images)],
        },
    }


def offer(sku: str, price: str = "48.00", **fields: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "marketplaceId": "EBAY_US",
        "format": "FIXED_PRICE",
        "listingDuration": "GTC",
        "availableQuantity": 5,
        "categoryId": "57990",
        "listingDescription": "Linen shirt",
        "pricingSummary": {"price": {"value": price, "currency": "USD"}},
        "listingPolicies": dict(POLICIES),
        "merchantLocationKey": "WH-PORTLAND",
        **fields,
    }


# --- the token -----------------------------------------------------------------------------------
def test_one_token_serves_calls_until_the_sandbox_clock_expires_it(
    sandbox: EbaySandbox, client: EbayClient, clock: Clock
) -> None:
    client.put_inventory_item("LS100-BLK-S", item("Linen Shirt S"))
    client.put_inventory_item("LS100-BLK-M", item("Linen Shirt M"))
    assert client.token_refreshes == 1
    clock.now += 7200 + 1  # eBay's two hours pass; the client's own clock has not moved
    client.put_inventory_item("LS100-BLK-L", item("Linen Shirt L"))
    assert client.token_refreshes == 2  # a 401, one new token, the call sent again
    assert [i["sku"] for i in sandbox.inventory_items()] == ["LS100-BLK-L", "LS100-BLK-M", "LS100-BLK-S"]


def test_the_client_renews_its_token_before_eBay_would_refuse_it(sandbox: EbaySandbox, clock: Clock) -> None:
    with EbayClient(
        sandbox.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH,
        policy=FAST_POLICY,
        clock=clock.time,  # one clock for both sides
    ) as client:
        client.put_inventory_item("A1", item("A"))
        clock.now += 7200 - 60  # inside the last minutes of the token's two hours
        client.put_inventory_item("A1", item("A"))
        assert client.token_refreshes == 2
    puts = [call for call in sandbox.calls() if call["method"] == "PUT"]
    assert len(puts) == 2  # no 401 on the way, nothing sent twice


def test_a_revoked_grant_is_one_auth_error_naming_the_sellers_consent(
    sandbox: EbaySandbox, client: EbayClient, sleeps: list[float]
) -> None:
    client.put_inventory_item("A1", item("A"))
    sandbox.revoke_refresh_token()
    with pytest.raises(AuthError) as raised:
        client.put_inventory_item("A1", item("A"))
    assert "invalid_grant" in str(raised.value) and "seller must grant Bobbin access" in str(raised.value)
    assert REFRESH not in str(raised.value)
    assert client.token_refreshes == 1 and sleeps == []  # no retry loop
    with pytest.raises(AuthError):
        client.get_offers("A1")


def test_wrong_app_keys_are_an_auth_error(sandbox: EbaySandbox) -> None:
    with (
        EbayClient(
            sandbox.url, client_id=CLIENT_ID, client_secret="not-the-secret", refresh_token=REFRESH, policy=FAST_POLICY
        ) as client,
        pytest.raises(AuthError, match="client id and client secret"),
    ):
        client.get_offers("A1")


# --- inventory, offers, publishing ---------------------------------------------------------------
def test_an_item_is_offered_and_published(sandbox: EbaySandbox, client: EbayClient) -> None:
    client.put_inventory_item("LS100-BLK-S", item("Linen Shirt S", quantity=7))
    offer_id = client.create_offer(offer("LS100-BLK-S"))
    [found] = client.get_offers("LS100-BLK-S")
    assert found["offerId"] == offer_id and found["sku"] == "LS100-BLK-S"
    client.update_offer(offer_id, {k: v for k, v in offer("LS100-BLK-S", "52.00").items() if k != "sku"})
    listing_id = client.publish_offer(offer_id)
    [published] = sandbox.publishes()
    assert published["listingId"] == listing_id and offer_id in published["offerIds"]
    [stored] = [o for o in sandbox.offers() if o["offerId"] == offer_id]
    assert stored["pricingSummary"]["price"]["value"] in ("52.00", "52.0")


def test_a_sku_without_offers_has_none_and_an_unknown_sku_is_refused(client: EbayClient) -> None:
    client.put_inventory_item("NEVER-OFFERED", item("N"))
    assert client.get_offers("NEVER-OFFERED") == []
    with pytest.raises(EbayRejected) as raised:
        client.get_offers("NO-SUCH-ITEM")
    assert raised.value.status == 404 and "NO-SUCH-ITEM" in str(raised.value)


def test_a_second_offer_for_a_sku_is_refused_with_eBays_words(client: EbayClient) -> None:
    client.put_inventory_item("A1", item("A"))
    client.create_offer(offer("A1"))
    with pytest.raises(EbayRejected) as raised:
        client.create_offer(offer("A1"))
    assert raised.value.error_ids and "errorId" in str(raised.value)


def test_publish_without_a_category_or_policies_says_what_is_missing(client: EbayClient) -> None:
    client.put_inventory_item("A1", item("A"))
    offer_id = client.create_offer(offer("A1", categoryId=None, listingPolicies={}))
    with pytest.raises(EbayRejected) as raised:
        client.publish_offer(offer_id)
    message = str(raised.value)
    assert "categoryId" in message and "fulfillmentPolicyId" in message


def test_a_style_group_is_published_as_one_listing(sandbox: EbaySandbox, client: EbayClient) -> None:
    skus = ["LS100-BLK-S", "LS100-BLK-M", "LS100-OLV-S"]
    aspects = {"LS100-BLK-S": ("Black", "S"), "LS100-BLK-M": ("Black", "M"), "LS100-OLV-S": ("Olive", "S")}
    for sku in skus:
        body = item(f"Linen Shirt {sku}")
        colour, size = aspects[sku]
        body["product"]["aspects"] = {"Color": [colour], "Size": [size]}
        client.put_inventory_item(sku, body)
        client.create_offer(offer(sku))
    client.put_inventory_item_group(
        "LS100",
        {
            "title": "Linen Shirt",
            "description": "Washed linen.",
            "imageUrls": ["https://img.example.com/LS100/0.jpg"],
            "aspects": {"Brand": ["Bobbin Test Brand"]},
            "variantSKUs": skus,
            "variesBy": {
                "aspectsImageVariesBy": ["Color"],
                "specifications": [
                    {"name": "Color", "values": ["Black", "Olive"]},
                    {"name": "Size", "values": ["S", "M"]},
                ],
            },
        },
    )
    listing_id = client.publish_by_inventory_item_group("LS100", "EBAY_US")
    [published] = sandbox.publishes()
    assert published["listingId"] == listing_id and sorted(published["skus"]) == sorted(skus)


# --- bulk calls ----------------------------------------------------------------------------------
def test_25_items_in_one_bulk_call_and_a_26th_refused_before_sending(sandbox: EbaySandbox, client: EbayClient) -> None:
    requests = [{"sku": f"B{n:02d}", "locale": "en_US", **item(f"Item {n}")} for n in range(25)]
    results = client.bulk_create_or_replace_inventory_items(requests)
    assert sorted(r.sku for r in results) == sorted(r["sku"] for r in requests)
    assert all(r.ok for r in results)
    assert len(sandbox.inventory_items()) == 25
    with pytest.raises(ValueError, match="at most 25"):
        client.bulk_create_or_replace_inventory_items([*requests, {"sku": "B99", **item("x")}])


def test_bulk_results_say_which_item_failed(client: EbayClient) -> None:
    bad = item("B")
    bad["product"]["imageUrls"] = ["http://not-https.example.com/1.jpg"]
    results = client.bulk_create_or_replace_inventory_items(
        [{"sku": "G1", "locale": "en_US", **item("G")}, {"sku": "B1", "locale": "en_US", **bad}]
    )
    by_sku = {r.sku: r for r in results}
    assert by_sku["G1"].ok and not by_sku["B1"].ok and by_sku["B1"].errors


def test_price_and_quantity_of_published_offers(sandbox: EbaySandbox, client: EbayClient) -> None:
    client.put_inventory_item("A1", item("A"))
    offer_id = client.create_offer(offer("A1"))
    client.publish_offer(offer_id)
    results = client.bulk_update_price_quantity(
        [
            {
                "sku": "A1",
                "shipToLocationAvailability": {"quantity": 3},
                "offers": [
                    {"offerId": offer_id, "availableQuantity": 3, "price": {"value": "39.00", "currency": "USD"}}
                ],
            }
        ]
    )
    assert results and all(r.sku == "A1" for r in results) and all(r.ok for r in results)
    assert sandbox.price_quantity_updates()


# --- orders --------------------------------------------------------------------------------------
def test_order_pages_are_followed_to_the_end(sandbox: EbaySandbox, client: EbayClient, clock: Clock) -> None:
    made = []
    for n in range(5):
        clock.now += 60
        made.append(sandbox.create_order([{"sku": f"LS100-BLK-{n}", "title": "Linen Shirt", "price": "48.00"}]))
    pages = list(client.iter_order_pages(START, limit=2))
    assert [len(p.orders) for p in pages] == [2, 2, 1]
    assert sorted(o["orderId"] for p in pages for o in p.orders) == sorted(o["orderId"] for o in made)
    later = list(client.iter_order_pages(START + timedelta(seconds=60 * 4 + 30)))
    assert [o["orderId"] for p in later for o in p.orders] == [made[-1]["orderId"]]


def test_new_orders_during_paging_are_met_twice_never_missed(sandbox: EbaySandbox, client: EbayClient) -> None:
    made = [sandbox.create_order([{"sku": f"S{n}", "title": "Shirt", "price": "10.00"}]) for n in range(5)]
    sandbox.inject_fault(repeat=2, nth=2, path="/sell/fulfillment/v1/order")  # 2 buyers check out mid-read
    ids = [o["orderId"] for p in client.iter_order_pages(START, limit=2) for o in p.orders]
    assert {o["orderId"] for o in made} <= set(ids)
    assert len(ids) > len(set(ids))  # the caller stages by orderId, so a repeat is harmless


def test_an_order_maps_with_freight_deposit_and_collected_tax(sandbox: EbaySandbox, client: EbayClient) -> None:
    made = sandbox.create_order(
        [
            {"sku": "LS100-BLK-S", "title": "Linen Shirt", "price": "48.00", "quantity": 2},
            {"sku": "LS100-BLK-M", "title": "Linen Shirt", "price": "50.00"},
        ],
        shipping="9.00",
        handling="1.50",
        email="jane.doe@example.com",
    )
    raw = client.get_order(made["orderId"])
    order = to_partner_order(raw)
    extras = order_extras(raw)
    assert order.problems == () and extras.problems == ()
    assert order.customer.email == "jane.doe@example.com"
    assert [(ln.sku_number, ln.quantity, ln.price) for ln in order.lines] == [
        ("LS100-BLK-S", Decimal(2), Decimal("48.00")),
        ("LS100-BLK-M", Decimal(1), Decimal("50.00")),
    ]
    assert extras.freight == Decimal("10.50")
    assert extras.ebay_collected_tax is not None and extras.ebay_collected_tax > 0
    assert extras.deposit == Decimal(str(made["pricingSummary"]["total"]["value"]))
    assert extras.hold_reason is None


def test_unpaid_and_cancelled_orders_are_held(sandbox: EbaySandbox, client: EbayClient) -> None:
    cancelled = sandbox.create_order(cancelled=True)
    assert order_extras(client.get_order(cancelled["orderId"])).hold_reason is not None


def test_a_shipping_fulfilment_is_recorded_on_the_order(sandbox: EbaySandbox, client: EbayClient) -> None:
    made = sandbox.create_order([{"sku": "A1", "title": "A", "price": "10.00", "quantity": 2}])
    line_id = made["lineItems"][0]["lineItemId"]
    fulfillment_id = client.create_shipping_fulfillment(
        made["orderId"], {line_id: 2}, "USPS", "9400111899223197428490", START
    )
    [listed] = client.shipping_fulfillments(made["orderId"])
    assert listed["fulfillmentId"] == fulfillment_id
    assert listed["shipmentTrackingNumber"] == "9400111899223197428490"
    [logged] = sandbox.fulfillments()
    assert logged["orderId"] == made["orderId"]


# --- faults --------------------------------------------------------------------------------------
def test_a_5xx_is_retried(sandbox: EbaySandbox, client: EbayClient, sleeps: list[float]) -> None:
    client.put_inventory_item("A1", item("A"))
    sandbox.inject_fault(503, count=2)
    assert client.get_offers("A1") == []
    assert len(sleeps) == 2


def test_a_long_rate_limit_wait_is_rate_limited(sandbox: EbaySandbox, sandbox_client: EbayClient) -> None:
    sandbox_client.put_inventory_item("A1", item("A"))
    sandbox.inject_fault(429, count=1, retry_after=120)
    with pytest.raises(RateLimited):
        sandbox_client.get_offers("A1")


@pytest.fixture
def sandbox_client(sandbox: EbaySandbox) -> Iterator[EbayClient]:
    """A client with the default longest sleep (5 s), as a worker runs it."""
    made = EbayClient(
        sandbox.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH,
        policy=HttpPolicy(connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=0.05),
        sleep=lambda s: None,
    )
    yield made
    made.close()


def test_a_lost_answer_to_create_offer_is_not_repeated(sandbox: EbaySandbox, client: EbayClient) -> None:
    client.put_inventory_item("A1", item("A"))
    sandbox.inject_fault(truncate=True, path="/offer", method="POST")
    with pytest.raises(OutcomeUnknown):
        client.create_offer(offer("A1"))
    # The sandbox did the work; the caller reads eBay before sending again.
    assert [o["sku"] for o in client.get_offers("A1")] == ["A1"]


def test_a_lost_answer_to_a_put_is_sent_again(sandbox: EbaySandbox, client: EbayClient) -> None:
    client.put_inventory_item("A1", item("A"))
    sandbox.inject_fault(drop=True, path="/inventory_item/A1", method="PUT")
    client.put_inventory_item("A1", item("A", quantity=9))
    [stored] = sandbox.inventory_items()
    assert stored["availability"]["shipToLocationAvailability"]["quantity"] == 9


def test_a_malformed_answer_is_retryable(sandbox: EbaySandbox, client: EbayClient) -> None:
    client.put_inventory_item("A1", item("A"))
    sandbox.inject_fault(malformed=True, count=3)
    with pytest.raises(RetryableError):
        client.get_offers("A1")
