"""the account's region on each deal: the region filter compares a column of the deal indexes

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

# The three deal indexes as 0011 left them; this revision appends the region to each.
ROLLUPS = ["history_changed_at", "history_to_stage", "history_prev_changed_at", "history_prev_to_stage",
           "furthest_stage_order", "history_prev2_changed_at", "history_prev2_to_stage"]
BEFORE = {
    "ix_opportunities_stage": ["stage", "closed_at", "owner_id", "amount", "created_at", "product_id",
                               "account_id", "last_activity_at", "lost_reason", *ROLLUPS, "cycle_seconds"],
    "ix_opportunities_owner_id": ["owner_id", "stage", "closed_at", "amount", "created_at", "product_id",
                                  "account_id", "last_activity_at", *ROLLUPS],
    "ix_opportunities_created_at": ["created_at", "owner_id", "stage", "product_id", "account_id",
                                    "furthest_stage_order"],
}  # fmt: skip
INCLUDE_ID = {"ix_opportunities_stage", "ix_opportunities_owner_id"}  # PostgreSQL, as in 0011


def _create(name: str, columns: list[str]) -> None:
    include = ["id"] if name in INCLUDE_ID else None
    op.create_index(name, "opportunities", columns, postgresql_include=include)


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch_op:
        batch_op.add_column(sa.Column("account_region", sa.String(length=60), nullable=True))
    # Fill before the indexes that carry the new column exist (one write per row).
    for name in BEFORE:
        op.drop_index(name, table_name="opportunities")
    rollups.refresh_opportunities(op.get_bind(), columns=["account_region"])
    for name, columns in BEFORE.items():
        _create(name, [*columns, "account_region"])


def downgrade() -> None:
    for name, columns in BEFORE.items():
        op.drop_index(name, table_name="opportunities")
        _create(name, columns)
    op.drop_column("opportunities", "account_region")
