"""returns through the outbox: an outbox row names an order or a return; the returns poll's cursor

Revision ID: f1a2b3c4d5e6
Revises: e0f1a2b3c4d5
Create Date: 2026-12-10 09:00:00

Issue 16. What Bobbin asks Loop to do with a return (process it, flag it, add a note) goes out
through the same outbox as the orders' writebacks — claimed under the row's advisory lock, the
attempt committed before the call, an uncertain attempt read back before it is sent again — so an
outbox row now names either a held order or a held return (exactly one of the two, a CHECK), once
per record and change.

``return_cursor``: per site, the ``updated_at`` the returns poll reads Loop's list from next.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'f1a2b3c4d5e6'
down_revision = 'e0f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('outbox', 'inbound_order_id', existing_type=sa.Integer(), nullable=True)
    op.add_column('outbox', sa.Column('inbound_return_id', sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f('fk_outbox_inbound_return_id_inbound_return'), 'outbox', 'inbound_return',
        ['inbound_return_id'], ['id'], ondelete='CASCADE',
    )
    op.create_unique_constraint(op.f('uq_outbox_inbound_return_id_status'), 'outbox', ['inbound_return_id', 'status'])
    op.create_check_constraint(
        op.f('ck_outbox_one_record'), 'outbox', '(inbound_order_id IS NULL) <> (inbound_return_id IS NULL)'
    )
    op.create_table('return_cursor',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('updated_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_return_cursor_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_return_cursor'))
    )


def downgrade() -> None:
    op.drop_table('return_cursor')
    op.execute("DELETE FROM outbox WHERE inbound_return_id IS NOT NULL")
    op.drop_constraint(op.f('ck_outbox_one_record'), 'outbox', type_='check')
    op.drop_constraint(op.f('uq_outbox_inbound_return_id_status'), 'outbox', type_='unique')
    op.drop_constraint(op.f('fk_outbox_inbound_return_id_inbound_return'), 'outbox', type_='foreignkey')
    op.drop_column('outbox', 'inbound_return_id')
    op.alter_column('outbox', 'inbound_order_id', existing_type=sa.Integer(), nullable=False)
