"""The `bobbin` command line against the real Postgres: what operations staff type, and what they read.

Each test seeds the ERP with the demo brand (small), holds Brandboom orders the way an import
would (``stage_page`` + ``validate_and_import``), then runs commands through typer's CliRunner.
Written given / when / then; the output is read as a person reads it (and as JSON as a script
reads it).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bobbin import demo
from bobbin.cli.main import app

pytestmark = pytest.mark.integration

SITE = "bb"
PUBLIC_KEY = "5A1B2C3D4E5F60718293A4B5C6D7E8F9"
SECRET_KEY = "F0E1D2C3B4A5968778695A4B3C2D1E0F"
# Wide enough that no table wraps a value the assertions look for.
WIDE = {"COLUMNS": "200"}


class _CurrentStderr:
    """sys.stderr as it is at write time (CliRunner swaps it per command)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def cli_logging() -> Iterator[None]:
    """Logs as `bobbin` (main()) sets them up: warnings only, on stderr, so stdout stays clean JSON.
    The previous configuration is restored afterwards."""
    import structlog

    from core.logging import configure

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure(level="WARNING", fmt="console", stream=_CurrentStderr())
    structlog.configure(cache_logger_on_first_use=False)  # nothing keeps this configuration after the test
    yield
    structlog.reset_defaults()
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world(styles=5, customers=5)


def bobbin(*args: str, env: dict[str, str] | None = None) -> Any:
    """Run one command; return CliRunner's result (``.exit_code``, ``.stdout``, ``.stderr``)."""
    return CliRunner().invoke(app, list(args), env={**WIDE, **(env or {})})


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def load_world(world: demo.DemoWorld) -> None:
    from core.db import session_scope

    with session_scope() as s:
        demo.load_erp(s, world)


def hold_orders(world: demo.DemoWorld, base_url: str = "http://127.0.0.1:9/api/v2") -> dict[str, Any]:
    """The ERP, a Brandboom site with the brand's mappings, and every "export" order held and
    validated (the valid ones imported), as an import run leaves them."""
    from connectors.brandboom.mapper import to_partner_order
    from core.db import session_scope
    from models import InboundOrder, Mapping
    from services.holding import stage_page
    from services.pipeline import validate_and_import
    from services.sites import create_site

    with session_scope() as s:
        demo.load_erp(s, world)
        site = create_site(
            s,
            name=SITE,
            kind="brandboom",
            base_url=base_url,
            credentials={"public_key": PUBLIC_KEY, "secret_key": SECRET_KEY},
            division="WHSL",
            notify_emails=["ops@harborandpine.example"],
        )
        s.flush()
        s.add_all([Mapping(site_id=site.id, **m) for m in demo.demo_mappings()])
        site_id = site.id
    with session_scope() as s:
        stage_page(s, site_id, [to_partner_order(o) for o in world.brandboom_orders if o["status"] == "export"])
    validate_and_import(site_id)
    with session_scope() as s:
        ids = dict(
            s.execute(
                select(InboundOrder.partner_order_id, InboundOrder.id).where(InboundOrder.site_id == site_id)
            ).all()
        )
    return {"site_id": site_id, "ids": {int(k): v for k, v in ids.items()}}


@pytest.fixture()
def held(db: str, world: demo.DemoWorld) -> dict[str, Any]:
    return hold_orders(world)


def state_of(order_id: int) -> str:
    from core.db import session_scope
    from models import InboundOrder

    with session_scope() as s:
        return s.scalar(select(InboundOrder.state).where(InboundOrder.id == order_id))  # type: ignore[return-value]


# --- sites ---------------------------------------------------------------------------------------


