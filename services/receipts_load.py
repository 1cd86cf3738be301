"""The ERP's receipts file: goods received against RMAs (issue 16), loaded as ``bobbin erp load
receipts FILE`` (CSV or .xlsx, read like every ERP file: ``services.erp_load``).

One row per receipt: the RMA's number, the line's number, the units received, and optionally a
reference (a dock slip, a receipt number). Each row becomes one ``rma_receipt`` (source
``erp_file``, its reference the row's or else the file's name) through ``services.rma.receive``,
which restocks the units and, once an RMA is received in full, asks Loop to process its return.

Unlike the master-data files, a receipts file loads whole or not at all: every row is checked
first (the RMA exists and is not void, the line is one of its lines, the quantity is a whole
number of at least 1, and the rows of one line together do not receive more than is still
expected), and one bad row means nothing is written, with every problem reported by its row.
The RMAs the file names are locked while it is checked and written, so a receipt recorded
meanwhile elsewhere cannot make the check stale. The caller commits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import InboundReturn, Rma, RmaLine, RmaReceipt, Site
from models.returns import rma_number
from services.erp_load import Column, LoadReport, RowProblem, RowReader, data_rows, open_sheet
from services.rma import ReturnFlowError, receive

RECEIPT_COLUMNS = (
    Column("rma", ("rma", "rma_number", "rma_no", "rma_num", "return_authorization"), True, header="RMA"),
    Column("line", ("line", "line_no", "line_number", "rma_line"), True),
    Column("quantity", ("quantity", "qty", "quantity_received", "qty_received", "received"), True),
    Column("reference", ("reference", "ref", "receipt", "receipt_no", "receipt_number"), False),
)
MAX_REFERENCE = 200  # longest reference kept (a dock slip, a receipt number)
MAX_UNITS = 1_000_000  # more units than any return holds: a typo, said so before any lookup
RMA_RE = re.compile(r"RMA\s*-?\s*(\d{1,12})", re.I)


@dataclass(frozen=True)
class Received:
    """One row written: a receipt of ``quantity`` units of an RMA's line."""

    row: int
    rma: str
    line_no: int
    sku: str
    quantity: int
    reference: str


@dataclass
class RmaOutcome:
    """What the file did to one RMA."""

    rma: str
    return_id: int
    site_id: int
    site: str
    units: int = 0
    complete: bool = False  # every line received in full
    process_queued: bool = False  # Loop is asked to process the return (the outbox sends it)


@dataclass
class ReceiptReport(LoadReport):
    """A receipts file's load: its rows, the receipts written (none when a row is bad) and what
    became of each RMA."""

    receipts: list[Received] = field(default_factory=list)
    rmas: list[RmaOutcome] = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(r.quantity for r in self.receipts)

    @property
    def process_sites(self) -> list[int]:
        """Sites whose outbox now holds a request to process a return."""
        return sorted({o.site_id for o in self.rmas if o.process_queued})

    def summary(self) -> str:
        if self.problems:
            return (
                f"receipts {self.path}: {self.rows_read} rows read, nothing loaded: "
                f"{len({p.row for p in self.problems})} rows with problems"
            )
        done = sum(1 for o in self.rmas if o.complete)
        return (
            f"receipts {self.path}: {self.rows_read} rows read, {len(self.receipts)} receipts of {self.units} units "
            f"on {len(self.rmas)} RMAs ({done} received in full)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.path,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "units": self.units,
            "receipts": [
                {
                    "row": r.row,
                    "rma": r.rma,
                    "line_no": r.line_no,
                    "sku": r.sku,
                    "quantity": r.quantity,
                    "reference": r.reference,
                }
                for r in self.receipts
            ],
            "rmas": [
                {
                    "rma": o.rma,
                    "return_id": o.return_id,
                    "site": o.site,
                    "units": o.units,
                    "complete": o.complete,
                    "process_queued": o.process_queued,
                }
                for o in self.rmas
            ],
            "problems": [
                {"row": p.row, "column": p.column, "value": p.value, "message": p.message} for p in self.problems
            ],
            "ignored_columns": self.ignored_columns,
        }


@dataclass
class _Rma:
    id: int
    number: str
    status: str
    return_id: int
    site_id: int
    site: str
    lines: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # line_no -> (sku, quantity, received)


@dataclass(frozen=True)
class _Row:
    row_no: int
    rma: str
    line_no: int
    quantity: int
    reference: str


def normalize_rma(text: str) -> str | None:
    """The RMA number a cell names, as the ERP numbers them: "RMA0000012", "rma12", "RMA-12"
    all read as RMA0000012. None when the cell is no RMA number."""
    m = RMA_RE.fullmatch(text.strip())
    return rma_number(int(m.group(1))) if m else None


def _units(r: RowReader, name: str, what: str) -> int | None:
    """A whole number of at least 1 from the row's ``name`` cell, else a problem."""
    text = r.get(name)
    if not text:
        r.problem(name, text, f"the {what} is empty.")
        return None
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        r.problem(name, text, f'the {what} "{text}" is not a whole number.')
        return None
    if number < 1:
        r.problem(name, text, f"the {what} is {text}: write a whole number of at least 1.")
        return None
    if number > MAX_UNITS:
        r.problem(name, text, f"the {what} {text} is too large (at most {MAX_UNITS:,}).")
        return None
    return int(number)


