"""What every partner connector hands to the pipeline, and what it must be able to do.

The pipeline (``services/``) knows only these shapes. Each partner package under ``connectors/``
maps its own payloads into them (``mapper.py``) and implements :class:`OrderSource` on top of
its client (``client.py``). Nothing here knows any partner's field names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar, dataclass_transform, runtime_checkable

from connectors.paging import ReadReport

# Status changes Bobbin writes back to a partner (SPEC: outbox of writebacks).
WRITEBACK_STATUSES = ("exported", "shipped", "paid", "void")
# The outbox's name for OrderSource.set_customer_code: the ERP customer code stored on the
# partner's customer travels through the same outbox as the order statuses.
CUSTOMER_CODE = "customer_code"
# The holding area's id for an order whose payload carries no readable partner id: a stable stand-in
# (connectors.payload.Reader.order_id) so the same broken payload lands on the same row. Such an
# order can never be written back: nothing on the partner can be named for it.
UNIDENTIFIED_PREFIX = "unidentified-"


_R = TypeVar("_R")


@dataclass_transform(frozen_default=True)
def record(cls: type[_R]) -> type[_R]:
    """A mapper's record (an order, its lines, customer, addresses, problems): immutable.

    Frozen for the type checker (mypy refuses an assignment to a field) and hashed as a frozen
    dataclass is, but built at run time as a plain dataclass: a frozen dataclass's ``__init__``
    sets each field through ``object.__setattr__``, four times the time of a plain one, and an
    import of 10,000 orders builds 110,000 of these (0.12 s of its reading thread's GIL)."""
    return dataclass(unsafe_hash=True)(cls)


def identified(partner_order_id: str) -> bool:
    """Whether the id is the partner's own (not a stand-in for an order that carried none)."""
    return not partner_order_id.startswith(UNIDENTIFIED_PREFIX)


@record
class Address:
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def key(self) -> tuple[str, ...]:
        """A comparison key: case, spacing and punctuation do not make an address new."""

        def norm(v: str | None) -> str:
            return " ".join("".join(ch for ch in (v or "").lower() if ch.isalnum() or ch.isspace()).split())

        return (
            norm(self.line1),
            norm(self.line2),
            norm(self.city),
            norm(self.state),
            norm(self.postal_code).replace(" ", ""),
            norm(self.country),
        )

    def is_empty(self) -> bool:
        return not any((self.line1, self.city, self.postal_code))


@record
class PartnerCustomer:
    partner_id: str | None = None  # the partner's own id for the retailer / customer
    code: str | None = None  # the ERP customer code stored on the partner, if any
    name: str | None = None
    email: str | None = None
    billing: Address | None = None
    shipping: Address | None = None


@record
class Problem:
    """A defect found while reading a partner payload (becomes an order-error row)."""

    code: str
    message: str
    field: str | None = None
    value: str | None = None
    line_no: int | None = None
    severity: str = "error"


@record
class PartnerOrderLine:
    line_no: int  # 1-based, in payload order
    style_number: str | None = None
    color_code: str | None = None
    size: str | None = None
    sku_number: str | None = None  # the ERP's short SKU id, when the partner carries it
    upc: str | None = None
    quantity: Decimal | None = None  # None when missing or not a number (rule quantity_invalid)
    price: Decimal | None = None  # None when missing or not a number (rule price_invalid)
    raw_quantity: str | None = None  # as received, for the error message
    raw_price: str | None = None
    shipped_quantity: Decimal | None = None  # where the partner reports shipped units (JOOR)
    raw_shipped_quantity: str | None = None


@record
class PartnerOrder:
    """One partner order, normalized. ``raw`` is the payload exactly as received."""

    partner_order_id: str
    raw: Mapping[str, Any]
    partner_status: str | None = None
    po_number: str | None = None
    customer: PartnerCustomer = field(default_factory=PartnerCustomer)
    ship_to: Address | None = None
    sales_rep: str | None = None
    payment_method: str | None = None  # partner's terms / payment method text
    shipping_method: str | None = None  # partner's shipping option text
    warehouse: str | None = None  # partner warehouse id / name, None = site default
    order_date: date | None = None
    ship_date: date | None = None  # start ship
    cancel_date: date | None = None
    currency: str | None = None
    price_tier: str | None = None
    lines: tuple[PartnerOrderLine, ...] = ()
    problems: tuple[Problem, ...] = ()  # what the mapper could not read (bad dates, wrong types, ...)
    # A marketplace sale (eBay) carries its money as the buyer paid it; a wholesale order has none.
    freight: Decimal | None = None  # shipping + insurance + handling, one amount (seed 004)
    deposit: Decimal | None = None  # what the buyer already paid, applied to the ERP invoice
    marketplace_tax: Decimal | None = None  # tax the marketplace collected and remits itself
    # Why the partner's order must not go to the ERP yet (not paid, cancelled): held, not imported.
    hold_reason: str | None = None


# Where each order fact sits in a partner's payload, so an error row names the field as the
# partner's own screens and documents do ("shippingOption", not "shipping method"). Each connector
# gives its own; these logical names are the keys.
ORDER_FIELDS = (
    "customer",
    "rep",
    "terms",
    "shipping",
    "warehouse",
    "po",
    "ship_date",
    "cancel_date",
    "ship_to",
    "lines",
    "item",
    "quantity",
    "price",
    "currency",
)


class OrderSource(Protocol):
    """What the order pipeline needs from a partner that is read (pulled) for orders.

    Two ways partners learn that an order was taken, declared by the spec's ``OrderPull.exported_when``:
    - "imported" (Brandboom): the read marks nothing; Bobbin queues "exported" once the order is
      in the ERP, and the order keeps coming back until then (harmless: staging is an upsert).
    - "staged" (JOOR): the partner hands an order out until it is marked exported, and marking
      it is a separate call made only after the order is committed to the holding area; the
      pipeline queues "exported" in the same transaction that stages the order.
    """

    read_report: ReadReport  # what the partner's lists did while this source read them

    def iter_order_pages(self) -> Iterator[list[PartnerOrder]]:
        """Yield the orders waiting to be imported, one partner page at a time. The pipeline
        commits each page to the holding area before it asks for the next."""
        ...

    def iter_modified_pages(self) -> Iterator[list[PartnerOrder]]:
        """Orders changed on the partner after they were exported (empty where the partner
        cannot tell). Bobbin shows them to a person and never re-imports them silently."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class CursorSource(Protocol):
    """An :class:`OrderSource` that reads the partner's list by last-modified time (eBay) rather
    than by what the partner still hands out: the pipeline keeps its cursor (``order_cursor``),
    gives it before the read, and moves it to :attr:`read_through` once every page is held."""

    read_through: datetime | None  # set once every page was read: where the next read starts

    def start_from(self, since: datetime | None) -> None:
        """Read orders modified at or after ``since`` (None: the site's first read)."""
        ...


class StatusWriter(Protocol):
    """What the outbox needs from a partner it writes statuses (and customer codes) back to."""

    def mark_order(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> None:
        """Write a status change back (one of the spec's ``StatusWriteback.statuses``), with what
        the outbox row carries (a "shipped" change: ship date, carrier, tracking numbers). Raises
        PartnerError."""
        ...

    def set_customer_code(self, partner_customer_id: str, erp_code: str) -> None:
        """Store the ERP customer code on the partner's customer, so the next order maps by
        itself. Raises NotSupported where the partner has no such field."""
        ...

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        """Whether the partner already shows a writeback: ``status`` on the order, or for
        ``CUSTOMER_CODE`` the ERP code in ``payload`` on the customer it names. The outbox asks
        before it sends again a change whose previous attempt has no recorded outcome (the answer
        was lost, or the worker died while it waited): none of the partners' writes carries an
        idempotency key. Raises NotSupported where the partner cannot tell (the change is then
        sent again), and PartnerError when it cannot be read now."""
        ...

    def close(self) -> None: ...
