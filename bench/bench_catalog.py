"""Benchmark 7, catalog push (issue 14): 5,000 styles × 4 colours × 6 sizes (120,000 SKUs) with prices
in 2 price types / currencies (wholesale USD and EUR, each with its retail price) and a style image
(a URL) on every 100th style, pushed in full to each partner's sandbox; then the WHL price of 1 % of
the styles (50) changes and an incremental push must send exactly those 50.

The floor is "sending the same bytes": every HTTP request a push makes is recorded on its way out
(method, URL, headers, body: the ``PreparedRequest`` as the client's session hands it to the
transport), the sandbox is put back in the state it was in before the push (its reset, then the
full push's requests replayed for the incremental one), and the very same requests are sent one
after another with a bare ``requests.Session`` — no database, no diff, no building of rows or
JSON. The sandbox gives the same answers (each replayed answer's status and length is checked
against the push's), so ratio = push time / replay time is what Bobbin costs on top of the wire
and the partner. Per partner: the full push, its floor and ratio, the requests and bytes it sent;
the incremental push with its own replay floor and the styles it sent (exactly the 50 changed, or
the benchmark fails); for JOOR, the wall time its real credit budget would take for the full push.
Beside them, the part of every push that no diff avoids: reading the catalog's rows and the push
state out of Postgres (``COPY … TO STDOUT``).

The ERP catalog lives in a database of its own on the harness's Postgres, loaded with COPY. Each
sandbox runs in a process of its own (the stock ``BrandboomSandbox`` / ``JoorSandbox``; the JOOR
one with a credit budget of 10⁹ a window, and the JOOR site's ``credits`` setting likewise, so
the push never waits for JOOR's 300 credits / 300 s: the wall time that budget would impose is
reported beside it). The Brandboom sandbox accepts request timestamps up to a day old, so the
replay's signed requests, made minutes earlier, are still taken.

``python -m bench.bench_catalog [--quick]`` runs it alone and prints the figures as JSON.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import urlsplit

BENCH = "7"
STYLES = 5_000
COLORS_PER_STYLE = 4
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
CHANGED_SHARE = 0.01
IMAGE_EVERY = 100  # a style image (URL) on every 100th style: JOOR takes images, Brandboom does not
SEED = 14
DATABASE = "bobbin_bench_catalog"
DIVISION = "WHSL"
PRICE_TYPES = (("WHL", "USD", "Wholesale USD"), ("WHLE", "EUR", "Wholesale EUR"))
EUR_PER_USD = Decimal("0.92")
BIG_BUDGET = 10**9  # JOOR credits a window in the bench (sandbox and site): the push never waits
FULL_TARGET_RATIO = 3  # issue 14 names no number; the order import's goal (issue 1): 3× the floor
SKEW_SECONDS = 86_400.0  # Brandboom sandbox: signed requests up to a day old are taken (the replay)

COLORS = (
    ("BLK", "Black"),
    ("NVY", "Navy"),
    ("IVR", "Ivory"),
    ("OLV", "Olive"),
    ("RST", "Rust"),
    ("SKY", "Sky Blue"),
    ("CML", "Camel"),
    ("CHR", "Charcoal"),
    ("BRG", "Burgundy"),
    ("SGE", "Sage"),
    ("SND", "Sand"),
    ("CBT", "Cobalt"),
)
GARMENTS = ("Tee", "Shirt", "Sweater", "Cardigan", "Chino", "Jacket", "Dress", "Skirt", "Hoodie", "Coat")
ADJECTIVES = ("Harbor", "Pine", "Coastal", "Field", "Ridge", "Meadow", "Drift", "Summit", "Cove", "Timber")
CATEGORIES = ("Tops", "Knitwear", "Bottoms", "Outerwear", "Dresses")
SEASONS = ("FA26", "SP27")


# --- the catalog ---------------------------------------------------------------------------------


@dataclass
class Catalog:
    styles: list[tuple[Any, ...]] = field(default_factory=list)
    colors: list[tuple[Any, ...]] = field(default_factory=list)
    skus: list[tuple[Any, ...]] = field(default_factory=list)
    prices: list[tuple[Any, ...]] = field(default_factory=list)
    images: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        return [row[0] for row in self.styles]


def _upc(n: int) -> str:
    """A 12-digit UPC-A with its check digit."""
    body = f"{840000000000 // 10 + n:011d}"
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd * 3 + even) % 10) % 10)


def build_catalog(n_styles: int) -> Catalog:
    """``n_styles`` styles of 4 colours × 6 sizes, each with a wholesale + retail price in USD and EUR."""
    rng = random.Random(SEED)
    out = Catalog()
    sku_n = 0
    for i in range(1, n_styles + 1):
        number = f"BC{i:05d}"
        out.styles.append(
            (
                number,
                f"{rng.choice(ADJECTIVES)} {rng.choice(GARMENTS)} {i}",
                DIVISION,
                rng.choice(SEASONS),
                rng.choice(CATEGORIES),
                True,
            )
        )
        for code, name in rng.sample(COLORS, COLORS_PER_STYLE):
            out.colors.append((number, code, name))
            for index, size in enumerate(SIZES):
                sku_n += 1
                out.skus.append((f"K{sku_n:07d}", number, code, size, index, _upc(sku_n)))
        usd = Decimal(rng.randint(40, 240)) / 2
        msrp = (usd * Decimal("2.2")).quantize(Decimal("1"))
        out.prices.append((number, "WHL", usd, msrp))
        out.prices.append(
            (
                number,
                "WHLE",
                (usd * EUR_PER_USD).quantize(Decimal("0.01")),
                (msrp * EUR_PER_USD).quantize(Decimal("1")),
            )
        )
        if i % IMAGE_EVERY == 0:
            out.images.append(
                (number, None, "style", f"https://images.bench.example/{number}-front.jpg", None, 1, f"{number} front")
            )
    return out


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else ("t" if v is True else str(v)) for v in row) + "\n")
    buf.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def load(url: str, catalog: Catalog) -> None:
    """The ERP catalog with COPY (setup, not measured), then ANALYZE."""
    from core.db import engine_for

    raw = engine_for(url).raw_connection()
    try:
        cur = raw.cursor()
        _copy(cur, "division", ("code", "name"), [(DIVISION, "Wholesale")])
        _copy(cur, "price_type", ("code", "currency", "description"), list(PRICE_TYPES))
        _copy(cur, "style", ("number", "description", "division_code", "season", "category", "active"), catalog.styles)
        _copy(cur, "style_color", ("style_number", "color_code", "color_name"), catalog.colors)
        _copy(cur, "sku", ("sku", "style_number", "color_code", "size", "size_index", "upc"), catalog.skus)
        _copy(cur, "style_price", ("style_number", "price_type_code", "price", "retail"), catalog.prices)
        _copy(
            cur,
            "style_image",
            ("style_number", "color_code", "kind", "source", "folder", "position", "alt_text"),
            catalog.images,
        )
        raw.commit()
        raw.set_isolation_level(0)  # autocommit, for ANALYZE
        cur.execute("ANALYZE")
    finally:
        raw.close()


@contextlib.contextmanager
def own_database(harness: Any) -> Iterator[str]:
    """A database of this benchmark's own on the harness's Postgres, migrated, made the process's
    DATABASE_URL for the duration, dropped afterwards."""
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


def change_prices(numbers: list[str], round_no: int) -> list[str]:
    """The WHL price of 1 % of the styles goes up by 1.00: the styles changed."""
    from sqlalchemy import text

    from core.db import session_scope

    rng = random.Random(f"{SEED}:change:{round_no}")
    chosen = rng.sample(numbers, max(1, int(len(numbers) * CHANGED_SHARE)))
    with session_scope() as s:
        changed = s.execute(
            text(
                "UPDATE style_price SET price = price + 1 WHERE price_type_code = 'WHL' AND style_number = ANY(:n) "
                "RETURNING style_number"
            ),
            {"n": chosen},
        ).scalars()
        return sorted(changed)


# --- the sandboxes, each in its own process ------------------------------------------------------


def _serve(partner: str, port: int, seed: dict[str, Any], log_path: str) -> None:
    from core.logging import configure

    configure("WARNING", "json", stream=open(log_path, "a"))  # noqa: SIM115 (lives as long as the process)
    if partner == "brandboom":
        from sandbox.brandboom.server import BrandboomSandbox
        from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

        BrandboomSandbox(
            "127.0.0.1",
            port,
            public_key=DEMO_PUBLIC_KEY,
            secret_key=DEMO_SECRET_KEY,
            seed=seed,
            max_clock_skew=SKEW_SECONDS,
        ).serve_forever()
    else:
        from sandbox.joor.server import JoorSandbox
        from sandbox.keys import joor_token

        JoorSandbox("127.0.0.1", port, token=joor_token(), seed=seed, credits=BIG_BUDGET).serve_forever()


def brandboom_seed() -> dict[str, Any]:
    """The demo brand's showrooms and price tiers (with their currencies), no products yet."""
    from bobbin.demo import BRANDBOOM_BRAND_ID, PRICE_TIER_CURRENCY, PRICE_TIER_IDS, SHOWROOM_EU_ID, SHOWROOM_US_ID

    showrooms = [
        {"id": SHOWROOM_US_ID, "brandID": BRANDBOOM_BRAND_ID, "name": "US", "priceTiers": [PRICE_TIER_IDS["WHL"]]},
        {"id": SHOWROOM_EU_ID, "brandID": BRANDBOOM_BRAND_ID, "name": "EU", "priceTiers": [PRICE_TIER_IDS["WHLE"]]},
    ]
    tiers = [{"id": t, "name": code, "currency": PRICE_TIER_CURRENCY[t]} for code, t in PRICE_TIER_IDS.items()]
    return {"showrooms": showrooms, "priceTiers": tiers, "products": [], "orders": []}


