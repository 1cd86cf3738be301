"""What the console's order pages change, and how each change is told back.

Every function here is plain and synchronous (the pages call it with ``run_in_threadpool``): it
calls the same service as the ``bobbin`` command that does the same work — ``services.fixes`` for
fixes, imports and rejections, ``services.pipeline.revalidate_site`` to check orders again,
``services.writeback.mark`` + ``flush`` to mark orders back on the partner — records who did it
with ``services.users.record_action`` (one row per order it was asked for, so each order's history
shows it), and returns a ``Done``: one sentence for the next page, with what the change released
("2 orders became valid, 2 imported: …").

A fix is recorded once the service has made it (the service commits its own transaction); a mark
is recorded in the very transaction that queues it.

Mark back sends at once, as ``bobbin orders mark`` does (``writeback.mark`` then ``writeback.flush``
of the rows it queued), rather than queueing ``tasks.status.mark_orders`` on the worker: the person
sees each order's outbox state (sent, retrying with the partner's message, refused) on the page
that follows the button, with nothing to poll, and a send that fails stays in the outbox for the
scheduled flush exactly as it would from the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from core.db import session_scope
from services import fixes, mappings, users
from services import orders as queries
from services.sites import SiteError, get_site, update_settings
from services.users import User
from web.console.render import plural

log = structlog.get_logger()

# problem code -> the mapping kind that fixes it with an ERP code picked from a list (services.mappings)
MAPPING_KINDS = {code: kind for code, kind in mappings.CODE_KINDS.items() if kind in mappings.PICKED_KINDS}
KIND_WORDS = {**mappings.KIND_WORDS, "price_type": "price type"}
MARK_STATUSES = ("shipped", "paid", "void")
LISTED = 10  # orders named in a message; the rest are counted


@dataclass
class Done:
    """The outcome of a change, for the next page: a sentence, and whether it went wrong."""

    message: str
    kind: str = "info"  # info | error
    order_ids: list[int] = field(default_factory=list)


# --- did the order change since the page was drawn? ------------------------------------------------


def stamp(state: str, validated_at: datetime | None) -> str:
    """What a form carries of the order as it was drawn: its state and when it was last checked."""
    return f"{state}|{validated_at.isoformat() if validated_at else ''}"


def stamp_text(state: str, validated_at: str) -> str:
    """The same, from a form's ``state`` and ``validated_at`` fields."""
    return f"{state}|{validated_at}"


def changed_since(seen: dict[int, str]) -> dict[int, str]:
    """order id -> its state now, for each order whose stamp is not the one the form carried
    (an order that is gone is "gone")."""
    with session_scope() as s:
        now = queries.state_stamps(s, list(seen))
    out = {}
    for oid, was in seen.items():
        if oid not in now:
            out[oid] = "gone"
        elif stamp(*now[oid]) != was:
            out[oid] = now[oid][0]
    return out


def stale_message(changed: dict[int, str]) -> str:
    named = ", ".join(f"order {oid} (now {state})" for oid, state in list(changed.items())[:LISTED])
    more = f" and {len(changed) - LISTED} more" if len(changed) > LISTED else ""
    return (
        f"Nothing was done: {named}{more} changed since this page was drawn (someone else, or an import, "
        "got there first). Here is the page as it is now: check it, then try again."
    )


# --- what a change released ---------------------------------------------------------------------


def _listing(outcomes: Sequence[queries.OrderOutcome]) -> str:
    parts = []
    for o in outcomes[:LISTED]:
        text = f"{o['id']} ({o['site']}:{o['partner_order_id']}"
        text += f" → {o['sales_order']})" if o["sales_order"] else ")"
        parts.append(text)
    more = f" and {len(outcomes) - LISTED} more" if len(outcomes) > LISTED else ""
    return ", ".join(parts) + more


def released(before: dict[int, str]) -> tuple[str, list[int]]:
    """What became of the orders that were open before a change: "N orders became valid, M
    imported: …" and the ids that changed."""
    with session_scope() as s:
        after = queries.states_of(s, list(before))
        valid = [oid for oid, was in before.items() if was != "valid" and after.get(oid) in ("valid", "imported")]
        imported = [oid for oid in before if after.get(oid) == "imported"]
        changed = list(dict.fromkeys(valid + imported))
        outcomes = queries.order_outcomes(s, changed)
    if not changed:
        return "No held order became valid.", []
    sentence = f"{plural(len(valid), 'order')} became valid, {len(imported)} imported: {_listing(outcomes)}."
    return sentence, changed


