"""ERP master data into Postgres: the demo bulk load, and the CSV / .xlsx loaders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bobbin import demo
from models.erp import Customer, CustomerAddress, Inventory, Sku, Style, StyleColor, StylePrice
from services.erp_load import LoadError, load_customers, load_inventory, load_styles

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
REFERENCE_TABLES = ("divisions", "sales_reps", "terms", "ship_vias", "warehouses", "price_types")


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world()


def reference_only(world: demo.DemoWorld) -> demo.DemoWorld:
    """The world's codes (terms, reps, warehouses, ...) without customers, styles or stock."""
    empty = {name: [] for name in demo.ERP_TABLES if name not in REFERENCE_TABLES}
    return replace(world, **empty)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def problems_by_row(report) -> dict[int, list[tuple[str | None, str | None]]]:
    out: dict[int, list[tuple[str | None, str | None]]] = {}
    for p in report.problems:
        out.setdefault(p.row, []).append((p.column, p.value))
    return out


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_erp_inserts_everything_once(session: Session, world: demo.DemoWorld) -> None:
    counts = demo.load_erp(session, world)
    session.commit()
    assert counts == {name: len(world.table(name)) for name in demo.ERP_TABLES}
    assert count(session, Sku) == len(world.skus) and count(session, Inventory) == 2 * len(world.skus)
    assert demo.load_erp(session, world) == {name: 0 for name in demo.ERP_TABLES}
    session.commit()
    price = session.scalar(select(StylePrice.price).where(StylePrice.price_type_code == "WHL").limit(1))
    assert isinstance(price, Decimal)


def test_sample_files_load_cleanly_and_agree_with_the_demo(session: Session, world: demo.DemoWorld) -> None:
    demo.load_erp(session, reference_only(world))
    customers = load_customers(session, SAMPLES / "customers.csv")
    styles = load_styles(session, SAMPLES / "styles.csv")
    inventory = load_inventory(session, SAMPLES / "inventory.csv")
    session.commit()
    for report in (customers, styles, inventory):
        assert report.problems == [], report.summary()
        assert report.rows_loaded == report.rows_read > 0
        assert report.updated == 0 and report.inserted > 0
    assert count(session, Customer) == len(customers.keys) == 6
    assert count(session, Sku) == len(styles.keys) == styles.rows_read
    assert count(session, Inventory) == inventory.rows_read
    # A blank address type is billing and shipping both; the rows match the demo world's exactly.
    rows = session.execute(
        select(CustomerAddress.customer_code, CustomerAddress.kind, CustomerAddress.address_key)
    ).all()
    expected = {
        (a["customer_code"], a["kind"], a["address_key"])
        for a in world.customer_addresses
        if a["customer_code"] in customers.keys
    }
    assert set(rows) == expected
    sku = world.skus[0]
    got = session.execute(
        select(Sku.style_number, Sku.color_code, Sku.size, Sku.upc).where(Sku.sku == sku["sku"])
    ).one()
    assert tuple(got) == (sku["style_number"], sku["color_code"], sku["size"], sku["upc"])
    assert (
        session.scalar(
            select(StylePrice.price).where(
                StylePrice.style_number == sku["style_number"], StylePrice.price_type_code == "MSRP"
            )
        )
        is not None
    )


def test_sample_files_load_again_as_updates(session: Session, world: demo.DemoWorld) -> None:
    demo.load_erp(session, reference_only(world))
    load_customers(session, SAMPLES / "customers.csv")
    first = load_styles(session, SAMPLES / "styles.csv")
    session.commit()
    again = load_styles(session, SAMPLES / "styles.csv")
    customers_again = load_customers(session, SAMPLES / "customers.csv")
    session.commit()
    assert (again.inserted, again.updated) == (0, first.inserted)
    assert (customers_again.inserted, customers_again.updated) == (0, 6)
    assert count(session, Sku) == first.inserted
    assert count(session, CustomerAddress) == len(
        [a for a in world.customer_addresses if a["customer_code"] in customers_again.keys]
    )


def test_sample_styles_xlsx_matches_the_csv(session: Session, world: demo.DemoWorld) -> None:
    demo.load_erp(session, reference_only(world))
    from_xlsx = load_styles(session, SAMPLES / "styles.xlsx")
    assert from_xlsx.problems == []
    assert from_xlsx.keys == load_styles(session, SAMPLES / "styles.csv").keys


BAD_CUSTOMERS = """\
Customer Code;Name;Email;Terms;Ship Via;Rep;Address Type;Address 1;City;State;Zip;Country;Fax
GOOD1;Good Shop;a@good.com;N30;UPSG;KM;;1 Main St;Portland;OR;97201;US;555
BAD01;Bad Terms;b@bad.com;N90;UPSG;KM;;2 Main St;Portland;OR;97201;US;
GOOD1;;;;;;S;9 Dock Rd;Portland;OR;97203;;
BAD02;Bad Rep;c@bad.com;N30;UPSG;ZZ;X;3 Main St;Austin;TX;7870;US;

GOOD2;Second Good;not-an-email;CC;FDX2;Priya Shah;B;4 Elm St;Boston;MA;2108;US;
GOOD2;Second Good;;Net 30;;;S;5 Elm St;Boston;MA;02109;US;
"""


