"""The holding area: stage partner orders exactly once, validate them, record each problem.

- ``stage_page`` upserts one page of partner orders on (site, partner order id), keeping the raw
  payload. A re-sent order that changed on the partner (and is not imported yet) is replaced and
  goes back to ``downloaded``; an imported order is never touched again.
- ``validate_orders`` re-reads each open order's raw payload through the partner's mapper,
  applies every rule against master data loaded once, and writes the difference in problems:
  new problems become rows, problems no longer found get ``resolved_at`` — nothing is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, overload

import orjson
from sqlalchemy import (
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, load_only

from connectors.base import PartnerOrder, Problem
from connectors.registry import NotOffered, UnknownPartner, partner
from connectors.settings import SiteSettings
from core.db import connection_lost
from core.pgtext import UNSTORABLE, pg_safe
from models import InboundOrder, Mapping, OrderError, OutboxEntry, SalesOrder, WritebackAttempt
from models.orders import pack_payload
from services import masterdata
from services.buyers import adopt_buyer
from services.context import SiteContext
from services.masterdata import MasterData
from services.outbox import EXPORTED, queue_customer_code, queue_exported, takes_customer_codes
from services.problems import NOT_FROM_VALIDATION
from services.validation import Outcome, customer_key, validate

OPEN_STATES = ("downloaded", "valid", "invalid", "duplicate")
# Orders validated per flush of state updates and error rows: bounded memory, few round trips.
VALIDATE_BATCH = 500
MAX_TOTAL = Decimal("999999999999")  # what inbound_order.total (numeric 14,2) can hold
VALUE_MAX = 200  # characters of an offending value kept on an error row
# Longest partner customer key kept as an automatic mapping (mapping.partner_value is indexed, and an
# index entry has a size limit); a longer key is still matched, order by order, just not remembered.
MAPPING_KEY_MAX = 200


@overload
def _clip(text: str, length: int) -> str: ...
@overload
def _clip(text: None, length: int) -> None: ...
@overload
def _clip(text: str | None, length: int) -> str | None: ...


def _clip(text: str | None, length: int) -> str | None:
    return text if text is None or len(text) <= length else text[: length - 1] + "…"


# In JSON text (ASCII-escaped), what ``pg_safe`` would have replaced: a NUL, a surrogate (a lone one;
# a pair is a character beyond the BMP, a false alarm that only costs the careful path), NaN or ±Infinity.
_UNSAFE_ESCAPES = r"\\u0000|\\ud[89abcdef]"
UNSAFE_JSON = re.compile(_UNSAFE_ESCAPES + "|NaN|Infinity")
UNSAFE_ESCAPE = re.compile(_UNSAFE_ESCAPES)  # its first half, for ``unsafe_json``


def unsafe_json(text: str) -> bool:
    """Whether ``UNSAFE_JSON`` matches ``text``, found by substring searches first (the regex's
    alternation tried at every position was 0.07 s of a 10,000-order import's reading thread)."""
    return ("\\u" in text and UNSAFE_ESCAPE.search(text) is not None) or "NaN" in text or "Infinity" in text


def raw_json(raw: Any) -> str:
    """The raw payload as the JSON text stored (made safe for Postgres, keys sorted): encoded once
    per order, both what is packed and what ``raw_hash`` digests. Encodes what ``pg_safe(raw)``
    holds; the walk through the payload happens only when the text shows it is needed.

    orjson encodes (compact, UTF-8, a fifth of the standard encoder's time on a page); what it
    refuses (a lone surrogate, an integer beyond 64 bits, keys that are not text) goes through
    the standard encoder, made safe first. A NUL shows as ``\\u0000`` in either; a NaN or an
    infinity is ``null`` in either (orjson writes it so; ``pg_safe`` makes it None)."""
    try:
        text = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _safe_json(raw)
    return _safe_json(raw) if unsafe_json(text) else text


def _safe_json(raw: Any) -> str:
    """The careful path of ``raw_json``: the payload made safe for Postgres, then encoded."""
    return json.dumps(pg_safe(raw), sort_keys=True, default=str)


def raw_hash(raw: Any, text: str | None = None) -> str:
    """Digest of the stored payload: an order re-sent unchanged is recognised without comparing JSON."""
    return hashlib.sha256((raw_json(raw) if text is None else text).encode("utf-8", "replace")).hexdigest()


def _plain(value: Any) -> Any:
    """A mapper's dataclasses as JSON-ready data in one pass: Decimal and dates as text, NUL, lone
    surrogates and non-finite floats made safe for Postgres (what ``pg_safe`` does), the raw payload
    left out."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value) if UNSTORABLE.search(value) else value
    if hasattr(value, "__dataclass_fields__"):  # what is not there (None) is left out: readers use .get
        return {k: _plain(v) for k, v in vars(value).items() if k != "raw" and v is not None}
    if isinstance(value, (Decimal, date)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def normalized(order: PartnerOrder) -> dict[str, Any]:
    """Header and lines as the mapper read them, as JSON-ready data (for people to read; the raw
    payload stays the truth)."""
    return _plain(order)


def read_normalized(order: InboundOrder, kind: str) -> dict[str, Any]:
    """A held order as its partner's mapper reads its payload now (``normalized``), for the order
    page; ``{}`` when the site's partner kind is not registered in this installation."""
    try:
        mapper = partner(kind).capability("orders").to_partner_order
    except (UnknownPartner, NotOffered):
        return {}
    return normalized(mapper(order.raw))


def order_total(order: PartnerOrder) -> Decimal | None:
    """The order's total as Bobbin holds it: the sum of quantity × price over the lines that have
    both, to the cent; None when it cannot be told (an overflow, or beyond ``MAX_TOTAL``)."""
    try:
        total = sum(
            (ln.quantity * ln.price for ln in order.lines if ln.quantity is not None and ln.price is not None),
            Decimal("0"),
        )
    except ArithmeticError:
        return None
    return total.quantize(Decimal("0.01")) if total.is_finite() and abs(total) <= MAX_TOTAL else None


def _short(value: str | None, length: int) -> str | None:
    return value if value is not None and len(value) <= length else None


def header_columns(order: PartnerOrder) -> dict[str, Any]:
    """The inbound order's list columns, from the normalized order."""
    c = order.customer
    return pg_safe(
        {
            "partner_status": order.partner_status,
            "po_number": order.po_number,
            "customer_ref": c.name or c.code or c.partner_id or c.email,
            "order_date": order.order_date,
            "ship_date": order.ship_date,
            "cancel_date": order.cancel_date,
            "currency": _short(order.currency, 3),
            "total": order_total(order),
            "line_count": len(order.lines),
        }
    )


# A page upserted on (site, partner order id). A held order the partner re-sent changed (another
# digest) takes the new payload and goes back to ``downloaded``; an imported or rejected one is
# never touched; one re-sent unchanged is not returned (``stage_page`` notes it as seen).
STAGE_COLUMNS = (
    "partner_order_id",
    "raw",
    "raw_hash",
    "partner_status",
    "po_number",
    "customer_ref",
    "order_date",
    "ship_date",
    "cancel_date",
    "currency",
    "total",
    "line_count",
)
STAGE_PAGE = text(
    """INSERT INTO inbound_order AS o (site_id, state, partner_order_id, raw, raw_hash, partner_status,
        po_number, customer_ref, order_date, ship_date, cancel_date, currency, total, line_count)
    SELECT :site_id, 'downloaded', p.* FROM unnest(
        CAST(:partner_order_id AS text[]), CAST(:raw AS bytea[]), CAST(:raw_hash AS text[]),
        CAST(:partner_status AS text[]), CAST(:po_number AS text[]), CAST(:customer_ref AS text[]),
        CAST(:order_date AS date[]), CAST(:ship_date AS date[]), CAST(:cancel_date AS date[]),
        CAST(:currency AS text[]), CAST(:total AS numeric[]), CAST(:line_count AS integer[])
    ) AS p
    ON CONFLICT (site_id, partner_order_id) DO UPDATE SET
        raw = excluded.raw, raw_hash = excluded.raw_hash, partner_status = excluded.partner_status,
        po_number = excluded.po_number, customer_ref = excluded.customer_ref,
        order_date = excluded.order_date, ship_date = excluded.ship_date,
        cancel_date = excluded.cancel_date, currency = excluded.currency, total = excluded.total,
        line_count = excluded.line_count, state = 'downloaded', last_seen_at = now()
    WHERE o.state <> 'imported' AND o.state <> 'rejected' AND o.raw_hash <> excluded.raw_hash
    RETURNING o.id, o.partner_order_id, o.xmax = 0 AS inserted"""
)


@dataclass
class StageResult:
    seen: int = 0
    new: int = 0
    changed: int = 0
    ids: list[int] = field(default_factory=list)  # new or changed: to validate
    fresh: dict[int, PartnerOrder] = field(default_factory=dict)  # those, as mapped from this page
    new_ids: set[int] = field(default_factory=set)  # of those, the rows just inserted (no problem rows yet)
    all_ids: list[int] = field(default_factory=list)  # every order of the page
    imported_ids: list[int] = field(default_factory=list)  # already imported: left untouched
    exported_again: int = 0  # of those, "exported" queued once more (note_still_listed)
    not_taken: int = 0  # of those, given up on now: an ``exported_not_taken`` warning recorded


def stage_page(session: Session, site_id: int, orders: list[PartnerOrder]) -> StageResult:
    """Upsert one page into the holding area (one statement), idempotent on (site, partner id).

    New and changed orders come back in ``ids`` and, as mapped, in ``fresh`` (validated from
    there, not mapped again); orders held unchanged only get ``last_seen_at``."""
    by_id = {pg_safe(o.partner_order_id): o for o in orders}  # a partner repeating an id in a page: last wins
    result = StageResult(seen=len(by_id))
    if not by_id:
        return result
    columns: dict[str, list[Any]] = {name: [] for name in STAGE_COLUMNS}
    for pid, o in by_id.items():
        encoded = raw_json(o.raw)  # encoded once: what is packed and what is digested
        for name, value in (
            ("partner_order_id", pid),
            ("raw", pack_payload(encoded)),
            ("raw_hash", raw_hash(o.raw, encoded)),
            *header_columns(o).items(),
        ):
            columns[name].append(value)
    # One statement a page, its rows as one array per column (a literal statement: nothing to
    # compile, a handful of parameters to bind whatever the page's size).
    returned: set[str] = set()
    for row in session.execute(STAGE_PAGE, {"site_id": site_id, **columns}):
        returned.add(row.partner_order_id)
        result.ids.append(row.id)
        result.all_ids.append(row.id)
        result.fresh[row.id] = by_id[row.partner_order_id]
        if row.inserted:
            result.new += 1
            result.new_ids.add(row.id)
        else:
            result.changed += 1
    unchanged = [pid for pid in by_id if pid not in returned]  # held already, or imported: seen again
    if unchanged:
        for row in session.execute(
            update(InboundOrder)
            .where(InboundOrder.site_id == site_id, InboundOrder.partner_order_id.in_(unchanged))
            .values(last_seen_at=func.now())
            .returning(InboundOrder.id, InboundOrder.state)
        ):
            result.all_ids.append(row.id)
            if row.state == "imported":
                result.imported_ids.append(row.id)
    return result


def note_modified(session: Session, site_id: int, orders: list[PartnerOrder]) -> StageResult:
    """Orders the partner says changed after they were exported. A held order takes the new
    payload (and is validated again); an imported one is never re-imported: it gets a
    ``modified_after_export`` warning for a person. Either way it is marked exported again.
    An order Bobbin never held (exported by something else before) is left alone: importing it
    now could double an order the ERP already has."""
    known = set(
        session.scalars(
            select(InboundOrder.partner_order_id).where(
                InboundOrder.site_id == site_id, InboundOrder.partner_order_id.in_([o.partner_order_id for o in orders])
            )
        )
    )
    staged = stage_page(session, site_id, [o for o in orders if o.partner_order_id in known])
    if staged.imported_ids:
        numbers = dict(
            session.execute(
                select(SalesOrder.inbound_order_id, SalesOrder.number).where(
                    SalesOrder.inbound_order_id.in_(staged.imported_ids)
                )
            ).all()
        )
        session.execute(
            pg_insert(OrderError).on_conflict_do_nothing(),
            [
                {
                    "order_id": oid,
                    "code": "modified_after_export",
                    "field": None,
                    "value": None,
                    "severity": "warning",
                    "message": f"The order changed on the partner after it was imported as ERP order {numbers.get(oid)}; "
                    "the ERP order was not changed.",
                }
                for oid in staged.imported_ids
            ],
        )
    return staged


# How many times "exported" is sent for an imported order the partner keeps listing as waiting
# (the first send included) before Bobbin stops and records ``exported_not_taken`` for a person.
EXPORTED_SENDS = 3


def note_still_listed(
    session: Session, ctx: SiteContext, staged: StageResult, read_from: datetime | None = None
) -> StageResult:
    """Imported orders the partner still lists as waiting (``staged.imported_ids``): it did not take
    the "exported" Bobbin sent, or a person put the order back. Staging leaves them alone, so
    without this they would be read on every run for ever. "exported" is sent once more, on the
    same outbox row — only when the last one was sent before this sighting and before
    ``read_from`` (when the run began to read its lists: a send that landed while the list was
    read proves nothing); a pending or retrying one is left to the outbox — and at most
    ``EXPORTED_SENDS`` times in all, counted from the successful attempts in ``writeback_attempt``.
    After that, one ``exported_not_taken`` warning for a person, and nothing more is sent.
    Caller commits."""
    ids = staged.imported_ids
    if not ids or not ctx.spec.offers("writeback") or EXPORTED not in ctx.spec.capability("writeback").statuses:
        return staged
    sends = (
        select(func.count())
        .where(WritebackAttempt.outbox_id == OutboxEntry.id, WritebackAttempt.ok.is_(True))
        .scalar_subquery()
    )
    rows = session.execute(
        select(OutboxEntry.inbound_order_id, sends.label("sends"), OutboxEntry.sent_at).where(
            OutboxEntry.inbound_order_id.in_(ids),
            OutboxEntry.status == EXPORTED,
            OutboxEntry.state == "sent",
            OutboxEntry.inbound_order_id == InboundOrder.id,
            OutboxEntry.sent_at < InboundOrder.last_seen_at,  # staging just set last_seen_at: seen after the send
            *([OutboxEntry.sent_at < read_from] if read_from is not None else []),
        )
    ).all()
    again = [r.inbound_order_id for r in rows if r.sends < EXPORTED_SENDS]
    staged.exported_again = queue_exported(session, ctx, again, "modified") if again else 0
    given_up = [r for r in rows if r.sends >= EXPORTED_SENDS]
    if given_up:
        numbers = dict(
            session.execute(
                select(SalesOrder.inbound_order_id, SalesOrder.number).where(
                    SalesOrder.inbound_order_id.in_([r.inbound_order_id for r in given_up])
                )
            ).all()
        )
        inserted = session.execute(
            pg_insert(OrderError).on_conflict_do_nothing().returning(OrderError.id),  # one open warning per order
            [
                {
                    "order_id": r.inbound_order_id,
                    "code": "exported_not_taken",
                    "field": None,
                    "value": None,
                    "severity": "warning",
                    "message": f"{ctx.label} still lists the order as waiting to be exported after Bobbin sent "
                    f'"exported" {r.sends} times (the last at {r.sent_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC); '
                    f"Bobbin sends it no more. It is ERP order {numbers.get(r.inbound_order_id)}, imported once.",
                }
                for r in given_up
            ],
        ).all()
        staged.not_taken = len(inserted)
    return staged


@dataclass
class ValidateResult:
    validated: int = 0
    states: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    new_problems: int = 0
    resolved_problems: int = 0
    valid_ids: list[int] = field(default_factory=list)
    # Valid orders as just checked, for importing them without reading and checking them again.
    checked: dict[int, tuple[PartnerOrder, Outcome]] = field(default_factory=dict)
    # What ``validate_staged``'s ``then_import`` did with them, in the same transaction; None: not
    # asked, or it failed (rolled back to before it; the orders are held ``valid``).
    imported: list[Any] | None = None
    import_error: str | None = None  # why ``then_import`` failed


# Imports a batch of just-checked valid orders in the caller's transaction and returns what it did
# (``services.erp_import.write_imports``); the order rows' states are the caller's to write.
ImportChecked = Callable[[Session, dict[int, tuple[PartnerOrder, Outcome]]], list[Any]]


def _key(code: str, line_no: int | None, fld: str | None, value: str | None) -> tuple[Any, ...]:
    return (code, line_no, fld, value)


def partner_order(order: InboundOrder, ctx: SiteContext) -> PartnerOrder:
    """The held order read again from its raw payload by its partner's mapper (the one source of
    truth), with the quantity the site imports (ordered, or shipped where the partner reports it)."""
    return for_site(ctx.spec.capability("orders").to_partner_order(order.raw), ctx.settings)


def for_site(partner: PartnerOrder, settings: SiteSettings) -> PartnerOrder:
    """The order with the quantity the site imports: ordered, or shipped where the partner reports it."""
    if settings.quantity == "shipped":
        partner = replace(
            partner,
            lines=tuple(
                replace(ln, quantity=ln.shipped_quantity, raw_quantity=ln.raw_shipped_quantity) for ln in partner.lines
            ),
        )
    return partner


def check(partner: PartnerOrder, order_id: int, ctx: SiteContext, md: MasterData) -> Outcome:
    """Every rule, with the site's settings (default warehouse, price types: parsed once per run,
    not per order) and its partner's field names."""
    return validate(
        partner,
        md,
        order_id=order_id,
        default_warehouse=ctx.settings.default_warehouse,
        fields=ctx.spec.capability("orders").order_fields,
        price_types=ctx.settings.price_types,
    )


def check_order(order: InboundOrder, ctx: SiteContext, md: MasterData) -> tuple[PartnerOrder, Outcome]:
    partner = partner_order(order, ctx)
    return partner, check(partner, order.id, ctx, md)


def open_order_ids(session: Session, site_id: int, order_ids: list[int] | None = None) -> list[int]:
    """The site's open orders (or those of ``order_ids`` that are open), oldest first."""
    query = (
        select(InboundOrder.id)
        .where(InboundOrder.site_id == site_id, InboundOrder.state.in_(OPEN_STATES))
        .order_by(InboundOrder.id)
    )
    if order_ids is not None:
        query = query.where(InboundOrder.id.in_(order_ids))
    return list(session.scalars(query))


def validate_orders(session: Session, ctx: SiteContext, order_ids: list[int], md: MasterData) -> ValidateResult:
    """Validate these open orders (oldest first; at most VALIDATE_BATCH at a time is best). Caller commits."""
    result = ValidateResult()
    orders = session.scalars(
        select(InboundOrder)
        .where(InboundOrder.id.in_(order_ids), InboundOrder.state.in_(OPEN_STATES))
        .options(load_only(InboundOrder.id, InboundOrder.raw, InboundOrder.po_number))
        .order_by(InboundOrder.id)
    ).all()
    if orders:
        mapper = ctx.spec.capability("orders").to_partner_order
        _validate_batch(session, ctx, [(o.id, o.po_number, mapper(o.raw)) for o in orders], md, result)
    return result


def validate_staged(
    session: Session,
    ctx: SiteContext,
    fresh: dict[int, PartnerOrder],
    md: MasterData,
    *,
    then_import: ImportChecked | None = None,
    new_ids: Collection[int] = (),
) -> ValidateResult:
    """Validate orders just staged (``StageResult.fresh``) as they were mapped from the page, without
    reading and mapping their payload again. Caller commits. ``new_ids``: those staging has just
    inserted (``StageResult.new_ids``), which have no problem rows to compare with yet.

    ``then_import``: import the valid ones in the same transaction, so each order row is written
    once — ``imported`` straight from ``downloaded`` — instead of ``valid`` in one transaction and
    ``imported`` in the next (the profile of a 10,000-order import had the second UPDATE, the lock
    taken before it and a commit a page). The import runs under a savepoint: if it fails, it is
    rolled back alone, the orders are held ``valid`` with their problems recorded, and
    ``result.imported`` stays None for the caller to import them one by one. Only rows still
    ``downloaded`` (as staging left them) are written: one a person acted on meanwhile is left as
    they made it, and not imported."""
    result = ValidateResult()
    if fresh:
        _validate_batch(
            session,
            ctx,
            [(oid, pg_safe(p.po_number), p) for oid, p in sorted(fresh.items())],
            md,
            result,
            then_import=then_import,
            new_ids=new_ids,
        )
    return result


# An order to validate: its id, its PO as held (the column, made safe as staging stores it), and the
# order as its mapper read it (the site's quantity is taken in _validate_batch).
Held = tuple[int, "str | None", PartnerOrder]


def _validate_batch(
    session: Session,
    ctx: SiteContext,
    orders: list[Held],
    md: MasterData,
    result: ValidateResult,
    *,
    then_import: ImportChecked | None = None,
    new_ids: Collection[int] = (),
) -> None:
    open_errors: dict[int, dict[tuple[Any, ...], int]] = defaultdict(dict)
    held = [o[0] for o in orders if o[0] not in new_ids]  # orders that may have open problems
    open_rows = (
        session.execute(
            select(
                OrderError.id,
                OrderError.order_id,
                OrderError.code,
                OrderError.line_no,
                OrderError.field,
                OrderError.value,
            ).where(
                OrderError.order_id.in_(held),
                OrderError.resolved_at.is_(None),
                OrderError.code.notin_(NOT_FROM_VALIDATION),
            )
        ).all()
        if held
        else []
    )
    for e in open_rows:
        open_errors[e.order_id][_key(e.code, e.line_no, e.field, e.value)] = e.id
    new_rows: list[dict[str, Any]] = []
    resolved_ids: list[int] = []
    auto_maps: dict[str, tuple[str, str]] = {}
    code_writebacks: dict[str, tuple[int, str]] = {}  # partner customer id -> (order, ERP code)
    state_rows: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    stores_codes = takes_customer_codes(ctx)
    settings = ctx.settings
    create, add_ship_to = settings.create_customers, settings.new_ship_to == "add"
    for order_id, po_number, mapped in orders:
        masterdata.release_po(md, order_id)
        partner = for_site(mapped, settings)
        if create or add_ship_to:  # customers and addresses the site makes from its orders
            adopt_buyer(session, ctx.site, create, add_ship_to, partner, md)
        outcome = check(partner, order_id, ctx, md)
        how, key = outcome.resolved.customer_how, customer_key(partner)
        if how and how.startswith("auto:") and key and len(key) <= MAPPING_KEY_MAX and outcome.resolved.customer_code:
            # Kept as a mapping that says how it was made, so a person can see and undo it.
            auto_maps[key] = (outcome.resolved.customer_code, how)
            md.mappings["customer"][masterdata.norm(key)] = outcome.resolved.customer_code
            if stores_codes and how != "auto:code" and partner.customer.partner_id:
                # The partner should carry the ERP code from now on (seed 002), so it maps by code.
                code_writebacks[partner.customer.partner_id] = (order_id, outcome.resolved.customer_code)
        found: dict[tuple[Any, ...], Problem] = {}
        for p in outcome.problems:
            p = Problem(**pg_safe(asdict(p)))
            # Indexed columns stay short (a btree row has a size limit); the raw payload keeps all.
            p = replace(
                p, value=_clip(p.value, VALUE_MAX), field=_clip(p.field, VALUE_MAX), message=_clip(p.message, 2000)
            )
            found.setdefault(_key(p.code, p.line_no, p.field, p.value), p)
        existing = open_errors.get(order_id, {})
        new_rows += [
            {
                "order_id": order_id,
                "line_no": p.line_no,
                "code": p.code,
                "field": p.field,
                "value": p.value,
                "message": p.message,
                "severity": p.severity,
            }
            for k, p in found.items()
            if k not in existing
        ]
        resolved_ids += [eid for k, eid in existing.items() if k not in found]
        state = outcome.state
        state_rows.append({"id": order_id, "state": state, "customer_code": outcome.resolved.customer_code})
        if outcome.resolved.customer_code and po_number and state in ("valid", "invalid"):
            masterdata.claim_po(md, outcome.resolved.customer_code, po_number, order_id)
        result.validated += 1
        result.states[state] += 1
        if state == "valid":
            result.valid_ids.append(order_id)
            result.checked[order_id] = (partner, outcome)
    if new_rows:
        inserted = session.execute(
            pg_insert(OrderError).on_conflict_do_nothing().returning(OrderError.id), new_rows
        ).all()
        result.new_problems += len(inserted)
    if auto_maps:
        session.execute(
            pg_insert(Mapping).on_conflict_do_nothing(),
            [
                {"site_id": ctx.id, "kind": "customer", "partner_value": k, "erp_code": code, "how": how}
                for k, (code, how) in auto_maps.items()
            ],
        )
    for partner_customer_id, (order_id, code) in code_writebacks.items():
        queue_customer_code(session, ctx, order_id, partner_customer_id, code)
    if resolved_ids:
        session.execute(update(OrderError).where(OrderError.id.in_(resolved_ids)).values(resolved_at=func.now()))
        result.resolved_problems += len(resolved_ids)
    if then_import is None or not result.checked:
        _write_states(session, state_rows, now)
        session.flush()
        return
    savepoint = session.begin_nested()
    try:
        # The valid orders go in as imported: the rows are written (and locked) first, then the
        # sales orders of those that were still as staged.
        written = _write_states(session, state_rows, now, imported=set(result.checked), only_if="downloaded")
        result.imported = then_import(session, {oid: c for oid, c in result.checked.items() if oid in written})
        savepoint.commit()
    except Exception as exc:  # (a constraint, a row changed under us): the caller imports one by one
        if connection_lost(exc):
            raise  # Postgres went away: nothing can be written here; the task is retried
        savepoint.rollback()
        result.imported, result.import_error = None, f"{type(exc).__name__}: {exc}"
        _write_states(session, state_rows, now, only_if="downloaded")
    session.flush()


# Each row's state and customer, and when it was validated; ``imported_at`` for the rows written
# ``imported``; with ``only_if``, only rows still in that state. One statement for a batch.
WRITE_STATES = text(
    """UPDATE inbound_order AS o SET state = c.state, customer_code = c.customer_code, validated_at = :now,
        imported_at = CASE WHEN c.state = 'imported' THEN :now ELSE o.imported_at END
    FROM unnest(CAST(:ids AS integer[]), CAST(:states AS text[]), CAST(:customer_codes AS text[]))
        AS c(id, state, customer_code)
    WHERE o.id = c.id AND (CAST(:only_if AS text) IS NULL OR o.state = CAST(:only_if AS text))
    RETURNING o.id"""
)


def _write_states(
    session: Session,
    state_rows: list[dict[str, Any]],
    now: datetime,
    *,
    imported: Collection[int] = (),
    only_if: str | None = None,
) -> set[int]:
    """Write the batch's states (``WRITE_STATES``): ``imported`` for the ids in ``imported``.
    Returns the ids written."""
    params = {
        "now": now,
        "ids": [r["id"] for r in state_rows],
        "states": ["imported" if r["id"] in imported else r["state"] for r in state_rows],
        "customer_codes": [r["customer_code"] for r in state_rows],
        "only_if": only_if,
    }
    return set(session.scalars(WRITE_STATES, params))
