"""``bobbin ebay import-csv``: eBay Seller Hub orders reports through the same holding area, checks
and exactly-once import as the REST sales (issue 17), on the real Postgres with the demo eBay site
(its ERP data, its mappings) and the eBay sandbox for the REST side.

Given the demo brand's ERP and eBay site, when a report is imported (``services.ebay_csv``), then
each order ends as its rows say: imported with one freight amount, a deposit for what the buyer
paid and eBay's tax apart; a SKU the ERP does not know or a buyer without an e-mail is a problem
row of its order while the rest goes through; a differing ship-to is a new address of the customer.
The expected amounts are read from the report's cells here, with the csv module, never from the
code under test. A report read twice, or a sale brought by the API and by a report, is imported
once. A malformed report is refused whole and writes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from bobbin.cli.ebay_csv import import_csv
from bobbin.demo_sites import DEMO_SITE, load_demo
from core.db import session_scope
from models import (
    Customer,
    CustomerAddress,
    CustomerDeposit,
    InboundOrder,
    OrderError,
    SalesOrder,
    SalesOrderLine,
    SyncRun,
)
from services.ebay_csv import ReportRejected, import_orders_csv
from services.pipeline import import_site_orders
from tests.integration.test_cli import cli_logging  # noqa: F401  (the CLI's logging, autouse)

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "ebay-orders.csv"
# The report's columns a test writes (a real report has 82; the reader needs only these).
COLUMNS = (
    "Sales Record Number",
    "Order Number",
    "Buyer Username",
    "Buyer Name",
    "Buyer Email",
    "Buyer Address 1",
    "Buyer City",
    "Buyer State",
    "Buyer Zip",
    "Buyer Country",
    "Ship To Name",
    "Ship To Address 1",
    "Ship To City",
    "Ship To State",
    "Ship To Zip",
    "Ship To Country",
    "Item Number",
    "Item Title",
    "Custom Label",
    "Quantity",
    "Sold For",
    "Shipping And Handling",
    "eBay Collected Tax",
    "Total Price",
    "Payment Method",
    "Sale Date",
    "Paid On Date",
    "Shipping Service",
)


# --- reading the report here, independently of services.ebay_csv ----------------------------------


def money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", "")) if text else Decimal("0")


def report_rows(path: Path) -> list[dict[str, str]]:
    """The report's data rows as dicts (the header is the row with "Order Number"; summary lines dropped)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    at = next(i for i, r in enumerate(rows) if "Order Number" in r)
    header = rows[at]
    return [
        dict(zip(header, r, strict=False))
        for r in rows[at + 1 :]
        if len(r) == len(header) and r[header.index("Order Number")]
    ]


def report_orders(path: Path) -> dict[str, list[dict[str, str]]]:
    orders: dict[str, list[dict[str, str]]] = {}
    for r in report_rows(path):
        orders.setdefault(r["Order Number"], []).append(r)
    return orders


def order_cell(rows: list[dict[str, str]], column: str) -> str:
    return next((r[column] for r in rows if r[column]), "")


