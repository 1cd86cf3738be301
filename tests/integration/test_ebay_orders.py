"""eBay sales in and tracking back, over HTTP against the eBay sandbox and a real Postgres.

The demo store (the ``ebay`` fixture) holds 20 sales in every payment and fulfilment state; eBay's
getOrders leaves out the one still awaiting payment, so a first import reads 19: 17 paid ones are
imported and the cancelled and the failed-payment ones are held. Each test asserts what one run
did (its counts, the rows it wrote, the calls the sandbox received), not only where runs end up.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from connectors.ebay.mapper import order_extras
from core.db import session_scope
from models import (
    Customer,
    CustomerAddress,
    CustomerDeposit,
    InboundOrder,
    OrderCursor,
    OrderError,
    OutboxEntry,
    SalesOrder,
    SalesOrderLine,
    Site,
)
from services import erp_handoff, writeback
from services.pipeline import import_site_orders
from tests.integration.test_cli import bobbin, cli_logging, no_traceback  # noqa: F401  (the CLI's logging, autouse)

pytestmark = pytest.mark.integration

KNOWN_SKU = {"sku": "109IX", "title": "Dune Fisherman Sweater - Olive / XS", "price": "94.00", "quantity": 1}


def held(site_id: int) -> dict[str, tuple[str, list[str]]]:
    """partner order id -> (state, open problem codes)."""
    with session_scope() as s:
        out: dict[str, tuple[str, list[str]]] = {}
        for order in s.scalars(select(InboundOrder).where(InboundOrder.site_id == site_id)):
            codes = s.scalars(
                select(OrderError.code).where(OrderError.order_id == order.id, OrderError.resolved_at.is_(None))
            ).all()
            out[order.partner_order_id] = (order.state, sorted(codes))
        return out


def problem(site_id: int, partner_order_id: str, code: str) -> str:
    with session_scope() as s:
        message = s.scalar(
            select(OrderError.message)
            .join(InboundOrder, InboundOrder.id == OrderError.order_id)
            .where(InboundOrder.site_id == site_id, InboundOrder.partner_order_id == partner_order_id)
            .where(OrderError.code == code)
        )
        assert message, f"no {code} on {partner_order_id}"
        return str(message)


def set_settings(site_id: int, **changes: Any) -> None:
    with session_scope() as s:
        site = s.get(Site, site_id)
        assert site is not None
        site.settings = {**(site.settings or {}), **changes}


def test_a_first_import_takes_the_paid_sales_once_with_freight_deposit_and_tax(ebay_site: int, ebay: Any) -> None:
    # When the site's sales are imported for the first time
    first = import_site_orders(ebay_site)

    # Then the 19 listed sales are held once; the 17 paid ones are in the ERP, the cancelled and
    # the failed-payment ones are held with the reason in words
    assert (first["fetched"], first["new"], first["imported"], first["invalid"]) == (19, 19, 17, 2)
    states = held(ebay_site)
    holds = {oid: codes for oid, (state, codes) in states.items() if state != "imported"}
    assert sorted(holds.values()) == [["partner_hold"], ["partner_hold"]]
    messages = sorted(problem(ebay_site, oid, "partner_hold") for oid in holds)
    assert "cancelled on eBay" in messages[0] + messages[1]
    assert "not paid on eBay (payment status FAILED)" in messages[0] + messages[1]

    # and each sales order carries eBay's freight, the deposit of what the buyer paid and the
    # tax eBay collected, as the order's own payload says
    raws = {o["orderId"]: o for o in ebay.orders()}
    with session_scope() as s:
        rows = s.execute(
            select(InboundOrder.partner_order_id, SalesOrder, CustomerDeposit)
            .join(SalesOrder, SalesOrder.inbound_order_id == InboundOrder.id)
            .outerjoin(CustomerDeposit, CustomerDeposit.sales_order_id == SalesOrder.id)
            .where(InboundOrder.site_id == ebay_site)
        ).all()
        assert len(rows) == 17
        for oid, so, deposit in rows:
            extras = order_extras(raws[oid])
            assert so.freight == extras.freight and so.freight > 0
            assert so.marketplace_tax == extras.ebay_collected_tax
            assert deposit is not None and deposit.amount == extras.deposit, oid
            assert deposit.customer_code == so.customer_code and deposit.reference == f"eBay order {oid}"
            lines = s.scalar(
                select(func.sum(SalesOrderLine.price * SalesOrderLine.quantity)).where(
                    SalesOrderLine.sales_order_id == so.id
                )
            )
            assert so.total == lines
        # and every buyer became one ERP customer, matched by e-mail on later orders
        made = s.execute(
            select(Customer.code, Customer.email).where(Customer.created_from.like("ebay-demo order %"))
        ).all()
        buyers = {raws[oid]["buyer"]["username"] for oid, _, _ in rows}
        assert len(made) == len(buyers) and all(email for _, email in made)

    # and `bobbin orders show` tells a person what the buyer paid
    with session_scope() as s:
        some = s.scalar(select(InboundOrder.id).where(InboundOrder.state == "imported").order_by(InboundOrder.id))
    shown = bobbin("orders", "show", str(some))
    no_traceback(shown)
    assert shown.exit_code == 0 and "Paid by buyer" in shown.stdout and "deposit paid" in shown.stdout, shown.stdout

    # And a second run reads from its cursor: nothing new, nothing imported again
    second = import_site_orders(ebay_site)
    assert (second["fetched"], second["new"], second["imported"]) == (0, 0, 0)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 17
        cursor = s.get(OrderCursor, ebay_site)
        assert cursor is not None and cursor.modified_since <= datetime.now(UTC)


def test_an_order_paid_later_is_read_again_and_imported_then(ebay_site: int, ebay: Any) -> None:
    import_site_orders(ebay_site)
    # Given a sale whose payment failed, held
    sale = ebay.create_order([KNOWN_SKU], payment_status="FAILED", username="late_payer", email="late@example.com")
    run = import_site_orders(ebay_site)
    assert (run["fetched"], run["imported"]) == (1, 0)
    assert held(ebay_site)[sale["orderId"]] == ("invalid", ["partner_hold"])

    # When the buyer pays and eBay moves the order's last-modified time
    paid = ebay.update_order(
        sale["orderId"],
        {
            "orderPaymentStatus": "PAID",
            "paymentSummary": {
                **sale["paymentSummary"],
                "payments": [{**p, "paymentStatus": "PAID"} for p in sale["paymentSummary"]["payments"]],
            },
        },
    )
    assert paid["orderPaymentStatus"] == "PAID"
    run = import_site_orders(ebay_site)

    # Then the next run reads it again and imports it, its hold resolved
    assert (run["fetched"], run["changed"], run["imported"]) == (1, 1, 1)
    assert held(ebay_site)[sale["orderId"]] == ("imported", [])


def test_bad_sales_are_clear_problems_and_the_rest_goes_through(ebay_site: int, ebay: Any) -> None:
    import_site_orders(ebay_site)
    # Given three new sales: a buyer with no e-mail nobody knows, an item the ERP does not carry,
    # and a good one
    no_email = ebay.create_order([KNOWN_SKU], email=None, username="anon_buyer_77", full_name="Anon Buyer")
    unknown = ebay.create_order(
        [{"sku": "NOT-IN-ERP", "title": "Vintage scarf", "price": "20.00", "quantity": 1}], username="scarf_fan"
    )
    good = ebay.create_order([KNOWN_SKU], username="good_buyer", email="good@example.com")

    run = import_site_orders(ebay_site)

    # Then the good one is imported and the others wait, each with its reason
    assert (run["fetched"], run["imported"], run["invalid"]) == (3, 1, 4)  # (+ the 2 held from before)
    states = held(ebay_site)
    assert states[good["orderId"]] == ("imported", [])
    assert states[no_email["orderId"]] == ("invalid", ["customer_unknown"])
    assert "carries no e-mail" in problem(ebay_site, no_email["orderId"], "customer_unknown")
    assert states[unknown["orderId"]] == ("invalid", ["sku_unknown"])
    with session_scope() as s:  # no customer was made for the buyer without an e-mail
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.name == "Anon Buyer")) == 0


def test_a_differing_ship_to_becomes_a_new_address_of_the_buyer(ebay_site: int, ebay: Any) -> None:
    first = ebay.create_order([KNOWN_SKU], username="mover", email="mover@example.com")
    import_site_orders(ebay_site)
    with session_scope() as s:
        code = s.scalar(select(Customer.code).where(Customer.email == "mover@example.com"))
        assert code
        before = s.scalar(
            select(func.count()).select_from(CustomerAddress).where(CustomerAddress.customer_code == code)
        )

    # When the same buyer (same e-mail) buys again, shipping somewhere new
    address = {
        "addressLine1": "9 Quay Street",
        "city": "Portland",
        "stateOrProvince": "ME",
        "postalCode": "04101",
        "countryCode": "US",
    }
    again = ebay.create_order([KNOWN_SKU], username="mover", email="mover@example.com", address=address)
    run = import_site_orders(ebay_site)

    # Then the order is the same customer's, imported, and the ship-to is a new address record
    assert run["imported"] == 1
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.email == "mover@example.com")) == 1
        after = s.execute(select(CustomerAddress.line1).where(CustomerAddress.customer_code == code)).scalars().all()
        assert len(after) == before + 1 and "9 Quay Street" in after
        so = s.scalar(
            select(SalesOrder)
            .join(InboundOrder, InboundOrder.id == SalesOrder.inbound_order_id)
            .where(InboundOrder.partner_order_id == again["orderId"])
        )
        assert so is not None and so.customer_code == code and so.ship_to_line1 == "9 Quay Street"
    assert held(ebay_site)[again["orderId"]] == ("imported", [])  # no address_new warning: it was added
    assert held(ebay_site)[first["orderId"]][0] == "imported"


def test_with_customer_creation_off_an_unknown_buyer_waits_for_a_person(ebay_site: int, ebay: Any) -> None:
    set_settings(ebay_site, create_customers=False, orders_first_days=1)
    sale = ebay.create_order([KNOWN_SKU], username="stranger", email="stranger@example.com")
    run = import_site_orders(ebay_site)
    assert run["imported"] == 0
    assert held(ebay_site)[sale["orderId"]] == ("invalid", ["customer_unknown"])
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.email == "stranger@example.com")) == 0


# --- Tracking back -------------------------------------------------------------------------------


@pytest.fixture()
def one_sale(ebay_site: int, ebay: Any) -> Iterator[tuple[str, str]]:
    """A two-line sale imported: (eBay order id, ERP sales order number)."""
    set_settings(ebay_site, orders_first_days=1)
    lines = [
        KNOWN_SKU,
        {"sku": "1LP4S", "title": "Dune Fisherman Sweater - Olive / S", "price": "94.00", "quantity": 2},
    ]
    sale = ebay.create_order(lines, username="shipme", email="shipme@example.com")
    assert import_site_orders(ebay_site)["imported"] == 1
    with session_scope() as s:
        number = s.scalar(
            select(SalesOrder.number)
            .join(InboundOrder, InboundOrder.id == SalesOrder.inbound_order_id)
            .where(InboundOrder.partner_order_id == sale["orderId"])
        )
    assert number
    yield sale["orderId"], str(number)


def ship(
    tmp_path: Path, number: str, *, carrier: str = "USPS", tracking: str = "9400111899223344556677"
) -> dict[str, Any]:
    """Load the ERP's shipments file shipping every line of the order."""
    with session_scope() as s:
        lines = s.execute(
            select(SalesOrderLine.line_no, SalesOrderLine.quantity)
            .join(SalesOrder, SalesOrder.id == SalesOrderLine.sales_order_id)
            .where(SalesOrder.number == number)
        ).all()
    path = tmp_path / "shipments.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(
            f, ["Order Number", "Ship Date", "Carrier", "Tracking Number", "Line No", "Quantity Shipped"]
        )
        w.writeheader()
        for line_no, quantity in lines:
            w.writerow(
                {
                    "Order Number": number,
                    "Ship Date": datetime.now(UTC).date().isoformat(),
                    "Carrier": carrier,
                    "Tracking Number": tracking,
                    "Line No": line_no,
                    "Quantity Shipped": quantity,
                }
            )
    with session_scope() as s:
        report = erp_handoff.load_shipments(s, path)
    assert not report.problems, report.problems
    return {"path": path}


