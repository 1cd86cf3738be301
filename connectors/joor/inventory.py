"""JOOR's inventory push: ``POST /v2/bulk-inventory`` [DOC partners §1.6]."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.inventory import BatchAnswer, Buckets, Change, InventoryPush, SkuInfo, Unit
from connectors.joor import contract as c
from connectors.joor.client import InventoryItem, JoorClient
from connectors.joor.settings import JoorSettings

# Items per bulk-inventory call. [INF] JOOR publishes no limit. Each call costs 5 of the account's
# 300 credits per 5-minute window (60 calls a window, shared with the order import); an item is
# ~120 bytes of JSON, so a call is ~120 KB. 100k SKUs in 3 warehouses (300k items) are 300 calls:
# 1,500 credits, five windows, ~25 minutes, paced by the client's credit budget.
BATCH_ROWS = 1000


class JoorPusher:
    """One item per (warehouse name, WIP date, SKU), keyed by UPC where the SKU has one (JOOR's
    recommended key), else style number, color code and size; no ``inventory_date`` for immediate
    stock; ``dec_pending`` from the site's setting; never ``overwrite`` (it would replace the
    account's whole inventory). JOOR answers pass / fail per item; a failed item's state is not
    written."""

    def __init__(self, client: JoorClient, settings: JoorSettings) -> None:
        self.client = client
        self.dec_pending = settings.inventory_dec_pending

    def units(self, changes: Sequence[Change], desired: Buckets, skus: Mapping[str, SkuInfo]) -> list[Unit]:
        units = []
        for ch in changes:
            settle = ((ch.key, None if ch.gone else ch.quantity),)
            found = skus.get(ch.sku)
            if found is None:  # a gone SKU the ERP no longer has: nothing names it to JOOR
                units.append(Unit(None, settle))
                continue
            upc, style, color, size = found
            item = InventoryItem(
                inventory=ch.quantity,
                warehouse=ch.warehouse or None,
                upc=upc or None,
                style_number=None if upc else style,
                color_code=None if upc else color,
                size=None if upc else size,
                inventory_date=ch.available_on,
            )
            units.append(Unit(item.to_json(), settle, item))
        return units

    def send(self, batch: Sequence[Unit], *, full: bool) -> BatchAnswer:
        answer = self.client.bulk_inventory([u.wire for u in batch], dec_pending=self.dec_pending)
        log_ = answer.inventory_log
        if len(log_) == len(batch):  # [INF] one log entry per item, in the items' order
            failed = [i for i, entry in enumerate(log_) if not _passed(entry)]
        else:  # otherwise by the SKU each entry names (its UPC, or style/color/size)
            refused = {str(e.get(c.LOG_SKU)) for e in log_ if isinstance(e, dict) and not _passed(e)}
            failed = [i for i, u in enumerate(batch) if _label(u.payload or {}) in refused]
        bad = set(failed)
        return BatchAnswer([i for i in range(len(batch)) if i not in bad], failed)

    def close(self) -> None:
        self.client.close()


def _passed(entry: Any) -> bool:
    return isinstance(entry, dict) and str(entry.get(c.LOG_STATUS, "")).lower() == c.LOG_PASS


def _label(item: Mapping[str, Any]) -> str:
    f = c.InventoryField
    return str(item.get(f.UPC) or "/".join(str(item.get(k) or "?") for k in (f.STYLE_NUMBER, f.COLOR_CODE, f.SIZE)))


# JOOR keeps stock per warehouse and per WIP date; its API cannot remove a WIP date (seed 002), so
# a gone one is listed for a person.
INVENTORY = InventoryPush(
    open=JoorPusher, batch_rows=BATCH_ROWS, per_warehouse=True, one_future_bucket=False, wip_dates_removable=False
)