def write_report(path: Path, rows: list[dict[str, str]], *, preamble: bool = True) -> Path:
    """A report as Seller Hub lays it out: a blank line, the header, a blank line, the rows, the summary."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    if preamble:
        out.write("\r\n")
    w.writerow(COLUMNS)
    out.write("\r\n")
    for r in rows:
        w.writerow([r.get(c, "") for c in COLUMNS])
    out.write("\r\n")
    w.writerow([f"{len(rows)} record(s) downloaded", "from Nov-01-26 to Nov-30-26"])
    w.writerow(["Seller ID: harborandpine"])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def sale(number: str, sku: str, **cells: str) -> dict[str, str]:
    """One single-item order row (paid, shipped to the buyer's address)."""
    row = {
        "Sales Record Number": "9001",
        "Order Number": number,
        "Buyer Username": "grace_k",
        "Buyer Name": "Grace Kim",
        "Buyer Email": "grace.kim@example.com",
        "Buyer Address 1": "12 Pier Street",
        "Buyer City": "Portland",
        "Buyer State": "ME",
        "Buyer Zip": "04101",
        "Buyer Country": "United States",
        "Ship To Name": "Grace Kim",
        "Ship To Address 1": "12 Pier Street",
        "Ship To City": "Portland",
        "Ship To State": "ME",
        "Ship To Zip": "04101",
        "Ship To Country": "United States",
        "Item Number": "325511009999",
        "Item Title": "Dune Fisherman Sweater - Olive / S",
        "Custom Label": sku,
        "Quantity": "1",
        "Sold For": "$94.00",
        "Shipping And Handling": "$5.95",
        "eBay Collected Tax": "$8.25",
        "Total Price": "$108.20",
        "Payment Method": "eBay Managed Payments",
        "Sale Date": "Nov-21-26",
        "Paid On Date": "Nov-21-26",
        "Shipping Service": "USPS Priority Mail",
    }
    row.update(cells)
    return row


# --- the database, read back -------------------------------------------------------------------------


def held(site_id: int) -> dict[str, InboundOrder]:
    with session_scope() as s:
        rows = s.scalars(select(InboundOrder).where(InboundOrder.site_id == site_id)).all()
        for r in rows:
            s.expunge(r)
        return {r.partner_order_id: r for r in rows}


def open_codes(order_id: int) -> dict[str, str]:
    with session_scope() as s:
        return dict(
            s.execute(
                select(OrderError.code, OrderError.message).where(
                    OrderError.order_id == order_id, OrderError.resolved_at.is_(None)
                )
            ).all()
        )


def counts() -> dict[str, int]:
    with session_scope() as s:
        return {
            m.__name__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (InboundOrder, OrderError, SalesOrder, SalesOrderLine, Customer, CustomerAddress, CustomerDeposit)
        }


# --- the sample report -------------------------------------------------------------------------------


def test_the_sample_report_imports_as_its_rows_say(ebay_site: int) -> None:
    # given the sample report, read here with the csv module
    orders = report_orders(SAMPLE)
    multi = next(n for n, rows in orders.items() if len(rows) > 1)
    unknown_sku = next(n for n, rows in orders.items() if any(r["Custom Label"].startswith("ZZ") for r in rows))
    no_email = next(n for n, rows in orders.items() if not order_cell(rows, "Buyer Email"))
    unpaid = next(n for n, rows in orders.items() if not order_cell(rows, "Paid On Date"))
    gift = next(n for n, rows in orders.items() if order_cell(rows, "Ship To Name") != order_cell(rows, "Buyer Name"))
    paid_ok = [n for n in orders if n not in (unknown_sku, no_email, unpaid)]

    # when it is imported into the eBay site
    summary = import_orders_csv(ebay_site, SAMPLE)

    # then every order is held once, and the good ones are imported with the report's amounts
    assert summary["orders"] == len(orders) and summary["new"] == len(orders)
    assert summary["imported"] == len(paid_ok), summary
    found = held(ebay_site)
    assert set(found) == set(orders)
    with session_scope() as s:
        for number in paid_ok:
            rows = orders[number]
            order = found[number]
            assert order.state == "imported", (number, open_codes(order.id))
            so = s.scalar(select(SalesOrder).where(SalesOrder.inbound_order_id == order.id))
            assert so is not None
            items = [r for r in rows if r["Custom Label"]]
            lines = s.execute(
                select(SalesOrderLine.quantity, SalesOrderLine.price)
                .where(SalesOrderLine.sales_order_id == so.id)
                .order_by(SalesOrderLine.line_no)
            ).all()
            assert [(int(q), p) for q, p in lines] == [(int(r["Quantity"]), money(r["Sold For"])) for r in items]
            assert so.freight == money(order_cell(rows, "Shipping And Handling"))
            tax = money(order_cell(rows, "eBay Collected Tax"))
            assert so.marketplace_tax == tax
            deposit = s.scalar(select(CustomerDeposit).where(CustomerDeposit.sales_order_id == so.id))
            assert deposit is not None
            # what the buyer paid (the total, eBay's tax in it), less the tax eBay remits itself
            assert deposit.amount == money(order_cell(rows, "Total Price")) - tax
            customer = s.scalar(select(Customer).where(Customer.code == so.customer_code))
            assert customer is not None and customer.email == order_cell(rows, "Buyer Email")
        assert len(
            s.scalars(
                select(SalesOrderLine).join(SalesOrder).where(SalesOrder.inbound_order_id == found[multi].id)
            ).all()
        ) == len([r for r in orders[multi] if r["Custom Label"]])

        # a differing ship-to: a new address of the same customer, beside the one on file
        gift_so = s.scalar(select(SalesOrder).where(SalesOrder.inbound_order_id == found[gift].id))
        assert gift_so is not None
        gift_rows = orders[gift]
        addresses = s.execute(
            select(CustomerAddress.kind, CustomerAddress.line1).where(
                CustomerAddress.customer_code == gift_so.customer_code
            )
        ).all()
        assert ("shipping", order_cell(gift_rows, "Ship To Address 1")) in addresses
        assert any(line1 == order_cell(gift_rows, "Buyer Address 1") for _, line1 in addresses)
        same_buyer = [
            n
            for n in paid_ok
            if n != gift and order_cell(orders[n], "Buyer Email") == order_cell(gift_rows, "Buyer Email")
        ]
        assert same_buyer, "the sample has the gift buyer's earlier order"
        earlier = s.scalar(
            select(SalesOrder.customer_code).where(SalesOrder.inbound_order_id == found[same_buyer[0]].id)
        )
        assert earlier == gift_so.customer_code, "one buyer, one ERP customer (matched by e-mail)"
        assert gift_so.ship_to_line1 == order_cell(gift_rows, "Ship To Address 1")

    # a SKU the ERP does not know: a problem row on its order, naming it
    codes = open_codes(found[unknown_sku].id)
    assert found[unknown_sku].state == "invalid" and "sku_unknown" in codes
    assert "ZZ-404" in codes["sku_unknown"]
    # a buyer without an e-mail: a customer problem that says so
    codes = open_codes(found[no_email].id)
    assert found[no_email].state == "invalid" and "customer_unknown" in codes
    assert "e-mail" in codes["customer_unknown"]
    # not paid yet: held, not imported
    assert found[unpaid].state == "invalid" and "partner_hold" in open_codes(found[unpaid].id)
    outcomes = {o["order_number"]: o for o in summary["order_outcomes"]}
    assert outcomes[unknown_sku]["problems"] and outcomes[multi]["sales_order"]
    assert outcomes[multi]["rows"] == sorted(outcomes[multi]["rows"]) and len(outcomes[multi]["rows"]) == len(
        orders[multi]
    )
    with session_scope() as s:
        run = s.scalar(select(SyncRun).where(SyncRun.id == summary["run_id"]))
        assert run is not None and run.outcome == "ok" and run.task == "ebay_import_csv"


def test_the_same_report_twice_imports_nothing_twice(ebay_site: int) -> None:
    first = import_orders_csv(ebay_site, SAMPLE)
    before = counts()

    again = import_orders_csv(ebay_site, SAMPLE)

    assert again["new"] == 0 and again["changed"] == 0 and again["imported"] == 0
    assert again["unchanged"] == first["orders"]
    assert counts() == before
    assert again["new_errors"] == 0


def test_a_sale_brought_by_the_api_and_by_a_report_is_one_order(ebay_site: int, ebay: Any, tmp_path: Path) -> None:
    # given the site's sales imported over REST from the sandbox
    sandbox_orders = ebay.orders()
    rest = import_site_orders(ebay_site)
    assert rest["imported"] >= 1, rest
    by_api = {pid: o for pid, o in held(ebay_site).items() if o.state == "imported"}
    number, order = next(iter(by_api.items()))
    with session_scope() as s:
        sales_before = int(s.scalar(select(func.count()).select_from(SalesOrder)) or 0)
    api_order = next(o for o in sandbox_orders if o["orderId"] == number)
    sku = api_order["lineItems"][0]["sku"]

    # when a report lists that sale and a new one
    report = write_report(tmp_path / "report.csv", [sale(number, sku), sale("27-99999-00001", sku)])
    summary = import_orders_csv(ebay_site, report)

    # then the API's order is left as it was, and only the new sale is imported
    assert summary["from_api"] == 1 and summary["new"] == 1 and summary["imported"] == 1, summary
    after = held(ebay_site)
    assert after[number].raw_hash == order.raw_hash and after[number].state == "imported"
    with session_scope() as s:
        assert int(s.scalar(select(func.count()).select_from(SalesOrder)) or 0) == sales_before + 1
        assert (
            s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.inbound_order_id == order.id)) == 1
        )
    outcomes = {o["order_number"]: o for o in summary["order_outcomes"]}
    assert outcomes[number]["source"] == "api"


