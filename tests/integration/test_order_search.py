"""The holding area's reads of ``services.orders`` on the real Postgres, called directly: search,
filters and sorts of ``list_orders`` (and that the search and date indexes answer them), an order's
history, what a fix chooses from, and what tells a caller an order changed.

Given the demo brand's orders held and validated as an import leaves them (the fixture of
tests/integration/test_order_queries.py: twelve invalid, one duplicate, the rest imported).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, event, select, text, update
from sqlalchemy.orm import Session

from bobbin import demo
from models import ConsoleAction, InboundOrder
from services import orders
from tests.integration import test_order_queries as queries_module
from tests.integration.test_order_queries import INVALID, SITE, Held

# the fixtures of the order-read tests, by name: the demo's orders held (``held``) in its world
world = queries_module.world
held = queries_module.held

pytestmark = pytest.mark.integration


def _ids(page: orders.OrderPage) -> list[int]:
    return [r["id"] for r in page.rows]


# --- search ---------------------------------------------------------------------------------------


def test_search_finds_partner_order_number_po_and_customer_anywhere_in_any_case(held: Held, session: Session) -> None:
    terms = session.get(InboundOrder, held.ids[demo.O_TERMS_UNMAPPED])
    assert terms is not None and terms.po_number and terms.customer_ref and terms.customer_code

    # by partner order number, by PO (a part of it, other case), by customer name and by ERP code
    assert _ids(orders.list_orders(session, q=str(demo.O_TERMS_UNMAPPED))) == [terms.id]
    assert terms.id in _ids(orders.list_orders(session, q=terms.po_number.lower()[1:]))
    by_name = orders.list_orders(session, q=terms.customer_ref.upper())
    assert terms.id in _ids(by_name) and all(r["customer_ref"] == terms.customer_ref for r in by_name.rows)
    assert terms.id in _ids(orders.list_orders(session, q=terms.customer_code.lower()))
    # blanks around it are ignored; a blank search is no search
    assert _ids(orders.list_orders(session, q=f"  {demo.O_TERMS_UNMAPPED} ")) == [terms.id]
    assert orders.list_orders(session, q="   ").total == len(held.exported)
    # % and _ are themselves, not wildcards
    assert orders.list_orders(session, q="%%%").total == 0
    assert orders.list_orders(session, q="___").total == 0
    # a search needs 3 characters (the trigram index cannot answer fewer; all would be read)
    with pytest.raises(orders.OrderQueryError, match="search for at least 3 characters"):
        orders.list_orders(session, q=" 90 ")


def test_search_combines_with_view_site_code_and_dates(held: Held, session: Session) -> None:
    sku_ids = {held.ids[demo.O_SKU_UNKNOWN], held.ids[demo.O_SKU_UNKNOWN_TWO]}

    by_code = orders.list_orders(session, code="sku_unknown")
    assert set(_ids(by_code)) == sku_ids and by_code.total == 2
    assert orders.list_orders(session, code="sku_unknown", states=("imported",)).total == 0
    assert orders.list_orders(session, code="sku_unknown", site_id=held.other_site_id).total == 0
    # a warning is a problem too; a resolved problem is not
    assert _ids(orders.list_orders(session, code="address_new")) == [held.ids[demo.O_ADDRESS_NEW]]
    # dates: inclusive on both ends, an order with no date left out
    everything = orders.list_orders(session).rows
    days = sorted({r["order_date"] for r in everything if r["order_date"]})
    first, last = days[0], days[-1]
    dated = {r["id"] for r in everything if r["order_date"]}
    assert set(_ids(orders.list_orders(session, date_from=first, date_to=last))) == dated
    assert {r["order_date"] for r in orders.list_orders(session, date_from=last).rows} == {last}
    assert {r["order_date"] for r in orders.list_orders(session, date_to=first).rows} == {first}
    with pytest.raises(orders.OrderQueryError, match="the dates are the wrong way round"):
        orders.list_orders(session, date_from=last, date_to=first)


def test_sorts_with_ties_by_id_and_pages(held: Held, session: Session) -> None:
    rows = orders.list_orders(session).rows
    assert _ids(orders.list_orders(session, sort="id")) == sorted(r["id"] for r in rows)
    by_partner = orders.list_orders(session, sort="-partner")
    assert [r["partner_order_id"] for r in by_partner.rows] == sorted(
        (r["partner_order_id"] for r in rows), reverse=True
    )
    by_date = orders.list_orders(session, sort="date").rows
    assert [(r["order_date"] or date.max, r["id"]) for r in by_date] == sorted(
        (r["order_date"] or date.max, r["id"]) for r in rows
    )
    newest_date = orders.list_orders(session, sort="-date").rows
    dated = [r for r in newest_date if r["order_date"]]
    assert [(r["order_date"], r["id"]) for r in dated] == sorted(
        ((r["order_date"], r["id"]) for r in dated), reverse=True
    )
    # pages of a sort hold every order once
    pages = [orders.list_orders(session, sort="customer", limit=4, offset=n) for n in range(0, len(rows), 4)]
    assert sorted(i for p in pages for i in _ids(p)) == sorted(r["id"] for r in rows)
    assert all(p.total == len(rows) for p in pages)
    with pytest.raises(orders.OrderQueryError, match="cannot sort by 'colour'"):
        orders.list_orders(session, sort="colour")


def test_sort_by_site_goes_site_by_site_and_its_pages_hold_every_order_once(held: Held, session: Session) -> None:
    # Given the orders held in two sites ("bb" and "other", every third one moved there)
    moved = sorted(held.ids.values())[::3]
    session.execute(update(InboundOrder).where(InboundOrder.id.in_(moved)).values(site_id=held.other_site_id))
    session.commit()
    everything = orders.list_orders(session).rows
    by_site = sorted((r["site"], r["id"]) for r in everything)
    assert {name for name, _ in by_site} == {SITE, "other"}

    # pages of 4 sorted by site, up and down, are the orders by site name, then id, each once
    for sort, expected in (("site", by_site), ("-site", by_site[::-1])):
        pages = [orders.list_orders(session, sort=sort, limit=4, offset=n) for n in range(0, len(everything) + 8, 4)]
        assert [(r["site"], r["id"]) for p in pages for r in p.rows] == expected, sort
        assert all(p.total == len(everything) for p in pages)
    # within a view, and within one site (where it is the sort by id)
    invalid = [(r["site"], r["id"]) for r in everything if r["state"] == "invalid"]
    pages = [orders.list_orders(session, sort="-site", states=("invalid",), limit=3, offset=n) for n in range(0, 15, 3)]
    assert [(r["site"], r["id"]) for p in pages for r in p.rows] == sorted(invalid, reverse=True)
    one_site = orders.list_orders(session, sort="site", site_id=held.other_site_id, limit=5, offset=2)
    assert _ids(one_site) == sorted(moved)[2:7]


def test_total_counted_up_to_a_limit(held: Held, session: Session) -> None:
    everything = len(held.ids)
    exact = orders.list_orders(session, limit=5)
    assert (exact.total, exact.capped) == (everything, False)
    # counted up to as many as there are: exact; up to fewer: that many and "more"
    assert orders.list_orders(session, limit=5, count_limit=everything) == exact
    capped = orders.list_orders(session, limit=5, count_limit=everything - 1)
    assert (capped.total, capped.capped, capped.rows) == (everything - 1, True, exact.rows)
    few = orders.list_orders(session, states=("invalid",), count_limit=3)
    assert (few.total, few.capped, len(few.rows)) == (3, True, len(INVALID))


def _plans(session: Session, **asked: Any) -> list[tuple[str, str]]:
    """(statement, EXPLAIN) of each statement on inbound_order that ``list_orders(**asked)`` sends."""
    sent: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        orders.list_orders(session, **asked)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    cursor = session.connection().connection.cursor()
    out = []
    for statement, parameters in sent:
        if "FROM inbound_order" in statement:
            cursor.execute("EXPLAIN " + statement, parameters)
            out.append((" ".join(statement.split()), "\n".join(row[0] for row in cursor.fetchall())))
    return out


def _page_plans(plans: list[tuple[str, str]]) -> list[str]:
    """The plans of the statements that read a page's orders (not a count)."""
    return [plan for sql, plan in plans if "LIMIT" in sql and not sql.startswith("SELECT count(")]


