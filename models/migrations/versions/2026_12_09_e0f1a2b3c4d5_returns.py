"""returns: Loop returns held as received, and the ERP's RMA, receipts, credit memo and AR adjustment

Revision ID: e0f1a2b3c4d5
Revises: d9e0f1a2b3c4
Create Date: 2026-12-09 09:00:00

Issue 16, the ERP side (``models/returns.py`` says what each table holds):

- ``inbound_return`` (one per site and Loop return id, the payload packed as ``inbound_order``'s)
  and ``return_error`` (its problems, one open problem per code / line / field / value);
- ``rma`` (one per held return), ``rma_line``, ``rma_receipt``, ``credit_memo`` (one per RMA),
  ``ar_adjustment`` (one debit per credit memo, one per exchange RMA: partial unique indexes).

What the sum of a line's receipts may be is beyond a CHECK (it reads other rows), so two
constraint triggers hold it: after a receipt is written (insert, or an update of its line or
quantity) and after a line's quantity changes, the line's receipts must add up to no more than
its quantity. They are DEFERRABLE INITIALLY IMMEDIATE: a statement that breaks the rule fails at
once (check_violation, constraint ``ck_rma_receipt_within_line``), and a transaction that moves
quantities between receipts may ``SET CONSTRAINTS ... DEFERRED`` to be checked at commit. Each
check locks the line's row first, so two transactions receiving the same line at the same time
are checked one after the other (under READ COMMITTED, Bobbin's isolation level, the second then
sees the first's receipt).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e0f1a2b3c4d5'
down_revision = 'd9e0f1a2b3c4'
branch_labels = None
depends_on = None

RECEIPT_CHECK_FUNCTION = """
CREATE FUNCTION rma_receipt_within_line() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ordered integer;
    received bigint;
BEGIN
    SELECT quantity INTO ordered FROM rma_line WHERE id = NEW.rma_line_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(quantity), 0) INTO received FROM rma_receipt WHERE rma_line_id = NEW.rma_line_id;
    IF received > ordered THEN
        RAISE EXCEPTION 'rma_line %: receipts add up to %, more than its quantity %', NEW.rma_line_id, received, ordered
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_rma_receipt_within_line', TABLE = 'rma_receipt';
    END IF;
    RETURN NULL;
END
$$
"""

LINE_CHECK_FUNCTION = """
CREATE FUNCTION rma_line_covers_receipts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ordered integer;
    received bigint;
BEGIN
    SELECT quantity INTO ordered FROM rma_line WHERE id = NEW.id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(quantity), 0) INTO received FROM rma_receipt WHERE rma_line_id = NEW.id;
    IF received > ordered THEN
        RAISE EXCEPTION 'rma_line %: receipts add up to %, more than its quantity %', NEW.id, received, ordered
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_rma_receipt_within_line', TABLE = 'rma_line';
    END IF;
    RETURN NULL;
