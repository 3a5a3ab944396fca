"""stock_truth: when the stored copy of an item's stock must be read again from Zoho, which
drain is reading it, and when it last was.

An inventory adjustment does not add its quantity to the stored stock (a snapshot of the item
may already include it); it marks the item's stock check due, and the check reads Zoho's number
(common.sync.stock). Adjustments for items not synced yet are looked up by item.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_DUE = sa.text("stock_check_due_at IS NOT NULL")


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch copy of products would lose its search triggers.
    op.add_column("products", sa.Column("stock_check_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("products", sa.Column("stock_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("products", sa.Column("stock_check_leased_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_products_stock_check_due", "products", ["stock_check_due_at"], sqlite_where=_DUE, postgresql_where=_DUE
    )
    op.create_index("ix_stock_adjustments_item", "stock_adjustments", ["zoho_item_id"])


def downgrade() -> None:
    op.drop_index("ix_stock_adjustments_item", table_name="stock_adjustments")
    op.drop_index("ix_products_stock_check_due", table_name="products")
    op.drop_column("products", "stock_check_leased_until")
    op.drop_column("products", "stock_checked_at")
    op.drop_column("products", "stock_check_due_at")
