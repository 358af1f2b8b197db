"""Audit log: append-only, hash-chained entries per tenant and each chain's head.

On PostgreSQL the app role gets SELECT and INSERT on entries only, and triggers refuse UPDATE, DELETE and TRUNCATE
for every role (tampering needs the owner to drop or disable the triggers first, which verification then
detects). The head may only move forward one entry at a time. SQLite gets the same triggers.

Revision ID: 0002_audit
Revises: 0001_tenants
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import APPEND_ONLY, app_role, is_postgresql, isolate_tenant_table, make_append_only

revision = "0002_audit"
down_revision = "0001_tenants"
branch_labels = None
depends_on = None

PG_TRIGGERS = """
CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.lg_code <> OLD.lg_code OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'audit_head only moves forward one entry at a time (% refused)', TG_OP;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION kiban_append_only();
"""

SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head "
    "WHEN NEW.lg_code <> OLD.lg_code OR NEW.seq <> OLD.seq + 1 "
    "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END",
]


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("actor_lg_code", sa.String(6), nullable=False),
        sa.Column("roles", sa.String(300), nullable=False),
        sa.Column("action", sa.String(120), nullable=False),
        sa.Column("purpose", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(120), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "seq", name="pk_audit_entry"),
    )
    op.create_table(
        "audit_head",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", name="pk_audit_head"),
    )
    isolate_tenant_table("audit_entry", APPEND_ONLY)
    make_append_only("audit_entry")
    isolate_tenant_table("audit_head", "SELECT, INSERT, UPDATE")
    if is_postgresql():
        op.execute(f'REVOKE DELETE, TRUNCATE ON audit_head FROM "{app_role()}"')
        op.execute(PG_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_entry")
    if is_postgresql():
        op.execute("DROP FUNCTION audit_head_forward_only(); DROP FUNCTION IF EXISTS kiban_append_only() CASCADE;")
