"""Corrections of income declarations: 支払者番号, 提出区分 (新規・訂正・取消) and which declaration replaced one; and
the 住宅借入金等特別控除 the 所得税 took (the resident tax credits only the rest).

A 訂正 or 取消 is stored as a declaration of its own and marks the one it replaces (``superseded_by``); the
assessment reads only declarations in force. Existing rows are 新規 with no 支払者番号.

Revision ID: 0014_declaration_corrections
Revises: 0013_notices_claims
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_declaration_corrections"
down_revision = "0013_notices_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tax_income_declaration") as table:
        table.add_column(sa.Column("payer", sa.String(13), nullable=False, server_default=""))
        table.add_column(sa.Column("submission", sa.String(12), nullable=False, server_default="new"))
        table.add_column(sa.Column("superseded_by", sa.Integer, nullable=True))
        table.add_column(sa.Column("housing_loan_credit_used", sa.BigInteger, nullable=False, server_default="0"))
        table.create_check_constraint("submission", "submission IN ('new', 'correction', 'cancellation')")


def downgrade() -> None:
    with op.batch_alter_table("tax_income_declaration") as table:
        table.drop_constraint("ck_tax_income_declaration_submission", type_="check")
        table.drop_column("housing_loan_credit_used")
        table.drop_column("superseded_by")
        table.drop_column("submission")
        table.drop_column("payer")
