"""5. Task overhead: round trips of a no-op task through the real Redis broker and a real worker.

What is measured: ``bench.noop`` (``bench/tasks.py``) sent by name with ``send_task`` and waited for
with ``AsyncResult.get`` — broker push, the worker's fetch, the run, the result stored in Redis
and read back — one at a time, on one ``celery -A worker worker -c 1`` process with the project's
own settings (acks_late, prefetch 1, task events, started state). Floor: a bare Redis ``PING``
round trip from the same client process. Also the throughput with many queued at once.
This is the floor under every other figure: nothing Bobbin does through a task can be faster.
"""

from __future__ import annotations

import time

from bench.common import Report, percentile

BENCH = "5"
ROUND_TRIPS = 1000
BURST = 1000
WARMUP = 20


def run(report: Report) -> None:
    h = report.harness
    assert h is not None
    n = report.scaled(ROUND_TRIPS, 50)
    burst = report.scaled(BURST, 50)
    h.reset_run_tables()
    r = h.redis()
    for _ in range(WARMUP):
        r.ping()
    pings = []
    for _ in range(n):
        t0 = time.perf_counter()
        r.ping()
        pings.append(time.perf_counter() - t0)
    ping_rate = len(pings) / sum(pings)

    with h.worker("overhead"):
        for _ in range(WARMUP):
            h.round_trip("bench.noop")
        times = []
        t_all = time.perf_counter()
        for _ in range(n):
            dt, _result = h.round_trip("bench.noop")
            times.append(dt)
        elapsed = time.perf_counter() - t_all
        app = h.app()
        t0 = time.perf_counter()
        results = [app.send_task("bench.noop") for _ in range(burst)]
        for res in results:
            res.get(timeout=300, interval=0.005)
        burst_elapsed = time.perf_counter() - t0

    rate = n / elapsed
    p50, p95 = percentile(times, 50), percentile(times, 95)
    h.shared["noop_rtt_p50"] = p50
    report.add(
        BENCH,
        "no-op task: round trips per second, one at a time",
        rate,
        "/s",
        floor_name="Redis PING",
        floor_value=ping_rate,
        floor_unit="/s",
        higher_is_better=True,
        note=f"{n} sequential round trips; p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms; "
        f"Redis PING p50 {percentile(pings, 50) * 1e6:.0f} µs",
    )
    report.add(
        BENCH,
        f"no-op task: throughput, {burst} queued at once",
        burst / burst_elapsed,
        "/s",
        floor_name="Redis PING",
        floor_value=ping_rate,
        floor_unit="/s",
        higher_is_better=True,
        note="one worker process, prefetch 1, acks_late; results read after all were sent",
    )
