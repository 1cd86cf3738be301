"""return problems reported once: the new-errors e-mail that reported a return's problem

Revision ID: a2b3c4d5e6f7
Revises: f1a2b3c4d5e6
Create Date: 2026-12-11 09:00:00

Issue 16. A return's problems (``return_error``) go out in the site's error e-mail like an order's,
each once: ``return_error.report_id`` names the ``error_report`` (the new-errors mail) that carried
it, and a problem with one is not reported as new again. ``reported_error`` does the same for
``order_error`` rows, but its key is an order problem's id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a2b3c4d5e6f7'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('return_error', sa.Column('report_id', sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f('fk_return_error_report_id_error_report'), 'return_error', 'error_report',
        ['report_id'], ['id'], ondelete='SET NULL',
    )


def downgrade() -> None:
    op.drop_constraint(op.f('fk_return_error_report_id_error_report'), 'return_error', type_='foreignkey')
    op.drop_column('return_error', 'report_id')
