"""The returns tables on real Postgres (migrated to head): what they hold together, and what the
database itself refuses, whatever the code that writes them does.

Given a small ERP (a site, a customer, a style with two SKUs, a warehouse, a sales order) written
row by row: a Loop return is held once per site and Loop id; an RMA with two lines, its credit memo
and the AR debit offsetting it link as designed (and an exchange's RMA with its own debit); the
receipts of a line add up to at most its quantity (the migration's constraint trigger, also
across two transactions at once); one credit memo and one exchange get one debit each; the CHECKs
refuse a zero quantity, a negative amount and an unknown state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import engine_for
from models import (
    ArAdjustment,
    CreditMemo,
    Customer,
    InboundReturn,
    ReturnError,
    Rma,
    RmaLine,
    RmaReceipt,
    SalesOrder,
    Site,
    Sku,
    Style,
    Warehouse,
)
from models.returns import RETURN_STATES, credit_memo_number, rma_number

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
# A Loop return as the Detailed Returns List gives it (money as strings, ids as strings).
LOOP_RETURN = {
    "id": "48213",
    "state": "open",
    "outcome": "refund",
    "order_name": "#7382018",
    "customer": "ana@example.com",
    "currency": "USD",
    "total": "118.00",
    "updated_at": "2026-12-08T14:08:31.000Z",
    "line_items": [
        {"line_item_id": "901", "sku": "HP-1-S", "price": "59.00", "refund": "59.00", "return_reason": "Too small"},
        {"line_item_id": "902", "sku": "HP-1-M", "price": "59.00", "refund": "59.00", "return_reason": "Changed mind"},
    ],
}


@dataclass
class Erp:
    site_id: int
    other_site_id: int
    customer: str
    skus: tuple[str, str]
    warehouse: str
    sales_order_id: int


@pytest.fixture()
def erp(session: Session) -> Erp:
    sites = [
        Site(name=name, kind="loop", base_url="http://loop.test", credentials_encrypted="")
        for name in ("loop-us", "loop-eu")
    ]
    session.add_all(sites)
    session.add(Customer(code="SHOPIFY", name="Shopify customers", email="shop@example.com"))
    session.add(Warehouse(code="MAIN", name="Main warehouse"))
    session.add(Style(number="HP-1", description="Harbor tee"))
    session.flush()
    session.add_all([Sku(sku=f"HP-1-{size}", style_number="HP-1", color_code="BLK", size=size) for size in "SM"])
    so = SalesOrder(number="SO0000001", customer_code="SHOPIFY", total=Decimal("118.00"))
    session.add(so)
    session.commit()
    return Erp(sites[0].id, sites[1].id, "SHOPIFY", ("HP-1-S", "HP-1-M"), "MAIN", so.id)


def _held(session: Session, erp: Erp, loop_id: str = "48213", **extra: Any) -> InboundReturn:
    values: dict[str, Any] = {
        "site_id": erp.site_id,
        "raw": dict(LOOP_RETURN, id=loop_id),
        "raw_hash": "0" * 64,
        "loop_state": "open",
        "loop_outcome": "refund",
        "order_name": "#7382018",
        "customer_email": "ana@example.com",
        "currency": "USD",
        "total": Decimal("118.00"),
    }
    row = InboundReturn(loop_return_id=loop_id, **(values | extra))
    session.add(row)
    session.flush()
    return row


def _rma(session: Session, erp: Erp, held: InboundReturn, kind: str = "return", **extra: Any) -> Rma:
    rma = Rma(
        number=f"PENDING-{held.id}",
        inbound_return_id=held.id,
        site_id=held.site_id,
        customer_code=erp.customer,
        order_name="#7382018",
        kind=kind,
        warehouse_code=erp.warehouse,
        **extra,
    )
    session.add(rma)
    session.flush()
    rma.number = rma_number(rma.id)
    session.flush()
    return rma


def _line(session: Session, erp: Erp, rma: Rma, line_no: int, quantity: int = 1, **extra: Any) -> RmaLine:
    values: dict[str, Any] = {
        "loop_line_item_id": f"90{line_no}",
        "sku": erp.skus[(line_no - 1) % 2],
        "unit_price": Decimal("59.00"),
        "refund_amount": Decimal("59.00"),
        "reason": "Too small",
        "outcome": "refund",
        "restock_location_id": "gid://shopify/Location/1",
    }
    line = RmaLine(rma_id=rma.id, line_no=line_no, quantity=quantity, **(values | extra))
    session.add(line)
    session.flush()
    return line


def _receipt(line_id: int, quantity: int, erp: Erp, source: str = "cli") -> RmaReceipt:
    return RmaReceipt(
        rma_line_id=line_id, quantity=quantity, warehouse_code=erp.warehouse, source=source, reference="ana"
    )


def _memo(session: Session, rma: Rma, amount: str = "118.00", **extra: Any) -> CreditMemo:
    values: dict[str, Any] = {
        "currency": "USD",
        "loop_refund_amount": Decimal(amount),
        "lines_refund_amount": Decimal(amount),
        "status": "posted",
        "posted_at": NOW,
    }
    memo = CreditMemo(number=f"PENDING-CM-{rma.id}", rma_id=rma.id, amount=Decimal(amount), **(values | extra))
    session.add(memo)
    session.flush()
    memo.number = credit_memo_number(memo.id)
    session.flush()
    return memo


def _debit(erp: Erp, amount: str = "118.00", **links: Any) -> ArAdjustment:
    values: dict[str, Any] = {
        "kind": "debit",
        "amount": Decimal(amount),
        "reason": "Loop return refunded",
        "reference": "loop 48213",
        "customer_code": erp.customer,
        "unapplied_credit_amount": Decimal(amount),
    }
    return ArAdjustment(**(values | links))


def _refused(session: Session, row: Any) -> str:
    """Adds the row, expects the database to refuse it; the constraint's name, the session rolled back."""
    with pytest.raises(IntegrityError) as caught:
        session.add(row)
        session.flush()
    session.rollback()
    return str(caught.value.orig.diag.constraint_name)  # type: ignore[union-attr]


