"""Every program's eligibility rules run compiled (as a population-wide run does) give what Polars gives; a population
with unknown 課税区分 (nulls) runs in Polars."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from kiban.benefits.eligibility import computation, national_parameters
from kiban.benefits.programs import PROGRAMS, Unit
from kiban.core.rules.engine import RuleError

ROWS = 3_000
STATUSES = ["exempt", "per_capita_only", "taxable"]


def residents(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "person_no": [f"P{i:05d}" for i in range(ROWS)],
            "household_no": [f"H{h:05d}" for h in rng.integers(0, ROWS // 2, ROWS)],
            "relationship": rng.choice(["世帯主", "妻", "子", "母", "同居人"], ROWS),
            "birth_date": [date(1940, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 31_000, ROWS)],
            "tax_status": rng.choice(STATUSES, ROWS),
            "tax_status_previous": rng.choice(STATUSES, ROWS),
            "supported_by_taxed_relative": rng.random(ROWS) < 0.1,
        }
    )


def assessed_people(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    amounts = ["total_income", "estimated_income_tax", "income_levy_before_flat_reduction"]
    return pl.DataFrame(
        {
            "person_no": [f"P{i:05d}" for i in range(ROWS)],
            "household_no": [f"H{h:05d}" for h in rng.integers(0, ROWS // 2, ROWS)],
            **{name: rng.choice([0, 1, 30_000, 120_000, 3_000_000], ROWS) for name in amounts},
            **{name: rng.integers(0, 5, ROWS) for name in ("income_tax_cut_persons", "flat_reduction_persons")},
        }
    )


@pytest.mark.parametrize("code", sorted(PROGRAMS))
def test_each_program_is_the_same_compiled(code: str) -> None:
    program = PROGRAMS[code]
    population = assessed_people(7) if program.unit == Unit.PERSON else residents(7)
    plan = computation(program, national_parameters(program))
    expected = plan.compute(population, backend="polars")
    assert plan.compute(population, backend="compiled").equals(expected)
    assert expected["eligible"].any(), "some are entitled"


def test_unknown_tax_statuses_run_in_polars() -> None:
    program = PROGRAMS["low_income_2023"]
    population = residents(8).with_columns(
        pl.when(pl.col("person_no").str.ends_with("7")).then(None).otherwise(pl.col("tax_status")).alias("tax_status")
    )
    plan = computation(program, national_parameters(program))
    with pytest.raises(RuleError):
        plan.compute(population, backend="compiled")
    assert plan.compute(population).equals(plan.compute(population, backend="polars"))
