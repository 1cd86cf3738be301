"""6. The holding area at 100,000 held orders: a page of the console in under 200 ms server time.

What is measured
- **The data**: 100,000 orders held across four sites, loaded with ``COPY`` as the real tables hold
  them — the raw payload packed as staging packs it (drawn from demo Brandboom orders of 1 to
  20 lines, their list columns as the Brandboom mapper reads them), the list columns, a mix of states by age (the old
  mostly imported or rejected, the recent ones downloaded, valid, invalid or duplicated), the ERP's
  customers and some thousands it does not know, POs in several shapes, order dates over two
  years; open and resolved problems (``order_error``) as validation leaves them; for each
  imported order its ERP sales order with lines and its "exported" writeback. Then
  ``VACUUM ANALYZE``, as autovacuum leaves a table that has settled.
- **A page**: ``GET /holding?…`` of the real app (``web.app.create_app``) served by uvicorn in a
  thread of this process, by a viewer signed in through the login form. Server time is taken by
  an ASGI wrapper around the app: from the request reaching the app to the last byte of the page
  handed to uvicorn (session read from Redis, the list and its count, the page's other reads, the
  Jinja2 rendering). Each request: 2 warm-ups, then 15 timed (median and p95); target: median and
  p95 under 200 ms. Requests: the All view page 1, the Invalid view, page 500 and the last page,
  searches (a partner order number, a PO, a customer name fragment, a fragment most orders share),
  a problem-code filter, a date range, and each column's sort both ways.
- **Floor**: the bare indexed read of one page through psycopg2 alone — the 50 newest orders'
  list columns by primary key (``ORDER BY id DESC LIMIT 50``), median of 50. Each figure's ratio
  is its median against it.
- **Plans**: every statement the page runs on ``inbound_order`` (captured with SQLAlchemy cursor
  events while ``web.console.holding`` draws it in-process) is explained with
  ``EXPLAIN (ANALYZE, FORMAT JSON)``; a page query that reads ``inbound_order`` with a sequential
  scan fails the benchmark (the list is not answered from an index). The plans' scans and
  execution times are in ``latest.json`` under ``profiles.holding``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import random
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from bench.common import Harness, Report, percentile

BENCH = "6"
ORDERS = 100_000
TEMPLATES = 1_500  # demo orders mapped once; every held order is one of them with its own header
WARMUP = 2
REPEATS = 15
FLOOR_REPEATS = 50
TARGET_MS = 200.0
SEED = 13
UNUSED_URL = "http://127.0.0.1:9/unused"  # the sites are never fetched from here
USERNAME, PASSWORD = "bench-viewer", "bench viewer password"
# (name, share of the orders, first partner order number): a large site, two smaller, a small one
SITES = (
    ("brandboom-us", 0.50, 4_100_001),
    ("brandboom-eu", 0.25, 7_300_001),
    ("showroom-la", 0.15, 910_001),
    ("trade-show", 0.10, 55_001),
)
UNKNOWN_CUSTOMERS = 4_000
LINE_COUNTS = ((1, 8), (2, 10), (3, 12), (5, 20), (8, 20), (10, 15), (15, 10), (20, 5))  # (lines, weight)
INVALID_CODES = (  # (code, weight, on a line): what validation finds on the orders held invalid
    ("sku_unknown", 30, True),
    ("terms_unmapped", 14, False),
    ("ship_via_unmapped", 12, False),
    ("sales_rep_unknown", 10, False),
    ("price_invalid", 8, True),
    ("quantity_invalid", 6, True),
    ("warehouse_unmapped", 6, False),
    ("dates_invalid", 5, False),
    ("price_type_missing", 4, False),
    ("address_missing", 3, False),
)
COPY_CHUNK = 10_000
# the words of the customers the ERP does not know (shop names as partners send them)
NAME_FIRST = (
    "Bluebird Maple Harbor Juniper Cedar Willow Marigold Saffron Copper Linden Fern Poppy Birch Hazel "
    "Indigo Sable Clover Aspen Laurel Meadow Thistle Sparrow Ivy Orchid Rowan Sterling Dune Coral Piper"
)
NAME_SECOND = (
    "Lane Row House Street Mercantile Supply Goods Collective Boutique Outfitters Trading Company "
    "Market Studio Closet Emporium Atelier Depot Provisions Co"
)
NAME_TOWNS = "Austin Boise Denver Portland Tulsa Reno Omaha Dayton Salem Fresno Eugene Akron Macon Provo"
# three-letter pieces common in customer names; the one most orders hold is searched (the broadest
# search the trigram index answers: a search needs 3 characters, services.orders.SEARCH_MIN)
BROAD_CANDIDATES = ("out", "ter", "ing", "ers", "and", "har", "row")


# --- the data ---------------------------------------------------------------------------------------


@dataclass
class Loaded:
    """What was loaded, and values the requests search for."""

    orders: int
    seconds: float
    states: Counter[str]
    partner_order_id: str = ""
    po_number: str = ""
    customer_fragment: str = ""
    broad_fragment: str = ""
    broad_matches: int = 0
    date_from: date = date(2026, 1, 1)
    date_to: date = date(2026, 1, 31)
    sizes: dict[str, str] = field(default_factory=dict)


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY ``rows`` into ``table`` in chunks (CSV; None is NULL)."""
    n = 0
    while True:
        buf = io.StringIO()
        writer = csv.writer(buf)
        chunk = 0
        for row in rows:
            writer.writerow(row)
            chunk += 1
            if chunk == COPY_CHUNK:
                break
        if not chunk:
            return n
        buf.seek(0)
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)
        n += chunk
        if chunk < COPY_CHUNK:
            return n


