"""Error reports by e-mail: what went wrong with a site's orders (or returns), and what a person does
about it.

Two kinds, modelled on the partners' "detailed error report" e-mails (seed 002):

- ``errors`` — sent after an import that found new problems: only problems never reported before,
  grouped by order, each with the catalogue's title and "Resolution" hint (``services.problems``).
  Once sent, each problem is recorded in ``reported_error`` and is never reported as new again.
- ``digest`` — the daily list of everything still open, reported before or not, with counts by kind
  and how long each order has waited.

A site whose partner sends returns (Loop) has no orders: its reports carry its returns' problems
(``return_error``) instead, grouped by return with its Loop id, Shopify order and RMA, each with
what to do (``RETURN_HINTS``) and a link to the return's page in the console; a new-errors report
marks each one it carried (``return_error.report_id``), so it is reported once, as an order's is.
The digest leaves out credited and void returns, and the warnings of a return that has its RMA.

Both carry a section "catalog items the partner refused": the styles, images, linesheets and
customers a catalog or customer push left rejected (``services.catalog``), each with the partner's
message and what to do. A new-errors report carries those no mail reported yet (and is sent for
them alone when no order has a new problem); once sent, they are marked reported.

Each order, problem and view in a report links to its page in the operator console (``services.links``,
under ``CONSOLE_BASE_URL``), beside the CLI command that does the same.

Building (``new_errors_report`` / ``digest_report``), rendering (``render``) and sending
(``send_error_report``) are separate plain functions; the Celery task is a thin wrapper. A report is
recorded only after the mail went out: a failed send marks nothing, so the next run tries again.
The site's credentials are never read here — site queries select named columns only.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.registry import UnknownPartner, partner
from connectors.registry import label as partner_label
from core.logging import redact
from core.mail import HEADER_POLICY, MailError, send_message
from core.settings import Settings, get_settings
from models.orders import ErrorReport, InboundOrder, OrderError, ReportedError
from models.returns import InboundReturn, ReturnError, Rma
from models.runs import SyncRun
from models.sites import Site
from services import catalog as catalog_push
from services import links, problems, reconcile
from services.return_queries import STATE_WORDS as RETURN_STATE_WORDS
from services.runs import is_import

log = structlog.get_logger()

__all__ = [
    "MailError",
    "Report",
    "ReportOrder",
    "ReportProblem",
    "ReportReturn",
    "digest_report",
    "new_errors_report",
    "render",
    "send_error_report",
]

ReportKind = Literal["errors", "digest"]
REPORT_KINDS: tuple[str, ...] = ("errors", "digest")

# A person reads the mail: past this many orders it is a list to open with the CLI, not to scroll, and
# each order adds ~3 KB of HTML. The rest of a new-errors report follows in the next one (they are
# not marked as reported), and the digest says how many it left out.
MAX_ORDERS_PER_REPORT = 100
MAX_CATALOG_ITEMS_PER_REPORT = 100  # refused catalog items listed; the rest follow (or are counted)

# Orders whose open problems need no one any more: an imported order's warning was reported when it
# was found, and a rejected order will not be imported. The digest leaves them out, or it would
# grow for ever.
SETTLED_STATES = ("imported", "rejected")

MAX_RETURNS_PER_REPORT = 100  # as MAX_ORDERS_PER_REPORT, for a returns site's returns
# Returns whose problems need no one any more: a credited return is done, a void one is gone. The
# warnings of a return that has its RMA were reported when found and stop nothing: the digest
# leaves them out too (an RMA made without its original order says so once, not every day).
RETURN_SETTLED_STATES = ("credited", "void")
RETURN_BEFORE_RMA = ("received", "invalid")

# Each problem code a return can have (services.rma, services.writeback): its title, and what a
# person does about it ("SITE" and "RETURN" in a `command` are filled in). The message of each
# problem says what was found; these say what to do.
RETURN_HINTS: dict[str, tuple[str, str]] = {
    "payload_invalid": (
        "Loop's return cannot be read",
        "Look at the return in Loop: Bobbin cannot make an RMA from what Loop sent. Once it is corrected "
        "there, the next returns poll reads it again.",
    ),
    "dates_invalid": (
        "A date in Loop's return cannot be read",
        "Look at the return in Loop: a date it sent is in no format Loop documents. Once it is corrected "
        "there, the next returns poll reads it again.",
    ),
    "no_lines": (
        "Return has no items",
        "Look at the return in Loop: with no items there is nothing to authorize. If it is empty, close "
        "or cancel it there and Bobbin voids it.",
    ),
    "sku_missing": (
        "Returned item has no SKU",
        "Give the product its SKU in Shopify; the next returns poll tries the return again.",
    ),
    "sku_unknown": (
        "Returned item not in the ERP",
        f"Load the SKU into the ERP with {problems.load_command('styles')}; the next returns poll tries "
        "the return again.",
    ),
    "order_name_missing": (
        "No Shopify order named",
        "Look at the return in Loop: it must name the Shopify order its goods came from.",
    ),
    "customer_unknown": (
        "No ERP customer for the return",
        "Set the ERP customer of the site's Shopify account: `bobbin sites set SITE shopify_customer=CODE`, "
        f"or load the shopper as an ERP customer with the same e-mail: {problems.load_command('customers')}. "
        "The next returns poll tries the return again.",
    ),
    "warehouse_missing": (
        "No warehouse for returned goods",
        "Set where returned goods go: `bobbin sites set SITE default_warehouse=CODE`, with a warehouse the "
        f"ERP has ({problems.load_command('warehouses')} adds one). The next returns poll tries the return again.",
    ),
    "order_unknown": (
        "Original order not in the ERP",
        "This does not stop the return: its RMA is made without the original order. If that order should "
        "be in the ERP, find out why it is not.",
    ),
    "refund_mismatch": (
        "Refund does not match the RMA",
        "Compare Loop's refund with the RMA's lines on the return's page. When the refund is right, confirm "
        "the credit memo there or with `bobbin returns confirm RETURN`: it is posted with its AR debit.",
    ),
    "contract_violation": (
        "Loop answered for something else",
        "Loop's answer to Bobbin's request was not about this return, so the request is held, not retried. "
        "Look at the return in Loop and at the held request on the console's Writebacks page.",
    ),
}


_TEMPLATES = Path(__file__).with_name("templates")


# --- what a report holds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteRef:
    """The site fields a report needs (never its credentials)."""

    id: int
    name: str
    kind: str
    notify_emails: tuple[str, ...]

    @property
    def partner(self) -> str:
        return partner_label(self.kind)

    @property
    def sends_returns(self) -> bool:
        """Whether the site's partner sends returns (its problems are return problems)."""
        try:
            return partner(self.kind).offers("returns")
        except UnknownPartner:
            return False

    @property
    def returns_only(self) -> bool:
        """A returns site without orders (Loop): its mail speaks of returns, never of orders."""
        try:
            spec = partner(self.kind)
        except UnknownPartner:
            return False
        return spec.offers("returns") and not spec.offers("orders")


