"""Inventory push: send a site's partner what it may sell, as a diff, in bounded batches — the work
behind ``tasks.inventory.push_inventory`` and ``bobbin inventory push``, callable without Celery.

What is sent (README "Inventory push" says the same)
----------------------------------------------------
Available to sell (ATS), per SKU and ERP warehouse::

    ATS = max(0, on_hand − allocated − held by open orders)

- ``on_hand`` and ``allocated`` are the ERP inventory row as last loaded (``bobbin erp load
  inventory``). ``allocated`` is the ERP's own allocation to orders Bobbin does not hold — orders
  keyed into the ERP, EDI, retail transfers. Bobbin never changes it and subtracts it as it is.
- *Held by open orders* is the quantity on the lines of ERP sales orders whose status is
  ``open`` (imported, not shipped, paid or void), from every site, at the order's warehouse: the
  sales order's ``warehouse_code``, else its site's ``default_warehouse``. The lines of an order
  with neither are taken from the SKU's warehouses in warehouse-code order until covered, so no
  unit counts as available twice. Shipped and paid orders hold nothing (the goods left; the next
  ERP inventory load lowers ``on_hand``), void ones released theirs. If the ERP's ``allocated`` already counts orders Bobbin
  imported, they are subtracted twice — too little is offered, never too much.
- The future bucket is the ERP's ``future_qty`` with its ``future_date`` (the WIP date), as the ERP
  states it; open orders are not taken from it, and a future quantity without a date is not sent.

Then, per site (``services.sites.SiteSettings``):

1. Scope: SKUs of active styles in the site's division (or styles with no division), in the ERP
   warehouses named by ``inventory_warehouses`` (all of them when it is empty).
2. Each ERP warehouse goes to the partner warehouse ``inventory_warehouses`` names ('' = the
   partner's default; several ERP warehouses add up into one). Brandboom keeps one count per SKU,
   so for Brandboom every warehouse in scope adds up into that one count. A settings map, not the
   site's "warehouse" mapping rows read backwards: those map the warehouse *code* an order carries
   to an ERP warehouse, several codes may map to one, and JOOR's bulk-inventory wants the
   warehouse *name*; the push also has to say which warehouses go at all. One map says both.
3. Immediate = the sum of ATS; future = the sum of ``future_qty`` per WIP date. Brandboom has one
   future count and date per SKU: the sum of every future quantity, at the latest of their dates
   (all of it is there by then; an earlier date would promise units too soon).
4. ``inventory_floor``: a quantity below it is sent as 0 (the last units stay back for other
   channels); then ``inventory_cap``: nothing above it is sent. Both apply to every bucket.
5. ``inventory_mode`` picks the buckets: immediate, future or both.

Diff, batches, state
--------------------
``inventory_push_state`` holds what the partner accepted per (site, SKU, partner warehouse,
bucket, WIP date). A normal push sends the rows whose quantity differs from it; ``full=True``
sends every row (and asks Brandboom to ``bypassDiff``). A bucket that was sent and is gone now
(style made inactive, warehouse taken out of scope, WIP date moved or received, mode changed) is
sent as 0 and its state row deleted once accepted; JOOR cannot remove a WIP date through its API
(seed 002), so those are listed in the run's report for a person to remove on JOOR.

Rows go in batches of the partner's ``batch_rows``; each accepted batch's state is committed
before the next batch leaves, so an interrupted push (worker killed, partner down) resumes where
it stopped — the next normal push finds those rows equal and sends only the rest; a ``full`` push
after an interrupted full push skips the rows that run already got accepted. A batch the partner
rejects is recorded (``inventory_push_rejection``: its message and rows) and the push goes on; its
rows are sent again next time because their state was not written.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple, Protocol, TypeVar

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.errors import PartnerRejected
from connectors.registry import connector
from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from models import InventoryPushRejection, Site, SyncRun, Warehouse
from services.runs import recorded_run
from services.sites import SiteError, SiteSettings, credentials, get_site, site_settings

log = structlog.get_logger()

TASK = "push_inventory"
IMMEDIATE, FUTURE = "immediate", "future"
DEFAULT_WAREHOUSE = ""  # the partner's default warehouse (JOOR's "Default"; Brandboom's only one)
# How many gone WIP dates / unknown SKUs a run's report lists by name (the counts are always whole).
REPORT_LIST_MAX = 200

T = TypeVar("T")

# (ERP SKU id, partner warehouse name, WIP date or None for immediate stock)
Key = tuple[str, str, date | None]
Progress = Callable[[int, int], None]  # (rows done, rows in this push)


# (partner warehouse, WIP date or None) -> {ERP SKU id: quantity}: the shape the push works in.
# Keyed by the SKU string, whose hash Python caches: comparing 100k SKUs is one dict lookup each,
# with no (SKU, warehouse, date) tuple to build and hash per row.
Buckets = dict[tuple[str, date | None], dict[str, int]]


class StockRow(NamedTuple):
    """One ERP inventory row as the push reads it. ``free`` = on_hand − allocated (the database
    computes it); the rows from the database are plain tuples in this order."""

    sku: str
    warehouse: str
    free: int
    future_qty: int | None
    future_date: date | None


class Change(NamedTuple):
    """One bucket to send: what the partner last accepted (None: never sent) and the quantity now.
    ``gone``: sent before, no longer in the ERP's picture — sent as 0, its state then deleted."""

    sku: str
    warehouse: str
    available_on: date | None
    previous: int | None
    quantity: int
    gone: bool = False

    @property
    def key(self) -> Key:
        return (self.sku, self.warehouse, self.available_on)

    @property
    def bucket(self) -> str:
        return IMMEDIATE if self.available_on is None else FUTURE


