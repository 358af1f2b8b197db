"""The 年度's assessment of a municipality, stored; and what other work reads of it.

Verbs: ``assess_municipality`` (the batch), ``assessment_of`` (one person), ``household_flags`` (one household),
``latest_run``.

Who is assessed: every person with an address in the municipality on 1 January of the 年度 (賦課期日, 地方税法第318条;
納税義務者, 第294条第1項第1号), as the register knows it now (``kiban.registry.snapshot``). Their income is what the
年度's declarations say (``kiban.tax.declarations``; summed per person, none is no income), the relatives each
claims follow the 続柄 to the household head (``kiban.tax.inputs``), the designated-city rates apply by the tenant's
kind (第314条の3第2項), and the parameters are those in force on 1 April of the 年度 for the municipality (national
values overlaid with its own, ``kiban.core.params``), one set per run and stored with it.

A run replaces the 年度's results in the caller's transaction but writes only rows whose result changed (and
removes those of people no longer assessed): a second run on the same inputs changes nothing, and each row's
``run_no`` is the run that last set it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import func, select, text

from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identity.permissions import Principal
from kiban.core.params.catalogue import ParamValue, default_catalogue, to_json
from kiban.core.params.service import values_on
from kiban.core.tenants.models import Tenant
from kiban.registry import snapshot
from kiban.tax.access import PURPOSE, may_read, may_write
from kiban.tax.assessment import RESULTS, assess, assessment_plan, computation_date
from kiban.tax.declarations import AMOUNTS, CANCELLATION, FLAGS, RETURN
from kiban.tax.inputs import DESIGNATED_CITY_KINDS, claims_by_household_head
from kiban.tax.models import Assessment, AssessmentRun, IncomeDeclaration
from kiban.tax.rules.results import STATUS_LABELS
from kiban.tax.storage import delete_keys, insert_frame, read_frame

Progress = Callable[[str], None]
"""Told what was just done, ``STEPS`` times per run."""
STEPS = 5

RESULT_SCHEMA: dict[str, pl.DataType] = {
    "person_no": pl.Utf8(),
    "household_no": pl.Utf8(),
    **{name: pl.Int64() for name in RESULTS},
    "tax_status": pl.Utf8(),
    "supported_by": pl.Utf8(),
    "household_exempt": pl.Boolean(),
    "household_per_capita_only": pl.Boolean(),
}
"""A stored result without its keys' ``lg_code`` / ``fiscal_year`` and its ``run_no``."""

DECLARED_SCHEMA: dict[str, pl.DataType] = {
    "person_no": pl.Utf8(),
    "source": pl.Utf8(),
    **{name: pl.Int64() for name in AMOUNTS.values()},
    "disability": pl.Utf8(),
    **{name: pl.Boolean() for name in FLAGS.values()},
}
"""What an assessment reads of a declaration."""
DISABILITY_RANK = {"none": 0, "ordinary": 1, "special": 2}
ONE_STOP = "donation_one_stop"
TOTALS = (
    "income_levy_municipal",
    "income_levy_prefectural",
    "per_capita_municipal",
    "per_capita_prefectural",
    "forest_environment_tax",
    "annual_tax",
)


@dataclass(frozen=True)
class RunSummary:
    run_no: int
    fiscal_year: int
    persons: int
    """People assessed (residents on 1 January)."""
    changed: int
    """Results written (new or different) by this run."""
    removed: int
    """Results removed (people no longer resident on 1 January)."""
    by_status: dict[str, int]
    """People per 課税区分 (``exempt``, ``per_capita_only``, ``taxable``)."""
    totals: dict[str, int]
    """Sums over everyone of ``TOTALS`` (yen)."""
    not_resident: int
    """People with declarations who were not residents on 1 January (not assessed here)."""


@dataclass(frozen=True)
class HouseholdFlags:
    household_no: str
    fiscal_year: int
    exempt: bool
    """住民税非課税世帯."""
    per_capita_only: bool
    """均等割のみ課税世帯."""
    members: tuple[str, ...]
    """宛名番号 of the members on 1 January (賦課期日)."""


