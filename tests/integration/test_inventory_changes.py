"""A normal inventory push works out only the SKUs whose inputs changed since the site's last push
(``services.inventory``, "Only what changed"); these tests hold it to the diff of every SKU.

Real Postgres (the journal is written by triggers), the Brandboom sandbox over HTTP. After each
round of changes — stock, allocations, WIP, styles made inactive or moved to another division,
SKUs deleted, orders opened, shipped and voided, a site's default warehouse — the changes the
shortcut finds must be exactly those a diff of every SKU finds, and after the push the partner's
recorded state must equal what every SKU should show. The same holds after a rejected batch, an
interrupted push, and a change undone after either.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from connectors.errors import RetryableError
from core.db import session_scope
from models import Customer, InventoryPushMark, SalesOrder, SalesOrderLine, Site
from services import inventory

pytestmark = pytest.mark.integration

BATCH = 100  # rows per products/import call: the demo's 686 SKUs make 7 batches


@pytest.fixture()
def site_id(db: str, sandbox: Any) -> int:
    """The demo brand and its Brandboom site (mode "both"), its stock moved away from the sandbox's."""
    from bobbin.demo_sites import load_demo

    load_demo(sandbox.url)
    with session_scope() as s:
        site = s.scalars(select(Site)).one()
        site.settings = {**site.settings, "inventory_mode": "both"}
        s.execute(text("UPDATE inventory SET on_hand = on_hand + 7"))
        return site.id


@pytest.fixture(autouse=True)
def _no_stale_faults(sandbox: Any) -> Iterator[None]:
    yield
    sandbox.faults.clear()


def key(change: Any) -> tuple[Any, ...]:
    return (change.sku, change.warehouse, str(change.available_on), change.previous, change.quantity, change.gone)


def assert_exact(site_id: int, *, incremental: bool = True) -> inventory.PushResult:
    """The shortcut's plan is the plan of every SKU; returns it."""
    shortcut = inventory.plan_push(site_id)
    every = inventory.plan_push(site_id, every_sku=True)
    assert not every.incremental and shortcut.incremental is incremental
    assert sorted(map(key, shortcut.changes)) == sorted(map(key, every.changes))
    return shortcut


def assert_settled(site_id: int) -> None:
    """What the partner accepted is what every SKU should show: nothing left to send."""
    assert inventory.plan_push(site_id, every_sku=True).changes == []


def order(number: str, status: str, lines: list[tuple[str, int]], warehouse: str | None, site_id: int | None) -> int:
    with session_scope() as s:
        customer = s.scalars(select(Customer.code).order_by(Customer.code)).first()
        so = SalesOrder(number=number, customer_code=customer, status=status, warehouse_code=warehouse, site_id=site_id)
        s.add(so)
        s.flush()
        s.add_all(
            SalesOrderLine(sales_order_id=so.id, line_no=n, sku=sku, quantity=qty, price=Decimal("10"))
            for n, (sku, qty) in enumerate(lines, start=1)
        )
        return so.id


def sent(sandbox: Any, since: int) -> list[str]:
    return [row["skuNumber"] for imp in sandbox.imports()[since:] for row in imp["rows"]]


