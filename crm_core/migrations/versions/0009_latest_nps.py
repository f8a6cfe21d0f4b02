"""latest NPS response on each account: health scores without an NPS seek per customer

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models
from crm_core import rollups

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAST_ACTIVITY = ["last_activity_at"]
LATEST_NPS = ["latest_nps_at", "latest_nps_score"]


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("latest_nps_at", crm_core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("latest_nps_score", sa.Integer(), nullable=True))
    rollups.refresh_account_nps(op.get_bind())
    # health's weak candidates read the latest NPS of 60-90 day quiet accounts from the index
    op.drop_index("ix_accounts_last_activity_at", table_name="accounts")
    op.create_index("ix_accounts_last_activity_at", "accounts", [*LAST_ACTIVITY, *LATEST_NPS], unique=False)


def downgrade() -> None:
    op.drop_index("ix_accounts_last_activity_at", table_name="accounts")
    op.create_index("ix_accounts_last_activity_at", "accounts", LAST_ACTIVITY, unique=False)
    # Plain ALTER TABLE … DROP COLUMN, as in 0002.
    op.drop_column("accounts", "latest_nps_score")
    op.drop_column("accounts", "latest_nps_at")
