"""The holding area (``/holding``): the orders of one view, searched, filtered, sorted, a page at a time.

- ``GET /holding?site=&view=all|invalid|valid|duplicated|imported|rejected&q=&code=&from=&to=&sort=&page=``
  (viewer): a table of ``PAGE_SIZE`` orders with the total that matched, counted up to
  ``COUNT_LIMIT`` ("more than 10,000" past it; ``services.orders.list_orders``:
  ``q`` searches partner order number, PO and customer; ``code`` keeps orders with an open problem
  of that code; ``from`` / ``to`` bound the order date; ``sort`` is a column of
  ``services.orders.SORTS``, with a leading ``-`` going down). A value that cannot be used is said
  in one line above the table, which then lists nothing.
- ``POST /holding/bulk`` (operator): an action on the selected orders — import, import duplicates
  anyway, reject, check again, mark shipped / paid / void — through ``web.console.changes``, then
  back to the same list with what it did. Each row carries its order's state as drawn: if one of
  the selected orders changed since, nothing is done and the fresh list says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.db import session_scope
from services import orders as queries
from services.problems import CATALOGUE
from services.status import VIEWS
from web.console import changes, sessions
from web.console.auth import require, safe_next, visitor
from web.console.render import render

PAGE_SIZE = 50
# Orders counted for a list's total: past it the page says "more than 10,000" (counting every
# match of a broad search reads most of the table; showing its first pages does not).
COUNT_LIMIT = 10_000
VIEW_LABELS = {
    "all": "All",
    "invalid": "Invalid",
    "valid": "Valid",
    "duplicated": "Duplicated",
    "imported": "Imported",
    "rejected": "Rejected",
}
COLUMNS = (  # (sort key, heading) of the sortable columns, in table order
    ("id", "Order"),
    ("site", "Site"),
    ("partner", "Partner #"),
    ("po", "PO"),
    ("customer", "Customer"),
    ("date", "Date"),
    ("state", "State"),
)
BULK = {  # the buttons under the table: action -> (label, what it does)
    "import": "Import",
    "import-duplicate": "Import duplicates anyway",
    "revalidate": "Check again",
    "reject": "Reject",
    "mark-shipped": "Mark shipped",
    "mark-paid": "Mark paid",
    "mark-void": "Mark void",
}


@dataclass
class Query:
    """The list asked for, read from the address (``problem``: why it cannot be used, if so)."""

    site: str = ""
    view: str = "all"
    q: str = ""
    code: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = queries.DEFAULT_SORT
    page: int = 1
    problem: str | None = None

    def params(self, **change: Any) -> dict[str, str]:
        """The address's parameters, with some changed (only the ones that say something)."""
        values: dict[str, Any] = {
            "site": self.site,
            "view": self.view,
            "q": self.q,
            "code": self.code,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": self.sort,
            "page": self.page,
        }
        values.update(change)
        defaults = {"view": "all", "sort": queries.DEFAULT_SORT, "page": 1}
        return {k: str(v) for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}

    def url(self, **change: Any) -> str:
        params = self.params(**change)
        return "/holding" + (f"?{urlencode(params)}" if params else "")


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} date {text!r} is not a date: give it as YYYY-MM-DD") from None


def read_query(params: Any) -> Query:
    query = Query(
        site=str(params.get("site") or "").strip(),
        view=str(params.get("view") or "all").strip(),
        q=str(params.get("q") or "").strip()[: queries.SEARCH_MAX],
        code=str(params.get("code") or "").strip(),
        sort=str(params.get("sort") or queries.DEFAULT_SORT).strip(),
    )
    try:
        if query.view not in VIEWS:
            raise ValueError(f"there is no view {query.view!r}: use {', '.join(VIEWS)}")
        if query.code and query.code not in CATALOGUE:
            raise ValueError(f"there is no problem code {query.code!r}")
        if params.get("from"):
            query.date_from = _date(str(params["from"]).strip(), "the from")
        if params.get("to"):
            query.date_to = _date(str(params["to"]).strip(), "the to")
        queries.check_sort(query.sort)
        page = str(params.get("page") or "1").strip()
        if not page.isdigit() or int(page) < 1:
            raise ValueError(f"page {page!r} is not a page number")
        query.page = int(page)
    except (ValueError, queries.OrderQueryError) as exc:
        query.problem = str(exc)[:1].upper() + str(exc)[1:]
        query.sort = query.sort if query.sort.removeprefix("-") in queries.SORTS else queries.DEFAULT_SORT
    return query


