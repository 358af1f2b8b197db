"""The donations of a declaration for the 寄附金税額控除 (地方税法第314条の7・第37条の2): 都道府県・市区町村
(ふるさと納税), 共同募金会・日本赤十字社, 条例指定寄附金 of the prefecture and of the municipality, and whether the
ふるさと納税 申告特例 (ワンストップ特例) was asked for. Existing rows have none.

Revision ID: 0018_declaration_donations
Revises: 0017_specified_acquisition
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_declaration_donations"
down_revision = "0017_specified_acquisition"
branch_labels = None
depends_on = None

AMOUNTS = (
    "donation_hometown",
    "donation_community_chest",
    "donation_designated_prefectural",
    "donation_designated_municipal",
)


def upgrade() -> None:
    with op.batch_alter_table("tax_income_declaration") as table:
        for name in AMOUNTS:
            table.add_column(sa.Column(name, sa.BigInteger, nullable=False, server_default="0"))
        table.add_column(sa.Column("donation_one_stop", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("tax_income_declaration") as table:
        table.drop_column("donation_one_stop")
        for name in reversed(AMOUNTS):
            table.drop_column(name)