def levy_date(fiscal_year: int) -> date:
    """賦課期日: 1 January of the 年度 (地方税法第318条)."""
    return date(fiscal_year, 1, 1)


def _checked_year(fiscal_year: int) -> None:
    try:
        computation_date(fiscal_year)
    except ValueError as exc:
        raise InputError(FieldError("年度", str(fiscal_year), str(exc))) from exc


def declared_incomes(db_session: TenantSession, fiscal_year: int) -> pl.DataFrame:
    """The 年度's declarations in force (not replaced by a 訂正 or withdrawn by a 取消) summed per person
    (``sum_declarations``)."""
    d = IncomeDeclaration
    query = select(*(getattr(d, name) for name in DECLARED_SCHEMA)).where(
        d.fiscal_year == fiscal_year,
        d.lg_code == db_session.lg_code,
        d.superseded_by.is_(None),
        d.submission != CANCELLATION,
    )
    return sum_declarations(read_frame(db_session, query, DECLARED_SCHEMA))


def sum_declarations(declarations: pl.DataFrame) -> pl.DataFrame:
    """One row per person: amounts added, the circumstances any declaration states (the most severe 障害者 区分);
    the ふるさと納税 申告特例 only where the person filed no 申告 (a 確定申告 or 住民税の申告 voids the
    ワンストップ特例: the donations are then declared in it; 総務省「ふるさと納税ポータル ワンストップ特例制度」)."""
    rank = pl.col("disability").replace_strict(DISABILITY_RANK, default=0, return_dtype=pl.Int8)
    by_rank = {v: k for k, v in DISABILITY_RANK.items()}
    return (
        declarations.select(list(DECLARED_SCHEMA))
        .with_columns(rank.alias("disability"))
        .group_by("person_no", maintain_order=True)
        .agg(
            *(pl.col(name).sum() for name in AMOUNTS.values()),
            pl.col("disability").max(),
            *(pl.col(name).any() for name in FLAGS.values() if name != ONE_STOP),
            (pl.col(ONE_STOP).any() & ~(pl.col("source") == RETURN).any()).alias(ONE_STOP),
        )
        .with_columns(pl.col("disability").replace_strict(by_rank, return_dtype=pl.Utf8))
    )


def assessment_inputs(
    residents: pl.DataFrame, declared: pl.DataFrame, *, designated_city: bool
) -> tuple[pl.DataFrame, int]:
    """The assessment's population (``kiban.tax.assessment.INPUTS``) from the residents on 1 January and their
    summed declarations; and how many declared people were not residents then."""
    claims = claims_by_household_head(residents).select(
        "person_no",
        "household_no",
        "birth_date",
        "sex",
        pl.lit(designated_city).alias("designated_city"),
        "claimant_no",
        "spouse_of_claimant",
        "lives_with_claimant",
        "parent_of_claimant",
    )
    frame = claims.join(declared, on="person_no", how="left", maintain_order="left").with_columns(
        *(pl.col(name).fill_null(0) for name in AMOUNTS.values()),
        pl.col("disability").fill_null("none"),
        *(pl.col(name).fill_null(False) for name in FLAGS.values()),
    )
    not_resident = declared.join(residents.select("person_no"), on="person_no", how="anti").height
    return frame, not_resident


def _designated_city(db_session: TenantSession, lg_code: str) -> bool:
    kind = db_session.scalar(select(Tenant.kind).where(Tenant.lg_code == lg_code))
    return kind in DESIGNATED_CITY_KINDS


@dataclass(frozen=True)
class Population:
    """What one 年度's assessment of a municipality computes from: the same for the stored run, an explanation and a
    what-if."""

    residents: int
    declared: int
    """People with declarations (summed)."""
    not_resident: int
    """People with declarations who were not residents on 1 January (not assessed here)."""
    inputs: pl.DataFrame
    """``kiban.tax.assessment.INPUTS`` of every resident on 1 January."""
    parameters: dict[str, ParamValue]
    """The municipality's parameters in force on 1 April of the 年度."""


