"""The one check every chaos case ends with: Bobbin's promise, counted.

- every partner order waiting for export is in the holding area exactly once;
- every valid one is imported exactly once (one sales order), and nothing else is imported;
- every status change is delivered to the partner exactly once — counted from the partner's own
  record (the Brandboom sandbox's received status changes, the JOOR sandbox's export marks), per
  order: a second delivery is a duplicate even when the partner shrugs it off;
- no ERP order is half-written: each sales order carries exactly its order's lines as the partner holds them,
  and an inbound order marked imported has its sales order.

:func:`check` computes the figures for RELIABILITY.md (:class:`Figures`) and fails the test with
every discrepancy listed when one of them is not zero. It never relaxes: a case known to break a
promise fails here and is marked xfail where it is called, with the reason.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, select

from connectors.registry import partner as partner_spec
from core.db import session_scope
from models import InboundOrder, OutboxEntry, SalesOrder, SalesOrderLine, Site
from sandbox.brandboom import api as bb
from sandbox.joor import api as jc

Line = tuple[int, int, Decimal]  # (line number, quantity, unit price) of an ERP sales order line


class PartnerRecord(Protocol):
    """What the partner saw: the orders that waited for export, the status changes it got, and each
    order's lines as the partner holds them (what its ERP sales order must carry)."""

    def waiting(self) -> set[str]: ...
    def deliveries(self) -> Counter[tuple[str, str]]: ...
    def lines(self) -> dict[str, set[Line]]: ...


def _lines(items: Any, quantity_key: str, price_key: str) -> set[Line]:
    """An order's items read the way the partner's document writes them (the sandbox's own key
    names), independent of Bobbin's mapper: 1-based positions, quantities and unit prices."""
    found: set[Line] = set()
    for n, item in enumerate(items if isinstance(items, list) else [], start=1):
        try:
            found.add((n, int(Decimal(str(item[quantity_key]))), Decimal(str(item[price_key]))))
        except (KeyError, TypeError, ArithmeticError, ValueError):
            continue  # not a line an ERP order can carry: its order is never imported
    return found


