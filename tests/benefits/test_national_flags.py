"""Every eligibility run registers its claims with the national duplicate check in its own transaction (no separate
``kiban benefits national-check`` needed), persons the register cannot key are left out and counted, and their
household is not paid until a later check has registered them (fail-closed); and a
household's page shows 「他の市区町村でも対象」 with who pays (当団体 / 他団体 / 未定), never anything of the other
municipality; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from kiban.benefits import claims
from kiban.benefits.models import CONFIRMED, NEEDS_REVIEW, Entitlement
from kiban.benefits.national_check import DUPLICATE_REASON, UNCHECKED_REASON, flags_of, register_claims
from kiban.benefits.service import confirm, run_eligibility
from kiban.core.audit.models import AuditEntry
from kiban.core.db import Database
from kiban.core.errors import InputError
from kiban.core.identity.permissions import Principal, Role
from kiban.core.tenants import service as tenants
from kiban.payments.models import PaymentLine
from kiban.payments.service import create_batch
from kiban.registry import snapshot

from benefit_town import MAKER, PARAMETERS, PROGRAM, TRANSFER_DAY, account, add_user, resident, town
from conftest import TestDatabase
from residents import SAPPORO, A, B, move_in, staff
from web_site import Site

MY_NUMBER = "621498320257"
LONG_AGO = date(2020, 4, 1)
ARRIVED = date(2023, 11, 20)
"""A 転入 to B before the base date (2023-12-01) that A's register does not show yet."""
BASE_DATE = date(2023, 12, 1)
CLERK = {code: staff(f"clerk-{code}", Role.REGISTRY, code) for code in (A, B)}
WELFARE = {code: staff(f"welfare-{code}", Role.WELFARE, code) for code in (A, B)}


def _activate(database: Database) -> None:
    with database.tenant(None) as s:
        for code in (A, B):
            tenants.activate(db_session=s, lg_code=code)


def _resident(database: Database, lg_code: str, person_no: str, household_no: str, since: date, **kw: Any) -> None:
    address = SAPPORO if lg_code == B else {}
    with database.tenant(lg_code) as s:
        move_in(s, CLERK[lg_code], person_no, household_no, effective_date=since, **address, **kw)


def _run(database: Database, lg_code: str, extra: pl.DataFrame | None = None) -> None:
    """Only the eligibility run, from the register on the base date (plus ``extra`` rows)."""
    actor: Principal = WELFARE[lg_code]
    with database.tenant(lg_code) as s:
        on = snapshot.residents(s, actor=actor, on=BASE_DATE)
        residents = on.select("person_no", "household_no", "relationship", "birth_date").with_columns(
            tax_status=pl.lit("exempt")
        )
        if extra is not None:
            residents = pl.concat([residents, extra.select(residents.columns)])
        run_eligibility(s, actor=actor, program_code=PROGRAM, residents=residents, parameters=PARAMETERS)


def _entitlement(database: Database, lg_code: str, household_no: str) -> Entitlement:
    with database.tenant(lg_code) as s:
        found = s.scalar(select(Entitlement).where(Entitlement.household_no == household_no))
    assert found is not None
    return found


def _two_registers(database: Database) -> None:
    """Person 1001 of A (household 9001) is person 5001 of B (8001), who moved in there later; 9002 is A's only."""
    _activate(database)
    _resident(database, A, "1001", "9001", LONG_AGO, my_number=MY_NUMBER)
    _resident(database, A, "1002", "9002", LONG_AGO, given_name="花子", given_name_kana="ハナコ", sex="female")
    _resident(database, B, "5001", "8001", ARRIVED, my_number=MY_NUMBER)


def test_every_run_registers_its_claims_and_holds_a_household_another_municipality_pays(db: TestDatabase) -> None:
    _two_registers(db.app)
    _run(db.app, B)
    _run(db.app, A)  # no register_claims call: the run registers
    held = _entitlement(db.app, A, "9001")
    assert (held.status, held.review_reason) == (NEEDS_REVIEW, DUPLICATE_REASON)
    assert _entitlement(db.app, A, "9002").review_reason is None
    with db.app.tenant(A) as s:
        assert [(f.person_no, f.state) for f in flags_of(s, actor=WELFARE[A], program_code=PROGRAM)] == [
            ("1001", claims.BLOCKED)
        ]
    with db.app.tenant(B) as s:
        assert [(f.person_no, f.state) for f in flags_of(s, actor=WELFARE[B], program_code=PROGRAM)] == [
            ("5001", claims.PAYS)
        ]


