"""The catalog push's mechanism on real parts: Postgres, the toy partner's server over HTTP
(``tests/toy_partner``: products keyed by its own ids, images, linesheets), a real SMTP server and
a real worker. What the partner holds after a push is read back from its server; what was sent,
from the server's record of each call.

The demo brand's 40 styles go to the toy partner in batches of 5 (its capability says so).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from bobbin.demo import build_world, load_erp
from connectors.errors import RetryableError
from connectors.registry import registered
from core.db import session_scope
from models import CatalogPushState, CatalogRemoval, Site, Sku, StyleImage, StylePrice, SyncRun
from services import catalog, notify
from services.sites import create_site
from services.status import site_overview, site_status
from tests.integration.conftest import Inbox, wait_until
from tests.toy_partner import SPEC
from tests.toy_partner.server import TOKEN, ToyServer

pytestmark = pytest.mark.integration

STYLES = 40  # the demo brand's styles, all in the toy site's division
BATCH = 5  # the toy partner's batch_styles


@dataclass
class Toy:
    server: ToyServer
    site_id: int
    world: Any

    @property
    def numbers(self) -> list[str]:
        return sorted(s["number"] for s in self.world.styles)

    def sent(self, since: int = 0) -> list[str]:
        """The style numbers of every POST /products from call ``since`` on, in order."""
        return [n for call in self.server.product_calls[since:] for n in call]

    def products_of(self, number: str) -> list[dict[str, Any]]:
        return [p for p in self.server.products.values() if p.get("style") == number]


@pytest.fixture()
def toy(db: str) -> Iterator[Toy]:
    world = build_world()
    server = ToyServer(known_skus={row["sku"] for row in world.skus})
    with session_scope() as s:
        load_erp(s, world)
    try:
        with registered(SPEC):
            with session_scope() as s:
                site = create_site(
                    s,
                    name="toy-shop",
                    kind="toy",
                    base_url=server.url,
                    credentials={"token": TOKEN},
                    division=world.divisions[0]["code"],
                    notify_emails=["ops@example.com"],
                    settings={"default_warehouse": world.warehouses[0]["code"]},
                )
                site_id = site.id
            yield Toy(server, site_id, world)
    finally:
        server.stop()


def set_setting(site_id: int, **values: Any) -> None:
    with session_scope() as s:
        site = s.get_one(Site, site_id)
        site.settings = {**site.settings, **values}


def set_price(style: str, price: str, price_type: str = "WHL") -> None:
    with session_scope() as s:
        s.execute(
            update(StylePrice)
            .where(StylePrice.style_number == style, StylePrice.price_type_code == price_type)
            .values(price=Decimal(price))
        )


def set_active(style: str, active: bool) -> None:
    with session_scope() as s:
        s.execute(text("UPDATE style SET active = :a WHERE number = :n"), {"a": active, "n": style})


def states(site_id: int, kind: str = "style") -> dict[str, CatalogPushState]:
    with session_scope() as s:
        rows = s.scalars(
            select(CatalogPushState).where(CatalogPushState.site_id == site_id, CatalogPushState.kind == kind)
        )
        return {r.key: r for r in rows}


def fault_after(server: ToyServer, kind: str, done: int, status: int = 503) -> Any:
    """A progress callback that makes the partner fail the next POST /products once ``done``
    items of ``kind`` are settled (the push then stops there, as a partner going down would)."""

    def progress(seen: str, settled: int, total: int) -> None:
        if seen == kind and settled == done:
            server.faults.append(("POST /products", status))

    return progress


# --- diff --------------------------------------------------------------------------------------


def test_the_first_push_sends_all_the_next_nothing_and_a_changed_price_one_style(toy: Toy) -> None:
    # When the catalog is pushed the first time
    first = catalog.push_catalog(toy.site_id)
    # Then every style went once, in batches of 5, with its images and the linesheet
    assert sorted(toy.sent()) == toy.numbers and all(len(c) <= BATCH for c in toy.server.product_calls)
    assert first.counts["style"] == {"accepted": STYLES}, first.summary()
    assert first.counts["image"] == {"accepted": 2} and first.counts["linesheet"] == {"accepted": 1}
    assert len(toy.server.products) == STYLES and all(len(toy.products_of(n)) == 1 for n in toy.numbers)
    [sheet] = toy.server.linesheets.values()
    on_sheet = [s["number"] for s in toy.world.styles if s["season"] == "FA26"]
    assert [toy.server.products[p]["style"] for p in sheet["products"]] == on_sheet
    pictured = toy.world.styles[0]["number"]  # the demo's two images are of its first style
    assert {i["product"] for i in toy.server.images.values()} == {toy.products_of(pictured)[0]["id"]}
    recorded = states(toy.site_id)
    assert all(r.outcome == "accepted" and r.partner_id for r in recorded.values()) and len(recorded) == STYLES
    with session_scope() as s:
        run = s.get_one(SyncRun, first.run_id)
        assert (run.task, run.outcome, run.counts["accepted"]) == ("push_catalog", "ok", STYLES + 3)

    # When it is pushed again with nothing changed in the ERP
    calls = len(toy.server.product_calls)
    again = catalog.push_catalog(toy.site_id)
    # Then nothing is sent
    assert again.sent == 0 and len(toy.server.product_calls) == calls
    assert again.counts["style"] == {"unchanged": STYLES} and again.counts["image"] == {"unchanged": 2}

    # When one style's wholesale price changes
    changed = toy.numbers[7]
    set_price(changed, "123.45")
    third = catalog.push_catalog(toy.site_id)
    # Then exactly that style goes, as an update of the product it already is there
    assert toy.sent(calls) == [changed] and third.sent == 1
    [product] = toy.products_of(changed)
    assert {p["wholesale"] for p in product["prices"] if p["type"] == "WHL"} == {"123.45"}
    assert product["id"] == recorded[changed].partner_id and len(toy.server.products) == STYLES


# --- resume ------------------------------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True], ids=["normal", "full"])
def test_a_push_interrupted_after_two_batches_resumes_and_sends_only_the_rest(toy: Toy, full: bool) -> None:
    # Given the partner goes down once two batches are through
    with pytest.raises(RetryableError):
        catalog.push_catalog(toy.site_id, full=full, progress=fault_after(toy.server, "style", 2 * BATCH))
    first = toy.sent()
    assert len(first) == 2 * BATCH
    with session_scope() as s:
        run = s.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and run.outcome == "failed" and run.counts["accepted"] == 2 * BATCH
    assert sorted(k for k, r in states(toy.site_id).items() if r.outcome == "accepted") == sorted(first)

    # When the push runs again, the same way
    result = catalog.push_catalog(toy.site_id, full=full)
    # Then it sends exactly the rest, and the partner holds each style once
    rest = toy.sent(2)
    assert not set(rest) & set(first) and sorted(first + rest) == toy.numbers
    assert result.counts["style"]["accepted"] == STYLES - 2 * BATCH
    assert len(toy.server.products) == STYLES and all(len(toy.products_of(n)) == 1 for n in toy.numbers)


# --- rejections --------------------------------------------------------------------------------


def test_refused_items_are_problem_rows_in_status_and_the_email_and_go_again(toy: Toy, smtp: Inbox) -> None:
    # Given a style the partner refuses (a price of 0) and one its check keeps back (a SKU without UPC)
    refused, unsendable = toy.numbers[3], toy.numbers[5]
    set_price(refused, "0")
    with session_scope() as s:
        sku = s.scalars(select(Sku).where(Sku.style_number == unsendable).order_by(Sku.sku)).first()
        assert sku is not None
        sku_id, upc = sku.sku, sku.upc
        sku.upc = None
    # When the catalog is pushed
    result = catalog.push_catalog(toy.site_id)
    # Then both are rejected rows with the reason, the other 38 went, the unsendable one was never sent
    assert result.counts["style"] == {"accepted": STYLES - 2, "rejected": 2} and result.new_rejections == 2
    assert refused in toy.sent() and unsendable not in toy.sent()
    rows = states(toy.site_id)
    assert rows[refused].outcome == "rejected" and rows[refused].message == "wholesale price must be greater than 0"
    assert rows[unsendable].outcome == "rejected" and f"SKU {sku_id} has no UPC" in (rows[unsendable].message or "")

    # And `bobbin status` (and the dashboard, from the same service) shows them
    with session_scope() as s:
        site = s.get_one(Site, toy.site_id)
        shown = site_status(s, site)["catalog"]
        overview = site_overview(s, site)
    assert shown["rejected"] == 2 and {r["key"] for r in shown["rejected_rows"]} == {refused, unsendable}
    assert overview["last_catalog_push"]["counts"]["rejected"] == 2
    from bobbin.cli.main import app

    printed = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert printed.exit_code == 0, printed.output
    assert "2 catalog item(s) refused by Toy" in printed.stdout and "wholesale price must be greater" in printed.stdout

    # And the error e-mail has a section for them, with the partner's message and what to do
    with session_scope() as s:
        sent = notify.send_error_report(s, toy.site_id)
    assert sent["sent"] is True and sent["catalog_items"] == 2
    [mail] = smtp.wait_for(1)
    assert mail["Subject"] == '[Bobbin] Toy "toy-shop": 2 catalog items refused by Toy'
    body = mail.get_payload()[0].get_payload(decode=True).decode()
    html = mail.get_payload()[1].get_payload(decode=True).decode()
    assert "Catalog items Toy refused (2)" in body and f"Style {refused}" in body
    assert "Why: wholesale price must be greater than 0" in body
    assert "bobbin catalog push toy-shop" in body and "Resolution:" in body
    assert "Catalog items Toy refused (2)" in html and "wholesale price must be greater than 0" in html
    # ... once: the next report has nothing new
    with session_scope() as s:
        assert notify.send_error_report(s, toy.site_id) == {"sent": False, "reason": "nothing new"}

    # When the ERP is fixed, the next push sends exactly those two, and they are no longer problems
    set_price(refused, "55.00")
    with session_scope() as s:
        s.execute(update(Sku).where(Sku.sku == sku_id).values(upc=upc))
    calls = len(toy.server.product_calls)
    fixed = catalog.push_catalog(toy.site_id)
    assert sorted(toy.sent(calls)) == sorted([refused, unsendable])
    assert fixed.counts["style"] == {"accepted": 2, "unchanged": STYLES - 2}
    with session_scope() as s:
        assert site_status(s, s.get_one(Site, toy.site_id))["catalog"]["rejected"] == 0


def test_a_refusal_after_an_acceptance_is_news_again(toy: Toy) -> None:
    number = toy.numbers[0]
    catalog.push_catalog(toy.site_id)
    set_price(number, "0")
    catalog.push_catalog(toy.site_id)
    with session_scope() as s:
        [row] = catalog.problems(s, toy.site_id, unreported=True)
        catalog.mark_reported(s, [row["id"]])
    # The same refusal again: still reported; after an acceptance, a new refusal is unreported again
    catalog.push_catalog(toy.site_id)
    with session_scope() as s:
        assert catalog.problems(s, toy.site_id, unreported=True) == []
    set_price(number, "10.00")
    catalog.push_catalog(toy.site_id)
    set_price(number, "0")
    catalog.push_catalog(toy.site_id)
    with session_scope() as s:
        assert [r["key"] for r in catalog.problems(s, toy.site_id, unreported=True)] == [number]


# --- removal -----------------------------------------------------------------------------------


def test_an_inactive_style_is_removed_only_as_the_site_says_and_each_removal_is_recorded(toy: Toy) -> None:
    catalog.push_catalog(toy.site_id)
    gone, deleted = toy.numbers[2], toy.numbers[9]
    partner_id = states(toy.site_id)[gone].partner_id
    set_active(gone, False)

    # By default (catalog_inactive=keep) the partner keeps it, and the run says so
    kept = catalog.push_catalog(toy.site_id)
    assert toy.server.removals == [] and toy.server.products[partner_id]["active"] is True
    assert any("stay on Toy (catalog_inactive=keep)" in n for n in kept.notes)

    # With catalog_inactive=deactivate it is deactivated there, once, and recorded with what it was
    set_setting(toy.site_id, catalog_inactive="deactivate")
    done = catalog.push_catalog(toy.site_id)
    assert toy.server.removals == [(partner_id, "deactivate")] and toy.server.products[partner_id]["active"] is False
    assert done.counts["style"]["removed"] == 1
    assert done.removed == [{"style": gone, "partner_id": partner_id, "action": "deactivate"}]
    with session_scope() as s:
        [removal] = s.scalars(select(CatalogRemoval)).all()
        assert (removal.style_number, removal.partner_id, removal.action, removal.outcome) == (
            gone,
            partner_id,
            "deactivate",
            "removed",
        )
        assert removal.snapshot["description"] and removal.snapshot["colors"][0]["skus"]
        assert removal.run_id == done.run_id
    assert states(toy.site_id)[gone].outcome == "removed"
    catalog.push_catalog(toy.site_id)
    assert len(toy.server.removals) == 1

    # Active again, it is sent again as the same product
    set_active(gone, True)
    calls = len(toy.server.product_calls)
    catalog.push_catalog(toy.site_id)
    assert toy.sent(calls) == [gone] and toy.server.products[partner_id]["active"] is True

    # With catalog_inactive=remove the product is deleted there; active again, it is created anew
    set_setting(toy.site_id, catalog_inactive="remove")
    other_id = states(toy.site_id)[deleted].partner_id
    set_active(deleted, False)
    catalog.push_catalog(toy.site_id)
    assert toy.server.removals[-1] == (other_id, "remove") and other_id not in toy.server.products
    assert states(toy.site_id)[deleted].partner_id is None
    set_active(deleted, True)
    catalog.push_catalog(toy.site_id)
    [again] = toy.products_of(deleted)
    assert again["id"] != other_id and states(toy.site_id)[deleted].partner_id == again["id"]


# --- matching ----------------------------------------------------------------------------------


def test_products_made_on_the_partner_by_hand_are_matched_never_duplicated(toy: Toy) -> None:
    by_number, by_upc, by_map, twice = toy.numbers[0], toy.numbers[1], toy.numbers[2], toy.numbers[3]
    with session_scope() as s:
        upc = s.scalars(select(Sku.upc).where(Sku.style_number == by_upc).order_by(Sku.sku)).first()
    p_number = toy.server.add_product(by_number, "made by hand")
    p_upc = toy.server.add_product(None, "made by hand, no number", upcs=[str(upc)])
    p_map = toy.server.add_product("OLD-123", "an old number")
    p_twice = [toy.server.add_product(twice, "one"), toy.server.add_product(twice, "two")]
    from bobbin.cli.main import app

    runner = CliRunner()
    mapped = runner.invoke(app, ["map", "style", "toy-shop", p_map, by_map])
    assert mapped.exit_code == 0, mapped.output
    wrong = runner.invoke(app, ["map", "style", "toy-shop", "P9", "NO-SUCH-STYLE"])
    assert wrong.exit_code == 1 and "not an ERP style number" in wrong.output

    # When the catalog is pushed
    result = catalog.push_catalog(toy.site_id)
    # Then the three are updated in place, and the style two products claim is kept back, naming both
    assert {(m["style"], m["partner_id"], m["by"]) for m in result.matched} == {
        (by_number, p_number, "style number"),
        (by_upc, p_upc, "upc"),
        (by_map, p_map, "mapping"),
    }
    rows = states(toy.site_id)
    assert rows[twice].outcome == "rejected" and all(p in (rows[twice].message or "") for p in p_twice)
    assert twice not in toy.sent()
    assert toy.server.products[p_number]["style"] == by_number and toy.server.products[p_upc]["style"] == by_upc
    assert toy.server.products[p_map]["style"] == by_map
    assert len(toy.server.products) == 5 + STYLES - 4  # nothing duplicated
    assert (rows[by_upc].partner_id, rows[by_upc].matched_by) == (p_upc, "upc")

    # When a person picks one of the two, the next push updates it
    assert runner.invoke(app, ["map", "style", "toy-shop", p_twice[1], twice]).exit_code == 0
    catalog.push_catalog(toy.site_id)
    assert toy.server.products[p_twice[1]]["style"] == twice and states(toy.site_id)[twice].partner_id == p_twice[1]
    assert len(toy.server.products) == 5 + STYLES - 4


# --- dry run -----------------------------------------------------------------------------------


def table_counts() -> tuple[int, int, int]:
    with session_scope() as s:
        return (
            int(s.scalar(select(func.count()).select_from(CatalogPushState)) or 0),
            int(s.scalar(select(func.count()).select_from(SyncRun)) or 0),
            int(s.scalar(select(func.count()).select_from(CatalogRemoval)) or 0),
        )


def test_a_dry_run_writes_nothing_and_calls_nothing_that_writes(toy: Toy) -> None:
    toy.server.add_product(toy.numbers[0], "made by hand")
    # When a dry run is asked for
    plan = catalog.push_catalog(toy.site_id, dry_run=True)
    # Then it says what would go, and nothing was recorded or written on the partner
    assert plan.dry_run and plan.counts["style"] == {"to send": STYLES}
    assert plan.counts["image"] == {"to send": 2} and plan.counts["linesheet"] == {"to send": 1}
    assert plan.matched == [{"style": toy.numbers[0], "partner_id": "P0001", "by": "style number"}]
    assert table_counts() == (0, 0, 0)
    assert toy.server.calls == ["GET /products"]  # the products there, to match: a read

    # After a push, a dry run of a removal says so and still touches nothing
    catalog.push_catalog(toy.site_id)
    set_setting(toy.site_id, catalog_inactive="deactivate")
    set_active(toy.numbers[4], False)
    before, calls = table_counts(), list(toy.server.calls)
    plan = catalog.push_catalog(toy.site_id, dry_run=True)
    assert plan.counts["style"] == {"to remove": 1, "unchanged": STYLES - 1}
    assert table_counts() == before and toy.server.calls == calls and toy.server.removals == []


# --- images ------------------------------------------------------------------------------------


def test_image_files_are_hashed_a_missing_one_is_a_problem_row_and_a_changed_one_goes_again(
    toy: Toy, tmp_path: Path
) -> None:
    number = toy.numbers[0]
    with session_scope() as s:
        color = s.scalars(
            text("SELECT color_code FROM style_color WHERE style_number = :n ORDER BY id"), {"n": number}
        ).first()
        for position, name in ((2, "back.jpg"), (3, "missing.jpg")):
            s.add(StyleImage(style_number=number, kind="style", source=name, folder=str(tmp_path), position=position))
        s.add(
            StyleImage(
                style_number=number, color_code=color, kind="swatch", source="sw.png", folder=str(tmp_path), position=1
            )
        )
    (tmp_path / "back.jpg").write_bytes(b"a jpeg")
    (tmp_path / "sw.png").write_bytes(b"a png")

    result = catalog.push_catalog(toy.site_id)
    assert result.counts["image"] == {"accepted": 4, "rejected": 1}
    back = toy.server.images[f"{number}//style/2"]
    assert back["sha256"] == hashlib.sha256(b"a jpeg").hexdigest() and back["url"] is None
    [problem] = [r for r in result.rejected if r["kind"] == "image"]
    assert problem["key"] == f"{number}//style/3" and "missing.jpg" in problem["message"]
    assert "is missing from" in problem["message"]

    # A file whose bytes change is sent again; the others are not
    (tmp_path / "back.jpg").write_bytes(b"another jpeg")
    again = catalog.push_catalog(toy.site_id)
    assert again.counts["image"]["accepted"] == 1 and again.counts["image"]["rejected"] == 1
    assert toy.server.images[f"{number}//style/2"]["sha256"] == hashlib.sha256(b"another jpeg").hexdigest()


# --- the CLI and the task ----------------------------------------------------------------------


def json_out(stdout: str) -> Any:
    return json.loads(stdout[stdout.index("{") if stdout.startswith("{") else stdout.index("\n{") + 1 :])


def test_the_cli_shows_a_plan_pushes_with_a_summary_and_lists_problems(toy: Toy) -> None:
    from bobbin.cli.main import app

    runner = CliRunner()
    plan = runner.invoke(app, ["catalog", "push", "toy-shop", "--dry-run"], env={"COLUMNS": "200"})
    assert plan.exit_code == 0, plan.output
    assert "Would push to toy-shop (Toy)" in plan.stdout and "Nothing was sent or recorded." in plan.stdout
    assert toy.server.product_calls == []

    set_price(toy.numbers[1], "0")
    pushed = runner.invoke(app, ["catalog", "push", "toy-shop"], env={"COLUMNS": "200"})
    assert pushed.exit_code == 0, pushed.output
    assert "Pushed to toy-shop (Toy)" in pushed.stdout and "Toy refused" in pushed.stdout
    assert "wholesale price must be greater than 0" in pushed.stdout
    assert "Accepted" in pushed.stdout and "Unchanged" in pushed.stdout

    full = runner.invoke(app, ["catalog", "push", "toy-shop", "--full", "--json"])
    assert full.exit_code == 0, full.output
    summary = json_out(full.stdout)
    assert summary["counts"]["style"] == {"accepted": STYLES - 1, "rejected": 1} and summary["full"] is True

    listed = runner.invoke(app, ["catalog", "problems", "toy-shop", "--json"])
    assert [p["key"] for p in json_out(listed.stdout)["problems"]] == [toy.numbers[1]]
    table = runner.invoke(app, ["catalog", "problems", "toy-shop"], env={"COLUMNS": "200"})
    assert "wholesale price must be greater than 0" in table.stdout and "bobbin catalog push toy-shop" in table.stdout


def test_a_site_whose_partner_takes_no_catalog_is_told_so_in_one_line(toy: Toy) -> None:
    from bobbin.cli.main import app

    with session_scope() as s:
        s.execute(update(Site).where(Site.id == toy.site_id).values(kind="brandboom-old"))
    out = CliRunner().invoke(app, ["catalog", "push", "toy-shop"])
    assert out.exit_code == 1 and "no partner kind 'brandboom-old'" in out.output


@pytest.fixture()
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    return {**worker_env, "BOBBIN_PARTNERS": "toy=tests.toy_partner"}


def test_the_task_pushes_through_a_real_worker_and_writes_a_sync_run(
    toy: Toy, start_worker: Any, celery_app: Any
) -> None:
    start_worker()
    async_result = celery_app.send_task("tasks.catalog.push_catalog", args=[toy.site_id])
    summary = async_result.get(timeout=120)
    assert summary["counts"]["style"] == {"accepted": STYLES} and summary["full"] is False
    assert sorted(toy.sent()) == toy.numbers
    with session_scope() as s:
        run = s.get_one(SyncRun, summary["run_id"])
        assert (run.task, run.outcome, run.celery_task_id) == ("push_catalog", "ok", async_result.id)
        assert run.counts["counts"]["style"]["accepted"] == STYLES
    wait_until(lambda: len(states(toy.site_id)) == STYLES, what="push state")


def test_a_scheduled_catalog_push_is_in_the_beat_schedule_only_when_the_site_asks(toy: Toy) -> None:
    from core.settings import get_settings
    from schedules import active_sites, build_schedule

    assert not any(n.startswith("push-catalog") for n in build_schedule(active_sites(), get_settings()))
    set_setting(toy.site_id, catalog_push_minutes=60, customers_push_minutes=120)
    schedule = build_schedule(active_sites(), get_settings())
    entry = schedule["push-catalog:toy-shop"]
    assert entry["task"] == "tasks.catalog.push_catalog" and entry["args"] == (toy.site_id,)
    assert entry["schedule"].total_seconds() == 3600
    assert schedule["push-customers:toy-shop"]["task"] == "tasks.customers.push_customers"


# --- the console -------------------------------------------------------------------------------


@pytest.fixture()
def web(pg_url: str, redis_url: str) -> Iterator[Any]:
    from tests.console_app import Served

    served = Served().start()
    yield served
    served.stop()


def test_the_dashboard_shows_the_last_push_and_refusals_and_queues_a_push(toy: Toy, web: Any, celery_app: Any) -> None:
    from tests.console_app import actions, add_user, hidden, queued, sign_in

    # Given a push that left one style refused
    set_price(toy.numbers[1], "0")
    catalog.push_catalog(toy.site_id)
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    # When the dashboard is opened
    page = client.get(f"{web.url}/", timeout=10)
    # Then it shows the last catalog push, the refused item with the partner's words, and the buttons
    assert page.status_code == 200
    assert "Catalog push" in page.text and f"{STYLES - 1 + 3} accepted" in page.text and "1 refused" in page.text
    assert "Toy refused 1 catalog item" in page.text and "wholesale price must be greater than 0" in page.text
    assert "Push catalog" in page.text and "Push customers" in page.text
    # When "Push catalog" is pressed, the task is queued with the site's id, and who asked is recorded
    token = hidden(page.text)
    answer = client.post(f"{web.url}/sites/{toy.site_id}/push-catalog", data={"csrf_token": token}, timeout=10)
    assert "A catalog push of toy-shop is queued." in answer.text
    [message] = queued(celery_app.conf.broker_url)
    assert (message["task"], message["args"]) == ("tasks.catalog.push_catalog", [toy.site_id])
    [action] = actions("push-catalog")
    assert action["actor"] == "olivia" and action["detail"]["task_id"] == message["id"]