class BrandboomRecord:
    """Waiting: orders in status "export" now, or that got "exported" (they were waiting then).
    Deliveries: every accepted ``POST orders/{id}`` status, as the sandbox recorded it."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox

    def export_now(self) -> set[str]:
        """The orders in "export" at this moment (what a run starting now must read)."""
        return {str(o["id"]) for o in self.sandbox.orders() if o.get("status") == "export"}

    def waiting(self) -> set[str]:
        changed = {str(ch["order_id"]) for ch in self.sandbox.status_changes() if ch["status"] == "exported"}
        return {str(o["id"]) for o in self.sandbox.orders() if o.get("status") == "export"} | changed

    def deliveries(self) -> Counter[tuple[str, str]]:
        return Counter((str(ch["order_id"]), str(ch["status"])) for ch in self.sandbox.status_changes())

    def lines(self) -> dict[str, set[Line]]:
        return {
            str(o[bb.OrderField.ID]): _lines(o.get(bb.OrderField.ITEMS), bb.ItemField.QUANTITY, bb.ItemField.PRICE)
            for o in self.sandbox.orders()
        }


class JoorRecord:
    """Waiting: the orders that were approved and not yet exported when the case began (``before``:
    ``sandbox.orders()`` then), and every order added since. Deliveries: each order a ``sync=1``
    read marked exported (the sandbox records every mark, repeated ones too)."""

    def __init__(self, sandbox: Any, before: list[dict[str, Any]]) -> None:
        self.sandbox = sandbox
        self._known = {str(o["order_id"]) for o in before}
        self._waiting = {
            str(o["order_id"])
            for o in before
            if o["status"] == jc.STATUS_APPROVED and o["export_status"] == jc.STATE_NOT_EXPORTED
        }

    def not_exported_now(self) -> set[str]:
        """The approved orders not yet exported at this moment (what a run starting now must read)."""
        return {
            str(o["order_id"])
            for o in self.sandbox.orders()
            if o["status"] == jc.STATUS_APPROVED and o["export_status"] == jc.STATE_NOT_EXPORTED
        }

    def waiting(self) -> set[str]:
        added = {str(o["order_id"]) for o in self.sandbox.orders()} - self._known
        return self._waiting | added

    def deliveries(self) -> Counter[tuple[str, str]]:
        """Export marks per order, and ERP customer codes stored per connection."""
        got = Counter((str(m["order_id"]), "exported") for m in self.sandbox.export_marks())
        got.update(
            (f"connection {u['connection_id']}", f"customer_code {json.dumps(u['fields'], sort_keys=True)}")
            for u in self.sandbox.connection_updates()
        )
        return got

    def lines(self) -> dict[str, set[Line]]:
        f, i = jc.OrderField, jc.ItemField
        return {str(o[f.ORDER_ID]): _lines(o.get(f.ORDER_ITEMS), i.QUANTITY, i.PRICE) for o in self.sandbox.orders()}


@dataclass
class Expected:
    """Which partner orders must end imported: ``valid`` each exactly once, and of each group of
    orders sharing a customer PO exactly one (the first to arrive; which one depends on arrival)."""

    valid: set[str]
    same_po: list[set[str]] = field(default_factory=list)

    def plus(self, more: Iterable[Any]) -> Expected:
        return Expected(self.valid | {str(x) for x in more}, [set(g) for g in self.same_po])


@dataclass
class Figures:
    """One row of RELIABILITY.md."""

    scenario: str
    runs: int  # how many times the fault was applied (kills, restarts, faults played …)
    partner_orders: int = 0  # orders that waited on the partner
    imported: int = 0
    orders_lost: int = 0  # waiting but not held, or valid but not imported
    orders_duplicated: int = 0  # held twice, imported twice, or imported though invalid
    changes_lost: int = 0  # a status change the partner never received
    changes_duplicated: int = 0  # a status change the partner received more than once (per order)
    half_written: int = 0  # a sales order whose lines differ from its order's valid lines
    details: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def clean(self) -> bool:
        return not (
            self.orders_lost
            or self.orders_duplicated
            or self.changes_lost
            or self.changes_duplicated
            or self.half_written
        )

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("details")
        return row


def check(
    site_id: int,
    partner: PartnerRecord,
    expected: Expected,
    *,
    scenario: str,
    runs: int,
    note: str = "",
    record: bool = True,
) -> Figures:
    """Count the four promises for one site; fail with every discrepancy when one is broken."""
    figures = measure(site_id, partner, expected, scenario=scenario, runs=runs, note=note)
    if record:
        from tests.chaos import figures as collected

        collected.add(figures.as_row())
    assert figures.clean, f"{scenario}: {figures.as_row()}\n  " + "\n  ".join(figures.details[:40])
    return figures


def measure(
    site_id: int, partner: PartnerRecord, expected: Expected, *, scenario: str, runs: int, note: str = ""
) -> Figures:
    fig = Figures(scenario, runs, note=note)
    with session_scope() as s:
        site = s.get(Site, site_id)
        assert site is not None
        exported_when = partner_spec(site.kind).capability("orders").exported_when
        held = Counter(s.scalars(select(InboundOrder.partner_order_id).where(InboundOrder.site_id == site_id)))
        orders = {o.partner_order_id: o for o in s.scalars(select(InboundOrder).where(InboundOrder.site_id == site_id))}
        per_inbound = Counter(s.scalars(select(SalesOrder.inbound_order_id).where(SalesOrder.site_id == site_id)))
        lines: dict[int, set[tuple[int, int, Decimal]]] = {}
        for so_inbound, line_no, qty, price in s.execute(
            select(SalesOrder.inbound_order_id, SalesOrderLine.line_no, SalesOrderLine.quantity, SalesOrderLine.price)
            .join(SalesOrderLine, SalesOrderLine.sales_order_id == SalesOrder.id)
            .where(SalesOrder.site_id == site_id)
        ):
            lines.setdefault(so_inbound, set()).add((line_no, qty, Decimal(price)))
        unsent = s.execute(
            select(OutboxEntry.status, OutboxEntry.state, func.count())
            .where(OutboxEntry.site_id == site_id, OutboxEntry.state != "sent")
            .group_by(OutboxEntry.status, OutboxEntry.state)
        ).all()

    waiting = partner.waiting()
    fig.partner_orders = len(waiting)
    problems = fig.details

    # 1. held exactly once
    for pid in sorted(waiting - set(held)):
        fig.orders_lost += 1
        problems.append(f"order {pid} waited on the partner and is not in the holding area")
    for pid, n in held.items():
        if n > 1:
            fig.orders_duplicated += n - 1
            problems.append(f"order {pid} is held {n} times")

    # 2. imported exactly once: the valid ones, one of each same-PO group, nothing else
    imported = {pid for pid, o in orders.items() if per_inbound.get(o.id)}
    fig.imported = len(imported)
    for pid, o in orders.items():
        if per_inbound.get(o.id, 0) > 1:
            fig.orders_duplicated += per_inbound[o.id] - 1
            problems.append(f"order {pid} has {per_inbound[o.id]} sales orders")
    grouped = set().union(*expected.same_po) if expected.same_po else set()
    for pid in sorted(expected.valid - grouped):
        if pid not in imported:
            fig.orders_lost += 1
            problems.append(
                f"valid order {pid} is not imported (state {orders[pid].state if pid in orders else 'not held'})"
            )
    for group in expected.same_po:
        got = group & imported
        if len(got) != 1:
            problems.append(f"same-PO orders {sorted(group)}: {len(got)} imported, expected 1")
            if got:
                fig.orders_duplicated += len(got) - 1
            else:
                fig.orders_lost += 1
    for pid in sorted(imported - expected.valid - grouped):
        fig.orders_duplicated += 1
        problems.append(f"order {pid} was imported but is not a valid order")

    # 3. status changes delivered exactly once, per order
    should_mark = {pid for pid in orders if pid in imported} if exported_when == "imported" else set(orders)
    got = partner.deliveries()
    for pid in sorted(should_mark):
        n = got.get((pid, "exported"), 0)
        if n == 0:
            fig.changes_lost += 1
            problems.append(f"order {pid}: the partner never received 'exported'")
        elif n > 1:
            fig.changes_duplicated += n - 1
            problems.append(f"order {pid}: the partner received 'exported' {n} times")
    for (pid, status), n in sorted(got.items()):
        if status == "exported" and pid not in should_mark:
            fig.changes_duplicated += n
            problems.append(f"order {pid}: the partner received 'exported' {n} times but it should not have")
        elif status != "exported" and n > 1:
            fig.changes_duplicated += n - 1
            problems.append(f"{pid}: the partner received {status} {n} times")
    for status, state, n in unsent:  # "exported" rows are counted above, from the partner's side
        if status != "exported":
            fig.changes_lost += n
        problems.append(f"{n} '{status}' outbox row(s) still {state}")

    # 4. no half-written ERP order: each sales order carries its order's lines as the partner holds
    # them (read from the partner's record, not from what Bobbin's mapper made of it)
    partner_lines = partner.lines()
    for pid, o in orders.items():
        want = partner_lines.get(pid, set())
        if per_inbound.get(o.id):
            have = lines.get(o.id, set())
            if have != want:
                fig.half_written += 1
                problems.append(f"order {pid}: sales order lines {sorted(have)} != the partner's lines {sorted(want)}")
        elif o.state == "imported":
            fig.half_written += 1
            problems.append(f"order {pid} is marked imported but has no sales order")
    return fig


# --- Loop returns ----------------------------------------------------------------------------------
#
# The same promise for returns, counted return by return from the Loop sandbox's own record (its
# returns, the actions it received, its notes, read with the sandbox's key names, never through
# Bobbin's mapper):
#
# - every return in Loop is held exactly once;
# - every return Loop has not cancelled, expired or closed without processing has exactly one RMA,
#   with exactly Loop's line items (one RMA line per line item, its SKU); a gone return's RMA, if
#   it had one, is void;
# - Loop is asked to process exactly the returns whose goods were received, each once (a refused
#   second request counts as a duplicate), and each RMA's note (and each credit memo's) is on Loop's
#   timeline exactly once; nothing is left waiting in the outbox;
# - every return Loop refunded has exactly one posted credit memo for Loop's refund and exactly one
#   AR debit offsetting it (a memo without its debit is half-written).


@dataclass
class ReturnFigures:
    """One row of RELIABILITY.md's Loop returns table."""

    scenario: str
    runs: int
    loop_returns: int = 0
    rmas: int = 0
    returns_lost: int = 0  # not held, or no RMA though Loop still has it open or processed it
    rmas_duplicated: int = 0
    actions_lost: int = 0  # a process or note Loop should have received and did not; outbox rows left
    actions_duplicated: int = 0  # a process or note Loop received more than once (or should not have)
    credits_posted: int = 0
    credits_lost: int = 0  # a refund without its posted credit memo and AR debit
    credits_duplicated: int = 0  # a second credit memo or AR debit for one refund
    half_written: int = 0  # an RMA whose lines are not Loop's, a memo without its debit, an RMA not voided
    details: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def clean(self) -> bool:
        return not (
            self.returns_lost
            or self.rmas_duplicated
            or self.actions_lost
            or self.actions_duplicated
            or self.credits_lost
            or self.credits_duplicated
            or self.half_written
        )

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("details")
        return row