@dataclass(frozen=True)
class ReportProblem:
    """One open error or warning of an order (or a return), with the catalogue's words for it."""

    error_id: int
    line_no: int | None
    code: str
    severity: str
    field: str | None
    value: str | None
    message: str
    title: str
    resolution: str  # the catalogue hint, with this order / site / value filled in
    first_seen_at: datetime
    new: bool  # never reported by a new-errors mail before

    @property
    def is_warning(self) -> bool:
        return self.severity == "warning"

    @property
    def where(self) -> str:
        """``Field: terms   Value: "Net 30"`` (the text part's line; empty when neither is known)."""
        parts = [
            f"Field: {self.field}" if self.field else "",
            f'Value: "{self.value}"' if self.value is not None else "",
        ]
        return "   ".join(p for p in parts if p)


@dataclass(frozen=True)
class ReportOrder:
    order_id: int
    partner_order_id: str
    po_number: str | None
    customer_ref: str | None  # the customer as the partner names it
    customer_code: str | None  # the ERP customer it resolved to, if any
    state: str
    order_date: date | None
    problems: tuple[ReportProblem, ...]

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if not p.is_warning)

    @property
    def warning_count(self) -> int:
        return sum(1 for p in self.problems if p.is_warning)

    @property
    def oldest_open_at(self) -> datetime:
        return min(p.first_seen_at for p in self.problems)


@dataclass(frozen=True)
class ReportReturn:
    """A held return with open problems: what a person looks it up by (its Loop id, the Shopify
    order, its RMA once made) and its problems."""

    return_id: int
    loop_return_id: str
    order_name: str | None
    customer_email: str | None
    state: str
    rma: str | None  # its RMA's number, once made
    total: Decimal | None
    currency: str | None
    problems: tuple[ReportProblem, ...]

    @property
    def state_words(self) -> str:
        return RETURN_STATE_WORDS.get(self.state, "")

    @property
    def amount(self) -> str:
        """``120.00 USD``, or empty when Loop gave no total."""
        return "" if self.total is None else f"{self.total} {self.currency or ''}".strip()

    @property
    def oldest_open_at(self) -> datetime:
        return min(p.first_seen_at for p in self.problems)


