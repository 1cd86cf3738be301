"""eBay listings out (issue 17): the ERP's listing file loaded, the flagged records pushed to the eBay
sandbox over real HTTP (inventory items, a style's group, offers, publish), against a real Postgres.

Expected values come from what each test writes (its file rows, the ERP rows it read), and eBay's side
is read from the sandbox's own records (items, groups, offers, publishes), never from our client.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from bobbin.cli.main import app
from connectors.ebay import make_client
from connectors.ebay.settings import EbaySettings
from core.db import session_scope
from models import EbayListing, Inventory, SalesOrder, Site, Sku, StyleColor
from sandbox.ebay.demo import ebay_client_id, ebay_client_secret, ebay_refresh_token
from services import catalog as catalog_push
from services import ebay_listings, notify, status
from services.ebay_listings_load import load_ebay_listings
from services.erp_load import LoadError
from services.sites import update_settings

pytestmark = pytest.mark.integration

POLICIES = {
    "merchant_location_key": "harbor-wh-1",
    "fulfillment_policy_id": "6196932000",
    "payment_policy_id": "6196944000",
    "return_policy_id": "6196938000",
}
HEADER = [
    "Site",
    "SKU",
    "Format",
    "Duration",
    "Category 1",
    "Category 2",
    "Condition",
    "Title",
    "Description HTML",
    "Images",
    "Price",
    "Currency",
    "Update",
]
SWEATERS = "11484"  # an eBay category id (Men's sweaters): any digits do for the sandbox
TOPS = "53159"


def pics(sku: str, n: int = 2) -> str:
    return "|".join(f"https://img.harborandpine.example/{sku}/{i}.jpg" for i in range(1, n + 1))


@pytest.fixture()
def site_id(ebay_site: int) -> int:
    """The demo eBay site with the seller's location and business policies (a listing needs them)."""
    with session_scope() as s:
        site = s.get(Site, ebay_site)
        assert site is not None
        update_settings(s, site, {**(site.settings or {}), **POLICIES})
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 0  # ATS = on hand - allocated
    return ebay_site


@pytest.fixture()
def site_name(site_id: int) -> str:
    with session_scope() as s:
        site = s.get(Site, site_id)
        assert site is not None
        return site.name


@pytest.fixture()
def styles(site_id: int) -> dict[str, list[tuple[str, str, str]]]:
    """Demo styles with their SKUs (sku, colour name, size) in colour and size order: two colours
    or more first."""
    with session_scope() as s:
        rows = s.execute(
            select(Sku.style_number, Sku.sku, StyleColor.color_name, Sku.size)
            .join(
                StyleColor,
                (StyleColor.style_number == Sku.style_number) & (StyleColor.color_code == Sku.color_code),
            )
            .order_by(Sku.style_number, Sku.color_code, Sku.size_index)
        ).all()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for style, sku, color, size in rows:
        out.setdefault(style, []).append((sku, color, size))
    multi = {k: v for k, v in out.items() if len({c for _, c, _ in v}) >= 2 and len(v) >= 3}
    single = {k: v for k, v in out.items() if k not in multi}
    return {**multi, **single}


def ats(skus: Sequence[str]) -> dict[str, int]:
    """What the ERP's inventory rows say each SKU may sell (no open orders in these tests)."""
    with session_scope() as s:
        rows = s.execute(
            select(Inventory.sku, func.sum(func.greatest(Inventory.on_hand - Inventory.allocated, 0)))
            .where(Inventory.sku.in_(list(skus)))
            .group_by(Inventory.sku)
        ).all()
    found = {sku: int(q) for sku, q in rows}
    return {sku: found.get(sku, 0) for sku in skus}


