"""JOOR end to end: the Brandboom story repeated through a real worker, plus what JOOR adds.

Given the demo brand in the ERP and its JOOR account in the JOOR sandbox (approved orders that
break every rule, customers to auto-map), when the site is imported by a worker, then each order
is held once with exactly the expected problems, customers map by code / e-mail / name + postal
code (never when ambiguous), every held order is marked exported on JOOR only after it was stored,
and the ERP codes found are sent back to JOOR. Then a person creates a customer (its next order
maps by itself), adds a new ship-to, and an order changed on JOOR after import is flagged, never
re-imported. Two JOOR sites on two divisions import in the same tick with their own settings.
And a worker killed between JOOR's answer and the commit, again and again, loses nothing.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo import build_world
from bobbin.demo_joor import (
    J_ADDRESS_NEW,
    J_AUTOMAP_NONE,
    J_DUPLICATE_FIRST,
    JOOR_BROKEN_ORDERS,
    JOOR_EXPECTED_STATE,
    JOOR_OTHER_ORDERS,
    joor_expected_customers,
    joor_expected_errors,
    joor_seed,
    make_joor_order,
)
from connectors.joor import contract as c
from core.db import session_scope
from models import InboundOrder, Mapping, OrderError, SalesOrder, Site
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration


def _held(site_id: int) -> dict[int, InboundOrder]:
    with session_scope() as s:
        return {
            int(o.partner_order_id): o for o in s.scalars(select(InboundOrder).where(InboundOrder.site_id == site_id))
        }


def _open_errors(order_id: int) -> set[tuple[Any, ...]]:
    with session_scope() as s:
        return {
            tuple(r)
            for r in s.execute(
                select(
                    OrderError.code, OrderError.line_no, OrderError.field, OrderError.value, OrderError.severity
                ).where(OrderError.order_id == order_id, OrderError.resolved_at.is_(None))
            )
        }


def _export_state(sandbox: Any, account: str | None = None) -> dict[int, str]:
    return {int(o["order_id"]): o["export_status"] for o in sandbox.orders(account)}


def test_joor_story_through_a_worker(
    joor_site: int, joor_sandbox: Any, smtp: Any, start_worker: Any, celery_app: Any
) -> None:
    world = build_world()
    start_worker()
    waiting = {
        oid
        for oid, state in _export_state(joor_sandbox).items()
        if state == c.STATE_NOT_EXPORTED and oid not in JOOR_OTHER_ORDERS
    }

    # When beat's task imports the JOOR site
    summary = celery_app.send_task("tasks.orders.import_orders", args=[joor_site]).get(timeout=120)

    # Then every approved, not yet exported order is held exactly once, and nothing else
    held = _held(joor_site)
    assert set(held) == waiting, summary
    # And each broken order holds exactly its expected problems
    expected = joor_expected_errors(world)
    for pid in JOOR_BROKEN_ORDERS:
        got = _open_errors(held[pid].id)
        assert len(got) == len(expected[pid]), (pid, got)
        for exp in expected[pid]:
            assert any(
                g[0] == exp.code
                and g[1] == exp.line_no
                and g[2] == exp.field
                and g[4] == exp.severity
                and (exp.value is None or g[3] == exp.value)
                for g in got
            ), (pid, exp, got)
        assert held[pid].state == ("imported" if JOOR_EXPECTED_STATE[pid] == "valid" else JOOR_EXPECTED_STATE[pid])
    # And customers auto-mapped by code, e-mail, name + postal code; never when ambiguous
    for pid, code in joor_expected_customers(world).items():
        assert held[pid].customer_code == code, pid
    with session_scope() as s:
        hows = set(s.scalars(select(Mapping.how).where(Mapping.site_id == joor_site, Mapping.kind == "customer")))
    assert {"auto:code", "auto:email", "auto:name+postal"} <= hows

    # And every held order (valid or not) is marked exported on JOOR, after it was stored
    wait_until(
        lambda: all(_export_state(joor_sandbox)[p] == c.STATE_EXPORTED for p in waiting),
        what="orders marked exported on JOOR",
    )
    # And the ERP codes found by e-mail / name + postal code went back to JOOR's connections
    wait_until(lambda: len(joor_sandbox.connection_updates()) >= 2, what="customer codes sent to JOOR")
    # And the contacts got the error report
    assert "JOOR" in smtp.wait_for(1)[0]["Subject"]

    # When a person creates the customer nobody matched
    from services import fixes

    code, _ = fixes.create_customer_from_order(held[J_AUTOMAP_NONE].id)
    assert _held(joor_site)[J_AUTOMAP_NONE].state == "imported"
    celery_app.send_task("tasks.status.flush_outbox").get(timeout=60)
    # Then its ERP code is stored on its JOOR connection
    connection_id = str(held[J_AUTOMAP_NONE].raw["connection_id"])
    assert any(
        str(u["connection_id"]) == connection_id and code in str(u["fields"]) for u in joor_sandbox.connection_updates()
    )
    # And the customer's next order maps by itself, by that code
    nxt = make_joor_order(
        world,
        id=4900001,
        customer_code=code,
        connection_id=int(connection_id),
        customer_email="",
        customer_name="Someone new to the ERP",
    )
    joor_sandbox.add_orders([nxt])
    celery_app.send_task("tasks.orders.import_orders", args=[joor_site]).get(timeout=120)
    assert _held(joor_site)[4900001].customer_code == code
    assert _held(joor_site)[4900001].state == "imported"

    # When a person adds the new ship-to of the order that warned about it
    fixes.add_ship_to_address(held[J_ADDRESS_NEW].id)
    assert _open_errors(held[J_ADDRESS_NEW].id) == set()

    # When an imported order is changed on JOOR after its export
    joor_sandbox.modify_order(J_DUPLICATE_FIRST, {"po_number": "CHANGED-ON-JOOR"})
    assert _export_state(joor_sandbox)[J_DUPLICATE_FIRST] == c.STATE_MODIFIED
    again = celery_app.send_task("tasks.orders.import_orders", args=[joor_site]).get(timeout=120)
    # Then it is flagged for a person and never re-imported, and marked exported again
    assert again["modified"] == 1
    first = _held(joor_site)[J_DUPLICATE_FIRST]
    assert ("modified_after_export", None, None, None, "warning") in _open_errors(first.id)
    with session_scope() as s:
        assert (
            s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.inbound_order_id == first.id)) == 1
        )
        assert (
            s.scalar(select(SalesOrder.po_number).where(SalesOrder.inbound_order_id == first.id)) != "CHANGED-ON-JOOR"
        )
    wait_until(lambda: _export_state(joor_sandbox)[J_DUPLICATE_FIRST] == c.STATE_EXPORTED, what="re-marked exported")

    # And JOOR cannot be told "shipped": the person is told why
    from services import writeback

    with session_scope() as s:
        result = writeback.mark(s, [first.id], "shipped")
    assert "JOOR takes no 'shipped' status" in result.skipped[first.id]


def test_two_joor_sites_on_two_divisions_in_the_same_tick(
    joor_site: int, joor_sandbox: Any, start_worker: Any, celery_app: Any
) -> None:
    from bobbin.demo_joor import joor_mappings
    from core.settings import get_settings
    from schedules import active_sites, build_schedule
    from services.fixes import upsert_mapping
    from services.sites import create_site

    world = build_world()
    joor_sandbox.add_account("eu-token-0000", joor_seed(world, account="harbor-eu"))
    with session_scope() as s:
        eu = create_site(
            s,
            name="joor-eu",
            kind="joor",
            base_url=joor_sandbox.url,
            credentials={"api_token": "eu-token-0000"},
            division="MAIN",
            notify_emails=["eu@x.example"],
            settings={
                "order_types": [6, 7],
                "quantity": "shipped",
                "default_warehouse": "WEST",
                **joor_mappings()["settings"],
            },
        )
        for m in joor_mappings()["mappings"]:
            upsert_mapping(s, eu.id, m["kind"], m["partner_value"], m["erp_code"], "manual")
        eu_id = eu.id
    entries = {k: v for k, v in build_schedule(active_sites(), get_settings()).items() if k.startswith("import")}
    assert len(entries) == 2 and len({str(e["schedule"]) for e in entries.values()}) == 1  # same tick

    start_worker()
    results = [celery_app.send_task(e["task"], args=e["args"]) for e in entries.values()]  # as beat does
    for r in results:
        r.get(timeout=120)

    with session_scope() as s:
        divisions = dict(
            s.execute(select(SalesOrder.site_id, func.min(SalesOrder.division_code)).group_by(SalesOrder.site_id)).all()
        )
        shipped = s.scalar(
            select(InboundOrder).where(InboundOrder.site_id == eu_id, InboundOrder.partner_order_id == "4400006")
        )
    assert divisions == {joor_site: "WHSL", eu_id: "MAIN"}
    assert shipped is not None  # the EU site also imports shipped orders (order type 7)
    assert "4400006" not in {str(p) for p in _held(joor_site)}


def test_worker_killed_between_joor_answer_and_commit_loses_nothing(
    joor_site: int, joor_sandbox: Any, start_worker: Any, celery_app: Any
) -> None:
    world = build_world()
    joor_sandbox.add_orders([make_joor_order(world, id=4800000 + i) for i in range(60)])
    with session_scope() as s:
        site = s.get(Site, joor_site)
        assert site is not None
        site.settings = {**site.settings, "page_size": 10}
    rng = random.Random(7)
    victim: dict[str, Any] = {}
    original = joor_sandbox.handle

    def handle(request: Any) -> Any:
        response = original(request)
        worker = victim.get("worker")
        if worker is not None and request.path.rstrip("/").endswith("/order") and request.params().get("sync") == "0":
            victim.pop("worker")  # kill once, a few milliseconds after JOOR answered a page
            threading.Timer(rng.uniform(0.0, 0.05), lambda: os.killpg(worker.proc.pid, signal.SIGKILL)).start()
        return response

    joor_sandbox.handle = handle
    for round_no in range(8):
        worker = start_worker(f"victim{round_no}")
        victim["worker"] = worker
        celery_app.send_task("tasks.orders.import_orders", args=[joor_site])
        wait_until(lambda worker=worker: worker.proc.poll() is not None, timeout=60, what="the worker to be killed")
    joor_sandbox.handle = original

    start_worker("survivor")
    wait_until(
        lambda: (
            celery_app.send_task("tasks.orders.import_orders", args=[joor_site]).get(timeout=120).get("fetched") == 0
        ),
        timeout=180,
        interval=1,
        what="nothing left to fetch",
    )
    celery_app.send_task("tasks.status.flush_outbox").get(timeout=60)

    states = _export_state(joor_sandbox)
    with session_scope() as s:
        ids = list(s.scalars(select(InboundOrder.partner_order_id).where(InboundOrder.site_id == joor_site)))
        doubled = s.execute(
            select(SalesOrder.inbound_order_id).group_by(SalesOrder.inbound_order_id).having(func.count() > 1)
        ).all()
    assert len(ids) == len(set(ids)), "an order was held twice"
    exported_on_joor = {oid for oid, st in states.items() if st == c.STATE_EXPORTED and oid not in JOOR_OTHER_ORDERS}
    assert exported_on_joor <= {int(i) for i in ids}, "an order JOOR considers exported is not in the holding area"
    assert {4800000 + i for i in range(60)} <= {int(i) for i in ids}
    assert doubled == []