@dataclass(frozen=True)
class PushPolicy:
    """A site's push settings, resolved: the pure functions below need nothing else."""

    immediate: bool = True
    future: bool = False
    warehouses: Mapping[str, str] | None = None  # ERP code -> partner warehouse; None = all -> default
    cap: int | None = None
    floor: int | None = None
    per_warehouse: bool = True  # False: the partner keeps one count per SKU (Brandboom)
    one_future_bucket: bool = False  # True: one future count and date per SKU (Brandboom)

    @classmethod
    def from_settings(cls, settings: SiteSettings, partner: PartnerSpec) -> PushPolicy:
        mode = settings.inventory_mode
        return cls(
            immediate=mode in ("immediate", "both"),
            future=mode in ("future", "both"),
            warehouses=dict(settings.inventory_warehouses) or None,
            cap=settings.inventory_cap,
            floor=settings.inventory_floor,
            per_warehouse=partner.per_warehouse,
            one_future_bucket=partner.one_future_bucket,
        )


# --- the pure part: ATS, limits, desired quantities, diff, batches ------------------------------


def limited(quantity: int, cap: int | None = None, floor: int | None = None) -> int:
    """Below ``floor`` nothing is offered (the last units stay back); above ``cap`` nothing more."""
    if floor is not None and quantity < floor:
        return 0
    if cap is not None and quantity > cap:
        return cap
    return quantity


def place_unassigned(
    stock: Sequence[StockRow], held: Mapping[tuple[str, str], int], unassigned: Mapping[str, int]
) -> dict[tuple[str, str], int]:
    """``held`` plus open quantities that name no warehouse, taken from each SKU's warehouses in
    code order until covered (ATS already held elsewhere is not taken twice)."""
    placed = dict(held)
    if not unassigned:
        return placed
    rows: dict[str, list[tuple[str, int]]] = {}
    for sku, warehouse, free, *_ in stock:
        if sku in unassigned:
            rows.setdefault(sku, []).append((warehouse, free))
    for sku, wanted in unassigned.items():
        for warehouse, free in sorted(rows.get(sku, ())):
            if wanted <= 0:
                break
            where = (sku, warehouse)
            take = min(wanted, max(0, free - placed.get(where, 0)))
            if take > 0:
                placed[where] = placed.get(where, 0) + take
                wanted -= take
    return placed


def desired_buckets(
    stock: Sequence[StockRow],
    policy: PushPolicy,
    held: Mapping[tuple[str, str], int] | None = None,
    unassigned: Mapping[str, int] | None = None,
) -> Buckets:
    """What the partner should show, per (partner warehouse, WIP date or None), per SKU.

    Immediate = the sum over the ERP warehouses going to a partner warehouse of each one's
    ATS = max(0, free − held), free being on_hand − allocated: clamped per ERP warehouse, so one
    warehouse's oversold SKU does not take stock away from another's. Every SKU and partner
    warehouse in scope has an immediate quantity (0 = sold out); a future bucket exists only
    where something is coming. One pass over every inventory row of the catalog, summing into
    plain dicts."""
    placed = place_unassigned(stock, held or {}, unassigned or {})
    held_skus = {sku for sku, _ in placed}
    mapping = policy.warehouses
    one_count = not policy.per_warehouse
    want_now, want_future = policy.immediate, policy.future
    now: dict[str, dict[str, int]] = {}
    future: Buckets = {}
    target = DEFAULT_WAREHOUSE
    sums = now.setdefault(target, {}) if mapping is None else {}
    for sku, warehouse, free, future_qty, future_date in stock:
        if mapping is not None:
            found = mapping.get(warehouse)
            if found is None:
                continue
            target = DEFAULT_WAREHOUSE if one_count else found
            sums = now.get(target) or now.setdefault(target, {})
        if want_now:
            if sku in held_skus:
                free -= placed.get((sku, warehouse), 0)
            sums[sku] = sums.get(sku, 0) + (free if free > 0 else 0)
        if future_qty and want_future and future_qty > 0 and future_date is not None:
            dated = future.get((target, future_date)) or future.setdefault((target, future_date), {})
            dated[sku] = dated.get(sku, 0) + future_qty
    if policy.one_future_bucket and future:
        future = _one_future_bucket(future)
    desired: Buckets = {(target, None): sums for target, sums in now.items() if want_now}
    if policy.cap is not None or policy.floor is not None:
        cap, floor = policy.cap, policy.floor
        desired = {b: {sku: limited(q, cap, floor) for sku, q in per.items()} for b, per in desired.items()}
        future = {b: {sku: limited(q, cap, floor) for sku, q in per.items()} for b, per in future.items()}
    for bucket, per_sku in future.items():  # a future bucket of 0 is no bucket
        kept = {sku: q for sku, q in per_sku.items() if q > 0}
        if kept:
            desired[bucket] = kept
    return desired


