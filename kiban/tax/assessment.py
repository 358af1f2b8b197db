"""One municipality's resident-tax assessment for a 年度, over columnar data: the inputs every run needs, the
results it gives, and the parameters it uses.

``assess`` is the whole computation (no database): the same function serves the ``kiban tax assess`` batch, the
explain page, what-if runs and the benchmarks. The parameters are those in force on ``date(FY, 4, 1)`` for the
municipality (``kiban.core.params.service.values_on``), or the national values (``national_parameters``) where a run
has no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache

import polars as pl

from kiban.core.params.catalogue import ParamValue, default_catalogue
from kiban.core.rules.engine import Plan, plan
from kiban.tax.rules import rules

FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2021, 2026
"""令和3年度 (the 基礎控除 43万円, 給与所得控除 55万円 and 非課税限度額 +10万円 of the 平成30年度改正) to 令和8年度.
令和6〜8年度 are the years the issue asks for; 令和5年度 is needed by the benefits that read its 課税区分."""

INPUTS: dict[str, pl.DataType] = {
    "person_no": pl.Utf8(),
    "household_no": pl.Utf8(),
    "birth_date": pl.Date(),
    "sex": pl.Utf8(),
    "designated_city": pl.Boolean(),
    # income of the previous calendar year (yen)
    "salary_revenue": pl.Int64(),
    "pension_revenue": pl.Int64(),
    "business_income": pl.Int64(),
    "other_income": pl.Int64(),
    "dividend_income": pl.Int64(),
    # declared deductions and credits (yen)
    "social_insurance": pl.Int64(),
    "small_enterprise_mutual_aid": pl.Int64(),
    "life_insurance_deduction": pl.Int64(),
    "earthquake_insurance_deduction": pl.Int64(),
    "medical_expense_deduction": pl.Int64(),
    "casualty_loss_deduction": pl.Int64(),
    "housing_loan_credit_available": pl.Int64(),
    "housing_loan_credit_used": pl.Int64(),
    "housing_loan_specified_acquisition": pl.Boolean(),  # 特定取得 (地方税法附則第5条の4の2: 7%・136,500円)
    # 寄附金税額控除 (地方税法第314条の7・第37条の2; kiban.tax.rules.donations), donations of the income year (yen)
    "donation_hometown": pl.Int64(),  # 都道府県・市区町村への寄附金 (ふるさと納税)
    "donation_community_chest": pl.Int64(),  # 住所地の共同募金会・日本赤十字社支部への寄附金
    "donation_designated_prefectural": pl.Int64(),  # 道府県の条例で指定する寄附金 (条例指定寄附金)
    "donation_designated_municipal": pl.Int64(),  # 市町村の条例で指定する寄附金 (条例指定寄附金)
    "donation_one_stop": pl.Boolean(),  # 申告特例 (ワンストップ特例) の求めがあり、申告をしていない
    # circumstances on 31 December of the income year
    "disability": pl.Utf8(),
    "widow": pl.Boolean(),
    "single_parent": pl.Boolean(),
    "working_student": pl.Boolean(),
    "welfare_recipient": pl.Boolean(),
    # who declares this person as 同一生計配偶者 / 扶養親族
    "claimant_no": pl.Utf8(),
    "spouse_of_claimant": pl.Boolean(),
    "lives_with_claimant": pl.Boolean(),
    "parent_of_claimant": pl.Boolean(),
}
"""Columns of a run's population, one row per person (a resident on 1 January, and each claimed relative)."""

DEFAULTS: dict[str, object] = {
    "other_income": 0,
    "dividend_income": 0,
    "social_insurance": 0,
    "small_enterprise_mutual_aid": 0,
    "life_insurance_deduction": 0,
    "earthquake_insurance_deduction": 0,
    "medical_expense_deduction": 0,
    "casualty_loss_deduction": 0,
    "housing_loan_credit_available": 0,
    "housing_loan_credit_used": 0,
    "housing_loan_specified_acquisition": False,
    "donation_hometown": 0,
    "donation_community_chest": 0,
    "donation_designated_prefectural": 0,
    "donation_designated_municipal": 0,
    "donation_one_stop": False,
    "disability": "none",
    "widow": False,
    "single_parent": False,
    "working_student": False,
    "welfare_recipient": False,
    "claimant_no": None,
    "spouse_of_claimant": False,
    "lives_with_claimant": False,
    "parent_of_claimant": False,
    "designated_city": False,
}

