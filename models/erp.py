"""ERP master data and sales orders: what the brand's ERP holds (SPEC: domain model).

Codes are the ERP's natural keys (customer code, SKU id, terms code ...) and foreign keys point at
them, so a row reads the way an ERP export does and loaders can upsert on the code.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps

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
    __tablename__ = "style_price"
    __table_args__ = (UniqueConstraint("style_number", "price_type_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    style_number: Mapped[str] = mapped_column(ForeignKey("style.number", ondelete="CASCADE"))
    price_type_code: Mapped[str] = mapped_column(ForeignKey("price_type.code"))
    price: Mapped[Decimal] = mapped_column(Money)


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
    """An ERP sales order. ``inbound_order_id`` is unique: an inbound order is imported at most once."""

    __tablename__ = "sales_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    inbound_order_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_order.id"), unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    customer_code: Mapped[str] = mapped_column(ForeignKey("customer.code"), index=True)
    po_number: Mapped[str | None]
    order_date: Mapped[date | None]
    start_date: Mapped[date | None]
    cancel_date: Mapped[date | None]
    terms_code: Mapped[str | None] = mapped_column(ForeignKey("terms.code"))
    ship_via_code: Mapped[str | None] = mapped_column(ForeignKey("ship_via.code"))
    rep_code: Mapped[str | None] = mapped_column(ForeignKey("sales_rep.code"))
    warehouse_code: Mapped[str | None] = mapped_column(ForeignKey("warehouse.code"))
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
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SalesOrderLine(Base):
    __tablename__ = "sales_order_line"
    __table_args__ = (UniqueConstraint("sales_order_id", "line_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(ForeignKey("sku.sku"), index=True)
    quantity: Mapped[int]
    price: Mapped[Decimal] = mapped_column(Money)