def change_things(rng: random.Random, site_id: int, round_no: int) -> None:
    """One round of what an ERP and the partners' orders do to the push's inputs."""
    with session_scope() as s:
        ids = list(s.scalars(text("SELECT id FROM inventory ORDER BY id")))
        skus = list(s.scalars(text("SELECT sku FROM sku ORDER BY sku")))
        for i in rng.sample(ids, 12):
            s.execute(
                text("UPDATE inventory SET on_hand = greatest(0, on_hand + :d), allocated = :a WHERE id = :i"),
                {"d": rng.randint(-6, 6), "a": rng.choice((0, 0, 1, 3, 50)), "i": i},
            )
        for i in rng.sample(ids, 3):  # WIP arrives, moves, or is announced
            day = rng.choice(("NULL", "DATE '2027-03-01'", "future_date + 7", "DATE '2027-02-01'"))
            qty = 0 if day == "NULL" else rng.choice((6, 12, 24))
            s.execute(
                text(f"UPDATE inventory SET future_qty = :q, future_date = {day} WHERE id = :i"), {"q": qty, "i": i}
            )
        s.execute(text("UPDATE inventory SET on_hand = on_hand WHERE id = :i"), {"i": ids[0]})  # no change at all
        if round_no % 3 == 0:  # a style leaves the catalog, another comes back
            s.execute(text("UPDATE style SET active = NOT active WHERE id = :i"), {"i": rng.randint(1, 40)})
        if round_no % 3 == 1:  # a style moves to the other division, or to none
            s.execute(
                text("UPDATE style SET division_code = :d WHERE id = :i"),
                {"d": rng.choice(("MAIN", None, "WHSL")), "i": rng.randint(1, 40)},
            )
        if round_no % 4 == 2:  # a warehouse row of a SKU goes, then comes back in a later round
            s.execute(text("DELETE FROM inventory WHERE id = :i"), {"i": rng.choice(ids)})
        if round_no % 4 == 3:
            s.execute(
                text(
                    "INSERT INTO inventory (sku, warehouse_code, on_hand, allocated, future_qty) "
                    "SELECT k.sku, w.code, 9, 0, 0 FROM sku k CROSS JOIN warehouse w WHERE NOT EXISTS "
                    "(SELECT 1 FROM inventory i WHERE i.sku = k.sku AND i.warehouse_code = w.code) LIMIT 2"
                )
            )
        open_ids = list(s.scalars(text("SELECT id FROM sales_order WHERE status = 'open' ORDER BY id")))
    # Orders: one opened at a warehouse, one of the site naming none (its default), one of no site
    # and no warehouse (placed over the SKU's warehouses); an open one shipped, another voided.
    order(f"R{round_no}-A", "open", [(rng.choice(skus), rng.randint(1, 5)) for _ in range(3)], "WEST", None)
    order(f"R{round_no}-B", "open", [(rng.choice(skus), rng.randint(1, 5))], None, site_id)
    order(f"R{round_no}-C", "open", [(rng.choice(skus), rng.randint(1, 9))], None, None)
    with session_scope() as s:
        for oid, status in zip(rng.sample(open_ids, min(2, len(open_ids))), ("shipped", "void"), strict=False):
            s.execute(text("UPDATE sales_order SET status = :st WHERE id = :i"), {"st": status, "i": oid})
        if round_no == 4:  # the site's default warehouse moves: its orders naming none hold stock elsewhere
            site = s.get_one(Site, site_id)
            site.settings = {**site.settings, "default_warehouse": "WEST"}
        if round_no == 5:  # a SKU leaves the ERP (its inventory rows go with it)
            s.execute(text("DELETE FROM sku WHERE sku = (SELECT max(sku) FROM sku)"))


@pytest.mark.parametrize(
    "settings",
    [{}, {"inventory_warehouses": {"MAIN": ""}, "inventory_cap": 25, "inventory_floor": 3}],
    ids=["every-warehouse", "main-capped"],
)
def test_the_shortcut_finds_exactly_the_changes_of_every_sku(site_id: int, sandbox: Any, settings: Any) -> None:
    # Given the site's settings and a first push (every SKU: the site has no mark yet)
    with session_scope() as s:
        site = s.get_one(Site, site_id)
        site.settings = {**site.settings, **settings}
    first = inventory.push_inventory(site_id, batch_rows=BATCH)
    assert not first.incremental and first.rows_accepted == first.rows_sent > 0
    assert_settled(site_id)
    rng = random.Random(f"inventory-changes:{sorted(settings)}")
    for round_no in range(8):
        # When the ERP and the orders change
        change_things(rng, site_id, round_no)
        # Then the shortcut plans exactly what a diff of every SKU plans
        plan = assert_exact(site_id)
        # And the push sends that, after which the partner's state is what every SKU should show
        before = len(sandbox.imports())
        result = inventory.push_inventory(site_id, batch_rows=BATCH)
        assert result.incremental and result.changed == len(plan.changes)
        assert sorted(set(sent(sandbox, before))) == sorted({c.sku for c in plan.changes})
        assert_settled(site_id)
        # And the next push has nothing to send
        assert inventory.push_inventory(site_id, batch_rows=BATCH).rows_sent == 0