RESULTS = [
    "total_income",
    "total_income_base",
    "total_deductions",
    "taxable_income",
    "income_levy_gross_municipal",
    "income_levy_gross_prefectural",
    "tax_credits_municipal",
    "tax_credits_prefectural",
    "income_levy_municipal",
    "income_levy_prefectural",
    "per_capita_municipal",
    "per_capita_prefectural",
    "forest_environment_tax",
    "flat_reduction_municipal",
    "flat_reduction_prefectural",
    "annual_tax",
    "tax_status",
    "supported_by",
    "household_exempt",
    "household_per_capita_only",
]
"""What a run stores per person (the household flags repeated on every member)."""

FLAT_TAX_CUT_YEAR = 2024
"""The 年度 of the 定額減税 (令和6年度 住民税, 令和6年分 所得税 estimated from the same 令和5年 incomes)."""
FLAT_TAX_CUT_FIGURES = [
    "total_income",
    "income_tax_cut_persons",
    "estimated_income_tax",
    "flat_reduction_persons",
    "income_levy_before_flat_reduction",
]
"""What the 定額減税 調整給付 (``kiban.benefits``, program ``fixed_tax_cut_adjustment_2024``) reads per person."""


def computation_date(fiscal_year: int) -> date:
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        raise ValueError(f"年度は{FIRST_FISCAL_YEAR}〜{LAST_FISCAL_YEAR}年度を指定してください（{fiscal_year}）")
    return date(fiscal_year, 4, 1)


def national_parameters(fiscal_year: int, kyuchi: int | None) -> dict[str, ParamValue]:
    """Every parameter's national value in force for the 年度 (for the municipality's 級地)."""
    return default_catalogue().national_values(computation_date(fiscal_year), kyuchi)


def with_defaults(population: pl.DataFrame) -> pl.DataFrame:
    """Add the optional input columns a population lacks and fill their missing values with the neutral ones (no
    deduction, no circumstance), and cast every input; a required column missing is an error."""
    missing = [pl.lit(v, dtype=INPUTS[k]).alias(k) for k, v in DEFAULTS.items() if k not in population.columns]
    frame = population.with_columns(missing) if missing else population
    required = set(INPUTS) - set(frame.columns)
    if required:
        raise ValueError(f"入力に列がありません: {', '.join(sorted(required))}")
    typed = [pl.col(k).cast(t) for k, t in INPUTS.items()]
    filled = [pl.col(k).fill_null(pl.lit(v, dtype=INPUTS[k])) for k, v in DEFAULTS.items() if v is not None]
    return frame.with_columns(typed).with_columns(filled)


def assessment_plan(fiscal_year: int, parameters: Mapping[str, ParamValue], targets: list[str] = RESULTS) -> Plan:
    return _plan(fiscal_year, tuple(sorted(parameters.items())), tuple(targets))


@lru_cache(maxsize=64)
def _plan(fiscal_year: int, parameters: tuple[tuple[str, ParamValue], ...], targets: tuple[str, ...]) -> Plan:
    """One plan per 年度, parameter values and targets in a process (a plan is immutable; a compiled one is kept with
    it, see ``kiban.core.rules.compiled``)."""
    return plan(rules, targets, on=computation_date(fiscal_year), parameters=dict(parameters), inputs=INPUTS)


def assess(
    population: pl.DataFrame, *, fiscal_year: int, parameters: Mapping[str, ParamValue], keep_all: bool = False
) -> pl.DataFrame:
    """Results per person: ``person_no``, ``household_no`` and ``RESULTS`` (every intermediate too with
    ``keep_all``)."""
    keep = None if keep_all else ["person_no", "household_no", *RESULTS]
    return assessment_plan(fiscal_year, parameters).compute(with_defaults(population), keep=keep)


def flat_tax_cut_figures(population: pl.DataFrame, *, parameters: Mapping[str, ParamValue]) -> pl.DataFrame:
    """Per person of a 令和6年度 assessment population (``INPUTS``, e.g. ``kiban.tax.service.population_of(...,
    fiscal_year=2024).inputs``): ``person_no``, ``household_no`` and ``FLAT_TAX_CUT_FIGURES``, the 定額減税 counts
    and the taxes before it that the 調整給付 compares. ``parameters`` are those of the 年度 (1 April 2024)."""
    computation = assessment_plan(FLAT_TAX_CUT_YEAR, parameters, FLAT_TAX_CUT_FIGURES)
    return computation.compute(with_defaults(population), keep=["person_no", "household_no", *FLAT_TAX_CUT_FIGURES])