def outbox_row(order_id: str) -> OutboxEntry:
    with session_scope() as s:
        row = s.scalar(
            select(OutboxEntry)
            .join(InboundOrder, InboundOrder.id == OutboxEntry.inbound_order_id)
            .where(InboundOrder.partner_order_id == order_id)
        )
        assert row is not None
        s.expunge(row)
        return row


def test_an_erp_shipment_with_tracking_becomes_one_shipping_fulfilment(
    ebay_site: int, ebay: Any, one_sale: tuple[str, str], tmp_path: Path
) -> None:
    order_id, number = one_sale
    ship(tmp_path, number)
    assert outbox_row(order_id).status == "shipped"

    # When the outbox is flushed (twice: the second finds nothing due)
    first = writeback.flush(site_id=ebay_site)
    second = writeback.flush(site_id=ebay_site)

    # Then eBay holds one package of both lines with the carrier and tracking number
    assert (first.sent, second.sent) == (1, 0)
    packages = [f for f in ebay.fulfillments() if f["orderId"] == order_id]
    assert len(packages) == 1
    package = packages[0]
    assert package["shipmentTrackingNumber"] == "9400111899223344556677"
    assert package["shippingCarrierCode"] == "USPS"
    assert sorted(li["quantity"] for li in package["lineItems"]) == [1, 2]
    assert ebay.get_order(order_id)["orderFulfillmentStatus"] == "FULFILLED"
    assert outbox_row(order_id).state == "sent"


