"""eBay's inventory push: the seller's ship-to-home quantity per SKU through
``bulkUpdatePriceQuantity`` [DOC api-docs/sell/inventory/resources/inventory_item/methods/
bulkUpdatePriceQuantity; static/inventory/bulk-updates.html].

What is sent. One request per changed SKU, ``{sku, shipToLocationAvailability: {quantity}}``: the
total quantity of the inventory item available to sell across marketplaces, which is what
``services.inventory`` works out (ATS over the site's warehouses, floor and cap applied; eBay keeps
one count per SKU, so every warehouse in scope adds up into it). No ``offers``: naming an offer is
needed only to change its price or its per-marketplace ``availableQuantity`` [DOC OfferPriceQuantity:
"Either the availableQuantity field or the price container is required"], and the price is the
listing push's business. [DOC bulk-updates.html] a listing shows the smaller of the item's
ship-to-home quantity and its offer's ``availableQuantity``: an offer made with an
``availableQuantity`` caps what this push can raise, so a fixed-price offer should leave it unset
[DOC offer.availableQuantity: not required "if the general quantity of the inventory item has
already been set in the inventory item record"] — the listing push's choice
(``connectors/ebay/listing.py``, which today sets it to the ATS at publish time).

Which SKUs. eBay takes a quantity only for a SKU it holds as an inventory item; any other SKU is
answered 404 (errorId 25702 [INF recalled]) inside a 207. A brand lists a few of its SKUs on eBay,
so sending the whole catalog would be thousands of refusals a push, and since a refused row keeps
no state, the same thousands the next push. The pusher asks eBay once per push which SKUs it holds
(``getInventoryItems``, 200 a page, only when something changed), and a change for any other SKU
becomes a unit with nothing to send (``not_held``): its state is forgotten, nothing is journaled,
so it is not looked at again until its stock moves. eBay's own list, not Bobbin's listing records,
decides: connectors do not read the database, and eBay is where an item was made or deleted (the
listing push, Seller Hub, another tool). The cost: one read per 200 items the seller holds, per
push that has changes; a seller with 4,000 SKUs on eBay pays 20 reads. A SKU made on eBay after
its stock last moved is not sent until its stock moves again or a full push runs — the listing
push sends the quantity with the new item, and journaling the SKUs it publishes
(``services.inventory.journal``) makes the next push check it.

What comes back. Every SKU gets its own ``statusCode`` [DOC PriceQuantityResponse]: 2xx without
errors is accepted (its state written), 404 or errorId 25702 is a SKU eBay no longer holds (deleted
between the read and the write: sent again next time), anything else is refused with eBay's
errorId and message (recorded for that SKU, the rest of the batch settled). A whole call eBay
refuses (400) is ``EbayRejected``: the batch is recorded and sent again next push. 429 and 5xx are
retried by the HTTP layer; when retries run out the push stops with what was accepted so far
written, and the next push sends the rest (the values are absolute, safe to send twice).

Future stock: eBay has none. Future buckets (``inventory_mode`` future or both) are not sent and
keep no state; an eBay site pushes ``immediate`` stock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from connectors.ebay import contract as c
from connectors.ebay.client import BulkResult, EbayClient
from connectors.ebay.settings import EbaySettings
from connectors.inventory import BatchAnswer, Buckets, Change, InventoryPush, SkuInfo, Unit

log = structlog.get_logger()

# SKUs per bulkUpdatePriceQuantity call: eBay's limit of 25 [DOC contract.BULK_LIMIT; its note on
# the method page that now says one SKU a call: if eBay holds to that, this goes to 1]. A request is
# ~80 bytes of JSON, so a call is ~2 KB; a change to 1,000 listed SKUs is 40 calls. Each updated
# SKU counts against eBay's 250 revisions per listing per day [DOC], which the diff keeps far off.
BATCH_ROWS = c.BULK_LIMIT

PQ = c.PriceQuantityField


class EbayPusher:
    """One push of one eBay seller's ship-to-home quantities (opened per push, closed after it)."""

    def __init__(self, client: EbayClient, settings: EbaySettings) -> None:
        self.client = client
        self._held: set[str] | None = None

    def held(self) -> set[str]:
        """The SKUs the seller holds as eBay inventory items, read once per push."""
        if self._held is None:
            self._held = self.client.inventory_skus()
            log.info("ebay_inventory_items_read", skus=len(self._held))
        return self._held

    def units(self, changes: Sequence[Change], desired: Buckets, skus: Mapping[str, SkuInfo]) -> list[Unit]:
        now = [ch for ch in changes if ch.available_on is None]  # eBay keeps no future stock
        if not now:
            return []
        return ebay_units(now, self.held())

    def send(self, batch: Sequence[Unit], *, full: bool) -> BatchAnswer:
        results = self.client.bulk_update_price_quantity([u.payload for u in batch if u.payload is not None])
        return answer_of(batch, results)

    def close(self) -> None:
        self.client.close()