def check_returns(
    site_id: int,
    loop: Any,
    *,
    processed: Iterable[int],
    scenario: str,
    runs: int,
    note: str = "",
    record: bool = True,
) -> ReturnFigures:
    """Count the promise for one Loop site; ``processed``: the Loop ids whose goods were received
    (Bobbin must have asked Loop to process each, once). Fails with every discrepancy listed."""
    fig = measure_returns(site_id, loop, processed=processed, scenario=scenario, runs=runs, note=note)
    if record:
        from tests.chaos import figures as collected

        collected.add_returns(fig.as_row())
    assert fig.clean, f"{scenario}: {fig.as_row()}\n  " + "\n  ".join(fig.details[:40])
    return fig


def measure_returns(
    site_id: int, loop: Any, *, processed: Iterable[int], scenario: str, runs: int, note: str = ""
) -> ReturnFigures:
    from models import ArAdjustment, CreditMemo, InboundReturn, Rma, RmaLine
    from sandbox.loop import api as lc

    rf, lf, ff = lc.ReturnField, lc.LineItemField, lc.RefundField
    fig = ReturnFigures(scenario, runs, note=note)
    problems = fig.details
    asked = {int(i) for i in processed}
    with session_scope() as s:
        held = Counter(s.scalars(select(InboundReturn.loop_return_id).where(InboundReturn.site_id == site_id)))
        rmas: dict[str, list[tuple[int, str, str]]] = {}
        for rma_id, number, status, loop_id in s.execute(
            select(Rma.id, Rma.number, Rma.status, InboundReturn.loop_return_id)
            .join(InboundReturn, InboundReturn.id == Rma.inbound_return_id)
            .where(Rma.site_id == site_id)
        ):
            rmas.setdefault(loop_id, []).append((rma_id, number, status))
        lines: dict[int, set[tuple[str, str]]] = {}
        for rma_id, item, sku in s.execute(
            select(RmaLine.rma_id, RmaLine.loop_line_item_id, RmaLine.sku)
            .join(Rma, Rma.id == RmaLine.rma_id)
            .where(Rma.site_id == site_id)
        ):
            lines.setdefault(rma_id, set()).add((item, sku))
        memos: dict[int, list[tuple[int, str, str, Decimal]]] = {}
        for memo_id, rma_id, number, status, amount in s.execute(
            select(CreditMemo.id, CreditMemo.rma_id, CreditMemo.number, CreditMemo.status, CreditMemo.amount)
            .join(Rma, Rma.id == CreditMemo.rma_id)
            .where(Rma.site_id == site_id)
        ):
            memos.setdefault(rma_id, []).append((memo_id, number, status, Decimal(amount)))
        debits = Counter(s.scalars(select(ArAdjustment.credit_memo_id).where(ArAdjustment.credit_memo_id.is_not(None))))
        unsent = s.execute(
            select(OutboxEntry.status, OutboxEntry.state, OutboxEntry.last_error, InboundReturn.loop_return_id)
            .join(InboundReturn, InboundReturn.id == OutboxEntry.inbound_return_id)
            .where(OutboxEntry.site_id == site_id, OutboxEntry.state != "sent")
        ).all()

    returns = loop.returns()
    actions: dict[int, list[dict[str, Any]]] = {}
    for action in loop.actions():
        actions.setdefault(int(action["return_id"]), []).append(action)
    fig.loop_returns = len(returns)
    fig.rmas = sum(len(v) for v in rmas.values())
    for ret in returns:
        rid = int(ret[rf.ID])
        key = str(rid)
        refunded = sum((Decimal(str(x[ff.AMOUNT])) for x in ret.get(rf.REFUNDS) or []), Decimal("0"))
        fulfilled = refunded > 0 or bool(ret.get(rf.EXCHANGE_ORDER_NAME))
        state = ret[rf.STATE]
        gone = state in (lc.STATE_CANCELLED, lc.STATE_EXPIRED) or (state == lc.STATE_CLOSED and not fulfilled)
        # 1. held exactly once
        if held[key] != 1:
            if held[key] == 0:
                fig.returns_lost += 1
            else:
                fig.rmas_duplicated += held[key] - 1
            problems.append(f"return {rid} is held {held[key]} times")
        # 2. one RMA with Loop's lines (a gone return's, if any, void)
        made = rmas.get(key, [])
        if len(made) > 1:
            fig.rmas_duplicated += len(made) - 1
            problems.append(f"return {rid} has {len(made)} RMAs")
        if not made and not gone:
            fig.returns_lost += 1
            problems.append(f"return {rid} ({state}) has no RMA")
        want = {(str(item[lf.LINE_ITEM_ID]), str(item[lf.SKU])) for item in ret[rf.LINE_ITEMS]}
        notes = Counter(n[lc.NoteField.CONTENT] for n in loop.notes(rid))
        for rma_id, number, status, *_ in made:
            if lines.get(rma_id, set()) != want:
                fig.half_written += 1
                problems.append(
                    f"return {rid}: {number}'s lines {sorted(lines.get(rma_id, set()))} != Loop's {sorted(want)}"
                )
            if gone and status != "void":
                fig.half_written += 1
                problems.append(f"return {rid} is {state} in Loop but {number} is {status}")
            said = sum(n for text, n in notes.items() if text.startswith(f"ERP: {number} created"))
            if said > 1 or (said == 0 and status != "void"):
                fig.actions_lost += said == 0
                fig.actions_duplicated += max(0, said - 1)
                problems.append(f"return {rid}: {number}'s note is on Loop's timeline {said} times")
        for text, n in notes.items():  # (the RMA's and the credit memo's are counted with them)
            if n > 1 and not text.startswith("ERP: "):
                fig.actions_duplicated += n - 1
                problems.append(f"return {rid}: note {text[:60]!r} is on Loop's timeline {n} times")
        # 3. processed once, exactly the returns whose goods came back
        asked_of = [a for a in actions.get(rid, []) if a["action"] == lc.ACTION_PROCESS]
        accepted = [a for a in asked_of if a["after"] is not None]
        expected = 1 if rid in asked else 0
        if len(accepted) < expected:
            fig.actions_lost += 1
            problems.append(f"return {rid}: Loop was never asked to process it")
        extra = len(asked_of) - expected if asked_of else 0
        if extra > 0:
            fig.actions_duplicated += extra
            problems.append(f"return {rid}: Loop got {len(asked_of)} process requests ({len(accepted)} accepted)")
        # 4. one posted credit memo for Loop's refund, and its AR debit
        posted = [m for rma in made for m in memos.get(rma[0], []) if m[2] == "posted"]
        fig.credits_posted += len(posted)
        if refunded > 0 and made and not gone:
            if not posted:
                fig.credits_lost += 1
                problems.append(f"return {rid}: Loop refunded {refunded}, no credit memo is posted")
        elif posted:
            fig.credits_duplicated += len(posted)
            problems.append(f"return {rid}: {len(posted)} credit memo(s) posted, Loop refunded {refunded}")
        if len(posted) > 1:
            fig.credits_duplicated += len(posted) - 1
            problems.append(f"return {rid} has {len(posted)} posted credit memos")
        for memo_id, number, _, amount in posted:
            if amount != refunded:
                fig.half_written += 1
                problems.append(f"return {rid}: {number} is for {amount}, Loop refunded {refunded}")
            if debits[memo_id] != 1:
                fig.credits_duplicated += max(0, debits[memo_id] - 1)
                fig.half_written += debits[memo_id] == 0
                problems.append(f"return {rid}: {number} has {debits[memo_id]} AR debits")
            said = sum(n for text, n in notes.items() if text.startswith(f"ERP: credit memo {number} "))
            if said != 1:
                fig.actions_lost += said == 0
                fig.actions_duplicated += max(0, said - 1)
                problems.append(f"return {rid}: {number}'s note is on Loop's timeline {said} times")
    # 5. nothing left waiting for Loop, or given up (a void return's waiting rows are dropped)
    for status, state, error, loop_id in unsent:
        fig.actions_lost += 1
        problems.append(f"return {loop_id}: its '{status}' is still {state} ({error})")
    return fig