@dataclass(frozen=True)
class CatalogProblem:
    """A catalog item (or customer) the partner refused, as a push recorded it."""

    state_id: int
    kind: str  # style | image | linesheet | customer | listing (an eBay SKU)
    key: str
    label: str | None
    message: str
    resolution: str
    since: datetime
    new: bool  # never reported by a new-errors mail before

    @property
    def what(self) -> str:
        """``Style HPK101 (Dune Fisherman Sweater)``."""
        return f"{self.kind.capitalize()} {self.key}" + (f" ({self.label})" if self.label else "")


@dataclass(frozen=True)
class CodeCount:
    code: str
    title: str
    severity: str
    problems: int
    orders: int  # the orders with it (in ``Report.return_by_code``: the returns)
    states: tuple[str, ...] = ()  # the states of those orders (which view of the holding area shows them)


@dataclass(frozen=True)
class Further:
    """One place to look further: a page of the console, and the CLI command that shows the same."""

    label: str
    url: str
    command: str | None = None


@dataclass(frozen=True)
class RunOutcome:
    """The last finished order import of the site, as the digest shows it."""

    outcome: str
    started_at: datetime
    finished_at: datetime
    counts: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    site: SiteRef
    generated_at: datetime
    orders: tuple[ReportOrder, ...]  # the orders this mail shows (at most MAX_ORDERS_PER_REPORT)
    total_orders: int  # ... out of this many with open problems of this kind
    total_problems: int
    total_errors: int
    by_code: tuple[CodeCount, ...]  # over all total_orders, not only the ones shown
    last_import: RunOutcome | None = None
    # Work that gave up for this site: {"writebacks": n, "tasks": n} (services.reconcile.dead_letters).
    dead_letters: dict[str, int] | None = None
    # Site-level warnings in words (services.reconcile.site_warnings): held writebacks, payload drift.
    warnings: tuple[str, ...] = ()
    catalog: tuple[CatalogProblem, ...] = ()  # refused catalog items shown (at most MAX_CATALOG_ITEMS_PER_REPORT)
    catalog_total: int = 0  # ... out of this many
    returns: tuple[ReportReturn, ...] = ()  # a returns site's returns shown (at most MAX_RETURNS_PER_REPORT)
    returns_total: int = 0  # ... out of this many with open problems of this kind
    return_problems_total: int = 0
    return_errors_total: int = 0
    return_by_code: tuple[CodeCount, ...] = ()  # over all returns_total

    @property
    def return_error_ids(self) -> list[int]:
        return [p.error_id for t in self.returns for p in t.problems]

    @property
    def return_problem_count(self) -> int:
        """The return problems this mail shows."""
        return len(self.return_error_ids)

    @property
    def omitted_returns(self) -> int:
        return self.returns_total - len(self.returns)

    @property
    def return_tally(self) -> str:
        """``2 errors, 1 warning`` of the returns — zero counts left out."""
        warnings = self.return_problems_total - self.return_errors_total
        parts = [
            _plural(self.return_errors_total, "error") if self.return_errors_total else "",
            _plural(warnings, "warning") if warnings else "",
        ]
        return ", ".join(p for p in parts if p)

    @property
    def attention(self) -> str:
        """What needs attention: ``3 orders``, ``2 returns``, or ``3 orders and 2 returns``."""
        parts = [
            _plural(self.total_orders, "order") if self.total_orders else "",
            _plural(self.returns_total, "return") if self.returns_total else "",
        ]
        return " and ".join(p for p in parts if p)

    @property
    def attention_count(self) -> int:
        return self.total_orders + self.returns_total

    @property
    def last_import_counts(self) -> dict[str, Any]:
        """The last import's counts as the digest shows them: a returns import's, only those that are not 0."""
        counts = self.last_import.counts if self.last_import else {}
        return {k: v for k, v in counts.items() if v} if self.site.returns_only else counts

    @property
    def catalog_ids(self) -> list[int]:
        return [c.state_id for c in self.catalog]

    @property
    def omitted_catalog(self) -> int:
        return self.catalog_total - len(self.catalog)

    @property
    def gave_up(self) -> bool:
        return bool(self.dead_letters and any(self.dead_letters.values()))

    @property
    def problem_count(self) -> int:
        return sum(len(o.problems) for o in self.orders)

    @property
    def error_ids(self) -> list[int]:
        return [p.error_id for o in self.orders for p in o.problems]

    @property
    def omitted_orders(self) -> int:
        return self.total_orders - len(self.orders)

    @property
    def total_warnings(self) -> int:
        return self.total_problems - self.total_errors

    @property
    def tally(self) -> str:
        """``3 errors, 1 warning`` — zero counts left out."""
        parts = [
            _plural(self.total_errors, "error") if self.total_errors else "",
            _plural(self.total_warnings, "warning") if self.total_warnings else "",
        ]
        return ", ".join(p for p in parts if p)

    @property
    def new_count(self) -> int:
        return sum(1 for o in self.orders for p in o.problems if p.new)

    @property
    def states(self) -> set[str]:
        return {o.state for o in self.orders}


