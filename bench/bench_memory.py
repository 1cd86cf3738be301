"""4. Memory: peak RSS of the worker for 1,000 and for 10,000 orders — it must not grow in proportion.

What is measured: the resident set of the worker's prefork pool child (the process that runs the
task), for one ``tasks.orders.import_orders`` of 1,000 and of 10,000 orders × 10 lines, each on a
fresh ``celery -A worker worker -c 1`` with empty run tables. The child is sampled with psutil every
50 ms and its kernel high-water mark (``VmHWM``) is read at the end; the peak is the larger. The
10,000-order run is benchmark 1's own run when it ran in this invocation (same procedure).
Floor: the 1,000-order peak. Target: the 10,000-order peak at most 2 × the 1,000-order peak (a
pipeline whose memory grew in proportion would show ≈ 10 ×).
"""

from __future__ import annotations

from bench.bench_orders import MIB, ORDERS, WorkerRun, worker_import
from bench.common import Harness, Report

BENCH = "4"
SMALL = 1_000
MAX_GROWTH = 2.0


def _run(h: Harness, n: int) -> WorkerRun:
    runs = h.shared.setdefault("worker_runs", {})
    if n not in runs:
        h.load_erp()
        with h.sandbox(h.orders(n)) as sb:
            site_id = h.site(f"bench-memory-{n}", sb.url)
            runs[n] = worker_import(h, site_id, n, f"memory-{n}")
        h.reset_run_tables()
    return runs[n]


def run(report: Report) -> None:
    h = report.harness
    assert h is not None
    small_n, big_n = report.scaled(SMALL, 100), report.scaled(ORDERS, 1000)
    small = _run(h, small_n)
    big = _run(h, big_n)
    for r in (small, big):
        report.add(
            BENCH,
            f"worker peak RSS, {r.orders:,} orders × 10 lines",
            r.peak_rss / MIB,
            "MiB",
            note=f"idle before the task {r.idle_rss / MIB:.0f} MiB, growth {(r.peak_rss - r.idle_rss) / MIB:.0f} MiB; "
            f"sampled max {max((s for _, s in r.samples), default=0) / MIB:.0f} MiB, "
            f"VmHWM {(r.hwm or 0) / MIB:.0f} MiB; run {r.seconds:.1f} s",
        )
    growth_small, growth_big = small.peak_rss - small.idle_rss, big.peak_rss - big.idle_rss
    report.add(
        BENCH,
        f"peak RSS {big_n:,} vs {small_n:,} orders",
        big.peak_rss / MIB,
        "MiB",
        floor_name=f"peak at {small_n:,}",
        floor_value=small.peak_rss / MIB,
        target=f"ratio <= {MAX_GROWTH:g}",
        note=f"growth above idle: {growth_big / MIB:.0f} MiB vs {growth_small / MIB:.0f} MiB "
        f"({growth_big / max(growth_small, 1):.1f}× for {big_n // small_n}× the orders)",
    )
    report.profiles["memory"] = {
        str(r.orders): {
            "idle_mib": round(r.idle_rss / MIB, 1),
            "peak_mib": round(r.peak_rss / MIB, 1),
            "hwm_mib": round((r.hwm or 0) / MIB, 1),
            "seconds": round(r.seconds, 2),
            # the RSS curve, thinned to ≤ 100 points: (seconds into the task, MiB)
            "curve": [[round(t, 2), round(b / MIB, 1)] for t, b in r.samples[:: max(1, len(r.samples) // 100)]],
        }
        for r in (small, big)
    }
