"""The national duplicate check (二重給付の防止): a person on two registers on the base date is found across
municipalities, paid exactly once, and neither municipality learns anything of the other; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kiban.benefits import claims
from kiban.benefits.models import CONFIRMED, NEEDS_REVIEW, Entitlement
from kiban.benefits.national_check import DUPLICATE_REASON, flags_of, register_claims
from kiban.benefits.service import confirm, run_eligibility
from kiban.cli.main import main
from kiban.core.db import Database, TenantSession
from kiban.core.errors import InputError
from kiban.core.identity.permissions import Principal, Role
from kiban.core.tenants import service as tenants
from kiban.payments.models import PaymentLine
from kiban.payments.service import create_batch
from kiban.registry import snapshot

from benefit_town import PARAMETERS, PROGRAM, TRANSFER_DAY, account
from conftest import TestDatabase
from residents import SAPPORO, A, B, move_in, staff

MY_NUMBER = "621498320257"
OTHER_NUMBER = "983205673214"
LONG_AGO = date(2020, 4, 1)
ARRIVED = date(2023, 11, 20)
"""A 転入 to B before the base date (2023-12-01) that A's register does not show yet (転出 not recorded)."""
STAFF: dict[str, dict[str, Principal]] = {
    code: {
        "clerk": staff(f"clerk-{code}", Role.REGISTRY, code),
        "welfare": staff(f"welfare-{code}", Role.WELFARE, code),
        "maker": staff(f"maker-{code}", Role.PAYMENT_MAKER, code),
    }
    for code in (A, B)
}


def _resident(db: TestDatabase, lg_code: str, person_no: str, household_no: str, since: date, **kw: Any) -> None:
    address = SAPPORO if lg_code == B else {}
    with db.app.tenant(lg_code) as s:
        move_in(s, STAFF[lg_code]["clerk"], person_no, household_no, effective_date=since, **address, **kw)


def _run(s: TenantSession, lg_code: str) -> None:
    welfare = STAFF[lg_code]["welfare"]
    on_base_date = snapshot.residents(s, actor=welfare, on=date(2023, 12, 1))
    residents = on_base_date.select("person_no", "household_no", "relationship", "birth_date").with_columns(
        pl.lit("exempt").alias("tax_status")
    )
    run_eligibility(s, actor=welfare, program_code=PROGRAM, residents=residents, parameters=PARAMETERS)


def _entitle(db: TestDatabase, lg_code: str) -> None:
    """Run the program in ``lg_code`` and register its claims with the national check."""
    with db.app.tenant(lg_code) as s:
        _run(s, lg_code)
        register_claims(s, actor=STAFF[lg_code]["welfare"], program_code=PROGRAM)


def _confirm(db: TestDatabase, lg_code: str, household_no: str) -> Entitlement:
    with db.app.tenant(lg_code) as s:
        return confirm(
            s,
            actor=STAFF[lg_code]["welfare"],
            program_code=PROGRAM,
            household_no=household_no,
            account=account(int(household_no)),
        )


def _paid_households(db: TestDatabase, lg_code: str) -> list[str]:
    with db.app.tenant(lg_code) as s:
        return list(s.scalars(select(PaymentLine.household_no).order_by(PaymentLine.household_no)))


def _entitlement(db: TestDatabase, lg_code: str, household_no: str) -> Entitlement:
    with db.app.tenant(lg_code) as s:
        found = s.scalar(select(Entitlement).where(Entitlement.household_no == household_no))
    assert found is not None
    return found


def _batch(db: TestDatabase, lg_code: str) -> None:
    with db.app.tenant(lg_code) as s:
        create_batch(s, actor=STAFF[lg_code]["maker"], program_code=PROGRAM, transfer_date=TRANSFER_DAY)


@pytest.fixture
def two_towns(db: TestDatabase) -> TestDatabase:
    with db.app.tenant(None) as s:
        for code in (A, B):
            tenants.activate(db_session=s, lg_code=code)
    return db


