"""Municipal parameter values (append-only history of each municipality's own values).

Revision ID: 0003_params
Revises: 0001_tenants
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import APPEND_ONLY, isolate_tenant_table

revision = "0003_params"
down_revision = "0001_tenants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parameter_override",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("effective_until", sa.Date, nullable=True),
        sa.Column("set_by", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "name", "effective_from", "revision", name="pk_parameter_override"),
        sa.CheckConstraint("length(trim(reason)) > 0", name="ck_parameter_override_reason_not_empty"),
        sa.CheckConstraint(
            "effective_until IS NULL OR effective_until >= effective_from", name="ck_parameter_override_date_order"
        ),
        sa.CheckConstraint("revision >= 1", name="ck_parameter_override_revision_positive"),
    )
    # Append-only: the app role may read and add rows, never change or remove them.
    isolate_tenant_table("parameter_override", APPEND_ONLY)


def downgrade() -> None:
    op.drop_table("parameter_override")