def _templates(h: Harness, rng: random.Random) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Demo Brandboom orders of several line counts: (raw, normalized, header columns) each."""
    from connectors.brandboom.mapper import to_partner_order
    from services.holding import header_columns, normalized

    total_weight = sum(w for _, w in LINE_COUNTS)
    out = []
    first = 9_000_001
    for lines, weight in LINE_COUNTS:
        n = max(1, TEMPLATES * weight // total_weight)
        for raw in h.orders(n, first_id=first, lines=lines):
            partner = to_partner_order(raw)
            out.append((raw, normalized(partner), header_columns(partner)))
        first += n
    rng.shuffle(out)
    return out


def _unknown_names(rng: random.Random) -> list[str]:
    first, second, towns = NAME_FIRST.split(), NAME_SECOND.split(), NAME_TOWNS.split()
    names: set[str] = set()
    while len(names) < UNKNOWN_CUSTOMERS:
        name = f"{rng.choice(first)} {rng.choice(second)}"
        if rng.random() < 0.6:
            name += f" {rng.choice(towns)}"
        if rng.random() < 0.3:
            name += f" #{rng.randint(2, 99)}"
        names.add(name)
    return sorted(names)


def _state(rng: random.Random, age: float) -> str:
    """A held order's state by its age (0 the oldest, 1 the newest)."""
    if age > 0.97:  # the last weeks: still being worked on
        return rng.choices(
            ("downloaded", "valid", "invalid", "duplicate", "imported", "rejected"), (8, 22, 40, 8, 20, 2)
        )[0]
    return rng.choices(("imported", "rejected", "invalid", "valid", "duplicate"), (80, 7, 9, 2, 2))[0]


