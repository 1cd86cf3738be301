"""What an import of a site would do now, without doing any of it (``bobbin import SITE --dry-run``).

``preview_site_orders`` reads the partner's waiting orders through the site's order source (whose
list reads mark nothing on the partner: one that marks what a read returns is read without
marking, as every import reads it), maps each page, and checks each order in memory with the
same rules an import applies (``services.holding.check``) against master data loaded once
(``services.masterdata.load``). It never stages, queues, marks or records anything: every
database read runs in a read-only transaction, so a write would fail, not happen.

What it tells apart, per order on the partner's list:
- ``new``: not held yet — an import would stage it;
- ``changed``: held, open, and its payload changed — an import would stage it again;
- ``held``: held, open, unchanged — an import checks it again (its outcome is shown);
- ``imported`` / ``rejected``: held and settled — an import leaves it alone.

Duplicates are both kinds: an order whose partner id is already held (``held``, ``changed``,
``imported``, ``rejected``: staging would not add it twice), and an order whose customer PO is
already used (state ``duplicate``: ``duplicate_po``, judged as the import judges it — by ERP orders,
held orders of any site, and orders earlier on this list).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from connectors.base import PartnerOrder
from core.db import new_session
from models import InboundOrder
from services import masterdata
from services.context import SiteContext
from services.holding import check, for_site, header_columns, pg_safe, raw_hash
from services.sites import open_site

# What an import would do with an order on the list (see the module's docstring).
ACTIONS = ("new", "changed", "held", "imported", "rejected")
SETTLED = ("imported", "rejected")


@dataclass(frozen=True)
class PreviewProblem:
    code: str
    severity: str
    message: str
    line_no: int | None = None
    field: str | None = None
    value: str | None = None


@dataclass
class PreviewOrder:
    """One order on the partner's list, and what an import would make of it."""

    partner_order_id: str
    action: str  # new | changed | held | imported | rejected
    held_as: int | None  # its Bobbin order id when already held
    held_state: str | None  # its state in the holding area now
    state: str | None  # after the check: valid | invalid | duplicate (None: settled, not checked)
    po_number: str | None
    customer: str | None  # the partner's customer, as the list shows it
    customer_code: str | None  # the ERP customer it maps to
    lines: int
    total: Decimal | None
    currency: str | None
    problems: list[PreviewProblem] = field(default_factory=list)

    @property
    def error_codes(self) -> list[str]:
        return list(dict.fromkeys(p.code for p in self.problems if p.severity == "error"))

    @property
    def warning_codes(self) -> list[str]:
        return list(dict.fromkeys(p.code for p in self.problems if p.severity != "error"))


@dataclass
class Preview:
    site: str
    site_id: int
    partner: str
    orders: list[PreviewOrder] = field(default_factory=list)
    pages: int = 0
    read_complete: bool = True
    read_note: str | None = None

    def counts(self) -> dict[str, int]:
        actions = Counter(o.action for o in self.orders)
        states = Counter(o.state for o in self.orders if o.state)
        return {
            "fetched": len(self.orders),
            **{a: actions[a] for a in ACTIONS},
            "to_stage": actions["new"] + actions["changed"],
            "already_held": len(self.orders) - actions["new"],
            "checked": sum(states.values()),
            "valid": states["valid"],
            "invalid": states["invalid"],
            "duplicate": states["duplicate"],
            "problems": sum(1 for o in self.orders for p in o.problems if p.severity == "error"),
            "warnings": sum(1 for o in self.orders for p in o.problems if p.severity != "error"),
            "pages": self.pages,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "site_id": self.site_id,
            "partner": self.partner,
            "dry_run": True,
            **self.counts(),
            "read_complete": self.read_complete,
            "read_note": self.read_note,
            "orders": [
                {
                    **{k: v for k, v in asdict(o).items() if k != "problems"},
                    "error_codes": o.error_codes,
                    "warning_codes": o.warning_codes,
                    "problems": [asdict(p) for p in o.problems],
                }
                for o in self.orders
            ],
        }


