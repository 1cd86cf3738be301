"""The Writebacks page (``/writebacks``): the status changes sent back to the partners, per state.

- ``GET /writebacks?site=&state=pending|uncertain|held|dead|sent&page=`` (viewer): the outbox's rows
  in one state (``services.writebacks``), of one site or all, ``PAGE_SIZE`` to a page, the newest
  first, with the count of each state on its tab: the order (``SITE:PARTNER_ORDER_ID``, linked to
  its page), the change, the tries, the last and next try, and the partner's last message — for an
  uncertain or held row, what is not known. A value that cannot be used is said in one line.
- ``POST /writebacks/retry`` (operator): dead rows sent again — one (its own button) or the ticked
  ones — through ``services.writebacks.retry_now``, the service ``bobbin writebacks retry`` calls:
  put back to pending with their tries reset, exactly once, and sent at once by the outbox flush
  of those rows, so the page that follows says what became of each (sent, retrying with the
  partner's message, given up again). Who asked is recorded per row in the same transaction as the
  reset (``services.users.record_action``; the order's history shows it). A row that is not dead is
  refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.db import session_scope
from services import orders as queries
from services import users, writebacks
from services.sites import SiteError, get_site
from services.users import User
from web.console import sessions
from web.console.auth import require, safe_next, visitor
from web.console.changes import LISTED, Done
from web.console.render import plural, render

PAGE_SIZE = writebacks.PAGE_SIZE
STATE_LABELS = {
    "pending": "Pending",
    "uncertain": "Uncertain",
    "held": "Held",
    "dead": "Dead",
    "sent": f"Sent (last {writebacks.SENT_DAYS} days)",
}
STATE_HINTS = {
    "pending": "Waiting for their first try, or for the next one after a failure. The outbox sends them by itself.",
    "uncertain": (
        "A try was made and its outcome is not known (its answer was lost, or its worker stopped). "
        "Before sending one again the outbox asks the partner whether it has the change already."
    ),
    "held": (
        "The partner answered for another record than the order the change named. Nothing is sent until a "
        "person checks the order on the partner; the order's page shows the problem."
    ),
    "dead": (
        "Given up: the partner refused the change, or every try failed. Fix the cause the message names, "
        "then send it again."
    ),
    "sent": f"Sent in the last {writebacks.SENT_DAYS} days, the newest first.",
}


@dataclass
class Query:
    """The list asked for, read from the address (``problem``: why it cannot be used, if so)."""

    site: str = ""
    state: str = "dead"
    page: int = 1
    problem: str | None = None

    def url(self, **change: Any) -> str:
        values: dict[str, Any] = {"site": self.site, "state": self.state, "page": self.page, **change}
        defaults = {"state": "dead", "page": 1}
        params = {k: str(v) for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
        return "/writebacks" + (f"?{urlencode(params)}" if params else "")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def read_query(params: Any) -> Query:
    query = Query(site=str(params.get("site") or "").strip(), state=str(params.get("state") or "dead").strip())
    page = str(params.get("page") or "1").strip()
    if query.state not in writebacks.STATES:
        query.problem = _sentence(f"there is no writeback state {query.state!r}: use {', '.join(writebacks.STATES)}")
        query.state = "dead"
    elif not page.isdigit() or int(page) < 1:
        query.problem = _sentence(f"page {page!r} is not a page number")
    else:
        query.page = int(page)
    return query


def _page_data(query: Query) -> dict[str, Any]:
    with session_scope() as s:
        sites = queries.site_choices(s)
        site_id = None
        if query.site and query.problem is None:
            try:
                site_id = get_site(s, query.site).id
            except SiteError as exc:
                query.problem = _sentence(str(exc))
        if query.problem is not None:
            return {"sites": sites, "page": writebacks.WritebackPage(rows=[], total=0, counts={}), "pages": 1}
        found = writebacks.list_writebacks(
            s, state=query.state, site_id=site_id, limit=PAGE_SIZE, offset=(query.page - 1) * PAGE_SIZE
        )
    return {"sites": sites, "page": found, "pages": max(1, -(-found.total // PAGE_SIZE))}


@require("viewer")
async def writebacks_page(request: Request) -> Response:
    query = read_query(request.query_params)
    data = await run_in_threadpool(_page_data, query)
    first = (query.page - 1) * PAGE_SIZE + 1
    context = {
        "title": "Writebacks",
        "query": query,
        "states": STATE_LABELS,
        "hint": STATE_HINTS[query.state],
        "first": first,
        "last": first + len(data["page"].rows) - 1,
        "here": query.url(),
        **data,
    }
    return render(request, "writebacks.html", context, status_code=400 if query.problem else 200)


# --- sending dead rows again ------------------------------------------------------------------------


def _described(o: writebacks.Outcome) -> str:
    row = o.row
    what = f'{row.id} ("{row.change}" of {row.ref})'
    words = {"sent": "sent", "retrying": "failed again, retrying", "dead": "gave up again", "held": "held"}
    text = f"{what} {words.get(o.result, o.result)}"
    return text + (f" ({o.detail})" if o.detail else "")


def retry_writebacks(user: User, outbox_ids: list[int]) -> Done:
    """Send the dead rows again now (``services.writebacks.retry_now``), recorded with who asked; the
    sentence says what became of each, and why any other was refused."""

    def record(session: Session, rows: list[writebacks.WritebackRow]) -> None:
        for r in rows:
            users.record_action(
                session,
                user,
                "retry_writeback",
                order_id=r.order_id,
                site_id=r.site_id,
                detail={
                    "summary": f'sent "{r.change}" again (it had given up after {plural(r.attempts, "try", "tries")})',
                    "outbox_id": r.id,
                    "last_error": r.last_error,
                },
            )

    try:
        done = writebacks.retry_now(outbox_ids, record=record)
    except writebacks.WritebackError as exc:
        return Done(_sentence(str(exc)), "error")
    parts = []
    if done.outcomes:
        listed = "; ".join(_described(o) for o in done.outcomes[:LISTED])
        more = f" and {len(done.outcomes) - LISTED} more" if len(done.outcomes) > LISTED else ""
        parts.append(f"Sent {plural(len(done.outcomes), 'writeback')} again: {listed}{more}.")
    if done.refused:
        reasons = list(done.refused.values())
        more = f" And {len(reasons) - LISTED} more." if len(reasons) > LISTED else ""
        parts.append("Not sent again: " + " ".join(_sentence(r) for r in reasons[:LISTED]) + more)
    bad = bool(done.refused) or any(o.result in ("dead", "held", "retrying") for o in done.outcomes)
    return Done(
        " ".join(parts),
        "error" if bad else "info",
        sorted({o.row.order_id for o in done.outcomes if o.row.order_id is not None}),
    )


def _selection(form: Any) -> list[int]:
    """The row of the button pressed, else the ticked rows."""
    one = str(form.get("retry") or "").strip()
    if one:
        return [int(one)] if one.isdigit() else []
    return list(dict.fromkeys(int(v) for v in form.getlist("writeback") if str(v).strip().isdigit()))


@require("operator")
async def retry(request: Request) -> Response:
    form = await request.form()
    who = visitor(request)
    back = safe_next(str(form.get("back") or "/writebacks"))
    if not back.startswith("/writebacks"):
        back = "/writebacks"
    ids = _selection(form)
    if not ids:
        done = Done(
            "Select the writebacks to send again (the boxes in the first column), or use a row's button.", "error"
        )
    else:
        done = await run_in_threadpool(retry_writebacks, who.user, ids)
    await run_in_threadpool(sessions.flash, who.session, done.message, done.kind)
    return RedirectResponse(back, status_code=303)


routes: list[BaseRoute] = [
    Route("/writebacks", writebacks_page, methods=["GET"]),
    Route("/writebacks/retry", retry, methods=["POST"]),
]