def load_holding(h: Harness, n: int) -> Loaded:
    """``n`` held orders in four sites, with their problems, ERP orders and writebacks (COPY)."""
    from sqlalchemy import text

    from models.orders import pack_payload
    from services.erp_import import sales_order_number

    t0 = time.perf_counter()
    rng = random.Random(SEED)
    world = h.world()
    h.load_erp()
    site_ids = [h.site(name, UNUSED_URL) for name, _, _ in SITES]
    templates = _templates(h, rng)
    erp_customers = world.customers
    # a few customers order much more than the rest (Zipf-like weights)
    erp_weights = [1 / (i + 1) ** 0.8 for i in range(len(erp_customers))]
    unknown = _unknown_names(rng)
    addresses: dict[str, dict[str, dict[str, Any]]] = {}
    for a in world.customer_addresses:
        addresses.setdefault(a["customer_code"], {})[a["kind"]] = a
    skus = {s["sku"] for s in world.skus}
    division = world.divisions[0]["code"]

    start_day = date.today() - timedelta(days=730)
    site_counter = {sid: first for sid, (_, _, first) in zip(site_ids, SITES, strict=True)}
    site_weights = [share for _, share, _ in SITES]
    states: Counter[str] = Counter()
    so_id = 0
    error_rows: list[tuple[Any, ...]] = []
    so_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    outbox_rows: list[tuple[Any, ...]] = []
    picks: dict[str, Any] = {}
    frag_counts: Counter[str] = Counter()
    broad_counts: Counter[str] = Counter()

    def order_rows() -> Iterator[tuple[Any, ...]]:
        nonlocal so_id
        for i in range(n):
            oid = i + 1
            age = i / max(1, n - 1)
            site_id = rng.choices(site_ids, site_weights)[0]
            pid = str(site_counter[site_id])
            site_counter[site_id] += rng.choice((1, 1, 1, 2, 3))  # a partner's numbers have gaps
            raw_t, norm_t, hdr = templates[rng.randrange(len(templates))]
            state = _state(rng, age)
            known = rng.random() < 0.82
            day: date | None = start_day + timedelta(days=int(age * 725) + rng.randint(0, 5))
            if rng.random() < 0.005:
                day = None
            seen = datetime.combine(day or start_day + timedelta(days=int(age * 725)), datetime.min.time(), UTC)
            seen += timedelta(hours=rng.randint(8, 20), minutes=rng.randint(0, 59))
            if known:
                c = erp_customers[rng.choices(range(len(erp_customers)), erp_weights)[0]]
                name, code, email = c["name"], c["code"], c["email"]
                billing = addresses.get(code, {}).get("billing") or {}
                shipping = addresses.get(code, {}).get("shipping") or billing
            else:
                name, code, email = rng.choice(unknown), None, None
                billing = shipping = {}
            shape = rng.random()
            if shape < 0.12:
                po = None
            elif shape < 0.45:
                po = f"PO{rng.randint(100000, 999999)}"
            elif shape < 0.75:
                po = f"{(code or name[:3]).upper()}-{(day or start_day):%y%m}-{rng.randint(1, 999):03d}"
            else:
                po = f"T-{pid}"
            if state in ("imported", "valid") or (state == "duplicate" and known):
                customer_code = code
            elif state == "invalid" and not known:
                customer_code = None
            else:
                customer_code = code if known and rng.random() < 0.7 else None
            if state == "duplicate" and not known:
                state = "invalid"
            states[state] += 1
            raw = dict(raw_t)
            raw.update(
                id=int(pid),
                poNumber=po,
                dateCreated=f"{day or start_day} {seen:%H:%M:%S}",
                customer={
                    "id": 800000 + zlib.crc32(name.encode()) % 100000,
                    "code": code,
                    "name": name,
                    "email": email,
                    "billingAddress": _raw_address(billing),
                    "shippingAddress": _raw_address(shipping),
                },
            )
            raw_text = json.dumps(raw, sort_keys=True, default=str)
            checked = seen + timedelta(seconds=rng.randint(5, 90))
            imported = checked + timedelta(minutes=rng.randint(1, 600)) if state == "imported" else None
            # problems: open on the invalid (and the duplicates), resolved on some imported
            codes: list[tuple[str, bool]] = []
            if state == "invalid":
                if not known:
                    codes.append(("customer_unknown", False))
                for _ in range(1 if known else rng.choice((0, 0, 1))):
                    code_, _w, on_line = rng.choices(INVALID_CODES, [w for _, w, _ in INVALID_CODES])[0]
                    codes.append((code_, on_line))
                if known and rng.random() < 0.25:  # a second problem
                    code_, _w, on_line = rng.choices(INVALID_CODES, [w for _, w, _ in INVALID_CODES])[0]
                    codes.append((code_, on_line))
            elif state == "duplicate":
                codes.append(("duplicate_po", False))
            lines = norm_t.get("lines") or []
            seen_keys = set()
            for code_, on_line in codes:
                line_no = rng.randint(1, max(1, len(lines))) if on_line else None
                if (code_, line_no) in seen_keys:
                    continue
                seen_keys.add((code_, line_no))
                value = (
                    name
                    if code_ == "customer_unknown"
                    else (lines[line_no - 1].get("sku_number") if line_no and lines else po or "x")
                )
                error_rows.append(
                    (oid, line_no, code_, None, value, f"{code_.replace('_', ' ')}: {value}", "error", checked, None)
                )
            if state == "imported" and rng.random() < 0.25:
                code_ = rng.choice(("customer_unknown", "terms_unmapped", "sku_unknown", "ship_via_unmapped"))
                error_rows.append((oid, None, code_, None, name, code_, "error", checked, imported))
            if known and rng.random() < 0.04:  # a ship-to the ERP does not have yet: a warning
                error_rows.append(
                    (oid, None, "address_new", "ship_to", name, "a new ship-to address", "warning", checked, None)
                )
            if state == "imported" and customer_code:
                so_id += 1
                total = Decimal("0")
                for ln in lines:
                    qty, price = int(Decimal(ln.get("quantity") or "1")), Decimal(ln.get("price") or "0")
                    sku = ln.get("sku_number")
                    if sku in skus:
                        line_rows.append((so_id, ln["line_no"], sku, qty, price))
                        total += qty * price
                so_rows.append(
                    (
                        so_id,
                        sales_order_number(so_id),
                        oid,
                        site_id,
                        division,
                        customer_code,
                        po,
                        day,
                        day,
                        None,
                        "open" if age < 0.9 else rng.choice(("open", "shipped", "paid")),
                        total,
                        imported,
                    )
                )
                outbox_rows.append((site_id, oid, "exported", "sent", 1, imported, imported, imported))
            # values the requests search for: taken from the orders as they come
            if i == int(n * 0.4):
                picks["pid"] = pid
            if po and i >= int(n * 0.6) and "po" not in picks:
                picks["po"] = po
            frag_counts[name.split()[0].lower()] += 1
            searched = f"{pid} | {po or ''} | {name} | {customer_code or ''}".lower()
            broad_counts.update(f for f in BROAD_CANDIDATES if f in searched)
            yield (
                oid,
                site_id,
                pid,
                "\\x" + pack_payload(raw_text).hex(),
                hashlib.sha256(raw_text.encode()).hexdigest(),
                hdr["partner_status"],
                state,
                po,
                name,
                customer_code,
                day,
                hdr["ship_date"],
                hdr["cancel_date"],
                hdr["currency"],
                hdr["total"],
                hdr["line_count"],
                seen,
                seen + timedelta(hours=rng.randint(0, 48)),
                checked if state != "downloaded" else None,
                imported,
            )

    engine = h.engine()
    raw_conn = engine.raw_connection()
    try:
        cur = raw_conn.cursor()
        _copy(
            cur,
            "inbound_order",
            (
                "id",
                "site_id",
                "partner_order_id",
                "raw",
                "raw_hash",
                "partner_status",
                "state",
                "po_number",
                "customer_ref",
                "customer_code",
                "order_date",
                "ship_date",
                "cancel_date",
                "currency",
                "total",
                "line_count",
                "first_seen_at",
                "last_seen_at",
                "validated_at",
                "imported_at",
            ),
            iter(order_rows()),
        )
        cur.execute("SELECT setval(pg_get_serial_sequence('inbound_order', 'id'), %s)", (n,))
        _copy(
            cur,
            "order_error",
            ("order_id", "line_no", "code", "field", "value", "message", "severity", "first_seen_at", "resolved_at"),
            iter(error_rows),
        )
        _copy(
            cur,
            "sales_order",
            (
                "id",
                "number",
                "inbound_order_id",
                "site_id",
                "division_code",
                "customer_code",
                "po_number",
                "order_date",
                "start_date",
                "cancel_date",
                "status",
                "total",
                "created_at",
            ),
            iter(so_rows),
        )
        cur.execute("SELECT setval(pg_get_serial_sequence('sales_order', 'id'), %s)", (max(so_id, 1),))
        _copy(cur, "sales_order_line", ("sales_order_id", "line_no", "sku", "quantity", "price"), iter(line_rows))
        _copy(
            cur,
            "outbox",
            ("site_id", "inbound_order_id", "status", "state", "attempts", "next_attempt_at", "created_at", "sent_at"),
            iter(outbox_rows),
        )
        raw_conn.commit()
    finally:
        raw_conn.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        sizes = {
            t: conn.scalar(text(f"SELECT pg_size_pretty(pg_total_relation_size('{t}'))"))
            for t in ("inbound_order", "order_error", "sales_order", "sales_order_line", "outbox")
        }
        counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("order_error", "sales_order_line")}
    loaded = Loaded(orders=n, seconds=time.perf_counter() - t0, states=states, sizes=sizes)
    loaded.sizes.update({f"{t} rows": f"{c:,}" for t, c in counts.items()})
    loaded.partner_order_id = picks["pid"]
    loaded.po_number = picks["po"]
    # a customer fragment a clerk types (one customer's first name-word, about 1 % of the orders),
    # and one most orders share
    common = [w for w, c in frag_counts.most_common() if c < n * 0.02 and len(w) >= 5]
    loaded.customer_fragment = (common[0] if common else frag_counts.most_common(1)[0][0])[:5]
    loaded.broad_fragment, loaded.broad_matches = broad_counts.most_common(1)[0]
    loaded.date_from = start_day + timedelta(days=400)
    loaded.date_to = loaded.date_from + timedelta(days=30)
    return loaded


