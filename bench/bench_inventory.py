"""Benchmark 2, inventory push: 100,000 SKUs × 3 warehouses to the Brandboom sandbox, a full push and
then a push with 1 % of the inventory rows changed.

Targets (issue 4): the full push ≤ 15 s; the incremental push sends exactly the changed rows and
takes ≤ 1 s. Each time is also a ratio against a floor measured in the same run, on the same
servers, doing only the work no push can avoid:

- full push floor = reading the catalog's inventory rows out of Postgres (``COPY … TO STDOUT``)
  + building and sending the very same CSV payloads to the sandbox with the client, no database
  and no diff + writing as many push-state rows (``COPY`` into a table of the same shape);
- incremental floor = reading the inventory rows and the push state (``COPY … TO STDOUT``: what a
  diff of every SKU must look at) + sending the same changed rows + writing their state. The push
  reads only the SKUs journaled as changed since its last run (``services.inventory``, "Only what
  changed"), so it can come in under this floor; the floor is kept as the cost of the diff it
  replaced.

The catalog lives in a database of its own on the harness's Postgres (so the other benchmarks keep
their 6.7k-SKU ERP) and is loaded with COPY. The sandbox runs in a process of its own; it is the
stock ``BrandboomSandbox``, which finds an imported row's SKU through its own index (a scan of
every SKU for every row would, at 100k SKUs, measure the emulator).

``python -m bench.bench_inventory [--quick]`` runs it alone and prints the figures as JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from connectors.brandboom import contract as c
from sandbox.brandboom.server import BrandboomSandbox

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparisonT

BENCH = "2"
SKUS = 100_000
CHANGED_SHARE = 0.01
SKUS_PER_STYLE = 17  # the demo generator's average (2-4 colors × 5-10 sizes); a few extra styles, then trimmed
SEED = 7
DATABASE = "bobbin_bench_inventory"
THIRD_WAREHOUSE = {"code": "EAST", "name": "East Coast DC"}
SITE = "bench-inventory"
FULL_TARGET_S = 15
INCREMENTAL_TARGET_S = 1
INCREMENTAL_ROUNDS = 3


# --- the sandbox, indexed, in its own process -------------------------------------------------------


def _serve(port: int, seed: dict[str, Any], public_key: str, secret_key: str, log_path: str) -> None:
    from core.logging import configure

    configure("WARNING", "json", stream=open(log_path, "a"))  # noqa: SIM115 (lives as long as the process)
    BrandboomSandbox(port=port, public_key=public_key, secret_key=secret_key, seed=seed).serve_forever()


class Sandbox:
    def __init__(self, seed: dict[str, Any], log_path: str) -> None:
        self.seed, self.log_path = seed, log_path
        self.proc: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{c.BASE_PATH}"

    def __enter__(self) -> Sandbox:
        from core.embedded import _wait_port, free_port
        from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

        self.port = free_port()
        ctx = multiprocessing.get_context("spawn")
        self.proc = ctx.Process(
            target=_serve,
            name="bench-inventory-sandbox",
            daemon=True,
            args=(self.port, self.seed, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY, self.log_path),
        )
        self.proc.start()
        _wait_port(self.port, 180)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)

    def imports(self) -> list[dict[str, Any]]:
        import requests

        r = requests.get(f"http://127.0.0.1:{self.port}/_sandbox/imports", timeout=300)
        r.raise_for_status()
        return list(r.json())

    def client(self) -> Any:
        from connectors.brandboom.client import BrandboomClient
        from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

        return BrandboomClient(self.url, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY)


# --- the catalog ---------------------------------------------------------------------------------


def catalog(n_skus: int) -> Any:
    """The demo brand grown to ``n_skus`` SKUs (trimmed to exactly that), in three warehouses."""
    from bobbin.demo import build_world

    world = build_world(seed=SEED, styles=math.ceil(n_skus / SKUS_PER_STYLE) + 20, customers=3, orders=10)
    if len(world.skus) < n_skus:
        raise RuntimeError(f"the demo world has {len(world.skus)} SKUs, fewer than {n_skus}")
    world.skus = world.skus[:n_skus]
    keep = {s["sku"] for s in world.skus}
    world.inventory = [i for i in world.inventory if i["sku"] in keep]
    for product in world.brandboom_products:
        product["skus"] = [_slim(s) for s in product["skus"] if s["skuNumber"] in keep]
    world.brandboom_products = [p for p in world.brandboom_products if p["skus"]]
    world.warehouses = [*world.warehouses, dict(THIRD_WAREHOUSE)]
    rng = random.Random(f"{SEED}:east")
    for s in world.skus:
        on_hand = 0 if rng.random() < 0.1 else rng.randint(2, 40)
        future = rng.random() < 0.1
        world.inventory.append(
            {
                "sku": s["sku"],
                "warehouse_code": THIRD_WAREHOUSE["code"],
                "on_hand": on_hand,
                "allocated": min(on_hand, rng.randint(0, 4)) if rng.random() < 0.3 else 0,
                "future_qty": rng.choice((12, 24, 48)) if future else 0,
                "future_date": date(2027, 1, 4) + timedelta(days=7 * rng.randint(0, 8)) if future else None,
            }
        )
    return world


def _slim(sku: dict[str, Any]) -> dict[str, Any]:
    """The SKU object's fields the sandbox reads or writes (the seed crosses a process boundary)."""
    keys = (
        "id",
        "styleNumber",
        "option",
        "size",
        "skuNumber",
        "UPC",
        "inventoryCount",
        "futureInventoryCount",
        "futureInventoryDate",
        "warehouseID",
    )
    return {k: sku.get(k) for k in keys}


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if row[col] is None else str(row[col]) for col in columns) + "\n")
    buf.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def load(url: str, world: Any) -> None:
    """The ERP rows the push reads, with COPY (setup, not measured)."""
    from core.db import engine_for

    raw = engine_for(url).raw_connection()
    try:
        cur = raw.cursor()
        _copy(cur, "division", ("code", "name"), world.divisions)
        _copy(cur, "warehouse", ("code", "name"), world.warehouses)
        _copy(cur, "style", ("number", "description", "division_code", "season", "category", "active"), world.styles)
        _copy(cur, "sku", ("sku", "style_number", "color_code", "size", "size_index", "upc"), world.skus)
        _copy(
            cur,
            "inventory",
            ("sku", "warehouse_code", "on_hand", "allocated", "future_qty", "future_date"),
            world.inventory,
        )
        raw.commit()
        raw.set_isolation_level(0)  # autocommit, for ANALYZE
        cur.execute("ANALYZE")
    finally:
        raw.close()