def test_sites_add_takes_credentials_from_env_masks_them_and_stores_them_encrypted(
    db: str, world: demo.DemoWorld
) -> None:
    from core import crypto
    from core.db import session_scope
    from models import Site

    # given the ERP's divisions and warehouses
    load_world(world)
    # when a site is added with the credentials in the environment
    result = bobbin(
        "sites",
        "add",
        "shop",
        "--kind",
        "brandboom",
        "--url",
        "http://127.0.0.1:9/api/v2",
        "--division",
        "WHSL",
        "--notify",
        "a@x.com",
        "--notify",
        "b@y.com",
        "--setting",
        "default_warehouse=MAIN",
        "--setting",
        "import_statuses=export,processing",
        env={"BOBBIN_CRED_PUBLIC_KEY": PUBLIC_KEY, "BOBBIN_CRED_SECRET_KEY": SECRET_KEY},
    )
    # then the site is shown with its credentials masked, never in clear
    assert result.exit_code == 0, result.output
    assert "Added site shop" in result.stdout
    assert "****" + SECRET_KEY[-4:] in result.stdout and "****" + PUBLIC_KEY[-4:] in result.stdout
    assert SECRET_KEY not in result.output and PUBLIC_KEY not in result.output
    # and the database holds a ciphertext that decrypts to them
    with session_scope() as s:
        site = s.scalar(select(Site).where(Site.name == "shop"))
        assert site is not None
        assert SECRET_KEY not in site.credentials_encrypted and PUBLIC_KEY not in site.credentials_encrypted
        assert crypto.decrypt_json(site.credentials_encrypted) == {"public_key": PUBLIC_KEY, "secret_key": SECRET_KEY}
        assert site.settings == {"default_warehouse": "MAIN", "import_statuses": ["export", "processing"]}

    # when the sites are listed as JSON
    listed = bobbin("sites", "list", "--json")
    data = as_json(listed)
    # then each has the stable keys, and no credentials at all
    assert SECRET_KEY not in listed.output
    [shop] = data["sites"]
    assert {"id", "name", "kind", "url", "division", "active", "notify", "schedule", "last_import"} <= shop.keys()
    assert shop["name"] == "shop" and shop["kind"] == "brandboom" and shop["division"] == "WHSL"
    assert shop["notify"] == ["a@x.com", "b@y.com"] and shop["active"] is True and shop["last_import"] is None
    assert "credentials" not in shop

    # and pause / resume flip the active flag
    assert bobbin("sites", "pause", "shop").exit_code == 0
    assert as_json(bobbin("sites", "show", "shop", "--json"))["active"] is False
    assert bobbin("sites", "resume", "shop").exit_code == 0
    shown = as_json(bobbin("sites", "show", "shop", "--json"))
    assert shown["active"] is True and shown["credentials"] == {
        "public_key": "****" + PUBLIC_KEY[-4:],
        "secret_key": "****" + SECRET_KEY[-4:],
    }


def test_sites_add_reports_a_wrong_division_before_asking_for_secrets(db: str, world: demo.DemoWorld) -> None:
    load_world(world)
    result = bobbin("sites", "add", "shop", "--url", "http://127.0.0.1:9/api/v2", "--division", "NOPE")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: ERP division 'NOPE' does not exist"
    no_traceback(result)


# --- orders --------------------------------------------------------------------------------------


def test_orders_list_views_and_json_shape(held: dict[str, Any]) -> None:
    from core.db import session_scope
    from models import InboundOrder

    with session_scope() as s:
        per_state = dict(s.execute(select(InboundOrder.state, func.count()).group_by(InboundOrder.state)).all())
    assert per_state.get("invalid") and per_state.get("imported") and per_state.get("duplicate")

    # when the invalid view is asked for as JSON
    data = as_json(bobbin("orders", "list", "--view", "invalid", "--limit", "0", "--json"))
    # then only invalid orders come, each with its error codes and stable keys
    assert data["view"] == "invalid" and data["total"] == data["count"] == per_state["invalid"]
    keys = {
        "id",
        "site",
        "site_id",
        "partner_order_id",
        "po_number",
        "customer_ref",
        "customer_code",
        "order_date",
        "lines",
        "total",
        "currency",
        "state",
        "error_codes",
        "warning_codes",
        "sales_order",
    }
    for order in data["orders"]:
        assert set(order) == keys
        assert order["state"] == "invalid" and order["error_codes"] and order["site"] == SITE
        if order["order_date"]:
            date.fromisoformat(order["order_date"])
    terms_order = held["ids"][demo.O_TERMS_UNMAPPED]
    assert {"id": terms_order, "codes": ["terms_unmapped"]} in [
        {"id": o["id"], "codes": o["error_codes"]} for o in data["orders"]
    ]

    # the "duplicated" view is the duplicate state; imported orders carry their ERP order number
    dup = as_json(bobbin("orders", "list", "--view", "duplicated", "--json"))
    assert [o["id"] for o in dup["orders"]] == [held["ids"][demo.O_DUPLICATE_PO]]
    assert dup["orders"][0]["error_codes"] == ["duplicate_po"]
    imported = as_json(bobbin("orders", "list", "--view", "imported", "--limit", "0", "--json"))
    assert imported["count"] == per_state["imported"]
    assert all(o["sales_order"] and o["sales_order"].startswith("SO") for o in imported["orders"])

    # --limit shows the newest first and says how many there are
    limited = as_json(bobbin("orders", "list", "--limit", "3", "--json"))
    assert limited["count"] == 3 and limited["total"] == sum(per_state.values())
    assert [o["id"] for o in limited["orders"]] == sorted((o["id"] for o in limited["orders"]), reverse=True)

    # and the table a person reads shows the state and the problem of each
    table = bobbin("orders", "list", "--site", SITE, "--view", "invalid")
    assert table.exit_code == 0, table.output
    assert "terms_unmapped" in table.stdout and "invalid" in table.stdout and "imported" not in table.stdout