def test_a_person_on_two_registers_is_paid_once_by_the_municipality_of_the_later_move_in(
    two_towns: TestDatabase,
) -> None:
    db = two_towns
    _resident(db, A, "1001", "9001", LONG_AGO, my_number=MY_NUMBER)
    _resident(db, A, "1002", "9002", LONG_AGO, given_name="花子", given_name_kana="ハナコ", sex="female")
    _resident(db, B, "5001", "8001", ARRIVED, my_number=MY_NUMBER)
    _entitle(db, A)
    _confirm(db, A, "9001")
    _confirm(db, A, "9002")
    _entitle(db, B)
    with db.app.tenant(B) as s:
        flags = flags_of(s, actor=STAFF[B]["welfare"], program_code=PROGRAM)
    assert [(f.household_no, f.person_no, f.state, f.key_kind) for f in flags] == [
        ("8001", "5001", claims.PAYS, "my_number")
    ]
    # A confirmed first, but B has the later 転入: A's batch leaves the household out and puts it on review
    _batch(db, A)
    assert _paid_households(db, A) == ["9002"]
    held = _entitlement(db, A, "9001")
    assert (held.status, held.review_reason) == (NEEDS_REVIEW, DUPLICATE_REASON)
    with db.app.tenant(A) as s:
        assert [f.state for f in flags_of(s, actor=STAFF[A]["welfare"], program_code=PROGRAM)] == [claims.BLOCKED]
    _confirm(db, B, "8001")
    _batch(db, B)
    assert _paid_households(db, B) == ["8001"]
    # the next check keeps A's household held; B's stays paying whatever A does later
    with db.app.tenant(A) as s:
        again = register_claims(s, actor=STAFF[A]["welfare"], program_code=PROGRAM)
    assert (again.blocked, again.released, again.held) == ([], [], [])
    assert _entitlement(db, A, "9001").status == NEEDS_REVIEW


def test_a_tie_goes_to_the_first_to_confirm_and_the_other_is_refused(two_towns: TestDatabase) -> None:
    db = two_towns
    _resident(db, A, "1001", "9001", ARRIVED, my_number=MY_NUMBER)
    _resident(db, B, "5001", "8001", ARRIVED, my_number=MY_NUMBER)
    _entitle(db, A)
    _entitle(db, B)
    for code in (A, B):
        with db.app.tenant(code) as s:
            assert [f.state for f in flags_of(s, actor=STAFF[code]["welfare"], program_code=PROGRAM)] == [claims.OPEN]
    assert _confirm(db, B, "8001").status == CONFIRMED
    with pytest.raises(InputError, match="他の市区町村で支給対象"):
        _confirm(db, A, "9001")
    with db.app.tenant(A) as s:
        result = register_claims(s, actor=STAFF[A]["welfare"], program_code=PROGRAM)
    assert result.blocked == ["9001"]
    _batch(db, B)
    assert _paid_households(db, B) == ["8001"]
    with pytest.raises(InputError, match="支払対象"):
        _batch(db, A)


def test_without_my_numbers_the_basic_items_match_and_say_so(two_towns: TestDatabase) -> None:
    db = two_towns
    _resident(db, A, "1001", "9001", LONG_AGO)
    _resident(db, A, "1002", "9002", LONG_AGO, birth_date=date(1980, 5, 2))
    _resident(db, B, "5001", "8001", ARRIVED, family_name_kana="ﾔﾏﾀﾞ", given_name_kana="たろう")
    _entitle(db, A)
    _entitle(db, B)
    with db.app.tenant(A) as s:
        flags = flags_of(s, actor=STAFF[A]["welfare"], program_code=PROGRAM)
    assert [(f.person_no, f.state, f.key_kind) for f in flags] == [("1001", claims.BLOCKED, "basic")]
    assert (flags[0].label, flags[0].key_label) == (
        "他の市区町村でも対象（他団体で支給対象）",
        "氏名フリガナ・生年月日・性別で照合（本人確認が必要）",
    )