@contextlib.contextmanager
def own_database(harness: Any) -> Iterator[str]:
    """A database of this benchmark's own on the harness's Postgres, migrated, made the process's
    DATABASE_URL for the duration (the services find their database there), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from core.db import engine_for
    from core.migrate import upgrade
    from core.settings import get_settings

    base = make_url(harness.database_url)
    url = base.set(database=DATABASE).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    upgrade(url)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        yield url
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        get_settings.cache_clear()
        engine_for(url).dispose()
        with contextlib.suppress(Exception), admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()


def make_site(sandbox_url: str) -> int:
    from bobbin.demo import BRANDBOOM_BRAND_ID, SHOWROOM_US_ID
    from core.db import session_scope
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY
    from services.sites import create_site

    with session_scope() as s:
        site = create_site(
            s,
            name=SITE,
            kind="brandboom",
            base_url=sandbox_url,
            credentials={"public_key": DEMO_PUBLIC_KEY, "secret_key": DEMO_SECRET_KEY},
            division="WHSL",
            notify_emails=["ops@bench.example"],
            settings={"inventory_mode": "both", "brand_id": BRANDBOOM_BRAND_ID, "showroom_id": SHOWROOM_US_ID},
        )
        return int(site.id)


# --- floors ----------------------------------------------------------------------------------------


def copy_out_seconds(url: str, query: str) -> tuple[float, int]:
    """Reading rows out of Postgres as fast as it goes: COPY (query) TO STDOUT."""
    from core.db import engine_for

    raw = engine_for(url).raw_connection()
    try:
        buf = io.StringIO()
        t0 = time.perf_counter()
        raw.cursor().copy_expert(f"COPY ({query}) TO STDOUT", buf)
        seconds = time.perf_counter() - t0
        raw.rollback()
        return seconds, buf.getvalue().count("\n")
    finally:
        raw.close()


def copy_in_seconds(url: str, rows: int) -> float:
    """Writing ``rows`` rows shaped like push state (site, sku, warehouse, bucket, date, quantity,
    run, time) with COPY into a fresh table, committed."""
    from core.db import engine_for

    buf = io.StringIO()
    for i in range(rows):
        buf.write(f"1\tS{i:07d}\t\timmediate\t\\N\t{i % 50}\t1\t2026-11-23 00:00:00+00\n")
    raw = engine_for(url).raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "CREATE TABLE IF NOT EXISTS floor_state (site_id int, sku text, warehouse text, bucket text, "
            "available_on date, quantity int, run_id int, sent_at timestamptz)"
        )
        cur.execute("TRUNCATE floor_state")
        raw.commit()
        buf.seek(0)
        t0 = time.perf_counter()
        cur.copy_expert("COPY floor_state FROM STDIN", buf)
        raw.commit()
        return time.perf_counter() - t0
    finally:
        raw.close()


def send_seconds(sandbox: Sandbox, rows: list[dict[str, Any]], batch_rows: int, *, bypass: bool) -> float:
    """The same rows, built into CSV and posted with the client in the push's batch size: no DB, no diff."""
    from services.inventory import batched

    with sandbox.client() as client:
        t0 = time.perf_counter()
        for batch in batched(rows, batch_rows):
            client.import_products(c.MODE_INVENTORY, batch, bypass_diff=bypass)
        return time.perf_counter() - t0


