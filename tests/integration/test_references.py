"""The ERP sales orders' and lines' references, checked once per statement by triggers (migration
943588b88e02, ``models.base.references``) instead of row-by-row foreign keys: what a foreign key
guaranteed still holds, for every declared reference, on a real Postgres.

- a row that refers to nothing is refused (INSERT by statement or COPY, UPDATE), with the error a
  foreign key raises (SQLSTATE 23503, the constraint's name, the same DETAIL);
- a row referred to cannot be deleted, re-keyed or truncated away (a sales order's lines go with
  it: ON DELETE CASCADE);
- concurrent writers: the referring side locks what it refers to (``FOR KEY SHARE``), so a
  DELETE of it waits for that transaction and then fails, and an INSERT referring to a row being
  deleted waits and then fails — no orphan either way.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.errors
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import models
from core.db import engine_for
from models import (
    Customer,
    Division,
    InboundOrder,
    SalesOrder,
    SalesOrderLine,
    SalesRep,
    ShipVia,
    Site,
    Sku,
    Style,
    Terms,
    Warehouse,
)
from models.base import PER_STATEMENT

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Ref:
    table: str
    column: str
    parent: str
    key: str
    on_delete: str

    @property
    def constraint(self) -> str:
        return f"fk_{self.table}_{self.column}_{self.parent}"

    def __str__(self) -> str:
        return f"{self.table}.{self.column}->{self.parent}.{self.key}"


def declared() -> list[Ref]:
    """Every reference the models declare with ``models.base.references``."""
    return [
        Ref(table.name, fk.parent.name, fk.column.table.name, fk.column.name, fk.info[PER_STATEMENT])
        for table in models.Base.metadata.sorted_tables
        for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name)
        if PER_STATEMENT in fk.info
    ]


REFS = declared()


def test_the_models_declare_the_sales_orders_and_lines_references() -> None:
    assert {str(r) for r in REFS} == {
        "sales_order.inbound_order_id->inbound_order.id",
        "sales_order.site_id->site.id",
        "sales_order.division_code->division.code",
        "sales_order.customer_code->customer.code",
        "sales_order.terms_code->terms.code",
        "sales_order.ship_via_code->ship_via.code",
        "sales_order.rep_code->sales_rep.code",
        "sales_order.warehouse_code->warehouse.code",
        "sales_order_line.sales_order_id->sales_order.id",
        "sales_order_line.sku->sku.sku",
    }
    assert {str(r) for r in REFS if r.on_delete == "cascade"} == {"sales_order_line.sales_order_id->sales_order.id"}


def _trigger_args(session: Session, name: str) -> list[tuple[str, list[str]]]:
    rows = session.execute(
        text(
            "SELECT c.relname, t.tgargs FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = :name ORDER BY c.relname"
        ),
        {"name": name},
    ).all()
    return [(table, bytes(args).decode().split("\x00")[:-1]) for table, args in rows]


def test_the_installed_triggers_check_exactly_the_declared_references(session: Session) -> None:
    """Models and migrations agree on the references (alembic does not compare triggers)."""
    want_child = {(r.table, r.column, r.parent, r.key) for r in REFS}
    want_parent = {(r.parent, r.key, r.table, r.column, r.on_delete) for r in REFS}
    for name in ("bobbin_ref_insert", "bobbin_ref_update"):
        got = {(t, *a[i : i + 3]) for t, a in _trigger_args(session, name) for i in range(0, len(a), 3)}
        assert got == want_child, name
    for name in ("bobbin_ref_parent_delete", "bobbin_ref_parent_update", "bobbin_ref_parent_truncate"):
        got = {(t, *a[i : i + 4]) for t, a in _trigger_args(session, name) for i in range(0, len(a), 4)}
        assert got == want_parent, name
    # and no foreign key is left beside them
    fks = session.scalars(
        text(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid IN ('sales_order'::regclass, 'sales_order_line'::regclass)"
        )
    ).all()
    assert fks == []


# --- a small ERP: one row of each referenced table, a sales order and its line ----------------

VALUES = {
    "inbound_order_id": None,  # filled from the rows made
    "site_id": None,
    "division_code": "D2",  # (D1 has the style: its own foreign key would answer first)
    "customer_code": "C1",
    "terms_code": "T1",
    "ship_via_code": "V1",
    "rep_code": "R1",
    "warehouse_code": "W1",
    "sku": "S1",
}
MISSING = {"inbound_order_id": 999_999, "site_id": 999_999, "sales_order_id": 999_999}


@pytest.fixture()
def erp(db: str) -> Iterator[dict[str, Any]]:
    with Session(engine_for(db), expire_on_commit=False) as s:
        s.add_all(
            [
                Division(code="D1", name="Wholesale"),
                Division(code="D2", name="Retail"),
                Terms(code="T1", description="Net 30"),
                ShipVia(code="V1", description="Ground"),
                SalesRep(code="R1", name="Kim"),
                Warehouse(code="W1", name="Main"),
                Customer(code="C1", name="Marigold"),
                Customer(code="C2", name="Unused"),
                Style(number="ST1", description="Tee", division_code="D1"),
            ]
        )
        s.flush()
        s.add_all(
            [
                Sku(sku="S1", style_number="ST1", color_code="BLK", size="M"),
                Sku(sku="S2", style_number="ST1", color_code="BLK", size="L"),
            ]
        )
        site = Site(name="refs", kind="brandboom", base_url="http://127.0.0.1:9", credentials_encrypted="x")
        # the sales order's site: one with no held order (whose foreign key would answer first)
        order_site = Site(name="refs-2", kind="brandboom", base_url="http://127.0.0.1:9", credentials_encrypted="x")
        s.add_all([site, order_site])
        s.flush()
        inbound = InboundOrder(site_id=site.id, partner_order_id="P1", raw={}, raw_hash="h", state="imported")
        spare = InboundOrder(site_id=site.id, partner_order_id="P2", raw={}, raw_hash="h", state="valid")
        s.add_all([inbound, spare])
        s.flush()
        values = {**VALUES, "inbound_order_id": inbound.id, "site_id": order_site.id}
        so = SalesOrder(number="SO1", **{k: v for k, v in values.items() if k != "sku"})
        s.add(so)
        s.flush()
        s.add(SalesOrderLine(sales_order_id=so.id, line_no=1, sku="S1", quantity=1, price=1))
        s.commit()
        # what a second sales order or line may refer to (an inbound order is imported once)
        valid = {**values, "inbound_order_id": spare.id, "sales_order_id": so.id, "sku": "S2"}
        yield {"db": db, "values": {**values, "sales_order_id": so.id}, "valid": valid, "so": so.id}


def _missing(column: str) -> Any:
    return MISSING.get(column, "NOPE")


def _child_insert(s: Session, ref: Ref, erp: dict[str, Any], value: Any) -> None:
    v = erp["valid"]
    if ref.table == "sales_order":
        row = {k: v[k] for k in VALUES if k != "sku"}
        row.update({"number": "SO2", "inbound_order_id": v["inbound_order_id"], ref.column: value})
        s.execute(SalesOrder.__table__.insert(), row)
    else:
        row = {"sales_order_id": v["sales_order_id"], "line_no": 2, "sku": "S2", "quantity": 1, "price": 1}
        row[ref.column] = value
        s.execute(SalesOrderLine.__table__.insert(), row)


def _violation(err: IntegrityError) -> psycopg2.errors.ForeignKeyViolation:
    assert isinstance(err.orig, psycopg2.errors.ForeignKeyViolation), err
    return err.orig


@pytest.mark.parametrize("ref", REFS, ids=str)
def test_a_row_referring_to_nothing_is_refused_like_a_foreign_key(erp: dict[str, Any], ref: Ref) -> None:
    with Session(engine_for(erp["db"])) as s:
        # the row referring to what exists goes in ...
        _child_insert(s, ref, erp, erp["valid"][ref.column])
        s.rollback()
        # ... and pointing at nothing, it is refused
        with pytest.raises(IntegrityError) as caught:
            _child_insert(s, ref, erp, _missing(ref.column))
        e = _violation(caught.value)
        assert e.diag.constraint_name == ref.constraint
        assert (
            e.diag.message_detail
            == f'Key ({ref.column})=({_missing(ref.column)}) is not present in table "{ref.parent}".'
        )
        s.rollback()
        # an UPDATE that points the existing row at nothing
        table = ref.table
        with pytest.raises(IntegrityError) as caught:
            s.execute(text(f"UPDATE {table} SET {ref.column} = :v"), {"v": _missing(ref.column)})
        assert _violation(caught.value).diag.constraint_name == ref.constraint
        s.rollback()
        # an UPDATE that leaves the reference as it was goes through
        s.execute(text(f"UPDATE {table} SET {ref.column} = {ref.column}"))
        s.rollback()


def test_a_copy_with_one_row_referring_to_nothing_fails_whole(erp: dict[str, Any]) -> None:
    """The import's bulk path (COPY): the statement fails, naming the key, and writes nothing."""
    so = erp["so"]
    rows = "".join(f"{so},{n},S{1 + n % 2},1,1\n" for n in range(2, 1002)) + f"{so},1002,GHOST,1,1\n"
    raw = engine_for(erp["db"]).raw_connection()
    try:
        cur = raw.cursor()
        with pytest.raises(psycopg2.errors.ForeignKeyViolation) as caught:
            cur.copy_expert(
                "COPY sales_order_line (sales_order_id, line_no, sku, quantity, price) FROM STDIN WITH (FORMAT csv)",
                io.StringIO(rows),
            )
        assert caught.value.diag.message_detail == 'Key (sku)=(GHOST) is not present in table "sku".'
        raw.rollback()
        cur.execute("SELECT count(*) FROM sales_order_line")
        assert cur.fetchone() == (1,)
    finally:
        raw.close()