# --- building ----------------------------------------------------------------------------------------


def new_errors_report(session: Session, site_id: int) -> Report | None:
    """The site's open problems (errors and warnings) and refused catalog items that no mail has
    reported yet — and, for a returns site, its returns' problems not reported yet; None if none.

    Three queries, however many orders: the site, the problems joined to their orders and filtered
    by "not in reported_error", and the refused catalog items not reported (a returns site: one
    more, its returns' problems with no ``report_id``)."""
    site = _site(session, site_id)
    rows = session.execute(_problem_rows(site_id).where(~_reported())).all()
    refused = catalog_push.problems(session, site_id, unreported=True)
    returned = (
        session.execute(_return_problem_rows(site_id).where(ReturnError.report_id.is_(None))).all()
        if site.sends_returns
        else []
    )
    if not rows and not refused and not returned:
        return None
    return _assemble(
        "errors",
        site,
        rows,
        last_import=None,
        dead_letters=reconcile.dead_letters(session, site_id),
        warnings=reconcile.site_warnings(session, site_id),
        refused=refused,
        return_rows=returned,
    )


def digest_report(session: Session, site_id: int) -> Report | None:
    """Everything still open for the site, reported before or not; None if nothing is.

    Orders already imported or rejected are left out (``SETTLED_STATES``), and so are returns
    credited or void and the warnings of a return that has its RMA (``RETURN_SETTLED_STATES``).
    Three queries: the site, the problems, and the last finished import run (a returns site: one
    more, its returns' problems)."""
    site = _site(session, site_id)
    stmt = _problem_rows(site_id).where(InboundOrder.state.not_in(SETTLED_STATES))
    rows = session.execute(stmt).all()
    refused = catalog_push.problems(session, site_id)
    returned = (
        session.execute(
            _return_problem_rows(site_id).where(
                InboundReturn.state.not_in(RETURN_SETTLED_STATES),
                or_(ReturnError.severity != "warning", InboundReturn.state.in_(RETURN_BEFORE_RMA)),
            )
        ).all()
        if site.sends_returns
        else []
    )
    if not rows and not refused and not returned:
        return None
    return _assemble(
        "digest",
        site,
        rows,
        last_import=_last_import(session, site_id),
        dead_letters=reconcile.dead_letters(session, site_id),
        warnings=reconcile.site_warnings(session, site_id),
        refused=refused,
        return_rows=returned,
    )


def _site(session: Session, site_id: int) -> SiteRef:
    # Named columns only: Site.credentials_encrypted is never loaded by the notifier.
    row = session.execute(
        select(Site.id, Site.name, Site.kind, Site.notify_emails).where(Site.id == site_id)
    ).one_or_none()
    if row is None:
        raise LookupError(f"Site {site_id} does not exist.")
    emails = tuple(str(e).strip() for e in (row.notify_emails or []) if str(e).strip())
    return SiteRef(id=row.id, name=row.name, kind=row.kind, notify_emails=emails)


def _reported() -> Any:
    return exists().where(ReportedError.error_id == OrderError.id)


def _problem_rows(site_id: int) -> Any:
    return (
        select(
            OrderError.id,
            OrderError.line_no,
            OrderError.code,
            OrderError.severity,
            OrderError.field,
            OrderError.value,
            OrderError.message,
            OrderError.first_seen_at,
            _reported().label("reported"),
            InboundOrder.id.label("order_id"),
            InboundOrder.partner_order_id,
            InboundOrder.po_number,
            InboundOrder.customer_ref,
            InboundOrder.customer_code,
            InboundOrder.state,
            InboundOrder.order_date,
        )
        .join(InboundOrder, InboundOrder.id == OrderError.order_id)
        .where(InboundOrder.site_id == site_id, OrderError.resolved_at.is_(None))
        # Header problems first, then by line: the order a person reads the partner's order in.
        .order_by(InboundOrder.id, OrderError.line_no.asc().nulls_first(), OrderError.id)
    )