def test_customers_csv_with_bad_rows(session: Session, world: demo.DemoWorld, tmp_path: Path) -> None:
    demo.load_erp(session, reference_only(world))
    report = load_customers(session, write(tmp_path / "customers.csv", BAD_CUSTOMERS))
    session.commit()
    # The blank line is not a row, but it keeps its number: rows are numbered as the file shows them.
    assert report.rows_read == 6
    by_row = problems_by_row(report)
    assert by_row[3] == [("Terms", "N90")]
    assert "add it to the ERP terms first" in next(p.message for p in report.problems if p.row == 3)
    assert by_row[5] == [("Rep", "ZZ"), ("Address Type", "X")]
    assert by_row[7] == [("Email", "not-an-email")]
    assert set(by_row) == {3, 5, 7}
    assert report.rows_loaded == 3 and report.keys == {"GOOD1", "GOOD2"}
    good1 = session.scalars(select(CustomerAddress.kind).where(CustomerAddress.customer_code == "GOOD1")).all()
    assert sorted(good1) == ["billing", "shipping", "shipping"]
    good2 = session.execute(
        select(Customer.name, Customer.terms_code, Customer.rep_code).where(Customer.code == "GOOD2")
    ).one()
    # Row 7 was rejected; row 8 creates GOOD2 (terms given by their description "Net 30").
    assert tuple(good2) == ("Second Good", "N30", None)
    assert report.ignored_columns == ["Fax"]


BAD_STYLES = """\
style,description,season,category,division,color code,color name,size,sku,upc,price:WHL,price:MSRP,price:XYZ
TS100,Crew Tee,SP27,Tops,WHSL,BLK,Black,S,AB001,036000291452,18.00,40.00,1
TS100,Crew Tee,SP27,Tops,WHSL,BLK,Black,M,AB002,036000291453,18.00,40.00,1
TS100,Crew Tee,SP27,Tops,WHSL,BLK,Black,L,AB001,,18.00,40.00,1
TS100,Crew Tee,SP27,Tops,WHSL,BLK,Black,XL,AB004,,19.00,40.00,1
TS100,Crew Tee,SP27,Tops,NOPE,NVY,Navy,S,AB005,,18.00,40.00,1
TS100,Crew Tee,SP27,Tops,WHSL,NVY,Navy,M,AB006,,-1,40.00,1
TS100,Crew Tee,SP27,Tops,WHSL,NVY,,L,AB007,,18,40,1
"""


def check_bad_styles(report) -> None:
    by_row = problems_by_row(report)
    assert by_row == {
        1: [("price:XYZ", "XYZ")],
        3: [("upc", "036000291453")],
        4: [("sku", "AB001")],
        5: [("price:WHL", "19.00")],
        6: [("division", "NOPE")],
        7: [("price:WHL", "-1")],
    }
    messages = {p.row: p.message for p in report.problems}
    assert "wrong check digit" in messages[3] and "should be 2" in messages[3]
    assert "row 2" in messages[4] and "TS100/BLK/S" in messages[4]
    assert report.rows_read == 7 and report.rows_loaded == 2
    assert report.keys == {"AB001", "AB007"}


def test_styles_csv_with_bad_rows(session: Session, world: demo.DemoWorld, tmp_path: Path) -> None:
    demo.load_erp(session, reference_only(world))
    report = load_styles(session, write(tmp_path / "styles.csv", BAD_STYLES))
    session.commit()
    check_bad_styles(report)
    assert session.scalars(select(Sku.sku).order_by(Sku.sku)).all() == ["AB001", "AB007"]
    assert session.scalars(select(StyleColor.color_name).order_by(StyleColor.color_code)).all() == ["Black", "NVY"]
    assert session.scalar(select(StylePrice.price).where(StylePrice.price_type_code == "WHL")) == Decimal("18.00")
    assert session.scalar(select(Style.division_code)) == "WHSL"


def test_styles_xlsx_with_bad_rows(session: Session, world: demo.DemoWorld, tmp_path: Path) -> None:
    from openpyxl import Workbook

    demo.load_erp(session, reference_only(world))
    wb = Workbook()
    ws = wb.active
    for line in BAD_STYLES.splitlines():
        cells: list[object] = line.split(",")
        # As Excel holds them: prices and UPCs as numbers (the 036... UPC loses its leading zero).
        cells = [float(c) if i >= 10 and c.lstrip("-").replace(".", "").isdigit() else c for i, c in enumerate(cells)]
        if cells[9] and str(cells[9]).isdigit():
            cells[9] = int(str(cells[9]))
        ws.append(cells)
    path = tmp_path / "styles.xlsx"
    wb.save(path)
    report = load_styles(session, path)
    session.commit()
    by_row = problems_by_row(report)
    assert set(by_row) == {1, 3, 4, 5, 6, 7}
    assert by_row[3] == [("upc", "36000291453")] and by_row[4] == [("sku", "AB001")]
    assert report.keys == {"AB001", "AB007"}
    assert session.scalar(select(Sku.upc).where(Sku.sku == "AB001")) == "036000291452"


