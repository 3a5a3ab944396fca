"""Operations: scheduled jobs' outcomes, alert incidents and their notification queue, queue pauses,
the operators' audit trail, the role of a page session, and (PostgreSQL) a GIN index for searching queue payloads.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = sa.DateTime(timezone=True)
_OPEN = sa.text("state = 'open'")
_UNSENT = sa.text("sent_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "ops_job_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_job_runs")),
    )
    op.create_index("ix_ops_job_runs_job", "ops_job_runs", ["job", "finished_at"])
    op.create_table(
        "ops_alert_clock",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("evaluated_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ops_alert_clock")),
    )
    op.create_table(
        "ops_incidents",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_at", _WHEN, nullable=False),
        sa.Column("resolved_at", _WHEN, nullable=True),
        sa.Column("notified_at", _WHEN, nullable=True),
        sa.CheckConstraint("state IN ('open', 'resolved')", name=op.f("ck_ops_incidents_state_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_incidents")),
    )
    op.create_index(
        "ix_ops_incidents_open_rule", "ops_incidents", ["rule"], unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN
    )
    op.create_index("ix_ops_incidents_opened", "ops_incidents", ["opened_at"])
    op.create_table(
        "ops_alert_notifications",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("incident_id", _ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", _WHEN, nullable=False),
        sa.Column("sent_at", _WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["ops_incidents.id"],
            name=op.f("fk_ops_alert_notifications_incident_id_ops_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_alert_notifications")),
    )
    op.create_index(
        "ix_ops_alert_notifications_due",
        "ops_alert_notifications",
        ["next_attempt_at", "id"],
        sqlite_where=_UNSENT,
        postgresql_where=_UNSENT,
    )
    op.create_index("ix_ops_alert_notifications_incident", "ops_alert_notifications", ["incident_id"])
    op.create_table(
        "ops_queue_pauses",
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("paused_at", _WHEN, nullable=False),
        sa.Column("paused_by", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", name=op.f("pk_ops_queue_pauses")),
    )
    op.create_table(
        "ops_audit_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", _JSON, nullable=True),
        sa.Column("affected", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_audit_log")),
    )
    op.create_index("ix_ops_audit_log_at", "ops_audit_log", ["at"])
    # A session records its role (0008 made every session an admin's).
    op.add_column("ops_sessions", sa.Column("role", sa.String(length=16), nullable=False, server_default="admin"))
    if op.get_context().dialect.name == "postgresql":
        op.create_index("ix_tds_sync_queue_payload", "tds_sync_queue", ["payload"], postgresql_using="gin")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.drop_index("ix_tds_sync_queue_payload", table_name="tds_sync_queue")
    with op.batch_alter_table("ops_sessions") as batch:
        batch.drop_column("role")
    op.drop_table("ops_audit_log")
    op.drop_table("ops_queue_pauses")
    op.drop_table("ops_alert_notifications")
    op.drop_table("ops_incidents")
    op.drop_table("ops_alert_clock")
    op.drop_table("ops_job_runs")
