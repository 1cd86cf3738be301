"""Load the ERP's own exports (CSV or .xlsx) into the master-data tables.

One loader per file: customers (one row per address), styles (one row per SKU, with a price
column per price type), inventory (one row per SKU and warehouse), the rest of the catalog the
partners are sent (prices: wholesale and retail per price type, for a style or one of its colours;
images: the manifest of style, colour and swatch images; linesheets: one row per linesheet and
style), and the codes orders are checked against, one row per code: terms, ship-via, reps,
divisions, warehouses, price-types. The
formats are documented in docs/erp-files.md. Each kind's columns are one table (``FILE_COLUMNS``),
read by its loader and written as the header of its empty sheet (``write_template``); ``loaders()``
and ``file_columns()`` are keyed by the kind as ``bobbin erp load KIND`` spells it. A kind another
service loads (shipments: ``services.erp_handoff``; RMA receipts: ``services.receipts_load``; eBay
listing records: ``services.ebay_listings_load``) is
named in ``ELSEWHERE`` and its module imported the first time the kinds are looked up;
``register_kind`` adds one at run time.

Every row is checked against the file itself and against the codes already in the ERP (loaded
once per file into sets and dicts). A bad row becomes a :class:`RowProblem` that says the row
number as a spreadsheet shows it (header = row 1), the column, the value and what to do; the good
rows are upserted on their natural keys (``INSERT ... ON CONFLICT DO UPDATE``) in batches. A file
that cannot be read at all raises :class:`LoadError`.

Nothing here commits: all the writes of one file run inside a savepoint of the caller's
transaction, so a failure half-way through leaves no half-loaded file behind.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Boolean, ColumnElement, Table, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from connectors.base import Address

# models.erp, not the models package: the ERP tables are all this module needs.
from models.erp import (
    Customer,
    CustomerAddress,
    Division,
    Inventory,
    Linesheet,
    LinesheetStyle,
    PriceType,
    SalesRep,
    ShipVia,
    Sku,
    Style,
    StyleColor,
    StyleColorPrice,
    StyleImage,
    StylePrice,
    Terms,
    Warehouse,
)
from services.problems import load_command

# Rows per INSERT ... ON CONFLICT statement. A batch of 1000 customer rows is ~10k bound
# parameters (Postgres allows 65535) and one round trip; bigger batches gain little.
BATCH_SIZE = 1000
CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
MAX_VALUE_CHARS = 80  # longest value echoed in a problem
MAX_WHOLE = 2_147_483_647  # stock quantities are Postgres integers
MAX_PRICE = Decimal("9999999999.99")  # prices are numeric(12,2)
MAX_EMAIL_CHARS = 254  # RFC 5321; also keeps the e-mail pattern's work bounded
# An address is unique per customer on its normalized key (a btree index, whose entries have a
# size limit of about 2.7 KB): a longer key is a row problem, not a failed file.
MAX_ADDRESS_KEY_BYTES = 2000


class LoadError(Exception):
    """The file cannot be read at all (missing, not CSV / .xlsx, no header, a required column missing)."""


@dataclass(frozen=True)
class RowProblem:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str | None  # the column's header as written in the file
    value: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class LoadReport:
    kind: str  # a key of LOADERS: customers | styles | inventory | prices | images | linesheets | terms | ...
    path: str
    rows_read: int = 0  # data rows (blank rows are not counted)
    rows_loaded: int = 0
    inserted: int = 0  # customers / SKUs / inventory rows that are new
    updated: int = 0  # ... that existed and were updated
    removed: int = 0  # images / linesheet styles no longer in a file that lists all of a style's / linesheet's
    problems: list[RowProblem] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)  # customer codes / SKU ids / codes loaded
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (
            f"{self.kind} {self.path}: {self.rows_read} rows read, {self.rows_loaded} loaded "
            f"({self.inserted} new, {self.updated} updated), {len(self.problems)} with problems"
        )


# --- Reading a file -----------------------------------------------------------------------------


def header_key(text: str) -> str:
    """ "Customer Code", "customer_code", " CUSTOMER-CODE " all read as "customer_code"."""
    return re.sub(r"[^a-z0-9:]+", "_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class Column:
    name: str  # the field name the loader uses
    aliases: tuple[str, ...]  # header keys accepted (header_key form); the first is the documented one
    required: bool = False
    header: str = ""  # the header a template writes, when not the first alias in title case

    @property
    def title(self) -> str:
        """The documented header ("Customer Code"): what a template writes and the docs show."""
        return self.header or self.aliases[0].replace("_", " ").title()


@dataclass
class Sheet:
    """A file's header and rows; ``rows`` yields (row number, {field: text}) for non-blank rows."""

    path: Path
    headers: list[str]
    columns: dict[str, int]  # field -> cell index
    extra: dict[str, int]  # other headers (e.g. price:WHL) -> cell index
    ignored: list[str]
    rows: Iterator[tuple[int, list[str]]]

    def header_of(self, name: str) -> str:
        idx = self.columns.get(name, self.extra.get(name))
        return self.headers[idx] if idx is not None else name


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f'{path.name} is not UTF-8 text (byte {exc.start}): save it from the ERP or Excel as "CSV UTF-8".'
        ) from None
    if "\x00" in text:
        raise LoadError(f"{path.name} is not a CSV file (it holds binary data).")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise LoadError(f"{path.name} cannot be read as CSV: {exc}.") from None
    if header is None:
        raise LoadError(f"{path.name} is empty: it needs a header row and data rows.")

    def rows() -> Iterator[tuple[int, list[str]]]:
        # Rows are numbered as records (a quoted cell with a line break is still one row), which is
        # what a spreadsheet shows. Nothing is written before every row was read, so stopping here
        # (a cell longer than the csv module takes, 128 KB) leaves nothing half-loaded.
        row_no = 1
        try:
            for row_no, row in enumerate(reader, start=2):
                yield row_no, [cell.strip() for cell in row]
        except csv.Error as exc:
            raise LoadError(f"{path.name} cannot be read as CSV after row {row_no}: {exc}.") from None

    return [h.strip() for h in header], rows()


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise LoadError(
            f"{path.name} cannot be opened as an Excel .xlsx workbook ({exc.__class__.__name__})."
        ) from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        wb.close()
        raise LoadError(f'{path.name}: the first sheet "{ws.title}" is empty: it needs a header row.')

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for row_no, row in enumerate(it, start=2):
                yield row_no, [_cell_text(v) for v in row]
        finally:
            wb.close()

    return [_cell_text(h) for h in header], rows()


def open_sheet(
    path: Path | str, kind: str, columns: Iterable[Column], extra: Callable[[str], bool] = lambda key: False
) -> Sheet:
    """Open a CSV / .xlsx file and match its header to ``columns`` (and ``extra`` headers)."""
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"The {kind} file {path} does not exist.")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        headers, rows = _read_csv(path)
    elif suffix in XLSX_SUFFIXES:
        headers, rows = _read_xlsx(path)
    elif suffix == ".xls":
        raise LoadError(f"{path.name} is an old Excel .xls file: save it as .xlsx or CSV and load that.")
    else:
        raise LoadError(f"{path.name} is not a CSV or .xlsx file: the {kind} loader reads .csv and .xlsx.")
    if not any(headers):
        raise LoadError(f"{path.name} has no header row: row 1 must name the columns.")
    by_alias = {alias: col for col in columns for alias in col.aliases}
    matched: dict[str, int] = {}
    extras: dict[str, int] = {}
    ignored: list[str] = []
    for idx, raw in enumerate(headers):
        key = header_key(raw)
        if not key:
            continue
        col = by_alias.get(key)
        if col is not None:
            if col.name in matched:
                raise LoadError(
                    f"{path.name} has two columns for {col.aliases[0]!r}: "
                    f'"{headers[matched[col.name]]}" and "{raw}"; keep one.'
                )
            matched[col.name] = idx
        elif extra(key):  # nosec B610 # a header predicate named extra, not Django's QuerySet.extra()
            extras[raw.strip()] = idx
        else:
            ignored.append(raw)
    missing = [col for col in columns if col.required and col.name not in matched]
    if missing:
        names = ", ".join(f'"{c.aliases[0]}"' for c in missing)
        raise LoadError(
            f"{path.name} has no {names} column{'s' if len(missing) > 1 else ''}: "
            f"the {kind} file needs {'them' if len(missing) > 1 else 'it'} in row 1."
        )
    return Sheet(path, headers, matched, extras, ignored, rows)


