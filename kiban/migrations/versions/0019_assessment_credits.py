"""The 所得割 before the 税額控除 and the 税額控除額等 (to the 所得割 before the 定額減税) stored with each
assessment, per tax, for the 納税通知書. Rows stored before are 0 until the next run of their 年度 recomputes them.

Revision ID: 0019_assessment_credits
Revises: 0018_declaration_donations
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_assessment_credits"
down_revision = "0018_declaration_donations"
branch_labels = None
depends_on = None

COLUMNS = (
    "income_levy_gross_municipal",
    "income_levy_gross_prefectural",
    "tax_credits_municipal",
    "tax_credits_prefectural",
)


def upgrade() -> None:
    with op.batch_alter_table("tax_assessment") as table:
        for column in COLUMNS:
            table.add_column(sa.Column(column, sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("tax_assessment") as table:
        for column in reversed(COLUMNS):
            table.drop_column(column)
