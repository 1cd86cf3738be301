"""Benchmark 9 (issue 15), queues: a person's "Import now" while a 100,000-SKU inventory push runs,
and four sites imported with one and with two worker processes.

1. **Import now during a full push.** The catalog of benchmark 2 (``bench/bench_inventory.py``:
   100,000 SKUs × 3 warehouses, in a database of its own, pushed to a Brandboom sandbox in a
   process of its own) and, in the same database, a small Brandboom site with its own sandbox
   process. Two worker processes laid out as the queues mean them: one consuming ``pushes``, one
   consuming every other queue (``imports,writebacks,maintenance,default``), each ``-c 1``. A full
   push is started; while it runs, ten new orders appear on the small site's sandbox and
   ``tasks.orders.import_orders`` is sent for it, timed from ``send_task`` to its result, a few times
   over the push. The wait's goal: ≤ 2 s. Floor: the same import with the workers idle. For
   contrast, the same with one worker process consuming every queue (``-c 1``, as one default
   queue was before): the import waits for the push.
2. **Four sites, one and two worker processes.** Four Brandboom sites, each with its own sandbox
   process of N orders × 10 lines (N = 2,500, so 10,000 orders as benchmark 1), imported at once by
   a worker consuming ``imports`` with ``-c 1`` and then ``-c 2`` (the writebacks and e-mails the
   imports queue stay queued: the figure is the imports' own). The speed-up is reported with what
   each part of the machine used meanwhile (CPU time of the workers, Postgres, the sandboxes,
   Redis and everything else, as shares of the cores), which is what bounds it on 2 cores.

``python -m bench --only queues [--quick]``.
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.common import LINES_PER_ORDER, Report, SandboxProcess, WorkerProcess

BENCH = "9"
IMPORT_NOW_TARGET_S = 2
NEW_ORDERS = 10  # orders that appear on the small site before each "Import now"
IMPORT_LINES = 5
IDLE_ROUNDS = 3
MAX_ROUNDS = 6  # "Import now" rounds during one push, one every ROUND_GAP_S
FIRST_ROUND_S = 0.3  # after the push started
ROUND_GAP_S = 0.5
SITES = 4
ORDERS_PER_SITE = 2_500
SMALL_SITE = "bench-import-now"
# The ERP tables an order is checked against besides the catalog (loaded into benchmark 2's database).
ORDER_MASTERS = ("sales_reps", "terms", "ship_vias", "price_types", "customers", "customer_addresses")
FIRST_NOW_ID = 7_000_001
FIRST_SITE_ID = 8_000_001


def run(report: Report) -> None:
    harness = report.harness
    assert harness is not None
    _import_now_during_a_push(report)
    _four_sites(report)


# --- 1. "Import now" while a full inventory push runs ------------------------------------------------


@dataclass
class _Rounds:
    waits: list[float] = field(default_factory=list)
    overlapped: list[bool] = field(default_factory=list)


def _import_now_during_a_push(report: Report) -> None:
    from bench import bench_inventory as inv
    from worker.routes import IMPORTS, PUSHES, WORKER_GROUPS

    harness = report.harness
    assert harness is not None
    n_skus = report.scaled(inv.SKUS, minimum=1000)
    t0 = time.perf_counter()
    world = inv.catalog(n_skus)
    seed = {"showrooms": world.brandboom_showrooms, "products": world.brandboom_products, "orders": []}
    others = tuple(q for group, queues in WORKER_GROUPS.items() if group != "pushes" for q in queues)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(inv.own_database(harness))
        push_sandbox = stack.enter_context(inv.Sandbox(seed, str(harness.home / "sandbox-queues-push.log")))
        inv.load(url, world)
        _load_order_masters(world)
        push_site = inv.make_site(push_sandbox.url)
        small_sandbox = SandboxProcess(
            {"showrooms": world.brandboom_showrooms, "products": [], "orders": []},
            harness.home / "sandbox-queues-small.log",
        ).start()
        stack.callback(small_sandbox.stop)
        small_site = harness.site(SMALL_SITE, small_sandbox.url, world=world)
        factory = _order_factory(world)
        next_id = [FIRST_NOW_ID]

        def new_orders() -> None:
            ids = range(next_id[0], next_id[0] + NEW_ORDERS)
            next_id[0] += NEW_ORDERS
            small_sandbox.add_orders([factory(i) for i in ids])

        print(f"  setup: {n_skus:,} SKUs × 3 warehouses, a small site ({time.perf_counter() - t0:.0f} s)", flush=True)
        app = harness.app()

        # Two worker processes, one per side of the queues: pushes, and everything else.
        with (
            harness.worker("q-pushes", queues=(PUSHES,), database_url=url) as _pushes,
            harness.worker("q-others", queues=others, database_url=url) as _others,
        ):
            _import_now(app, small_site, new_orders)  # warm-up: the workers' first task loads their modules
            idle = [_import_now(app, small_site, new_orders) for _ in range(IDLE_ROUNDS)]
            push_s, rounds = _during_push(app, push_site, small_site, new_orders)
            _drain(app, others)
        # One process for every queue, as one default queue was: the import waits for the push.
        with harness.worker("q-one", database_url=url):
            one_push_s, one_rounds = _during_push(app, push_site, small_site, new_orders, max_rounds=1)

    waits = [w for w, o in zip(rounds.waits, rounds.overlapped, strict=True) if o]
    if not waits:
        raise RuntimeError(f"no 'Import now' ended while the push still ran (push {push_s:.1f} s)")
    worst, floor = max(waits), statistics.median(idle)
    report.add(
        BENCH,
        f"'Import now' ({NEW_ORDERS} new orders) while a full inventory push of {n_skus // 1000}k SKUs runs: "
        f"the wait, worst of {len(waits)}",
        worst,
        "s",
        floor_name="the same import, workers idle",
        floor_value=floor,
        target=f"value <= {IMPORT_NOW_TARGET_S}",
        note=f"queues: one worker process on {PUSHES}, one on {','.join(others)} (-c 1 each); waits "
        f"{', '.join(f'{w:.2f}' for w in waits)} s during a {push_s:.1f} s push; idle "
        f"{', '.join(f'{w:.2f}' for w in idle)} s; load {_load()}",
    )
    if one_rounds.waits:
        report.add(
            BENCH,
            "the same 'Import now' with one worker process for every queue (as one queue was before)",
            one_rounds.waits[0],
            "s",
            floor_name="the same import, workers idle",
            floor_value=floor,
            note=f"the import waited for the push to end ({one_push_s:.1f} s push); {IMPORTS} and {PUSHES} "
            "share the one process",
        )


def _load_order_masters(world: Any) -> None:
    """The ERP rows an order is checked against, besides the catalog (customers, reps, terms...)."""
    from bobbin.demo import load_erp
    from core.db import session_scope

    class Masters:
        def table(self, name: str) -> list[dict[str, Any]]:
            return list(world.table(name)) if name in ORDER_MASTERS else []

    with session_scope() as s:
        load_erp(s, Masters())  # type: ignore[arg-type]


def _order_factory(world: Any) -> Any:
    """Orders as ``bobbin.demo.make_order`` makes them, its factory built once (the catalog is large)."""
    from bobbin import demo

    factory_cls = getattr(demo, "_OrderFactory", None)
    if factory_cls is None:
        return lambda oid: demo.make_order(world, id=oid, lines=IMPORT_LINES)
    factory = factory_cls(world)

    def make(oid: int) -> dict[str, Any]:
        rng = random.Random(f"{world.seed}:order:{oid}")
        code = rng.choice(world.customers)["code"]
        return dict(factory.order(rng, oid, code, IMPORT_LINES, f"T-{oid}"))

    return make


def _import_now(app: Any, site_id: int, new_orders: Any) -> float:
    """New orders on the partner, then "Import now": seconds from sending the task to its result."""
    new_orders()
    t = time.perf_counter()
    summary = app.send_task("tasks.orders.import_orders", args=[site_id]).get(timeout=600, interval=0.01)
    wait = time.perf_counter() - t
    if summary.get("imported", 0) < NEW_ORDERS:
        raise RuntimeError(f"the import did not import the {NEW_ORDERS} new orders: {summary}")
    return wait


def _during_push(
    app: Any, push_site: int, small_site: int, new_orders: Any, *, max_rounds: int = MAX_ROUNDS
) -> tuple[float, _Rounds]:
    """A full push, and "Import now" rounds while it runs; each round says whether the push was
    still running when the import's result came."""
    rounds = _Rounds()
    t = time.perf_counter()
    push = app.send_task("tasks.inventory.push_inventory", args=[push_site], kwargs={"full": True})
    _wait_started(push)
    time.sleep(FIRST_ROUND_S)
    for _ in range(max_rounds):
        if push.ready():
            break
        rounds.waits.append(_import_now(app, small_site, new_orders))
        rounds.overlapped.append(not push.ready())
        time.sleep(ROUND_GAP_S)
    result = push.get(timeout=1800, interval=0.05)
    push_s = time.perf_counter() - t
    if result.get("batches_rejected") or not result.get("rows_accepted"):
        raise RuntimeError(f"the push did not go through: {result}")
    return push_s, rounds


