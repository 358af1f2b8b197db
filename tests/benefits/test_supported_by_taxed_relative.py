"""Who is supported by a taxed relative, from the 令和5年度 assessment in the municipality's records: a household made
only of such people gets no 低所得世帯支援 (「住民税課税者の扶養親族等のみからなる世帯は対象外」), whereas one whose
claimant is 非課税, or with a member nobody taxed supports, is paid; on SQLite and PostgreSQL.

Each adult child below is its parent's 扶養親族 on 1 January 2023 (no income, claimed by the household head) and founds
a household of its own (世帯分離) before the base date, 1 December 2023."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kiban.benefits.eligibility import entitlements
from kiban.benefits.population import population_of
from kiban.benefits.programs import PROGRAMS
from kiban.core.audit.service import entries
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Role
from kiban.registry import service as registry
from kiban.tax import declarations
from kiban.tax.service import assess_municipality

from benefit_town import TAX, WELFARE
from conftest import TestDatabase
from residents import TODAY, A, move_in, staff

PROGRAM = PROGRAMS["low_income_2023"]
CLERK = staff("clerk1", Role.REGISTRY)
SPLIT_DAY, MERGE_DAY = date(2023, 6, 1), date(2023, 7, 1)
TAXED_PARENTS = ("1000", "1004")
"""Heads with a 2022 salary of 5,000,000 yen: 課税 in 令和5年度. The others have no income: 非課税."""


def _parent_and_child(s: TenantSession, parent: str, child: str, household: str, child_household: str) -> None:
    born = int(parent) - 1000  # a day of its own for each family (people with the same 基本4情報 are suspected twins)
    move_in(s, CLERK, parent, household, birth_date=date(1960, 1, 1 + born))
    move_in(s, CLERK, child, household, relationship="子", birth_date=date(2000, 1, 1 + born), given_name="花子")
    registry.register_household_split(
        s, actor=CLERK, person_no=child, new_household_no=child_household, effective_date=SPLIT_DAY, today=TODAY
    )


def _town(s: TenantSession) -> None:
    _parent_and_child(s, "1000", "1001", "9000", "9100")  # 9100: only the dependant of a taxed parent
    _parent_and_child(s, "1002", "1003", "9001", "9101")  # 9101: the dependant of a 非課税 parent
    _parent_and_child(s, "1004", "1005", "9002", "9102")  # 9102: the dependant of a taxed parent, and 1006
    move_in(s, CLERK, "1006", "9003", birth_date=date(1970, 1, 1), given_name="次郎")
    registry.register_household_merge(
        s,
        actor=CLERK,
        household_no="9003",
        into_household_no="9102",
        effective_date=MERGE_DAY,
        relationships={"1006": "同居人"},
        today=TODAY,
    )
    rows = "".join(f"{p},2023,給与支払報告書,5000000,700000\n" for p in TAXED_PARENTS)
    declarations.import_file(s, actor=TAX, data=("宛名番号,年度,種別,給与収入,社会保険料\n" + rows).encode())
    assess_municipality(s, actor=TAX, fiscal_year=2023)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_only_dependants_of_a_taxed_relative_are_not_paid(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        _town(s)
        population = population_of(s, actor=WELFARE, program=PROGRAM)
        audited = [e.action for e in entries(s, lg_code=A)]
    residents = population.residents
    supported = dict(residents.select("person_no", "supported_by_taxed_relative").iter_rows())
    assert supported == {
        "1000": False,
        "1001": True,
        "1002": False,
        "1003": False,
        "1004": False,
        "1005": True,
        "1006": False,
    }
    assert "tax.status.read" in audited
    households: dict[str, dict[str, Any]] = {
        r["household_no"]: r for r in entitlements(residents, PROGRAM, population.parameters).iter_rows(named=True)
    }
    assert "9100" not in households, "only the 扶養親族 of a taxed parent: excluded"
    assert (households["9101"]["eligible"], households["9101"]["amount"]) == (True, 70_000), "the parent is 非課税"
    mixed = households["9102"]
    assert (mixed["members"], mixed["eligible"], mixed["amount"]) == (2, True, 70_000), "1006 is supported by no one"
    assert set(households) == {"9001", "9101", "9102"}, "9000 and 9002 are taxed"
