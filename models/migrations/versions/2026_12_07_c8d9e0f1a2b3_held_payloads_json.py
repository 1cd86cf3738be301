"""held payloads as json text, not jsonb

Revision ID: c8d9e0f1a2b3
Revises: b7c8d9e0f1a2
Create Date: 2026-12-07 09:00:00

An inbound order's ``raw`` (the payload as received) and ``normalized`` (as the mapper read it) are
written once per staged order and read whole, in Python; no query looks inside them. ``jsonb``
parses every document into its binary form on the way in; ``json`` checks it and keeps the text,
so the payload is also kept byte for byte as Bobbin encoded it. Measured on the order-import
bench (``bench/bench_orders.py``, "holding area: what each part costs").
"""

from __future__ import annotations

from alembic import op

revision = 'c8d9e0f1a2b3'
down_revision = 'b7c8d9e0f1a2'
branch_labels = None
depends_on = None

COLUMNS = ("raw", "normalized")


def upgrade() -> None:
    for column in COLUMNS:
        op.execute(f"ALTER TABLE inbound_order ALTER COLUMN {column} TYPE json USING {column}::json")


def downgrade() -> None:
    for column in COLUMNS:
        op.execute(f"ALTER TABLE inbound_order ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb")
