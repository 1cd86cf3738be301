"""One order (``/orders/{id}``, or ``/orders/SITE:PARTNER_ORDER_ID``) and the fixes made on it.

- ``GET /orders/{ref}`` (viewer): header, lines, each open problem with its resolution hint (and,
  for an operator, the form that fixes it), resolved problems, the ERP order, the status changes
  sent back with each try, the order's history (``services.orders.order_history``: what the
  pipeline did and who did what in the console) and the payload as received. A
  ``SITE:PARTNER_ORDER_ID`` goes to the order's own address; an order that does not exist is the
  404 page.
- ``POST /orders/{id}/{action}`` (operator): ``customer`` (map to an ERP customer), ``create-customer``,
  ``map`` (terms, ship-via, sales rep, warehouse), ``price-type``, ``import`` (``allow_duplicate``
  for a duplicate PO), ``reject``, ``revalidate``, ``mark`` (shipped / paid / void). Each form
  carries the order's ``state`` and ``validated_at`` as drawn: when the order changed since, nothing
  is done and the fresh page is drawn with the message (409). Otherwise the change is made
  (``web.console.changes``) and the order's page says what it did and released.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.db import session_scope
from services import orders as queries
from services.fixes import FixError
from services.sites import get_site
from web.console import changes, sessions
from web.console.auth import require, visitor
from web.console.render import env, error_page, render

OPEN = ("downloaded", "valid", "invalid", "duplicate")
NOT_FOUND = "There is no order {ref}. Orders are named by their Bobbin id or SITE:PARTNER_ORDER_ID."


def code_spans(text: str) -> Markup:
    """A hint as HTML: escaped, its `commands` in <code>."""
    parts = re.split(r"`([^`]*)`", text)
    return Markup("").join(escape(p) if i % 2 == 0 else Markup("<code>%s</code>") % p for i, p in enumerate(parts))


env.filters["code_spans"] = code_spans


def _order_id(ref: str) -> int | None:
    """The order id a reference names (a Bobbin id or SITE:PARTNER_ORDER_ID); None when there is none."""
    ref = ref.strip()
    if queries.ref_syntax_error(ref):
        return None
    with session_scope() as s:
        try:
            [oid] = queries.resolve_order_refs(s, [ref])
        except queries.OrderRefError:
            return None
        return oid if queries.states_of(s, [oid]) else None


def _page_data(order_id: int) -> dict[str, Any] | None:
    with session_scope() as s:
        try:
            order = queries.order_detail(s, order_id, raw=True)
        except queries.OrderNotFound:
            return None
        history = queries.order_history(s, order_id)
        site = get_site(s, order["site_id"])
        codes = {p["code"] for p in order["problems"]}
        kinds = {changes.MAPPING_KINDS[c] for c in codes if c in changes.MAPPING_KINDS}
        if "price_type_missing" in codes:
            kinds.add("price_type")
        choices = {kind: queries.erp_codes(s, kind) for kind in kinds}
        customers: dict[str, Any] = {}
        if "customer_unknown" in codes:
            customers = {
                "candidates": queries.customer_candidates(s, order_id),
                "division": queries.division_customers(s, site.division_code),
                "division_code": site.division_code,
            }
        [stamp] = queries.state_stamps(s, [order_id]).values()
    return {
        "order": order,
        "history": history,
        "choices": choices,
        "customers": customers,
        "mapping_kinds": changes.MAPPING_KINDS,
        "kind_words": changes.KIND_WORDS,
        "state": stamp[0],
        "validated_at": stamp[1].isoformat() if stamp[1] else "",
        "raw": json.dumps(order.get("raw"), indent=2, ensure_ascii=False, default=str, sort_keys=True),
        "open": order["state"] in OPEN,
        "title": f"Order {order['id']}",
    }


async def _draw(request: Request, order_id: int, *, status_code: int = 200) -> Response:
    data = await run_in_threadpool(_page_data, order_id)
    if data is None:
        return error_page(request, 404, "No such order", NOT_FOUND.format(ref=order_id))
    return render(request, "order.html", data, status_code=status_code)


@require("viewer")
async def order_page(request: Request) -> Response:
    ref = str(request.path_params["ref"])
    found = await run_in_threadpool(_order_id, ref)
    if not isinstance(found, int):
        return error_page(request, 404, "No such order", NOT_FOUND.format(ref=ref))
    if ref.strip() != str(found):  # SITE:PARTNER_ORDER_ID: the order's own address
        return RedirectResponse(f"/orders/{found}", status_code=303)
    return await _draw(request, found)


# --- changes -------------------------------------------------------------------------------------

ACTIONS = ("customer", "create-customer", "map", "price-type", "import", "reject", "revalidate", "mark")


def _change(who: Any, order_id: int, action: str, form: Any) -> changes.Done:
    user = who.user

    def field(name: str) -> str:
        return str(form.get(name) or "").strip()

    if action == "customer":
        return changes.guarded(changes.resolve_customer, user, order_id, field("customer_code"))
    if action == "create-customer":
        return changes.guarded(changes.create_customer, user, order_id, field("code") or None)
    if action == "map":
        return changes.guarded(
            changes.map_value, user, order_id, field("kind"), str(form.get("partner_value") or ""), field("erp_code")
        )
    if action == "price-type":
        return changes.guarded(changes.set_price_type, user, order_id, field("currency"), field("price_type"))
    if action == "import":
        return changes.guarded(changes.import_orders, user, [order_id], allow_duplicate=bool(field("allow_duplicate")))
    if action == "reject":
        return changes.guarded(changes.reject_orders, user, [order_id])
    if action == "revalidate":
        return changes.guarded(changes.revalidate_orders, user, [order_id])
    if action == "mark":
        return changes.guarded(changes.mark_orders, user, [order_id], field("status"))
    raise FixError(f"no action {action!r}")


@require("operator")
async def change(request: Request) -> Response:
    order_id = int(request.path_params["order_id"])
    action = str(request.path_params["action"])
    if action not in ACTIONS:
        return error_page(request, 404, "Not found", "There is no such change to make on an order.")
    form = await request.form()
    who = visitor(request)
    seen = changes.stamp_text(str(form.get("state") or ""), str(form.get("validated_at") or ""))
    changed = await run_in_threadpool(changes.changed_since, {order_id: seen})
    if changed.get(order_id) == "gone":
        return error_page(request, 404, "No such order", NOT_FOUND.format(ref=order_id))
    if changed:
        request.state.flash = (changes.stale_message(changed), "error")
        return await _draw(request, order_id, status_code=409)
    done = await run_in_threadpool(_change, who, order_id, action, form)
    await run_in_threadpool(sessions.flash, who.session, done.message, done.kind)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


routes: list[BaseRoute] = [
    Route("/orders/{order_id:int}/{action:str}", change, methods=["POST"]),
    Route("/orders/{ref:path}", order_page, methods=["GET"]),
]
