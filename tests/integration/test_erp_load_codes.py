"""Every code an order is checked against can be loaded from a file, and every kind of file has a
template: `bobbin erp load terms|ship-via|reps|divisions|warehouses|price-types FILE` and
`bobbin erp template KIND`, against the real Postgres.

Given the demo brand's codes (or a held order waiting on a code), when a file is loaded, then the
good rows are upserted on the code, the bad ones are listed with row, column, value and problem,
a file that cannot be read loads nothing, and a held order the new code was missing is imported.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bobbin import demo
from bobbin.cli.main import app
from models.erp import Division, PriceType, SalesRep, ShipVia, Terms, Warehouse
from services import erp_load
from services.erp_load import LOADERS, LoadError, load_codes, template_headers, write_template

pytestmark = pytest.mark.integration

REFERENCE_TABLES = ("divisions", "sales_reps", "terms", "ship_vias", "warehouses", "price_types")
WIDE = {"COLUMNS": "250"}  # no table wraps a value the assertions look for
SITE = "bb"


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world(styles=5, customers=5)


def reference_only(world: demo.DemoWorld) -> demo.DemoWorld:
    """The world's codes (terms, reps, warehouses, ...) without customers, styles or stock."""
    return replace(world, **{name: [] for name in demo.ERP_TABLES if name not in REFERENCE_TABLES})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def table_rows(session: Session, model: Any, *fields: str) -> dict[str, tuple[Any, ...]]:
    cols = [getattr(model, f) for f in fields]
    return {row[0]: tuple(row[1:]) for row in session.execute(select(model.code, *cols))}


# --- each kind: good rows in, bad rows listed -----------------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: str
    model: Any
    fields: tuple[str, ...]  # what is compared after the load, besides the code
    text: str
    loaded: dict[str, tuple[Any, ...]]  # code -> fields, for the rows the file loads
    problems: list[tuple[int, str, str, str]]  # (row, column, value, words in the message)
    ignored: list[str]
    inserted: int
    updated: int


