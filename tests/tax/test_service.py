"""The stored assessment of a registered population: the amounts ``assess`` gives, reruns, tenant isolation and
permissions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from sqlalchemy import select, text

from kiban.core.audit.service import entries
from kiban.core.errors import InputError, NotFound, PermissionDenied
from kiban.core.identity.permissions import Role
from kiban.core.params.service import values_on
from kiban.core.rules import compiled
from kiban.registry import service as registry
from kiban.registry.synth import generate
from kiban.tax import declarations
from kiban.tax.assessment import RESULTS, assess, national_parameters
from kiban.tax.inputs import claims_by_household_head, from_synthetic
from kiban.tax.models import Assessment, AssessmentRun
from kiban.tax.service import (
    assess_municipality,
    assessment_inputs,
    assessment_of,
    household_flags,
    latest_run,
    sum_declarations,
)

from conftest import TestDatabase
from residents import SAPPORO, TODAY, A, B, move_in, staff

CLERK = staff("clerk1", Role.REGISTRY)
TAX = staff("tax1", Role.TAX)
SCHOOL = staff("school1", Role.SCHOOL)
FY = 2026

DECLARATIONS = (
    "宛名番号,年度,種別,給与収入,公的年金等収入,事業所得,社会保険料,生命保険料控除\n"
    '1001,2026,給与支払報告書,"6,000,000",,,"850,000","40,000"\n'
    "1001,2026,申告,,,-200000,,\n"
    "1002,2026,給与支払報告書,1000000,,,,\n"
    "2001,2026,公的年金等支払報告書,,2400000,,,\n"
    "3001,2026,給与支払報告書,9000000,,,,\n"
    "1001,2025,給与支払報告書,9000000,,,,\n"
)
PEOPLE = {
    # person_no: household_no, relationship, birth date, sex, salary, pension, business, social insurance, life
    "1001": ("9001", "世帯主", date(1980, 5, 1), "male", 6_000_000, 0, -200_000, 850_000, 40_000),
    "1002": ("9001", "妻", date(1982, 7, 7), "female", 1_000_000, 0, 0, 0, 0),
    "1003": ("9001", "子", date(2008, 3, 3), "male", 0, 0, 0, 0, 0),
    "1004": ("9001", "母", date(1945, 1, 1), "female", 0, 0, 0, 0, 0),
    "2001": ("9002", "世帯主", date(1950, 2, 2), "male", 0, 2_400_000, 0, 0, 0),
}
"""Residents on 1 January 2026 and what their declarations add up to (3001 arrives in February)."""


def _town(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        for person_no, (household_no, relationship, born, sex, *_) in PEOPLE.items():
            move_in(s, CLERK, person_no, household_no, relationship=relationship, birth_date=born, sex=sex)
        move_in(s, CLERK, "3001", "9003", given_name="三郎", effective_date=date(2026, 2, 1))
        declarations.import_file(s, actor=TAX, data=DECLARATIONS.encode())


def _expected(db: TestDatabase) -> pl.DataFrame:
    """What ``assess`` gives for the town, its inputs written out by hand."""
    people = pl.DataFrame(
        [(k, *v) for k, v in PEOPLE.items()],
        schema=[
            "person_no",
            "household_no",
            "relationship",
            "birth_date",
            "sex",
            "salary_revenue",
            "pension_revenue",
            "business_income",
            "social_insurance",
            "life_insurance_deduction",
        ],
        orient="row",
    )
    inputs = claims_by_household_head(people).drop("relationship").with_columns(pl.lit(False).alias("designated_city"))
    with db.app.tenant(A) as s:
        parameters = values_on(s, date(FY, 4, 1))
    return assess(inputs, fiscal_year=FY, parameters=parameters).sort("person_no")


def _stored(db: TestDatabase) -> pl.DataFrame:
    columns = ["person_no", "household_no", *RESULTS, "run_no"]
    with db.app.tenant(A) as s:
        rows = s.execute(
            select(*(getattr(Assessment, c) for c in columns))
            .where(Assessment.fiscal_year == FY)
            .order_by(Assessment.person_no)
        ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=columns, orient="row")


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_registered_town_is_assessed_as_assess_computes_it(db: TestDatabase) -> None:
    _town(db)
    steps: list[str] = []
    with db.app.tenant(A) as s:
        summary = assess_municipality(s, actor=TAX, fiscal_year=FY, progress=steps.append)
    expected = _expected(db)
    stored = _stored(db)
    assert stored.drop("run_no").equals(expected.select(stored.drop("run_no").columns))
    assert expected.filter(pl.col("tax_status") == "taxable").height >= 1, "the town has a taxpayer"
    assert (summary.run_no, summary.persons, summary.changed, summary.removed) == (1, 5, 5, 0)
    assert summary.not_resident == 1, "3001 arrived after 1 January"
    assert summary.by_status == {s: expected.filter(pl.col("tax_status") == s).height for s in summary.by_status}
    assert summary.totals["annual_tax"] == expected["annual_tax"].sum() > 0
    assert len(steps) == 5
    with db.app.tenant(A) as s:
        mine = assessment_of(s, actor=TAX, person_no="1001", fiscal_year=FY)
        assert mine.annual_tax == expected.filter(pl.col("person_no") == "1001")["annual_tax"].item()
        flags = household_flags(s, actor=TAX, household_no="9001", fiscal_year=FY)
        assert flags.members == ("1001", "1002", "1003", "1004")
        assert (flags.exempt, flags.per_capita_only) == (False, False)
        pensioner = household_flags(s, actor=TAX, household_no="9002", fiscal_year=FY)
        expected_pensioner = expected.filter(pl.col("person_no") == "2001").row(0, named=True)
        assert pensioner.exempt == expected_pensioner["household_exempt"]
        with pytest.raises(NotFound, match="3001"):
            assessment_of(s, actor=TAX, person_no="3001", fiscal_year=FY)
        run = latest_run(s, actor=TAX, fiscal_year=FY)
        assert run is not None
        used = json.loads(run.parameters)
        assert used["forest_environment_tax.per_capita"] == 1000
        assert used["resident_tax.income_levy.rate.municipal"] == "0.06"
        assert (run.persons, run.actor) == (5, "tax1")
        actions = [e.action for e in entries(s, lg_code=A)]
        assert {"registry.snapshot", "tax.assess", "tax.assessment.read", "tax.household_flags.read"} <= set(actions)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_rerun_changes_nothing_and_a_changed_input_only_its_rows(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        assess_municipality(s, actor=TAX, fiscal_year=FY)
    first = _stored(db)
    with db.app.tenant(A) as s:
        again = assess_municipality(s, actor=TAX, fiscal_year=FY)
    assert (again.run_no, again.changed, again.removed) == (2, 0, 0)
    assert _stored(db).equals(first)
    # 2001 gets a pension from a second payer; 1002 has left before 1 January (転出 on 2025-12-20)
    with db.app.tenant(A) as s:
        declarations.import_file(
            s,
            actor=TAX,
            data="宛名番号,年度,種別,支払者番号,公的年金等収入\n2001,2026,公的年金等支払報告書,2000012010019,3000000\n".encode(),
        )
        registry.register_move_out(
            s, actor=CLERK, person_no="1002", effective_date=date(2025, 12, 20), destination="北海道札幌市", today=TODAY
        )
        third = assess_municipality(s, actor=TAX, fiscal_year=FY)
        runs = list(s.scalars(select(AssessmentRun.changed).order_by(AssessmentRun.run_no)))
    assert (third.run_no, third.removed) == (3, 1)
    after = _stored(db)
    rewritten = set(after.filter(pl.col("run_no") == 3)["person_no"])
    assert "2001" in rewritten
    assert "1002" not in set(after["person_no"])
    unchanged = after.filter(pl.col("run_no") == 1)
    assert unchanged.height >= 1
    assert unchanged.equals(first.filter(pl.col("person_no").is_in(unchanged["person_no"].to_list())))
    assert runs == [5, 0, third.changed + 1]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_another_tenant_sees_no_results(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        assess_municipality(s, actor=TAX, fiscal_year=FY)
    sapporo_clerk, sapporo_tax = staff("c", Role.REGISTRY, B), staff("t", Role.TAX, B)
    with db.app.tenant(B) as s:
        move_in(s, sapporo_clerk, "1001", "9001", **SAPPORO)
        summary = assess_municipality(s, actor=sapporo_tax, fiscal_year=FY)
        assert (summary.persons, summary.run_no, summary.not_resident) == (1, 1, 0)
        theirs = assessment_of(s, actor=sapporo_tax, person_no="1001", fiscal_year=FY)
        assert (theirs.lg_code, theirs.annual_tax) == (B, 0)
        assert theirs.tax_status == "exempt", "no declaration in 札幌市: no income"
        with pytest.raises(NotFound):
            household_flags(s, actor=sapporo_tax, household_no="9002", fiscal_year=FY)
        if db.backend == "postgresql":
            # below the ORM: row-level security shows 札幌市 its own rows only
            assert s.execute(text("SELECT DISTINCT lg_code FROM tax_assessment")).scalars().all() == [B]
            assert s.execute(text("SELECT count(*) FROM tax_income_declaration")).scalar() == 0
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match="他の団体"):
        assessment_of(s, actor=sapporo_tax, person_no="1001", fiscal_year=FY)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_assessing_and_reading_need_the_tax_role(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match="税務担当"):
        assess_municipality(s, actor=SCHOOL, fiscal_year=FY)
    with db.app.tenant(A) as s:
        assert s.scalar(select(AssessmentRun.run_no)) is None
        assess_municipality(s, actor=TAX, fiscal_year=FY)
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match=r"tax\.read"):
        assessment_of(s, actor=SCHOOL, person_no="1001", fiscal_year=FY)
    with db.app.tenant(A) as s:
        denied = [(e.action, e.outcome) for e in entries(s, lg_code=A) if e.outcome == "denied"]
        assert denied == [("tax.read", "denied"), ("tax.write", "denied")]
        with pytest.raises(InputError, match="年度"):
            assess_municipality(s, actor=TAX, fiscal_year=2031)


def test_synthetic_declarations_assess_like_the_synthetic_inputs() -> None:
    persons = generate(A, 1_500, seed=11).persons
    declared = declarations.from_synthetic_population(persons, fiscal_year=FY)
    assert set(declared["source"].unique()) == set(declarations.SOURCES)
    population, not_resident = assessment_inputs(persons, sum_declarations(declared), designated_city=False)
    parameters = national_parameters(FY, kyuchi=1)
    ours = assess(population, fiscal_year=FY, parameters=parameters).sort("person_no")
    theirs = assess(from_synthetic(persons, designated_city=False), fiscal_year=FY, parameters=parameters)
    assert not_resident == 0
    assert ours.equals(theirs.sort("person_no"))
    assert ours["annual_tax"].sum() > 0


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_registered_town_assessed_compiled_stores_the_same(db: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a population-wide run does (``COMPILE_FROM_ROWS``), on inputs read from the database."""
    _town(db)
    expected = _expected(db)
    ran: list[bool] = []
    original = compiled.CompiledPlan.compute

    def compute(self: compiled.CompiledPlan, population: pl.DataFrame) -> pl.DataFrame | None:
        result = original(self, population)
        ran.append(result is not None)
        return result

    monkeypatch.setattr(compiled.CompiledPlan, "compute", compute)
    monkeypatch.setattr("kiban.core.rules.engine.COMPILE_FROM_ROWS", 1)
    with db.app.tenant(A) as s:
        assess_municipality(s, actor=TAX, fiscal_year=FY)
    assert ran == [True], "the run was compiled"
    stored = _stored(db)
    assert stored.drop("run_no").equals(expected.select(stored.drop("run_no").columns))