def _holding_data(query: Query) -> dict[str, Any]:
    from services.sites import SiteError, get_site

    with session_scope() as s:
        sites = queries.site_choices(s)
        page = queries.OrderPage(rows=[], total=0)
        stamps: dict[int, str] = {}
        if query.problem is None:
            site_id = None
            if query.site:
                try:
                    site_id = get_site(s, query.site).id
                except SiteError as exc:
                    query.problem = str(exc)[:1].upper() + str(exc)[1:]
            if query.problem is None:
                asked: dict[str, Any] = {
                    "site_id": site_id,
                    "states": VIEWS[query.view] if query.view != "all" else None,
                    "q": query.q or None,
                    "code": query.code or None,
                    "date_from": query.date_from,
                    "date_to": query.date_to,
                    "sort": query.sort,
                    "limit": PAGE_SIZE,
                    "offset": (query.page - 1) * PAGE_SIZE,
                }
                try:
                    page = queries.list_orders(s, **asked, count_limit=COUNT_LIMIT)
                    if page.capped and not page.rows:  # a page past those counted: how many there are
                        page = queries.list_orders(s, **asked)
                except queries.OrderQueryError as exc:
                    query.problem = str(exc)[:1].upper() + str(exc)[1:]
                stamps = {
                    oid: changes.stamp(*st) for oid, st in queries.state_stamps(s, [r["id"] for r in page.rows]).items()
                }
    pages = max(1, -(-page.total // PAGE_SIZE))
    return {"sites": sites, "page": page, "stamps": stamps, "pages": pages}


def _sort_links(query: Query) -> list[dict[str, Any]]:
    """Each column's heading: the address that sorts by it (the other way if it is the sort now)."""
    current, descending = query.sort.removeprefix("-"), query.sort.startswith("-")
    out = []
    for key, label in COLUMNS:
        if key == current:
            aria = "descending" if descending else "ascending"
            target = key if descending else f"-{key}"
        else:
            aria = None
            target = f"-{key}" if key in ("id", "date") else key  # newest first is what people want first
        out.append({"key": key, "label": label, "aria": aria, "url": query.url(sort=target, page=1)})
    return out


@require("viewer")
async def holding(request: Request) -> Response:
    query = read_query(request.query_params)
    data = await run_in_threadpool(_holding_data, query)
    first = (query.page - 1) * PAGE_SIZE + 1
    context = {
        "title": "Holding area",
        "query": query,
        "views": VIEW_LABELS,
        "codes": sorted(CATALOGUE),
        "columns": _sort_links(query),
        "bulk": BULK,
        "first": first,
        "last": first + len(data["page"].rows) - 1,
        "here": query.url(),
        **data,
    }
    return render(request, "holding.html", context, status_code=400 if query.problem else 200)


def _selection(form: Any) -> tuple[list[int], dict[int, str]]:
    """The selected order ids, and the stamp each carried (state as drawn)."""
    ids = [int(v) for v in form.getlist("order") if str(v).isdigit()]
    ids = list(dict.fromkeys(ids))
    seen = {oid: str(form.get(f"stamp-{oid}") or "") for oid in ids}
    return ids, seen


def _bulk(who: Any, action: str, ids: list[int], seen: dict[int, str]) -> changes.Done:
    changed = changes.changed_since(seen)
    if changed:
        return changes.Done(changes.stale_message(changed), "error")
    user = who.user
    if action == "import":
        return changes.guarded(changes.import_orders, user, ids)
    if action == "import-duplicate":
        return changes.guarded(changes.import_orders, user, ids, allow_duplicate=True)
    if action == "reject":
        return changes.guarded(changes.reject_orders, user, ids)
    if action == "revalidate":
        return changes.guarded(changes.revalidate_orders, user, ids)
    status = action.removeprefix("mark-")
    return changes.guarded(changes.mark_orders, user, ids, status)


@require("operator")
async def bulk(request: Request) -> Response:
    form = await request.form()
    who = visitor(request)
    back = safe_next(str(form.get("back") or "/holding"))
    if not back.startswith("/holding"):
        back = "/holding"
    action = str(form.get("action") or "")
    ids, seen = _selection(form)
    if action not in BULK:
        done = changes.Done("Choose what to do with the selected orders.", "error")
    elif not ids:
        done = changes.Done("Select the orders first (the boxes in the first column).", "error")
    else:
        done = await run_in_threadpool(_bulk, who, action, ids, seen)
    await run_in_threadpool(sessions.flash, who.session, done.message, done.kind)
    return RedirectResponse(back, status_code=303)


routes: list[BaseRoute] = [
    Route("/holding", holding, methods=["GET"]),
    Route("/holding/bulk", bulk, methods=["POST"]),
]
