"""Returns as people look at them: a page of returns by site and state, and one return in full
(its RMA with lines and receipts, credit memo, AR debits, problems, and what went to Loop about it).

Read only, plain data out, like ``services.orders``: the CLI (``bobbin returns``) renders it as
tables or JSON, the console as pages. Changes go through ``services.rma``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    ArAdjustment,
    CreditMemo,
    InboundReturn,
    OutboxEntry,
    ReturnError,
    Rma,
    RmaLine,
    RmaReceipt,
    Site,
)
from models.returns import RETURN_STATES

PAGE_SIZE = 50

# Each state in a few words, for a person (the flow is services.rma's docstring).
STATE_WORDS = {
    "received": "held, not looked at yet",
    "invalid": "a problem keeps it from becoming an RMA",
    "rma": "RMA made; waiting for the goods",
    "received_goods": "goods received; Loop asked to process it",
    "processed": "processed in Loop; postings waiting (an exchange order, a person's confirmation)",
    "credited": "credit memo and AR debit posted",
    "void": "cancelled, closed without processing or expired in Loop",
}


class ReturnNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ReturnRow:
    id: int
    site: str
    loop_return_id: str
    state: str
    loop_state: str | None
    loop_outcome: str | None
    order_name: str | None
    customer_email: str | None
    total: Decimal | None
    currency: str | None
    rma: str | None
    open_problems: list[str]
    last_seen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["total"] = None if self.total is None else str(self.total)
        out["last_seen_at"] = self.last_seen_at.isoformat()
        return out


@dataclass(frozen=True)
class ReturnPage:
    rows: list[ReturnRow]
    total: int
    counts: dict[str, int]  # returns per state (of the site, or all)


def state_counts(session: Session, site_id: int | None = None) -> dict[str, int]:
    query = select(InboundReturn.state, func.count()).group_by(InboundReturn.state)
    if site_id is not None:
        query = query.where(InboundReturn.site_id == site_id)
    found = dict(session.execute(query).all())
    return {state: int(found.get(state, 0)) for state in RETURN_STATES}


def list_returns(
    session: Session,
    *,
    site_id: int | None = None,
    state: str | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> ReturnPage:
    """A page of held returns, newest change first, of one site and state (or all)."""
    if state is not None and state not in RETURN_STATES:
        raise ValueError(f"no return state {state!r}; the states are: {', '.join(RETURN_STATES)}")
    where = []
    if site_id is not None:
        where.append(InboundReturn.site_id == site_id)
    if state is not None:
        where.append(InboundReturn.state == state)
    total = int(session.scalar(select(func.count()).select_from(InboundReturn).where(*where)) or 0)
    found = session.execute(
        select(InboundReturn, Site.name, Rma.number)
        .join(Site, Site.id == InboundReturn.site_id)
        .outerjoin(Rma, Rma.inbound_return_id == InboundReturn.id)
        .where(*where)
        .order_by(InboundReturn.last_seen_at.desc(), InboundReturn.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [r.id for r, _, _ in found]
    problems: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for return_id, code in session.execute(
            select(ReturnError.return_id, ReturnError.code)
            .where(ReturnError.return_id.in_(ids), ReturnError.resolved_at.is_(None))
            .order_by(ReturnError.id)
        ):
            problems[return_id].append(code)
    rows = [
        ReturnRow(
            id=r.id,
            site=site,
            loop_return_id=r.loop_return_id,
            state=r.state,
            loop_state=r.loop_state,
            loop_outcome=r.loop_outcome,
            order_name=r.order_name,
            customer_email=r.customer_email,
            total=r.total,
            currency=r.currency,
            rma=number,
            open_problems=problems[r.id],
            last_seen_at=r.last_seen_at,
        )
        for r, site, number in found
    ]
    return ReturnPage(rows, total, state_counts(session, site_id))


@dataclass
class ReturnDetail:
    row: ReturnRow
    site_id: int
    rma: dict[str, Any] | None = None  # number, kind, status, customer, warehouse, exchange order ...
    lines: list[dict[str, Any]] = field(default_factory=list)  # with received / outstanding
    receipts: list[dict[str, Any]] = field(default_factory=list)
    credit_memo: dict[str, Any] | None = None
    ar_adjustments: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # open first, then resolved
    loop_actions: list[dict[str, Any]] = field(default_factory=list)  # outbox rows about it

    @property
    def outstanding(self) -> int:
        return sum(int(line["outstanding"]) for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return _plain(
            {
                **self.row.as_dict(),
                "state_words": STATE_WORDS.get(self.row.state, ""),
                "rma": self.rma,
                "lines": self.lines,
                "receipts": self.receipts,
                "credit_memo": self.credit_memo,
                "ar_adjustments": self.ar_adjustments,
                "problems": self.problems,
                "loop_actions": self.loop_actions,
            }
        )


def resolve_return(session: Session, ref: str | int) -> int:
    """A return's id from what a person types: its Bobbin id, an RMA number (RMA0000012), or
    SITE:LOOP_RETURN_ID. ReturnNotFound saying what was looked for."""
    text = str(ref).strip()
    if text.isdigit():
        if session.get(InboundReturn, int(text)) is None:
            raise ReturnNotFound(f"no return {text}")
        return int(text)
    if text.upper().startswith("RMA"):
        found = session.scalar(select(Rma.inbound_return_id).where(Rma.number == text.upper()))
        if found is None:
            raise ReturnNotFound(f"no RMA {text.upper()}")
        return int(found)
    site, sep, loop_id = text.partition(":")
    if sep:
        found = session.scalar(
            select(InboundReturn.id)
            .join(Site, Site.id == InboundReturn.site_id)
            .where(Site.name == site, InboundReturn.loop_return_id == loop_id.strip())
        )
        if found is None:
            raise ReturnNotFound(f"no return {loop_id.strip()} of site {site}")
        return int(found)
    raise ReturnNotFound(
        f"{text!r} names no return: give its id (12), its RMA (RMA0000012) or SITE:LOOP_RETURN_ID (loop-demo:30000001)"
    )


def return_detail(session: Session, return_id: int) -> ReturnDetail:
    page_row = session.execute(
        select(InboundReturn, Site.name, Rma.number)
        .join(Site, Site.id == InboundReturn.site_id)
        .outerjoin(Rma, Rma.inbound_return_id == InboundReturn.id)
        .where(InboundReturn.id == return_id)
    ).one_or_none()
    if page_row is None:
        raise ReturnNotFound(f"no return {return_id}")
    held, site, number = page_row
    errors = list(
        session.scalars(
            select(ReturnError)
            .where(ReturnError.return_id == return_id)
            .order_by(ReturnError.resolved_at.is_not(None), ReturnError.line_no.asc().nulls_first(), ReturnError.id)
        )
    )
    row = ReturnRow(
        id=held.id,
        site=site,
        loop_return_id=held.loop_return_id,
        state=held.state,
        loop_state=held.loop_state,
        loop_outcome=held.loop_outcome,
        order_name=held.order_name,
        customer_email=held.customer_email,
        total=held.total,
        currency=held.currency,
        rma=number,
        open_problems=[e.code for e in errors if e.resolved_at is None],
        last_seen_at=held.last_seen_at,
    )
    detail = ReturnDetail(row, held.site_id)
    detail.problems = [
        {
            "code": e.code,
            "severity": e.severity,
            "line_no": e.line_no,
            "field": e.field,
            "value": e.value,
            "message": e.message,
            "first_seen_at": e.first_seen_at,
            "resolved_at": e.resolved_at,
        }
        for e in errors
    ]
    detail.loop_actions = [
        {
            "id": w.id,
            "action": w.status,
            "state": w.state,
            "attempts": w.attempts,
            "last_error": w.last_error,
            "sent_at": w.sent_at,
            "content": (w.payload or {}).get("content"),
        }
        for w in session.scalars(
            select(OutboxEntry).where(OutboxEntry.inbound_return_id == return_id).order_by(OutboxEntry.id)
        )
    ]
    rma = session.scalar(select(Rma).where(Rma.inbound_return_id == return_id))
    if rma is None:
        return detail
    detail.rma = {
        "number": rma.number,
        "kind": rma.kind,
        "status": rma.status,
        "customer_code": rma.customer_code,
        "sales_order_id": rma.sales_order_id,
        "order_name": rma.order_name,
        "warehouse_code": rma.warehouse_code,
        "exchange_order_name": rma.exchange_order_name,
        "exchange_sales_order_id": rma.exchange_sales_order_id,
        "created_at": rma.created_at,
    }
    received = dict(
        session.execute(
            select(RmaReceipt.rma_line_id, func.sum(RmaReceipt.quantity))
            .join(RmaLine, RmaLine.id == RmaReceipt.rma_line_id)
            .where(RmaLine.rma_id == rma.id)
            .group_by(RmaReceipt.rma_line_id)
        ).all()
    )
    lines = list(session.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id).order_by(RmaLine.line_no)))
    detail.lines = [
        {
            "line_no": ln.line_no,
            "sku": ln.sku,
            "quantity": ln.quantity,
            "received": int(received.get(ln.id, 0)),
            "outstanding": ln.quantity - int(received.get(ln.id, 0)),
            "unit_price": ln.unit_price,
            "refund_amount": ln.refund_amount,
            "reason": ln.reason,
            "outcome": ln.outcome,
        }
        for ln in lines
    ]
    by_line = {ln.id: ln.line_no for ln in lines}
    detail.receipts = [
        {
            "line_no": by_line[r.rma_line_id],
            "quantity": r.quantity,
            "warehouse_code": r.warehouse_code,
            "source": r.source,
            "reference": r.reference,
            "received_at": r.received_at,
            "restocked_at": r.restocked_at,
        }
        for r in session.scalars(
            select(RmaReceipt).where(RmaReceipt.rma_line_id.in_(list(by_line))).order_by(RmaReceipt.id)
        )
    ]
    memo = session.scalar(select(CreditMemo).where(CreditMemo.rma_id == rma.id))
    if memo is not None:
        detail.credit_memo = {
            "number": memo.number,
            "amount": memo.amount,
            "currency": memo.currency,
            "loop_refund_amount": memo.loop_refund_amount,
            "lines_refund_amount": memo.lines_refund_amount,
            "status": memo.status,
            "posted_at": memo.posted_at,
            "confirmed_by": memo.confirmed_by,
        }
    memo_id = memo.id if memo is not None else -1
    detail.ar_adjustments = [
        {
            "id": a.id,
            "kind": a.kind,
            "amount": a.amount,
            "reason": a.reason,
            "reference": a.reference,
            "customer_code": a.customer_code,
            "offsets": "credit memo" if a.credit_memo_id is not None else "exchange",
            "posted_at": a.posted_at,
        }
        for a in session.scalars(
            select(ArAdjustment)
            .where((ArAdjustment.credit_memo_id == memo_id) | (ArAdjustment.rma_id == rma.id))
            .order_by(ArAdjustment.id)
        )
    ]
    return detail


def _plain(value: Any) -> Any:
    """JSON-ready: Decimals and datetimes as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