def test_each_sort_and_a_deep_page_are_read_from_an_index(held: Held, session: Session) -> None:
    # On a table this small Postgres reads the whole table and sorts it anyway; with those ways
    # forbidden, the plans show which index answers each sort of the holding area (as at 100,000).
    # Fresh statistics first: whether autovacuum has analysed the table yet must not pick the plan.
    session.execute(text("ANALYZE inbound_order"))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_sort = off"))
    indexes = {
        "customer": "ix_inbound_order_customer_ref_id",
        "po": "ix_inbound_order_po_number_id",
        "partner": "ix_inbound_order_partner_order_id_id",
        "state": "ix_inbound_order_state_id",
        "date": "ix_inbound_order_order_date_id",
        # a site's orders by id: its (site_id, id) index, or the primary key filtered by site —
        # on a table this small the planner's costs for the two are a coin toss
        "site": "(ix_inbound_order_site_id_id|pk_inbound_order)",
        "id": "pk_inbound_order",
    }
    for key, index in indexes.items():
        for sort in (key, f"-{key}"):
            pages = _page_plans(_plans(session, sort=sort, limit=5, offset=10))
            assert pages, sort
            for plan in pages:
                # the page's ids read in order from the index (forwards going up, backwards going
                # down), the orders themselves then by primary key; never the whole table
                way = "Backward " if sort.startswith("-") else ""
                assert re.search(rf"Index (Only )?Scan {way}using {index} on inbound_order", plan), (sort, plan)
                assert "Seq Scan on inbound_order" not in plan, (sort, plan)
    # a view (the orders in one state) newest first, at any depth: the (state, id) index
    # (or, on a table this small, the primary key filtered by state: either reads no more than the page)
    [plan] = _page_plans(_plans(session, states=("invalid",), limit=5, offset=5))
    assert re.search(r"Index (Only )?Scan Backward using (ix_inbound_order_state_id|pk_inbound_order)", plan), plan
    assert "Seq Scan on inbound_order" not in plan, plan
    # a date range newest first: the date index, not every newer order by id
    [plan] = _page_plans(_plans(session, date_from=date(2000, 1, 1), date_to=date(2100, 1, 1), limit=5))
    assert "ix_inbound_order_order_date_id" in plan and "Backward using pk_inbound_order" not in plan, plan
    # a total counted up to a limit stops there
    [(sql, plan)] = [(sql, plan) for sql, plan in _plans(session, count_limit=10, limit=5) if "count(" in sql]
    assert "LIMIT" in sql and re.search(r"->\s+Limit", plan), plan
    session.rollback()