def test_orders_show_of_an_invalid_order_says_how_to_fix_it(held: dict[str, Any]) -> None:
    order_id = held["ids"][demo.O_TERMS_UNMAPPED]

    result = bobbin("orders", "show", str(order_id))

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Order {order_id}" in out and "invalid" in out
    assert "terms_unmapped" in out and "Payment terms not mapped" in out
    assert (
        f'Resolution: Map the payment method to ERP terms: bobbin map terms {SITE} "{demo.UNMAPPED_TERMS}" TERMS_CODE'
        in out
    )
    # the lines come from the normalized order
    order = next(
        o for o in demo.build_world(styles=5, customers=5).brandboom_orders if o["id"] == demo.O_TERMS_UNMAPPED
    )
    assert all(item["styleNumber"] in out for item in order["items"])

    data = as_json(bobbin("orders", "show", str(order_id), "--json", "--raw"))
    assert data["state"] == "invalid" and data["sales_order"] is None and data["raw"]["id"] == demo.O_TERMS_UNMAPPED
    [problem] = data["problems"]
    assert problem["code"] == "terms_unmapped" and problem["value"] == demo.UNMAPPED_TERMS
    assert "bobbin map terms" in problem["resolution"]
    assert len(data["lines"]) == len(order["items"]) and data["resolved_problems"] == []


def test_orders_show_of_an_imported_order_names_its_erp_order_and_writebacks(held: dict[str, Any]) -> None:
    valid = as_json(bobbin("orders", "list", "--view", "imported", "--limit", "1", "--json"))["orders"][0]

    data = as_json(bobbin("orders", "show", str(valid["id"]), "--json"))

    assert data["sales_order"]["number"] == valid["sales_order"]
    assert [(w["status"], w["state"]) for w in data["writebacks"]] == [("exported", "pending")]
    shown = bobbin("orders", "show", str(valid["id"]))
    assert valid["sales_order"] in shown.stdout and "exported" in shown.stdout


def test_map_terms_revalidates_and_imports_the_blocked_order(held: dict[str, Any]) -> None:
    order_id = held["ids"][demo.O_TERMS_UNMAPPED]
    # given: "Net 90" blocks one order
    before = as_json(bobbin("map", "list", SITE, "--json"))
    blocked = [u for u in before["unmapped"] if u["kind"] == "terms"]
    assert blocked == [
        {
            "kind": "terms",
            "partner_value": demo.UNMAPPED_TERMS,
            "orders": [order_id],
            "order_count": 1,
            "customer_name": None,
        }
    ]
    kinds = {u["kind"] for u in before["unmapped"]}
    assert {"customer", "sales_rep", "ship_via", "warehouse"} <= kinds

    # when it is mapped to ERP terms
    result = bobbin("map", "terms", SITE, demo.UNMAPPED_TERMS, "N60")

    # then the order is validated again and imported, and the output says so
    assert result.exit_code == 0, result.output
    assert f'Mapped terms "{demo.UNMAPPED_TERMS}" → N60' in result.stdout
    assert "imported as SO" in result.stdout
    assert state_of(order_id) == "imported"
    after = as_json(bobbin("map", "list", SITE, "--kind", "terms", "--json"))
    assert not after["unmapped"]
    assert {"kind": "terms", "partner_value": demo.UNMAPPED_TERMS, "erp_code": "N60", "how": "manual"} in [
        {k: m[k] for k in ("kind", "partner_value", "erp_code", "how")} for m in after["mappings"]
    ]
    shown = as_json(bobbin("orders", "show", str(order_id), "--json"))
    assert [p["code"] for p in shown["resolved_problems"]] == ["terms_unmapped"]
    assert shown["resolved_problems"][0]["resolved_at"]

    # a code the ERP does not have is refused in one line
    bad = bobbin("map", "ship-via", SITE, demo.UNMAPPED_SHIPPING, "NOPE")
    assert bad.exit_code == 1 and bad.stderr.strip() == "Error: 'NOPE' is not an ERP ship via code"

    # and a mapping can be removed again (by its CLI kind name)
    assert bobbin("map", "remove", "terms", SITE, demo.UNMAPPED_TERMS).exit_code == 0
    gone = bobbin("map", "remove", "terms", SITE, demo.UNMAPPED_TERMS)
    assert gone.exit_code == 1 and "has no terms mapping" in gone.stderr