# --- held returns --------------------------------------------------------------------------------


def test_a_return_is_held_once_per_site_and_loop_id(session: Session, erp: Erp) -> None:
    # Given a Loop return held for a site, with its problem row
    held = _held(session, erp)
    session.add(ReturnError(return_id=held.id, line_no=1, code="unknown_sku", field="sku", value="HP-9", message="m"))
    session.commit()

    # Then its payload reads back as received, in the state a held return starts in
    session.expire_all()
    again = session.get(InboundReturn, held.id)
    assert again is not None
    assert (again.raw, again.state, again.loop_updated_at) == (LOOP_RETURN, "received", None)

    # When the same Loop id is held again for the same site, then the database refuses it
    assert _refused(session, _new_held(erp)) == "uq_inbound_return_site_id_loop_return_id"

    # ... and one open problem per code, line, field and value
    assert (
        _refused(
            session,
            ReturnError(return_id=held.id, line_no=1, code="unknown_sku", field="sku", value="HP-9", message="again"),
        )
        == "uq_return_error_open"
    )

    # When the same Loop id comes for another site, then it is another return
    _held(session, erp, site_id=erp.other_site_id)
    session.commit()
    assert (
        session.scalar(select(func.count()).select_from(InboundReturn).where(InboundReturn.loop_return_id == "48213"))
        == 2
    )


def _new_held(erp: Erp) -> InboundReturn:
    return InboundReturn(
        site_id=erp.site_id, loop_return_id="48213", raw=LOOP_RETURN, raw_hash="1" * 64, loop_state="closed"
    )


# --- the ERP records and their links -------------------------------------------------------------


