"""customer counts as of any T from short ranges: first and second wins, churned accounts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_WON = ["first_won_at", "churned_at", "second_won_at", "won_cents", "tier"]


def upgrade() -> None:
    op.drop_index("ix_accounts_first_won_at", table_name="accounts")
    op.create_index("ix_accounts_first_won_at", "accounts", [*FIRST_WON, "region", "owner_id"], unique=False)
    op.create_index("ix_accounts_second_won_at", "accounts", ["second_won_at", "region", "owner_id"], unique=False)
    op.drop_index("ix_accounts_churned_at", table_name="accounts")
    op.create_index(
        "ix_accounts_churned_at", "accounts", ["churned_at", "first_won_at", "region", "owner_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_churned_at", table_name="accounts")
    op.create_index("ix_accounts_churned_at", "accounts", ["churned_at"], unique=False)
    op.drop_index("ix_accounts_second_won_at", table_name="accounts")
    op.drop_index("ix_accounts_first_won_at", table_name="accounts")
    op.create_index("ix_accounts_first_won_at", "accounts", FIRST_WON, unique=False)