def _return_problem_rows(site_id: int) -> Any:
    """The site's returns' open problems, each with its return and the return's RMA number."""
    return (
        select(
            ReturnError.id,
            ReturnError.line_no,
            ReturnError.code,
            ReturnError.severity,
            ReturnError.field,
            ReturnError.value,
            ReturnError.message,
            ReturnError.first_seen_at,
            ReturnError.report_id.is_not(None).label("reported"),
            InboundReturn.id.label("return_id"),
            InboundReturn.loop_return_id,
            InboundReturn.order_name,
            InboundReturn.customer_email,
            InboundReturn.state,
            InboundReturn.total,
            InboundReturn.currency,
            Rma.number.label("rma"),
        )
        .join(InboundReturn, InboundReturn.id == ReturnError.return_id)
        .outerjoin(Rma, Rma.inbound_return_id == InboundReturn.id)
        .where(InboundReturn.site_id == site_id, ReturnError.resolved_at.is_(None))
        # The return's own problems first, then by line, as for an order.
        .order_by(InboundReturn.id, ReturnError.line_no.asc().nulls_first(), ReturnError.id)
    )


def _last_import(session: Session, site_id: int) -> RunOutcome | None:
    run = session.execute(
        select(SyncRun.outcome, SyncRun.started_at, SyncRun.finished_at, SyncRun.counts, SyncRun.error)
        .where(SyncRun.site_id == site_id, is_import(SyncRun.task), SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc())
        .limit(1)
    ).one_or_none()
    if run is None:
        return None
    return RunOutcome(
        outcome=run.outcome,
        started_at=run.started_at,
        finished_at=run.finished_at,
        counts=dict(run.counts or {}),
        error=redact(run.error) if run.error else None,
    )


def _assemble(
    kind: ReportKind,
    site: SiteRef,
    rows: Sequence[Any],
    last_import: RunOutcome | None,
    dead_letters: dict[str, int] | None = None,
    warnings: Sequence[str] = (),
    refused: Sequence[dict[str, Any]] = (),
    return_rows: Sequence[Any] = (),
) -> Report:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.order_id, []).append(row)
    by_return: dict[int, list[Any]] = {}
    for row in return_rows:
        by_return.setdefault(row.return_id, []).append(row)

    orders = tuple(_order(site, order_rows) for order_rows in list(grouped.values())[:MAX_ORDERS_PER_REPORT])
    returns = tuple(_return(site, problem_rows) for problem_rows in list(by_return.values())[:MAX_RETURNS_PER_REPORT])
    return Report(
        kind=kind,
        site=site,
        generated_at=datetime.now(UTC),
        orders=orders,
        total_orders=len(grouped),
        total_problems=len(rows),
        total_errors=sum(1 for r in rows if r.severity != "warning"),
        by_code=_by_code(grouped, rows, lambda c: problems.kind(c).title),
        last_import=last_import,
        dead_letters=dead_letters,
        warnings=tuple(warnings),
        catalog=tuple(
            CatalogProblem(
                state_id=r["id"],
                kind=r["kind"],
                key=r["key"],
                label=r["label"],
                message=r["message"] or "refused, with no reason given",
                resolution=catalog_push.resolution(r["kind"], site.name),
                since=r["since"],
                new=not r["reported"],
            )
            for r in refused[:MAX_CATALOG_ITEMS_PER_REPORT]
        ),
        catalog_total=len(refused),
        returns=returns,
        returns_total=len(by_return),
        return_problems_total=len(return_rows),
        return_errors_total=sum(1 for r in return_rows if r.severity != "warning"),
        return_by_code=_by_code(by_return, return_rows, lambda c: _return_hint(c)[0]),
    )


def _by_code(grouped: dict[int, list[Any]], rows: Sequence[Any], title: Any) -> tuple[CodeCount, ...]:
    """The problems counted per code over the grouped orders (or returns): errors first, most first."""
    code_problems: Counter[str] = Counter()
    code_records: Counter[str] = Counter()
    code_states: dict[str, set[str]] = {}
    for record_rows in grouped.values():
        codes = [r.code for r in record_rows]
        code_problems.update(codes)
        code_records.update(set(codes))
        for c in codes:
            code_states.setdefault(c, set()).add(record_rows[0].state)
    return tuple(
        sorted(
            (
                CodeCount(
                    code=c,
                    title=title(c),
                    severity=_severity(rows, c),
                    problems=n,
                    orders=code_records[c],
                    states=tuple(sorted(code_states[c])),
                )
                for c, n in code_problems.items()
            ),
            key=lambda cc: (cc.severity == "warning", -cc.problems, cc.code),
        )
    )