class RowReader:
    """The text of one row's fields, and the problems found in it."""

    def __init__(self, sheet: Sheet, row_no: int, cells: list[str]) -> None:
        self.sheet, self.row_no, self.cells = sheet, row_no, cells
        self.problems: list[RowProblem] = []

    def get(self, name: str) -> str:
        idx = self.sheet.columns.get(name, self.sheet.extra.get(name))
        if idx is None or idx >= len(self.cells):
            return ""
        return self.cells[idx]

    def has(self, name: str) -> bool:
        return name in self.sheet.columns or name in self.sheet.extra

    def problem(self, name: str | None, value: str | None, message: str) -> None:
        if value is not None and len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + "…"
        column = self.sheet.header_of(name) if name else None
        self.problems.append(RowProblem(self.row_no, column, value, message))

    def required(self, name: str, what: str, max_len: int = 20) -> str:
        value = self.get(name)
        if not value:
            self.problem(name, value, f"{what} is empty.")
        elif len(value) > max_len:
            self.problem(name, value, f"{what} is longer than {max_len} characters.")
        return value

    def code(self, name: str, what: str, known: dict[str, str], fix: str) -> str | None:
        """An optional reference to an ERP code; blank → None; unknown → a problem."""
        value = self.get(name)
        if not value:
            return None
        code = known.get(_norm(value))
        if code is None:
            self.problem(name, value, f'unknown {what} "{value}": {fix}')
        return code

    def whole_number(self, name: str, what: str, default: int | None = 0) -> int | None:
        value = self.get(name)
        if not value:
            return default
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            self.problem(name, value, f'{what} "{value}" is not a whole number.')
            return None
        if not number.is_finite() or number != number.to_integral_value():
            self.problem(name, value, f'{what} "{value}" is not a whole number.')
            return None
        if number < 0:
            self.problem(
                name,
                value,
                f"{what} is negative ({value}): the ERP export should never "
                "have negative stock; correct it in the ERP and export again.",
            )
            return None
        if number > MAX_WHOLE:
            self.problem(name, value, f'{what} "{value}" is too large (at most {MAX_WHOLE:,}).')
            return None
        return int(number)

    def date(self, name: str, what: str) -> date | None:
        value = self.get(name)
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.problem(name, value, f'{what} "{value}" is not a date: write YYYY-MM-DD or MM/DD/YYYY.')
        return parsed


def _norm(value: str) -> str:
    return " ".join(value.split()).lower()


def parse_money(text: str) -> Decimal | None:
    """ "24.50", "$1,024.50", "24,50" (decimal comma, as ;-separated files write it) → Decimal."""
    text = text.strip().lstrip("$€£").strip()
    if re.fullmatch(r"-?\d+,\d{1,2}", text):
        text = text.replace(",", ".")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def read_money(r: RowReader, name: str, what: str) -> Decimal | None:
    """The row's amount in column ``name`` (blank: None), to the cent; a problem when it is not a
    number, is negative or does not fit the ERP's prices."""
    text = r.get(name)
    if not text:
        return None
    value = parse_money(text)
    if value is None:
        r.problem(name, text, f'{what} "{text}" is not a number.')
    elif value < 0:
        r.problem(name, text, f"{what} {text} is negative.")
    elif value > MAX_PRICE:
        r.problem(name, text, f"{what} {text} is too large (at most {MAX_PRICE:,}).")
    else:
        return value.quantize(Decimal("0.01"))
    return None


def parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def data_rows(sheet: Sheet, report: LoadReport) -> Iterator[RowReader]:
    """A sheet's rows that hold anything, each counted in ``report.rows_read``: every loader reads these."""
    for row_no, cells in sheet.rows:
        if not any(cells):
            continue
        report.rows_read += 1
        yield RowReader(sheet, row_no, cells)


def _known(rows: Iterable[tuple[str, ...]]) -> dict[str, str]:
    """Lookup from each normalized spelling (code, description / name, ...) to the ERP code."""
    out: dict[str, str] = {}
    for code, *others in rows:
        for text in others:
            if text:
                out.setdefault(_norm(text), code)
        out[_norm(code)] = code  # the code wins over another row's description
    return out


# --- Writing ------------------------------------------------------------------------------------


def _upsert(
    session: Session, table: Table, rows: list[dict[str, Any]], key: list[str], update: list[str], touch: bool = False
) -> tuple[int, int]:
    """INSERT ... ON CONFLICT (key) DO UPDATE in batches; returns (inserted, updated)."""
    if not rows:
        return 0, 0
    stmt = insert(table)
    set_: dict[str, ColumnElement[Any]] = {col: stmt.excluded[col] for col in update}
    if touch:
        set_["updated_at"] = func.now()
    # xmax = 0 only on a freshly inserted row version: a cheap inserted / updated split.
    stmt = (
        stmt.on_conflict_do_update(index_elements=key, set_=set_)
        if set_
        else stmt.on_conflict_do_nothing(index_elements=key)
    )
    returning = stmt.returning(literal_column("(xmax = 0)", Boolean).label("inserted"))
    inserted = total = 0
    for start in range(0, len(rows), BATCH_SIZE):
        flags = session.execute(returning, rows[start : start + BATCH_SIZE]).scalars().all()
        inserted += sum(1 for f in flags if f)
        total += len(flags)
    return inserted, total - inserted


def _write(session: Session, steps: Callable[[], None]) -> None:
    """Run the file's writes in a savepoint: all of them land, or none."""
    with session.begin_nested():
        steps()


# --- Customers ----------------------------------------------------------------------------------

CUSTOMER_COLUMNS = (
    Column("code", ("customer_code", "code", "cust_code", "customer_no", "customer_number", "customer_id"), True),
    Column("name", ("name", "customer_name", "company", "company_name"), True),
    Column("email", ("email", "e_mail", "email_address")),
    Column("phone", ("phone", "telephone", "phone_number", "tel")),
    Column("terms", ("terms", "terms_code", "payment_terms")),
    Column("ship_via", ("ship_via", "shipvia", "ship_via_code", "shipping_method")),
    Column("rep", ("rep", "sales_rep", "rep_code", "salesrep", "sales_rep_code", "salesman")),
    Column("division", ("division", "division_code", "div")),
    Column("type", ("address_type", "type", "addr_type")),
    Column("address1", ("address1", "address_1", "address_line_1", "street", "address"), header="Address 1"),
    Column("address2", ("address2", "address_2", "address_line_2"), header="Address 2"),
    Column("city", ("city",)),
    Column("state", ("state", "province", "state_province")),
    Column("zip", ("zip", "zip_code", "postal_code", "postcode")),
    Column("country", ("country", "country_code")),
)
ADDRESS_TYPES = {
    "": ("billing", "shipping"),
    "b": ("billing",),
    "s": ("shipping",),
    "billing": ("billing",),
    "shipping": ("shipping",),
    "both": ("billing", "shipping"),
    "bill": ("billing",),
    "ship": ("shipping",),
}
CUSTOMER_HEADER_FIELDS = ("name", "email", "phone", "terms_code", "ship_via_code", "rep_code", "division_code")
CUSTOMER_FIELD_COLUMN = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "terms_code": "terms",
    "ship_via_code": "ship_via",
    "rep_code": "rep",
    "division_code": "division",
}
EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
US_ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")