def test_search_and_date_filters_can_be_answered_from_their_indexes(held: Held, session: Session) -> None:
    # On a table this small Postgres reads the whole table anyway; with that way forbidden, the
    # plan shows the indexes answer the holding area's search and date range (as at 100,000 orders).
    session.execute(text("SET LOCAL enable_seqscan = off"))

    def plan(query: Select[Any]) -> str:
        sql = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        return "\n".join(session.scalars(text(f"EXPLAIN {sql}")))

    searched = plan(select(InboundOrder.id).where(orders.search_condition("magnolia")))
    assert "Bitmap Index Scan on ix_inbound_order_search" in searched, searched
    session.execute(text("SET LOCAL enable_sort = off"))  # and the date sort read from the index, in order
    dated = plan(
        select(InboundOrder.id)
        .where(InboundOrder.order_date >= date(2026, 1, 1))
        .order_by(InboundOrder.order_date.desc(), InboundOrder.id.desc())
        .limit(50)
    )
    assert "ix_inbound_order_order_date_id" in dated and "Sort" not in dated, dated
    session.rollback()


# --- an order's history -----------------------------------------------------------------------------


def test_history_of_an_order_in_time_order_with_who_did_what(held: Held, session: Session) -> None:
    order_id = held.ids[demo.O_TERMS_UNMAPPED]
    seen = session.get(InboundOrder, order_id)
    assert seen is not None
    later = seen.first_seen_at + timedelta(minutes=5)
    session.add(
        ConsoleAction(
            actor="olivia",
            action="map",
            order_id=order_id,
            detail={"summary": 'mapped terms "Net 90" → N60', "asked_at": (later - timedelta(seconds=1)).isoformat()},
            at=later,
        )
    )
    session.add(ConsoleAction(actor="otto", action="revalidate", order_id=held.ids[demo.O_SKU_UNKNOWN], detail={}))
    session.commit()

    history = orders.order_history(session, order_id)

    assert [(e["who"], e["kind"], e["what"]) for e in history] == [
        ("Bobbin", "held", "held in the holding area (downloaded)"),
        ("Bobbin", "problem", f"problem terms_unmapped: {demo.UNMAPPED_TERMS}"),
        ("Bobbin", "checked", "checked (last validation)"),
        ("olivia", "action", 'mapped terms "Net 90" → N60'),
    ]
    assert history[-1]["at"] == later - timedelta(seconds=1)  # when it was asked for
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    with pytest.raises(orders.OrderNotFound):
        orders.order_history(session, 999999)


