"""The returns flow end to end on real Postgres, with the Loop sandbox over HTTP (issue 16): a
return polled from Loop becomes an RMA (or problems, flagged and noted in Loop); its receipt
restocks the goods and asks Loop to process it through the outbox; Loop's refund becomes a posted
credit memo with the AR debit that offsets it; exchanges wait for their order; cancelled returns
void their RMA; a refund that does not match the lines waits for a person. Every step is asserted
for what one run did, and a second run is shown to change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bobbin.demo_sites import LOOP_DEMO_SITE, SHOPIFY_CUSTOMER
from core.db import session_scope
from models import (
    ArAdjustment,
    CreditMemo,
    Customer,
    InboundReturn,
    Inventory,
    OutboxEntry,
    ReturnError,
    Rma,
    RmaLine,
    SalesOrder,
    Site,
)
from sandbox.loop.server import LoopSandbox
from services import rma as flow
from services import writeback
from services.returns import import_site_returns
from services.sites import open_site

pytestmark = pytest.mark.integration


def held(s: Session, loop_id: int) -> InboundReturn:
    return s.scalars(select(InboundReturn).where(InboundReturn.loop_return_id == str(loop_id))).one()


def rma_of(s: Session, loop_id: int) -> Rma:
    return s.scalars(select(Rma).join(InboundReturn).where(InboundReturn.loop_return_id == str(loop_id))).one()


def on_hand(s: Session, sku: str, warehouse: str) -> int:
    return int(
        s.scalar(select(Inventory.on_hand).where(Inventory.sku == sku, Inventory.warehouse_code == warehouse)) or 0
    )


def notes(loop: LoopSandbox, loop_id: int) -> list[str]:
    return [n["content"] for n in loop.notes(loop_id)]


def test_a_return_becomes_an_rma_and_a_bad_one_is_flagged_in_loop(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given a return of two known SKUs and one naming a SKU the ERP does not know
    good = loop.create_return(lines=loop_catalog[:2])
    bad = loop.create_return(lines=[loop_catalog[2], {**loop_catalog[3], "sku": "NOPE-404"}])

    # When the site's returns are polled
    summary = import_site_returns(loop_site)

    # then both are held, one RMA is made with both lines, and the other is invalid
    assert (summary["fetched"], summary["new"], summary["rmas_created"], summary["returns_invalid"]) == (2, 2, 1, 1)
    with session_scope() as s:
        rma = rma_of(s, good["id"])
        lines = s.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id).order_by(RmaLine.line_no)).all()
        assert [ln.sku for ln in lines] == [loop_catalog[0]["sku"], loop_catalog[1]["sku"]]
        assert (rma.kind, rma.status, rma.customer_code) == ("return", "open", SHOPIFY_CUSTOMER["code"])
        assert held(s, good["id"]).state == "rma"
        bad_held = held(s, bad["id"])
        assert bad_held.state == "invalid"
        problems = s.scalars(select(ReturnError).where(ReturnError.return_id == bad_held.id)).all()
        blocking = [(p.code, p.line_no, p.value) for p in problems if p.severity == "error"]
        assert blocking == [("sku_unknown", 2, "NOPE-404")]
        assert s.scalar(select(func.count()).select_from(Rma)) == 1

    # When the outbox is flushed, then Loop shows the bad one flagged with the problem in a note,
    # and the good one's timeline names its RMA; exactly one flag was sent
    sent = writeback.flush(site_id=loop_site)
    assert (sent.sent, sent.dead) == (3, 0)
    assert [(a["return_id"], a["action"]) for a in loop.actions()] == [(bad["id"], "flag")]
    assert loop.get_return(bad["id"])["state"] == "review"
    [problem_note] = notes(loop, bad["id"])
    assert "NOPE-404" in problem_note and problem_note.startswith("Bobbin cannot make an RMA")
    assert notes(loop, good["id"]) == [f"ERP: {rma.number} created for this return (2 line(s), customer SHOPIFY)"]

    # When polled again, then nothing new is made and nothing more goes to Loop
    again = import_site_returns(loop_site)
    assert (again["new"], again["rmas_created"], again["new_errors"]) == (0, 0, 0)
    assert writeback.flush(site_id=loop_site).sent == 0


def test_receipt_restocks_then_process_then_credit_memo_and_ar_debit_once(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given a refund return made into an RMA
    made = loop.create_return(lines=loop_catalog[:2])
    import_site_returns(loop_site)
    writeback.flush(site_id=loop_site)
    with session_scope() as s:
        rma = rma_of(s, made["id"])
        number, warehouse = rma.number, rma.warehouse_code
        before = {row["sku"]: on_hand(s, row["sku"], warehouse) for row in loop_catalog[:2]}

    # When one line is received, then it is restocked and Loop is not asked to process yet
    with session_scope() as s:
        part = flow.receive(s, number, {1: 1}, source="cli", reference="test")
    assert (part.complete, part.process_queued) == (False, False)
    with session_scope() as s:
        assert on_hand(s, loop_catalog[0]["sku"], warehouse) == before[loop_catalog[0]["sku"]] + 1
        assert on_hand(s, loop_catalog[1]["sku"], warehouse) == before[loop_catalog[1]["sku"]]
    assert writeback.flush(site_id=loop_site).sent == 0

    # When more than is outstanding is received, then it is refused and nothing is written
    with session_scope() as s, pytest.raises(flow.ReturnFlowError, match="only 0 of it is still expected"):
        flow.receive(s, number, {1: 1}, source="cli")

    # When the rest is received, then the RMA is complete and Loop is asked to process it, once
    with session_scope() as s:
        rest = flow.receive(s, number, None, source="console", reference="dock 2")
    assert (rest.complete, rest.process_queued, rest.received) == (True, True, [(2, loop_catalog[1]["sku"], 1)])
    assert writeback.flush(site_id=loop_site).sent == 1
    assert [(a["action"], a["after"]) for a in loop.actions()] == [("process", "closed")]
    refund = Decimal(loop.get_return(made["id"])["refunds"][0]["amount"])

    # When Loop's processed return is polled, then the credit memo is posted for Loop's refund and
    # the AR debit offsetting it is posted with reason and reference; Loop's timeline says so
    summary = import_site_returns(loop_site)
    assert (summary["changed"], summary["credited"]) == (1, 1)
    with session_scope() as s:
        assert held(s, made["id"]).state == "credited"
        memo = s.scalars(select(CreditMemo)).one()
        assert (memo.status, memo.amount, memo.loop_refund_amount) == ("posted", refund, refund)
        debit = s.scalars(select(ArAdjustment)).one()
        assert (debit.amount, debit.credit_memo_id, debit.customer_code) == (refund, memo.id, "SHOPIFY")
        assert debit.reference == f"Loop return {made['id']} / {number} / {memo.number}"
        assert rma_of(s, made["id"]).status == "credited"
        memo_number = memo.number
    writeback.flush(site_id=loop_site)
    assert notes(loop, made["id"])[-1].startswith(f"ERP: credit memo {memo_number} for {refund} USD posted")

    # When polled and its events applied again, then no second memo or debit exists
    import_site_returns(loop_site)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(CreditMemo)) == 1
        assert s.scalar(select(func.count()).select_from(ArAdjustment)) == 1


def test_an_exchange_waits_for_its_order_then_posts_its_ar_debit(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given an exchange received and processed in Loop (which makes the exchange order)
    made = loop.create_return(lines=[loop_catalog[0]], outcome="exchange")
    import_site_returns(loop_site)
    with session_scope() as s:
        number = rma_of(s, made["id"]).number
        flow.receive(s, number, None, source="cli")
    writeback.flush(site_id=loop_site)
    exchange_name = loop.get_return(made["id"])["exchange_order_name"]
    assert exchange_name

    # When polled, then the RMA records the exchange order and stays an open item: no debit yet
    import_site_returns(loop_site)
    with session_scope() as s:
        rma = rma_of(s, made["id"])
        assert (rma.kind, rma.exchange_order_name, rma.exchange_sales_order_id) == ("exchange", exchange_name, None)
        assert held(s, made["id"]).state == "processed"
        assert flow.open_exchanges(s, loop_site) == [held(s, made["id"]).id]
        assert s.scalar(select(func.count()).select_from(ArAdjustment)) == 0

    # When the exchange order reaches the ERP (its name as the PO number) and the waiting returns are applied
    with session_scope() as s:
        customer = s.scalar(select(Customer.code).where(Customer.code == "SHOPIFY"))
        order = SalesOrder(number="SO-EXC-1", customer_code=customer, po_number=exchange_name)
        s.add(order)
    import_site_returns(loop_site)

    # then the exchange's AR debit is posted once, linked to the RMA, and the return is credited
    with session_scope() as s:
        rma = rma_of(s, made["id"])
        debit = s.scalars(select(ArAdjustment)).one()
        assert (debit.rma_id, debit.credit_memo_id) == (rma.id, None)
        assert debit.amount == Decimal(loop.get_return(made["id"])["exchange_credit_total"])
        assert rma.exchange_sales_order_id is not None and held(s, made["id"]).state == "credited"
    import_site_returns(loop_site)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ArAdjustment)) == 1


def test_cancelled_and_expired_returns_void_their_rma(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given two returns made into RMAs
    first = loop.create_return(lines=[loop_catalog[0]])
    second = loop.create_return(lines=[loop_catalog[1]])
    import_site_returns(loop_site)

    # When Loop cancels one and the other expires, and the site is polled
    loop.update_return(first["id"], {"state": "cancelled"})
    loop.update_return(second["id"], {"state": "expired"})
    summary = import_site_returns(loop_site)

    # then both RMAs are void, and nothing waiting for Loop about them goes out
    assert summary["voided"] == 2
    with session_scope() as s:
        assert {rma_of(s, first["id"]).status, rma_of(s, second["id"]).status} == {"void"}
        assert {held(s, first["id"]).state, held(s, second["id"]).state} == {"void"}
        pending = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending"))
        assert pending == 0
    with session_scope() as s, pytest.raises(flow.ReturnFlowError, match="is void"):
        flow.receive(s, rma_of(s, first["id"]).number, None, source="cli")


def test_a_refund_that_does_not_match_the_lines_waits_for_a_person(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given a return received and processed, but Loop refunded more than its lines add up to
    made = loop.create_return(lines=[loop_catalog[0]])
    import_site_returns(loop_site)
    with session_scope() as s:
        flow.receive(s, rma_of(s, made["id"]).number, None, source="cli")
    writeback.flush(site_id=loop_site)
    refunds = loop.get_return(made["id"])["refunds"]
    loop.update_return(made["id"], {"refunds": [{**refunds[0], "amount": "999.99"}]})

    # When polled, then the credit memo waits for confirmation with a problem, and no AR debit is posted
    summary = import_site_returns(loop_site)
    assert (summary["credit_waiting"], summary["new_errors"], summary["credited"]) == (1, 1, 0)
    with session_scope() as s:
        memo = s.scalars(select(CreditMemo)).one()
        assert (memo.status, memo.loop_refund_amount) == ("pending_confirmation", Decimal("999.99"))
        assert s.scalar(select(func.count()).select_from(ArAdjustment)) == 0
        return_id = held(s, made["id"]).id
        [problem] = s.scalars(select(ReturnError).where(ReturnError.code == "refund_mismatch")).all()
        assert f"bobbin returns confirm {return_id}" in problem.message

    # When a person confirms it, then it is posted with its AR debit and the problem is resolved
    with session_scope() as s:
        flow.confirm_credit(s, return_id, by="cli:ops")
    with session_scope() as s:
        memo = s.scalars(select(CreditMemo)).one()
        assert (memo.status, memo.confirmed_by) == ("posted", "cli:ops")
        assert s.scalars(select(ArAdjustment)).one().amount == Decimal("999.99")
        assert s.scalar(select(ReturnError.resolved_at).where(ReturnError.code == "refund_mismatch")) is not None
        assert held(s, made["id"]).state == "credited"


def test_a_fixed_problem_makes_the_rma_on_the_next_poll(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given a return whose shopper matches no customer, on a site with no Shopify customer account
    with session_scope() as s:
        site = s.get(Site, loop_site)
        assert site is not None
        site.settings = {**site.settings, "shopify_customer": None}
    made = loop.create_return(lines=[loop_catalog[0]], fields={"customer": "nobody@example.com"})
    assert import_site_returns(loop_site)["returns_invalid"] == 1

    # When the customer account is set and the site polled again (Loop changed nothing)
    with session_scope() as s:
        site = s.get(Site, loop_site)
        assert site is not None
        site.settings = {**site.settings, "shopify_customer": "SHOPIFY"}
        assert open_site(s, loop_site).settings.model_dump()["shopify_customer"] == "SHOPIFY"
    summary = import_site_returns(loop_site)

    # then the RMA is made and the problem resolved (the order-not-in-the-ERP warning stays)
    assert (summary["new"], summary["rmas_created"]) == (0, 1)
    with session_scope() as s:
        assert held(s, made["id"]).state == "rma"
        still_open = s.scalars(select(ReturnError.code).where(ReturnError.resolved_at.is_(None))).all()
        assert still_open == ["order_unknown"]


def test_a_return_reads_in_full_with_its_rma_receipts_and_postings(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    from services.return_queries import list_returns, resolve_return, return_detail

    # Given a return taken through to its credit
    made = loop.create_return(lines=loop_catalog[:2])
    import_site_returns(loop_site)
    with session_scope() as s:
        number = rma_of(s, made["id"]).number
        flow.receive(s, number, None, source="cli", reference="dock 1")
    writeback.flush(site_id=loop_site)
    import_site_returns(loop_site)
    writeback.flush(site_id=loop_site)

    # When it is looked up by its RMA and by SITE:LOOP_ID, and read
    with session_scope() as s:
        rid = resolve_return(s, number)
        assert resolve_return(s, f"{LOOP_DEMO_SITE}:{made['id']}") == rid
        detail = return_detail(s, rid).as_dict()
        page = list_returns(s, site_id=loop_site, state="credited")

    # then it says everything a person needs, with the numbers the ERP gave
    assert (detail["state"], detail["rma"]["number"], detail["rma"]["status"]) == ("credited", number, "credited")
    assert [(ln["line_no"], ln["received"], ln["outstanding"]) for ln in detail["lines"]] == [(1, 1, 0), (2, 1, 0)]
    assert [r["reference"] for r in detail["receipts"]] == ["dock 1", "dock 1"]
    assert detail["credit_memo"]["status"] == "posted"
    assert [a["offsets"] for a in detail["ar_adjustments"]] == ["credit memo"]
    assert [(a["action"], a["state"]) for a in detail["loop_actions"]] == [
        ("note_rma", "sent"),
        ("process", "sent"),
        ("note_credit", "sent"),
    ]
    assert (page.total, page.counts["credited"], page.rows[0].rma) == (1, 1, number)


def test_a_store_credit_return_processed_in_loop_is_credited_not_void(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given a store-credit return received and processed (Loop makes its gift card, refunds nothing)
    made = loop.create_return(lines=[loop_catalog[0]], outcome="credit")
    import_site_returns(loop_site)
    with session_scope() as s:
        flow.receive(s, rma_of(s, made["id"]).number, None, source="cli")
    writeback.flush(site_id=loop_site)
    assert loop.get_return(made["id"])["gift_card_order_name"]

    # When polled, then it is credited (nothing to post: the gift card is Shopify's), not void
    summary = import_site_returns(loop_site)
    assert (summary["credited"], summary["voided"]) == (1, 0)
    with session_scope() as s:
        assert (held(s, made["id"]).state, rma_of(s, made["id"]).status) == ("credited", "credited")
        assert s.scalar(select(func.count()).select_from(CreditMemo)) == 0


def test_received_units_go_out_with_the_next_inventory_push(
    loop_site: int, loop: LoopSandbox, sandbox: Any, loop_catalog: list[dict[str, Any]]
) -> None:
    from bobbin.demo_sites import load_demo
    from services import inventory

    # Given the brand's Brandboom site with everything pushed (its first push: every SKU)
    load_demo(sandbox.url)
    with session_scope() as s:
        bb_site = int(s.scalar(select(Site.id).where(Site.kind == "brandboom")))
    inventory.push_inventory(bb_site)
    assert inventory.plan_push(bb_site).changes == []

    # When a Loop return of one unit is received (restocked in the Loop site's warehouse)
    made = loop.create_return(lines=[loop_catalog[0]])
    import_site_returns(loop_site)
    with session_scope() as s:
        flow.receive(s, rma_of(s, made["id"]).number, None, source="cli")

    # then the next push of the selling site carries that SKU, one unit more, and nothing else
    before = len(sandbox.imports())
    plan = inventory.plan_push(bb_site)
    assert plan.incremental and {c.sku for c in plan.changes} == {loop_catalog[0]["sku"]}
    assert all(c.previous is not None and c.quantity == c.previous + 1 for c in plan.changes)
    result = inventory.push_inventory(bb_site)
    assert result.rows_sent == len(plan.changes) and len(sandbox.imports()) == before + 1