def _revalidation_words(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f" Checking the orders again was postponed: {result['skipped']}."
    return ""


def _this_order(order_id: int) -> str:
    with session_scope() as s:
        [o] = queries.order_outcomes(s, [order_id])
    if o["state"] is None:
        return ""
    if o["state"] == "imported":
        return f" Order {order_id} is imported as {o['sales_order']}."
    if o["error_codes"]:
        return f" Order {order_id} is {o['state']}: {', '.join(o['error_codes'])}."
    return f" Order {order_id} is {o['state']}."


def _site_of(order_id: int) -> tuple[int, str]:
    with session_scope() as s:
        sites = queries.sites_of(s, [order_id])
        if order_id not in sites:
            raise fixes.FixError(f"no order {order_id}")
        site = get_site(s, sites[order_id])
        return site.id, site.name


def _open_before(site_ids: Sequence[int]) -> dict[int, str]:
    with session_scope() as s:
        return queries.open_order_states(s, list(dict.fromkeys(site_ids)))


def _now() -> datetime:
    return datetime.now(UTC)


def _record(user: User, action: str, order_ids: Sequence[int], summary: str, asked_at: datetime, **detail: Any) -> None:
    """One ``console_action`` row per order (each order's history shows who did it), saying when
    the person asked (``asked_at``: the history places it there, before what the change caused)."""
    with session_scope() as s:
        sites = queries.sites_of(s, list(order_ids))
        for oid in order_ids:
            users.record_action(
                s,
                user,
                action,
                order_id=oid,
                site_id=sites.get(oid),
                detail={"summary": summary, "asked_at": asked_at.isoformat(), **detail},
            )
    log.info("console_change", user=user.username, action=action, orders=list(order_ids))


# --- fixes on one order -------------------------------------------------------------------------


def resolve_customer(user: User, order_id: int, customer_code: str) -> Done:
    asked = _now()
    code = customer_code.strip()
    if not code:
        return Done("Type or pick the ERP customer code to map the customer to.", "error")
    site_id, _ = _site_of(order_id)
    before = _open_before([site_id])
    result = fixes.resolve_customer(order_id, code)
    sentence, changed = released(before)
    summary = f"mapped the customer to ERP customer {code}"
    _record(user, "resolve_customer", [order_id], summary, asked, customer_code=code, released=changed)
    return Done(
        f"Mapped the customer of order {order_id} to ERP customer {code}. {sentence}"
        + _revalidation_words(result)
        + _this_order(order_id),
        order_ids=changed,
    )


def create_customer(user: User, order_id: int, code: str | None) -> Done:
    asked = _now()
    site_id, _ = _site_of(order_id)
    before = _open_before([site_id])
    made, result = fixes.create_customer_from_order(order_id, (code or "").strip() or None)
    sentence, changed = released(before)
    _record(
        user,
        "create_customer",
        [order_id],
        f"created ERP customer {made} from the order",
        asked,
        customer_code=made,
        released=changed,
    )
    return Done(
        f"Created ERP customer {made} from order {order_id} and mapped the partner's customer to it. {sentence}"
        + _revalidation_words(result)
        + _this_order(order_id),
        order_ids=changed,
    )


def map_value(user: User, order_id: int, kind: str, partner_value: str, erp_code: str) -> Done:
    asked = _now()
    if kind not in MAPPING_KINDS.values():
        return Done(f"{kind!r} cannot be mapped here.", "error")
    if not partner_value.strip():
        return Done("The order has no value to map.", "error")
    if not erp_code.strip():
        return Done(f"Pick the ERP {KIND_WORDS[kind]} to map to.", "error")
    site_id, site_name = _site_of(order_id)
    before = _open_before([site_id])
    result = fixes.add_mapping(site_id, kind, partner_value, erp_code.strip())
    sentence, changed = released(before)
    what = f'mapped {KIND_WORDS[kind]} "{partner_value.strip()}" → {erp_code.strip()} on {site_name}'
    _record(
        user,
        "map",
        [order_id],
        what,
        asked,
        kind=kind,
        partner_value=partner_value.strip(),
        erp_code=erp_code.strip(),
        released=changed,
    )
    return Done(
        f"{what[0].upper()}{what[1:]}. {sentence}" + _revalidation_words(result) + _this_order(order_id),
        order_ids=changed,
    )


def set_price_type(user: User, order_id: int, currency: str, price_type: str) -> Done:
    """The site's price type for the order's currency (the ``price_types`` setting), then check again."""
    asked = _now()
    from services.pipeline import revalidate_site

    currency = currency.strip().upper()
    if not currency:
        return Done("The order has no currency: correct it on the partner.", "error")
    with session_scope() as s:
        if price_type not in {c for c, _ in queries.erp_codes(s, "price_type")}:
            return Done(f"{price_type!r} is not an ERP price type.", "error")
        sites = queries.sites_of(s, [order_id])
        if order_id not in sites:
            raise fixes.FixError(f"no order {order_id}")
        site = get_site(s, sites[order_id])
        site_id, site_name = site.id, site.name
    before = _open_before([site_id])
    with session_scope() as s:
        update_settings(s, get_site(s, site_id), {"price_types": {currency: price_type}})
    result = revalidate_site(site_id)
    sentence, changed = released(before)
    what = f"set the price type of {currency} orders on {site_name} to {price_type}"
    _record(user, "set_price_type", [order_id], what, asked, currency=currency, price_type=price_type, released=changed)
    return Done(
        f"{what[0].upper()}{what[1:]}. {sentence}" + _revalidation_words(result) + _this_order(order_id),
        order_ids=changed,
    )


# --- one order or a selection -------------------------------------------------------------------


def import_orders(user: User, order_ids: list[int], *, allow_duplicate: bool = False) -> Done:
    """Check the orders again and import the valid ones (``allow_duplicate``: a duplicate PO too)."""
    asked = _now()
    with session_scope() as s:
        before = queries.states_of(s, order_ids)
    totals = fixes.import_by_hand(order_ids, allow_duplicate=allow_duplicate)
    with session_scope() as s:
        outcomes = queries.order_outcomes(s, order_ids)
    newly = [o for o in outcomes if o["state"] == "imported" and before.get(o["id"]) != "imported"]
    left = [o for o in outcomes if o["state"] != "imported"]
    words = "imported as a duplicate anyway" if allow_duplicate else "import asked"
    for o in outcomes:
        now = f"imported as {o['sales_order']}" if o["state"] == "imported" else f"still {o['state']}"
        _record(
            user,
            "import_duplicate" if allow_duplicate else "import",
            [o["id"]],
            f"{words}: {now}",
            asked,
            imported=totals.get("imported", 0),
        )
    message = f"Imported {plural(len(newly), 'order')}"
    message += f": {_listing(newly)}." if newly else "."
    kind = "info"
    if left:
        kind = "error" if not newly else "info"
        why = "; ".join(
            f"{o['id']} is {o['state'] or 'gone'}" + (f" ({', '.join(o['error_codes'])})" if o["error_codes"] else "")
            for o in left[:LISTED]
        )
        message += f" Not imported: {why}."
    if newly:
        message += " The partner is told each was exported by the outbox."
    return Done(message, kind, [o["id"] for o in newly])


def reject_orders(user: User, order_ids: list[int]) -> Done:
    asked = _now()
    rejected, failed = [], {}
    for oid in order_ids:
        try:
            fixes.reject(oid)
            rejected.append(oid)
        except fixes.FixError as exc:
            failed[oid] = str(exc)
    if rejected:
        _record(user, "reject", rejected, "rejected: it is never imported", asked)
    message = f"Rejected {plural(len(rejected), 'order')}" + (
        f": {', '.join(map(str, rejected))}." if rejected else "."
    )
    if failed:
        message += " Not rejected: " + "; ".join(f"{oid}: {why}" for oid, why in failed.items()) + "."
    return Done(message, "error" if failed else "info", rejected)


def revalidate_orders(user: User, order_ids: list[int]) -> Done:
    """Check the orders again (and import those that became valid), site by site."""
    asked = _now()
    from services.pipeline import revalidate_site

    with session_scope() as s:
        sites = queries.sites_of(s, order_ids)
    by_site: dict[int, list[int]] = {}
    for oid in order_ids:
        if oid in sites:
            by_site.setdefault(sites[oid], []).append(oid)
    before = _open_before(list(by_site))
    postponed = ""
    for site_id, ids in by_site.items():
        result = revalidate_site(site_id, ids)
        postponed += _revalidation_words(result)
    sentence, changed = released(before)
    _record(user, "revalidate", [oid for oid in order_ids if oid in sites], "checked again", asked)
    with session_scope() as s:
        outcomes = queries.order_outcomes(s, order_ids)
    still = [o for o in outcomes if o["state"] in ("invalid", "duplicate")]
    message = f"Checked {plural(len(order_ids), 'order')} again. {sentence}{postponed}"
    if still:
        message += " Still held: " + "; ".join(f"{o['id']} ({', '.join(o['error_codes'])})" for o in still[:LISTED])
        message += "."
    return Done(message, order_ids=changed)


@dataclass(frozen=True)
class MarkLine:
    """One order after a mark: where its status change stands."""

    order_id: int
    result: str  # sent, retrying, refused, held, queued, skipped
    detail: str | None


def mark_orders(user: User, order_ids: list[int], status: str) -> tuple[Done, list[MarkLine]]:
    """Mark the orders ``status`` in the ERP and on the partner: queued and sent at once (the CLI's
    ``orders mark``); each order's outbox state after the send."""
    from connectors.errors import PartnerError
    from core.crypto import CredentialsError
    from services import writeback

    if status not in MARK_STATUSES:
        return Done(f"{status!r} is not a status to mark: use {', '.join(MARK_STATUSES)}.", "error"), []
    with session_scope() as s:
        result = writeback.mark(s, order_ids, status)
        sites = queries.sites_of(s, result.queued)
        for oid in result.queued:
            users.record_action(
                s,
                user,
                f"mark_{status}",
                order_id=oid,
                site_id=sites.get(oid),
                detail={"summary": f"marked {status}: queued for the partner"},
            )
    send_error = None
    if result.queued:
        with session_scope() as s:
            outbox_ids = queries.pending_outbox_ids(s, result.queued, status)
        if outbox_ids:
            try:
                writeback.flush(outbox_ids=outbox_ids)
            except (PartnerError, CredentialsError) as exc:
                send_error = str(exc)
    with session_scope() as s:
        rows = queries.outbox_rows(s, result.queued, status)
    lines = []
    for oid in order_ids:
        if oid in result.skipped:
            lines.append(MarkLine(oid, "skipped", result.skipped[oid]))
            continue
        w = rows.get(oid)
        if w is None:
            lines.append(MarkLine(oid, "queued", send_error))
        elif w.state == "sent":
            lines.append(MarkLine(oid, "sent", None))
        elif w.state == "dead":
            lines.append(MarkLine(oid, "refused", w.last_error))
        elif w.state == "held":
            lines.append(MarkLine(oid, "held", w.last_error))
        elif w.attempts:
            lines.append(MarkLine(oid, "retrying", w.last_error))
        else:
            lines.append(MarkLine(oid, "queued", send_error or "waits for the next flush"))
    parts = [f"{ln.order_id} {ln.result}" + (f" ({ln.detail})" if ln.detail else "") for ln in lines[:LISTED]]
    more = f" and {len(lines) - LISTED} more" if len(lines) > LISTED else ""
    bad = any(ln.result in ("skipped", "refused", "held") for ln in lines)
    message = f"Marked {status}: {'; '.join(parts)}{more}."
    return Done(message, "error" if bad else "info", list(result.queued)), lines


def guarded(call: Any, *args: Any, **kwargs: Any) -> Done:
    """Run a change; the errors a person must act on (FixError, SiteError, a refused mark) become
    the message of the next page."""
    from services.writeback import MarkError

    try:
        done = call(*args, **kwargs)
    except (fixes.FixError, SiteError, MarkError) as exc:
        return Done(str(exc)[:1].upper() + str(exc)[1:] + ("" if str(exc).endswith(".") else "."), "error")
    if isinstance(done, tuple):
        return done[0]
    assert isinstance(done, Done)
    return done
