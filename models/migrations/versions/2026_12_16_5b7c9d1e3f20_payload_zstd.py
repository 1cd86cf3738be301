"""held payloads packed with Zstandard instead of zlib

Revision ID: 5b7c9d1e3f20
Revises: 943588b88e02
Create Date: 2026-12-16 09:00:00

Issue 15: packing a held payload (``models.orders.pack_payload``) was the largest part of staging a
page in the import's reading thread — zlib at level 1, 0.24 s of CPU per 10,000 orders. Zstandard
at level 1 packs the same payloads in 0.07 s, a little smaller (about 650 bytes an order against
670), and unpacks them in half the time. Nothing in the schema changes: rows packed before keep
their zlib stream and are read as one (``unpack_payload`` tells the two apart by the Zstandard
frame's first four bytes), so the upgrade rewrites nothing.

Downgrade: every payload packed with Zstandard (held orders and held returns) packed again with
zlib at level 1, as the code of the revision before reads it.
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
import zstandard
from alembic import op

revision = "5b7c9d1e3f20"
down_revision = "943588b88e02"
branch_labels = None
depends_on = None

BATCH = 1000
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # the first bytes of a Zstandard frame
# The tables holding packed payloads in ``raw``: (read the next Zstandard ones, write one back).
TABLES = (
    (
        "SELECT id, raw FROM inbound_order WHERE id > :last AND substring(raw FROM 1 FOR 4) = :magic "
        "ORDER BY id LIMIT :n",
        "UPDATE inbound_order SET raw = :packed WHERE id = :id",
    ),
    (
        "SELECT id, raw FROM inbound_return WHERE id > :last AND substring(raw FROM 1 FOR 4) = :magic "
        "ORDER BY id LIMIT :n",
        "UPDATE inbound_return SET raw = :packed WHERE id = :id",
    ),
)


def upgrade() -> None:
    pass  # new payloads are packed with Zstandard; the zlib ones stay as they are and are read as such


def downgrade() -> None:
    conn = op.get_bind()
    unpack = zstandard.ZstdDecompressor()
    for select, update in TABLES:
        last = 0
        while True:
            rows = conn.execute(sa.text(select), {"last": last, "magic": ZSTD_MAGIC, "n": BATCH}).all()
            if not rows:
                break
            conn.execute(
                sa.text(update),
                [{"id": i, "packed": zlib.compress(unpack.decompress(bytes(p)), 1)} for i, p in rows],
            )
            last = rows[-1][0]
