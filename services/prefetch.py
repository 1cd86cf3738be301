"""Read the next page from a partner while the current one is written.

An import spends its time in two places that do not wait for each other: the partner's answer
(HTTP, the partner's own work) and Bobbin's writes (Postgres). ``prefetched`` runs the page
iterator in a thread, at most ``depth`` pages ahead, so the two overlap.

Nothing about exactly-once changes: a page read ahead is only in memory until the pipeline
commits it, as before; a worker that dies loses the read-ahead pages and reads them again on
redelivery. The iterator runs in one thread only (its client's session is not shared), with the
caller's structlog context (task, site, run) so its logs stay bound.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class prefetched(Generic[T]):
    """Iterate ``items`` from a background thread, ``depth`` items ahead. An exception raised by
    the iterator is raised here, in order; leaving the loop early (``close()``, or the ``with``
    block) stops the thread before it reads another item."""

    def __init__(self, items: Iterable[T], depth: int = 2) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, iter(items)), name="bobbin-prefetch", daemon=True
        )
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            self._put(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> prefetched[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