def _one_future_bucket(future: Buckets) -> Buckets:
    """Per SKU and warehouse: every future quantity, at the latest WIP date among them. Buckets are
    read in date order, so the last date written for a SKU is its latest."""
    totals: dict[str, dict[str, int]] = {}
    latest: dict[str, dict[str, date]] = {}
    for (warehouse, day), per_sku in sorted(future.items(), key=lambda item: item[0][1] or date.min):
        assert day is not None
        total, last = totals.setdefault(warehouse, {}), latest.setdefault(warehouse, {})
        for sku, qty in per_sku.items():
            total[sku] = total.get(sku, 0) + qty
            last[sku] = day
    out: Buckets = {}
    for warehouse, per_sku in totals.items():
        last = latest[warehouse]
        for sku, qty in per_sku.items():
            bucket = out.get((warehouse, last[sku])) or out.setdefault((warehouse, last[sku]), {})
            bucket[sku] = qty
    return out


def flatten(buckets: Buckets) -> dict[Key, int]:
    """Buckets as {(SKU, partner warehouse, WIP date): quantity} (for people and tests)."""
    return {(sku, warehouse, day): qty for (warehouse, day), per_sku in buckets.items() for sku, qty in per_sku.items()}


def nest(quantities: Mapping[Key, int]) -> Buckets:
    out: Buckets = {}
    for (sku, warehouse, day), qty in quantities.items():
        out.setdefault((warehouse, day), {})[sku] = qty
    return out


def desired_quantities(
    stock: Sequence[StockRow],
    policy: PushPolicy,
    held: Mapping[tuple[str, str], int] | None = None,
    unassigned: Mapping[str, int] | None = None,
) -> dict[Key, int]:
    """:func:`desired_buckets`, flattened."""
    return flatten(desired_buckets(stock, policy, held, unassigned))


def diff(
    desired: Buckets, state: Buckets, *, full: bool = False, skip: frozenset[Key] | set[Key] = frozenset()
) -> list[Change]:
    """The rows to send, in SKU order: those whose quantity differs from what the partner accepted
    (every row when ``full``, less ``skip``: rows an interrupted full push already got accepted),
    and the buckets the partner has and the ERP no longer does, as 0 (``gone``)."""
    changes: list[Change] = []
    empty: dict[str, int] = {}
    for (warehouse, day), want in desired.items():
        had = state.get((warehouse, day), empty)
        if full:
            todo = want.items() if not skip else [(k, q) for k, q in want.items() if (k, warehouse, day) not in skip]
        else:
            before = had.get
            todo = [(sku, qty) for sku, qty in want.items() if before(sku) != qty]
        changes += [Change(sku, warehouse, day, had.get(sku), qty) for sku, qty in todo]
    for (warehouse, day), had in state.items():
        want = desired.get((warehouse, day), empty)
        gone = had.keys() - want.keys()  # set work in C
        changes += [
            Change(sku, warehouse, day, had[sku], 0, gone=True) for sku in gone if (sku, warehouse, day) not in skip
        ]
    changes.sort(key=itemgetter(0))  # by SKU; stable, so a SKU's buckets keep the order above
    return changes


def quantity(buckets: Buckets, key: Key) -> int | None:
    per_sku = buckets.get((key[1], key[2]))
    return None if per_sku is None else per_sku.get(key[0])


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- partners: one small table, no "if kind ==" elsewhere ----------------------------------------


@dataclass(frozen=True)
class Unit:
    """One row as the partner receives it, and what it settles once accepted: the quantity to
    record per key, or None to forget a gone bucket. ``payload`` is the row as JSON (what a
    rejected batch records); ``wire`` the object the client sends, when it is not the payload;
    a unit with no payload has nothing the partner could be told (a gone SKU the ERP no longer
    knows, so no UPC or style to name it): its state is forgotten without sending."""

    payload: dict[str, Any] | None
    settles: tuple[tuple[Key, int | None], ...]
    wire: Any = None

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(key for key, _ in self.settles)


