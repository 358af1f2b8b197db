"""The 定額減税 調整給付 run from the municipality's records and stored one entitlement per person (the person is the
受給単位 and the 受給権者): the figures computed from the 令和6年度 declarations of the residents on 1 January 2024,
a rerun that changes nothing, a corrected declaration that changes one person, and a payment batch that pays that
person once; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from kiban.benefits.models import CONFIRMED, ELIGIBLE, WITHDRAWN, Entitlement
from kiban.benefits.population import population_of
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import RunResult, confirm, run_eligibility
from kiban.core.audit.service import entries
from kiban.core.errors import InputError
from kiban.payments.service import create_batch
from kiban.tax import declarations

from benefit_town import MAKER, TAX, TRANSFER_DAY, WELFARE, account, registered_town
from conftest import TestDatabase
from residents import A

PROGRAM = PROGRAMS["fixed_tax_cut_adjustment_2024"]
DECLARED = (
    "宛名番号,年度,種別,給与収入,社会保険料\n"
    "1000,2024,給与支払報告書,2000000,300000\n"  # a little 所得税, enough 所得割: 10,000 (worked below)
    "1002,2024,給与支払報告書,10000000,1400000\n"  # both taxes cover the 定額減税: nothing
)
# 1000 (single; 令和5年分 給与 200万): 給与所得 2,000,000 × 70% − 80,000 = 1,320,000 (所得税法別表第五).
# 所得税: 課税所得 1,320,000 − 300,000 − 基礎控除 480,000 = 540,000 × 5% = 27,000 → 所得税分 30,000 − 27,000 = 3,000.
# 住民税: 課税所得 1,320,000 − 300,000 − 430,000 = 590,000 × 10% = 59,000 − 調整控除 2,500 = 56,500 ≥ 10,000 → 0.
# 3,000 + 0 rounded up to 10,000 yen: 10,000. 1001 has no income (neither tax: not a 定額減税 target).


def _run(db: TestDatabase) -> RunResult:
    with db.app.tenant(A) as s:
        population = population_of(s, actor=WELFARE, program=PROGRAM)
        return run_eligibility(
            s,
            actor=WELFARE,
            program_code=PROGRAM.code,
            residents=population.residents,
            parameters=population.parameters,
        )


def _stored(db: TestDatabase) -> dict[str, tuple[str, int, str, int]]:
    e = Entitlement
    with db.app.tenant(A) as s:
        rows = s.execute(
            select(e.household_no, e.recipient_no, e.amount, e.status, e.members).where(e.program == PROGRAM.code)
        ).all()
    return {unit: (recipient, amount, status, members) for unit, recipient, amount, status, members in rows}


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_the_adjustment_is_stored_per_person_and_paid_once(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        registered_town(s, 3)
        declarations.import_file(s, actor=TAX, data=DECLARED.encode())
    first = _run(db)
    assert [d.household_no for d in first.added] == ["1000"]
    assert _stored(db) == {"1000": ("1000", 10_000, ELIGIBLE, 1)}
    with db.app.tenant(A) as s:  # the run registered the person with the national duplicate check
        checks = [e for e in entries(s, lg_code=A) if e.action == "benefits.national_check"]
    assert json.loads(checks[0].detail or "{}")["claims"] == 1
    assert _run(db).unchanged
    # a corrected 給与支払報告書: 1000 earned 1,000,000 (給与所得 450,000: no 所得税, and 所得割 非課税 as 総所得金額等
    # ≤ 450,000): neither tax, so not a 定額減税 target — withdrawn, never deleted
    correction = "宛名番号,年度,種別,提出区分,給与収入,社会保険料\n1000,2024,給与支払報告書,訂正,1000000,150000\n"
    with db.app.tenant(A) as s:
        declarations.import_file(s, actor=TAX, data=correction.encode())
    changed = _run(db)
    assert [(d.household_no, d.old_amount, d.new_amount) for d in changed.removed] == [("1000", 10_000, None)]
    assert _stored(db)["1000"][2] == WITHDRAWN
    with db.app.tenant(A) as s:
        declarations.import_file(s, actor=TAX, data=correction.replace("1000000,150000", "2000000,300000").encode())
    assert [d.household_no for d in _run(db).added] == ["1000"]
    assert _stored(db)["1000"][1:3] == (10_000, ELIGIBLE)
    with db.app.tenant(A) as s:
        confirm(s, actor=WELFARE, program_code=PROGRAM.code, household_no="1000", account=account(0))
    assert _stored(db)["1000"][2] == CONFIRMED
    with db.app.tenant(A) as s:
        batch = create_batch(s, actor=MAKER, program_code=PROGRAM.code, transfer_date=TRANSFER_DAY)
    assert (batch.count, batch.total) == (1, 10_000)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="口座確認済み・未払い"):
        create_batch(s, actor=MAKER, program_code=PROGRAM.code, transfer_date=TRANSFER_DAY)
