"""``python -m bench [--quick] [--only NAME[,NAME]] [--output FILE]`` — ``make bench`` runs it in full.

Runs the benchmarks on servers of its own (see ``bench.common``), prints each figure as it comes,
then the table, and writes the JSON: ``bench/results/latest.json`` for a full run of everything,
``bench/results/latest-quick.json`` / ``latest-partial.json`` otherwise, so a smoke run never
replaces the figures the README quotes. A target missed is reported, not an exit status; a
benchmark that crashed makes the exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from bench.common import RESULTS_DIR, Harness, Report, machine_info

# (name for --only, number in the issue, module, title). Run in this order: the no-op floor first,
# and the order import before memory, which reuses its 10,000-order run.
BENCHES = (
    ("overhead", "5", "bench.bench_overhead", "Task overhead: no-op round trips through Redis and a worker"),
    ("orders", "1", "bench.bench_orders", "Order import: 10,000 orders × 10 lines, end to end"),
    ("memory", "4", "bench.bench_memory", "Memory: worker peak RSS for 1,000 and 10,000 orders"),
    ("inventory", "2", "bench.bench_inventory", "Inventory push: 100,000 SKUs × 3 warehouses"),
    ("latency", "3", "bench.bench_latency", "Latency: order on the sandbox → ERP sales order"),
    ("holding", "6", "bench.bench_holding", "Holding area: a console page at 100,000 held orders (issue 13)"),
    ("catalog", "7", "bench.bench_catalog", "Catalog push: 5,000 styles (120,000 SKUs) to each sandbox (issue 14)"),
    (
        "writebacks",
        "8",
        "bench.bench_writebacks",
        'Writebacks in parallel: 10,000 "exported" to the sandbox (issue 15)',
    ),
    (
        "queues",
        "9",
        "bench.bench_queues",
        "Queues: 'Import now' during a 100,000-SKU push; 4 sites with 1 and 2 worker processes (issue 15)",
    ),
)


def _sigterm(*_: object) -> None:
    raise SystemExit(143)  # unwinds through the harness's cleanup (workers, sandbox, servers)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = [b[0] for b in BENCHES]
    p = argparse.ArgumentParser(prog="python -m bench", description="Bobbin's benchmarks (never part of make test).")
    p.add_argument("--quick", action="store_true", help="every benchmark at 1/10 scale (a smoke run)")
    p.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(names)}")
    p.add_argument("--output", type=Path, help="JSON file to write (default: bench/results/latest*.json)")
    args = p.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(args.only) - set(names)
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(names)}")
    return args


def run_inventory(report: Report) -> None:
    """Benchmark 2 is written with the inventory push (``bench/bench_inventory.py``, ``run(report)``)."""
    if importlib.util.find_spec("bench.bench_inventory") is None:
        report.unavailable("2", "inventory push, 100,000 SKUs × 3 warehouses", "not available yet")
        return
    importlib.import_module("bench.bench_inventory").run(report)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    chosen = [b for b in BENCHES if not args.only or b[0] in args.only]
    output = args.output or RESULTS_DIR / (
        "latest.json"
        if not args.quick and not args.only
        else "latest-quick.json"
        if args.quick
        else "latest-partial.json"
    )
    print(
        f"Bobbin benchmarks ({'quick, 1/10 scale' if args.quick else 'full scale'}): {', '.join(b[0] for b in chosen)}",
        flush=True,
    )
    t_start = time.perf_counter()
    harness = Harness()
    report = Report(quick=args.quick, harness=harness)
    failed = False
    try:
        harness.start()
        report.machine = machine_info(harness)
        print(f"Machine: {report.as_dict()['machine_line']}", flush=True)
        for name, number, module, title in chosen:
            print(f"\n[{number}] {title}", flush=True)
            report.load[name] = [round(x, 2) for x in os.getloadavg()]
            t0 = time.perf_counter()
            try:
                if name == "inventory":
                    run_inventory(report)
                else:
                    importlib.import_module(module).run(report)
            except Exception as exc:  # one benchmark failing must not hide the others' figures
                failed = True
                traceback.print_exc()
                report.errors[name] = f"{type(exc).__name__}: {exc}"
                report.unavailable(number, title, f"failed: {type(exc).__name__}: {exc}"[:200])
            report.durations[name] = time.perf_counter() - t0
            print(f"  ({report.durations[name]:.0f} s)", flush=True)
    finally:
        report.durations["total"] = time.perf_counter() - t_start
        report.figures.sort(key=lambda f: f.bench)  # stable: the order, each benchmark's rows kept
        harness.stop()
    path = report.write(output)
    print("\n" + report.text_table())
    print(f"\nMarkdown (README):\n\n{report.markdown()}\n")
    print(f"Wrote {path} ({report.durations['total']:.0f} s in all)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
