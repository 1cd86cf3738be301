"""eBay's Seller Hub orders report (CSV) through the same path as the sales read over REST:
``bobbin ebay import-csv SITE FILE`` for sellers who download the report instead of granting
Bobbin API access, and for sales the API missed.

Each order of the report becomes an eBay Fulfillment API order (``connectors.ebay.contract``'s
field names) with the report's *Order Number* as its ``orderId``; ``connectors.ebay.mapper`` maps
it, and it is staged, validated and imported exactly as the REST sales are
(``services.holding.stage_page``, ``services.pipeline.validate_and_import_staged``): the buyer
matched to an ERP customer by e-mail or created, a differing ship-to added as an address, one
freight amount (shipping and handling), a deposit for what the buyer paid, eBay-collected tax kept
apart, unpaid orders held. The holding area is unique on (site, partner order id), and the
report's Order Number is the API's orderId ([DOC] developer.ebay.com Trading API OrderIDType:
since June 2019 one order id format for every order, "known and used/referenced by the buyer and
eBay customer support"; [INF] that Seller Hub's Order Number column is that id), so a sale read by
both is one order: one the API brought is left as the API brought it (its payload is the richer
one), one a report brought is replaced by a later report or by the API. [DOC, same page] the id
of an order not paid at once changes when it is paid: an unpaid order held from one report and
the same sale paid in a later one are two held orders (the first stays held "not paid"; reject it).

The report's layout (partners/README.md section 5.2; header names exact [CODE]
randomecho/shifted-sales-report). What the layout around the header is, is [INF] (no document):
- the header row is the first row holding "Order Number" (and the other required columns); lines
  before it (a blank line, a title) are skipped;
- blank rows are skipped; the summary lines Seller Hub writes after the data ("3 record(s)
  downloaded, from … to …", "Seller ID: …") are skipped;
- an order is the rows sharing an Order Number. A multi-item order has a row without item cells
  (no Item Number, Custom Label, Quantity or Sold For: the order's own row, carrying the buyer,
  the ship-to, the shipping and the total) and a row per item; a single-item order is one row;
- "Sold For" is the item's unit price (the report's buyers pay Quantity × Sold For per item);
- amounts are written with their currency's sign ("$24.99", "US $24.99", "£12.00", "€12,50");
  a plain number is in the site's marketplace currency;
- "Shipping And Handling", "eBay Collected Tax" and "Total Price" are the order's on its own row
  when it has one, else each item row's, added up;
- "Total Price" includes the tax eBay collects unless "eBay Collected Tax and Fees Included in
  Total" says No; the buyer paid it once "Paid On Date" is filled (blank: not paid yet, held);
- the report has no cancellation column: a cancelled order should be left out of the file.

A report with a bad row is refused whole, nothing staged, every bad row named (row number as a
spreadsheet shows it, column, value, what to do) — as ``services.receipts_load`` refuses a
receipts file. Skipping only the bad row would drop an item from an order that is then imported
without it, and an imported order is never touched again; skipping the row's whole order is not
possible when the row has no order number to tell which order it belongs to. A corrected file is
simply imported again: what was held is recognised. Problems that are no fault of the file (a SKU
the ERP does not know, a buyer without an e-mail) are the order's problem rows, as for REST, and
the rest of the file goes through.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import structlog
from sqlalchemy import select

from connectors.ebay import contract as c
from connectors.ebay.mapper import to_partner_order
from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from models import InboundOrder, OrderError, SalesOrder
from services import masterdata
from services.erp_load import MAX_PRICE, MAX_VALUE_CHARS, MAX_WHOLE, LoadError, RowProblem
from services.holding import stage_page
from services.outbox import queue_exported
from services.pipeline import SUMMARY_KEYS, validate_and_import, validate_and_import_staged
from services.runs import recorded_run
from services.sites import SiteError, open_site

log = structlog.get_logger()

TASK: Final = "ebay_import_csv"  # the sync run's task (not an "import_orders" run: see import_orders_csv)
LOCK_TASK: Final = "import_orders"  # the site's import lock, shared with the REST import
# Orders staged, validated and imported per batch: a batch is one validation transaction, as a
# REST page is (contract.REQUESTED_LIMIT); a report of a month's sales is a few hundred orders.
STAGE_BATCH: Final = 100
MAX_BAD_ROWS_IN_MESSAGE: Final = 5  # rows named in the one-line error; ``ReportRejected.problems`` has all
# Where the payload came from, kept in it (the mapper ignores the key): an order held from the API
# (no such key) is left as the API brought it.
SOURCE_KEY: Final = "bobbinSource"
SOURCE: Final = "eBay Seller Hub orders report"


class Col:
    """The Seller Hub order report's header names [CODE] (partners/README.md section 5.2)."""

    SALES_RECORD_NUMBER: Final = "Sales Record Number"
    ORDER_NUMBER: Final = "Order Number"
    BUYER_USERNAME: Final = "Buyer Username"
    BUYER_NAME: Final = "Buyer Name"
    BUYER_EMAIL: Final = "Buyer Email"
    BUYER_NOTE: Final = "Buyer Note"
    BUYER_ADDRESS_1: Final = "Buyer Address 1"
    BUYER_ADDRESS_2: Final = "Buyer Address 2"
    BUYER_CITY: Final = "Buyer City"
    BUYER_STATE: Final = "Buyer State"
    BUYER_ZIP: Final = "Buyer Zip"
    BUYER_COUNTRY: Final = "Buyer Country"
    SHIP_TO_NAME: Final = "Ship To Name"
    SHIP_TO_PHONE: Final = "Ship To Phone"
    SHIP_TO_ADDRESS_1: Final = "Ship To Address 1"
    SHIP_TO_ADDRESS_2: Final = "Ship To Address 2"
    SHIP_TO_CITY: Final = "Ship To City"
    SHIP_TO_STATE: Final = "Ship To State"
    SHIP_TO_ZIP: Final = "Ship To Zip"
    SHIP_TO_COUNTRY: Final = "Ship To Country"
    ITEM_NUMBER: Final = "Item Number"
    ITEM_TITLE: Final = "Item Title"
    CUSTOM_LABEL: Final = "Custom Label"  # the seller's SKU: the ERP's
    QUANTITY: Final = "Quantity"
    SOLD_FOR: Final = "Sold For"
    SHIPPING_AND_HANDLING: Final = "Shipping And Handling"
    SELLER_COLLECTED_TAX: Final = "Seller Collected Tax"
    EBAY_COLLECTED_TAX: Final = "eBay Collected Tax"
    TOTAL_PRICE: Final = "Total Price"
    TAX_INCLUDED_IN_TOTAL: Final = "eBay Collected Tax and Fees Included in Total"
    PAYMENT_METHOD: Final = "Payment Method"
    SALE_DATE: Final = "Sale Date"
    PAID_ON_DATE: Final = "Paid On Date"
    SHIPPED_ON_DATE: Final = "Shipped On Date"
    SHIPPING_SERVICE: Final = "Shipping Service"
    TRACKING_NUMBER: Final = "Tracking Number"
    TRANSACTION_ID: Final = "Transaction ID"
    VARIATION_DETAILS: Final = "Variation Details"