def test_orders_resolve_create_customer_imports_the_order(held: dict[str, Any]) -> None:
    from core.db import session_scope
    from models import Customer

    order_id = held["ids"][demo.O_CUSTOMER_UNKNOWN]
    assert state_of(order_id) == "invalid"

    result = bobbin("orders", "resolve", str(order_id), "--create-customer", "--code", "MAGROW")

    assert result.exit_code == 0, result.output
    assert f"Created ERP customer MAGROW from order {order_id}" in result.stdout
    with session_scope() as s:
        customer = s.scalar(select(Customer).where(Customer.code == "MAGROW"))
        assert customer is not None and customer.name == "Magnolia Row" and f"order {order_id}" in customer.created_from
    assert state_of(order_id) == "imported"
    assert "imported as SO" in result.stdout

    # the same code again is a one-line error
    again = bobbin("orders", "resolve", str(order_id), "--customer", "NOPE")
    assert again.exit_code == 1 and again.stderr.startswith("Error: ")
    no_traceback(again)


def test_orders_resolve_needs_exactly_one_way(held: dict[str, Any]) -> None:
    order_id = held["ids"][demo.O_CUSTOMER_UNKNOWN]
    assert bobbin("orders", "resolve", str(order_id)).exit_code == 2
    assert bobbin("orders", "resolve", str(order_id), "--customer", "X", "--create-customer").exit_code == 2


def test_orders_reject_and_what_cannot_be_rejected(held: dict[str, Any]) -> None:
    dup = held["ids"][demo.O_DUPLICATE_PO]
    first = held["ids"][demo.O_DUPLICATE_FIRST]
    assert state_of(first) == "imported"

    result = bobbin("orders", "reject", str(dup))
    assert result.exit_code == 0, result.output
    assert state_of(dup) == "rejected"
    assert as_json(bobbin("orders", "list", "--view", "rejected", "--json"))["orders"][0]["id"] == dup

    refused = bobbin("orders", "reject", str(first), "999999")
    assert refused.exit_code == 1
    assert f"Error: order {first}: order {first} is imported; mark it void instead" in refused.stderr
    assert "Error: order 999999: no order 999999" in refused.stderr
    assert state_of(first) == "imported"
    no_traceback(refused)


def test_orders_import_by_id_says_what_did_not_import(held: dict[str, Any]) -> None:
    invalid = held["ids"][demo.O_SKU_UNKNOWN]
    dup = held["ids"][demo.O_DUPLICATE_PO]

    result = bobbin("orders", "import", str(invalid), str(dup))
    assert result.exit_code == 1
    assert "sku_unknown" in result.stdout and "duplicate" in result.stdout
    assert "2 orders not imported" in result.stderr

    forced = bobbin("orders", "import", str(dup), "--allow-duplicate", "--json")
    data = as_json(forced)
    assert data["orders"][0]["state"] == "imported" and data["orders"][0]["sales_order"].startswith("SO")
    assert bobbin("orders", "import").exit_code == 2
    nothing = bobbin("orders", "import", "--all-valid", "--site", SITE)
    assert nothing.exit_code == 0 and "No valid orders to import" in nothing.stdout


# --- errors --------------------------------------------------------------------------------------


def test_unknown_site_is_one_line_and_exit_1(held: dict[str, Any]) -> None:
    for args in (
        ("orders", "list", "--site", "nope"),
        ("map", "list", "nope"),
        ("sites", "show", "nope"),
        ("map", "terms", "nope", "Net 90", "N60"),
    ):
        result = bobbin(*args)
        assert result.exit_code == 1, args
        assert result.stderr == f"Error: no site 'nope'; sites: {SITE}\n", args
        assert result.stdout == ""
        no_traceback(result)


