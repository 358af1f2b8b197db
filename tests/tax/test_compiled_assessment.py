"""The resident-tax assessment compiled (what population-wide runs use) gives every quantity exactly as Polars does,
for 令和6〜8年度, on a synthetic town whose declarations use every input: 配当・事業の損失・雑所得, 所得控除,
住宅ローン控除 (特定取得 too), 寄附金 of every kind with and without ワンストップ特例, 指定都市 rows."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from kiban.registry.synth import generate
from kiban.tax.assessment import (
    FLAT_TAX_CUT_FIGURES,
    FLAT_TAX_CUT_YEAR,
    assessment_plan,
    national_parameters,
    with_defaults,
)
from kiban.tax.inputs import from_synthetic


def declared(fiscal_year: int, persons: int = 4_000) -> pl.DataFrame:
    """A synthetic town on the 賦課期日 with every declared input filled in for a random part of it."""
    people = generate("131016", persons, seed=11, as_of=date(fiscal_year, 1, 1)).persons
    inputs = from_synthetic(people, designated_city=False)
    rng = np.random.default_rng(fiscal_year)
    n = inputs.height

    def some(amounts: list[int], share: float = 0.3) -> np.ndarray:
        return np.where(rng.random(n) < share, rng.choice(amounts, n) + rng.integers(0, 1_000, n), 0)

    return inputs.with_columns(
        designated_city=pl.Series(rng.random(n) < 0.5),
        business_income=pl.col("business_income") + pl.Series(some([-2_000_000, -300_000, 800_000], 0.1)),
        other_income=pl.Series(some([100_000, 480_000, 2_000_000], 0.1)),
        dividend_income=pl.Series(some([50_000, 3_000_000, 12_000_000], 0.1)),
        social_insurance=pl.Series(some([150_000, 600_000, 1_400_000], 0.6)),
        small_enterprise_mutual_aid=pl.Series(some([84_000, 840_000], 0.05)),
        life_insurance_deduction=pl.Series(some([28_000, 70_000, 120_000])),
        earthquake_insurance_deduction=pl.Series(some([5_000, 25_000, 50_000])),
        medical_expense_deduction=pl.Series(some([20_000, 300_000], 0.1)),
        casualty_loss_deduction=pl.Series(some([500_000], 0.01)),
        housing_loan_credit_available=pl.Series(some([90_000, 200_000, 400_000], 0.1)),
        housing_loan_credit_used=pl.Series(some([0, 50_000, 150_000], 0.1)),
        housing_loan_specified_acquisition=pl.Series(rng.random(n) < 0.05),
        donation_hometown=pl.Series(some([10_000, 50_000, 300_000, 2_000_000], 0.2)),
        donation_community_chest=pl.Series(some([3_000, 100_000], 0.05)),
        donation_designated_prefectural=pl.Series(some([10_000, 200_000], 0.05)),
        donation_designated_municipal=pl.Series(some([10_000, 200_000], 0.05)),
        donation_one_stop=pl.Series(rng.random(n) < 0.1),
        working_student=pl.Series(rng.random(n) < 0.02),
    )


@pytest.mark.parametrize("fiscal_year", [2024, 2025, 2026])
def test_every_quantity_is_the_same_compiled(fiscal_year: int) -> None:
    population = with_defaults(declared(fiscal_year))
    computation = assessment_plan(fiscal_year, national_parameters(fiscal_year, kyuchi=2))
    expected = computation.compute(population, backend="polars")
    computed = computation.compute(population, backend="compiled")
    assert computed.schema == expected.schema
    differing = [name for name in expected.columns if not computed[name].equals(expected[name])]
    assert differing == []
    for name in ("housing_loan_credit_municipal", "donation_special_credit_municipal", "dividend_credit_municipal"):
        assert (expected[name] > 0).any(), f"{name}: the town exercises it"
    assert set(expected["tax_status"]) == {"exempt", "per_capita_only", "taxable"}


def test_the_flat_tax_cut_figures_are_the_same_compiled() -> None:
    population = with_defaults(declared(FLAT_TAX_CUT_YEAR))
    computation = assessment_plan(FLAT_TAX_CUT_YEAR, national_parameters(FLAT_TAX_CUT_YEAR, 1), FLAT_TAX_CUT_FIGURES)
    keep = ["person_no", *FLAT_TAX_CUT_FIGURES]
    expected = computation.compute(population, keep=keep, backend="polars")
    assert computation.compute(population, keep=keep, backend="compiled").equals(expected)
    assert (expected["flat_reduction_persons"] > 1).any()


def test_one_plan_per_year_and_parameter_values() -> None:
    """Plans are kept (a compiled plan is kept with its plan), so the same values give the same plan."""
    values = national_parameters(2025, kyuchi=1)
    assert assessment_plan(2025, values) is assessment_plan(2025, dict(values))
    assert assessment_plan(2025, values) is not assessment_plan(2025, national_parameters(2025, kyuchi=3))
    assert assessment_plan(2025, values) is not assessment_plan(2026, national_parameters(2026, kyuchi=1))
