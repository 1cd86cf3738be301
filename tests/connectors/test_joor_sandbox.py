"""The JOOR sandbox spoken to with plain HTTP: the documented contract, credits and controls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connectors.joor import contract
from sandbox.joor.server import JoorSandbox, default_seed

TOKEN = "joor-sandbox-token-2026"
STATUSES = ("IN_PROGRESS", "NOTES", "PENDING", "APPROVED", "SHIPPED", "CANCELLED")
STATES = ("NOT_EXPORTED", "FAILED", "EXPORTED", "MODIFIED")


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[JoorSandbox]:
    server = JoorSandbox(token=TOKEN, clock=clock).start()
    yield server
    server.stop()


@pytest.fixture
def api(sandbox: JoorSandbox) -> Api:
    return Api(sandbox)


class Api:
    """Raw requests to the sandbox, returning (HTTP status, headers, decoded body)."""

    def __init__(self, sandbox: JoorSandbox) -> None:
        self.sandbox = sandbox

    def call(
        self, method: str, path: str, *, token: str | None = TOKEN, **kwargs: Any
    ) -> tuple[int, requests.structures.CaseInsensitiveDict[str], Any]:
        headers = {} if token is None else {"Authorization": contract.authorization(token)}
        response = requests.request(method, f"{self.sandbox.url}/{path}", headers=headers, timeout=5, **kwargs)
        return response.status_code, response.headers, response.json()

    def orders(self, **params: Any) -> dict[str, Any]:
        status, _, body = self.call("GET", "order/", params=params)
        assert status == 200, body
        return dict(body["orders"])

    def order_ids(self, **params: Any) -> list[int]:
        return [o["order_id"] for o in self.orders(**params)["order"]]

    def control(self, method: str, action: str, body: Any = None) -> tuple[int, Any]:
        response = requests.request(method, f"{self.sandbox.control_url}/{action}", json=body, timeout=5)
        return response.status_code, response.json()


def one_of_each(sandbox: JoorSandbox) -> dict[tuple[str, str], int]:
    """An order for every (status, export state), ids from 100; returns their ids."""
    made = {}
    for n, (status, state) in enumerate(((s, e) for s in STATUSES for e in STATES), start=100):
        sandbox.add_orders({"order_id": n, "status": status, "export_status": state})
        made[(status, state)] = n
    return made


# --- auth [DOC] ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "comment"), [(None, "Authentication credentials were not provided"), ("wrong", "Invalid token.")]
)
def test_missing_or_wrong_token_is_401_in_the_v2_envelope(api: Api, token: str | None, comment: str) -> None:
    status, headers, body = api.call("GET", "order/", token=token)
    assert status == 401 and set(body) == {"response"}
    assert body["response"]["code"] == 401 and body["response"]["comment"].startswith(comment)
    uuid.UUID(body["response"]["log_id"])
    assert "X-Throttling-Account-Id" not in headers


def test_the_raw_token_is_not_accepted(api: Api) -> None:
    response = requests.get(f"{api.sandbox.url}/order/", headers={"Authorization": f"OAuth2 {TOKEN}"}, timeout=5)
    assert response.status_code == 401


# --- GET order/ [DOC] parameters -------------------------------------------------------------
@pytest.mark.parametrize("order_type", sorted(contract.ORDER_TYPES))
def test_order_type_selects_its_statuses(sandbox: JoorSandbox, api: Api, order_type: int) -> None:
    made = one_of_each(sandbox)
    got = set(api.order_ids(order_type=order_type, export_status=1, sync=0, start_from=0, count=500))
    assert got - {7001, 7002, 7003, 7004} == {
        n for (status, _), n in made.items() if status in contract.ORDER_TYPES[order_type]
    }


@pytest.mark.parametrize("export_status", sorted(contract.EXPORT_STATUSES))
def test_export_status_selects_its_states(sandbox: JoorSandbox, api: Api, export_status: int) -> None:
    made = one_of_each(sandbox)
    got = set(api.order_ids(order_type=8, export_status=export_status, sync=0, count=500)) - {7001, 7002, 7003, 7004}
    assert got == {n for (_, state), n in made.items() if state in contract.EXPORT_STATUSES[export_status]}


def test_defaults_sync_1_marks_what_it_returns(sandbox: JoorSandbox, api: Api) -> None:
    # sync=0 without export_status: every state; order_type defaults to 2 (approved and shipped)
    sandbox.add_orders({"order_id": 9001, "export_status": "EXPORTED"})
    assert api.order_ids(sync=0) == [7001, 7002, 7004, 9001]
    # the default sync=1 reads not-yet-exported orders and marks them
    assert api.order_ids() == [7001, 7002, 7004]
    assert api.order_ids() == []
    exported = {o["order_id"]: o for o in sandbox.orders()}
    assert {exported[n]["export_status"] for n in (7001, 7002, 7004)} == {"EXPORTED"}
    assert exported[7001]["exported_on"].endswith("Z") and exported[7003]["export_status"] == "NOT_EXPORTED"


def test_modified_orders_and_sync_1_clears_them(sandbox: JoorSandbox, api: Api) -> None:
    sandbox.modify_order(7002, {"po_number": "PO-7002-B"})  # not exported yet: stays so
    api.call("GET", "order/", params={"order_id": 7001})  # sync=1: exported
    modified = sandbox.modify_order(7001, {"status": "SHIPPED"})
    assert modified["export_status"] == "MODIFIED" and modified["date_modified"] > modified["date_created"]
    assert api.order_ids(sync=0, export_status=4) == [7001]
    assert api.order_ids(sync=0, export_status=5) == [7001, 7002, 7004]
    assert api.order_ids(sync=1, export_status=4, order_type=8) == [7001]
    assert api.order_ids(sync=0, export_status=4) == []
    with pytest.raises(ValueError, match="status must be one of"):
        sandbox.modify_order(7001, {"status": "LOST"})


def test_paging_total_next_start_and_the_default_count(sandbox: JoorSandbox, api: Api) -> None:
    sandbox.add_orders([{"order_id": 10000 + n} for n in range(58)])  # 60 approved in all
    first = api.orders(order_type=6, sync=0)
    assert len(first["order"]) == 50 and first["response"]["total"] == 60
    assert (first["response"]["next_start"], first["response"]["count"]) == (50, 50)
    last = api.orders(order_type=6, sync=0, start_from=50, count=25)
    assert len(last["order"]) == 10 and last["response"]["next_start"] is None
    assert last["response"]["start_from"] == 50 and last["response"]["code"] == 200


def test_filters_by_id_customer_and_group(sandbox: JoorSandbox, api: Api) -> None:
    sandbox.add_orders({"order_id": 9100, "customer_code": "ZZ9", "customer_group_name": "Key Accounts"})
    assert api.order_ids(sync=0, order_type=8, order_id=7003) == [7003]
    assert api.order_ids(sync=0, customer_code="C1001") == [7001, 7004]
    assert api.order_ids(sync=0, customer_group_name="Key Accounts") == [9100]


def test_modified_date_range(sandbox: JoorSandbox, api: Api) -> None:
    # seed orders were modified 2026-11-02T15:04Z
    inside = {"date_start": "2026-11-02T15:00:00.0Z", "date_end": "2026-11-02T16:00:00.000+00:00"}
    assert api.order_ids(sync=0, order_type=8, **inside) == [7001, 7002, 7003, 7004]
    assert api.order_ids(sync=0, order_type=8, date_start="2026-11-03", date_end="2026-11-04") == []


@pytest.mark.parametrize(
    "params",
    [
        {"date_start": "2026-11-02"},
        {"date_end": "2026-11-02"},
        {"date_start": "soon", "date_end": "later"},
        {"order_type": 9},
        {"export_status": 0},
        {"sync": 2},
        {"check": 4},
        {"count": 0},
        {"start_from": -1},
        {"count": "many"},
    ],
)
def test_bad_parameters_are_400_with_a_comment(api: Api, params: dict[str, Any]) -> None:
    status, _, body = api.call("GET", "order/", params={"sync": 0, **params})
    assert status == 400 and body["response"]["code"] == 400 and body["response"]["comment"]


def test_unknown_endpoints_are_404_envelopes(api: Api) -> None:
    status, _, body = api.call("GET", "linesheet/X/")
    assert status == 404 and "Unknown endpoint" in body["response"]["comment"]
    status, _, body = api.call("GET", "style-number/X/Y/")
    assert status == 404 and body["response"]["comment"] == "Style Y not found"
    # v4 answers in its own envelope: unknown endpoints (v4 orders are not served) and no token
    v4 = api.sandbox.url.replace("/v2", "/v4")
    headers = {"Authorization": contract.authorization(TOKEN)}
    answer = requests.get(v4 + "/orders", headers=headers, timeout=5)
    assert answer.status_code == 404 and answer.json()["errors"][0]["message"] == "Unknown endpoint GET /v4/orders"
    assert requests.get(v4 + "/products", timeout=5).status_code == 401


# --- connections [DOC] -----------------------------------------------------------------------
def test_connections_by_id_and_by_customer_code(api: Api) -> None:
    status, _, body = api.call("GET", "connection/501/")
    assert status == 200 and body["connections"]["connection"][0]["customer_code"] == "C1001"
    assert set(body["connections"]["response"]) >= {"code", "comment", "start_from", "next_start", "count", "log_id"}
    _, _, by_code = api.call("GET", "connection/customer_code/C1002/")
    assert [c["connection_id"] for c in by_code["connections"]["connection"]] == [502]
    assert api.call("GET", "connection/999/")[0] == 404
    assert api.call("GET", "connection/customer_code/NOPE/")[0] == 404


def test_put_connection_updates_and_is_recorded(api: Api) -> None:
    assert api.call("PUT", "connection/503/", json={"customer_code": "MAG01"})[0] == 200
    _, _, body = api.call("PUT", "connection/503/", json={"connection": {"sales_rep_code": "DR"}})
    assert body["connections"]["connection"][0] == {
        **default_seed()["connections"][2],
        "customer_code": "MAG01",
        "sales_rep_code": "DR",
    }
    assert [u["fields"] for u in api.sandbox.connection_updates()] == [
        {"customer_code": "MAG01"},
        {"sales_rep_code": "DR"},
    ]
    assert api.call("PUT", "connection/503/", json={"connection_id": 7})[0] == 400
    assert api.call("PUT", "connection/503/", json={"customer_code": "X" * 51})[0] == 400
    assert api.call("PUT", "connection/503/", data="not json")[0] == 400
    assert api.call("PUT", "connection/999/", json={"customer_code": "A"})[0] == 404
    assert len(api.sandbox.connection_updates()) == 2


# --- bulk-inventory [DOC] --------------------------------------------------------------------
def test_bulk_inventory_by_upc_or_style_per_warehouse_and_date(api: Api) -> None:
    items = [
        {"warehouse": "Main Warehouse", "upc": "084512000011", "inventory": 7},
        {"style_number": "LS100", "color_code": "BLK", "size": "S", "inventory": "3", "inventory_date": "03-15-2027"},
        {"upc": "084512000011", "inventory": 9, "inventory_date": "2027-15-03"},
        {"upc": "084512000011", "inventory": "many"},
    ]
    status, _, body = api.call("PUT", "bulk-inventory", json={"inventory_items": {"inventory_item": items}})
    assert status == 200 and body["sku_count"] == 4
    assert [e["status"] for e in body["inventory_log"]] == ["pass", "pass", "fail", "fail"]
    uuid.UUID(body["inventory_log"][0]["inventory_log_id"])
    assert api.control("GET", "inventory")[1] == [
        {
            "warehouse": "Default",
            "inventory_date": "2027-03-15",
            "style_number": "LS100",
            "color_code": "BLK",
            "size": "S",
            "upc": "084512000011",
            "inventory": 3,
        },
        {
            "warehouse": "Main Warehouse",
            "inventory_date": None,
            "style_number": "LS100",
            "color_code": "BLK",
            "size": "S",
            "upc": "084512000011",
            "inventory": 7,
        },
    ]
    # a lone item object is read as a list of one; a body in another shape is refused
    single = {"inventory_items": {"inventory_item": {"upc": "084512000022", "inventory": 1}}}
    assert api.call("POST", "bulk-inventory", json=single)[2]["sku_count"] == 1
    assert api.call("POST", "bulk-inventory", json={"inventory_item": []})[0] == 400


# --- credits [DOC] ---------------------------------------------------------------------------
def test_credits_gets_cost_1_writes_5_and_429_beyond(clock: Clock) -> None:
    sandbox = JoorSandbox(token=TOKEN, credits=12, window_seconds=300, clock=clock).start()
    api = Api(sandbox)
    try:
        for _ in range(2):
            assert api.call("PUT", "connection/501/", json={"customer_code": "C1001"})[0] == 200
        assert api.call("GET", "connection/501/")[0] == 200
        assert sandbox.credits_used()["sandbox"] == {"spent": 11, "throttled": 0}
        # a write no longer fits, a read still does; then nothing fits
        clock.now += 120
        status, headers, body = api.call("PUT", "connection/501/", json={"customer_code": "C1001"})
        assert (status, headers["Retry-After"], headers["X-Throttling-Account-Id"]) == (429, "180", "sandbox")
        assert body["response"]["code"] == 429 and "12 credits per 300 seconds" in body["response"]["comment"]
        assert api.call("GET", "connection/501/")[0] == 200
        clock.now += 0.5
        assert api.call("GET", "order/", params={"sync": 0})[1]["Retry-After"] == "180"
        # the fixed window ends 300 s after its first request, whatever came later
        clock.now = 500 + 300
        status, headers, _ = api.call("GET", "connection/501/")
        assert (status, headers["X-Throttling-Account-Id"]) == (200, "sandbox")
        assert sandbox.credits_used()["sandbox"] == {"spent": 1, "throttled": 2}
    finally:
        sandbox.stop()


def test_credits_are_per_account_and_can_be_reset(clock: Clock) -> None:
    sandbox = JoorSandbox(token=TOKEN, credits=5, clock=clock).start()
    other_seed = {**default_seed(), "account": {"account_id": "other", "name": "Other Brand"}}
    assert sandbox.add_account("other-token", other_seed) == "other"
    api = Api(sandbox)
    try:
        assert api.call("PUT", "connection/501/", json={"customer_code": "A"})[0] == 200
        assert api.call("GET", "connection/501/")[0] == 429
        status, headers, _ = api.call("GET", "connection/501/", token="other-token")
        assert (status, headers["X-Throttling-Account-Id"]) == (200, "other")
        assert api.control("GET", "credits")[1] == {
            "sandbox": {"spent": 5, "throttled": 1},
            "other": {"spent": 1, "throttled": 0},
        }
        assert api.control("POST", "credits/reset") == (200, {"ok": True})
        assert api.call("GET", "connection/501/")[0] == 200
        with pytest.raises(ValueError, match="exists already"):
            sandbox.add_account("third-token", other_seed)
    finally:
        sandbox.stop()


# --- /_sandbox/ controls ---------------------------------------------------------------------
def test_control_endpoints(api: Api) -> None:
    assert api.control("GET", "health") == (200, {"ok": True, "accounts": ["sandbox"], "orders": 4})
    assert api.control("POST", "orders", {"po_number": "PO-X"}) == (200, {"ids": ["7005"]})
    assert api.control("POST", "orders", [{"order_id": 900}, {}])[1] == {"ids": ["900", "7006"]}
    assert api.control("POST", "orders/900", {"po_number": "PO-900"})[1]["po_number"] == "PO-900"
    assert api.control("POST", "orders/404", {"po_number": "x"})[0] == 404
    assert api.control("POST", "orders", {"status": "LOST"})[0] == 400
    assert len(api.control("GET", "orders")[1]) == 7
    api.call("PUT", "connection/503/", json={"customer_code": "MAG01"})
    assert len(api.control("GET", "connection-updates")[1]) == 1
    assert {c["customer_code"] for c in api.control("GET", "connections")[1]} == {"C1001", "C1002", "MAG01"}
    assert api.control("GET", "health?account=nobody")[0] == 404
    assert api.control("POST", "reset") == (200, {"ok": True})
    assert api.control("GET", "health")[1]["orders"] == 4 and api.sandbox.connection_updates() == []
    assert api.control("GET", "nothing")[0] == 404


def test_faults_are_queued_scoped_and_counted(api: Api) -> None:
    assert api.control(
        "POST", "faults", [{"status": 503, "path": "connection", "count": 2}, {"status": 429, "retry_after": 3}]
    ) == (200, {"queued": 2})
    first = requests.get(f"{api.sandbox.url}/order/", timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    for _ in range(2):
        assert requests.get(f"{api.sandbox.url}/connection/501/", timeout=5).status_code == 503
    assert api.call("GET", "connection/501/")[0] == 200
    assert api.sandbox.credits_used()["sandbox"]["spent"] == 1  # faults cost nothing
    assert api.control("POST", "faults", {"status": 500, "colour": "red"})[0] == 400