def test_a_change_undone_after_an_interrupted_push_is_still_sent(site_id: int, sandbox: Any) -> None:
    # Given everything was pushed, then 150 SKUs changed (two batches)
    inventory.push_inventory(site_id, batch_rows=BATCH)
    with session_scope() as s:
        rows = s.execute(
            text(
                "UPDATE inventory SET on_hand = on_hand + 4 WHERE id IN "
                "(SELECT min(id) FROM inventory GROUP BY sku ORDER BY sku LIMIT 150) RETURNING id, sku"
            )
        ).all()
    # And an open order holds stock of a SKU the first batch carries, another of a SKU after them all
    held_sku = min(sku for _, sku in rows)
    held_order = order("HOLD-1", "open", [(held_sku, 2)], "MAIN", None)
    with session_scope() as s:
        last_sku = s.scalar(
            text(
                "SELECT max(i.sku) FROM inventory i JOIN sku k ON k.sku = i.sku JOIN style st ON st.number = "
                "k.style_number WHERE st.active AND i.warehouse_code = 'MAIN' AND i.on_hand - i.allocated >= 2"
            )
        )
    assert last_sku > max(sku for _, sku in rows)
    order("HOLD-2", "open", [(last_sku, 2)], "MAIN", None)
    # When the push fails at its second batch (the partner down: the client's retries run out)
    calls = {"n": 0}

    def fail_second(done: int, total: int) -> None:
        calls["n"] += 1
        if done == BATCH:
            sandbox.inject_fault(path="products/import", status=503, count=5)

    before = len(sandbox.imports())
    with pytest.raises(RetryableError):
        inventory.push_inventory(site_id, batch_rows=BATCH, progress=fail_second)
    first_batch = sent(sandbox, before)
    assert len(first_batch) == BATCH and held_sku in first_batch and last_sku not in first_batch
    # And then every change is undone: the stock back as it was, the order voided
    with session_scope() as s:
        s.execute(
            text("UPDATE inventory SET on_hand = on_hand - 4 WHERE id = ANY(:ids)"), {"ids": [i for i, _ in rows]}
        )
        s.execute(text("UPDATE sales_order SET status = 'void' WHERE id = :i"), {"i": held_order})
    # Then the next push still sends the first batch's SKUs back to what they were, and the SKU the
    # open order still holds (recorded as held by the push that did not get to it)
    plan = assert_exact(site_id)
    assert sorted({c.sku for c in plan.changes}) == sorted([*first_batch, last_sku])
    before = len(sandbox.imports())
    inventory.push_inventory(site_id, batch_rows=BATCH)
    assert sorted(sent(sandbox, before)) == sorted([*first_batch, last_sku])
    assert_settled(site_id)


def test_a_rejected_batch_is_worked_out_again_until_it_gets_through(site_id: int, sandbox: Any) -> None:
    # Given everything was pushed, then 120 SKUs changed
    inventory.push_inventory(site_id, batch_rows=BATCH)
    with session_scope() as s:
        s.execute(
            text(
                "UPDATE inventory SET allocated = allocated + 1 WHERE id IN "
                "(SELECT min(id) FROM inventory WHERE on_hand > 3 GROUP BY sku ORDER BY sku LIMIT 120)"
            )
        )
    # When Brandboom refuses the first batch
    sandbox.inject_fault(path="products/import", status=400, count=1)
    refused = inventory.push_inventory(site_id, batch_rows=BATCH)
    assert refused.batches_rejected == 1 and refused.rows_accepted == 20
    # Then the next pushes work those SKUs out again (the journal has them) until they get through
    plan = assert_exact(site_id)
    assert len(plan.changes) == BATCH
    assert inventory.push_inventory(site_id, batch_rows=BATCH).rows_accepted == BATCH
    assert_settled(site_id)
    assert assert_exact(site_id).changes == []


def test_every_sku_is_worked_out_after_a_settings_change_or_a_truncate(site_id: int, sandbox: Any) -> None:
    inventory.push_inventory(site_id, batch_rows=BATCH)
    assert inventory.push_inventory(site_id, batch_rows=BATCH).incremental
    # When a setting the numbers depend on changes, the next push works out every SKU, exactly
    with session_scope() as s:
        site = s.get_one(Site, site_id)
        site.settings = {**site.settings, "inventory_cap": 10}
    assert_exact(site_id, incremental=False)
    capped = inventory.push_inventory(site_id, batch_rows=BATCH)
    assert not capped.incremental and capped.rows_sent > 0
    assert_settled(site_id)
    assert inventory.push_inventory(site_id, batch_rows=BATCH).incremental
    # When the inventory table is emptied and loaded again, every SKU again
    with session_scope() as s:
        saved = s.execute(
            text("SELECT sku, warehouse_code, on_hand, allocated, future_qty, future_date FROM inventory")
        ).all()
        s.execute(text("TRUNCATE inventory"))
        s.execute(
            text(
                "INSERT INTO inventory (sku, warehouse_code, on_hand, allocated, future_qty, future_date) "
                "VALUES (:sku, :wh, :on_hand + 1, :allocated, :fq, :fd)"
            ),
            [{"sku": r[0], "wh": r[1], "on_hand": r[2], "allocated": r[3], "fq": r[4], "fd": r[5]} for r in saved],
        )
    assert_exact(site_id, incremental=False)
    inventory.push_inventory(site_id, batch_rows=BATCH)
    assert_settled(site_id)


