"""work lists at scale: active tickets by status, ticket categories, accounts by name

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 02:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_status", "tickets", ["status", "priority", "created_at"], unique=False)
    op.create_index("ix_tickets_category", "tickets", ["category"], unique=False)
    op.create_index("ix_accounts_name", "accounts", ["name", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_accounts_name", table_name="accounts")
    op.drop_index("ix_tickets_category", table_name="tickets")
    op.drop_index("ix_tickets_status", table_name="tickets")
