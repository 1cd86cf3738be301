"""The queues and the routing table (``worker/routes.py``), read from the one Celery app.

Every task of Bobbin's ``tasks/`` has a queue of its own group (none falls to the default queue),
every queue has its own routing key (queues sharing a key would each get a copy of a message), and
a worker started without ``-Q`` consumes every queue — the test fixtures, the benchmark and the
chaos workers start that way, so they take every task. The ``redis_url`` fixture only gives the app
the test broker's URL; nothing is sent.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def app(redis_url: str) -> Any:
    from worker import app

    app.loader.import_default_modules()
    return app


def _queue(app: Any, task: str) -> str:
    return str(app.amqp.router.route({}, task)["queue"].name)


def test_every_module_of_tasks_is_imported_by_the_worker(app: Any) -> None:
    modules = {f"tasks.{p.stem}" for p in (ROOT / "tasks").glob("*.py") if p.stem != "__init__"}
    assert modules <= set(app.conf.imports)


def test_every_bobbin_task_has_a_queue_of_its_group(app: Any) -> None:
    from worker import routes

    ours = sorted(name for name in app.tasks if name.startswith("tasks."))
    # every task declared under tasks/ is registered (a module the app does not import would hide its tasks)
    declared = {m for p in (ROOT / "tasks").glob("*.py") for m in re.findall(r'name="(tasks\.[\w.]+)"', p.read_text())}
    assert declared and declared <= set(ours)
    unrouted = [name for name in ours if _queue(app, name) == routes.DEFAULT_QUEUE]
    assert not unrouted, f"add a route to worker/routes.py ROUTES for: {', '.join(unrouted)}"
    for name in ours:
        assert _queue(app, name) in routes.QUEUES, name


def test_the_queues_of_the_work_that_must_not_wait_for_each_other(app: Any) -> None:
    expected = {
        "tasks.orders.import_orders": "imports",
        "tasks.orders.import_order": "imports",
        "tasks.events.process_event": "imports",
        "tasks.inventory.push_inventory": "pushes",
        "tasks.catalog.push_catalog": "pushes",
        "tasks.customers.push_customers": "pushes",
        "tasks.customers.poll_customers": "pushes",
        "tasks.status.flush_outbox": "writebacks",
        "tasks.status.mark_orders": "writebacks",
        "tasks.notify.send_error_report": "maintenance",
        "tasks.notify.send_digests": "maintenance",
        "tasks.maintenance.reconcile": "maintenance",
        "tasks.erp.export_orders": "maintenance",
        "tasks.erp.load_shipment_files": "maintenance",
    }
    assert {name: _queue(app, name) for name in expected} == expected


def test_a_task_no_route_names_goes_to_the_default_queue(app: Any) -> None:
    from worker import routes

    assert _queue(app, "bench.noop") == routes.DEFAULT_QUEUE
    assert app.conf.task_default_queue == routes.DEFAULT_QUEUE


def test_each_queue_has_its_own_routing_key(app: Any) -> None:
    from worker import routes

    queues = app.amqp.queues
    assert set(queues) == set(routes.QUEUES)
    keys = [(queues[name].exchange.name, queues[name].routing_key) for name in routes.QUEUES]
    assert keys == [(name, name) for name in routes.QUEUES]


def test_a_worker_without_q_consumes_every_queue_and_the_groups_cover_them(app: Any) -> None:
    from worker import routes

    # Celery: a worker without -Q consumes every queue of task_queues.
    assert sorted(app.amqp.queues.consume_from) == sorted(routes.QUEUES)
    grouped = [q for group in routes.WORKER_GROUPS.values() for q in group]
    assert sorted(grouped) == sorted(routes.QUEUES)
    assert routes.queue_arg().split(",") == list(routes.QUEUES)


def test_make_run_starts_a_worker_on_every_queue() -> None:
    source = (ROOT / "bobbin" / "runner.py").read_text()
    assert '"-Q",\n                queue_arg(),' in source
