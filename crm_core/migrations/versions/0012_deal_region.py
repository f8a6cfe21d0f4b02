"""the account's region on each deal, and a region-led copy of the stage index: the region
filter seeks a region's deals instead of probing 25k account ids per deal

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm_core import rollups

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ix_opportunities_stage as 0011 left it; the new index is the same led by the region.
ROLLUPS = ["history_changed_at", "history_to_stage", "history_prev_changed_at", "history_prev_to_stage",
           "furthest_stage_order", "history_prev2_changed_at", "history_prev2_to_stage"]
STAGE = ["stage", "closed_at", "owner_id", "amount", "created_at", "product_id", "account_id", "last_activity_at",
         "lost_reason", *ROLLUPS, "cycle_seconds"]
CREATED = ["created_at", "owner_id", "stage", "product_id", "account_id", "furthest_stage_order"]  # as in 0002
# fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch_op:
        batch_op.add_column(sa.Column("account_region", sa.String(length=60), nullable=True))
    # Fill before the indexes that carry the new column exist (one write per row).
    op.drop_index("ix_opportunities_created_at", table_name="opportunities")
    rollups.refresh_opportunities(op.get_bind(), columns=["account_region"])
    op.create_index("ix_opportunities_created_at", "opportunities", [*CREATED, "account_region"])
    # PostgreSQL: with id the stage-as-of-T seeks (correlated on id) are index-only scans (0011).
    op.create_index("ix_opportunities_region", "opportunities", ["account_region", *STAGE], postgresql_include=["id"])


def downgrade() -> None:
    op.drop_index("ix_opportunities_region", table_name="opportunities")
    op.drop_index("ix_opportunities_created_at", table_name="opportunities")
    op.create_index("ix_opportunities_created_at", "opportunities", CREATED)
    op.drop_column("opportunities", "account_region")
