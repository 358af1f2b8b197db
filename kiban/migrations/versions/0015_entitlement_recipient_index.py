"""The entitlement search by 受給権者の宛名番号: an index on ``benefit_entitlement (lg_code, program, recipient_no)``,
so finding a household by its head's 宛名番号 reads the index instead of every entitlement of the program.

Revision ID: 0015_entitlement_recipient_index
Revises: 0014_declaration_corrections
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0015_entitlement_recipient_index"
down_revision = "0014_declaration_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_benefit_entitlement_recipient", "benefit_entitlement", ["lg_code", "program", "recipient_no"])


def downgrade() -> None:
    op.drop_index("ix_benefit_entitlement_recipient", table_name="benefit_entitlement")