def test_unknown_order_and_typos(held: dict[str, Any]) -> None:
    result = bobbin("orders", "show", "999999")
    assert result.exit_code == 1 and result.stderr == "Error: no order 999999\n"
    typo = bobbin("ordrs", "list")
    assert typo.exit_code == 2 and "No such command" in typo.output
    bad_view = bobbin("orders", "list", "--view", "bogus")
    assert bad_view.exit_code == 2


@pytest.fixture()
def unreachable_database(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from core.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://bob:s3cretpw@127.0.0.1:1/bobbin")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_database_that_cannot_be_reached_is_one_line_without_the_password(unreachable_database: None) -> None:
    for args in (("orders", "list"), ("sites", "list", "--json"), ("status",)):
        result = bobbin(*args)
        assert result.exit_code == 1, args
        assert "Error: cannot reach Postgres at 127.0.0.1:1 (DATABASE_URL): connection refused" in result.stderr, args
        assert "s3cretpw" not in result.output
        no_traceback(result)


# --- erp load ------------------------------------------------------------------------------------


def test_erp_load_lists_bad_rows_keeps_good_ones_and_revalidates(held: dict[str, Any], tmp_path: Path) -> None:
    from core.db import session_scope
    from models import Customer

    # given: an order held because its customer MRW01 is not in the ERP, and an export that adds it
    order_id = held["ids"][demo.O_CUSTOMER_UNKNOWN]
    header = ",".join(demo.CUSTOMER_HEADER)
    path = tmp_path / "customers.csv"
    path.write_text(
        f"{header}\n"
        f"{demo.UNKNOWN_CUSTOMER_CODE},Magnolia Row,hello@magnoliarow.com,,N30,UPSG,KM,WHSL,,88 Bull St,,Savannah,GA,31401,US\n"
        "BAD01,Bad Shop,bad@x.com,,NET99,UPSG,KM,WHSL,,1 B St,,Portland,OR,97201,US\n",
        encoding="utf-8",
    )

    # when it is loaded
    result = bobbin("erp", "load", "customers", str(path))

    # then: exit 0, the bad row in a table, the good row loaded, the held order imported
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Read 2 rows from customers.csv; loaded 1." in out
    assert "1 row was not loaded" in out
    assert "Row" in out and "Column" in out and "Problem" in out
    assert "NET99" in out and "Terms" in out
    assert "1 order imported" in out
    with session_scope() as s:
        assert s.scalar(select(Customer.id).where(Customer.code == demo.UNKNOWN_CUSTOMER_CODE))
        assert not s.scalar(select(Customer.id).where(Customer.code == "BAD01"))
    assert state_of(order_id) == "imported"

    # the same as JSON lists every problem
    data = as_json(bobbin("erp", "load", "customers", str(path), "--json"))
    assert data["rows_read"] == 2 and data["rows_loaded"] == 1 and data["rows_not_loaded"] == 1
    assert [(p["row"], p["column"], p["value"]) for p in data["problems"]] == [(3, "Terms", "NET99")]


def test_erp_load_of_an_unreadable_file_fails(db: str, tmp_path: Path) -> None:
    missing = bobbin("erp", "load", "styles", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: cannot read ")
    junk = tmp_path / "junk.csv"
    junk.write_text("x,y\n1,2\n", encoding="utf-8")
    result = bobbin("erp", "load", "styles", str(junk))
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    no_traceback(result)


# --- status --------------------------------------------------------------------------------------


def test_status_json_per_site(held: dict[str, Any]) -> None:
    from core.db import session_scope
    from models import InboundOrder, OutboxEntry, SyncRun

    # given: a failed import run, and a writeback the partner refused
    imported = as_json(bobbin("orders", "list", "--view", "imported", "--limit", "1", "--json"))["orders"][0]["id"]
    with session_scope() as s:
        s.add(
            SyncRun(
                task="tasks.orders.import_orders",
                site_id=held["site_id"],
                outcome="ok",
                counts={"fetched": 25, "new": 25, "imported": 11},
            )
        )
        s.flush()
        s.add(
            SyncRun(
                task="tasks.orders.import_orders",
                site_id=held["site_id"],
                outcome="failed",
                error="AuthError: Brandboom refused the keys",
            )
        )
        s.add(
            OutboxEntry(
                site_id=held["site_id"],
                inbound_order_id=imported,
                status="shipped",
                state="dead",
                attempts=1,
                last_error="404 order not found",
            )
        )
        per_state = dict(s.execute(select(InboundOrder.state, func.count()).group_by(InboundOrder.state)).all())

    data = as_json(bobbin("status", "--json"))

    assert data["health"]["postgres"]["ok"] is True and "ok" in data["health"]["redis"]
    [site] = data["sites"]
    assert site["name"] == SITE and site["active"] is True
    assert site["last_import"]["counts"]["imported"] == 11
    assert site["last_failure"]["error"] == "AuthError: Brandboom refused the keys"
    assert {k: v for k, v in site["orders"].items() if v} == per_state
    assert site["writebacks"]["dead"] == 1 and site["writebacks"]["pending"] >= 1
    assert site["writebacks"]["dead_rows"][0]["last_error"] == "404 order not found"
    assert site["unresolved_errors"] > 0

    text = bobbin("status")
    assert text.exit_code == 0, text.output
    assert "Postgres ok" in text.stdout and SITE in text.stdout
    assert "last import failed" in text.stdout and "gave up sending shipped" in text.stdout


# --- writeback through the sandbox ---------------------------------------------------------------


@pytest.fixture()
def sandbox_held(db: str, world: demo.DemoWorld) -> Iterator[tuple[Any, dict[str, Any]]]:
    from sandbox.brandboom.server import BrandboomSandbox

    sb = BrandboomSandbox(port=0, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, seed=demo.brandboom_seed(world))
    sb.start()
    try:
        yield sb, hold_orders(world, base_url=sb.url)
    finally:
        sb.stop()


def test_orders_mark_shipped_sends_and_reports_skipped(sandbox_held: tuple[Any, dict[str, Any]]) -> None:
    from core.db import session_scope
    from models import OutboxEntry, SalesOrder

    sb, held = sandbox_held
    imported = as_json(bobbin("orders", "list", "--view", "imported", "--limit", "1", "--json"))["orders"][0]
    invalid = held["ids"][demo.O_SKU_UNKNOWN]

    result = bobbin("orders", "mark", "shipped", str(imported["id"]), str(invalid), "--json")

    assert result.exit_code == 1  # one order could not be marked: the command says so
    assert result.stdout, (result.output, repr(result.exception))
    data = json.loads(result.stdout)
    by_id = {o["id"]: o for o in data["orders"]}
    assert by_id[imported["id"]]["result"] == "sent"
    assert by_id[invalid]["result"] == "skipped" and "only imported orders" in by_id[invalid]["detail"]
    assert "not marked shipped" in result.stderr
    assert [(str(c["order_id"]), c["status"]) for c in sb.status_changes()] == [
        (imported["partner_order_id"], "shipped")
    ]
    with session_scope() as s:
        assert (
            s.scalar(
                select(OutboxEntry.state).where(
                    OutboxEntry.inbound_order_id == imported["id"], OutboxEntry.status == "shipped"
                )
            )
            == "sent"
        )
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.inbound_order_id == imported["id"])) == "shipped"

    again = bobbin("orders", "mark", "shipped", str(imported["id"]))
    assert again.exit_code == 0 and "sent" in again.stdout


