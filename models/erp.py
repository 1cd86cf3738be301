"""ERP master data and sales orders: what the brand's ERP holds (SPEC: domain model).

Codes are the ERP's natural keys (customer code, SKU id, terms code ...) and foreign keys point at
them, so a row reads the way an ERP export does and loaders can upsert on the code.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, synonym

from models.base import Base, Timestamps, references

Money = Numeric(12, 2)


class Division(Base):
    __tablename__ = "division"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str]


class SalesRep(Base):
    __tablename__ = "sales_rep"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str]
    email: Mapped[str | None]


class Terms(Base):
    __tablename__ = "terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    description: Mapped[str]


class ShipVia(Base):
    __tablename__ = "ship_via"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    description: Mapped[str]


class Warehouse(Base):
    __tablename__ = "warehouse"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str]


class PriceType(Base):
    __tablename__ = "price_type"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None]


class Customer(Timestamps, Base):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    terms_code: Mapped[str | None] = mapped_column(ForeignKey("terms.code"))
    ship_via_code: Mapped[str | None] = mapped_column(ForeignKey("ship_via.code"))
    rep_code: Mapped[str | None] = mapped_column(ForeignKey("sales_rep.code"))
    # Where the row came from when Bobbin created it ("order 12"), so a person can trace it.
    created_from: Mapped[str | None]


class CustomerAddress(Base):
    __tablename__ = "customer_address"
    __table_args__ = (UniqueConstraint("customer_code", "kind", "address_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_code: Mapped[str] = mapped_column(ForeignKey("customer.code", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # billing | shipping
    name: Mapped[str | None]
    line1: Mapped[str | None]
    line2: Mapped[str | None]
    city: Mapped[str | None]
    state: Mapped[str | None]
    postal_code: Mapped[str | None]
    country: Mapped[str | None]
    address_key: Mapped[str]  # connectors.base.Address.key() joined: what makes two addresses the same


class Style(Timestamps, Base):
    __tablename__ = "style"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    description: Mapped[str]
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    season: Mapped[str | None]
    category: Mapped[str | None]
    # False: the ERP no longer sells the style; a catalog push removes or deactivates it on partners.
    active: Mapped[bool] = mapped_column(default=True)


class StyleColor(Base):
    __tablename__ = "style_color"
    __table_args__ = (UniqueConstraint("style_number", "color_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    style_number: Mapped[str] = mapped_column(ForeignKey("style.number", ondelete="CASCADE"))
    color_code: Mapped[str] = mapped_column(String(20))
    color_name: Mapped[str]


class Sku(Base):
    __tablename__ = "sku"
    __table_args__ = (UniqueConstraint("style_number", "color_code", "size"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20), unique=True)  # the ERP's short SKU id
    style_number: Mapped[str] = mapped_column(ForeignKey("style.number", ondelete="CASCADE"))
    color_code: Mapped[str] = mapped_column(String(20))
    size: Mapped[str] = mapped_column(String(20))
    size_index: Mapped[int] = mapped_column(default=0)
    upc: Mapped[str | None] = mapped_column(String(14), unique=True)


class StylePrice(Base):
    """A style's price in one price type: ``price`` is the wholesale price (also read as
    ``wholesale``), ``retail`` the suggested retail price in the same currency, when the ERP has one."""

    __tablename__ = "style_price"
    __table_args__ = (UniqueConstraint("style_number", "price_type_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    style_number: Mapped[str] = mapped_column(ForeignKey("style.number", ondelete="CASCADE"))
    price_type_code: Mapped[str] = mapped_column(ForeignKey("price_type.code"))
    price: Mapped[Decimal] = mapped_column(Money)
    retail: Mapped[Decimal | None] = mapped_column(Money)
    wholesale: Mapped[Decimal] = synonym("price")


class StyleColorPrice(Timestamps, Base):
    """A colour's own price in one price type, where it differs from its style's (``StylePrice``).
    A colour without a row here sells at the style's price."""

    __tablename__ = "style_color_price"
    __table_args__ = (
        UniqueConstraint("style_number", "color_code", "price_type_code"),
        ForeignKeyConstraint(
            ["style_number", "color_code"],
            ["style_color.style_number", "style_color.color_code"],
            ondelete="CASCADE",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    style_number: Mapped[str] = mapped_column(String(30))
    color_code: Mapped[str] = mapped_column(String(20))
    price_type_code: Mapped[str] = mapped_column(ForeignKey("price_type.code"))
    wholesale: Mapped[Decimal] = mapped_column(Money)
    retail: Mapped[Decimal | None] = mapped_column(Money)


# What an image shows: the style, one colour of it, or a colour's swatch (the small square a
# buyer picks the colour by). Style images have no colour; the other two always have one.
IMAGE_KINDS = ("style", "style_color", "swatch")


class StyleImage(Timestamps, Base):
    """One image of a style (or of one of its colours), in display order.

    ``source`` is an http(s) URL, or a file path relative to the images folder the manifest was
    loaded with; ``folder`` is that folder (absolute) for a file, NULL for a URL, so the file is
    ``folder / source``. One image per slot: style, colour, kind and position."""

    __tablename__ = "style_image"
    __table_args__ = (
        UniqueConstraint("style_number", "color_code", "kind", "position", postgresql_nulls_not_distinct=True),
        ForeignKeyConstraint(
            ["style_number", "color_code"],
            ["style_color.style_number", "style_color.color_code"],
            ondelete="CASCADE",
        ),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in IMAGE_KINDS)})", name="kind"),
        CheckConstraint("(kind = 'style') = (color_code IS NULL)", name="color_for_kind"),
        CheckConstraint("position >= 1", name="position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    style_number: Mapped[str] = mapped_column(ForeignKey("style.number", ondelete="CASCADE"))
    color_code: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(Text)
    folder: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int]
    alt_text: Mapped[str | None] = mapped_column(Text)