def load_customers(session: Session, path: Path | str) -> LoadReport:
    sheet = open_sheet(path, "customers", CUSTOMER_COLUMNS)
    report = LoadReport("customers", str(path), ignored_columns=sheet.ignored)
    terms = _known(session.execute(select(Terms.code, Terms.description)))
    ship_vias = _known(session.execute(select(ShipVia.code, ShipVia.description)))
    reps = _known(session.execute(select(SalesRep.code, SalesRep.name, SalesRep.email)))
    divisions = _known(session.execute(select(Division.code, Division.name)))

    customers: dict[str, dict[str, Any]] = {}  # code -> row, in file order
    first_row: dict[str, int] = {}
    addresses: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in data_rows(sheet, report):
        code = r.required("code", "The customer code")
        name = r.get("name")
        email = r.get("email")
        if email and (len(email) > MAX_EMAIL_CHARS or not EMAIL_RE.match(email)):
            r.problem("email", email, f'"{email}" is not an e-mail address.')
        head = {
            "code": code,
            "name": name,
            "email": email or None,
            "phone": r.get("phone") or None,
            "terms_code": r.code(
                "terms",
                "terms code",
                terms,
                f"add it to the ERP terms first with {load_command('terms')}, or correct it.",
            ),
            "ship_via_code": r.code(
                "ship_via",
                "ship-via code",
                ship_vias,
                f"add it to the ERP ship-vias first with {load_command('ship-via')}, or correct it.",
            ),
            "rep_code": r.code(
                "rep", "sales rep", reps, f"add the rep to the ERP first with {load_command('reps')}, or correct it."
            ),
            "division_code": r.code(
                "division",
                "division",
                divisions,
                f"add the division to the ERP first with {load_command('divisions')}, or correct it.",
            ),
        }
        seen = customers.get(code)
        if code and seen is None and not name:
            r.problem("name", name, f"customer {code} has no name: give it on the customer's first row.")
        if seen is not None:
            # A later row of the same customer adds an address; it may repeat the customer's
            # fields or leave them blank, but not contradict them.
            for fld in CUSTOMER_HEADER_FIELDS:
                if head[fld] and seen[fld] and head[fld] != seen[fld]:
                    column = CUSTOMER_FIELD_COLUMN[fld]
                    r.problem(
                        column,
                        r.get(column),
                        f"customer {code} has {seen[fld]!r} on row {first_row[code]}; a customer's rows must agree.",
                    )
        row_addresses = _customer_addresses(r, code, name)
        if r.problems:
            report.problems += r.problems
            continue
        if seen is None:
            customers[code] = head
            first_row.setdefault(code, r.row_no)
        else:
            for fld in CUSTOMER_HEADER_FIELDS:
                seen[fld] = seen[fld] or head[fld]
        for a in row_addresses:
            addresses[(a["customer_code"], a["kind"], a["address_key"])] = a
        report.rows_loaded += 1

    # Columns the file does not have keep their ERP values; a blank cell in a column it has clears one.
    update = [f for f in CUSTOMER_HEADER_FIELDS if CUSTOMER_FIELD_COLUMN[f] in sheet.columns]

    def steps() -> None:
        report.inserted, report.updated = _upsert(
            session, Customer.__table__, list(customers.values()), ["code"], update, touch=True
        )
        _upsert(
            session,
            CustomerAddress.__table__,
            list(addresses.values()),
            ["customer_code", "kind", "address_key"],
            ["name", "line1", "line2", "city", "state", "postal_code", "country"],
        )

    _write(session, steps)
    report.keys = set(customers)
    return report


def _customer_addresses(r: RowReader, code: str, name: str) -> list[dict[str, Any]]:
    """The row's address as customer_address rows (two when the type is blank: billing and shipping)."""
    line1, city = r.get("address1"), r.get("city")
    state, zip_code = r.get("state"), r.get("zip")
    country = (r.get("country") or "US").upper()
    kind_text = r.get("type")
    kinds = ADDRESS_TYPES.get(kind_text.lower())
    if kinds is None:
        r.problem("type", kind_text, f'address type "{kind_text}" must be B (billing), S (shipping) or blank (both).')
        return []
    if not any((line1, r.get("address2"), city, state, zip_code)):
        return []  # a customer row without an address
    if not line1:
        r.problem("address1", line1, "the address has no street line (address1).")
    if not city:
        r.problem("city", city, "the address has no city.")
    if country in ("US", "USA") and zip_code and not US_ZIP_RE.match(zip_code):
        if zip_code.isdigit() and len(zip_code) < 5:
            zip_code = zip_code.zfill(5)  # Excel drops the leading zeros of 02554
        else:
            r.problem("zip", zip_code, f'"{zip_code}" is not a US zip code (12345 or 12345-6789).')
    addr = Address(
        line1=line1,
        line2=r.get("address2") or None,
        city=city,
        state=state or None,
        postal_code=zip_code or None,
        country=country,
    )
    key = "|".join(addr.key())
    if len(key.encode("utf-8")) > MAX_ADDRESS_KEY_BYTES:
        r.problem(
            "address1",
            line1,
            f"the address is too long ({len(key):,} characters): shorten it in the ERP and export again.",
        )
        return []
    return [
        {
            "customer_code": code,
            "kind": kind,
            "name": name or None,
            "line1": addr.line1,
            "line2": addr.line2,
            "city": addr.city,
            "state": addr.state,
            "postal_code": addr.postal_code,
            "country": addr.country,
            "address_key": key,
        }
        for kind in kinds
    ]


# --- Styles -------------------------------------------------------------------------------------

STYLE_COLUMNS = (
    Column("style", ("style", "style_number", "style_no", "style_code"), True),
    Column("description", ("description", "style_description", "desc", "name")),
    Column("season", ("season",)),
    Column("category", ("category", "class")),
    Column("division", ("division", "division_code", "div")),
    Column("active", ("active", "is_active")),
    Column("color", ("color_code", "color", "colour_code", "option_code"), True),
    Column("color_name", ("color_name", "colour_name", "color_description")),
    Column("size", ("size",), True),
    Column("sku", ("sku", "sku_id", "sku_number", "sku_no"), True, header="SKU"),
    Column("upc", ("upc", "upc_code", "barcode", "ean", "gtin"), header="UPC"),
)
PRICE_PREFIX = "price:"  # price:WHL = the style's wholesale price in price type WHL
# A style's Active cell: yes (it sells) or no (the ERP no longer sells it: partners drop it).
ACTIVE_WORDS = {
    **dict.fromkeys(("y", "yes", "true", "t", "1", "active", "a"), True),
    **dict.fromkeys(("n", "no", "false", "f", "0", "inactive", "i", "discontinued", "d"), False),
}
RETAIL_PREFIX = "retail:"  # retail:WHL = its suggested retail price in the same price type


def gtin_check_digit(body: str) -> int:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def check_upc(r: RowReader, value: str) -> str | None:
    """A valid UPC-A / EAN-13 / GTIN-14 / EAN-8, or a problem. 11 digits: Excel dropped a leading 0."""
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?[eE]\+?\d+", value):
        r.problem(
            "upc",
            value,
            f'UPC "{value}" was turned into a number by Excel; format the UPC column as text and export again.',
        )
        return None
    digits = value.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) == 11:
        digits = "0" + digits
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        r.problem("upc", value, f'UPC "{value}" must be 12 digits (UPC-A) or 13 (EAN-13).')
        return None
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        r.problem(
            "upc",
            value,
            f"UPC {digits} has a wrong check digit (the last digit should be {expected}): check it for a typo.",
        )
        return None
    return digits


