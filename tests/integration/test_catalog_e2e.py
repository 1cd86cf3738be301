"""The catalog and customer push end to end: the real service with the real pushers against the
real sandboxes, through a real Celery worker.

Given the demo brand in the ERP and its Brandboom and JOOR accounts in their sandboxes (the
Brandboom account already holds one product per ERP style, made by hand; the JOOR account one per
style too), when the catalog (or the customers) are pushed by ``tasks.catalog.push_catalog``
(``tasks.customers.push_customers``) on a worker, then what the partner holds afterwards is read
back from the sandbox, what one push sent from the sandbox's record of the requests it received,
and what Bobbin recorded from the ``catalog_push_state``, ``catalog_removal`` and ``sync_run`` rows.

Brandboom: styles matched to the brand's products and never duplicated, SKUs with the ERP's UPCs,
prices per tier, the style whose colour has its own price split by colour; a second push sends
nothing, a changed price exactly its style, a brand's own edit survives; refused styles in
``bobbin status`` and the e-mail; an inactive style deactivated (and made active when sold again);
a push interrupted by the partner retried by the worker, sending only the rest; the dry run.
JOOR: the v4 catalog (products, SKUs colour × size, prices per price type), the linesheet, the
images, within the credit budget. Customers: JOOR's bulk-connection job polled, a new customer
awaiting JOOR until its Data Services match it; Brandboom's created and read back.
Written given / when / then.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, text, update

from bobbin.demo import COLOR_PREMIUM, PRICE_TIER_IDS, build_world
from connectors.brandboom.catalog import BATCH_STYLES
from connectors.http import DEFAULT_POLICY
from core.db import session_scope
from models import CatalogPushState, CatalogRemoval, Site, StylePrice, SyncRun
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

USD_TIER, EUR_TIER = str(PRICE_TIER_IDS["WHL"]), str(PRICE_TIER_IDS["WHLE"])
TIMEOUT = 120


# --- the ERP as the demo loads it (the expectations, read from the demo brand, not from Bobbin) ---
@dataclass
class Erp:
    """The demo brand's catalog: what the partners should hold after a push."""

    world: Any
    styles: list[str] = field(default_factory=list)
    colors: dict[str, list[str]] = field(default_factory=dict)  # style -> colour codes, in order
    skus: dict[str, dict[str, str]] = field(default_factory=dict)  # style -> SKU -> UPC
    sku_color: dict[str, str] = field(default_factory=dict)
    prices: dict[tuple[str, str], tuple[Decimal, Decimal | None]] = field(default_factory=dict)
    color_prices: dict[tuple[str, str, str], tuple[Decimal, Decimal | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, world: Any) -> Erp:
        erp = cls(world, styles=[s["number"] for s in world.styles])
        for c in world.style_colors:
            erp.colors.setdefault(c["style_number"], []).append(c["color_code"])
        for k in world.skus:
            erp.skus.setdefault(k["style_number"], {})[k["sku"]] = k["upc"]
            erp.sku_color[k["sku"]] = k["color_code"]
        for p in world.style_prices:
            erp.prices[(p["style_number"], p["price_type_code"])] = (p["price"], p.get("retail"))
        for p in world.style_color_prices:
            erp.color_prices[(p["style_number"], p["color_code"], p["price_type_code"])] = (p["wholesale"], p["retail"])
        return erp

    @property
    def split_style(self) -> str:
        """The demo's one style with a colour priced on its own."""
        [(style, _, _)] = self.color_prices
        return style

    def price(self, style: str, color: str, price_type: str) -> tuple[Decimal, Decimal | None]:
        return self.color_prices.get((style, color, price_type)) or self.prices[(style, price_type)]


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --- reading what Bobbin recorded ---------------------------------------------------------------
def states(site_id: int, kind: str = "style") -> dict[str, CatalogPushState]:
    with session_scope() as s:
        rows = s.scalars(
            select(CatalogPushState).where(CatalogPushState.site_id == site_id, CatalogPushState.kind == kind)
        )
        return {r.key: r for r in rows}


def run_of(run_id: int) -> SyncRun:
    with session_scope() as s:
        run = s.get_one(SyncRun, run_id)
        s.expunge(run)
        return run


def runs(task: str, site_id: int) -> list[SyncRun]:
    with session_scope() as s:
        found = list(
            s.scalars(select(SyncRun).where(SyncRun.task == task, SyncRun.site_id == site_id).order_by(SyncRun.id))
        )
        for r in found:
            s.expunge(r)
        return found


def wait_for_runs(site_id: int, n: int, timeout: float = 60) -> list[SyncRun]:
    def finished() -> list[SyncRun] | None:
        done = [r for r in runs("push_catalog", site_id) if r.finished_at is not None]
        return done if len(done) >= n else None

    found: list[SyncRun] = wait_until(finished, timeout=timeout, interval=0.5, what=f"{n} finished catalog push(es)")
    return found


def table_counts() -> tuple[int, int, int]:
    with session_scope() as s:
        return (
            int(s.scalar(select(func.count()).select_from(CatalogPushState)) or 0),
            int(s.scalar(select(func.count()).select_from(SyncRun)) or 0),
            int(s.scalar(select(func.count()).select_from(CatalogRemoval)) or 0),
        )


def set_setting(site_id: int, **values: Any) -> None:
    with session_scope() as s:
        site = s.get_one(Site, site_id)
        site.settings = {**site.settings, **values}


def set_price(style: str, price_type: str, price: str) -> None:
    with session_scope() as s:
        s.execute(
            update(StylePrice)
            .where(StylePrice.style_number == style, StylePrice.price_type_code == price_type)
            .values(price=Decimal(price))
        )


def set_active(style: str, active: bool) -> None:
    with session_scope() as s:
        s.execute(text("UPDATE style SET active = :a WHERE number = :n"), {"a": active, "n": style})


def push(celery_app: Any, task: str, site_id: int) -> dict[str, Any]:
    """Queue the task as beat or the console would, and wait for its answer."""
    answer: dict[str, Any] = celery_app.send_task(task, args=[site_id]).get(timeout=TIMEOUT)
    return answer


# --- adding to the ERP (a new style, price type, customer) ---------------------------------------
def add_style(
    number: str,
    colors: tuple[tuple[str, str], ...] = (("BLK", "Black"),),
    sizes: tuple[str, ...] = ("OS",),
    *,
    prices: dict[str, tuple[str, str | None]] | None = None,
    upc_base: int = 0,
) -> dict[str, tuple[str, str, str]]:
    """A style of the demo's division with its colours, SKUs (colour × size, each with a UPC) and
    prices (price type -> wholesale, retail); its SKUs: id -> (colour code, size, UPC)."""
    from models import Sku, Style, StyleColor

    prices = {"WHL": ("20.00", "44.00"), "WHLE": ("18.50", "41.00")} if prices is None else prices
    made = {}
    with session_scope() as s:
        s.add(Style(number=number, description=f"Style {number}", division_code="WHSL", season="SP27", category="Tops"))
        s.flush()
        for n, (code, name) in enumerate(colors):
            s.add(StyleColor(style_number=number, color_code=code, color_name=name))
            for i, size in enumerate(sizes):
                sku = f"{number}-{code}-{size}"
                upc = f"2{upc_base + n * 100 + i:012d}"
                s.add(Sku(sku=sku, style_number=number, color_code=code, size=size, size_index=i, upc=upc))
                made[sku] = (code, size, upc)
        for code, (wholesale, retail) in prices.items():
            s.add(
                StylePrice(
                    style_number=number,
                    price_type_code=code,
                    price=Decimal(wholesale),
                    retail=None if retail is None else Decimal(retail),
                )
            )
    return made


def add_customer(code: str, name: str) -> None:
    from bobbin.demo import address_key
    from models import Customer, CustomerAddress

    address = {
        "customer_code": code,
        "name": name,
        "line1": "12 Harbor Lane",
        "line2": None,
        "city": "Portland",
        "state": "ME",
        "postal_code": "04101",
        "country": "US",
    }
    with session_scope() as s:
        s.add(
            Customer(code=code, name=name, email=f"buyer@{code.lower()}.example", division_code="WHSL", rep_code="KM")
        )
        s.flush()
        for kind in ("billing", "shipping"):
            s.add(CustomerAddress(kind=kind, address_key=address_key(address), **address))


def cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from bobbin.cli.main import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    return result


# --- Brandboom ----------------------------------------------------------------------------------
@dataclass
class Brandboom:
    site_id: int
    sandbox: Any
    erp: Erp
    requests: list[tuple[str, str]]  # (method, API path) of every API request the sandbox answered

    def held(self, style: str | None = None) -> list[dict[str, Any]]:
        """The products Brandboom holds (not deleted), of one style or all, as the sandbox stores them."""
        return [
            p for p in self.sandbox.catalog() if p.get("status") != 2 and (style is None or p["styleNumber"] == style)
        ]

    def imported_styles(self, since: int = 0) -> list[str]:
        """Each style's number once per products/import call that carried rows of it, from call ``since``."""
        return [n for i in self.sandbox.imports()[since:] for n in dict.fromkeys(r["styleNumber"] for r in i["rows"])]

    def writes(self, since: int = 0) -> list[tuple[str, str]]:
        return [r for r in self.requests[since:] if r[0] != "GET"]


@pytest.fixture()
def bb(db: str, sandbox: Any) -> Iterator[Brandboom]:
    """The demo's Brandboom site on the sandbox (its ERP data loaded), every API request recorded."""
    from bobbin.demo_sites import DEMO_SITE, load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id).where(Site.name == DEMO_SITE)))
    seen: list[tuple[str, str]] = []
    original = sandbox.handle

    def handle(request: Any) -> Any:
        if request.path.startswith(sandbox.api_base_path + "/"):
            seen.append((request.method, request.path[len(sandbox.api_base_path) :]))
        return original(request)

    sandbox.handle = handle
    yield Brandboom(site_id, sandbox, Erp.of(build_world()), seen)
    sandbox.handle = original


