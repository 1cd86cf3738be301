"""Order import for one site: fetch, stage, validate, import — the work behind
``tasks.orders.import_orders``, callable without Celery.

Exactly-once comes from the data, not from the task running once: every page is committed to the
holding area (unique on site + partner order id) before the next page is asked for; validation is
a diff of problems; an import is one transaction guarded by a unique key; the "exported" status
goes back through the outbox after the import committed. Running this twice, or after a worker
died half-way, converges on the same rows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from connectors.base import CursorSource
from connectors.drift import DriftCounter
from core.db import connection_lost, new_session, session_scope
from core.locks import advisory_lock, site_lock_name, writeback_hold
from models import InboundOrder, OrderCursor
from services import masterdata
from services.context import SiteContext
from services.erp_import import ImportResult, import_batch, import_order, write_imports
from services.holding import (
    OPEN_STATES,
    VALIDATE_BATCH,
    StageResult,
    ValidateResult,
    note_modified,
    note_still_listed,
    open_order_ids,
    stage_page,
    validate_orders,
    validate_staged,
)
from services.outbox import queue_exported
from services.prefetch import prefetched
from services.runs import recorded_run
from services.sites import open_site

log = structlog.get_logger()


def import_site_orders(site_id: int, *, celery_task_id: str | None = None) -> dict[str, Any]:
    """Fetch every order waiting on the partner, then validate and import. Returns the run's counts."""
    with advisory_lock(site_lock_name("import_orders", site_id)) as got:
        if not got:
            log.info("import_skipped_busy", site=site_id)
            return {"site_id": site_id, "skipped": "another import of this site is running"}
        with recorded_run("import_orders", site_id, celery_task_id, holds_lock=True) as run:
            with session_scope() as s:
                ctx = open_site(s, site_id)  # the site, its settings and its partner, for the whole run
                if not ctx.site.active:
                    run.outcome = "skipped"
                    return {"site_id": site_id, "skipped": "site is inactive"}
            counts = run.counts
            counts.update(fetched=0, new=0, changed=0, pages=0, modified=0)
            with session_scope() as s:
                md = masterdata.load(s, site_id)  # once for the run, kept current as it goes
            # Orders held from earlier runs first (oldest first, as a duplicate PO goes to the oldest).
            totals = Counter(validate_and_import(ctx, md=md))
            orders = ctx.spec.capability("orders")
            source = ctx.open("orders")
            drift = DriftCounter(orders.payload)  # fed in the prefetch thread only
            read_from = datetime.now(UTC)  # when the lists began to be read: set again once the hold is taken

            def staged_pages() -> Iterator[StageResult]:
                for page in source.iter_order_pages():
                    for order in page:
                        drift.add(order.raw)
                    with session_scope() as s:  # committed before anything is done with it
                        staged = stage_page(s, site_id, page)
                        # Where the partner is told at staging: only once it is safe here.
                        queue_exported(s, ctx, staged.all_ids, "staged")
                        # Imported orders the partner still lists: "exported" once more, a bounded number of times.
                        note_still_listed(s, ctx, staged, read_from)
                    yield staged

            modified_ids: list[int] = []
            try:
                # No writeback of this site leaves while its lists are read: each would take an
                # order off the list under the reader (connectors/paging.py). Queued ones go out
                # with the flush the task sends when the run ends.
                with writeback_hold(site_id) as held:
                    read_from = datetime.now(UTC)
                    if not held:
                        log.warning(
                            "writeback_hold_waited_out",
                            site=site_id,
                            note="sends in flight did not finish; reading anyway, the paging check watches",
                        )
                    # Pages are read and staged (each committed before it is used) one ahead, in a
                    # thread, while the page before is validated and imported: the partner's time,
                    # the staging writes and the import's writes overlap.
                    cursor = _start_cursor(source, site_id)
                    with prefetched(staged_pages()) as pages:  # on an error here, the thread stops first
                        for staged in pages:
                            counts["pages"] += 1
                            counts["fetched"] += staged.seen
                            counts["new"] += staged.new
                            counts["changed"] += staged.changed
                            if staged.exported_again or staged.not_taken:
                                counts["exported_again"] = counts.get("exported_again", 0) + staged.exported_again
                                counts["exported_not_taken"] = counts.get("exported_not_taken", 0) + staged.not_taken
                                totals["new_errors"] += staged.not_taken  # the warning goes in the error e-mail
                            totals.update(validate_and_import_staged(ctx, staged.fresh, md, staged.new_ids))
                    if cursor is not None:  # every page up to it is held: the next read starts there
                        _move_cursor(cursor, site_id, source.read_report.complete)
                    for page in source.iter_modified_pages():
                        with session_scope() as s:
                            modified = note_modified(s, site_id, page)
                            queue_exported(s, ctx, modified.all_ids, "modified")
                        counts["modified"] += modified.seen
                        modified_ids += modified.ids
            finally:
                source.close()
            report, read_note = source.read_report, source.read_report.sentence()
            counts.update(report.as_counts())
            counts.update(drift.summary())
            if counts.get("drift"):
                log.warning("payload_drift", site=site_id, warnings=counts["drift"])
            if read_note:  # the list shifted under the read
                counts["read_note"] = read_note
                if report.complete:
                    log.info("import_list_shifted", site=site_id, note=read_note, **report.as_counts())
                else:  # not "ok": the silent-site alarm and `bobbin status` see it
                    run.outcome, run.note = "incomplete", read_note
                    log.warning("import_read_incomplete", site=site_id, note=read_note, **report.as_counts())
            if modified_ids:
                totals.update(validate_and_import(ctx, modified_ids, md=md))
            counts.update({k: totals[k] for k in SUMMARY_KEYS})
            return {"site_id": site_id, "run_id": run.id, **counts}


