"""The holding area: inbound partner orders, their errors, and which errors were reported."""

from __future__ import annotations

import json
import threading
import zlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import zstandard
from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    TypeDecorator,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# downloaded -> valid | invalid | duplicate -> imported; or rejected (SPEC).
ORDER_STATES = ("downloaded", "valid", "invalid", "duplicate", "imported", "rejected")

# What the holding area's search looks in: partner order number, PO, customer as the partner names
# it, ERP customer code. A trigram index (pg_trgm) on exactly this expression answers
# ``ILIKE '%…%'`` on it without reading the table. Parenthesized as Postgres prints the index back,
# so that ``alembic check`` finds the model and the database alike.
ORDER_SEARCH_TEXT = (
    "((((((partner_order_id || ' | ') || coalesce(po_number, '')) || ' | ') || coalesce(customer_ref, '')) "
    "|| ' | ') || coalesce(customer_code, ''))"
)


# Characters of a PO or customer name the holding area sorts by (the index holds them).
SORT_PREFIX = 200


# The first bytes of a Zstandard frame; a payload packed before migration 5b7c9d1e3f20 is a zlib
# stream (its first byte 0x78) and is still read as one.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_codecs = threading.local()  # a compressor and a decompressor per thread (they are not thread-safe)


def _zstd() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    pair = getattr(_codecs, "pair", None)
    if pair is None:
        pair = _codecs.pair = (zstandard.ZstdCompressor(level=1), zstandard.ZstdDecompressor())
    return pair


def pack_payload(text: str) -> bytes:
    """A payload's JSON text as stored: UTF-8, Zstandard-compressed at level 1 (a 10-line order of
    about 1,900 bytes keeps about 650; zlib at its fastest level, before, kept 670 in three times
    the time, and Postgres's own pglz took three times the server time)."""
    return _zstd()[0].compress(text.encode("utf-8", "surrogatepass"))


def unpack_payload(packed: bytes) -> Any:
    """The JSON value back from ``pack_payload``'s bytes (or from a zlib stream packed before)."""
    raw = _zstd()[1].decompress(packed) if packed[:4] == ZSTD_MAGIC else zlib.decompress(packed)
    return json.loads(raw.decode("utf-8", "surrogatepass"))


class PackedJSON(TypeDecorator[Any]):
    """A JSON value held as ``pack_payload`` bytes (bytea) and read back as the value: written once,
    read whole in Python, never queried inside (migration d9e0f1a2b3c4 says what it saves). The
    import stages pages with bytes it packed itself (``services.holding.stage_page``); a value
    given here is encoded with sorted keys, as staging encodes a payload."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else pack_payload(json.dumps(value, sort_keys=True, default=str))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else unpack_payload(bytes(value))


class InboundOrder(Base):
    __tablename__ = "inbound_order"
    __table_args__ = (
        UniqueConstraint("site_id", "partner_order_id"),
        Index("ix_inbound_order_site_state", "site_id", "state"),
        # the holding area at 100,000 orders: search, and the order date's filter and sort
        Index(
            "ix_inbound_order_search",
            literal_column(ORDER_SEARCH_TEXT).label("search"),
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
        ),
        Index("ix_inbound_order_order_date_id", "order_date", "id"),
        # ... and its sorts, each read from an index in either direction, ties by id (the site's
        # by (site_id, id), one site after another in the order of their names)
        Index("ix_inbound_order_site_id_id", "site_id", "id"),
        Index("ix_inbound_order_partner_order_id_id", "partner_order_id", "id"),
        # A partner's free text has no length limit, and a btree entry must fit in a third of a
        # page: the PO and customer sorts read the first SORT_PREFIX characters (ties by id).
        Index("ix_inbound_order_po_number_id", literal_column(f"left(po_number, {SORT_PREFIX})"), "id"),
        Index("ix_inbound_order_customer_ref_id", literal_column(f"left(customer_ref, {SORT_PREFIX})"), "id"),
        Index("ix_inbound_order_state_id", "state", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    partner_order_id: Mapped[str]
    raw: Mapped[dict[str, Any]] = mapped_column(PackedJSON)  # the payload exactly as received, packed
    raw_hash: Mapped[str] = mapped_column(String(64))
    partner_status: Mapped[str | None]
    state: Mapped[str] = mapped_column(String(12), default="downloaded")
    po_number: Mapped[str | None]
    customer_ref: Mapped[str | None]  # how the partner names the customer (for lists)
    customer_code: Mapped[str | None]  # the ERP customer it resolved to, if any
    order_date: Mapped[date | None]
    ship_date: Mapped[date | None]
    cancel_date: Mapped[date | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    line_count: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    validated_at: Mapped[datetime | None]
    imported_at: Mapped[datetime | None]


class OrderError(Base):
    """One problem of one order. Rows are kept when resolved (``resolved_at``), never overwritten,
    so an order's history of problems can be read later. While open, a problem exists once."""

    __tablename__ = "order_error"
    __table_args__ = (
        Index(
            "uq_order_error_open",
            "order_id",
            "code",
            "line_no",
            "field",
            "value",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("inbound_order.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int | None]
    code: Mapped[str] = mapped_column(String(30))
    field: Mapped[str | None]
    value: Mapped[str | None]
    message: Mapped[str]
    severity: Mapped[str] = mapped_column(String(8), default="error")  # error | warning
    first_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[datetime | None]


class ErrorReport(Base):
    """One e-mail sent (a new-errors report, a daily digest, or an alarm)."""

    __tablename__ = "error_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(String(10))  # errors | digest
    subject: Mapped[str]
    recipients: Mapped[list[Any]]
    order_count: Mapped[int]
    error_count: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReportedError(Base):
    """An error already reported by a new-errors e-mail: it is never reported as new again."""

    __tablename__ = "reported_error"
    error_id: Mapped[int] = mapped_column(ForeignKey("order_error.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("error_report.id", ondelete="CASCADE"))


class OrderCursor(Base):
    """Where a site's order import reads the partner's list from next, for a partner read by
    last-modified time (eBay): orders modified at or after ``modified_since``, moved on only once
    every page up to it is held."""

    __tablename__ = "order_cursor"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    modified_since: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
