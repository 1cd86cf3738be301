"""The returns flow (issue 16, seed 003): a held return becomes an RMA, its receipt restocks the
goods and asks Loop to process it, Loop's refund becomes a credit memo, and the AR debit that a
person posts by hand today is posted with it. Exchanges and voids too. Plain functions over a
session; the caller commits (each return's step commits with the outbox rows it queues).

One return moves through Bobbin's states (``models.returns.RETURN_STATES``)::

    received ─┬─> invalid ──(fixed: SKU loaded, customer set ...)──> rma
              └─> rma ──receipt of every line──> received_goods ──(Loop processed it)──> processed
                                                                                            │
                       credit memo + AR debit posted (a mismatch waits for a person) ──> credited
    any state before credited ──(Loop: cancelled, expired, closed without processing)──> void

What Loop's state says is read from the held payload (the newest one, ``services.returns``), so
applying a return again, from a webhook delivered twice, late or out of order, or from the poll,
changes nothing that is already done: every step checks what exists first, and the tables'
unique keys (one RMA per return, one credit memo per RMA, one AR debit per credit memo and per
exchange) hold even when two workers try at once.

Choices the documents leave open (marked "Choice:" where they are made):

- The original order is the ERP sales order whose ``po_number`` is the Shopify order's name (the
  ERP keeps a web order's name as its PO); the exchange order reaches the ERP the same way.
  An order not in the ERP is a warning on the return, not a block: Shopify orders often are not.
- The refund a credit memo records is what Loop says it refunded (``refunds[].amount``); gift
  cards (store credit) are Shopify's and left to it.
- The exchange's AR debit is Loop's ``exchange_credit_total`` (the returned items' value put
  toward the exchange), else its ``exchange_total``.
- Restocking: the site's ``default_warehouse``; a received unit goes into ``inventory.on_hand``
  there at once, so the next inventory push carries it.
- Loop is asked to process a return once every line is received in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.returns import FLAG, NOTE_CREDIT, NOTE_PROBLEM, NOTE_RMA, PROCESS, PartnerReturn, ReturnLine
from models import (
    ArAdjustment,
    CreditMemo,
    Customer,
    InboundReturn,
    Inventory,
    OutboxEntry,
    ReturnError,
    Rma,
    RmaLine,
    RmaReceipt,
    SalesOrder,
    Site,
    Sku,
    Warehouse,
)
from models.returns import credit_memo_number, rma_number
from services.context import SiteContext
from services.holding import VALUE_MAX
from services.outbox import queue_return_action

log = structlog.get_logger()

# Loop's states [DOC] (connectors.loop.contract.STATES), as the flow reads them.
LOOP_CLOSED, LOOP_CANCELLED, LOOP_EXPIRED = "closed", "cancelled", "expired"
ZERO = Decimal("0.00")

# Problem codes a return can have (return_error.code); the first group blocks the RMA.
PAYLOAD_INVALID = "payload_invalid"
NO_LINES = "no_lines"
SKU_MISSING = "sku_missing"
SKU_UNKNOWN = "sku_unknown"
ORDER_NAME_MISSING = "order_name_missing"
CUSTOMER_UNKNOWN = "customer_unknown"
WAREHOUSE_MISSING = "warehouse_missing"
ORDER_UNKNOWN = "order_unknown"  # warning: the RMA is made without the original order
AMOUNT_TOO_LARGE = "amount_too_large"  # an amount the ERP's money columns cannot hold
EXCHANGE_ORDER_TAKEN = "exchange_order_taken"  # the exchange order's name is another RMA's already
REFUND_MISMATCH = "refund_mismatch"  # at credit time: the memo waits for a person
CONTRACT_VIOLATION = "contract_violation"  # the outbox's (services.writeback)

# Problems that come and go with validation (the rest are resolved by their own step).
VALIDATION_CODES = (
    PAYLOAD_INVALID,
    "dates_invalid",
    NO_LINES,
    SKU_MISSING,
    SKU_UNKNOWN,
    ORDER_NAME_MISSING,
    CUSTOMER_UNKNOWN,
    WAREHOUSE_MISSING,
    ORDER_UNKNOWN,
    AMOUNT_TOO_LARGE,
    EXCHANGE_ORDER_TAKEN,
)
# What the RMA, credit memo and AR tables hold (numeric(14, 2)): an amount that rounds to 10^12 or
# more cannot be written, so it is a problem on the return, never an error that undoes its step.
MONEY_LIMIT = Decimal("999999999999.995")
# Longest Loop line item id or exchange order name an RMA keeps: both are in unique keys, and an
# index entry has a size limit (a few KB); Loop's are short numbers and names.
KEY_MAX = 200
# rma_line.outcome: Loop's line outcome (refund, exchange ...), cut to the column when longer.
OUTCOME_MAX = 20

AR_REASON_REFUND = "Loop return refunded: offsets the unapplied credit on the customer account"
AR_REASON_EXCHANGE = "Loop exchange order fulfilled at 100% discount: offsets the unapplied credit"


class ReturnFlowError(ValueError):
    """A request the flow cannot carry out (receive more than was returned, confirm a credit that
    is not waiting ...), in words a person can act on."""


@dataclass
class ApplyResult:
    seen: int = 0
    rma_created: list[int] = field(default_factory=list)  # inbound_return ids
    invalid: list[int] = field(default_factory=list)
    new_problems: int = 0
    credited: list[int] = field(default_factory=list)
    waiting_confirmation: list[int] = field(default_factory=list)
    exchange_debits: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        return {
            "returns_applied": self.seen,
            "rmas_created": len(self.rma_created),
            "returns_invalid": len(self.invalid),
            "new_errors": self.new_problems,
            "credited": len(self.credited),
            "credit_waiting": len(self.waiting_confirmation),
            "exchange_debits": len(self.exchange_debits),
            "voided": len(self.voided),
        }


@dataclass(frozen=True)
class Found:
    """What validation found for one return: its problems, and what the RMA is made of."""

    problems: list[dict[str, Any]]
    customer_code: str | None = None
    sales_order_id: int | None = None
    warehouse_code: str | None = None

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p["severity"] == "error"]


# --- applying held returns ------------------------------------------------------------------------


def apply_returns(session: Session, ctx: SiteContext, return_ids: Sequence[int]) -> ApplyResult:
    """Move each held return (``inbound_return.id``) as far along the flow as its held state
    allows. Each return is locked while it is applied, so two workers apply it one after the other."""
    result = ApplyResult()
    for return_id in dict.fromkeys(return_ids):
        held = session.get(InboundReturn, return_id, with_for_update=True)
        if held is None or held.site_id != ctx.id:
            continue
        result.seen += 1
        apply_one(session, ctx, held, result)
    return result


def apply_one(session: Session, ctx: SiteContext, held: InboundReturn, result: ApplyResult) -> None:
    r = ctx.spec.capability("returns").to_partner_return(held.raw)
    bound = log.bind(site=ctx.name, return_id=held.id, loop_return_id=held.loop_return_id)
    if held.state in ("credited", "void"):
        return
    rma = session.scalar(select(Rma).where(Rma.inbound_return_id == held.id))
    loop_state = (held.loop_state or "").lower()
    processed = loop_state == LOOP_CLOSED and (_fulfilled(r) or _process_sent(session, held.id))
    if loop_state in (LOOP_CANCELLED, LOOP_EXPIRED) or (loop_state == LOOP_CLOSED and not processed):
        why = f"Loop says the return is {loop_state}" + (" without processing" if loop_state == LOOP_CLOSED else "")
        _void(session, held, rma, why)
        result.voided.append(held.id)
        bound.info("return_voided", loop_state=loop_state)
        return
    if rma is None:
        found = validate(session, ctx, r)
        result.new_problems += _sync_problems(session, held.id, found.problems)
        if found.blocking:
            if held.state != "invalid":
                held.state = "invalid"
            result.invalid.append(held.id)
            _flag(session, ctx, held, found.blocking)
            bound.info("return_invalid", problems=[p["code"] for p in found.blocking])
            return
        rma = _make_rma(session, ctx, held, r, found)
        result.rma_created.append(held.id)
        bound.info("rma_created", rma=rma.number, lines=len(r.lines))
    if processed:
        if held.state in ("invalid", "received", "rma", "received_goods"):
            held.state = "processed"
        _credit(session, ctx, held, rma, r, result)
        _exchange(session, ctx, held, rma, r, result)
        if _posted_everything(session, rma, r):
            held.state = "credited"
            if rma.status != "credited":
                rma.status = "credited"
            result.credited.append(held.id)
            bound.info("return_credited", rma=rma.number)


def _fulfilled(r: PartnerReturn) -> bool:
    """Whether Loop processed the return (refunded it, or made its exchange order or gift card)."""
    return bool(r.refunds) or bool(r.exchange_order_name) or bool(r.gift_card_order_name)


def _process_sent(session: Session, return_id: int) -> bool:
    """Whether Bobbin asked Loop to process the return (sent, or tried: its answer may be lost)."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(
                OutboxEntry.inbound_return_id == return_id,
                OutboxEntry.status == PROCESS,
                (OutboxEntry.state == "sent") | (OutboxEntry.attempts > 0),
            )
        )
    )