def test_an_rma_its_lines_credit_memo_and_ar_debit_link_as_designed(session: Session, erp: Erp) -> None:
    # Given a held return that became an RMA against the original sales order, with two lines
    held = _held(session, erp)
    rma = _rma(session, erp, held, sales_order_id=erp.sales_order_id)
    lines = [_line(session, erp, rma, 1), _line(session, erp, rma, 2)]
    # ... received in full, its credit memo posted, and the AR debit offsetting the unapplied credit
    session.add_all([_receipt(ln.id, 1, erp, source="erp_file") for ln in lines])
    memo = _memo(session, rma)
    session.add(_debit(erp, credit_memo_id=memo.id))
    # ... and an exchange: its RMA names the exchange order, then the sales order it became, and its own debit
    exchange_so = SalesOrder(number="SO0000002", customer_code=erp.customer)
    session.add(exchange_so)
    session.flush()
    exchange = _rma(
        session,
        erp,
        _held(session, erp, "48214", loop_outcome="exchange"),
        kind="exchange",
        exchange_order_name="#EXC-7382018",
        exchange_sales_order_id=exchange_so.id,
    )
    _line(session, erp, exchange, 1, outcome="exchange", refund_amount=Decimal("0"))
    session.add(_debit(erp, "59.00", rma_id=exchange.id, reference="#EXC-7382018"))
    session.commit()

    # Then each record reads back linked to the Loop return and the sales order
    row = session.execute(
        select(Rma.number, InboundReturn.loop_return_id, SalesOrder.number, Rma.status, Rma.kind)
        .join(InboundReturn, InboundReturn.id == Rma.inbound_return_id)
        .join(SalesOrder, SalesOrder.id == Rma.sales_order_id)
        .where(Rma.id == rma.id)
    ).one()
    assert tuple(row) == (f"RMA{rma.id:07d}", "48213", "SO0000001", "open", "return")
    assert session.scalars(select(RmaLine.sku).where(RmaLine.rma_id == rma.id).order_by(RmaLine.line_no)).all() == [
        "HP-1-S",
        "HP-1-M",
    ]
    received = select(func.sum(RmaReceipt.quantity)).join(RmaLine).where(RmaLine.rma_id == rma.id)
    assert session.scalar(received) == 2
    assert session.execute(
        select(CreditMemo.number, CreditMemo.amount, ArAdjustment.amount, ArAdjustment.unapplied_credit_amount)
        .join(ArAdjustment, ArAdjustment.credit_memo_id == CreditMemo.id)
        .where(CreditMemo.rma_id == rma.id)
    ).one() == (f"CM{memo.id:07d}", Decimal("118.00"), Decimal("118.00"), Decimal("118.00"))
    assert session.execute(
        select(ArAdjustment.kind, ArAdjustment.reference, SalesOrder.number)
        .join(Rma, Rma.id == ArAdjustment.rma_id)
        .join(SalesOrder, SalesOrder.id == Rma.exchange_sales_order_id)
    ).one() == ("debit", "#EXC-7382018", "SO0000002")
    # ... and the numbers are the sales orders' style
    assert (rma_number(1), credit_memo_number(12)) == ("RMA0000001", "CM0000012")


def test_one_rma_per_held_return_and_the_original_order_may_be_unknown(session: Session, erp: Erp) -> None:
    # Given an RMA for a Shopify order the ERP does not have (no sales order)
    held = _held(session, erp)
    rma = _rma(session, erp, held)
    session.commit()
    assert rma.sales_order_id is None

    # When a second RMA is made of the same held return, then it is refused
    second = Rma(
        number="RMA-X",
        inbound_return_id=held.id,
        site_id=erp.site_id,
        customer_code=erp.customer,
        order_name="#7382018",
        kind="return",
        warehouse_code=erp.warehouse,
    )
    assert _refused(session, second) == "uq_rma_inbound_return_id"


# --- receipts ------------------------------------------------------------------------------------


@pytest.fixture()
def line_of_two(session: Session, erp: Erp) -> int:
    """An RMA line of quantity 2, committed: its id."""
    rma = _rma(session, erp, _held(session, erp))
    line = _line(session, erp, rma, 1, quantity=2)
    session.commit()
    return line.id


