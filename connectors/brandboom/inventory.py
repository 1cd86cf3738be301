"""Brandboom's inventory push: ``products/import`` in mode ``inventory`` [DOC seed 001]."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from connectors.brandboom import contract as c
from connectors.brandboom.client import BrandboomClient
from connectors.brandboom.settings import BrandboomSettings
from connectors.inventory import BatchAnswer, Buckets, Change, InventoryPush, Key, SkuInfo, Unit

# Rows per products/import call. One row is ~40 bytes of CSV, so a batch is ~200 KB on the wire and
# one commit of 5,000 state rows; a rejected batch sends those 5,000 again next time. 100,000
# SKUs are 20 calls.
BATCH_ROWS = 5000


class BrandboomPusher:
    """products/import, mode ``inventory``, the rows as a CSV attachment [DOC seed 001]: one row per
    SKU (``skuNumber`` = the ERP SKU id) carrying every bucket of it, so a row is complete on its
    own; ``bypassDiff`` only on a full push (Brandboom otherwise skips rows equal to its last import)."""

    def __init__(self, client: BrandboomClient, settings: BrandboomSettings) -> None:
        self.client = client
        self.brand_id, self.showroom_id = settings.brand_id, settings.showroom_id

    def units(self, changes: Sequence[Change], desired: Buckets, skus: Mapping[str, SkuInfo]) -> list[Unit]:
        return brandboom_units(changes, desired)

    def send(self, batch: Sequence[Unit], *, full: bool) -> BatchAnswer:
        value = self.client.import_products(
            c.MODE_INVENTORY,
            [u.payload for u in batch if u.payload is not None],
            brand_id=self.brand_id,
            showroom_id=self.showroom_id,
            bypass_diff=full,
        )
        missing = _not_found(value, len(batch))
        return BatchAnswer([i for i in range(len(batch)) if i not in missing], sorted(missing))

    def close(self) -> None:
        self.client.close()


def brandboom_units(changes: Sequence[Change], desired: Buckets) -> list[Unit]:
    """One import row per changed SKU, in SKU order, with every bucket of it: ``inventoryCount``,
    and ``futureInventoryCount`` + ``futureInventoryDate`` (a gone WIP bucket with no new one:
    count 0). A row settles every key it carries once accepted.

    Built bucket by bucket (a set intersection each), not SKU by SKU: a full push makes 100k rows."""
    rows: dict[str, dict[str, Any]] = {ch.sku: {c.ROW_SKU_NUMBER: ch.sku} for ch in changes}
    settles: dict[str, list[tuple[Key, int | None]]] = {sku: [] for sku in rows}
    wanted = rows.keys()
    for (warehouse, day), per_sku in sorted(desired.items(), key=lambda item: item[0][1] or date.min):
        columns: tuple[str, ...] = (
            (c.SKU_INVENTORY_COUNT,) if day is None else (c.SKU_FUTURE_INVENTORY_COUNT, c.SKU_FUTURE_INVENTORY_DATE)
        )
        shown = None if day is None else day.isoformat()
        for sku in wanted & per_sku.keys():
            qty = per_sku[sku]
            row = rows[sku]
            row[columns[0]] = qty
            if shown is not None:
                row[columns[1]] = shown
            settles[sku].append(((sku, warehouse, day), qty))
    for ch in changes:
        if ch.gone:
            row = rows[ch.sku]
            if ch.available_on is None:
                row[c.SKU_INVENTORY_COUNT] = 0
            else:  # the WIP bucket is gone; unless another date replaced it, its count goes to 0
                row.setdefault(c.SKU_FUTURE_INVENTORY_COUNT, 0)
            settles[ch.sku].append((ch.key, None))
    return [Unit(row, tuple(settles[sku])) for sku, row in rows.items()]


def _not_found(value: Any, size: int) -> set[int]:
    """[INF] Brandboom does not document the import's answer; the sandbox lists the positions of
    rows that matched no SKU under ``notFound``. Anything else reads as "all taken"."""
    found = value.get("notFound") if isinstance(value, dict) else None
    if not isinstance(found, list):
        return set()
    return {i for i in found if isinstance(i, int) and 0 <= i < size}


# Brandboom keeps one count per SKU (every warehouse in scope adds up into it) and one future count
# with its date; a WIP date can be replaced through the API; a row names its SKU by skuNumber alone.
INVENTORY = InventoryPush(
    open=BrandboomPusher,
    batch_rows=BATCH_ROWS,
    per_warehouse=False,
    one_future_bucket=True,
    wip_dates_removable=True,
    names_skus=False,
)
