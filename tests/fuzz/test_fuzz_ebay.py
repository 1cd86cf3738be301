"""Fuzzing eBay sales: generated and mutated Fulfillment API orders through staging, validation and
the ERP import, and generated Seller Hub orders reports through the CSV reader and its import, on
the real Postgres (issue 17: "fuzzing of the order payloads like the others").

Given the demo brand's ERP and its eBay site as ``make run`` sets them up (``load_ebay_demo``: the
site creates customers from buyers and adds a differing ship-to), when a page of eBay orders
arrives -- orders as the sandbox builds them (``sandbox.ebay.server.build_order``: amounts that add
up, every buyer with an e-mail, paid) mutated at random (keys dropped, wrong types anywhere,
100k-character strings, NUL, lone surrogates, emoji, odd amounts and quantities, timestamps in
every shape, payment and cancel states of every kind and none, duplicate ids and sales records in
one page, deep nesting) and arbitrary JSON -- and is staged and validated as an import run does
(``stage_page`` then ``validate_and_import``), then (as ``test_fuzz_orders`` checks the others):

- nothing raises, and no import failure is swallowed into the log;
- each order is held once with the page's last payload for its id, and ends ``imported``,
  ``invalid`` or ``duplicate``; one already imported or rejected is left as it was;
- an order nobody mutated (paid, known SKUs, a buyer with an e-mail) is imported, with one freight
  amount (each line's shipping + handling), eBay's collected tax apart and a deposit of what the
  buyer paid less that tax -- read from the payload here, not by the mapper;
- an invalid or duplicate order has an open error row and no ERP order; an imported one has one
  ERP order whose lines are the payload's lines;
- validating again changes nothing; no ERP order is half-written.

And the Seller Hub report reader (``services.ebay_csv.read_report``): a report of arbitrary cells
under the report's header, or arbitrary bytes, never makes it raise anything but
``ReportRejected`` (whose problems name rows of the file), and what it reads maps without raising.
A sample report with cells mutated at random is imported whole or refused whole: refused, it
writes nothing; imported, every order of it is held and ends imported or with a problem row.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from bobbin import demo
from connectors.ebay.mapper import to_partner_order
from core.db import session_scope
from models import CustomerDeposit, InboundOrder, OrderError, SalesOrder, SalesOrderLine, Site
from sandbox.ebay import api as ec
from sandbox.ebay.demo import catalog_from_world
from sandbox.ebay.server import build_order
from services.ebay_csv import ReportRejected, import_orders_csv, read_report
from services.holding import pg_safe, raw_hash, stage_page
from tests.conftest import truncate_all
from tests.fuzz.test_fuzz_orders import (
    ANY_CHAR,
    FUZZ,
    JSON,
    ODD_DATES,
    ODD_NUMBERS,
    ODD_TEXT,
    ODD_VALUE,
    Recorder,
    check_no_partial_erp_order,
    huge_text,
)

pytestmark = pytest.mark.integration

EXAMPLES = 40  # hypothesis examples of the mutated-orders test; each stages one page
PAGE_MIN, PAGE_MAX = 10, 25
ARBITRARY_EXAMPLES = 20
CSV_EXAMPLES = 150  # reader only: no database, fast
CSV_IMPORT_EXAMPLES = 25  # each imports a report into the site
FROZEN = ("imported", "rejected")
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "ebay-orders.csv"

OF, LF, PayF, RF = ec.OrderField, ec.LineItemField, ec.PaymentField, ec.RefundField
QTY_KEYS = (LF.QUANTITY,)
AMOUNT_KEYS = (ec.AMOUNT_VALUE,)
DATE_KEYS = (OF.CREATION_DATE, OF.LAST_MODIFIED_DATE, PayF.PAYMENT_DATE)
STATE_VALUES: list[Any] = [
    *ec.PAYMENT_STATUSES,
    *ec.FULFILLMENT_STATUSES,
    *ec.CANCEL_STATES,
    "paid",
    "",
    None,
    7,
    ["PAID"],
    {"state": "PAID"},
]
KEY_FIELDS = (OF.ORDER_ID, OF.SALES_RECORD_REFERENCE, ec.BuyerField.USERNAME, ec.ContactField.EMAIL, LF.SKU)


# --- The world ----------------------------------------------------------------------------------


@dataclass(repr=False)
class Hub:
    site_id: int
    catalog: list[dict[str, Any]]
    log: Recorder
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(7_000_001))
    payloads: int = 0
    reports: int = 0
    states: Counter[str] = field(default_factory=Counter)
    untouched: set[str] = field(default_factory=set)

    def __repr__(self) -> str:
        return f"Hub(site={self.site_id}, payloads={self.payloads}, reports={self.reports})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@pytest.fixture(scope="module")
def hub(pg_url: str) -> Iterator[Hub]:
    """The demo ERP and the demo eBay site (``bobbin run``'s), loaded once for the module; the
    site's sandbox is never called (staging and validation need no partner)."""
    import services.pipeline
    from bobbin.demo_sites import load_ebay_demo

    truncate_all(pg_url)
    load_ebay_demo("http://127.0.0.1:9")
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id).where(Site.kind == "ebay")) or 0)
    saved, services.pipeline.log = services.pipeline.log, Recorder()
    try:
        yield Hub(site_id, catalog_from_world(demo.build_world()), services.pipeline.log)
    finally:
        services.pipeline.log = saved


