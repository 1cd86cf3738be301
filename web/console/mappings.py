"""The Mappings page (``/mappings``): a site's mappings from partner values to ERP codes, and the
values held orders are waiting for. It reads and changes through ``services.mappings``, as
``bobbin map`` does.

- ``GET /mappings?site=NAME`` (viewer): pick a site (the first by name when none is given). First
  "Waiting for a mapping": each partner value no mapping covers, with the orders it blocks (each
  links to its page, and the count to the holding area filtered by the problem's code) and, for
  an operator, the form that maps it to an ERP code — picked from a list of the ERP's codes with
  their words, or typed when there are too many (customers). Then each kind's mappings: partner
  value, ERP code and its words, how it was made, since when; an operator can map another value
  and remove one.
- ``POST /mappings/add`` (operator): ``site``, ``kind``, ``partner_value``, ``erp_code``. The held
  orders are checked again at once; the page then says what the mapping released ("2 orders
  became valid, 2 imported: …"). Bad input (no value, no code, a code the ERP does not have) draws
  the page again with the sentence (400), what was typed kept, nothing written.
- ``GET /mappings/remove?site=&kind=&value=`` (operator) asks to confirm; ``POST /mappings/remove``
  removes the mapping (the held orders are checked again; imported orders are not touched).

Each change is recorded with ``services.users.record_action``: a mapping made, once per order that
waited for it (each order's history shows who), else once for the site; a removal once for the site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.db import session_scope
from services import mappings, users
from services import orders as queries
from services.fixes import FixError
from services.sites import SiteError, get_site
from services.users import User
from web.console import changes, sessions
from web.console.auth import require, visitor
from web.console.render import error_page, plural, render

log = structlog.get_logger()

SHOWN_PER_KIND = 500  # mappings listed per kind; the rest are counted
ORDERS_NAMED = 10  # blocked orders linked one by one; the rest through the holding area


@dataclass(frozen=True)
class Section:
    """One kind's mappings as the page shows them."""

    kind: str
    words: str
    rows: list[mappings.MappingRow]
    described: dict[str, str]  # ERP code -> its words
    total: int
    choices: list[tuple[str, str]] | None  # ERP codes to pick from; None: typed


def page_url(site: str) -> str:
    return "/mappings?" + urlencode({"site": site})


def holding_url(site: str, code: str) -> str:
    return "/holding?" + urlencode({"site": site, "code": code})


def _page_data(site_ref: str) -> dict[str, Any]:
    data: dict[str, Any] = {"title": "Mappings", "sites": [], "site": None, "problem": None}
    with session_scope() as s:
        data["sites"] = queries.site_choices(s)
        if not data["sites"]:
            data["problem"] = "There is no site yet: add one with `bobbin sites add`."
            return data
        try:
            site = get_site(s, site_ref or data["sites"][0][1])
        except SiteError as exc:
            data["problem"] = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
            return data
        waiting = mappings.blocked_values(s, site.id)
        counts = mappings.mapping_counts(s, site.id)
        choices = {kind: mappings.code_choices(s, kind) for kind in mappings.PICKED_KINDS}
        kinds_waiting = {w["kind"] for w in waiting}
        customers = queries.division_customers(s, site.division_code) if "customer" in kinds_waiting else []
        sections = []
        for kind, words in mappings.KIND_WORDS.items():
            if kind not in mappings.BLOCKING_CODES and not counts.get(kind):
                continue  # a kind no order waits for (styles) is shown once it has mappings
            rows = mappings.list_mappings(s, site.id, [kind], limit=SHOWN_PER_KIND) if counts.get(kind) else []
            described = mappings.code_words(s, kind, {r["erp_code"] for r in rows})
            sections.append(Section(kind, words, rows, described, counts.get(kind, 0), choices.get(kind)))
        data.update(
            site={"id": site.id, "name": site.name, "division_code": site.division_code},
            waiting=waiting,
            choices=choices,
            customers=customers,
            sections=sections,
            kind_words=mappings.KIND_WORDS,
            blocking_codes=mappings.BLOCKING_CODES,
            orders_named=ORDERS_NAMED,
            holding_url=holding_url,
            can_add=set(mappings.BLOCKING_CODES),
        )
    return data


async def _draw(
    request: Request, site_ref: str, *, status_code: int = 200, typed: dict[str, str] | None = None
) -> Response:
    data = await run_in_threadpool(_page_data, site_ref)
    if data["problem"] and status_code == 200:
        status_code = 400 if data["sites"] else 200
    data["typed"] = typed or {}
    return render(request, "mappings.html", data, status_code=status_code)


@require("viewer")
async def mappings_page(request: Request) -> Response:
    return await _draw(request, str(request.query_params.get("site") or "").strip())


# --- changes -------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _record(
    user: User, action: str, site_id: int, order_ids: Sequence[int], summary: str, asked_at: datetime, **detail: Any
) -> None:
    """One ``console_action`` row per order named (each order's history shows it), or one for the
    site when no order is named."""
    with session_scope() as s:
        named: list[int | None] = list(order_ids) or [None]
        for oid in named:
            users.record_action(
                s,
                user,
                action,
                order_id=oid,
                site_id=site_id,
                detail={"summary": summary, "asked_at": asked_at.isoformat(), **detail},
            )
    log.info("console_change", user=user.username, action=action, site=site_id, orders=list(order_ids))


def _site(site_ref: str) -> tuple[int, str]:
    with session_scope() as s:
        site = get_site(s, site_ref)
        return site.id, site.name


def _words(kind: str) -> str:
    return mappings.KIND_WORDS.get(kind, kind)