def request_of(sku: str, quantity: int) -> dict[str, Any]:
    """One entry of ``requests`` [DOC PriceQuantity]: the SKU and its ship-to-home quantity."""
    return {PQ.SKU: sku, PQ.SHIP_TO_LOCATION_AVAILABILITY: {PQ.QUANTITY: max(0, int(quantity))}}


def ebay_units(changes: Sequence[Change], held: set[str]) -> list[Unit]:
    """A request per changed SKU eBay holds (a gone SKU goes as 0 and its state is forgotten once
    accepted); a SKU it does not hold has nothing to send and keeps no state."""
    units = []
    for ch in changes:
        settle = ((ch.key, None if ch.gone else ch.quantity),)
        if ch.sku not in held:
            units.append(Unit(None, ((ch.key, None),), not_held=True))
            continue
        units.append(Unit(request_of(ch.sku, 0 if ch.gone else ch.quantity), settle))
    return units


def answer_of(batch: Sequence[Unit], results: Sequence[BulkResult]) -> BatchAnswer:
    """Each unit by the results about its SKU: all 2xx without errors = accepted; a 404 or
    errorId 25702 = not found; anything else = refused with eBay's words. (The client has already
    checked that every SKU sent was answered and no other.)"""
    by_sku: dict[str, list[BulkResult]] = {}
    for result in results:
        by_sku.setdefault(result.sku, []).append(result)
    accepted: list[int] = []
    not_found: list[int] = []
    rejected: list[tuple[int, str]] = []
    for position, unit in enumerate(batch):
        sku = str((unit.payload or {}).get(PQ.SKU))
        about = by_sku.get(sku, [])
        if about and all(r.ok for r in about):
            accepted.append(position)
        elif any(_not_held(r) for r in about):
            not_found.append(position)
        else:
            rejected.append((position, _refusal(sku, about)))
    return BatchAnswer(accepted, not_found, rejected)


def _not_held(result: BulkResult) -> bool:
    return result.status_code == c.STATUS_NOT_FOUND or any(e.error_id == c.ERROR_SKU_NOT_FOUND for e in result.errors)


def _refusal(sku: str, results: Sequence[BulkResult]) -> str:
    """eBay's words for a refused SKU: each errorId with its message (and parameters)."""
    said = "; ".join(e.describe() for r in results if not r.ok for e in r.errors)
    statuses = ", ".join(str(r.status_code) for r in results if not r.ok) or "no answer"
    return f"eBay refused the quantity of SKU {sku} (statusCode {statuses}){': ' + said if said else ''}"


# eBay keeps one ship-to-home count per SKU (every warehouse in scope adds up into it) and no future
# stock; a request names the SKU by the ERP SKU id alone (the SKU the listing push gave the item).
INVENTORY = InventoryPush(
    open=EbayPusher,
    batch_rows=BATCH_ROWS,
    per_warehouse=False,
    one_future_bucket=True,
    wip_dates_removable=True,
    names_skus=False,
)
