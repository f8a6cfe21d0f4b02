"""the previous stage row on deals: stage as of T without a history seek for most deals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models
from crm_core import rollups

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPP_STAGE = ["stage", "closed_at", "owner_id", "amount", "created_at", "product_id", "account_id",
             "last_activity_at", "lost_reason"]
OPP_OWNER = ["owner_id", "stage", "closed_at", "amount", "created_at", "product_id", "account_id",
             "last_activity_at"]
LATEST = ["history_changed_at", "history_to_stage"]
PREVIOUS = ["history_prev_changed_at", "history_prev_to_stage"]

FUNNEL = ["furthest_stage_order"]
INDEXES = {"ix_opportunities_stage": OPP_STAGE, "ix_opportunities_owner_id": OPP_OWNER}


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch_op:
        batch_op.add_column(sa.Column("history_prev_to_stage", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("history_prev_changed_at", crm_core.models.UTCDateTime(), nullable=True))
    # Fill before the indexes that carry the new columns exist (one write per row, not three).
    for name in INDEXES:
        op.drop_index(name, table_name="opportunities")
    rollups.refresh_opportunities(op.get_bind(), columns=PREVIOUS)
    for name, leading in INDEXES.items():
        op.create_index(name, "opportunities", leading + LATEST + PREVIOUS + FUNNEL)


def downgrade() -> None:
    for name, leading in INDEXES.items():
        op.drop_index(name, table_name="opportunities")
        op.create_index(name, "opportunities", leading + LATEST + FUNNEL)
    # Plain ALTER TABLE … DROP COLUMN, as in 0002.
    for column in reversed(PREVIOUS):
        op.drop_column("opportunities", column)