# --- Mutating an order ----------------------------------------------------------------------------

OPS = (
    "drop",
    "set",
    "add",
    "wrap",
    "qty",
    "amount",
    "date",
    "state",
    "text",
    "huge",
    "dup_item",
    "clear_items",
    "items_wrong",
    "same_id",
    "same_po",
    "nest",
)
Mutation = tuple[str, int, Any]
MUTATION = st.tuples(st.sampled_from(OPS), st.integers(0, 2**31), ODD_VALUE)
ORDER_SPEC = st.tuples(st.integers(0, 4), st.lists(MUTATION, max_size=4))
Where = tuple[Any, ...]


def _paths(node: Any, path: Where = ()) -> Iterator[Where]:
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*path, i))


def _get(root: Any, path: Where) -> Any:
    for step in path:
        root = root[step]
    return root


def _set(root: Any, path: Where, value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _pick(paths: list[Where], n: int) -> Where | None:
    return paths[n % len(paths)] if paths else None


def mutate(order: Any, mutations: list[Mutation], page: list[Any]) -> Any:
    """Apply each mutation to the order (a JSON value); may replace the order itself."""
    for op, n, value in mutations:
        paths = list(_paths(order))
        keyed = [p for p in paths if p and isinstance(p[-1], str)]
        items = order.get(OF.LINE_ITEMS) if isinstance(order, dict) else None
        if op == "drop":
            p = _pick(keyed, n)
            if p is not None:
                del _get(order, p[:-1])[p[-1]]
        elif op == "set":
            p = _pick(paths, n)
            order = _set(order, p, value) if p is not None else order
        elif op == "add":
            containers = [p for p in paths if isinstance(_get(order, p), (dict, list))]
            p = _pick(containers, n)
            if p is not None:
                target = _get(order, p)
                if isinstance(target, dict):
                    target[f"x{n % 97}"] = value
                else:
                    target.append(value)
        elif op == "wrap":
            p = _pick(paths, n)
            if p is not None:
                old = _get(order, p)
                order = _set(order, p, [old] if n % 2 else {"value": old})
        elif op in ("qty", "amount", "date"):
            names = {"qty": QTY_KEYS, "amount": AMOUNT_KEYS, "date": DATE_KEYS}[op]
            pool = ODD_DATES if op == "date" else ODD_NUMBERS
            p = _pick([p for p in keyed if p[-1] in names], n)
            if p is not None:
                order = _set(order, p, pool[n % len(pool)] if n % 3 else value)
        elif op == "state":
            keys = (OF.ORDER_PAYMENT_STATUS, ec.CancelField.CANCEL_STATE, PayF.PAYMENT_STATUS, RF.REFUND_STATUS)
            p = _pick([p for p in keyed if p[-1] in keys], n)
            if p is not None:
                order = _set(order, p, STATE_VALUES[n % len(STATE_VALUES)])
        elif op == "text":
            p = _pick([p for p in keyed if isinstance(_get(order, p), str)], n)
            if p is not None:
                odd = ODD_TEXT[n % len(ODD_TEXT)]
                order = _set(order, p, [odd, odd + _get(order, p), _get(order, p) + odd][n % 3])
        elif op == "huge":
            targets = [p for p in keyed if type(_get(order, p)) in (str, int) and (p[-1] in KEY_FIELDS or n % 2)]
            p = _pick(targets, n)
            if p is not None:
                order = _set(order, p, huge_text(n))
        elif op == "dup_item" and isinstance(items, list) and items:
            items.append(copy.deepcopy(items[n % len(items)]))
        elif op == "clear_items" and isinstance(order, dict):
            order[OF.LINE_ITEMS] = []
        elif op == "items_wrong" and isinstance(order, dict):
            order[OF.LINE_ITEMS] = [value, "see attached PDF", None, {"lineItem": items}][n % 4]
        elif op in ("same_id", "same_po") and isinstance(order, dict) and page:
            other = page[n % len(page)]
            keys = (OF.ORDER_ID,) if op == "same_id" else (OF.SALES_RECORD_REFERENCE, OF.BUYER)
            if isinstance(other, dict):
                order.update({k: copy.deepcopy(other[k]) for k in keys if k in other})
        elif op == "nest":
            deep: Any = value
            for i in range(n % 60):
                deep = [deep] if i % 2 else {"n": deep}
            p = _pick(paths, n)
            order = _set(order, p, deep) if p is not None else order
    return order


def make_order(hub: Hub, lines: int) -> dict[str, Any]:
    number = next(hub.ids)
    digits = f"{number:012d}"
    rows = [hub.catalog[(number * 31 + k * 7) % len(hub.catalog)] for k in range(max(lines, 1))]
    username = f"buyer_{number % 13}"
    return build_order(
        f"{digits[:2]}-{digits[2:7]}-{digits[7:]}",
        lines=[
            {"sku": r["sku"], "title": r["title"], "price": r["price"], "quantity": 1 + k % 2}
            for k, r in enumerate(rows)
        ],
        created_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=number % 10_000),
        username=username,
        full_name=f"Buyer {number % 13}",
        sales_record=number,
        first_line_item_id=number * 10,
        handling="1.50" if number % 3 == 0 else "0.00",
        ebay_collects_tax=number % 4 != 0,
    )