class Linesheet(Timestamps, Base):
    """A linesheet: a named selection of styles shown to buyers, for a season and a delivery window."""

    __tablename__ = "linesheet"
    __table_args__ = (
        CheckConstraint(
            "delivery_start IS NULL OR delivery_end IS NULL OR delivery_start <= delivery_end", name="delivery_window"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    season: Mapped[str | None]
    delivery_start: Mapped[date | None]
    delivery_end: Mapped[date | None]


class LinesheetStyle(Base):
    """A style on a linesheet, at its position (1 = first)."""

    __tablename__ = "linesheet_style"
    __table_args__ = (
        UniqueConstraint("linesheet_name", "style_number"),
        CheckConstraint("position >= 1", name="position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    linesheet_name: Mapped[str] = mapped_column(ForeignKey("linesheet.name", ondelete="CASCADE", onupdate="CASCADE"))
    style_number: Mapped[str] = mapped_column(ForeignKey("style.number", ondelete="CASCADE"), index=True)
    position: Mapped[int]


class Inventory(Base):
    """Stock per SKU per warehouse: on hand, allocated to open orders, and a future (WIP) bucket."""

    __tablename__ = "inventory"
    __table_args__ = (UniqueConstraint("sku", "warehouse_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("sku.sku", ondelete="CASCADE"))
    warehouse_code: Mapped[str] = mapped_column(ForeignKey("warehouse.code"))
    on_hand: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)
    future_qty: Mapped[int] = mapped_column(default=0)
    future_date: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class SalesOrder(Base):
    """An ERP sales order. ``inbound_order_id`` is unique: an inbound order is imported at most once.
    Its references, and its lines', are checked once per statement (``models.base.references``):
    an import writes 100,000 lines at a time."""

    __tablename__ = "sales_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    inbound_order_id: Mapped[int | None] = mapped_column(references("inbound_order.id"), unique=True)
    site_id: Mapped[int | None] = mapped_column(references("site.id"))
    division_code: Mapped[str | None] = mapped_column(references("division.code"))
    customer_code: Mapped[str] = mapped_column(references("customer.code"), index=True)
    po_number: Mapped[str | None]
    order_date: Mapped[date | None]
    start_date: Mapped[date | None]
    cancel_date: Mapped[date | None]
    terms_code: Mapped[str | None] = mapped_column(references("terms.code"))
    ship_via_code: Mapped[str | None] = mapped_column(references("ship_via.code"))
    rep_code: Mapped[str | None] = mapped_column(references("sales_rep.code"))
    warehouse_code: Mapped[str | None] = mapped_column(references("warehouse.code"))
    currency: Mapped[str | None] = mapped_column(String(3))
    ship_to_name: Mapped[str | None]
    ship_to_line1: Mapped[str | None]
    ship_to_line2: Mapped[str | None]
    ship_to_city: Mapped[str | None]
    ship_to_state: Mapped[str | None]
    ship_to_postal_code: Mapped[str | None]
    ship_to_country: Mapped[str | None]
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | shipped | paid | void
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # What the buyer pays for shipping: shipping + insurance + handling in one amount (seed 004).
    freight: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"), server_default="0")
    # Sales tax a marketplace collected and remits itself (eBay): on the buyer's receipt, not the
    # brand's revenue nor its invoice. None: the partner collects none.
    marketplace_tax: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SalesOrderLine(Base):
    __tablename__ = "sales_order_line"
    __table_args__ = (UniqueConstraint("sales_order_id", "line_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(references("sales_order.id", ondelete="cascade"))
    line_no: Mapped[int]
    # No index on sku: no query reads lines by SKU (migration d5e6f7a8b9c0 says what it cost).
    sku: Mapped[str] = mapped_column(references("sku.sku"))
    quantity: Mapped[int]
    price: Mapped[Decimal] = mapped_column(Money)


class CustomerDeposit(Base):
    """What the buyer already paid for one sales order (a marketplace sale is paid up front): the
    ERP applies it to the order's invoice, so the invoice is paid from it (seed 004: "a deposit is
    recorded"). One per sales order."""

    __tablename__ = "customer_deposit"
    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), unique=True)
    customer_code: Mapped[str] = mapped_column(ForeignKey("customer.code"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    reference: Mapped[str]  # where the money came from, e.g. "eBay order 12-34567-89012"
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
