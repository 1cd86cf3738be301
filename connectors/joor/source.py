"""JOOR as an :class:`connectors.base.OrderSource`: client pages in, PartnerOrders out.

Why every read here uses ``sync=0``: JOOR's default ``sync=1`` marks each order it returns as
exported *on JOOR, at the moment it answers*, and never hands that order out again. Bobbin stores
a page in its holding area only after the answer arrived; a worker killed between the two
(deploy, OOM, a lost connection to Postgres) would leave orders that JOOR counts as exported and
Bobbin never saw: lost for good, silently. So the source reads with ``sync=0`` and
``export_status=2`` (not yet exported) — a read that changes nothing and can be repeated — and the
pipeline marks each order with :meth:`JoorOrderSource.mark_order` (``"exported"``) through its
outbox, in the same transaction that stages it (``exported_when = "staged"``). A crash before the
commit re-reads the page next run; a crash after it leaves an outbox row that still marks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from connectors.base import PartnerOrder
from connectors.errors import NotSupported
from connectors.joor import contract as c
from connectors.joor.client import JoorClient
from connectors.joor.mapper import to_partner_order
from connectors.paging import ReadReport

# What Bobbin can write back to JOOR. Of the order statuses only "exported": v2 has no order status
# to write at all (a sync=1 read is the "exported" mark), and v4's orders/bulk_update cannot set
# Shipped [DOC]. "customer_code" is the outbox's name for set_customer_code (services/fixes.py
# queues it when it sees the partner takes it; services/writeback.py sends it there, not to
# mark_order).
EXPORTED = "exported"
WRITEBACK_STATUSES = (EXPORTED, "customer_code")
DEFAULT_ORDER_TYPES = (c.ORDER_TYPE_APPROVED,)


class JoorOrderSource:
    """Reads the orders of ``order_types`` that JOOR has not seen exported yet.

    ``order_types`` are JOOR's codes (contract.ORDER_TYPES): 6 approved (the default), 7 shipped
    for a site that also imports shipped orders (seed 002: "exports approved and shipped orders").
    """

    def __init__(
        self, client: JoorClient, *, order_types: Sequence[int] = DEFAULT_ORDER_TYPES, page_size: int = c.DEFAULT_COUNT
    ) -> None:
        unknown = [t for t in order_types if t not in c.ORDER_TYPES]
        if unknown or not order_types:
            raise ValueError(f"JOOR order_types must be among {sorted(c.ORDER_TYPES)}, got {list(order_types)}")
        self.client = client
        self.order_types = tuple(order_types)
        self.page_size = page_size
        self.read_report = ReadReport()  # what the lists did while they were read, over this source's reads

    def __repr__(self) -> str:
        return f"JoorOrderSource({self.client!r}, order_types={self.order_types})"

    def iter_order_pages(self) -> Iterator[list[PartnerOrder]]:
        """Orders not yet exported (``sync=0&export_status=2``), each once per run."""
        return self._pages(c.EXPORT_NOT_EXPORTED)

    def iter_modified_pages(self) -> Iterator[list[PartnerOrder]]:
        """Orders changed on JOOR after they were exported (``sync=0&export_status=4``).

        Reading them with sync=0 leaves them "modified" on JOOR until a person decides (seed 002:
        changes after export are not transferred; the ERP order is edited by hand).
        """
        return self._pages(c.EXPORT_MODIFIED)

    def _pages(self, export_status: int) -> Iterator[list[PartnerOrder]]:
        """Mapped pages over every order type; the ``seen`` set drops an order met twice (offset
        paging while orders arrive, a pass read again after a shift, or an order that changed
        type mid-run). :attr:`read_report` adds up what each list did (``connectors.paging``)."""
        seen: set[str] = set()
        for order_type in self.order_types:
            pager = self.client.order_pager(order_type, export_status, self.page_size)
            for raw_page in pager:
                page = [order for order in map(to_partner_order, raw_page) if order.partner_order_id not in seen]
                seen.update(order.partner_order_id for order in page)
                if page:
                    yield page
            self.read_report.add(pager.report)

    def mark_order(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> None:
        """Mark an order exported on JOOR (again, after it was modified); any other order status
        is refused (see WRITEBACK_STATUSES)."""
        if status != EXPORTED:
            raise NotSupported(
                f"JOOR cannot be told that order {partner_order_id} is {status}: its order API only "
                "marks orders exported (v2 has no order status to write, and v4 cannot set Shipped). "
                "Change the order's status in JOOR itself.",
                partner=c.PARTNER,
            )
        self.client.mark_exported(partner_order_id)

    def set_customer_code(self, partner_customer_id: str, erp_code: str) -> None:
        """Store the ERP code on the JOOR connection (PartnerCustomer.partner_id is the
        connection id), so the retailer's next orders carry it (seed 002 recommends this)."""
        self.client.update_connection(partner_customer_id, {c.ConnectionField.CUSTOMER_CODE: erp_code})

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        """Read back from the partner (the client knows how): see OrderSource.writeback_applied."""
        return self.client.writeback_applied(partner_order_id, status, payload)

    def close(self) -> None:
        self.client.close()