def test_a_lost_answer_is_read_back_and_the_package_is_not_made_twice(
    ebay_site: int, ebay: Any, one_sale: tuple[str, str], tmp_path: Path
) -> None:
    order_id, number = one_sale
    ship(tmp_path, number)
    # Given eBay makes the package but its answer never arrives
    ebay.inject_fault(truncate=True, path="shipping_fulfillment", method="POST")
    first = writeback.flush(site_id=ebay_site)
    assert first.sent == 0
    with session_scope() as s:  # due again now
        s.execute(update(OutboxEntry).values(next_attempt_at=func.now()))

    # When the outbox tries again
    second = writeback.flush(site_id=ebay_site)

    # Then it reads the order's packages, finds the tracking number and sends nothing
    assert (second.sent, second.already_applied) == (1, 1)
    posts = [c for c in ebay.calls() if c["method"] == "POST" and "shipping_fulfillment" in c["path"]]
    assert len(posts) == 1
    assert len(ebay.fulfillments()) == 1


def test_a_shipment_without_tracking_is_refused_in_words_and_sends_nothing(
    ebay_site: int, ebay: Any, one_sale: tuple[str, str], tmp_path: Path
) -> None:
    order_id, number = one_sale
    ship(tmp_path, number, tracking="")
    result = writeback.flush(site_id=ebay_site)
    assert result.dead == 1
    row = outbox_row(order_id)
    assert row.state == "dead" and "no tracking number" in (row.last_error or "")
    assert not ebay.fulfillments()


