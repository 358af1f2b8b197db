"""The portal's verbs on SQLite and PostgreSQL: linking by 確認番号 (and what is refused), the account form's checks
against the 全銀協 code list and the 全銀 character set, the fresh sign-in an account change needs, the
shared-account review (from the portal and from staff keying a paper reply alike), the 公金受取口座 development
source, and 100 identical confirmations from the portal making one change."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from sqlalchemy import select

from kiban.benefits.models import (
    CONFIRMATION_CODE_ALPHABET,
    CONFIRMED,
    NEEDS_REVIEW,
    Entitlement,
    format_confirmation_code,
)
from kiban.benefits.service import BankAccount, clear_account_review, confirm
from kiban.core.audit.models import AuditEntry
from kiban.core.audit.service import entries
from kiban.core.db import Database, TenantSession
from kiban.core.errors import InputError, NotFound
from kiban.core.identity.permissions import Role
from kiban.payments.service import create_batch
from kiban.portal import service
from kiban.portal.forms import account_from_form
from kiban.portal.public_fund import DevelopmentPublicFundAccounts
from kiban.portal.service import FreshSignInNeeded, Resident

from at_once import at_once
from benefit_town import MAKER, PROGRAM, TRANSFER_DAY, WELFARE, household_no, in_register, run, town
from conftest import TestDatabase
from residents import A, move_in, staff

ALICE = Resident(A, "https://idp.example.jp", "alice")
BOB = Resident(A, "https://idp.example.jp", "bob")
SHARED = BankAccount("0005", "123", "1", "7654321", "ヤマダ タロウ")
OTHER = BankAccount("0001", "001", "1", "1111111", "ヤマダ タロウ")
GUARDIAN = "同じ後見人が2世帯の受給者の口座を管理していることを確認"


def code_of(database: Database, i: int) -> str:
    with database.tenant(A) as s:
        found = s.scalar(select(Entitlement.confirmation_code).where(Entitlement.household_no == household_no(i)))
    assert found is not None
    return found


def stored(database: Database, i: int) -> Entitlement:
    with database.tenant(A) as s:
        found = s.scalar(select(Entitlement).where(Entitlement.household_no == household_no(i)))
    assert found is not None
    return found


def test_every_entitlement_gets_its_own_random_confirmation_code(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(50)))
    codes = [code_of(db.app, i) for i in range(50)]
    assert len(set(codes)) == 50
    assert all(len(c) == 12 and set(c) <= set(CONFIRMATION_CODE_ALPHABET) for c in codes)
    assert format_confirmation_code("ABCDEFGHJKLM") == "ABCD-EFGH-JKLM"


def test_a_resident_links_with_the_code_typed_any_width_and_only_once(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(3)))
    code = code_of(db.app, 1)
    typed = (
        format_confirmation_code(code)
        .lower()
        .translate(
            str.maketrans(
                "abcdefghjklmnpqrstuvwxyz23456789-",
                "ａｂｃｄｅｆｇｈｊｋｌｍｎｐｑｒｓｔｕｖｗｘｙｚ２３４５６７８９－",
            )
        )
    )
    with db.app.tenant(A) as s:
        assert service.link(s, resident=ALICE, code=typed).household_no == household_no(1)
    with db.app.tenant(A) as s:
        service.link(s, resident=ALICE, code=code)  # again: nothing changes
        assert [e.household_no for e in service.linked_entitlements(s, resident=ALICE)] == [household_no(1)]
        assert service.linked_entitlements(s, resident=BOB) == []
    with db.app.tenant(A) as s, pytest.raises(InputError, match="既に別の方のログインに紐付け"):
        service.link(s, resident=BOB, code=code)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="見つかりません"):
        service.link(s, resident=BOB, code="ABCD-EFGH-JKLM" if code != "ABCDEFGHJKLM" else "MLKJ-HGFE-DCBA")
    with db.app.tenant(A) as s, pytest.raises(InputError, match="使われていません"):
        service.link(s, resident=BOB, code="ABCD-0000-OOOO")
    with db.app.tenant(A) as s, pytest.raises(NotFound):
        service.linked_entitlement(s, resident=BOB, program=PROGRAM, household_no=household_no(1))
    with db.app.tenant(A) as s:
        log = [(x.action, x.outcome) for x in entries(s, lg_code=A) if x.action == "portal.link"]
        actors = {x.actor for x in entries(s, lg_code=A) if x.action == "portal.link"}
    assert sorted(log) == [("portal.link", "denied")] * 2 + [("portal.link", "ok")] * 2
    assert all(a.startswith("resident:") and "alice" not in a and "bob" not in a for a in actors)


def test_the_account_form_names_the_bank_and_branch_or_says_what_to_fix() -> None:
    checked = account_from_form(
        bank_code="０００５",
        branch_code="１２３",
        account_type="1",
        account_number="４５６７",
        holder_kana="やまだ　たろう",
    )
    assert (checked.names.bank_name, checked.names.branch_name) == ("三菱ＵＦＪ", "横浜中山")
    assert checked.account == BankAccount("0005", "123", "1", "0004567", "ﾔﾏﾀﾞ ﾀﾛｳ")
    with pytest.raises(InputError) as unknown_branch:
        account_from_form(
            bank_code="0005", branch_code="999", account_type="1", account_number="1", holder_kana="ヤマダ"
        )
    assert [(e.field, "支店コードは見つかりません" in e.fix) for e in unknown_branch.value.errors] == [
        ("支店コード", True)
    ]
    with pytest.raises(InputError) as several:
        account_from_form(
            bank_code="9999", branch_code="12", account_type="3", account_number="12345678", holder_kana="山田"
        )
    assert [e.field for e in several.value.errors] == [  # in the form's order, the unknown bank too
        "金融機関コード",
        "支店コード",
        "預金種目",
        "口座番号",
        "口座名義（カナ）",
    ]
    with pytest.raises(InputError) as unknown_bank:
        account_from_form(
            bank_code="9999", branch_code="001", account_type="1", account_number="1", holder_kana="ヤマダ"
        )
    assert [e.field for e in unknown_bank.value.errors] == ["金融機関コード"]
    assert "4桁の金融機関コードを確認" in unknown_bank.value.errors[0].fix


def test_changing_an_account_needs_a_fresh_sign_in(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(2)))
    with db.app.tenant(A) as s:
        service.link(s, resident=ALICE, code=code_of(db.app, 0))

    def give(s: TenantSession, account: BankAccount, *, fresh: bool, household: int = 0) -> Entitlement:
        return service.confirm_account(
            s, resident=ALICE, program=PROGRAM, household_no=household_no(household), account=account, fresh=fresh
        )

    with db.app.tenant(A) as s:
        assert give(s, OTHER, fresh=False).status == CONFIRMED
    with db.app.tenant(A) as s:
        give(s, OTHER, fresh=False)  # the same account again: no change needed
    with db.app.tenant(A) as s, pytest.raises(FreshSignInNeeded):
        give(s, SHARED, fresh=False)
    assert stored(db.app, 0).account_number == OTHER.account_number
    with db.app.tenant(A) as s:
        give(s, SHARED, fresh=True)
    changed = stored(db.app, 0)
    assert changed.account_number == SHARED.account_number
    assert (changed.confirmed_by or "").startswith("resident:")
    with db.app.tenant(A) as s, pytest.raises(NotFound):
        give(s, OTHER, fresh=True, household=1)


def test_one_account_on_two_unrelated_households_holds_both_until_staff_clear_them(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        in_register(s, town(3, children={0: 1, 1: 1}))  # the register holds the children the rerun gives
        run(s, town(3))
    with db.app.tenant(A) as s:
        service.link(s, resident=ALICE, code=code_of(db.app, 1))
    with db.app.tenant(A) as s:  # a paper reply keyed by staff
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=SHARED)
    with db.app.tenant(A) as s:  # the same account given for another household through the portal
        held = service.confirm_account(
            s, resident=ALICE, program=PROGRAM, household_no=household_no(1), account=SHARED, fresh=False
        )
        assert held.status == NEEDS_REVIEW
    first, second = stored(db.app, 0), stored(db.app, 1)
    assert (first.status, second.status) == (NEEDS_REVIEW, NEEDS_REVIEW)
    assert second.review_reason is not None
    assert "H00000" in second.review_reason
    assert "0005-123" in second.review_reason
    assert first.review_reason is not None
    assert "H00001" in first.review_reason
    with (
        db.app.tenant(A) as s,
        pytest.raises(InputError, match="未払いの世帯がありません"),
    ):  # nothing is paid while held
        create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)
    with db.app.tenant(A) as s:  # the same confirmation again changes nothing; another account waits for staff
        service.confirm_account(
            s, resident=ALICE, program=PROGRAM, household_no=household_no(1), account=SHARED, fresh=False
        )
    with db.app.tenant(A) as s, pytest.raises(InputError, match="口座の確認中"):
        service.confirm_account(
            s, resident=ALICE, program=PROGRAM, household_no=household_no(1), account=OTHER, fresh=True
        )
    with db.app.tenant(A) as s:  # a rerun with changed amounts keeps them held
        run(s, town(3, children={0: 1, 1: 1}))
    assert (stored(db.app, 0).status, stored(db.app, 1).status) == (NEEDS_REVIEW, NEEDS_REVIEW)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="解除の理由"):  # staff must say what they checked
        clear_account_review(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), reason=" \n")
    assert stored(db.app, 0).status == NEEDS_REVIEW
    with db.app.tenant(A) as s:
        clear_account_review(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), reason=GUARDIAN)
        clear_account_review(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(1), reason=GUARDIAN)
    assert (stored(db.app, 0).status, stored(db.app, 1).status, stored(db.app, 1).review_reason) == (
        CONFIRMED,
        CONFIRMED,
        None,
    )
    with db.app.tenant(A) as s, pytest.raises(InputError, match="確認待ちではありません"):
        clear_account_review(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(2), reason=GUARDIAN)
    with db.app.tenant(A) as s:
        confirms = [json.loads(x.detail or "{}") for x in entries(s, lg_code=A) if x.action == "benefits.confirm"]
    assert [household_no(1), household_no(0)] in [c.get("held") for c in confirms]


def test_the_same_person_moving_to_another_household_is_not_flagged(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(1)))
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=SHARED)
    with db.app.tenant(A) as s:
        create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)  # H00000 is being paid
    moved = town(1).with_columns(household_no=pl.lit("H00099"))
    with db.app.tenant(A) as s:
        run(s, moved)  # P00000 now heads H00099; H00000 is held (in a batch), not withdrawn
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no="H00099", account=SHARED)
    with db.app.tenant(A) as s:
        moved_to = s.scalar(select(Entitlement).where(Entitlement.household_no == "H00099"))
    assert moved_to is not None
    assert (moved_to.status, moved_to.review_reason) == (CONFIRMED, None)


def test_the_development_public_fund_source_reads_the_registered_resident(db: TestDatabase) -> None:
    clerk = staff("clerk1", Role.REGISTRY)
    source = DevelopmentPublicFundAccounts()
    with db.app.tenant(A) as s:
        for i in range(12):
            move_in(s, clerk, f"10{i:02d}", f"90{i:02d}", birth_date=date(1970, 1, 1 + i))
    with db.app.tenant(A) as s:
        found = [source.account_of(s, f"10{i:02d}") for i in range(12)]
        assert source.account_of(s, "no-such-person") is None
        assert found == [source.account_of(s, f"10{i:02d}") for i in range(12)]  # deterministic
    registered = [a for a in found if a is not None]
    assert 0 < len(registered) < 12
    for account in registered:
        checked = account_from_form(
            bank_code=account.bank_code,
            branch_code=account.branch_code,
            account_type=account.account_type,
            account_number=account.account_number,
            holder_kana=account.holder_kana,
        )
        assert checked.account.holder_kana == "ﾔﾏﾀﾞ ﾀﾛｳ"


@pytest.mark.postgres
def test_a_hundred_identical_portal_confirmations_make_one_change(pg_db: TestDatabase) -> None:
    with pg_db.app.tenant(A) as s:
        run(s, in_register(s, town(1)))
    with pg_db.app.tenant(A) as s:
        service.link(s, resident=ALICE, code=code_of(pg_db.app, 0))
    database = Database(pg_db.app_url, pool_size=20, max_overflow=0)

    def one() -> None:
        with database.tenant(A) as s:
            service.confirm_account(
                s, resident=ALICE, program=PROGRAM, household_no=household_no(0), account=SHARED, fresh=False
            )

    failures = at_once([one] * 100)
    database.dispose()
    assert failures == []
    with pg_db.app.tenant(A) as s:
        rows = list(s.scalars(select(Entitlement)))
        audited = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "benefits.confirm")))
    assert [(e.status, e.account_number) for e in rows] == [(CONFIRMED, SHARED.account_number)]
    assert len(audited) == 100
    assert sum(json.loads(x.detail or "{}")["changed"] for x in audited) == 1
