"""Stored entitlements: idempotent runs, the reviewable difference, households being paid left alone, and
confirmations that are safe under concurrency; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from kiban.benefits.models import CONFIRMED, ELIGIBLE, NEEDS_REVIEW, WITHDRAWN, BenefitRun, Entitlement
from kiban.benefits.service import BankAccount, Difference, confirm, entitlement_of, run_eligibility
from kiban.core.audit.models import AuditEntry
from kiban.core.audit.service import entries
from kiban.core.db import Database
from kiban.core.errors import InputError, NotFound, PermissionDenied
from kiban.payments.service import create_batch

from at_once import at_once
from benefit_town import (
    MAKER,
    PARAMETERS,
    PROGRAM,
    TRANSFER_DAY,
    WELFARE,
    account,
    confirm_all_directly,
    entitlements,
    household_no,
    in_register,
    run,
    town,
)
from conftest import TestDatabase
from residents import A

COLUMNS = [c.name for c in Entitlement.__table__.columns]


def _rows(db: TestDatabase) -> dict[str, tuple[Any, ...]]:
    return {k: tuple(getattr(e, c) for c in COLUMNS) for k, e in entitlements(db.app).items()}


def test_a_first_run_stores_every_household_and_a_rerun_changes_nothing(db: TestDatabase) -> None:
    residents = town(5, children={1: 2}, taxable={4})
    with db.app.tenant(A) as s:
        first = run(s, residents)
    assert [d.household_no for d in first.added] == [household_no(i) for i in range(4)]
    assert first.changed == first.removed == first.held == []
    stored = entitlements(db.app)
    assert {k: (e.amount, e.status) for k, e in stored.items()} == {
        household_no(0): (70_000, ELIGIBLE),
        household_no(1): (170_000, ELIGIBLE),
        household_no(2): (70_000, ELIGIBLE),
        household_no(3): (70_000, ELIGIBLE),
    }
    before = _rows(db)
    with db.app.tenant(A) as s:
        second = run(s, residents)
        runs = list(s.scalars(select(BenefitRun).order_by(BenefitRun.run_no)))
    assert second.unchanged
    assert _rows(db) == before, "a rerun on the same facts writes nothing"
    assert [(r.run_no, r.added, r.changed, r.removed, r.held) for r in runs] == [(1, 4, 0, 0, 0), (2, 0, 0, 0, 0)]
    assert json.loads(runs[0].parameters)["benefits.low_income_2023.exempt_household"] == 70_000
    assert runs[0].actor == WELFARE.user_id


def test_changed_facts_give_the_difference_and_a_household_being_paid_is_held(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        in_register(s, town(6, children={0: 1, 1: 1}))  # who the later runs give, too
        run(s, town(5))
        confirm_all_directly(s, range(1))
    with db.app.tenant(A) as s:
        create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)
    # household 0 (in a batch) gains a child, 1 gains a child, 2 is now taxed, 5 is new
    with db.app.tenant(A) as s:
        result = run(s, town(6, children={0: 1, 1: 1}, taxable={2}))
    assert result.added == [Difference(household_no(5), None, 70_000, None, ELIGIBLE)]
    assert result.changed == [Difference(household_no(1), 70_000, 120_000, ELIGIBLE, ELIGIBLE)]
    assert result.removed == [Difference(household_no(2), 70_000, None, ELIGIBLE, WITHDRAWN)]
    assert result.held == [Difference(household_no(0), 70_000, 120_000, CONFIRMED, CONFIRMED)]
    stored = entitlements(db.app)
    assert (stored[household_no(0)].amount, stored[household_no(0)].run_no) == (70_000, 1), "held: unchanged"
    assert (stored[household_no(1)].amount, stored[household_no(1)].run_no) == (120_000, 2)
    assert stored[household_no(2)].status == WITHDRAWN, "withdrawn, never deleted"
    with db.app.tenant(A) as s:
        again = run(s, town(6, children={0: 1, 1: 1}, taxable={2}))
        assert s.scalar(select(BenefitRun.held).where(BenefitRun.run_no == 3)) == 1
    assert (again.added, again.changed, again.removed) == ([], [], [])
    assert again.held == result.held, "the held difference is reported until staff resolve it"
    with db.app.tenant(A) as s:
        back = run(s, town(6, children={0: 1, 1: 1}))
    assert back.added == [Difference(household_no(2), 70_000, 70_000, WITHDRAWN, ELIGIBLE)]


def test_a_confirmed_household_that_is_no_longer_entitled_is_held_back_for_review(db: TestDatabase) -> None:
    residents = town(2)
    with db.app.tenant(A) as s:
        run(s, residents)
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(0))
    unknown = residents.with_columns(tax_status=None)
    with db.app.tenant(A) as s:
        result = run(s, unknown)
    assert {d.household_no: d.new_status for d in result.changed} == {
        household_no(0): NEEDS_REVIEW,
        household_no(1): NEEDS_REVIEW,
    }
    with db.app.tenant(A) as s, pytest.raises(InputError, match="課税区分が確認できていません"):
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(0))


def test_confirm_sets_the_account_once_and_refuses_what_cannot_be_paid(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(3)))
    with db.app.tenant(A) as s:
        e = confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(7))
        assert (e.status, e.account_number, e.holder_kana, e.confirmed_by) == (
            CONFIRMED,
            "0000007",
            "ﾔﾏﾀﾞ ﾀﾛｳ",
            "welfare1",
        )
    with db.app.tenant(A) as s:
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(7))
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(8))
    with db.app.tenant(A) as s:
        changes = [
            json.loads(x.detail or "{}")["changed"]
            for x in reversed(entries(s, lg_code=A))
            if x.action == "benefits.confirm"
        ]
        assert changes == [True, False, True]
        assert entitlement_of(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0)).account_number == (
            "0000008"
        )
    with db.app.tenant(A) as s:
        create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="支払バッチ 1 に含まれています"):
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(9))
    bad = BankAccount("5", "12x", "3", "123", "山田")
    with db.app.tenant(A) as s, pytest.raises(InputError) as refused:
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(1), account=bad)
    assert [e.field for e in refused.value.errors] == [
        "金融機関コード",
        "支店コード",
        "口座番号",
        "預金種目",
        "口座名義（カナ）",
    ]
    with db.app.tenant(A) as s, pytest.raises(NotFound, match="H99999"):
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no="H99999", account=account(1))
    with db.app.tenant(A) as s, pytest.raises(InputError, match="給付事業"):
        confirm(s, actor=WELFARE, program_code="nope", household_no=household_no(1), account=account(1))


def test_only_benefit_staff_run_and_confirm_and_refusals_are_audited(db: TestDatabase) -> None:
    residents = town(1)
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match="福祉・給付担当"):
        run_eligibility(s, actor=MAKER, program_code=PROGRAM, residents=residents, parameters=PARAMETERS)
    with db.app.tenant(A) as s:
        run(s, residents)
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match="福祉・給付担当"):
        confirm(s, actor=MAKER, program_code=PROGRAM, household_no=household_no(0), account=account(0))
    with db.app.tenant(A) as s:
        denied = [x for x in entries(s, lg_code=A) if x.outcome == "denied"]
        assert [(x.action, x.actor) for x in denied] == [("benefits.confirm", "maker1"), ("benefits.run", "maker1")]


@pytest.mark.postgres
def test_concurrent_identical_confirmations_make_one_change(pg_db: TestDatabase) -> None:
    with pg_db.app.tenant(A) as s:
        run(s, town(1))
    database = Database(pg_db.app_url, pool_size=20, max_overflow=0)

    def one() -> None:
        with database.tenant(A) as s:
            confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(3))

    failures = at_once([one] * 100)
    database.dispose()
    assert failures == []
    with pg_db.app.tenant(A) as s:
        stored = list(s.scalars(select(Entitlement)))
        audited = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "benefits.confirm")))
    assert [(e.status, e.account_number) for e in stored] == [(CONFIRMED, "0000003")]
    assert len(audited) == 100
    assert sum(json.loads(x.detail or "{}")["changed"] for x in audited) == 1, "exactly one audited change"
