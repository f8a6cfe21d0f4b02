"""accounts by tier: active customers per tier without sorting them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 01:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_accounts_tier", "accounts", ["tier", "first_won_at", "churned_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_accounts_tier", table_name="accounts")
