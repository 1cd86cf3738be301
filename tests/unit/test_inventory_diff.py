"""The inventory push's pure part: available to sell, cap and floor, what the partner should show,
the diff against what it accepted, batches, and the Brandboom rows. No database, no HTTP."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.brandboom.inventory import brandboom_units
from services.inventory import (
    Change,
    PushPolicy,
    StockRow,
    batched,
    desired_quantities,
    diff,
    limited,
    nest,
    place_unassigned,
)

DEC1, JAN5, FEB2 = date(2026, 12, 1), date(2027, 1, 5), date(2027, 2, 2)


def row(
    sku: str, wh: str, on_hand: int, allocated: int = 0, future_qty: int = 0, future_date: date | None = None
) -> StockRow:
    """An inventory row as the database hands it over: on hand less allocated, then the future."""
    return StockRow(sku, wh, on_hand - allocated, future_qty or None, future_date if future_qty else None)


# --- available to sell ---------------------------------------------------------------------------


def test_ats_is_on_hand_less_the_erp_allocation_less_open_orders() -> None:
    # Given 50 on hand, 8 allocated by the ERP and 12 held by Bobbin's open orders
    desired = desired_quantities([row("A1", "MAIN", 50, 8)], PushPolicy(), held={("A1", "MAIN"): 12})
    # Then 30 are available
    assert desired == {("A1", "", None): 30}


def test_ats_never_goes_below_zero_and_one_warehouse_short_takes_nothing_from_another() -> None:
    # Given MAIN promised more than it has (5 on hand, 4 allocated, 3 on open orders) and WEST has 6
    stock = [row("A1", "MAIN", 5, 4), row("A1", "WEST", 6)]
    desired = desired_quantities(stock, PushPolicy(), held={("A1", "MAIN"): 3})
    # Then MAIN counts 0 (not -2) and the partner sees WEST's 6
    assert desired == {("A1", "", None): 6}


@pytest.mark.parametrize(
    ("qty", "cap", "floor", "sent"),
    [
        (30, None, None, 30),
        (30, 20, None, 20),  # the cap hides depth
        (3, None, 5, 0),  # below the floor the last units stay back
        (5, None, 5, 5),  # at the floor they are offered
        (40, 25, 5, 25),
        (0, 25, 5, 0),
    ],
)
def test_cap_and_floor(qty: int, cap: int | None, floor: int | None, sent: int) -> None:
    assert limited(qty, cap, floor) == sent


# --- what the partner should show ----------------------------------------------------------------


def test_every_warehouse_adds_up_into_the_default_when_no_mapping_is_set() -> None:
    # Given a SKU in two ERP warehouses and no inventory_warehouses setting
    stock = [row("A1", "MAIN", 10, 2), row("A1", "WEST", 5)]
    # When the desired quantities are computed
    desired = desired_quantities(stock, PushPolicy())
    # Then the partner's default warehouse shows 8 + 5
    assert desired == {("A1", "", None): 13}


def test_open_orders_are_taken_from_their_warehouse() -> None:
    # Given open orders holding 4 in MAIN and 1 in WEST
    stock = [row("A1", "MAIN", 10), row("A1", "WEST", 5)]
    policy = PushPolicy(warehouses={"MAIN": "NY", "WEST": "LA"})
    desired = desired_quantities(stock, policy, held={("A1", "MAIN"): 4, ("A1", "WEST"): 1})
    # Then each partner warehouse shows its own ATS
    assert desired == {("A1", "NY", None): 6, ("A1", "LA", None): 4}


def test_open_orders_without_a_warehouse_are_covered_from_warehouses_in_code_order() -> None:
    # Given 7 units on open orders that name no warehouse, MAIN has 5 available and WEST 5
    stock = [row("A1", "WEST", 5), row("A1", "MAIN", 6, 1)]
    # When they are placed, MAIN (first by code) gives all it has, WEST the rest
    assert place_unassigned(stock, {}, {"A1": 7}) == {("A1", "MAIN"): 5, ("A1", "WEST"): 2}
    desired = desired_quantities(stock, PushPolicy(warehouses={"MAIN": "NY", "WEST": "LA"}), unassigned={"A1": 7})
    assert desired == {("A1", "NY", None): 0, ("A1", "LA", None): 3}


def test_unplaced_orders_do_not_take_what_placed_ones_already_hold() -> None:
    # Given MAIN's 5 are already held by an order placed there, the unplaced 2 come from WEST
    stock = [row("A1", "MAIN", 5), row("A1", "WEST", 5)]
    assert place_unassigned(stock, {("A1", "MAIN"): 5}, {"A1": 2}) == {("A1", "MAIN"): 5, ("A1", "WEST"): 2}


def test_only_mapped_warehouses_are_pushed_and_several_may_share_a_partner_warehouse() -> None:
    # Given MAIN and EAST both go to JOOR's "East Coast", WEST is not pushed
    stock = [row("A1", "MAIN", 10), row("A1", "EAST", 3), row("A1", "WEST", 50)]
    policy = PushPolicy(warehouses={"MAIN": "East Coast", "EAST": "East Coast"})
    assert desired_quantities(stock, policy) == {("A1", "East Coast", None): 13}


def test_a_partner_with_one_count_per_sku_adds_up_the_mapped_warehouses() -> None:
    # Given Brandboom (one count per SKU) and two mapped warehouses with partner names
    stock = [row("A1", "MAIN", 10), row("A1", "WEST", 4), row("A1", "EAST", 99)]
    policy = PushPolicy(warehouses={"MAIN": "x", "WEST": "y"}, per_warehouse=False)
    # Then the names do not matter, the selection does
    assert desired_quantities(stock, policy) == {("A1", "", None): 14}


def test_future_buckets_are_kept_per_wip_date() -> None:
    # Given future stock on two dates and the mode "both"
    stock = [
        row("A1", "MAIN", 0, future_qty=24, future_date=DEC1),
        row("A1", "WEST", 0, future_qty=12, future_date=JAN5),
    ]
    policy = PushPolicy(future=True, warehouses={"MAIN": "W", "WEST": "W"})
    # Then each date is its own bucket, and immediate stock of 0 is still sent (sold out)
    assert desired_quantities(stock, policy) == {("A1", "W", None): 0, ("A1", "W", DEC1): 24, ("A1", "W", JAN5): 12}


def test_future_only_mode_sends_no_immediate_bucket_and_skips_quantities_without_a_date() -> None:
    stock = [row("A1", "MAIN", 9, future_qty=24, future_date=DEC1), row("B2", "MAIN", 9, future_qty=5)]
    policy = PushPolicy(immediate=False, future=True)
    assert desired_quantities(stock, policy) == {("A1", "", DEC1): 24}


def test_one_future_bucket_takes_the_sum_at_the_latest_date() -> None:
    # Given Brandboom's single future count and date per SKU, and WIP on Dec 1 and Feb 2
    stock = [
        row("A1", "MAIN", 1, future_qty=24, future_date=DEC1),
        row("A1", "WEST", 1, future_qty=36, future_date=FEB2),
    ]
    policy = PushPolicy(future=True, per_warehouse=False, one_future_bucket=True)
    # Then all 60 are offered for Feb 2, when all of it is there
    assert desired_quantities(stock, policy) == {("A1", "", None): 2, ("A1", "", FEB2): 60}


def test_cap_and_floor_apply_to_every_bucket_and_a_future_bucket_of_zero_is_no_bucket() -> None:
    stock = [
        row("A1", "MAIN", 40, future_qty=100, future_date=DEC1),
        row("B2", "MAIN", 3, future_qty=2, future_date=DEC1),
    ]
    policy = PushPolicy(future=True, cap=25, floor=5)
    assert desired_quantities(stock, policy) == {("A1", "", None): 25, ("A1", "", DEC1): 25, ("B2", "", None): 0}


# --- diff ----------------------------------------------------------------------------------------


def test_a_normal_push_sends_only_what_differs_from_what_the_partner_accepted() -> None:
    desired = {("A1", "", None): 5, ("B2", "", None): 7, ("C3", "", None): 0}
    state = {("A1", "", None): 5, ("B2", "", None): 6}
    # Then B2 changed and C3 was never sent; A1 is left alone
    assert diff(nest(desired), nest(state)) == [Change("B2", "", None, 6, 7), Change("C3", "", None, None, 0)]


def test_a_full_push_sends_everything() -> None:
    desired = {("A1", "", None): 5, ("B2", "", None): 7}
    state = {("A1", "", None): 5, ("B2", "", None): 7}
    assert [c.sku for c in diff(nest(desired), nest(state), full=True)] == ["A1", "B2"]


def test_a_full_push_after_an_interrupted_one_skips_what_that_one_got_accepted() -> None:
    desired = {("A1", "", None): 5, ("B2", "", None): 7}
    state = {("A1", "", None): 5}
    assert [c.sku for c in diff(nest(desired), nest(state), full=True, skip={("A1", "", None)})] == ["B2"]


def test_a_bucket_sent_before_and_gone_now_is_sent_as_zero() -> None:
    # Given the partner holds a WIP bucket for Dec 1 that the ERP no longer has (moved to Jan 5)
    desired = {("A1", "W", None): 3, ("A1", "W", JAN5): 24}
    state = {("A1", "W", None): 3, ("A1", "W", DEC1): 24}
    changes = diff(nest(desired), nest(state))
    # Then Jan 5 is new and Dec 1 goes to 0, marked gone (a SKU's changes first, then its gone buckets)
    assert changes == [Change("A1", "W", JAN5, None, 24), Change("A1", "W", DEC1, 24, 0, gone=True)]
    assert [c.bucket for c in changes] == ["future", "future"]


def test_nothing_changed_means_nothing_to_send() -> None:
    desired = {("A1", "", None): 5, ("A1", "", DEC1): 9}
    assert diff(nest(desired), nest(desired)) == []


# --- batches and the Brandboom rows --------------------------------------------------------------


def test_batches_are_bounded_and_cover_everything_in_order() -> None:
    assert list(batched(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []
    with pytest.raises(ValueError):
        list(batched([1], 0))


def test_a_brandboom_row_carries_every_bucket_of_a_changed_sku() -> None:
    # Given only A1's immediate count changed, and A1 also has a future bucket
    desired = {("A1", "", None): 4, ("A1", "", FEB2): 60, ("B2", "", None): 9}
    units = brandboom_units([Change("A1", "", None, 3, 4)], nest(desired))
    # Then one row for A1 with both buckets, settling both keys once accepted
    assert [u.payload for u in units] == [
        {"skuNumber": "A1", "inventoryCount": 4, "futureInventoryCount": 60, "futureInventoryDate": "2027-02-02"}
    ]
    assert units[0].keys == (("A1", "", None), ("A1", "", FEB2))


def test_a_brandboom_row_zeroes_a_gone_future_bucket_unless_a_new_date_replaces_it() -> None:
    desired = {("A1", "", None): 4, ("B2", "", None): 1, ("B2", "", FEB2): 12}
    changes = [
        Change("A1", "", DEC1, 24, 0, gone=True),
        Change("B2", "", DEC1, 24, 0, gone=True),
        Change("B2", "", FEB2, None, 12),
    ]
    rows = {u.payload["skuNumber"]: u.payload for u in brandboom_units(changes, nest(desired))}
    assert rows["A1"] == {"skuNumber": "A1", "inventoryCount": 4, "futureInventoryCount": 0}
    assert rows["B2"] == {
        "skuNumber": "B2",
        "inventoryCount": 1,
        "futureInventoryCount": 12,
        "futureInventoryDate": "2027-02-02",
    }


def test_a_sku_out_of_scope_now_is_sent_as_zero() -> None:
    # Given a style made inactive: its SKU is not desired any more, but the partner shows 8
    units = brandboom_units([Change("A1", "", None, 8, 0, gone=True)], {})
    assert [u.payload for u in units] == [{"skuNumber": "A1", "inventoryCount": 0}]