def _severity(rows: Iterable[Any], code: str) -> str:
    return next((r.severity for r in rows if r.code == code), "error")


def _order(site: SiteRef, rows: Sequence[Any]) -> ReportOrder:
    head = rows[0]
    return ReportOrder(
        order_id=head.order_id,
        partner_order_id=head.partner_order_id,
        po_number=head.po_number,
        customer_ref=head.customer_ref,
        customer_code=head.customer_code,
        state=head.state,
        order_date=head.order_date,
        problems=tuple(
            _report_problem(
                r,
                message=r.message,
                title=problems.kind(r.code).title,
                resolution=fill_in(
                    problems.kind(r.code).resolution, order_id=head.order_id, site_name=site.name, value=r.value
                ),
            )
            for r in rows
        ),
    )


def _return(site: SiteRef, rows: Sequence[Any]) -> ReportReturn:
    head = rows[0]
    return ReportReturn(
        return_id=head.return_id,
        loop_return_id=head.loop_return_id,
        order_name=head.order_name,
        customer_email=head.customer_email,
        state=head.state,
        rma=head.rma,
        total=head.total,
        currency=head.currency,
        problems=tuple(
            _report_problem(
                r,
                message=_sentence(r.message),
                title=_return_hint(r.code)[0],
                resolution=fill_in_return(_return_hint(r.code)[1], return_id=head.return_id, site_name=site.name),
            )
            for r in rows
        ),
    )


def _report_problem(r: Any, *, message: str, title: str, resolution: str) -> ReportProblem:
    """One problem row (an order's or a return's) as the report shows it."""
    return ReportProblem(
        error_id=r.id,
        line_no=r.line_no,
        code=r.code,
        severity=r.severity,
        field=r.field,
        value=r.value,
        message=message,
        title=title,
        resolution=resolution,
        first_seen_at=r.first_seen_at,
        new=not r.reported,
    )


def _return_hint(code: str) -> tuple[str, str]:
    return RETURN_HINTS.get(code) or (
        code.replace("_", " ").capitalize(),
        "Look at the return on its page in the console.",
    )


