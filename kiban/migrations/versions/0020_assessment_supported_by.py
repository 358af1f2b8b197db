"""Who supports each person assessed (the taxpayer whose 同一生計配偶者 or 扶養親族 they are), stored with the
assessment so that the benefits read it with the 課税区分 of the same run. Rows stored before have none until the
next run of their 年度.

Revision ID: 0020_assessment_supported_by
Revises: 0019_assessment_credits
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_assessment_supported_by"
down_revision = "0019_assessment_credits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tax_assessment") as table:
        table.add_column(sa.Column("supported_by", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tax_assessment") as table:
        table.drop_column("supported_by")
