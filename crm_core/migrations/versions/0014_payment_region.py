"""the deal's account region on each payment: collections by region read one index range

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm_core import rollups

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAID_AT = ["paid_at", "opportunity_id", "amount"]  # ix_payments_paid_at as 0001 created it


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("account_region", sa.String(length=60), nullable=True))
    # Fill before the index that carries the new column exists (one write per row).
    op.drop_index("ix_payments_paid_at", table_name="payments")
    rollups.refresh_payments(op.get_bind())
    op.create_index("ix_payments_paid_at", "payments", [*PAID_AT, "account_region"])


def downgrade() -> None:
    op.drop_index("ix_payments_paid_at", table_name="payments")
    op.create_index("ix_payments_paid_at", "payments", PAID_AT)
    op.drop_column("payments", "account_region")