def test_receipts_add_up_to_the_line_quantity_and_never_beyond(session: Session, erp: Erp, line_of_two: int) -> None:
    # Given a line of 2: a receipt of 3 at once is refused
    assert _refused(session, _receipt(line_of_two, 3, erp)) == "ck_rma_receipt_within_line"

    # When two receipts of 1 arrive (two statements, two transactions), then both are kept: exactly 2
    for _ in range(2):
        session.add(_receipt(line_of_two, 1, erp))
        session.commit()
    assert session.scalar(select(func.sum(RmaReceipt.quantity)).where(RmaReceipt.rma_line_id == line_of_two)) == 2

    # When one more arrives, then it is refused, and so is raising a kept receipt
    assert _refused(session, _receipt(line_of_two, 1, erp)) == "ck_rma_receipt_within_line"
    with pytest.raises(IntegrityError, match="ck_rma_receipt_within_line|more than its quantity"):
        first = session.scalars(select(RmaReceipt.id).where(RmaReceipt.rma_line_id == line_of_two)).first()
        session.execute(update(RmaReceipt).where(RmaReceipt.id == first).values(quantity=2))
    session.rollback()

    # ... and lowering the line's quantity below what was received
    with pytest.raises(IntegrityError, match="more than its quantity"):
        session.execute(update(RmaLine).where(RmaLine.id == line_of_two).values(quantity=1))
    session.rollback()
    assert session.scalar(select(func.sum(RmaReceipt.quantity)).where(RmaReceipt.rma_line_id == line_of_two)) == 2


def test_two_transactions_receiving_the_same_line_at_once_cannot_exceed_it(
    session: Session, erp: Erp, line_of_two: int, db: str
) -> None:
    # Given one transaction that received the whole line and has not committed yet
    session.add(_receipt(line_of_two, 2, erp, source="console"))
    session.flush()

    # When another receives 1 of the same line meanwhile (it waits for the first)
    outcome: list[BaseException | None] = []

    def receive_one() -> None:
        try:
            with Session(engine_for(db)) as other:
                other.add(_receipt(line_of_two, 1, erp, source="erp_file"))
                other.commit()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=receive_one)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive(), "the second receipt should wait for the first transaction's lock on the line"
    session.commit()
    thread.join(30)

    # Then the second is refused once the first committed: the line holds exactly 2
    assert len(outcome) == 1 and isinstance(outcome[0], IntegrityError), outcome
    assert session.scalar(select(func.sum(RmaReceipt.quantity)).where(RmaReceipt.rma_line_id == line_of_two)) == 2


# --- one debit per credit memo, one per exchange -------------------------------------------------


def test_a_second_ar_debit_for_the_same_credit_memo_or_exchange_is_refused(session: Session, erp: Erp) -> None:
    # Given a credit memo with its debit, and an exchange RMA with its debit
    rma = _rma(session, erp, _held(session, erp))
    memo = _memo(session, rma)
    exchange = _rma(session, erp, _held(session, erp, "48214"), kind="exchange", exchange_order_name="#EXC-1")
    session.add_all([_debit(erp, credit_memo_id=memo.id), _debit(erp, "59.00", rma_id=exchange.id)])
    session.commit()

    # When either is debited again, then the database refuses it
    assert _refused(session, _debit(erp, "1.00", credit_memo_id=memo.id)) == "uq_ar_adjustment_credit_memo_debit"
    assert _refused(session, _debit(erp, "1.00", rma_id=exchange.id)) == "uq_ar_adjustment_exchange_debit"
    # ... and a debit offsets exactly one of them, never more than the unapplied credit
    assert _refused(session, _debit(erp, credit_memo_id=memo.id, rma_id=exchange.id)) == "ck_ar_adjustment_offsets_one"
    assert _refused(session, _debit(erp)) == "ck_ar_adjustment_offsets_one"
    over = _debit(erp, "120.00", credit_memo_id=memo.id)
    over.unapplied_credit_amount = Decimal("118.00")
    assert _refused(session, over) == "ck_ar_adjustment_unapplied_credit_amount"
    assert session.scalar(select(func.count()).select_from(ArAdjustment)) == 2


# --- CHECKs --------------------------------------------------------------------------------------


