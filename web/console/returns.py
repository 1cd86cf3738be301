"""The Returns pages: Loop returns held by Bobbin, and the RMA, receipts and postings made of each.

- ``GET /returns?site=&state=&page=`` (viewer): the returns of one site or all, of one state or
  all (``services.return_queries.list_returns``), ``PAGE_SIZE`` to a page, the newest change
  first, with the count of each state on its tab. Each row: id, site, Loop's id, state, Loop's
  state and outcome, the Shopify order, the shopper, the total, the RMA and the open problems, and
  a link to the return's page. A value that cannot be used is said in one line (400).
- ``GET /returns/{ref}`` (viewer): one return (``return_detail``): its state in words, its RMA and
  lines (quantity, received, outstanding), receipts, credit memo, AR debits, problems (open
  first), what went to Loop about it with its outbox state, and who changed it here. A reference
  that is an RMA number or ``SITE:LOOP_RETURN_ID`` goes to the return's own address; one that
  names no return is the 404 page.
- ``POST /returns/{id}/receive`` (operator): the goods received, per line (``qty-LINE`` fields; an
  empty or 0 field receives nothing of that line) with a reference, through
  ``services.rma.receive(..., source="console")``, recorded with who did it in the same
  transaction. When the receipt completes the RMA, Loop is asked to process the return: the outbox
  row is committed with the receipt, then ``tasks.status.flush_outbox`` is sent for the site; a
  broker that cannot be reached loses nothing (the scheduled flush sends the row later) and the
  message says so.
- ``POST /returns/{id}/confirm-credit`` (operator): a credit memo waiting for a person (Loop's
  refund did not match the lines) is posted with its AR debit (``services.rma.confirm_credit``,
  ``by`` the console user), recorded, and the note for Loop's timeline sent the same way.

A change the flow refuses (``ReturnFlowError``: more than is outstanding, an unknown line, a void
RMA, a memo already posted) writes nothing: the page is drawn again with the reason and what was
typed (400).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.registry import UnknownPartner, partner
from core.db import session_scope
from models import ConsoleAction, ReturnError, Rma, SalesOrder, Site
from models.returns import RETURN_STATES
from services import return_queries as queries
from services import rma as flow
from services import users
from services.sites import SiteError, get_site
from services.users import User
from web.console import sessions
from web.console.auth import require, visitor
from web.console.changes import Done
from web.console.render import error_page, plural, render

log = structlog.get_logger()

PAGE_SIZE = queries.PAGE_SIZE
ALL = "all"
REFERENCE_MAX = 200  # characters of a receipt's reference
CONSOLE_ACTIONS = ("receive_return", "confirm_credit")
NOT_FOUND = (
    "There is no return {ref}. Returns are named by their Bobbin id (12), their RMA number (RMA0000012) "
    "or SITE:LOOP_RETURN_ID (loop-demo:30000001)."
)

# Each state as a tab and a badge (the words of each are services.return_queries.STATE_WORDS).
STATE_LABELS = {
    "received": "Held",
    "invalid": "Invalid",
    "rma": "Waiting for goods",
    "received_goods": "Goods received",
    "processed": "Processed",
    "credited": "Credited",
    "void": "Void",
}
assert set(STATE_LABELS) == set(RETURN_STATES), "a return state without a label"

# What Bobbin sends Loop about a return (connectors.returns), in words.
LOOP_ACTION_WORDS = {
    "note_rma": "Note on Loop's timeline: the RMA made",
    "flag": "Flag for review in Loop",
    "note_problem": "Note on Loop's timeline: why no RMA can be made",
    "process": "Ask Loop to process the return",
    "note_credit": "Note on Loop's timeline: the credit memo and AR debit posted",
}


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --- the list ---------------------------------------------------------------------------------------


@dataclass
class Query:
    """The list asked for, read from the address (``problem``: why it cannot be used, if so)."""

    site: str = ""
    state: str = ALL
    page: int = 1
    problem: str | None = None

    def url(self, **change: Any) -> str:
        values: dict[str, Any] = {"site": self.site, "state": self.state, "page": self.page, **change}
        defaults: dict[str, Any] = {"state": ALL, "page": 1}
        params = {k: str(v) for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
        return "/returns" + (f"?{urlencode(params)}" if params else "")


def read_query(params: Any) -> Query:
    query = Query(site=str(params.get("site") or "").strip(), state=str(params.get("state") or ALL).strip())
    page = str(params.get("page") or "1").strip()
    if query.state != ALL and query.state not in RETURN_STATES:
        query.problem = _sentence(
            f"there is no return state {query.state!r}: use {', '.join(RETURN_STATES)} (or {ALL})"
        )
        query.state = ALL
    elif not page.isdigit() or int(page) < 1:
        query.problem = _sentence(f"page {page!r} is not a page number")
    else:
        query.page = int(page)
    return query


def _return_sites(session: Session) -> list[tuple[int, str]]:
    """(id, name) of the sites whose partner sends returns, by name."""
    out = []
    for sid, name, kind in session.execute(select(Site.id, Site.name, Site.kind).order_by(Site.name)):
        try:
            if partner(kind).offers("returns"):
                out.append((sid, name))
        except UnknownPartner:
            continue
    return out


def _warnings(session: Session, return_ids: list[int]) -> set[tuple[int, str]]:
    """(return id, code) of the open problems that are warnings (they hold nothing back)."""
    if not return_ids:
        return set()
    found = session.execute(
        select(ReturnError.return_id, ReturnError.code).where(
            ReturnError.return_id.in_(return_ids),
            ReturnError.resolved_at.is_(None),
            ReturnError.severity == "warning",
        )
    )
    return {(int(rid), str(code)) for rid, code in found}


def _list_data(query: Query) -> dict[str, Any]:
    empty = queries.ReturnPage(rows=[], total=0, counts={})
    with session_scope() as s:
        sites = _return_sites(s)
        site_id = None
        if query.site and query.problem is None:
            try:
                site_id = get_site(s, query.site).id
            except SiteError as exc:
                query.problem = _sentence(str(exc))
        if query.problem is not None:
            return {"sites": sites, "page": empty, "warnings": set(), "pages": 1, "all_count": 0}
        found = queries.list_returns(
            s,
            site_id=site_id,
            state=None if query.state == ALL else query.state,
            limit=PAGE_SIZE,
            offset=(query.page - 1) * PAGE_SIZE,
        )
        warnings = _warnings(s, [r.id for r in found.rows])
    return {
        "sites": sites,
        "page": found,
        "warnings": warnings,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "all_count": sum(found.counts.values()),
    }


@require("viewer")
async def returns_page(request: Request) -> Response:
    query = read_query(request.query_params)
    data = await run_in_threadpool(_list_data, query)
    first = (query.page - 1) * PAGE_SIZE + 1
    context = {
        "title": "Returns",
        "query": query,
        "states": STATE_LABELS,
        "state_words": queries.STATE_WORDS,
        "all": ALL,
        "first": first,
        "last": first + len(data["page"].rows) - 1,
        **data,
    }
    return render(request, "returns.html", context, status_code=400 if query.problem else 200)


# --- one return -------------------------------------------------------------------------------------


def _return_id(ref: str) -> int | None:
    """The return a reference names (id, RMA number, SITE:LOOP_RETURN_ID); None when there is none."""
    with session_scope() as s:
        try:
            return queries.resolve_return(s, ref)
        except queries.ReturnNotFound:
            return None


def _history(session: Session, site_id: int, return_id: int) -> list[ConsoleAction]:
    """What people did to the return in the console, oldest first."""
    return list(
        session.scalars(
            select(ConsoleAction)
            .where(
                ConsoleAction.site_id == site_id,
                ConsoleAction.action.in_(CONSOLE_ACTIONS),
                ConsoleAction.detail["return_id"].as_integer() == return_id,
            )
            .order_by(ConsoleAction.at, ConsoleAction.id)
        )
    )


def _order_number(session: Session, sales_order_id: int | None) -> str | None:
    if sales_order_id is None:
        return None
    return session.scalar(select(SalesOrder.number).where(SalesOrder.id == sales_order_id))


def _page_data(return_id: int) -> dict[str, Any] | None:
    with session_scope() as s:
        try:
            detail = queries.return_detail(s, return_id)
        except queries.ReturnNotFound:
            return None
        history = [
            {"at": a.at, "who": a.actor, "what": str(a.detail.get("summary") or a.action)}
            for a in _history(s, detail.site_id, return_id)
        ]
        orders = {}
        if detail.rma is not None:
            orders = {
                "original": _order_number(s, detail.rma["sales_order_id"]),
                "exchange": _order_number(s, detail.rma["exchange_sales_order_id"]),
            }
    rma = detail.rma
    receivable = [ln for ln in detail.lines if int(ln["outstanding"]) > 0]
    memo = detail.credit_memo
    return {
        "r": detail.row,
        "detail": detail,
        "history": history,
        "orders": orders,
        "open_problems": [p for p in detail.problems if p["resolved_at"] is None],
        "resolved_problems": [p for p in detail.problems if p["resolved_at"] is not None],
        "receivable": receivable if rma is not None and rma["status"] != "void" else [],
        "can_confirm": memo is not None and memo["status"] == "pending_confirmation",
        "states": STATE_LABELS,
        "state_words": queries.STATE_WORDS,
        "action_words": LOOP_ACTION_WORDS,
        "title": f"Return {detail.row.id}",
    }


async def _draw(
    request: Request, return_id: int, *, status_code: int = 200, typed: dict[str, Any] | None = None
) -> Response:
    data = await run_in_threadpool(_page_data, return_id)
    if data is None:
        return error_page(request, 404, "No such return", NOT_FOUND.format(ref=return_id))
    return render(request, "return.html", {**data, "typed": typed or {}}, status_code=status_code)


@require("viewer")
async def return_page(request: Request) -> Response:
    ref = str(request.path_params["ref"]).strip()
    found = await run_in_threadpool(_return_id, ref)
    if found is None:
        return error_page(request, 404, "No such return", NOT_FOUND.format(ref=ref))
    if ref != str(found):  # an RMA number or SITE:LOOP_RETURN_ID: the return's own address
        return RedirectResponse(f"/returns/{found}", status_code=303)
    return await _draw(request, found)


# --- changes ----------------------------------------------------------------------------------------


class FormProblem(ValueError):
    """A form that cannot be read (a quantity that is no number, nothing to receive): in words."""


@dataclass
class Receipt:
    """What a receive form asks for: line_no -> units, and the reference typed."""

    quantities: dict[int, int] = field(default_factory=dict)
    reference: str | None = None
    typed: dict[str, str] = field(default_factory=dict)  # the fields as typed, to draw them again


def read_receipt(form: FormData) -> Receipt:
    """The units per line of a receive form (``qty-LINE`` fields) and its reference. An empty or 0
    field receives nothing of its line; FormProblem for a field that is no whole number, or when
    no line has units."""
    receipt = Receipt()
    bad = []
    for name, value in form.multi_items():
        if not name.startswith("qty-") or not isinstance(value, str):
            continue
        typed = value.strip()
        receipt.typed[name] = typed
        line = name.removeprefix("qty-")
        if not line.isdigit():
            continue
        if typed in ("", "0"):
            continue
        try:
            receipt.quantities[int(line)] = int(typed)
        except ValueError:
            bad.append(f"line {line}: {typed!r} is not a whole number of units")
    reference = str(form.get("reference") or "").strip()
    receipt.typed["reference"] = reference
    if len(reference) > REFERENCE_MAX:
        bad.append(f"the reference is {len(reference)} characters long; keep it to {REFERENCE_MAX}")
    receipt.reference = reference or None
    if bad:
        raise FormProblem(_sentence("Nothing was received: " + "; ".join(bad)))
    if not receipt.quantities:
        raise FormProblem("Nothing was received: type the units that arrived for at least one line.")
    return receipt


@dataclass
class Changed:
    """A change made: the sentence for the next page, and the site to flush the outbox of (if any)."""

    done: Done
    flush_site: int | None = None
    after_flush: str = ""  # said when the flush is sent
    if_not_sent: str = ""  # said when the broker cannot be reached


def receive(user: User, return_id: int, receipt: Receipt) -> Changed:
    """Record the receipt (``services.rma.receive``) and who made it, in one transaction."""
    with session_scope() as s:
        site_id = s.scalar(flow.site_of(return_id))
        if site_id is None:
            raise flow.ReturnFlowError(f"no return {return_id}")
        done = flow.receive(s, return_id, receipt.quantities, source="console", reference=receipt.reference)
        rma = s.scalars(select(Rma).where(Rma.number == done.rma)).one()
        left = {n: q for n, q in flow.outstanding(s, rma).items() if q > 0}
        warehouse = rma.warehouse_code
        units = sum(q for _, _, q in done.received)
        lines = ", ".join(f"line {n} ({sku}) {plural(q, 'unit')}" for n, sku, q in done.received)
        summary = f"received {plural(units, 'unit')} against {done.rma}: {lines}"
        if receipt.reference:
            summary += f" (reference {receipt.reference})"
        users.record_action(
            s,
            user,
            "receive_return",
            site_id=int(site_id),
            detail={
                "summary": summary,
                "return_id": return_id,
                "rma": done.rma,
                "received": [[n, sku, q] for n, sku, q in done.received],
                "reference": receipt.reference,
                "complete": done.complete,
                "process_queued": done.process_queued,
            },
        )
    log.info("console_receipt", user=user.username, return_id=return_id, rma=done.rma, complete=done.complete)
    message = f"Received {plural(units, 'unit')} against {done.rma}: {lines}; restocked in {warehouse}."
    if not done.complete:
        waiting = ", ".join(f"line {n} ({plural(q, 'unit')})" for n, q in sorted(left.items()))
        return Changed(
            Done(f"{message} Still expected: {waiting}. Loop is asked to process the return once every line is in.")
        )
    message += f" Every line is in: {done.rma} is received."
    if not done.process_queued:
        return Changed(Done(message))
    return Changed(
        Done(message),
        flush_site=int(site_id),
        after_flush=(
            " Loop is asked to process the return: the request is in the outbox, and the worker is asked to "
            "send it now."
        ),
        if_not_sent=(
            " Loop is asked to process the return: the request waits in the outbox, and as the worker's "
            "broker cannot be reached now ({error}), the scheduled outbox flush sends it later."
        ),
    )


def confirm(user: User, return_id: int) -> Changed:
    """Post the credit memo waiting for a person (``services.rma.confirm_credit``), recorded."""
    with session_scope() as s:
        memo = flow.confirm_credit(s, return_id, by=user.username)
        site_id = s.scalar(flow.site_of(return_id))
        number, amount, currency = memo.number, memo.amount, memo.currency
        users.record_action(
            s,
            user,
            "confirm_credit",
            site_id=None if site_id is None else int(site_id),
            detail={
                "summary": f"confirmed credit memo {number} for {amount} {currency}: posted with its AR debit",
                "return_id": return_id,
                "credit_memo": number,
                "amount": str(amount),
            },
        )
    log.info("console_credit_confirmed", user=user.username, return_id=return_id, credit_memo=number)
    message = f"Confirmed credit memo {number} for {amount} {currency}: it is posted with the AR debit offsetting it."
    return Changed(
        Done(message),
        flush_site=None if site_id is None else int(site_id),
        after_flush=" The note for Loop's timeline is in the outbox, and the worker is asked to send it now.",
        if_not_sent=(
            " The note for Loop's timeline waits in the outbox: the worker's broker cannot be reached now "
            "({error}), so the scheduled outbox flush sends it later."
        ),
    )


def send_flush(changed: Changed) -> Done:
    """Send ``tasks.status.flush_outbox`` for the site, after the change is committed: a broker
    that cannot be reached loses nothing (the row waits in the outbox for the scheduled flush)."""
    done = changed.done
    if changed.flush_site is None:
        return done
    from kombu.exceptions import OperationalError

    from worker import app

    try:
        app.send_task("tasks.status.flush_outbox", kwargs={"site_id": changed.flush_site})
    except (OperationalError, ConnectionError, OSError) as exc:
        log.warning("console_flush_not_sent", site_id=changed.flush_site, error=str(exc))
        return Done(done.message + changed.if_not_sent.format(error=exc), done.kind)
    return Done(done.message + changed.after_flush, done.kind)


async def _changed(request: Request, return_id: int, change: Any, *args: Any, typed: dict[str, Any]) -> Response:
    """Make the change; a refusal draws the page again with the reason (nothing written)."""
    who = visitor(request)
    try:
        changed = await run_in_threadpool(change, who.user, return_id, *args)
    except flow.ReturnFlowError as exc:
        request.state.flash = (_sentence(f"Nothing was done: {exc}"), "error")
        return await _draw(request, return_id, status_code=400, typed=typed)
    done = await run_in_threadpool(send_flush, changed)
    await run_in_threadpool(sessions.flash, who.session, done.message, done.kind)
    return RedirectResponse(f"/returns/{return_id}", status_code=303)


def _exists(return_id: int) -> bool:
    with session_scope() as s:
        return s.scalar(flow.site_of(return_id)) is not None


@require("operator")
async def receive_goods(request: Request) -> Response:
    return_id = int(request.path_params["return_id"])
    if not await run_in_threadpool(_exists, return_id):
        return error_page(request, 404, "No such return", NOT_FOUND.format(ref=return_id))
    form = await request.form()
    try:
        receipt = read_receipt(form)
    except FormProblem as exc:
        typed = {k: str(v) for k, v in form.multi_items() if k.startswith("qty-") or k == "reference"}
        request.state.flash = (str(exc), "error")
        return await _draw(request, return_id, status_code=400, typed=typed)
    return await _changed(request, return_id, receive, receipt, typed=receipt.typed)


@require("operator")
async def confirm_credit(request: Request) -> Response:
    return_id = int(request.path_params["return_id"])
    if not await run_in_threadpool(_exists, return_id):
        return error_page(request, 404, "No such return", NOT_FOUND.format(ref=return_id))
    return await _changed(request, return_id, confirm, typed={})


routes: list[BaseRoute] = [
    Route("/returns", returns_page, methods=["GET"]),
    Route("/returns/{return_id:int}/receive", receive_goods, methods=["POST"]),
    Route("/returns/{return_id:int}/confirm-credit", confirm_credit, methods=["POST"]),
    Route("/returns/{ref:path}", return_page, methods=["GET"]),
]