# A source read by last-modified time reads from its cursor less this much again: an order the
# partner changed just before the last read ended may show up in its list a little late.
CURSOR_OVERLAP = timedelta(minutes=5)


def _start_cursor(source: Any, site_id: int) -> CursorSource | None:
    """Give a source read by last-modified time (``connectors.base.CursorSource``) its cursor."""
    if not isinstance(source, CursorSource):
        return None
    with session_scope() as s:
        row = s.get(OrderCursor, site_id)
        source.start_from(row.modified_since - CURSOR_OVERLAP if row is not None else None)
    return source


def _move_cursor(source: CursorSource, site_id: int, complete: bool) -> None:
    through = source.read_through
    if through is None or not complete:
        return
    with session_scope() as s:
        s.execute(
            pg_insert(OrderCursor)
            .values(site_id=site_id, modified_since=through)
            .on_conflict_do_update(
                index_elements=[OrderCursor.site_id],
                set_={"modified_since": through, "updated_at": func.now()},
                where=OrderCursor.modified_since < through,
            )
        )


SUMMARY_KEYS = ("validated", "valid", "invalid", "duplicate", "imported", "new_errors", "resolved_errors")


def validate_and_import(
    site: SiteContext | int,
    order_ids: list[int] | None = None,
    *,
    allow_duplicate: bool = False,
    md: masterdata.MasterData | None = None,
) -> dict[str, Any]:
    """Validate the site's open orders (or some) with master data loaded once, a bounded batch
    at a time, and import each batch's valid orders right after it (memory stays flat). ``site``:
    the run's context, or a site id for a caller that has none (a context is then built)."""
    with session_scope() as s:
        ctx = site if isinstance(site, SiteContext) else open_site(s, site)
        if md is None:
            md = masterdata.load(s, ctx.id)
        ids = open_order_ids(s, ctx.id, order_ids)
    totals: Counter[str] = Counter()
    for start in range(0, len(ids), VALIDATE_BATCH):
        with session_scope() as s:
            v = validate_orders(s, ctx, ids[start : start + VALIDATE_BATCH], md)
        _count(totals, v, import_checked(ctx, v.checked, md))
    if allow_duplicate and order_ids:
        totals["imported"] += sum(r.imported for r in import_orders(order_ids, md, allow_duplicate=True, ctx=ctx))
    return {k: totals[k] for k in SUMMARY_KEYS}


