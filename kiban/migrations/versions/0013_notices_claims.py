"""確認書 sent, and the national duplicate check of benefits (二重給付の防止).

* ``benefit_entitlement.notified_at``: when the household's 確認書 was last exported for printing.
* ``benefit_claim`` (platform table, no RLS): one row per program, person (a keyed HMAC, ``person_key``) and
  municipality that found the person entitled. The app role gets no privilege on it. On PostgreSQL it reaches the
  claims only through

  - the view ``benefit_claim_state`` (``security_barrier``, owned by the owner role, so it reads every
    municipality's claims but returns only the caller's own rows, ``lg_code = current_setting('kiban.lg_code')``):
    each own claim that another municipality claims too, with its ``state`` among all claims of the person —
    ``pays``, ``open`` (a tie: the first to confirm pays) or ``blocked`` (another municipality pays) — and never
    anything of the other municipality (a claim absent from the view is claimed by the caller alone);
  - ``SECURITY DEFINER`` functions writing only the caller's own rows: ``benefit_claims_register`` (bulk upsert from
    the caller's temporary table ``benefit_claim_staging``, filled with ``COPY``, then drop the claims this
    registration no longer makes) and ``benefit_claims_stamp`` (first confirmation, or payment, under a lock on every
    claim of the persons concerned).

  On SQLite the same view is created without the tenant filter: ``kiban.benefits.claims`` is the only access path
  and filters by the session's tenant (as the data layer does for tenant-owned tables there).

Who pays among the claims of one person (the view): a municipality that already pays (``paying_at``: the household
is in a payment batch or paid) — money out is never called back by a later claim; otherwise the most recent
住民となった日 (a later 転入 is the person's 住所 on the base date; the former municipality's 転出 is corrected by the
転入通知, 住民基本台帳法第9条第1項 and 第22条); on a tie the first to confirm (``confirmed_at``); a tie nobody has
confirmed is ``open`` for both.

Revision ID: 0013_notices_claims
Revises: 0012_portal
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.db import TENANT_SETTING
from kiban.core.schema import app_role, is_postgresql

revision = "0013_notices_claims"
down_revision = "0012_portal"
branch_labels = None
depends_on = None

NEVER = "'9999-12-31 00:00:00'"
"""Stands for "not yet" when comparing times (portable: a timestamp on PostgreSQL, a string on SQLite)."""


def _at(side: str, column: str) -> str:
    return f"COALESCE({side}.{column}, {NEVER})"


_AHEAD = (
    f"{_at('o', 'paying_at')} < {_at('m', 'paying_at')} OR ({_at('o', 'paying_at')} = {_at('m', 'paying_at')} AND ("
    f"o.resident_since > m.resident_since OR (o.resident_since = m.resident_since AND "
    f"{_at('o', 'confirmed_at')} < {_at('m', 'confirmed_at')})))"
)
_TIED = (
    f"{_at('o', 'paying_at')} = {_at('m', 'paying_at')} AND o.resident_since = m.resident_since AND "
    f"{_at('o', 'confirmed_at')} = {_at('m', 'confirmed_at')}"
)


def _view(tenant_filter: str) -> str:
    return f"""
SELECT m.program, m.lg_code, m.person_key, m.key_kind, m.person_no, m.household_no,
    COUNT(*) + 1 AS claims,
    CASE
        WHEN SUM(CASE WHEN {_AHEAD} THEN 1 ELSE 0 END) > 0 THEN 'blocked'
        WHEN SUM(CASE WHEN {_TIED} THEN 1 ELSE 0 END) > 0 THEN 'open'
        ELSE 'pays'
    END AS state
FROM benefit_claim m
JOIN benefit_claim o ON o.program = m.program AND o.person_key = m.person_key AND o.lg_code <> m.lg_code
{tenant_filter}
GROUP BY m.program, m.lg_code, m.person_key, m.key_kind, m.person_no, m.household_no
"""  # noqa: S608 (constants only)


PG_FUNCTIONS = f"""
CREATE FUNCTION benefit_claim_tenant() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    lg text := NULLIF(current_setting('{TENANT_SETTING}', true), '');
BEGIN
    IF lg IS NULL THEN
        RAISE EXCEPTION 'benefit_claim: no tenant is set' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN lg;
END $$;