def test_every_state_of_the_flow_is_accepted_and_no_other(session: Session, erp: Erp) -> None:
    # Given the states the issue names for a held return, each written to one
    states = ("received", "invalid", "rma", "received_goods", "processed", "credited", "void")
    for n, state in enumerate(states):
        _held(session, erp, f"s{n}", state=state)
    session.commit()
    assert set(session.scalars(select(InboundReturn.state))) == set(states)
    assert states == RETURN_STATES  # the code's list says the same as the CHECK

    # When a state outside them is written, then it is refused
    unknown = _new_held(erp)
    unknown.loop_return_id, unknown.state = "s-unknown", "refunded"
    assert _refused(session, unknown) == "ck_inbound_return_state"

    # ... and likewise an RMA's status and kind, a receipt's source
    rma = _rma(session, erp, session.scalars(select(InboundReturn).limit(1)).one())
    line = _line(session, erp, rma, 1)
    session.commit()
    with pytest.raises(IntegrityError, match="ck_rma_status"):
        session.execute(update(Rma).where(Rma.id == rma.id).values(status="shipped"))
    session.rollback()
    with pytest.raises(IntegrityError, match="ck_rma_kind"):
        session.execute(update(Rma).where(Rma.id == rma.id).values(kind="swap"))
    session.rollback()
    with pytest.raises(IntegrityError, match="ck_rma_exchange_only"):
        session.execute(update(Rma).where(Rma.id == rma.id).values(exchange_order_name="#EXC-2"))
    session.rollback()
    assert _refused(session, _receipt(line.id, 1, erp, source="email")) == "ck_rma_receipt_source"


@pytest.fixture()
def one_line(session: Session, erp: Erp) -> Iterator[tuple[Rma, RmaLine]]:
    rma = _rma(session, erp, _held(session, erp))
    line = _line(session, erp, rma, 1)
    session.commit()
    yield rma, line


def test_zero_quantities_and_negative_amounts_are_refused(
    session: Session, erp: Erp, one_line: tuple[Rma, RmaLine]
) -> None:
    rma, line = one_line
    # A line or a receipt of no goods
    assert (
        _refused(
            session,
            RmaLine(
                rma_id=rma.id,
                line_no=2,
                loop_line_item_id="x",
                sku=erp.skus[0],
                quantity=0,
                unit_price=Decimal("1"),
                outcome="refund",
            ),
        )
        == "ck_rma_line_quantity"
    )
    assert _refused(session, _receipt(line.id, 0, erp)) == "ck_rma_receipt_quantity"
    # A negative refund on a line
    negative_line = RmaLine(
        rma_id=rma.id,
        line_no=2,
        loop_line_item_id="x",
        sku=erp.skus[0],
        quantity=1,
        unit_price=Decimal("1"),
        refund_amount=Decimal("-1"),
        outcome="refund",
    )
    assert _refused(session, negative_line) == "ck_rma_line_refund_amount"
    # A credit memo or an AR debit for a negative (or zero) amount
    memo = CreditMemo(
        number="CM-X",
        rma_id=rma.id,
        amount=Decimal("-5.00"),
        currency="USD",
        loop_refund_amount=Decimal("0"),
        lines_refund_amount=Decimal("0"),
        status="pending_confirmation",
    )
    assert _refused(session, memo) == "ck_credit_memo_amount"
    memo = _memo(session, rma)
    session.commit()
    assert _refused(session, _debit(erp, "-1.00", credit_memo_id=memo.id)) == "ck_ar_adjustment_amount"
    assert _refused(session, _debit(erp, "0.00", credit_memo_id=memo.id)) == "ck_ar_adjustment_amount"


def test_a_credit_memo_that_does_not_match_the_lines_is_posted_only_once_confirmed(
    session: Session, erp: Erp, one_line: tuple[Rma, RmaLine]
) -> None:
    rma, _ = one_line
    # Given Loop refunded 50.00 where the line says 59.00: the memo waits for a person
    memo = _memo(
        session, rma, "50.00", lines_refund_amount=Decimal("59.00"), status="pending_confirmation", posted_at=None
    )
    session.commit()

    # When it is posted without a confirmation, then it is refused; posted without posted_at too
    with pytest.raises(IntegrityError, match="ck_credit_memo_confirmed"):
        session.execute(update(CreditMemo).where(CreditMemo.id == memo.id).values(status="posted", posted_at=NOW))
    session.rollback()
    with pytest.raises(IntegrityError, match="ck_credit_memo_posted_at"):
        session.execute(update(CreditMemo).where(CreditMemo.id == memo.id).values(status="posted", confirmed_by="ana"))
    session.rollback()

    # When a person confirmed it, then it is posted
    session.execute(
        update(CreditMemo).where(CreditMemo.id == memo.id).values(status="posted", posted_at=NOW, confirmed_by="ana")
    )
    session.commit()
    assert session.scalar(select(CreditMemo.status).where(CreditMemo.id == memo.id)) == "posted"
