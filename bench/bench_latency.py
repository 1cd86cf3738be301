"""3. Latency with on-demand polling: an order marked for export on the sandbox → its ERP sales order.

What is measured, exactly:
- One Brandboom site, one fresh ``celery -A worker worker -c 1``, the sandbox in its own process.
- **The polling loop** (this process): send ``tasks.orders.import_orders`` for the site, wait for
  its result, send it again at once — back to back, never two at a time. Each run fetches the
  orders in status "export", stages, validates and imports them, and queues
  ``tasks.status.flush_outbox``, which the same worker runs before the next import (it marks the
  imported orders "exported" on the sandbox, so they leave the "export" list) — as in production.
- **The orders**: 100 valid orders of 10 lines (``make_order`` style), added one at a time through
  the sandbox's control endpoint with status "export", about one every 0.3 s (seeded jitter), so
  they land at every point of a polling cycle. An order's clock starts when the POST that added it
  returned.
- **Done**: a watcher thread queries Postgres every 50 ms for ERP sales orders joined to their
  inbound order's partner id; an order's clock stops the first time its sales order is seen
  committed. Resolution: ≤ 50 ms plus one query.
Floor: one round trip of the same task with nothing new to import (median of 5), the shortest
polling cycle there can be. Target: p95 ≤ 60 s (Brandboom's documented one-minute promise).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from typing import Any

from bench.common import Harness, Report, percentile

BENCH = "3"
ORDERS = 100
ARRIVAL_INTERVAL = 0.3  # seconds between added orders, on average
WATCH_INTERVAL = 0.05
FIRST_ID = 7_000_001
GIVE_UP_AFTER = 180.0  # seconds after the last order was added


def _watch(h: Harness, seen: dict[str, float], stop: threading.Event) -> None:
    from sqlalchemy import text

    query = text("SELECT io.partner_order_id FROM sales_order so JOIN inbound_order io ON io.id = so.inbound_order_id")
    with h.engine().connect() as conn:
        while not stop.is_set():
            ids = conn.execute(query).scalars().all()
            conn.rollback()
            now = time.perf_counter()
            for pid in ids:
                seen.setdefault(pid, now)
            stop.wait(WATCH_INTERVAL)


def _feed(sb: Any, orders: list[dict[str, Any]], added: dict[str, float], rng: random.Random) -> None:
    start = time.perf_counter()
    due = 0.0
    for order in orders:
        due += rng.uniform(0.5, 1.5) * ARRIVAL_INTERVAL
        delay = start + due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sb.add_orders([order])
        added[str(order["id"])] = time.perf_counter()


def run(report: Report) -> None:
    h = report.harness
    assert h is not None
    n = report.scaled(ORDERS, 10)
    h.load_erp()
    orders = h.orders(n, first_id=FIRST_ID)
    rng = random.Random(42)
    added: dict[str, float] = {}
    seen: dict[str, float] = {}
    cycles: list[tuple[float, int]] = []
    h.reset_run_tables()
    with h.sandbox([]) as sb:
        site_id = h.site("bench-latency", sb.url)
        with h.worker("latency"):
            for _ in range(2):
                h.round_trip("tasks.orders.import_orders", site_id)
            floor = statistics.median(h.round_trip("tasks.orders.import_orders", site_id)[0] for _ in range(5))
            stop = threading.Event()
            watcher = threading.Thread(target=_watch, args=(h, seen, stop), daemon=True)
            feeder = threading.Thread(target=_feed, args=(sb, orders, added, rng), daemon=True)
            watcher.start()
            feeder.start()
            deadline = None
            while len(seen) < n:
                dt, summary = h.round_trip("tasks.orders.import_orders", site_id)  # the polling loop
                cycles.append((dt, int(summary.get("imported", 0))))
                if not feeder.is_alive():
                    deadline = deadline or time.perf_counter() + GIVE_UP_AFTER
                    if time.perf_counter() > deadline:
                        break
                    time.sleep(WATCH_INTERVAL)  # let the watcher see the last commits
            stop.set()
            watcher.join(5)
            feeder.join(5)
    h.reset_run_tables()

    latencies = [seen[k] - t for k, t in added.items() if k in seen]
    missing = n - len(latencies)
    if not latencies:
        report.unavailable(BENCH, "latency: order on the sandbox → ERP sales order", "no order was imported")
        return
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    busy = [c for c in cycles if c[1]]
    note = (
        f"{len(latencies)} orders ({missing} not imported in time); {len(cycles)} polling runs back to back, "
        f"{len(busy)} imported something; mean run {statistics.mean(c[0] for c in cycles) * 1000:.0f} ms; "
        f"max latency {max(latencies):.2f} s"
    )
    report.add(
        BENCH,
        f"latency p50, {n} orders, on-demand polling",
        p50,
        "s",
        floor_name="empty import round trip",
        floor_value=floor,
        note=note,
    )
    report.add(
        BENCH,
        f"latency p95, {n} orders, on-demand polling",
        p95,
        "s",
        floor_name="empty import round trip",
        floor_value=floor,
        target="value <= 60",
        note=f"no-op task round trip p50 {h.shared.get('noop_rtt_p50', float('nan')) * 1000:.1f} ms"
        if "noop_rtt_p50" in h.shared
        else "",
    )
    report.profiles["latency"] = {
        "latencies_s": sorted(round(x, 3) for x in latencies),
        "cycles": [[round(d, 3), k] for d, k in cycles][:500],
        "floor_s": round(floor, 4),
    }
