"""Request metrics: per-minute aggregates of each function's requests, errors and latency.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tds_request_metrics",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=96), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("client_errors", sa.Integer(), nullable=False),
        sa.Column("server_errors", sa.Integer(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("max_ms", sa.Float(), nullable=False),
        sa.Column(
            "histogram", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tds_request_metrics")),
    )
    op.create_index("ix_tds_request_metrics_minute", "tds_request_metrics", ["minute", "function"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tds_request_metrics_minute", table_name="tds_request_metrics")
    op.drop_table("tds_request_metrics")
