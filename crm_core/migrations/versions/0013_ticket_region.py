"""the account's region on each ticket: the region filter reads it from the ticket indexes

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm_core import rollups

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The two range indexes as 0010 left them; this revision appends the region to each.
BEFORE = {
    "ix_tickets_created_at": ["created_at", "account_id", "priority", "first_response_at", "first_response_seconds"],
    "ix_tickets_resolved_at": ["resolved_at", "account_id", "created_at", "priority", "csat", "resolution_seconds"],
}


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("account_region", sa.String(length=60), nullable=True))
    # Fill before the indexes that carry the new column exist (one write per row).
    for name in BEFORE:
        op.drop_index(name, table_name="tickets")
    rollups.refresh_tickets(op.get_bind(), columns=["account_region"])
    for name, columns in BEFORE.items():
        op.create_index(name, "tickets", [*columns, "account_region"])


def downgrade() -> None:
    for name, columns in BEFORE.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", columns)
    op.drop_column("tickets", "account_region")
