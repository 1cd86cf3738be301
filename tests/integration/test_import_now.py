"""`bobbin import SITE` (now, by name; here or through a real worker), `--dry-run` (reads the
partner, writes nothing), orders named SITE:PARTNER_ORDER_ID, `bobbin orders replay` after a mapper
fix, and "exported" sent again — a bounded number of times — for an imported order the partner
still lists as waiting.

Real Postgres, the Brandboom sandbox over HTTP seeded with the demo brand (orders that break every
rule included: bobbin/demo.py's EXPECTED_ERRORS), real worker processes, the CLI through typer's
CliRunner. Each test checks what its own runs did.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bobbin import demo
from bobbin.demo import EXPECTED_STATE, O_DUPLICATE_PO, O_TERMS_UNMAPPED
from bobbin.demo_sites import DEMO_SITE
from core.db import session_scope
from models import InboundOrder, OrderError, OutboxEntry, SalesOrder, Site, SyncRun
from services.orders import order_detail
from tests.integration.conftest import wait_until
from tests.integration.test_cli import bobbin, cli_logging  # noqa: F401  (the CLI's logging, autouse)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world()  # the world the sandbox fixture is seeded with


@pytest.fixture()
def demo_site(db: str, sandbox: Any) -> int:
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == DEMO_SITE)))


def export_ids(world: demo.DemoWorld) -> set[str]:
    return {str(o["id"]) for o in world.brandboom_orders if o["status"] == "export"}


def expected_counts(world: demo.DemoWorld) -> Counter[str]:
    return Counter(EXPECTED_STATE.get(int(pid), "valid") for pid in export_ids(world))


def ok_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def row_counts() -> dict[str, int]:
    """Rows in every table Bobbin has."""
    import models

    with session_scope() as s:
        return {
            t.name: int(s.scalar(text(f'SELECT count(*) FROM "{t.name}"')) or 0)
            for t in models.Base.metadata.sorted_tables
        }


def exported_sends(sandbox: Any, partner_id: str) -> int:
    return sum(1 for c in sandbox.status_changes() if c["order_id"] == partner_id and c["status"] == "exported")


def held_ids() -> dict[str, int]:
    with session_scope() as s:
        return dict(s.execute(select(InboundOrder.partner_order_id, InboundOrder.id)).all())  # type: ignore[arg-type]


# --- import now, by name ----------------------------------------------------------------------------


def test_import_by_name_here_prints_the_run_and_a_second_run_creates_nothing(
    demo_site: int, sandbox: Any, world: demo.DemoWorld
) -> None:
    expected = expected_counts(world)
    valid = {str(i) for i in world.valid_order_ids()}

    # When a person imports the demo site by name, in this process
    summary = ok_json(bobbin("import", DEMO_SITE, "--here", "--json"))

    # Then the run's summary says what it did, order by order as the demo expects
    assert summary["site"] == DEMO_SITE and summary["where"] == "here" and summary["run_id"]
    assert (summary["fetched"], summary["new"]) == (len(export_ids(world)), len(export_ids(world)))
    assert (summary["valid"], summary["invalid"], summary["duplicate"]) == (
        expected["valid"],
        expected["invalid"],
        expected["duplicate"],
    )
    assert summary["imported"] == len(valid)
    assert summary["new_errors"] == sum(len(rows) for rows in world.expected_errors.values())
    # one import run for it, and what the task leaves to others done from here: the writebacks it
    # queued sent, the new ERP orders written to the drop folder (a run of its own)
    with session_scope() as s:
        runs = sorted(s.scalars(select(SyncRun.task)))
        assert runs == ["export_orders", "import_orders"], runs
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == len(valid)
    assert summary["writebacks"]["sent"] == len(valid)
    assert summary["erp_export"]["orders"] == len(valid), summary["erp_export"]
    assert {c["order_id"] for c in sandbox.status_changes() if c["status"] == "exported"} == valid

    # When it is imported again without --here and no worker runs
    again = bobbin("import", DEMO_SITE)

    # Then it runs here, says so, and the summary shows nothing new
    assert again.exit_code == 0, again.output
    assert "No worker is running: importing in this process." in again.stderr
    assert f"Imported {DEMO_SITE} here" in again.stdout
    assert "0 new ERP orders" in again.stdout
    assert "What needs a person: bobbin orders list --site brandboom-demo --view invalid" in again.stdout
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == len(valid)
        assert s.scalar(select(func.count()).select_from(InboundOrder)) == len(export_ids(world))


def test_import_by_name_goes_through_a_running_worker(
    demo_site: int, sandbox: Any, world: demo.DemoWorld, start_worker: Any
) -> None:
    start_worker()

    # When a person imports the site by name while a worker runs
    result = bobbin("import", DEMO_SITE, "--json")

    # Then the worker ran the task and its summary is printed
    summary = ok_json(result)
    assert summary["where"] == "worker" and summary["task_id"]
    assert summary["fetched"] == len(export_ids(world))
    assert summary["imported"] == len(world.valid_order_ids())
    with session_scope() as s:
        # (the ERP export the import sends when it ends records a run of its own, maybe already)
        run = s.scalars(select(SyncRun).where(SyncRun.task == "import_orders")).one()
        assert run.celery_task_id == summary["task_id"] and run.outcome == "ok"
    # and the task's own follow-up (the flush) told Brandboom
    valid = {str(i) for i in world.valid_order_ids()}
    wait_until(
        lambda: {c["order_id"] for c in sandbox.status_changes() if c["status"] == "exported"} == valid,
        what="the worker's flush",
    )

    # and in words, a second time: nothing new
    words = bobbin("import", DEMO_SITE)
    assert words.exit_code == 0, words.output
    assert f"Imported {DEMO_SITE} on the worker" in words.stdout and "0 new ERP orders" in words.stdout


def test_import_of_an_unknown_or_paused_site_is_one_line(demo_site: int) -> None:
    unknown = bobbin("import", "nosuch")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("Error: no site 'nosuch'; sites: brandboom-demo")
    assert bobbin("sites", "pause", DEMO_SITE).exit_code == 0
    paused = bobbin("import", DEMO_SITE, "--here")
    assert paused.exit_code == 1 and "is paused" in paused.stderr and len(paused.stderr.splitlines()) == 1
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun)) == 0


# --- dry run ------------------------------------------------------------------------------------------


def test_dry_run_reports_what_an_import_would_do_and_writes_nothing(
    demo_site: int, sandbox: Any, world: demo.DemoWorld
) -> None:
    statuses_before = {str(o["id"]): o["status"] for o in sandbox.orders()}
    rows_before = row_counts()

    # When a person looks before importing
    preview = ok_json(bobbin("import", DEMO_SITE, "--dry-run", "--json"))

    # Then nothing was written anywhere: no table has a row more (holding area, outbox, runs,
    # problems, mappings…), and nothing changed on Brandboom
    assert row_counts() == rows_before
    assert rows_before["inbound_order"] == rows_before["outbox"] == rows_before["sync_run"] == 0
    assert {str(o["id"]): o["status"] for o in sandbox.orders()} == statuses_before
    assert sandbox.status_changes() == []

    # and the preview holds every waiting order with the problems the demo expects of it
    expected = expected_counts(world)
    assert preview["dry_run"] is True and preview["fetched"] == len(export_ids(world))
    assert (preview["new"], preview["to_stage"], preview["already_held"]) == (len(export_ids(world)),) * 2 + (0,)
    assert (preview["valid"], preview["invalid"], preview["duplicate"]) == (
        expected["valid"],
        expected["invalid"],
        expected["duplicate"],
    )
    by_id = {o["partner_order_id"]: o for o in preview["orders"]}
    assert set(by_id) == export_ids(world)
    for pid, order in by_id.items():
        want = world.expected_errors.get(int(pid), ())
        got = order["problems"]
        assert len(got) == len(want), (pid, got)
        for g, e in zip(got, want, strict=True):  # a value None in the demo's table: any value
            assert (g["code"], g["line_no"], g["field"], g["severity"]) == (e.code, e.line_no, e.field, e.severity), pid
            assert e.value is None or g["value"] == e.value, (pid, g)
        assert order["state"] == EXPECTED_STATE.get(int(pid), "valid"), pid
    dup = by_id[str(O_DUPLICATE_PO)]["problems"][0]["message"]
    assert f"{DEMO_SITE}:{demo.O_DUPLICATE_FIRST} (new on this list)" in dup  # named as a person finds it

    # When it is imported, and a person looks again
    ok_json(bobbin("import", DEMO_SITE, "--here", "--json"))
    rows_before = row_counts()
    again = ok_json(bobbin("import", DEMO_SITE, "--dry-run", "--json"))

    # Then every order is already held (nothing to stage), the imported ones are left alone, the
    # others would be checked again with the same outcome, and still nothing is written
    assert row_counts() == rows_before
    held_back = expected["invalid"] + expected["duplicate"]  # the imported ones are exported: no longer waiting
    assert (again["fetched"], again["new"], again["to_stage"], again["already_held"]) == (held_back, 0, 0, held_back)
    assert again["imported"] == 0
    assert (again["invalid"], again["duplicate"]) == (expected["invalid"], expected["duplicate"])
    assert {o["action"] for o in again["orders"]} == {"held"}

    # and in words: the table of orders with problems, and that nothing was written
    words = bobbin("import", DEMO_SITE, "--dry-run")
    assert words.exit_code == 0, words.output
    assert f"Dry run of {DEMO_SITE} (Brandboom)" in words.stdout
    assert "terms_unmapped" in words.stdout and str(O_TERMS_UNMAPPED) in words.stdout
    assert "Nothing was written" in words.stdout
    assert row_counts() == rows_before


# --- SITE:PARTNER_ORDER_ID ----------------------------------------------------------------------------


def test_orders_are_named_by_site_and_partner_order_id(demo_site: int, sandbox: Any) -> None:
    ok_json(bobbin("import", DEMO_SITE, "--here", "--json"))
    ids = held_ids()

    shown = ok_json(bobbin("orders", "show", f"{DEMO_SITE}:{O_TERMS_UNMAPPED}", "--json"))
    assert shown["id"] == ids[str(O_TERMS_UNMAPPED)] and shown["partner_order_id"] == str(O_TERMS_UNMAPPED)
    assert ok_json(bobbin("orders", "show", str(ids[str(O_TERMS_UNMAPPED)]), "--json"))["id"] == shown["id"]

    # an unknown partner order id: one line naming the site's orders
    missing = bobbin("orders", "show", f"{DEMO_SITE}:9012")
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"Error: {DEMO_SITE} holds no order with partner order id 9012 (")
    assert f"bobbin orders list --site {DEMO_SITE}" in missing.stderr and "Traceback" not in missing.output
    # an unknown site: one line naming the sites
    nosite = bobbin("orders", "show", "nosuch:9012")
    assert nosite.exit_code == 1 and "no site 'nosuch'; sites: brandboom-demo" in nosite.stderr
    # neither an id nor SITE:ID: a usage error
    typo = bobbin("orders", "show", "abc")
    assert typo.exit_code == 2 and "SITE:PARTNER_ORDER_ID" in typo.output

    # the commands that change orders take the same names, mixed with ids
    rejected = ok_json(bobbin("orders", "reject", f"{DEMO_SITE}:{O_DUPLICATE_PO}", "--json"))
    assert rejected["rejected"] == [ids[str(O_DUPLICATE_PO)]]


# --- replay -----------------------------------------------------------------------------------------


def test_replay_after_a_mapper_fix_imports_the_order_once(
    demo_site: int, sandbox: Any, world: demo.DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors import registry
    from connectors.brandboom import SPEC

    # Given an order whose lines carry their quantity under a key the mapper does not read yet
    order = demo.make_order(world, id=390001, lines=2)
    for item in order["items"]:
        item["qty"] = item.pop("quantity")
    sandbox.add_orders(order)
    ok_json(bobbin("import", DEMO_SITE, "--here", "--json"))
    oid = held_ids()["390001"]
    shown = ok_json(bobbin("orders", "show", f"{DEMO_SITE}:390001", "--json"))
    assert shown["state"] == "invalid" and {p["code"] for p in shown["problems"]} == {"quantity_invalid"}

    # When the mapper is fixed (it reads "qty" too) and the site's invalid orders are replayed
    def fixed(raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("items"), list):
            raw = {
                **raw,
                "items": [
                    {**i, "quantity": i["qty"]} if isinstance(i, dict) and "qty" in i and "quantity" not in i else i
                    for i in raw["items"]
                ],
            }
        return SPEC.orders.to_partner_order(raw)  # type: ignore[union-attr]

    patched = dataclasses.replace(SPEC, orders=dataclasses.replace(SPEC.orders, to_partner_order=fixed))  # type: ignore[type-var]
    monkeypatch.setitem(registry._extra, "brandboom", patched)
    result = ok_json(bobbin("orders", "replay", "--site", DEMO_SITE, "--state", "invalid", "--json"))

    # Then that order is imported, once; the demo's invalid orders stay invalid
    [site] = result["sites"]
    assert site["replayed"] == expected_counts(world)["invalid"] + 1
    assert site["imported"] == 1 and site["changed"] == 1
    [changed] = [o for o in site["orders"] if o["before"] != o["after"]]
    assert (changed["id"], changed["before"], changed["after"]) == (oid, "invalid", "imported")
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(SalesOrder.inbound_order_id == oid)) == 1
        # what people read is what the mapper reads now
        lines = order_detail(s, oid)["lines"]
        assert [ln["quantity"] for ln in lines] == [str(i["qty"]) for i in order["items"]]
        # the problem is resolved, kept as history
        assert s.scalar(select(func.count()).where(OrderError.order_id == oid, OrderError.resolved_at.is_not(None)))

    # When it is replayed again, by its partner order id
    again = bobbin("orders", "replay", f"{DEMO_SITE}:390001", "--json")

    # Then it is not imported again: imported orders are never replayed
    assert again.exit_code == 1
    [site] = json.loads(again.stdout)["sites"]
    assert site["skipped"] == {str(oid): "it is imported already, and an order is imported once, ever"}
    assert again.stderr == "Error: 1 order not replayed: " + str(oid) + "\n"
    # and in words, for a held order: a summary and a table
    words = bobbin("orders", "replay", f"{DEMO_SITE}:{O_TERMS_UNMAPPED}")
    assert words.exit_code == 0, words.output
    assert f"Replayed 1 order of {DEMO_SITE}" in words.stdout and "invalid" in words.stdout
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(SalesOrder.inbound_order_id == oid)) == 1
    # and --state without --site, or both ways at once, is a usage error
    assert bobbin("orders", "replay", "--state", "invalid").exit_code == 2
    assert bobbin("orders", "replay", "1", "--site", DEMO_SITE).exit_code == 2


# --- "exported" again, a bounded number of times ------------------------------------------------------


def _put_back_in_export(sandbox: Any, partner_id: str) -> None:
    """A person (or the partner) sets the order back to "export" on Brandboom."""
    [order] = [o for o in sandbox.orders() if str(o["id"]) == partner_id]
    sandbox.add_orders({**order, "status": "export"})


def test_an_imported_order_listed_again_is_told_exported_again_once_per_sighting_and_at_most_three_times(
    demo_site: int, sandbox: Any, world: demo.DemoWorld
) -> None:
    from services.holding import EXPORTED_SENDS
    from services.pipeline import import_site_orders
    from services.writeback import flush

    ok_json(bobbin("import", DEMO_SITE, "--here", "--json"))  # imports and sends "exported"
    pid = str(min(world.valid_order_ids()))
    oid = held_ids()[pid]
    assert exported_sends(sandbox, pid) == 1

    # When Brandboom lists the imported order as waiting again
    _put_back_in_export(sandbox, pid)
    first = import_site_orders(demo_site)

    # Then the run queues "exported" for it once more (one outbox row still), not a new import
    assert first["exported_again"] == 1 and first["imported"] == 0
    with session_scope() as s:
        row = s.scalars(select(OutboxEntry).where(OutboxEntry.inbound_order_id == oid)).one()
        assert (row.status, row.state) == ("exported", "pending")
    # and a second run before it is sent queues nothing more
    second = import_site_orders(demo_site)
    assert "exported_again" not in second
    flush(site_id=demo_site)
    assert exported_sends(sandbox, pid) == 2
    # and once Brandboom took it, the next runs do not see it: nothing is sent again
    import_site_orders(demo_site)
    flush(site_id=demo_site)
    assert exported_sends(sandbox, pid) == 2

    # When Brandboom keeps putting it back: "exported" goes at most EXPORTED_SENDS times in all
    for _ in range(5):
        _put_back_in_export(sandbox, pid)
        import_site_orders(demo_site)
        flush(site_id=demo_site)
    assert exported_sends(sandbox, pid) == EXPORTED_SENDS == 3

    # Then a person is told once, as a warning on the order, and the ERP order is the one it was
    with session_scope() as s:
        warnings = s.scalars(
            select(OrderError).where(OrderError.order_id == oid, OrderError.code == "exported_not_taken")
        ).all()
        assert len(warnings) == 1 and warnings[0].severity == "warning" and warnings[0].resolved_at is None
        assert 'after Bobbin sent "exported" 3 times' in warnings[0].message
        assert s.scalar(select(func.count()).where(SalesOrder.inbound_order_id == oid)) == 1
        assert s.scalar(select(func.count()).where(OutboxEntry.inbound_order_id == oid)) == 1
    shown = bobbin("orders", "show", f"{DEMO_SITE}:{pid}")
    assert shown.exit_code == 0 and "exported_not_taken" in shown.stdout
    # and the next error e-mail carries it
    from services.notify import new_errors_report

    with session_scope() as s:
        report = new_errors_report(s, demo_site)
    assert report is not None
    [mailed] = [o for o in report.orders if o.order_id == oid]
    assert [p.code for p in mailed.problems] == ["exported_not_taken"]


def test_dry_run_of_a_joor_site_marks_nothing_exported_there(joor_site: int, joor_sandbox: Any) -> None:
    from bobbin.demo_joor import JOOR_BROKEN_ORDERS, JOOR_EXPECTED_STATE, joor_expected_errors
    from bobbin.demo_sites import JOOR_DEMO_SITE

    exported_before = {str(o["order_id"]): o["export_status"] for o in joor_sandbox.orders()}
    rows_before = row_counts()

    # When a person looks at the JOOR site before importing (JOOR marks what a sync=1 read returns)
    preview = ok_json(bobbin("import", JOOR_DEMO_SITE, "--dry-run", "--json"))

    # Then JOOR marked nothing exported and nothing was written here
    assert joor_sandbox.export_marks() == []
    assert {str(o["order_id"]): o["export_status"] for o in joor_sandbox.orders()} == exported_before
    assert row_counts() == rows_before
    # and each broken order shows the problems and the state an import would give it
    by_id = {int(o["partner_order_id"]): o for o in preview["orders"]}
    expected = joor_expected_errors(demo.build_world())
    for pid in JOOR_BROKEN_ORDERS:
        assert by_id[pid]["state"] == JOOR_EXPECTED_STATE[pid], pid
        assert sorted(p["code"] for p in by_id[pid]["problems"]) == sorted(e.code for e in expected[pid]), pid
