"""The schema as SQLAlchemy Core tables. Alembic migrations create it; a test proves the two agree.

Money columns hold whole Iraqi dinars (BigInteger). Timestamps are UTC and always
timezone-aware in Python (`UtcDateTime`). Constraints live here, in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_N_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in Python; timestamptz on PostgreSQL, naive UTC text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


Json = JSON().with_variant(JSONB(), "postgresql")
# A 64-bit key on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid alias.
Id = BigInteger().with_variant(Integer(), "sqlite")
Money = BigInteger


def _only_where(predicate: str) -> dict:
    """A partial index's predicate, the same on both databases."""
    return {"sqlite_where": text(predicate), "postgresql_where": text(predicate)}


def _id() -> Column:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _timestamps() -> list[Column]:
    return [
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


def _zoho_sync_columns() -> list[Column]:
    """What every Zoho-synced table keeps: activity, Zoho's version stamp, Zoho's record."""
    return [
        Column("is_active", Boolean, nullable=False, server_default=true()),
        Column("zoho_last_modified", UtcDateTime),
        Column("zoho_data", Json),
    ]


categories = Table(
    "categories",
    metadata,
    _id(),
    Column("zoho_category_id", String(64), unique=True),
    Column("name", String(255), nullable=False),
    Column("name_ar", String(255)),
    Column("icon", String(255)),
    Column("sort_order", Integer, nullable=False, server_default=text("0")),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    *_timestamps(),
)

products = Table(
    "products",
    metadata,
    _id(),
    Column("zoho_item_id", String(64), unique=True),
    Column("name", String(500), nullable=False),
    Column("name_ar", String(500)),
    Column("sku", String(128)),
    Column("description", Text),
    Column("description_ar", Text),
    Column("category_id", Id, ForeignKey("categories.id", ondelete="SET NULL")),
    Column("brand", String(255)),
    Column("unit", String(64)),
    Column("price", Money, nullable=False, server_default=text("0")),
    Column("cost", Money),
    Column("stock_quantity", Integer, nullable=False, server_default=text("0")),
    Column("branch_name", String(255)),
    Column("image_url", String(1000)),
    Column("images", Json),
    Column("specifications", Json),
    Column("is_featured", Boolean, nullable=False, server_default=false()),
    Column("sales_count", Integer, nullable=False, server_default=text("0")),
    # Folded text for search (see common.products.text): names and SKU, and everything.
    Column("search_name", Text, nullable=False, server_default=text("''")),
    Column("search_text", Text, nullable=False, server_default=text("''")),
    # Zoho's stock is the truth (common.sync.stock): when it must be read again (an adjustment,
    # or a snapshot that may be older than the stored stock), until when a drain is reading it,
    # and when it last was.
    Column("stock_check_due_at", UtcDateTime),
    Column("stock_check_leased_until", UtcDateTime),
    Column("stock_checked_at", UtcDateTime),
    *_zoho_sync_columns(),
    *_timestamps(),
    CheckConstraint("price >= 0", name="price_not_negative"),
    Index("ix_products_active_featured", "is_active", "is_featured"),
    Index("ix_products_active_category", "is_active", "category_id"),
    Index("ix_products_active_created", "is_active", "created_at"),
    Index("ix_products_active_sales", "is_active", "sales_count"),
    Index("ix_products_active_price", "is_active", "price"),
    Index("ix_products_sku", "sku"),
    Index("ix_products_category", "category_id"),
    Index("ix_products_stock_check_due", "stock_check_due_at", **_only_where("stock_check_due_at IS NOT NULL")),
)

# PostgreSQL only: a narrow copy of what search filters and sorts on, written by a trigger on
# products (see the migration), with a trigram index on search_text. pg_trgm only sees ASCII
# in a C-locale database, which is why search_text spells Arabic in ASCII (common.products.text).
# SQLite searches products through an FTS5 trigram table instead. Not in `metadata`, which
# holds what both databases have.
postgresql_metadata = MetaData()
product_search = Table(
    "product_search",
    postgresql_metadata,
    Column("id", BigInteger, primary_key=True),
    Column("search_name", Text, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("category_id", BigInteger),
    Column("price", Money, nullable=False),
    Column("stock_quantity", Integer, nullable=False),
    Column("sales_count", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    _id(),
    Column("zoho_contact_id", String(64), unique=True),
    Column("name", String(255), nullable=False),
    Column("company_name", String(255)),
    Column("email", String(255)),
    Column("phone", String(64)),
    Column("avatar_url", String(1000)),
    *_zoho_sync_columns(),
    *_timestamps(),
)

customer_addresses = Table(
    "customer_addresses",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(100), nullable=False),
    Column("address", String(1000), nullable=False),
    Column("city", String(100), nullable=False),
    Column("phone", String(64)),
    Column("is_default", Boolean, nullable=False, server_default=false()),
    *_timestamps(),
    Index("ix_customer_addresses_customer", "customer_id"),
    # At most one default address per customer.
    Index(
        "uq_customer_addresses_default",
        "customer_id",
        unique=True,
        **_only_where("is_default"),
    ),
)

invoices = Table(
    "invoices",
    metadata,
    _id(),
    Column("zoho_invoice_id", String(64), nullable=False, unique=True),
    Column("invoice_number", String(64)),
    Column("zoho_customer_id", String(64)),
    Column("customer_id", Id, ForeignKey("customers.id", ondelete="SET NULL")),
    Column("date", Date),
    Column("due_date", Date),
    Column("total", Money, nullable=False, server_default=text("0")),
    Column("balance", Money),
    Column("status", String(32)),
    Column("currency_code", String(8)),
    *_zoho_sync_columns(),
    *_timestamps(),
    Index("ix_invoices_customer", "customer_id"),
    Index("ix_invoices_zoho_customer", "zoho_customer_id"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    _id(),
    Column("invoice_id", Id, ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
    Column("zoho_item_id", String(64)),
    Column("name", String(500)),
    Column("quantity", Integer, nullable=False),
    Column("rate", Money, nullable=False),
    Column("total", Money, nullable=False),
    Index("ix_invoice_lines_invoice", "invoice_id"),
    Index("ix_invoice_lines_item", "zoho_item_id"),
)

bills = Table(
    "bills",
    metadata,
    _id(),
    Column("zoho_bill_id", String(64), nullable=False, unique=True),
    Column("bill_number", String(64), nullable=False),
    Column("zoho_vendor_id", String(64), nullable=False),
    Column("vendor_name", String(255)),
    Column("date", Date),
    Column("due_date", Date),
    Column("total", Money, nullable=False, server_default=text("0")),
    Column("balance", Money),
    Column("status", String(32)),
    *_zoho_sync_columns(),
    *_timestamps(),
    Index("ix_bills_vendor", "zoho_vendor_id"),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    _id(),
    Column("zoho_creditnote_id", String(64), nullable=False, unique=True),
    Column("creditnote_number", String(64), nullable=False),
    Column("zoho_customer_id", String(64)),
    Column("customer_id", Id, ForeignKey("customers.id", ondelete="SET NULL")),
    Column("date", Date),
    Column("total", Money, nullable=False, server_default=text("0")),
    Column("balance", Money),
    Column("status", String(32)),
    *_zoho_sync_columns(),
    *_timestamps(),
    Index("ix_credit_notes_customer", "customer_id"),
)

stock_adjustments = Table(
    "stock_adjustments",
    metadata,
    _id(),
    Column("zoho_adjustment_id", String(64), nullable=False),
    Column("zoho_item_id", String(64), nullable=False),
    Column("quantity_adjusted", Integer),
    Column("stock_on_hand", Integer),
    Column("reason", String(500)),
    Column("adjusted_at", UtcDateTime),
    Column("applied_at", UtcDateTime, nullable=False),
    # Set when Zoho deletes the adjustment and its quantity change is taken back.
    Column("reversed_at", UtcDateTime),
    # An adjustment changes an item's stock once, however often it is delivered.
    UniqueConstraint("zoho_adjustment_id", "zoho_item_id"),
    Index("ix_stock_adjustments_item", "zoho_item_id"),
)

pricelists = Table(
    "pricelists",
    metadata,
    _id(),
    Column("zoho_pricelist_id", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("currency_code", String(8)),
    Column("pricing_scheme", String(32)),
    Column("percentage", Integer),
    *_zoho_sync_columns(),
    *_timestamps(),
)

product_prices = Table(
    "product_prices",
    metadata,
    _id(),
    Column("pricelist_id", Id, ForeignKey("pricelists.id", ondelete="CASCADE"), nullable=False),
    Column("zoho_item_id", String(64), nullable=False),
    Column("price", Money, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("pricelist_id", "zoho_item_id"),
    CheckConstraint("price >= 0", name="price_not_negative"),
    Index("ix_product_prices_item", "zoho_item_id"),
)

promotions = Table(
    "promotions",
    metadata,
    _id(),
    Column("title", String(255), nullable=False),
    Column("title_ar", String(255)),
    Column("description", Text),
    Column("banner_url", String(1000)),
    # "catalog" promotions lower card prices; "checkout" ones discount a whole order.
    Column("applies_to", String(16), nullable=False, server_default=text("'catalog'")),
    Column("discount_type", String(16), nullable=False),
    Column("discount_value", Money, nullable=False),
    Column("product_id", Id, ForeignKey("products.id", ondelete="CASCADE")),
    Column("category_id", Id, ForeignKey("categories.id", ondelete="CASCADE")),
    Column("min_purchase", Money, nullable=False, server_default=text("0")),
    Column("max_uses", Integer),
    Column("used_count", Integer, nullable=False, server_default=text("0")),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    *_timestamps(),
    # A checkout promotion with a code applies only to carts that carry the code (stored upper case).
    Column("code", String(32)),
    CheckConstraint("applies_to IN ('catalog', 'checkout')", name="applies_to_known"),
    CheckConstraint("discount_type IN ('percentage', 'fixed')", name="discount_type_known"),
    CheckConstraint(
        "discount_value > 0 AND (discount_type <> 'percentage' OR discount_value <= 100)",
        name="discount_value_range",
    ),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    Index("ix_promotions_active_ends", "is_active", "ends_at"),
    Index("ix_promotions_product", "product_id"),
    Index("ix_promotions_category", "category_id"),
    Index("uq_promotions_code", "code", unique=True),
)

carts = Table(
    "carts",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False, server_default=text("'active'")),
    *_timestamps(),
    Column("promo_code", String(32)),  # the code the customer applied; checked again when ordering
    CheckConstraint("status IN ('active', 'ordered', 'abandoned')", name="status_known"),
    Index("ix_carts_customer", "customer_id"),
    # One active cart per customer: a double tap cannot create a second one.
    Index(
        "uq_carts_active_customer",
        "customer_id",
        unique=True,
        **_only_where("status = 'active'"),
    ),
)

cart_items = Table(
    "cart_items",
    metadata,
    _id(),
    Column("cart_id", Id, ForeignKey("carts.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", Id, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("quantity", Integer, nullable=False),
    # Set by the event subscriber (common.events.subscribers) when the product goes out of stock
    # ("out_of_stock") or stops being sold ("unavailable"); cleared when it is back.
    Column("availability_flag", String(16)),
    Column("flagged_at", UtcDateTime),
    *_timestamps(),
    UniqueConstraint("cart_id", "product_id"),
    CheckConstraint("quantity > 0 AND quantity <= 999", name="quantity_range"),
    Index("ix_cart_items_product", "product_id"),
)

reviews = Table(
    "reviews",
    metadata,
    _id(),
    Column("product_id", Id, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id", ondelete="SET NULL")),
    Column("rating", Integer, nullable=False),
    Column("title", String(255)),
    Column("comment", Text),
    Column("is_approved", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    Index("ix_reviews_product_approved", "product_id", "is_approved", "created_at"),
    # A product's rating histogram reads only this index (an index-only scan), even for a best
    # seller with thousands of reviews.
    Index(
        "ix_reviews_approved_rating",
        "product_id",
        "rating",
        **_only_where("is_approved"),
    ),
    Index("ix_reviews_customer", "customer_id"),
)

# Each product's approved reviews, summed for its card: written only by triggers on reviews
# (see migration 0005), since other systems write reviews straight into the table.
product_ratings = Table(
    "product_ratings",
    metadata,
    Column("product_id", Id, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("approved_count", Integer, nullable=False),
    Column("rating_sum", Integer, nullable=False),
)

# Vocabulary for typo-tolerant search: every folded word of product names and each
# of its one-letter deletions ("symmetric delete"), so that a query word within one
# edit of a catalog word finds it with one indexed lookup on any database.
search_terms = Table(
    "search_terms",
    metadata,
    Column("variant", String(128), primary_key=True),
    Column("term", String(128), primary_key=True),
)

tds_sync_queue = Table(
    "tds_sync_queue",
    metadata,
    _id(),
    Column("entity_type", String(32), nullable=False),
    Column("source_entity_id", String(64), nullable=False),
    Column("operation_type", String(16), nullable=False),
    Column("status", String(16), nullable=False, server_default=text("'pending'")),
    Column("priority", Integer, nullable=False),
    Column("attempt_count", Integer, nullable=False, server_default=text("0")),
    Column("next_retry_at", UtcDateTime),
    Column("locked_by", String(128)),
    Column("lock_expires_at", UtcDateTime),
    Column("error_message", Text),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("event_id", String(128)),
    Column("payload", Json, nullable=False),
    # Zoho's last_modified_time (or the event time) of this version, for stale detection.
    Column("source_modified_at", UtcDateTime),
    Column("result", String(32)),
    Column("processing_ms", Integer),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    CheckConstraint(
        "status IN ('pending', 'processing', 'completed', 'retry', 'dead_letter')",
        name="status_known",
    ),
    CheckConstraint("priority BETWEEN 1 AND 10", name="priority_range"),
    CheckConstraint("operation_type IN ('create', 'update', 'delete', 'upsert')", name="operation_known"),
    # The claim scans only open items, so a long completed history costs it nothing.
    Index(
        "ix_tds_sync_queue_claim",
        "priority",
        "created_at",
        "id",
        **_only_where("status IN ('pending', 'retry', 'processing')"),
    ),
    Index("ix_tds_sync_queue_status_completed", "status", "completed_at"),
    Index("ix_tds_sync_queue_created", "created_at"),
    Index("ix_tds_sync_queue_entity", "entity_type", "source_entity_id"),
    # Payload search ("this SKU anywhere in the body"): GIN's default jsonb_ops indexes every key
    # and value whatever its depth, which a `@? '$.** ? (@ == "...")'` query uses; SQLite scans.
    Index("ix_tds_sync_queue_payload", "payload", postgresql_using="gin").ddl_if(dialect="postgresql"),
)

tds_dead_letter_queue = Table(
    "tds_dead_letter_queue",
    metadata,
    _id(),
    Column("sync_queue_id", Id, ForeignKey("tds_sync_queue.id", ondelete="SET NULL")),
    Column("entity_type", String(32), nullable=False),
    Column("source_entity_id", String(64), nullable=False),
    Column("failure_reason", String(32), nullable=False),
    Column("total_attempts", Integer, nullable=False),
    Column("last_error_message", Text),
    Column("last_payload", Json),
    Column("resolved", Boolean, nullable=False, server_default=false()),
    Column("resolved_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_tds_dead_letter_queue_resolved", "resolved", "created_at"),
    Index("ix_tds_dead_letter_queue_entity", "entity_type", "resolved"),
    Index("ix_tds_dead_letter_queue_sync_queue", "sync_queue_id"),
)

tds_drain_runs = Table(
    "tds_drain_runs",
    metadata,
    _id(),
    Column("worker_id", String(128), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("claimed", Integer, nullable=False),
    Column("completed", Integer, nullable=False),
    Column("retried", Integer, nullable=False),
    Column("dead_lettered", Integer, nullable=False),
    Column("stale", Integer, nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_tds_drain_runs_finished", "finished_at"),
)

# Where the reconcile job resumes, per Zoho entity.
tds_sync_cursors = Table(
    "tds_sync_cursors",
    metadata,
    Column("entity_type", String(32), primary_key=True),
    Column("cursor", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The Zoho access token, shared by every function instance so each does not refresh its own.
zoho_oauth_tokens = Table(
    "zoho_oauth_tokens",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The API host Zoho gave with the token: organisations outside the US data centre live elsewhere.
    Column("api_domain", String(255)),
)

# Zoho calls spent per organisation in the current minute and day (common.sync.zoho_budget):
# one row per period, shared by every process so that together they stay within Zoho's limits.
zoho_call_budget = Table(
    "zoho_call_budget",
    metadata,
    Column("organization_id", String(64), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("period_start", UtcDateTime, nullable=False),
    Column("calls", Integer, nullable=False),
    CheckConstraint("period IN ('minute', 'day')", name="period_known"),
)

# Where the import of an organisation and the latest full pass stand, per entity
# (common.sync.mirror): the next page to read and what the pass has done so far.
zoho_sync_progress = Table(
    "zoho_sync_progress",
    metadata,
    Column("organization_id", String(64), primary_key=True),
    Column("entity_type", String(32), primary_key=True),
    Column("mode", String(16), primary_key=True),
    Column("pass_started_at", UtcDateTime, nullable=False),
    Column("since_date", Date),
    Column("next_page", Integer, nullable=False),
    Column("listed", Integer, nullable=False),
    Column("queued", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("deactivated", Integer, nullable=False),
    Column("listed_all", Boolean, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("rail_tripped", Boolean, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("last_complete_at", UtcDateTime),
    Column("last_queued", Integer),
    Column("last_deactivated", Integer),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("mode IN ('import', 'full')", name="mode_known"),
)

# The records a full pass has listed, so that at its end what Zoho no longer lists is known.
zoho_pass_seen = Table(
    "zoho_pass_seen",
    metadata,
    Column("entity_type", String(32), primary_key=True),
    Column("pass_started_at", UtcDateTime, primary_key=True),
    Column("zoho_id", String(64), primary_key=True),
)

# Per-minute request aggregates, flushed by each process (common.metrics.recording); several rows may
# share a minute and route (one per process and flush), and readers add them up.
tds_request_metrics = Table(
    "tds_request_metrics",
    metadata,
    _id(),
    Column("minute", UtcDateTime, nullable=False),
    Column("function", String(64), nullable=False),
    Column("route", String(96), nullable=False),
    Column("requests", Integer, nullable=False),
    Column("client_errors", Integer, nullable=False),
    Column("server_errors", Integer, nullable=False),
    Column("total_ms", Float, nullable=False),
    Column("max_ms", Float, nullable=False),
    # Counts per latency bucket of common.metrics.aggregate.LATENCY_BUCKETS_MS (plus one overflow bucket).
    Column("histogram", Json, nullable=False),
    Index("ix_tds_request_metrics_minute", "minute", "function"),
)


# Domain events (common.events): written in the transaction of the change they describe,
# handed on by the relay (to EventBridge when configured), purged once published and delivered.
event_outbox = Table(
    "event_outbox",
    metadata,
    _id(),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(64), nullable=False),
    Column("aggregate_type", String(32), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("payload", Json, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    # The relay's claim walks the unpublished rows in id order, and checks each aggregate's
    # earlier unpublished rows: both indexes hold only unpublished rows.
    Index(
        "ix_event_outbox_unpublished",
        "id",
        **_only_where("published_at IS NULL"),
    ),
    Index(
        "ix_event_outbox_unpublished_aggregate",
        "aggregate_type",
        "aggregate_id",
        "id",
        **_only_where("published_at IS NULL"),
    ),
    Index("ix_event_outbox_published", "published_at"),
)

# One row per (event, local subscriber): each subscriber is retried on its own, and gets each
# aggregate's events in order (its event's aggregate is copied here for that check).
event_deliveries = Table(
    "event_deliveries",
    metadata,
    _id(),
    Column("outbox_id", Id, ForeignKey("event_outbox.id", ondelete="CASCADE"), nullable=False),
    Column("subscriber", String(64), nullable=False),
    Column("aggregate_type", String(32), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("last_error", Text),
    UniqueConstraint("outbox_id", "subscriber"),
    Index(
        "ix_event_deliveries_due",
        "next_attempt_at",
        "id",
        **_only_where("delivered_at IS NULL"),
    ),
    Index(
        "ix_event_deliveries_pending_aggregate",
        "subscriber",
        "aggregate_type",
        "aggregate_id",
        "id",
        **_only_where("delivered_at IS NULL"),
    ),
)

# Fed by the product.price_changed subscriber: every price a product had, and when.
product_price_history = Table(
    "product_price_history",
    metadata,
    _id(),
    Column("product_id", Id, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("old_price", Money),
    Column("new_price", Money, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Index("ix_product_price_history_product", "product_id", "changed_at"),
)


# Operations (common.ops): scheduled jobs' outcomes, alert incidents and their notifications,
# queue pauses and the operators' audit trail.
ops_job_runs = Table(
    "ops_job_runs",
    metadata,
    _id(),
    Column("job", String(32), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
    Column("finished_at", UtcDateTime, nullable=False),
    Index("ix_ops_job_runs_job", "job", "finished_at"),
)

# When the alert rules last ran: the one row is claimed with a conditional UPDATE, so every
# drain and coordinator together evaluate at most once a minute per database.
ops_alert_clock = Table(
    "ops_alert_clock",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("evaluated_at", UtcDateTime, nullable=False),
)

ops_incidents = Table(
    "ops_incidents",
    metadata,
    _id(),
    Column("rule", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    # When its last "open" notice was queued: repeats wait an hour from it.
    Column("notified_at", UtcDateTime),
    CheckConstraint("state IN ('open', 'resolved')", name="state_known"),
    # One open incident per rule, whoever evaluates.
    Index("ix_ops_incidents_open_rule", "rule", unique=True, **_only_where("state = 'open'")),
    Index("ix_ops_incidents_opened", "opened_at"),
)

# The alert webhook's own small queue: one row per message, sent at least once, retried with backoff.
ops_alert_notifications = Table(
    "ops_alert_notifications",
    metadata,
    _id(),
    Column("incident_id", Id, ForeignKey("ops_incidents.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("body", Json, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_ops_alert_notifications_due", "next_attempt_at", "id", **_only_where("sent_at IS NULL")),
    Index("ix_ops_alert_notifications_incident", "incident_id"),
)

# A paused entity type ("*": every one) is still accepted and queued, but not drained.
ops_queue_pauses = Table(
    "ops_queue_pauses",
    metadata,
    Column("entity_type", String(32), primary_key=True),
    Column("paused_at", UtcDateTime, nullable=False),
    Column("paused_by", String(16), nullable=False),
)

ops_audit_log = Table(
    "ops_audit_log",
    metadata,
    _id(),
    Column("at", UtcDateTime, nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("detail", Json),
    Column("affected", Integer),
    Index("ix_ops_audit_log_at", "at"),
)

# The operations page's sessions (common.ops.sessions): the cookie holds a random id, this row is
# what makes it valid. Logout deletes the row; a session whose key left its role's setting, idle
# for 8 hours or 24 hours old is refused and deleted. Neither the id nor the key is stored:
# only the id's SHA-256 and an HMAC fingerprint of the key the operator signed in with.
ops_sessions = Table(
    "ops_sessions",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("key_fingerprint", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    # "admin" or "viewer" (OPS_VIEWER_KEY): the setting whose keys the session's key must stay among.
    Column("role", String(16), nullable=False, server_default="admin"),
)

# Wrong admin keys at the page's login, one row each, per client address: the throttle holds
# across processes and hosts. Rows older than the throttle's window are deleted as new ones come.
ops_login_failures = Table(
    "ops_login_failures",
    metadata,
    _id(),
    Column("client", String(64), nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
    Index("ix_ops_login_failures_client", "client", "failed_at"),
)

# Orders (common.shop.orders). An order copies what it was placed with (prices, names, the
# address), so later changes to products or a deleted address never rewrite it.
ORDER_STATUSES = ("placed", "confirmed", "shipped", "delivered", "cancelled")

orders = Table(
    "orders",
    metadata,
    _id(),
    # Set at the end of the placing transaction (common.shop.orders), never seen empty outside it.
    Column("number", String(32), unique=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("subtotal", Money, nullable=False),
    Column("discount", Money, nullable=False),
    Column("delivery_fee", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("currency", String(3), nullable=False, server_default=text("'IQD'")),
    Column("promotion_id", Id, ForeignKey("promotions.id", ondelete="SET NULL")),
    Column("promo_code", String(32)),
    Column("address_id", Id, ForeignKey("customer_addresses.id", ondelete="SET NULL")),
    Column("address_label", String(100), nullable=False),
    Column("address_text", String(1000), nullable=False),
    Column("address_city", String(100), nullable=False),
    Column("address_phone", String(64)),
    Column("delivery_option", String(16), nullable=False),
    Column("payment_method", String(32), nullable=False),
    Column("note", String(500)),
    # The Zoho sales order, once created; its status and version come back by webhook.
    Column("zoho_salesorder_id", String(64), unique=True),
    Column("zoho_salesorder_number", String(64)),
    Column("zoho_synced_at", UtcDateTime),
    Column("zoho_status", String(32)),
    Column("zoho_last_modified", UtcDateTime),
    # When Zoho confirmed the sales order (Zoho's clock): its stock counts the order from then.
    Column("zoho_committed_at", UtcDateTime),
    Column("zoho_voided_at", UtcDateTime),
    # The push to Zoho (common.sync.order_push): due while set, retried with backoff.
    Column("zoho_push_due_at", UtcDateTime),
    Column("zoho_push_attempts", Integer, nullable=False, server_default=text("0")),
    Column("zoho_push_error", Text),
    Column("zoho_push_lease_until", UtcDateTime),
    *_timestamps(),
    CheckConstraint("status IN ('placed', 'confirmed', 'shipped', 'delivered', 'cancelled')", name="status_known"),
    CheckConstraint("subtotal >= 0 AND discount >= 0 AND delivery_fee >= 0 AND total >= 0", name="amounts_positive"),
    Index("ix_orders_customer", "customer_id", "id"),
    Index("ix_orders_created", "created_at"),
    Index("ix_orders_push_due", "zoho_push_due_at", **_only_where("zoho_push_due_at IS NOT NULL")),
)
order_lines = Table(
    "order_lines",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", Id, ForeignKey("products.id"), nullable=False),
    Column("zoho_item_id", String(64)),
    Column("product_name", String(500), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price", Money, nullable=False),
    Column("subtotal", Money, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index("ix_order_lines_order", "order_id"),
)
order_status_history = Table(
    "order_status_history",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("source", String(16), nullable=False),  # "app" or "zoho"
    Index("ix_order_status_history_order", "order_id", "id"),
)
# One counter row per year: TSH-<year>-<6 digits>, gapless within a year's committed orders.
order_number_counters = Table(
    "order_number_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_value", Integer, nullable=False),
)
# A POST /api/mobile/orders's Idempotency-Key: the same key answers the same order.
order_idempotency_keys = Table(
    "order_idempotency_keys",
    metadata,
    Column("customer_id", Id, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("body_hash", String(64), nullable=False),
    # Set in the transaction that claimed the key, so no one else ever sees it empty.
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE")),
    Column("created_at", UtcDateTime, nullable=False),
)
# Units held for placed orders that Zoho's stock figure does not count yet (see
# common.products.reservations for when a reservation ends).
stock_reservations = Table(
    "stock_reservations",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", Id, ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
    Column("release_reason", String(32)),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    UniqueConstraint("order_id", "product_id"),
    Index("ix_stock_reservations_open", "product_id", **_only_where("released_at IS NULL")),
)
# A coded promotion's use by a customer: once per customer, taken back when the order is cancelled.
promotion_redemptions = Table(
    "promotion_redemptions",
    metadata,
    _id(),
    Column("promotion_id", Id, ForeignKey("promotions.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("promotion_id", "customer_id"),
)
