"""The rules engine on a small rule set: dependency layers, dated formulas, parameters, aggregates, explain and
what-if, and the errors a broken rule set gives."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kiban.core.money import times_rate_expr
from kiban.core.params.catalogue import ParamValue
from kiban.core.rules.engine import Aggregate, RuleError, RuleSet, Scope, explain, plan
from kiban.core.rules.whatif import compare

toy = RuleSet("toy")
calls: list[str] = []


@toy.rule("net", label="差引", reference="test")
def _net(s: Scope) -> pl.Expr:
    calls.append("net")
    return s("gross") - s("allowance")


@toy.rule("allowance", label="控除", reference="test")
def _allowance(s: Scope) -> pl.Expr:
    calls.append("allowance")
    return pl.lit(s.yen("toy.allowance")) + s("children_claimed") * 100


@toy.rule("allowance", label="控除", reference="test", since=date(2025, 4, 1))
def _allowance_2025(s: Scope) -> pl.Expr:
    return pl.lit(s.yen("toy.allowance")) + s("children_claimed") * 200


@toy.rule("tax", label="税額", reference="test")
def _tax(s: Scope) -> pl.Expr:
    calls.append("tax")
    return times_rate_expr(s("net").clip(lower_bound=0), s.rate("toy.rate"))


@toy.rule("owes", label="納税者", reference="test", dtype=pl.Boolean())
def _owes(s: Scope) -> pl.Expr:
    return s("tax") > 0


@toy.rule("is_child_row", label="子である行", reference="test")
def _is_child(s: Scope) -> pl.Expr:
    return s("parent").is_not_null().cast(pl.Int64)


toy.aggregate("children_claimed", Aggregate("is_child_row", by="parent", key="id"), label="子の数", reference="test")

PEOPLE = pl.DataFrame({"id": ["a", "b", "c", "d"], "gross": [1_000, 5_000, 0, 250], "parent": [None, None, "b", "b"]})
PARAMS: dict[str, ParamValue] = {"toy.allowance": 300, "toy.rate": Decimal("0.1")}


def test_each_quantity_is_planned_once_in_dependency_layers() -> None:
    calls.clear()
    computation = plan(toy, ["tax", "net"], on=date(2024, 4, 1), parameters=PARAMS, inputs=PEOPLE.columns)
    assert sorted(calls) == ["allowance", "net", "tax"], "every formula built once, whatever asks for it"
    names = [[s.rule.name for s in layer] for layer in computation.layers]
    assert names == [["is_child_row"], ["children_claimed"], ["allowance"], ["net"], ["tax"]]
    assert computation.inputs == {"gross", "parent", "id"}
    assert computation.parameters == PARAMS
    result = computation.compute(PEOPLE)
    # b claims two children: allowance 300 + 2 × 100; tax = 10% of (5,000 − 500), truncated to the yen
    assert result["children_claimed"].to_list() == [0, 2, 0, 0]
    assert result["tax"].to_list() == [70, 450, 0, 0]
    assert result["id"].to_list() == ["a", "b", "c", "d"], "rows keep their order"


def test_the_formula_in_force_on_the_date_is_used() -> None:
    later = plan(toy, ["allowance"], on=date(2025, 4, 1), parameters=PARAMS, inputs=PEOPLE.columns)
    assert later.compute(PEOPLE)["allowance"].to_list() == [300, 700, 300, 300]


def test_explain_gives_every_value_and_parameter_for_one_row() -> None:
    computation = plan(toy, ["owes"], on=date(2024, 4, 1), parameters=PARAMS, inputs=PEOPLE.columns)
    trace = {t.name: t for t in explain(computation.compute(PEOPLE), computation, key="id", value="b")}
    assert trace["gross"].value == 5_000
    assert (trace["allowance"].value, trace["allowance"].parameters) == (500, {"toy.allowance": 300})
    assert (trace["tax"].value, trace["tax"].reads) == (450, ("net",))
    assert trace["owes"].value is True
    with pytest.raises(RuleError, match="0 件"):
        explain(computation.compute(PEOPLE), computation, key="id", value="zz")


def test_what_if_runs_the_same_rules_under_two_parameter_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    # a what-if runs in Polars whatever the population's size: each new parameter set would be a new compiled plan
    monkeypatch.setattr("kiban.core.rules.engine.COMPILE_FROM_ROWS", 1)
    monkeypatch.setattr("kiban.core.rules.engine.compile_plan", _never_compiled)
    after: dict[str, ParamValue] = {**PARAMS, "toy.allowance": 1_000}
    result = compare(toy, PEOPLE, targets=["tax", "owes"], on=date(2024, 4, 1), before=PARAMS, after=after, key="id")
    tax, owes = result.changes
    assert (tax.changed, tax.total_before, tax.total_after) == (2, 520, 380)
    assert (owes.counts_before, owes.counts_after) == ({"false": 2, "true": 2}, {"false": 3, "true": 1})
    assert result.differing["id"].to_list() == ["a", "b"]
    assert result.differing.filter(pl.col("id") == "a")["tax_after"].item() == 0
    assert result.parameters_changed == {"toy.allowance": (300, 1_000)}


def _never_compiled(*_: object) -> None:
    raise AssertionError("a what-if is not compiled")


def test_a_broken_rule_set_says_what_is_wrong() -> None:
    broken = RuleSet("broken")

    @broken.rule("x", label="x", reference="test")
    def _x(s: Scope) -> pl.Expr:
        return s("y") + 1

    @broken.rule("y", label="y", reference="test")
    def _y(s: Scope) -> pl.Expr:
        return s("x") + 1

    @broken.rule("z", label="z", reference="test", since=date(2030, 1, 1))
    def _z(s: Scope) -> pl.Expr:
        return s("nowhere") + s.yen("missing.parameter")

    with pytest.raises(RuleError, match="循環"):
        plan(broken, ["x"], on=date(2024, 4, 1), parameters={}, inputs=[])
    with pytest.raises(RuleError, match="適用される計算式がありません"):
        plan(broken, ["z"], on=date(2024, 4, 1), parameters={}, inputs=[])
    with pytest.raises(RuleError, match=r"missing\.parameter"):
        plan(broken, ["z"], on=date(2030, 4, 1), parameters={}, inputs=["nowhere"])
    with pytest.raises(RuleError, match="規則にも入力にもありません"):
        plan(broken, ["z"], on=date(2030, 4, 1), parameters={"missing.parameter": 1}, inputs=[])
    computation = plan(toy, ["net"], on=date(2024, 4, 1), parameters=PARAMS, inputs=PEOPLE.columns)
    with pytest.raises(RuleError, match="gross"):
        computation.compute(PEOPLE.drop("gross"))
    with pytest.raises(RuleError, match="later formula must keep"):
        toy.rule("net", label="別名", reference="test", since=date(2030, 1, 1))(_net)


REDUCE: dict[str, Callable[[list[Any]], Any]] = {"sum": sum, "count": len, "max": max, "any": any, "all": all}


def _gathered(rows: pl.DataFrame, aggregate: Aggregate) -> list[Any]:
    """``aggregate`` computed the plain way, row by row: the reference the engine's integer gathering must equal."""
    result = []
    for key in rows[aggregate.key].to_list():
        values = [
            v
            for by, v in zip(rows[aggregate.by].to_list(), rows[aggregate.source].to_list(), strict=True)
            if key is not None and by == key and v is not None
        ]
        result.append(REDUCE[aggregate.agg](values) if values else aggregate.empty)
    return result


