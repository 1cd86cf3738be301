"""Returns: Loop returns as received, and the ERP's return records made from them (issue 16).

Seed 003 describes the flow the ERP runs by hand today, and these tables hold each step of it:

- ``inbound_return`` holds a return as Loop sent it (a webhook or the Detailed Returns List),
  once per site and Loop return id, like ``inbound_order`` holds an order; ``return_error`` holds
  its problems, like ``order_error``.
- ``rma`` and ``rma_line``: the return authorization the ERP's "Return Authorization and Credit
  Memos" module creates for a return (for an exchange: for the items sent back), beside the sales
  order it returns goods of, when that order is in the ERP (a Shopify order often is not).
- ``rma_receipt``: the goods received against a line, possibly in several receipts; never more
  than the line's quantity (a constraint trigger of migration e0f1a2b3c4d5 checks it, because the
  sum of other rows is beyond a CHECK).
- ``credit_memo``: the credit issued for an RMA, recorded from Loop's refund amounts.
- ``ar_adjustment``: the AR debit that offsets the unapplied credit the refund (or a 100 %
  discounted exchange order) leaves on the Shopify customer account, with amount, reason and
  reference as a person types them today; one per credit memo, one per exchange.

Loop facts are [DOC] from ../shared/partners/README.md §3.3 (money as strings, ids as strings or
integers, so ids are held as text here). Numbers follow the sales orders' (``SO0000001``): a prefix
and the row's id, seven digits at least, stored so they can be searched and printed. Choices the
documents leave open are marked "Choice:".
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps
from models.orders import PackedJSON

Money = Numeric(14, 2)

# Bobbin's state of a held return in its flow. The CHECKs below spell them out as literal SQL
# (tests/integration/test_returns_schema.py writes every one of them and one more).
#   received        held as received from Loop, not yet looked at
#   invalid         a problem (a return_error row) keeps it from becoming an RMA
#   rma             its RMA exists
#   received_goods  a receipt is recorded against the RMA
#   processed       Loop was asked to process it, and answered
#   credited        credit memo and AR debit posted
#   void            cancelled, closed without processing, or expired in Loop
RETURN_STATES = ("received", "invalid", "rma", "received_goods", "processed", "credited", "void")
RMA_KINDS = ("return", "exchange")
RMA_STATUSES = ("open", "received", "credited", "void")
RECEIPT_SOURCES = ("erp_file", "cli", "console")
CREDIT_MEMO_STATUSES = ("pending_confirmation", "posted")
AR_ADJUSTMENT_KINDS = ("debit",)


def rma_number(rma_id: int) -> str:
    """The ERP number of an RMA: RMA and its id, seven digits at least (as sales orders are numbered)."""
    return f"RMA{rma_id:07d}"


def credit_memo_number(credit_memo_id: int) -> str:
    """The ERP number of a credit memo: CM and its id, seven digits at least."""
    return f"CM{credit_memo_id:07d}"


class InboundReturn(Base):
    """A Loop return as received, once per site and Loop return id; later payloads of the same return
    replace ``raw`` (and its digest) and move ``last_seen_at``."""

    __tablename__ = "inbound_return"
    __table_args__ = (
        UniqueConstraint("site_id", "loop_return_id"),
        Index("ix_inbound_return_site_state", "site_id", "state"),
        CheckConstraint(
            "state IN ('received', 'invalid', 'rma', 'received_goods', 'processed', 'credited', 'void')",
            name="state",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    loop_return_id: Mapped[str]  # Loop's `id`: a string in the list, an integer in details; held as text
    raw: Mapped[dict[str, Any]] = mapped_column(PackedJSON)  # the payload exactly as received, packed
    raw_hash: Mapped[str] = mapped_column(String(64))
    # Loop's `state` (open, closed, cancelled, expired, review) and `outcome` (exchange, upsell, refund,
    # credit, exchange+refund, exchange+credit). Choice: no CHECK on them, Loop may add values [DOC].
    loop_state: Mapped[str | None] = mapped_column(String(20))
    loop_outcome: Mapped[str | None] = mapped_column(String(20))
    # Loop's `updated_at`, when the payload carries one (the list and details do; webhooks do not).
    loop_updated_at: Mapped[datetime | None]
    order_name: Mapped[str | None]  # the Shopify order name, e.g. "#7382018"
    customer_email: Mapped[str | None]
    # Choice: the currency is held beside the total (the documents list `currency` on the return).
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal | None] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(14), default="received")
    first_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReturnCursor(Base):
    """Where a site's returns poll reads Loop's list from next: returns whose ``updated_at`` is at or
    after ``updated_since`` (moved on only once every page up to it is held)."""

    __tablename__ = "return_cursor"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    updated_since: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReturnError(Base):
    """One problem of one held return (an unknown SKU, no customer, a refund that does not match the
    lines ...), kept when resolved, as ``order_error`` keeps an order's. While open, a problem exists once."""

    __tablename__ = "return_error"
    __table_args__ = (
        Index(
            "uq_return_error_open",
            "return_id",
            "code",
            "line_no",
            "field",
            "value",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
            postgresql_nulls_not_distinct=True,
        ),
        # Choice: severity is checked here (order_error leaves it unchecked).
        CheckConstraint("severity IN ('error', 'warning')", name="severity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("inbound_return.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int | None]  # the line's position in Loop's `line_items`, from 1
    code: Mapped[str] = mapped_column(String(30))
    field: Mapped[str | None]
    value: Mapped[str | None]
    message: Mapped[str]
    severity: Mapped[str] = mapped_column(String(8), default="error")  # error | warning
    first_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[datetime | None]
    # The new-errors e-mail that reported it (services.notify); NULL: not reported yet. A problem is
    # reported once, as reported_error marks an order's (migration a2b3c4d5e6f7).
    report_id: Mapped[int | None] = mapped_column(ForeignKey("error_report.id", ondelete="SET NULL"))


class Rma(Timestamps, Base):
    """A return merchandise authorization: one per held return (``inbound_return_id`` unique).

    ``sales_order_id`` is the original order when it is in the ERP; ``order_name`` always says which
    Shopify order it was. An exchange records the exchange order's name at once and, when that order
    is imported into the ERP (separately: Loop does not send it), the sales order it became; until
    then it is an open item. Choice: Timestamps (``updated_at`` too), since the status moves."""

    __tablename__ = "rma"
    __table_args__ = (
        # Choice: an exchange order belongs to one RMA (one per site by name, one per sales order).
        UniqueConstraint("site_id", "exchange_order_name"),
        UniqueConstraint("exchange_sales_order_id"),
        CheckConstraint("kind IN ('return', 'exchange')", name="kind"),
        CheckConstraint("status IN ('open', 'received', 'credited', 'void')", name="status"),
        CheckConstraint(
            "kind = 'exchange' OR (exchange_order_name IS NULL AND exchange_sales_order_id IS NULL)",
            name="exchange_only",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # rma_number(id)
    inbound_return_id: Mapped[int] = mapped_column(ForeignKey("inbound_return.id"), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    customer_code: Mapped[str] = mapped_column(ForeignKey("customer.code"), index=True)
    sales_order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"), index=True)
    # Choice: required; every Loop return is of a Shopify order and carries its name [DOC].
    order_name: Mapped[str]
    kind: Mapped[str] = mapped_column(String(10))  # return | exchange
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | received | credited | void
    warehouse_code: Mapped[str] = mapped_column(ForeignKey("warehouse.code"))  # where returned goods restock
    exchange_order_name: Mapped[str | None]
    exchange_sales_order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"))


class RmaLine(Base):
    """One returned item of an RMA. What was received of it is the sum of its receipts."""

    __tablename__ = "rma_line"
    __table_args__ = (
        UniqueConstraint("rma_id", "line_no"),
        # Choice: a Loop line item is one RMA line, so applying a return twice cannot double a line.
        UniqueConstraint("rma_id", "loop_line_item_id"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("refund_amount >= 0", name="refund_amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(ForeignKey("rma.id", ondelete="CASCADE"))
    line_no: Mapped[int]
    loop_line_item_id: Mapped[str]  # Loop's `line_item_id`, as text
    sku: Mapped[str] = mapped_column(ForeignKey("sku.sku"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)  # Loop's `price`
    # Loop's `refund` for the line; 0 for an item exchanged rather than refunded (choice: not NULL).
    refund_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"), server_default=text("0"))
    reason: Mapped[str | None]  # Loop's `return_reason`
    # Loop's line `outcome` (refund | credit | exchange | ...). Choice: no CHECK, Loop's list is open.
    outcome: Mapped[str] = mapped_column(String(20))
    restock_location_id: Mapped[str | None]  # Loop's `provider_restock_location_id` (a Shopify location)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RmaReceipt(Base):
    """Goods received against an RMA line: from the ERP's receipts file, the CLI or the console.

    Several receipts of a line add up; their sum never exceeds the line's quantity (the migration's
    constraint trigger, checked at the end of each statement, deferrable). ``restocked_at`` says
    when the quantity went into inventory (NULL: not yet)."""

    __tablename__ = "rma_receipt"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("source IN ('erp_file', 'cli', 'console')", name="source"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Choice: receipts go with their line (as the line goes with its RMA).
    rma_line_id: Mapped[int] = mapped_column(ForeignKey("rma_line.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    warehouse_code: Mapped[str] = mapped_column(ForeignKey("warehouse.code"))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    source: Mapped[str] = mapped_column(String(10))  # erp_file | cli | console
    reference: Mapped[str | None]  # the file's name, or who received it
    restocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CreditMemo(Base):
    """The credit issued for an RMA (one per RMA), recorded from Loop's refund amounts.

    ``loop_refund_amount`` is what Loop says was refunded (its `refunds[].amount`, summed) and
    ``lines_refund_amount`` what the RMA's lines add up to, both as they were when the memo was
    recorded. When they differ the memo waits for a person (``pending_confirmation``); it is posted
    only when they agree or a person confirmed it (``confirmed_by``)."""

    __tablename__ = "credit_memo"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("loop_refund_amount >= 0 AND lines_refund_amount >= 0", name="refund_amounts"),
        CheckConstraint("status IN ('pending_confirmation', 'posted')", name="status"),
        # Choice: posted means posted_at is set, and a mismatch is posted only once someone confirmed it.
        CheckConstraint("(status = 'posted') = (posted_at IS NOT NULL)", name="posted_at"),
        CheckConstraint(
            "status <> 'posted' OR loop_refund_amount = lines_refund_amount OR confirmed_by IS NOT NULL",
            name="confirmed",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # credit_memo_number(id)
    rma_id: Mapped[int] = mapped_column(ForeignKey("rma.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    loop_refund_amount: Mapped[Decimal] = mapped_column(Money)
    lines_refund_amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(22))  # pending_confirmation | posted
    posted_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(100))  # a console user, or cli:<system user>
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ArAdjustment(Base):
    """An AR adjustment posted against an existing unapplied credit on a customer account: today a
    debit, offsetting the credit a return's refund (``credit_memo_id``) or an exchange order
    fulfilled at a 100 % discount (the exchange's ``rma_id``) left there. Exactly one of the two is
    set; each credit memo and each exchange gets exactly one debit (partial unique indexes)."""

    __tablename__ = "ar_adjustment"
    __table_args__ = (
        Index(
            "uq_ar_adjustment_credit_memo_debit",
            "credit_memo_id",
            unique=True,
            postgresql_where=text("kind = 'debit' AND credit_memo_id IS NOT NULL"),
        ),
        Index(
            "uq_ar_adjustment_exchange_debit",
            "rma_id",
            unique=True,
            postgresql_where=text("kind = 'debit' AND rma_id IS NOT NULL"),
        ),
        # Choice: only debits for now (a CHECK of one value; a credit kind would be a new migration).
        CheckConstraint("kind IN ('debit')", name="kind"),
        CheckConstraint("amount > 0", name="amount"),
        # Choice: a debit never exceeds the unapplied credit it is posted against.
        CheckConstraint("unapplied_credit_amount >= amount", name="unapplied_credit_amount"),
        CheckConstraint("(credit_memo_id IS NULL) <> (rma_id IS NULL)", name="offsets_one"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="debit")
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str]
    reference: Mapped[str]  # e.g. the Loop return id, or the exchange order's name
    customer_code: Mapped[str] = mapped_column(ForeignKey("customer.code"), index=True)
    credit_memo_id: Mapped[int | None] = mapped_column(ForeignKey("credit_memo.id"))
    rma_id: Mapped[int | None] = mapped_column(ForeignKey("rma.id"))  # an exchange's RMA
    unapplied_credit_amount: Mapped[Decimal] = mapped_column(Money)  # the open credit it was posted against
    posted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