class BatchAnswer(NamedTuple):
    accepted: list[int]  # positions in the batch the partner took
    not_found: list[int]  # positions it answered it does not know (their state is not written)


class Pusher(Protocol):
    def units(self, changes: Sequence[Change], desired: Buckets) -> list[Unit]: ...
    def send(self, batch: Sequence[Unit], *, full: bool) -> BatchAnswer: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PartnerSpec:
    label: str
    per_warehouse: bool  # the partner keeps stock per warehouse
    one_future_bucket: bool  # one future count and date per SKU
    wip_dates_removable: bool  # False: a gone WIP date must be removed by a person (JOOR)
    batch_rows: int
    open: Callable[[Session, Site, SiteSettings], Pusher]


# Rows per products/import call. One row is ~40 bytes of CSV, so a batch is ~200 KB on the wire and
# one commit of 5,000 state rows here; a rejected batch sends those 5,000 again next time. 100,000
# SKUs are 20 calls.
BRANDBOOM_BATCH_ROWS = 5000


class BrandboomPusher:
    """products/import, mode ``inventory``, the rows as a CSV attachment [DOC seed 001]: one row per
    SKU (``skuNumber`` = the ERP SKU id) carrying every bucket of it, so a row is complete on its
    own; ``bypassDiff`` only on a full push (Brandboom otherwise skips rows equal to its last import)."""

    def __init__(self, session: Session, site: Site, settings: SiteSettings) -> None:
        from connectors.brandboom.client import BrandboomClient
        from connectors.errors import AuthError

        creds = credentials(site)
        if not creds.get("public_key") or not creds.get("secret_key"):
            raise AuthError(
                "Brandboom site has no public_key / secret_key: check the site's credentials", partner="brandboom"
            )
        self.client = BrandboomClient(site.base_url, creds["public_key"], creds["secret_key"])
        self.brand_id, self.showroom_id = settings.brand_id, settings.showroom_id

    def units(self, changes: Sequence[Change], desired: Buckets) -> list[Unit]:
        return brandboom_units(changes, desired)

    def send(self, batch: Sequence[Unit], *, full: bool) -> BatchAnswer:
        from connectors.brandboom import contract as c

        value = self.client.import_products(
            c.MODE_INVENTORY,
            [u.payload for u in batch],
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
    from connectors.brandboom import contract as c

    rows: dict[str, dict[str, Any]] = {ch.sku: {c.ROW_SKU_NUMBER: ch.sku} for ch in changes}
    settles: dict[str, list[tuple[Key, int | None]]] = {sku: [] for sku in rows}
    wanted = rows.keys()
    for (warehouse, day), per_sku in sorted(desired.items(), key=lambda item: item[0][1] or date.min):
        columns = (
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


# Items per bulk-inventory call. [INF] JOOR publishes no limit. Each call costs 5 of the account's
# 300 credits per 5-minute window (60 calls a window, shared with the order import); an item is
# ~120 bytes of JSON, so a call is ~120 KB. 100k SKUs in 3 warehouses (300k items) are 300 calls:
# 1,500 credits, five windows, ~25 minutes, paced by the client's credit budget.
JOOR_BATCH_ROWS = 1000


class JoorPusher:
    """``POST /v2/bulk-inventory`` [DOC partners §1.6]: one item per (warehouse name, WIP date,
    SKU), keyed by UPC where the SKU has one (JOOR's recommended key), else style number, color
    code and size; no ``inventory_date`` for immediate stock; ``dec_pending`` from the site's
    setting; never ``overwrite`` (it would replace the account's whole inventory). JOOR answers
    pass / fail per item; a failed item's state is not written."""

    def __init__(self, session: Session, site: Site, settings: SiteSettings) -> None:
        from connectors.errors import AuthError
        from connectors.joor.client import JoorClient

        token = credentials(site).get("api_token")
        if not token:
            raise AuthError("JOOR site has no api_token: check the site's API token", partner="joor")
        self.client = JoorClient(site.base_url, token)
        self.dec_pending = settings.inventory_dec_pending

    def units(self, changes: Sequence[Change], desired: Buckets) -> list[Unit]:
        from connectors.joor.client import InventoryItem

        details = _sku_details({ch.sku for ch in changes})
        units = []
        for ch in changes:
            settle = ((ch.key, None if ch.gone else ch.quantity),)
            found = details.get(ch.sku)
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
        from connectors.joor import contract as c

        answer = self.client.bulk_inventory([u.wire for u in batch], dec_pending=self.dec_pending)
        log_ = answer.inventory_log
        if len(log_) == len(batch):  # [INF] one log entry per item, in the items' order
            failed = [i for i, entry in enumerate(log_) if not _passed(entry, c)]
        else:  # otherwise by the SKU each entry names (its UPC, or style/color/size)
            refused = {str(e.get(c.LOG_SKU)) for e in log_ if isinstance(e, dict) and not _passed(e, c)}
            failed = [i for i, u in enumerate(batch) if _joor_label(u.payload or {}, c) in refused]
        bad = set(failed)
        return BatchAnswer([i for i in range(len(batch)) if i not in bad], failed)

    def close(self) -> None:
        self.client.close()


def _passed(entry: Any, c: Any) -> bool:
    return isinstance(entry, dict) and str(entry.get(c.LOG_STATUS, "")).lower() == c.LOG_PASS


def _joor_label(item: Mapping[str, Any], c: Any) -> str:
    f = c.InventoryField
    return str(item.get(f.UPC) or "/".join(str(item.get(k) or "?") for k in (f.STYLE_NUMBER, f.COLOR_CODE, f.SIZE)))


def _sku_details(skus: set[str]) -> dict[str, tuple[str | None, str, str, str]]:
    """UPC, style number, color code and size of the SKUs a push sends (one query)."""
    if not skus:
        return {}
    with session_scope() as s:
        rows = _fetch(
            s,
            "SELECT sku, upc, style_number, color_code, size FROM sku WHERE sku = ANY(%(skus)s)",
            {"skus": list(skus)},
        )
    return {sku: (upc, style, color, size) for sku, upc, style, color, size in rows}


PARTNERS: dict[str, PartnerSpec] = {
    "brandboom": PartnerSpec(
        "Brandboom",
        per_warehouse=False,
        one_future_bucket=True,
        wip_dates_removable=True,
        batch_rows=BRANDBOOM_BATCH_ROWS,
        open=BrandboomPusher,
    ),
    "joor": PartnerSpec(
        "JOOR",
        per_warehouse=True,
        one_future_bucket=False,
        wip_dates_removable=False,
        batch_rows=JOOR_BATCH_ROWS,
        open=JoorPusher,
    ),
}


def partner_spec(kind: str) -> PartnerSpec:
    try:
        return PARTNERS[kind]
    except KeyError:
        raise SiteError(
            f"inventory push is not available for {kind} sites; it is for {', '.join(sorted(PARTNERS))}"
        ) from None


# --- reading the ERP and the state ---------------------------------------------------------------

# SKUs out of scope (inactive style, another division) are few: an anti-join on them reads the
# inventory table once, about twice as fast as joining every row to its SKU and style.
_STOCK_SQL = """
SELECT i.sku, i.warehouse_code, i.on_hand - i.allocated,
       CASE WHEN i.future_qty > 0 THEN i.future_qty END, CASE WHEN i.future_qty > 0 THEN i.future_date END
FROM inventory i
WHERE NOT EXISTS (
    SELECT 1 FROM sku k JOIN style s ON s.number = k.style_number
    WHERE k.sku = i.sku
      AND NOT (s.active AND (%(division)s::text IS NULL OR s.division_code IS NULL OR s.division_code = %(division)s)))
"""
_HELD_SQL = """
SELECT l.sku, COALESCE(o.warehouse_code, st.settings ->> 'default_warehouse'), SUM(l.quantity)::int
FROM sales_order_line l
JOIN sales_order o ON o.id = l.sales_order_id
LEFT JOIN site st ON st.id = o.site_id
WHERE o.status = 'open'
GROUP BY 1, 2
"""
# One row per bucket with its SKUs and quantities as arrays: dict(zip(...)) builds each bucket at C
# speed, where a row per SKU would cost a tuple and a Python loop step each.
_STATE_SQL = """
SELECT warehouse, available_on, array_agg(sku), array_agg(quantity), array_agg(run_id)
FROM inventory_push_state WHERE site_id = %(site)s GROUP BY warehouse, available_on
"""


def _fetch(session: Session, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Plain tuples from the driver: the push reads every inventory row of the catalog, and
    SQLAlchemy's Row objects would cost more than the query itself."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, dict(params))
        return cursor.fetchall()
    finally:
        cursor.close()


def load_stock(session: Session, division: str | None) -> list[StockRow]:
    """Every inventory row of active styles in ``division`` (or of no division), one query; rows
    are the driver's plain tuples in StockRow's order (building 300k named tuples costs more than
    the query)."""
    return _fetch(session, _STOCK_SQL, {"division": division})  # type: ignore[return-value]


def load_held(session: Session) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Open order quantities per (SKU, warehouse), and per SKU those that name no warehouse."""
    held: dict[tuple[str, str], int] = {}
    unassigned: dict[str, int] = {}
    for sku, warehouse, qty in _fetch(session, _HELD_SQL, {}):
        if warehouse:
            held[(sku, warehouse)] = held.get((sku, warehouse), 0) + qty
        else:
            unassigned[sku] = unassigned.get(sku, 0) + qty
    return held, unassigned


def load_state(session: Session, site_id: int, *, with_runs: bool = False) -> tuple[Buckets, dict[Key, int | None]]:
    """What the partner accepted, per bucket, and (``with_runs``) which run sent each key."""
    quantities: Buckets = {}
    runs: dict[Key, int | None] = {}
    for warehouse, day, skus, qtys, run_ids in _fetch(session, _STATE_SQL, {"site": site_id}):
        quantities[(warehouse, day)] = dict(zip(skus, qtys, strict=True))
        if with_runs:
            runs.update(((sku, warehouse, day), run) for sku, run in zip(skus, run_ids, strict=True))
    return quantities, runs


def interrupted_full_runs(session: Session, site_id: int, current_run: int | None = None) -> set[int]:
    """Full pushes of the site that failed (or were abandoned) since its last complete full push:
    the rows they got accepted need not be sent again by a full push that picks up after them."""
    rows = session.execute(
        select(SyncRun.id, SyncRun.outcome, SyncRun.counts)
        .where(SyncRun.task == TASK, SyncRun.site_id == site_id)
        .order_by(SyncRun.id.desc())
        .limit(50)
    )
    failed: set[int] = set()
    for run_id, outcome, counts in rows:
        if run_id == current_run or not (counts or {}).get("full"):
            continue
        if outcome == "ok":
            break
        if outcome == "failed":
            failed.add(run_id)
    return failed


def _check_warehouses(session: Session, settings: SiteSettings) -> None:
    wanted = set(settings.inventory_warehouses)
    if not wanted:
        return
    known = set(session.scalars(select(Warehouse.code).where(Warehouse.code.in_(wanted))))
    unknown = sorted(wanted - known)
    if unknown:
        raise SiteError(
            f"inventory_warehouses names {', '.join(unknown)}, not ERP warehouses: "
            f"fix the site setting (bobbin sites set SITE --setting inventory_warehouses=...)"
        )


# --- writing the state ---------------------------------------------------------------------------

_STATE_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS push_state_in (
    sku text, warehouse text, bucket text, available_on date, quantity int
) ON COMMIT DELETE ROWS
"""
_STATE_DELETE = """
DELETE FROM inventory_push_state p USING push_state_in t
WHERE t.quantity IS NULL AND p.site_id = %(site)s AND p.sku = t.sku AND p.warehouse = t.warehouse
  AND p.bucket = t.bucket AND p.available_on IS NOT DISTINCT FROM t.available_on
"""
_STATE_UPSERT = """
INSERT INTO inventory_push_state (site_id, sku, warehouse, bucket, available_on, quantity, run_id, sent_at)
SELECT %(site)s, sku, warehouse, bucket, available_on, quantity, %(run)s, now()
FROM push_state_in WHERE quantity IS NOT NULL
ON CONFLICT (site_id, sku, warehouse, bucket, available_on)
DO UPDATE SET quantity = EXCLUDED.quantity, run_id = EXCLUDED.run_id, sent_at = EXCLUDED.sent_at
"""


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_state(session: Session, site_id: int, run_id: int | None, settled: Iterable[tuple[Key, int | None]]) -> int:
    """Record what the partner accepted: a quantity per key, or None to forget a gone bucket.

    COPY into a temporary table, then one upsert and one delete: a batch of thousands of rows is
    three statements whatever its size."""
    buffer = io.StringIO()
    count = 0
    for (sku, warehouse, day), qty in settled:
        bucket, day_text = (IMMEDIATE, "\\N") if day is None else (FUTURE, day.isoformat())
        qty_text = "\\N" if qty is None else str(qty)
        buffer.write(f"{_copy_text(sku)}\t{_copy_text(warehouse)}\t{bucket}\t{day_text}\t{qty_text}\n")
        count += 1
    if not count:
        return 0
    buffer.seek(0)
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(_STATE_TEMP)
        cursor.copy_expert("COPY push_state_in FROM STDIN", buffer)
        cursor.execute(_STATE_DELETE, {"site": site_id})
        cursor.execute(_STATE_UPSERT, {"site": site_id, "run": run_id})
    finally:
        cursor.close()
    return count


# --- the push ------------------------------------------------------------------------------------


@dataclass
class PushResult:
    """What a push did (or, dry, would do). ``summary()`` is the task's answer and the run's counts."""

    site_id: int
    site: str = ""
    partner: str = ""
    full: bool = False
    dry_run: bool = False
    run_id: int | None = None
    skipped: str | None = None
    stock_rows: int = 0  # ERP inventory rows read
    desired: int = 0  # buckets the partner should show
    changed: int = 0  # buckets that differ from what it accepted (all of them when full)
    rows_total: int = 0  # partner rows to send (Brandboom: one per SKU; JOOR: one per bucket)
    rows_sent: int = 0
    rows_accepted: int = 0
    rows_not_found: int = 0  # the partner does not know the SKU: sent again next time
    rows_rejected: int = 0  # in rejected batches: recorded, sent again next time
    rows_forgotten: int = 0  # gone buckets of SKUs the ERP no longer has: nothing to name them by
    batches: int = 0
    batches_rejected: int = 0
    seconds: float = 0.0
    not_found_skus: list[str] = field(default_factory=list)
    remove_wip_dates: list[dict[str, Any]] = field(default_factory=list)
    remove_wip_dates_count: int = 0
    changes: list[Change] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("changes")
        return {k: v for k, v in data.items() if v not in (None, [], "") or k in ("run_id",)}


@dataclass
class _Plan:
    site: Site
    settings: SiteSettings
    spec: PartnerSpec
    stock_rows: int
    desired: Buckets
    changes: list[Change]


def _plan(session: Session, site: Site, *, full: bool, run_id: int | None = None) -> _Plan:
    settings = site_settings(site)
    spec = partner_spec(site.kind)
    _check_warehouses(session, settings)
    policy = PushPolicy.from_settings(settings, spec)
    stock = load_stock(session, site.division_code)
    held, unassigned = load_held(session)
    desired = desired_buckets(stock, policy, held, unassigned)
    state, runs = load_state(session, site.id, with_runs=full)
    skip: set[Key] = set()
    if full and state:
        resumed = interrupted_full_runs(session, site.id, run_id)
        if resumed:
            skip = {k for k, run in runs.items() if run in resumed and quantity(desired, k) == quantity(state, k)}
    changes = diff(desired, state, full=full, skip=skip)
    return _Plan(site, settings, spec, len(stock), desired, changes)


def _count(buckets: Buckets) -> int:
    return sum(len(per_sku) for per_sku in buckets.values())


def _wip_to_remove(changes: Iterable[Change], spec: PartnerSpec) -> list[Change]:
    if spec.wip_dates_removable:
        return []
    return [ch for ch in changes if ch.gone and ch.available_on is not None]


# What names a SKU to a person on the partner's screens, copied from the row sent.
_IDENTIFYING = ("upc", "style_number", "color_code", "size")


def _wip_item(change: Change, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One line of "remove this WIP date by hand": the SKU as the ERP and the partner name it."""
    named = {k: payload[k] for k in _IDENTIFYING if payload and payload.get(k)}
    return {
        "sku": change.sku,
        **named,
        "warehouse": change.warehouse or "Default",
        "date": change.available_on.isoformat() if change.available_on else None,
        "was": change.previous,
    }


def _payloads(units: Iterable[Unit]) -> dict[Key, dict[str, Any] | None]:
    return {key: u.payload for u in units for key, _ in u.settles}


def plan_push(site_ref: int | str, *, full: bool = False) -> PushResult:
    """A dry run: what a push would send now, sending nothing and writing nothing."""
    started = time.monotonic()
    with session_scope() as s:
        site = get_site(s, site_ref)
        plan = _plan(s, site, full=full)
        result = PushResult(site.id, site.name, connector(site.kind).label, full=full, dry_run=True)
        units: list[Unit] = []
        if plan.changes:
            pusher = plan.spec.open(s, site, plan.settings)
            try:
                units = pusher.units(plan.changes, plan.desired)
            finally:
                pusher.close()
    gone_wip = _wip_to_remove(plan.changes, plan.spec)
    result.stock_rows, result.desired, result.changed = plan.stock_rows, _count(plan.desired), len(plan.changes)
    result.rows_total, result.changes = len(units), plan.changes
    sent = _payloads(units) if gone_wip else {}
    result.remove_wip_dates = [_wip_item(ch, sent.get(ch.key)) for ch in gone_wip[:REPORT_LIST_MAX]]
    result.remove_wip_dates_count = len(gone_wip)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def push_inventory(
    site_id: int,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    celery_task_id: str | None = None,
    batch_rows: int | None = None,
) -> PushResult:
    """Push a site's inventory to its partner; one push per site at a time (skips when busy).

    ``dry_run`` only plans (see :func:`plan_push`). ``progress(done, total)`` is called with the
    rows settled so far, before the first batch and after each. ``batch_rows`` overrides the
    partner's batch size (tests). Partner failures other than a rejected batch end the run:
    ``AuthError`` (credentials) and ``RetryableError`` (the partner is down for now — the task
    retries, and the retry resumes where this stopped)."""
    if dry_run:
        return plan_push(site_id, full=full)
    with advisory_lock(site_lock_name(TASK, site_id)) as got:
        if not got:
            log.info("inventory_push_skipped_busy", site=site_id)
            return PushResult(site_id, full=full, skipped="another inventory push of this site is running")
        with recorded_run(TASK, site_id, celery_task_id, holds_lock=True) as run:
            run.counts["full"] = full
            result = _push(site_id, run.id, full=full, progress=progress, batch_rows=batch_rows, counts=run.counts)
            if result.skipped:
                run.outcome = "skipped"
            run.counts.update(result.summary())
            return result


def _push(
    site_id: int, run_id: int, *, full: bool, progress: Progress | None, batch_rows: int | None, counts: dict[str, Any]
) -> PushResult:
    started = time.monotonic()
    with session_scope() as s:
        # Mark the run as a full one at once: a worker killed mid-push leaves this row, and the
        # next full push reads it to pick up where this one stopped.
        s.execute(update(SyncRun).where(SyncRun.id == run_id).values(counts={"full": full}))
        site = get_site(s, site_id)
        result = PushResult(site.id, site.name, connector(site.kind).label, full=full, run_id=run_id)
        if not site.active:
            result.skipped = "the site is paused (bobbin sites resume SITE)"
            return result
        plan = _plan(s, site, full=full, run_id=run_id)
        pusher = plan.spec.open(s, site, plan.settings)
    result.stock_rows, result.desired, result.changed = plan.stock_rows, _count(plan.desired), len(plan.changes)
    gone_wip: list[tuple[Change, dict[str, Any] | None]] = []
    try:
        units = pusher.units(plan.changes, plan.desired)
        silent = [u for u in units if u.payload is None]
        if silent:
            units = [u for u in units if u.payload is not None]
            with session_scope() as s:
                write_state(s, site_id, run_id, [pair for u in silent for pair in u.settles])
            result.rows_forgotten = len(silent)
            log.warning(
                "inventory_rows_forgotten",
                site=site_id,
                rows=len(silent),
                reason="SKUs no longer in the ERP: nothing names them to the partner",
            )
        result.rows_total = len(units)
        size = batch_rows or plan.spec.batch_rows
        wip = {ch.key: ch for ch in _wip_to_remove(plan.changes, plan.spec)}
        if progress:
            progress(0, len(units))
        for number, batch in enumerate(batched(units, size), start=1):
            result.batches += 1
            result.rows_sent += len(batch)
            try:
                answer = pusher.send(batch, full=full)
            except PartnerRejected as exc:
                _record_rejection(site_id, run_id, number, batch, exc)
                result.batches_rejected += 1
                result.rows_rejected += len(batch)
                log.warning("inventory_batch_rejected", site=site_id, batch=number, rows=len(batch), error=str(exc))
            else:
                taken = [batch[i] for i in answer.accepted]
                settled = [pair for u in taken for pair in u.settles]
                with session_scope() as s:
                    write_state(s, site_id, run_id, settled)
                result.rows_accepted += len(taken)
                result.rows_not_found += len(answer.not_found)
                for i in answer.not_found[: max(0, REPORT_LIST_MAX - len(result.not_found_skus))]:
                    result.not_found_skus.append(batch[i].keys[0][0])
                if wip:
                    gone_wip += [(wip[key], u.payload) for u in taken for key in u.keys if key in wip]
            if progress:
                progress(min(number * size, len(units)), len(units))
    finally:
        pusher.close()
        result.remove_wip_dates = [_wip_item(ch, payload) for ch, payload in gone_wip[:REPORT_LIST_MAX]]
        result.remove_wip_dates_count = len(gone_wip)
        result.seconds = round(time.monotonic() - started, 3)
        counts.update(result.summary())  # also when the run fails half-way: what got through
    if gone_wip:
        log.warning(
            "inventory_wip_dates_to_remove",
            site=site_id,
            count=len(gone_wip),
            resolution=f"remove these WIP dates on {plan.spec.label} by hand: its API cannot",
        )
    return result


def _record_rejection(
    site_id: int, run_id: int | None, number: int, batch: Sequence[Unit], exc: PartnerRejected
) -> None:
    message = exc.value if isinstance(exc.value, str) and exc.value else str(exc)
    rows = [_jsonable(u.payload or {}) for u in batch]
    with session_scope() as s:
        s.add(
            InventoryPushRejection(
                site_id=site_id, run_id=run_id, batch_no=number, message=message, row_count=len(rows), rows=rows
            )
        )


def _jsonable(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in payload.items()}


def rejections(session: Session, site_id: int, limit: int = 20) -> list[InventoryPushRejection]:
    """The site's most recent rejected batches, newest first."""
    return list(
        session.scalars(
            select(InventoryPushRejection)
            .where(InventoryPushRejection.site_id == site_id)
            .order_by(InventoryPushRejection.id.desc())
            .limit(limit)
        )
    )