# The columns without which the report cannot be read as orders.
REQUIRED: Final = (Col.ORDER_NUMBER, Col.BUYER_EMAIL, Col.CUSTOM_LABEL, Col.QUANTITY, Col.SOLD_FOR)
READ: Final = tuple(v for k, v in vars(Col).items() if k.isupper())
ITEM_CELLS: Final = (Col.ITEM_NUMBER, Col.CUSTOM_LABEL, Col.QUANTITY, Col.SOLD_FOR)
AMOUNT_COLUMNS: Final = (
    Col.SOLD_FOR,
    Col.SHIPPING_AND_HANDLING,
    Col.SELLER_COLLECTED_TAX,
    Col.EBAY_COLLECTED_TAX,
    Col.TOTAL_PRICE,
)
DATE_COLUMNS: Final = (Col.SALE_DATE, Col.PAID_ON_DATE, Col.SHIPPED_ON_DATE)
# [INF] Seller Hub's closing lines.
SUMMARY_LINE = re.compile(r"^\s*(\d[\d,]*\s+record\(s\)\s+downloaded|seller\s+id\b)", re.IGNORECASE)

# [INF recalled, PaymentMethodTypeEnum] what the report's "Payment Method" text becomes: eBay's
# managed payments (what every buyer pays through today) is EBAY, the site's terms mapping's key.
PAYMENT_EBAY, PAYMENT_PAYPAL, PAYMENT_CARD = "EBAY", "PAYPAL", "CREDIT_CARD"
# [INF] a marketplace's currency: what a plain amount, or a bare "$", is in.
MARKETPLACE_CURRENCY: Final = {
    "EBAY_US": "USD",
    "EBAY_MOTORS_US": "USD",
    "EBAY_CA": "CAD",
    "EBAY_AU": "AUD",
    "EBAY_GB": "GBP",
    "EBAY_DE": "EUR",
    "EBAY_FR": "EUR",
    "EBAY_IT": "EUR",
    "EBAY_ES": "EUR",
    "EBAY_IE": "EUR",
    "EBAY_AT": "EUR",
    "EBAY_NL": "EUR",
    "EBAY_BE": "EUR",
}
# [INF] how eBay writes a currency before an amount ("US $24.99", "C $5.00", "£3.10").
CURRENCY_SIGNS: Final = {
    "US $": "USD",
    "C $": "CAD",
    "CA $": "CAD",
    "AU $": "AUD",
    "A $": "AUD",
    "£": "GBP",
    "€": "EUR",
}
DOLLARS: Final = ("USD", "CAD", "AUD")
ISO_CURRENCY = re.compile(r"^[A-Z]{3}$")
MONEY_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$")
DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
# [INF] the report writes dates as Nov-30-26 (Seller Hub) or in ISO; the others are what a
# spreadsheet makes of them when the file was opened and saved again.
DATE_FORMATS: Final = ("%b-%d-%y", "%b-%d-%Y", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y", "%b %d, %Y", "%d-%b-%y")
# [INF] country names as the report may write them -> ISO codes (eBay's countryCode); two letters pass.
COUNTRIES: Final = {
    "united states": "US",
    "usa": "US",
    "canada": "CA",
    "united kingdom": "GB",
    "great britain": "GB",
    "australia": "AU",
    "germany": "DE",
    "france": "FR",
    "italy": "IT",
    "spain": "ES",
    "ireland": "IE",
    "netherlands": "NL",
    "mexico": "MX",
    "japan": "JP",
}


class ReportRejected(LoadError):
    """The report cannot be imported: it cannot be read as a Seller Hub orders report, or rows of
    it are bad (``problems``, each with its row). Nothing of it was staged."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass
class ReportOrder:
    """One order of the report: its number, the rows it was read from, and the Fulfillment API order made of them."""

    order_number: str
    rows: list[int]
    payload: dict[str, Any]


@dataclass
class Report:
    path: Path
    header_row: int = 0
    rows_read: int = 0  # data rows (blank and summary lines not counted)
    orders: list[ReportOrder] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


# --- Reading the file -----------------------------------------------------------------------------


def _norm_header(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split()).casefold()


_KNOWN = {_norm_header(name): name for name in READ}


def _records(path: Path) -> list[tuple[int, list[str]]]:
    """Every CSV record of the file with its row number (as a spreadsheet numbers it)."""
    if not path.is_file():
        raise ReportRejected(f"cannot read {path}: no such file" if not path.exists() else f"{path} is not a file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportRejected(
            f"{path.name} is not UTF-8 text (byte {exc.start}): download the orders report from Seller Hub "
            'again, or save it from Excel as "CSV UTF-8".'
        ) from None
    if "\x00" in text:
        raise ReportRejected(f"{path.name} is not a CSV file (it holds binary data).")
    header_line = next((ln for ln in text.splitlines() if "order number" in ln.casefold()), "")
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    row_no = 0
    try:
        for row_no, record in enumerate(reader, start=1):
            records.append((row_no, record))
    except csv.Error as exc:
        raise ReportRejected(f"{path.name} cannot be read as CSV after row {row_no}: {exc}.") from None
    return records


def _header(path: Path, records: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int], list[str]]:
    """(row number of the header, column -> cell index, headers not read)."""
    for row_no, cells in records:
        names = [_norm_header(cell) for cell in cells]
        if _norm_header(Col.ORDER_NUMBER) not in names:
            continue
        columns: dict[str, int] = {}
        ignored: list[str] = []
        for idx, key in enumerate(names):
            name = _KNOWN.get(key)
            if name is None:
                if key:
                    ignored.append(cells[idx].strip())
                continue
            if name in columns:
                raise ReportRejected(f'{path.name} has two "{name}" columns (row {row_no}); keep one.')
            columns[name] = idx
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise ReportRejected(
                f"{path.name} has no {', '.join(repr(m) for m in missing)} column{'s' if len(missing) > 1 else ''} "
                f"in its header (row {row_no}): it is not a Seller Hub orders report, or columns were removed. "
                "Download the orders report from Seller Hub again and import that file."
            )
        return row_no, columns, ignored
    raise ReportRejected(
        f'{path.name} has no header row with an "Order Number" column: it is not an eBay Seller Hub orders report. '
        "Download the orders report from Seller Hub again and import that file."
    )


class _Row:
    """The text of one row's cells, by column name, and the problems found in it."""

    def __init__(self, row_no: int, cells: list[str], columns: dict[str, int], problems: list[RowProblem]) -> None:
        self.row_no, self.cells, self.columns, self.problems = row_no, cells, columns, problems

    def get(self, name: str) -> str:
        idx = self.columns.get(name)
        if idx is None or idx >= len(self.cells):
            return ""
        return self.cells[idx].strip()

    def problem(self, column: str | None, value: str | None, message: str) -> None:
        if value is not None and len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + "…"
        self.problems.append(RowProblem(self.row_no, column, value, message))

    def is_item(self) -> bool:
        return any(self.get(name) for name in ITEM_CELLS)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


def parse_money(text: str, default_currency: str) -> Money | None:
    """ "$24.99", "US $1,024.50", "£3.10", "12,50 €", "EUR 12.50", "24.99" → Money; None when it is
    not an amount. A bare "$" is the marketplace's dollar (US dollars elsewhere)."""
    value = " ".join(text.split())
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    if value.startswith("-"):
        negative, value = True, value[1:].strip()
    currency: str | None = None
    for sign, code in CURRENCY_SIGNS.items():  # longest signs first ("US $" before "$")
        if value.startswith(sign):
            currency, value = code, value[len(sign) :].strip()
            break
        if value.endswith(sign.strip()) and sign.strip() in ("£", "€"):
            currency, value = code, value[: -len(sign.strip())].strip()
            break
    if currency is None and value.startswith("$"):
        currency, value = (default_currency if default_currency in DOLLARS else "USD"), value[1:].strip()
    if currency is None:
        head, _, tail = value.partition(" ")
        if ISO_CURRENCY.match(head) and tail:
            currency, value = head, tail.strip()
        elif " " in value and ISO_CURRENCY.match(value.rsplit(" ", 1)[1]):
            value, currency = value.rsplit(" ", 1)
    if value.startswith("-"):
        negative, value = True, value[1:].strip()
    if DECIMAL_COMMA.match(value):
        value = value.replace(",", ".")
    if not MONEY_NUMBER.match(value):
        return None
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:  # (the pattern lets only numbers through)
        return None
    return Money(-amount if negative else amount, currency or default_currency)


def parse_day(text: str) -> date | None:
    """A report date (see DATE_FORMATS), with or without a time and zone after it; None if it is not one."""
    value = " ".join(text.split())
    words = value.split(" ")
    # The whole text, then its date part: "Nov-30-26 18:02:44 PST" -> "Nov-30-26", "Nov 30, 2026 6:02 PM" -> "Nov 30, 2026".
    for candidate in dict.fromkeys((value, words[0], " ".join(words[:3]))):
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
        try:
            return datetime.fromisoformat(candidate.replace("Z", "+00:00")).date()
        except ValueError:
            continue
    return None


def _money_cell(r: _Row, name: str, default_currency: str) -> Money | None:
    text = r.get(name)
    if not text:
        return None
    money = parse_money(text, default_currency)
    if money is None:
        r.problem(name, text, f'"{text}" is not an amount: write it as the report does, e.g. $24.99.')
    elif money.amount < 0:
        r.problem(name, text, f"{name} {text} is negative: an order's amounts are never below zero.")
    elif money.amount > MAX_PRICE:
        r.problem(name, text, f"{name} {text} is more than the ERP can hold (at most {MAX_PRICE:,}).")
    else:
        return money
    return None


def _date_cell(r: _Row, name: str) -> date | None:
    text = r.get(name)
    if not text:
        return None
    day = parse_day(text)
    if day is None:
        r.problem(name, text, f'"{text}" is not a date: write it as the report does (Nov-30-26) or as 2026-11-30.')
    return day


def _quantity_cell(r: _Row) -> int | None:
    text = r.get(Col.QUANTITY)
    if not text:
        r.problem(Col.QUANTITY, text, "the item's Quantity is empty: give the number of units sold.")
        return None
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        r.problem(Col.QUANTITY, text, f'Quantity "{text}" is not a whole number of units.')
        return None
    if number < 1:
        r.problem(Col.QUANTITY, text, f"Quantity {text} is less than 1: an item sold is at least one unit.")
        return None
    if number > MAX_WHOLE:
        r.problem(Col.QUANTITY, text, f'Quantity "{text}" is too large (at most {MAX_WHOLE:,}).')
        return None
    return int(number)


def read_report(path: Path | str, *, marketplace_id: str = c.DEFAULT_MARKETPLACE) -> Report:
    """Read a Seller Hub orders report into Fulfillment API orders. Raises :class:`ReportRejected`
    when it cannot be read, or when any row is bad (every bad row in ``problems``). Writes nothing."""
    path = Path(path)
    currency = MARKETPLACE_CURRENCY.get(marketplace_id, "USD")
    records = _records(path)
    header_row, columns, ignored = _header(path, records)
    report = Report(path, header_row=header_row, ignored_columns=ignored)
    problems: list[RowProblem] = []
    grouped: dict[str, list[_Row]] = {}
    for row_no, cells in records:
        if row_no <= header_row or not any(cell.strip() for cell in cells):
            continue
        if SUMMARY_LINE.match(cells[0]) and not any(cell.strip() for cell in cells[2:]):
            continue
        report.rows_read += 1
        r = _Row(row_no, cells, columns, problems)
        number = r.get(Col.ORDER_NUMBER)
        if not number:
            r.problem(
                Col.ORDER_NUMBER,
                "",
                "the row has no Order Number, so it belongs to no order: download the report again, "
                "or copy the order number from Seller Hub into it.",
            )
            continue
        if len(number) > 100:
            r.problem(
                Col.ORDER_NUMBER, number, "the Order Number is longer than any eBay order number (100 characters)."
            )
            continue
        grouped.setdefault(number, []).append(r)
    for number, rows in grouped.items():
        payload = _order(number, rows, currency)
        if payload is not None:
            report.orders.append(ReportOrder(number, [r.row_no for r in rows], payload))
    if problems:
        problems.sort(key=lambda p: p.row)
        rows_bad = sorted({p.row for p in problems})
        named = "; ".join(str(p) for p in problems[:MAX_BAD_ROWS_IN_MESSAGE])
        more = (
            f"; and {len(problems) - MAX_BAD_ROWS_IN_MESSAGE} more" if len(problems) > MAX_BAD_ROWS_IN_MESSAGE else ""
        )
        raise ReportRejected(
            f"{path.name} was not imported: {len(rows_bad)} row{'s have' if len(rows_bad) > 1 else ' has'} "
            f"problems ({named}{more}). Nothing of the file was imported: correct those rows and import it again.",
            problems,
        )
    if not report.orders:
        raise ReportRejected(f"{path.name} holds no orders: its header (row {header_row}) has no rows under it.")
    return report


# --- One order of the report as a Fulfillment API order -------------------------------------------


def _first(rows: list[_Row], name: str) -> str:
    """The order's value of a column: its own row's (the first) when filled, else the first item row's."""
    return next((v for r in rows if (v := r.get(name))), "")


def _country(text: str) -> str:
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRIES.get(" ".join(text.split()).casefold(), text)


def _contact(
    rows: list[_Row], name: str, lines: tuple[str, str, str, str, str, str], email: str = ""
) -> dict[str, Any]:
    """A Fulfillment API contact (fullName, email, contactAddress) from the report's columns; {} if all are blank."""
    AF, CF = c.AddressField, c.ContactField
    line1, line2, city, state, postal, country = (_first(rows, col) for col in lines)
    address = {
        k: v
        for k, v in (
            (AF.LINE1, line1),
            (AF.LINE2, line2),
            (AF.CITY, city),
            (AF.STATE, state),
            (AF.POSTAL_CODE, postal),
            (AF.COUNTRY_CODE, _country(country) if country else ""),
        )
        if v
    }
    full_name = _first(rows, name)
    contact: dict[str, Any] = {}
    if full_name:
        contact[CF.FULL_NAME] = full_name
    if email:
        contact[CF.EMAIL] = email
    if address:
        contact[CF.CONTACT_ADDRESS] = address
    return contact


def _payment_method(text: str) -> str:
    t = text.casefold()
    if "paypal" in t:
        return PAYMENT_PAYPAL
    if "credit" in t or "card" in t:
        return PAYMENT_CARD
    return PAYMENT_EBAY


def _timestamp(day: date) -> str:
    return c.timestamp(datetime.combine(day, datetime.min.time(), UTC))


def _order(number: str, rows: list[_Row], default_currency: str) -> dict[str, Any] | None:
    """The Fulfillment API order of one report order (None when a row of it is bad: reported there)."""
    F, LF, DF, PF, PayF = c.OrderField, c.LineField, c.DeliveryCostField, c.PricingField, c.PaymentField
    before = len(rows[0].problems)
    own = [r for r in rows if not r.is_item()]  # the order's own row (multi-item orders)
    items = [r for r in rows if r.is_item()]
    if len(own) > 1:
        own[1].problem(
            None, None, f"order {number} has a second row without an item (row {own[0].row_no} is its first): keep one."
        )
    if not items:
        rows[0].problem(
            Col.CUSTOM_LABEL,
            "",
            f"order {number} has no item rows: every order lists its items (Custom Label, Quantity, Sold For).",
        )
    emails = {r.get(Col.BUYER_EMAIL).casefold(): r for r in rows if r.get(Col.BUYER_EMAIL)}
    if len(emails) > 1:
        first, *others = sorted(emails.values(), key=lambda r: r.row_no)
        for r in others:
            r.problem(
                Col.BUYER_EMAIL,
                r.get(Col.BUYER_EMAIL),
                f"order {number} has buyer e-mail {first.get(Col.BUYER_EMAIL)!r} on row {first.row_no}: "
                "the rows of one order must agree.",
            )
    ordered = own[:1] + items  # the order's own row first: its values win (_first)
    currencies: set[str] = set()

    def money(r: _Row, name: str) -> Decimal | None:
        found = _money_cell(r, name, default_currency)
        if found is None:
            return None
        currencies.add(found.currency)
        if len(currencies) > 1:
            r.problem(name, r.get(name), f"order {number} mixes currencies ({', '.join(sorted(currencies))}).")
        return found.amount

    order_columns = (Col.SHIPPING_AND_HANDLING, Col.EBAY_COLLECTED_TAX, Col.SELLER_COLLECTED_TAX, Col.TOTAL_PRICE)
    quantities: list[int | None] = []
    prices: list[Decimal | None] = []
    per_item: list[dict[str, Decimal | None]] = []
    for r in items:
        quantities.append(_quantity_cell(r))
        if not r.get(Col.SOLD_FOR):
            r.problem(Col.SOLD_FOR, "", "the item's Sold For (its price) is empty.")
        prices.append(money(r, Col.SOLD_FOR))
        per_item.append({name: money(r, name) for name in order_columns})
    per_order = {name: money(own[0], name) for name in order_columns} if own else {}
    for name in DATE_COLUMNS:  # read here so a bad date is a problem of its row
        for r in ordered:
            _date_cell(r, name)
    if len(rows[0].problems) > before:
        return None
    currency = next(iter(currencies), default_currency)

    def amount(value: Decimal) -> dict[str, str]:
        return {c.AmountField.VALUE: str(value), c.AmountField.CURRENCY: currency}

    # Each amount where the API puts it: the order's own row's on the first line, else each item row's.
    on_line: dict[str, list[Decimal | None]] = {}
    totals: dict[str, Decimal | None] = {}
    for name in order_columns:
        if own and own[0].get(name):
            on_line[name] = [per_order[name]] + [None] * (len(items) - 1)
        else:
            on_line[name] = [a[name] for a in per_item]
        found = [v for v in on_line[name] if v is not None]
        totals[name] = sum(found, Decimal(0)) if found else None
    lines: list[dict[str, Any]] = []
    for n, r in enumerate(items):
        quantity, price = quantities[n], prices[n]
        assert quantity is not None and price is not None  # (else a problem was reported above)
        line: dict[str, Any] = {LF.QUANTITY: quantity, LF.LINE_ITEM_COST: amount(price * quantity)}
        for key, column in (
            (LF.SKU, Col.CUSTOM_LABEL),
            (LF.TITLE, Col.ITEM_TITLE),
            (LF.LEGACY_ITEM_ID, Col.ITEM_NUMBER),
            (LF.LINE_ITEM_ID, Col.TRANSACTION_ID),
        ):
            if r.get(column):
                line[key] = r.get(column)
        if (shipping := on_line[Col.SHIPPING_AND_HANDLING][n]) is not None:
            line[LF.DELIVERY_COST] = {DF.SHIPPING_COST: amount(shipping)}
        if (ebay_tax := on_line[Col.EBAY_COLLECTED_TAX][n]) is not None:
            line[LF.EBAY_COLLECT_AND_REMIT_TAXES] = [{LF.TAX_AMOUNT: amount(ebay_tax)}]
        if (seller_tax := on_line[Col.SELLER_COLLECTED_TAX][n]) is not None:
            line[LF.TAXES] = [{LF.TAX_AMOUNT: amount(seller_tax)}]
        lines.append(line)

    subtotal = sum((p * q for p, q in zip(prices, quantities, strict=True) if p is not None and q), Decimal(0))
    shipping_total = totals[Col.SHIPPING_AND_HANDLING] or Decimal("0.00")
    ebay_tax_total = totals[Col.EBAY_COLLECTED_TAX] or Decimal("0.00")
    seller_tax_total = totals[Col.SELLER_COLLECTED_TAX] or Decimal("0.00")
    included = _first(ordered, Col.TAX_INCLUDED_IN_TOTAL).casefold() not in ("no", "n", "false")
    total = totals[Col.TOTAL_PRICE]
    if total is None:  # not in the report: what the items, the shipping and the taxes add up to
        total = subtotal + shipping_total + seller_tax_total + (ebay_tax_total if included else 0)
    paid_amount = total if included else total + ebay_tax_total  # [INF] what the buyer paid, eBay's tax in it
    # Added up over the item rows, an amount can outgrow what the ERP's order holds (numeric 12,2).
    too_large = [
        what
        for what, v in (
            ("shipping", shipping_total),
            ("tax", ebay_tax_total + seller_tax_total),
            ("total", paid_amount),
        )
        if v > MAX_PRICE
    ]
    if too_large:
        rows[0].problem(
            None,
            None,
            f"order {number}'s {' and '.join(too_large)} add up to more than the ERP can hold ({MAX_PRICE:,}).",
        )
        return None
    sale_text, paid_text = _first(ordered, Col.SALE_DATE), _first(ordered, Col.PAID_ON_DATE)
    sale_day = parse_day(sale_text) if sale_text else None
    paid = bool(paid_text)
    email = _first(ordered, Col.BUYER_EMAIL)
    registration = _contact(
        ordered,
        Col.BUYER_NAME,
        (Col.BUYER_ADDRESS_1, Col.BUYER_ADDRESS_2, Col.BUYER_CITY, Col.BUYER_STATE, Col.BUYER_ZIP, Col.BUYER_COUNTRY),
        email,
    )
    ship_to = _contact(
        ordered,
        Col.SHIP_TO_NAME,
        (
            Col.SHIP_TO_ADDRESS_1,
            Col.SHIP_TO_ADDRESS_2,
            Col.SHIP_TO_CITY,
            Col.SHIP_TO_STATE,
            Col.SHIP_TO_ZIP,
            Col.SHIP_TO_COUNTRY,
        ),
    )
    buyer: dict[str, Any] = {}
    if _first(ordered, Col.BUYER_USERNAME):
        buyer[c.BuyerField.USERNAME] = _first(ordered, Col.BUYER_USERNAME)
    if registration:
        buyer[c.BuyerField.REGISTRATION_ADDRESS] = registration
    step: dict[str, Any] = {}
    if ship_to:
        step[c.FulfillmentStartField.SHIP_TO] = ship_to
    if _first(ordered, Col.SHIPPING_SERVICE):
        step[c.FulfillmentStartField.SHIPPING_SERVICE_CODE] = _first(ordered, Col.SHIPPING_SERVICE)
    payments = []
    if paid:
        payments.append(
            {
                PayF.PAYMENT_METHOD: _payment_method(_first(ordered, Col.PAYMENT_METHOD)),
                PayF.AMOUNT: amount(paid_amount),
                PayF.PAYMENT_STATUS: c.PAYMENT_STATUS_PAID,
            }
        )
    order: dict[str, Any] = {
        F.ORDER_ID: number,
        F.ORDER_FULFILLMENT_STATUS: c.FULFILLMENT_FULFILLED
        if _first(ordered, Col.SHIPPED_ON_DATE)
        else c.FULFILLMENT_NOT_STARTED,
        F.ORDER_PAYMENT_STATUS: c.PAYMENT_PAID if paid else c.PAYMENT_PENDING,
        F.CANCEL_STATUS: {F.CANCEL_STATE: c.CANCEL_NONE_REQUESTED},
        F.BUYER: buyer,
        F.PRICING_SUMMARY: {
            PF.PRICE_SUBTOTAL: amount(subtotal),
            PF.DELIVERY_COST: amount(shipping_total),
            PF.TAX: amount(seller_tax_total),
            # [DOC 5.3] the order's total leaves out the tax eBay collects and remits
            PF.TOTAL: amount(paid_amount - ebay_tax_total),
        },
        F.PAYMENT_SUMMARY: {PayF.PAYMENTS: payments, PayF.REFUNDS: []},
        F.FULFILLMENT_START_INSTRUCTIONS: [{c.FulfillmentStartField.SHIPPING_STEP: step}],
        F.LINE_ITEMS: lines,
        SOURCE_KEY: SOURCE,
    }
    if sale_day is not None:
        order[F.CREATION_DATE] = order[F.LAST_MODIFIED_DATE] = _timestamp(sale_day)
    for key, column in ((F.SALES_RECORD_REFERENCE, Col.SALES_RECORD_NUMBER), (F.BUYER_CHECKOUT_NOTES, Col.BUYER_NOTE)):
        if _first(ordered, column):
            order[key] = _first(ordered, column)
    return order


# --- Importing it into a site -----------------------------------------------------------------------


def import_orders_csv(site_id: int | str, path: Path | str, *, celery_task_id: str | None = None) -> dict[str, Any]:
    """Import a Seller Hub orders report into an eBay site: read it whole (a bad row: nothing is
    staged, :class:`ReportRejected`), then, under the site's import lock, stage its orders, validate
    and import them as a REST import does. Returns the counts, and each order's outcome.

    Recorded as a sync run ``ebay_import_csv``: not an ``import_orders`` run, so a seller importing
    files does not hide a REST import that keeps failing from the silent-site alarm. Works on a
    paused site: a seller who only uploads files has no API grant, and keeps the schedule off."""
    with session_scope() as s:
        ctx = open_site(s, site_id)
    if ctx.spec.kind != c.PARTNER:
        raise SiteError(
            f"site {ctx.site.name} is a {ctx.label} site: an eBay Seller Hub orders report is imported into an eBay site"
        )
    report = read_report(path, marketplace_id=str(getattr(ctx.settings, "marketplace_id", c.DEFAULT_MARKETPLACE)))
    with advisory_lock(site_lock_name(LOCK_TASK, ctx.id)) as got:
        if not got:
            log.info("ebay_csv_skipped_busy", site=ctx.id)
            return {
                "site_id": ctx.id,
                "site": ctx.site.name,
                "file": str(report.path),
                "skipped": "an import of this site is running; import the file again when it has finished",
            }
        with recorded_run(TASK, ctx.id, celery_task_id, holds_lock=True) as run:
            counts = run.counts
            counts.update(
                file=report.path.name,
                rows=report.rows_read,
                orders=len(report.orders),
                new=0,
                changed=0,
                unchanged=0,
                from_api=0,
            )
            by_number = {o.order_number: o for o in report.orders}
            with session_scope() as s:
                md = masterdata.load(s, ctx.id)
                from_api = _held_from_api(s, ctx.id, list(by_number))
            counts["from_api"] = len(from_api)
            mapped = [to_partner_order(o.payload) for o in report.orders if o.order_number not in from_api]
            batches: list[Any] = []
            with session_scope() as s:  # the whole file is held, or none of it
                for start in range(0, len(mapped), STAGE_BATCH):
                    staged = stage_page(s, ctx.id, mapped[start : start + STAGE_BATCH])
                    queue_exported(s, ctx, staged.all_ids, "staged")  # (a no-op for eBay: kept as the REST path does)
                    batches.append(staged)
            totals: dict[str, int] = dict.fromkeys(SUMMARY_KEYS, 0)
            for staged in batches:
                counts["new"] += staged.new
                counts["changed"] += staged.changed
                counts["unchanged"] += staged.seen - staged.new - staged.changed
                for k, v in validate_and_import_staged(ctx, staged.fresh, md, staged.new_ids).items():
                    totals[k] = totals.get(k, 0) + v
                # Held unchanged and still open: checked again (the ERP may have what they lacked now).
                again = [i for i in staged.all_ids if i not in staged.fresh and i not in staged.imported_ids]
                if again:
                    for k, v in validate_and_import(ctx, again, md=md).items():
                        totals[k] = totals.get(k, 0) + int(v)
            counts.update(totals)
            outcomes = _outcomes(ctx.id, report.orders, from_api)
            if any(o["state"] in ("invalid", "duplicate") for o in outcomes):
                counts["needs_a_person"] = sum(1 for o in outcomes if o["state"] in ("invalid", "duplicate"))
            log.info("ebay_csv_imported", site=ctx.id, **{k: v for k, v in counts.items() if k != "file"})
            return {
                "site_id": ctx.id,
                "site": ctx.site.name,
                "run_id": run.id,
                **counts,
                "ignored_columns": report.ignored_columns,
                "order_outcomes": outcomes,
            }


def _held_from_api(session: Any, site_id: int, numbers: list[str]) -> set[str]:
    """Of these order numbers, those the site holds as the REST API brought them (not from a report)."""
    found: set[str] = set()
    for start in range(0, len(numbers), 1000):
        rows = session.execute(
            select(InboundOrder.partner_order_id, InboundOrder.raw).where(
                InboundOrder.site_id == site_id, InboundOrder.partner_order_id.in_(numbers[start : start + 1000])
            )
        )
        found |= {pid for pid, raw in rows if not (isinstance(raw, Mapping) and raw.get(SOURCE_KEY) == SOURCE)}
    return found


def _outcomes(site_id: int, orders: list[ReportOrder], from_api: set[str]) -> list[dict[str, Any]]:
    """Each order of the file: its rows, its state in the holding area, its ERP order, its open problems."""
    numbers = [o.order_number for o in orders]
    with session_scope() as s:
        held = {
            r.partner_order_id: r
            for r in s.execute(
                select(
                    InboundOrder.id, InboundOrder.partner_order_id, InboundOrder.state, InboundOrder.customer_code
                ).where(InboundOrder.site_id == site_id, InboundOrder.partner_order_id.in_(numbers))
            )
        }
        ids = [r.id for r in held.values()]
        problems: dict[int, list[str]] = {}
        for oid, message in s.execute(
            select(OrderError.order_id, OrderError.message)
            .where(OrderError.order_id.in_(ids), OrderError.resolved_at.is_(None), OrderError.severity == "error")
            .order_by(OrderError.id)
        ):
            problems.setdefault(oid, []).append(message)
        sales = dict(
            s.execute(
                select(SalesOrder.inbound_order_id, SalesOrder.number).where(SalesOrder.inbound_order_id.in_(ids))
            ).all()
        )
    out = []
    for o in orders:
        row = held.get(o.order_number)
        out.append(
            {
                "order_number": o.order_number,
                "rows": o.rows,
                "lines": len(o.payload.get(c.OrderField.LINE_ITEMS) or []),
                "source": "api" if o.order_number in from_api else "report",
                "state": row.state if row is not None else None,
                "order_id": row.id if row is not None else None,
                "customer": row.customer_code if row is not None else None,
                "sales_order": sales.get(row.id) if row is not None else None,
                "problems": problems.get(row.id, []) if row is not None else [],
            }
        )
    return out
