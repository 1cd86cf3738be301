"""BrandboomClient and BrandboomOrderSource against the sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import itertools
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from connectors.brandboom import contract, make_source
from connectors.brandboom.client import BrandboomClient
from connectors.brandboom.source import BrandboomOrderSource
from connectors.errors import AuthError, NotSupported, PartnerRejected, RetryableError
from connectors.http import HttpPolicy
from sandbox.brandboom.server import BrandboomSandbox, default_seed

ClientFactory = Callable[..., BrandboomClient]
# The doc's example keys (seed 001, PHP sample).
DOC_PUBLIC_KEY = "5AEE3AF949C8383DD321D352433CDC0C"
DOC_SECRET_KEY = "25320587CF6D4F206F68B517F0878408"


def export_order(n: int) -> dict[str, Any]:
    return {
        "id": 1000 + n,
        "poNumber": f"PO-{n}",
        "status": "export",
        "items": [{"styleNumber": "GrayTank", "optionCode": "GRY", "size": "S", "quantity": 1, "price": "15.00"}],
    }


def product(n: int) -> dict[str, Any]:
    return {
        "id": 9000 + n,
        "brandID": 34,
        "styleNumber": f"ST-{n:04d}",
        "options": ["BLK"],
        "sizes": ["M"],
        "skus": [
            {
                "id": 90000 + n,
                "styleNumber": f"ST-{n:04d}",
                "option": "BLK",
                "size": "M",
                "skuNumber": f"SKU{n}",
                "inventoryCount": 1,
            }
        ],
    }


@pytest.fixture
def big_catalog(brandboom_keys: tuple[str, str]) -> Iterator[BrandboomSandbox]:
    public_key, secret_key = brandboom_keys
    seed = {**default_seed(), "products": [product(n) for n in range(650)]}
    sandbox = BrandboomSandbox(public_key=public_key, secret_key=secret_key, seed=seed).start()
    yield sandbox
    sandbox.stop()


# --- signature -------------------------------------------------------------------------------
def test_signature_is_the_documented_uppercase_md5() -> None:
    # given the doc's example keys and timestamp; expected computed by hand with `md5sum`
    expected = "7937E0BC884E9E84A7AF12757F9A45A1"
    text = f"PUBLIC{DOC_PUBLIC_KEY}SECRET{DOC_SECRET_KEY}TIMESTAMP1278031982"
    assert hashlib.md5(text.encode()).hexdigest().upper() == expected
    assert contract.signature(DOC_PUBLIC_KEY, DOC_SECRET_KEY, 1278031982) == expected
    assert contract.signature(DOC_PUBLIC_KEY, DOC_SECRET_KEY, "1278031982") == expected


def test_each_attempt_is_signed_afresh(
    brandboom_sandbox: BrandboomSandbox, make_brandboom_client: ClientFactory, brandboom_keys: tuple[str, str]
) -> None:
    public_key, secret_key = brandboom_keys
    # given a session that records what was sent, and a clock that moves a second per reading
    seen: list[requests.structures.CaseInsensitiveDict[str]] = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.headers))
    ticks = itertools.count(int(time.time()))
    client = make_brandboom_client(session=session, clock=lambda: next(ticks))
    brandboom_sandbox.inject_fault(500)
    # when
    client.search_orders("export")
    # then both attempts carried the three headers, each with its own timestamp and signature
    stamps = [h[contract.HEADER_TIMESTAMP] for h in seen]
    assert len(stamps) == 2 and stamps[0] != stamps[1]
    for headers in seen:
        assert headers[contract.HEADER_KEY] == public_key
        assert headers[contract.HEADER_SIGNATURE] == contract.signature(
            public_key, secret_key, headers[contract.HEADER_TIMESTAMP]
        )
    session.close()


@pytest.mark.parametrize(
    "overrides",
    [
        {"public_key": "0" * 32},
        {"secret_key": "0" * 32},
        {"clock": lambda: time.time() - 3600},
        {"clock": lambda: time.time() + 3600},
    ],
    ids=["wrong-key", "wrong-secret", "stale-timestamp", "future-timestamp"],
)
def test_refused_credentials_raise_auth_error(
    make_brandboom_client: ClientFactory,
    brandboom_keys: tuple[str, str],
    sleeps: list[float],
    overrides: dict[str, Any],
) -> None:
    client = make_brandboom_client(**overrides)
    with pytest.raises(AuthError) as caught:
        client.search_orders("export")
    assert caught.value.value == contract.PERMISSION_DENIED
    assert "check the site's credentials" in str(caught.value)
    assert brandboom_keys[1] not in str(caught.value) and sleeps == []


def test_credentials_never_show_in_repr(brandboom_client: BrandboomClient, brandboom_keys: tuple[str, str]) -> None:
    text = repr(brandboom_client) + repr(BrandboomOrderSource(brandboom_client)) + repr(vars(brandboom_client))
    assert not any(key in text for key in brandboom_keys)
    assert "127.0.0.1" in repr(brandboom_client)


# --- orders ----------------------------------------------------------------------------------
# Pages overlap by one order (connectors/paging.py): 10, then 9 new per page.
@pytest.mark.parametrize(("added", "pages"), [(23, [10, 9, 6]), (18, [10, 9, 1])])
def test_paging_returns_every_order_exactly_once(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient, added: int, pages: list[int]
) -> None:
    # given the seed's 2 export orders (and 1 processing) plus `added` more
    brandboom_sandbox.add_orders([export_order(n) for n in range(added)])
    expected = {str(o["id"]) for o in brandboom_sandbox.orders() if o["status"] == "export"}
    # when
    got = list(brandboom_client.iter_order_pages("export", page_size=10))
    # then
    ids = [str(o["id"]) for page in got for o in page]
    assert [len(page) for page in got] == pages
    assert len(ids) == len(set(ids)) and set(ids) == expected


def test_status_update_is_recorded(brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient) -> None:
    brandboom_client.update_order_status("431", "exported")
    brandboom_client.update_order_status(432, "shipped")
    changes = [(c["order_id"], c["status"]) for c in brandboom_sandbox.status_changes()]
    assert changes == [("431", "exported"), ("432", "shipped")]
    assert brandboom_client.get_order(431)["status"] == "exported"
    assert brandboom_client.search_orders("export") == []


def test_status_update_refuses_unknown_statuses_and_orders(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient
) -> None:
    with pytest.raises(ValueError):
        brandboom_client.update_order_status("431", "export")
    with pytest.raises(PartnerRejected) as caught:
        brandboom_client.update_order_status("999", "void")
    assert caught.value.value == "Order 999 not found"
    with pytest.raises(PartnerRejected, match="no order 999"):
        brandboom_client.get_order(999)
    assert brandboom_sandbox.status_changes() == []


def test_writeback_applied_reads_the_order_back(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient
) -> None:
    # The outbox's question before it sends again a change whose answer was lost
    assert brandboom_client.writeback_applied("431", "exported", {}) is False
    brandboom_client.update_order_status("431", "exported")
    assert brandboom_client.writeback_applied("431", "exported", {}) is True
    assert brandboom_client.writeback_applied("431", "shipped", {}) is False
    with pytest.raises(NotSupported):
        brandboom_client.writeback_applied("431", "customer_code", {"partner_customer_id": "1", "erp_code": "X"})
    assert len(brandboom_sandbox.status_changes()) == 1


# --- failures and retries --------------------------------------------------------------------
def test_two_500s_then_success_is_retried(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient, sleeps: list[float]
) -> None:
    brandboom_sandbox.inject_fault(500, count=2)
    assert len(brandboom_client.search_orders("export")) == 2
    assert len(sleeps) == 2


def test_429_retry_after_is_honoured(
    brandboom_sandbox: BrandboomSandbox, make_brandboom_client: ClientFactory, sleeps: list[float]
) -> None:
    client = make_brandboom_client(policy=HttpPolicy(max_attempts=3, backoff_cap=10.0))
    brandboom_sandbox.inject_fault(429, retry_after=1)
    assert len(client.search_showrooms()) == 2
    assert sleeps == [1.0]


@pytest.mark.parametrize("status", [400, 404])
def test_4xx_is_not_retried(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient, sleeps: list[float], status: int
) -> None:
    brandboom_sandbox.inject_fault(status)
    with pytest.raises(PartnerRejected) as caught:
        brandboom_client.search_orders("export")
    assert caught.value.status == status and sleeps == []
    assert len(brandboom_client.search_orders("export")) == 2  # the fault was used once


def test_unknown_path_is_rejected_not_retried(
    brandboom_sandbox: BrandboomSandbox, make_brandboom_client: ClientFactory, sleeps: list[float]
) -> None:
    client = make_brandboom_client(base_url=brandboom_sandbox.url.replace("/v2", "/v9/"))
    with pytest.raises(PartnerRejected) as caught:
        client.search_orders("export")
    assert caught.value.status == 404 and "Unknown path" in str(caught.value.value)
    assert sleeps == []


def test_connection_refused_is_retried_then_retryable(
    make_brandboom_client: ClientFactory, sleeps: list[float]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_brandboom_client(base_url=f"http://127.0.0.1:{port}/api/v2")
    with pytest.raises(RetryableError, match="after 3 attempts"):
        client.search_orders("export")
    assert len(sleeps) == 2


@pytest.mark.parametrize("fault", [{"drop": True}, {"delay": 0.6}], ids=["dropped", "slow"])
def test_dropped_or_slow_answers_are_retried(
    brandboom_sandbox: BrandboomSandbox,
    make_brandboom_client: ClientFactory,
    sleeps: list[float],
    fault: dict[str, Any],
) -> None:
    client = make_brandboom_client(policy=HttpPolicy(read_timeout=0.3, max_attempts=3, backoff_base=0.01))
    brandboom_sandbox.inject_fault(**fault)
    assert len(client.search_orders("export")) == 2
    assert len(sleeps) == 1


def test_malformed_body_is_retryable_with_an_excerpt(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient
) -> None:
    # A 200 that is not JSON is the way there failing (a proxy page), not Brandboom refusing.
    brandboom_sandbox.inject_fault(malformed=True)
    with pytest.raises(RetryableError, match="not JSON") as caught:
        brandboom_client.search_orders("export")
    assert str(caught.value.value).startswith("<html>")


def test_malformed_5xx_body_ends_retryable(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient
) -> None:
    brandboom_sandbox.inject_fault(502, malformed=True, count=3)
    with pytest.raises(RetryableError, match="HTTP 502"):
        brandboom_client.search_orders("export")


# --- products --------------------------------------------------------------------------------
def test_products_page_at_most_300(big_catalog: BrandboomSandbox, make_brandboom_client: ClientFactory) -> None:
    client = make_brandboom_client(base_url=big_catalog.url + "/")
    pages = list(client.iter_products(brandID=34))
    ids = [p["id"] for page in pages for p in page]
    assert [len(page) for page in pages] == [300, 300, 50]
    assert len(ids) == len(set(ids)) == 650
    assert len(client.search_products(num_results=1000)) == 300
    assert [p["styleNumber"] for p in client.search_products(styleNumbers=["ST-0007", "ST-0400"])] == [
        "ST-0007",
        "ST-0400",
    ]
    with pytest.raises(ValueError, match="unknown"):
        client.search_products(styleNumber="ST-0007")


def test_showrooms_search(brandboom_client: BrandboomClient) -> None:
    assert [s["id"] for s in brandboom_client.search_showrooms()] == [101, 102]
    assert [s["id"] for s in brandboom_client.search_showrooms([102])] == [102]


def sku(client: BrandboomClient, style: str, option: str, size: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        s
        for p in client.search_products(styleNumbers=style)
        for s in p["skus"]
        if (s["option"], s["size"]) == (option, size)
    ]
    assert len(found) == 1
    return found[0]


def test_inventory_import_is_applied_and_diffed(
    brandboom_sandbox: BrandboomSandbox, brandboom_client: BrandboomClient
) -> None:
    # given rows matched by skuNumber, by style+option+size, and one matching nothing
    rows = [
        {"skuNumber": "GrayTank-GRY-S", "inventoryCount": 0},
        {
            "styleNumber": "MKD1233",
            "optionCode": "NVY",
            "size": "L",
            "inventoryCount": 5,
            "futureInventoryCount": 40,
            "futureInventoryDate": "2024-09-01",
        },
        {"skuNumber": "NOPE", "inventoryCount": 9},
    ]
    # when
    summary = brandboom_client.import_products("inventory", rows, brand_id=34, showroom_id=101)
    # then
    assert (summary["numUpdated"], summary["notFound"]) == (2, [2])
    assert sku(brandboom_client, "GrayTank", "GRY", "S")["inventoryCount"] == 0
    navy_l = sku(brandboom_client, "MKD1233", "NVY", "L")
    assert (navy_l["inventoryCount"], navy_l["futureInventoryCount"], navy_l["futureInventoryDate"]) == (
        5,
        40,
        "2024-09-01",
    )
    assert sku(brandboom_client, "MKD1233", "GRY", "L")["inventoryCount"] == 20  # untouched
    (recorded,) = brandboom_sandbox.imports()
    assert recorded["mode"] == "inventory" and recorded["brandID"] == "34" and len(recorded["rows"]) == 3
    # and the same rows again are skipped unless bypassDiff
    assert brandboom_client.import_products("inventory", rows)["numSkipped"] == 3
    assert brandboom_client.import_products("inventory", rows, bypass_diff=True)["numProcessed"] == 3


# --- the order source ------------------------------------------------------------------------
def test_source_yields_mapped_pages_and_marks(
    brandboom_sandbox: BrandboomSandbox, brandboom_keys: tuple[str, str]
) -> None:
    brandboom_sandbox.add_orders([export_order(n) for n in range(3)])
    source = make_source(
        brandboom_sandbox.url,
        {"public_key": brandboom_keys[0], "secret_key": brandboom_keys[1]},
        {"import_statuses": ["export", "processing"], "page_size": 2},
    )
    pages = list(source.iter_order_pages())
    assert [len(p) for p in pages] == [2, 1, 1, 1, 1]  # one order of overlap per page
    assert source.read_report.shifted == 0 and source.read_report.complete
    ids = [o.partner_order_id for page in pages for o in page]
    assert sorted(ids) == ["1000", "1001", "1002", "431", "432", "433"]
    assert pages[0][0].po_number == "PO-1001" and pages[0][0].lines[0].style_number == "MKD1233"
    source.mark_order("433", "void", {})
    assert brandboom_sandbox.status_changes()[0]["status"] == "void"
    source.close()


def test_a_site_with_default_settings_reads_orders_300_a_page(
    brandboom_sandbox: BrandboomSandbox, brandboom_keys: tuple[str, str]
) -> None:
    # numResults' documented default and maximum (connectors/brandboom/client.py DEFAULT_ORDER_PAGE)
    brandboom_sandbox.add_orders([export_order(n) for n in range(650)])
    source = make_source(brandboom_sandbox.url, {"public_key": brandboom_keys[0], "secret_key": brandboom_keys[1]}, {})
    pages = list(source.iter_order_pages())
    source.close()
    assert [len(p) for p in pages][:2] == [300, 299] and len(pages) == 3  # the overlap is not yielded again
    assert source.read_report.pages == 3  # requests made
    assert {f"{1000 + n}" for n in range(650)} <= {o.partner_order_id for page in pages for o in page}


def test_make_source_without_keys_is_a_credentials_problem() -> None:
    with pytest.raises(AuthError, match="check the site's credentials"):
        make_source("http://127.0.0.1:1/api/v2", {"public_key": "abc"}, {})
