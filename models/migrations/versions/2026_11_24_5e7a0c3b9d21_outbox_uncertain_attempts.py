"""outbox: an attempt in flight is recorded before it is sent

Revision ID: 5e7a0c3b9d21
Revises: c4e1d2a9f7b0
Create Date: 2026-11-24 10:00:00

``outbox.sending_since`` is committed before a writeback reaches the partner and cleared once its
outcome is known; a row found with it set is "uncertain" and is checked on the partner before it
is sent again. A ``writeback_attempt`` row is written at the same moment with ``ok`` NULL (no
outcome yet) and completed afterwards; ``note`` says e.g. that the change was already applied.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5e7a0c3b9d21'
down_revision = 'c4e1d2a9f7b0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('sending_since', sa.DateTime(timezone=True), nullable=True))
    op.add_column('writeback_attempt', sa.Column('note', sa.String(), nullable=True))
    op.alter_column('writeback_attempt', 'ok', existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    # An attempt without an outcome was a failed one as far as the older schema can say.
    op.execute("UPDATE writeback_attempt SET ok = false, error = coalesce(error, 'no outcome recorded') "
               "WHERE ok IS NULL")
    op.alter_column('writeback_attempt', 'ok', existing_type=sa.Boolean(), nullable=False)
    op.drop_column('writeback_attempt', 'note')
    op.drop_column('outbox', 'sending_since')
