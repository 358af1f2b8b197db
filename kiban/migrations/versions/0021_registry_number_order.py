"""The largest 宛名番号 and 世帯番号 of a municipality read from an index (``kiban.registry.models.number_order``)
instead of among all its rows, when the registry hands out the next free one.

Revision ID: 0021_registry_number_order
Revises: 0020_assessment_supported_by
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_registry_number_order"
down_revision = "0020_assessment_supported_by"
branch_labels = None
depends_on = None

NUMBERS = {"household": "household_no", "person": "person_no"}


def upgrade() -> None:
    for table, column in NUMBERS.items():
        digits = f"ltrim({column}, '0')"
        op.create_index(
            f"ix_{table}_number_order", table, [sa.text("lg_code"), sa.text(f"length({digits})"), sa.text(digits)]
        )


def downgrade() -> None:
    for table in NUMBERS:
        op.drop_index(f"ix_{table}_number_order", table_name=table)
