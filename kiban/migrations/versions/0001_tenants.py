"""Tenant catalogue: every prefecture, municipality and designated-city ward.

Revision ID: 0001_tenants
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import grant_app

revision = "0001_tenants"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant",
        sa.Column("lg_code", sa.String(6), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("name_kana", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("pref_code", sa.String(2), nullable=False, index=True),
        sa.Column("pref_name", sa.String(8), nullable=False),
        sa.Column("parent_code", sa.String(6), nullable=True),
        sa.Column("gun", sa.String(20), nullable=True),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("kyuchi", sa.Integer, nullable=True),
        sa.Column("kyuchi_sub", sa.Integer, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    grant_app("tenant", "SELECT, UPDATE")


def downgrade() -> None:
    op.drop_table("tenant")