# --- validation -----------------------------------------------------------------------------------


def validate(session: Session, ctx: SiteContext, r: PartnerReturn) -> Found:
    """The problems that keep a return from becoming an RMA (and the warnings that do not), and
    what its RMA would be made of. Reads only; one place for each rule."""
    problems: list[dict[str, Any]] = [
        _problem(p.code, p.message, field=p.field, value=p.value, line_no=p.line_no, severity=p.severity)
        for p in r.problems
    ]
    if not r.lines:
        problems.append(_problem(NO_LINES, "the return has no line items: nothing to authorize"))
    wanted = {line.sku for line in r.lines if line.sku}
    known = set(session.scalars(select(Sku.sku).where(Sku.sku.in_(wanted)))) if wanted else set()
    for line in r.lines:
        if not line.sku:
            problems.append(
                _problem(
                    SKU_MISSING,
                    f"line {line.line_no} has no SKU: the ERP cannot receive it",
                    line_no=line.line_no,
                    field="sku",
                )
            )
        elif line.sku not in known:
            problems.append(
                _problem(
                    SKU_UNKNOWN,
                    f"line {line.line_no}: SKU {line.sku} is not in the ERP; load it (bobbin erp load) and the return is tried again",
                    line_no=line.line_no,
                    field="sku",
                    value=line.sku,
                )
            )
    problems += _unwritable(session, ctx, r)
    order = None
    if not r.order_name:
        problems.append(_problem(ORDER_NAME_MISSING, "the return names no Shopify order", field="order_name"))
    else:
        # Choice: the ERP keeps a web order's name as its PO number.
        order = session.scalar(
            select(SalesOrder).where(SalesOrder.po_number == r.order_name).order_by(SalesOrder.id).limit(1)
        )
        if order is None:
            problems.append(
                _problem(
                    ORDER_UNKNOWN,
                    f"Shopify order {r.order_name} is not in the ERP (no sales order has it as PO number): "
                    "the RMA is made without it",
                    field="order_name",
                    value=r.order_name,
                    severity="warning",
                )
            )
    customer = _customer(session, ctx, order, r)
    if customer is None:
        problems.append(
            _problem(
                CUSTOMER_UNKNOWN,
                "no ERP customer for this return: the order is not in the ERP, no customer has the e-mail "
                f"{r.customer_email or '(none given)'}, and the site sets no shopify_customer "
                f"(bobbin sites set {ctx.name} shopify_customer=CODE)",
                field="customer",
                value=r.customer_email,
            )
        )
    warehouse = ctx.settings.default_warehouse
    if not warehouse or session.scalar(select(Warehouse.code).where(Warehouse.code == warehouse)) is None:
        problems.append(
            _problem(
                WAREHOUSE_MISSING,
                f"the site's default_warehouse ({warehouse or 'not set'}) is not an ERP warehouse: returned goods "
                f"have nowhere to go (bobbin sites set {ctx.name} default_warehouse=CODE)",
                field="default_warehouse",
                value=warehouse,
            )
        )
    return Found(problems, customer, order.id if order is not None else None, warehouse)


