"""Resident portal: the 確認番号 printed on every 確認書, the reason an entitlement waits for staff review, and the
link between a resident's sign-in (the identity provider's subject) and the entitlements they may act on.

Existing entitlements get a fresh random 確認番号 each. ``portal_link`` is tenant-owned (RLS); a link is never
changed or removed by the application (SELECT, INSERT only), and one entitlement links to one resident at most.

Revision ID: 0012_portal
Revises: 0011_benefits_payments
Create Date: 2026-11-30
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import APPEND_ONLY, is_postgresql, isolate_tenant_table

revision = "0012_portal"
down_revision = "0011_benefits_payments"
branch_labels = None
depends_on = None
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""The 確認番号 of ``kiban.benefits.models.new_confirmation_code`` at this revision (migrations import only core)."""


def _code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


def upgrade() -> None:
    op.add_column(
        "benefit_entitlement", sa.Column("confirmation_code", sa.String(12), nullable=False, server_default="")
    )
    op.add_column("benefit_entitlement", sa.Column("review_reason", sa.Text, nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT lg_code, program, household_no FROM benefit_entitlement")).all()
    for lg_code, program, household_no in rows:
        bind.execute(
            sa.text(
                "UPDATE benefit_entitlement SET confirmation_code = :code "
                "WHERE lg_code = :lg AND program = :p AND household_no = :h"
            ),
            {"code": _code(), "lg": lg_code, "p": program, "h": household_no},
        )
    if is_postgresql():
        op.execute("ALTER TABLE benefit_entitlement ALTER COLUMN confirmation_code DROP DEFAULT")
    op.create_index(
        "uq_benefit_entitlement_confirmation_code",
        "benefit_entitlement",
        ["lg_code", "confirmation_code"],
        unique=True,
    )
    op.create_index(
        "ix_benefit_entitlement_account", "benefit_entitlement", ["lg_code", "program", "account_number", "bank_code"]
    )
    op.create_table(
        "portal_link",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "subject", "program", "household_no", name="pk_portal_link"),
        sa.UniqueConstraint("lg_code", "program", "household_no", name="uq_portal_link_entitlement"),
        sa.ForeignKeyConstraint(
            ["lg_code", "program", "household_no"],
            ["benefit_entitlement.lg_code", "benefit_entitlement.program", "benefit_entitlement.household_no"],
            name="fk_portal_link_entitlement",
        ),
    )
    isolate_tenant_table("portal_link", APPEND_ONLY)


def downgrade() -> None:
    op.drop_table("portal_link")
    op.drop_index("ix_benefit_entitlement_account", table_name="benefit_entitlement")
    op.drop_index("uq_benefit_entitlement_confirmation_code", table_name="benefit_entitlement")
    op.drop_column("benefit_entitlement", "review_reason")
    op.drop_column("benefit_entitlement", "confirmation_code")
