"""Orders: orders and their lines, status timeline, idempotency keys, stock reservations, the
order-number counter, promotion codes and their redemptions, a cart's applied code.

The order number comes from a counter row per year (INSERT ... ON CONFLICT DO UPDATE ...
RETURNING), which both databases run the same way; no sequence object is needed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:54:47
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "order_number_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_order_number_counters")),
    )
    op.create_table(
        "orders",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("delivery_fee", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'IQD'"), nullable=False),
        sa.Column("promotion_id", _ID, nullable=True),
        sa.Column("promo_code", sa.String(length=32), nullable=True),
        sa.Column("address_id", _ID, nullable=True),
        sa.Column("address_label", sa.String(length=100), nullable=False),
        sa.Column("address_text", sa.String(length=1000), nullable=False),
        sa.Column("address_city", sa.String(length=100), nullable=False),
        sa.Column("address_phone", sa.String(length=64), nullable=True),
        sa.Column("delivery_option", sa.String(length=16), nullable=False),
        sa.Column("payment_method", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("zoho_salesorder_id", sa.String(length=64), nullable=True),
        sa.Column("zoho_salesorder_number", sa.String(length=64), nullable=True),
        sa.Column("zoho_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("zoho_status", sa.String(length=32), nullable=True),
        sa.Column("zoho_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("zoho_committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("zoho_voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("zoho_push_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("zoho_push_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("zoho_push_error", sa.Text(), nullable=True),
        sa.Column("zoho_push_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('placed', 'confirmed', 'shipped', 'delivered', 'cancelled')",
            name=op.f("ck_orders_status_known"),
        ),
        sa.CheckConstraint(
            "subtotal >= 0 AND discount >= 0 AND delivery_fee >= 0 AND total >= 0",
            name=op.f("ck_orders_amounts_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["customer_addresses.id"],
            name=op.f("fk_orders_address_id_customer_addresses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")),
        sa.ForeignKeyConstraint(
            ["promotion_id"], ["promotions.id"], name=op.f("fk_orders_promotion_id_promotions"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
        sa.UniqueConstraint("zoho_salesorder_id", name=op.f("uq_orders_zoho_salesorder_id")),
    )
    op.create_index("ix_orders_created", "orders", ["created_at"], unique=False)
    op.create_index("ix_orders_customer", "orders", ["customer_id", "id"], unique=False)
    op.create_index(
        "ix_orders_push_due",
        "orders",
        ["zoho_push_due_at"],
        unique=False,
        sqlite_where=sa.text("zoho_push_due_at IS NOT NULL"),
        postgresql_where=sa.text("zoho_push_due_at IS NOT NULL"),
    )
    op.create_table(
        "order_idempotency_keys",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("order_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_order_idempotency_keys_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_idempotency_keys_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("customer_id", "key", name=op.f("pk_order_idempotency_keys")),
    )
    op.create_table(
        "order_lines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("zoho_item_id", sa.String(length=64), nullable=True),
        sa.Column("product_name", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_order_lines_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    op.create_index("ix_order_lines_order", "order_lines", ["order_id"], unique=False)
    op.create_table(
        "order_status_history",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_status_history_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_status_history")),
    )
    op.create_index("ix_order_status_history_order", "order_status_history", ["order_id", "id"], unique=False)
    op.create_table(
        "promotion_redemptions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("promotion_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_promotion_redemptions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_promotion_redemptions_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_redemptions_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_redemptions")),
        sa.UniqueConstraint(
            "promotion_id", "customer_id", name=op.f("uq_promotion_redemptions_promotion_id_customer_id")
        ),
    )
    op.create_table(
        "stock_reservations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservations_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_stock_reservations_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_reservations_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
        sa.UniqueConstraint("order_id", "product_id", name=op.f("uq_stock_reservations_order_id_product_id")),
    )
    op.create_index(
        "ix_stock_reservations_open",
        "stock_reservations",
        ["product_id"],
        unique=False,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.add_column("carts", sa.Column("promo_code", sa.String(length=32), nullable=True))
    op.add_column("promotions", sa.Column("code", sa.String(length=32), nullable=True))
    op.create_index("uq_promotions_code", "promotions", ["code"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_promotions_code", table_name="promotions")
    op.drop_column("promotions", "code")
    op.drop_column("carts", "promo_code")
    op.drop_index(
        "ix_stock_reservations_open",
        table_name="stock_reservations",
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_table("stock_reservations")
    op.drop_table("promotion_redemptions")
    op.drop_index("ix_order_status_history_order", table_name="order_status_history")
    op.drop_table("order_status_history")
    op.drop_index("ix_order_lines_order", table_name="order_lines")
    op.drop_table("order_lines")
    op.drop_table("order_idempotency_keys")
    op.drop_index(
        "ix_orders_push_due",
        table_name="orders",
        sqlite_where=sa.text("zoho_push_due_at IS NOT NULL"),
        postgresql_where=sa.text("zoho_push_due_at IS NOT NULL"),
    )
    op.drop_index("ix_orders_customer", table_name="orders")
    op.drop_index("ix_orders_created", table_name="orders")
    op.drop_table("orders")
    op.drop_table("order_number_counters")
