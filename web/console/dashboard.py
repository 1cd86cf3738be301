"""The dashboard (``/``): each site as ``bobbin status`` sees it, and work to start on it now.

- ``GET /``: per site its last import, orders per view, open problems, writebacks, alarms and
  warnings, the last inventory and catalog pushes with the items the partner refused, and the work
  someone asked for here (``services.status``).
- ``POST /sites/{id}/import``, ``/push-inventory``, ``/push-catalog`` and ``/push-customers``
  (operator, each where the site's partner offers it): enqueue the
  task on the worker, record who asked (``services.users.record_action``, with the task id), and
  come back to the dashboard, where the request shows as queued, then running, then its outcome —
  or as lost, when the broker lost it (Redis restarted without its data), and it may be asked again.
- ``GET /sites/{id}/work``: that part alone, which the page polls (htmx) while work is unfinished.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.registry import NotOffered, UnknownPartner, partner
from core.db import session_scope
from services import status, users
from services.sites import SiteError, get_site
from web.console import sessions
from web.console.auth import Visitor, require, visitor
from web.console.render import error_page, render

log = structlog.get_logger()


@dataclass(frozen=True)
class Work:
    """A kind of work a person may start from the dashboard."""

    action: str  # console_action.action (and the URL's last part)
    task: str  # the Celery task it enqueues with the site's id
    label: str  # the button
    noun: str  # in sentences: "the import"
    capability: str  # what the site's partner must offer


WORK: tuple[Work, ...] = (
    Work("import", "tasks.orders.import_orders", "Import now", "an import", "orders"),
    Work("push-inventory", "tasks.inventory.push_inventory", "Push inventory", "an inventory push", "inventory"),
    Work("push-catalog", "tasks.catalog.push_catalog", "Push catalog", "a catalog push", "catalog"),
    Work("push-customers", "tasks.customers.push_customers", "Push customers", "a customer push", "customers"),
    Work("import-returns", "tasks.returns.import_returns", "Import returns", "a returns import", "returns"),
)
WORK_BY_ACTION = {w.action: w for w in WORK}
# "paused" (a partner's rate limit) is not finished: the task goes on by itself after the wait.
FINISHED = {"ok", "failed", "incomplete", "skipped", "dead", "lost"}
CELERY_FINISHED = {"SUCCESS": "ok", "FAILURE": "failed", "REVOKED": "failed"}
# The state the dashboard records in the result backend for a task it sends, before sending it;
# a worker overwrites it (STARTED, then SUCCESS or FAILURE). A task with no state at all (PENDING)
# was lost with the broker's data (Redis restarted empty): a person may ask again.
QUEUED = "QUEUED"
LOST = "the broker lost this request (Redis restarted without its data); ask again"


def _celery_state(task_id: str) -> tuple[str, str | None]:
    """(state in words, error) of a task that recorded no run (yet): queued, retrying, failed, lost…"""
    try:
        from celery.result import AsyncResult

        from worker import app

        result = AsyncResult(task_id, app=app)
        state = str(result.state)
        error = str(result.result) if state == "FAILURE" else None
    except Exception:  # the result backend is unreachable: say so rather than fail the page
        return "unknown", "the task's state cannot be read from the broker now"
    if state == "PENDING":
        return "lost", LOST
    words = {QUEUED: "queued", "RECEIVED": "queued", "STARTED": "running", "RETRY": "retrying"}
    return words.get(state, CELERY_FINISHED.get(state, state.lower())), error


def _requests(session: Any, site_id: int) -> list[dict[str, Any]]:
    """The newest request of each kind of work on the site, and how it is going."""
    out = []
    for work in WORK:
        action = users.latest_action(session, work.action, site_id)
        if action is None:
            continue
        task_id = str(action.detail.get("task_id", ""))
        run = status.task_run(session, task_id) if task_id else None
        if run is not None:
            state, error = str(run["outcome"]), run["error"]
        else:
            state, error = _celery_state(task_id)
        out.append(
            {
                "work": work,
                "by": action.actor,
                "at": action.at,
                "task_id": task_id,
                "state": state,
                "error": error,
                "run": run,
                "finished": state in FINISHED or state == "unknown",
            }
        )
    return out


def _dashboard_data() -> list[dict[str, Any]]:
    with session_scope() as s:
        sites = status.sites_overview(s)
        for st in sites:
            st["requests"] = _requests(s, st["id"])
    return sites


def _work_data(site_id: int) -> dict[str, Any] | None:
    with session_scope() as s:
        try:
            site = get_site(s, site_id)
        except SiteError:
            return None
        return {"id": site.id, "name": site.name, "requests": _requests(s, site.id)}


@require("viewer")
async def dashboard(request: Request) -> Response:
    sites = await run_in_threadpool(_dashboard_data)
    return render(request, "dashboard.html", {"sites": sites, "work": WORK, "title": "Dashboard"})


@require("viewer")
async def site_work(request: Request) -> Response:
    site = await run_in_threadpool(_work_data, int(request.path_params["site_id"]))
    if site is None:
        return error_page(request, 404, "No such site", "There is no site with this id.")
    return render(request, "_work.html", {"site": site})


def _enqueue(who: Visitor, site_id: int, work: Work) -> str:
    """Send the task and record who asked; returns the message for the next page."""
    from worker import app

    with session_scope() as s:
        site = get_site(s, site_id)
        try:
            partner(site.kind).capability(work.capability)  # type: ignore[call-overload]
        except (NotOffered, UnknownPartner) as exc:
            return f"Nothing was queued: {exc}."
        pending = next((r for r in _requests(s, site.id) if r["work"] is work and not r["finished"]), None)
        if pending is not None:
            return (
                f"{work.noun.capitalize()} of {site.name} is already {pending['state']} "
                f"(asked by {pending['by']}); it was not asked again."
            )
        task_id = str(uuid.uuid4())
        app.backend.store_result(task_id, None, QUEUED)  # before the send: a worker's state comes after
        app.send_task(work.task, args=[site.id], task_id=task_id)
        users.record_action(s, who.user, work.action, site_id=site.id, detail={"task": work.task, "task_id": task_id})
        log.info("console_work_queued", user=who.user.username, site=site.name, task=work.task, task_id=task_id)
        return f"{work.noun.capitalize()} of {site.name} is queued."


@require("operator")
async def start_work(request: Request) -> Response:
    work = WORK_BY_ACTION.get(str(request.path_params["work"]))
    if work is None:
        return error_page(request, 404, "Not found", "There is no such work to start.")
    who = visitor(request)
    try:
        message = await run_in_threadpool(_enqueue, who, int(request.path_params["site_id"]), work)
        kind = "info"
    except SiteError as exc:
        return error_page(request, 404, "No such site", str(exc))
    except Exception as exc:  # the broker cannot be reached: say so, on the dashboard
        from kombu.exceptions import OperationalError

        if not isinstance(exc, (OperationalError, ConnectionError, OSError)):
            raise
        log.warning("console_work_not_queued", error=str(exc))
        message, kind = f"Nothing was queued: the broker (Redis) cannot be reached ({exc}).", "error"
    await run_in_threadpool(sessions.flash, who.session, message, kind)
    return RedirectResponse("/", status_code=303)


routes: list[BaseRoute] = [
    Route("/", dashboard, methods=["GET"]),
    Route("/sites/{site_id:int}/work", site_work, methods=["GET"]),
    Route("/sites/{site_id:int}/{work:str}", start_work, methods=["POST"]),
]