def test_brandboom_push_through_a_worker_matches_prices_and_sends_only_changes(
    bb: Brandboom, start_worker: Any, celery_app: Any
) -> None:
    erp = bb.erp
    seeded = {p["styleNumber"]: p["id"] for p in bb.held()}
    assert set(seeded) == set(erp.styles)  # the brand made one product per style by hand
    start_worker()

    # When the catalog is pushed by the task, as beat or the console's button would
    async_result = celery_app.send_task("tasks.catalog.push_catalog", args=[bb.site_id])
    first = async_result.get(timeout=TIMEOUT)

    # Then every style is accepted, each matched to the product the brand made, by style number
    assert first["counts"] == {"style": {"accepted": len(erp.styles)}}, first
    assert {(m["style"], m["by"]) for m in first["matched"]} == {(n, "style number") for n in erp.styles}
    # And Brandboom holds each ERP style once: the products the brand made, none duplicated;
    # the style whose colour has its own price split by colour (auto mode), one product per colour
    split = erp.split_style
    for number in erp.styles:
        products = bb.held(number)
        if number == split:
            assert [p["options"] for p in products] == [[c] for c in erp.colors[number]]
            assert products[0]["id"] == seeded[number]
        else:
            assert [p["id"] for p in products] == [seeded[number]], number
    assert len(bb.held()) == len(erp.styles) - 1 + len(erp.colors[split])
    # And the imports were one combine (the styles priced alike) and one split, no bypassDiff
    assert [(i["mode"], i["bypassDiff"]) for i in bb.sandbox.imports()] == [("combine", False), ("split", False)]
    assert Counter(bb.imported_styles()) == Counter(erp.styles)
    # And every SKU carries the ERP's UPC, once, with the ERP's prices per tier (wholesale and retail)
    held_skus = [s for p in bb.held() for s in p["skus"]]
    assert Counter(s["skuNumber"] for s in held_skus) == Counter(k for n in erp.styles for k in erp.skus[n])
    for product in bb.held():
        number = product["styleNumber"]
        for sku in product["skus"]:
            assert sku["UPC"] == erp.skus[number][sku["skuNumber"]]
            color = erp.sku_color[sku["skuNumber"]]
            assert sku["option"] == color
            for tier, price_type in ((USD_TIER, "WHL"), (EUR_TIER, "WHLE")):
                wholesale, retail = erp.price(number, color, price_type)
                got = sku["prices"][tier]
                assert (dec(got["price"]), dec(got.get("MSRP"))) == (wholesale, retail), (sku["skuNumber"], tier)
    # ... the colour with its own price included, as the ERP has it
    dearer = erp.colors[split][-1]
    [dearer_product] = [p for p in bb.held(split) if p["options"] == [dearer]]
    base, _ = erp.prices[(split, "WHL")]
    assert {dec(s["prices"][USD_TIER]["price"]) for s in dearer_product["skus"]} == {base + COLOR_PREMIUM}
    # And Bobbin recorded each style accepted with the products it landed on
    recorded = states(bb.site_id)
    assert {k: (r.outcome, r.matched_by) for k, r in recorded.items()} == {
        n: ("accepted", "style number") for n in erp.styles
    }
    assert recorded[erp.styles[1]].partner_id == str(seeded[erp.styles[1]])
    assert recorded[split].partner_id == ",".join(str(p["id"]) for p in bb.held(split))
    # And the sync run says ok, with the counts
    run = run_of(first["run_id"])
    assert (run.task, run.outcome, run.celery_task_id) == ("push_catalog", "ok", async_result.id)
    assert run.counts["accepted"] == len(erp.styles) and run.counts["counts"] == first["counts"]

    # When the catalog is pushed again with nothing changed in the ERP
    imports, asked = len(bb.sandbox.imports()), len(bb.requests)
    again = push(celery_app, "tasks.catalog.push_catalog", bb.site_id)
    # Then nothing is sent: the sandbox received no request at all
    assert again["counts"] == {"style": {"unchanged": len(erp.styles)}} and again.get("sent", 0) == 0
    assert len(bb.sandbox.imports()) == imports and bb.requests[asked:] == []

    # Given the brand's own edit on Brandboom to columns Bobbin does not own
    changed = erp.styles[7]
    [product] = bb.held(changed)
    edit = {"minQTY": 12, "description": {"description": "Written by the brand on Brandboom"}}
    answer = requests.post(
        f"{bb.sandbox.control_url}/brand-edit", json={"id": product["id"], "changes": edit}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    # When one style's wholesale price changes in the ERP and the catalog is pushed
    set_price(changed, "WHL", "123.45")
    third = push(celery_app, "tasks.catalog.push_catalog", bb.site_id)
    # Then exactly that style is sent, all its SKUs and nothing else
    assert third["counts"] == {"style": {"accepted": 1, "unchanged": len(erp.styles) - 1}}, third
    [sent] = bb.sandbox.imports()[imports:]
    assert {r["styleNumber"] for r in sent["rows"]} == {changed}
    assert sorted(r["skuNumber"] for r in sent["rows"]) == sorted(erp.skus[changed])
    # And Brandboom holds the new price on the same product, and the brand's edit survived
    [product] = bb.held(changed)
    assert {dec(s["prices"][USD_TIER]["price"]) for s in product["skus"]} == {Decimal("123.45")}
    assert product["minQTY"] == 12
    assert product["description"]["description"] == "Written by the brand on Brandboom"
    assert run_of(third["run_id"]).counts["counts"] == third["counts"]

    # When the style split by colour changes price too (Brandboom holds it as one product per colour)
    split_ids = sorted(p["id"] for p in bb.held(split))
    set_price(split, "WHLE", "77.70")
    fourth = push(celery_app, "tasks.catalog.push_catalog", bb.site_id)
    # Then only it is sent, onto the same products, none made twice
    assert fourth["counts"] == {"style": {"accepted": 1, "unchanged": len(erp.styles) - 1}}, fourth
    assert {r["styleNumber"] for i in bb.sandbox.imports()[imports + 1 :] for r in i["rows"]} == {split}
    assert sorted(p["id"] for p in bb.held(split)) == split_ids
    assert {dec(s["prices"][EUR_TIER]["price"]) for p in bb.held(split) for s in p["skus"]} == {Decimal("77.70")}
    assert len(bb.held()) == len(erp.styles) - 1 + len(erp.colors[split])


# --- Brandboom: rejections, removal, resume, dry run ---------------------------------------------
def test_refused_styles_are_problem_rows_in_status_and_the_email_and_the_rest_goes_through(
    bb: Brandboom, smtp: Any, start_worker: Any, celery_app: Any
) -> None:
    erp = bb.erp
    # Given a style with no SKUs in the ERP, and a style priced in a price type the site maps to no tier
    from models import PriceType

    empty = "HPZ900"
    add_style(empty, sizes=())
    unmapped = erp.styles[3]
    with session_scope() as s:
        s.add(PriceType(code="WHLC", currency="CAD", description="Wholesale CAD"))
        s.flush()
        s.add(StylePrice(style_number=unmapped, price_type_code="WHLC", price=Decimal("61.00")))
    start_worker()

    # When the catalog is pushed by the task
    summary = push(celery_app, "tasks.catalog.push_catalog", bb.site_id)

    # Then both are refused, each a problem row naming the style and what to do; the rest went through
    assert summary["counts"] == {"style": {"accepted": len(erp.styles) - 1, "rejected": 2}}, summary
    rows = states(bb.site_id)
    assert (rows[empty].outcome, rows[unmapped].outcome) == ("rejected", "rejected")
    assert f"Style {empty} has no SKUs in the ERP" in (rows[empty].message or "")
    assert f"style {unmapped}: price type WHLC has no Brandboom price tier" in (rows[unmapped].message or "")
    assert "bobbin sites set SITE price_tiers=" in (rows[unmapped].message or "")
    assert run_of(summary["run_id"]).outcome == "ok"
    # And Brandboom received neither, and every other style
    assert Counter(bb.imported_styles()) == Counter(n for n in erp.styles if n != unmapped)
    assert bb.held(empty) == []

    # And `bobbin status` shows them with the partner's words
    shown = cli("status").stdout
    assert "2 catalog item(s) refused by Brandboom" in shown
    assert f"style {empty}: Style {empty} has no SKUs in the ERP" in shown
    assert f"style {unmapped}: style {unmapped}: price type WHLC has no Brandboom price tier" in shown

    # And the task e-mailed them to the site's contacts, in the "Catalog items … refused" section
    [mail] = smtp.wait_for(1)
    assert mail["Subject"] == '[Bobbin] Brandboom "brandboom-demo": 2 catalog items refused by Brandboom'
    body = mail.get_payload()[0].get_payload(decode=True).decode()
    section = body.split("Catalog items Brandboom refused (2)", 1)[1]
    assert f"Style {empty}" in section and f"Style {unmapped}" in section
    assert "has no SKUs in the ERP" in section and "price type WHLC has no Brandboom price tier" in section
    assert "bobbin catalog push brandboom-demo" in section


def test_an_inactive_style_is_deactivated_on_brandboom_recorded_and_made_active_when_sold_again(
    bb: Brandboom, start_worker: Any, celery_app: Any
) -> None:
    erp = bb.erp
    # Given the catalog on Brandboom
    start_worker()
    push(celery_app, "tasks.catalog.push_catalog", bb.site_id)
    gone = erp.styles[5]
    [product] = bb.held(gone)
    # And the site deactivating what the ERP stops selling, and the ERP stopping a style
    set_setting(bb.site_id, catalog_inactive="deactivate")
    set_active(gone, False)
    asked = len(bb.requests)

    # When the catalog is pushed
    summary = push(celery_app, "tasks.catalog.push_catalog", bb.site_id)

    # Then that style's product is suspended on Brandboom (status 1), still there; nothing else was written
    assert summary["counts"] == {"style": {"removed": 1, "unchanged": len(erp.styles) - 1}}, summary
    assert bb.writes(asked) == [("POST", f"/products/{product['id']}")]
    [after] = [p for p in bb.sandbox.catalog() if p["id"] == product["id"]]
    assert after["status"] == 1 and after["styleNumber"] == gone
    # And a catalog_removal row says what was removed, by which run
    with session_scope() as s:
        [removal] = s.scalars(select(CatalogRemoval)).all()
        assert (removal.site_id, removal.style_number, removal.partner_id, removal.action, removal.outcome) == (
            bb.site_id,
            gone,
            str(product["id"]),
            "deactivate",
            "removed",
        )
        assert removal.run_id == summary["run_id"] and removal.snapshot["number"] == gone
        assert {k["sku"] for c in removal.snapshot["colors"] for k in c["skus"]} == set(erp.skus[gone])
    assert states(bb.site_id)[gone].outcome == "removed"

    # When pushed again, nothing more is done
    asked = len(bb.requests)
    again = push(celery_app, "tasks.catalog.push_catalog", bb.site_id)
    assert again["counts"] == {"style": {"unchanged": len(erp.styles) - 1}} and bb.requests[asked:] == []

    # When the ERP sells the style again
    set_active(gone, True)
    back = push(celery_app, "tasks.catalog.push_catalog", bb.site_id)
    # Then it is sent again onto the same product, which is active again on Brandboom
    assert back["counts"] == {"style": {"accepted": 1, "unchanged": len(erp.styles) - 1}}, back
    [after] = bb.held(gone)
    assert (after["id"], after["status"]) == (product["id"], 0)
    assert states(bb.site_id)[gone].outcome == "accepted"


def test_an_interrupted_push_is_retried_by_the_worker_and_sends_only_the_rest(
    bb: Brandboom, start_worker: Any, celery_app: Any
) -> None:
    erp = bb.erp
    # Given more styles than one batch takes (Brandboom: 200 a batch), one import per batch
    extra = [f"ZZ{n:04d}" for n in range(BATCH_STYLES + 10 - len(erp.styles))]
    for n, number in enumerate(extra):
        add_style(number, upc_base=1000 * n)
    everything = sorted(erp.styles + extra)
    first_batch, rest = everything[:BATCH_STYLES], everything[BATCH_STYLES:]
    set_setting(bb.site_id, catalog_mode="combine")
    # And Brandboom failing (503) from the second import on, every attempt the client makes
    bb.sandbox.inject_fault(503, path="products/import", nth=2, count=DEFAULT_POLICY.max_attempts)
    start_worker()

    # When the task pushes the catalog
    async_result = celery_app.send_task("tasks.catalog.push_catalog", args=[bb.site_id])
    # Then the run fails after the first batch, which Brandboom took and Bobbin recorded
    [failed] = wait_for_runs(bb.site_id, 1)
    assert failed.outcome == "failed" and failed.celery_task_id == async_result.id
    assert failed.counts["accepted"] == BATCH_STYLES, failed.counts
    assert bb.imported_styles() == first_batch
    accepted = sorted(k for k, r in states(bb.site_id).items() if r.outcome == "accepted")
    assert accepted == first_batch
    imports = len(bb.sandbox.imports())

    # When the worker retries the task (Celery's backoff)
    retried = wait_for_runs(bb.site_id, 2, timeout=90)[1]
    # Then the retry sends only the rest, once, and the partner holds every style once
    assert (retried.outcome, retried.celery_task_id) == ("ok", async_result.id)
    assert retried.counts["counts"]["style"] == {"accepted": len(rest), "unchanged": BATCH_STYLES}
    assert bb.imported_styles(imports) == rest
    assert all(len(bb.held(n)) == 1 for n in everything)
    assert async_result.get(timeout=TIMEOUT)["counts"]["style"]["accepted"] == len(rest)


def test_a_dry_run_from_the_cli_writes_nothing_here_or_on_brandboom(bb: Brandboom) -> None:
    from services import catalog

    before = bb.sandbox.catalog()
    # When a person asks what a push would do
    out = cli("catalog", "push", "brandboom-demo", "--dry-run").stdout
    # Then it says every style would go, each matched to the brand's product by style number
    assert "Would push to brandboom-demo (Brandboom)" in out and "Nothing was sent or recorded." in out
    assert "Matched to products already there" in out and "style number" in out
    summary = dry_run_json("brandboom-demo")
    assert summary["counts"] == {"style": {"to send": len(bb.erp.styles)}} and summary["dry_run"] is True
    # And nothing was recorded, and Brandboom received reads only: its catalog is as it was
    assert table_counts() == (0, 0, 0)
    assert bb.requests and bb.writes() == []
    assert set(bb.requests) == {("GET", "/products/search")}
    assert bb.sandbox.imports() == [] and bb.sandbox.catalog() == before

    # Given the catalog pushed (by the service, here), then one style's price changed in the ERP
    catalog.push_catalog(bb.site_id)
    changed = bb.erp.styles[2]
    set_price(changed, "WHL", "99.00")
    before, recorded, asked = bb.sandbox.catalog(), table_counts(), len(bb.requests)
    # When the dry run is asked for again
    summary = dry_run_json("brandboom-demo")
    # Then it names that style alone, and again nothing was written here or on Brandboom
    assert summary["counts"] == {"style": {"to send": 1, "unchanged": len(bb.erp.styles) - 1}}
    assert [(i["key"], i["action"], i["why"]) for i in summary["items"]] == [(changed, "send", "changed")]
    assert table_counts() == recorded and bb.writes(asked) == [] and bb.sandbox.catalog() == before


def dry_run_json(site: str) -> dict[str, Any]:
    out = cli("catalog", "push", site, "--dry-run", "--json").stdout
    summary: dict[str, Any] = json.loads(out[out.index("{") :])
    return summary


# --- JOOR ---------------------------------------------------------------------------------------
@dataclass
class Joor:
    site_id: int
    sandbox: Any
    erp: Erp
    bodies: list[tuple[str, str, Any]]  # (method, path, JSON body) of every API write the sandbox received

    def credits(self) -> dict[str, int]:
        [account] = self.sandbox.credits_used().values()
        return dict(account)

    def writes(self, since: int = 0) -> list[tuple[str, str]]:
        return [(c["method"], c["path"]) for c in self.sandbox.calls()[since:] if c["method"] != "GET"]


@pytest.fixture()
def joor(joor_site: int, joor_sandbox: Any) -> Iterator[Joor]:
    """The demo's JOOR site on the sandbox (its ERP data loaded), the body of every API write recorded."""
    seen: list[tuple[str, str, Any]] = []
    original = joor_sandbox.handle

    def handle(request: Any) -> Any:
        if request.method != "GET" and not request.path.startswith("/_sandbox"):
            seen.append((request.method, request.path, request.json))
        return original(request)

    joor_sandbox.handle = handle
    yield Joor(joor_site, joor_sandbox, Erp.of(build_world()), seen)
    joor_sandbox.handle = original


def prices_of(sku: dict[str, Any]) -> dict[tuple[str, str], tuple[Decimal | None, Decimal | None]]:
    """A JOOR SKU's prices: (price type name, currency) -> (wholesale, retail)."""
    return {
        (p["price_type"]["name"], p["price_type"]["currency_code"]): (dec(p["wholesale_value"]), dec(p["retail_value"]))
        for p in sku["prices"]
    }


def traits_of(sku: dict[str, Any]) -> dict[str, str]:
    from connectors.joor import contract

    names = {contract.TRAIT_COLOR: "color", contract.TRAIT_SIZE: "size"}
    return {names[t["trait"]["id"]]: t["value"] for t in sku["trait_values"]}


def test_joor_push_through_a_worker_products_skus_prices_images_linesheet_within_credits(
    joor: Joor, start_worker: Any, celery_app: Any
) -> None:
    erp, world = joor.erp, joor.erp.world
    seeded = {p["product_identifier"]: p["id"] for p in joor.sandbox.products()}
    assert set(seeded) == set(erp.styles)  # the brand made its styles on JOOR by hand
    # Given a new style in the ERP that JOOR has not got
    new = "HPN900"
    colors = {(c["style_number"], c["color_code"]): c["color_name"] for c in world.style_colors}
    colors |= {(new, "BLK"): "Black", (new, "SND"): "Sand"}
    skus: dict[str, dict[str, tuple[str, str, str]]] = {}  # style -> SKU id -> (colour code, size, UPC)
    for k in world.skus:
        skus.setdefault(k["style_number"], {})[k["sku"]] = (k["color_code"], k["size"], k["upc"])
    skus[new] = add_style(new, (("BLK", "Black"), ("SND", "Sand")), ("S", "M"), upc_base=7000)
    # And the site sending images at style-colour level
    set_setting(joor.site_id, image_level="style_color")
    joor.sandbox.reset_credits()
    start_worker()

    # When the catalog is pushed by the task
    summary = push(celery_app, "tasks.catalog.push_catalog", joor.site_id)

    # Then every style, both images and the linesheet are accepted
    styles = [*erp.styles, new]
    assert summary["counts"] == {
        "style": {"accepted": len(styles)},
        "image": {"accepted": 2},
        "linesheet": {"accepted": 1},
    }, summary
    # And JOOR holds one product per style: the brand's own, updated in place, and the new one
    # created with the ERP style number as its external_id
    products = {p["product_identifier"]: p for p in joor.sandbox.products()}
    assert sorted(products) == sorted(styles)
    assert all(products[n]["id"] == seeded[n] for n in erp.styles)
    assert products[new]["external_id"] == new and products[new]["name"] == f"Style {new}"
    recorded = states(joor.site_id)
    assert {k: (r.outcome, r.partner_id) for k, r in recorded.items()} == {
        n: ("accepted", products[n]["id"]) for n in styles
    }
    assert {r.matched_by for k, r in recorded.items() if k != new} == {"style number"} and not recorded[new].matched_by
    # And each product's SKUs are its colours × sizes, keyed by the ERP SKU id, with the ERP's UPC
    for number in styles:
        held = products[number]["skus"]
        assert sorted(s["external_id"] for s in held) == sorted(skus[number]), number
        for sku in held:
            color, size, upc = skus[number][sku["external_id"]]
            assert traits_of(sku) == {"color": colors[(number, color)], "size": size}
            assert sku["identifiers"] == [{"type": "upc", "value": upc}]
            # and a price per price type the site sells in (USD = WHL, EUR = WHLE), wholesale and retail
            if number == new:
                expected = {("US Dollars", "USD"): ("20.00", "44.00"), ("Euro", "EUR"): ("18.50", "41.00")}
                assert prices_of(sku) == {k: (dec(w), dec(r)) for k, (w, r) in expected.items()}
                continue
            assert prices_of(sku) == {
                ("US Dollars", "USD"): erp.price(number, color, "WHL"),
                ("Euro", "EUR"): erp.price(number, color, "WHLE"),
            }, sku["external_id"]
    # ... the colour with its own price included
    split = erp.split_style
    dearer = erp.colors[split][-1]
    base = erp.prices[(split, "WHL")][0]
    assert {
        erp.sku_color[s["external_id"]]: prices_of(s)[("US Dollars", "USD")][0] for s in products[split]["skus"]
    } == {c: base + COLOR_PREMIUM if c == dearer else base for c in erp.colors[split]}
    # And the linesheet is each of its styles' delivery, nothing else on one
    sheet = world.linesheets[0]
    on_sheet = [r["style_number"] for r in world.linesheet_styles]
    assert {k: [d["delivery_name"] for d in v] for k, v in joor.sandbox.deliveries().items()} == {
        n: [sheet["name"]] for n in on_sheet
    }
    delivery = joor.sandbox.deliveries()[on_sheet[0]][0]
    assert (delivery["start_ship_date"], delivery["complete_ship_date"]) == (
        sheet["delivery_start"].isoformat(),
        sheet["delivery_end"].isoformat(),
    )
    # And the images at the site's level: the style image on the style, the colour's first image as
    # its image and its swatch
    pictured = world.style_images[0]["style_number"]
    images = Counter(
        (i["style_identifier"], i["color_code"], i["swatch"], i["url"], i["display_order"])
        for i in joor.sandbox.images()
    )
    by_color = world.style_images[1]
    assert images == Counter(
        [
            (pictured, None, False, world.style_images[0]["source"], 1),
            (pictured, by_color["color_code"], False, by_color["source"], 1),
            (pictured, by_color["color_code"], True, by_color["source"], 1),
        ]
    )
    # And every call was paid within JOOR's credit budget, never throttled
    calls = joor.sandbox.calls()
    spent = sum(1 if c["method"] == "GET" else 5 for c in calls)
    assert joor.credits() == {"spent": spent, "throttled": 0} and spent <= 300
    run = run_of(summary["run_id"])
    assert (run.task, run.outcome) == ("push_catalog", "ok") and run.counts["counts"] == summary["counts"]

    # When the catalog is pushed again with nothing changed in the ERP
    again = push(celery_app, "tasks.catalog.push_catalog", joor.site_id)
    # Then nothing is sent: JOOR received no call at all
    assert again["counts"] == {
        "style": {"unchanged": len(styles)},
        "image": {"unchanged": 2},
        "linesheet": {"unchanged": 1},
    }, again
    assert joor.sandbox.calls()[len(calls) :] == []

    # When one style's EUR price changes in the ERP (the style with a colour priced on its own)
    set_price(split, "WHLE", "55.55")
    written = len(joor.bodies)
    third = push(celery_app, "tasks.catalog.push_catalog", joor.site_id)
    # Then exactly that style is sent: its product, its SKUs, and its EUR prices, as updates
    assert third["counts"] == {
        "style": {"accepted": 1, "unchanged": len(styles) - 1},
        "image": {"unchanged": 2},
        "linesheet": {"unchanged": 1},
    }, third
    sent = {path.rstrip("/").removeprefix("/v4/"): body for _, path, body in joor.bodies[written:]}
    mine = {s["id"] for s in products[split]["skus"]}
    assert sorted(sent) == ["prices/bulk_update", "products/bulk_update", "skus/bulk_update"]
    assert [row["id"] for row in sent["products/bulk_update"]] == [products[split]["id"]]
    assert {row["id"] for row in sent["skus/bulk_update"]} == mine
    assert {row["wholesale_value"] for row in sent["prices/bulk_update"]} == {"55.55"}
    assert len(sent["prices/bulk_update"]) == len(mine)
    # And JOOR holds the new EUR price on every SKU of it, the USD ones as they were
    [product] = [p for p in joor.sandbox.products() if p["product_identifier"] == split]
    assert {prices_of(s)[("Euro", "EUR")][0] for s in product["skus"]} == {Decimal("55.55")}
    assert {prices_of(s)[("US Dollars", "USD")] for s in product["skus"]} == {
        prices_of(s)[("US Dollars", "USD")] for s in products[split]["skus"]
    }


def test_a_dry_run_on_joor_calls_nothing_that_writes(joor: Joor) -> None:
    # When a person asks what a push to JOOR would do
    out = cli("catalog", "push", "joor-demo", "--dry-run").stdout
    # Then it says so, and nothing was recorded; JOOR was only read (its products, to match; its price types)
    assert "Would push to joor-demo (JOOR)" in out and "Nothing was sent or recorded." in out
    assert dry_run_json("joor-demo")["counts"]["style"] == {"to send": len(joor.erp.styles)}
    assert table_counts() == (0, 0, 0)
    assert joor.sandbox.calls() and joor.writes() == [] and joor.bodies == []
    assert joor.sandbox.images() == [] and joor.sandbox.deliveries() == {}


# --- customers ----------------------------------------------------------------------------------
def test_joor_customers_go_as_a_bulk_connection_job_new_ones_await_joor_until_approved(
    joor: Joor, start_worker: Any, celery_app: Any
) -> None:
    from connectors.joor.catalog import AWAITING_JOOR

    # Given a customer new to the ERP (and so to JOOR)
    add_customer("NEWC01", "Tidewater Goods")
    with session_scope() as s:
        ours = sorted(
            s.scalars(text("SELECT code FROM customer WHERE division_code = 'WHSL' OR division_code IS NULL"))
        )
    on_joor = {c["customer_code"] for c in joor.sandbox.connections() if c.get("customer_code")}
    known, unknown = sorted(set(ours) & on_joor), sorted(set(ours) - on_joor)
    assert "NEWC01" in unknown and known
    start_worker()

    # When the customers are pushed by the task
    first = push(celery_app, "tasks.customers.push_customers", joor.site_id)
    # Then they went as one bulk-connection job, each awaiting it
    [job] = joor.sandbox.bulk_jobs()
    job_id = job["bulk_connections_job_id"]
    assert sorted(r["customer_code"] for r in job["records"]) == ours
    assert first["counts"] == {"customer": {"awaiting": len(ours)}}, first
    rows = states(joor.site_id, "customer")
    assert {r.ticket for r in rows.values()} == {f"{job_id}/{code}" for code in ours}

    # When the next push comes (it polls the job first)
    calls = len(joor.sandbox.calls())
    second = push(celery_app, "tasks.customers.push_customers", joor.site_id)
    # Then the job was polled, and nothing sent again
    polled = joor.sandbox.calls()[calls:]
    assert ("GET", f"/v2/bulk-connection/{job_id}") in {(c["method"], c["path"].rstrip("/")) for c in polled}
    assert [c for c in polled if c["method"] != "GET"] == [] and len(joor.sandbox.bulk_jobs()) == 1
    # And the customers JOOR knows by code are accepted with their connection; the new ones are
    # "sent, awaiting JOOR", not failed
    assert second["counts"] == {"customer": {"accepted": len(known), "awaiting": len(unknown)}}, second
    rows = states(joor.site_id, "customer")
    connection = {c["customer_code"]: str(c["connection_id"]) for c in joor.sandbox.connections() if c["customer_code"]}
    assert {k: (r.outcome, r.partner_id) for k, r in rows.items() if k in known} == {
        k: ("accepted", connection[k]) for k in known
    }
    assert {k: (r.outcome, r.message) for k, r in rows.items() if k in unknown} == {
        k: ("awaiting", AWAITING_JOOR) for k in unknown
    }
    assert f"{len(unknown)} sent, awaiting JOOR" in cli("status").stdout

    # When JOOR Data Services match the new customer, and the next poll comes
    answer = requests.post(
        f"{joor.sandbox.control_url}/connections/approve", json={"customer_codes": ["NEWC01"]}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    [made] = answer.json()
    third = push(celery_app, "tasks.customers.poll_customers", joor.site_id)
    # Then it is recorded accepted, with its new connection; the others still await JOOR
    assert third["counts"] == {"customer": {"accepted": 1}}, third
    rows = states(joor.site_id, "customer")
    assert (rows["NEWC01"].outcome, rows["NEWC01"].partner_id) == ("accepted", str(made["connection_id"]))
    assert {k for k, r in rows.items() if r.outcome == "awaiting"} == set(unknown) - {"NEWC01"}
    assert [r.outcome for r in runs("poll_customers", joor.site_id)] == ["ok"]


def test_brandboom_customers_are_created_and_read_back(bb: Brandboom, start_worker: Any, celery_app: Any) -> None:
    world = bb.erp.world
    ours = {c["code"]: c for c in world.customers if c["division_code"] in ("WHSL", None)}
    assert bb.sandbox.customers() == []
    start_worker()

    # When the customers are pushed by the task
    first = push(celery_app, "tasks.customers.push_customers", bb.site_id)

    # Then Brandboom holds each of them once, by code, with its name, e-mail and addresses
    assert first["counts"] == {"customer": {"accepted": len(ours)}}, first
    held = {c["code"]: c for c in bb.sandbox.customers()}
    assert sorted(held) == sorted(ours) and len(bb.sandbox.customers()) == len(ours)
    addresses: dict[str, set[tuple[str, str | None]]] = {}
    for a in world.customer_addresses:
        addresses.setdefault(a["customer_code"], set()).add((a["line1"], a["postal_code"]))
    for code, customer in held.items():
        assert (customer["name"], customer.get("email")) == (ours[code]["name"], ours[code]["email"])
        assert {(a["address1"], a["zip"]) for a in customer["addresses"]} == addresses[code]
    assert {k: r.partner_id for k, r in states(bb.site_id, "customer").items()} == {
        code: str(c["id"]) for code, c in held.items()
    }
    # When pushed again with nothing changed: nothing sent
    asked = len(bb.requests)
    again = push(celery_app, "tasks.customers.push_customers", bb.site_id)
    assert again["counts"] == {"customer": {"unchanged": len(ours)}} and bb.requests[asked:] == []
