"""outbox payload for customer-code writebacks

Revision ID: b03021888357
Revises: 33dae3598ed3
Create Date: 2026-11-23 16:17:12.784196
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision = 'b03021888357'
down_revision = '33dae3598ed3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                                      server_default=sa.text("'{}'::jsonb")))
    op.alter_column('outbox', 'status',
               existing_type=sa.VARCHAR(length=10),
               type_=sa.String(length=16),
               existing_nullable=False)


def downgrade() -> None:
    op.alter_column('outbox', 'status',
               existing_type=sa.String(length=16),
               type_=sa.VARCHAR(length=10),
               existing_nullable=False)
    op.drop_column('outbox', 'payload')
