"""sales_order, sales_order_line: their references checked once per statement, not once per row

Revision ID: 943588b88e02
Revises: d5e6f7a8b9c0
Create Date: 2026-12-15 09:00:00

Issue 15 (what each part of the tables an import writes costs, ``bench/bench_orders.py``): the
ten foreign keys of the ERP's sales orders and lines were the largest part of writing them — 1.4 s
of Postgres time for 10,000 orders × 10 lines, against 0.06 s for the rows alone — because a
foreign key is checked row by row (a query per row and reference: 280,000 per import). They are
replaced by the same references checked once per statement. The models declare them with
``models.base.references``; ``REFERENCES`` below states them again literally, as a migration must,
and ``tests/integration/test_references.py`` checks the installed triggers against the models:

- the referring table: after an INSERT, one query per reference over the statement's new rows
  (``new_rows``) takes the referenced rows ``FOR KEY SHARE`` — the lock a foreign key takes, so a
  concurrent DELETE of one waits for this transaction and then sees its rows — and fails if one
  is missing; an UPDATE that changes a referring column is checked row by row (it is rare).
- the referenced table: after a DELETE, one query over the deleted rows (``old_rows``) fails if a
  row still refers to one (or, for a sales order's lines, deletes them: ON DELETE CASCADE); an
  UPDATE of the key is refused while referred to; a TRUNCATE fails unless the referring table was
  emptied in the same statement.

Failures are raised as Postgres raises a foreign key's (SQLSTATE 23503 ``foreign_key_violation``,
the old constraint's name, the same DETAIL), so callers see the same IntegrityError.
"""

from __future__ import annotations

from alembic import op

revision = '943588b88e02'
down_revision = 'd5e6f7a8b9c0'
branch_labels = None
depends_on = None

# (table, column, referenced table, its key, on delete): as models/erp.py declares them.
REFERENCES = (
    ("sales_order", "inbound_order_id", "inbound_order", "id", "restrict"),
    ("sales_order", "site_id", "site", "id", "restrict"),
    ("sales_order", "division_code", "division", "code", "restrict"),
    ("sales_order", "customer_code", "customer", "code", "restrict"),
    ("sales_order", "terms_code", "terms", "code", "restrict"),
    ("sales_order", "ship_via_code", "ship_via", "code", "restrict"),
    ("sales_order", "rep_code", "sales_rep", "code", "restrict"),
    ("sales_order", "warehouse_code", "warehouse", "code", "restrict"),
    ("sales_order_line", "sales_order_id", "sales_order", "id", "cascade"),
    ("sales_order_line", "sku", "sku", "sku", "restrict"),
)

# The referring side. INSERT (statement, ``new_rows``) and UPDATE (row, only when a referring
# column changed); TG_ARGV: (column, referenced table, key) triples.
REF_CHILD = r"""
CREATE FUNCTION bobbin_ref_child() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    i integer := 0;
    missing text;
    changed boolean;
    held boolean;
BEGIN
    WHILE i < TG_NARGS LOOP
        IF TG_OP = 'INSERT' THEN
            EXECUTE format(
                'WITH wanted AS (SELECT DISTINCT n.%1$I AS k FROM new_rows n WHERE n.%1$I IS NOT NULL), '
                'held AS (SELECT p.%3$I AS k FROM %2$I p WHERE p.%3$I IN (SELECT k FROM wanted) FOR KEY SHARE OF p) '
                'SELECT CAST(k AS text) FROM (SELECT k FROM wanted EXCEPT ALL SELECT k FROM held) AS m LIMIT 1',
                TG_ARGV[i], TG_ARGV[i + 1], TG_ARGV[i + 2])
            INTO missing;
        ELSE
            EXECUTE format('SELECT $1.%1$I IS DISTINCT FROM $2.%1$I, CAST($1.%1$I AS text)', TG_ARGV[i])
            INTO changed, missing USING NEW, OLD;
            IF changed AND missing IS NOT NULL THEN
                EXECUTE format('SELECT true FROM %1$I p WHERE p.%2$I = $1.%3$I FOR KEY SHARE OF p',
                               TG_ARGV[i + 1], TG_ARGV[i + 2], TG_ARGV[i])
                INTO held USING NEW;  -- (EXECUTE does not set FOUND)
                IF held THEN
                    missing := NULL;
                END IF;
            ELSE
                missing := NULL;
            END IF;
        END IF;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                    TG_TABLE_NAME, format('fk_%s_%s_%s', TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1])
                USING ERRCODE = 'foreign_key_violation',
                    DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[i], missing, TG_ARGV[i + 1]),
                    TABLE = TG_TABLE_NAME,
                    COLUMN = TG_ARGV[i],
                    CONSTRAINT = format('fk_%s_%s_%s', TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1]);
        END IF;
        i := i + 3;
    END LOOP;
    RETURN NULL;
END
$fn$;
"""

