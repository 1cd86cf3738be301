"""held payload packed: the raw payload as zlib-compressed bytes, the normalized copy gone

Revision ID: d9e0f1a2b3c4
Revises: c8d9e0f1a2b3
Create Date: 2026-12-08 09:00:00

An inbound order kept two documents: ``raw`` (the payload as received, json text) and
``normalized`` (the mapper's reading of it, json text), both compressed by Postgres's pglz as
they were stored. Measured for 10,000 ten-line orders (``bench/bench_orders.py``, what each part
of the holding area costs): both columns 1.02 s of COPY, ``raw`` alone 0.40 s, ``raw`` packed by
Bobbin (zlib level 1, about 700 bytes an order from about 2,100) 0.14 s. Nothing queries inside
either, and ``normalized`` is what the mapper reads from ``raw``: the order page maps it when
it is shown (``services.holding.read_normalized``).

Downgrade: ``raw`` back to json text; ``normalized`` back as ``{}`` for every order (the code of
that revision shows what it holds; a replay of an order fills it again).
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import op

revision = 'd9e0f1a2b3c4'
down_revision = 'c8d9e0f1a2b3'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column('inbound_order', sa.Column('raw_packed', sa.LargeBinary(), nullable=True))
    last = 0
    while True:
        rows = conn.execute(
            sa.text("SELECT id, raw::text FROM inbound_order WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        conn.execute(
            sa.text("UPDATE inbound_order SET raw_packed = :packed WHERE id = :id"),
            [{"id": i, "packed": zlib.compress(t.encode("utf-8", "surrogatepass"), 1)} for i, t in rows],
        )
        last = rows[-1][0]
    op.drop_column('inbound_order', 'raw')
    op.drop_column('inbound_order', 'normalized')
    op.alter_column('inbound_order', 'raw_packed', new_column_name='raw', nullable=False)


def downgrade() -> None:
    conn = op.get_bind()
    op.add_column('inbound_order', sa.Column('raw_text', sa.JSON(), nullable=True))
    last = 0
    while True:
        rows = conn.execute(
            sa.text("SELECT id, raw FROM inbound_order WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        conn.execute(
            sa.text("UPDATE inbound_order SET raw_text = CAST(:text AS json) WHERE id = :id"),
            [{"id": i, "text": zlib.decompress(p).decode("utf-8", "surrogatepass")} for i, p in rows],
        )
        last = rows[-1][0]
    op.drop_column('inbound_order', 'raw')
    op.alter_column('inbound_order', 'raw_text', new_column_name='raw', nullable=False)
    op.add_column(
        'inbound_order',
        sa.Column('normalized', sa.JSON(), nullable=False, server_default=sa.text("'{}'::json")),
    )
    op.alter_column('inbound_order', 'normalized', server_default=None)