def _lookup(session: Session, numbers: set[str]) -> dict[str, _Rma]:
    """The RMAs of these numbers, locked (in id order) until the caller's transaction ends, with
    each line's quantity and what was received of it."""
    if not numbers:
        return {}
    locked = list(
        session.scalars(select(Rma).where(Rma.number.in_(sorted(numbers))).order_by(Rma.id).with_for_update())
    )
    found: dict[str, _Rma] = {}
    by_id: dict[int, _Rma] = {}
    sites = dict(
        session.execute(
            select(InboundReturn.id, Site.name)
            .join(Site, Site.id == InboundReturn.site_id)
            .where(InboundReturn.id.in_([r.inbound_return_id for r in locked]))
        ).all()
    )
    for rma in locked:
        info = _Rma(
            rma.id, rma.number, rma.status, rma.inbound_return_id, rma.site_id, sites.get(rma.inbound_return_id, "")
        )
        found[rma.number] = by_id[rma.id] = info
    if by_id:
        received = (
            select(RmaReceipt.rma_line_id, func.sum(RmaReceipt.quantity).label("units"))
            .group_by(RmaReceipt.rma_line_id)
            .subquery()
        )
        for rma_id, line_no, sku, quantity, units in session.execute(
            select(RmaLine.rma_id, RmaLine.line_no, RmaLine.sku, RmaLine.quantity, func.coalesce(received.c.units, 0))
            .outerjoin(received, received.c.rma_line_id == RmaLine.id)
            .where(RmaLine.rma_id.in_(list(by_id)))
        ):
            by_id[rma_id].lines[int(line_no)] = (sku, int(quantity), int(units))
    return found


def load_receipts(session: Session, path: Path | str) -> ReceiptReport:
    """Load the ERP's receipts file: every row checked first, then each row received (restocked;
    a complete RMA asks Loop to process its return), or nothing written when any row is bad.
    The caller commits."""
    sheet = open_sheet(path, "receipts", RECEIPT_COLUMNS)
    file_name = sheet.path.name
    report = ReceiptReport("receipts", str(path), ignored_columns=sheet.ignored)
    readers = list(data_rows(sheet, report))
    numbers = {n for n in (normalize_rma(r.get("rma")) for r in readers) if n}
    rmas = _lookup(session, numbers)

    rows: list[_Row] = []
    for r in readers:
        text = r.get("rma")
        number = normalize_rma(text) if text else None
        rma = rmas.get(number) if number else None
        if not text:
            r.problem("rma", text, "the RMA number is empty.")
        elif number is None:
            r.problem("rma", text, f'"{text}" is not an RMA number: write it as the ERP shows it (RMA0000012).')
        elif rma is None:
            r.problem("rma", text, f"unknown RMA {number}: no return has it; check the RMA number in the ERP export.")
        elif rma.status == "void":
            r.problem(
                "rma",
                text,
                f"{number} is void (its return was cancelled, closed or expired in Loop): nothing can be received "
                "against it; take the row out.",
            )
        line_no = _units(r, "line", "line number")
        if rma is not None and line_no is not None and line_no not in rma.lines:
            have = ", ".join(str(n) for n in sorted(rma.lines)) or "none"
            r.problem("line", r.get("line"), f"{rma.number} has no line {line_no} (its lines: {have}).")
        quantity = _units(r, "quantity", "quantity received")
        reference = r.get("reference")
        if len(reference) > MAX_REFERENCE:
            r.problem("reference", reference, f"the reference is longer than {MAX_REFERENCE} characters.")
        if r.problems:
            report.problems += r.problems
            continue
        assert rma is not None and line_no is not None and quantity is not None
        rows.append(_Row(r.row_no, rma.number, line_no, quantity, reference))

    # The rows of one line together: never more than the line still expects.
    by_line: dict[tuple[str, int], list[_Row]] = defaultdict(list)
    for row in rows:
        by_line[(row.rma, row.line_no)].append(row)
    quantity_col = sheet.header_of("quantity")
    for (number, line_no), line_rows in by_line.items():
        sku, ordered, received = rmas[number].lines[line_no]
        in_file = sum(row.quantity for row in line_rows)
        left = ordered - received
        if in_file <= left:
            continue
        if left <= 0:
            why = (
                f"{number} line {line_no} (SKU {sku}): all {ordered} units are received already; "
                "was this file loaded before?"
            )
        else:
            many = f" ({len(line_rows)} rows of it)" if len(line_rows) > 1 else ""
            why = (
                f"{number} line {line_no} (SKU {sku}): {in_file} units received in this file{many}, but only "
                f"{left} of its {ordered} are still expected ({received} received before)."
            )
        report.problems += [RowProblem(row.row_no, quantity_col, str(row.quantity), why) for row in line_rows]
    report.problems.sort(key=lambda p: p.row)
    if report.problems:
        return report
    if not rows:
        return report

    outcomes: dict[str, RmaOutcome] = {}
    try:
        with session.begin_nested():
            for row in rows:
                done = receive(
                    session,
                    row.rma,
                    {row.line_no: row.quantity},
                    source="erp_file",
                    reference=row.reference or file_name,
                )
                info = rmas[row.rma]
                outcome = outcomes.setdefault(row.rma, RmaOutcome(row.rma, info.return_id, info.site_id, info.site))
                for line_no, sku, quantity in done.received:
                    report.receipts.append(
                        Received(row.row_no, row.rma, line_no, sku, quantity, row.reference or file_name)
                    )
                    outcome.units += quantity
                outcome.complete = done.complete
                outcome.process_queued = outcome.process_queued or done.process_queued
    except ReturnFlowError as exc:  # the RMAs are locked and checked: only a change of the flow's rules gets here
        report.receipts.clear()
        report.problems.append(RowProblem(row.row_no, None, row.rma, f"{exc}; nothing was loaded."))
        return report
    report.rmas = list(outcomes.values())
    report.rows_loaded = len(rows)
    report.inserted = len(report.receipts)
    report.keys = set(outcomes)
    return report
