"""The order reads of ``services.orders`` on the real Postgres, called directly (no CLI in between).

Given the demo brand's ERP and a Brandboom site whose "export" orders were held and validated the
way an import leaves them (the valid ones imported, twelve invalid, one duplicate), each read
returns plain data with the orders, codes, ERP orders and outbox rows the demo defines.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bobbin import demo
from models import InboundOrder, OutboxEntry
from services import orders
from services.fixes import FixError

pytestmark = pytest.mark.integration

SITE = "bb"
CREDENTIALS = {"public_key": "5A1B2C3D4E5F60718293A4B5C6D7E8F9", "secret_key": "F0E1D2C3B4A5968778695A4B3C2D1E0F"}
UNREACHABLE = "http://127.0.0.1:9/api/v2"  # nothing is sent in these tests

# The invalid demo orders (partner order id) and the one open error each is held for.
INVALID = {
    demo.O_CUSTOMER_UNKNOWN: ["customer_unknown"],
    demo.O_REP_UNKNOWN: ["sales_rep_unknown"],
    demo.O_TERMS_UNMAPPED: ["terms_unmapped"],
    demo.O_SHIP_VIA_UNMAPPED: ["ship_via_unmapped"],
    demo.O_SKU_UNKNOWN: ["sku_unknown"],
    demo.O_SKU_UNKNOWN_TWO: ["sku_unknown"],
    demo.O_QUANTITY_INVALID: ["quantity_invalid"],
    demo.O_PRICE_INVALID: ["price_invalid"],
    demo.O_DATES_ORDER: ["dates_invalid"],
    demo.O_DATES_UNPARSEABLE: ["dates_invalid"],
    demo.O_WAREHOUSE_UNMAPPED: ["warehouse_unmapped"],
    demo.O_PAYLOAD_INVALID: ["payload_invalid"],
}


@dataclass(frozen=True)
class Held:
    site_id: int
    other_site_id: int  # a second site, with no orders
    ids: dict[int, int]  # partner order id -> Bobbin order id
    exported: list[int]  # the export orders the demo defines, by partner order id


@pytest.fixture(scope="module")
def world() -> demo.DemoWorld:
    return demo.build_world(styles=5, customers=5)


@pytest.fixture()
def held(db: str, world: demo.DemoWorld) -> Held:
    from connectors.brandboom.mapper import to_partner_order
    from core.db import session_scope
    from models import Mapping
    from services.holding import stage_page
    from services.pipeline import validate_and_import
    from services.sites import create_site

    with session_scope() as s:
        demo.load_erp(s, world)
        site = create_site(
            s,
            name=SITE,
            kind="brandboom",
            base_url=UNREACHABLE,
            credentials=CREDENTIALS,
            division="WHSL",
            notify_emails=[],
        )
        other = create_site(
            s,
            name="other",
            kind="brandboom",
            base_url=UNREACHABLE,
            credentials=CREDENTIALS,
            division="WHSL",
            notify_emails=[],
        )
        s.flush()
        s.add_all([Mapping(site_id=site.id, **m) for m in demo.demo_mappings()])
        site_id, other_id = site.id, other.id
    export = [o for o in world.brandboom_orders if o["status"] == "export"]
    with session_scope() as s:
        stage_page(s, site_id, [to_partner_order(o) for o in export])
    validate_and_import(site_id)
    with session_scope() as s:
        ids = {
            int(pid): oid
            for pid, oid in s.execute(
                select(InboundOrder.partner_order_id, InboundOrder.id).where(InboundOrder.site_id == site_id)
            )
        }
    return Held(site_id=site_id, other_site_id=other_id, ids=ids, exported=[int(o["id"]) for o in export])


def _imported(held: Held) -> list[int]:
    """Bobbin ids of the orders that imported: every export order neither invalid nor the duplicate."""
    return sorted(held.ids[p] for p in held.exported if p not in INVALID and p != demo.O_DUPLICATE_PO)


# --- lists ---------------------------------------------------------------------------------------


def test_list_by_state_gives_exactly_the_invalid_orders_with_their_codes(held: Held, session: Session) -> None:
    page = orders.list_orders(session, states=("invalid",))

    assert page.total == len(page.rows) == len(INVALID)
    assert {r["partner_order_id"]: r["error_codes"] for r in page.rows} == {str(p): c for p, c in INVALID.items()}
    assert [r["id"] for r in page.rows] == sorted((held.ids[p] for p in INVALID), reverse=True)  # newest first
    for row in page.rows:
        assert row["state"] == "invalid" and row["site"] == SITE and row["site_id"] == held.site_id
        assert row["sales_order"] is None and row["warning_codes"] == []
    terms = next(r for r in page.rows if r["id"] == held.ids[demo.O_TERMS_UNMAPPED])
    assert terms["customer_code"] and terms["lines"] > 0 and terms["total"] is not None


def test_list_of_duplicates_and_of_imported_orders(held: Held, session: Session) -> None:
    duplicates = orders.list_orders(session, site_id=held.site_id, states=("duplicate",))
    assert [(r["id"], r["error_codes"]) for r in duplicates.rows] == [(held.ids[demo.O_DUPLICATE_PO], ["duplicate_po"])]

    imported = orders.list_orders(session, states=["imported"])
    assert sorted(r["id"] for r in imported.rows) == _imported(held)
    numbers = [r["sales_order"] for r in imported.rows]
    assert all(n and n.startswith("SO") for n in numbers) and len(set(numbers)) == len(numbers)
    assert all(r["error_codes"] == [] for r in imported.rows)
    # the order with a new ship-to imported, with its warning still open
    address_new = next(r for r in imported.rows if r["id"] == held.ids[demo.O_ADDRESS_NEW])
    assert address_new["warning_codes"] == ["address_new"]


def test_list_pages_newest_first_with_the_total(held: Held, session: Session) -> None:
    everything = orders.list_orders(session)
    assert everything.total == len(everything.rows) == len(held.exported)

    first = orders.list_orders(session, limit=3)
    second = orders.list_orders(session, limit=3, offset=3)

    assert first.total == second.total == len(held.exported)
    assert [r["id"] for r in first.rows + second.rows] == sorted(held.ids.values(), reverse=True)[:6]
    # another site, or a state no order is in: no rows, and a total of 0
    assert orders.list_orders(session, site_id=held.other_site_id) == orders.OrderPage(rows=[], total=0)
    assert orders.list_orders(session, states=("rejected",)).total == 0


# --- one order -----------------------------------------------------------------------------------


def test_order_detail_of_an_imported_order_names_its_sales_order_and_exported_outbox_row(
    held: Held, session: Session, world: demo.DemoWorld
) -> None:
    order_id = held.ids[demo.O_DUPLICATE_FIRST]

    detail = orders.order_detail(session, order_id)

    number = orders.sales_order_numbers(session, [order_id])[order_id]
    assert detail["id"] == order_id and detail["site"] == SITE and detail["state"] == "imported"
    assert detail["partner_order_id"] == str(demo.O_DUPLICATE_FIRST)
    assert detail["sales_order"]["number"] == number and detail["sales_order"]["status"] == "open"
    assert detail["imported_at"] is not None
    assert [(w["status"], w["state"], w["attempts"], w["attempt_log"]) for w in detail["writebacks"]] == [
        ("exported", "pending", 0, [])
    ]
    assert detail["problems"] == [] and detail["resolved_problems"] == []
    sent = next(o for o in world.brandboom_orders if o["id"] == demo.O_DUPLICATE_FIRST)
    assert [ln["style_number"] for ln in detail["lines"]] == [item["styleNumber"] for item in sent["items"]]
    assert "raw" not in detail


def test_order_detail_of_an_invalid_order_says_what_to_do(held: Held, session: Session) -> None:
    order_id = held.ids[demo.O_TERMS_UNMAPPED]

    detail = orders.order_detail(session, order_id, raw=True)

    assert detail["state"] == "invalid" and detail["sales_order"] is None and detail["writebacks"] == []
    [problem] = detail["problems"]
    assert (problem["code"], problem["severity"], problem["value"]) == ("terms_unmapped", "error", demo.UNMAPPED_TERMS)
    assert problem["title"] == "Payment terms not mapped" and "resolved_at" not in problem
    assert problem["resolution"] == (
        f'Map the payment method to ERP terms: `bobbin map terms {SITE} "{demo.UNMAPPED_TERMS}" TERMS_CODE`. '
        "Terms the ERP does not have yet are added with `bobbin erp load terms FILE` "
        "(template: `bobbin erp template terms`)."
    )
    assert detail["payment_method"] == demo.UNMAPPED_TERMS
    assert detail["raw"]["id"] == demo.O_TERMS_UNMAPPED


def test_order_detail_of_no_order_is_an_error_people_read(held: Held, session: Session) -> None:
    with pytest.raises(orders.OrderNotFound, match="^no order 999999$") as raised:
        orders.order_detail(session, 999999)
    assert isinstance(raised.value, FixError)  # the CLI prints it as one line


# --- where orders stand --------------------------------------------------------------------------


def test_order_outcomes_in_the_order_asked_with_unknown_ids_kept(held: Held, session: Session) -> None:
    imported, invalid = held.ids[demo.O_DUPLICATE_FIRST], held.ids[demo.O_SKU_UNKNOWN]
    number = orders.sales_order_numbers(session, [imported])[imported]

    outcomes = orders.order_outcomes(session, [invalid, 999999, imported])

    assert outcomes == [
        {
            "id": invalid,
            "site": SITE,
            "partner_order_id": str(demo.O_SKU_UNKNOWN),
            "state": "invalid",
            "sales_order": None,
            "error_codes": ["sku_unknown"],
        },
        {
            "id": 999999,
            "state": None,
            "site": None,
            "partner_order_id": None,
            "sales_order": None,
            "error_codes": [],
        },
        {
            "id": imported,
            "site": SITE,
            "partner_order_id": str(demo.O_DUPLICATE_FIRST),
            "state": "imported",
            "sales_order": number,
            "error_codes": [],
        },
    ]


def test_codes_numbers_and_states_of_some_orders(held: Held, session: Session) -> None:
    dup, invalid, imported = held.ids[demo.O_DUPLICATE_PO], held.ids[demo.O_DATES_ORDER], _imported(held)[0]

    assert orders.open_problem_codes(session, [dup, invalid, imported]) == {
        dup: [("duplicate_po", "error")],
        invalid: [("dates_invalid", "error")],
    }
    assert orders.open_problem_codes(session, []) == {}
    assert list(orders.sales_order_numbers(session, [dup, invalid, imported])) == [imported]
    assert orders.states_of(session, [dup, invalid, imported, 999999]) == {
        dup: "duplicate",
        invalid: "invalid",
        imported: "imported",
    }
    assert orders.states_of(session, []) == {}


def test_valid_order_ids_per_site(held: Held, session: Session) -> None:
    # an import run imports every order it finds valid: none is left waiting
    assert orders.valid_order_ids(session) == []
    # given two orders left valid (as a run stopped between validating and importing leaves them)
    waiting = sorted([held.ids[demo.O_SKU_UNKNOWN], held.ids[demo.O_REP_UNKNOWN]])
    session.execute(update(InboundOrder).where(InboundOrder.id.in_(waiting)).values(state="valid"))
    session.commit()

    assert orders.valid_order_ids(session) == waiting
    assert orders.valid_order_ids(session, held.site_id) == waiting
    assert orders.valid_order_ids(session, held.other_site_id) == []


# --- status changes sent back --------------------------------------------------------------------


def test_outbox_rows_of_imported_orders(held: Held, session: Session) -> None:
    imported = _imported(held)[:2]
    invalid = held.ids[demo.O_PRICE_INVALID]
    queued = {
        order_id: outbox_id
        for order_id, outbox_id in session.execute(
            select(OutboxEntry.inbound_order_id, OutboxEntry.id).where(OutboxEntry.status == "exported")
        )
    }

    assert sorted(orders.pending_outbox_ids(session, [*imported, invalid], "exported")) == sorted(
        queued[i] for i in imported
    )
    rows = orders.outbox_rows(session, [*imported, invalid], "exported")
    assert sorted(rows) == imported
    for order_id, row in rows.items():
        assert (row.order_id, row.status, row.state, row.attempts, row.last_error, row.sent_at) == (
            order_id,
            "exported",
            "pending",
            0,
            None,
            None,
        )
    # nothing is queued for another status, and no orders ask for nothing
    assert orders.pending_outbox_ids(session, imported, "shipped") == []
    assert orders.outbox_rows(session, imported, "shipped") == {}
    assert orders.outbox_rows(session, [], "exported") == {}
