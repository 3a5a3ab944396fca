"""Domain events: the transactional outbox, per-subscriber deliveries, price history, cart line flags.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:16:37.395165
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UNPUBLISHED = sa.text("published_at IS NULL")
_UNDELIVERED = sa.text("delivered_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("aggregate_type", sa.String(length=32), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_outbox_event_id")),
    )
    op.create_index("ix_event_outbox_published", "event_outbox", ["published_at"], unique=False)
    op.create_index(
        "ix_event_outbox_unpublished",
        "event_outbox",
        ["id"],
        unique=False,
        sqlite_where=_UNPUBLISHED,
        postgresql_where=_UNPUBLISHED,
    )
    op.create_index(
        "ix_event_outbox_unpublished_aggregate",
        "event_outbox",
        ["aggregate_type", "aggregate_id", "id"],
        unique=False,
        sqlite_where=_UNPUBLISHED,
        postgresql_where=_UNPUBLISHED,
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("outbox_id", _ID, nullable=False),
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("aggregate_type", sa.String(length=32), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["event_outbox.id"],
            name=op.f("fk_event_deliveries_outbox_id_event_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
        sa.UniqueConstraint("outbox_id", "subscriber", name=op.f("uq_event_deliveries_outbox_id_subscriber")),
    )
    op.create_index(
        "ix_event_deliveries_due",
        "event_deliveries",
        ["next_attempt_at", "id"],
        unique=False,
        sqlite_where=_UNDELIVERED,
        postgresql_where=_UNDELIVERED,
    )
    op.create_index(
        "ix_event_deliveries_pending_aggregate",
        "event_deliveries",
        ["subscriber", "aggregate_type", "aggregate_id", "id"],
        unique=False,
        sqlite_where=_UNDELIVERED,
        postgresql_where=_UNDELIVERED,
    )
    op.create_table(
        "product_price_history",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("old_price", sa.BigInteger(), nullable=True),
        sa.Column("new_price", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_price_history_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_price_history")),
        sa.UniqueConstraint("event_id", name=op.f("uq_product_price_history_event_id")),
    )
    op.create_index(
        "ix_product_price_history_product", "product_price_history", ["product_id", "changed_at"], unique=False
    )
    with op.batch_alter_table("cart_items") as batch:
        batch.add_column(sa.Column("availability_flag", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cart_items") as batch:
        batch.drop_column("flagged_at")
        batch.drop_column("availability_flag")
    op.drop_index("ix_product_price_history_product", table_name="product_price_history")
    op.drop_table("product_price_history")
    op.drop_index("ix_event_deliveries_pending_aggregate", table_name="event_deliveries")
    op.drop_index("ix_event_deliveries_due", table_name="event_deliveries")
    op.drop_table("event_deliveries")
    op.drop_index("ix_event_outbox_unpublished_aggregate", table_name="event_outbox")
    op.drop_index("ix_event_outbox_unpublished", table_name="event_outbox")
    op.drop_index("ix_event_outbox_published", table_name="event_outbox")
    op.drop_table("event_outbox")
