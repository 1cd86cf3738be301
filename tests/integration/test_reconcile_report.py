"""`bobbin report reconcile SITE --from DATE --to DATE`: a period's orders from the partner to
shipment, with every order missing from a stage and every total that differs.

Real Postgres, the Brandboom sandbox over HTTP seeded with the demo brand (invalid and duplicate
orders included, so the stages differ), the real pipeline, the real ERP hand-off and shipments
loader, and the CLI through typer's CliRunner. Expectations come from the database's own rows and
from the sandbox's own record of each order (its payload's keys), never from the report's code.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, cast, func, select, update

from bobbin import demo
from bobbin.demo_sites import DEMO_SITE
from core.db import session_scope
from models import ErpHandoff, InboundOrder, SalesOrder, SalesOrderLine, Site
from services import erp_handoff
from tests.integration.test_cli import bobbin, cli_logging  # noqa: F401  (the CLI's logging, autouse)

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-30")  # the demo's order dates (bobbin.demo.ORDER_CREATED)
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
TODAY = datetime.now(UTC).date()
ADDED_IMPORTED = 390001  # added after the first import and export: imported, not in an ERP file
ADDED_UNDATED = 390002  # the same, without an order date: dated by the day Bobbin first saw it
ADDED_LATE = 390003  # added after the last import: on the partner, never held
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world()  # the world the sandbox fixture is seeded with


def ref(pid: Any) -> str:
    return f"{DEMO_SITE}:{pid}"


def ok_json(result: Any) -> Any:
    import json

    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def order_lines(number: str) -> list[tuple[int, int]]:
    with session_scope() as s:
        return [
            (no, qty)
            for no, qty in s.execute(
                select(SalesOrderLine.line_no, SalesOrderLine.quantity)
                .join(SalesOrder, SalesOrder.id == SalesOrderLine.sales_order_id)
                .where(SalesOrder.number == number)
                .order_by(SalesOrderLine.line_no)
            )
        ]


def ship(tmp_path: Path, rows: list[tuple[str, int, int]]) -> None:
    """Load an ERP shipments file: (sales order number, line no, quantity shipped) per row."""
    path = tmp_path / f"shipments-{len(list(tmp_path.glob('shipments-*')))}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Order Number", "Ship Date", "Carrier", "Tracking Number", "Line No", "Quantity Shipped"])
        for number, line_no, qty in rows:
            writer.writerow([number, TODAY.isoformat(), "UPS", f"1Z{number}", line_no, qty])
    with session_scope() as s:
        report = erp_handoff.load_shipments(s, path)
    assert not report.problems, report.problems


def sales_by_pid(site_id: int) -> dict[str, str]:
    with session_scope() as s:
        return dict(
            s.execute(  # type: ignore[arg-type]
                select(InboundOrder.partner_order_id, SalesOrder.number)
                .join(SalesOrder, SalesOrder.inbound_order_id == InboundOrder.id)
                .where(InboundOrder.site_id == site_id)
            ).all()
        )


@pytest.fixture()
def story(db: str, sandbox: Any, world: demo.DemoWorld, tmp_path: Path) -> dict[str, Any]:
    """The demo site imported, exported to an ERP file and partly shipped; then two more orders
    imported (not handed off: one of them undated), then one more added on the partner only."""
    from bobbin.demo_sites import load_demo
    from services.pipeline import import_site_orders

    load_demo(sandbox.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "erp_drop_folder": str(tmp_path / "drop")}
        site_id = site.id
    first = import_site_orders(site_id)
    assert first["imported"] >= 5 and first["invalid"] >= 5 and first["duplicate"] >= 1, first
    exported = erp_handoff.export_site_orders(site_id)
    assert exported.file and len(exported.orders) == first["imported"]

    numbers = sales_by_pid(site_id)
    multi = sorted(pid for pid, no in numbers.items() if len(order_lines(no)) >= 2)
    shipped_pid, partial_pid = multi[0], multi[1]
    ship(tmp_path, [(numbers[shipped_pid], no, qty) for no, qty in order_lines(numbers[shipped_pid])])
    no, qty = order_lines(numbers[partial_pid])[0]
    ship(tmp_path, [(numbers[partial_pid], no, qty)])

    undated = demo.make_order(world, id=ADDED_UNDATED)
    del undated["dateCreated"]
    sandbox.add_orders([demo.make_order(world, id=ADDED_IMPORTED), undated])
    second = import_site_orders(site_id)
    assert second["new"] == 2, second
    sandbox.add_orders(demo.make_order(world, id=ADDED_LATE))
    return {"site_id": site_id, "shipped": shipped_pid, "partial": partial_pid, "tmp": tmp_path}


def listed_in_period(sandbox: Any, first: date = FIRST, last: date = LAST) -> set[str]:
    """The sandbox's own "export" orders whose creation date (its payload's key) is in the period."""
    out = set()
    for o in sandbox.orders():
        if o.get("status") != "export":
            continue
        created = str(o.get("dateCreated") or "")[:10]
        day = date.fromisoformat(created) if created else TODAY
        if first <= day <= last:
            out.add(str(o["id"]))
    return out


def db_stages(site_id: int, first: date = FIRST, last: date = LAST) -> dict[str, dict[str, int]]:
    """Stage -> {partner order id: Bobbin id}, straight from the tables."""
    day = func.coalesce(InboundOrder.order_date, cast(InboundOrder.first_seen_at, Date))
    with session_scope() as s:
        held = dict(
            s.execute(  # type: ignore[arg-type]
                select(InboundOrder.partner_order_id, InboundOrder.id).where(
                    InboundOrder.site_id == site_id, day.between(first, last)
                )
            ).all()
        )
        so = {
            pid: (so_id, status)
            for pid, so_id, status in s.execute(
                select(InboundOrder.partner_order_id, SalesOrder.id, SalesOrder.status)
                .join(SalesOrder, SalesOrder.inbound_order_id == InboundOrder.id)
                .where(InboundOrder.partner_order_id.in_(list(held)), InboundOrder.site_id == site_id)
            )
        }
        handed = set(s.scalars(select(ErpHandoff.sales_order_id)))
    return {
        "held": held,
        "imported": {p: held[p] for p in so},
        "handed_off": {p: held[p] for p, (so_id, _) in so.items() if so_id in handed},
        "shipped": {p: held[p] for p, (_, status) in so.items() if status == "shipped"},
    }


def input_total(sandbox: Any, pid: str) -> Decimal:
    """sum(quantity × price) of the order's lines as the sandbox holds them (its own keys)."""
    order = next(o for o in sandbox.orders() if str(o["id"]) == pid)
    return sum((Decimal(str(i["quantity"])) * Decimal(str(i["price"])) for i in order["items"]), Decimal("0")).quantize(
        CENT
    )