def line_key(line: ReturnLine) -> str:
    """The line's key on its RMA line (``rma_line.loop_line_item_id``): Loop's line item id, or its
    position when the payload carries none."""
    return line.line_item_id or str(line.line_no)


def _unwritable(session: Session, ctx: SiteContext, r: PartnerReturn) -> list[dict[str, Any]]:
    """What the RMA's tables could not hold as the return says it: a line item named twice or with
    an id too long for a key, an amount beyond the money columns, an exchange order another RMA
    has. Each is a problem a person can read, instead of a write that fails and leaves the return
    held without one."""
    problems = []
    seen: dict[str, int] = {}
    for line in r.lines:
        key = line_key(line)
        if len(key) > KEY_MAX:
            problems.append(
                _problem(
                    PAYLOAD_INVALID,
                    f"line {line.line_no}: its line_item_id is longer than {KEY_MAX} characters",
                    line_no=line.line_no,
                    field="line_items.line_item_id",
                    value=key,
                )
            )
        elif key in seen:
            problems.append(
                _problem(
                    PAYLOAD_INVALID,
                    f"line {line.line_no} names line item {key} again (line {seen[key]}): one Loop line item "
                    "is one RMA line",
                    line_no=line.line_no,
                    field="line_items.line_item_id",
                    value=key,
                )
            )
        else:
            seen[key] = line.line_no
        for name, amount in (("price", line.price), ("refund", line.refund)):
            if amount is not None and amount >= MONEY_LIMIT:
                problems.append(
                    _too_large(f"line {line.line_no}: its {name}", amount, f"line_items.{name}", line.line_no)
                )
    refunds = sum((max(line.refund or ZERO, ZERO) for line in r.lines), ZERO)
    if refunds >= MONEY_LIMIT and not any(p["code"] == AMOUNT_TOO_LARGE for p in problems):
        problems.append(_too_large("the lines' refunds", refunds, "line_items.refund"))
    if r.exchange_order_name:
        taken = _exchange_taken(session, ctx.id, r.exchange_order_name, None)
        if taken is not None:
            problems.append(taken)
    return problems


