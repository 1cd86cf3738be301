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

Only what changed
-----------------
A normal push does not work out every SKU of the catalog to find the few that changed. Triggers
on ``inventory``, ``sku`` and ``style`` journal each SKU a statement changes
(``inventory_push_change``, with the writing transaction's id); a push works out the SKUs
journaled since its site's mark (``inventory_push_mark.since``: the oldest transaction still
running when the site's last complete push began to read), the SKUs whose open-order holdings
moved since that push (compared with ``inventory_push_held``, since orders of every site hold
stock), and nothing else — exactly what a diff of every SKU would send, because a SKU outside
those has the inputs it had when its state was last made equal to them. The push journals, for the
next one, the SKUs it could not settle (a rejected batch, a SKU the partner does not know) and
those whose holdings it recorded; an interrupted push leaves the mark where it was. Every SKU is
worked out when the site has no mark yet, when its push settings (or its division) changed, after
a TRUNCATE, after a restore into a new server (``_arm``), and on a full push.

Rows go in batches of the partner's ``batch_rows``; each accepted batch's state is committed
before the next batch leaves, so an interrupted push (worker killed, partner down) resumes where
it stopped — the next normal push finds those rows equal and sends only the rest; a ``full`` push
after an interrupted full push skips the rows that run already got accepted. A batch the partner
rejects is recorded (``inventory_push_rejection``: its message and rows) and the push goes on; its
rows are sent again next time because their state was not written. A partner that answers row by
row (eBay) may refuse some rows of a batch: each is recorded on its own with the partner's message,
the rest of the batch is settled. A row for a SKU the partner holds no record of (eBay takes
quantities only for its inventory items) is not sent and keeps no state (``rows_not_held``).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

import structlog
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from connectors.errors import PartnerRejected
from connectors.inventory import (
    DEFAULT_WAREHOUSE,
    FUTURE,
    IMMEDIATE,
    Buckets,
    Change,
    InventoryPush,
    Key,
    Pusher,
    SkuInfo,
    Unit,
)
from connectors.settings import SiteSettings
from core.db import session_scope
from core.locks import advisory_lock, lock_key, site_lock_name
from models import InventoryPushMark, InventoryPushRejection, SyncRun, Warehouse
from services.context import SiteContext
from services.runs import recorded_run
from services.sites import SiteError, open_site

log = structlog.get_logger()

TASK = "push_inventory"
# How many gone WIP dates / unknown SKUs a run's report lists by name (the counts are always whole).
REPORT_LIST_MAX = 200

T = TypeVar("T")

Progress = Callable[[int, int], None]  # (rows done, rows in this push)


class StockRow(NamedTuple):
    """One ERP inventory row as the push reads it. ``free`` = on_hand − allocated (the database
    computes it); the rows from the database are plain tuples in this order."""

    sku: str
    warehouse: str
    free: int
    future_qty: int | None
    future_date: date | None


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
    def from_settings(cls, settings: SiteSettings, partner: InventoryPush) -> PushPolicy:
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


def sku_details(skus: set[str]) -> dict[str, SkuInfo]:
    """UPC, style number, color code and size of the SKUs a push sends (one query), for partners
    that name a SKU by them."""
    if not skus:
        return {}
    with session_scope() as s:
        rows = _fetch(
            s,
            "SELECT sku, upc, style_number, color_code, size FROM sku WHERE sku = ANY(%(skus)s)",
            {"skus": list(skus)},
        )
    return {sku: SkuInfo(upc, style, color, size) for sku, upc, style, color, size in rows}


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
        return list(cursor.fetchall())
    finally:
        cursor.close()


def load_stock(session: Session, division: str | None, skus: Iterable[str] | None = None) -> list[StockRow]:
    """Every inventory row of active styles in ``division`` (or of no division) — of ``skus`` only,
    when given —, one query; rows are the driver's plain tuples in StockRow's order (building 300k
    named tuples costs more than the query)."""
    if skus is None:
        return _fetch(session, _STOCK_SQL, {"division": division})  # type: ignore[return-value]
    wanted = list(skus)
    if not wanted:
        return []
    return _fetch(session, _STOCK_SQL + "  AND i.sku = ANY(%(skus)s)", {"division": division, "skus": wanted})  # type: ignore[return-value]


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


def load_state(
    session: Session, site_id: int, *, with_runs: bool = False, skus: Iterable[str] | None = None
) -> tuple[Buckets, dict[Key, int | None]]:
    """What the partner accepted, per bucket (of ``skus`` only, when given), and (``with_runs``)
    which run sent each key."""
    quantities: Buckets = {}
    runs: dict[Key, int | None] = {}
    sql, params = _STATE_SQL, {"site": site_id}
    if skus is not None:
        wanted = list(skus)
        if not wanted:
            return quantities, runs
        sql = _STATE_SQL.replace("WHERE site_id = %(site)s", "WHERE site_id = %(site)s AND sku = ANY(%(skus)s)")
        params["skus"] = wanted  # type: ignore[assignment]
    for warehouse, day, skus_, qtys, run_ids in _fetch(session, sql, params):
        quantities[(warehouse, day)] = dict(zip(skus_, qtys, strict=True))
        if with_runs:
            runs.update(((sku, warehouse, day), run) for sku, run in zip(skus_, run_ids, strict=True))
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


# --- what changed since the last push ---------------------------------------------------------

# A mark no push moved for this long stops holding the journal back: its site works out every SKU
# at its next push (a paused site, a site whose pushes stopped).
MARK_STALE_DAYS = 30

HeldKey = tuple[str, str | None]  # (SKU, ERP warehouse; None: open quantities naming no warehouse)

# The oldest transaction still running: a change this push cannot see was made by it or a later one.
_HORIZON_SQL = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
_CHANGED_SQL = "SELECT DISTINCT sku FROM inventory_push_change WHERE txid >= %(since)s"
_HELD_SNAPSHOT_SQL = "SELECT sku, warehouse, quantity FROM inventory_push_held WHERE site_id = %(site)s"
_JOURNAL_SQL = "INSERT INTO inventory_push_change (sku) SELECT unnest(%(skus)s::text[])"
_HELD_FORGET_SQL = """
DELETE FROM inventory_push_held h USING unnest(%(skus)s::text[], %(warehouses)s::text[]) AS g(sku, warehouse)
WHERE h.site_id = %(site)s AND h.sku = g.sku AND h.warehouse IS NOT DISTINCT FROM g.warehouse
"""
_HELD_KEEP_SQL = """
INSERT INTO inventory_push_held (site_id, sku, warehouse, quantity)
SELECT %(site)s, g.sku, g.warehouse, g.quantity
FROM unnest(%(skus)s::text[], %(warehouses)s::text[], %(quantities)s::int[]) AS g(sku, warehouse, quantity)
ON CONFLICT (site_id, sku, warehouse) DO UPDATE SET quantity = EXCLUDED.quantity
"""
_XMAX_SQL = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
# Taken (for its transaction) by whatever moves a mark or empties the journal: one at a time.
_JOURNAL_LOCK = "inventory_push_change"
_PRUNE_SQL = """
DELETE FROM inventory_push_change WHERE txid < COALESCE(
    (SELECT min(since) FROM inventory_push_mark WHERE since IS NOT NULL),
    pg_snapshot_xmin(pg_current_snapshot())::text::bigint)
"""


def push_basis(policy: PushPolicy, division: str | None) -> str:
    """Everything besides the ERP rows that a site's numbers depend on, as text: a mark is used
    only by a push with the same basis (a changed setting makes every SKU worked out again)."""
    return json.dumps({**asdict(policy), "division": division}, sort_keys=True, default=str)


def holdings(held: Mapping[tuple[str, str], int], unassigned: Mapping[str, int]) -> dict[HeldKey, int]:
    """Open-order quantities as one map: per (SKU, warehouse), and per (SKU, None) those naming none."""
    out: dict[HeldKey, int] = {key: qty for key, qty in held.items()}
    out.update(((sku, None), qty) for sku, qty in unassigned.items())
    return out


@dataclass
class Scope:
    """Which SKUs a push works out, and what it leaves for the next push of the site."""

    skus: set[str] | None  # None: every SKU
    horizon: int  # the oldest transaction still running when this push began to read
    basis: str  # push_basis of this push
    armed: bool  # the site's mark was in place before every transaction this push can miss began
    armed_after: int | None = None  # the mark's, as this push read it (moved only if still so)
    held_moved: dict[HeldKey, int | None] = field(default_factory=dict)  # holdings unlike the snapshot's

    @property
    def incremental(self) -> bool:
        return self.skus is not None


def work_scope(
    session: Session, site_id: int, basis: str, held_now: Mapping[HeldKey, int], horizon: int, *, every: bool
) -> Scope:
    """The SKUs to work out: those journaled since the site's mark and those whose holdings moved
    since its last push — or every SKU (``every``, no usable mark, another basis, a TRUNCATE)."""
    mark = session.get(InventoryPushMark, site_id)
    then = {(sku, wh): qty for sku, wh, qty in _fetch(session, _HELD_SNAPSHOT_SQL, {"site": site_id})}
    moved = {k: held_now.get(k) for k in held_now.keys() | then.keys() if held_now.get(k) != then.get(k)}
    armed_after = mark.armed_after if mark is not None else None
    armed = armed_after is not None and horizon >= armed_after
    scope = Scope(None, horizon, basis, armed, armed_after, moved)
    if every or mark is None or mark.since is None or mark.basis != basis or horizon < mark.since:
        return scope
    changed = [sku for (sku,) in _fetch(session, _CHANGED_SQL, {"since": mark.since})]
    if None not in changed:  # a NULL SKU: a TRUNCATE, every SKU
        scope.skus = set(changed) | {sku for sku, _ in moved}
    return scope


def journal(session: Session, skus: Iterable[str]) -> None:
    """Make the site's next push (and every other site's) work these SKUs out again."""
    wanted = sorted(set(skus))
    if wanted:
        _execute(session, _JOURNAL_SQL, {"skus": wanted})


def _record_held(session: Session, site_id: int, moved: Mapping[HeldKey, int | None]) -> None:
    """Remember the holdings this push works with, and journal their SKUs: the state it writes for
    them may not all get through, and the snapshot no longer says they moved."""
    if not moved:
        return
    gone = [key for key, qty in moved.items() if qty is None]
    kept = [(key, qty) for key, qty in moved.items() if qty is not None]
    if gone:
        _execute(
            session,
            _HELD_FORGET_SQL,
            {"site": site_id, "skus": [k[0] for k in gone], "warehouses": [k[1] for k in gone]},
        )
    if kept:
        _execute(
            session,
            _HELD_KEEP_SQL,
            {
                "site": site_id,
                "skus": [k[0] for k, _ in kept],
                "warehouses": [k[1] for k, _ in kept],
                "quantities": [q for _, q in kept],
            },
        )
    journal(session, (sku for sku, _ in moved))


def _arm(site_id: int) -> None:
    """Give the site a mark, once: from then on the triggers journal for it. A transaction that
    wrote before the mark was committed may have journaled nothing; each such transaction has an
    id below ``armed_after`` (taken after the commit), and no push takes its ``since`` from a
    horizon below that (it works out every SKU instead).

    A mark armed after the server's next transaction id belongs to other ids: the database was
    restored from a dump into a new server, whose ids start again from the bottom. Then every
    mark is cleared and the journal emptied (each site works out every SKU at its next push)."""
    with session_scope() as s:
        mark = s.get(InventoryPushMark, site_id)
        if mark is not None and mark.armed_after is not None:
            if mark.armed_after <= int(s.scalar(text(_XMAX_SQL))):
                return
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(_JOURNAL_LOCK)})
            s.execute(text("DELETE FROM inventory_push_change"))
            s.execute(update(InventoryPushMark).values(since=None, armed_after=None))
            log.warning(
                "inventory_push_marks_reset",
                site=site_id,
                reason="transaction ids went back (a database restored into a new server): every SKU is worked out",
            )
        else:
            s.execute(insert(InventoryPushMark).values(site_id=site_id).on_conflict_do_nothing())
    with session_scope() as s:
        s.execute(
            text(
                "UPDATE inventory_push_mark SET armed_after = pg_snapshot_xmax(pg_current_snapshot())::text::bigint "
                "WHERE site_id = :site AND armed_after IS NULL"
            ),
            {"site": site_id},
        )