def _raw_address(a: dict[str, Any]) -> dict[str, Any] | None:
    if not a:
        return None
    return {
        "name": a.get("name"),
        "address1": a.get("line1"),
        "address2": a.get("line2") or "",
        "city": a.get("city"),
        "state": a.get("state"),
        "zip": a.get("postal_code"),
        "country": a.get("country"),
    }


def _address(a: dict[str, Any]) -> dict[str, Any] | None:
    if not a:
        return None
    keys = ("name", "line1", "line2", "city", "state", "postal_code", "country")
    return {k: a[k] for k in keys if a.get(k)}


# --- the app, timed on the server --------------------------------------------------------------------


class ServerTimer:
    """An ASGI wrapper: the time from a request reaching the app to its last bytes handed to uvicorn."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last: tuple[float, int] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # taken before the last bytes go out, so it is there when the client has the page
                self.last = (time.perf_counter() - t0, status)
            await send(message)

        await self.app(scope, receive, sending)


class Served:
    """uvicorn serving the timed app in a thread of this process (as ``bobbin web`` serves it)."""

    def __init__(self) -> None:
        import uvicorn

        from web.app import create_app

        self.timer = ServerTimer(create_app())
        config = uvicorn.Config(self.timer, host="127.0.0.1", port=0, log_config=None, lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="bench-console", daemon=True)
        self.url = ""

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


def _viewer() -> None:
    from sqlalchemy import select

    from core.db import session_scope
    from models import ConsoleUser
    from services.users import add_user

    with session_scope() as s:
        if s.scalar(select(ConsoleUser.id).where(ConsoleUser.username == USERNAME)) is None:
            add_user(s, USERNAME, PASSWORD, "viewer", actor="bench")


def _sign_in(url: str) -> Any:
    import re

    import requests

    client = requests.Session()
    form = client.get(f"{url}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    if token is None:
        raise RuntimeError("the sign-in form has no CSRF token")
    answer = client.post(
        f"{url}/login",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        timeout=60,
    )
    if answer.status_code != 200 or answer.url != f"{url}/":
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    return client


def requests_to_time(loaded: Loaded) -> list[tuple[str, dict[str, str]]]:
    """(what, query parameters) of the pages timed."""
    from web.console.holding import COLUMNS, PAGE_SIZE

    last = max(1, -(-loaded.orders // PAGE_SIZE))
    out: list[tuple[str, dict[str, str]]] = [
        ("All, page 1 (newest first)", {}),
        ("Invalid view, page 1", {"view": "invalid"}),
        (f"All, page {min(500, last)}", {"page": str(min(500, last))}),
        (f"All, the last page ({last:,})", {"page": str(last)}),
        ("search: a partner order number", {"q": loaded.partner_order_id}),
        ("search: a PO", {"q": loaded.po_number}),
        (f"search: customer fragment {loaded.customer_fragment!r}", {"q": loaded.customer_fragment}),
        (
            f"search: {loaded.broad_fragment!r} ({loaded.broad_matches / loaded.orders:.0%} of the orders match)",
            {"q": loaded.broad_fragment},
        ),
        ("problem code sku_unknown", {"code": "sku_unknown"}),
        (
            "order date, one month",
            {"from": loaded.date_from.isoformat(), "to": loaded.date_to.isoformat()},
        ),
        ("Invalid view of one site, by customer", {"view": "invalid", "site": SITES[0][0], "sort": "customer"}),
    ]
    for key, _label in COLUMNS:
        for sort in (key, f"-{key}"):
            out.append((f"sort {sort}", {"sort": sort}))
    return out


def _time_pages(served: Served, client: Any, asked: list[tuple[str, dict[str, str]]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for what, params in asked:
        url = f"{served.url}/holding" + (f"?{urlencode(params)}" if params else "")
        times: list[float] = []
        for n in range(WARMUP + REPEATS):
            served.timer.last = None
            r = client.get(url, timeout=60)
            if r.status_code != 200 or served.timer.last is None:
                raise RuntimeError(f"{what}: {url} answered {r.status_code}: {r.text[:300]}")
            if 'id="count"' not in r.text:
                raise RuntimeError(f"{what}: {url} shows no count of orders")
            if n >= WARMUP:
                times.append(served.timer.last[0])
        out[what] = times
    return out


# --- plans ----------------------------------------------------------------------------------------


@dataclass
class Statement:
    sql: str
    params: Any
    kind: str  # "list" (the page's rows), "count", or "other"
    plan: dict[str, Any] = field(default_factory=dict)
    seq_scans: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    ms: float = 0.0


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def _kind(sql: str) -> str:
    s = " ".join(sql.split()).lower()
    if "inbound_order" not in s:
        return "other"
    if "count(" in s:
        return "count"
    if " limit " in s or s.endswith(" limit"):
        return "list"
    return "other"


def explain_page(h: Harness, params: dict[str, str]) -> list[Statement]:
    """The statements the page runs on ``inbound_order``, each explained (ANALYZE, FORMAT JSON)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from starlette.datastructures import QueryParams

    from web.console import holding

    captured: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "(")):
            captured.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", before)
    try:
        query = holding.read_query(QueryParams(urlencode(params)))
        if query.problem:
            raise RuntimeError(f"{params}: {query.problem}")
        holding._holding_data(query)
    finally:
        event.remove(Engine, "before_cursor_execute", before)
    out = []
    raw_conn = h.engine().raw_connection()
    try:
        cur = raw_conn.cursor()
        for sql, parameters in captured:
            st = Statement(sql, parameters, _kind(sql))
            if "inbound_order" not in sql:
                continue
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, parameters)
            plan = cur.fetchone()[0][0]
            st.plan = plan
            st.ms = float(plan.get("Execution Time", 0.0))
            for node in _walk(plan["Plan"]):
                if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == "inbound_order":
                    st.seq_scans.append("inbound_order")
                if node.get("Index Name"):
                    st.indexes.append(f"{node['Node Type']} on {node['Index Name']}")
            out.append(st)
        raw_conn.rollback()
    finally:
        raw_conn.close()
    return out


