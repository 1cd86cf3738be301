"""The Brandboom sandbox spoken to with plain HTTP: the documented contract and its controls."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from connectors.brandboom import contract
from sandbox.brandboom.server import BrandboomSandbox


@pytest.fixture
def api(brandboom_sandbox: BrandboomSandbox, brandboom_keys: tuple[str, str]) -> Api:
    return Api(brandboom_sandbox, *brandboom_keys)


class Api:
    """Signed raw requests to the sandbox, returning (HTTP status, decoded body)."""

    def __init__(self, sandbox: BrandboomSandbox, public_key: str, secret_key: str) -> None:
        self.sandbox, self.public_key, self.secret_key = sandbox, public_key, secret_key

    def headers(self, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            contract.HEADER_KEY: self.public_key,
            contract.HEADER_TIMESTAMP: ts,
            contract.HEADER_SIGNATURE: contract.signature(self.public_key, self.secret_key, ts),
        }

    def call(self, method: str, path: str, *, signed: bool = True, **kwargs: Any) -> tuple[int, Any]:
        headers = self.headers() if signed else {}
        response = requests.request(method, f"{self.sandbox.url}/{path}", headers=headers, timeout=5, **kwargs)
        return response.status_code, response.json()

    def control(self, method: str, action: str, body: Any = None) -> tuple[int, Any]:
        response = requests.request(method, f"{self.sandbox.control_url}/{action}", json=body, timeout=5)
        return response.status_code, response.json()


# --- auth [DOC] ------------------------------------------------------------------------------
def test_unsigned_request_gets_the_documented_error_envelope(api: Api) -> None:
    assert api.call("GET", "orders/search", signed=False) == (
        200,
        {"method": "search", "status": "error", "value": "Permission Denied", "type": "json"},
    )


def test_credentials_may_come_as_query_parameters(api: Api) -> None:
    headers = api.headers()
    by_doc_names = {
        "publicKey": headers[contract.HEADER_KEY],
        "timestamp": headers[contract.HEADER_TIMESTAMP],
        "signature": headers[contract.HEADER_SIGNATURE],
    }
    for params in (by_doc_names, headers):
        status, body = api.call("GET", "showrooms/search", signed=False, params=params)
        assert body["status"] is True and len(body["value"]["showrooms"]) == 2


@pytest.mark.parametrize("timestamp", ["yesterday", str(int(time.time()) - 301)])
def test_unreadable_or_stale_timestamps_are_denied(api: Api, timestamp: str) -> None:
    headers = {**api.headers(), contract.HEADER_TIMESTAMP: timestamp}
    body = requests.get(f"{api.sandbox.url}/orders", headers=headers, timeout=5).json()
    assert body["value"] == "Permission Denied"


# --- routing and envelope --------------------------------------------------------------------
def test_unknown_paths_are_404_error_envelopes(api: Api) -> None:
    status, body = api.call("GET", "linesheets/search")
    assert status == 404 and body["status"] == "error"
    assert requests.get(api.sandbox.url.replace("/api/v2", "/elsewhere"), timeout=5).status_code == 404


def test_orders_search_pages_and_all_with_zero(api: Api) -> None:
    api.sandbox.add_orders([{"poNumber": f"PO-{n}"} for n in range(5)])  # status defaults to export
    _, page = api.call("GET", "orders", params={"status": "export", "numResults": 3, "resultOffset": 5})
    assert page["method"] == "search"
    assert page["value"]["totolNumResults"] == 7 and len(page["value"]["orders"]) == 2
    # the doc's PHP example POSTs orders/search with numResults=0
    _, every = api.call("POST", "orders/search", data={"status": "export", "numResults": 0})
    assert len(every["value"]["orders"]) == 7
    _, bad = api.call("GET", "orders/search", params={"numResults": "many"})
    assert bad["status"] == "error"


def test_order_status_update_by_form_or_json(api: Api) -> None:
    _, form = api.call("POST", "orders/431", data={"status": "shipped"})
    _, body = api.call("POST", "orders/432", json={"status": "paid"})
    assert (form["method"], form["value"]["status"], body["value"]["status"]) == ("update", "shipped", "paid")
    _, wrong = api.call("POST", "orders/433", data={"status": "lost"})
    assert wrong["status"] == "error" and "Invalid status" in wrong["value"]
    assert [c["order_id"] for c in api.sandbox.status_changes()] == ["431", "432"]
    _, one = api.call("GET", "orders/432")
    assert [o["status"] for o in one["value"]["orders"]] == ["paid"]


def test_products_search_filters(api: Api) -> None:
    def styles(**params: Any) -> list[str]:
        _, body = api.call("GET", "products/search", params=params)
        return [p["styleNumber"] for p in body["value"]["products"]]

    assert styles(styleNumbers="GrayTank^DNM-STRT") == ["GrayTank", "DNM-STRT"]
    assert styles(productID="503,501") == ["MKD1233", "DNM-STRT"]
    assert styles(showroomID=102, priceTierID=1548, numResults=1, resultOffset=1) == ["GrayTank"]
    assert styles(brandID=99) == []
    _, by_id = api.call("GET", "products/502")
    assert by_id["value"]["totolNumResults"] == 1
    _, unknown = api.call("GET", "products/search", params={"showroomID": 999})
    assert unknown["status"] == "error"


# --- products/import [DOC] -------------------------------------------------------------------
def test_inline_json_import_in_combine_mode_creates_and_updates(api: Api) -> None:
    rows = [
        {"styleNumber": "NEW-1", "optionCode": "RED", "size": "S", "inventoryCount": 4},
        {"styleNumber": "NEW-1", "optionCode": "BLU", "size": "S"},
        {"skuNumber": "GrayTank-GRY-M", "UPC": "012345678905"},
    ]
    _, body = api.call("POST", "products/import", data={"mode": "COMBINE", "data": json.dumps(rows)})
    assert (body["method"], body["value"]["numCreated"], body["value"]["numUpdated"]) == ("import", 2, 1)
    (new,) = [p for p in api.sandbox.products() if p["styleNumber"] == "NEW-1"]
    assert new["options"] == ["RED", "BLU"] and new["skus"][0]["inventoryCount"] == 4


def test_split_mode_makes_one_product_per_option(api: Api) -> None:
    rows = [{"styleNumber": "NEW-2", "optionCode": o, "size": "M"} for o in ("RED", "BLU")]
    api.call("POST", "products/import", json={"mode": "split", "data": rows})
    assert [p["options"] for p in api.sandbox.products() if p["styleNumber"] == "NEW-2"] == [["RED"], ["BLU"]]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"mode": "replace", "data": "[]"}, "Invalid mode"),
        ({"mode": "inventory"}, "data must be"),
        ({"mode": "inventory", "data": "not json"}, "not a JSON array"),
        (
            {"mode": "inventory", "data": '[{"skuNumber": "GrayTank-GRY-S", "inventoryCount": "lots"}]'},
            "Invalid inventoryCount",
        ),
    ],
)
def test_bad_imports_are_error_envelopes_and_change_nothing(api: Api, fields: dict[str, str], error: str) -> None:
    before = api.sandbox.products()
    _, body = api.call("POST", "products/import", data=fields)
    assert body["status"] == "error" and error in body["value"]
    assert api.sandbox.products() == before and api.sandbox.imports() == []


def test_csv_attachment_blank_cells_overwrite_nothing(api: Api) -> None:
    csv_text = "skuNumber,inventoryCount,futureInventoryCount\r\nGrayTank-GRY-S,,7\r\n"
    files = {"data": ("inv.csv", csv_text.encode(), "text/csv")}
    api.call("POST", "products/import", data={"mode": "inventory"}, files=files)
    (sku,) = [s for p in api.sandbox.products() for s in p["skus"] if s["skuNumber"] == "GrayTank-GRY-S"]
    assert (sku["inventoryCount"], sku["futureInventoryCount"]) == (20, 7)


# --- /_sandbox/ controls ---------------------------------------------------------------------
def test_control_endpoints(api: Api) -> None:
    assert api.control("GET", "health") == (200, {"ok": True, "orders": 3, "products": 3})
    assert api.control("POST", "orders", {"poNumber": "PO-X"}) == (200, {"ids": ["434"]})
    assert api.control("POST", "orders", [{"id": 900}, {}])[1] == {"ids": ["900", "901"]}
    api.call("POST", "orders/900", data={"status": "void"})
    _, changes = api.control("GET", "status-changes")
    assert [(c["order_id"], c["status"]) for c in changes] == [("900", "void")]
    api.call("POST", "products/import", json={"mode": "inventory", "data": []})
    assert len(api.control("GET", "imports")[1]) == 1
    assert api.control("POST", "reset") == (200, {"ok": True})
    assert api.control("GET", "health")[1]["orders"] == 3 and api.sandbox.status_changes() == []
    assert api.control("POST", "orders", ["not an order"])[0] == 400
    assert api.control("GET", "nothing")[0] == 404


def test_faults_are_queued_scoped_and_counted(api: Api) -> None:
    assert api.control(
        "POST", "faults", [{"status": 503, "path": "products", "count": 2}, {"status": 429, "retry_after": 3}]
    ) == (200, {"queued": 2})
    first = requests.get(f"{api.sandbox.url}/orders", headers=api.headers(), timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert api.call("GET", "orders")[0] == 200
    for _ in range(2):
        assert requests.get(f"{api.sandbox.url}/products", timeout=5).status_code == 503
    assert api.call("GET", "products")[0] == 200
    assert api.control("POST", "faults", {"status": 500, "colour": "red"})[0] == 400
