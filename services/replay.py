"""Replay: read held orders' stored payloads again through the partner's mapper (after a mapper
fix) and check and import them again, with the import's own exactly-once rules.

The raw payload as received is the truth the holding area keeps (SPEC); what the mapper made of it
is kept beside it in the list columns (PO, customer, dates, total…). ``replay`` maps each chosen
open order's payload again, stores what the mapper reads now, then validates and
imports the orders under the site's import lock (``services.pipeline.validate_and_import``: each
import locks the order, checks it is still valid and has no ERP order yet, and writes it in one
transaction — an order is imported at most once, ever). Imported and rejected orders are never
replayed. An order whose payload the mapper now reads under another partner order id than the one
it is held under is left alone (it would be held twice): the replay says so, for a person.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from models import InboundOrder
from services.context import SiteContext
from services.fixes import FixError
from services.holding import OPEN_STATES, header_columns, pg_safe
from services.orders import order_outcomes
from services.pipeline import SUMMARY_KEYS, validate_and_import
from services.sites import open_site

REPLAYABLE = OPEN_STATES  # downloaded, valid, invalid, duplicate


class ReplayError(FixError):
    """The replay cannot be made as asked; the message says why (shown as one line)."""


@dataclass(frozen=True)
class ReplayedOrder:
    id: int
    partner_order_id: str
    before: str  # its state before the replay
    after: str | None  # its state now
    sales_order: str | None
    error_codes: list[str]

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class ReplayResult:
    site: str
    site_id: int
    counts: dict[str, int] = field(default_factory=dict)  # validated, valid, invalid, duplicate, imported, …
    orders: list[ReplayedOrder] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # order id -> why it was not replayed
    postponed: str | None = None  # the site's import held its lock for too long: nothing was replayed

    @property
    def changed(self) -> list[ReplayedOrder]:
        return [o for o in self.orders if o.changed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "site_id": self.site_id,
            "postponed": self.postponed,
            "replayed": len(self.orders),
            **self.counts,
            "changed": len(self.changed),
            "orders": [
                {
                    "id": o.id,
                    "partner_order_id": o.partner_order_id,
                    "before": o.before,
                    "after": o.after,
                    "sales_order": o.sales_order,
                    "error_codes": o.error_codes,
                }
                for o in self.orders
            ],
            "skipped": {str(k): v for k, v in self.skipped.items()},
        }


def replay(
    site: int | str,
    order_ids: Sequence[int] | None = None,
    *,
    states: Collection[str] | None = None,
    wait: float = 60.0,
) -> ReplayResult:
    """Replay one site's orders: those of ``order_ids`` (each must be the site's), or every order
    of the site in ``states`` (default: every open state). Waits up to ``wait`` seconds for a
    running import of the site to finish (a replay and an import never check the same orders at
    once); past that, nothing is done and ``postponed`` says why."""
    if states is not None:
        bad = sorted(set(states) - set(REPLAYABLE))
        if bad:
            raise ReplayError(
                f"state {', '.join(bad)} cannot be replayed (imported orders are never imported again, "
                f"rejected ones never imported); replay one of: {', '.join(REPLAYABLE)}"
            )
    with session_scope() as s:
        ctx = open_site(s, site)
    result = ReplayResult(site=ctx.name, site_id=ctx.id)
    deadline = time.monotonic() + wait
    while True:
        with advisory_lock(site_lock_name("import_orders", ctx.id)) as got:
            if got:
                _replay_locked(ctx, order_ids, states, result)
                return result
        if time.monotonic() >= deadline:
            result.postponed = "an import of this site is still running; replay again once it ends"
            return result
        time.sleep(0.5)


def _replay_locked(
    ctx: SiteContext, order_ids: Sequence[int] | None, states: Collection[str] | None, result: ReplayResult
) -> None:
    with session_scope() as s:
        query = select(InboundOrder).where(InboundOrder.site_id == ctx.id).order_by(InboundOrder.id)
        if order_ids is not None:
            query = query.where(InboundOrder.id.in_(list(order_ids)))
        else:
            query = query.where(InboundOrder.state.in_(list(states or REPLAYABLE)))
        orders = list(s.scalars(query))
        mapper = ctx.spec.capability("orders").to_partner_order
        if order_ids is not None:
            found = {o.id for o in orders}
            for oid in order_ids:
                if oid not in found:
                    result.skipped[oid] = f"not an order of site {ctx.name}"
        before: dict[int, str] = {}
        for order in orders:
            if order.state not in REPLAYABLE:
                result.skipped[order.id] = (
                    "it is imported already, and an order is imported once, ever"
                    if order.state == "imported"
                    else "it was rejected, and a rejected order is never imported"
                )
                continue
            mapped = mapper(order.raw)  # as the partner's mapper reads it now
            pid = pg_safe(mapped.partner_order_id)
            if pid != order.partner_order_id:
                result.skipped[order.id] = (
                    f"the mapper now reads partner order id {pid} in its payload (held as {order.partner_order_id}); "
                    f"the next import holds it under its own id: reject this one (`bobbin orders reject {order.id}`)"
                )
                continue
            # What the mapper reads now, where people read it: the list columns (the order page maps
            # the payload when it is shown).
            s.execute(update(InboundOrder).where(InboundOrder.id == order.id).values(**header_columns(mapped)))
            before[order.id] = order.state
    if not before:
        result.counts = dict.fromkeys(SUMMARY_KEYS, 0)
        return
    ids = list(before)
    totals = validate_and_import(ctx, ids)
    result.counts = {k: int(totals.get(k, 0)) for k in SUMMARY_KEYS}
    with session_scope() as s:
        now = order_outcomes(s, ids)
    result.orders = [
        ReplayedOrder(
            id=o["id"],
            partner_order_id=o["partner_order_id"] or "",
            before=before[o["id"]],
            after=o["state"],
            sales_order=o["sales_order"],
            error_codes=o["error_codes"],
        )
        for o in now
    ]


def replay_orders(order_ids: Sequence[int], *, wait: float = 60.0) -> list[ReplayResult]:
    """Replay the given orders, site by site (ReplayError naming the ids that are no order)."""
    ids = list(dict.fromkeys(order_ids))
    with session_scope() as s:
        rows = s.execute(
            select(InboundOrder.id, InboundOrder.site_id).where(InboundOrder.id.in_(ids)).order_by(InboundOrder.id)
        ).all()
    missing = [oid for oid in ids if oid not in {r.id for r in rows}]
    if missing:
        raise ReplayError(f"no order {', '.join(map(str, missing))}")
    by_site: dict[int, list[int]] = {}
    for r in rows:
        by_site.setdefault(r.site_id, []).append(r.id)
    return [replay(site_id, site_ids, wait=wait) for site_id, site_ids in by_site.items()]