def validate_and_import_staged(
    ctx: SiteContext, fresh: dict[int, Any], md: masterdata.MasterData, new_ids: Collection[int] = ()
) -> Counter[str]:
    """Validate and import a page's new and changed orders as they were mapped from the page
    (``new_ids``: those just inserted, see ``services.holding.validate_staged``)."""
    totals: Counter[str] = Counter()
    if fresh:
        with session_scope() as s:  # validated and imported in one transaction (validate_staged)
            v = validate_staged(
                s,
                ctx,
                fresh,
                md,
                then_import=lambda session, checked: write_imports(session, ctx, checked),
                new_ids=new_ids,
            )
        if v.imported is None:  # the batch failed and was rolled back alone: one by one, each saying why
            if v.checked:
                log.warning("import_batch_failed_falling_back", orders=len(v.checked), error=v.import_error)
            imported = import_orders(sorted(v.checked), md, ctx=ctx) if v.checked else []
        else:
            imported = v.imported
            _log_imported(imported)
        _count(totals, v, imported)
    return totals


def _count(totals: Counter[str], v: ValidateResult, imported: list[ImportResult]) -> None:
    totals.update(v.states)
    totals.update(
        validated=v.validated,
        new_errors=v.new_problems,
        resolved_errors=v.resolved_problems,
        imported=sum(r.imported for r in imported),
    )


def import_checked(ctx: SiteContext, checked: dict[int, Any], md: masterdata.MasterData) -> list[ImportResult]:
    """Import a batch of just-checked valid orders in one transaction; if the batch fails (a row
    changed under us, a constraint), import its orders one by one so one cannot block the rest."""
    if not checked:
        return []
    session = new_session()
    try:
        results = import_batch(session, ctx, checked)
        session.commit()
    except Exception as exc:
        session.rollback()
        if connection_lost(exc):
            raise  # Postgres went away: one by one would fail the same way; the task is retried
        log.warning("import_batch_failed_falling_back", orders=len(checked), exc_info=True)
        return import_orders(sorted(checked), md, ctx=ctx)
    finally:
        session.close()
    _log_imported(results)
    return results


def _log_imported(results: list[ImportResult]) -> None:
    done = {r.order_id: r.sales_order for r in results if r.imported}
    if done:  # one line per batch (a line per order cost 4 % of a large import), each order in it
        log.info("orders_imported", count=len(done), orders=done)


def import_orders(
    order_ids: list[int],
    md: masterdata.MasterData,
    *,
    allow_duplicate: bool = False,
    ctx: SiteContext | None = None,
) -> list[ImportResult]:
    results = []
    for oid in order_ids:
        session = new_session()
        try:
            result = import_order(session, oid, md, allow_duplicate=allow_duplicate, ctx=ctx)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("order_import_failed", order_id=oid)
            result = ImportResult(oid, False, "import failed; see the worker log")
        finally:
            session.close()
        results.append(result)
        if result.imported:
            log.info("order_imported", order_id=oid, sales_order=result.sales_order)
    return results


def revalidate_site(
    site_id: int, order_ids: list[int] | None = None, *, allow_duplicate: bool = False, wait: float = 60.0
) -> dict[str, Any]:
    """Validate (and import) under the site's import lock, waiting up to ``wait`` seconds for a
    running import to finish, so a fix and an import never validate the same orders at once."""
    deadline = time.monotonic() + wait
    while True:
        with advisory_lock(site_lock_name("import_orders", site_id)) as got:
            if got:
                return validate_and_import(site_id, order_ids, allow_duplicate=allow_duplicate)
        if time.monotonic() >= deadline:
            return {"skipped": "an import of this site is still running; it re-validates with the change"}
        time.sleep(0.5)


def revalidate_open_orders(site_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """After master data changed: validate again every open order it could fix, site by site."""
    with session_scope() as s:
        query = select(InboundOrder.site_id).where(InboundOrder.state.in_(OPEN_STATES)).distinct()
        if site_ids is not None:
            query = query.where(InboundOrder.site_id.in_(site_ids))
        sites = list(s.scalars(query))
    return {sid: revalidate_site(sid) for sid in sites}
