"""eBay's inventory pusher, the pure parts: which changes become bulkUpdatePriceQuantity requests,
and how eBay's per-SKU answers settle them (no database, no HTTP)."""

from __future__ import annotations

from datetime import date

from connectors.ebay.client import BulkResult, EbayError
from connectors.ebay.inventory import INVENTORY, answer_of, ebay_units
from connectors.inventory import DEFAULT_WAREHOUSE, Change

WH = DEFAULT_WAREHOUSE


def change(sku: str, quantity: int, previous: int | None = None, *, gone: bool = False) -> Change:
    return Change(sku, WH, None, previous, quantity, gone)


def test_a_held_sku_goes_with_its_ship_to_home_quantity_alone() -> None:
    (unit,) = ebay_units([change("109IX", 7, 3)], {"109IX"})
    assert unit.payload == {"sku": "109IX", "shipToLocationAvailability": {"quantity": 7}}
    assert unit.settles == ((("109IX", WH, None), 7),) and not unit.not_held


def test_a_gone_sku_goes_as_zero_and_its_state_is_forgotten_once_taken() -> None:
    (unit,) = ebay_units([change("109IX", 0, 5, gone=True)], {"109IX"})
    assert unit.payload == {"sku": "109IX", "shipToLocationAvailability": {"quantity": 0}}
    assert unit.settles == ((("109IX", WH, None), None),)


def test_a_sku_ebay_does_not_hold_has_nothing_to_send_and_keeps_no_state() -> None:
    (unit,) = ebay_units([change("1LP4S", 4)], {"109IX"})
    assert unit.payload is None and unit.not_held
    assert unit.settles == ((("1LP4S", WH, None), None),)


def test_future_stock_is_not_sent() -> None:
    # eBay keeps no future stock: the pusher makes nothing of a future bucket (and so reads nothing)
    class NoClient:
        def inventory_skus(self) -> set[str]:
            raise AssertionError("eBay's inventory was read for future stock alone")

    pusher = INVENTORY.open(NoClient(), None)
    future = Change("109IX", WH, date(2027, 3, 1), None, 40)
    assert pusher.units([future], {}, {}) == []


def test_each_sku_is_settled_by_ebays_own_answer_about_it() -> None:
    units = ebay_units([change(s, 1) for s in ("A", "B", "C", "D")], {"A", "B", "C", "D"})
    refused = EbayError(25709, "Invalid value for shipToLocationAvailability.quantity.", parameters=(("sku", "C"),))
    results = [
        BulkResult("A", 200),
        BulkResult("B", 404, errors=(EbayError(25702, "SKU B is not available in the system"),)),
        BulkResult("C", 400, errors=(refused,)),
        BulkResult("D", 200, warnings=(EbayError(25401, "a warning"),)),
    ]
    answer = answer_of(units, results)
    assert answer.accepted == [0, 3] and answer.not_found == [1]
    ((position, message),) = answer.rejected
    assert position == 2
    assert message.startswith("eBay refused the quantity of SKU C (statusCode 400): errorId 25709: Invalid value")
    assert "sku=C" in message


def test_a_sku_answered_ok_with_an_error_is_not_taken() -> None:
    # [INF] an entry carrying errors is not taken as done, whatever its statusCode says (BulkResult.ok)
    (unit,) = ebay_units([change("A", 2)], {"A"})
    answer = answer_of([unit], [BulkResult("A", 200, errors=(EbayError(25001, "System error"),))])
    assert answer.accepted == [] and [p for p, _ in answer.rejected] == [0]


def test_the_push_takes_25_skus_a_call_one_count_per_sku() -> None:
    assert INVENTORY.batch_rows == 25 and not INVENTORY.per_warehouse and not INVENTORY.names_skus