def load_styles(session: Session, path: Path | str) -> LoadReport:
    sheet = open_sheet(
        path, "styles", STYLE_COLUMNS, extra=lambda key: key.startswith(PRICE_PREFIX) or key.startswith(RETAIL_PREFIX)
    )
    report = LoadReport("styles", str(path), ignored_columns=sheet.ignored)
    divisions = _known(session.execute(select(Division.code, Division.name)))
    price_types = {code.upper(): code for code in session.scalars(select(PriceType.code))}
    # What the ERP already holds, so a row that would break a unique key is reported, not crashed on.
    db_skus: dict[str, tuple[str, str, str]] = {}
    db_variant: dict[tuple[str, str, str], str] = {}
    db_upc: dict[str, str] = {}
    for sku, style, color, size, upc in session.execute(
        select(Sku.sku, Sku.style_number, Sku.color_code, Sku.size, Sku.upc)
    ):
        db_skus[sku] = (style, color, size)
        db_variant[(style, color, size)] = sku
        if upc:
            db_upc[upc] = sku

    price_columns: dict[str, str] = {}  # header -> price type code
    retail_columns: dict[str, str] = {}  # price type code -> its retail: header
    retail_headers: list[str] = []
    for header in sheet.extra:
        if header.lower().startswith(RETAIL_PREFIX):
            retail_headers.append(header)
            continue
        ptype = header[len(PRICE_PREFIX) :].strip().upper()
        if ptype in price_types:
            price_columns[header] = price_types[ptype]
        else:
            report.problems.append(
                RowProblem(
                    1,
                    header,
                    ptype,
                    f'unknown price type "{ptype}": add it to the ERP price types first with '
                    f"{load_command('price-types')}; this column was not loaded.",
                )
            )
    for header in retail_headers:
        ptype = header[len(RETAIL_PREFIX) :].strip().upper()
        if ptype not in price_types:
            message = (
                f'unknown price type "{ptype}": add it to the ERP price types first with '
                f"{load_command('price-types')}; this column was not loaded."
            )
        elif price_types[ptype] not in price_columns.values():
            message = (
                f"retail prices are kept beside wholesale ones: add a {PRICE_PREFIX}{ptype} column "
                "with the wholesale prices; this column was not loaded."
            )
        else:
            retail_columns[price_types[ptype]] = header
            continue
        report.problems.append(RowProblem(1, header, ptype, message))

    styles: dict[str, dict[str, Any]] = {}
    colors: dict[tuple[str, str], dict[str, Any]] = {}
    skus: dict[str, dict[str, Any]] = {}
    prices: dict[tuple[str, str], dict[str, Any]] = {}
    sku_row: dict[str, int] = {}
    active_row: dict[str, tuple[bool, int]] = {}
    variant_row: dict[tuple[str, str, str], tuple[str, int]] = {}
    upc_row: dict[str, tuple[str, int]] = {}
    price_row: dict[tuple[str, str], tuple[Decimal, int]] = {}
    retail_row: dict[tuple[str, str], tuple[Decimal, int]] = {}
    size_order: dict[str, list[str]] = defaultdict(list)
    for r in data_rows(sheet, report):
        style = r.required("style", "The style number", 30)
        color = r.required("color", "The color code")
        size = r.required("size", "The size")
        sku = r.required("sku", "The SKU id")
        upc = check_upc(r, r.get("upc"))
        division = r.code(
            "division",
            "division",
            divisions,
            f"add the division to the ERP first with {load_command('divisions')}, or correct it.",
        )
        variant = (style, color, size)
        label = "/".join(variant)
        if sku and all(variant):
            if sku in sku_row:
                first_variant = skus[sku]["style_number"], skus[sku]["color_code"], skus[sku]["size"]
                if first_variant != variant:
                    r.problem(
                        "sku",
                        sku,
                        f"SKU id {sku} is used twice in the file: row {sku_row[sku]} has it "
                        f"for {'/'.join(first_variant)}, this row for {label}.",
                    )
            elif sku in db_skus and db_skus[sku] != variant:
                r.problem(
                    "sku",
                    sku,
                    f"SKU id {sku} is {'/'.join(db_skus[sku])} in the ERP, not {label}; "
                    "a SKU id cannot move to another style/color/size.",
                )
            if variant in variant_row and variant_row[variant][0] != sku:
                r.problem(
                    "sku",
                    sku,
                    f"{label} is on row {variant_row[variant][1]} with SKU id "
                    f"{variant_row[variant][0]}; one style/color/size has one SKU id.",
                )
            elif variant in db_variant and db_variant[variant] != sku:
                r.problem("sku", sku, f"{label} is SKU {db_variant[variant]} in the ERP; the file says {sku}.")
        if upc and sku:
            if upc in upc_row and upc_row[upc][0] != sku:
                r.problem(
                    "upc",
                    upc,
                    f"UPC {upc} is also on row {upc_row[upc][1]} (SKU {upc_row[upc][0]}); a UPC belongs to one SKU.",
                )
            elif upc in db_upc and db_upc[upc] != sku:
                r.problem("upc", upc, f"UPC {upc} belongs to SKU {db_upc[upc]} in the ERP.")
        active_text = r.get("active")
        active = ACTIVE_WORDS.get(active_text.lower()) if active_text else None
        if active_text and active is None:
            r.problem("active", active_text, f'active "{active_text}" must be yes or no (blank: yes).')
        elif active is not None and style in active_row and active_row[style][0] is not active:
            r.problem(
                "active",
                active_text,
                f"style {style} is {'active' if active_row[style][0] else 'inactive'} on row "
                f"{active_row[style][1]}; a style's rows must agree.",
            )
        row_prices: dict[str, tuple[Decimal, Decimal | None]] = {}  # price type -> (wholesale, retail)
        for header, ptype in price_columns.items():
            before = len(r.problems)
            retail_header = retail_columns.get(ptype)
            price = read_money(r, header, "price")
            retail = read_money(r, retail_header, "retail price") if retail_header else None
            if len(r.problems) > before:
                continue
            if price is None:
                if retail is not None and retail_header:
                    r.problem(
                        retail_header,
                        r.get(retail_header),
                        f"retail price {retail} has no wholesale price: fill {header} on this row too.",
                    )
                continue
            first = price_row.get((style, ptype))
            if first is not None and first[0] != price:
                r.problem(
                    header,
                    r.get(header),
                    f"style {style} has {ptype} price {first[0]} on row {first[1]}; the ERP "
                    "keeps one price per style and price type.",
                )
                continue
            first_retail = retail_row.get((style, ptype))
            if first_retail is not None and retail is not None and first_retail[0] != retail and retail_header:
                r.problem(
                    retail_header,
                    r.get(retail_header),
                    f"style {style} has {ptype} retail price {first_retail[0]} on row {first_retail[1]}; "
                    "the ERP keeps one retail price per style and price type.",
                )
                continue
            row_prices[ptype] = (price, retail)
        if r.problems:
            report.problems += r.problems
            continue
        report.rows_loaded += 1
        styles.setdefault(
            style, {"number": style, "description": "", "division_code": None, "season": None, "category": None}
        )
        s = styles[style]
        s["description"] = s["description"] or r.get("description") or ""
        s["division_code"] = s["division_code"] or division
        s["season"] = s["season"] or r.get("season") or None
        s["category"] = s["category"] or r.get("category") or None
        if "active" in sheet.columns:
            if active is not None:
                active_row.setdefault(style, (active, r.row_no))
            s["active"] = active_row.get(style, (True, 0))[0]
        colors.setdefault(
            (style, color), {"style_number": style, "color_code": color, "color_name": r.get("color_name") or color}
        )
        if size not in size_order[style]:
            size_order[style].append(size)
        skus[sku] = {
            "sku": sku,
            "style_number": style,
            "color_code": color,
            "size": size,
            "size_index": size_order[style].index(size),
            "upc": upc,
        }
        sku_row.setdefault(sku, r.row_no)
        variant_row.setdefault(variant, (sku, r.row_no))
        if upc:
            upc_row.setdefault(upc, (sku, r.row_no))
        for ptype, (price, retail) in row_prices.items():
            price_row.setdefault((style, ptype), (price, r.row_no))
            row = prices.setdefault((style, ptype), {"style_number": style, "price_type_code": ptype, "price": price})
            if ptype in retail_columns:
                # The first row that gives a retail price sets it; none given clears it.
                if retail is not None:
                    retail_row.setdefault((style, ptype), (retail, r.row_no))
                if row.get("retail") is None:
                    row["retail"] = retail
    for s in styles.values():
        s["description"] = s["description"] or s["number"]

    # Columns the file does not have keep their ERP values.
    style_update = [
        f
        for f, col in (
            ("description", "description"),
            ("division_code", "division"),
            ("season", "season"),
            ("category", "category"),
            ("active", "active"),
        )
        if col in sheet.columns
    ]
    color_update = ["color_name"] if "color_name" in sheet.columns else []
    sku_update = ["style_number", "color_code", "size", "size_index"] + (["upc"] if "upc" in sheet.columns else [])

    def steps() -> None:
        _upsert(session, Style.__table__, list(styles.values()), ["number"], style_update, touch=True)
        _upsert(session, StyleColor.__table__, list(colors.values()), ["style_number", "color_code"], color_update)
        report.inserted, report.updated = _upsert(session, Sku.__table__, list(skus.values()), ["sku"], sku_update)
        # A price type with a retail: column sets the retail price too; the others keep theirs.
        for with_retail in (False, True):
            _upsert(
                session,
                StylePrice.__table__,
                [p for p in prices.values() if ("retail" in p) is with_retail],
                ["style_number", "price_type_code"],
                ["price", "retail"] if with_retail else ["price"],
            )

    _write(session, steps)
    report.keys = set(skus)
    return report


# --- Inventory ----------------------------------------------------------------------------------

INVENTORY_COLUMNS = (
    Column("sku", ("sku", "sku_id", "sku_number", "sku_no"), header="SKU"),
    Column("style", ("style", "style_number", "style_no")),
    Column("color", ("color_code", "color", "colour_code", "option_code")),
    Column("size", ("size",)),
    Column("warehouse", ("warehouse", "warehouse_code", "whse", "location"), True),
    Column("on_hand", ("on_hand", "onhand", "qty_on_hand", "on_hand_qty", "quantity", "qty"), True),
    Column("allocated", ("allocated", "allocated_qty", "open_orders", "committed")),
    Column("future_qty", ("future_qty", "future_quantity", "wip_qty", "incoming", "on_order")),
    Column("future_date", ("future_date", "wip_date", "available_date", "eta")),
)