def _advance(site_id: int, scope: Scope) -> None:
    """A push got to its end: the next one starts from its horizon (changes it could not see, and
    the SKUs it journaled, are at or after it) — unless the mark was cleared meanwhile. Then the
    journal rows no mark needs go."""
    with session_scope() as s:
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(_JOURNAL_LOCK)})
        s.execute(
            update(InventoryPushMark)
            .where(InventoryPushMark.site_id == site_id, InventoryPushMark.armed_after == scope.armed_after)
            .values(since=scope.horizon if scope.armed else None, basis=scope.basis, updated_at=func.now())
        )
        _prune(s)


def prune_changes() -> int:
    """Delete the journal rows no site's mark needs any more (the reconciler runs it, so the
    journal stays small while no push runs); marks no push moved for MARK_STALE_DAYS stop holding
    it back. Returns how many rows went."""
    with session_scope() as s:
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(_JOURNAL_LOCK)})
        return _prune(s)


def _prune(session: Session) -> int:
    session.execute(
        text(
            "UPDATE inventory_push_mark SET since = NULL "
            "WHERE since IS NOT NULL AND updated_at < now() - make_interval(days => :days)"
        ),
        {"days": MARK_STALE_DAYS},
    )
    return int(session.execute(text(_PRUNE_SQL)).rowcount or 0)  # type: ignore[attr-defined]


