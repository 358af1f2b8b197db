"""Eligibility and amounts of the shipped programs over residents on the base date, with amounts worked out from
each program's 要綱 (cited in kiban/benefits)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from kiban.benefits.eligibility import entitlements, national_parameters
from kiban.benefits.programs import PROGRAMS
from kiban.core.params.catalogue import ParamValue
from kiban.registry.synth import generate
from kiban.tax.assessment import assess
from kiban.tax.assessment import national_parameters as tax_parameters
from kiban.tax.inputs import from_synthetic


def resident(no: str, household: str, relationship: str, birth: date, **values: Any) -> dict[str, Any]:
    return {"person_no": no, "household_no": household, "relationship": relationship, "birth_date": birth, **values}


TOWN = [
    # a: 住民税非課税世帯 with two children, one born 2005-04-02 (18歳以下) and one 2005-04-01 (not)
    resident("1", "a", "世帯主", date(1975, 1, 1), tax_status="exempt"),
    resident("2", "a", "子", date(2005, 4, 2), tax_status="exempt"),
    resident("3", "a", "子", date(2005, 4, 1), tax_status="exempt"),
    # b: 均等割のみ課税世帯 (one per_capita_only, one exempt)
    resident("4", "b", "世帯主", date(1960, 1, 1), tax_status="per_capita_only"),
    resident("5", "b", "妻", date(1962, 1, 1), tax_status="exempt"),
    # c: a taxable member: not entitled
    resident("6", "c", "世帯主", date(1980, 1, 1), tax_status="taxable"),
    resident("7", "c", "子", date(2015, 1, 1), tax_status="exempt"),
    # d: moved in after 1 January, status unknown: held for review, nothing paid
    resident("8", "d", "世帯主", date(1990, 1, 1), tax_status=None),
    # e: a student supported by a taxed parent elsewhere: excluded
    resident("9", "e", "世帯主", date(2003, 1, 1), tax_status="exempt", supported_by_taxed_relative=True),
]


def _rows(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["household_no"]: r for r in frame.iter_rows(named=True)}


def test_low_income_2023() -> None:
    program = PROGRAMS["low_income_2023"]
    result = _rows(entitlements(pl.DataFrame(TOWN), program, national_parameters(program)))
    assert set(result) == {"a", "b", "d"}
    a, b, d = result["a"], result["b"], result["d"]
    assert (a["recipient_no"], a["members"], a["children"]) == ("1", 3, 1)
    assert (a["base_amount"], a["child_addition"], a["amount"]) == (70_000, 50_000, 120_000)
    assert (b["base_amount"], b["amount"]) == (100_000, 100_000)
    assert (d["eligible"], d["needs_review"], d["amount"]) == (False, True, 0)


def test_a_municipal_top_up_is_added_only_to_entitled_households() -> None:
    program = PROGRAMS["low_income_2023"]
    parameters: dict[str, ParamValue] = {**national_parameters(program), "benefits.low_income_2023.top_up": 20_000}
    result = _rows(entitlements(pl.DataFrame(TOWN), program, parameters))
    assert (result["a"]["amount"], result["b"]["amount"], result["d"]["amount"]) == (140_000, 120_000, 0)


def test_newly_exempt_2024_excludes_households_already_low_income() -> None:
    program = PROGRAMS["newly_exempt_2024"]
    town = [
        resident("1", "a", "世帯主", date(1975, 1, 1), tax_status="exempt", tax_status_previous="taxable"),
        resident("2", "a", "子", date(2006, 4, 2), tax_status="exempt", tax_status_previous="exempt"),
        resident("3", "b", "世帯主", date(1950, 1, 1), tax_status="exempt", tax_status_previous="exempt"),
        resident("4", "c", "世帯主", date(1950, 1, 1), tax_status="per_capita_only", tax_status_previous=None),
    ]
    result = _rows(entitlements(pl.DataFrame(town), program, national_parameters(program)))
    assert result["a"]["amount"] == 100_000 + 50_000
    assert "b" not in result, "already a 令和5年度 low-income household"
    assert result["c"]["amount"] == 100_000, "no 令和5年度 status here: not known to have been paid"


def test_special_cash_2020_pays_every_registered_person() -> None:
    program = PROGRAMS["special_cash_2020"]
    result = _rows(entitlements(pl.DataFrame(TOWN), program, national_parameters(program)))
    assert sum(r["amount"] for r in result.values()) == 100_000 * len(TOWN)
    assert result["a"]["amount"] == 300_000


def test_a_synthetic_town_from_registry_to_entitlements() -> None:
    """The whole chain on a generated town: tax results of 令和5年度, then the 令和5年度 benefit."""
    persons = generate("131016", 5_000, seed=11).persons
    taxes = assess(from_synthetic(persons, designated_city=False), fiscal_year=2023, parameters=tax_parameters(2023, 1))
    residents = persons.select("person_no", "household_no", "relationship", "birth_date").join(
        taxes.select("person_no", "tax_status"), on="person_no"
    )
    program = PROGRAMS["low_income_2023"]
    result = entitlements(residents, program, national_parameters(program))
    exempt_households = taxes.filter(pl.col("household_exempt"))["household_no"].unique().sort().to_list()
    paid_70k = result.filter(pl.col("base_amount") == 70_000)["household_no"].sort().to_list()
    assert paid_70k == exempt_households
    assert (result["amount"] == result["base_amount"] + result["child_addition"]).all()
    assert result["household_no"].is_unique().all()


def test_the_recipient_is_the_head_else_the_lowest_resident_number() -> None:
    """受給権者 is the 世帯主 wherever the row stands; with no 世帯主 recorded (or, by a register error, two) the lowest
    宛名番号 of them; one row per household, ordered by 世帯番号."""
    program = PROGRAMS["special_cash_2020"]
    town = [
        resident("30", "z", "子", date(2010, 1, 1)),
        resident("40", "z", "世帯主", date(1980, 1, 1)),
        resident("12", "y", "妻", date(1980, 1, 1)),
        resident("11", "y", "子", date(2010, 1, 1)),
        resident("22", "x", "世帯主", date(1980, 1, 1)),
        resident("21", "x", "世帯主", date(1981, 1, 1)),
    ]
    frame = entitlements(
        pl.DataFrame(town).sample(fraction=1.0, shuffle=True, seed=7), program, national_parameters(program)
    )
    assert frame.select("household_no", "recipient_no", "members").rows() == [
        ("x", "21", 2),
        ("y", "11", 2),
        ("z", "40", 2),
    ]