def joor_seed() -> dict[str, Any]:
    """A JOOR account with the brand's price types (one label per currency, as the demo's), no styles yet."""
    from bobbin.demo_joor import PRICE_LABELS

    return {
        "account": {"account_id": "bench", "name": "Bench brand"},
        "price_types": [
            {"id": str(7001 + n), "name": label, "currency_code": currency}
            for n, (currency, label) in enumerate(sorted(PRICE_LABELS.items()))
        ],
        "warehouses": [],
        "skus": [],
        "connections": [],
        "orders": [],
    }


class SandboxProcess:
    def __init__(self, partner: str, seed: dict[str, Any], log_path: str) -> None:
        self.partner, self.seed, self.log_path = partner, seed, log_path
        self.proc: Any = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The API base, as the site's base URL."""
        if self.partner == "brandboom":
            from connectors.brandboom import contract as bb

            return self.base + bb.BASE_PATH
        from connectors.joor import contract as jr

        return self.base + jr.BASE_PATH

    def __enter__(self) -> SandboxProcess:
        from core.embedded import _wait_port, free_port

        self.port = free_port()
        ctx = multiprocessing.get_context("spawn")
        self.proc = ctx.Process(
            target=_serve,
            name=f"bench-catalog-{self.partner}",
            daemon=True,
            args=(self.partner, self.port, self.seed, self.log_path),
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

    def reset(self) -> None:
        """Back to the seed (data, ids, credits, the import diff)."""
        import requests

        requests.post(f"{self.base}/_sandbox/reset", timeout=600).raise_for_status()


# --- recording and replaying the requests --------------------------------------------------------


@dataclass
class Sent:
    request: Any  # requests.PreparedRequest, as the transport got it
    status: int
    answer_bytes: int

    @property
    def wire_bytes(self) -> int:
        """Request line, headers and body, as prepared (the transport adds Host and nothing else)."""
        r = self.request
        head = len(f"{r.method} {r.path_url} HTTP/1.1\r\n") + sum(len(k) + len(v) + 4 for k, v in r.headers.items())
        return head + 2 + len(_body(r))


def _body(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode()


class Recorder:
    """Records every request sent to ``base`` while active, at the transport (``HTTPAdapter.send``)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.sent: list[Sent] = []
        self._original: Any = None

    def __enter__(self) -> Recorder:
        from requests.adapters import HTTPAdapter

        original = self._original = HTTPAdapter.send
        recorder = self

        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            response = original(adapter, request, *args, **kwargs)
            if str(request.url).startswith(recorder.base):
                # The answer is read here instead of by the session right after: same bytes, same time.
                recorder.sent.append(Sent(request.copy(), response.status_code, len(response.content)))
            return response

        HTTPAdapter.send = send  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        from requests.adapters import HTTPAdapter

        HTTPAdapter.send = self._original  # type: ignore[method-assign]


def replay(sent: list[Sent]) -> tuple[float, int]:
    """The recorded requests, exactly as prepared, one after another with a bare ``requests.Session``:
    (seconds, answers that differ from the push's in status or length)."""
    import requests
    from requests.hooks import default_hooks

    prepared = []
    for s in sent:
        p = s.request.copy()
        p.hooks = default_hooks()  # the client's response hooks (credit counting) stay out
        prepared.append(p)
    differ = 0
    with requests.Session() as session:
        t0 = time.perf_counter()
        answers = [session.send(p, timeout=600) for p in prepared]
        seconds = time.perf_counter() - t0
    for s, a in zip(sent, answers, strict=True):
        differ += a.status_code != s.status or len(a.content) != s.answer_bytes
    return seconds, differ


def styles_named(partner: str, sent: list[Sent]) -> set[str]:
    """The style numbers the requests carry: Brandboom's import rows (the CSV attachment's
    styleNumber column), JOOR's v4 product writes (product_identifier)."""
    found: set[str] = set()
    for s in sent:
        r = s.request
        path = urlsplit(str(r.url)).path
        if r.method != "POST":
            continue
        if partner == "brandboom" and path.endswith("/products/import"):
            head = f"Content-Type: {r.headers['Content-Type']}\r\n\r\n".encode()
            message = BytesParser(policy=HTTP).parsebytes(head + _body(r))
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") == "data":
                    payload = part.get_payload(decode=True)
                    text = payload.decode() if isinstance(payload, bytes) else str(payload)
                    found |= {row["styleNumber"] for row in csv.DictReader(io.StringIO(text))}
        elif partner == "joor" and "/v4/products/" in path:
            found |= {str(row.get("product_identifier")) for row in json.loads(_body(r))}
    return found


def credits(sent: list[Sent]) -> int:
    from connectors.joor import contract as jr

    return sum(jr.request_credits(s.request.method or "GET") for s in sent)


# --- the benchmark ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    partner: str
    label: str
    full_s: float = 0.0
    full: list[Sent] = field(default_factory=list)
    full_floor_s: float = 0.0
    incr_s: float = 0.0
    incr: list[Sent] = field(default_factory=list)
    incr_floor_s: float = 0.0
    changed: list[str] = field(default_factory=list)
    incr_styles: set[str] = field(default_factory=set)
    incr_items: int = 0
    differ: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    profile: Any = None
    site_id: int = 0


def make_site(partner: str, url: str) -> int:
    from bobbin.demo import BRANDBOOM_BRAND_ID, PRICE_TIER_IDS
    from bobbin.demo_joor import JOOR_PRICE_TYPES
    from core.db import session_scope
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY, joor_token
    from services.sites import create_site

    if partner == "brandboom":
        credentials = {"public_key": DEMO_PUBLIC_KEY, "secret_key": DEMO_SECRET_KEY}
        settings: dict[str, Any] = {"brand_id": BRANDBOOM_BRAND_ID, "price_tiers": dict(PRICE_TIER_IDS)}
    else:
        credentials = {"api_token": joor_token()}
        settings = {"price_types": dict(JOOR_PRICE_TYPES), "credits": BIG_BUDGET}
    with session_scope() as s:
        site = create_site(
            s,
            name=f"bench-catalog-{partner}",
            kind=partner,
            base_url=url,
            credentials=credentials,
            division=DIVISION,
            notify_emails=["ops@bench.example"],
            settings=settings,
        )
        return int(site.id)


def _sampler() -> Any:
    try:
        from bench.common import StackSampler
    except ImportError:  # standalone without the harness module: no profile
        return contextlib.nullcontext()
    return StackSampler()


def measure(partner: str, label: str, catalog: Catalog, log_path: str, round_no: int) -> Outcome:
    from services.catalog import push_catalog

    seed = brandboom_seed() if partner == "brandboom" else joor_seed()
    n_styles, n_images = len(catalog.styles), len(catalog.images)
    out = Outcome(partner, label)
    with SandboxProcess(partner, seed, log_path) as sandbox:
        site_id = out.site_id = make_site(partner, sandbox.url)

        # The full push, recorded and profiled (wall-clock samples of this thread, ~2 % overhead).
        sampler = _sampler()
        with Recorder(sandbox.base) as rec, sampler:
            t = time.perf_counter()
            full = push_catalog(site_id, full=True)
            out.full_s = time.perf_counter() - t
        out.full, out.profile, out.summary["full"] = rec.sent, sampler, full.summary()
        styles = full.counts.get("style", {})
        images = full.counts.get("image", {})
        if styles.get("accepted") != n_styles or full.total("rejected"):
            raise RuntimeError(f"the full push to {label} did not get every style accepted: {full.summary()}")
        if partner == "joor" and images.get("accepted") != n_images:
            raise RuntimeError(f"the full push to {label} did not get every image accepted: {full.summary()}")
        named = styles_named(partner, out.full)
        if len(named) != n_styles:
            raise RuntimeError(f"the full push to {label} named {len(named)} styles in its requests, not {n_styles}")

        # 1 % of the styles change; the incremental push must send exactly those.
        out.changed = change_prices(catalog.numbers, round_no)
        with Recorder(sandbox.base) as rec:
            t = time.perf_counter()
            incr = push_catalog(site_id)
            out.incr_s = time.perf_counter() - t
        out.incr, out.summary["incremental"] = rec.sent, incr.summary()
        out.incr_styles = styles_named(partner, out.incr)
        out.incr_items = incr.sent
        accepted = incr.counts.get("style", {}).get("accepted", 0)
        if (
            out.incr_styles != set(out.changed)
            or incr.sent != len(out.changed)
            or accepted != len(out.changed)
            or incr.total("rejected")
        ):
            raise RuntimeError(
                f"the push to {label} after {len(out.changed)} styles changed sent {incr.sent} items, "
                f"{accepted} styles accepted, its requests named {len(out.incr_styles)} styles "
                f"({len(out.incr_styles - set(out.changed))} unchanged, {len(set(out.changed) - out.incr_styles)} "
                f"changed ones missing): {incr.summary()}"
            )

        # Floors: the same requests again, from the same state.
        sandbox.reset()
        out.full_floor_s, differ_full = replay(out.full)
        out.incr_floor_s, differ_incr = replay(out.incr)
        out.differ = differ_full + differ_incr
    print(
        f"  {label}: full {out.full_s:.2f} s ({len(out.full)} requests, replay {out.full_floor_s:.2f} s), "
        f"incremental {out.incr_s:.3f} s ({len(out.incr)} requests, replay {out.incr_floor_s:.3f} s)"
        + (f"; {out.differ} replayed answers differ in status or length" if out.differ else ""),
        flush=True,
    )
    return out


def run(report: Any) -> None:
    harness = report.harness
    n_styles = report.scaled(STYLES, minimum=100)
    t0 = time.perf_counter()
    catalog = build_catalog(n_styles)
    home = str(getattr(harness, "home", "/tmp"))
    with own_database(harness) as url:
        load(url, catalog)
        n_skus = len(catalog.skus)
        print(
            f"  setup: {n_styles:,} styles × {COLORS_PER_STYLE} colours × {len(SIZES)} sizes = {n_skus:,} SKUs, "
            f"{len(catalog.prices):,} prices (2 price types, wholesale + retail), {len(catalog.images)} images "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        outcomes = [
            measure("brandboom", "Brandboom", catalog, f"{home}/sandbox-catalog-brandboom.log", 0),
            measure("joor", "JOOR", catalog, f"{home}/sandbox-catalog-joor.log", 1),
        ]
        read_s, read_rows = min(read_floor(url, outcomes[-1].site_id), read_floor(url, outcomes[-1].site_id))
    scale = f"{n_styles:,} styles × 4 × 6 ({n_skus:,} SKUs, 2 price types)"
    for o in outcomes:
        _report(report, o, scale, n_styles, read_s)
    report.add(
        BENCH,
        "floor: COPY out what every push reads (styles, colours, SKUs, prices, images, the site's push state)",
        read_s,
        "s",
        note=f"{read_rows:,} rows, COPY (SELECT …) TO STDOUT, best of 2: the part of an incremental push no diff avoids",
    )
    if harness is not None:
        harness.shared["catalog"] = {o.partner: o.summary for o in outcomes}


_READS = (
    "SELECT number, description, season, category, division_code, active FROM style",
    "SELECT style_number, color_code, color_name FROM style_color",
    "SELECT style_number, color_code, sku, size, size_index, upc FROM sku",
    "SELECT p.style_number, p.price_type_code, t.currency, p.price, p.retail FROM style_price p "
    "JOIN price_type t ON t.code = p.price_type_code",
    "SELECT style_number, color_code, kind, position, source, folder, alt_text FROM style_image",
    "SELECT kind, key, outcome, accepted_hash, sent_hash, partner_id, run_id, label, ticket FROM catalog_push_state "
    "WHERE site_id = {site}",
)


def read_floor(url: str, site_id: int) -> tuple[float, int]:
    """Reading the rows a push reads out of Postgres as fast as it goes: COPY (query) TO STDOUT."""
    from core.db import engine_for

    raw = engine_for(url).raw_connection()
    try:
        cur = raw.cursor()
        rows = 0
        t0 = time.perf_counter()
        for query in _READS:
            buf = io.StringIO()
            cur.copy_expert(f"COPY ({query.format(site=int(site_id))}) TO STDOUT", buf)
            rows += buf.getvalue().count("\n")
        seconds = time.perf_counter() - t0
        raw.rollback()
        return seconds, rows
    finally:
        raw.close()


def _report(report: Any, o: Outcome, scale: str, n_styles: int, read_s: float) -> None:
    full_bytes = sum(s.wire_bytes for s in o.full)
    incr_bytes = sum(s.wire_bytes for s in o.incr)
    mb = full_bytes / 1e6
    report.add(
        BENCH,
        f"catalog push to {o.label}, full, {scale}",
        o.full_s,
        "s",
        floor_name=f"the same {len(o.full)} requests replayed",
        floor_value=o.full_floor_s,
        target=f"ratio <= {FULL_TARGET_RATIO}",
        note=f"{n_styles / o.full_s:,.0f} styles/s; {len(o.full)} requests, {mb:,.1f} MB sent "
        f"({_methods(o.full)}); replayed answers differing from the push's: {o.differ}",
    )
    report.add(
        BENCH,
        f"catalog push to {o.label}, full: requests / MB sent",
        mb,
        "MB",
        note=f"{len(o.full)} requests ({_methods(o.full)}), {full_bytes:,} bytes (request lines, headers, bodies)",
    )
    report.add(
        BENCH,
        f"catalog push to {o.label} after 1 % of the styles changed ({len(o.changed)} WHL prices)",
        o.incr_s,
        "s",
        floor_name=f"the same {len(o.incr)} requests replayed",
        floor_value=o.incr_floor_s,
        note=f"{len(o.incr)} requests, {incr_bytes:,} bytes ({_methods(o.incr)}); it reads and hashes the whole "
        f"catalog (COPY out of the same rows alone: {read_s:.2f} s)",
    )
    report.add(
        BENCH,
        f"catalog push to {o.label} after 1 %: styles sent",
        float(len(o.incr_styles)),
        "styles",
        floor_name="styles changed",
        floor_value=float(len(o.changed)),
        target="ratio <= 1",
        note=f"items the push sent: {o.incr_items}; styles named in its requests: {len(o.incr_styles)}, "
        "each a changed one (checked)",
    )
    if o.partner == "joor":
        from connectors.joor import contract as jr

        spent = credits(o.full)
        per_second = jr.CREDITS_PER_WINDOW / jr.WINDOW_SECONDS
        report.add(
            BENCH,
            f"catalog push to JOOR, full, at JOOR's real budget ({jr.CREDITS_PER_WINDOW} credits / "
            f"{jr.WINDOW_SECONDS:g} s): implied wall time",
            spent / per_second,
            "s",
            note=f"{spent:,} credits ({len(o.full)} calls: GET {jr.request_credits('GET')}, writes "
            f"{jr.request_credits('POST')}) at {per_second:g} credit/s; the bench grants {BIG_BUDGET:,} a window; "
            f"the incremental push spends {credits(o.incr)} credits",
        )
    if o.profile is not None and getattr(o.profile, "samples", None):
        from bench.common import share_lines

        report.profiles[f"catalog full push, {o.label}"] = {
            "elapsed_s": round(o.full_s, 2),
            "layers": share_lines(o.profile.layers(), o.full_s),
            "inclusive": share_lines(o.profile.inclusive(top=15), o.full_s),
            "self": share_lines(o.profile.self_time(top=12), o.full_s),
        }


def _methods(sent: list[Sent]) -> str:
    counts: dict[str, int] = {}
    for s in sent:
        key = f"{s.request.method} {_short(urlsplit(str(s.request.url)).path)}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _short(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    for marker in ("v4", "v2", "api"):
        if marker in parts:
            parts = parts[parts.index(marker) + 1 :]
    if parts and parts[0] == "v2":
        parts = parts[1:]
    return "/".join("…" if any(ch.isdigit() for ch in p) and p not in ("v2", "v4") else p for p in parts)


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
