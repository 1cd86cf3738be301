"""Flushes of the outbox started at the same moment, as the scheduled flush and a person's meet."""

from __future__ import annotations

import threading

from services import writeback


def flushes_at_once(count: int, timeout: float) -> list[writeback.FlushResult]:
    """Run ``writeback.flush()`` in ``count`` threads released together by a barrier; their results.
    An error in any of them is raised here once all have ended."""
    barrier = threading.Barrier(count)
    results: list[writeback.FlushResult] = []
    errors: list[BaseException] = []

    def flusher() -> None:
        try:
            barrier.wait(5)
            results.append(writeback.flush())
        except BaseException as exc:  # raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=flusher) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if errors:
        raise errors[0]
    return results