def _sentence(text: str) -> str:
    """A problem's message as a sentence: a capital first, a full stop last."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?)" else text + "."


_CODE_SPAN = re.compile(r"`([^`]*)`")


def fill_in(hint: str, *, order_id: int, site_name: str, value: str | None) -> str:
    """The catalogue's hint with its placeholders (ORDER, SITE, "VALUE") replaced inside commands,
    so the command in the mail can be pasted as it is. Prose outside backticks is left alone."""

    def one(match: re.Match[str]) -> str:
        cmd = re.sub(r"\bORDER\b", str(order_id), match.group(1))
        cmd = re.sub(r"\bSITE\b", lambda _m: _shell_word(site_name), cmd)
        if value is not None:
            cmd = cmd.replace('"VALUE"', _shell_word(value, prefer_double=True))
        return f"`{cmd}`"

    return _CODE_SPAN.sub(one, hint)


def fill_in_return(hint: str, *, return_id: int, site_name: str) -> str:
    """A return hint with RETURN and SITE filled in inside its commands (as :func:`fill_in`)."""

    def one(match: re.Match[str]) -> str:
        cmd = re.sub(r"\bRETURN\b", str(return_id), match.group(1))
        cmd = re.sub(r"\bSITE\b", lambda _m: _shell_word(site_name), cmd)
        return f"`{cmd}`"

    return _CODE_SPAN.sub(one, hint)


def _shell_word(word: str, *, prefer_double: bool = False) -> str:
    if prefer_double and not re.search(r'["$`\\!\n]', word):
        return f'"{word}"'
    return shlex.quote(word)


# --- rendering ---------------------------------------------------------------------------------------


def subject_for(report: Report) -> str:
    """``[Bobbin] Brandboom "harbor-bb": 3 orders need attention (5 new problems)`` (a returns site:
    ``... "loop-demo": 2 returns need attention (3 new problems)``)."""
    site = f'[Bobbin] {report.site.partner} "{report.site.name}"'
    what = report.attention
    n = report.total_problems + report.return_problems_total
    refused = f"{_plural(report.catalog_total, 'catalog item')} refused by {report.site.partner}"
    if report.kind == "digest":
        if not report.attention_count:
            return f"{site} daily digest: {refused}"
        verb = "still needs" if report.attention_count == 1 else "still need"
        more = f"; {refused}" if report.catalog_total else ""
        return f"{site} daily digest: {what} {verb} attention ({_plural(n, 'open problem')}){more}"
    if not report.attention_count:
        return f"{site}: {refused}"
    verb = "needs" if report.attention_count == 1 else "need"
    more = f"; {refused}" if report.catalog_total else ""
    return f"{site}: {what} {verb} attention ({_plural(n, 'new problem')}){more}"


def render(report: Report, *, settings: Settings | None = None) -> EmailMessage:
    """The report as a multipart/alternative mail: a plain-text part and an HTML part."""
    settings = settings or get_settings()
    tz = _zone(settings.timezone)
    console = links.console(settings)
    context = {
        "r": report,
        "subject": subject_for(report),
        "tz_name": settings.timezone,
        "generated": _when(report.generated_at, tz),
        "console": console,
        "further": look_further(report, console),
    }
    env = _environment(tz, report.generated_at)
    text = env.get_template("error_report.txt.j2").render(context)
    html = env.get_template("error_report.html.j2").render(context)

    msg = EmailMessage()
    sender = _sender(settings.mail_from)
    msg["Subject"] = context["subject"]
    msg["From"] = sender
    msg["To"] = ", ".join(report.site.notify_emails)
    msg["Date"] = format_datetime(report.generated_at)
    # The sender's domain, not socket.getfqdn(): no DNS lookup, and ids that thread per deployment.
    msg["Message-ID"] = make_msgid(domain=sender.domain or "localhost")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a robot
    msg["X-Bobbin-Site"] = report.site.name
    msg["X-Bobbin-Report"] = report.kind
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.policy = HEADER_POLICY
    return msg


def look_further(report: Report, console: links.Console) -> list[Further]:
    """The holding area's views of the site (beside the ``bobbin orders list`` that shows the same),
    the orders with each kind of problem, and the site on the dashboard (beside ``bobbin status``).
    Each order's own page and command are under its heading."""
    site = report.site.name
    where = f"--site {_shell_word(site)}"
    out: list[Further] = []
    if report.total_orders:
        out.append(
            Further("Invalid orders", console.holding(site, "invalid"), f"bobbin orders list --view invalid {where}")
        )
    if "duplicate" in report.states:
        out.append(
            Further(
                "Duplicated orders",
                console.holding(site, "duplicated"),
                f"bobbin orders list --view duplicated {where}",
            )
        )
    out += [
        Further(f'Orders with "{c.title}"', console.holding(site, links.view_for(c.states), c.code))
        for c in report.by_code
    ]
    if report.returns_total:
        if any(t.state == "invalid" for t in report.returns):
            out.append(
                Further(
                    "Invalid returns (no RMA until fixed)",
                    console.returns(site, "invalid"),
                    f"bobbin returns list --state invalid {where}",
                )
            )
        out.append(Further(f"Returns of {site}", console.returns(site), f"bobbin returns list {where}"))
    if report.catalog:
        out.append(
            Further(
                "Refused catalog items",
                console.dashboard(report.site.id),
                f"bobbin catalog problems {_shell_word(site)}",
            )
        )
    out.append(Further(f"{site} on the dashboard", console.dashboard(report.site.id), "bobbin status"))
    return out


def _sender(mail_from: str) -> Address:
    name, addr = parseaddr(mail_from)
    user, _, domain = addr.partition("@")
    return Address(display_name=name or "Bobbin", username=user or "bobbin", domain=domain or "localhost")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(moment: datetime, tz: ZoneInfo) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _age(since: datetime, now: datetime) -> str:
    """How long a problem has been open, in the unit a person thinks in."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    delta = max(now - since, timedelta(0))
    if delta < timedelta(hours=1):
        return _plural(max(int(delta.total_seconds() // 60), 1), "minute")
    if delta < timedelta(hours=48):
        return _plural(int(delta.total_seconds() // 3600), "hour")
    return _plural(delta.days, "day")


def _wrap(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap prose for a plain mail client without breaking a `command` across lines."""
    keep = _CODE_SPAN.sub(lambda m: "`" + m.group(1).replace(" ", "\x00") + "`", text)
    lines = textwrap.wrap(
        keep,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines).replace("\x00", " ")


def _code_html(text: str) -> Markup:
    """Escape ``text`` and show its `command` spans as <code>."""
    parts = _CODE_SPAN.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(
                Markup(
                    '<code style="font-family:Menlo,Consolas,monospace;font-size:12px;'
                    'background:#f3f4f6;padding:1px 4px;border-radius:3px;">'
                    "{}</code>"
                ).format(part)
            )
        else:
            out.append(escape(part))
    return Markup("").join(out)


