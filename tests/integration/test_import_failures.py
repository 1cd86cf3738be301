"""An import when Brandboom fails: the run is recorded as failed, readably and without secrets;
what was staged stays staged; the next run finishes the job, importing each order once.

Real Postgres, the Brandboom sandbox over HTTP (faults injected into it), and for the task a
real Celery worker on the test Redis.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bobbin.demo import build_world
from connectors.errors import AuthError, RetryableError
from connectors.http import DEFAULT_POLICY
from core import crypto
from core.db import session_scope
from models import InboundOrder, SalesOrder, Site, SyncRun
from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY
from services.pipeline import import_site_orders
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

PAGE_SIZE = 5
HTTP_ATTEMPTS = DEFAULT_POLICY.max_attempts  # requests the HTTP layer makes before it gives up
WORLD = build_world()
EXPORT_ORDERS = {str(o["id"]) for o in WORLD.brandboom_orders if o["status"] == "export"}


@pytest.fixture()
def fast_http_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry loop and jitter in this process, with a backoff of at most 20 ms."""
    import connectors.http as http

    real = http.backoff_wait
    tiny = http.HttpPolicy(backoff_base=0.005, backoff_cap=0.02)
    monkeypatch.setattr(http, "backoff_wait", lambda policy, attempt, rand=random.random: real(tiny, attempt, rand))


@pytest.fixture()
def demo_site(db: str, sandbox: Any) -> int:
    """Given the demo brand and its Brandboom site, read in pages of 5 orders."""
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "page_size": PAGE_SIZE}
        return site.id


def _runs() -> list[SyncRun]:
    with session_scope() as s:
        return list(s.scalars(select(SyncRun).order_by(SyncRun.id)))


def _staged() -> list[str]:
    with session_scope() as s:
        return list(s.scalars(select(InboundOrder.partner_order_id)))


def _count(model: Any, *where: Any) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _assert_no_secrets(text: str) -> None:
    for secret in (DEMO_SECRET_KEY, DEMO_PUBLIC_KEY):
        assert secret not in text, "a credential leaked into the run's error"


@pytest.mark.parametrize(
    "fault", [{"status": 500}, {"status": 502, "malformed": True}], ids=["http-500", "malformed-502-page"]
)
def test_partner_failure_mid_fetch_keeps_staged_pages_and_next_run_completes(
    demo_site: int, sandbox: Any, fast_http_retries: None, fault: dict[str, Any]
) -> None:
    # Given Brandboom answers the first two order pages, then fails on the third page for as
    # long as the HTTP layer keeps retrying (a pass-through fault lets two requests through)
    assert len(EXPORT_ORDERS) > 3 * PAGE_SIZE
    sandbox.inject_fault(count=2, path="orders/search")
    sandbox.inject_fault(count=HTTP_ATTEMPTS, path="orders/search", **fault)

    # When the import runs
    with pytest.raises(RetryableError) as raised:
        import_site_orders(demo_site)

    # Then the caller is told to retry later, and the run is failed with a readable error
    assert f"failed after {HTTP_ATTEMPTS} attempts" in str(raised.value)
    [run] = _runs()
    assert run.outcome == "failed" and run.finished_at is not None
    assert run.error is not None
    assert run.error.startswith("RetryableError: GET /api/v2/orders/search failed after"), run.error
    assert f"HTTP {fault['status']}" in run.error
    _assert_no_secrets(run.error)
    read = 2 * PAGE_SIZE - 1  # pages overlap by one order (connectors/paging.py)
    assert run.counts["pages"] == 2 and run.counts["fetched"] == read, run.counts

    # And the two pages committed before the failure stay staged, their valid orders imported
    # (each page is validated and imported once committed: a later page's failure costs nothing)
    staged = _staged()
    assert len(staged) == len(set(staged)) == read
    assert set(staged) <= EXPORT_ORDERS
    valid = {str(p) for p in WORLD.valid_order_ids()}
    first = _count(SalesOrder)
    assert first == len(valid & set(staged)) > 0

    # When the next run comes with Brandboom healthy
    summary = import_site_orders(demo_site)

    # Then it completes, and every order is staged once and every valid one imported once
    assert summary["fetched"] == len(EXPORT_ORDERS)
    assert summary["new"] == len(EXPORT_ORDERS) - read
    staged = _staged()
    assert len(staged) == len(set(staged)) and set(staged) == EXPORT_ORDERS
    assert summary["imported"] == len(valid) - first and len(valid) == _count(SalesOrder)
    assert _count(InboundOrder, InboundOrder.state == "imported") == len(valid)
    assert [r.outcome for r in _runs()] == ["failed", "ok"]

    # And a third run finds nothing new to stage or import
    again = import_site_orders(demo_site)
    assert (again["new"], again["imported"]) == (0, 0)
    assert _count(SalesOrder) == len(valid)


