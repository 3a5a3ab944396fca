"""zoho_mirror: the Zoho call budget, the progress of the import and of the full pass, the records
a full pass has listed, and the API host Zoho gives with each access token.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zoho_oauth_tokens") as batch:
        batch.add_column(sa.Column("api_domain", sa.String(length=255), nullable=True))
    op.create_table(
        "zoho_call_budget",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.CheckConstraint("period IN ('minute', 'day')", name=op.f("ck_zoho_call_budget_period_known")),
        sa.PrimaryKeyConstraint("organization_id", "period", name=op.f("pk_zoho_call_budget")),
    )
    op.create_table(
        "zoho_sync_progress",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("pass_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("since_date", sa.Date(), nullable=True),
        sa.Column("next_page", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("deactivated", sa.Integer(), nullable=False),
        sa.Column("listed_all", sa.Boolean(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("rail_tripped", sa.Boolean(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_complete_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_queued", sa.Integer(), nullable=True),
        sa.Column("last_deactivated", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('import', 'full')", name=op.f("ck_zoho_sync_progress_mode_known")),
        sa.PrimaryKeyConstraint("organization_id", "entity_type", "mode", name=op.f("pk_zoho_sync_progress")),
    )
    op.create_table(
        "zoho_pass_seen",
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("pass_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zoho_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "pass_started_at", "zoho_id", name=op.f("pk_zoho_pass_seen")),
    )


def downgrade() -> None:
    op.drop_table("zoho_pass_seen")
    op.drop_table("zoho_sync_progress")
    op.drop_table("zoho_call_budget")
    with op.batch_alter_table("zoho_oauth_tokens") as batch:
        batch.drop_column("api_domain")
