"""Benefits and payments: eligibility runs, entitlements per household, payment batches with their lines, and the
one 全銀 file issued per batch.

Every table is tenant-owned (RLS enabled and forced). What must never happen to money is refused by the database on
both backends, not only by the services (see ``kiban.payments.models``): a partial UNIQUE index allows one line that
is not ``failed`` per program and household, lines pay more than 0 yen, sent and paid lines are never deleted and
never change what they pay, a line's status only moves forward, one file per batch with a SHA-256 unique per tenant,
stored files are append-only. Entitlements and batches are never deleted (no DELETE grant).

Revision ID: 0011_benefits_payments
Revises: 0010_tax
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import APPEND_ONLY, is_postgresql, isolate_tenant_table, make_append_only

revision = "0011_benefits_payments"
down_revision = "0010_tax"
branch_labels = None
depends_on = None

ACCOUNT = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")
ACCOUNT_TYPES = {"bank_code": 4, "branch_code": 3, "account_type": 1, "account_number": 7, "holder_kana": 60}
NOT_FAILED = "status <> 'failed'"
WHAT_A_LINE_PAYS = ("program", "household_no", "amount", *ACCOUNT)

PG_LINE_GUARD = f"""
CREATE FUNCTION payment_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('sent', 'paid') THEN
            RAISE EXCEPTION 'payment_line %/% is %: a sent or paid line is never deleted',
                OLD.batch_no, OLD.line_no, OLD.status USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'pending' AND ({" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in WHAT_A_LINE_PAYS)}
            OR NEW.batch_no <> OLD.batch_no OR NEW.line_no <> OLD.line_no OR NEW.lg_code <> OLD.lg_code) THEN
        RAISE EXCEPTION 'payment_line %/% is %: what it pays cannot change',
            OLD.batch_no, OLD.line_no, OLD.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT ((OLD.status = NEW.status)
            OR (OLD.status = 'pending' AND NEW.status = 'sent')
            OR (OLD.status = 'sent' AND NEW.status IN ('paid', 'failed'))) THEN
        RAISE EXCEPTION 'payment_line %/%: status % cannot become %',
            OLD.batch_no, OLD.line_no, OLD.status, NEW.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payment_line_guard BEFORE UPDATE OR DELETE ON payment_line
    FOR EACH ROW EXECUTE FUNCTION payment_line_guard();
"""

_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in (*WHAT_A_LINE_PAYS, "batch_no", "line_no", "lg_code"))
SQLITE_LINE_GUARD = [
    "CREATE TRIGGER payment_line_no_delete BEFORE DELETE ON payment_line WHEN OLD.status IN ('sent', 'paid') "
    "BEGIN SELECT RAISE(ABORT, 'payment_line: a sent or paid line is never deleted'); END",
    f"CREATE TRIGGER payment_line_paid_fixed BEFORE UPDATE ON payment_line WHEN OLD.status <> 'pending' AND "
    f"({_CHANGED}) BEGIN SELECT RAISE(ABORT, 'payment_line: what a sent, paid or failed line pays cannot change'); END",
    "CREATE TRIGGER payment_line_forward BEFORE UPDATE OF status ON payment_line WHEN NOT ("
    "OLD.status = NEW.status OR (OLD.status = 'pending' AND NEW.status = 'sent') "
    "OR (OLD.status = 'sent' AND NEW.status IN ('paid', 'failed'))) "
    "BEGIN SELECT RAISE(ABORT, 'payment_line: a status only moves forward'); END",
]


def _account(nullable: bool) -> list[sa.Column[str]]:
    return [sa.Column(name, sa.String(width), nullable=nullable) for name, width in ACCOUNT_TYPES.items()]


def upgrade() -> None:
    op.create_table(
        "benefit_run",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "run_no", name="pk_benefit_run"),
    )
    op.create_table(
        "benefit_entitlement",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        sa.Column("recipient_no", sa.String(20), nullable=False),
        sa.Column("members", sa.Integer, nullable=False),
        sa.Column("children", sa.Integer, nullable=False),
        sa.Column("eligible", sa.Boolean, nullable=False),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("base_amount", sa.BigInteger, nullable=False),
        sa.Column("child_addition", sa.BigInteger, nullable=False),
        sa.Column("top_up", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False),
        *_account(nullable=True),
        sa.Column("confirmed_by", sa.String(60), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("batch_no", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("lg_code", "program", "household_no", name="pk_benefit_entitlement"),
        sa.CheckConstraint(
            "status IN ('eligible', 'needs_review', 'confirmed', 'paid', 'failed', 'withdrawn')",
            name="ck_benefit_entitlement_status",
        ),
        sa.CheckConstraint("amount >= 0", name="ck_benefit_entitlement_amount"),
    )
    op.create_index("ix_benefit_entitlement_status", "benefit_entitlement", ["lg_code", "program", "status"])
    op.create_table(
        "payment_batch",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("batch_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("maker", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transfer_date", sa.Date, nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(60), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_hash", sa.String(64), nullable=True),
        sa.Column("approved_total", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("lg_code", "batch_no", name="pk_payment_batch"),
    )
    op.create_table(
        "payment_line",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("batch_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("line_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        *_account(nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "batch_no", "line_no", name="pk_payment_line"),
        sa.CheckConstraint("amount > 0", name="ck_payment_line_amount_positive"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'paid', 'failed')", name="ck_payment_line_status"),
        sa.ForeignKeyConstraint(
            ["lg_code", "batch_no"], ["payment_batch.lg_code", "payment_batch.batch_no"], name="fk_payment_line_batch"
        ),
        sa.ForeignKeyConstraint(
            ["lg_code", "program", "household_no"],
            ["benefit_entitlement.lg_code", "benefit_entitlement.program", "benefit_entitlement.household_no"],
            name="fk_payment_line_entitlement",
        ),
    )
    op.create_index(
        "uq_payment_line_beneficiary",
        "payment_line",
        ["lg_code", "program", "household_no"],
        unique=True,
        postgresql_where=sa.text(NOT_FAILED),
        sqlite_where=sa.text(NOT_FAILED),
    )
    op.create_table(
        "payment_file",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("batch_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(60), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "batch_no", name="pk_payment_file"),
        sa.UniqueConstraint("lg_code", "sha256", name="uq_payment_file_sha256"),
        sa.ForeignKeyConstraint(
            ["lg_code", "batch_no"], ["payment_batch.lg_code", "payment_batch.batch_no"], name="fk_payment_file_batch"
        ),
    )
    isolate_tenant_table("benefit_run", APPEND_ONLY)
    isolate_tenant_table("benefit_entitlement", "SELECT, INSERT, UPDATE")
    isolate_tenant_table("payment_batch", "SELECT, INSERT, UPDATE")
    isolate_tenant_table("payment_line")
    isolate_tenant_table("payment_file", APPEND_ONLY)
    make_append_only("payment_file")
    if is_postgresql():
        op.execute(PG_LINE_GUARD)
    else:
        for statement in SQLITE_LINE_GUARD:
            op.execute(statement)


def downgrade() -> None:
    if is_postgresql():
        op.execute("DROP TRIGGER payment_line_guard ON payment_line; DROP FUNCTION payment_line_guard();")
    op.drop_table("payment_file")
    op.drop_index("uq_payment_line_beneficiary", table_name="payment_line")
    op.drop_table("payment_line")
    op.drop_table("payment_batch")
    op.drop_index("ix_benefit_entitlement_status", table_name="benefit_entitlement")
    op.drop_table("benefit_entitlement")
    op.drop_table("benefit_run")
