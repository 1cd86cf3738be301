"""inventory push changes: a journal of the SKUs whose push inputs changed, per-site marks, held snapshot

Revision ID: b7c8d9e0f1a2
Revises: a1c2e3f4b5d6
Create Date: 2026-12-06 09:00:00

A normal inventory push used to work out every SKU of the catalog to find the 1 % that changed.
It now works out only the SKUs whose inputs changed since the site's last push
(``services.inventory``, "Only what changed"):

- ``inventory_push_change``: the journal. Statement-level triggers on ``inventory`` (insert,
  update of a pushed column, delete), ``sku`` (its style changes, delete) and ``style`` (active or
  division changes) write the SKUs a statement touched, with the writing transaction's id; a
  TRUNCATE of any of them writes a NULL SKU (every SKU). Nothing is written while no site has a
  mark (no push would read it).
- ``inventory_push_mark``: per site, the transaction id its next push reads the journal from, and
  the push settings that push worked with.
- ``inventory_push_held``: per site, what open orders held per SKU and warehouse at its last push.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b7c8d9e0f1a2'
down_revision = 'a1c2e3f4b5d6'
branch_labels = None
depends_on = None

ANY_MARK = "IF NOT EXISTS (SELECT 1 FROM inventory_push_mark) THEN RETURN NULL; END IF;"

# (trigger function, body): one per table and event, each reading its statement's transition tables
# (written out in full, so each body is literal SQL).
FUNCTIONS = {
    "inventory_push_note_inventory_insert": "INSERT INTO inventory_push_change (sku) SELECT DISTINCT sku FROM new_rows;",
    "inventory_push_note_inventory_update": """INSERT INTO inventory_push_change (sku) SELECT DISTINCT s FROM new_rows n JOIN old_rows o ON o.id = n.id
        CROSS JOIN LATERAL (VALUES (n.sku), (o.sku)) AS v(s)
        WHERE (n.sku, n.warehouse_code, n.on_hand, n.allocated, n.future_qty, n.future_date)
          IS DISTINCT FROM (o.sku, o.warehouse_code, o.on_hand, o.allocated, o.future_qty, o.future_date);""",
    "inventory_push_note_inventory_delete": "INSERT INTO inventory_push_change (sku) SELECT DISTINCT sku FROM old_rows;",
    "inventory_push_note_sku_update": """INSERT INTO inventory_push_change (sku) SELECT DISTINCT s FROM new_rows n JOIN old_rows o ON o.id = n.id
        CROSS JOIN LATERAL (VALUES (n.sku), (o.sku)) AS v(s)
        WHERE (n.sku, n.style_number) IS DISTINCT FROM (o.sku, o.style_number);""",
    "inventory_push_note_sku_delete": "INSERT INTO inventory_push_change (sku) SELECT DISTINCT sku FROM old_rows;",
    "inventory_push_note_style_update": """INSERT INTO inventory_push_change (sku) SELECT DISTINCT k.sku FROM new_rows n JOIN old_rows o ON o.id = n.id
        JOIN sku k ON k.style_number IN (n.number, o.number)
        WHERE (n.number, n.active, n.division_code) IS DISTINCT FROM (o.number, o.active, o.division_code);""",
    "inventory_push_note_truncate": "INSERT INTO inventory_push_change (sku) VALUES (NULL);",
}
# (trigger name, table, event, function, REFERENCING clause)
TRIGGERS = (
    ("inventory_push_note_insert", "inventory", "INSERT", "inventory_push_note_inventory_insert", "NEW TABLE AS new_rows"),
    ("inventory_push_note_update", "inventory", "UPDATE", "inventory_push_note_inventory_update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("inventory_push_note_delete", "inventory", "DELETE", "inventory_push_note_inventory_delete", "OLD TABLE AS old_rows"),
    ("inventory_push_note_truncate", "inventory", "TRUNCATE", "inventory_push_note_truncate", None),
    ("inventory_push_note_update", "sku", "UPDATE", "inventory_push_note_sku_update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("inventory_push_note_delete", "sku", "DELETE", "inventory_push_note_sku_delete", "OLD TABLE AS old_rows"),
    ("inventory_push_note_truncate", "sku", "TRUNCATE", "inventory_push_note_truncate", None),
    ("inventory_push_note_update", "style", "UPDATE", "inventory_push_note_style_update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("inventory_push_note_truncate", "style", "TRUNCATE", "inventory_push_note_truncate", None),
)


def upgrade() -> None:
    op.create_table('inventory_push_change',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=True),
    sa.Column('txid', sa.BigInteger(), server_default=sa.text('pg_current_xact_id()::text::bigint'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_push_change'))
    )
    op.create_index(op.f('ix_inventory_push_change_txid'), 'inventory_push_change', ['txid'], unique=False)
    op.create_table('inventory_push_mark',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.BigInteger(), nullable=True),
    sa.Column('armed_after', sa.BigInteger(), nullable=True),
    sa.Column('basis', sa.String(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_inventory_push_mark_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_inventory_push_mark'))
    )
    op.create_table('inventory_push_held',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=False),
    sa.Column('warehouse', sa.String(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_inventory_push_held_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_push_held'))
    )
    op.create_index('uq_inventory_push_held_key', 'inventory_push_held', ['site_id', 'sku', 'warehouse'], unique=True, postgresql_nulls_not_distinct=True)
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {ANY_MARK} {body} RETURN NULL; END $$"
        )
    for name, table, event, function, referencing in TRIGGERS:
        ref = f"REFERENCING {referencing} " if referencing else ""
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} {ref}FOR EACH STATEMENT EXECUTE FUNCTION {function}()")


def downgrade() -> None:
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index('uq_inventory_push_held_key', table_name='inventory_push_held', postgresql_nulls_not_distinct=True)
    op.drop_table('inventory_push_held')
    op.drop_table('inventory_push_mark')
    op.drop_index(op.f('ix_inventory_push_change_txid'), table_name='inventory_push_change')
    op.drop_table('inventory_push_change')