def load_inventory(session: Session, path: Path | str) -> LoadReport:
    sheet = open_sheet(path, "inventory", INVENTORY_COLUMNS)
    if "sku" not in sheet.columns and not all(c in sheet.columns for c in ("style", "color", "size")):
        raise LoadError(
            f'{sheet.path.name} has no "sku" column (nor "style", "color code" and "size"): '
            "the inventory file needs one of them to name the SKU."
        )
    report = LoadReport("inventory", str(path), ignored_columns=sheet.ignored)
    warehouses = _known(session.execute(select(Warehouse.code, Warehouse.name)))
    sku_ids: dict[str, str] = {}
    variants: dict[tuple[str, str, str], str] = {}
    for sku_id, style, color, size in session.execute(select(Sku.sku, Sku.style_number, Sku.color_code, Sku.size)):
        sku_ids[sku_id.upper()] = sku_id
        variants[(style.upper(), color.upper(), size.upper())] = sku_id
    has_allocated = sheet.columns.get("allocated") is not None
    has_future = "future_qty" in sheet.columns or "future_date" in sheet.columns

    rows: dict[tuple[str, str], dict[str, Any]] = {}
    key_row: dict[tuple[str, str], int] = {}
    for r in data_rows(sheet, report):
        sku = _inventory_sku(r, sku_ids, variants)
        warehouse_text = r.get("warehouse")
        warehouse = r.code(
            "warehouse",
            "warehouse",
            warehouses,
            f"add it to the ERP warehouses first with {load_command('warehouses')}, or correct it.",
        )
        if not warehouse_text:
            r.problem("warehouse", warehouse_text, "the warehouse is empty.")
        on_hand_text = r.get("on_hand")
        on_hand = r.whole_number("on_hand", "on hand", default=None)
        if not on_hand_text:
            r.problem("on_hand", on_hand_text, "on hand is empty: write 0 for no stock.")
        allocated = r.whole_number("allocated", "allocated")
        future_qty = r.whole_number("future_qty", "future quantity")
        future_date = r.date("future_date", "future date")
        if future_qty and not future_date and not r.problems:
            r.problem(
                "future_qty",
                r.get("future_qty"),
                f"future quantity {future_qty} has no future date: add the date it becomes available (WIP date).",
            )
        if sku and warehouse:
            key = (sku, warehouse)
            if key in key_row:
                r.problem(
                    "sku",
                    r.get("sku") or sku,
                    f"SKU {sku} in warehouse {warehouse} is already on row "
                    f"{key_row[key]}; each SKU and warehouse once per file.",
                )
        if r.problems:
            report.problems += r.problems
            continue
        assert sku and warehouse and on_hand is not None
        key_row[(sku, warehouse)] = r.row_no
        row: dict[str, Any] = {"sku": sku, "warehouse_code": warehouse, "on_hand": on_hand}
        if has_allocated:
            row["allocated"] = allocated or 0
        if has_future:
            row["future_qty"] = future_qty or 0
            row["future_date"] = future_date
        rows[(sku, warehouse)] = row
        report.rows_loaded += 1

    update = (
        ["on_hand"] + (["allocated"] if has_allocated else []) + (["future_qty", "future_date"] if has_future else [])
    )

    def steps() -> None:
        report.inserted, report.updated = _upsert(
            session, Inventory.__table__, list(rows.values()), ["sku", "warehouse_code"], update, touch=True
        )

    _write(session, steps)
    report.keys = {sku for sku, _ in rows}
    return report


def _inventory_sku(r: RowReader, sku_ids: dict[str, str], variants: dict[tuple[str, str, str], str]) -> str | None:
    text = r.get("sku")
    if text:
        sku = sku_ids.get(text.upper())
        if sku is None:
            r.problem(
                "sku",
                text,
                f"SKU {text} is not in the ERP: load it with the styles file first ({load_command('styles')}).",
            )
        return sku
    style, color, size = r.get("style"), r.get("color"), r.get("size")
    if not (style and color and size):
        r.problem(
            "sku" if r.has("sku") else "style",
            "",
            "the row names no SKU: give the SKU id, or the style, color code and size.",
        )
        return None
    sku = variants.get((style.upper(), color.upper(), size.upper()))
    if sku is None:
        r.problem(
            "style",
            f"{style}/{color}/{size}",
            f"{style}/{color}/{size} is not an ERP SKU: load it with the styles file first ({load_command('styles')}).",
        )
    return sku


# --- Catalog: prices, images, linesheets ----------------------------------------------------------

STYLE_ALIASES = ("style", "style_number", "style_no", "style_code")
COLOR_ALIASES = ("color_code", "color", "colour_code", "colour", "option_code")
POSITION_ALIASES = ("position", "display_order", "order", "sort_order", "sequence", "seq")


def _erp_styles(session: Session) -> dict[str, str]:
    """Each ERP style number, as written and in upper case, to the style number."""
    numbers = list(session.scalars(select(Style.number)))
    out = {n.upper(): n for n in numbers}
    out.update({n: n for n in numbers})  # a number as written wins over another's upper case
    return out


def _erp_colors(session: Session) -> dict[tuple[str, str], str]:
    """(style number, colour code in upper case) -> the ERP's colour code."""
    return {(s, c.upper()): c for s, c in session.execute(select(StyleColor.style_number, StyleColor.color_code))}


def _style_of(r: RowReader, styles: dict[str, str]) -> str | None:
    """The row's ERP style (case ignored); a problem when it is blank or not in the ERP."""
    text = r.get("style")
    if not text:
        r.problem("style", text, "the style number is empty.")
        return None
    style = styles.get(text) or styles.get(text.upper())
    if style is None:
        r.problem(
            "style",
            text,
            f"style {text} is not in the ERP: load it with the styles file first "
            f"({load_command('styles')}), or correct the style number.",
        )
    return style


def _color_of(r: RowReader, style: str | None, colors: dict[tuple[str, str], str]) -> str | None:
    """The row's colour of ``style`` (blank: None); a problem when the style has no such colour."""
    text = r.get("color")
    if not text or style is None:
        return None
    color = colors.get((style, text.upper()))
    if color is None:
        r.problem(
            "color",
            text,
            f"style {style} has no colour {text} in the ERP: load the colour with the styles file "
            f"first ({load_command('styles')}), or correct the colour code.",
        )
    return color


def _position(r: RowReader) -> int | None:
    """A display position: a whole number from 1 (first); blank: None (the file's order)."""
    text = r.get("position")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal(0)
    if not number.is_finite() or number != number.to_integral_value() or not 1 <= number <= MAX_WHOLE:
        r.problem("position", text, f'position "{text}" must be a whole number from 1 (first), or blank.')
        return None
    return int(number)


def _remove_others(
    session: Session, table: Table, parent: str, parents: Iterable[str], key: list[str], keep: set[tuple[Any, ...]]
) -> int:
    """Delete the rows of ``parents`` (values of the column ``parent``) whose ``key`` columns are not
    in ``keep``; returns how many were deleted."""
    listed = sorted(parents)
    doomed: list[int] = []
    for start in range(0, len(listed), BATCH_SIZE):
        found = session.execute(
            select(table.c.id, *(table.c[k] for k in key)).where(
                table.c[parent].in_(listed[start : start + BATCH_SIZE])
            )
        )
        doomed += [row[0] for row in found if tuple(row[1:]) not in keep]
    for start in range(0, len(doomed), BATCH_SIZE):
        session.execute(delete(table).where(table.c.id.in_(doomed[start : start + BATCH_SIZE])))
    return len(doomed)


# --- Prices: wholesale and retail per price type, for a style or one of its colours ---------------

PRICE_COLUMNS = (
    Column("style", STYLE_ALIASES, True),
    Column("color", COLOR_ALIASES),
    Column("price_type", ("price_type", "price_type_code", "price_code", "price_label", "price_tier"), True),
    Column("wholesale", ("wholesale", "wholesale_price", "price", "whl"), True),
    Column("retail", ("retail", "retail_price", "msrp", "suggested_retail")),
)