# --- stages --------------------------------------------------------------------------------------


def test_counts_per_stage_match_the_database_and_the_partner(story: dict[str, Any], sandbox: Any) -> None:
    site_id = story["site_id"]
    # When the period's report is asked for
    report = ok_json(bobbin("report", "reconcile", DEMO_SITE, *PERIOD, "--json"))
    stages = {s["stage"]: s for s in report["stages"]}
    assert list(stages) == ["partner", "held", "imported", "handed_off", "shipped"]
    assert report["partner_read"] is True and report["from"] == "2026-11-01" and report["to"] == "2026-11-30"

    # Then "on the partner" is what the sandbox lists as waiting ("export"), dated in the period
    on_partner = listed_in_period(sandbox)
    assert str(ADDED_UNDATED) not in on_partner
    assert {str(ADDED_IMPORTED), str(ADDED_LATE)} <= on_partner
    assert stages["partner"]["count"] == len(on_partner)
    assert set(stages["partner"]["orders"]) == {ref(p) for p in on_partner}

    # And every other stage is what the tables hold, by partner order and by Bobbin id
    expected = db_stages(site_id)
    for key, rows in expected.items():
        assert stages[key]["count"] == len(rows), key
        assert set(stages[key]["orders"]) == {ref(p) for p in rows}, key
        assert set(stages[key]["order_ids"]) == set(rows.values()), key
    # ... and the stages differ as the demo and the story made them
    assert set(expected["held"]) == on_partner - {str(ADDED_LATE)}
    assert len(expected["imported"]) < len(expected["held"])  # invalid and duplicate orders
    assert set(expected["imported"]) - set(expected["handed_off"]) == {str(ADDED_IMPORTED)}
    assert set(expected["shipped"]) == {story["shipped"]}

    # And the header says what "on the partner" covers: the statuses the site imports
    assert "export" in report["partner_covers"] and "statuses to import" in report["partner_covers"]
    assert "order date" in report["period_basis"] and "first saw" in report["period_basis"]

    # And an order without an order date is placed by the day Bobbin first saw it
    today = ok_json(
        bobbin("report", "reconcile", DEMO_SITE, "--from", TODAY.isoformat(), "--to", TODAY.isoformat(), "--json")
    )
    today_held = next(s for s in today["stages"] if s["stage"] == "held")
    assert today_held["orders"] == [ref(ADDED_UNDATED)]
    assert ref(ADDED_UNDATED) not in stages["held"]["orders"]
    (row,) = [e for e in today["exceptions"] if e["order"] == ref(ADDED_UNDATED)]
    assert row["dated_by"] == "first seen" and row["order_date"] == TODAY.isoformat()