def _wait_started(result: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while result.state == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.02)


def _drain(app: Any, queues: Sequence[str], timeout: float = 120) -> None:
    """Wait for the follow-ups of the imports (writebacks, e-mails, ERP files) to be consumed."""
    import redis

    r = redis.Redis.from_url(app.conf.broker_url)
    deadline = time.monotonic() + timeout
    while any(r.llen(q) for q in queues) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)


# --- 2. Four sites, one and two worker processes ------------------------------------------------------


def _four_sites(report: Report) -> None:
    from worker.routes import IMPORTS

    harness = report.harness
    assert harness is not None
    per_site = report.scaled(ORDERS_PER_SITE, minimum=100)
    harness.reset_run_tables()
    harness.load_erp()
    with contextlib.ExitStack() as stack:
        sites: list[int] = []
        sandboxes: list[SandboxProcess] = []
        for k in range(SITES):
            orders = harness.orders(per_site, first_id=FIRST_SITE_ID + k * per_site)
            sb = stack.enter_context(harness.sandbox(orders))
            sandboxes.append(sb)
            sites.append(harness.site(f"bench-queues-{k + 1}", sb.url))
        figures: dict[int, tuple[float, dict[str, float]]] = {}
        for processes in (1, 2):
            harness.reset_run_tables()
            with harness.worker(f"imports-c{processes}", queues=(IMPORTS,), concurrency=processes) as w:
                with _CpuMeter(harness, [w], sandboxes) as meter:
                    t = time.perf_counter()
                    results = [harness.app().send_task("tasks.orders.import_orders", args=[s]) for s in sites]
                    summaries = [r.get(timeout=1800, interval=0.05) for r in results]
                    seconds = time.perf_counter() - t
            imported = sum(int(s.get("imported", 0)) for s in summaries)
            if imported != SITES * per_site:
                raise RuntimeError(f"{imported} orders imported, not {SITES * per_site}: {summaries}")
            figures[processes] = (seconds, meter.shares)
            print(f"  {SITES} sites with {processes} process(es): {seconds:.2f} s  {_shares(meter.shares)}", flush=True)
    (t1, cpu1), (t2, cpu2) = figures[1], figures[2]
    total = SITES * per_site
    report.add(
        BENCH,
        f"{SITES} sites imported at once ({SITES} × {per_site:,} orders × {LINES_PER_ORDER} lines), 1 worker process",
        t1,
        "s",
        note=f"{total / t1:,.0f} orders/s; CPU meanwhile, of the {os.cpu_count()} cores: {_shares(cpu1)}",
    )
    report.add(
        BENCH,
        f"the same with 2 worker processes (-Q {IMPORTS} -c 2)",
        t2,
        "s",
        floor_name="1 process",
        floor_value=t1,
        note=f"{total / t2:,.0f} orders/s; speed-up ×{t1 / t2:.2f}; CPU meanwhile: {_shares(cpu2)}; load {_load()}",
    )
    report.add(
        BENCH,
        "4-site import: speed-up of 2 worker processes over 1",
        t1 / t2,
        "×",
        note=f"of the 2 cores' time, 1 process: {_shares(cpu1)}; 2 processes: {_shares(cpu2)} — one process "
        "leaves a core idle while it waits on Postgres and the sandbox; two fill the cores, which the workers, "
        "Postgres and the sandboxes share: the cores bound it",
    )