CASES = [
    Case(
        "terms",
        Terms,
        ("description",),
        # n30 is the ERP's N30 in another case: updated, not doubled; a blank description is the code.
        "Code,Description,Days\nN90,Net 90,90\nn30,Net Thirty,30\n,No code,10\nN90,Net 90 again,90\n"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ,Too long,5\nPP,,0\n",
        {"N90": ("Net 90",), "N30": ("Net Thirty",), "PP": ("PP",)},
        [
            (4, "Code", "", "code is empty"),
            (5, "Code", "N90", "already on row 2"),
            (6, "Code", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "longer than 20 characters"),
        ],
        ["Days"],
        2,
        1,
    ),
    Case(
        "ship-via",
        ShipVia,
        ("description",),
        "Ship Via Code;Carrier\nUPS2;UPS 2nd Day Air\nUPSG;UPS Ground (residential)\nfdx2;FedEx 2Day\nFDX2;FedEx\n",
        {"UPS2": ("UPS 2nd Day Air",), "UPSG": ("UPS Ground (residential)",), "FDX2": ("FedEx 2Day",)},
        [(5, "Ship Via Code", "FDX2", "already on row 4")],
        [],
        1,
        2,
    ),
    Case(
        "reps",
        SalesRep,
        ("name", "email"),
        # The rep table holds no division: the column is reported as not used.
        "Code,Name,Email,Division\nJL,Jordan Lee,jordan.lee@harborandpine.com,WHSL\nTQ,,tq@harborandpine.com,WHSL\n"
        "ZZ,Zed Zed,not-an-email,WHSL\nkm,Kate Morrison-Hale,,WHSL\n",
        {"JL": ("Jordan Lee", "jordan.lee@harborandpine.com"), "KM": ("Kate Morrison-Hale", None)},
        [(3, "Name", "", "the name is empty"), (4, "Email", "not-an-email", "is not an e-mail address")],
        ["Division"],
        1,
        1,
    ),
    Case(
        "divisions",
        Division,
        ("name",),
        "Division Code,Division Name\nOUTL,Outlet\nWHSL,Wholesale US\noutl,Outlet again\nEVT,\n",
        {"OUTL": ("Outlet",), "WHSL": ("Wholesale US",), "EVT": ("EVT",)},
        [(4, "Division Code", "outl", "division code OUTL is already on row 2 (codes match ignoring case)")],
        [],
        2,
        1,
    ),
    Case(
        "warehouses",
        Warehouse,
        ("name",),
        "Code,Name,Address\nEAST,East Coast DC,1 Dock Rd\nWEST,West Coast DC (Reno),\n,Nameless,\n",
        {"EAST": ("East Coast DC",), "WEST": ("West Coast DC (Reno)",)},
        [(4, "Code", "", "code is empty")],
        ["Address"],
        1,
        1,
    ),
    Case(
        "price-types",
        PriceType,
        ("currency", "description"),
        "Code,Currency,Description\nWHLG,gbp,Wholesale GBP\nBAD,US$,Dollars\nNOC,,No currency\nMSRP,USD,\n",
        {"WHLG": ("GBP", "Wholesale GBP"), "MSRP": ("USD", None)},
        [(3, "Currency", "US$", "3-letter currency code"), (4, "Currency", "", "currency is empty")],
        [],
        1,
        1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_each_kind_keeps_good_rows_and_lists_bad_ones(
    session: Session, world: demo.DemoWorld, tmp_path: Path, case: Case
) -> None:
    # given the demo brand's codes
    demo.load_erp(session, reference_only(world))
    session.commit()
    before = table_rows(session, case.model, *case.fields)

    # when the file is loaded
    report = LOADERS[case.kind](session, write(tmp_path / f"{case.kind}.csv", case.text))
    session.commit()

    # then the bad rows are listed, each with its row, column, value and what is wrong
    got = [(p.row, p.column, p.value) for p in report.problems]
    assert got == [(row, column, value) for row, column, value, _ in case.problems], report.problems
    for problem, (_, _, _, words) in zip(report.problems, case.problems, strict=True):
        assert words in problem.message, problem.message
    # and the good rows are in the ERP, the other codes as they were
    after = table_rows(session, case.model, *case.fields)
    assert after == before | case.loaded
    assert report.keys == set(case.loaded)
    assert (report.rows_read, report.rows_loaded) == (len(case.loaded) + len(case.problems), len(case.loaded))
    assert (report.inserted, report.updated) == (case.inserted, case.updated)
    assert report.ignored_columns == case.ignored


def test_loading_the_same_file_again_adds_nothing(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "terms.csv", "Code,Description\nN30,Net 30\nN60,Net 60\n")
    first = load_codes(session, path, "terms")
    again = load_codes(session, path, "terms")
    session.commit()
    assert (first.inserted, first.updated, again.inserted, again.updated) == (2, 0, 0, 2)
    assert session.scalar(select(func.count()).select_from(Terms)) == 2


def test_a_column_the_file_lacks_keeps_its_erp_value(session: Session, world: demo.DemoWorld, tmp_path: Path) -> None:
    # given rep KM with an e-mail, when a reps file without an Email column renames KM and adds NEW
    demo.load_erp(session, reference_only(world))
    report = load_codes(session, write(tmp_path / "reps.csv", "Rep Code,Rep Name\nKM,Kate M.\nNEW,New Rep\n"), "reps")
    session.commit()
    assert report.problems == []
    reps = table_rows(session, SalesRep, "name", "email")
    # then KM keeps its e-mail, and NEW has none
    assert reps["KM"] == ("Kate M.", f"kate.morrison@{demo.BRAND_DOMAIN}") and reps["NEW"] == ("New Rep", None)


@pytest.mark.parametrize(
    ("kind", "text", "words"),
    [
        ("terms", "Terms,Description\nN90,Net 90\n", 'terms.csv has no "code" column'),  # the wrong header
        ("reps", "Code,Email\nJL,jl@x.com\n", 'reps.csv has no "name" column'),
        ("price-types", "Code,Description\nWHLG,Wholesale GBP\n", 'price-types.csv has no "currency" column'),
        ("divisions", "", "is empty"),
        ("warehouses", "Code,Warehouse Code,Name\nA,B,C\n", "two columns"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_load_error_naming_what_is_missing(
    session: Session, world: demo.DemoWorld, tmp_path: Path, kind: str, text: str, words: str
) -> None:
    demo.load_erp(session, reference_only(world))
    session.commit()
    before = session.scalar(select(func.count()).select_from(Terms))
    with pytest.raises(LoadError, match=words):
        LOADERS[kind](session, write(tmp_path / f"{kind}.csv", text))
    assert session.scalar(select(func.count()).select_from(Terms)) == before


def test_a_failure_mid_file_writes_nothing(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a terms file of 5 codes written 2 per statement, and a connection lost at the second statement
    monkeypatch.setattr(erp_load, "BATCH_SIZE", 2)
    path = write(tmp_path / "terms.csv", "Code\n" + "".join(f"T{i}\n" for i in range(5)))
    real = Session.execute
    inserts = {"n": 0}

    def failing(self: Session, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(statement, "is_insert", False):
            inserts["n"] += 1
            if inserts["n"] == 2:
                raise RuntimeError("connection lost")
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "execute", failing)
    with pytest.raises(RuntimeError):
        load_codes(session, path, "terms")
    monkeypatch.setattr(Session, "execute", real)
    # then not one code of the file is there, and the caller's transaction is still usable
    assert inserts["n"] == 2
    assert session.scalar(select(func.count()).select_from(Terms)) == 0
    session.commit()


# --- templates ------------------------------------------------------------------------------------


def one_row(kind: str, world: demo.DemoWorld) -> dict[str, str]:
    """One good row per kind, by the template's headers (the ERP holds the demo brand's codes)."""
    sku = world.skus[0]["sku"]
    return {
        "customers": {
            "Customer Code": "RT01",
            "Name": "Round Trip Shop",
            "Email": "buyer@roundtrip.example",
            "Terms": "N30",
            "Ship Via": "UPSG",
            "Rep": "KM",
            "Division": "WHSL",
            "Address 1": "1 Loop Rd",
            "City": "Boston",
            "State": "MA",
            "Zip": "02108",
            "Country": "US",
        },
        "styles": {
            "Style": "RT100",
            "Description": "Round Trip Tee",
            "Division": "WHSL",
            "Color Code": "BLK",
            "Color Name": "Black",
            "Size": "M",
            "SKU": "RT001",
            "UPC": "036000291452",
            "price:WHL": "18.50",
        },
        "inventory": {"SKU": sku, "Warehouse": "MAIN", "On Hand": "12", "Future Qty": "4", "Future Date": "2027-01-15"},
        "terms": {"Code": "N90", "Description": "Net 90"},
        "ship-via": {"Code": "UPS2", "Description": "UPS 2nd Day Air"},
        "reps": {"Code": "JL", "Name": "Jordan Lee", "Email": "jordan.lee@harborandpine.com"},
        "divisions": {"Code": "OUTL", "Name": "Outlet"},
        "warehouses": {"Code": "EAST", "Name": "East Coast DC"},
        "price-types": {"Code": "WHLG", "Currency": "GBP", "Description": "Wholesale GBP"},
    }[kind]


def fill(path: Path, values: dict[str, str]) -> list[str]:
    """Add one row under the template's header, as a person would in Excel or an editor."""
    if path.suffix == ".xlsx":
        wb = load_workbook(path)
        ws = wb.worksheets[0]
        headers = [c.value for c in ws[1]]
        ws.append([values.get(str(h), "") for h in headers])
        wb.save(path)
    else:
        headers = path.read_text(encoding="utf-8").rstrip("\n").split(",")
        with path.open("a", encoding="utf-8") as f:
            f.write(",".join(values.get(h, "") for h in headers) + "\n")
    return [str(h) for h in headers]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "kind", ["customers", "styles", "inventory", "terms", "ship-via", "reps", "divisions", "warehouses", "price-types"]
)
def test_a_template_filled_with_one_row_loads(
    session: Session, world: demo.DemoWorld, tmp_path: Path, kind: str, fmt: str
) -> None:
    # given the ERP's codes and a kind's template, written by the command
    demo.load_erp(session, replace(world, **{n: [] for n in ("customers", "customer_addresses")}))
    session.commit()
    path = tmp_path / f"{kind}.{fmt}"
    extra = ["--price-type", "WHL"] if kind == "styles" else []
    result = bobbin("erp", "template", kind, "--output", str(path), *extra)
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.stdout and f"bobbin erp load {kind} {path}" in result.stdout

    # when one row is filled in under its header and the file is loaded
    headers = fill(path, one_row(kind, world))
    report = LOADERS[kind](session, path)
    session.commit()

    # then the header is the loader's columns, every one of them read, and the row loads
    assert headers == template_headers(kind, ["price:WHL"] if kind == "styles" else [])
    assert report.ignored_columns == [] and report.problems == [], report.problems
    assert (report.rows_read, report.rows_loaded) == (1, 1)


def test_the_xlsx_template_keeps_what_is_typed_as_text(tmp_path: Path) -> None:
    path = write_template("customers", tmp_path / "customers.xlsx", "xlsx")
    ws = load_workbook(path).worksheets[0]
    assert [c.value for c in ws[1]] == template_headers("customers")
    assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
    assert ws.column_dimensions["N"].number_format == "@"  # Zip: 02108 stays 02108


# --- through the CLI --------------------------------------------------------------------------------


class _CurrentStderr:
    """sys.stderr as it is at write time (CliRunner swaps it per command)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def cli_logging() -> Iterator[None]:
    """Logs as `bobbin` sets them up: warnings only, on stderr, so stdout stays the command's output."""
    import structlog

    from core.logging import configure

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure(level="WARNING", fmt="console", stream=_CurrentStderr())
    structlog.configure(cache_logger_on_first_use=False)
    yield
    structlog.reset_defaults()
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def bobbin(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=WIDE)


def hold_terms_order(world: demo.DemoWorld) -> int:
    """The ERP and a Brandboom site with the brand's mappings, and the demo order whose payment
    terms ("Net 90") the ERP does not have, held and validated as an import leaves it."""
    from connectors.brandboom.mapper import to_partner_order
    from core.db import session_scope
    from models import InboundOrder, Mapping
    from services.holding import stage_page
    from services.pipeline import validate_and_import
    from services.sites import create_site

    with session_scope() as s:
        demo.load_erp(s, world)
        site = create_site(
            s,
            name=SITE,
            kind="brandboom",
            base_url="http://127.0.0.1:9/api/v2",
            credentials={
                "public_key": "5A1B2C3D4E5F60718293A4B5C6D7E8F9",
                "secret_key": "F0E1D2C3B4A5968778695A4B3C2D1E0F",
            },
            division="WHSL",
            notify_emails=["ops@harborandpine.example"],
        )
        s.flush()
        s.add_all([Mapping(site_id=site.id, **m) for m in demo.demo_mappings()])
        site_id = site.id
    order = next(o for o in world.brandboom_orders if o["id"] == demo.O_TERMS_UNMAPPED)
    with session_scope() as s:
        stage_page(s, site_id, [to_partner_order(order)])
    validate_and_import(site_id)
    with session_scope() as s:
        order_id = s.scalar(select(InboundOrder.id).where(InboundOrder.partner_order_id == str(demo.O_TERMS_UNMAPPED)))
    assert order_id is not None
    return order_id


def state_of(order_id: int) -> str | None:
    from core.db import session_scope
    from models import InboundOrder

    with session_scope() as s:
        return s.scalar(select(InboundOrder.state).where(InboundOrder.id == order_id))


def test_erp_load_terms_makes_the_order_waiting_on_them_valid(db: str, world: demo.DemoWorld, tmp_path: Path) -> None:
    # given an order held because its terms "Net 90" are not in the ERP
    order_id = hold_terms_order(world)
    assert state_of(order_id) == "invalid"
    # and its problem says how to add terms to the ERP
    shown = bobbin("orders", "show", str(order_id))
    assert shown.exit_code == 0, shown.output
    assert "bobbin erp load terms FILE (template: bobbin erp template terms)" in shown.stdout

    # when a person writes the terms template, fills in N90 "Net 90" with one bad row, and loads it
    path = tmp_path / "terms.csv"
    assert bobbin("erp", "template", "terms", "--output", str(path)).exit_code == 0
    with path.open("a", encoding="utf-8") as f:
        f.write("N90,Net 90\n,Missing code\n")
    result = bobbin("erp", "load", "terms", str(path))

    # then the good row loads, the bad one is listed, and the held order is imported
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Read 2 rows from terms.csv; loaded 1." in out
    assert "1 row was not loaded" in out and "The terms code is empty." in out
    assert "Checked 1 held order again: 1 valid, 0 invalid; 1 order imported." in out
    assert state_of(order_id) == "imported"
    from core.db import session_scope
    from models import SalesOrder

    with session_scope() as s:
        assert s.scalar(select(SalesOrder.terms_code).where(SalesOrder.inbound_order_id == order_id)) == "N90"


def test_erp_load_of_codes_as_json_and_its_errors(db: str, tmp_path: Path) -> None:
    # a reps file with one bad row, as JSON
    path = write(tmp_path / "reps.csv", "Code,Name,Email\nJL,Jordan Lee,jl@x.com\nTQ,Taylor Quinn,nope\n")
    result = bobbin("erp", "load", "reps", str(path), "--json")
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["what"] == "reps" and (data["rows_read"], data["rows_loaded"]) == (2, 1)
    assert [(p["row"], p["column"], p["value"]) for p in data["problems"]] == [(3, "Email", "nope")]

    # a file without a required column: one line naming it, exit 1, nothing loaded
    bad = write(tmp_path / "price-types.csv", "Code,Description\nWHLG,Wholesale GBP\n")
    failed = bobbin("erp", "load", "price-types", str(bad))
    assert failed.exit_code == 1
    assert (
        failed.stderr.startswith('Error: price-types.csv has no "currency" column') and failed.stderr.count("\n") == 1
    )
    assert "Traceback" not in failed.output

    # a kind Bobbin does not load: a usage error listing the kinds
    unknown = bobbin("erp", "load", "colours", str(path))
    assert unknown.exit_code == 2 and "price-types" in unknown.output and "ship-via" in unknown.output


def test_erp_template_prints_refuses_to_overwrite_and_checks_its_options(tmp_path: Path) -> None:
    printed = bobbin("erp", "template", "price-types", "--output", "-")
    assert printed.exit_code == 0 and printed.stdout == "Code,Currency,Description\n"
    path = tmp_path / "terms.csv"
    assert bobbin("erp", "template", "terms", "-o", str(path)).exit_code == 0
    path.write_text("Code,Description\nN90,Net 90\n", encoding="utf-8")
    again = bobbin("erp", "template", "terms", "-o", str(path))
    assert again.exit_code == 1 and "already there" in again.stderr
    assert path.read_text(encoding="utf-8").endswith("N90,Net 90\n")  # the filled file is kept
    assert bobbin("erp", "template", "terms", "-o", str(path), "--force").exit_code == 0
    assert path.read_text(encoding="utf-8") == "Code,Description\n"
    # the format follows the suffix; a contradiction is refused
    xlsx = tmp_path / "reps.xlsx"
    assert bobbin("erp", "template", "reps", "-o", str(xlsx)).exit_code == 0
    assert [c.value for c in load_workbook(xlsx).worksheets[0][1]] == ["Code", "Name", "Email"]
    assert bobbin("erp", "template", "reps", "--format", "csv", "-o", str(tmp_path / "r.xlsx")).exit_code == 2
    assert bobbin("erp", "template", "terms", "--price-type", "WHL").exit_code == 2