def test_each_order_missing_from_a_stage_is_listed_once_with_why(story: dict[str, Any], sandbox: Any) -> None:
    site_id = story["site_id"]
    report = ok_json(bobbin("report", "reconcile", DEMO_SITE, *PERIOD, "--json"))
    missing = {e["order"]: e for e in report["exceptions"] if e["kind"] == "missing"}
    assert len(missing) == sum(1 for e in report["exceptions"] if e["kind"] == "missing")  # one row per order
    expected = db_stages(site_id)

    # Then the order still on the partner, never staged, is listed as missing from the holding area
    late = missing[ref(ADDED_LATE)]
    assert late["stage_missing"] == "held" and late["order_id"] is None and late["state"] is None
    assert late["partner_total"] == str(input_total(sandbox, str(ADDED_LATE)))
    assert f"bobbin import {DEMO_SITE}" in late["note"]

    # And each held order not imported is missing from "imported", with its state and problems
    with session_scope() as s:
        states = dict(
            s.execute(  # type: ignore[arg-type]
                select(InboundOrder.partner_order_id, InboundOrder.state).where(InboundOrder.site_id == site_id)
            ).all()
        )
    not_imported = set(expected["held"]) - set(expected["imported"])
    assert {p for p in not_imported if states[p] == "invalid"} and {p for p in not_imported if states[p] == "duplicate"}
    for pid in not_imported:
        row = missing[ref(pid)]
        assert row["stage_missing"] == "imported" and row["state"] == states[pid], row
        assert row["order_id"] == expected["held"][pid] and row["sales_order"] is None
    invalid_terms = missing[ref(demo.O_TERMS_UNMAPPED)]
    assert "terms_unmapped" in invalid_terms["note"]

    # And the order imported after the export is missing from the ERP file
    handed = missing[ref(ADDED_IMPORTED)]
    assert handed["stage_missing"] == "handed_off" and handed["sales_order"]
    assert f"bobbin erp export {DEMO_SITE}" in handed["note"]

    # And every order in an ERP file but not shipped is missing from "shipped"; the partial one says so
    unshipped = set(expected["handed_off"]) - set(expected["shipped"])
    assert {p for p, e in missing.items() if e["stage_missing"] == "shipped"} == {ref(p) for p in unshipped}
    assert "partly shipped: 1 of" in missing[ref(story["partial"])]["note"]
    assert ref(story["shipped"]) not in missing

    # And nothing else: every order listed is accounted for
    assert set(missing) == {ref(ADDED_LATE)} | {ref(p) for p in not_imported | unshipped | {str(ADDED_IMPORTED)}}
    # And with matching totals, no total row
    assert not [e for e in report["exceptions"] if e["kind"] == "total"]


# --- totals --------------------------------------------------------------------------------------


def test_an_erp_line_price_altered_in_the_database_shows_a_total_difference(
    story: dict[str, Any], sandbox: Any
) -> None:
    site_id = story["site_id"]
    numbers = sales_by_pid(site_id)
    pid = story["shipped"]
    number = numbers[pid]
    line_no, qty = order_lines(number)[0]
    # Given someone changed one ERP line's price by hand
    with session_scope() as s:
        so_id = s.scalar(select(SalesOrder.id).where(SalesOrder.number == number))
        s.execute(
            update(SalesOrderLine)
            .where(SalesOrderLine.sales_order_id == so_id, SalesOrderLine.line_no == line_no)
            .values(price=SalesOrderLine.price + Decimal("1.25"))
        )
    partner_total = input_total(sandbox, pid)
    erp_total = partner_total + Decimal("1.25") * qty

    for extra in ((), ("--no-partner",)):
        # When the report is made (reading the partner, and from Bobbin's tables only)
        report = ok_json(bobbin("report", "reconcile", DEMO_SITE, *PERIOD, "--json", *extra))
        # Then that order, and only it, shows a total difference with both totals
        totals = [e for e in report["exceptions"] if e["kind"] == "total"]
        assert [e["order"] for e in totals] == [ref(pid)], extra
        row = totals[0]
        assert row["stage_missing"] is None and row["sales_order"] == number
        assert Decimal(row["partner_total"]) == partner_total
        assert Decimal(row["erp_total"]) == erp_total
        assert Decimal(row["difference"]) == (erp_total - partner_total)
        assert number in row["note"]

    # And without the partner read, the partner's stage is not counted and nothing is missing from "held"
    assert report["partner_read"] is False
    assert next(s for s in report["stages"] if s["stage"] == "partner")["count"] is None
    assert "--no-partner" in report["partner_covers"]
    assert not [e for e in report["exceptions"] if e["stage_missing"] == "held"]


