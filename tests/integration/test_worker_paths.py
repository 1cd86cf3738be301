"""Task paths that only ran in-process until now, run here the way production runs them: through
real ``celery -A worker worker`` processes on the test Redis and Postgres, against the partner
sandboxes over HTTP, with every e-mail received by a real SMTP server (aiosmtpd).

- the reconciler re-enqueues the import of a site with an abandoned run and of a site with orders
  stuck before import, and a worker runs those imports;
- the daily digests (``tasks.notify.send_digests``) and the JOOR error report reach the contacts;
- ``tasks.orders.import_order`` / ``import_valid`` import held orders a fix made valid, and the
  "exported" writeback reaches the sandbox;
- the silent-site alarm is mailed once by the reconciler running on a worker;
- an import and a scheduled flush run at the same time on two workers: nothing of the site is
  sent while its import reads the partner's list, and after the one run every order is held once
  and told "exported" once.

Expected values come from what each test puts in (the demo world's definition of its orders, the
orders the test adds, the sandbox's own records), never from running the code under test again.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bobbin.demo import (
    BROKEN_ORDERS,
    EXPECTED_STATE,
    O_SHIP_VIA_UNMAPPED,
    O_TERMS_UNMAPPED,
    UNMAPPED_SHIPPING,
    UNMAPPED_TERMS,
    build_world,
    make_order,
)
from core.db import session_scope
from models import ErrorReport, InboundOrder, OrderError, OutboxEntry, SalesOrder, Site, SyncRun
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

CONTACT = "orders@harborandpine.example"  # the demo sites' notify address (bobbin/demo_sites.py)
IMPORT_TASK = "import_orders"  # sync_run.task of an order import


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture()
def bb_site(db: str, sandbox: Any) -> int:
    """The Brandboom demo site (ERP data, mappings) pointing at ``sandbox``: its id."""
    from bobbin.demo_sites import DEMO_SITE, load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == DEMO_SITE)))


def held(site_id: int) -> Counter[str]:
    """Partner order id -> how many holding-area rows the site has for it."""
    with session_scope() as s:
        return Counter(s.scalars(select(InboundOrder.partner_order_id).where(InboundOrder.site_id == site_id)))


def order_row(site_id: int, partner_id: int | str) -> InboundOrder:
    with session_scope() as s:
        row = s.scalar(
            select(InboundOrder).where(
                InboundOrder.site_id == site_id, InboundOrder.partner_order_id == str(partner_id)
            )
        )
        assert row is not None, f"order {partner_id} is not held"
        return row


def sales_orders_of(inbound_id: int) -> list[SalesOrder]:
    with session_scope() as s:
        return list(s.scalars(select(SalesOrder).where(SalesOrder.inbound_order_id == inbound_id)))


def finished_imports(site_id: int) -> list[SyncRun]:
    with session_scope() as s:
        return list(
            s.scalars(
                select(SyncRun).where(
                    SyncRun.site_id == site_id,
                    SyncRun.task == IMPORT_TASK,
                    SyncRun.outcome == "ok",
                    SyncRun.finished_at.is_not(None),
                )
            )
        )


def exported(sandbox: Any) -> Counter[str]:
    """Brandboom order id -> how many "exported" status changes the sandbox accepted for it."""
    return Counter(str(c["order_id"]) for c in sandbox.status_changes() if c["status"] == "exported")


def plain_text(msg: Message) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")


def n_of(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else word + 's'}"


def stage_unimported(site_id: int, kind: str, payloads: list[dict[str, Any]]) -> list[int]:
    """Hold partner orders the way an import's first step does (staged, committed), and stop there:
    no validation, no import. Returns their holding-area ids."""
    from connectors.registry import partner
    from services.holding import stage_page

    mapper = partner(kind).capability("orders").to_partner_order
    with session_scope() as s:
        staged = stage_page(s, site_id, [mapper(p) for p in payloads])
    return staged.all_ids


# --- the reconciler re-enqueues stuck imports, and a worker runs them ------------------------------


def test_reconcile_on_a_worker_reimports_a_site_with_an_abandoned_run_and_one_with_stuck_orders(
    bb_site: int, joor_site: int, sandbox: Any, joor_sandbox: Any, start_worker: Any, celery_app: Any
) -> None:
    from bobbin.demo_joor import JOOR_OTHER_ORDERS, make_joor_order
    from core.settings import get_settings
    from services.runs import ABANDONED

    world = build_world()
    now = datetime.now(UTC)
    # Given the Brandboom site has an import run still "running" whose worker vanished 10 minutes ago
    # (nobody holds its site lock)
    with session_scope() as s:
        abandoned = SyncRun(
            task=IMPORT_TASK, site_id=bb_site, outcome="running", started_at=now - timedelta(minutes=10)
        )
        s.add(abandoned)
        s.flush()
        abandoned_id = abandoned.id
    # And the JOOR site holds three orders that were staged but never validated nor imported, last
    # seen three import intervals ago (a worker died after staging them)
    stuck_ids = [4810001, 4810002, 4810003]
    joor_sandbox.add_orders([make_joor_order(world, id=i) for i in stuck_ids])
    rendered = [o for o in joor_sandbox.orders() if int(o["order_id"]) in stuck_ids]
    stuck = stage_unimported(joor_site, "joor", rendered)
    interval = get_settings().import_interval_minutes
    with session_scope() as s:
        s.execute(
            update(InboundOrder)
            .where(InboundOrder.id.in_(stuck))
            .values(last_seen_at=now - timedelta(minutes=3 * interval))
        )
    # And what each partner has waiting, read from the sandboxes before anything runs
    bb_waiting = {str(o["id"]) for o in sandbox.orders() if o["status"] == "export"}
    joor_waiting = {
        str(o["order_id"])
        for o in joor_sandbox.orders()
        if o["export_status"] == "NOT_EXPORTED" and int(o["order_id"]) not in JOOR_OTHER_ORDERS
    }
    assert {str(i) for i in stuck_ids} <= joor_waiting
    start_worker()

    # When beat's reconciler runs on the worker
    result = celery_app.send_task("tasks.maintenance.reconcile").get(timeout=120)

    # Then it closed the abandoned run and re-enqueued both sites' imports, and raised no alarm
    assert result["abandoned_runs"] == 1
    assert result["reimport_sites"] == sorted([bb_site, joor_site])
    assert result["alarms"] == [] and result["alarms_mailed"] == []
    with session_scope() as s:
        closed = s.get(SyncRun, abandoned_id)
        assert closed is not None and (closed.outcome, closed.error) == ("failed", ABANDONED)
    # And the worker actually ran both imports as tasks (each run carries its Celery task id)
    runs = wait_until(
        lambda: (
            (finished_imports(bb_site), finished_imports(joor_site))
            if finished_imports(bb_site) and finished_imports(joor_site)
            else None
        ),
        timeout=180,
        interval=0.5,
        what="the re-enqueued imports to finish on the worker",
    )
    for site_runs in runs:
        assert len(site_runs) == 1 and site_runs[0].celery_task_id
    # And every order waiting on each partner is held exactly once
    bb_held, joor_held = held(bb_site), held(joor_site)
    assert set(bb_held) == bb_waiting and set(bb_held.values()) == {1}
    assert set(joor_held) == joor_waiting and set(joor_held.values()) == {1}
    # And the stuck orders were validated and imported: one ERP sales order each
    for partner_id in stuck_ids:
        order = order_row(joor_site, partner_id)
        assert order.state == "imported", (partner_id, order.state)
        [so] = sales_orders_of(order.id)
        assert so.po_number == f"JT-{partner_id}" and so.site_id == joor_site


# --- digests and the JOOR error report, over SMTP -----------------------------------------------------


def test_joor_error_report_and_daily_digests_through_a_worker_reach_smtp(
    bb_site: int, joor_site: int, sandbox: Any, joor_sandbox: Any, smtp: Any, start_worker: Any, celery_app: Any
) -> None:
    from bobbin.demo_joor import JOOR_BROKEN_ORDERS, JOOR_EXPECTED_STATE, UNMAPPED_PAYMENT, joor_expected_errors
    from sandbox.keys import DEMO_JOOR_TOKEN
    from services.pipeline import import_site_orders

    world = build_world()
    joor_expected = joor_expected_errors(world)
    # Given the Brandboom site's orders are held with their problems (an import ran; no mail yet)
    import_site_orders(bb_site)
    # And a paused site with an open problem of its own
    with session_scope() as s:
        paused = Site(
            name="paused-bb",
            kind="brandboom",
            base_url="http://127.0.0.1:9/api/v2",
            credentials_encrypted="x",
            notify_emails=["paused@x.example"],
            active=False,
        )
        s.add(paused)
        s.flush()
        order = InboundOrder(
            site_id=paused.id,
            partner_order_id="P-1",
            raw={"id": "P-1"},
            raw_hash="0" * 64,
            state="invalid",
        )
        s.add(order)
        s.flush()
        s.add(OrderError(order_id=order.id, code="terms_unmapped", message="Paused site's problem."))
        paused_id = paused.id
    start_worker()

    # When the JOOR site is imported by a worker
    celery_app.send_task("tasks.orders.import_orders", args=[joor_site]).get(timeout=180)

    # Then its contacts get one error report listing each problem order with what to do
    [report] = smtp.wait_for(1, timeout=120)
    n_orders, n_problems = len(joor_expected), sum(len(v) for v in joor_expected.values())
    assert report["Subject"] == (
        f'[Bobbin] JOOR "joor-demo": {n_of(n_orders, "order")} need attention ({n_of(n_problems, "new problem")})'
    )
    assert report["To"] == CONTACT
    text = plain_text(report)
    for partner_id in joor_expected:
        order = order_row(joor_site, partner_id)
        assert f"Order {order.id} - JOOR order {partner_id} - {order.state}" in text, partner_id
    assert f'`bobbin map terms joor-demo "{UNMAPPED_PAYMENT[0]}" TERMS_CODE`' in text
    assert any(p.get_content_type() == "text/html" for p in report.walk())
    assert DEMO_JOOR_TOKEN not in report.as_string()

    # When beat's daily digest task runs on the worker
    digests = celery_app.send_task("tasks.notify.send_digests").get(timeout=60)

    # Then one digest is enqueued per active site (not the paused one), and each arrives over SMTP
    assert sorted(digests["sites"]) == sorted([bb_site, joor_site]) and paused_id not in digests["sites"]
    messages = smtp.wait_for(3, timeout=120)
    wait_until(lambda: _reports("digest") == 2, timeout=60, what="both digests recorded")
    by_subject = {m["Subject"]: m for m in messages[1:]}
    assert len(messages) == 3 and len(by_subject) == 2

    # And the Brandboom digest lists the orders still open (invalid, duplicate), never the imported ones
    bb_open = [pid for pid in BROKEN_ORDERS if EXPECTED_STATE[pid] != "valid"]
    bb_problems = sum(len(world.expected_errors[pid]) for pid in bb_open)
    bb_subject = (
        f'[Bobbin] Brandboom "brandboom-demo" daily digest: {n_of(len(bb_open), "order")} still need '
        f"attention ({n_of(bb_problems, 'open problem')})"
    )
    assert bb_subject in by_subject, list(by_subject)
    bb_text = plain_text(by_subject[bb_subject])
    for pid in bb_open:
        assert f"Brandboom order {pid} - " in bb_text, pid
    for pid in set(BROKEN_ORDERS) - set(bb_open):
        assert f"Brandboom order {pid} - " not in bb_text, pid
    assert "Last import: ok" in bb_text and "JOOR order" not in bb_text and "Paused site's problem" not in bb_text

    # And the JOOR digest likewise, in JOOR's words
    joor_open = [pid for pid in JOOR_BROKEN_ORDERS if JOOR_EXPECTED_STATE[pid] != "valid"]
    joor_problems = sum(len(joor_expected[pid]) for pid in joor_open)
    joor_subject = (
        f'[Bobbin] JOOR "joor-demo" daily digest: {n_of(len(joor_open), "order")} still need '
        f"attention ({n_of(joor_problems, 'open problem')})"
    )
    assert joor_subject in by_subject, list(by_subject)
    joor_text = plain_text(by_subject[joor_subject])
    for pid in joor_open:
        assert f"JOOR order {pid} - " in joor_text, pid
    for pid in set(JOOR_BROKEN_ORDERS) - set(joor_open):
        assert f"JOOR order {pid} - " not in joor_text, pid
    assert "Last import: ok" in joor_text and "Brandboom order" not in joor_text
    assert all(m["To"] == CONTACT for m in by_subject.values())


def _reports(kind: str) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(ErrorReport).where(ErrorReport.kind == kind)) or 0)


# --- import_order and import_valid through a worker -------------------------------------------------


def test_import_order_and_import_valid_through_a_worker_import_and_send_exported(
    bb_site: int, sandbox: Any, start_worker: Any, celery_app: Any
) -> None:
    from services import masterdata
    from services.fixes import upsert_mapping
    from services.holding import validate_orders
    from services.pipeline import import_site_orders
    from services.sites import open_site

    world = build_world()
    # Given the site's orders are held: the one with unmapped terms is invalid
    import_site_orders(bb_site)
    terms_order = order_row(bb_site, O_TERMS_UNMAPPED)
    assert terms_order.state == "invalid"
    # And a person maps those terms in the database (no re-validation ran)
    with session_scope() as s:
        upsert_mapping(s, bb_site, "terms", UNMAPPED_TERMS, "N60", "manual")
    assert order_row(bb_site, O_TERMS_UNMAPPED).state == "invalid"
    start_worker()

    # When the order is imported by the task
    summary = celery_app.send_task("tasks.orders.import_order", args=[terms_order.id]).get(timeout=120)

    # Then it is validated again and imported as one ERP sales order with the mapped terms
    assert summary["imported"] == 1
    assert order_row(bb_site, O_TERMS_UNMAPPED).state == "imported"
    [so] = sales_orders_of(terms_order.id)
    assert so.terms_code == "N60" and so.site_id == bb_site
    # And the flush the task started tells Brandboom "exported", once
    wait_until(lambda: exported(sandbox)[str(O_TERMS_UNMAPPED)], timeout=120, what="exported sent for the fixed order")
    assert exported(sandbox)[str(O_TERMS_UNMAPPED)] == 1

    # Given an order validated but never imported (an import stopped between the two) ...
    new_id = 390001
    new_order = make_order(world, id=new_id)
    sandbox.add_orders([new_order])
    [new_inbound] = stage_unimported(bb_site, "brandboom", [new_order])
    with session_scope() as s:
        ctx = open_site(s, bb_site)
        validate_orders(s, ctx, [new_inbound], masterdata.load(s, bb_site))
    assert order_row(bb_site, new_id).state == "valid" and sales_orders_of(new_inbound) == []
    # ... and an invalid one whose shipping method a person mapped in the database
    ship_order = order_row(bb_site, O_SHIP_VIA_UNMAPPED)
    assert ship_order.state == "invalid"
    with session_scope() as s:
        upsert_mapping(s, bb_site, "ship_via", UNMAPPED_SHIPPING, "UPSG", "manual")

    # When every valid held order is imported by the task
    summary = celery_app.send_task("tasks.orders.import_valid").get(timeout=120)

    # Then both are imported, each as one ERP sales order
    assert summary["imported"] == 2
    for partner_id, inbound_id in ((new_id, new_inbound), (O_SHIP_VIA_UNMAPPED, ship_order.id)):
        assert order_row(bb_site, partner_id).state == "imported"
        assert len(sales_orders_of(inbound_id)) == 1
    assert sales_orders_of(ship_order.id)[0].ship_via_code == "UPSG"
    assert sales_orders_of(new_inbound)[0].po_number == f"T-{new_id}"
    # And "exported" reaches Brandboom for both; every imported order is told exactly once
    wait_until(
        lambda: exported(sandbox)[str(new_id)] and exported(sandbox)[str(O_SHIP_VIA_UNMAPPED)],
        timeout=120,
        what="exported sent for both orders",
    )
    imported_ids = world.valid_order_ids() | {O_TERMS_UNMAPPED, O_SHIP_VIA_UNMAPPED, new_id}
    wait_until(
        lambda: set(exported(sandbox)) == {str(i) for i in imported_ids},
        timeout=120,
        what="every imported order marked exported",
    )
    assert set(exported(sandbox).values()) == {1}


# --- the silent-site alarm through a worker ---------------------------------------------------------


def test_a_silent_site_alarm_is_mailed_once_by_the_reconciler_on_a_worker(
    bb_site: int, smtp: Any, start_worker: Any, celery_app: Any
) -> None:
    from core.settings import get_settings

    settings = get_settings()
    interval = settings.import_interval_minutes
    silent_intervals = settings.alarm_after_intervals + 2
    now = datetime.now(UTC)
    last_ok = now - timedelta(minutes=interval * silent_intervals + interval / 2)
    # Given the site's last successful import finished more than ALARM_AFTER_INTERVALS intervals ago,
    # and its latest attempt failed
    with session_scope() as s:
        s.execute(update(Site).where(Site.id == bb_site).values(created_at=last_ok - timedelta(days=1)))
        s.add(
            SyncRun(
                task=IMPORT_TASK,
                site_id=bb_site,
                outcome="ok",
                started_at=last_ok - timedelta(minutes=1),
                finished_at=last_ok,
            )
        )
        s.add(
            SyncRun(
                task=IMPORT_TASK,
                site_id=bb_site,
                outcome="failed",
                started_at=now - timedelta(minutes=3),
                finished_at=now - timedelta(minutes=2),
                error="AuthError: Permission Denied\nmore detail",
            )
        )
    start_worker()

    # When the reconciler runs on the worker, twice (as beat runs it every few minutes)
    first = celery_app.send_task("tasks.maintenance.reconcile").get(timeout=120)
    second = celery_app.send_task("tasks.maintenance.reconcile").get(timeout=120)

    # Then the first raises the alarm and mails it; the second raises it again but mails nothing
    assert first["alarms_mailed"] == [bb_site] and second["alarms_mailed"] == []
    assert len(first["alarms"]) == len(second["alarms"]) == 1
    assert first["alarms"][0].startswith("site brandboom-demo has not imported successfully since")
    assert first["reimport_sites"] == [] and second["reimport_sites"] == []
    # And exactly one alarm e-mail arrived over SMTP, saying since when and what failed last
    [mail] = smtp.wait_for(1, timeout=60)
    assert len(smtp.messages) == 1
    # (on one header line, as the error reports: core.mail.HEADER_POLICY; the partner by its name)
    assert mail["Subject"] == '[Bobbin] ALARM: Brandboom site "brandboom-demo" has stopped importing orders'
    assert mail["To"] == CONTACT
    body = plain_text(mail)
    assert f"since {last_ok.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in body
    assert f"{silent_intervals} import intervals" in body
    assert "The last attempt failed with:\n  AuthError: Permission Denied" in body
    with session_scope() as s:
        assert s.scalars(select(ErrorReport.kind).where(ErrorReport.site_id == bb_site)).all() == ["alarm"]


# --- an import and a scheduled flush at the same time, on two workers ----------------------------------


class ListWatch:
    """Wraps the Brandboom sandbox's request handler: records, in arrival order, each read of the
    order list and each status change, and at the ``trigger``-th list read — while the import is
    reading, holding the site's writebacks — runs the scheduled flush on another worker and answers
    that page only once the flush has finished."""

    LISTING = re.compile(r"/orders/search/?$")
    STATUS = re.compile(r"/orders/[^/]+/?$")

    def __init__(self, sandbox: Any, celery_app: Any, site_id: int, trigger: int) -> None:
        self.sandbox, self.celery_app, self.site_id, self.trigger = sandbox, celery_app, site_id, trigger
        self.original = sandbox.handle
        self.lock = threading.Lock()
        self.events: list[str] = []
        self.listings = 0
        self.pending_before: int | None = None
        self.flush_id: str | None = None
        self.flush_result: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def handle(self, request: Any) -> Any:
        if self.LISTING.search(request.path):
            with self.lock:
                self.listings += 1
                self.events.append("list")
                nth = self.listings
            if nth == self.trigger:
                self._flush_while_reading()
        elif request.method == "POST" and self.STATUS.search(request.path):
            with self.lock:
                self.events.append("status")
        return self.original(request)

    def _flush_while_reading(self) -> None:
        try:
            # the pages read so far have imported orders, whose "exported" rows now wait
            self.pending_before = wait_until(
                lambda: self._pending(), timeout=120, what="exported writebacks queued by the pages read so far"
            )
            result = self.celery_app.send_task("tasks.status.flush_outbox")  # as beat sends it: no site
            self.flush_id = result.id
            self.flush_result = result.get(timeout=120)
        except BaseException as exc:  # reported by the test, not lost in the server's thread
            self.error = exc

    def _pending(self) -> int:
        with session_scope() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.site_id == self.site_id, OutboxEntry.state == "pending")
                )
                or 0
            )


def test_an_import_and_a_scheduled_flush_on_two_workers_send_nothing_while_the_list_is_read(
    bb_site: int, sandbox: Any, start_worker: Any, celery_app: Any
) -> None:
    world = build_world()
    # Given 80 new valid orders wait on Brandboom besides the demo's, read 10 to a page
    added = [make_order(world, id=395000 + i) for i in range(80)]
    sandbox.add_orders(added)
    with session_scope() as s:
        site = s.get_one(Site, bb_site)
        site.settings = {**site.settings, "page_size": 10}
    waiting = {str(o["id"]) for o in sandbox.orders() if o["status"] == "export"}
    to_export = {str(i) for i in world.valid_order_ids()} | {str(o["id"]) for o in added}
    assert to_export <= waiting
    # And two workers, one for the import and one free for the flush
    importer, flusher = start_worker(), start_worker()
    watch = ListWatch(sandbox, celery_app, bb_site, trigger=6)
    sandbox.handle = watch.handle
    try:
        # When the import runs on one worker, and mid-read (6th page) beat's flush runs on the other
        result = celery_app.send_task("tasks.orders.import_orders", args=[bb_site])
        summary = result.get(timeout=180)
        # and the flush the import starts when it ends has sent what it queued
        wait_until(
            lambda: set(exported(sandbox)) >= to_export, timeout=120, what="every imported order marked exported"
        )
    finally:
        sandbox.handle = watch.original
    assert watch.error is None, f"the flush during the read failed: {watch.error!r}"
    assert watch.flush_result is not None and watch.pending_before

    # Then the flush that ran while the list was read sent nothing: it held the site's rows
    assert watch.flush_result["sent"] == 0
    assert watch.flush_result["held"] >= watch.pending_before >= 1
    # And the sandbox saw no status change between the import's first and last list read
    reads = [i for i, e in enumerate(watch.events) if e == "list"]
    sends = [i for i, e in enumerate(watch.events) if e == "status"]
    assert len(reads) > watch.trigger and sends and max(reads) < min(sends)
    # And the two tasks ran in two different worker processes
    logs = {w.name: w.log.read_text() for w in (importer, flusher)}
    ran_import = {name for name, text in logs.items() if result.id in text}
    ran_flush = {name for name, text in logs.items() if watch.flush_id and watch.flush_id in text}
    assert len(ran_import) == 1 and len(ran_flush) == 1 and ran_import != ran_flush, (ran_import, ran_flush)
    # And after that one run every waiting order is held exactly once, read in one pass
    counts = held(bb_site)
    assert set(counts) == waiting and set(counts.values()) == {1}
    assert summary["fetched"] >= len(waiting) and summary["read_passes"] == 1 and summary["pages_shifted"] == 0
    assert summary["read_complete"] is True
    with session_scope() as s:
        assert s.get_one(SyncRun, summary["run_id"]).outcome == "ok"
    # And every imported order was told "exported" exactly once, and no other order was
    sent = exported(sandbox)
    assert set(sent) == to_export and set(sent.values()) == {1}
