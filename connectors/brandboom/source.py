"""Brandboom as an :class:`connectors.base.OrderSource`: client pages in, PartnerOrders out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from connectors.base import PartnerOrder
from connectors.brandboom import contract as c
from connectors.brandboom.client import DEFAULT_ORDER_PAGE, BrandboomClient
from connectors.brandboom.mapper import to_partner_order
from connectors.errors import NotSupported
from connectors.paging import ReadReport


class BrandboomOrderSource:
    """Reads the orders waiting in ``statuses`` (default: those the seller marked "Export").

    Brandboom's read does not mark anything, so a page can be re-read safely; the pipeline marks
    orders "exported" through :meth:`mark_order` once they are in the ERP.
    """

    def __init__(
        self,
        client: BrandboomClient,
        statuses: Sequence[str] = (c.ORDER_STATUS_EXPORT,),
        page_size: int = DEFAULT_ORDER_PAGE,
    ) -> None:
        self.client = client
        self.statuses = tuple(statuses)
        self.page_size = page_size
        self.read_report = ReadReport()

    def __repr__(self) -> str:
        return f"BrandboomOrderSource({self.client!r}, statuses={self.statuses})"

    def iter_order_pages(self) -> Iterator[list[PartnerOrder]]:
        """Mapped pages, each order once per run; :attr:`read_report` says afterwards whether the
        list shifted under the read (``connectors.paging``).

        Offset paging can hand the same order out twice when orders arrive while we page, and a
        pass read again after a shift hands out everything again: the ``seen`` set drops the
        repeats so the page counts in a run's summary stay honest.
        """
        seen: set[str] = set()
        for status in self.statuses:
            pager = self.client.order_pager(status, self.page_size)
            for raw_page in pager:
                page = [order for order in map(to_partner_order, raw_page) if order.partner_order_id not in seen]
                seen.update(order.partner_order_id for order in page)
                if page:
                    yield page
            self.read_report.add(pager.report)

    def mark_order(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> None:
        """Write one status (exported / shipped / paid / void) back to Brandboom."""
        self.client.update_order_status(partner_order_id, status)

    def iter_modified_pages(self) -> Iterator[list[PartnerOrder]]:
        """Brandboom's documented API cannot tell an order changed after export."""
        return iter(())

    def set_customer_code(self, partner_customer_id: str, erp_code: str) -> None:
        # [INF] Brandboom's Customers section is not public; the code is kept on the mapping only.
        raise NotSupported("Brandboom's customer API is not documented; map the customer in Bobbin instead")

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        """Read back from the partner (the client knows how): see OrderSource.writeback_applied."""
        return self.client.writeback_applied(partner_order_id, status, payload)

    def close(self) -> None:
        self.client.close()
