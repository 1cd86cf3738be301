"""console users and actions: who may sign in to the operator console, and what each change was

Revision ID: c3d4e5f6a7b8
Revises: b1e2c3d4f5a6
Create Date: 2026-12-03 09:00:00

``console_user``: one row per person (unique username, argon2 password hash, role viewer |
operator | admin, active; never deleted, so actions keep naming their author). ``console_action``:
one row per change, with the order and site it concerned when it concerned one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'c3d4e5f6a7b8'
down_revision = 'b1e2c3d4f5a6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('console_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('viewer', 'operator', 'admin')", name=op.f('ck_console_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_user')),
    sa.UniqueConstraint('username', name=op.f('uq_console_user_username'))
    )
    op.create_table('console_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['console_user.id'], name=op.f('fk_console_action_user_id_console_user')),
    sa.ForeignKeyConstraint(['order_id'], ['inbound_order.id'], name=op.f('fk_console_action_order_id_inbound_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_console_action_site_id_site'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_action'))
    )
    op.create_index('ix_console_action_order_at', 'console_action', ['order_id', 'at'], unique=False)
    op.create_index('ix_console_action_site_action_at', 'console_action', ['site_id', 'action', 'at'], unique=False)
    op.create_index('ix_console_action_at', 'console_action', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_console_action_at', table_name='console_action')
    op.drop_index('ix_console_action_site_action_at', table_name='console_action')
    op.drop_index('ix_console_action_order_at', table_name='console_action')
    op.drop_table('console_action')
    op.drop_table('console_user')