def population_of(db_session: TenantSession, *, actor: Principal, fiscal_year: int) -> Population:
    """Residents on 1 January of ``fiscal_year`` (賦課期日, 地方税法第318条) from the registry snapshot, with that
    年度's declarations summed per person, claims by the household head, the designated-city flag by tenant kind and the
    parameters on 1 April. Callers check the tax permission first; the snapshot checks ``REGISTRY_READ``."""
    _checked_year(fiscal_year)
    lg_code = db_session.lg_code or ""
    residents = snapshot.residents(db_session, actor=actor, on=levy_date(fiscal_year))
    declared = declared_incomes(db_session, fiscal_year)
    inputs, not_resident = assessment_inputs(residents, declared, designated_city=_designated_city(db_session, lg_code))
    parameters = values_on(db_session, computation_date(fiscal_year))
    return Population(residents.height, declared.height, not_resident, inputs, parameters)


def _stored(db_session: TenantSession, fiscal_year: int) -> pl.DataFrame:
    a = Assessment
    query = select(*(getattr(a, name) for name in RESULT_SCHEMA)).where(
        a.fiscal_year == fiscal_year, a.lg_code == db_session.lg_code
    )
    return read_frame(db_session, query, RESULT_SCHEMA)


def _parameters_json(fiscal_year: int, parameters: Mapping[str, ParamValue]) -> str:
    """Every parameter value the computation reads (``Plan.parameters``) as JSON, rates as decimal strings."""
    catalogue = default_catalogue()
    used = assessment_plan(fiscal_year, parameters).parameters
    return json.dumps(
        {name: to_json(catalogue[name].type, value) for name, value in used.items()}, ensure_ascii=False, sort_keys=True
    )


def _one_run_at_a_time(db_session: TenantSession, lg_code: str) -> None:
    """Runs of one tenant queue (PostgreSQL: a transaction-level advisory lock), so two never compute from the same
    previous results or take the same run number. SQLite serializes writers by itself."""
    if db_session.connection().dialect.name == "postgresql":
        db_session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"tax.assess:{lg_code}"})


def assess_municipality(
    db_session: TenantSession, *, actor: Principal, fiscal_year: int, progress: Progress | None = None
) -> RunSummary:
    """Assess every resident on 1 January of ``fiscal_year`` and store the results (see the module docstring), in
    the caller's transaction. Needs ``TAX_WRITE`` (and ``REGISTRY_READ`` for the snapshot); audited."""
    lg_code = may_write(db_session, actor)
    _checked_year(fiscal_year)
    _one_run_at_a_time(db_session, lg_code)
    step = progress or (lambda description: None)
    started = datetime.now(UTC)
    population = population_of(db_session, actor=actor, fiscal_year=fiscal_year)
    step(f"賦課期日（{levy_date(fiscal_year).isoformat()}）の住民 {population.residents:,} 人を読み込み")
    step(f"申告等 {population.declared:,} 人分を集計")
    parameters = population.parameters
    results = assess(population.inputs, fiscal_year=fiscal_year, parameters=parameters).select(
        [pl.col(k).cast(t) for k, t in RESULT_SCHEMA.items()]
    )
    step(f"{results.height:,} 人の税額を計算")
    old = _stored(db_session, fiscal_year)
    changed = results.join(old, on=list(RESULT_SCHEMA), how="anti", nulls_equal=True)
    removed = old.join(results, on="person_no", how="anti").select("person_no")
    run_no = (db_session.scalar(select(func.max(AssessmentRun.run_no))) or 0) + 1
    stale = pl.concat([changed.select("person_no"), removed]).with_columns(
        pl.lit(fiscal_year, dtype=pl.Int32).alias("fiscal_year")
    )
    delete_keys(db_session, Assessment.__table__, stale.join(old.select("person_no"), on="person_no", how="semi"))  # type: ignore[arg-type]
    insert_frame(
        db_session,
        Assessment.__table__,  # type: ignore[arg-type]
        changed.with_columns(
            pl.lit(db_session.lg_code).alias("lg_code"),
            pl.lit(fiscal_year, dtype=pl.Int32).alias("fiscal_year"),
            pl.lit(run_no, dtype=pl.Int32).alias("run_no"),
        ),
    )
    step(f"変更のあった {changed.height + removed.height:,} 件を書き込み")
    db_session.add(
        AssessmentRun(
            lg_code=lg_code,
            run_no=run_no,
            fiscal_year=fiscal_year,
            started_at=started,
            finished_at=datetime.now(UTC),
            persons=results.height,
            changed=changed.height + removed.height,
            parameters=_parameters_json(fiscal_year, parameters),
            actor=actor.user_id,
        )
    )
    counts = results.group_by("tax_status").len()
    summary = RunSummary(
        run_no=run_no,
        fiscal_year=fiscal_year,
        persons=results.height,
        changed=changed.height,
        removed=removed.height,
        by_status={status: 0 for status in STATUS_LABELS} | {str(k): int(v) for k, v in counts.iter_rows()},
        totals={name: int(results[name].sum()) for name in TOTALS},
        not_resident=population.not_resident,
    )
    record(
        db_session,
        actor=actor,
        action="tax.assess",
        purpose=PURPOSE,
        detail={
            "fiscal_year": fiscal_year,
            "run_no": run_no,
            "persons": summary.persons,
            "changed": summary.changed,
            "removed": summary.removed,
        },
    )
    db_session.flush()
    step(f"第{run_no}回の賦課計算を記録")
    return summary