# --- the floor -------------------------------------------------------------------------------------


def floor_ms(h: Harness) -> list[float]:
    """The 50 newest orders' list columns by primary key, through psycopg2 alone."""
    from services.orders import LIST_COLUMNS
    from web.console.holding import PAGE_SIZE

    columns = ", ".join(c.name for c in LIST_COLUMNS)
    sql = f"SELECT {columns} FROM inbound_order ORDER BY id DESC LIMIT {PAGE_SIZE}"
    raw_conn = h.engine().raw_connection()
    try:
        cur = raw_conn.cursor()
        times = []
        for n in range(FLOOR_REPEATS + 5):
            t0 = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            if n >= 5:
                times.append(time.perf_counter() - t0)
        raw_conn.rollback()
    finally:
        raw_conn.close()
    return times


# --- the benchmark ---------------------------------------------------------------------------------


def run(report: Report) -> None:
    h = report.harness
    assert h is not None
    n = report.scaled(ORDERS, 2_000)
    h.reset_run_tables()
    loaded = load_holding(h, n)
    print(
        f"  loaded {n:,} held orders in {loaded.seconds:.0f} s: "
        + ", ".join(f"{s} {c:,}" for s, c in loaded.states.most_common())
        + f"; sizes {loaded.sizes}",
        flush=True,
    )
    _viewer()
    asked = requests_to_time(loaded)
    floor = floor_ms(h)
    with Served() as served:
        client = _sign_in(served.url)
        timed = _time_pages(served, client, asked)
    floor_p50 = percentile(floor, 50) * 1000
    plans: dict[str, list[Statement]] = {what: explain_page(h, params) for what, params in asked}

    seq_scanned: list[str] = []
    worst_p95 = 0.0
    for what, params in asked:
        times = timed[what]
        p50, p95 = percentile(times, 50) * 1000, percentile(times, 95) * 1000
        worst_p95 = max(worst_p95, p95)
        statements = plans[what]
        listing = [s for s in statements if s.kind == "list"]
        counting = [s for s in statements if s.kind == "count"]
        if any(s.seq_scans for s in listing):
            seq_scanned.append(what)
        note = f"p95 {p95:.1f} ms; /holding?{urlencode(params)}; " + "; ".join(
            f"{s.kind} {s.ms:.1f} ms: {', '.join(dict.fromkeys(s.indexes)) or 'no index'}"
            + (" + SEQ SCAN inbound_order" if s.seq_scans else "")
            for s in listing + counting
        )
        report.add(
            BENCH,
            f"holding page: {what} — median (p95 {p95:.1f} ms)",
            p50,
            "ms",
            floor_name="50 rows by primary key (psycopg2)",
            floor_value=floor_p50,
            target=f"value < {TARGET_MS:g}",
            note=note,
        )
        print(f"    {note}", flush=True)
    report.add(
        BENCH,
        f"holding page: worst p95 of the {len(asked)} requests at {n:,} orders",
        worst_p95,
        "ms",
        floor_name="50 rows by primary key (psycopg2)",
        floor_value=floor_p50,
        target=f"value < {TARGET_MS:g}",
    )
    report.add(BENCH, "floor: 50 rows by primary key through psycopg2 alone (median)", floor_p50, "ms")
    report.profiles["holding"] = {
        "orders": n,
        "load_seconds": round(loaded.seconds, 1),
        "states": dict(loaded.states),
        "sizes": loaded.sizes,
        "requests": {
            what: {
                "params": params,
                "server_ms": [round(t * 1000, 2) for t in timed[what]],
                "statements": [
                    {
                        "kind": s.kind,
                        "execution_ms": round(s.ms, 2),
                        "indexes": list(dict.fromkeys(s.indexes)),
                        "seq_scan_inbound_order": bool(s.seq_scans),
                        "sql": " ".join(s.sql.split())[:2000],
                    }
                    for s in plans[what]
                ],
            }
            for what, params in asked
        },
    }
    with contextlib.suppress(Exception):
        h.reset_run_tables()
    if seq_scanned:
        raise AssertionError(
            "the holding area's list query reads inbound_order with a sequential scan for: " + "; ".join(seq_scanned)
        )