def test_the_mark_moves_only_when_a_push_gets_to_its_end(site_id: int, sandbox: Any) -> None:
    inventory.push_inventory(site_id, batch_rows=BATCH)
    with session_scope() as s:
        mark = s.get_one(InventoryPushMark, site_id)
        since, armed = mark.since, mark.armed_after
    assert since is not None and armed is not None and since >= armed
    with session_scope() as s:
        s.execute(text("UPDATE inventory SET on_hand = on_hand + 1"))
    sandbox.inject_fault(path="products/import", status=503, count=5)
    with pytest.raises(RetryableError):
        inventory.push_inventory(site_id, batch_rows=BATCH)
    with session_scope() as s:
        assert s.get_one(InventoryPushMark, site_id).since == since
    inventory.push_inventory(site_id, batch_rows=BATCH)
    with session_scope() as s:
        moved = s.get_one(InventoryPushMark, site_id).since
        assert moved is not None and moved > since
        # the journal keeps nothing older than the only mark
        assert not s.scalar(
            text("SELECT count(*) FROM inventory_push_change WHERE txid < (SELECT min(since) FROM inventory_push_mark)")
        )
    assert_settled(site_id)


def test_marks_from_another_servers_transaction_ids_are_cleared(site_id: int, sandbox: Any) -> None:
    # Given a site pushed once, and then the database restored from a dump into a new server: its
    # mark and journal carry transaction ids the new server has not reached
    inventory.push_inventory(site_id, batch_rows=BATCH)
    far = 10**15
    with session_scope() as s:
        s.execute(text("UPDATE inventory_push_mark SET since = :f, armed_after = :f - 10"), {"f": far})
        s.execute(text("INSERT INTO inventory_push_change (sku, txid) VALUES ('NOSUCH', :f)"), {"f": far + 5})
        s.execute(text("UPDATE inventory SET on_hand = on_hand + 2 WHERE id IN (SELECT id FROM inventory LIMIT 9)"))
    # When the next push runs, it works out every SKU (the changes made since are sent, exactly)
    every = inventory.plan_push(site_id, every_sku=True)
    assert every.changes
    result = inventory.push_inventory(site_id, batch_rows=BATCH)
    assert not result.incremental and result.changed == len(every.changes)
    assert_settled(site_id)
    # And the mark is armed again on this server's ids, the old journal gone: the next push is short
    with session_scope() as s:
        mark = s.get_one(InventoryPushMark, site_id)
        assert mark.armed_after is not None and mark.armed_after < far
        assert not s.scalar(text("SELECT count(*) FROM inventory_push_change WHERE txid >= :f"), {"f": far})
    with session_scope() as s:
        s.execute(text("UPDATE inventory SET on_hand = on_hand + 1 WHERE id = (SELECT min(id) FROM inventory)"))
    plan = assert_exact(site_id)
    assert plan.changes and inventory.push_inventory(site_id, batch_rows=BATCH).incremental
    assert_settled(site_id)


def test_the_reconcilers_prune_keeps_the_journal_small_and_a_stale_mark_works_out_every_sku(
    site_id: int, sandbox: Any
) -> None:
    inventory.push_inventory(site_id, batch_rows=BATCH)
    with session_scope() as s:
        s.execute(text("UPDATE inventory SET on_hand = on_hand + 1 WHERE id IN (SELECT id FROM inventory LIMIT 30)"))
    # While the site's mark is recent, the prune keeps what its next push needs
    assert inventory.prune_changes() == 0
    assert len(assert_exact(site_id).changes) > 0
    # When no push moved the mark for longer than MARK_STALE_DAYS, the prune lets the journal go
    with session_scope() as s:
        s.execute(
            text("UPDATE inventory_push_mark SET updated_at = now() - make_interval(days => :d)"),
            {"d": inventory.MARK_STALE_DAYS + 1},
        )
    assert inventory.prune_changes() > 0
    with session_scope() as s:
        assert s.get_one(InventoryPushMark, site_id).since is None
    # And the site's next push works out every SKU, sending exactly what changed
    plan = assert_exact(site_id, incremental=False)
    result = inventory.push_inventory(site_id, batch_rows=BATCH)
    assert not result.incremental and result.changed == len(plan.changes) > 0
    assert_settled(site_id)
    assert inventory.push_inventory(site_id, batch_rows=BATCH).incremental
