"""The ERP hand-off: which sales orders were written to the brand's ERP, and what the ERP shipped.

``erp_handoff`` holds one row per sales order handed to the ERP (``sales_order_id`` unique: an
order's first export is written once, ever); a person's re-export (``bobbin erp export --again``)
is counted on the same row, never recorded as a second first export. ``shipment`` holds what the
ERP's shipment / invoice export said was shipped, per order line, carrier, tracking number and
ship date (services/erp_handoff.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ErpHandoff(Base):
    """A sales order written to the ERP's drop folder: in which file, when, by which export run."""

    __tablename__ = "erp_handoff"
    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    file_name: Mapped[str]  # the file's name in the site's drop folder
    run_id: Mapped[str] = mapped_column(String(32), index=True)  # the export run (also in the file's name)
    exported_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Re-exports a person asked for (`bobbin erp export --again ORDER`): how many, and the last one.
    reexports: Mapped[int] = mapped_column(default=0, server_default="0")
    reexported_at: Mapped[datetime | None]
    reexport_file_name: Mapped[str | None]
    reexport_run_id: Mapped[str | None] = mapped_column(String(32), index=True)


class Shipment(Base):
    """What the ERP shipped of one sales-order line, as its shipment / invoice export says.

    One row per (line, ship date, tracking number, invoice): loading the same file again updates
    the same rows (its quantities are the ERP's word), so nothing is counted twice. Text keys are
    '' rather than NULL when the file leaves them blank, so the unique key holds for them too."""

    __tablename__ = "shipment"
    __table_args__ = (
        # Named here: the convention's name would pass Postgres's 63 characters.
        UniqueConstraint(
            "sales_order_line_id", "ship_date", "tracking_number", "invoice_number", name="uq_shipment_line_key"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    sales_order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_line.id", ondelete="CASCADE"))
    ship_date: Mapped[date]
    quantity: Mapped[int]
    carrier: Mapped[str | None]
    tracking_number: Mapped[str] = mapped_column(default="", server_default="")
    invoice_number: Mapped[str] = mapped_column(default="", server_default="")
    source_file: Mapped[str | None]  # the file's name it was last loaded from
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
