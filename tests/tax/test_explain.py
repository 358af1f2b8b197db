"""Explaining one person's tax step by step, and the what-if of a parameter change over a whole town."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kiban.core.errors import InputError, NotFound
from kiban.registry.synth import generate
from kiban.tax.assessment import assess, national_parameters
from kiban.tax.explain import explain_person, parse_overrides, simulate
from kiban.tax.inputs import from_synthetic

PARAMS = national_parameters(2026, kyuchi=1)


def test_a_trace_shows_every_step_with_its_parameters() -> None:
    population = pl.DataFrame(
        {
            "person_no": ["1", "2", "9"],
            "household_no": ["h", "h", "x"],
            "birth_date": [date(1980, 5, 1), date(2012, 2, 1), date(1970, 1, 1)],
            "sex": ["male", "female", "female"],
            "salary_revenue": [5_000_000, 0, 9_000_000],
            "pension_revenue": [0, 0, 0],
            "business_income": [0, 0, 0],
            "claimant_no": [None, "1", None],
            "lives_with_claimant": [False, True, False],
        }
    )
    trace = {t.name: t for t in explain_person(population, fiscal_year=2026, parameters=PARAMS, person_no="1")}
    whole = assess(population, fiscal_year=2026, parameters=PARAMS).filter(pl.col("person_no") == "1")
    assert trace["annual_tax"].value == whole["annual_tax"].item(), "the trace is the assessment's own computation"
    assert trace["salary_income"].value == 3_560_000
    assert trace["young_dependants"].value == 1
    assert trace["basic_deduction"].parameters["resident_tax.basic_deduction.amount"] == 430_000
    assert trace["basic_deduction"].value == 430_000
    assert "地方税法" in trace["taxable_income"].reference
    assert trace["salary_revenue"].label == "入力"
    with pytest.raises(NotFound):
        explain_person(population, fiscal_year=2026, parameters=PARAMS, person_no="404")


def test_what_if_a_higher_per_capita_exemption_limit() -> None:
    population = from_synthetic(generate("131016", 4_000, seed=3).persons, designated_city=False)
    changes = parse_overrides({"resident_tax.per_capita.exemption.per_person": "４００，０００円"})
    assert changes == {"resident_tax.per_capita.exemption.per_person": 400_000}
    result = simulate(population, fiscal_year=2026, parameters=PARAMS, changes=changes)
    by_name = {c.target: c for c in result.changes}
    status = by_name["tax_status"]
    assert status.counts_after["exempt"] > status.counts_before["exempt"], "a higher limit exempts more people"
    assert by_name["annual_tax"].total_after is not None
    assert by_name["annual_tax"].total_before is not None
    assert by_name["annual_tax"].total_after < by_name["annual_tax"].total_before
    assert result.differing.height >= status.changed > 0
    assert result.parameters_changed == {"resident_tax.per_capita.exemption.per_person": (350_000, 400_000)}
    with pytest.raises(InputError, match="半角数字"):
        parse_overrides({"resident_tax.per_capita.exemption.per_person": "たくさん"})
