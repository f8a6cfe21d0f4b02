"""the third-latest stage row and the sales cycle on deals: fewer history seeks for the
pipeline as of a past T, no date difference per won deal

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models
from crm_core import rollups

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The two covering indexes as 0003 left them; this revision appends its columns.
OPP_STAGE = ["stage", "closed_at", "owner_id", "amount", "created_at", "product_id", "account_id",
             "last_activity_at", "lost_reason"]
OPP_OWNER = ["owner_id", "stage", "closed_at", "amount", "created_at", "product_id", "account_id",
             "last_activity_at"]
ROLLUPS = ["history_changed_at", "history_to_stage", "history_prev_changed_at", "history_prev_to_stage",
           "furthest_stage_order"]
THIRD = ["history_prev2_changed_at", "history_prev2_to_stage"]
CYCLE = ["cycle_seconds"]
BEFORE = {"ix_opportunities_stage": OPP_STAGE + ROLLUPS, "ix_opportunities_owner_id": OPP_OWNER + ROLLUPS}
AFTER = {"ix_opportunities_stage": OPP_STAGE + ROLLUPS + THIRD + CYCLE,
         "ix_opportunities_owner_id": OPP_OWNER + ROLLUPS + THIRD}


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch_op:
        batch_op.add_column(sa.Column("history_prev2_to_stage", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("history_prev2_changed_at", crm_core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("cycle_seconds", sa.Float(), nullable=True))
    # Fill before the indexes that carry the new columns exist (one write per row, not three).
    for name in BEFORE:
        op.drop_index(name, table_name="opportunities")
    rollups.refresh_opportunities(op.get_bind(), columns=THIRD + CYCLE)
    for name, columns in AFTER.items():
        # PostgreSQL: with id the stage-as-of-T seeks (correlated on id) are index-only scans.
        op.create_index(name, "opportunities", columns, postgresql_include=["id"])


def downgrade() -> None:
    for name, columns in BEFORE.items():
        op.drop_index(name, table_name="opportunities")
        op.create_index(name, "opportunities", columns)
    # Plain ALTER TABLE … DROP COLUMN, as in 0002.
    for column in reversed(THIRD + CYCLE):
        op.drop_column("opportunities", column)