# --- admin ---------------------------------------------------------------------------------------


def test_keys_rotate_keeps_credentials_readable(held: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    from core import crypto
    from core.db import session_scope
    from core.settings import get_settings
    from models import Site

    with session_scope() as s:
        before = s.scalar(select(Site.credentials_encrypted))
    old = get_settings().fernet_keys()
    new_key = bobbin("keys", "new").stdout.strip()
    Fernet(new_key)  # a real key
    monkeypatch.setenv("BOBBIN_SECRET_KEYS", ",".join([new_key, *old]))
    get_settings.cache_clear()
    try:
        result = bobbin("keys", "rotate")
        assert result.exit_code == 0, result.output
        assert "Re-encrypted the credentials of 1 site" in result.stdout
        with session_scope() as s:
            after = s.scalar(select(Site.credentials_encrypted))
        assert after != before
        monkeypatch.setenv("BOBBIN_SECRET_KEYS", new_key)  # the old key is gone: still readable
        get_settings.cache_clear()
        assert crypto.decrypt_json(after)["secret_key"] == SECRET_KEY
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_help_lists_the_command_tree() -> None:
    result = bobbin("--help")
    assert result.exit_code == 0
    for command in ("sites", "orders", "map", "erp", "status", "sandbox", "migrate", "keys", "down", "run", "demo"):
        assert command in result.stdout
    orders_help = bobbin("orders", "--help").stdout
    for command in ("list", "show", "resolve", "import", "reject", "mark"):
        assert command in orders_help
