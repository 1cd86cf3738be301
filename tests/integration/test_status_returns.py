"""Where a returns site stands, as ``bobbin status`` and the console's dashboard show it: real
Postgres, the Loop sandbox over HTTP, the console under uvicorn.

Given a Loop site with an invalid return, a credit memo waiting for a person (Loop refunded more
than the RMA's lines) and an exchange waiting for its order, and an order site beside it, then the
Loop site shows its returns per state, its open return problems, the credit waiting and the open
exchange, each with where to act — and no orders (it has none) — while the order site shows its
orders as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bobbin.cli.main import app
from bobbin.demo import build_world
from bobbin.demo_sites import LOOP_DEMO_SITE, load_loop_demo
from core.db import session_scope
from models import InboundReturn, Rma, Site
from sandbox.loop.demo import catalog_from_world
from sandbox.loop.server import LoopSandbox
from services import rma as flow
from services import writeback
from services.returns import import_site_returns
from services.status import site_overview, site_status
from tests.console_app import Served, add_user, sign_in

pytestmark = pytest.mark.integration

ORDER_SITE = "harbor-bb"


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


def held_id(loop_id: int) -> int:
    with session_scope() as s:
        return int(s.scalar(select(InboundReturn.id).where(InboundReturn.loop_return_id == str(loop_id))))


def receive_all(loop_id: int) -> None:
    with session_scope() as s:
        number = s.scalar(select(Rma.number).join(InboundReturn).where(InboundReturn.loop_return_id == str(loop_id)))
        flow.receive(s, str(number), None, source="cli")


@pytest.fixture()
def returns(db: str, loop: LoopSandbox) -> dict[str, Any]:
    """The Loop demo site with three returns (invalid; credit waiting; open exchange) and an order
    site with no orders yet."""
    catalog = catalog_from_world(build_world())
    load_loop_demo(loop.url)
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id).where(Site.name == LOOP_DEMO_SITE)))
        s.add(Site(name=ORDER_SITE, kind="brandboom", base_url="https://sandbox.example", credentials_encrypted="x"))
    bad = loop.create_return(lines=[{**catalog[0], "sku": "NOPE-404"}])
    mismatch = loop.create_return(lines=[catalog[1]])
    exchange = loop.create_return(lines=[catalog[2]], outcome="exchange")
    import_site_returns(site_id)
    receive_all(mismatch["id"])
    receive_all(exchange["id"])
    writeback.flush(site_id=site_id)  # Loop processes both: a refund, and the exchange order
    refunds = loop.get_return(mismatch["id"])["refunds"]
    loop.update_return(mismatch["id"], {"refunds": [{**refunds[0], "amount": "999.99"}]})
    summary = import_site_returns(site_id)
    assert (summary["credit_waiting"], summary["credited"]) == (1, 0)
    return {
        "site_id": site_id,
        "bad": held_id(bad["id"]),
        "mismatch": held_id(mismatch["id"]),
        "exchange": held_id(exchange["id"]),
        "exchange_order": loop.get_return(exchange["id"])["exchange_order_name"],
    }


def test_site_status_counts_a_loop_sites_returns_and_no_orders(returns: dict[str, Any]) -> None:
    with session_scope() as s:
        loop_site = s.scalars(select(Site).where(Site.name == LOOP_DEMO_SITE)).one()
        order_site = s.scalars(select(Site).where(Site.name == ORDER_SITE)).one()
        st = site_status(s, loop_site)
        overview = site_overview(s, loop_site)
        orders_st = site_status(s, order_site)

    # The Loop site: no orders to count, its returns instead
    assert st["orders"] is None and overview["views"] is None and st["unresolved_errors"] == 0
    r = st["returns"]
    assert {k: v for k, v in r["states"].items() if v} == {"invalid": 1, "processed": 2}
    assert r["open_problems"] == 2  # the unknown SKU and the refund mismatch (warnings are not counted)
    assert r["credits_waiting"] == 1
    [waiting] = r["credits_waiting_rows"]
    assert (waiting["return_id"], str(waiting["loop_refund_amount"])) == (returns["mismatch"], "999.99")
    assert waiting["credit_memo"].startswith("CM") and waiting["rma"].startswith("RMA")
    assert r["open_exchanges"] == 1
    assert [(e["return_id"], e["exchange_order"]) for e in r["open_exchange_rows"]] == [
        (returns["exchange"], returns["exchange_order"])
    ]
    # The order site: its orders per state as before, and no returns
    assert orders_st["returns"] is None
    assert orders_st["orders"] == dict.fromkeys(
        ("downloaded", "valid", "invalid", "duplicate", "imported", "rejected"), 0
    )


def test_bobbin_status_shows_the_returns_and_where_to_act(returns: dict[str, Any]) -> None:
    run = CliRunner().invoke(app, ["status"], env={"COLUMNS": "220"})
    assert run.exit_code == 0, run.output
    out = run.stdout
    loop_row = next(line for line in out.splitlines() if line.lstrip().startswith(LOOP_DEMO_SITE))
    assert "none: sends returns (3)" in loop_row and "RMA(s) made" in out
    assert "Returns" in out and "1 invalid" in out and "2 processed" in out
    assert f"{LOOP_DEMO_SITE}: 2 open return problem(s) — each says what to do: bobbin returns list --site" in out
    assert f"/returns?site={LOOP_DEMO_SITE}" in out
    assert f"{LOOP_DEMO_SITE}: 1 credit memo(s) wait for a person" in out
    assert re.search(rf"Loop Returns refunded \$?999\.99.*bobbin returns confirm {returns['mismatch']}\)", out)
    assert f"{LOOP_DEMO_SITE}: 1 exchange(s) wait for their order" in out
    assert f"return {returns['exchange']} " in out and str(returns["exchange_order"]) in out

    data = json.loads(CliRunner().invoke(app, ["status", "--json"]).stdout)
    by_name = {site["name"]: site for site in data["sites"]}
    assert by_name[LOOP_DEMO_SITE]["orders"] is None and by_name[LOOP_DEMO_SITE]["returns"]["credits_waiting"] == 1
    assert by_name[ORDER_SITE]["returns"] is None and by_name[ORDER_SITE]["orders"]["invalid"] == 0


def test_the_dashboard_card_of_a_loop_site_shows_its_returns(web: Served, returns: dict[str, Any]) -> None:
    add_user("olivia", "operator")
    page = sign_in(web.url, "olivia").get(f"{web.url}/", timeout=10)
    assert page.status_code == 200
    card = page.text[page.text.index(f'id="site-{returns["site_id"]}"') :]
    card = card[: card.index("</section>")]

    assert f'<a href="/returns?site={LOOP_DEMO_SITE}">Returns of {LOOP_DEMO_SITE}</a>' in card
    assert "2 open problems · 1 credit waiting for a person · 1 open exchange" in card
    assert f'href="/returns?site={LOOP_DEMO_SITE}&amp;state=invalid" aria-label="1 invalid returns' in card
    assert "2 open return problems" in card and "1 credit memo waits for a person" in card
    assert f'href="/returns/{returns["mismatch"]}"' in card and f'href="/returns/{returns["exchange"]}"' in card
    assert "Import returns" in card
    assert "Orders of" not in card and "/holding" not in card
    # the order site's card keeps its orders
    assert f"Orders of {ORDER_SITE} by view" in page.text
