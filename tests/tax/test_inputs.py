"""Assessment inputs from people in households: who claims whom by 続柄, and a synthetic town assessed whole."""

from __future__ import annotations

import polars as pl

from kiban.registry.synth import generate
from kiban.tax.assessment import assess, national_parameters
from kiban.tax.inputs import claims_by_household_head, from_synthetic


def test_the_head_claims_the_relatives_of_the_household() -> None:
    people = pl.DataFrame(
        {
            "person_no": ["1", "2", "3", "4", "5", "6"],
            "household_no": ["h", "h", "h", "h", "h", "k"],
            "relationship": ["世帯主", "妻", "子", "母", "同居人", "世帯主"],
        }
    )
    claims = claims_by_household_head(people).sort("person_no")
    assert claims["claimant_no"].to_list() == [None, "1", "1", "1", None, None]
    assert claims["spouse_of_claimant"].to_list() == [False, True, False, False, False, False]
    assert claims["parent_of_claimant"].to_list() == [False, False, False, True, False, False]
    assert claims["lives_with_claimant"].to_list() == [False, True, True, True, False, False]


def test_a_synthetic_town_is_assessed_whole() -> None:
    population = generate("131016", 3_000, seed=7)
    inputs = from_synthetic(population.persons, designated_city=False)
    result = assess(inputs, fiscal_year=2026, parameters=national_parameters(2026, kyuchi=1))
    assert result.height == population.persons.height
    statuses = set(result["tax_status"].unique())
    assert statuses <= {"exempt", "per_capita_only", "taxable"}
    assert {"exempt", "taxable"} <= statuses
    # welfare recipients are never taxed; a household is exempt exactly when every member is
    welfare = inputs.filter(pl.col("welfare_recipient"))["person_no"].to_list()
    assert (result.filter(pl.col("person_no").is_in(welfare))["annual_tax"] == 0).all()
    by_household = result.group_by("household_no").agg(
        (pl.col("tax_status") == "exempt").all().alias("all_exempt"), pl.col("household_exempt").first()
    )
    assert (by_household["all_exempt"] == by_household["household_exempt"]).all()


def test_only_women_are_widows() -> None:
    inputs = from_synthetic(generate("131016", 3_000, seed=7).persons, designated_city=False)
    widows = inputs.filter(pl.col("widow"))
    assert widows.height > 0
    assert set(widows["sex"]) == {"female"}
