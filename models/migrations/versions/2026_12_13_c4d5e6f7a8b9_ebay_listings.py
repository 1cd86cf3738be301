"""eBay listings out: a listing record per site and SKU, and listing refusals as catalog problem rows

Revision ID: c4d5e6f7a8b9
Revises: b3c4d5e6f7a8
Create Date: 2026-12-13 09:00:00

Issue 17, the listing side:

- ``ebay_listing``: one SKU's eBay listing on one site (format, duration, categories 1 and 2,
  condition, title, HTML description, up to 12 pictures, price, the "update eBay" flag) and what
  eBay last accepted or refused;
- ``catalog_push_state.kind`` takes ``listing``: a listing eBay refused is a problem row where
  ``bobbin status`` and the error e-mail read refused catalog items.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'c4d5e6f7a8b9'
down_revision = 'b3c4d5e6f7a8'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('style', 'image', 'linesheet', 'customer')"
NEW_KINDS = "kind IN ('style', 'image', 'linesheet', 'customer', 'listing')"


def upgrade() -> None:
    op.create_table(
        'ebay_listing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('sku', sa.String(length=20), nullable=False),
        sa.Column('listing_format', sa.String(length=12), nullable=False),
        sa.Column('duration', sa.String(length=10), nullable=False),
        sa.Column('category1', sa.String(length=20), nullable=True),
        sa.Column('category2', sa.String(length=20), nullable=True),
        sa.Column('condition', sa.String(length=30), nullable=False),
        sa.Column('title', sa.Text(), nullable=True),
        sa.Column('description_html', sa.Text(), nullable=True),
        sa.Column('image_urls', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('needs_update', sa.Boolean(), nullable=False),
        sa.Column('offer_id', sa.String(length=40), nullable=True),
        sa.Column('listing_id', sa.String(length=40), nullable=True),
        sa.Column('group_key', sa.String(length=50), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('warning', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint(
            "listing_format IN ('FIXED_PRICE', 'AUCTION')", name=op.f('ck_ebay_listing_listing_format')
        ),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_ebay_listing_site_id_site'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sku'], ['sku.sku'], name=op.f('fk_ebay_listing_sku_sku'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ebay_listing')),
        sa.UniqueConstraint('site_id', 'sku', name=op.f('uq_ebay_listing_site_id_sku')),
    )
    op.create_index(op.f('ix_ebay_listing_sku'), 'ebay_listing', ['sku'], unique=False)
    op.create_index(
        'ix_ebay_listing_site_flagged',
        'ebay_listing',
        ['site_id'],
        unique=False,
        postgresql_where=sa.text('needs_update'),
    )
    op.drop_constraint(op.f('ck_catalog_push_state_kind'), 'catalog_push_state', type_='check')
    op.create_check_constraint(op.f('ck_catalog_push_state_kind'), 'catalog_push_state', NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM catalog_push_state WHERE kind = 'listing'")
    op.drop_constraint(op.f('ck_catalog_push_state_kind'), 'catalog_push_state', type_='check')
    op.create_check_constraint(op.f('ck_catalog_push_state_kind'), 'catalog_push_state', OLD_KINDS)
    op.drop_index('ix_ebay_listing_site_flagged', table_name='ebay_listing', postgresql_where=sa.text('needs_update'))
    op.drop_index(op.f('ix_ebay_listing_sku'), table_name='ebay_listing')
    op.drop_table('ebay_listing')
