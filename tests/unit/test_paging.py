"""The offset pager (connectors/paging.py) against a list that changes while it is read.

The list here is a plain Python list the test mutates between requests, the way a partner's
filtered list changes when orders leave or arrive; the expected ids come from the list the test
built, never from the pager.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.paging import OffsetPager, ReadReport


class Listing:
    """A filtered list answered by offset; ``before_page[n]`` runs before the n-th request (1-based)."""

    def __init__(self, ids: list[int]) -> None:
        self.items = [{"id": i} for i in ids]
        self.requests: list[tuple[int, int]] = []
        self.before_page: dict[int, Callable[[Listing], None]] = {}

    def fetch(self, offset: int, size: int) -> list[dict[str, int]]:
        self.requests.append((offset, size))
        hook = self.before_page.get(len(self.requests))
        if hook:
            hook(self)
        return [dict(item) for item in self.items[offset : offset + size]]

    def remove(self, *ids: int) -> None:
        self.items = [item for item in self.items if item["id"] not in ids]


def read(pager: OffsetPager) -> list[int]:
    return [item["id"] for page in pager for item in page]


def test_a_still_list_is_read_once_with_one_item_of_overlap() -> None:
    listing = Listing(list(range(25)))
    pager = OffsetPager(listing.fetch, 10)
    assert read(pager) == list(range(25))
    assert listing.requests == [(0, 10), (9, 10), (18, 10)]
    assert (pager.report.passes, pager.report.shifted, pager.report.complete) == (1, 0, True)


def test_orders_leaving_the_front_are_seen_and_the_list_is_read_again() -> None:
    # given 30 orders; before the 2nd page the first 4 are marked exported (they leave the list)
    listing = Listing(list(range(30)))
    listing.before_page[2] = lambda lst: lst.remove(0, 1, 2, 3)
    pager = OffsetPager(listing.fetch, 10)
    # when
    got = read(pager)
    # then every order still waiting was read, and the report says why it took two passes
    assert set(range(4, 30)) <= set(got)
    assert pager.report.shifted == 1 and pager.report.passes == 2 and pager.report.complete
    # the first pass alone jumped over 10..12 (the 2nd page started at 13): the second pass has them
    first_pass = got[: got.index(4, 5)]  # the second pass starts again at 4
    assert set(range(4, 30)) - set(first_pass) == {10, 11, 12}
    assert listing.requests[3] == (0, 10)


def test_orders_arriving_in_front_repeat_items_and_skip_none() -> None:
    listing = Listing(list(range(100, 125)))
    listing.before_page[2] = lambda lst: lst.items.insert(0, {"id": 1})
    pager = OffsetPager(listing.fetch, 10)
    got = read(pager)
    assert set(range(100, 125)) <= set(got)
    assert pager.report.passes == 1 and pager.report.grown == 1 and pager.report.shifted == 0


def test_a_list_that_never_holds_still_is_reported_incomplete() -> None:
    listing = Listing(list(range(1000)))
    count = iter(range(10_000))
    for n in range(2, 400):
        listing.before_page[n] = lambda lst: lst.remove(lst.items[0]["id"]) if next(count) % 2 == 0 else None
    pager = OffsetPager(listing.fetch, 10, max_passes=3)
    read(pager)
    assert pager.report.passes == 3 and not pager.report.complete
    assert "may have been skipped" in (pager.report.sentence() or "")


def test_is_last_ends_a_pass_at_the_partners_total() -> None:
    listing = Listing(list(range(20)))
    pager = OffsetPager(listing.fetch, 10, is_last=lambda page, offset: offset + len(page) >= 20)
    assert read(pager) == list(range(20))
    assert listing.requests == [(0, 10), (9, 10), (18, 10)]  # 18..19 read, then the total says stop


def test_page_size_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        OffsetPager(lambda offset, size: [], 1)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(2, 12),
    n=st.integers(0, 60),
    removals=st.dictionaries(st.integers(2, 12), st.lists(st.integers(0, 59), max_size=5), max_size=4),
)
def test_every_order_still_waiting_at_the_end_was_read(size: int, n: int, removals: dict[int, list[int]]) -> None:
    # given a list of n orders from which some leave before some requests (as writebacks or a
    # person on the partner would take them off)
    listing = Listing(list(range(n)))
    for page_no, ids in removals.items():
        listing.before_page[page_no] = lambda lst, ids=ids: lst.remove(*ids)
    pager = OffsetPager(listing.fetch, size, max_passes=10)
    # when
    got = set(read(pager))
    # then a complete read holds every order that never left
    never_left = set(range(n)) - {i for ids in removals.values() for i in ids}
    assert pager.report.complete
    assert never_left <= got


# --- boundaries and the report's arithmetic (mutation testing found these unchecked) -------------


def test_the_report_counts_every_request_shift_and_growth_exactly() -> None:
    # given 40 orders; before the 2nd request 3 leave the front, before the 3rd two arrive in front,
    # before the 4th three more leave
    listing = Listing(list(range(40)))
    listing.before_page[2] = lambda lst: lst.remove(0, 1, 2)
    listing.before_page[3] = lambda lst: [lst.items.insert(0, {"id": 100 + k}) for k in range(2)]
    listing.before_page[4] = lambda lst: lst.remove(3, 4, 5)
    pager = OffsetPager(listing.fetch, 10)
    read(pager)
    report = pager.report
    assert report.pages == len(listing.requests)
    assert (report.shifted, report.grown, report.passes, report.complete) == (2, 1, 2, True)


def test_reports_add_up_over_several_lists() -> None:
    total = ReadReport(pages=3, shifted=1, grown=2, passes=2, complete=True)
    total.add(ReadReport(pages=4, shifted=2, grown=1, passes=1, complete=True))
    assert (total.pages, total.shifted, total.grown, total.passes, total.complete) == (7, 3, 3, 2, True)
    total.add(ReadReport(pages=1, passes=3, complete=False))
    assert (total.pages, total.passes, total.complete) == (8, 3, False)
    assert total.as_counts() == {"pages_shifted": 3, "read_passes": 3, "read_complete": False}


def test_the_sentence_says_what_happened() -> None:
    assert ReadReport().sentence() is None
    assert ReadReport(shifted=2, passes=2).sentence() == (
        "the partner's list changed while it was read (2 page(s) shifted); read again from the start "
        "(2 passes): nothing missed"
    )
    assert ReadReport(shifted=5, passes=3, complete=False).sentence() == (
        "the partner's list kept changing while it was read (5 page(s) shifted in 3 passes): orders may "
        "have been skipped; the next run reads them"
    )


def test_is_last_saves_the_request_a_short_page_would_need() -> None:
    # 19 orders in pages of 10: the 2nd page (9..18) is full, and the total says it is the last
    listing = Listing(list(range(19)))
    pager = OffsetPager(listing.fetch, 10, is_last=lambda page, offset: offset + len(page) >= 19)
    assert read(pager) == list(range(19))
    assert listing.requests == [(0, 10), (9, 10)]
    assert pager.report.pages == 2


def test_one_pass_is_allowed_and_a_shift_then_is_incomplete() -> None:
    listing = Listing(list(range(30)))
    listing.before_page[2] = lambda lst: lst.remove(0, 1)
    pager = OffsetPager(listing.fetch, 10, max_passes=1)
    read(pager)
    assert pager.report.passes == 1 and pager.report.complete is False
    with pytest.raises(ValueError, match="max_passes must be at least 1"):
        OffsetPager(listing.fetch, 10, max_passes=0)


def test_a_server_that_ignores_the_offset_is_refused_after_three_alike_pages() -> None:
    from connectors.errors import PartnerRejected

    same = [{"id": 1}, {"id": 2}]
    pager = OffsetPager(lambda offset, size: list(same), 2)
    with pytest.raises(PartnerRejected, match="answered 3 offsets up to 2 with the same page"):
        read(pager)