def load_prices(session: Session, path: Path | str) -> LoadReport:
    """One row per style (or style colour) and price type: its wholesale and retail price. A row
    with a colour is that colour's own price, where it differs from the style's."""
    sheet = open_sheet(path, "prices", PRICE_COLUMNS)
    report = LoadReport("prices", str(path), ignored_columns=sheet.ignored)
    styles = _erp_styles(session)
    colors = _erp_colors(session)
    price_types = _known(session.execute(select(PriceType.code, PriceType.description)))
    has_retail = "retail" in sheet.columns

    style_prices: dict[tuple[str, str], dict[str, Any]] = {}
    color_prices: dict[tuple[str, str, str], dict[str, Any]] = {}
    seen: dict[tuple[str, str, str], int] = {}  # (style, colour or "", price type) -> its row
    for r in data_rows(sheet, report):
        style = _style_of(r, styles)
        color = _color_of(r, style, colors)
        ptype_text = r.get("price_type")
        ptype = r.code(
            "price_type",
            "price type",
            price_types,
            f"add it to the ERP price types first with {load_command('price-types')}, or correct it.",
        )
        if not ptype_text:
            r.problem("price_type", ptype_text, "the price type is empty: name the ERP price type (WHL, ...).")
        wholesale = read_money(r, "wholesale", "wholesale price")
        retail = read_money(r, "retail", "retail price")
        if not r.get("wholesale"):
            if r.get("retail"):
                r.problem(
                    "wholesale",
                    "",
                    f"retail price {r.get('retail')} has no wholesale price: give the wholesale price "
                    f"in {ptype or 'the price type'} too.",
                )
            else:
                r.problem("wholesale", "", "the wholesale price is empty.")
        if style and ptype and not r.problems:
            key = (style, color or "", ptype)
            if key in seen:
                what = f"style {style}" + (f" colour {color}" if color else "")
                r.problem(
                    "price_type",
                    ptype_text,
                    f"{what} has a {ptype} price on row {seen[key]}; each style, colour and price type once per file.",
                )
            else:
                seen[key] = r.row_no
        if r.problems:
            report.problems += r.problems
            continue
        assert style and ptype and wholesale is not None
        report.rows_loaded += 1
        report.keys.add(style)
        retail_value = {"retail": retail} if has_retail else {}
        if color:
            color_prices[(style, color, ptype)] = {
                "style_number": style,
                "color_code": color,
                "price_type_code": ptype,
                "wholesale": wholesale,
            } | retail_value
        else:
            style_prices[(style, ptype)] = {
                "style_number": style,
                "price_type_code": ptype,
                "price": wholesale,
            } | retail_value

    # Without a Retail column, retail prices stay as they are; a blank cell in one clears a price.
    retail_update = ["retail"] if has_retail else []

    def steps() -> None:
        counts = [
            _upsert(
                session,
                StylePrice.__table__,
                list(style_prices.values()),
                ["style_number", "price_type_code"],
                ["price", *retail_update],
            ),
            _upsert(
                session,
                StyleColorPrice.__table__,
                list(color_prices.values()),
                ["style_number", "color_code", "price_type_code"],
                ["wholesale", *retail_update],
                touch=True,
            ),
        ]
        report.inserted = sum(i for i, _ in counts)
        report.updated = sum(u for _, u in counts)

    _write(session, steps)
    return report


# --- Images: the manifest of a style's images, its colours' and their swatches ------------------

IMAGE_COLUMNS = (
    Column("style", STYLE_ALIASES, True),
    Column("color", COLOR_ALIASES),
    Column("kind", ("kind", "image_kind", "image_type", "type", "level")),
    Column(
        "source",
        ("file_or_url", "file", "url", "source", "image", "path", "file_name", "filename", "image_file", "image_url"),
        True,
        header="File or URL",
    ),
    Column("position", POSITION_ALIASES),
    Column("alt", ("alt_text", "alt", "caption"), header="Alt Text"),
)
IMAGE_KIND_NAMES = {
    "style": "style",
    "style_color": "style_color",
    "style_colour": "style_color",
    "stylecolor": "style_color",
    "color": "style_color",
    "colour": "style_color",
    "swatch": "swatch",
}
URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MAX_URL_CHARS = 2000


def _image_kind(r: RowReader) -> str | None:
    """style | style_color | swatch; blank: style_color for a row with a colour, else style."""
    text, color = r.get("kind"), r.get("color")
    key = header_key(text)
    kind = IMAGE_KIND_NAMES.get(key) if key else ("style_color" if color else "style")
    if kind is None:
        r.problem(
            "kind",
            text,
            f'image kind "{text}" must be style, style_color or swatch '
            "(blank: style, or style_color when the row gives a colour).",
        )
    elif kind == "style" and color:
        r.problem(
            "kind",
            text,
            f"a style image shows the whole style, so it has no colour: clear the colour, "
            f"or write style_color for an image of colour {color}.",
        )
    elif kind != "style" and not color:
        r.problem("color", color, f"a {kind} image needs the colour code it shows.")
    return kind


def _image_source(r: RowReader, folder: Path) -> str | None:
    """The row's http(s) URL, or its file's path relative to ``folder`` (with ``/``); a problem
    when the URL is not http(s), or the file is not in the folder."""
    text = r.get("source")
    style = r.get("style") or "(no style)"
    if not text:
        r.problem(
            "source",
            text,
            "the file or URL is empty: give the image's path under the images folder, or its http(s) URL.",
        )
        return None
    if URL_RE.match(text):
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
            r.problem(
                "source",
                text,
                f'"{text}" for style {style} is not an http(s) URL: give an http:// or https:// address, '
                "or the image's path under the images folder.",
            )
        elif len(text) > MAX_URL_CHARS:
            r.problem("source", text, f"the URL is longer than {MAX_URL_CHARS:,} characters.")
        return text
    relative = text.replace("\\", "/")
    if relative.startswith("/") or re.match(r"^[A-Za-z]:", relative):
        r.problem(
            "source",
            text,
            f'image file "{text}" for style {style} is an absolute path: write its path relative to '
            f"the images folder {folder}.",
        )
        return None
    found = (folder / relative).resolve()
    if not found.is_relative_to(folder):
        r.problem(
            "source",
            text,
            f'image file "{text}" for style {style} is outside the images folder {folder}: '
            "move it into the folder and write its path from there.",
        )
        return None
    if not found.is_file():
        r.problem(
            "source",
            text,
            f'image file "{text}" for style {style} is not in the images folder {folder}: '
            "copy the file there, correct its path, or give its URL instead.",
        )
        return None
    return found.relative_to(folder).as_posix()


def load_images(session: Session, path: Path | str, images_dir: Path | str | None = None) -> LoadReport:
    """The images manifest: one row per image (style, colour, kind, file or URL, position, alt
    text). A file's path is relative to ``images_dir`` (default: the manifest's own folder).

    A style the file names gets exactly the images the file lists for it, once all its rows are
    good: its other images are removed. A style with a bad row keeps its other images until the
    file is corrected; styles the file does not name keep theirs."""
    sheet = open_sheet(path, "images", IMAGE_COLUMNS)
    folder = Path(images_dir) if images_dir is not None else sheet.path.parent
    if not folder.is_dir():
        raise LoadError(f"the images folder {folder} does not exist: give the folder that holds the image files.")
    folder = folder.resolve()
    report = LoadReport("images", str(path), ignored_columns=sheet.ignored)
    styles = _erp_styles(session)
    colors = _erp_colors(session)

    images: dict[tuple[str, str | None, str, int], dict[str, Any]] = {}  # slot -> row, in file order
    slot_row: dict[tuple[str, str | None, str, int], int] = {}
    source_row: dict[tuple[str, str | None, str, str], int] = {}
    swatch_row: dict[tuple[str, str], int] = {}
    last_position: dict[tuple[str, str | None, str], int] = {}
    bad_styles: set[str] = set()
    for r in data_rows(sheet, report):
        style = _style_of(r, styles)
        color = _color_of(r, style, colors)
        kind = _image_kind(r)
        source = _image_source(r, folder)
        position = _position(r)
        if style and kind and source and not r.problems:
            group = (style, color, kind)
            position = position or last_position.get(group, 0) + 1
            what = f"style {style}" + (f" colour {color}" if color else "")
            if (style, color, kind, position) in slot_row:
                r.problem(
                    "position",
                    r.get("position") or str(position),
                    f"{what} has a {kind} image at position {position} on row "
                    f"{slot_row[(style, color, kind, position)]}; give each image its own position.",
                )
            elif (style, color, kind, source) in source_row:
                r.problem(
                    "source",
                    r.get("source"),
                    f"{what} has this {kind} image on row {source_row[(style, color, kind, source)]}; "
                    "list each image once.",
                )
            elif kind == "swatch" and color and (style, color) in swatch_row:
                r.problem(
                    "kind",
                    r.get("kind"),
                    f"{what} has its swatch on row {swatch_row[(style, color)]}; a colour has one swatch.",
                )
        if r.problems:
            report.problems += r.problems
            if style:
                bad_styles.add(style)
            continue
        assert style and kind and source and position
        slot = (style, color, kind, position)
        slot_row[slot] = r.row_no
        source_row[(style, color, kind, source)] = r.row_no
        if kind == "swatch" and color:
            swatch_row[(style, color)] = r.row_no
        last_position[(style, color, kind)] = max(position, last_position.get((style, color, kind), 0))
        images[slot] = {
            "style_number": style,
            "color_code": color,
            "kind": kind,
            "position": position,
            "source": source,
            "folder": None if URL_RE.match(source) else str(folder),
            "alt_text": r.get("alt") or None,
        }
        report.rows_loaded += 1
        report.keys.add(style)

    update = ["source", "folder"] + (["alt_text"] if "alt" in sheet.columns else [])

    def steps() -> None:
        report.inserted, report.updated = _upsert(
            session,
            StyleImage.__table__,
            list(images.values()),
            ["style_number", "color_code", "kind", "position"],
            update,
            touch=True,
        )
        report.removed = _remove_others(
            session,
            StyleImage.__table__,
            "style_number",
            report.keys - bad_styles,
            ["style_number", "color_code", "kind", "position"],
            set(images),
        )

    _write(session, steps)
    return report


