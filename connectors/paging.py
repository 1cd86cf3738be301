"""Reading a partner's offset-paged list so that a run misses nothing that was on it when it began.

Brandboom (``resultOffset``) and JOOR (``start_from``) page their order lists by offset over a
filter (``status=export``, ``export_status=2``). When an order leaves the filter while we page —
marked exported, shipped or void by anyone — every later order moves one place toward the front,
and a page read at the old offset starts past orders nobody has read. Nothing in the answer says
so. Two measures, one in each layer:

1. **Prevention** (``services.writeback``): Bobbin sends no writeback for a site while that site's
   import is reading its pages, so Bobbin's own writes never shrink the list under its reader.
2. **Detection and compensation** (here): each page is asked to start one place *before* the end
   of the page before (one item of overlap, about 1 % more reading at 100 per page). That item is
   the page's *anchor*: while the list keeps its order, the next page's first item is the anchor
   again. If the anchor is found at position ``j > 0``, ``j`` items arrived in front of it: the
   page repeats items already read, and misses nothing. If the anchor is gone from the page, items
   in front of it left the list (or the anchor itself did) and the page may have started past
   some: the boundary is *shifted*. A pass with a shifted boundary is followed by another pass
   from offset 0, until a pass reads every boundary contiguous — that pass read every order still
   on the list when it began, so, with the passes before, every order that was on the list when
   the run began and is still waiting — or until ``max_passes``, after which the read says it is
   not complete and the run says so (``services.pipeline``: outcome ``incomplete``).

Why not the other ways: a partner-guaranteed stable cursor does not exist in either document; a
second pass every run doubles the reading for nothing in the normal case (and the bench); holding
writebacks alone does not cover a person changing orders on the partner while we read.

[INF] Neither document states the order of a list; the check assumes the partner answers the
same filter in the same order from one request to the next (any server that pages by offset must,
or offset paging could not work at all). A list in no stable order shows as shifted at every
boundary, and a run against it ends ``incomplete`` rather than quietly short.

Items are compared whole (``==`` on the decoded JSON): an order's own payload identifies it better
than any id guess, and one that changed between two reads counts as a shift — one more pass, never
a miss.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.errors import PartnerRejected

# Passes over a list before a read gives up on proving it complete. The second pass exists only when
# the first saw a shift (someone else changed orders while we read); a third, only when the list
# changed under the second too. Each pass costs one full read of the list.
MAX_PASSES = 3

# Pages in a row answered alike before the reader decides the partner ignores the offset.
SAME_PAGE_LIMIT = 2

Fetch = Callable[[int, int], Sequence[Any]]
"""``fetch(offset, size)``: one page of at most ``size`` items starting at ``offset``."""


@dataclass
class ReadReport:
    """What reading a list (or several, added together) saw, for the run's summary."""

    pages: int = 0  # requests made
    shifted: int = 0  # page boundaries where the anchor was gone: orders may have been skipped
    grown: int = 0  # boundaries where items arrived in front of the anchor (nothing skipped)
    passes: int = 0  # full passes over the list (1 when nothing shifted)
    complete: bool = True  # the last pass of every list read every boundary contiguous

    def add(self, other: ReadReport) -> None:
        self.pages += other.pages
        self.shifted += other.shifted
        self.grown += other.grown
        self.passes = max(self.passes, other.passes)
        self.complete = self.complete and other.complete

    def as_counts(self) -> dict[str, Any]:
        """The run summary's keys (``sync_run.counts``)."""
        return {"pages_shifted": self.shifted, "read_passes": self.passes, "read_complete": self.complete}

    def sentence(self) -> str | None:
        """For a person: what the partner's list did while it was read, or None when nothing happened."""
        if not self.shifted:
            return None
        if self.complete:
            return (
                f"the partner's list changed while it was read ({self.shifted} page(s) shifted); "
                f"read again from the start ({self.passes} passes): nothing missed"
            )
        return (
            f"the partner's list kept changing while it was read ({self.shifted} page(s) shifted "
            f"in {self.passes} passes): orders may have been skipped; the next run reads them"
        )


class OffsetPager:
    """Iterate an offset-paged list page by page, one item of overlap between pages, re-reading
    from the start after a pass that saw a shift (see the module docstring).

    Pages are yielded as the partner sent them minus the anchor; a later pass yields every page
    again (the caller drops what it has seen, as it must anyway: a list that grows in
    front of the reader hands items out twice). ``report`` is final once iteration ends.

    ``is_last(page, offset)`` may end a pass early when the partner says where the list ends
    (JOOR's ``total``); a page shorter than asked always ends it.
    """

    def __init__(
        self,
        fetch: Fetch,
        page_size: int,
        *,
        max_passes: int = MAX_PASSES,
        is_last: Callable[[Sequence[Any], int], bool] | None = None,
    ) -> None:
        if page_size < 2:
            raise ValueError("page_size must be at least 2 (one item of each page is the overlap)")
        if max_passes < 1:
            raise ValueError("max_passes must be at least 1")
        self.fetch = fetch
        self.page_size = page_size
        self.max_passes = max_passes
        self.is_last = is_last
        self.report = ReadReport()

    def __iter__(self) -> Iterator[list[Any]]:
        for _ in range(self.max_passes):
            self.report.passes += 1
            if not (yield from self._pass()):
                self.report.complete = True
                return
        self.report.complete = False

    def _pass(self) -> Generator[list[Any], None, bool]:
        """One read of the whole list; returns whether a boundary shifted (generator return value)."""
        shifted = False
        offset = 0
        anchor: Any = None
        previous: list[Any] | None = None
        repeats = 0
        while True:
            page = list(self.fetch(offset, self.page_size))
            self.report.pages += 1
            # A server that ignores the offset answers every page alike, forever. (Once can be
            # honest: orders arriving in front of the reader make a page start where the last did.)
            repeats = repeats + 1 if page and page == previous else 0
            if repeats >= SAME_PAGE_LIMIT:
                raise PartnerRejected(
                    f"the partner answered {repeats + 1} offsets up to {offset} with the "
                    "same page: it ignores the offset, and paging would never end"
                )
            previous = page
            fresh = page
            if offset > 0:  # every page but the first starts on the anchor
                at = _index(page, anchor)
                if at is None:
                    shifted = True
                    self.report.shifted += 1
                else:
                    if at > 0:  # items arrived in front: read before, or new since the run began
                        self.report.grown += 1
                    fresh = page[:at] + page[at + 1 :]
            if fresh:
                yield fresh
            if len(page) < self.page_size or (self.is_last is not None and self.is_last(page, offset)):
                return shifted
            anchor = page[-1]
            offset += len(page) - 1


def _index(page: Sequence[Any], item: Any) -> int | None:
    for i, candidate in enumerate(page):
        if candidate == item:
            return i
    return None
