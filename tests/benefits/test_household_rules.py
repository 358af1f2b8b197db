"""The household quantities of the benefit rules (世帯員数, 児童数, 非課税世帯, 均等割のみ課税世帯, …), computed as
the rules engine's household aggregates, against their definitions worked out member by member in Python, and the
explanation of one resident's household."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from typing import Any

import polars as pl

from kiban.benefits.eligibility import computation, national_parameters
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.rules import INPUTS
from kiban.core.rules.engine import explain

HOUSEHOLD = [
    "members",
    "children",
    "status_known",
    "exempt_household",
    "per_capita_only_household",
    "only_supported_members",
    "was_low_income_previously",
]
STATUSES = ["exempt", "per_capita_only", "taxable", None]


def _population(seed: int, persons: int) -> pl.DataFrame:
    """Residents in households of 1–5 (numbers in no order, so the engine cannot rely on sorted households), with
    unknown statuses and birth dates around the 18歳 boundary of 令和6年度 (born on or after 2006-04-02)."""
    rng = random.Random(seed)
    households = [f"h{rng.randrange(10**6):06d}" for _ in range(persons // 3)]
    rows = []
    for i in range(persons):
        rows.append(
            {
                "person_no": f"p{i:05d}",
                "household_no": rng.choice(households),
                "relationship": "世帯員",
                "birth_date": rng.choice([date(2006, 4, 1), date(2006, 4, 2), date(1980, 5, 5), None]),
                "tax_status": rng.choice(STATUSES),
                "tax_status_previous": rng.choice(STATUSES),
                "supported_by_taxed_relative": rng.random() < 0.3,
            }
        )
    return pl.DataFrame(rows, schema=INPUTS)


def _expected(members: list[dict[str, Any]]) -> dict[str, Any]:
    """Each household quantity from its definition, over the household's members."""
    statuses = [m["tax_status"] for m in members]
    previous = [m["tax_status_previous"] for m in members]
    known = None not in statuses
    exempt = known and all(s == "exempt" for s in statuses)
    return {
        "members": len(members),
        "children": sum(1 for m in members if m["birth_date"] is not None and m["birth_date"] >= date(2006, 4, 2)),
        "status_known": known,
        "exempt_household": exempt,
        "per_capita_only_household": known and not exempt and "taxable" not in statuses,
        "only_supported_members": all(m["supported_by_taxed_relative"] for m in members),
        "was_low_income_previously": None not in previous and "taxable" not in previous,
    }


def test_household_quantities_match_their_definitions_member_by_member() -> None:
    program = PROGRAMS["newly_exempt_2024"]
    population = _population(seed=7, persons=3_000)
    computed = computation(program, national_parameters(program)).compute(population)
    assert computed.select("person_no").to_series().to_list() == population["person_no"].to_list()
    by_household: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in population.iter_rows(named=True):
        by_household[row["household_no"]].append(row)
    expected = {h: _expected(members) for h, members in by_household.items()}
    # a mix of every case, so that the comparison says something
    assert {e["exempt_household"] for e in expected.values()} == {True, False}
    assert {e["per_capita_only_household"] for e in expected.values()} == {True, False}
    assert {e["status_known"] for e in expected.values()} == {True, False}
    assert {e["only_supported_members"] for e in expected.values()} == {True, False}
    assert {e["was_low_income_previously"] for e in expected.values()} == {True, False}
    assert max(e["children"] for e in expected.values()) >= 2
    for row in computed.select("household_no", *HOUSEHOLD).iter_rows(named=True):
        assert {k: row[k] for k in HOUSEHOLD} == expected[row["household_no"]], row["household_no"]


def test_explain_gives_a_members_household_quantities_and_what_they_were_gathered_from() -> None:
    program = PROGRAMS["low_income_2023"]
    population = pl.DataFrame(
        [
            {"person_no": "1", "household_no": "a", "birth_date": date(1975, 1, 1), "tax_status": "exempt"},
            {"person_no": "2", "household_no": "a", "birth_date": date(2005, 4, 2), "tax_status": "exempt"},
            {"person_no": "3", "household_no": "b", "birth_date": date(1970, 1, 1), "tax_status": "taxable"},
            {"person_no": "4", "household_no": "a", "birth_date": date(2005, 4, 1), "tax_status": "per_capita_only"},
        ]
    ).with_columns(
        pl.lit("世帯員").alias("relationship"),
        pl.lit(None, dtype=pl.Utf8()).alias("tax_status_previous"),
        pl.lit(value=False).alias("supported_by_taxed_relative"),
    )
    household_plan = computation(program, national_parameters(program))
    traces = {
        t.name: t for t in explain(household_plan.compute(population), household_plan, key="person_no", value="4")
    }
    assert traces["members"].value == 3
    assert traces["members"].reads == ("person_no", "household_no", "household_no")
    assert traces["children"].value == 1  # person 2 (born 2005-04-02), not person 4 (2005-04-01)
    assert traces["children"].reads[0] == "child"
    assert (traces["child"].value, traces["exempt"].value) == (False, False)
    assert (traces["exempt_household"].value, traces["per_capita_only_household"].value) == (False, True)
    assert traces["per_capita_only_household"].label == "均等割のみ課税世帯"
    assert (traces["eligible"].value, traces["base_amount"].value, traces["amount"].value) == (True, 100_000, 150_000)
    assert traces["base_amount"].parameters["benefits.low_income_2023.per_capita_only_household"] == 100_000
    names = list(traces)
    assert names.index("exempt") < names.index("exempt_household") < names.index("eligible")