def test_a_sale_in_a_report_first_is_not_doubled_by_the_api_later(ebay_site: int, ebay: Any, tmp_path: Path) -> None:
    # given a paid sale of the sandbox imported from a report before the API read it
    paid = next(
        o
        for o in ebay.orders()
        if o["orderPaymentStatus"] == "PAID"
        and o["cancelStatus"]["cancelState"] == "NONE_REQUESTED"
        and o["buyer"]["buyerRegistrationAddress"].get("email")
    )
    number, sku = paid["orderId"], paid["lineItems"][0]["sku"]
    report = write_report(tmp_path / "report.csv", [sale(number, sku)])
    assert import_orders_csv(ebay_site, report)["imported"] == 1
    first_id = held(ebay_site)[number].id

    # when the API import reads the same sale
    import_site_orders(ebay_site)

    # then it is still one held order with one ERP order
    with session_scope() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(InboundOrder)
                .where(InboundOrder.site_id == ebay_site, InboundOrder.partner_order_id == number)
            )
            == 1
        )
        assert (
            s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.inbound_order_id == first_id)) == 1
        )
    assert held(ebay_site)[number].state == "imported"


# --- a malformed report ------------------------------------------------------------------------------


def test_a_malformed_report_is_refused_whole_and_writes_nothing(ebay_site: int, tmp_path: Path) -> None:
    # given a report with a good order and three bad rows
    rows = [
        sale("27-10000-00001", "1LP4S"),
        sale("", "1LP4S"),  # no order number
        sale("27-10000-00003", "1LP4S", **{"Sold For": "thirty-eight"}),  # an amount nobody can read
        sale("27-10000-00004", "1LP4S", Quantity="1.5"),  # not a whole number of units
    ]
    report = write_report(tmp_path / "bad.csv", rows)
    before = counts()
    with session_scope() as s:
        runs_before = int(s.scalar(select(func.count()).select_from(SyncRun)) or 0)

    # when it is imported
    with pytest.raises(ReportRejected) as refused:
        import_orders_csv(ebay_site, report)

    # then each bad row is named by its row number (blank line 1, header 2, blank 3, data from 4)
    problems = {(p.row, p.column) for p in refused.value.problems}
    assert problems == {(5, "Order Number"), (6, "Sold For"), (7, "Quantity")}
    message = str(refused.value)
    assert "row 5" in message and "thirty-eight" in message and "1.5" in message
    assert "Nothing of the file was imported" in message
    # and nothing was written: no order held (not even the good one), no run, no customer
    assert counts() == before
    with session_scope() as s:
        assert int(s.scalar(select(func.count()).select_from(SyncRun)) or 0) == runs_before


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("Name,Email\nJane,jane@example.com\n", 'no header row with an "Order Number" column'),
        ("Order Number,Buyer Email\n12-1,a@example.com\n", "'Custom Label'"),
        ("", 'no header row with an "Order Number" column'),
    ],
)
def test_a_file_that_is_no_orders_report_says_so(ebay_site: int, tmp_path: Path, content: str, said: str) -> None:
    path = tmp_path / "other.csv"
    path.write_text(content, encoding="utf-8")
    before = counts()
    with pytest.raises(ReportRejected) as refused:
        import_orders_csv(ebay_site, path)
    assert said in str(refused.value)
    assert counts() == before