def _execute(session: Session, sql: str, params: Mapping[str, Any]) -> None:
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, dict(params))
    finally:
        cursor.close()


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
    incremental: bool = False  # only the SKUs whose inputs changed since the last push were worked out
    stock_rows: int = 0  # ERP inventory rows read
    desired: int = 0  # buckets worked out (those of every SKU, or of the SKUs whose inputs changed)
    changed: int = 0  # buckets that differ from what it accepted (all of them when full)
    rows_total: int = 0  # partner rows to send (Brandboom: one per SKU; JOOR: one per bucket)
    rows_sent: int = 0
    rows_accepted: int = 0
    rows_not_found: int = 0  # the partner does not know the SKU: sent again next time
    rows_rejected: int = 0  # in rejected batches, or refused one by one: recorded, sent again next time
    rows_forgotten: int = 0  # gone buckets of SKUs the ERP no longer has: nothing to name them by
    rows_not_held: int = 0  # SKUs the partner holds no record of (eBay: no inventory item): not sent
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
    ctx: SiteContext
    spec: InventoryPush
    stock_rows: int
    desired: Buckets
    changes: list[Change]
    scope: Scope


def _plan(
    session: Session,
    ctx: SiteContext,
    *,
    full: bool,
    run_id: int | None = None,
    record: bool = False,
    every: bool = False,
) -> _Plan:
    """What to send: the diff of the SKUs in scope (``work_scope``; every SKU when ``full`` or
    ``every``). ``record``: a real push — remember the holdings worked with (journaling their SKUs)."""
    site, settings = ctx.site, ctx.settings
    spec = ctx.spec.capability("inventory")
    _check_warehouses(session, settings)
    policy = PushPolicy.from_settings(settings, spec)
    horizon = int(session.scalar(text(_HORIZON_SQL)))  # before any read of what may change
    held, unassigned = load_held(session)
    basis = push_basis(policy, site.division_code)
    scope = work_scope(session, site.id, basis, holdings(held, unassigned), horizon, every=full or every)
    if record:
        _record_held(session, site.id, scope.held_moved)
    skus = scope.skus
    if skus is not None:
        held = {key: qty for key, qty in held.items() if key[0] in skus}
        unassigned = {sku: qty for sku, qty in unassigned.items() if sku in skus}
    stock = load_stock(session, site.division_code, skus)
    desired = desired_buckets(stock, policy, held, unassigned)
    state, runs = load_state(session, site.id, with_runs=full, skus=skus)
    skip: set[Key] = set()
    if full and state:
        resumed = interrupted_full_runs(session, site.id, run_id)
        if resumed:
            skip = {k for k, run in runs.items() if run in resumed and quantity(desired, k) == quantity(state, k)}
    changes = diff(desired, state, full=full, skip=skip)
    return _Plan(ctx, spec, len(stock), desired, changes, scope)