def build_page(hub: Hub, specs: list[tuple[int, list[Mutation]]], extra: list[Any]) -> list[Any]:
    """Valid eBay orders, mutated, plus arbitrary JSON, as they arrive over the wire."""
    page: list[Any] = []
    pristine: dict[int, Any] = {}
    for lines, mutations in specs:
        order = make_order(hub, lines)
        if lines == 0:
            order[OF.LINE_ITEMS] = []
        elif not mutations:
            pristine[len(page)] = json.loads(json.dumps(order))
        page.append(mutate(order, mutations, page))
    page += extra
    hub.payloads += len(page)
    sent = [json.loads(json.dumps(p)) for p in page]  # through JSON, as the client reads it
    ids = Counter(str(p.get(OF.ORDER_ID)) for p in sent if isinstance(p, dict))
    hub.untouched |= {
        str(sent[i][OF.ORDER_ID])
        for i, original in pristine.items()
        if sent[i] == original and ids[str(sent[i][OF.ORDER_ID])] == 1
    }
    return sent


# --- What an order must be, read from its payload here ---------------------------------------------


def _value(amount: Any) -> Decimal:
    return Decimal(str(amount[ec.AMOUNT_VALUE]))


def expected_lines(raw: dict[str, Any]) -> list[tuple[int, Decimal, Decimal]]:
    """(position, quantity, unit price) of each line item: lineItemCost is unit price × quantity."""
    found = []
    for n, item in enumerate(raw[OF.LINE_ITEMS], start=1):
        quantity = Decimal(str(item[LF.QUANTITY]).strip())
        found.append((n, quantity, _value(item[LF.LINE_ITEM_COST]) / quantity))
    return found


