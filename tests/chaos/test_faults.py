"""The fault mechanism itself (sandbox/common.py), as docs/faults.md describes it: the spec syntax,
rates and scripts, and what each kind does to a real HTTP client against the real sandboxes."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from sandbox.common import Fault, FaultQueue, FaultSpecError, parse_faults

pytestmark = [pytest.mark.chaos]


# --- the spec syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("500", {"status": 500, "count": 1}),
        ("503@20%", {"status": 503, "rate": 0.2, "count": None}),
        ("429:retry_after=2@3rd", {"status": 429, "retry_after": 2.0, "nth": 3, "count": 1}),
        ("429", {"status": 429, "retry_after": 1.0}),
        ("hang:seconds=5,path=orders/search@2nd", {"drop": True, "delay": 5.0, "path": "orders/search", "nth": 2}),
        ("hang", {"drop": True, "delay": 35.0}),
        ("slow:seconds=0.5@always", {"delay": 0.5, "rate": 1.0, "drop": False}),
        ("drop@x3", {"drop": True, "count": 3}),
        ("malformed:status=502", {"malformed": True, "status": 502}),
        ("truncate:method=post@10%", {"truncate": True, "method": "POST", "rate": 0.1}),
        ("auth@1", {"auth": True, "nth": 1}),
        ("repeat:n=3@2nd", {"repeat": 3, "nth": 2}),
        ("skip:n=2,seed=7@50%", {"skip": 2, "seed": 7, "rate": 0.5}),
        ("add:n=4", {"add": 4}),
        ("pass:count=2", {"count": 2, "status": None}),
    ],
)
def test_spec_strings_read_as_documented(spec: str, expected: dict[str, Any]) -> None:
    fault = Fault.parse(spec)
    assert {k: getattr(fault, k) for k in expected} == expected


@pytest.mark.parametrize(
    "spec",
    ["blah", "500@often", "429:retry=2", "hang:seconds=abc", "600", "500@0%", "repeat:retry_after=1", "drop@0th"],
)
def test_bad_specs_are_refused_with_what_was_expected(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        Fault.parse(spec)


def test_json_objects_and_spec_strings_mix() -> None:
    faults = parse_faults(["500@3rd", {"status": 503, "count": 2}])
    assert [(f.status, f.nth, f.count) for f in faults] == [(500, 3, 1), (503, None, 2)]
    with pytest.raises(ValueError, match="unknown fault keys"):
        parse_faults([{"stauts": 500}])


# --- when faults fire -----------------------------------------------------------------------------


def _fired(queue: FaultQueue, n: int, path: str = "/x") -> list[str | None]:
    out = []
    for _ in range(n):
        fault = queue.take(path, "GET", False)
        out.append(fault.kind if fault else None)
    return out


def test_plain_faults_keep_their_first_in_first_out_order() -> None:
    queue = FaultQueue()
    queue.inject(Fault(count=2))  # let two requests through
    queue.inject(Fault(status=500))
    assert _fired(queue, 4) == ["pass", "pass", "500", None]


def test_the_nth_request_fails_counted_from_injection() -> None:
    queue = FaultQueue()
    queue.inject("429:retry_after=2@3rd")
    queue.inject("500@x2")  # plain faults take requests the nth fault does not
    assert _fired(queue, 5) == ["500", "500", "429", None, None]


def test_a_rate_is_seeded_and_repeatable() -> None:
    runs = []
    for _ in range(2):
        queue = FaultQueue(seed=11)
        queue.inject("503@30%")
        runs.append(_fired(queue, 2000))
    assert runs[0] == runs[1]
    assert 0.27 < runs[0].count("503") / 2000 < 0.33


def test_listing_faults_only_meet_listing_requests_and_paths_and_methods_filter() -> None:
    queue = FaultQueue()
    queue.inject("repeat:n=2@always")
    queue.inject("500:method=POST,path=/orders/@always")
    assert queue.take("/orders/search", "GET", False) is None
    assert queue.take("/orders/search", "GET", True).kind == "repeat"  # type: ignore[union-attr]
    assert queue.take("/orders/7", "POST", False).kind == "500"  # type: ignore[union-attr]
    assert queue.take("/products/import", "POST", False) is None


# --- each kind against the sandboxes, over HTTP --------------------------------------------------


@pytest.fixture()
def brandboom() -> Iterator[Any]:
    from sandbox.brandboom.server import BrandboomSandbox, default_seed
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    sb = BrandboomSandbox(public_key=DEMO_PUBLIC_KEY, secret_key=DEMO_SECRET_KEY, seed=default_seed()).start()
    sb.add_orders([{"id": 1000 + i, "poNumber": f"P{i}"} for i in range(10)])
    yield sb
    sb.stop()


def _client(sandbox: Any, **policy: Any) -> Any:
    from connectors.brandboom.client import BrandboomClient
    from connectors.http import HttpPolicy
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    return BrandboomClient(
        sandbox.url,
        DEMO_PUBLIC_KEY,
        DEMO_SECRET_KEY,
        policy=HttpPolicy(**{"read_timeout": 0.3, "max_attempts": 1, **policy}),
    )


def _ids(pages: list[list[dict[str, Any]]]) -> list[int]:
    return [int(o["id"]) for page in pages for o in page]


def test_truncated_body_is_a_broken_connection_after_the_partner_did_the_work(brandboom: Any) -> None:
    from connectors.errors import RetryableError

    brandboom.faults.inject("truncate:method=POST")
    with pytest.raises(RetryableError, match="ChunkedEncodingError"):
        _client(brandboom).update_order_status(431, "exported")
    assert [c["order_id"] for c in brandboom.status_changes()] == ["431"]  # applied all the same


def test_hang_outlasts_the_read_timeout_and_changes_nothing(brandboom: Any) -> None:
    from connectors.errors import RetryableError

    brandboom.faults.inject("hang:seconds=0.6")
    with pytest.raises(RetryableError, match="Timeout"):
        _client(brandboom).update_order_status(431, "exported")
    assert brandboom.status_changes() == []


def test_auth_fault_is_brandbooms_permission_denied_envelope(brandboom: Any) -> None:
    from connectors.errors import AuthError

    brandboom.faults.inject("auth")
    with pytest.raises(AuthError, match="check the site's credentials"):
        _client(brandboom).search_orders("export")


def test_429_carries_retry_after_and_malformed_is_html(brandboom: Any) -> None:
    brandboom.faults.inject("429:retry_after=2")
    brandboom.faults.inject("malformed:status=502")
    first = requests.get(brandboom.url + "/orders/search", timeout=2)
    second = requests.get(brandboom.url + "/orders/search", timeout=2)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    assert (second.status_code, second.headers["Content-Type"]) == (502, "text/html")


def test_repeat_and_skip_disturb_the_listing_like_arriving_and_edited_orders(brandboom: Any) -> None:
    ids = itertools.count(9000)
    brandboom.order_factory = lambda n: [{"id": next(ids), "poNumber": "NEW"} for _ in range(n)]
    client = _client(brandboom)
    waiting = _ids(list(client.iter_order_pages("export", page_size=4)))

    # repeat: 2 orders land at the front before the 2nd page: the client meets 2 orders twice
    brandboom.faults.inject("repeat:n=2@2nd")
    seen = _ids(list(client.iter_order_pages("export", page_size=4)))
    assert len(seen) - len(set(seen)) == 2 and {9000, 9001}.isdisjoint(seen)
    assert set(seen) == set(waiting)  # the new ones come with the next pass
    assert {9000, 9001} <= set(_ids(list(client.iter_order_pages("export", page_size=4))))

    # skip: the first 3 (already read) move to the end before the 2nd page: one pass alone would
    # jump 3 unread ones; the pager sees the shift and reads again, so this one read misses none
    before = _ids(list(client.iter_order_pages("export", page_size=4)))
    brandboom.faults.inject("skip:n=3@2nd")
    pager = client.order_pager("export", page_size=4)
    seen = _ids(list(pager))
    assert set(seen) == set(before)
    assert pager.report.shifted == 1 and pager.report.passes == 2 and pager.report.complete
    assert Counter(brandboom.faults.stats()) == Counter({"repeat": 1, "skip": 1})


def test_joor_auth_fault_and_listing_faults() -> None:
    from connectors.errors import AuthError
    from connectors.joor.client import JoorClient
    from sandbox.joor.server import JoorSandbox

    sb = JoorSandbox(token="t0k", credits=10_000).start()
    try:
        sb.add_orders([{"po_number": f"P{i}"} for i in range(8)])
        client = JoorClient(sb.url, "t0k")
        sb.faults.inject("auth")
        with pytest.raises(AuthError):
            client.get_orders(order_type=6, sync=0, export_status=2)
        waiting = [o["order_id"] for p in client.iter_order_pages(6, 2, count=3) for o in p]
        sb.faults.inject("repeat:n=2@2nd")
        seen = [o["order_id"] for p in client.iter_order_pages(6, 2, count=3) for o in p]
        assert len(seen) - len(set(seen)) == 2 and set(seen) == set(waiting)
        client.mark_exported(waiting[0])
        assert [m["order_id"] for m in sb.export_marks()] == [str(waiting[0])]
    finally:
        sb.stop()


def test_post_faults_takes_spec_strings_and_get_faults_reports(brandboom: Any) -> None:
    control = brandboom.control_url
    answer = requests.post(control + "/faults", json=["503@2nd", {"status": 500}], timeout=2)
    assert answer.json() == {"queued": 2}
    requests.get(brandboom.url + "/orders/search", timeout=2)
    state = requests.get(control + "/faults", timeout=2).json()
    assert state["played"] == {"500": 1} and [f["kind"] for f in state["pending"]] == ["503"]
    bad = requests.post(control + "/faults", json=["503@often"], timeout=2)
    assert bad.status_code == 400 and "N% (a rate)" in bad.json()["error"]


def test_cli_refuses_a_bad_fault_before_listening() -> None:
    from bobbin.cli.main import app

    result = CliRunner().invoke(app, ["sandbox", "--port", "0", "--fault", "teapot@3rd"])
    assert result.exit_code == 1
    assert "unknown kind 'teapot'" in result.output