def test_wrong_credentials_fail_the_run_asking_to_check_them(demo_site: int, sandbox: Any) -> None:
    # Given the site's secret key is wrong (as if mistyped when the site was added)
    wrong = "WRONG" + "0" * 27
    with session_scope() as s:
        s.execute(
            update(Site)
            .where(Site.id == demo_site)
            .values(credentials_encrypted=crypto.encrypt_json({"public_key": DEMO_PUBLIC_KEY, "secret_key": wrong}))
        )

    # When the import runs
    with pytest.raises(AuthError) as raised:
        import_site_orders(demo_site)

    # Then it stops at once (no retry can fix it) telling a person to check the credentials
    message = str(raised.value)
    assert "check the site's credentials" in message
    assert "Permission Denied" in message
    [run] = _runs()
    assert run.outcome == "failed"
    assert run.error and run.error.startswith("AuthError: ") and "check the site's credentials" in run.error
    for secret in (wrong, DEMO_SECRET_KEY, DEMO_PUBLIC_KEY):
        assert secret not in run.error and secret not in message
    assert _staged() == []


def test_task_retries_while_the_partner_is_down_and_succeeds_once_it_heals(
    demo_site: int, sandbox: Any, start_worker: Any, celery_app: Any
) -> None:
    # Given a worker, and Brandboom answering 503 to every order search
    start_worker()
    sandbox.inject_fault(status=503, count=10_000, path="orders/search")

    # When beat's task imports the site
    result = celery_app.send_task("tasks.orders.import_orders", args=[demo_site])

    # Then the run is recorded as failed with the partner's status, and the task is retrying
    # (the timeouts here and below only catch a task that never gets there: they are no deadline)
    wait_until(lambda: result.state == "RETRY", timeout=120, what="the task to go into RETRY")
    failed = _runs()
    assert failed and all(r.outcome == "failed" and r.celery_task_id == result.id for r in failed)
    for run in failed:
        assert run.error and "HTTP 503" in run.error
        _assert_no_secrets(run.error)
    assert _staged() == []

    # And the retry is scheduled on the worker, with a countdown: a full-jitter draw within the
    # backoff (worker.base.BobbinTask; a draw near 0 may have run one retry already, which failed
    # the same way). The countdown is measured from when the worker closed the last failed run.
    def scheduled() -> list[dict[str, Any]]:
        replies = celery_app.control.inspect(timeout=1).scheduled() or {}
        return [e for entries in replies.values() for e in entries if e["request"]["id"] == result.id]

    [entry] = wait_until(scheduled, timeout=60, what="the retry to be scheduled")
    last = _runs()[-1]
    assert last.finished_at is not None
    countdown = (datetime.fromisoformat(entry["eta"]) - last.finished_at).total_seconds()
    from worker.base import BobbinTask  # imported once celery_app has set worker up on the test's Redis

    assert -1 <= countdown <= BobbinTask.retry_backoff_max + 1, countdown
    celery_app.control.revoke(result.id)  # (the scheduled retry is not waited for here)
    failed = _runs()

    # When Brandboom heals and the next import comes (beat's next run)
    sandbox.faults.clear()
    summary = celery_app.send_task("tasks.orders.import_orders", args=[demo_site]).get(timeout=120)

    # Then it completes: every order staged once, the run ok
    assert summary["fetched"] == len(EXPORT_ORDERS), summary
    assert sorted(_staged()) == sorted(EXPORT_ORDERS)
    assert [r.outcome for r in _runs()] == ["failed"] * len(failed) + ["ok"]
