"""ERP hand-off: erp_handoff (each sales order written to the ERP's drop folder, once) and shipment
(what the ERP's shipment / invoice export says was shipped, per order line)

Sales orders imported before this revision are recorded as handed off already (file name
"before-erp-handoff"): before the hand-off existed the brand keyed them into its ERP some other way,
and writing them all into the first drop file would double them there. A person hands one over with
`bobbin erp export --again ORDER`.

Revision ID: b1e2c3d4f5a6
Revises: a7d3e91b5c20
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b1e2c3d4f5a6"
down_revision = "a7d3e91b5c20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erp_handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("reexports", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reexported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reexport_file_name", sa.String(), nullable=True),
        sa.Column("reexport_run_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_order.id"],
            name=op.f("fk_erp_handoff_sales_order_id_sales_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_erp_handoff_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_handoff")),
        sa.UniqueConstraint("sales_order_id", name=op.f("uq_erp_handoff_sales_order_id")),
    )
    op.create_index(op.f("ix_erp_handoff_site_id"), "erp_handoff", ["site_id"], unique=False)
    op.create_index(op.f("ix_erp_handoff_run_id"), "erp_handoff", ["run_id"], unique=False)
    op.create_index(op.f("ix_erp_handoff_reexport_run_id"), "erp_handoff", ["reexport_run_id"], unique=False)
    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=False),
        sa.Column("sales_order_line_id", sa.Integer(), nullable=False),
        sa.Column("ship_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(), nullable=True),
        sa.Column("tracking_number", sa.String(), server_default="", nullable=False),
        sa.Column("invoice_number", sa.String(), server_default="", nullable=False),
        sa.Column("source_file", sa.String(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["sales_order_id"], ["sales_order.id"], name=op.f("fk_shipment_sales_order_id_sales_order"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sales_order_line_id"],
            ["sales_order_line.id"],
            name=op.f("fk_shipment_sales_order_line_id_sales_order_line"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
        sa.UniqueConstraint(
            "sales_order_line_id", "ship_date", "tracking_number", "invoice_number", name="uq_shipment_line_key"
        ),
    )
    op.create_index(op.f("ix_shipment_sales_order_id"), "shipment", ["sales_order_id"], unique=False)
    op.execute(
        "INSERT INTO erp_handoff (sales_order_id, site_id, file_name, run_id) "
        "SELECT id, site_id, 'before-erp-handoff', 'migration' FROM sales_order"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_shipment_sales_order_id"), table_name="shipment")
    op.drop_table("shipment")
    op.drop_index(op.f("ix_erp_handoff_reexport_run_id"), table_name="erp_handoff")
    op.drop_index(op.f("ix_erp_handoff_run_id"), table_name="erp_handoff")
    op.drop_index(op.f("ix_erp_handoff_site_id"), table_name="erp_handoff")
    op.drop_table("erp_handoff")
