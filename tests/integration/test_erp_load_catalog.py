"""The catalog the partners are sent, loaded from the ERP's files against the real Postgres:
`bobbin erp load prices|images|linesheets FILE` and the styles file's retail:<TYPE> columns.

Given the demo brand's codes and styles, when a file is loaded (CSV or .xlsx), then its good rows
are upserted on their natural keys, a second load of the same file changes nothing, each bad row is
listed with its row, column and a sentence saying what to do, and the rest of the file loads.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bobbin import demo
from bobbin.cli.main import app
from models.erp import Linesheet, LinesheetStyle, StyleColor, StyleColorPrice, StyleImage, StylePrice
from services.erp_load import (
    FILE_COLUMNS,
    LOADERS,
    LoadReport,
    load_images,
    load_linesheets,
    load_prices,
    load_styles,
    template_headers,
)

pytestmark = pytest.mark.integration

WIDE = {"COLUMNS": "250"}
CATALOG_EXTRAS = ("style_color_prices", "style_images", "linesheets", "linesheet_styles")


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world(styles=5, customers=5)


def styles_only(world: demo.DemoWorld) -> demo.DemoWorld:
    """The codes, styles, colours, SKUs and style prices (wholesale only) of the demo brand."""
    prices = [{k: v for k, v in p.items() if k != "retail"} for p in world.style_prices]
    empty: dict[str, Any] = {name: [] for name in ("customers", "customer_addresses", "inventory", *CATALOG_EXTRAS)}
    return replace(world, style_prices=prices, **empty)


@pytest.fixture()
def erp(session: Session, world: demo.DemoWorld) -> demo.DemoWorld:
    demo.load_erp(session, styles_only(world))
    session.commit()
    return world


def sheet(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a CSV or an .xlsx (by the suffix), every cell as text, as a person types it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".xlsx":
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(header)
        for row in rows:
            ws.append(row)
        wb.save(path)
    else:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    return path


def problems(report: LoadReport) -> list[tuple[int, str | None, str]]:
    return [(p.row, p.column, p.message) for p in report.problems]


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def colors_of(world: demo.DemoWorld, style: str) -> list[str]:
    return [c["color_code"] for c in world.style_colors if c["style_number"] == style]


def bobbin(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=WIDE)


# --- prices -----------------------------------------------------------------------------------------

PRICE_HEADER = ["Style", "Color Code", "Price Type", "Wholesale", "Retail"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_prices_load_wholesale_retail_and_a_colour_override(
    session: Session, erp: demo.DemoWorld, tmp_path: Path, fmt: str
) -> None:
    # given the styles with wholesale prices only, and a prices file for two of them
    a, b = erp.styles[0]["number"], erp.styles[1]["number"]
    color = colors_of(erp, a)[-1]
    path = sheet(
        tmp_path / f"prices.{fmt}",
        PRICE_HEADER,
        [
            [a, "", "WHL", "42.50", "94"],
            [a, color.lower(), "WHL", "46.50", "$102.00"],
            [b.lower(), "", "whl", "30", ""],
            [b, "", "Wholesale EUR", "27,60", "60"],
        ],
    )

    # when it is loaded
    report = load_prices(session, path)
    session.commit()

    # then every row loads: style prices with their retail, the colour's own price beside them
    assert problems(report) == [] and (report.rows_read, report.rows_loaded) == (4, 4)
    assert report.keys == {a, b} and (report.inserted, report.updated) == (1, 3)
    got = {
        (p.style_number, p.price_type_code): (p.wholesale, p.retail)
        for p in session.scalars(select(StylePrice).where(StylePrice.style_number.in_([a, b])))
    }
    assert got[(a, "WHL")] == (Decimal("42.50"), Decimal("94.00"))
    assert got[(b, "WHL")] == (Decimal("30.00"), None)
    assert got[(b, "WHLE")] == (Decimal("27.60"), Decimal("60.00"))
    assert got[(a, "MSRP")][1] is None  # a price type the file does not name is left as it was
    override = session.scalars(select(StyleColorPrice)).one()
    assert (override.style_number, override.color_code, override.price_type_code) == (a, color, "WHL")
    assert (override.wholesale, override.retail) == (Decimal("46.50"), Decimal("102.00"))

    # when the same file is loaded again, then the same rows are there: updated, none added
    again = load_prices(session, path)
    session.commit()
    assert problems(again) == [] and (again.inserted, again.updated) == (0, 4)
    assert count(session, StyleColorPrice) == 1 and count(session, StylePrice) == len(erp.style_prices)


def test_bad_price_rows_are_listed_and_the_rest_loads(session: Session, erp: demo.DemoWorld, tmp_path: Path) -> None:
    a = erp.styles[0]["number"]
    color = colors_of(erp, a)[0]
    path = sheet(
        tmp_path / "prices.csv",
        PRICE_HEADER,
        [
            [a, "", "WHL", "44", "96"],  # 2: good
            ["NOPE1", "", "WHL", "10", ""],  # 3: unknown style
            [a, "", "GBPW", "10", ""],  # 4: unknown price type
            [a, "ZZZ", "WHL", "10", ""],  # 5: unknown colour
            [a, color, "WHL", "ten", ""],  # 6: money not a number
            [a, color, "WHLE", "", "80"],  # 7: retail without wholesale
            [a, "", "MSRP", "-5", ""],  # 8: negative
            [a, "", "WHL", "45", ""],  # 9: the style and price type again
            [a, color, "", "", ""],  # 10: no price type, no wholesale
            [a, color, "WHL", "48", "abc"],  # 11: retail not a number
        ],
    )
    report = load_prices(session, path)
    session.commit()

    assert problems(report) == [
        (
            3,
            "Style",
            "style NOPE1 is not in the ERP: load it with the styles file first (`bobbin erp load styles FILE` "
            "(template: `bobbin erp template styles`)), or correct the style number.",
        ),
        (
            4,
            "Price Type",
            'unknown price type "GBPW": add it to the ERP price types first with '
            "`bobbin erp load price-types FILE` (template: `bobbin erp template price-types`), or correct it.",
        ),
        (
            5,
            "Color Code",
            f"style {a} has no colour ZZZ in the ERP: load the colour with the styles file first "
            "(`bobbin erp load styles FILE` (template: `bobbin erp template styles`)), or correct the colour code.",
        ),
        (6, "Wholesale", 'wholesale price "ten" is not a number.'),
        (7, "Wholesale", "retail price 80 has no wholesale price: give the wholesale price in WHLE too."),
        (8, "Wholesale", "wholesale price -5 is negative."),
        (9, "Price Type", f"style {a} has a WHL price on row 2; each style, colour and price type once per file."),
        (10, "Price Type", "the price type is empty: name the ERP price type (WHL, ...)."),
        (10, "Wholesale", "the wholesale price is empty."),
        (11, "Retail", 'retail price "abc" is not a number.'),
    ]
    assert (report.rows_read, report.rows_loaded) == (10, 1)
    price = session.scalars(select(StylePrice).where(StylePrice.style_number == a, StylePrice.price_type_code == "WHL"))
    assert [(p.price, p.retail) for p in price] == [(Decimal("44.00"), Decimal("96.00"))]
    assert count(session, StyleColorPrice) == 0


def test_a_prices_file_without_retail_keeps_the_retail_prices(
    session: Session, erp: demo.DemoWorld, tmp_path: Path
) -> None:
    a = erp.styles[0]["number"]
    load_prices(session, sheet(tmp_path / "with.csv", PRICE_HEADER, [[a, "", "WHL", "40", "90"]]))
    # a file without a Retail column changes the wholesale price only
    load_prices(session, sheet(tmp_path / "without.csv", PRICE_HEADER[:4], [[a, "", "WHL", "41"]]))
    session.commit()
    where = (StylePrice.style_number == a, StylePrice.price_type_code == "WHL")
    assert session.execute(select(StylePrice.price, StylePrice.retail).where(*where)).one() == (
        Decimal("41.00"),
        Decimal("90.00"),
    )
    # a blank cell in a Retail column it has clears the retail price
    load_prices(session, sheet(tmp_path / "blank.csv", PRICE_HEADER, [[a, "", "WHL", "41", ""]]))
    session.commit()
    assert session.scalar(select(StylePrice.retail).where(*where)) is None


# --- the styles file's retail:<TYPE> columns -----------------------------------------------------------


def test_the_styles_file_takes_retail_columns_beside_the_price_columns(
    session: Session, erp: demo.DemoWorld, tmp_path: Path
) -> None:
    header = ["Style", "Color Code", "Size", "SKU", "price:WHL", "retail:WHL", "retail:MSRP", "retail:GBPW"]
    path = sheet(
        tmp_path / "styles.csv",
        header,
        [
            ["RT100", "BLK", "S", "RT001", "18.50", "40", "", ""],
            ["RT100", "BLK", "M", "RT002", "18.50", "", "", ""],  # blank retail: the style's first one stands
            ["RT200", "BLK", "M", "RT003", "", "40", "", ""],  # retail without the wholesale price
            ["RT100", "BLK", "L", "RT004", "18.50", "41", "", ""],  # a second retail price for RT100
        ],
    )
    report = load_styles(session, path)
    session.commit()
    assert problems(report) == [
        (
            1,
            "retail:MSRP",
            "retail prices are kept beside wholesale ones: add a price:MSRP column with the wholesale prices; "
            "this column was not loaded.",
        ),
        (
            1,
            "retail:GBPW",
            'unknown price type "GBPW": add it to the ERP price types first with `bobbin erp load price-types '
            "FILE` (template: `bobbin erp template price-types`); this column was not loaded.",
        ),
        (4, "retail:WHL", "retail price 40.00 has no wholesale price: fill price:WHL on this row too."),
        (
            5,
            "retail:WHL",
            "style RT100 has WHL retail price 40.00 on row 2; the ERP keeps one retail price per style and price type.",
        ),
    ]
    assert report.rows_loaded == 2
    row = session.execute(select(StylePrice.price, StylePrice.retail).where(StylePrice.style_number == "RT100")).one()
    assert tuple(row) == (Decimal("18.50"), Decimal("40.00"))
    # a styles file with price: columns only leaves the retail prices alone
    load_styles(session, sheet(tmp_path / "again.csv", header[:5], [["RT100", "BLK", "S", "RT001", "19"]]))
    session.commit()
    assert tuple(
        session.execute(select(StylePrice.price, StylePrice.retail).where(StylePrice.style_number == "RT100")).one()
    ) == (Decimal("19.00"), Decimal("40.00"))


def test_the_styles_file_sets_a_style_active_or_not(session: Session, erp: demo.DemoWorld, tmp_path: Path) -> None:
    from models.erp import Style

    a, b = erp.styles[0]["number"], erp.styles[1]["number"]
    sku_a = next(k for k in erp.skus if k["style_number"] == a)
    sku_b = next(k for k in erp.skus if k["style_number"] == b)
    header = ["Style", "Active", "Color Code", "Size", "SKU"]
    row_a = [a, "No", sku_a["color_code"], sku_a["size"], sku_a["sku"]]
    row_b = [b, "", sku_b["color_code"], sku_b["size"], sku_b["sku"]]
    path = sheet(
        tmp_path / "styles.csv",
        header,
        [row_a, row_a[:1] + ["yes"] + row_a[2:], row_b, row_b[:1] + ["maybe"] + row_b[2:]],
    )
    report = load_styles(session, path)
    session.commit()
    assert problems(report) == [
        (3, "Active", f"style {a} is inactive on row 2; a style's rows must agree."),
        (5, "Active", 'active "maybe" must be yes or no (blank: yes).'),
    ]
    active = dict(session.execute(select(Style.number, Style.active).where(Style.number.in_([a, b]))).all())
    assert active == {a: False, b: True}
    # a styles file without the column leaves the flag as it is
    load_styles(session, sheet(tmp_path / "plain.csv", ["Style", "Color Code", "Size", "SKU"], [row_a[:1] + row_a[2:]]))
    session.commit()
    assert session.scalar(select(Style.active).where(Style.number == a)) is False


# --- images -----------------------------------------------------------------------------------------

IMAGE_HEADER = ["Style", "Color Code", "Kind", "File or URL", "Position", "Alt Text"]


def image_files(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")


def images_in(session: Session) -> set[tuple[Any, ...]]:
    return set(
        session.execute(
            select(
                StyleImage.style_number,
                StyleImage.color_code,
                StyleImage.kind,
                StyleImage.position,
                StyleImage.source,
                StyleImage.folder,
                StyleImage.alt_text,
            )
        ).all()
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_images_manifest_loads_files_and_urls(
    session: Session, erp: demo.DemoWorld, tmp_path: Path, fmt: str
) -> None:
    # given image files beside the manifest and a manifest naming them and some URLs
    a, b = erp.styles[0]["number"], erp.styles[1]["number"]
    c1, c2 = colors_of(erp, a)[:2]
    image_files(tmp_path, f"{a}/front.jpg", f"{a}/back.jpg", f"{a}/{c1}.png", f"swatches/{a}-{c1}.png")
    path = sheet(
        tmp_path / f"images.{fmt}",
        IMAGE_HEADER,
        [
            [a, "", "", f"{a}/front.jpg", "", "Front"],
            [a, "", "style", f"{a}\\back.jpg", "", ""],
            [a, c1, "", f"./{a}/{c1}.png", "", ""],
            [a, c1.lower(), "Swatch", f"swatches/{a}-{c1}.png", "", ""],
            [a, c2, "style_color", "https://img.example.com/a/c2.jpg", "3", ""],
            [b, "", "style", "HTTPS://img.example.com/b/main.jpg", "", "Main"],
        ],
    )

    # when it is loaded
    report = load_images(session, path)
    session.commit()

    # then each image is in its slot: files as paths under the folder, URLs as they are
    folder = str(tmp_path.resolve())
    assert problems(report) == [] and report.rows_loaded == 6 and report.keys == {a, b}
    expected = {
        (a, None, "style", 1, f"{a}/front.jpg", folder, "Front"),
        (a, None, "style", 2, f"{a}/back.jpg", folder, None),
        (a, c1, "style_color", 1, f"{a}/{c1}.png", folder, None),
        (a, c1, "swatch", 1, f"swatches/{a}-{c1}.png", folder, None),
        (a, c2, "style_color", 3, "https://img.example.com/a/c2.jpg", None, None),
        (b, None, "style", 1, "HTTPS://img.example.com/b/main.jpg", None, "Main"),
    }
    assert images_in(session) == expected

    # when it is loaded again, then nothing is added or removed
    again = load_images(session, path)
    session.commit()
    assert (again.inserted, again.updated, again.removed) == (0, 6, 0)
    assert images_in(session) == expected

    # when a manifest lists fewer images of a style, then the style has just those; b keeps its own
    smaller = sheet(tmp_path / f"smaller.{fmt}", IMAGE_HEADER, [[a, "", "", f"{a}/back.jpg", "", ""]])
    third = load_images(session, smaller)
    session.commit()
    assert (third.inserted, third.updated, third.removed) == (0, 1, 4)
    assert images_in(session) == {
        (a, None, "style", 1, f"{a}/back.jpg", folder, None),
        (b, None, "style", 1, "HTTPS://img.example.com/b/main.jpg", None, "Main"),
    }


def test_bad_image_rows_are_listed_and_the_rest_loads(session: Session, erp: demo.DemoWorld, tmp_path: Path) -> None:
    a, b = erp.styles[0]["number"], erp.styles[1]["number"]
    ca, cb = colors_of(erp, a)[0], colors_of(erp, b)[0]
    image_files(tmp_path / "images", "a.jpg", "b.jpg", "c.jpg")
    (tmp_path / "secret.jpg").write_bytes(b"x")
    # b already has an image that the bad manifest below does not list: it stays, b has a bad row
    load_images(session, sheet(tmp_path / "images" / "first.csv", IMAGE_HEADER, [[b, "", "", "c.jpg", "", ""]]))
    session.commit()
    manifest = tmp_path / "images" / "images.csv"
    sheet(
        manifest,
        IMAGE_HEADER,
        [
            [a, "", "", "a.jpg", "", ""],  # 2: good
            [a, "", "", "missing.jpg", "", ""],  # 3: no such file
            [a, "", "", "../secret.jpg", "", ""],  # 4: outside the images folder
            [a, "", "", "/etc/hosts", "", ""],  # 5: an absolute path
            [a, "", "", "ftp://img.example.com/a.jpg", "", ""],  # 6: not http(s)
            [a, "", "photo", "b.jpg", "", ""],  # 7: unknown kind
            [a, ca, "style", "b.jpg", "", ""],  # 8: a style image with a colour
            [a, "", "swatch", "b.jpg", "", ""],  # 9: a swatch without its colour
            [a, ca, "swatch", "b.jpg", "", ""],  # 10: good
            [a, ca, "swatch", "c.jpg", "", ""],  # 11: a second swatch
            [a, "", "", "b.jpg", "1", ""],  # 12: position 1 is row 2's
            ["NOPE1", "", "", "a.jpg", "", ""],  # 13: unknown style
            [b, "QQQ", "", "a.jpg", "", ""],  # 14: unknown colour
            [b, cb, "", "a.jpg", "0", ""],  # 15: position 0
            [a, "", "", "a.jpg", "", ""],  # 16: the same image twice
            [a, "", "", "", "", ""],  # 17: no file or URL
        ],
    )
    report = load_images(session, manifest)
    session.commit()

    folder = (tmp_path / "images").resolve()
    styles_fix = "(`bobbin erp load styles FILE` (template: `bobbin erp template styles`))"
    assert problems(report) == [
        (
            3,
            "File or URL",
            f'image file "missing.jpg" for style {a} is not in the images folder {folder}: copy the file there, '
            "correct its path, or give its URL instead.",
        ),
        (
            4,
            "File or URL",
            f'image file "../secret.jpg" for style {a} is outside the images folder {folder}: move it into the '
            "folder and write its path from there.",
        ),
        (
            5,
            "File or URL",
            f'image file "/etc/hosts" for style {a} is an absolute path: write its path relative to the images '
            f"folder {folder}.",
        ),
        (
            6,
            "File or URL",
            f'"ftp://img.example.com/a.jpg" for style {a} is not an http(s) URL: give an http:// or https:// '
            "address, or the image's path under the images folder.",
        ),
        (
            7,
            "Kind",
            'image kind "photo" must be style, style_color or swatch (blank: style, or style_color when the row '
            "gives a colour).",
        ),
        (
            8,
            "Kind",
            f"a style image shows the whole style, so it has no colour: clear the colour, or write style_color for "
            f"an image of colour {ca}.",
        ),
        (9, "Color Code", "a swatch image needs the colour code it shows."),
        (11, "Kind", f"style {a} colour {ca} has its swatch on row 10; a colour has one swatch."),
        (12, "Position", f"style {a} has a style image at position 1 on row 2; give each image its own position."),
        (
            13,
            "Style",
            f"style NOPE1 is not in the ERP: load it with the styles file first {styles_fix}, or correct the "
            "style number.",
        ),
        (
            14,
            "Color Code",
            f"style {b} has no colour QQQ in the ERP: load the colour with the styles file first {styles_fix}, or "
            "correct the colour code.",
        ),
        (15, "Position", 'position "0" must be a whole number from 1 (first), or blank.'),
        (16, "File or URL", f"style {a} has this style image on row 2; list each image once."),
        (
            17,
            "File or URL",
            "the file or URL is empty: give the image's path under the images folder, or its http(s) URL.",
        ),
    ]
    assert (report.rows_read, report.rows_loaded) == (16, 2)
    # the good rows are in; b, which had bad rows, keeps the image it had
    assert {(s, c, k, p, src) for s, c, k, p, src, _, _ in images_in(session)} == {
        (a, None, "style", 1, "a.jpg"),
        (a, ca, "swatch", 1, "b.jpg"),
        (b, None, "style", 1, "c.jpg"),
    }


def test_erp_load_images_takes_an_images_folder(db: str, world: demo.DemoWorld, tmp_path: Path) -> None:
    from core.db import session_scope

    with session_scope() as s:
        demo.load_erp(s, styles_only(world))
    a = world.styles[0]["number"]
    image_files(tmp_path / "photos", f"{a}.jpg")
    manifest = sheet(tmp_path / "manifests" / "images.csv", IMAGE_HEADER, [[a, "", "", f"{a}.jpg", "", ""]])

    # without --images-dir the path is read from the manifest's folder, where the file is not
    missed = bobbin("erp", "load", "images", str(manifest), "--json")
    assert missed.exit_code == 0, missed.output
    data = json.loads(missed.stdout)
    assert (data["rows_loaded"], data["problems"][0]["row"]) == (0, 2)
    assert f'image file "{a}.jpg" for style {a} is not in the images folder' in data["problems"][0]["message"]

    # with it, the file is found
    loaded = bobbin("erp", "load", "images", str(manifest), "--images-dir", str(tmp_path / "photos"))
    assert loaded.exit_code == 0, loaded.output
    assert "Read 1 row from images.csv; loaded 1." in loaded.stdout
    with session_scope() as s:
        image = s.scalars(select(StyleImage)).one()
        assert Path(image.folder or "") / image.source == (tmp_path / "photos" / f"{a}.jpg").resolve()

    # a folder that is not there, and the option on another kind, are refused
    gone = bobbin("erp", "load", "images", str(manifest), "--images-dir", str(tmp_path / "nope"))
    assert gone.exit_code == 1 and "no such folder" in gone.stderr
    other = bobbin("erp", "load", "prices", str(manifest), "--images-dir", str(tmp_path))
    assert other.exit_code == 2 and "only the images manifest" in other.output


# --- linesheets -------------------------------------------------------------------------------------

LINESHEET_HEADER = ["Linesheet", "Season", "Delivery Start", "Delivery End", "Style", "Position"]


def linesheets_in(session: Session) -> dict[str, tuple[Any, ...]]:
    sheets: dict[str, tuple[Any, Any, Any, list[tuple[int, str]]]] = {
        s.name: (s.season, s.delivery_start, s.delivery_end, []) for s in session.scalars(select(Linesheet))
    }
    for m in session.scalars(select(LinesheetStyle).order_by(LinesheetStyle.position)):
        sheets[m.linesheet_name][3].append((m.position, m.style_number))
    return {name: (season, start, end, tuple(styles)) for name, (season, start, end, styles) in sheets.items()}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_linesheets_load_with_their_styles_in_order(
    session: Session, erp: demo.DemoWorld, tmp_path: Path, fmt: str
) -> None:
    s1, s2, s3, s4 = (s["number"] for s in erp.styles[:4])
    path = sheet(
        tmp_path / f"linesheets.{fmt}",
        LINESHEET_HEADER,
        [
            ["Fall 26 Core", "FA26", "2026-07-15", "09/30/2026", s2, ""],
            ["Fall 26 Core", "", "", "", s1, ""],
            ["fall 26 core", "FA26", "", "", s3.lower(), "5"],
            ["Resort", "", "", "", s4, "2"],
            ["Resort", "", "", "", s1, "1"],
        ],
    )
    report = load_linesheets(session, path)
    session.commit()

    assert problems(report) == [] and report.rows_loaded == 5
    assert report.keys == {"Fall 26 Core", "Resort"}
    expected = {
        "Fall 26 Core": ("FA26", date(2026, 7, 15), date(2026, 9, 30), ((1, s2), (2, s1), (5, s3))),
        "Resort": (None, None, None, ((1, s1), (2, s4))),
    }
    assert linesheets_in(session) == expected

    # the same file again: the same linesheets
    again = load_linesheets(session, path)
    session.commit()
    assert (again.inserted, again.updated, again.removed) == (0, 5, 0)
    assert linesheets_in(session) == expected

    # a file listing Resort with one style: Resort holds that one; Fall 26 Core is not touched
    fewer = load_linesheets(
        session, sheet(tmp_path / f"resort.{fmt}", LINESHEET_HEADER, [["RESORT", "", "", "", s4, ""]])
    )
    session.commit()
    assert fewer.removed == 1
    assert linesheets_in(session) == expected | {"Resort": (None, None, None, ((1, s4),))}


def test_bad_linesheet_rows_are_listed_and_the_rest_loads(
    session: Session, erp: demo.DemoWorld, tmp_path: Path
) -> None:
    s1, s2, s3 = (s["number"] for s in erp.styles[:3])
    path = sheet(
        tmp_path / "linesheets.csv",
        LINESHEET_HEADER,
        [
            ["Core", "FA26", "2026-07-15", "2026-09-30", s1, ""],  # 2: good
            ["Core", "", "", "", "NOPE1", ""],  # 3: unknown style
            ["Core", "SP27", "", "", s2, ""],  # 4: another season than row 2's
            ["Core", "", "", "", s1, ""],  # 5: s1 again
            ["Core", "", "", "", s3, "1"],  # 6: position 1 is row 2's
            ["Late", "", "2026-09-01", "2026-08-01", s1, ""],  # 7: ends before it starts
            ["Late", "", "soon", "", s2, ""],  # 8: not a date
            ["", "", "", "", s2, ""],  # 9: no linesheet
            ["Core", "", "", "", s3, "x"],  # 10: position not a number
        ],
    )
    report = load_linesheets(session, path)
    session.commit()
    assert problems(report) == [
        (
            3,
            "Style",
            "style NOPE1 is not in the ERP: load it with the styles file first (`bobbin erp load styles FILE` "
            "(template: `bobbin erp template styles`)), or correct the style number.",
        ),
        (4, "Season", "linesheet Core has FA26 on row 2; a linesheet's rows must agree."),
        (5, "Style", f"style {s1} is on linesheet Core on row 2; list each style once per linesheet."),
        (6, "Position", "linesheet Core has a style at position 1 on row 2; give each style its own position."),
        (
            7,
            "Delivery End",
            "linesheet Late's delivery window ends (2026-08-01) before it starts (2026-09-01).",
        ),
        (8, "Delivery Start", 'the delivery start "soon" is not a date: write YYYY-MM-DD or MM/DD/YYYY.'),
        (9, "Linesheet", "The linesheet name is empty."),
        (10, "Position", 'position "x" must be a whole number from 1 (first), or blank.'),
    ]
    assert linesheets_in(session) == {"Core": ("FA26", date(2026, 7, 15), date(2026, 9, 30), ((1, s1),))}


# --- templates, the CLI, the demo ---------------------------------------------------------------------


def test_the_catalog_templates_are_the_columns_their_loaders_read(tmp_path: Path) -> None:
    assert template_headers("prices") == ["Style", "Color Code", "Price Type", "Wholesale", "Retail"]
    assert template_headers("images") == ["Style", "Color Code", "Kind", "File or URL", "Position", "Alt Text"]
    assert template_headers("linesheets") == LINESHEET_HEADER
    assert {"prices", "images", "linesheets"} <= set(LOADERS) & set(FILE_COLUMNS)
    help_text = bobbin("erp", "load", "--help")
    assert help_text.exit_code == 0 and "linesheets" in help_text.stdout and "--images-dir" in help_text.stdout


@pytest.mark.parametrize("kind", ["prices", "images", "linesheets"])
def test_a_catalog_template_filled_with_one_row_loads(
    db: str, world: demo.DemoWorld, tmp_path: Path, kind: str
) -> None:
    from core.db import session_scope

    with session_scope() as s:
        demo.load_erp(s, styles_only(world))
    a = world.styles[0]["number"]
    path = tmp_path / f"{kind}.csv"
    written = bobbin("erp", "template", kind, "--output", str(path))
    assert written.exit_code == 0, written.output
    assert f"bobbin erp load {kind} {path}" in written.stdout
    image_files(tmp_path, "front.jpg")
    values = {
        "prices": {"Style": a, "Price Type": "WHL", "Wholesale": "40", "Retail": "88"},
        "images": {"Style": a, "File or URL": "front.jpg", "Alt Text": "Front"},
        "linesheets": {"Linesheet": "Fall 26", "Season": "FA26", "Style": a},
    }[kind]
    headers = path.read_text(encoding="utf-8").rstrip("\n").split(",")
    with path.open("a", encoding="utf-8") as f:
        f.write(",".join(values.get(h, "") for h in headers) + "\n")
    loaded = bobbin("erp", "load", kind, str(path), "--json")
    assert loaded.exit_code == 0, loaded.output
    data = json.loads(loaded.stdout)
    assert (data["rows_read"], data["rows_loaded"], data["problems"], data["ignored_columns"]) == (1, 1, [], [])


def test_the_demo_brand_has_retail_prices_a_colour_price_images_and_a_linesheet(
    session: Session, world: demo.DemoWorld
) -> None:
    counts = demo.load_erp(session, world)
    session.commit()
    assert counts["style_color_prices"] == 1 and counts["style_images"] == 2 and counts["linesheets"] == 1
    assert counts["linesheet_styles"] == len([s for s in world.styles if s["season"] == "FA26"]) > 0
    first = world.styles[0]["number"]
    whl = session.execute(
        select(StylePrice.price, StylePrice.retail).where(
            StylePrice.style_number == first, StylePrice.price_type_code == "WHL"
        )
    ).one()
    override = session.scalars(select(StyleColorPrice)).one()
    assert override.style_number == first and override.wholesale > whl[0] and whl[1] is not None
    assert session.scalar(
        select(StyleColor.color_name).where(
            StyleColor.style_number == first, StyleColor.color_code == override.color_code
        )
    )
    assert all(i.source.startswith("https://") and i.folder is None for i in session.scalars(select(StyleImage)))
    assert demo.load_erp(session, world)["style_images"] == 0  # the demo loads once