def _too_large(what: str, amount: Decimal, field: str, line_no: int | None = None) -> dict[str, Any]:
    return _problem(
        AMOUNT_TOO_LARGE,
        f"{what} ({amount}) is more than the ERP can hold (999,999,999,999.99)",
        line_no=line_no,
        field=field,
        value=str(amount),
    )


def _exchange_taken(session: Session, site_id: int, name: str, rma_id: int | None) -> dict[str, Any] | None:
    """A problem when the exchange order's name cannot go on this RMA (``rma_id``; None: one to be
    made): too long for the key, or another RMA of the site has it."""
    if len(name) > KEY_MAX:
        return _problem(
            EXCHANGE_ORDER_TAKEN,
            f"the exchange order's name is longer than {KEY_MAX} characters",
            field="exchange_order_name",
            value=name,
        )
    other = session.scalar(
        select(Rma.number).where(Rma.site_id == site_id, Rma.exchange_order_name == name, Rma.id != (rma_id or 0))
    )
    if other is None:
        return None
    return _problem(
        EXCHANGE_ORDER_TAKEN,
        f"exchange order {name} is {other}'s already: one exchange order belongs to one RMA; "
        "check both returns in Loop",
        field="exchange_order_name",
        value=name,
    )


def _customer(session: Session, ctx: SiteContext, order: SalesOrder | None, r: PartnerReturn) -> str | None:
    """The original order's customer, else the one customer with the return's e-mail, else the
    site's Shopify customer account."""
    if order is not None:
        return order.customer_code
    if r.customer_email:
        found = list(
            session.scalars(
                select(Customer.code)
                .where(func.lower(Customer.email) == r.customer_email.strip().lower())
                .order_by(Customer.code)
                .limit(2)
            )
        )
        if len(found) == 1:
            return found[0]
    fallback = getattr(ctx.settings, "shopify_customer", None)
    if fallback and session.scalar(select(Customer.code).where(Customer.code == fallback)) is not None:
        return str(fallback)
    return None


def _problem(
    code: str,
    message: str,
    *,
    field: str | None = None,
    value: Any = None,
    line_no: int | None = None,
    severity: str = "error",
) -> dict[str, Any]:
    return {
        "code": code,
        "message": message[:2000],
        "field": field,
        "value": None if value is None else str(value)[:VALUE_MAX],
        "line_no": line_no,
        "severity": severity if severity in ("error", "warning") else "error",
    }


def _add_problem(session: Session, return_id: int, problem: dict[str, Any]) -> int:
    """Record one problem found after the RMA was made (once while open); 1 when it is new."""
    inserted = session.execute(
        pg_insert(ReturnError).on_conflict_do_nothing().returning(ReturnError.id),
        [{"return_id": return_id, **problem}],
    ).all()
    return len(inserted)