def test_a_released_household_is_payable_again_when_the_other_municipality_withdraws(two_towns: TestDatabase) -> None:
    db = two_towns
    _resident(db, A, "1001", "9001", LONG_AGO, my_number=MY_NUMBER)
    _resident(db, B, "5001", "8001", ARRIVED, my_number=MY_NUMBER)
    _entitle(db, A)
    _confirm(db, A, "9001")
    _entitle(db, B)
    with db.app.tenant(A) as s:
        assert register_claims(s, actor=STAFF[A]["welfare"], program_code=PROGRAM).blocked == ["9001"]
    # B finds the person was never its resident on the base date (転入 corrected to after it): B no longer claims
    with db.app.tenant(B) as s:
        s.execute(text("UPDATE benefit_entitlement SET status = 'withdrawn' WHERE household_no = '8001'"))
        register_claims(s, actor=STAFF[B]["welfare"], program_code=PROGRAM)
    with db.app.tenant(A) as s:
        assert register_claims(s, actor=STAFF[A]["welfare"], program_code=PROGRAM).released == ["9001"]
    assert (_entitlement(db, A, "9001").status, _entitlement(db, A, "9001").review_reason) == (CONFIRMED, None)
    _batch(db, A)
    assert _paid_households(db, A) == ["9001"]


def test_each_municipality_sees_only_its_own_claims(two_towns: TestDatabase) -> None:
    db = two_towns
    _resident(db, A, "1001", "9001", LONG_AGO, my_number=MY_NUMBER)
    _resident(db, A, "1003", "9003", LONG_AGO, my_number=OTHER_NUMBER, given_name="次郎", given_name_kana="ジロウ")
    _resident(db, B, "5001", "8001", ARRIVED, my_number=MY_NUMBER)
    _entitle(db, A)
    _entitle(db, B)
    with db.app.tenant(B) as s:
        seen = claims.states(s, program=PROGRAM)
        flags = flags_of(s, actor=STAFF[B]["welfare"], program_code=PROGRAM)
    assert [(c.person_no, c.household_no) for c in seen] == [("5001", "8001")]
    shown = repr(seen) + repr(flags)
    for secret in (A, "1001", "9001", "1003", "9003", MY_NUMBER, str(LONG_AGO)):
        assert secret not in shown
    with db.app.tenant(None) as s, pytest.raises(Exception, match="団体"):
        claims.states(s, program=PROGRAM)


@pytest.mark.postgres
def test_the_app_role_reaches_claims_only_through_the_view_and_functions(pg_db: TestDatabase) -> None:
    db = pg_db
    with db.app.tenant(None) as s:
        for code in (A, B):
            tenants.activate(db_session=s, lg_code=code)
    _resident(db, A, "1001", "9001", LONG_AGO, my_number=MY_NUMBER)
    _resident(db, B, "5001", "8001", ARRIVED, my_number=MY_NUMBER)
    _entitle(db, A)
    _entitle(db, B)
    with db.app.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(text("SELECT * FROM benefit_claim"))
        conn.rollback()
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(text("UPDATE benefit_claim SET paying_at = now()"))
        conn.rollback()
        with pytest.raises(DBAPIError, match="no tenant"):
            conn.execute(text("SELECT benefit_claims_register('low_income_2023', 0)"))
        conn.rollback()
    with db.app.tenant(B) as s, pytest.raises(DBAPIError, match="benefit_claim_staging"):
        s.execute(text("SELECT benefit_claims_register('low_income_2023', 0)"))
    with db.app.tenant(B) as s:
        rows = s.execute(text("SELECT * FROM benefit_claim_state")).mappings().all()
        # a leaky predicate cannot see other rows through the security-barrier view
        leaked = s.execute(
            text("SELECT count(*) FROM benefit_claim_state WHERE lg_code = :a OR person_no = '1001'"), {"a": A}
        ).scalar_one()
        units = s.execute(text("SELECT lg_code, household_no, claims FROM benefit_claim_unit")).all()
    assert [(r["lg_code"], r["person_no"], r["state"]) for r in rows] == [(B, "5001", claims.PAYS)]
    assert set(rows[0]) == {
        "program",
        "lg_code",
        "person_key",
        "key_kind",
        "person_no",
        "household_no",
        "claims",
        "state",
    }
    assert leaked == 0
    assert [tuple(u) for u in units] == [(B, "8001", 1)], "the count of own claims per 受給単位, nothing of A"
    with db.owner.engine.connect() as conn:
        owned = conn.execute(text("SELECT lg_code, resident_since FROM benefit_claim ORDER BY lg_code")).all()
    assert [(r.lg_code, r.resident_since) for r in owned] == [(B, ARRIVED), (A, LONG_AGO)], "the owner sees both"