@pytest.mark.parametrize("ref", [r for r in REFS if r.on_delete == "restrict"], ids=str)
def test_a_row_referred_to_cannot_be_deleted_rekeyed_or_truncated(erp: dict[str, Any], ref: Ref) -> None:
    value = erp["values"][ref.column]
    with Session(engine_for(erp["db"])) as s:
        with pytest.raises(IntegrityError) as caught:
            s.execute(text(f"DELETE FROM {ref.parent} WHERE {ref.key} = :v"), {"v": value})
        e = _violation(caught.value)
        assert e.diag.constraint_name == ref.constraint
        assert e.diag.message_detail == f'Key ({ref.key})=({value}) is still referenced from table "{ref.table}".'
        s.rollback()
        new_key = 888_888 if isinstance(value, int) else "RENAMED"
        with pytest.raises(IntegrityError):
            s.execute(text(f"UPDATE {ref.parent} SET {ref.key} = :n WHERE {ref.key} = :v"), {"n": new_key, "v": value})
        s.rollback()
        with pytest.raises(IntegrityError):  # CASCADE empties the tables with foreign keys, not this one
            s.execute(text(f"TRUNCATE {ref.parent} CASCADE"))
        s.rollback()
        # the referring rows gone first, the row goes (and a whole-schema TRUNCATE is fine)
        s.execute(text(f"DELETE FROM {ref.table} WHERE {ref.column} = :v"), {"v": value})
        s.execute(text(f"DELETE FROM {ref.parent} WHERE {ref.key} = :v"), {"v": value})
        s.rollback()


