"""The customer push's mechanism on real parts: Postgres, the toy partner's server over HTTP (its
customers go into a job it settles later, like JOOR's bulk connection), a real SMTP server and a
real worker. The demo brand's 30 customers go in batches of 10."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from core.db import session_scope
from models import CatalogPushState, Customer, Site, SyncRun
from services import customer_push, notify
from services.status import site_status
from tests.integration.conftest import Inbox, wait_until
from tests.integration.test_catalog_push import Toy, json_out
from tests.integration.test_catalog_push import toy as toy

pytestmark = pytest.mark.integration

CUSTOMERS = 30


def outcomes(site_id: int) -> dict[str, str | None]:
    with session_scope() as s:
        return dict(
            s.execute(
                select(CatalogPushState.key, CatalogPushState.outcome).where(
                    CatalogPushState.site_id == site_id, CatalogPushState.kind == "customer"
                )
            ).all()
        )


def sent_codes(toy: Toy, since: int = 0) -> list[str]:
    jobs = list(toy.server.jobs.values())[since:]
    return [c["code"] for job in jobs for c in job["customers"]]


def test_customers_are_sent_awaiting_then_settled_by_a_poll_and_only_changes_go_again(toy: Toy) -> None:
    # When the customers are pushed
    first = customer_push.push_customers(toy.site_id)
    # Then all 30 went, in 3 jobs, and each is awaiting the partner: sent, not failed
    assert len(toy.server.jobs) == 3 and len(sent_codes(toy)) == CUSTOMERS
    assert first.counts["customer"] == {"awaiting": CUSTOMERS} and first.total("rejected") == 0
    assert set(outcomes(toy.site_id).values()) == {"awaiting"}
    with session_scope() as s:
        shown = site_status(s, s.get_one(Site, toy.site_id))["catalog"]
    assert shown == {"rejected": 0, "rejected_by_kind": {}, "awaiting": CUSTOMERS, "rejected_rows": []}
    assert customer_push.follow_up_needed(first)

    # When pushed again before the partner settled them: nothing is sent again
    again = customer_push.push_customers(toy.site_id)
    assert len(toy.server.jobs) == 3 and again.counts["customer"] == {"awaiting": CUSTOMERS}

    # When the partner settles its jobs, the follow-up poll records each customer's outcome
    toy.server.settle_jobs()
    polled = customer_push.poll_customers(toy.site_id)
    assert polled.counts["customer"] == {"accepted": CUSTOMERS}
    assert set(outcomes(toy.site_id).values()) == {"accepted"}
    with session_scope() as s:
        run = s.scalars(select(SyncRun).where(SyncRun.task == "poll_customers")).one()
        assert run.outcome == "ok" and run.counts["accepted"] == CUSTOMERS
        state = s.scalars(select(CatalogPushState).where(CatalogPushState.key == "ANC01")).one()
        assert state.partner_id == "C-ANC01" and state.accepted_hash == state.sent_hash

    # When one customer changes in the ERP, only it goes
    with session_scope() as s:
        s.execute(update(Customer).where(Customer.code == "ANC01").values(phone="(415) 555-0000"))
    third = customer_push.push_customers(toy.site_id)
    assert sent_codes(toy, 3) == ["ANC01"] and third.counts["customer"] == {"awaiting": 1, "unchanged": 29}


def test_a_refused_customer_is_a_problem_row_e_mailed_and_sent_again(toy: Toy, smtp: Inbox) -> None:
    with session_scope() as s:
        s.execute(update(Customer).where(Customer.code == "ANC01").values(email=None))
    customer_push.push_customers(toy.site_id)
    toy.server.settle_jobs()
    # The next push asks about the jobs first: one customer refused, the rest accepted
    result = customer_push.push_customers(toy.site_id)
    assert result.new_rejections == 1 and result.counts["customer"] == {"accepted": CUSTOMERS - 1, "rejected": 1}
    assert any("1 rejected" in n and f"{CUSTOMERS - 1} accepted" in n for n in result.notes)
    assert outcomes(toy.site_id)["ANC01"] == "rejected"
    with session_scope() as s:
        sent = notify.send_error_report(s, toy.site_id)
    assert sent["catalog_items"] == 1
    [mail] = smtp.wait_for(1)
    body = mail.get_payload()[0].get_payload(decode=True).decode()
    assert "Customer ANC01 (Anchor Shop)" in body and "Why: email is required" in body
    assert "bobbin customers push toy-shop" in body

    # Fixed in the ERP, it goes again (alone)
    with session_scope() as s:
        s.execute(update(Customer).where(Customer.code == "ANC01").values(email="orders@anchorshop.com"))
    jobs = len(toy.server.jobs)
    customer_push.push_customers(toy.site_id)
    assert sent_codes(toy, jobs) == ["ANC01"]


def test_a_dry_run_and_the_cli(toy: Toy) -> None:
    from bobbin.cli.main import app

    runner = CliRunner()
    plan = runner.invoke(app, ["customers", "push", "toy-shop", "--dry-run", "--json"])
    assert plan.exit_code == 0, plan.output
    assert json_out(plan.stdout)["counts"] == {"customer": {"to send": CUSTOMERS}} and toy.server.calls == []
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(CatalogPushState)) == 0

    pushed = runner.invoke(app, ["customers", "push", "toy-shop"], env={"COLUMNS": "200"})
    assert pushed.exit_code == 0, pushed.output
    assert f"{CUSTOMERS} sent, awaiting Toy" in pushed.stdout and "Awaiting" in pushed.stdout
    status = runner.invoke(app, ["status"], env={"COLUMNS": "200"})
    assert f"{CUSTOMERS} sent, awaiting Toy" in status.stdout


@pytest.fixture()
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    return {**worker_env, "BOBBIN_PARTNERS": "toy=tests.toy_partner"}


def test_the_task_pushes_through_a_real_worker(toy: Toy, start_worker: Any, celery_app: Any) -> None:
    start_worker()
    async_result = celery_app.send_task("tasks.customers.push_customers", args=[toy.site_id])
    summary = async_result.get(timeout=120)
    assert summary["counts"]["customer"] == {"awaiting": CUSTOMERS}
    with session_scope() as s:
        run = s.get_one(SyncRun, summary["run_id"])
        assert (run.task, run.outcome, run.celery_task_id) == ("push_customers", "ok", async_result.id)
    # The follow-up poll, called the way `celery call` does, settles them once the partner has
    toy.server.settle_jobs()
    polled = celery_app.send_task("tasks.customers.poll_customers", args=[toy.site_id]).get(timeout=120)
    assert polled["counts"]["customer"] == {"accepted": CUSTOMERS}
    wait_until(lambda: set(outcomes(toy.site_id).values()) == {"accepted"}, what="customers accepted")