def _sync_problems(session: Session, return_id: int, problems: list[dict[str, Any]]) -> int:
    """Make the return's open validation problems these: new ones added, gone ones resolved.
    Returns how many are new."""
    key = ("code", "line_no", "field", "value")
    wanted = {tuple(p[k] for k in key): p for p in problems}
    open_rows = list(
        session.scalars(
            select(ReturnError).where(
                ReturnError.return_id == return_id,
                ReturnError.resolved_at.is_(None),
                ReturnError.code.in_(VALIDATION_CODES),
            )
        )
    )
    have = {(e.code, e.line_no, e.field, e.value): e for e in open_rows}
    for k, e in have.items():
        if k not in wanted:
            e.resolved_at = func.now()
    new = [p for k, p in wanted.items() if k not in have]
    if new:
        session.execute(pg_insert(ReturnError).on_conflict_do_nothing(), [{"return_id": return_id, **p} for p in new])
    session.flush()
    return len(new)


def _flag(session: Session, ctx: SiteContext, held: InboundReturn, problems: list[dict[str, Any]]) -> None:
    """Flag the return in Loop and say why in a note (sent again when the problems change)."""
    queue_return_action(session, ctx.id, held.id, FLAG)
    words = "; ".join(p["message"] for p in problems)
    content = f"Bobbin cannot make an RMA for this return: {words}"
    queued = session.scalar(
        select(OutboxEntry.payload).where(OutboxEntry.inbound_return_id == held.id, OutboxEntry.status == NOTE_PROBLEM)
    )
    if queued is None or queued.get("content") != content:
        queue_return_action(session, ctx.id, held.id, NOTE_PROBLEM, payload={"content": content}, again=True)


# --- the RMA ----------------------------------------------------------------------------------------


def _make_rma(session: Session, ctx: SiteContext, held: InboundReturn, r: PartnerReturn, found: Found) -> Rma:
    assert found.customer_code is not None and found.warehouse_code is not None and r.order_name
    kind = "exchange" if r.exchange_order_name or (r.exchange_total or ZERO) > 0 else "return"
    rma = Rma(
        number=f"pending-{held.id}",
        inbound_return_id=held.id,
        site_id=ctx.id,
        customer_code=found.customer_code,
        sales_order_id=found.sales_order_id,
        order_name=r.order_name,
        kind=kind,
        status="open",
        warehouse_code=found.warehouse_code,
        exchange_order_name=r.exchange_order_name if kind == "exchange" else None,
    )
    session.add(rma)
    session.flush()
    rma.number = rma_number(rma.id)
    for line in r.lines:
        assert line.sku is not None
        session.add(
            RmaLine(
                rma_id=rma.id,
                line_no=line.line_no,
                loop_line_item_id=line_key(line),
                sku=line.sku,
                quantity=max(1, line.quantity),
                unit_price=max(line.price or ZERO, ZERO),
                refund_amount=max(line.refund or ZERO, ZERO),
                reason=line.return_reason,
                outcome=(line.outcome or r.outcome or "refund")[:OUTCOME_MAX],
                restock_location_id=line.restock_location_id,
            )
        )
    held.state = "rma"
    session.flush()
    queue_return_action(
        session,
        ctx.id,
        held.id,
        NOTE_RMA,
        payload={
            "content": f"ERP: {rma.number} created for this return ({len(r.lines)} line(s), customer {rma.customer_code})"
        },
    )
    return rma


# --- receipts ---------------------------------------------------------------------------------------


@dataclass
class ReceiveResult:
    rma: str
    received: list[tuple[int, str, int]] = field(default_factory=list)  # (line_no, sku, quantity)
    complete: bool = False  # every line received in full
    process_queued: bool = False


def outstanding(session: Session, rma: Rma) -> dict[int, int]:
    """line_no -> units of the line not received yet."""
    rows = session.execute(
        select(RmaLine.line_no, RmaLine.quantity - func.coalesce(func.sum(RmaReceipt.quantity), 0))
        .outerjoin(RmaReceipt, RmaReceipt.rma_line_id == RmaLine.id)
        .where(RmaLine.rma_id == rma.id)
        .group_by(RmaLine.id)
        .order_by(RmaLine.line_no)
    ).all()
    return {line_no: int(left) for line_no, left in rows}


