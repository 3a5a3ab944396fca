"""ops_sessions and ops_login_failures: the operations page's server-side sessions and its login
throttle per client, shared by every process.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ops_sessions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ops_sessions_token_hash")),
    )
    op.create_table(
        "ops_login_failures",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_login_failures")),
    )
    op.create_index("ix_ops_login_failures_client", "ops_login_failures", ["client", "failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ops_login_failures_client", table_name="ops_login_failures")
    op.drop_table("ops_login_failures")
    op.drop_table("ops_sessions")