# --- Linesheets: a named selection of styles, in order, for a season and a delivery window ------

LINESHEET_COLUMNS = (
    Column("linesheet", ("linesheet", "linesheet_name", "line_sheet", "line_sheet_name"), True),
    Column("season", ("season",)),
    Column("delivery_start", ("delivery_start", "start_ship", "ship_start", "delivery_from", "start_date")),
    Column("delivery_end", ("delivery_end", "end_ship", "ship_end", "delivery_to", "end_date", "cancel_date")),
    Column("style", STYLE_ALIASES, True),
    Column("position", POSITION_ALIASES),
)
LINESHEET_FIELDS = ("season", "delivery_start", "delivery_end")  # each read from the column of its name
MAX_LINESHEET_NAME = 100


def load_linesheets(session: Session, path: Path | str) -> LoadReport:
    """One row per linesheet and style: the linesheet (name, season, delivery window, from the first
    row that gives each) and the style at its position.

    A linesheet the file names holds exactly the styles the file lists for it, once all its rows
    are good; a linesheet with a bad row keeps its other styles until the file is corrected. Names
    match ignoring case."""
    sheet = open_sheet(path, "linesheets", LINESHEET_COLUMNS)
    report = LoadReport("linesheets", str(path), ignored_columns=sheet.ignored)
    styles = _erp_styles(session)
    existing = {name.upper(): name for name in session.scalars(select(Linesheet.name))}

    heads: dict[str, dict[str, Any]] = {}  # linesheet (upper case) -> its row, in file order
    first_row: dict[str, int] = {}
    members: dict[tuple[str, str], dict[str, Any]] = {}  # (linesheet, style) -> row
    style_row: dict[tuple[str, str], int] = {}
    position_row: dict[tuple[str, int], int] = {}
    last_position: dict[str, int] = {}
    bad_sheets: set[str] = set()
    for r in data_rows(sheet, report):
        text = r.required("linesheet", "The linesheet name", MAX_LINESHEET_NAME)
        name = existing.get(text.upper(), text)
        key = name.upper()
        style = _style_of(r, styles)
        head: dict[str, Any] = {
            "name": name,
            "season": r.get("season") or None,
            "delivery_start": r.date("delivery_start", "the delivery start"),
            "delivery_end": r.date("delivery_end", "the delivery end"),
        }
        position = _position(r)
        seen = heads.get(key)
        if seen is not None:
            for fld in LINESHEET_FIELDS:
                if head[fld] and seen[fld] and head[fld] != seen[fld]:
                    r.problem(
                        fld,
                        r.get(fld),
                        f"linesheet {name} has {seen[fld]} on row {first_row[key]}; a linesheet's rows must agree.",
                    )
        start: date | None = head["delivery_start"] or (seen or {}).get("delivery_start")
        end: date | None = head["delivery_end"] or (seen or {}).get("delivery_end")
        if start and end and end < start:
            r.problem(
                "delivery_end" if head["delivery_end"] else "delivery_start",
                r.get("delivery_end") or r.get("delivery_start"),
                f"linesheet {name}'s delivery window ends ({end}) before it starts ({start}).",
            )
        if text and style and not r.problems:
            position = position or last_position.get(key, 0) + 1
            if (key, style) in style_row:
                r.problem(
                    "style",
                    r.get("style"),
                    f"style {style} is on linesheet {name} on row {style_row[(key, style)]}; "
                    "list each style once per linesheet.",
                )
            elif (key, position) in position_row:
                r.problem(
                    "position",
                    r.get("position") or str(position),
                    f"linesheet {name} has a style at position {position} on row "
                    f"{position_row[(key, position)]}; give each style its own position.",
                )
        if r.problems:
            report.problems += r.problems
            if text:
                bad_sheets.add(key)
            continue
        assert style and position
        if seen is None:
            heads[key] = head
            first_row[key] = r.row_no
        else:
            for fld in LINESHEET_FIELDS:
                seen[fld] = seen[fld] or head[fld]
        style_row[(key, style)] = r.row_no
        position_row[(key, position)] = r.row_no
        last_position[key] = max(position, last_position.get(key, 0))
        members[(key, style)] = {"linesheet_name": heads[key]["name"], "style_number": style, "position": position}
        report.rows_loaded += 1

    # Columns the file does not have keep their ERP values; a blank cell in one it has clears one.
    update = [fld for fld in LINESHEET_FIELDS if fld in sheet.columns]
    names = {heads[key]["name"] for key in heads}

    def steps() -> None:
        _upsert(session, Linesheet.__table__, list(heads.values()), ["name"], update, touch=True)
        report.inserted, report.updated = _upsert(
            session,
            LinesheetStyle.__table__,
            list(members.values()),
            ["linesheet_name", "style_number"],
            ["position"],
        )
        report.removed = _remove_others(
            session,
            LinesheetStyle.__table__,
            "linesheet_name",
            {heads[key]["name"] for key in heads if key not in bad_sheets},
            ["linesheet_name", "style_number"],
            {(m["linesheet_name"], m["style_number"]) for m in members.values()},
        )

    _write(session, steps)
    report.keys = names
    return report


# --- Codes: terms, ship-via, reps, divisions, warehouses, price types ----------------------------

CURRENCY_RE = re.compile(r"[A-Za-z]{3}")

# What one column of a codes file becomes in its table: (row, field, the row's code) -> value,
# with any problem noted on the row. A column the file lacks reads as "" (the value a new code gets).
CodeValue = Callable[[RowReader, str, str], Any]


def _text_or_code(r: RowReader, name: str, code: str) -> str:
    """Description / name: blank is the code itself (the table needs one, and the code reads as one)."""
    return r.get(name) or code


def _text_or_none(r: RowReader, name: str, code: str) -> str | None:
    return r.get(name) or None


def _name_given(r: RowReader, name: str, code: str) -> str:
    value = r.get(name)
    if not value:
        r.problem(name, value, f"the name is empty: partners send the rep's name, so {code} needs one.")
    return value


def _email(r: RowReader, name: str, code: str) -> str | None:
    value = r.get(name)
    if value and (len(value) > MAX_EMAIL_CHARS or not EMAIL_RE.match(value)):
        r.problem(name, value, f'"{value}" is not an e-mail address.')
    return value or None


def _currency(r: RowReader, name: str, code: str) -> str:
    value = r.get(name)
    if not value:
        r.problem(name, value, f"the currency is empty: price type {code} needs its currency (USD, EUR, ...).")
    elif not CURRENCY_RE.fullmatch(value):
        r.problem(name, value, f'currency "{value}" must be a 3-letter currency code (USD, EUR, GBP, ...).')
    return value.upper()


@dataclass(frozen=True)
class CodeFile:
    """A file of ERP codes, one row per code, upserted on the code. The first column is the code;
    each other column names the table's field it fills and how it is read."""

    kind: str  # as `bobbin erp load KIND` spells it
    what: str  # one code in a message: "terms", "ship-via", "sales rep", ...
    table: Table
    columns: tuple[Column, ...]
    values: dict[str, CodeValue]  # field -> reader, for every column but the code

    def __post_init__(self) -> None:
        if self.columns[0].name != "code" or set(self.values) != {c.name for c in self.columns[1:]}:
            raise ValueError(f"{self.kind}: the code comes first, then one reader per other column")


