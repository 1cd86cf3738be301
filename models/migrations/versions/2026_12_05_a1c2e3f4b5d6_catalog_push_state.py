"""catalog push state: what each partner holds of the catalog and customers, and the removals

Revision ID: a1c2e3f4b5d6
Revises: f7a8b9c0d1e2
Create Date: 2026-12-05 09:00:00

- ``catalog_push_state``: one row per site and item (style, image, linesheet, customer) with the
  content hash of what the partner last accepted, its id there, the outcome of its last answer
  (accepted / rejected / awaiting / removed) with the partner's message, the job an awaiting item
  is in, when it was sent and settled, and when a rejection was e-mailed;
- ``catalog_removal``: each style a push removed or deactivated on a partner, with what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'a1c2e3f4b5d6'
down_revision = 'f7a8b9c0d1e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_push_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('accepted_hash', sa.String(length=64), nullable=True),
    sa.Column('sent_hash', sa.String(length=64), nullable=True),
    sa.Column('partner_id', sa.String(length=200), nullable=True),
    sa.Column('matched_by', sa.String(length=20), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('ticket', sa.String(length=200), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('style', 'image', 'linesheet', 'customer')", name=op.f('ck_catalog_push_state_kind')),
    sa.CheckConstraint("outcome IN ('accepted', 'rejected', 'awaiting', 'removed')", name=op.f('ck_catalog_push_state_outcome')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_catalog_push_state_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_push_state')),
    sa.UniqueConstraint('site_id', 'kind', 'key', name=op.f('uq_catalog_push_state_site_id_kind_key'))
    )
    op.create_index('ix_catalog_push_state_site_outcome', 'catalog_push_state', ['site_id', 'outcome'], unique=False)
    op.create_table('catalog_removal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('style_number', sa.String(length=30), nullable=False),
    sa.Column('partner_id', sa.String(length=200), nullable=True),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("action IN ('remove', 'deactivate')", name=op.f('ck_catalog_removal_action')),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], name=op.f('fk_catalog_removal_run_id_sync_run'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_catalog_removal_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_removal'))
    )
    op.create_index('ix_catalog_removal_site_created', 'catalog_removal', ['site_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_catalog_removal_site_created', table_name='catalog_removal')
    op.drop_table('catalog_removal')
    op.drop_index('ix_catalog_push_state_site_outcome', table_name='catalog_push_state')
    op.drop_table('catalog_push_state')
