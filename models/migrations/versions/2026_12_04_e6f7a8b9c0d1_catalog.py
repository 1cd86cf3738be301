"""catalog: retail prices, colour prices, style images, linesheets

Revision ID: e6f7a8b9c0d1
Revises: d4e5f6a7b8c9
Create Date: 2026-12-04 09:00:00

What a catalog push to the partners needs from the ERP, beyond styles, colours and SKUs:

- ``style_price.retail``: the suggested retail price beside the wholesale one (``price``), per
  price type;
- ``style_color_price``: a colour's own wholesale / retail price in a price type, where it differs
  from its style's;
- ``style_image``: the images of a style, of one of its colours, or a colour's swatch, in display
  order; a URL or a file under an images folder. One image per style, colour, kind and position
  (NULLS NOT DISTINCT, Postgres 15 or later, so a style image's blank colour is one slot);
- ``linesheet`` (unique name, season, delivery window) and ``linesheet_style`` (the styles on it,
  in order).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e6f7a8b9c0d1'
down_revision = 'd4e5f6a7b8c9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('style_price', sa.Column('retail', sa.Numeric(precision=12, scale=2), nullable=True))
    op.create_table('style_color_price',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('style_number', sa.String(length=30), nullable=False),
    sa.Column('color_code', sa.String(length=20), nullable=False),
    sa.Column('price_type_code', sa.String(length=20), nullable=False),
    sa.Column('wholesale', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('retail', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['price_type_code'], ['price_type.code'], name=op.f('fk_style_color_price_price_type_code_price_type')),
    sa.ForeignKeyConstraint(['style_number', 'color_code'], ['style_color.style_number', 'style_color.color_code'], name=op.f('fk_style_color_price_style_number_style_color'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_style_color_price')),
    sa.UniqueConstraint('style_number', 'color_code', 'price_type_code', name=op.f('uq_style_color_price_style_number_color_code_price_type_code'))
    )
    op.create_table('style_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('style_number', sa.String(length=30), nullable=False),
    sa.Column('color_code', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('folder', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('alt_text', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('style', 'style_color', 'swatch')", name=op.f('ck_style_image_kind')),
    sa.CheckConstraint("(kind = 'style') = (color_code IS NULL)", name=op.f('ck_style_image_color_for_kind')),
    sa.CheckConstraint('position >= 1', name=op.f('ck_style_image_position')),
    sa.ForeignKeyConstraint(['style_number'], ['style.number'], name=op.f('fk_style_image_style_number_style'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['style_number', 'color_code'], ['style_color.style_number', 'style_color.color_code'], name=op.f('fk_style_image_style_number_style_color'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_style_image')),
    sa.UniqueConstraint('style_number', 'color_code', 'kind', 'position', name=op.f('uq_style_image_style_number_color_code_kind_position'), postgresql_nulls_not_distinct=True)
    )
    op.create_table('linesheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('season', sa.String(), nullable=True),
    sa.Column('delivery_start', sa.Date(), nullable=True),
    sa.Column('delivery_end', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('delivery_start IS NULL OR delivery_end IS NULL OR delivery_start <= delivery_end', name=op.f('ck_linesheet_delivery_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_linesheet')),
    sa.UniqueConstraint('name', name=op.f('uq_linesheet_name'))
    )
    op.create_table('linesheet_style',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('linesheet_name', sa.String(length=100), nullable=False),
    sa.Column('style_number', sa.String(length=30), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('position >= 1', name=op.f('ck_linesheet_style_position')),
    sa.ForeignKeyConstraint(['linesheet_name'], ['linesheet.name'], name=op.f('fk_linesheet_style_linesheet_name_linesheet'), onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['style_number'], ['style.number'], name=op.f('fk_linesheet_style_style_number_style'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_linesheet_style')),
    sa.UniqueConstraint('linesheet_name', 'style_number', name=op.f('uq_linesheet_style_linesheet_name_style_number'))
    )
    op.create_index(op.f('ix_linesheet_style_style_number'), 'linesheet_style', ['style_number'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_linesheet_style_style_number'), table_name='linesheet_style')
    op.drop_table('linesheet_style')
    op.drop_table('linesheet')
    op.drop_table('style_image')
    op.drop_table('style_color_price')
    op.drop_column('style_price', 'retail')