@pytest.mark.postgres
def test_simultaneous_confirmations_and_batches_in_two_municipalities_pay_each_person_once(
    pg_db: TestDatabase,
) -> None:
    db = pg_db
    with db.app.tenant(None) as s:
        for code in (A, B):
            tenants.activate(db_session=s, lg_code=code)
    people = range(5)
    for i in people:
        names = {"given_name": f"太郎{i}", "given_name_kana": f"タロウ{'ア' * (i + 1)}"}
        _resident(db, A, f"{1001 + i}", f"{9001 + i}", ARRIVED, **names)
        _resident(db, B, f"{5001 + i}", f"{8001 + i}", ARRIVED, **names)
    _entitle(db, A)
    _entitle(db, B)
    database = Database(db.app_url, pool_size=4, max_overflow=0)
    accepted: list[tuple[str, int]] = []
    refused: list[tuple[str, int]] = []
    failures: list[BaseException] = []

    def confirm_in(lg_code: str, household_no: str, i: int, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            with database.tenant(lg_code) as s:
                confirm(
                    s,
                    actor=STAFF[lg_code]["welfare"],
                    program_code=PROGRAM,
                    household_no=household_no,
                    account=account(int(household_no)),
                )
            accepted.append((lg_code, i))
        except InputError:
            refused.append((lg_code, i))
        except BaseException as exc:
            failures.append(exc)

    for i in people:
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=confirm_in, args=(A, f"{9001 + i}", i, barrier)),
            threading.Thread(target=confirm_in, args=(B, f"{8001 + i}", i, barrier)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    assert sorted(i for _, i in accepted) == list(people), "exactly one municipality accepts each person"
    assert sorted(i for _, i in refused) == list(people)

    def batch_in(lg_code: str, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            with database.tenant(lg_code) as s:
                create_batch(s, actor=STAFF[lg_code]["maker"], program_code=PROGRAM, transfer_date=TRANSFER_DAY)
        except InputError:
            pass  # nothing payable in a municipality that lost every tie
        except BaseException as exc:
            failures.append(exc)

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=batch_in, args=(code, barrier)) for code in (A, B)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database.dispose()
    assert failures == []
    paid = [int(h) - 9001 for h in _paid_households(db, A)] + [int(h) - 8001 for h in _paid_households(db, B)]
    assert sorted(paid) == list(people), "every person paid exactly once across the two municipalities"


def test_the_national_check_command(sqlite_db: TestDatabase) -> None:
    db = sqlite_db
    with db.app.tenant(None) as s:
        for code in (A, B):
            tenants.activate(db_session=s, lg_code=code)
    _resident(db, A, "1001", "9001", LONG_AGO, my_number=MY_NUMBER)
    _resident(db, B, "5001", "8001", ARRIVED, my_number=MY_NUMBER)
    with db.app.tenant(A) as s:
        _run(s, A)  # registers A's claim while nobody else claims the person
    _entitle(db, B)
    assert _entitlement(db, A, "9001").review_reason is None
    args = ["benefits", "national-check", "--lg-code", A, "--program", PROGRAM, "--database-url", db.app_url]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "要確認にした世帯1件" in "".join(result.output.split())
    assert _entitlement(db, A, "9001").review_reason == DUPLICATE_REASON