CODE_FILES: dict[str, CodeFile] = {
    f.kind: f
    for f in (
        CodeFile(
            "terms",
            "terms",
            Terms.__table__,
            (
                Column("code", ("code", "terms_code", "terms_id"), True),
                Column("description", ("description", "terms_description", "desc")),
            ),
            {"description": _text_or_code},
        ),
        CodeFile(
            "ship-via",
            "ship-via",
            ShipVia.__table__,
            (
                Column("code", ("code", "ship_via_code", "shipvia_code", "ship_via", "shipvia", "carrier_code"), True),
                Column("description", ("description", "ship_via_description", "desc", "carrier", "method")),
            ),
            {"description": _text_or_code},
        ),
        CodeFile(
            "reps",
            "sales rep",
            SalesRep.__table__,
            (
                Column("code", ("code", "rep_code", "sales_rep_code", "salesrep_code"), True),
                Column("name", ("name", "rep_name", "sales_rep_name"), True),
                Column("email", ("email", "e_mail", "email_address")),
            ),
            {"name": _name_given, "email": _email},
        ),
        CodeFile(
            "divisions",
            "division",
            Division.__table__,
            (
                Column("code", ("code", "division_code", "division", "div"), True),
                Column("name", ("name", "division_name")),
            ),
            {"name": _text_or_code},
        ),
        CodeFile(
            "warehouses",
            "warehouse",
            Warehouse.__table__,
            (
                Column("code", ("code", "warehouse_code", "warehouse", "whse"), True),
                Column("name", ("name", "warehouse_name")),
            ),
            {"name": _text_or_code},
        ),
        CodeFile(
            "price-types",
            "price type",
            PriceType.__table__,
            (
                Column("code", ("code", "price_type", "price_type_code", "price_code"), True),
                Column("currency", ("currency", "currency_code", "curr"), True),
                Column("description", ("description", "price_type_description", "desc")),
            ),
            {"currency": _currency, "description": _text_or_none},
        ),
    )
}


def load_codes(session: Session, path: Path | str, kind: str) -> LoadReport:
    """Load a file of ERP codes (``kind``: a key of ``CODE_FILES``). A code the ERP has in another
    case is that code (codes match ignoring case everywhere), so it is updated, not doubled; each
    code once per file; codes are never deleted."""
    spec = CODE_FILES[kind]
    sheet = open_sheet(path, kind, spec.columns)
    report = LoadReport(kind, str(path), ignored_columns=sheet.ignored)
    existing = {code.upper(): code for code in session.scalars(select(spec.table.c.code))}

    rows: dict[str, dict[str, Any]] = {}  # code (upper case) -> row, in file order
    seen: dict[str, tuple[int, str]] = {}  # code (upper case) -> the first row that has it (good or bad), as written
    for r in data_rows(sheet, report):
        text = r.required("code", f"The {spec.what} code")
        code = existing.get(text.upper(), text)
        if text and text.upper() in seen:
            first_row, first_text = seen[text.upper()]
            same = "" if first_text == text else " (codes match ignoring case)"
            r.problem(
                "code",
                text,
                f"{spec.what} code {first_text} is already on row {first_row}{same}; each code once per file.",
            )
        elif text:
            seen[text.upper()] = (r.row_no, text)
        row = {"code": code} | {name: read(r, name, code) for name, read in spec.values.items()}
        if r.problems:
            report.problems += r.problems
            continue
        rows[code.upper()] = row
        report.rows_loaded += 1

    # Columns the file does not have keep their ERP values (a new code gets the column's blank value).
    update = [name for name in spec.values if name in sheet.columns]

    def steps() -> None:
        report.inserted, report.updated = _upsert(session, spec.table, list(rows.values()), ["code"], update)

    _write(session, steps)
    report.keys = {row["code"] for row in rows.values()}
    return report


def load_terms(session: Session, path: Path | str) -> LoadReport:
    return load_codes(session, path, "terms")


def load_ship_vias(session: Session, path: Path | str) -> LoadReport:
    return load_codes(session, path, "ship-via")


def load_reps(session: Session, path: Path | str) -> LoadReport:
    return load_codes(session, path, "reps")


def load_divisions(session: Session, path: Path | str) -> LoadReport:
    return load_codes(session, path, "divisions")


def load_warehouses(session: Session, path: Path | str) -> LoadReport:
    return load_codes(session, path, "warehouses")


def load_price_types(session: Session, path: Path | str) -> LoadReport:
    return load_codes(session, path, "price-types")


# --- Every kind: its loader and its columns ------------------------------------------------------

Loader = Callable[[Session, Path | str], LoadReport]

LOADERS: dict[str, Loader] = {
    "customers": load_customers,
    "styles": load_styles,
    "inventory": load_inventory,
    "prices": load_prices,
    "images": load_images,
    "linesheets": load_linesheets,
    "terms": load_terms,
    "ship-via": load_ship_vias,
    "reps": load_reps,
    "divisions": load_divisions,
    "warehouses": load_warehouses,
    "price-types": load_price_types,
}
# The columns each loader reads, in the order a template writes them.
FILE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "customers": CUSTOMER_COLUMNS,
    "styles": STYLE_COLUMNS,
    "inventory": INVENTORY_COLUMNS,
    "prices": PRICE_COLUMNS,
    "images": IMAGE_COLUMNS,
    "linesheets": LINESHEET_COLUMNS,
    **{kind: spec.columns for kind, spec in CODE_FILES.items()},
}
# Headers a kind reads besides its columns, as a template shows them (styles: a price per price type).
EXTRA_HEADERS: dict[str, str] = {"styles": f"{PRICE_PREFIX}<PRICE TYPE> and {RETAIL_PREFIX}<PRICE TYPE>"}


# Kinds another service module loads: kind -> (its module, its loader, its columns), by name. The
# module is imported the first time the kinds are looked up (loaders(), file_columns()), not with
# this one, so a program that loads none of them (every `bobbin` command at start) does without it.
ELSEWHERE: dict[str, tuple[str, str, str]] = {
    "shipments": ("services.erp_handoff", "load_shipments", "SHIPMENT_COLUMNS"),
    "receipts": ("services.receipts_load", "load_receipts", "RECEIPT_COLUMNS"),
    "ebay-listings": ("services.ebay_listings_load", "load_ebay_listings", "EBAY_LISTING_COLUMNS"),
}


def register_kind(kind: str, loader: Loader, columns: tuple[Column, ...]) -> None:
    """Add a kind of file (``bobbin erp load KIND`` and ``bobbin erp template KIND`` take it)."""
    LOADERS[kind] = loader
    FILE_COLUMNS[kind] = columns


def _add_elsewhere() -> None:
    for kind, (module, loader, columns) in ELSEWHERE.items():
        if kind not in LOADERS:
            found = importlib.import_module(module)
            register_kind(kind, getattr(found, loader), getattr(found, columns))


def loaders() -> dict[str, Loader]:
    """Every kind's loader (``ELSEWHERE``'s included), keyed as ``bobbin erp load KIND`` spells it."""
    _add_elsewhere()
    return LOADERS


def file_columns() -> dict[str, tuple[Column, ...]]:
    """Every kind's columns (``ELSEWHERE``'s included), in the order its template writes them."""
    _add_elsewhere()
    return FILE_COLUMNS


# --- Templates: the empty sheet of a kind ---------------------------------------------------------

TEMPLATE_FORMATS = ("csv", "xlsx")


def template_headers(kind: str, extra: Iterable[str] = ()) -> list[str]:
    """The header row of ``kind``'s empty sheet: each column the loader reads, by its documented
    name, then ``extra`` headers (styles: ``price:WHL`` ...)."""
    columns = file_columns()
    if kind not in columns:
        raise LoadError(f"there is no {kind!r} file: Bobbin loads {', '.join(columns)}.")
    return [c.title for c in columns[kind]] + list(extra)


def write_template(kind: str, path: Path | str, fmt: str = "csv", extra: Iterable[str] = ()) -> Path:
    """Write ``kind``'s empty sheet (its header row) to ``path`` as CSV (UTF-8) or .xlsx. In the
    workbook the header is bold and frozen and every column is formatted as text, so Excel keeps
    what is typed as typed (leading zeros of a zip or a UPC, codes like 1E5)."""
    headers = template_headers(kind, extra)
    path = Path(path)
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(headers)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    elif fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = kind[:31]
        ws.append(headers)
        for idx, header in enumerate(headers, start=1):
            ws.cell(row=1, column=idx).font = Font(bold=True)
            dim = ws.column_dimensions[get_column_letter(idx)]
            dim.width = max(12, len(header) + 4)
            dim.number_format = "@"
        ws.freeze_panes = "A2"
        wb.save(path)
    else:
        raise LoadError(f"a template is written as {' or '.join(TEMPLATE_FORMATS)}, not {fmt!r}.")
    return path
