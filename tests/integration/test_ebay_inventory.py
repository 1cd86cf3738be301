"""eBay quantities through the shared inventory push, on real parts: Postgres and the eBay sandbox
over HTTP.

The demo brand (686 SKUs in two warehouses, one division) is loaded with its eBay site; the seller
holds a few of those SKUs as eBay inventory items, made here through the API with a quantity eBay
should no longer show. What eBay shows after a push is compared with available-to-sell computed
here from the ERP tables; what was sent is read from the sandbox's own record of the
bulk_update_price_quantity entries it answered and of the calls it served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text

from connectors.ebay import make_client
from connectors.errors import RetryableError
from core.db import session_scope
from models import InventoryPushRejection, InventoryPushState, SyncRun
from sandbox.ebay.demo import ebay_client_id, ebay_client_secret, ebay_refresh_token
from services import inventory

pytestmark = pytest.mark.integration

HELD = 30  # SKUs the seller holds on eBay: two bulk calls of at most 25
STALE = 999  # the quantity eBay shows before Bobbin's first push
BULK_PATH = "/sell/inventory/v1/bulk_update_price_quantity"
ITEMS_PATH = "/sell/inventory/v1/inventory_item"


def expected_ats() -> dict[str, int]:
    """Per SKU of an active style in the site's division (or none), from the ERP tables, not from
    the service: on hand − allocated − open order lines at that warehouse, at least 0 per
    warehouse, summed over the warehouses (eBay keeps one ship-to-home count per SKU)."""
    with session_scope() as s:
        rows = s.execute(
            text(
                "SELECT i.sku, GREATEST(0, i.on_hand - i.allocated - COALESCE(("
                "  SELECT SUM(l.quantity) FROM sales_order_line l JOIN sales_order o ON o.id = l.sales_order_id "
                "  WHERE o.status = 'open' AND l.sku = i.sku AND o.warehouse_code = i.warehouse_code), 0)) "
                "FROM inventory i JOIN sku k ON k.sku = i.sku JOIN style st ON st.number = k.style_number "
                "JOIN site ON site.kind = 'ebay' "
                "WHERE st.active AND (st.division_code IS NULL OR st.division_code = site.division_code)"
            )
        ).all()
    ats: dict[str, int] = {}
    for sku, qty in rows:
        ats[sku] = ats.get(sku, 0) + int(qty)
    return ats


def seller(ebay: Any) -> Any:
    """The seller's own eBay client (the demo keys), as another tool or Seller Hub would act."""
    return make_client(
        ebay.url,
        {"client_id": ebay_client_id(), "client_secret": ebay_client_secret(), "refresh_token": ebay_refresh_token()},
    )


def hold(ebay: Any, skus: list[str]) -> None:
    """The seller makes these SKUs eBay inventory items (showing STALE), 25 a call."""
    client = seller(ebay)
    try:
        for start in range(0, len(skus), 25):
            items = [
                {
                    "sku": sku,
                    "condition": "NEW",
                    "product": {"title": f"Demo item {sku}"},
                    "availability": {"shipToLocationAvailability": {"quantity": STALE}},
                }
                for sku in skus[start : start + 25]
            ]
            assert all(r.ok for r in client.bulk_create_or_replace_inventory_items(items))
    finally:
        client.close()


def shown(ebay: Any) -> dict[str, int]:
    """The ship-to-home quantity eBay shows per inventory item."""
    return {
        item["sku"]: item["availability"]["shipToLocationAvailability"]["quantity"] for item in ebay.inventory_items()
    }


def calls_to(ebay: Any, path: str, since: int = 0) -> int:
    return sum(1 for call in ebay.calls()[since:] if call["path"].rstrip("/") == path)


def state(site_id: int) -> dict[str, int | None]:
    with session_scope() as s:
        return dict(
            s.execute(
                select(InventoryPushState.sku, InventoryPushState.quantity).where(InventoryPushState.site_id == site_id)
            ).all()
        )


def move_stock(sku: str, by: int) -> None:
    with session_scope() as s:
        s.execute(
            text("UPDATE inventory SET on_hand = on_hand + :by WHERE sku = :sku AND warehouse_code = 'MAIN'"),
            {"by": by, "sku": sku},
        )


def fault_before_batch(ebay: Any, batch_no: int, **fault: Any) -> Callable[[int, int], None]:
    """A progress callback that queues a sandbox fault for the ``batch_no``-th bulk call."""

    def progress(done: int, total: int) -> None:
        if done == (batch_no - 1) * 25:
            ebay.inject_fault(path="bulk_update_price_quantity", **fault)

    return progress


@pytest.fixture()
def held(ebay_site: int, ebay: Any) -> list[str]:
    """HELD SKUs of the demo catalog, spread over it, that the seller holds on eBay."""
    skus = sorted(expected_ats())[::20][:HELD]
    assert len(skus) == HELD
    hold(ebay, skus)
    return skus


# --- what is sent ------------------------------------------------------------------------------------


