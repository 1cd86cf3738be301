"""sales_order_line: the index on sku dropped

Revision ID: d5e6f7a8b9c0
Revises: c4d5e6f7a8b9
Create Date: 2026-12-14 09:00:00

Issue 15 (what each part of the tables an import writes costs, ``bench/bench_orders.py``):
``ix_sales_order_line_sku`` took 0.32 s of Postgres time for every 100,000 lines an import
writes (the lines' bare COPY 0.07 s) and served no query: the lines are read by sales order
(``uq_sales_order_line_sales_order_id_line_no``), the held quantities per SKU are summed over
every open line. Its one use was the foreign key's check when a SKU is deleted, which Bobbin
never does (an ERP load adds and updates SKUs); a SKU deleted by hand is checked against the
lines by a scan instead. The foreign key to ``sku`` stays.
"""

from __future__ import annotations

from alembic import op

revision = 'd5e6f7a8b9c0'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_sales_order_line_sku', table_name='sales_order_line')


def downgrade() -> None:
    op.create_index('ix_sales_order_line_sku', 'sales_order_line', ['sku'], unique=False)
