"""activities per user and UTC day, for the leaderboard's activity counts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm_core import rollups

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_days",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_activity_days_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_activity_days")),
    )
    rollups.refresh_activity_days(op.get_bind())
    op.create_index("ix_activity_days_day", "activity_days", ["day", "user_id", "activities"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_activity_days_day", table_name="activity_days")
    op.drop_table("activity_days")