class _CpuMeter:
    """CPU seconds each part of the benchmark used while inside, as shares of the machine's cores:
    the workers (main and pool processes), Postgres and Redis (the harness's, by their data
    directory), the sandboxes, and the machine's busy time in all (others' included)."""

    def __init__(self, harness: Any, workers: list[WorkerProcess], sandboxes: list[SandboxProcess]) -> None:
        self.harness, self.workers, self.sandboxes = harness, workers, sandboxes
        self.shares: dict[str, float] = {}

    def _groups(self) -> dict[str, list[Any]]:
        import psutil

        groups: dict[str, list[Any]] = {"workers": [], "postgres": [], "redis": [], "sandboxes": []}
        for w in self.workers:
            if w.proc is not None:
                with contextlib.suppress(psutil.Error):
                    main = psutil.Process(w.proc.pid)
                    groups["workers"] += [main, *main.children(recursive=True)]
        for sb in self.sandboxes:
            if sb.proc is not None and sb.proc.pid:
                with contextlib.suppress(psutil.Error):
                    groups["sandboxes"].append(psutil.Process(sb.proc.pid))
        home = str(self.harness.home)
        for p in psutil.process_iter(["name", "cmdline"]):
            with contextlib.suppress(psutil.Error):
                cmd = " ".join(p.info["cmdline"] or [])
                if home in cmd and "postgres" in (p.info["name"] or ""):
                    groups["postgres"] += [p, *p.children(recursive=True)]
                elif home in cmd and "redis" in (p.info["name"] or ""):
                    groups["redis"].append(p)
        return groups

    @staticmethod
    def _cpu(processes: list[Any]) -> dict[int, float]:
        import psutil

        out = {}
        for p in processes:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
        return out

    def __enter__(self) -> _CpuMeter:
        import psutil

        self._groups_at_start = self._groups()
        self._start = {name: self._cpu(ps) for name, ps in self._groups_at_start.items()}
        self._machine = psutil.cpu_times()
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        import psutil

        elapsed = time.perf_counter() - self._t
        machine = psutil.cpu_times()
        cores = os.cpu_count() or 1
        idle = (machine.idle + getattr(machine, "iowait", 0)) - (
            self._machine.idle + getattr(self._machine, "iowait", 0)
        )
        self.shares = {"busy": max(0.0, 1 - idle / (elapsed * cores))}
        groups = self._groups()  # backends started during the run count too
        for name, ps in groups.items():
            before = self._start.get(name, {})
            used = sum(t - before.get(pid, 0.0) for pid, t in self._cpu(ps).items())
            self.shares[name] = used / (elapsed * cores)


def _shares(shares: dict[str, float]) -> str:
    """``busy 95% (workers 53%, postgres 27%, sandboxes 4%, redis 0%, rest 11%)``: shares of all the cores."""
    parts = ("workers", "postgres", "sandboxes", "redis")
    rest = shares.get("busy", 0.0) - sum(shares.get(k, 0.0) for k in parts)
    inner = ", ".join(f"{k} {shares[k]:.0%}" for k in parts if k in shares)
    return f"busy {shares.get('busy', 0.0):.0%} ({inner}, rest {max(0.0, rest):.0%})"


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())
