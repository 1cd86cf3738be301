"""services.prefetch: pages read ahead in a thread, handed over in order, errors raised in order,
and a consumer that stops early stops the thread before it reads more."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import structlog

from services.prefetch import prefetched


def test_items_arrive_in_order_at_most_depth_ahead() -> None:
    read: list[int] = []
    consumed: list[int] = []

    def pages() -> Iterator[int]:
        for n in range(10):
            read.append(n)
            yield n

    with prefetched(pages(), depth=2) as items:
        for n in items:
            consumed.append(n)
            # read: what was handed over, the queue (2) and the one the thread holds waiting for room
            assert len(read) <= len(consumed) + 3
    assert consumed == list(range(10))


def test_an_error_of_the_iterator_is_raised_after_the_items_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("page 3 failed")

    got: list[int] = []
    with pytest.raises(ConnectionError, match="page 3 failed"):
        with prefetched(pages()) as items:
            for n in items:
                got.append(n)
    assert got == [1, 2]


def test_leaving_early_stops_the_thread_and_closes_the_iterator() -> None:
    read: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for n in range(1000):
                read.append(n)
                yield n
        finally:
            closed.set()

    with pytest.raises(RuntimeError):
        with prefetched(pages(), depth=1) as items:
            for _ in items:
                raise RuntimeError("the consumer failed")
    assert closed.is_set()  # the iterator was closed, in its own thread, before the with ended
    assert len(read) <= 3  # and nothing was read beyond the read-ahead


def test_the_thread_logs_with_the_callers_context() -> None:
    seen: list[object] = []

    def pages() -> Iterator[int]:
        seen.append(structlog.contextvars.get_contextvars().get("run_id"))
        yield 1

    structlog.contextvars.bind_contextvars(run_id=42)
    try:
        with prefetched(pages()) as items:
            assert list(items) == [1]
    finally:
        structlog.contextvars.unbind_contextvars("run_id")
    assert seen == [42]