def test_the_skus_ebay_holds_get_their_ats_and_no_other_sku_is_sent(ebay_site: int, ebay: Any, held: list[str]) -> None:
    # Given the seller holds 30 of the 686 SKUs on eBay, all showing a stale quantity
    before = len(ebay.calls())
    # When the inventory is pushed
    result = inventory.push_inventory(ebay_site)
    # Then eBay was asked for exactly those 30 SKUs, each with its ship-to-home quantity alone
    # (no offer named: the price is the listing push's), in two calls of at most 25
    updates = ebay.price_quantity_updates()
    assert sorted(u["sku"] for u in updates) == held
    assert all(u["statusCode"] == 200 and "offerId" not in u for u in updates)
    assert calls_to(ebay, BULK_PATH, before) == 2
    # And eBay now shows the ERP's available-to-sell for them
    expected = expected_ats()
    assert {sku: shown(ebay)[sku] for sku in held} == {sku: expected[sku] for sku in held}
    assert any(expected[sku] != STALE for sku in held)
    # And the 656 SKUs eBay does not hold were neither sent nor kept as state: only what eBay took is
    assert (result.rows_sent, result.rows_accepted, result.rows_rejected) == (HELD, HELD, 0)
    assert result.rows_not_held == len(expected) - HELD and result.rows_forgotten == 0 and result.rows_not_found == 0
    assert state(ebay_site) == {sku: expected[sku] for sku in held}
    # And eBay's inventory list was read once, in pages of 200
    items_reads = [c for c in ebay.calls()[before:] if c["path"].rstrip("/") == ITEMS_PATH]
    assert len(items_reads) == 1 and items_reads[0]["query"].get("limit") == "200"


def test_a_dry_run_counts_only_the_skus_ebay_holds_and_sends_nothing(
    ebay_site: int, ebay: Any, held: list[str]
) -> None:
    # When a dry run is asked for
    before = len(ebay.calls())
    plan = inventory.push_inventory(ebay_site, dry_run=True)
    # Then it would send the 30 SKUs eBay holds, sent nothing, and wrote no state
    assert plan.dry_run and plan.rows_total == HELD and plan.rows_not_held == len(expected_ats()) - HELD
    assert calls_to(ebay, BULK_PATH, before) == 0 and ebay.price_quantity_updates() == []
    assert state(ebay_site) == {}


def test_a_second_push_with_nothing_changed_sends_nothing(ebay_site: int, ebay: Any, held: list[str]) -> None:
    # Given everything was pushed once
    inventory.push_inventory(ebay_site)
    before, sent = len(ebay.calls()), len(ebay.price_quantity_updates())
    # When the push runs again with nothing changed in the ERP
    again = inventory.push_inventory(ebay_site)
    # Then nothing was sent, and eBay was not even asked what it holds
    assert again.rows_sent == 0 and again.changed == 0
    assert len(ebay.price_quantity_updates()) == sent and ebay.calls()[before:] == []


def test_one_change_sends_one_sku(ebay_site: int, ebay: Any, held: list[str]) -> None:
    # Given everything was pushed once
    inventory.push_inventory(ebay_site)
    sent = len(ebay.price_quantity_updates())
    # When the stock of one held SKU and of one SKU eBay does not hold moves
    unheld = next(sku for sku in sorted(expected_ats()) if sku not in held)
    move_stock(held[7], 3)
    move_stock(unheld, 3)
    before = len(ebay.calls())
    result = inventory.push_inventory(ebay_site)
    # Then eBay got one request, for the held SKU, with its new ATS; the other was not sent
    new = ebay.price_quantity_updates()[sent:]
    assert [(u["sku"], u["statusCode"]) for u in new] == [(held[7], 200)]
    assert calls_to(ebay, BULK_PATH, before) == 1
    assert shown(ebay)[held[7]] == expected_ats()[held[7]] == state(ebay_site)[held[7]]
    assert (result.rows_sent, result.rows_accepted, result.rows_not_held) == (1, 1, 1)
    assert unheld not in state(ebay_site)
    # And the next push finds nothing to do (the unheld SKU is not sent again and again)
    after = len(ebay.calls())
    assert inventory.push_inventory(ebay_site).rows_sent == 0 and ebay.calls()[after:] == []


def test_a_sku_the_seller_lists_later_is_sent_once_its_stock_moves(ebay_site: int, ebay: Any, held: list[str]) -> None:
    # Given a push while the seller held 30 SKUs
    inventory.push_inventory(ebay_site)
    sent = len(ebay.price_quantity_updates())
    # When the seller makes one more SKU an eBay item, and its stock moves
    later = next(sku for sku in sorted(expected_ats()) if sku not in held)
    hold(ebay, [later])
    move_stock(later, 2)
    inventory.push_inventory(ebay_site)
    # Then that SKU is sent with its ATS
    assert [u["sku"] for u in ebay.price_quantity_updates()[sent:]] == [later]
    assert shown(ebay)[later] == expected_ats()[later]


# --- what eBay refuses ------------------------------------------------------------------------------


