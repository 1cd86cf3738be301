"""The ERP hand-off on real parts: imported orders out to the ERP's drop folder as a file, the
ERP's shipment / invoice export back, through the service, the CLI and a real worker.

Given the demo brand and its Brandboom site (the sandbox over HTTP) with its orders imported by the
real pipeline, an export writes exactly the imported orders — an H row per order, an L row per
line — read back with csv / openpyxl and compared with the ERP's sales-order rows; a second
export writes nothing; ``--again`` writes one order again, recorded as a re-export. A shipments
file marks orders shipped / paid, queues each partner writeback once with the tracking number in
its payload, and the same file again queues nothing; bad rows are reported and nothing of their
order is applied; the watched folder is picked up by a worker and the file moved.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.db import session_scope
from models import (
    ErpHandoff,
    InboundOrder,
    OutboxEntry,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    Site,
    Sku,
    StyleColor,
    SyncRun,
)
from services import erp_handoff
from services.erp_load import LoadError, loaders
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

WIDE = {"COLUMNS": "200"}
TODAY = datetime.now(UTC).date()


# --- fixtures and helpers ------------------------------------------------------------------------


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
    """Logs as `bobbin` sets them up (warnings only, on stderr), so stdout stays clean JSON; the
    previous configuration is restored afterwards (as tests/integration/test_cli.py does)."""
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


@pytest.fixture()
def demo_site(db: str, sandbox: Any, tmp_path: Path) -> int:
    """The demo brand and its Brandboom site, its drop folder in this test's tmp_path."""
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "erp_drop_folder": str(tmp_path / "drop")}
        return site.id


@pytest.fixture()
def imported(demo_site: int) -> int:
    """The site's orders imported by the real pipeline (writebacks not sent)."""
    from services.pipeline import import_site_orders

    summary = import_site_orders(demo_site)
    assert summary["imported"] >= 5, summary
    return demo_site


def set_settings(site_id: int, **values: Any) -> None:
    with session_scope() as s:
        site = s.get(Site, site_id)
        assert site is not None
        site.settings = {**site.settings, **values}