def add(user: User, site_ref: str, kind_text: str, partner_value: str, erp_code: str) -> changes.Done:
    """Map a partner value on a site; the sentence says what it released."""
    asked = _now()
    kind = mappings.kind_of(kind_text)
    value, code = partner_value.strip(), erp_code.strip()
    if not value:
        return changes.Done(f"Type the partner value to map to an ERP {_words(kind)} code.", "error")
    if not code:
        return changes.Done(f"Pick or type the ERP {_words(kind)} code to map “{value}” to.", "error")
    site_id, _ = _site(site_ref)
    with session_scope() as s:
        before = queries.open_order_states(s, [site_id])
    added = mappings.add_mapping(site_id, kind, value, code)
    sentence, released = changes.released(before)
    what = f'mapped {_words(kind)} "{added.partner_value}" → {added.erp_code} on {added.site_name}'
    was = f" (it was mapped to {added.previous})" if added.previous and added.previous != added.erp_code else ""
    _record(
        user,
        "map",
        site_id,
        added.waiting,
        what,
        asked,
        kind=kind,
        partner_value=added.partner_value,
        erp_code=added.erp_code,
        previous=added.previous,
        released=released,
    )
    postponed = added.revalidation.get("skipped")
    message = f"{what[0].upper()}{what[1:]}{was}. {sentence}"
    if postponed:
        message += f" Checking the orders again was postponed: {postponed}."
    return changes.Done(message, order_ids=released)


def remove(user: User, site_ref: str, kind_text: str, partner_value: str) -> changes.Done:
    """Remove a site's mapping; the sentence says which held orders it leaves invalid again."""
    asked = _now()
    kind = mappings.kind_of(kind_text)
    value = partner_value.strip()
    site_id, site_name = _site(site_ref)
    with session_scope() as s:
        before = queries.open_order_states(s, [site_id])
    removed = mappings.remove_mapping(site_id, kind, value)
    if removed is None:
        return changes.Done(
            f"{site_name} has no {_words(kind)} mapping for “{value}” (someone may have removed it already).", "error"
        )
    with session_scope() as s:
        after = queries.states_of(s, list(before))
    again = [oid for oid, was in before.items() if was != "invalid" and after.get(oid) == "invalid"]
    what = f'removed the {_words(kind)} mapping "{value}" → {removed["erp_code"]} on {site_name}'
    _record(
        user,
        "unmap",
        site_id,
        [],
        what,
        asked,
        kind=kind,
        partner_value=value,
        erp_code=removed["erp_code"],
        how=removed["how"],
        invalid_again=again,
    )
    if again:
        named = ", ".join(map(str, again[: changes.LISTED])) + (
            f" and {len(again) - changes.LISTED} more" if len(again) > changes.LISTED else ""
        )
        after_words = f"{plural(len(again), 'held order')} became invalid again: {named}."
    else:
        after_words = "The held orders were checked again; none became invalid."
    return changes.Done(f"{what[0].upper()}{what[1:]}. {after_words} Imported orders are not touched.", order_ids=again)


def _field(form: Any, name: str) -> str:
    return str(form.get(name) or "")


@require("operator")
async def add_mapping(request: Request) -> Response:
    form = await request.form()
    who = visitor(request)
    site = _field(form, "site").strip()
    typed = {k: _field(form, k) for k in ("kind", "partner_value", "erp_code")}
    done = await run_in_threadpool(
        changes.guarded, add, who.user, site, typed["kind"], typed["partner_value"], typed["erp_code"]
    )
    if done.kind == "error":  # nothing was written: the page again, with what was typed
        request.state.flash = (f"{done.message} Nothing was changed.", "error")
        return await _draw(request, site, status_code=400, typed=typed)
    await run_in_threadpool(sessions.flash, who.session, done.message, done.kind)
    return RedirectResponse(page_url(site), status_code=303)


def _one(site_ref: str, kind_text: str, value: str) -> dict[str, Any] | None:
    try:
        kind = mappings.kind_of(kind_text)
    except FixError:
        return None
    with session_scope() as s:
        try:
            site = get_site(s, site_ref)
        except SiteError:
            return None
        found = mappings.find_mapping(s, site.id, kind, value)
        if found is None:
            return None
        words = mappings.code_words(s, kind, [found["erp_code"]]).get(found["erp_code"], "")
        return {"site": site.name, "kind": kind, "mapping": found, "code_words": words}


@require("operator")
async def confirm_remove(request: Request) -> Response:
    params = request.query_params
    site, kind, value = (str(params.get(k) or "") for k in ("site", "kind", "value"))
    found = await run_in_threadpool(_one, site, kind, value)
    if found is None:
        return error_page(
            request,
            404,
            "No such mapping",
            f"There is no {kind.replace('_', ' ') or 'such'} mapping of “{value.strip()}” on {site or 'that site'}. "
            "The Mappings page lists the ones there are.",
        )
    return render(
        request,
        "mappings.html",
        {
            "title": "Remove a mapping",
            "confirm": found,
            "kind_words": mappings.KIND_WORDS,
            "back": page_url(found["site"]),
        },
    )


@require("operator")
async def remove_mapping(request: Request) -> Response:
    form = await request.form()
    who = visitor(request)
    site = _field(form, "site").strip()
    done = await run_in_threadpool(
        changes.guarded, remove, who.user, site, _field(form, "kind"), _field(form, "partner_value")
    )
    await run_in_threadpool(sessions.flash, who.session, done.message, done.kind)
    return RedirectResponse(page_url(site), status_code=303)


routes: list[BaseRoute] = [
    Route("/mappings", mappings_page, methods=["GET"]),
    Route("/mappings/add", add_mapping, methods=["POST"]),
    Route("/mappings/remove", confirm_remove, methods=["GET"]),
    Route("/mappings/remove", remove_mapping, methods=["POST"]),
]