def assessment_of(db_session: TenantSession, *, actor: Principal, person_no: str, fiscal_year: int) -> Assessment:
    """A person's stored assessment of ``fiscal_year``; ``NotFound`` if none. Audited."""
    may_read(db_session, actor)
    found = db_session.scalar(
        select(Assessment).where(Assessment.fiscal_year == fiscal_year, Assessment.person_no == person_no)
    )
    record(
        db_session,
        actor=actor,
        action="tax.assessment.read",
        purpose=PURPOSE,
        subject=person_no,
        detail={"fiscal_year": fiscal_year, "found": found is not None},
    )
    if found is None:
        raise NotFound(f"宛名番号 {person_no} の{fiscal_year}年度の賦課計算の結果はありません。")
    return found


def household_flags(
    db_session: TenantSession, *, actor: Principal, household_no: str, fiscal_year: int
) -> HouseholdFlags:
    """Whether the household (as on 1 January of ``fiscal_year``) is 住民税非課税世帯 or 均等割のみ課税世帯, as
    benefit programs ask; ``NotFound`` if it has no assessed member. Audited."""
    may_read(db_session, actor)
    members = list(
        db_session.scalars(
            select(Assessment)
            .where(Assessment.fiscal_year == fiscal_year, Assessment.household_no == household_no)
            .order_by(Assessment.person_no)
        )
    )
    record(
        db_session,
        actor=actor,
        action="tax.household_flags.read",
        purpose=PURPOSE,
        subject=household_no,
        detail={"fiscal_year": fiscal_year, "members": len(members)},
    )
    if not members:
        raise NotFound(f"世帯番号 {household_no} の{fiscal_year}年度の賦課計算の結果はありません。")
    return HouseholdFlags(
        household_no=household_no,
        fiscal_year=fiscal_year,
        exempt=members[0].household_exempt,
        per_capita_only=members[0].household_per_capita_only,
        members=tuple(m.person_no for m in members),
    )


def latest_run(db_session: TenantSession, *, actor: Principal, fiscal_year: int) -> AssessmentRun | None:
    """The 年度's last run, if any."""
    may_read(db_session, actor)
    return db_session.scalar(
        select(AssessmentRun)
        .where(AssessmentRun.fiscal_year == fiscal_year)
        .order_by(AssessmentRun.run_no.desc())
        .limit(1)
    )
