"""Benchmark-only tasks, registered on the one worker app when a worker runs with ``-I bench.tasks``
(the harness starts its workers that way), so nothing under ``tasks/`` changes for a benchmark."""

from __future__ import annotations

from worker import app


@app.task(name="bench.noop")
def noop() -> None:
    """Does nothing: its round trip is the cost of a task through the broker, the worker and the
    result backend — the floor under every other figure."""
    return None
