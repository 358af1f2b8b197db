"""Whether a declaration's 住宅借入金等特別控除 is for a 特定取得 (the 住民税 credit is then capped at 7% of the
所得税の課税総所得金額等 and 136,500円 instead of 5% and 97,500円: 地方税法附則第5条の4の2). Existing rows are not.

Revision ID: 0017_specified_acquisition
Revises: 0016_claim_units
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_specified_acquisition"
down_revision = "0016_claim_units"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tax_income_declaration") as table:
        table.add_column(
            sa.Column("housing_loan_specified_acquisition", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("tax_income_declaration") as table:
        table.drop_column("housing_loan_specified_acquisition")