def test_an_unreferenced_row_is_deleted_and_rekeyed_freely(erp: dict[str, Any]) -> None:
    with Session(engine_for(erp["db"])) as s:
        s.execute(text("UPDATE customer SET code = 'C3' WHERE code = 'C2'"))
        assert s.scalars(text("DELETE FROM customer WHERE code = 'C3' RETURNING code")).all() == ["C3"]
        assert s.scalars(text("DELETE FROM sku WHERE sku = 'S2' RETURNING sku")).all() == ["S2"]
        s.commit()


def test_deleting_a_sales_order_deletes_its_lines(erp: dict[str, Any]) -> None:
    with Session(engine_for(erp["db"])) as s:
        s.execute(text("DELETE FROM sales_order WHERE id = :i"), {"i": erp["so"]})
        s.commit()
        assert s.scalar(text("SELECT count(*) FROM sales_order_line")) == 0
        # and with no line left, the SKU it named may go
        assert s.scalars(text("DELETE FROM sku WHERE sku = 'S1' RETURNING sku")).all() == ["S1"]
        s.commit()


def _conn(db: str) -> Any:
    """A connection of its own (two transactions at once)."""
    return psycopg2.connect(make_url(db).set(drivername="postgresql").render_as_string(hide_password=False))


def test_a_delete_waits_for_the_writer_that_refers_to_the_row_then_fails(erp: dict[str, Any]) -> None:
    so = erp["so"]
    writer, deleter = _conn(erp["db"]), _conn(erp["db"])
    try:
        w, d = writer.cursor(), deleter.cursor()
        w.execute(
            "INSERT INTO sales_order_line (sales_order_id, line_no, sku, quantity, price) VALUES (%s, 2, 'S2', 1, 1)",
            (so,),
        )
        d.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg2.errors.LockNotAvailable):  # it waits on the writer's lock
            d.execute("DELETE FROM sku WHERE sku = 'S2'")
        deleter.rollback()
        writer.commit()
        with pytest.raises(psycopg2.errors.ForeignKeyViolation):  # and then sees the line
            d.execute("DELETE FROM sku WHERE sku = 'S2'")
        deleter.rollback()
    finally:
        writer.close()
        deleter.close()


def test_a_writer_referring_to_a_row_being_deleted_waits_then_fails(erp: dict[str, Any]) -> None:
    so = erp["so"]
    writer, deleter = _conn(erp["db"]), _conn(erp["db"])
    try:
        w, d = writer.cursor(), deleter.cursor()
        d.execute("DELETE FROM sku WHERE sku = 'S2'")
        w.execute("SET lock_timeout = '300ms'")
        insert = (
            "INSERT INTO sales_order_line (sales_order_id, line_no, sku, quantity, price) VALUES (%s, 2, 'S2', 1, 1)"
        )
        with pytest.raises(psycopg2.errors.LockNotAvailable):  # it waits for the delete's transaction
            w.execute(insert, (so,))
        writer.rollback()
        deleter.commit()
        with pytest.raises(psycopg2.errors.ForeignKeyViolation):
            w.execute(insert, (so,))
        writer.rollback()
        w.execute("SELECT count(*) FROM sales_order_line WHERE sku = 'S2'")
        assert w.fetchone() == (0,)
    finally:
        writer.close()
        deleter.close()