def test_a_sku_ebay_refuses_is_recorded_with_its_message_and_the_rest_go_through(
    ebay_site: int, ebay: Any, held: list[str]
) -> None:
    # Given one listing already used up its revisions for the day [DOC: 250 a day; 1 here]
    ebay.revisions_per_day = 1
    refused = held[3]
    client = seller(ebay)
    try:
        client.bulk_update_price_quantity([{"sku": refused, "shipToLocationAvailability": {"quantity": STALE}}])
    finally:
        client.close()
    sent = len(ebay.price_quantity_updates())
    # When the inventory is pushed
    result = inventory.push_inventory(ebay_site)
    # Then eBay refused that SKU and took the 29 others
    answered = {u["sku"]: u["statusCode"] for u in ebay.price_quantity_updates()[sent:]}
    assert answered == {sku: 400 if sku == refused else 200 for sku in held}
    expected = expected_ats()
    assert shown(ebay)[refused] == STALE
    assert all(shown(ebay)[sku] == expected[sku] for sku in held if sku != refused)
    assert (result.rows_accepted, result.rows_rejected, result.batches_rejected) == (HELD - 1, 1, 0)
    # And the refusal is recorded for that SKU with eBay's errorId and message, the run is ok
    with session_scope() as s:
        rejection = s.scalars(select(InventoryPushRejection)).one()
        assert (rejection.site_id, rejection.run_id, rejection.row_count) == (ebay_site, result.run_id, 1)
        assert rejection.rows == [{"sku": refused, "shipToLocationAvailability": {"quantity": expected[refused]}}]
        assert refused in rejection.message and "25019" in rejection.message
        assert "revision limit" in rejection.message
        run = s.get(SyncRun, result.run_id)
        assert run is not None and run.outcome == "ok"
    assert refused not in state(ebay_site)
    # When the next day comes (the limit lifts) and the push runs again
    ebay.revisions_per_day = 250
    sent = len(ebay.price_quantity_updates())
    again = inventory.push_inventory(ebay_site)
    # Then it sends exactly the refused SKU, which eBay now takes
    assert [(u["sku"], u["statusCode"]) for u in ebay.price_quantity_updates()[sent:]] == [(refused, 200)]
    assert again.rows_accepted == 1 and shown(ebay)[refused] == expected[refused]


# --- eBay busy or down ---------------------------------------------------------------------------------


def test_a_429_and_a_503_are_retried_and_the_push_goes_through(ebay_site: int, ebay: Any, held: list[str]) -> None:
    # Given eBay answers the first bulk call 429 (Retry-After 1) and the next one 503
    ebay.inject_fault(path="bulk_update_price_quantity", status=429, retry_after=1, count=1)
    ebay.inject_fault(path="bulk_update_price_quantity", status=503, count=1)
    # When the inventory is pushed
    result = inventory.push_inventory(ebay_site)
    # Then both faults were played, the client sent those calls again, and every SKU got through once
    assert ebay.faults.pending() == [] and ebay.faults.stats() == {"429": 1, "503": 1}
    assert result.rows_accepted == HELD and result.rows_rejected == 0
    assert sorted(u["sku"] for u in ebay.price_quantity_updates()) == held
    expected = expected_ats()
    assert all(shown(ebay)[sku] == expected[sku] for sku in held)


def test_an_answer_lost_on_the_way_is_sent_again_safely(ebay_site: int, ebay: Any, held: list[str]) -> None:
    # Given eBay applies the first bulk call but its answer is cut off on the way back
    ebay.inject_fault(path="bulk_update_price_quantity", truncate=True, count=1)
    # When the inventory is pushed
    result = inventory.push_inventory(ebay_site)
    # Then the client sent that call again (absolute quantities: the same result twice) and all got through
    answered = [u["sku"] for u in ebay.price_quantity_updates()]
    assert len(answered) == HELD + 25 and sorted(set(answered)) == held
    assert result.rows_accepted == HELD
    expected = expected_ats()
    assert all(shown(ebay)[sku] == expected[sku] for sku in held)


def test_when_ebay_stays_down_the_rest_is_left_unwritten_and_the_next_push_sends_it(
    ebay_site: int, ebay: Any, held: list[str]
) -> None:
    # Given eBay fails every attempt at the second bulk call (the client's retries run out)
    with pytest.raises(RetryableError):
        inventory.push_inventory(ebay_site, progress=fault_before_batch(ebay, 2, status=503, count=5))
    # Then the first 25 SKUs are on eBay and recorded; the other 5 are neither; the run failed
    first = [u["sku"] for u in ebay.price_quantity_updates()]
    assert len(first) == 25 and sorted(state(ebay_site)) == sorted(first)
    rest = sorted(set(held) - set(first))
    assert all(shown(ebay)[sku] == STALE for sku in rest)
    with session_scope() as s:
        run = s.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and run.outcome == "failed" and run.counts["rows_accepted"] == 25
    # When the push runs again
    result = inventory.push_inventory(ebay_site)
    # Then it sends exactly those 5
    assert sorted(u["sku"] for u in ebay.price_quantity_updates()[25:]) == rest
    assert result.rows_accepted == len(rest) == HELD - 25
    expected = expected_ats()
    assert all(shown(ebay)[sku] == expected[sku] for sku in held)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(InventoryPushRejection)) == 0
