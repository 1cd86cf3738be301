"""Status writeback tasks: mark orders on the partner, and the scheduled outbox flush."""

from __future__ import annotations

from typing import Any

from core.db import session_scope
from services import writeback
from worker import app


# pauses_before_waiting=0: a writeback meeting a partner's rate limit waits it out (the writebacks
# queue has workers of its own, so no import waits behind it); services/writeback counts a
# RateLimited raised to it as a failed attempt, which a pause would turn into spent attempts.
@app.task(name="tasks.status.mark_orders", pauses_before_waiting=0)
def mark_orders(order_ids: list[int], status: str) -> dict[str, Any]:
    """Mark held orders exported / shipped / paid / void, in the ERP and on the partner."""
    with session_scope() as s:
        result = writeback.mark(s, [int(i) for i in order_ids], status)
    flushed = writeback.flush()
    _follow_up(flushed)
    return {"queued": result.queued, "skipped": {str(k): v for k, v in result.skipped.items()}, **flushed.as_dict()}


@app.task(name="tasks.status.flush_outbox", pauses_before_waiting=0)
def flush_outbox(site_id: int | None = None) -> dict[str, Any]:
    """Send the writebacks that are due, until none is left; after ``FLUSH_BUDGET_SECONDS`` the
    task hands the rest to a copy of itself. Failures wait with backoff, or give up and show in
    status."""
    site = None if site_id is None else int(site_id)
    result = writeback.flush(site_id=site)
    _follow_up(result, site)
    return result.as_dict()


def _follow_up(result: writeback.FlushResult, site_id: int | None = None) -> None:
    """What a flush leaves to other tasks: the rest of a long outbox, and the e-mail of a site
    whose partner answered a write for another order (the held row's problem, with the answer)."""
    if result.more:
        flush_outbox.delay(site_id)
    for violated in sorted(result.violation_sites):
        app.send_task("tasks.notify.send_error_report", args=[violated])