def expected_money(raw: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """(freight, eBay-collected tax, deposit) of a generated order: each line's shipping and
    handling; the tax eBay collects; what the buyer paid less that tax and any refund."""
    freight = tax = Decimal(0)
    for item in raw[OF.LINE_ITEMS]:
        delivery = item.get(LF.DELIVERY_COST) or {}
        freight += sum((_value(delivery[k]) for k in (ec.SHIPPING_COST, ec.HANDLING_COST) if k in delivery), Decimal(0))
        tax += sum((_value(t[PayF.AMOUNT]) for t in item.get(LF.EBAY_COLLECT_AND_REMIT_TAXES) or []), Decimal(0))
    summary = raw[OF.PAYMENT_SUMMARY]
    paid = sum(
        (_value(p[PayF.AMOUNT]) for p in summary[PayF.PAYMENTS] if p[PayF.PAYMENT_STATUS] == ec.PAYMENT_PAID),
        Decimal(0),
    )
    refunded = sum((_value(r[RF.AMOUNT]) for r in summary.get(PayF.REFUNDS) or []), Decimal(0))
    return freight, tax, paid - tax - refunded


# --- The property -------------------------------------------------------------------------------


def _state_of(s: Any, site_id: int, pids: list[str]) -> dict[str, tuple[int, str, str]]:
    rows = s.execute(
        select(InboundOrder.partner_order_id, InboundOrder.id, InboundOrder.state, InboundOrder.raw_hash).where(
            InboundOrder.site_id == site_id, InboundOrder.partner_order_id.in_(pids)
        )
    )
    return {r.partner_order_id: (r.id, r.state, r.raw_hash) for r in rows}


def _error_rows(s: Any, ids: list[int]) -> int:
    return s.scalar(select(func.count()).select_from(OrderError).where(OrderError.order_id.in_(ids))) or 0


def check_page(hub: Hub, raws: list[Any]) -> None:
    from services.pipeline import validate_and_import

    site_id = hub.site_id
    orders = [to_partner_order(raw) for raw in raws]
    last = {pg_safe(o.partner_order_id): o for o in orders}
    pids = list(last)
    with session_scope() as s:
        before = _state_of(s, site_id, pids)
    failures_before = len(hub.log.failures())

    # when: staged as one page, then validated and imported as the import task does
    with session_scope() as s:
        staged = stage_page(s, site_id, orders)
    validate_and_import(site_id)

    # then
    assert staged.seen == len(pids)
    assert hub.log.failures()[failures_before:] == [], "an import failure was swallowed"
    with session_scope() as s:
        after = _state_of(s, site_id, pids)
        assert set(after) == set(pids), "an order of the page is not held"
        ids = [oid for oid, _, _ in after.values()]
        checked: dict[int, str] = {}
        for pid, (oid, state, digest) in after.items():
            if pid in before and before[pid][1] in FROZEN:
                assert (state, digest) == before[pid][1:], f"{state} order {oid} was changed"
                continue
            assert digest == raw_hash(last[pid].raw), f"order {oid} does not hold the page's last payload"
            assert state in ("imported", "invalid", "duplicate"), f"order {oid} ended {state}"
            if pid in hub.untouched and pid not in before:
                codes = sorted(
                    set(
                        s.scalars(
                            select(OrderError.code).where(
                                OrderError.order_id == oid,
                                OrderError.severity == "error",
                                OrderError.resolved_at.is_(None),
                            )
                        )
                    )
                )
                assert state == "imported" or (state == "duplicate" and codes == ["duplicate_po"]), (
                    f"eBay order {oid} was generated valid and left untouched, yet ended {state}: {codes}"
                )
                if state == "imported":
                    check_money(s, oid, last[pid].raw)
            hub.states[state] += 1
            checked[oid] = state
        check_orders(s, checked)
        errors = _error_rows(s, ids)
        states = {pid: v[1] for pid, v in after.items()}
        sales_orders = s.scalar(select(func.count()).select_from(SalesOrder)) or 0

    # when validated again, then nothing changes
    validate_and_import(site_id)
    with session_scope() as s:
        assert _error_rows(s, ids) == errors, "validating again added error rows"
        assert {pid: v[1] for pid, v in _state_of(s, site_id, pids).items()} == states
        assert (s.scalar(select(func.count()).select_from(SalesOrder)) or 0) == sales_orders
        check_no_partial_erp_order(s)
        retire(s, ids)


def retire(s: Any, ids: list[int]) -> None:
    """What is still open is set rejected, as a person would: later examples stay fast."""
    s.execute(
        update(InboundOrder)
        .where(InboundOrder.id.in_(ids), InboundOrder.state.in_(("invalid", "duplicate", "valid", "downloaded")))
        .values(state="rejected")
    )


def check_money(s: Any, order_id: int, raw: dict[str, Any]) -> None:
    freight, tax, deposit = expected_money(raw)
    so = s.scalar(select(SalesOrder).where(SalesOrder.inbound_order_id == order_id))
    assert so.freight == freight, f"order {order_id}: freight {so.freight}, the payload says {freight}"
    assert (so.marketplace_tax or Decimal(0)) == tax, f"order {order_id}: eBay tax {so.marketplace_tax} != {tax}"
    held = s.scalar(select(CustomerDeposit.amount).where(CustomerDeposit.sales_order_id == so.id))
    assert held == deposit, f"order {order_id}: deposit {held}, the buyer paid {deposit} (eBay's tax left out)"


def check_orders(s: Any, states: dict[int, str]) -> None:
    """Each order's error rows and ERP order, as its state says they must be."""
    ids = list(states)
    blocking: dict[int, set[str]] = defaultdict(set)
    for oid, code in s.execute(
        select(OrderError.order_id, OrderError.code).where(
            OrderError.order_id.in_(ids), OrderError.resolved_at.is_(None), OrderError.severity == "error"
        )
    ):
        blocking[oid].add(code)
    sales = {
        so.inbound_order_id: so for so in s.scalars(select(SalesOrder).where(SalesOrder.inbound_order_id.in_(ids)))
    }
    lines: dict[int, list[Any]] = defaultdict(list)
    for row in s.execute(
        select(SalesOrderLine.sales_order_id, SalesOrderLine.line_no, SalesOrderLine.quantity, SalesOrderLine.price)
        .where(SalesOrderLine.sales_order_id.in_([so.id for so in sales.values()]))
        .order_by(SalesOrderLine.sales_order_id, SalesOrderLine.line_no)
    ):
        lines[row.sales_order_id].append(row)
    inbound = {o.id: o for o in s.scalars(select(InboundOrder).where(InboundOrder.id.in_(ids)))}
    for oid, state in states.items():
        if state != "imported":
            assert blocking[oid], f"{state} order {oid} has no error row"
            assert oid not in sales, f"{state} order {oid} has an ERP sales order"
            continue
        assert not blocking[oid], f"imported order {oid} has open errors {blocking[oid]}"
        so = sales[oid]
        want = expected_lines(inbound[oid].raw)  # from the payload the test generated, not by the mapper
        written = lines[so.id]
        assert [ln.line_no for ln in written] == [n for n, _, _ in want], f"order {oid}: not its lines"
        for row, (_, quantity, price) in zip(written, want, strict=True):
            assert row.quantity == quantity and row.quantity >= 1, f"order {oid}: quantity {quantity} as {row.quantity}"
            assert row.price == price and row.price >= 0, f"order {oid}: price {price} stored as {row.price}"
        assert so.total == sum((r.quantity * r.price for r in written), Decimal(0))


@settings(FUZZ, max_examples=EXAMPLES)
@given(specs=st.lists(ORDER_SPEC, min_size=PAGE_MIN, max_size=PAGE_MAX), garbage=st.lists(JSON, max_size=3))
def test_mutated_ebay_orders_end_valid_or_with_error_rows(hub: Hub, specs: list[Any], garbage: list[Any]) -> None:
    check_page(hub, build_page(hub, specs, garbage))


def test_freight_beyond_the_erp_is_a_problem_row_not_a_failed_import(hub: Hub) -> None:
    order = make_order(hub, 1)
    order[OF.LINE_ITEMS][0][LF.DELIVERY_COST][ec.SHIPPING_COST][ec.AMOUNT_VALUE] = "1" + "0" * 12
    try:
        check_page(hub, [json.loads(json.dumps(order))])
    finally:
        with session_scope() as s:  # whatever happened, later tests do not meet it again
            retire(
                s, list(s.scalars(select(InboundOrder.id).where(InboundOrder.partner_order_id == order[OF.ORDER_ID])))
            )


@settings(FUZZ, max_examples=ARBITRARY_EXAMPLES)
@given(
    pages=st.lists(
        JSON
        | st.dictionaries(
            st.sampled_from([OF.ORDER_ID, OF.LINE_ITEMS, OF.BUYER, OF.PRICING_SUMMARY, OF.PAYMENT_SUMMARY]),
            JSON,
            max_size=5,
        ),
        min_size=1,
        max_size=PAGE_MAX,
    )
)
def test_arbitrary_json_never_breaks_the_ebay_pipeline(hub: Hub, pages: list[Any]) -> None:
    check_page(hub, build_page(hub, [], pages))


def test_known_nasty_ebay_payloads(hub: Hub) -> None:
    """Plain examples of what the fuzzing aims at, kept as regressions."""
    orders = [make_order(hub, 2) for _ in range(7)]
    orders[0][OF.LINE_ITEMS][0][LF.QUANTITY] = float("inf")
    orders[1][OF.ORDER_ID] = huge_text(2)
    orders[2][OF.BUYER][ec.BuyerField.USERNAME] = huge_text(1)  # a customer key no index can hold
    orders[3][OF.LINE_ITEMS][0][LF.LINE_ITEM_COST][ec.AMOUNT_VALUE] = "10.005"  # fractions of a cent
    orders[4][OF.PAYMENT_SUMMARY][PayF.PAYMENTS][0][PayF.AMOUNT][ec.AMOUNT_CURRENCY] = "EUR"  # mixed currencies
    orders[5][OF.SALES_RECORD_REFERENCE] = "PO\x00" + huge_text(1)
    orders[6][OF.FULFILLMENT_START_INSTRUCTIONS] = [{"shippingStep": {"shipTo": "\ud800"}}]
    check_page(hub, [json.loads(json.dumps(o)) for o in orders])


# --- The Seller Hub report ------------------------------------------------------------------------

HEADER = (
    "Sales Record Number",
    "Order Number",
    "Buyer Username",
    "Buyer Name",
    "Buyer Email",
    "Ship To Name",
    "Ship To Address 1",
    "Ship To City",
    "Ship To Zip",
    "Ship To Country",
    "Item Number",
    "Custom Label",
    "Quantity",
    "Sold For",
    "Shipping And Handling",
    "eBay Collected Tax",
    "Total Price",
    "Sale Date",
    "Paid On Date",
)
CELL = (
    st.sampled_from(ODD_TEXT)
    | st.sampled_from([str(v) for v in ODD_NUMBERS])
    | st.sampled_from([str(v) for v in ODD_DATES])
    | st.sampled_from(["$24.99", "US $1,024.50", "£3", "12,50 €", "1", "2", "14-12345-00101", "1LP4S", "Nov-30-26"])
    | st.text(ANY_CHAR, max_size=20)
)
ROW = st.lists(CELL, min_size=0, max_size=len(HEADER) + 2)


def write_cells(path: Path, rows: list[list[str]], preamble: list[list[str]]) -> Path:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for r in preamble:
        w.writerow(r)
    w.writerow(HEADER)
    for r in rows:
        w.writerow(r)
    path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
    return path


def check_read(path: Path, records: int) -> None:
    """The reader answers a report or a refusal naming rows of the file; what it reads maps."""
    try:
        report = read_report(path)
    except ReportRejected as exc:
        assert str(exc).strip()
        for p in exc.problems:
            assert 1 <= p.row <= records, f"problem on row {p.row} of a {records}-row file"
            assert p.message.strip()
        return
    assert report.orders
    for o in report.orders:
        mapped = to_partner_order(o.payload)
        assert mapped.partner_order_id == o.order_number
        assert len(mapped.lines) == len(o.payload[OF.LINE_ITEMS]) >= 1
        assert all(1 <= r <= records for r in o.rows)


@settings(FUZZ, max_examples=CSV_EXAMPLES)
@given(rows=st.lists(ROW, max_size=12), preamble=st.lists(ROW, max_size=2))
def test_a_report_of_arbitrary_cells_is_read_or_refused(
    tmp_path: Path, rows: list[list[str]], preamble: list[list[str]]
) -> None:
    path = write_cells(tmp_path / "cells.csv", rows, preamble)
    check_read(path, len(preamble) + 1 + len(rows) + 2)  # (+2: a cell with a line break spans lines, not records)


@settings(FUZZ, max_examples=CSV_EXAMPLES)
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_are_read_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bytes.csv"
    path.write_bytes(data)
    check_read(path, data.count(b"\n") + data.count(b"\r") + 2)


def sample_rows() -> tuple[list[list[str]], int]:
    """The sample report's records, and the index of its header row."""
    records = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8-sig"))))
    return records, next(i for i, r in enumerate(records) if "Order Number" in r)


@settings(FUZZ, max_examples=CSV_IMPORT_EXAMPLES)
@given(edits=st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 2**31), CELL), max_size=4))
def test_a_mutated_report_is_imported_whole_or_refused_whole(hub: Hub, tmp_path: Path, edits: list[Any]) -> None:
    # given the sample report under fresh order numbers, with a few cells replaced by odd values
    records, at = sample_rows()
    header = records[at]
    number_col, record_col = header.index("Order Number"), header.index("Sales Record Number")
    serial = next(hub.ids)
    prefix = f"{serial % 100:02d}-{serial // 100 % 100000:05d}-"
    for r in records[at + 1 :]:
        if len(r) > number_col and r[number_col]:
            r[number_col] = prefix + r[number_col].rsplit("-", 1)[-1]
            r[record_col] = f"{serial}{r[record_col]}"  # a sales record of its own: no duplicate PO
    data_rows = [i for i in range(at + 1, len(records)) if len(records[i]) == len(header)]
    for row_pick, col_pick, value in edits:
        row = records[data_rows[row_pick % len(data_rows)]]
        row[col_pick % len(row)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    path = tmp_path / "mutated.csv"
    path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
    hub.reports += 1
    with session_scope() as s:
        before = {
            m.__name__: s.scalar(select(func.count()).select_from(m)) for m in (InboundOrder, SalesOrder, OrderError)
        }

    # when it is imported
    try:
        summary = import_orders_csv(hub.site_id, path)
    except ReportRejected as exc:
        # then refused: nothing written, and each problem names a row of the file
        assert all(1 <= p.row <= len(records) for p in exc.problems)
        with session_scope() as s:
            assert {
                m.__name__: s.scalar(select(func.count()).select_from(m))
                for m in (InboundOrder, SalesOrder, OrderError)
            } == before
        hub.states["report refused"] += 1
        return

    # then imported: each order of it held once, imported or with an open problem row
    numbers = [o["order_number"] for o in summary["order_outcomes"]]
    assert summary["orders"] == len(numbers) == len(set(numbers))
    with session_scope() as s:
        held = _state_of(s, hub.site_id, [pg_safe(n) for n in numbers])
        assert len(held) == len(numbers), "an order of the report is not held"
        check_orders(s, {oid: state for oid, state, _ in held.values() if state not in FROZEN or state == "imported"})
        check_no_partial_erp_order(s)
        retire(s, [oid for oid, _, _ in held.values()])
    hub.states["report imported"] += 1


def test_payload_count(hub: Hub) -> None:
    """Runs last in the module: says how much went through (shown with -s / -rP)."""
    print(f"fuzzed {hub.payloads} eBay payloads and {hub.reports} reports: {dict(hub.states)}")
    assert hub.payloads >= 300 or EXAMPLES < 20