def receive(
    session: Session,
    rma_ref: str | int,
    quantities: Mapping[int, int] | None = None,
    *,
    source: str,
    reference: str | None = None,
) -> ReceiveResult:
    """Record goods received against an RMA (by number, or the held return's id): ``quantities``
    line_no -> units (None: everything still outstanding). Each unit goes into the RMA's warehouse
    at once (restocked); once every line is in, Loop is asked to process the return (outbox).
    ReturnFlowError, with nothing written, for an unknown line or more than is outstanding."""
    rma = _find_rma(session, rma_ref, lock=True)
    if rma.status == "void":
        raise ReturnFlowError(
            f"{rma.number} is void (the return was cancelled, closed or expired in Loop): nothing to receive"
        )
    left = outstanding(session, rma)
    wanted = dict(quantities) if quantities is not None else {n: q for n, q in left.items() if q > 0}
    for line_no, qty in wanted.items():
        if line_no not in left:
            raise ReturnFlowError(f"{rma.number} has no line {line_no} (its lines: {', '.join(map(str, left))})")
        if qty <= 0:
            raise ReturnFlowError(f"{rma.number} line {line_no}: receive at least 1 unit, not {qty}")
        if qty > left[line_no]:
            raise ReturnFlowError(
                f"{rma.number} line {line_no}: {qty} received, but only {left[line_no]} of it is still expected"
            )
    if not wanted:
        raise ReturnFlowError(f"{rma.number}: every line is received already")
    result = ReceiveResult(rma.number)
    lines = {ln.line_no: ln for ln in session.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id))}
    for line_no, qty in sorted(wanted.items()):
        line = lines[line_no]
        session.add(
            RmaReceipt(
                rma_line_id=line.id,
                quantity=qty,
                warehouse_code=rma.warehouse_code,
                source=source,
                reference=reference,
                restocked_at=func.now(),
            )
        )
        _restock(session, line.sku, rma.warehouse_code, qty)
        result.received.append((line_no, line.sku, qty))
    session.flush()
    result.complete = all(v <= 0 for v in outstanding(session, rma).values())
    held = session.get(InboundReturn, rma.inbound_return_id)
    assert held is not None
    if result.complete:
        if rma.status == "open":
            rma.status = "received"
        if held.state == "rma":
            held.state = "received_goods"
        if held.state == "received_goods":
            result.process_queued = queue_return_action(session, rma.site_id, held.id, PROCESS)
    log.info("rma_received", rma=rma.number, lines=len(result.received), complete=result.complete, source=source)
    return result


def _restock(session: Session, sku: str, warehouse: str, quantity: int) -> None:
    """Put received units on hand (one row per SKU and warehouse), so the next push carries them."""
    stmt = pg_insert(Inventory).values(sku=sku, warehouse_code=warehouse, on_hand=quantity)
    existing = session.scalar(
        select(Inventory.id).where(Inventory.sku == sku, Inventory.warehouse_code == warehouse).with_for_update()
    )
    if existing is None:
        session.execute(stmt)
    else:
        session.execute(
            update(Inventory)
            .where(Inventory.id == existing)
            .values(on_hand=Inventory.on_hand + quantity, updated_at=func.now())
        )


def _find_rma(session: Session, ref: str | int, *, lock: bool = False) -> Rma:
    text = str(ref).strip()
    query = select(Rma)
    if text.upper().startswith("RMA"):
        query = query.where(Rma.number == text.upper())
    elif text.isdigit():
        query = query.where(Rma.inbound_return_id == int(text))
    else:
        raise ReturnFlowError(f"{text!r} is neither an RMA number (RMA0000012) nor a return's id")
    if lock:
        query = query.with_for_update()
    rma = session.scalar(query)
    if rma is None:
        raise ReturnFlowError(
            f"no RMA {text}" + ("" if text.upper().startswith("RMA") else " (that return has no RMA yet)")
        )
    return rma


# --- credit memo, AR debits ---------------------------------------------------------------------------