def write_file(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([row.get(h, "") for h in HEADER])
    return path


def row(site: str, sku: str, **more: Any) -> dict[str, Any]:
    base = {
        "Site": site,
        "SKU": sku,
        "Category 1": SWEATERS,
        "Condition": "NEW",
        "Description HTML": f"<p>The <b>{sku}</b>, knitted in Maine.</p>",
        "Images": pics(sku),
        "Price": "94.00",
        "Currency": "USD",
    }
    base.update(more)
    return base


def load(path: Path) -> Any:
    with session_scope() as s:
        return load_ebay_listings(s, path)


def records(site_id: int) -> dict[str, EbayListing]:
    with session_scope() as s:
        return {r.sku: r for r in ebay_listings.listings(s, site_id)}


def flag_all(site_id: int) -> None:
    with session_scope() as s:
        s.execute(update(EbayListing).where(EbayListing.site_id == site_id).values(needs_update=True))


def offers_by_sku(ebay: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for offer in ebay.offers():
        out.setdefault(offer["sku"], []).append(offer)
    return out


@pytest.fixture()
def three_listings(
    site_id: int, site_name: str, styles: dict[str, list[tuple[str, str, str]]], tmp_path: Path
) -> tuple[list[str], str]:
    """A style's first three SKUs (two colours or more) and another style's one SKU, loaded."""
    group_style, *others = styles
    group = [sku for sku, _, _ in styles[group_style][:3]]
    single = styles[others[0]][0][0]
    rows = [row(site_name, sku, **{"Category 2": TOPS}) for sku in group]
    rows.append(row(site_name, single, Price="38.50", **{"Category 1": TOPS}))
    report = load(write_file(tmp_path / "listings.csv", rows))
    assert not report.problems and report.flagged == 4
    return group, single


# --- load, push, what eBay holds ------------------------------------------------------------------------
def test_load_then_push_lists_a_group_and_a_single_sku(
    ebay: Any, site_id: int, three_listings: tuple[list[str], str]
) -> None:
    group, single = three_listings
    result = ebay_listings.push_listings(site_id)

    assert sorted(result.accepted) == sorted([*group, single])
    assert not result.rejected and not result.kept_back
    items = {i["sku"]: i for i in ebay.inventory_items()}
    assert set(items) == {*group, single}
    for sku, quantity in ats([*group, single]).items():
        assert items[sku]["availability"]["shipToLocationAvailability"]["quantity"] == quantity
        assert items[sku]["product"]["imageUrls"] == pics(sku).split("|")
        assert items[sku]["condition"] == "NEW"
    (found,) = ebay.inventory_item_groups()
    assert sorted(found["variantSKUs"]) == sorted(group)
    assert {s["name"] for s in found["variesBy"]["specifications"]} <= {"Color", "Size"}
    offers = offers_by_sku(ebay)
    assert {sku: len(o) for sku, o in offers.items()} == dict.fromkeys([*group, single], 1)
    for sku in group:
        offer = offers[sku][0]
        assert offer["status"] == "PUBLISHED"
        assert (offer["format"], offer["listingDuration"], offer["categoryId"]) == ("FIXED_PRICE", "GTC", SWEATERS)
        assert offer["secondaryCategoryId"] == TOPS
        assert offer["pricingSummary"]["price"] == {"value": "94.00", "currency": "USD"}
        assert offer["listingPolicies"]["fulfillmentPolicyId"] == POLICIES["fulfillment_policy_id"]
        assert offer["merchantLocationKey"] == POLICIES["merchant_location_key"]
    assert offers[single][0]["pricingSummary"]["price"]["value"] == "38.50"
    publishes = ebay.publishes()
    assert len(publishes) == 2
    by_group = {p["inventoryItemGroupKey"]: p for p in publishes}
    assert sorted(by_group[found["inventoryItemGroupKey"]]["skus"]) == sorted(group)
    assert by_group[None]["skus"] == [single]

    saved = records(site_id)
    for sku in [*group, single]:
        rec = saved[sku]
        assert not rec.needs_update and rec.last_error is None and rec.published_at is not None
        assert rec.offer_id == offers[sku][0]["offerId"]
        assert rec.listing_id == offers[sku][0]["listing"]["listingId"]
    assert {saved[sku].group_key for sku in group} == {found["inventoryItemGroupKey"]}
    assert saved[single].group_key is None


def test_a_sku_ebay_refuses_keeps_its_flag_and_ebays_message_while_the_rest_go_through(
    ebay: Any, site_id: int, three_listings: tuple[list[str], str]
) -> None:
    group, single = three_listings
    # The seller grouped the single SKU in Seller Hub: eBay will not publish it as a listing of its own.
    seller_hub = make_client(
        ebay.url,
        {"client_id": ebay_client_id(), "client_secret": ebay_client_secret(), "refresh_token": ebay_refresh_token()},
        EbaySettings(),
    )
    seller_hub.put_inventory_item(single, {"product": {"title": "Made in Seller Hub"}, "condition": "NEW"})
    seller_hub.put_inventory_item_group(
        "SELLERHUB-1",
        {
            "title": "Seller Hub group",
            "variantSKUs": [single],
            "variesBy": {"specifications": [{"name": "Size", "values": ["M"]}]},
        },
    )
    seller_hub.close()

    result = ebay_listings.push_listings(site_id)

    assert sorted(result.accepted) == sorted(group)
    assert list(result.rejected) == [single]
    saved = records(site_id)
    refused = saved[single]
    assert refused.needs_update
    assert refused.last_error is not None and "errorId 25002" in refused.last_error
    assert "inventory item group" in refused.last_error
    assert refused.listing_id is None and refused.offer_id is not None  # the offer exists; publish is retried
    assert all(not saved[sku].needs_update for sku in group)
    with session_scope() as s:
        (problem,) = catalog_push.problems(s, site_id, ["listing"])
        assert problem["key"] == single and "errorId 25002" in problem["message"]
        shown = status.catalog_status(s, site_id)
        assert shown["rejected_by_kind"] == {"listing": 1}
        report = notify.new_errors_report(s, site_id)
        assert report is not None and [(c.kind, c.key) for c in report.catalog] == [("listing", single)]
    assert result.new_rejections == 1


# --- bad input -----------------------------------------------------------------------------------------------
def test_bad_listings_are_kept_back_each_with_its_problem_and_the_rest_go_through(
    ebay: Any, site_id: int, site_name: str, styles: dict[str, list[tuple[str, str, str]]], tmp_path: Path
) -> None:
    skus = [sku for per in list(styles.values())[1:6] for sku, _, _ in per[:1]]
    thirteen, no_category, zero, script, good = skus
    rows = [
        row(site_name, thirteen, Images=pics(thirteen, 13)),
        row(site_name, no_category, **{"Category 1": ""}),
        row(site_name, zero, Price="0"),
        row(
            site_name,
            script,
            **{
                "Description HTML": '<p onclick="steal()">Soft <b>merino</b><script>alert(document.cookie)</script>'
                '<a href="javascript:alert(1)">more</a></p>'
            },
        ),
        row(site_name, good),
    ]
    assert load(write_file(tmp_path / "bad.csv", rows)).flagged == 5

    result = ebay_listings.push_listings(site_id)

    assert result.kept_back[thirteen] == f"eBay takes at most 12 pictures; SKU {thirteen} has 13"
    assert "no eBay category" in result.kept_back[no_category]
    assert "price of 0.00" in result.kept_back[zero]
    assert sorted(result.accepted) == sorted([script, good])
    items = {i["sku"]: i for i in ebay.inventory_items()}
    assert set(items) == {script, good}  # nothing of the kept-back SKUs reached eBay
    sent = items[script]["product"]["description"]
    assert "<script" not in sent and "alert" not in sent and "onclick" not in sent and "javascript" not in sent
    assert "<b>merino</b>" in sent
    assert "script tag" in result.warnings[script]
    saved = records(site_id)
    for sku in (thirteen, no_category, zero):
        assert saved[sku].needs_update and saved[sku].last_error == result.kept_back[sku]
    assert saved[script].warning is not None and not saved[script].needs_update
    with session_scope() as s:
        assert sorted(p["key"] for p in catalog_push.problems(s, site_id, ["listing"])) == sorted(
            [thirteen, no_category, zero]
        )


def test_a_listing_file_with_an_unknown_sku_loads_nothing_and_names_the_row(
    site_id: int, site_name: str, styles: dict[str, list[tuple[str, str, str]]], tmp_path: Path
) -> None:
    known = next(iter(styles.values()))[0][0]
    path = write_file(
        tmp_path / "unknown.csv",
        [row(site_name, known), row(site_name, "NOSUCH"), row("no-such-site", known), row(site_name, known, Price="x")],
    )
    report = load(path)
    assert [(p.row, p.column) for p in report.problems] == [(3, "SKU"), (4, "Site"), (5, "SKU"), (5, "Price")]
    assert "unknown SKU NOSUCH" in report.problems[0].message
    assert "row 2 already" in report.problems[2].message
    assert records(site_id) == {}  # all or nothing
    printed = CliRunner().invoke(app, ["erp", "load", "ebay-listings", str(path)], env={"COLUMNS": "200"})
    assert printed.exit_code == 1
    assert "unknown SKU NOSUCH" in printed.output and "nothing was loaded" in printed.output
    with pytest.raises(LoadError):
        load(tmp_path / "missing.csv")


def test_loading_again_flags_only_what_changed(
    ebay: Any, site_id: int, site_name: str, three_listings: tuple[list[str], str], tmp_path: Path
) -> None:
    group, single = three_listings
    ebay_listings.push_listings(site_id)
    rows = [row(site_name, sku, **{"Category 2": TOPS}) for sku in group]
    rows.append(row(site_name, single, Price="36.00", **{"Category 1": TOPS}))
    printed = CliRunner().invoke(
        app, ["erp", "load", "ebay-listings", str(write_file(tmp_path / "again.csv", rows))], env={"COLUMNS": "200"}
    )
    assert printed.exit_code == 0, printed.output
    assert "0 new, 1 changed, 3 unchanged; 1 record flagged for the next push" in printed.output
    assert [sku for sku, rec in records(site_id).items() if rec.needs_update] == [single]


# --- re-runs, crashes, dry runs ------------------------------------------------------------------------
def test_pushing_again_updates_live_offers_and_publishes_nothing_twice(
    ebay: Any, site_id: int, site_name: str, three_listings: tuple[list[str], str]
) -> None:
    group, single = three_listings
    ebay_listings.push_listings(site_id)
    published = ebay.publishes()
    flag_all(site_id)
    runner = CliRunner()
    changed = runner.invoke(app, ["ebay", "set", site_name, single, "--price", "41.00"], env={"COLUMNS": "200"})
    assert changed.exit_code == 0, changed.output
    assert "flagged" in changed.output

    again = ebay_listings.push_listings(site_id)

    assert sorted(again.accepted) == sorted([*group, single])
    assert again.published == [] and sorted(again.already_live) == sorted([*group, single])
    assert ebay.publishes() == published
    offers = offers_by_sku(ebay)
    assert {sku: len(o) for sku, o in offers.items()} == dict.fromkeys([*group, single], 1)
    assert offers[single][0]["pricingSummary"]["price"]["value"] == "41.00"


def test_a_push_killed_mid_publish_is_resumed_without_a_second_offer_or_publish(
    ebay: Any, site_id: int, three_listings: tuple[list[str], str]
) -> None:
    from connectors.errors import RetryableError

    group, single = three_listings
    # eBay publishes the group, the answer never arrives (the connection is cut half-way).
    ebay.inject_fault(path="publish_by_inventory_item_group", truncate=True, count=1)
    with pytest.raises(RetryableError):
        ebay_listings.push_listings(site_id)
    assert len(ebay.publishes()) == 1
    assert all(records(site_id)[sku].needs_update for sku in group)

    resumed = ebay_listings.push_listings(site_id)

    assert sorted(resumed.accepted) == sorted([*group, single])
    publishes = ebay.publishes()
    assert len(publishes) == 2  # the group once (before the cut), the single SKU once
    assert sorted(s for p in publishes for s in p["skus"]) == sorted([*group, single])
    assert {sku: len(o) for sku, o in offers_by_sku(ebay).items()} == dict.fromkeys([*group, single], 1)
    saved = records(site_id)
    assert all(not saved[sku].needs_update and saved[sku].listing_id for sku in [*group, single])


def test_a_dry_run_sends_nothing(
    ebay: Any, site_id: int, site_name: str, three_listings: tuple[list[str], str]
) -> None:
    group, single = three_listings
    result = ebay_listings.push_listings(site_id, dry_run=True)
    assert ebay.calls() == [] and ebay.inventory_items() == [] and ebay.offers() == []
    assert all(rec.needs_update and rec.offer_id is None for rec in records(site_id).values())
    called = [c.call.split(" ")[0] + " " + c.call.split(" ")[1] for c in result.calls]
    assert called[0] == "POST sell/inventory/v1/bulk_create_or_replace_inventory_item"
    groups = [sorted(c.skus) for c in result.calls if c.call.startswith("PUT sell/inventory/v1/inventory_item_group/")]
    assert groups == [sorted(group)]
    printed = CliRunner().invoke(app, ["ebay", "push", site_name, "--dry-run"], env={"COLUMNS": "200"})
    assert printed.exit_code == 0, printed.output
    assert "Nothing was sent" in printed.output and ebay.calls() == []


def test_export_csv_writes_the_upload_layout_for_the_flagged_listings(
    site_id: int, site_name: str, three_listings: tuple[list[str], str], tmp_path: Path
) -> None:
    group, single = three_listings
    out = tmp_path / "upload.csv"
    printed = CliRunner().invoke(app, ["ebay", "export-csv", site_name, "-o", str(out)], env={"COLUMNS": "200"})
    assert printed.exit_code == 0, printed.output
    with out.open(encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    header = next(iter(lines[0]))
    assert header.startswith("*Action(SiteID=US")
    assert sorted(r["CustomLabel"] for r in lines) == sorted([*group, single])
    one = next(r for r in lines if r["CustomLabel"] == single)
    assert (one[header], one["*Format"], one["*Duration"], one["*StartPrice"]) == ("Add", "FixedPrice", "GTC", "38.50")
    assert one["PicURL"] == pics(single) and one["*ConditionID"] == "1000"


def test_cli_lists_and_edits_records(site_id: int, site_name: str, three_listings: tuple[list[str], str]) -> None:
    group, single = three_listings
    runner = CliRunner()
    shown = runner.invoke(app, ["ebay", "listings", site_name], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert all(sku in shown.output for sku in [*group, single]) and "4 flagged" in shown.output
    edited = runner.invoke(
        app,
        ["ebay", "set", site_name, single, "--category1", "", "--no-flag", "--json"],
        env={"COLUMNS": "200"},
    )
    assert edited.exit_code == 0, edited.output
    rec = records(site_id)[single]
    assert rec.category1 is None and not rec.needs_update
    assert '"problems"' in edited.output and "no eBay category" in edited.output
    unknown = runner.invoke(app, ["ebay", "set", site_name, "NOSUCH", "--price", "1"], env={"COLUMNS": "200"})
    assert unknown.exit_code == 1 and "unknown SKU NOSUCH" in unknown.output
    assert records(site_id)[group[0]].price == Decimal("94.00")


# --- through a worker -----------------------------------------------------------------------------------------
def test_the_task_pushes_through_a_worker_and_emails_the_refusals(
    ebay: Any,
    site_id: int,
    site_name: str,
    three_listings: tuple[list[str], str],
    smtp: Any,
    start_worker: Any,
    celery_app: Any,
) -> None:
    group, single = three_listings
    with session_scope() as s:  # one record eBay cannot list: no category
        s.execute(update(EbayListing).where(EbayListing.sku == single).values(category1=None))
    start_worker()

    summary = celery_app.send_task("tasks.ebay.push_listings", args=[site_id]).get(timeout=120)

    assert (summary["accepted"], summary["kept_back"], summary["new_rejections"]) == (3, 1, 1), summary
    assert sorted(o["sku"] for o in ebay.offers()) == sorted(group)
    shown = CliRunner().invoke(app, ["status"], env={"COLUMNS": "220"}).stdout
    assert "1 catalog item(s) refused by eBay" in shown and f"listing {single}:" in shown
    [mail] = smtp.wait_for(1)
    assert "1 catalog item refused by eBay" in mail["Subject"]
    body = mail.get_payload()[0].get_payload(decode=True).decode()
    assert f"Listing {single}" in body and "no eBay category" in body and f"bobbin ebay push {site_name}" in body


def test_a_site_without_location_and_policies_is_told_so_and_nothing_is_sent(
    ebay: Any, ebay_site: int, three_listings: tuple[list[str], str]
) -> None:
    with session_scope() as s:
        site = s.get(Site, ebay_site)
        assert site is not None
        update_settings(s, site, {"payment_policy_id": None})
    from services.sites import SiteError

    with pytest.raises(SiteError, match="has no payment_policy_id.*bobbin sites set ebay-demo payment_policy_id="):
        ebay_listings.push_listings(ebay_site)
    assert ebay.calls() == []
    assert ebay_listings.push_listings(ebay_site, dry_run=True).notes  # the dry run says it too
