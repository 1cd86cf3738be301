"""holding area sorts: an index per sortable column of the holding area, each with the id

Revision ID: f7a8b9c0d1e2
Revises: e6f7a8b9c0d1
Create Date: 2026-12-04 15:00:00

The console's holding area sorts its orders by site, partner order number, PO, customer, state
(and id and order date, which have their indexes), up or down, with ties by id, 50 to a page. At
100,000 held orders each of these sorts read the whole table and sorted it (0.15-0.43 s a page,
measured by ``make bench``); from an index on (column, id), read forwards or backwards, a page is
its 50 entries (under 1 ms), and a deep page skips entries of the index without reading the table.

- ``ix_inbound_order_site_id_id``: (site_id, id), for a site's orders newest first and the sort
  by site (one site after another in the order of their names, ``services.orders``);
- ``ix_inbound_order_partner_order_id_id``: (partner_order_id, id) for the sort on it;
  ``ix_inbound_order_po_number_id``, ``ix_inbound_order_customer_ref_id``: (the first 200
  characters, id) of the PO and the customer's name: a partner's free text has no length limit
  and a btree entry must fit in a third of a page (a 100 kB PO would fail the order's staging);
- ``ix_inbound_order_state_id``: (state, id), for the sort by state and for a view (the orders
  in one state) in id order at any depth.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = 'f7a8b9c0d1e2'
down_revision = 'e6f7a8b9c0d1'
branch_labels = None
depends_on = None

INDEXES: tuple[tuple[str, list[Any]], ...] = (
    ('ix_inbound_order_site_id_id', ['site_id', 'id']),
    ('ix_inbound_order_partner_order_id_id', ['partner_order_id', 'id']),
    ('ix_inbound_order_po_number_id', [sa.text('left(po_number, 200)'), 'id']),
    ('ix_inbound_order_customer_ref_id', [sa.text('left(customer_ref, 200)'), 'id']),
    ('ix_inbound_order_state_id', ['state', 'id']),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, 'inbound_order', columns, unique=False)


def downgrade() -> None:
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name='inbound_order')