def _credit(
    session: Session, ctx: SiteContext, held: InboundReturn, rma: Rma, r: PartnerReturn, result: ApplyResult
) -> None:
    """Record the credit memo from Loop's refunds (once per RMA) and post it with its AR debit
    when the refund matches the lines; a mismatch waits for a person (:func:`confirm_credit`)."""
    refunded = sum((x.amount or ZERO for x in r.refunds), ZERO)
    if refunded <= 0:
        return
    memo = session.scalar(select(CreditMemo).where(CreditMemo.rma_id == rma.id))
    if memo is None and refunded >= MONEY_LIMIT:
        result.new_problems += _add_problem(session, held.id, _too_large("Loop's refund", refunded, "refunds.amount"))
        return
    if memo is None:
        lines = sum(
            (line.refund_amount for line in session.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id))), ZERO
        )
        memo = CreditMemo(
            number=f"pending-{rma.id}",
            rma_id=rma.id,
            amount=refunded,
            currency=(held.currency or "USD"),
            loop_refund_amount=refunded,
            lines_refund_amount=lines,
            status="pending_confirmation",
        )
        session.add(memo)
        session.flush()
        memo.number = credit_memo_number(memo.id)
        if refunded == lines:
            _post(session, ctx, held, rma, memo)
        else:
            problem = _problem(
                REFUND_MISMATCH,
                f"Loop refunded {refunded} {memo.currency} but the RMA's lines add up to {lines}: {memo.number} "
                f"is not posted until a person confirms it (bobbin returns confirm {held.id})",
                field="refund",
                value=str(refunded),
            )
            result.new_problems += _add_problem(session, held.id, problem)
            result.waiting_confirmation.append(held.id)
            log.warning("credit_waits_for_person", rma=rma.number, refunded=str(refunded), lines=str(lines))


def confirm_credit(session: Session, return_id: int, *, by: str) -> CreditMemo:
    """A person confirms a credit memo whose refund did not match the lines: it is posted, with
    its AR debit, and the mismatch is resolved."""
    held = session.get(InboundReturn, return_id, with_for_update=True)
    if held is None:
        raise ReturnFlowError(f"no return {return_id}")
    rma = session.scalar(select(Rma).where(Rma.inbound_return_id == held.id))
    memo = session.scalar(select(CreditMemo).where(CreditMemo.rma_id == rma.id)) if rma is not None else None
    if rma is None or memo is None:
        raise ReturnFlowError(f"return {return_id} has no credit memo waiting (Loop has not refunded it yet)")
    if memo.status == "posted":
        raise ReturnFlowError(f"{memo.number} is posted already")
    memo.confirmed_by = by[:100]
    site = session.get(Site, held.site_id)
    assert site is not None
    ctx = SiteContext.of(site)
    _post(session, ctx, held, rma, memo)
    session.execute(
        update(ReturnError)
        .where(ReturnError.return_id == held.id, ReturnError.code == REFUND_MISMATCH, ReturnError.resolved_at.is_(None))
        .values(resolved_at=func.now())
    )
    apply_one(session, ctx, held, ApplyResult())
    return memo


def _post(session: Session, ctx: SiteContext, held: InboundReturn, rma: Rma, memo: CreditMemo) -> None:
    """Post the credit memo and the AR debit that offsets the unapplied credit it leaves on the
    customer account (seed 003: amount, reason, reference), then tell Loop's timeline."""
    memo.status = "posted"
    memo.posted_at = func.now()
    session.flush()
    debit = session.execute(
        pg_insert(ArAdjustment)
        .values(
            kind="debit",
            amount=memo.amount,
            reason=AR_REASON_REFUND,
            reference=f"Loop return {held.loop_return_id} / {rma.number} / {memo.number}",
            customer_code=rma.customer_code,
            credit_memo_id=memo.id,
            unapplied_credit_amount=memo.amount,
        )
        .on_conflict_do_nothing()
        .returning(ArAdjustment.id)
    ).scalar_one_or_none()
    queue_return_action(
        session,
        ctx.id,
        held.id,
        NOTE_CREDIT,
        payload={
            "content": f"ERP: credit memo {memo.number} for {memo.amount} {memo.currency} posted, and the AR debit "
            f"offsetting it on customer {rma.customer_code} ({rma.number})"
        },
    )
    log.info("credit_posted", rma=rma.number, memo=memo.number, amount=str(memo.amount), ar_adjustment=debit)


