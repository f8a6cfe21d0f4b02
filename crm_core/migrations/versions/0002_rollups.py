"""rollups for the dashboards: stage history and funnel stage on deals, customer dates on accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models
from crm_core import rollups

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTORY = ["history_changed_at", "history_to_stage", "furthest_stage_order"]
OPP_STAGE = ["stage", "closed_at", "owner_id", "amount", "created_at", "product_id", "account_id",
             "last_activity_at", "lost_reason"]
OPP_OWNER = ["owner_id", "stage", "closed_at", "amount", "created_at", "product_id", "account_id",
             "last_activity_at"]
OPP_CREATED = ["created_at", "owner_id", "stage", "product_id", "account_id"]
ACCOUNT_ROLLUPS = ["first_won_at", "second_won_at", "churned_at", "won_cents", "tier"]


def _rebuild(table: str, name: str, columns: list[str]) -> None:
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns, unique=False)


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch_op:
        batch_op.add_column(sa.Column("history_to_stage", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("history_changed_at", crm_core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("furthest_stage_order", sa.SmallInteger(), nullable=True))
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("first_won_at", crm_core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("second_won_at", crm_core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("won_cents", sa.BigInteger(), server_default="0", nullable=False))
    # Fill before the indexes that carry the new columns exist (one write per row, not three).
    for name in ("ix_opportunities_stage", "ix_opportunities_owner_id", "ix_opportunities_created_at"):
        op.drop_index(name, table_name="opportunities")
    for name in ("ix_accounts_owner_id", "ix_accounts_region"):
        op.drop_index(name, table_name="accounts")
    bind = op.get_bind()
    rollups.refresh_opportunities(bind, columns=HISTORY)
    rollups.refresh_accounts(bind)
    op.create_index("ix_opportunities_stage", "opportunities", OPP_STAGE + HISTORY)
    op.create_index("ix_opportunities_owner_id", "opportunities", OPP_OWNER + HISTORY)
    op.create_index("ix_opportunities_created_at", "opportunities", OPP_CREATED + ["furthest_stage_order"])
    op.create_index("ix_accounts_owner_id", "accounts", ["owner_id", "region", "id", *ACCOUNT_ROLLUPS])
    op.create_index("ix_accounts_region", "accounts", ["region", "owner_id", "id", *ACCOUNT_ROLLUPS])
    op.create_index(
        "ix_accounts_first_won_at", "accounts", ["first_won_at", "churned_at", "second_won_at", "won_cents", "tier"]
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_first_won_at", table_name="accounts")
    _rebuild("accounts", "ix_accounts_region", ["region", "owner_id", "id"])
    _rebuild("accounts", "ix_accounts_owner_id", ["owner_id", "region", "id"])
    _rebuild("opportunities", "ix_opportunities_created_at", OPP_CREATED)
    _rebuild("opportunities", "ix_opportunities_owner_id", OPP_OWNER)
    _rebuild("opportunities", "ix_opportunities_stage", OPP_STAGE)
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of the table would have to
    # turn foreign keys off, which cannot be done inside the migration's transaction.
    for column in ("won_cents", "second_won_at", "first_won_at"):
        op.drop_column("accounts", column)
    for column in ("furthest_stage_order", "history_changed_at", "history_to_stage"):
        op.drop_column("opportunities", column)