@contextmanager
def _read_only() -> Iterator[Session]:
    """A session whose transaction Postgres refuses to write in. It ends with a commit (of nothing:
    a rollback would expire what was read, the site the context carries included)."""
    session = new_session()
    try:
        session.execute(text("SET TRANSACTION READ ONLY"))
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def preview_site_orders(site_ref: int | str) -> Preview:
    """Read the site's waiting orders and check each as an import would; write nothing anywhere.
    SiteError for an unknown site; the partner's errors (PartnerError …) as an import raises them."""
    with _read_only() as s:
        ctx = open_site(s, site_ref)
        md = masterdata.load(s, ctx.id)
        # Ids an import would give new orders come after every id held now: the PO rule
        # ("another order had it first") compares ids.
        next_id = (s.scalar(select(func.max(InboundOrder.id))) or 0) + 1
    preview = Preview(site=ctx.name, site_id=ctx.id, partner=ctx.label)
    on_list: dict[str, PreviewOrder] = {}
    new_ids: dict[str, int] = {}  # partner id -> the id an import would give it, in list order
    source = ctx.open("orders")
    try:
        for page in source.iter_order_pages():
            # A page overlaps the one before by one order, and a list that shifted is read again:
            # an order is shown once, as last read.
            by_id = {pg_safe(o.partner_order_id): o for o in page}
            with _read_only() as s:
                held = {
                    r.partner_order_id: r
                    for r in s.execute(
                        select(
                            InboundOrder.id,
                            InboundOrder.partner_order_id,
                            InboundOrder.state,
                            InboundOrder.raw_hash,
                            InboundOrder.customer_code,
                        ).where(InboundOrder.site_id == ctx.id, InboundOrder.partner_order_id.in_(list(by_id)))
                    )
                }
            for pid, order in by_id.items():
                row = held.get(pid)
                if row is None:
                    stand_in = new_ids.setdefault(pid, next_id + len(new_ids))
                    on_list[pid] = _checked(ctx, md, pid, order, "new", None, None, stand_in)
                elif row.state in SETTLED:
                    on_list[pid] = _settled(pid, order, row)
                else:
                    action = "held" if row.raw_hash == raw_hash(order.raw) else "changed"
                    on_list[pid] = _checked(ctx, md, pid, order, action, row.id, row.state, row.id)
            preview.pages += 1
    finally:
        source.close()
    report = source.read_report
    preview.read_complete, preview.read_note = report.complete, report.sentence()
    preview.orders = list(on_list.values())
    return preview


def _summary(pid: str, order: PartnerOrder, action: str) -> PreviewOrder:
    header = header_columns(order)  # as the holding area's list columns would read
    return PreviewOrder(
        partner_order_id=pid,
        action=action,
        held_as=None,
        held_state=None,
        state=None,
        po_number=header["po_number"],
        customer=header["customer_ref"],
        customer_code=None,
        lines=header["line_count"],
        total=header["total"],
        currency=header["currency"],
    )


def _settled(pid: str, order: PartnerOrder, row: Any) -> PreviewOrder:
    out = _summary(pid, order, row.state)
    out.held_as, out.held_state, out.customer_code = row.id, row.state, row.customer_code
    return out


def _checked(
    ctx: SiteContext,
    md: masterdata.MasterData,
    pid: str,
    mapped: PartnerOrder,
    action: str,
    held_as: int | None,
    held_state: str | None,
    order_id: int,
) -> PreviewOrder:
    """Check one order as the import would (in memory: ``md`` remembers the PO it takes, as a run's
    master data does, so an order later on the list with the same PO is found a duplicate)."""
    masterdata.release_po(md, order_id)
    partner = for_site(mapped, ctx.settings)
    outcome = check(partner, order_id, ctx, md)
    state = outcome.state
    code = outcome.resolved.customer_code
    po = pg_safe(partner.po_number)
    if code and po and state in ("valid", "invalid"):
        masterdata.claim_po(md, code, po, order_id)
        if held_as is None:  # not held yet: name it as a person finds it, not by an id it does not have
            key = md.po_of[order_id]
            md.po_owners[key][-1] = (order_id, f"{ctx.name}:{pid} (new on this list)")
    out = _summary(pid, mapped, action)
    out.held_as, out.held_state, out.state, out.customer_code = held_as, held_state, state, code
    out.problems = [
        PreviewProblem(p.code, p.severity, p.message, p.line_no, p.field, p.value) for p in outcome.problems
    ]
    return out