def _exchange(
    session: Session, ctx: SiteContext, held: InboundReturn, rma: Rma, r: PartnerReturn, result: ApplyResult
) -> None:
    """An exchange: its order's name recorded on the RMA; once that order is in the ERP, its
    offsetting AR debit posted (once per exchange)."""
    if not r.exchange_order_name:
        return
    if rma.exchange_order_name != r.exchange_order_name:
        taken = _exchange_taken(session, ctx.id, r.exchange_order_name, rma.id)
        if taken is not None:
            result.new_problems += _add_problem(session, held.id, taken)
            return
    if rma.kind != "exchange":
        rma.kind = "exchange"
    if rma.exchange_order_name != r.exchange_order_name:
        rma.exchange_order_name = r.exchange_order_name
    if rma.exchange_sales_order_id is None:
        order = session.scalar(
            select(SalesOrder).where(SalesOrder.po_number == r.exchange_order_name).order_by(SalesOrder.id).limit(1)
        )
        if order is None:
            return  # an open item until the exchange order reaches the ERP
        rma.exchange_sales_order_id = order.id
    amount = r.exchange_credit_total if r.exchange_credit_total and r.exchange_credit_total > 0 else r.exchange_total
    if not amount or amount <= 0:
        return
    if amount >= MONEY_LIMIT:
        result.new_problems += _add_problem(
            session, held.id, _too_large("the exchange's credit", amount, "exchange_total")
        )
        return
    posted = session.execute(
        pg_insert(ArAdjustment)
        .values(
            kind="debit",
            amount=amount,
            reason=AR_REASON_EXCHANGE,
            reference=f"Loop return {held.loop_return_id} / {rma.number} / exchange order {r.exchange_order_name}",
            customer_code=rma.customer_code,
            rma_id=rma.id,
            unapplied_credit_amount=amount,
        )
        .on_conflict_do_nothing()
        .returning(ArAdjustment.id)
    ).scalar_one_or_none()
    if posted is not None:
        result.exchange_debits.append(held.id)
        log.info("exchange_debit_posted", rma=rma.number, exchange_order=r.exchange_order_name, amount=str(amount))


def _posted_everything(session: Session, rma: Rma, r: PartnerReturn) -> bool:
    """Whether every posting the return needs is done: its credit memo (when Loop refunded) and
    its exchange's AR debit (when it has an exchange order)."""
    if sum((x.amount or ZERO for x in r.refunds), ZERO) > 0:
        memo = session.scalar(select(CreditMemo.status).where(CreditMemo.rma_id == rma.id))
        if memo != "posted":
            return False
    if r.exchange_order_name:
        debit = session.scalar(select(ArAdjustment.id).where(ArAdjustment.rma_id == rma.id))
        if debit is None:
            return False
    return True


def open_exchanges(session: Session, site_id: int) -> list[int]:
    """Held returns processed in Loop whose exchange order is not in the ERP yet (open items)."""
    return list(
        session.scalars(
            select(InboundReturn.id)
            .join(Rma, Rma.inbound_return_id == InboundReturn.id)
            .where(
                InboundReturn.site_id == site_id,
                InboundReturn.state == "processed",
                Rma.exchange_order_name.is_not(None),
                Rma.exchange_sales_order_id.is_(None),
            )
        )
    )


# --- voids ------------------------------------------------------------------------------------------


def _void(session: Session, held: InboundReturn, rma: Rma | None, why: str) -> None:
    held.state = "void"
    if rma is not None and rma.status != "void":
        rma.status = "void"
    session.execute(
        update(ReturnError)
        .where(ReturnError.return_id == held.id, ReturnError.resolved_at.is_(None))
        .values(resolved_at=func.now())
    )
    # What waits to go to Loop about it goes no more (a note or flag of a return that is gone): the
    # rows are dropped, not given up (dead would raise the "gave up" alarm for nothing). One being
    # sent at this moment stays, its outcome recorded as any other.
    session.execute(
        delete(OutboxEntry).where(
            OutboxEntry.inbound_return_id == held.id,
            OutboxEntry.state == "pending",
            OutboxEntry.sending_since.is_(None),
        )
    )
    log.info("return_void_requests_dropped", return_id=held.id, why=why)


def site_of(rma_ref: str | int) -> Any:
    """A statement selecting the site id of an RMA (by number, or its return's id)."""
    text = str(rma_ref).strip()
    if text.upper().startswith("RMA"):
        return select(Rma.site_id).where(Rma.number == text.upper())
    return select(InboundReturn.site_id).where(InboundReturn.id == int(text))
