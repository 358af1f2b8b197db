"""The 受給単位 a municipality has registered with the national duplicate check (二重給付の防止), so that a payment
batch pays only households every entitled person of which the check has seen (fail-closed,
``kiban.benefits.national_check.exclude_unchecked``):

  - the view ``benefit_claim_unit`` (``security_barrier``, owned by the owner role like ``benefit_claim_state`` of
    migration ``0013_notices_claims``, so it reads the platform table ``benefit_claim`` but returns only the
    caller's own rows, ``lg_code = current_setting('kiban.lg_code')``): per program and 受給単位 (``household_no``)
    the number of the caller's claims — nothing about any other municipality.

  On SQLite the same view is created without the tenant filter: ``kiban.benefits.claims`` filters by the session's
  tenant.

Revision ID: 0016_claim_units
Revises: 0015_entitlement_recipient_index
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

from kiban.core.db import TENANT_SETTING
from kiban.core.schema import app_role, is_postgresql

revision = "0016_claim_units"
down_revision = "0015_entitlement_recipient_index"
branch_labels = None
depends_on = None


def _view(tenant_filter: str) -> str:
    return f"""
SELECT m.program, m.lg_code, m.household_no, COUNT(*) AS claims
FROM benefit_claim m
{tenant_filter}
GROUP BY m.program, m.lg_code, m.household_no
"""  # noqa: S608 (constants only)


def upgrade() -> None:
    if not is_postgresql():
        op.execute(f"CREATE VIEW benefit_claim_unit AS {_view('')}")
        return
    own = f"WHERE m.lg_code = current_setting('{TENANT_SETTING}', true)"
    op.execute(f"CREATE VIEW benefit_claim_unit WITH (security_barrier) AS {_view(own)}")
    op.execute(f'GRANT SELECT ON benefit_claim_unit TO "{app_role()}"')


def downgrade() -> None:
    op.execute("DROP VIEW benefit_claim_unit")