def test_a_revoked_grant_fails_the_run_once_in_words_and_the_alarm_names_the_site(ebay_site: int, ebay: Any) -> None:
    from services.reconcile import reconcile

    # Given the seller withdrew Bobbin's access on eBay
    ebay.revoke_refresh_token()

    # When the site's import runs
    with pytest.raises(Exception) as failed:
        import_site_orders(ebay_site)

    # Then it fails at once, saying what the seller must do, after one token request (no retry loop)
    assert "grant" in str(failed.value).lower()
    token_calls = [c for c in ebay.calls() if c["path"].endswith("oauth2/token")]
    assert len(token_calls) <= 1  # (a refused grant may be answered before the call is recorded)
    with session_scope() as s:
        from models import SyncRun

        run = s.scalar(select(SyncRun).where(SyncRun.site_id == ebay_site).order_by(SyncRun.id.desc()))
        assert run is not None and run.outcome == "failed" and "grant" in (run.error or "").lower()
        site = s.get(Site, ebay_site)
        assert site is not None
        site.created_at = datetime(2026, 1, 1, tzinfo=UTC)  # long silent
    # and the silence alarm names the site and carries eBay's reason
    alarms = reconcile()["alarms"]
    assert len(alarms) == 1 and "ebay-demo" in alarms[0] and "grant" in alarms[0].lower(), alarms


def test_a_buyer_with_characters_postgres_cannot_store_is_still_made_and_imported(ebay_site: int, ebay: Any) -> None:
    # Given a buyer whose name and address carry a NUL character (valid JSON, refused by Postgres text)
    set_settings(ebay_site, orders_first_days=1)
    address = {
        "addressLine1": "1 Pier\u0000 Road",
        "city": "Bath",
        "stateOrProvince": "ME",
        "postalCode": "04530",
        "countryCode": "US",
    }
    sale = ebay.create_order(
        [KNOWN_SKU], username="nul_buyer", email="nul@example.com", full_name="Nul\u0000 Buyer", address=address
    )

    run = import_site_orders(ebay_site)

    # Then the customer is made with the character replaced, and the sale imported
    assert run["imported"] == 1, run
    assert held(ebay_site)[sale["orderId"]][0] == "imported"
    with session_scope() as s:
        name = s.scalar(select(Customer.name).where(Customer.email == "nul@example.com"))
        assert name == "Nul\ufffd Buyer"