# The referenced side. DELETE (statement, ``old_rows``), UPDATE of the key (row) and TRUNCATE
# (statement); TG_ARGV: (key, referring table, its column, 'restrict' | 'cascade') quadruples.
REF_PARENT = r"""
CREATE FUNCTION bobbin_ref_parent() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    i integer := 0;
    still text;
    changed boolean;
    referred boolean;
BEGIN
    WHILE i < TG_NARGS LOOP
        still := NULL;
        IF TG_OP = 'DELETE' AND TG_ARGV[i + 3] = 'cascade' THEN
            EXECUTE format('DELETE FROM %1$I c WHERE c.%2$I IN (SELECT o.%3$I FROM old_rows o)',
                           TG_ARGV[i + 1], TG_ARGV[i + 2], TG_ARGV[i]);
        ELSIF TG_OP = 'DELETE' THEN
            EXECUTE format('SELECT CAST(c.%2$I AS text) FROM %1$I c WHERE c.%2$I IN (SELECT o.%3$I FROM old_rows o) LIMIT 1',
                           TG_ARGV[i + 1], TG_ARGV[i + 2], TG_ARGV[i])
            INTO still;
        ELSIF TG_OP = 'UPDATE' THEN
            EXECUTE format('SELECT $1.%1$I IS DISTINCT FROM $2.%1$I, CAST($1.%1$I AS text)', TG_ARGV[i])
            INTO changed, still USING OLD, NEW;
            IF changed AND still IS NOT NULL THEN
                EXECUTE format('SELECT true FROM %1$I c WHERE c.%2$I = $1.%3$I LIMIT 1', TG_ARGV[i + 1], TG_ARGV[i + 2], TG_ARGV[i])
                INTO referred USING OLD;
                IF referred IS NULL THEN
                    still := NULL;
                END IF;
            ELSE
                still := NULL;
            END IF;
        ELSE  -- TRUNCATE: the referring table must have been emptied by the same statement
            EXECUTE format('SELECT CAST(c.%2$I AS text) FROM %1$I c WHERE c.%2$I IS NOT NULL LIMIT 1',
                           TG_ARGV[i + 1], TG_ARGV[i + 2])
            INTO still;
        END IF;
        IF still IS NOT NULL THEN
            RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"',
                    TG_TABLE_NAME, format('fk_%s_%s_%s', TG_ARGV[i + 1], TG_ARGV[i + 2], TG_TABLE_NAME), TG_ARGV[i + 1]
                USING ERRCODE = 'foreign_key_violation',
                    DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".', TG_ARGV[i], still, TG_ARGV[i + 1]),
                    TABLE = TG_ARGV[i + 1],
                    CONSTRAINT = format('fk_%s_%s_%s', TG_ARGV[i + 1], TG_ARGV[i + 2], TG_TABLE_NAME);
        END IF;
        i := i + 4;
    END LOOP;
    RETURN NULL;
END
$fn$;
"""


def _args(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def trigger_statements() -> list[str]:
    """The CREATE TRIGGER statements for REFERENCES: per referring table an INSERT and an UPDATE
    trigger, per referenced table a DELETE, an UPDATE OF its key and a TRUNCATE trigger."""
    out: list[str] = []
    children: dict[str, list[tuple[str, str, str]]] = {}
    parents: dict[str, list[tuple[str, str, str, str]]] = {}
    for table, column, parent, key, on_delete in REFERENCES:
        children.setdefault(table, []).append((column, parent, key))
        parents.setdefault(parent, []).append((key, table, column, on_delete))
    for table, refs in children.items():
        args = _args([v for ref in refs for v in ref])
        columns = [column for column, _, _ in refs]
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        out.append(
            f"CREATE TRIGGER bobbin_ref_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION bobbin_ref_child({args})"
        )
        out.append(
            f"CREATE TRIGGER bobbin_ref_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION bobbin_ref_child({args})"
        )
    for parent, held in parents.items():
        args = _args([v for ref in held for v in ref])
        key = held[0][0]
        out.append(
            f"CREATE TRIGGER bobbin_ref_parent_delete AFTER DELETE ON {parent} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION bobbin_ref_parent({args})"
        )
        out.append(
            f"CREATE TRIGGER bobbin_ref_parent_update AFTER UPDATE OF {key} ON {parent} "
            f"FOR EACH ROW WHEN (OLD.{key} IS DISTINCT FROM NEW.{key}) EXECUTE FUNCTION bobbin_ref_parent({args})"
        )
        out.append(
            f"CREATE TRIGGER bobbin_ref_parent_truncate AFTER TRUNCATE ON {parent} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION bobbin_ref_parent({args})"
        )
    return out


def _fk_name(table: str, column: str, parent: str) -> str:
    return f"fk_{table}_{column}_{parent}"


def upgrade() -> None:
    for table, column, parent, _, _ in REFERENCES:
        op.drop_constraint(_fk_name(table, column, parent), table, type_='foreignkey')
    op.execute(REF_CHILD)
    op.execute(REF_PARENT)
    for statement in trigger_statements():
        op.execute(statement)


def downgrade() -> None:
    tables = {t for t, *_ in REFERENCES} | {p for _, _, p, _, _ in REFERENCES}
    for table in sorted(tables):
        for name in (
            "bobbin_ref_insert",
            "bobbin_ref_update",
            "bobbin_ref_parent_delete",
            "bobbin_ref_parent_update",
            "bobbin_ref_parent_truncate",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute("DROP FUNCTION bobbin_ref_child()")
    op.execute("DROP FUNCTION bobbin_ref_parent()")
    for table, column, parent, key, on_delete in REFERENCES:
        op.create_foreign_key(
            _fk_name(table, column, parent),
            table,
            parent,
            [column],
            [key],
            ondelete="CASCADE" if on_delete == "cascade" else None,
        )