def _environment(tz: ZoneInfo, now: datetime) -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        when=lambda m: _when(m, tz),
        age=lambda m: _age(m, now),
        plural=_plural,
        wrap=_wrap,
        code_html=_code_html,
        day=lambda d: d.isoformat() if d else "-",
    )
    return env


# --- sending -----------------------------------------------------------------------------------------


def send_error_report(
    session: Session, site_id: int, *, kind: ReportKind = "errors", settings: Settings | None = None
) -> dict[str, Any]:
    """Build, render and send one report for the site; record it only once the mail went out.

    A transaction-scoped advisory lock per (kind, site) lets one run at a time build and send: a
    second concurrent run skips instead of mailing the same problems twice. The ``ON CONFLICT DO
    NOTHING`` on ``reported_error`` keeps the marks right even without the lock. If the send fails,
    nothing is recorded and ``MailError`` propagates (the next run retries). If the commit after a
    successful send fails, the mail may go out again: a duplicate mail beats a lost one.

    Returns a JSON-able summary for the task result."""
    if kind not in REPORT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REPORT_KINDS)}, not {kind!r}")
    settings = settings or get_settings()
    # A fresh logger per call: the module's one may be cached with the configuration of its first use.
    bound = structlog.get_logger(__name__).bind(site_id=site_id, report=kind)

    locked = session.execute(
        select(func.pg_try_advisory_xact_lock(func.hashtext(f"bobbin.notify.{kind}"), site_id))
    ).scalar_one()
    if not locked:
        session.rollback()
        bound.info("another error report for this site is being sent; skipping")
        return {"sent": False, "reason": "another report for this site is being sent"}

    report = new_errors_report(session, site_id) if kind == "errors" else digest_report(session, site_id)
    if report is None:
        session.rollback()
        return {"sent": False, "reason": "nothing new" if kind == "errors" else "nothing open"}
    if not report.site.notify_emails:
        session.rollback()
        bound.warning(
            "site has open problems or refused catalog items but no notify e-mail addresses; nothing sent",
            site=report.site.name,
            orders=report.total_orders,
            problems=report.total_problems,
            returns=report.returns_total,
            return_problems=report.return_problems_total,
        )
        unsent: dict[str, Any] = {
            "sent": False,
            "reason": "no recipients",
            "orders": report.total_orders,
            "errors": report.total_problems,
        }
        if report.returns_total:
            unsent.update(returns=report.returns_total, return_problems=report.return_problems_total)
        return unsent

    msg = render(report, settings=settings)
    try:
        send_message(msg, settings)
    except BaseException:
        session.rollback()  # releases the lock; nothing was written
        raise

    row = ErrorReport(
        site_id=site_id,
        kind=kind,
        subject=str(msg["Subject"]),
        recipients=list(report.site.notify_emails),
        order_count=len(report.orders),
        error_count=report.problem_count + len(report.catalog) + report.return_problem_count,
    )
    session.add(row)
    session.flush()
    if kind == "errors":
        if report.error_ids:
            session.execute(
                pg_insert(ReportedError)
                .values([{"error_id": eid, "report_id": row.id} for eid in report.error_ids])
                .on_conflict_do_nothing(index_elements=[ReportedError.error_id])
            )
        catalog_push.mark_reported(session, report.catalog_ids)
        if report.return_error_ids:
            # Only the unmarked: a concurrent report that marked one first keeps its mark.
            session.execute(
                update(ReturnError)
                .where(ReturnError.id.in_(report.return_error_ids), ReturnError.report_id.is_(None))
                .values(report_id=row.id)
            )
    session.commit()

    summary: dict[str, Any] = {
        "sent": True,
        "orders": len(report.orders),
        "errors": report.problem_count,
        "recipients": list(report.site.notify_emails),
        "report_id": row.id,
    }
    if report.catalog:
        summary["catalog_items"] = len(report.catalog)
    if report.returns:
        summary["returns"] = len(report.returns)
        summary["return_problems"] = report.return_problem_count
    if report.omitted_orders:
        # Not marked: a new-errors report picks them up next time; the caller may re-enqueue now.
        summary["remaining_orders"] = report.omitted_orders
    if report.omitted_returns:
        summary["remaining_returns"] = report.omitted_returns
    bound.info(
        "error report sent",
        site=report.site.name,
        orders=summary["orders"],
        problems=summary["errors"],
        returns=len(report.returns),
        return_problems=report.return_problem_count,
        recipients=len(report.site.notify_emails),
        report_id=row.id,
    )
    return summary