# --- outputs -------------------------------------------------------------------------------------


def test_json_and_xlsx_carry_the_same_rows(story: dict[str, Any], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from services.reconcile_report import EXCEPTION_COLUMNS

    path = tmp_path / "reconcile.xlsx"
    result = bobbin("report", "reconcile", DEMO_SITE, *PERIOD, "--json", "--xlsx", str(path))
    report = ok_json(result)
    assert str(path) in result.stderr
    assert report["exceptions"]

    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "Exceptions"]

    # The exceptions sheet: one row per exception, each value as --json has it
    ex = wb["Exceptions"]
    rows = list(ex.iter_rows(values_only=True))
    assert list(rows[0]) == [header for _, header in EXCEPTION_COLUMNS]
    keys = [key for key, _ in EXCEPTION_COLUMNS]

    def as_json_value(key: str, value: Any) -> Any:
        if value is None:
            return None
        if key in ("partner_total", "erp_total", "difference"):
            return str(Decimal(str(value)).quantize(CENT))
        if key == "order_date":
            return value.date().isoformat() if isinstance(value, datetime) else str(value)
        return value

    sheet_rows = [{k: as_json_value(k, v) for k, v in zip(keys, row, strict=True)} for row in rows[1:]]
    assert sheet_rows == [{k: e[k] for k in keys} for e in report["exceptions"]]

    # The summary sheet: the period, what "on the partner" covers, and each stage's count and gaps
    summary = {row[0]: row[1:] for row in wb["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Site"][0] == DEMO_SITE
    assert summary['"On the partner" covers'][0] == report["partner_covers"]
    assert summary["From"][0].date() == FIRST and summary["To"][0].date() == LAST
    for stage in report["stages"]:
        count, gaps = summary[stage["label"]][:2]
        assert count == stage["count"] and gaps == report["missing"][stage["stage"]], stage
    assert summary["Totals differing (ERP vs partner)"][1] == report["missing"]["total"]


def test_the_table_shows_stages_and_exceptions(story: dict[str, Any]) -> None:
    result = bobbin("report", "reconcile", DEMO_SITE, *PERIOD)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for label in ("On the partner", "In the holding area", "Imported to the ERP", "Handed to the ERP file", "Shipped"):
        assert label in out
    assert ref(ADDED_LATE) in out and "never held" in out
    assert "statuses to import: export" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--from", "2026-12-01", "--to", "2026-11-01"), "--from 2026-12-01 is after --to 2026-11-01"),
        (("--from", "2026-13-01", "--to", "2026-12-31"), "--from '2026-13-01' is not a date: give it as YYYY-MM-DD"),
        (("--from", "2026-11-01", "--to", "yesterday"), "--to 'yesterday' is not a date"),
    ],
)
def test_a_bad_date_range_is_one_clear_line(db: str, args: tuple[str, ...], says: str) -> None:
    result = bobbin("report", "reconcile", DEMO_SITE, *args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.stdout == ""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and says in lines[0], result.stderr


def test_an_unknown_site_is_one_clear_line(db: str) -> None:
    result = bobbin("report", "reconcile", "nowhere", *PERIOD)
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no site 'nowhere'" in lines[0], result.stderr


def test_the_header_says_what_a_joor_site_reads_on_the_partner(joor_site: int) -> None:
    from services.reconcile_report import partner_covers
    from services.sites import open_site

    with session_scope() as s:
        ctx = open_site(s, joor_site)
    covers = partner_covers(ctx, True)
    assert "JOOR" in covers and "order types to import" in covers and ": 6" in covers
    assert "held it" in covers  # JOOR is told "exported" once an order is held