def test_a_run_leaves_out_and_counts_persons_the_register_cannot_key(db: TestDatabase) -> None:
    _two_registers(db.app)
    _run(db.app, A, extra=town(2))  # two households given to the run that the register does not hold
    assert _entitlement(db.app, A, "H00001").status == "eligible"
    with db.app.tenant(A) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "benefits.national_check")).all()
    details = [json.loads(e.detail or "{}") for e in entries]
    assert [(d["claims"], d["unkeyed"]) for d in details] == [(2, 2)]


def _confirm_and_batch(database: Database, households: list[str]) -> list[str]:
    """Confirm ``households`` with an account, make a batch, and return every household ever put in a batch."""
    with database.tenant(A) as s:
        for household_no in households:
            confirm(
                s, actor=WELFARE[A], program_code=PROGRAM, household_no=household_no, account=account(int(household_no))
            )
        create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)
        return list(s.scalars(select(PaymentLine.household_no).order_by(PaymentLine.household_no)))


def test_a_household_the_check_has_not_seen_is_not_paid_until_its_person_is_keyed(db: TestDatabase) -> None:
    _activate(db.app)
    _resident(db.app, A, "1002", "9002", LONG_AGO, given_name="花子", given_name_kana="ハナコ", sex="female")
    unknown = pl.DataFrame([resident("1003", "9003", "世帯主", date(1960, 2, 1), "exempt")])
    _run(db.app, A, extra=unknown)  # 1003 is given to the run but not (yet) on the register: not keyed
    assert _confirm_and_batch(db.app, ["9002", "9003"]) == ["9002"]
    held = _entitlement(db.app, A, "9003")
    assert (held.status, held.review_reason) == (NEEDS_REVIEW, UNCHECKED_REASON)
    assert (held.review_reason or "").startswith("二重給付の確認（全国照合）が済んでいません。")
    # the 転入 recorded late puts 1003 on the register on the base date; the next check registers and releases 9003
    _resident(
        db.app, A, "1003", "9003", LONG_AGO, given_name="次郎", given_name_kana="ジロウ", birth_date=date(1960, 2, 1)
    )
    with db.app.tenant(A) as s:
        again = register_claims(s, actor=WELFARE[A], program_code=PROGRAM)
    assert (again.released, again.unkeyed) == (["9003"], 0)
    released = _entitlement(db.app, A, "9003")
    assert (released.status, released.review_reason) == (CONFIRMED, None)
    assert _confirm_and_batch(db.app, []) == ["9002", "9003"]
    assert _entitlement(db.app, A, "9003").batch_no is not None
    with pytest.raises(InputError, match="未払いの世帯がありません"):
        _confirm_and_batch(db.app, [])


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_the_entitlement_page_says_who_pays_and_nothing_of_the_other_municipality(site: Site) -> None:
    _two_registers(site.db.app)
    _resident(site.db.app, A, "1003", "9003", ARRIVED, family_name_kana="ニシ", birth_date=date(1980, 5, 5))
    _resident(site.db.app, B, "5003", "8003", ARRIVED, family_name_kana="ニシ", birth_date=date(1980, 5, 5))
    _run(site.db.app, B)
    _run(site.db.app, A)
    add_user(site, "welfare", Role.WELFARE)
    client = site.login("welfare")

    blocked = client.get(f"/benefits/{PROGRAM}/entitlements/9001").text
    assert 'data-testid="national-check"' in blocked
    assert "他の市区町村でも対象（他団体で支給対象）" in blocked
    assert "個人番号で照合" in blocked
    tie = client.get(f"/benefits/{PROGRAM}/entitlements/9003").text  # same 転入 day: the first to confirm pays
    assert "他の市区町村でも対象（先に確認書を受け付けた団体が支給）" in tie
    assert "本人確認が必要" in tie  # matched on the basic items only
    single = client.get(f"/benefits/{PROGRAM}/entitlements/9002").text
    assert 'data-testid="national-check"' not in single
    for html in (blocked, tie):
        for other in ("5001", "5003", "8001", "8003", B, "札幌"):
            assert other not in html

    b_client = site.login("b_all")
    pays = b_client.get(f"/benefits/{PROGRAM}/entitlements/8001").text
    assert "他の市区町村でも対象（当団体が支給）" in pays
    assert "9001" not in pays
    assert "1001" not in pays
