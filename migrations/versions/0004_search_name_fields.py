"""search_name keeps the name, Arabic name, SKU and brand as separate fields.

Relevance tells an exact name (or Arabic name, or SKU) from a longer one by those field
boundaries (common.products.search_index.search_columns); rows written before this revision
get them here. A data-only change: the offline SQL script (for empty databases) has nothing
to do.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:20:00
"""

import sqlalchemy as sa
from alembic import context, op

from common.products.search_index import search_columns
from common.products.text import fold, index_key

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 1000
_products = sa.table(
    "products",
    sa.column("id"),
    sa.column("name"),
    sa.column("name_ar"),
    sa.column("sku"),
    sa.column("brand"),
    sa.column("search_name"),
)


def _rewrite(search_name) -> None:
    if context.is_offline_mode():
        return
    connection = op.get_bind()
    update = (
        _products.update().where(_products.c.id == sa.bindparam("row_id")).values(search_name=sa.bindparam("value"))
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(_products.c.id, _products.c.name, _products.c.name_ar, _products.c.sku, _products.c.brand)
            .where(_products.c.id > last_id)
            .order_by(_products.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(update, [{"row_id": row.id, "value": search_name(row)} for row in rows])
        last_id = rows[-1].id


def upgrade() -> None:
    _rewrite(
        lambda row: search_columns(name=row.name, name_ar=row.name_ar, sku=row.sku, brand=row.brand)["search_name"]
    )


def downgrade() -> None:
    # The format before this revision: the same words, run together.
    _rewrite(lambda row: index_key(fold(" ".join(filter(None, (row.name, row.name_ar, row.brand, row.sku))))))
