"""Staff accounts, roles, web sessions and API tokens.

Revision ID: 0004_identity
Revises: 0001_tenants
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import isolate_tenant_table

revision = "0004_identity"
down_revision = "0001_tenants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("display_name", sa.String(60), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "user_id", name="pk_staff_user"),
    )
    op.create_table(
        "staff_role",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "user_id", "role", name="pk_staff_role"),
        sa.ForeignKeyConstraint(
            ["lg_code", "user_id"],
            ["staff_user.lg_code", "staff_user.user_id"],
            name="fk_staff_role_lg_code_user_id_staff_user",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "web_session",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("second_factor_done", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "token_hash", name="pk_web_session"),
        sa.ForeignKeyConstraint(
            ["lg_code", "user_id"],
            ["staff_user.lg_code", "staff_user.user_id"],
            name="fk_web_session_lg_code_user_id_staff_user",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "api_token",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("token_id", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("scopes", sa.String(1000), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "token_id", name="pk_api_token"),
    )
    for table in ("staff_user", "staff_role", "web_session", "api_token"):
        isolate_tenant_table(table)


def downgrade() -> None:
    for table in ("api_token", "web_session", "staff_role", "staff_user"):
        op.drop_table(table)
