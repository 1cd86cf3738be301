"""site settings: drop split_by_color (no catalog export reads it; each partner's settings model now
refuses settings it does not have)

Revision ID: a7d3e91b5c20
Revises: ce1575c9ad76
Create Date: 2026-12-02 10:20:00
"""

from __future__ import annotations

from alembic import op

revision = "a7d3e91b5c20"
down_revision = "ce1575c9ad76"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE site SET settings = settings - 'split_by_color' WHERE settings ? 'split_by_color'")


def downgrade() -> None:
    pass  # the setting never did anything: nothing to restore