# --- the benchmark ---------------------------------------------------------------------------------

_INVENTORY_READ = (
    "SELECT i.sku, i.warehouse_code, i.on_hand, i.allocated, i.future_qty, i.future_date "
    "FROM inventory i JOIN sku k ON k.sku = i.sku JOIN style s ON s.number = k.style_number "
    "WHERE s.active"
)
_STATE_READ = "SELECT sku, warehouse, available_on, quantity, run_id FROM inventory_push_state"


def run(report: Any) -> None:
    from connectors.brandboom.inventory import BATCH_ROWS as BRANDBOOM_BATCH_ROWS
    from services import inventory

    harness = report.harness
    n_skus = report.scaled(SKUS, minimum=1000)
    t0 = time.perf_counter()
    world = catalog(n_skus)
    n_rows = len(world.inventory)
    seed = {"showrooms": world.brandboom_showrooms, "products": world.brandboom_products, "orders": []}
    log_path = str(getattr(harness, "home", "/tmp")) + "/sandbox-inventory.log"
    with own_database(harness) as url, Sandbox(seed, log_path) as sandbox:
        load(url, world)
        del world, seed
        site_id = make_site(sandbox.url)
        print(
            f"  setup: {n_skus:,} SKUs × 3 warehouses = {n_rows:,} inventory rows ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )

        # The full push, profiled (wall-clock samples of this thread, ~2 % overhead).
        sampler = _sampler()
        with sampler:
            t = time.perf_counter()
            full = inventory.push_inventory(site_id, full=True)
            full_s = time.perf_counter() - t
        if full.rows_accepted != n_skus or full.batches_rejected:
            raise RuntimeError(f"the full push did not get every SKU accepted: {full.summary()}")
        full_rows = [row for imp in sandbox.imports() for row in imp["rows"]]

        # Three rounds of 1 % of the inventory rows changing (other rows each time); the median time.
        rounds = [_one_percent(sandbox, site_id, n_rows, k) for k in range(INCREMENTAL_ROUNDS)]
        incr_s = statistics.median(r["seconds"] for r in rounds)
        sent = sum(r["sent"] for r in rounds)
        changed = sum(r["changed"] for r in rounds)
        wrong = sum(r["wrong"] for r in rounds)
        incr_rows = rounds[-1]["rows"]

        # Floors, same servers, same payloads, best of two.
        read_inv_s, read_rows = _best(lambda: copy_out_seconds(url, _INVENTORY_READ))
        read_state_s, state_rows = _best(lambda: copy_out_seconds(url, _STATE_READ))
        send_full_s = _best(lambda: send_seconds(sandbox, full_rows, BRANDBOOM_BATCH_ROWS, bypass=True))
        write_full_s = _best(lambda: copy_in_seconds(url, state_rows))
        send_incr_s = _best(lambda: send_seconds(sandbox, incr_rows, BRANDBOOM_BATCH_ROWS, bypass=True))
        incr_state = sum(1 + (c.SKU_FUTURE_INVENTORY_COUNT in row) for row in incr_rows)
        write_incr_s = _best(lambda: copy_in_seconds(url, incr_state))

    full_floor = read_inv_s + send_full_s + write_full_s
    incr_floor = read_inv_s + read_state_s + send_incr_s + write_incr_s
    label = f"{n_skus // 1000}k SKUs × 3 warehouses"
    report.add(
        BENCH,
        f"inventory push, full, {label} ({n_skus:,} Brandboom rows, {state_rows:,} buckets)",
        full_s,
        "s",
        floor_name="read + send + write",
        floor_value=full_floor,
        target=f"value <= {FULL_TARGET_S}",
        note=f"{n_skus / full_s:,.0f} SKUs/s; floor: COPY out {read_rows:,} inventory rows {read_inv_s:.2f} s "
        f"+ the same CSV batches to the sandbox {send_full_s:.2f} s + COPY in {state_rows:,} state rows "
        f"{write_full_s:.2f} s",
    )
    report.add(
        BENCH,
        f"inventory push after 1 % of the rows changed ({int(n_rows * CHANGED_SHARE):,} of "
        f"{n_rows:,}), median of {INCREMENTAL_ROUNDS}",
        incr_s,
        "s",
        floor_name="read + send + write",
        floor_value=incr_floor,
        target=f"value <= {INCREMENTAL_TARGET_S}",
        note=f"rounds {', '.join(format(r['seconds'], '.2f') for r in rounds)} s; floor: COPY out inventory and push "
        f"state {read_inv_s + read_state_s:.2f} s + the same rows to the sandbox {send_incr_s:.3f} s "
        f"+ COPY in their state {write_incr_s:.3f} s",
    )
    report.add(
        BENCH,
        f"inventory push after 1 %: rows sent ({INCREMENTAL_ROUNDS} rounds)",
        float(sent),
        "rows",
        floor_name="SKUs changed",
        floor_value=float(changed),
        target="ratio <= 1",
        note="read back from the sandbox's record of the imports it received",
    )
    report.add(
        BENCH,
        "inventory push after 1 %: rows sent that did not change, or changed and not sent",
        float(wrong),
        "rows",
        target="value <= 0",
    )
    report.add(
        BENCH,
        "floor: COPY out the inventory rows a push reads",
        read_inv_s,
        "s",
        note=f"{read_rows:,} rows, COPY (SELECT …) TO STDOUT, best of 2",
    )
    report.add(
        BENCH,
        f"floor: the full push's {n_skus:,} CSV rows to the sandbox, no DB, no diff",
        send_full_s,
        "s",
        note=f"BrandboomClient.import_products, {BRANDBOOM_BATCH_ROWS:,} rows a call, best of 2",
    )
    report.add(
        BENCH,
        f"floor: COPY in {state_rows:,} push-state rows",
        write_full_s,
        "s",
        note="a table of the same columns, no indexes, best of 2",
    )
    _profile(report, sampler, full_s)
    if harness is not None:
        harness.shared["inventory"] = {
            "full": full.summary(),
            "rounds": [{k: v for k, v in r.items() if k != "rows"} for r in rounds],
        }


def _one_percent(sandbox: Sandbox, site_id: int, n_rows: int, round_no: int) -> dict[str, Any]:
    """Change 1 % of the inventory rows (on hand + 3: each changes its SKU's total, since nothing is
    held), push, and compare what the sandbox received with the SKUs changed."""
    from sqlalchemy import text

    from core.db import session_scope
    from services import inventory

    rng = random.Random(f"{SEED}:change:{round_no}")
    ids = rng.sample(range(1, n_rows + 1), max(1, int(n_rows * CHANGED_SHARE)))
    with session_scope() as s:
        changed = set(
            s.execute(
                text("UPDATE inventory SET on_hand = on_hand + 3 WHERE id = ANY(:ids) RETURNING sku"), {"ids": ids}
            ).scalars()
        )
    before = len(sandbox.imports())
    t = time.perf_counter()
    result = inventory.push_inventory(site_id)
    seconds = time.perf_counter() - t
    rows = [row for imp in sandbox.imports()[before:] for row in imp["rows"]]
    sent = [row["skuNumber"] for row in rows]
    wrong = len(set(sent) ^ changed) + (len(sent) - len(set(sent)))
    return {
        "seconds": seconds,
        "sent": len(sent),
        "changed": len(changed),
        "wrong": wrong,
        "accepted": result.rows_accepted,
        "rows": rows,
    }


def _best(measure: Callable[[], SupportsRichComparisonT]) -> SupportsRichComparisonT:
    """The faster of two runs (a tuple compares on its first element, the seconds)."""
    return min(measure(), measure())


def _sampler() -> Any:
    try:
        from bench.common import StackSampler
    except ImportError:  # standalone without the harness module: no profile
        return contextlib.nullcontext()
    return StackSampler()


def _profile(report: Any, sampler: Any, elapsed: float) -> None:
    if not hasattr(sampler, "layers") or not sampler.samples:
        return
    from bench.common import share_lines

    report.profiles["inventory full push"] = {
        "elapsed_s": round(elapsed, 2),
        "layers": share_lines(sampler.layers(), elapsed),
        "inclusive": share_lines(sampler.inclusive(top=15), elapsed),
        "self": share_lines(sampler.self_time(top=12), elapsed),
    }


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone (its own embedded servers) and print its figures as JSON."""
    args = list(sys.argv[1:] if argv is None else argv)
    from bench.common import Harness, Report, machine_info

    harness = Harness().start()
    report = Report(quick="--quick" in args, harness=harness)
    try:
        report.machine = machine_info(harness)
        run(report)
    finally:
        harness.stop()
    print(json.dumps(report.as_dict(), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
