"""Initial schema: catalog, customers, Zoho documents, shop, sync queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 09:17:21.547942
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _dialect() -> str:
    return op.get_context().dialect.name


# What search filters and sorts on, copied from products by a trigger on PostgreSQL.
_SEARCHED = (
    "search_name",
    "search_text",
    "is_active",
    "category_id",
    "price",
    "stock_quantity",
    "sales_count",
    "created_at",
)


def _create_search_index() -> None:
    """PostgreSQL: a narrow copy of what search reads (product_search), with a trigram index,
    kept in step by a trigger, so a broad search reads a table a third the size of products.
    SQLite: an FTS5 trigram table kept in step by triggers."""
    if _dialect() == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_table(
            "product_search",
            sa.Column("id", sa.BigInteger(), nullable=False),
            sa.Column("search_name", sa.Text(), nullable=False),
            sa.Column("search_text", sa.Text(), nullable=False),
            sa.Column("is_active", sa.Boolean(), nullable=False),
            sa.Column("category_id", sa.BigInteger(), nullable=True),
            sa.Column("price", sa.BigInteger(), nullable=False),
            sa.Column("stock_quantity", sa.Integer(), nullable=False),
            sa.Column("sales_count", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["id"], ["products.id"], name="fk_product_search_id_products", ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id", name="pk_product_search"),
        )
        op.create_index(
            "ix_product_search_text_trgm",
            "product_search",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        op.create_index("ix_product_search_category", "product_search", ["category_id"])
        columns = ", ".join(_SEARCHED)
        op.execute(
            "CREATE FUNCTION product_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO product_search (id, {columns}) "
            f"VALUES (NEW.id, {', '.join(f'NEW.{column}' for column in _SEARCHED)}) "
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{column} = EXCLUDED.{column}' for column in _SEARCHED)}; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER products_search_sync AFTER INSERT OR UPDATE OF {columns} ON products "
            "FOR EACH ROW EXECUTE FUNCTION product_search_sync()"
        )
    elif _dialect() == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE products_fts USING fts5("
            "search_text, content='products', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN "
            "INSERT INTO products_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN "
            "INSERT INTO products_fts(products_fts, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER products_fts_update AFTER UPDATE OF search_text ON products BEGIN "
            "INSERT INTO products_fts(products_fts, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); "
            "INSERT INTO products_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        )


def _drop_search_index() -> None:
    if _dialect() == "postgresql":
        op.execute("DROP TRIGGER products_search_sync ON products")
        op.execute("DROP FUNCTION product_search_sync()")
        op.drop_table("product_search")
    elif _dialect() == "sqlite":
        for trigger in ("products_fts_insert", "products_fts_delete", "products_fts_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE products_fts")


def upgrade() -> None:
    op.create_table(
        "bills",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_bill_id", sa.String(length=64), nullable=False),
        sa.Column("bill_number", sa.String(length=64), nullable=False),
        sa.Column("zoho_vendor_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_name", sa.String(length=255), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("zoho_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "zoho_data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("zoho_bill_id", name=op.f("uq_bills_zoho_bill_id")),
    )
    op.create_index("ix_bills_vendor", "bills", ["zoho_vendor_id"], unique=False)
    op.create_table(
        "categories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_category_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_ar", sa.String(length=255), nullable=True),
        sa.Column("icon", sa.String(length=255), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("zoho_category_id", name=op.f("uq_categories_zoho_category_id")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_contact_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("company_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("avatar_url", sa.String(length=1000), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("zoho_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "zoho_data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("zoho_contact_id", name=op.f("uq_customers_zoho_contact_id")),
    )
    op.create_table(
        "pricelists",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_pricelist_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("currency_code", sa.String(length=8), nullable=True),
        sa.Column("pricing_scheme", sa.String(length=32), nullable=True),
        sa.Column("percentage", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("zoho_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "zoho_data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricelists")),
        sa.UniqueConstraint("zoho_pricelist_id", name=op.f("uq_pricelists_zoho_pricelist_id")),
    )
    op.create_table(
        "search_terms",
        sa.Column("variant", sa.String(length=128), nullable=False),
        sa.Column("term", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("variant", "term", name=op.f("pk_search_terms")),
    )
    op.create_table(
        "stock_adjustments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_adjustment_id", sa.String(length=64), nullable=False),
        sa.Column("zoho_item_id", sa.String(length=64), nullable=False),
        sa.Column("quantity_adjusted", sa.Integer(), nullable=True),
        sa.Column("stock_on_hand", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("adjusted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_adjustments")),
        sa.UniqueConstraint(
            "zoho_adjustment_id", "zoho_item_id", name=op.f("uq_stock_adjustments_zoho_adjustment_id_zoho_item_id")
        ),
    )
    op.create_table(
        "tds_drain_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("worker_id", sa.String(length=128), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("retried", sa.Integer(), nullable=False),
        sa.Column("dead_lettered", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tds_drain_runs")),
    )
    op.create_index("ix_tds_drain_runs_finished", "tds_drain_runs", ["finished_at"], unique=False)
    op.create_table(
        "tds_sync_cursors",
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", name=op.f("pk_tds_sync_cursors")),
    )
    op.create_table(
        "tds_sync_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("source_entity_id", sa.String(length=64), nullable=False),
        sa.Column("operation_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("lock_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("source_modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("processing_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "operation_type IN ('create', 'update', 'delete', 'upsert')", name=op.f("ck_tds_sync_queue_operation_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'retry', 'dead_letter')",
            name=op.f("ck_tds_sync_queue_status_known"),
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 10", name=op.f("ck_tds_sync_queue_priority_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tds_sync_queue")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_tds_sync_queue_idempotency_key")),
    )
    op.create_index(
        "ix_tds_sync_queue_claim",
        "tds_sync_queue",
        ["priority", "created_at", "id"],
        unique=False,
        sqlite_where=sa.text("status IN ('pending', 'retry', 'processing')"),
        postgresql_where=sa.text("status IN ('pending', 'retry', 'processing')"),
    )
    op.create_index("ix_tds_sync_queue_created", "tds_sync_queue", ["created_at"], unique=False)
    op.create_index("ix_tds_sync_queue_entity", "tds_sync_queue", ["entity_type", "source_entity_id"], unique=False)
    op.create_index("ix_tds_sync_queue_status_completed", "tds_sync_queue", ["status", "completed_at"], unique=False)
    op.create_table(
        "zoho_oauth_tokens",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_zoho_oauth_tokens")),
    )
    op.create_table(
        "carts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'active'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'ordered', 'abandoned')", name=op.f("ck_carts_status_known")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_carts_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
    )
    op.create_index("ix_carts_customer", "carts", ["customer_id"], unique=False)
    op.create_index(
        "uq_carts_active_customer",
        "carts",
        ["customer_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_creditnote_id", sa.String(length=64), nullable=False),
        sa.Column("creditnote_number", sa.String(length=64), nullable=False),
        sa.Column("zoho_customer_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("zoho_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "zoho_data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_credit_notes_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("zoho_creditnote_id", name=op.f("uq_credit_notes_zoho_creditnote_id")),
    )
    op.create_index("ix_credit_notes_customer", "credit_notes", ["customer_id"], unique=False)
    op.create_table(
        "customer_addresses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=1000), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_addresses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_addresses")),
    )
    op.create_index("ix_customer_addresses_customer", "customer_addresses", ["customer_id"], unique=False)
    op.create_index(
        "uq_customer_addresses_default",
        "customer_addresses",
        ["customer_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_invoice_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=True),
        sa.Column("zoho_customer_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("currency_code", sa.String(length=8), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("zoho_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "zoho_data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_invoices_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("zoho_invoice_id", name=op.f("uq_invoices_zoho_invoice_id")),
    )
    op.create_index("ix_invoices_customer", "invoices", ["customer_id"], unique=False)
    op.create_index("ix_invoices_zoho_customer", "invoices", ["zoho_customer_id"], unique=False)
    op.create_table(
        "product_prices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("pricelist_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("zoho_item_id", sa.String(length=64), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_product_prices_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["pricelist_id"],
            ["pricelists.id"],
            name=op.f("fk_product_prices_pricelist_id_pricelists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_prices")),
        sa.UniqueConstraint("pricelist_id", "zoho_item_id", name=op.f("uq_product_prices_pricelist_id_zoho_item_id")),
    )
    op.create_index("ix_product_prices_item", "product_prices", ["zoho_item_id"], unique=False)
    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zoho_item_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("name_ar", sa.String(length=500), nullable=True),
        sa.Column("sku", sa.String(length=128), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("description_ar", sa.Text(), nullable=True),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("brand", sa.String(length=255), nullable=True),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("price", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=True),
        sa.Column("stock_quantity", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("branch_name", sa.String(length=255), nullable=True),
        sa.Column("image_url", sa.String(length=1000), nullable=True),
        sa.Column(
            "images", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "specifications",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sales_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("search_name", sa.Text(), server_default=sa.text("('')"), nullable=False),
        sa.Column("search_text", sa.Text(), server_default=sa.text("('')"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("zoho_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "zoho_data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("zoho_item_id", name=op.f("uq_products_zoho_item_id")),
    )
    op.create_index("ix_products_active_category", "products", ["is_active", "category_id"], unique=False)
    op.create_index("ix_products_active_created", "products", ["is_active", "created_at"], unique=False)
    op.create_index("ix_products_active_featured", "products", ["is_active", "is_featured"], unique=False)
    op.create_index("ix_products_active_price", "products", ["is_active", "price"], unique=False)
    op.create_index("ix_products_active_sales", "products", ["is_active", "sales_count"], unique=False)
    _create_search_index()
    op.create_index("ix_products_sku", "products", ["sku"], unique=False)
    op.create_index("ix_products_category", "products", ["category_id"], unique=False)
    op.create_table(
        "tds_dead_letter_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sync_queue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("source_entity_id", sa.String(length=64), nullable=False),
        sa.Column("failure_reason", sa.String(length=32), nullable=False),
        sa.Column("total_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column(
            "last_payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("resolved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sync_queue_id"],
            ["tds_sync_queue.id"],
            name=op.f("fk_tds_dead_letter_queue_sync_queue_id_tds_sync_queue"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tds_dead_letter_queue")),
    )
    op.create_index(
        "ix_tds_dead_letter_queue_entity", "tds_dead_letter_queue", ["entity_type", "resolved"], unique=False
    )
    op.create_index(
        "ix_tds_dead_letter_queue_resolved", "tds_dead_letter_queue", ["resolved", "created_at"], unique=False
    )
    op.create_index("ix_tds_dead_letter_queue_sync_queue", "tds_dead_letter_queue", ["sync_queue_id"], unique=False)
    op.create_table(
        "cart_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("cart_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0 AND quantity <= 999", name=op.f("ck_cart_items_quantity_range")),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_cart_items_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cart_items_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint("cart_id", "product_id", name=op.f("uq_cart_items_cart_id_product_id")),
    )
    op.create_index("ix_cart_items_product", "cart_items", ["product_id"], unique=False)
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("zoho_item_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    op.create_index("ix_invoice_lines_invoice", "invoice_lines", ["invoice_id"], unique=False)
    op.create_index("ix_invoice_lines_item", "invoice_lines", ["zoho_item_id"], unique=False)
    op.create_table(
        "promotions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("title_ar", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("banner_url", sa.String(length=1000), nullable=True),
        sa.Column("applies_to", sa.String(length=16), server_default=sa.text("'catalog'"), nullable=False),
        sa.Column("discount_type", sa.String(length=16), nullable=False),
        sa.Column("discount_value", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("min_purchase", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("used_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("applies_to IN ('catalog', 'checkout')", name=op.f("ck_promotions_applies_to_known")),
        sa.CheckConstraint("discount_type IN ('percentage', 'fixed')", name=op.f("ck_promotions_discount_type_known")),
        sa.CheckConstraint(
            "discount_value > 0 AND (discount_type <> 'percentage' OR discount_value <= 100)",
            name=op.f("ck_promotions_discount_value_range"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_promotions_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_promotions_category_id_categories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_promotions_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    op.create_index("ix_promotions_active_ends", "promotions", ["is_active", "ends_at"], unique=False)
    op.create_index("ix_promotions_product", "promotions", ["product_id"], unique=False)
    op.create_index("ix_promotions_category", "promotions", ["category_id"], unique=False)
    op.create_table(
        "reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("is_approved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_reviews_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index("ix_reviews_product_approved", "reviews", ["product_id", "is_approved", "created_at"], unique=False)
    op.create_index(
        "ix_reviews_approved_rating",
        "reviews",
        ["product_id", "rating"],
        unique=False,
        sqlite_where=sa.text("is_approved"),
        postgresql_where=sa.text("is_approved"),
    )
    op.create_index("ix_reviews_customer", "reviews", ["customer_id"], unique=False)


def downgrade() -> None:
    _drop_search_index()
    op.drop_table("reviews")
    op.drop_table("promotions")
    op.drop_table("invoice_lines")
    op.drop_table("cart_items")
    op.drop_table("tds_dead_letter_queue")
    op.drop_table("products")
    op.drop_table("product_prices")
    op.drop_table("invoices")
    op.drop_table("customer_addresses")
    op.drop_table("credit_notes")
    op.drop_table("carts")
    op.drop_table("zoho_oauth_tokens")
    op.drop_table("tds_sync_queue")
    op.drop_table("tds_sync_cursors")
    op.drop_table("tds_drain_runs")
    op.drop_table("stock_adjustments")
    op.drop_table("search_terms")
    op.drop_table("pricelists")
    op.drop_table("customers")
    op.drop_table("categories")
    op.drop_table("bills")