@pytest.mark.parametrize("agg", ["sum", "count", "max", "any", "all"])
@pytest.mark.parametrize("sorted_rows", [True, False])
@pytest.mark.parametrize("largest", [10**12, 10**16], ids=["sums-below-2**53", "sums-above-2**53"])
def test_aggregates_equal_the_row_by_row_definition(agg: str, sorted_rows: bool, largest: int) -> None:
    rng = random.Random(f"{agg}{sorted_rows}{largest}")
    n = 400
    groups = [rng.choice(["h1", "h2", "h3", "h4", None]) for _ in range(n)]
    rows = pl.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            # ids named twice make the gathering a true many-to-many join
            "ref": [rng.choice([f"p{rng.randrange(n)}", "p0", "nobody", None]) for _ in range(n)],
            "group": groups,
            "amount": [rng.choice([None, rng.randrange(-5_000, largest)]) for _ in range(n)],
            "flag": [rng.choice([True, False, None]) for _ in range(n)],
        }
    )
    rows = rows.sort("group", nulls_last=True) if sorted_rows else rows
    source = "flag" if agg in ("any", "all") else "amount"
    empty = -1 if agg in ("sum", "count", "max") else agg == "all"
    dtype = pl.Boolean() if agg in ("any", "all") else pl.Int64()
    rules = RuleSet("gathering")
    by_reference = Aggregate(source, by="ref", key="id", agg=agg, empty=empty)
    by_group = Aggregate(source, by="group", key="group", agg=agg, empty=empty)
    rules.aggregate("by_reference", by_reference, label="参照", reference="test", dtype=dtype)
    rules.aggregate("by_group", by_group, label="グループ", reference="test", dtype=dtype)
    computation = plan(rules, ["by_reference", "by_group"], on=date(2025, 4, 1), parameters={}, inputs=rows.columns)
    result = computation.compute(rows)
    assert result["by_reference"].to_list() == _gathered(rows, by_reference)
    assert result["by_group"].to_list() == _gathered(rows, by_group)
    assert result["id"].to_list() == rows["id"].to_list(), "rows keep their order"


def test_an_aggregate_of_an_aggregate_and_only_the_columns_kept() -> None:
    chained = toy.merged(RuleSet("chained"))
    chained.aggregate(
        "grandchildren",
        Aggregate("children_claimed", by="parent", key="id"),
        label="孫の数",
        reference="test",
    )
    people = pl.DataFrame({"id": ["a", "b", "c", "d"], "gross": [0, 0, 0, 0], "parent": [None, "a", "b", "b"]})
    computation = plan(chained, ["grandchildren", "tax"], on=date(2024, 4, 1), parameters=PARAMS, inputs=people.columns)
    everything = computation.compute(people)
    assert everything["children_claimed"].to_list() == [1, 2, 0, 0]
    assert everything["grandchildren"].to_list() == [2, 0, 0, 0]
    kept = computation.compute(people, keep=["id", "grandchildren", "tax"])
    assert kept.columns == ["id", "grandchildren", "tax"]
    assert kept.equals(everything.select("id", "grandchildren", "tax"))
    with pytest.raises(RuleError, match="unknown aggregation"):
        Aggregate("x", by="a", key="b", agg="median")


def test_a_plan_waits_for_its_aggregates_in_stages() -> None:
    computation = plan(toy, ["owes"], on=date(2024, 4, 1), parameters=PARAMS, inputs=PEOPLE.columns)
    stages = [
        ([[s.rule.name for s in layer] for layer in stage.layers], [s.rule.name for s in stage.aggregates])
        for stage in computation.stages
    ]
    assert stages == [([["is_child_row"], []], ["children_claimed"]), ([["allowance"], ["net"], ["tax"], ["owes"]], [])]
    assert [stage.start for stage in computation.stages] == [0, 2]