def test_bytes_that_are_no_utf8_text_are_refused(ebay_site: int, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Order Number,Buyer Email\n12-1,r\xe9my@example.com\n".encode("latin-1"))
    with pytest.raises(ReportRejected, match="not UTF-8"):
        import_orders_csv(ebay_site, path)


# --- the command -------------------------------------------------------------------------------------


def ebay_app() -> typer.Typer:
    """The command as ``bobbin ebay`` registers it."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """eBay."""

    app.command("import-csv")(import_csv)
    return app


def run(*args: str) -> Any:
    return CliRunner().invoke(ebay_app(), list(args), env={"COLUMNS": "220"})


def test_the_command_imports_and_lists_each_order(ebay_site: int) -> None:
    result = run("import-csv", str(ebay_site), str(SAMPLE))
    assert result.exit_code == 0, result.output
    orders = report_orders(SAMPLE)
    assert "Imported ebay-orders.csv" in result.stdout
    for number in orders:
        assert number in result.stdout
    assert "ZZ-404" in result.stdout  # the unknown SKU's problem, in the order's row
    assert "bobbin orders list --site" in result.stdout

    again = run("import-csv", str(ebay_site), str(SAMPLE), "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["imported"] == 0 and data["unchanged"] == len(orders)
    assert {o["order_number"] for o in data["order_outcomes"]} == set(orders)


def test_the_command_lists_the_bad_rows_and_exits_1(ebay_site: int, tmp_path: Path) -> None:
    report = write_report(tmp_path / "bad.csv", [sale("27-10000-00001", "1LP4S", Quantity="two")])
    before = counts()

    result = run("import-csv", str(ebay_site), str(report))

    assert result.exit_code == 1
    assert "1 row has problems" in result.stdout and "Quantity" in result.stdout and "two" in result.stdout
    assert "nothing was imported from bad.csv" in result.stderr
    assert "Traceback" not in result.output
    assert counts() == before
    as_json = run("import-csv", str(ebay_site), str(report), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["problems"][0]["row"] == 4


def test_the_command_names_what_is_wrong_with_its_arguments(ebay_site: int, tmp_path: Path) -> None:
    missing = run("import-csv", str(ebay_site), str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    wrong_site = run("import-csv", "no-such-site", str(SAMPLE))
    assert wrong_site.exit_code == 1 and "no site 'no-such-site'" in wrong_site.stderr
    load_demo("http://127.0.0.1:9/api/v2")  # a Brandboom site beside the eBay one
    not_ebay = run("import-csv", DEMO_SITE, str(SAMPLE))
    assert not_ebay.exit_code == 1 and "is a Brandboom site" in not_ebay.stderr, not_ebay.output