CREATE FUNCTION benefit_claims_register(p_program text, p_generation bigint)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    lg text := benefit_claim_tenant();
    n integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass('pg_temp.benefit_claim_staging') AND relkind = 'r')
    THEN
        RAISE EXCEPTION 'benefit_claims_register: fill the temporary table benefit_claim_staging first';
    END IF;
    INSERT INTO benefit_claim AS c (program, person_key, lg_code, key_kind, person_no, household_no, resident_since,
        claimed_at, confirmed_at, paying_at, generation)
    SELECT p_program, s.person_key, lg, s.key_kind, s.person_no, s.household_no, s.resident_since, clock_timestamp(),
        s.confirmed_at, CASE WHEN s.paying THEN clock_timestamp() END, p_generation
    FROM pg_temp.benefit_claim_staging s
    ON CONFLICT (program, person_key, lg_code) DO UPDATE SET
        key_kind = EXCLUDED.key_kind, person_no = EXCLUDED.person_no, household_no = EXCLUDED.household_no,
        resident_since = EXCLUDED.resident_since, confirmed_at = COALESCE(c.confirmed_at, EXCLUDED.confirmed_at),
        paying_at = COALESCE(c.paying_at, EXCLUDED.paying_at), generation = EXCLUDED.generation;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM benefit_claim
    WHERE lg_code = lg AND program = p_program AND generation <> p_generation AND paying_at IS NULL;
    RETURN n;
END $$;

CREATE FUNCTION benefit_claims_stamp(p_program text, p_households text[], p_paying boolean)
RETURNS TABLE (claim_household text, claim_state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    lg text := benefit_claim_tenant();
BEGIN
    PERFORM 1 FROM benefit_claim o
    WHERE o.program = p_program AND o.person_key IN (
        SELECT m.person_key FROM benefit_claim m
        WHERE m.lg_code = lg AND m.program = p_program AND m.household_no = ANY(p_households))
    ORDER BY o.person_key, o.lg_code
    FOR UPDATE;
    IF p_paying THEN
        UPDATE benefit_claim m SET paying_at = clock_timestamp()
        WHERE m.lg_code = lg AND m.program = p_program AND m.household_no = ANY(p_households)
            AND m.paying_at IS NULL
            AND m.household_no NOT IN (
                SELECT s.household_no FROM benefit_claim_state s
                WHERE s.program = p_program AND s.household_no = ANY(p_households) AND s.state IN ('blocked', 'open'));
    ELSE
        UPDATE benefit_claim m SET confirmed_at = clock_timestamp()
        WHERE m.lg_code = lg AND m.program = p_program AND m.household_no = ANY(p_households)
            AND m.confirmed_at IS NULL;
    END IF;
    RETURN QUERY SELECT s.household_no::text, s.state::text FROM benefit_claim_state s
        WHERE s.program = p_program AND s.household_no = ANY(p_households);
END $$;
"""  # noqa: S608 (constants only)
FUNCTION_SIGNATURES = ("benefit_claims_register(text, bigint)", "benefit_claims_stamp(text, text[], boolean)")


def upgrade() -> None:
    op.add_column("benefit_entitlement", sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "benefit_claim",
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("key_kind", sa.String(10), nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        sa.Column("resident_since", sa.Date, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paying_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("program", "person_key", "lg_code", name="pk_benefit_claim"),
        sa.CheckConstraint("key_kind IN ('my_number', 'basic')", name="ck_benefit_claim_key_kind"),
    )
    op.create_index("ix_benefit_claim_tenant", "benefit_claim", ["lg_code", "program", "household_no"])
    if not is_postgresql():
        op.execute(f"CREATE VIEW benefit_claim_state AS {_view('')}")
        return
    role = app_role()
    op.execute(f'REVOKE ALL ON benefit_claim FROM PUBLIC, "{role}"')
    own = f"WHERE m.lg_code = current_setting('{TENANT_SETTING}', true)"
    op.execute(f"CREATE VIEW benefit_claim_state WITH (security_barrier) AS {_view(own)}")
    op.execute(f'GRANT SELECT ON benefit_claim_state TO "{role}"')
    op.execute(PG_FUNCTIONS)
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {signature} TO "{role}"')


def downgrade() -> None:
    if is_postgresql():
        for signature in FUNCTION_SIGNATURES:
            op.execute(f"DROP FUNCTION {signature}")
        op.execute("DROP FUNCTION benefit_claim_tenant()")
    op.execute("DROP VIEW benefit_claim_state")
    op.drop_index("ix_benefit_claim_tenant", table_name="benefit_claim")
    op.drop_table("benefit_claim")
    op.drop_column("benefit_entitlement", "notified_at")