def _units(pusher: Pusher, plan: _Plan) -> list[Unit]:
    details = sku_details({ch.sku for ch in plan.changes}) if plan.spec.names_skus else {}
    return pusher.units(plan.changes, plan.desired, details)


def _count(buckets: Buckets) -> int:
    return sum(len(per_sku) for per_sku in buckets.values())


def _wip_to_remove(changes: Iterable[Change], spec: InventoryPush) -> list[Change]:
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


def plan_push(site_ref: int | str, *, full: bool = False, every_sku: bool = False) -> PushResult:
    """A dry run: what a push would send now, sending nothing and writing nothing. ``every_sku``
    works out every SKU even where the site's mark would let it look only at those that changed
    (the same changes, slower: what the tests hold the shortcut to)."""
    started = time.monotonic()
    with session_scope() as s:
        ctx = open_site(s, site_ref)
        plan = _plan(s, ctx, full=full, every=every_sku)
        result = PushResult(ctx.id, ctx.name, ctx.label, full=full, dry_run=True, incremental=plan.scope.incremental)
    units: list[Unit] = []
    if plan.changes:
        pusher = ctx.open("inventory")
        try:
            units = _units(pusher, plan)
        finally:
            pusher.close()
    gone_wip = _wip_to_remove(plan.changes, plan.spec)
    result.stock_rows, result.desired, result.changed = plan.stock_rows, _count(plan.desired), len(plan.changes)
    result.rows_total, result.changes = len(units), plan.changes
    not_held = sum(1 for u in units if u.payload is None and u.not_held)
    if not_held:  # SKUs the partner holds no record of: a push sends nothing for them
        result.rows_total -= not_held
        result.rows_not_held = not_held
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
    _arm(site_id)
    with session_scope() as s:
        # Mark the run as a full one at once: a worker killed mid-push leaves this row, and the
        # next full push reads it to pick up where this one stopped.
        s.execute(update(SyncRun).where(SyncRun.id == run_id).values(counts={"full": full}))
        ctx = open_site(s, site_id)
        result = PushResult(ctx.id, ctx.name, ctx.label, full=full, run_id=run_id)
        if not ctx.site.active:
            result.skipped = "the site is paused (bobbin sites resume SITE)"
            return result
        plan = _plan(s, ctx, full=full, run_id=run_id, record=True)
    pusher = ctx.open("inventory")
    result.incremental = plan.scope.incremental
    result.stock_rows, result.desired, result.changed = plan.stock_rows, _count(plan.desired), len(plan.changes)
    gone_wip: list[tuple[Change, dict[str, Any] | None]] = []
    try:
        units = _units(pusher, plan)
        silent = [u for u in units if u.payload is None]
        if silent:
            units = [u for u in units if u.payload is not None]
            with session_scope() as s:
                write_state(s, site_id, run_id, [pair for u in silent for pair in u.settles])
            result.rows_not_held = sum(1 for u in silent if u.not_held)
            result.rows_forgotten = len(silent) - result.rows_not_held
            if result.rows_forgotten:
                log.warning(
                    "inventory_rows_forgotten",
                    site=site_id,
                    rows=result.rows_forgotten,
                    reason="SKUs no longer in the ERP: nothing names them to the partner",
                )
            if result.rows_not_held:
                log.info("inventory_rows_not_held", site=site_id, rows=result.rows_not_held)
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
                _record_rejection(site_id, run_id, number, batch, exc)  # its SKUs journaled for the next push
                result.batches_rejected += 1
                result.rows_rejected += len(batch)
                log.warning("inventory_batch_rejected", site=site_id, batch=number, rows=len(batch), error=str(exc))
            else:
                taken = [batch[i] for i in answer.accepted]
                settled = [pair for u in taken for pair in u.settles]
                accepted = set(answer.accepted)
                with session_scope() as s:
                    write_state(s, site_id, run_id, settled)
                    journal(s, (key[0] for i, u in enumerate(batch) if i not in accepted for key in u.keys))
                result.rows_accepted += len(taken)
                result.rows_not_found += len(answer.not_found)
                if answer.rejected:
                    _record_row_rejections(site_id, run_id, number, batch, answer.rejected)
                    result.rows_rejected += len(answer.rejected)
                for i in answer.not_found[: max(0, REPORT_LIST_MAX - len(result.not_found_skus))]:
                    result.not_found_skus.append(batch[i].keys[0][0])
                if wip:
                    gone_wip += [(wip[key], u.payload) for u in taken for key in u.keys if key in wip]
            if progress:
                progress(min(number * size, len(units)), len(units))
        _advance(site_id, plan.scope)
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
            resolution=f"remove these WIP dates on {ctx.label} by hand: its API cannot",
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
        journal(s, (key[0] for u in batch for key in u.keys))


def _record_row_rejections(
    site_id: int, run_id: int | None, number: int, batch: Sequence[Unit], refused: Sequence[tuple[int, str]]
) -> None:
    """Rows the partner refused one by one (the rest of their batch went through): one rejection
    per row with the partner's own message, so a person reads why that SKU was refused. Their SKUs
    were journaled with the batch's other unsettled rows; the next push sends them again."""
    with session_scope() as s:
        for position, message in refused:
            payload = _jsonable(batch[position].payload or {})
            s.add(
                InventoryPushRejection(
                    site_id=site_id, run_id=run_id, batch_no=number, message=message, row_count=1, rows=[payload]
                )
            )
    log.warning("inventory_rows_rejected", site=site_id, batch=number, rows=len(refused), first=refused[0][1][:300])


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