END
$$
"""

RECEIPT_CHECK_TRIGGER = """
CREATE CONSTRAINT TRIGGER rma_receipt_within_line
    AFTER INSERT OR UPDATE OF rma_line_id, quantity ON rma_receipt
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION rma_receipt_within_line()
"""

LINE_CHECK_TRIGGER = """
CREATE CONSTRAINT TRIGGER rma_line_covers_receipts
    AFTER UPDATE OF quantity ON rma_line
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION rma_line_covers_receipts()
"""


def upgrade() -> None:
    op.create_table('inbound_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('loop_return_id', sa.String(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('loop_state', sa.String(length=20), nullable=True),
    sa.Column('loop_outcome', sa.String(length=20), nullable=True),
    sa.Column('loop_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_name', sa.String(), nullable=True),
    sa.Column('customer_email', sa.String(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('state', sa.String(length=14), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('received', 'invalid', 'rma', 'received_goods', 'processed', 'credited', 'void')",
                       name=op.f('ck_inbound_return_state')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_inbound_return_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_return')),
    sa.UniqueConstraint('site_id', 'loop_return_id', name=op.f('uq_inbound_return_site_id_loop_return_id'))
    )
    op.create_index('ix_inbound_return_site_state', 'inbound_return', ['site_id', 'state'], unique=False)

    op.create_table('return_error',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('field', sa.String(), nullable=True),
    sa.Column('value', sa.String(), nullable=True),
    sa.Column('message', sa.String(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("severity IN ('error', 'warning')", name=op.f('ck_return_error_severity')),
    sa.ForeignKeyConstraint(['return_id'], ['inbound_return.id'], name=op.f('fk_return_error_return_id_inbound_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_error'))
    )
    op.create_index(op.f('ix_return_error_return_id'), 'return_error', ['return_id'], unique=False)
    op.create_index('uq_return_error_open', 'return_error', ['return_id', 'code', 'line_no', 'field', 'value'],
                    unique=True, postgresql_where=sa.text('resolved_at IS NULL'), postgresql_nulls_not_distinct=True)

    op.create_table('rma',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('inbound_return_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('customer_code', sa.String(length=20), nullable=False),
    sa.Column('sales_order_id', sa.Integer(), nullable=True),
    sa.Column('order_name', sa.String(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('warehouse_code', sa.String(length=20), nullable=False),
    sa.Column('exchange_order_name', sa.String(), nullable=True),
    sa.Column('exchange_sales_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('return', 'exchange')", name=op.f('ck_rma_kind')),
    sa.CheckConstraint("status IN ('open', 'received', 'credited', 'void')", name=op.f('ck_rma_status')),
    sa.CheckConstraint("kind = 'exchange' OR (exchange_order_name IS NULL AND exchange_sales_order_id IS NULL)",
                       name=op.f('ck_rma_exchange_only')),
    sa.ForeignKeyConstraint(['inbound_return_id'], ['inbound_return.id'], name=op.f('fk_rma_inbound_return_id_inbound_return')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_rma_site_id_site')),
    sa.ForeignKeyConstraint(['customer_code'], ['customer.code'], name=op.f('fk_rma_customer_code_customer')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_rma_sales_order_id_sales_order')),
    sa.ForeignKeyConstraint(['warehouse_code'], ['warehouse.code'], name=op.f('fk_rma_warehouse_code_warehouse')),
    sa.ForeignKeyConstraint(['exchange_sales_order_id'], ['sales_order.id'], name=op.f('fk_rma_exchange_sales_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma')),
    sa.UniqueConstraint('number', name=op.f('uq_rma_number')),
    sa.UniqueConstraint('inbound_return_id', name=op.f('uq_rma_inbound_return_id')),
    sa.UniqueConstraint('site_id', 'exchange_order_name', name=op.f('uq_rma_site_id_exchange_order_name')),
    sa.UniqueConstraint('exchange_sales_order_id', name=op.f('uq_rma_exchange_sales_order_id'))
    )
    op.create_index(op.f('ix_rma_customer_code'), 'rma', ['customer_code'], unique=False)
    op.create_index(op.f('ix_rma_sales_order_id'), 'rma', ['sales_order_id'], unique=False)

    op.create_table('rma_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rma_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('loop_line_item_id', sa.String(), nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('refund_amount', sa.Numeric(precision=14, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('restock_location_id', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_rma_line_quantity')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_rma_line_unit_price')),
    sa.CheckConstraint('refund_amount >= 0', name=op.f('ck_rma_line_refund_amount')),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_rma_line_rma_id_rma'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku'], ['sku.sku'], name=op.f('fk_rma_line_sku_sku')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_line')),
    sa.UniqueConstraint('rma_id', 'line_no', name=op.f('uq_rma_line_rma_id_line_no')),
    sa.UniqueConstraint('rma_id', 'loop_line_item_id', name=op.f('uq_rma_line_rma_id_loop_line_item_id'))
    )
    op.create_index(op.f('ix_rma_line_sku'), 'rma_line', ['sku'], unique=False)

    op.create_table('rma_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rma_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('warehouse_code', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('reference', sa.String(), nullable=True),
    sa.Column('restocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_rma_receipt_quantity')),
    sa.CheckConstraint("source IN ('erp_file', 'cli', 'console')", name=op.f('ck_rma_receipt_source')),
    sa.ForeignKeyConstraint(['rma_line_id'], ['rma_line.id'], name=op.f('fk_rma_receipt_rma_line_id_rma_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_code'], ['warehouse.code'], name=op.f('fk_rma_receipt_warehouse_code_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_receipt'))
    )
    op.create_index(op.f('ix_rma_receipt_rma_line_id'), 'rma_receipt', ['rma_line_id'], unique=False)

    op.create_table('credit_memo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('rma_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('loop_refund_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('lines_refund_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(length=22), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_memo_amount')),
    sa.CheckConstraint('loop_refund_amount >= 0 AND lines_refund_amount >= 0', name=op.f('ck_credit_memo_refund_amounts')),
    sa.CheckConstraint("status IN ('pending_confirmation', 'posted')", name=op.f('ck_credit_memo_status')),
    sa.CheckConstraint("(status = 'posted') = (posted_at IS NOT NULL)", name=op.f('ck_credit_memo_posted_at')),
    sa.CheckConstraint("status <> 'posted' OR loop_refund_amount = lines_refund_amount OR confirmed_by IS NOT NULL",
                       name=op.f('ck_credit_memo_confirmed')),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_credit_memo_rma_id_rma')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_memo')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_memo_number')),
    sa.UniqueConstraint('rma_id', name=op.f('uq_credit_memo_rma_id'))
    )

    op.create_table('ar_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('reference', sa.String(), nullable=False),
    sa.Column('customer_code', sa.String(length=20), nullable=False),
    sa.Column('credit_memo_id', sa.Integer(), nullable=True),
    sa.Column('rma_id', sa.Integer(), nullable=True),
    sa.Column('unapplied_credit_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('debit')", name=op.f('ck_ar_adjustment_kind')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ar_adjustment_amount')),
    sa.CheckConstraint('unapplied_credit_amount >= amount', name=op.f('ck_ar_adjustment_unapplied_credit_amount')),
    sa.CheckConstraint('(credit_memo_id IS NULL) <> (rma_id IS NULL)', name=op.f('ck_ar_adjustment_offsets_one')),
    sa.ForeignKeyConstraint(['customer_code'], ['customer.code'], name=op.f('fk_ar_adjustment_customer_code_customer')),
    sa.ForeignKeyConstraint(['credit_memo_id'], ['credit_memo.id'], name=op.f('fk_ar_adjustment_credit_memo_id_credit_memo')),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_ar_adjustment_rma_id_rma')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ar_adjustment'))
    )
    op.create_index(op.f('ix_ar_adjustment_customer_code'), 'ar_adjustment', ['customer_code'], unique=False)
    op.create_index('uq_ar_adjustment_credit_memo_debit', 'ar_adjustment', ['credit_memo_id'], unique=True,
                    postgresql_where=sa.text("kind = 'debit' AND credit_memo_id IS NOT NULL"))
    op.create_index('uq_ar_adjustment_exchange_debit', 'ar_adjustment', ['rma_id'], unique=True,
                    postgresql_where=sa.text("kind = 'debit' AND rma_id IS NOT NULL"))

    op.execute(RECEIPT_CHECK_FUNCTION)
    op.execute(LINE_CHECK_FUNCTION)
    op.execute(RECEIPT_CHECK_TRIGGER)
    op.execute(LINE_CHECK_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS rma_line_covers_receipts ON rma_line")
    op.execute("DROP TRIGGER IF EXISTS rma_receipt_within_line ON rma_receipt")
    op.execute("DROP FUNCTION IF EXISTS rma_line_covers_receipts()")
    op.execute("DROP FUNCTION IF EXISTS rma_receipt_within_line()")
    op.drop_index('uq_ar_adjustment_exchange_debit', table_name='ar_adjustment',
                  postgresql_where=sa.text("kind = 'debit' AND rma_id IS NOT NULL"))
    op.drop_index('uq_ar_adjustment_credit_memo_debit', table_name='ar_adjustment',
                  postgresql_where=sa.text("kind = 'debit' AND credit_memo_id IS NOT NULL"))
    op.drop_index(op.f('ix_ar_adjustment_customer_code'), table_name='ar_adjustment')
    op.drop_table('ar_adjustment')
    op.drop_table('credit_memo')
    op.drop_index(op.f('ix_rma_receipt_rma_line_id'), table_name='rma_receipt')
    op.drop_table('rma_receipt')
    op.drop_index(op.f('ix_rma_line_sku'), table_name='rma_line')
    op.drop_table('rma_line')
    op.drop_index(op.f('ix_rma_sales_order_id'), table_name='rma')
    op.drop_index(op.f('ix_rma_customer_code'), table_name='rma')
    op.drop_table('rma')
    op.drop_index('uq_return_error_open', table_name='return_error', postgresql_where=sa.text('resolved_at IS NULL'),
                  postgresql_nulls_not_distinct=True)
    op.drop_index(op.f('ix_return_error_return_id'), table_name='return_error')
    op.drop_table('return_error')
    op.drop_index('ix_inbound_return_site_state', table_name='inbound_return')
    op.drop_table('inbound_return')