def bobbin(*args: str) -> Any:
    from bobbin.cli.main import app

    return CliRunner().invoke(app, list(args), env=WIDE)


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def count(model: Any, *where: Any) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def expected_rows(site_id: int, price_types: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The ERP's sales orders of the site as the layout writes them, read straight from the tables:
    number -> {"H": header row, "L": [line rows]}, every value as CSV text."""
    out: dict[str, dict[str, Any]] = {}
    with session_scope() as s:
        for so, pid in s.execute(
            select(SalesOrder, InboundOrder.partner_order_id)
            .join(InboundOrder, InboundOrder.id == SalesOrder.inbound_order_id)
            .where(SalesOrder.site_id == site_id)
        ):
            lines = s.execute(
                select(SalesOrderLine, Sku, StyleColor.color_name)
                .join(Sku, Sku.sku == SalesOrderLine.sku)
                .join(
                    StyleColor,
                    (StyleColor.style_number == Sku.style_number) & (StyleColor.color_code == Sku.color_code),
                )
                .where(SalesOrderLine.sales_order_id == so.id)
                .order_by(SalesOrderLine.line_no)
            ).all()
            header = {
                "record": "H",
                "order_number": so.number,
                "partner": "Brandboom",
                "partner_order_id": pid,
                "customer_code": so.customer_code,
                "po_number": text(so.po_number),
                "order_date": text(so.order_date),
                "start_date": text(so.start_date),
                "cancel_date": text(so.cancel_date),
                "terms": text(so.terms_code),
                "ship_via": text(so.ship_via_code),
                "rep": text(so.rep_code),
                "division": text(so.division_code),
                "warehouse": text(so.warehouse_code),
                "price_type": (price_types or {}).get(so.currency or "", ""),
                "currency": text(so.currency),
                "ship_to_name": text(so.ship_to_name),
                "ship_to_line1": text(so.ship_to_line1),
                "ship_to_line2": text(so.ship_to_line2),
                "ship_to_city": text(so.ship_to_city),
                "ship_to_state": text(so.ship_to_state),
                "ship_to_postal_code": text(so.ship_to_postal_code),
                "ship_to_country": text(so.ship_to_country),
                "order_total": money(so.total),
                "line_count": str(len(lines)),
                # a wholesale order has no freight, deposit or marketplace tax (eBay sales do)
                "freight": "",
                "deposit": "",
                "marketplace_tax": "",
            }
            rows = [
                {
                    "record": "L",
                    "order_number": so.number,
                    "line_no": str(ln.line_no),
                    "style": sku.style_number,
                    "color": sku.color_code,
                    "color_name": color_name,
                    "size": sku.size,
                    "sku": sku.sku,
                    "upc": text(sku.upc),
                    "quantity": str(ln.quantity),
                    "price": money(ln.price),
                    "line_amount": money(ln.price * ln.quantity),
                }
                for ln, sku, color_name in lines
            ]
            out[so.number] = {"H": header, "L": rows}
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == list(erp_handoff.EXPORT_COLUMNS)
        return list(reader)


def read_xlsx(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    ws = wb["Orders"]
    rows = ws.iter_rows(values_only=True)
    header = list(next(rows))
    assert header == list(erp_handoff.EXPORT_COLUMNS)
    out = []
    for values in rows:
        row = {}
        values = tuple(values) + (None,) * (len(header) - len(values))  # blank cells at a row's end are not stored
        for col, value in zip(header, values, strict=True):
            if isinstance(value, datetime):
                value = value.date().isoformat()
            elif col in ("order_total", "price", "line_amount") and value is not None:
                value = money(value)
            row[col] = text(value)
        out.append(row)
    wb.close()
    return out


def grouped(rows: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """File rows -> number -> {"H": header row, "L": line rows}, checking each row fills its own
    columns only and each order's H row comes first."""
    out: dict[str, dict[str, Any]] = {}
    current = None
    for row in rows:
        if row["record"] == "H":
            current = row["order_number"]
            assert current not in out, f"{current} written twice"
            assert all(row[c] == "" for c in erp_handoff.LINE_COLUMNS), row
            out[current] = {
                "H": {k: v for k, v in row.items() if k in ("record", *erp_handoff.HEADER_COLUMNS)},
                "L": [],
            }
        else:
            assert row["record"] == "L" and row["order_number"] == current, row
            assert all(row[c] == "" for c in erp_handoff.HEADER_COLUMNS if c != "order_number"), row
            out[current]["L"].append(
                {k: v for k, v in row.items() if k in ("record", "order_number", *erp_handoff.LINE_COLUMNS)}
            )
    return out


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def sales_orders(site_id: int) -> dict[str, SalesOrder]:
    with session_scope() as s:
        return {so.number: so for so in s.scalars(select(SalesOrder).where(SalesOrder.site_id == site_id))}


def order_lines(number: str) -> list[tuple[int, str, int]]:
    with session_scope() as s:
        return [
            tuple(r)  # type: ignore[misc]
            for r in s.execute(
                select(SalesOrderLine.line_no, SalesOrderLine.sku, SalesOrderLine.quantity)
                .join(SalesOrder, SalesOrder.id == SalesOrderLine.sales_order_id)
                .where(SalesOrder.number == number)
                .order_by(SalesOrderLine.line_no)
            )
        ]


def multi_line_orders(site_id: int, n: int) -> list[str]:
    """``n`` sales order numbers of orders with two lines or more, in number order."""
    numbers = [num for num in sorted(sales_orders(site_id)) if len(order_lines(num)) >= 2]
    assert len(numbers) >= n, f"the demo has {len(numbers)} imported orders of 2+ lines; the test needs {n}"
    return numbers[:n]


def writebacks(status: str) -> dict[int, OutboxEntry]:
    with session_scope() as s:
        return {w.inbound_order_id: w for w in s.scalars(select(OutboxEntry).where(OutboxEntry.status == status))}


def shipments_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = [
        "Order Number",
        "Ship Date",
        "Carrier",
        "Tracking Number",
        "Line No",
        "SKU",
        "Quantity Shipped",
        "Status",
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def ship_all(number: str, tracking: str, carrier: str = "UPS", status: str = "") -> list[dict[str, Any]]:
    """A shipments file's rows shipping every line of an order in full."""
    return [
        {
            "Order Number": number,
            "Ship Date": TODAY.isoformat(),
            "Carrier": carrier,
            "Tracking Number": tracking,
            "Line No": no,
            "Quantity Shipped": qty,
            "Status": status,
        }
        for no, _sku, qty in order_lines(number)
    ]


# --- orders out ----------------------------------------------------------------------------------


def test_export_writes_each_imported_order_once_with_every_field(imported: int, tmp_path: Path) -> None:
    # Given the site's orders imported, and its price types set (USD -> WHL)
    set_settings(imported, price_types={"USD": "WHL"})
    expected = expected_rows(imported, {"USD": "WHL"})
    drop = tmp_path / "drop"

    # When the orders are exported
    result = erp_handoff.export_site_orders(imported)

    # Then one CSV file is in the drop folder, named with the site, the time and the run id
    [path] = files(drop)
    assert result.file == str(path) and result.run_id and result.run_id in path.name
    assert path.name.startswith("orders_brandboom-demo_") and path.suffix == ".csv"
    assert len(result.orders) == len(expected)

    # And it holds exactly the imported orders: an H row per order, an L row per line, the values
    # the ERP's sales-order rows hold
    written = grouped(read_csv(path))
    assert set(written) == set(expected)
    for number, want in expected.items():
        assert written[number]["H"] == want["H"], number
        assert written[number]["L"] == want["L"], number
    assert any(w["H"]["price_type"] == "WHL" for w in written.values())

    # And each order is recorded as handed off in that file, by that run
    with session_scope() as s:
        rows = s.scalars(select(ErpHandoff)).all()
        assert len(rows) == len(expected)
        assert {(h.file_name, h.run_id, h.reexports) for h in rows} == {(path.name, result.run_id, 0)}
        run = s.scalars(select(SyncRun).where(SyncRun.task == "export_orders")).one()
        assert run.outcome == "ok" and run.counts["orders"] == len(expected)

    # When the export runs again, then nothing is written
    again = erp_handoff.export_site_orders(imported)
    assert again.file is None and again.orders == []
    assert files(drop) == [path]
    assert count(ErpHandoff) == len(expected)


def test_export_as_xlsx_holds_the_same_rows(imported: int, tmp_path: Path) -> None:
    # Given the site exports .xlsx into another folder (relative paths would be under BOBBIN_HOME)
    folder = tmp_path / "erp-in"
    set_settings(imported, erp_export_format="xlsx", erp_drop_folder=str(folder))
    expected = expected_rows(imported)

    # When the orders are exported
    result = erp_handoff.export_site_orders(imported)

    # Then the workbook holds the same orders and values; codes stay text (UPCs keep their zeros)
    [path] = files(folder)
    assert path.suffix == ".xlsx" and result.file == str(path)
    written = grouped(read_xlsx(path))
    assert set(written) == set(expected)
    for number, want in expected.items():
        assert written[number]["H"] == want["H"], number
        assert written[number]["L"] == want["L"], number


def test_dry_run_writes_and_records_nothing(imported: int, tmp_path: Path) -> None:
    # When a person asks what an export would write
    out = as_json(bobbin("erp", "export", "brandboom-demo", "--dry-run", "--json"))

    # Then every imported order is listed, and nothing is written or recorded
    assert out["dry_run"] is True and out["file"] is None
    assert {o["sales_order"] for o in out["orders"]} == set(sales_orders(imported))
    assert files(tmp_path / "drop") == []
    assert count(ErpHandoff) == 0


def test_cli_export_then_again_rewrites_one_order_as_a_reexport(imported: int, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    # When a person exports the site from the CLI
    first = bobbin("erp", "export", "brandboom-demo")
    assert first.exit_code == 0, first.output
    [path] = files(drop)
    assert "Wrote" in first.stdout and path.name in first.stdout.replace("\n", "")
    numbers = sorted(sales_orders(imported))
    target = numbers[1]

    # And again: nothing new
    second = bobbin("erp", "export", "brandboom-demo")
    assert second.exit_code == 0 and "Nothing to hand to the ERP" in second.stdout
    assert files(drop) == [path]

    # When a person writes one order again (by its SO number, in any case)
    out = as_json(bobbin("erp", "export", "--again", target.lower(), "--json"))

    # Then a new file holds that order alone, and it is recorded as a re-export, not a new first export
    assert out["again"] is True and out["first_export"] is False and out["orders"][0]["sales_order"] == target
    new = Path(out["file"])
    assert sorted(files(drop)) == sorted([path, new])
    written = grouped(read_csv(new))
    assert list(written) == [target]
    assert written[target] == {k: v for k, v in expected_rows(imported)[target].items()}
    with session_scope() as s:
        so_id = s.scalar(select(SalesOrder.id).where(SalesOrder.number == target))
        h = s.scalars(select(ErpHandoff).where(ErpHandoff.sales_order_id == so_id)).one()
        assert (h.file_name, h.reexports, h.reexport_file_name, h.reexport_run_id) == (
            path.name,
            1,
            new.name,
            out["run_id"],
        )
    assert count(ErpHandoff) == len(numbers)

    # And by its Bobbin order id, once more: the count goes on
    with session_scope() as s:
        order_id = s.scalar(select(SalesOrder.inbound_order_id).where(SalesOrder.number == target))
    again = bobbin("erp", "export", "--again", str(order_id))
    assert again.exit_code == 0 and f"Wrote {target} again" in again.stdout and "re-export 2" in again.stdout
    assert len(files(drop)) == 3


def test_again_names_orders_that_are_not_in_the_erp(imported: int) -> None:
    # Given an order held invalid (never imported)
    with session_scope() as s:
        invalid = s.scalar(select(InboundOrder.id).where(InboundOrder.state == "invalid").limit(1))
    # Then --again says in one line why it cannot be written
    result = bobbin("erp", "export", "--again", str(invalid))
    assert result.exit_code == 1 and "not imported" in result.stderr and "Traceback" not in result.output
    result = bobbin("erp", "export", "--again", "SO9999999")
    assert result.exit_code == 1 and "no ERP sales order SO9999999" in result.stderr
    result = bobbin("erp", "export")
    assert result.exit_code == 2  # neither a site nor --again


def test_an_export_interrupted_after_its_commit_is_finished_by_the_next(
    imported: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "drop"

    # Given an export whose process dies after its commit, before the rename (its file is still
    # under the temporary name)
    def die(part: Path, final: Path) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(erp_handoff, "_publish", die)
    with pytest.raises(SystemExit):
        erp_handoff.export_site_orders(imported)
    monkeypatch.undo()
    [part] = files(drop)
    assert part.name.startswith(".orders_") and part.name.endswith(".part")
    recorded = count(ErpHandoff)
    assert recorded == len(sales_orders(imported))

    # And a temporary file an export left without committing (it died before), an hour old
    stale = drop / ".orders_brandboom-demo_20260101T000000Z_deadbeef0000.csv.part"
    stale.write_text("half a file")
    old = time.time() - 3600
    os.utime(stale, (old, old))

    # When the next export runs
    result = erp_handoff.export_site_orders(imported)

    # Then the committed file is put in place (its orders are not written again), the stale one removed
    final = drop / part.name[1 : -len(".part")]
    assert result.finished == [str(final)] and result.discarded == [str(stale)]
    assert result.file is None and result.orders == []
    assert files(drop) == [final]
    assert set(grouped(read_csv(final))) == set(sales_orders(imported))
    assert count(ErpHandoff) == recorded


def test_a_failed_write_records_nothing_and_leaves_no_file(
    imported: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the disk fills while the file is written
    def full(path: Path, fmt: str, orders: Any) -> None:
        path.write_text("H,SO")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(erp_handoff, "write_export_file", full)

    # When the export runs, then it fails in words, records nothing and leaves nothing behind
    with pytest.raises(erp_handoff.HandoffError, match="No space left on device"):
        erp_handoff.export_site_orders(imported)
    assert files(tmp_path / "drop") == [] and count(ErpHandoff) == 0
    monkeypatch.undo()

    # And the next export writes them all
    assert len(erp_handoff.export_site_orders(imported).orders) == len(sales_orders(imported))


# --- shipments back ------------------------------------------------------------------------------


def test_shipments_mark_orders_and_queue_each_writeback_once(imported: int, tmp_path: Path) -> None:
    full, partial, paid = multi_line_orders(imported, 3)
    so = sales_orders(imported)
    partial_lines = order_lines(partial)
    rows = (
        ship_all(full, "1Z999AA10123456784")
        + [
            {
                "Order Number": partial,
                "Ship Date": TODAY.isoformat(),
                "Carrier": "FedEx",
                "Tracking Number": "7712",
                "SKU": partial_lines[0][1],  # by SKU, not line number
                "Quantity Shipped": partial_lines[0][2],
            }
        ]
        + ship_all(paid, "1ZPAID", status="Paid")
    )
    path = shipments_csv(tmp_path / "shipments.csv", rows)
    assert loaders()["shipments"] is erp_handoff.load_shipments  # `bobbin erp load shipments FILE` takes it too

    # When the ERP's shipments file is loaded
    out = as_json(bobbin("erp", "shipments", str(path), "--json"))

    # Then every row loaded, the fully shipped order is shipped, the partial one still open with
    # its line recorded, and the paid one paid
    assert out["problems"] == [] and out["rows_loaded"] == len(rows)
    by_order = {o["sales_order"]: o for o in out["orders"]}
    assert by_order[full]["outcome"] == "shipped" and by_order[full]["writebacks_queued"] == ["shipped"]
    assert by_order[partial]["outcome"] == "partial" and by_order[partial]["writebacks_queued"] == []
    assert by_order[partial]["lines_shipped"] == 1
    assert by_order[paid]["outcome"] == "paid" and by_order[paid]["writebacks_queued"] == ["shipped", "paid"]
    now = sales_orders(imported)
    assert (now[full].status, now[partial].status, now[paid].status) == ("shipped", "open", "paid")
    assert count(Shipment) == len(rows)
    with session_scope() as s:
        [(qty, carrier, tracking)] = s.execute(
            select(Shipment.quantity, Shipment.carrier, Shipment.tracking_number).where(
                Shipment.sales_order_id == so[partial].id
            )
        ).all()
    assert (qty, carrier, tracking) == (partial_lines[0][2], "FedEx", "7712")

    # And each status change is queued once for the partner, the shipped one with carrier and tracking
    shipped, paid_rows = writebacks("shipped"), writebacks("paid")
    assert set(shipped) == {so[full].inbound_order_id, so[paid].inbound_order_id}
    assert set(paid_rows) == {so[paid].inbound_order_id}
    payload = shipped[so[full].inbound_order_id].payload
    assert payload["tracking_number"] == "1Z999AA10123456784" and payload["carrier"] == "UPS"
    assert payload["tracking_numbers"] == ["1Z999AA10123456784"] and payload["ship_date"] == TODAY.isoformat()
    assert all(w.state == "pending" for w in [*shipped.values(), *paid_rows.values()])

    # When the same file is loaded again
    again = as_json(bobbin("erp", "shipments", str(path), "--json"))

    # Then nothing changes and nothing new is queued
    assert again["writebacks_queued"] == 0 and again["shipments_new"] == again["shipments_changed"] == 0
    assert {o["outcome"] for o in again["orders"]} == {"unchanged"}
    assert count(Shipment) == len(rows)
    assert writebacks("shipped").keys() == shipped.keys() and writebacks("paid").keys() == paid_rows.keys()
    assert count(OutboxEntry, OutboxEntry.status.in_(("shipped", "paid"))) == 3

    # When the rest of the partial order ships in a later file, then it is shipped and queued once
    rest = [
        {
            "Order Number": partial,
            "Ship Date": TODAY.isoformat(),
            "Carrier": "FedEx",
            "Tracking Number": "7713",
            "Line No": no,
            "Quantity Shipped": qty,
        }
        for no, _sku, qty in partial_lines[1:]
    ]
    later = as_json(bobbin("erp", "shipments", str(shipments_csv(tmp_path / "later.csv", rest)), "--json"))
    assert later["orders"][0]["outcome"] == "shipped" and later["orders"][0]["writebacks_queued"] == ["shipped"]
    payload = writebacks("shipped")[so[partial].inbound_order_id].payload
    assert payload["tracking_numbers"] == ["7712", "7713"] and payload["tracking_number"] == "7713"


def test_bad_rows_are_reported_and_nothing_of_their_order_is_applied(imported: int, tmp_path: Path) -> None:
    good, over, dated = multi_line_orders(imported, 3)
    with session_scope() as s:
        held = s.scalars(select(InboundOrder).where(InboundOrder.state == "invalid").limit(1)).one()
    over_lines = order_lines(over)
    rows = [
        *ship_all(good, "T-GOOD"),  # rows 2..
        {"Order Number": "SO7777777", "Ship Date": TODAY.isoformat(), "Line No": 1, "Quantity Shipped": 1},
        {"Order Number": held.partner_order_id, "Ship Date": TODAY.isoformat(), "Line No": 1, "Quantity Shipped": 1},
        # the over-shipped order: its first line right, its second one more than ordered
        {"Order Number": over, "Ship Date": TODAY.isoformat(), "Line No": 1, "Quantity Shipped": over_lines[0][2]},
        {"Order Number": over, "Ship Date": TODAY.isoformat(), "Line No": 2, "Quantity Shipped": over_lines[1][2] + 1},
        {"Order Number": dated, "Ship Date": "31/31/2026", "Line No": 1, "Quantity Shipped": 1},
        {"Order Number": dated, "Ship Date": TODAY.isoformat(), "Line No": 2, "Quantity Shipped": 1},
    ]
    path = shipments_csv(tmp_path / "bad.csv", rows)
    first_bad = len(ship_all(good, "x")) + 2  # the spreadsheet row of the unknown order

    # When the file is loaded
    with session_scope() as s:
        report = erp_handoff.load_shipments(s, path)

    # Then each bad row is reported with its row, column, value and problem
    problems = {(p.row, p.column, p.value): p.message for p in report.problems}
    unknown = problems[(first_bad, "Order Number", "SO7777777")]
    assert "unknown order" in unknown
    not_imported = problems[(first_bad + 1, "Order Number", held.partner_order_id)]
    assert "not imported yet" in not_imported and "invalid" in not_imported
    too_many = problems[(first_bad + 3, "Quantity Shipped", str(over_lines[1][2] + 1))]
    assert "more shipped than ordered" in too_many and f"ordered {over_lines[1][2]}" in too_many
    assert "not a date" in problems[(first_bad + 4, "Ship Date", "31/31/2026")]
    # and the good rows of those orders are reported as not loaded, naming the bad row
    assert f"row {first_bad + 3}" in problems[(first_bad + 2, None, over)]
    assert f"row {first_bad + 4}" in problems[(first_bad + 5, None, dated)]
    assert len(report.problems) == 6

    # And only the good order is applied: nothing of the over-shipped or misdated ones
    assert report.rows_loaded == len(ship_all(good, "x"))
    now = sales_orders(imported)
    assert now[good].status == "shipped" and now[over].status == now[dated].status == "open"
    with session_scope() as s:
        assert set(s.scalars(select(Shipment.sales_order_id).distinct())) == {now[good].id}
    assert set(writebacks("shipped")) == {now[good].inbound_order_id}


def test_a_file_that_is_not_a_shipments_file_is_refused_whole(imported: int, tmp_path: Path) -> None:
    # Given a customers file loaded as shipments, and a file with quantities but no ship date
    customers = tmp_path / "customers.csv"
    customers.write_text("Customer Code,Name\nC1,Shop\n", encoding="utf-8")
    no_date = tmp_path / "nodate.csv"
    no_date.write_text("Order Number,Line No,Quantity Shipped\nSO0000001,1,1\n", encoding="utf-8")

    # Then each is a LoadError saying what is missing, and nothing is loaded
    with session_scope() as s, pytest.raises(LoadError, match='no "order_number" column'):
        erp_handoff.load_shipments(s, customers)
    with session_scope() as s, pytest.raises(LoadError, match='no "ship date" column'):
        erp_handoff.load_shipments(s, no_date)
    result = bobbin("erp", "shipments", str(customers))
    assert result.exit_code == 1 and 'no "order_number" column' in result.stderr
    assert "Traceback" not in result.output
    assert count(Shipment) == 0


def test_void_and_paid_statuses(imported: int, tmp_path: Path) -> None:
    void, shipped = multi_line_orders(imported, 2)
    with session_scope() as s:
        s.add(
            Shipment(
                sales_order_id=sales_orders(imported)[shipped].id,
                sales_order_line_id=s.scalar(
                    select(SalesOrderLine.id)
                    .join(SalesOrder)
                    .where(SalesOrder.number == shipped, SalesOrderLine.line_no == 1)
                ),
                ship_date=TODAY - timedelta(days=1),
                quantity=1,
            )
        )
    path = tmp_path / "status.csv"
    path.write_text(f"Order Number,Status\n{void},VOID\n{shipped},void\n", encoding="utf-8")

    # When the ERP says both orders are void, one of which shipped a unit already
    with session_scope() as s:
        report = erp_handoff.load_shipments(s, path)

    # Then the unshipped one is void (queued once), the shipped one refused in words
    [problem] = report.problems
    assert (problem.row, problem.column) == (3, "Status") and "cannot be void" in problem.message
    now = sales_orders(imported)
    assert now[void].status == "void" and now[shipped].status == "open"
    assert set(writebacks("void")) == {now[void].inbound_order_id}


# --- through a worker: the import's export, and the watched folder -------------------------------


def test_worker_exports_after_import_and_picks_up_the_watched_folder(
    demo_site: int, tmp_path: Path, start_worker: Any, celery_app: Any
) -> None:
    start_worker()
    drop, inbox = tmp_path / "drop", tmp_path / "inbox"

    # When beat's import runs on a worker, then the imported orders land in the drop folder
    summary = celery_app.send_task("tasks.orders.import_orders", args=[demo_site]).get(timeout=120)
    assert summary["imported"] >= 5
    [path] = wait_until(lambda: [p for p in files(drop) if p.suffix == ".csv"], what="the export file")
    assert set(grouped(read_csv(path))) == set(sales_orders(demo_site))
    wait_until(lambda: count(SyncRun, SyncRun.task == "export_orders", SyncRun.outcome == "ok"), what="export run")

    # When the ERP drops a shipments file and a bad file in the watched folder
    number = multi_line_orders(demo_site, 1)[0]
    inbox.mkdir()
    good = shipments_csv(inbox / "shipped.csv", ship_all(number, "1ZWORKER"))
    bad = inbox / "notes.pdf"
    bad.write_bytes(b"%PDF-1.4")
    old = time.time() - 60
    for p in (good, bad):
        os.utime(p, (old, old))
    out = celery_app.send_task("tasks.erp.load_shipment_files", args=[str(inbox)]).get(timeout=60)

    # Then the good file is loaded and moved to done/, the bad one to failed/ with why
    assert [f["ok"] for f in out["files"]] == [False, True]  # notes.pdf, shipped.csv (name order)
    assert out["writebacks_queued"] == 1
    assert [p.name for p in files(inbox)] == []
    [done] = files(inbox / "done")
    assert done.name.endswith("_shipped.csv")
    failed = files(inbox / "failed")
    assert [p.name.endswith(s) for p, s in zip(failed, ("_notes.pdf", "_notes.pdf.error.txt"), strict=True)] == [
        True,
        True,
    ]
    assert "not a CSV or .xlsx file" in failed[1].read_text()
    assert sales_orders(demo_site)[number].status == "shipped"
    assert writebacks("shipped")[sales_orders(demo_site)[number].inbound_order_id].payload["tracking_number"] == (
        "1ZWORKER"
    )

    # When the folder is picked up again, then there is nothing to do
    again = celery_app.send_task("tasks.erp.load_shipment_files", args=[str(inbox)]).get(timeout=60)
    assert again["files"] == []


@pytest.fixture()
def inbox_home() -> Iterator[Path]:
    """The default watched folder (under BOBBIN_HOME), emptied afterwards."""
    import shutil

    folder = erp_handoff.inbox_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_files_being_written_wait_for_the_next_pass(imported: int, inbox_home: Path) -> None:
    # Given a file the ERP has just written (changed a moment ago) in the default watched folder
    number = multi_line_orders(imported, 1)[0]
    inbox_home.mkdir(parents=True, exist_ok=True)
    path = shipments_csv(inbox_home / "fresh.csv", ship_all(number, "1ZFRESH"))

    # When the folder is picked up at once, then the file is left for the next pass
    assert erp_handoff.load_shipment_files().files == []
    assert path.exists()

    # When it has settled, then it is loaded and moved to done/
    result = erp_handoff.load_shipment_files(settle_seconds=0)
    assert [f.ok for f in result.files] == [True] and not path.exists()
    assert [p.name.endswith("_fresh.csv") for p in files(inbox_home / "done")] == [True]