def test_history_of_an_imported_order_names_its_erp_order_and_writebacks(held: Held, session: Session) -> None:
    order_id = held.ids[demo.O_DUPLICATE_FIRST]
    number = orders.sales_order_numbers(session, [order_id])[order_id]

    kinds = [(e["kind"], e["what"]) for e in orders.order_history(session, order_id)]

    assert ("imported", f"imported as ERP order {number}") in kinds
    assert ("writeback", '"exported" queued for the partner') in kinds
    assert kinds[0] == ("held", "held in the holding area (downloaded)")


# --- what a fix chooses from ------------------------------------------------------------------------


def test_erp_codes_of_each_kind(held: Held, session: Session) -> None:
    terms = orders.erp_codes(session, "terms")
    assert ("N60", "Net 60") in terms and [c for c, _ in terms] == sorted(c for c, _ in terms)
    assert orders.erp_codes(session, "ship_via") and orders.erp_codes(session, "sales_rep")
    assert orders.erp_codes(session, "warehouse")
    assert all(words.endswith(")") for _, words in orders.erp_codes(session, "price_type"))
    with pytest.raises(orders.OrderQueryError, match="no ERP codes of kind 'style'"):
        orders.erp_codes(session, "style")


def test_customers_to_choose_from(held: Held, session: Session) -> None:
    division = orders.division_customers(session, "WHSL")
    assert division and all(c["why"] == "division WHSL" for c in division)
    assert [c["name"] for c in division] == sorted(c["name"] for c in division)
    assert orders.division_customers(session, "NONE") == []
    assert len(orders.division_customers(session, None, limit=2)) == 2
    # the unknown customer has no namesake in the ERP; a known order's customer is found by e-mail
    assert orders.customer_candidates(session, held.ids[demo.O_CUSTOMER_UNKNOWN]) == []
    known = session.get(InboundOrder, held.ids[demo.O_TERMS_UNMAPPED])
    assert known is not None
    [candidate] = orders.customer_candidates(session, known.id)
    assert candidate["code"] == known.customer_code and candidate["why"] == "same e-mail"


# --- did it change? ---------------------------------------------------------------------------------


def test_state_stamps_and_open_orders(held: Held, session: Session) -> None:
    order_id = held.ids[demo.O_PRICE_INVALID]
    [(state, checked)] = orders.state_stamps(session, [order_id, 999999]).values()
    assert state == "invalid" and checked is not None

    session.execute(update(InboundOrder).where(InboundOrder.id == order_id).values(validated_at=datetime.now(UTC)))
    session.commit()

    assert orders.state_stamps(session, [order_id])[order_id] != (state, checked)
    open_ = orders.open_order_states(session, [held.site_id])
    assert {oid for oid, st in open_.items() if st == "invalid"} == {held.ids[p] for p in INVALID}
    assert set(open_.values()) == {"invalid", "duplicate"}
    assert orders.open_order_states(session, [held.other_site_id]) == {}
    assert orders.sites_of(session, [order_id, 999999]) == {order_id: held.site_id}
    assert orders.site_choices(session) == sorted(
        [(held.site_id, SITE), (held.other_site_id, "other")], key=lambda c: c[1]
    )
