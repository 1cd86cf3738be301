"""An eBay seller account as the order pipeline and the outbox use it: the sales read by
last-modified time (a :class:`connectors.base.CursorSource`), and tracking written back as one
shipping fulfilment per order (a :class:`connectors.base.StatusWriter` taking "shipped").

eBay hands nothing out "until exported" and takes no "exported" mark: an order is read whenever
it changed since the cursor (paid, shipped, cancelled), and staging is an upsert on its id, so a
re-read order that is already in the ERP is left alone. The cursor is kept by the pipeline
(``order_cursor``) and moved only after every page up to it is held.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.base import PartnerOrder
from connectors.ebay import contract as c
from connectors.ebay.client import EbayClient
from connectors.ebay.mapper import to_partner_order
from connectors.ebay.settings import EbaySettings
from connectors.errors import NotSupported, PartnerRejected
from connectors.paging import ReadReport

SHIPPED = "shipped"
# What Bobbin writes back to eBay: tracking, once the ERP shipped the order. eBay has no
# "exported", "paid" (the buyer pays eBay) or "void" (a cancellation is the buyer's or eBay's
# process, not a field) that a seller sets through the Fulfillment API [DOC].
WRITEBACK_STATUSES = (SHIPPED,)
# The list is read up to this far past our clock (eBay's may run ahead of it) [INF].
CLOCK_SKEW = timedelta(minutes=2)


class EbayOrders:
    """One eBay seller account's orders (a site)."""

    def __init__(self, client: EbayClient, settings: EbaySettings | None = None) -> None:
        self.client = client
        self.settings = settings or EbaySettings()
        self.read_report = ReadReport()
        self.since: datetime | None = None
        self.read_through: datetime | None = None

    def __repr__(self) -> str:
        return f"EbayOrders({self.client!r})"

    # --- CursorSource -------------------------------------------------------------------------
    def start_from(self, since: datetime | None) -> None:
        self.since = since

    def iter_order_pages(self) -> Iterator[list[PartnerOrder]]:
        """Orders modified since the cursor (the site's first read: ``orders_first_days`` back),
        every state: a cancelled or unpaid order is held, not imported, and one paid later is read
        again when it changes. :attr:`read_through` is set once the last page was read."""
        started = datetime.now(UTC)
        since = self.since or started - timedelta(days=self.settings.orders_first_days)
        self.read_through = None
        seen: set[str] = set()
        for page in self.client.iter_order_pages(since, started + CLOCK_SKEW, limit=self.settings.page_size):
            self.read_report.pages += 1
            orders = [o for o in map(to_partner_order, page.orders) if o.partner_order_id not in seen]
            seen.update(o.partner_order_id for o in orders)
            if orders:
                yield orders
        self.read_report.passes = max(self.read_report.passes, 1)
        self.read_through = started

    def iter_modified_pages(self) -> Iterator[list[PartnerOrder]]:
        """Every change comes through :meth:`iter_order_pages` (read by last-modified time)."""
        return iter(())

    # --- StatusWriter -------------------------------------------------------------------------
    def mark_order(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> None:
        """ "shipped": one shipping fulfilment with the ERP shipment's carrier and tracking number,
        covering every line item of the order not shipped on eBay yet."""
        if status != SHIPPED:
            raise NotSupported(f"eBay takes no {status!r} from a seller through its API", partner=c.PARTNER)
        carrier, tracking = _tracking(payload)
        lines = self._unshipped_lines(partner_order_id)
        if not lines:
            return  # every line already has its package on eBay: nothing to send
        shipped_on = payload.get("ship_date")
        shipped_at = (
            datetime.combine(date.fromisoformat(str(shipped_on)), datetime.min.time(), UTC)
            if shipped_on
            else datetime.now(UTC)
        )
        self.client.create_shipping_fulfillment(partner_order_id, lines, carrier, tracking, shipped_at)

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        """Whether eBay already holds a package of the order with this tracking number (a lost
        answer, or a worker that died while it waited): then it is not created again."""
        if status != SHIPPED:
            raise NotSupported(f"eBay takes no {status!r} from a seller through its API", partner=c.PARTNER)
        _, tracking = _tracking(payload)
        S = c.ShipmentField
        return any(
            str(f.get(S.SHIPMENT_TRACKING_NUMBER) or "").strip() == tracking
            for f in self.client.shipping_fulfillments(partner_order_id)
        )

    def set_customer_code(self, partner_customer_id: str, erp_code: str) -> None:
        raise NotSupported("eBay buyers carry no seller's customer code; the e-mail maps them", partner=c.PARTNER)

    def _unshipped_lines(self, partner_order_id: str) -> dict[str, int]:
        """{lineItemId: quantity} of the order's lines eBay does not show fulfilled."""
        order = self.client.get_order(partner_order_id)
        L = c.LineField
        lines: dict[str, int] = {}
        for item in order.get(c.OrderField.LINE_ITEMS) or []:
            if not isinstance(item, Mapping) or item.get(L.LINE_ITEM_FULFILLMENT_STATUS) == c.FULFILLMENT_FULFILLED:
                continue
            line_id, quantity = item.get(L.LINE_ITEM_ID), item.get(L.QUANTITY)
            if isinstance(line_id, str) and line_id and isinstance(quantity, int) and quantity > 0:
                lines[line_id] = quantity
        return lines

    def close(self) -> None:
        self.client.close()


def _tracking(payload: Mapping[str, Any]) -> tuple[str, str]:
    """The carrier and tracking number a shipping fulfilment needs [DOC: both required]; a
    shipment without them is refused in words a person can act on (the ERP's shipment file)."""
    carrier = str(payload.get("carrier") or "").strip()
    tracking = str(payload.get("tracking_number") or "").strip()
    if not carrier or not tracking:
        missing = " and ".join(x for x, v in (("carrier", carrier), ("tracking number", tracking)) if not v)
        raise PartnerRejected(
            f"the ERP shipment has no {missing}: eBay's shipping fulfilment needs both; "
            "load the shipment again with them",
            partner=c.PARTNER,
        )
    return carrier, tracking


def open_orders(client: EbayClient, settings: EbaySettings) -> EbayOrders:
    return EbayOrders(client, settings)
