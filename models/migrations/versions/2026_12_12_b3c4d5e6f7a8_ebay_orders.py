"""eBay sales in: the order list's cursor, freight and marketplace tax on a sales order, deposits

Revision ID: b3c4d5e6f7a8
Revises: a2b3c4d5e6f7
Create Date: 2026-12-12 09:00:00

Issue 17, the order side:

- ``order_cursor``: where a site read by last-modified time (eBay's getOrders) reads from next;
- ``sales_order.freight`` (shipping + insurance + handling as one amount, seed 004) and
  ``sales_order.marketplace_tax`` (tax eBay collected and remits itself);
- ``customer_deposit``: what the buyer paid for a sales order, one per order, applied to its invoice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b3c4d5e6f7a8'
down_revision = 'a2b3c4d5e6f7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'order_cursor',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('modified_since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_order_cursor_site_id_site'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('site_id', name=op.f('pk_order_cursor')),
    )
    op.add_column(
        'sales_order', sa.Column('freight', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False)
    )
    op.add_column('sales_order', sa.Column('marketplace_tax', sa.Numeric(precision=12, scale=2), nullable=True))
    op.create_table(
        'customer_deposit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sales_order_id', sa.Integer(), nullable=False),
        sa.Column('customer_code', sa.String(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('reference', sa.String(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_code'], ['customer.code'], name=op.f('fk_customer_deposit_customer_code_customer')
        ),
        sa.ForeignKeyConstraint(
            ['sales_order_id'], ['sales_order.id'], name=op.f('fk_customer_deposit_sales_order_id_sales_order'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_deposit')),
        sa.UniqueConstraint('sales_order_id', name=op.f('uq_customer_deposit_sales_order_id')),
    )
    op.create_index(op.f('ix_customer_deposit_customer_code'), 'customer_deposit', ['customer_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_customer_deposit_customer_code'), table_name='customer_deposit')
    op.drop_table('customer_deposit')
    op.drop_column('sales_order', 'marketplace_tax')
    op.drop_column('sales_order', 'freight')
    op.drop_table('order_cursor')
