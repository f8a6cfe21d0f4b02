"""first response and resolution times stored on each ticket: SLA metrics without a date
difference per row

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm_core import rollups

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_tickets_created_at": (["created_at", "account_id", "priority", "first_response_at"], ["first_response_seconds"]),
    "ix_tickets_resolved_at": (["resolved_at", "account_id", "created_at", "priority", "csat"], ["resolution_seconds"]),
    "ix_tickets_account_id": (
        ["account_id", "created_at", "resolved_at", "priority", "first_response_at", "csat"],
        ["first_response_seconds", "resolution_seconds"],
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("first_response_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("resolution_seconds", sa.Float(), nullable=True))
    # Fill before the indexes that carry the new columns exist (one write per row).
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
    rollups.refresh_tickets(op.get_bind(), columns=["first_response_seconds", "resolution_seconds"])
    for name, (columns, durations) in INDEXES.items():
        op.create_index(name, "tickets", columns + durations, unique=False)


def downgrade() -> None:
    for name, (columns, _durations) in INDEXES.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", columns, unique=False)
    # Plain ALTER TABLE … DROP COLUMN, as in 0002.
    op.drop_column("tickets", "resolution_seconds")
    op.drop_column("tickets", "first_response_seconds")
