"""inbound events: what partners push (webhooks), stored as received

Revision ID: ce1575c9ad76
Revises: 5e7a0c3b9d21
Create Date: 2026-12-02 10:00:00

One row per site and partner event id (unique: a partner's retries are stored once), the raw body
byte for byte, the parsed payload (NULL for a malformed body, kept for a person under the stand-in
id ``malformed-<sha256 of the body>``), and what processing made of it (``state``, ``note``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'ce1575c9ad76'
down_revision = '5e7a0c3b9d21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(), nullable=True),
    sa.CheckConstraint("state IN ('received', 'processed', 'ignored', 'failed', 'malformed')",
                       name=op.f('ck_inbound_event_state')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_inbound_event_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_event')),
    sa.UniqueConstraint('site_id', 'event_id', name=op.f('uq_inbound_event_site_id_event_id'))
    )
    op.create_index('ix_inbound_event_state_received', 'inbound_event', ['state', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbound_event_state_received', table_name='inbound_event')
    op.drop_table('inbound_event')