BAD_INVENTORY = """\
SKU,Warehouse,On Hand,Allocated,Future Qty,Future Date
AB001,MAIN,12,2,48,2027-01-15
AB001,LA3,5,,,
AB007,WEST,-3,,,
ZZZ99,MAIN,1,,,
AB007,MAIN,7,,24,
AB007,MAIN,4,,24,02/01/2027
AB001,MAIN,1,,,
"""


def test_inventory_with_bad_rows(session: Session, world: demo.DemoWorld, tmp_path: Path) -> None:
    demo.load_erp(session, reference_only(world))
    load_styles(session, write(tmp_path / "styles.csv", BAD_STYLES))
    report = load_inventory(session, write(tmp_path / "inventory.csv", BAD_INVENTORY))
    session.commit()
    assert problems_by_row(report) == {
        3: [("Warehouse", "LA3")],
        4: [("On Hand", "-3")],
        5: [("SKU", "ZZZ99")],
        6: [("Future Qty", "24")],
        8: [("SKU", "AB001")],
    }
    messages = {p.row: p.message for p in report.problems}
    assert "add it to the ERP warehouses first" in messages[3]
    assert "negative" in messages[4] and "load it with the styles file first" in messages[5]
    rows = session.execute(
        select(
            Inventory.sku,
            Inventory.warehouse_code,
            Inventory.on_hand,
            Inventory.allocated,
            Inventory.future_qty,
            Inventory.future_date,
        ).order_by(Inventory.sku)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("AB001", "MAIN", 12, 2, 48, date(2027, 1, 15)),
        ("AB007", "MAIN", 4, 0, 24, date(2027, 2, 1)),
    ]
    # Loaded again with only on hand: the other buckets keep their values (upsert, no duplicates).
    again = load_inventory(session, write(tmp_path / "onhand.csv", "sku;warehouse;on hand\nAB001;MAIN;30\n"))
    session.commit()
    assert (again.inserted, again.updated, again.problems) == (0, 1, [])
    assert session.execute(select(Inventory.on_hand, Inventory.future_qty).where(Inventory.sku == "AB001")).one() == (
        30,
        48,
    )


def test_inventory_by_style_color_size(session: Session, world: demo.DemoWorld, tmp_path: Path) -> None:
    demo.load_erp(session, reference_only(world))
    load_styles(session, write(tmp_path / "styles.csv", BAD_STYLES))
    report = load_inventory(
        session,
        write(
            tmp_path / "inv.csv", "Style,Color,Size,Warehouse,Qty On Hand\nts100,blk,s,main,9\nTS100,BLK,XXL,MAIN,1\n"
        ),
    )
    assert report.keys == {"AB001"} and [p.row for p in report.problems] == [3]


def test_a_failure_mid_file_writes_nothing(
    session: Session, world: demo.DemoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.erp_load as erp_load

    demo.load_erp(session, reference_only(world))
    session.commit()
    monkeypatch.setattr(erp_load, "BATCH_SIZE", 2)
    calls = {"n": 0}
    real = Session.execute

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # part-way through the writes (styles written, colors half-way)
            raise RuntimeError("connection lost")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Session, "execute", failing)
    with pytest.raises(RuntimeError):
        load_styles(session, SAMPLES / "styles.csv")
    monkeypatch.setattr(Session, "execute", real)
    assert count(session, Style) == 0 and count(session, Sku) == 0
    session.commit()  # the caller's transaction is still usable


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.csv", None, "does not exist"),
        ("styles.pdf", b"%PDF-1.4", "not a CSV or .xlsx file"),
        ("styles.xls", b"\xd0\xcf\x11\xe0", "old Excel .xls"),
        ("empty.csv", b"", "is empty"),
        ("noheader.csv", b"\n\n", "no header row"),
        ("nosku.csv", b"style,color code,size,upc\nA,B,C,\n", 'no "sku" column'),
        ("latin1.csv", "style,color code,size,sku\nCaf\u00e9,B,C,D\n".encode("latin-1"), "not UTF-8"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "cannot be opened as an Excel"),
        ("twice.csv", b"style,style number,color code,size,sku\n", "two columns"),
    ],
)
def test_unreadable_files_raise_load_error(
    session: Session, tmp_path: Path, name: str, content: bytes | None, words: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LoadError, match=words):
        load_styles(session, path)
