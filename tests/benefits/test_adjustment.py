"""The 令和6年 定額減税補足給付金（調整給付）: per person, 所得税分 (3万円 × 人数 − 令和6年分推計所得税額) plus
個人住民税所得割分 (1万円 × 人数 − 令和6年度分所得割額), their sum rounded up to 10,000 yen
(千代田区「定額減税補足給付金（調整給付）」 https://www.city.chiyoda.lg.jp/koho/kurashi/sodanmadoguchi/teigaku-choseikyufu.html).
Worked examples of municipalities, properties of the amount, and the whole chain from a synthetic town's incomes,
vectorized."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kiban.benefits.eligibility import entitlements, national_parameters
from kiban.benefits.programs import PROGRAMS, Unit
from kiban.benefits.rules import PERSON_INPUTS, PERSON_RESULTS, RULES
from kiban.core.rules.engine import plan
from kiban.registry.synth import generate
from kiban.tax.assessment import flat_tax_cut_figures
from kiban.tax.assessment import national_parameters as tax_parameters
from kiban.tax.inputs import from_synthetic

PROGRAM = PROGRAMS["fixed_tax_cut_adjustment_2024"]
PARAMETERS = national_parameters(PROGRAM)


def figures(no: str, *, persons: int = 1, resident_persons: int | None = None, **values: Any) -> dict[str, Any]:
    return {
        "person_no": no,
        "household_no": values.pop("household_no", "h" + no),
        "total_income": values.pop("total_income", 2_000_000),
        "income_tax_cut_persons": persons,
        "flat_reduction_persons": persons if resident_persons is None else resident_persons,
        "estimated_income_tax": values.pop("estimated_income_tax", 0),
        "income_levy_before_flat_reduction": values.pop("income_levy", 0),
    }


def run(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    result = entitlements(pl.DataFrame(rows, schema=PERSON_INPUTS), PROGRAM, PARAMETERS)
    return {r["person_no"]: r for r in result.iter_rows(named=True)}


def test_the_program_is_paid_per_person_on_the_levy_date() -> None:
    assert PROGRAM.unit == Unit.PERSON
    assert (PROGRAM.base_date.isoformat(), PROGRAM.tax_fiscal_year) == ("2024-01-01", 2024)


def test_chiyoda_example_income_tax_shortfall() -> None:
    """千代田区「定額減税補足給付金（不足額給付）」の例 (LIMO https://limo.media/articles/-/93112?page=3 による):
    令和5年所得に基づく推計所得税額5万円、所得税分定額減税可能額6万円 → 当初調整給付額1万円 (6万円 − 5万円).
    Here with 本人＋配偶者 (2人 × 3万円) and a 所得割 that the 住民税分 (2人 × 1万円) fits in."""
    result = run([figures("1", persons=2, estimated_income_tax=50_000, income_levy=80_000)])
    row = result["1"]
    assert (row["income_tax_cut_possible"], row["income_tax_shortfall"], row["resident_tax_shortfall"]) == (
        60_000,
        10_000,
        0,
    )
    assert row["amount"] == 10_000


def test_a_shortfall_is_rounded_up_to_ten_thousand_yen() -> None:
    """LIMO「調整給付金の計算方法」(https://limo.media/articles/-/67064?page=2): 減税前の所得税が1万8000円の場合、
    3万円 − 1万8000円 = 1万2000円を1万円単位に切り上げて2万円."""
    row = run([figures("1", estimated_income_tax=18_000, income_levy=50_000)])["1"]
    assert (row["shortfall"], row["amount"]) == (12_000, 20_000)


def test_both_shortfalls_are_added_before_rounding() -> None:
    """千代田区の算出方法のとおり 1. と 2. の合計額を切り上げる: 本人＋配偶者＋子2人, 推計所得税額8万円 →
    12万円 − 8万円 = 4万円; 所得割 3万5千円 → 4万円 − 3万5千円 = 5千円; 合計4万5千円 → 5万円 (each rounded
    separately it would be 6万円)."""
    row = run([figures("1", persons=4, estimated_income_tax=80_000, income_levy=35_000)])["1"]
    assert (row["income_tax_shortfall"], row["resident_tax_shortfall"], row["amount"]) == (40_000, 5_000, 50_000)


def test_a_family_from_its_incomes_worked_by_hand() -> None:
    """給与収入300万円 (給与所得202万円), 社会保険料45万円, 配偶者（所得なし）, 17歳と10歳の子. 所得税: 202万円 − 45万円
    − 基礎48万円 − 配偶者38万円 − 一般扶養38万円 = 33万円 × 5% = 16,500円; 所得税分 4人 × 3万円 − 16,500円 = 103,500円.
    住民税: 202万円 − 45万円 − 43万円 − 33万円 − 33万円 = 48万円 × 10% = 48,000円 − 調整控除 (人的控除差15万円 × 5%)
    7,500円 = 40,500円 ≥ 4人 × 1万円: 住民税分は0円. 調整給付 103,500円 → 110,000円."""
    family = pl.DataFrame(
        [
            {"person_no": "1", "salary_revenue": 3_000_000, "social_insurance": 450_000, "claimant_no": None},
            {"person_no": "2", "birth_date": date(1982, 1, 1), "claimant_no": "1", "spouse_of_claimant": True},
            {"person_no": "3", "birth_date": date(2006, 6, 1), "claimant_no": "1"},
            {"person_no": "4", "birth_date": date(2013, 6, 1), "claimant_no": "1"},
        ],
        infer_schema_length=None,
    ).with_columns(
        pl.lit("f").alias("household_no"),
        pl.col("birth_date").fill_null(date(1980, 5, 1)),
        pl.lit("male").alias("sex"),
        pl.col("salary_revenue").fill_null(0),
        pl.lit(0).alias("pension_revenue"),
        pl.lit(0).alias("business_income"),
    )
    town = flat_tax_cut_figures(family, parameters=tax_parameters(2024, 1))
    result = entitlements(town, PROGRAM, PARAMETERS)
    assert result["person_no"].to_list() == ["1"]
    row = result.row(0, named=True)
    assert (row["estimated_income_tax"], row["income_levy_before_flat_reduction"]) == (16_500, 40_500)
    assert (row["income_tax_shortfall"], row["resident_tax_shortfall"], row["amount"]) == (103_500, 0, 110_000)


def test_who_is_not_paid() -> None:
    result = run(
        [
            # 合計所得金額1,805万円超: 定額減税の対象外
            figures("1", persons=5, total_income=18_050_001, estimated_income_tax=100, income_levy=100),
            # exactly at the limit: paid
            figures("2", persons=5, total_income=18_050_000, estimated_income_tax=100, income_levy=100),
            # neither tax: not a 定額減税 target (the 低所得世帯 benefits cover them)
            figures("3", persons=3),
            # the taxes cover the cuts: nothing to adjust
            figures("4", persons=2, estimated_income_tax=60_000, income_levy=20_000),
            # 所得割 only (推計所得税額 0円): the whole 所得税分 is short
            figures("5", persons=1, income_levy=9_500),
        ]
    )
    assert set(result) == {"2", "5"}
    assert result["2"]["amount"] == 200_000  # 149,900 + 49,900 = 199,800 → 200,000
    assert result["5"]["amount"] == 40_000


def test_a_person_without_figures_needs_review() -> None:
    unknown = {name: None for name in PERSON_INPUTS} | {"person_no": "9", "household_no": "h9"}
    row = run([unknown, figures("1", estimated_income_tax=10_000, income_levy=50_000)])["9"]
    assert (row["eligible"], row["needs_review"], row["amount"]) == (False, True, 0)


taxes = st.integers(min_value=0, max_value=2_000_000)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=8),
    taxes,
    st.integers(min_value=0, max_value=500_000),
    taxes,
    st.integers(min_value=0, max_value=30_000_000),
)
def test_amount_properties(persons: int, resident: int, income_tax: int, more: int, levy: int, income: int) -> None:
    """For a 定額減税 target (some 所得税 or 所得割: someone with neither is no target, ``test_who_is_not_paid``)."""
    assume(income_tax + levy > 0)
    rows = [
        figures(
            "a",
            persons=persons,
            resident_persons=resident,
            estimated_income_tax=income_tax,
            income_levy=levy,
            total_income=income,
        ),
        figures(
            "b",
            persons=persons,
            resident_persons=resident,
            estimated_income_tax=income_tax + more,
            income_levy=levy,
            total_income=income,
        ),
    ]
    result = run(rows)
    amounts = {no: result[no]["amount"] if no in result else 0 for no in ("a", "b")}
    assert amounts["b"] <= amounts["a"], "more 所得税 never raises the payment"
    assert all(a % 10_000 == 0 for a in amounts.values())
    if income > 18_050_000:
        assert amounts == {"a": 0, "b": 0}
    elif "a" in result:
        shortfall = max(0, persons * 30_000 - income_tax) + max(0, resident * 10_000 - levy)
        assert amounts["a"] == math.ceil(shortfall / 10_000) * 10_000
        assert shortfall <= amounts["a"] < shortfall + 10_000


def _reference_amount(row: dict[str, Any]) -> int:
    """The 千代田区 formula for one person, in plain Python."""
    income_tax, levy = int(row["estimated_income_tax"]), int(row["income_levy_before_flat_reduction"])
    if int(row["total_income"]) > 18_050_000 or (income_tax == 0 and levy == 0):
        return 0
    income_tax_part = max(0, 30_000 * int(row["income_tax_cut_persons"]) - income_tax)
    resident_tax_part = max(0, 10_000 * int(row["flat_reduction_persons"]) - levy)
    return math.ceil((income_tax_part + resident_tax_part) / 10_000) * 10_000


def test_a_synthetic_town_from_incomes_to_adjustments_at_once() -> None:
    """The whole chain on a generated town, each step over the whole frame: 令和6年度 tax figures of every resident,
    then the 調整給付 of every person; equal to the formula applied person by person, with no Python function inside
    the plan."""
    persons = generate("131016", 20_000, seed=7).persons
    tax_inputs = from_synthetic(persons, designated_city=False)
    town = flat_tax_cut_figures(tax_inputs, parameters=tax_parameters(2024, 1))
    assert town.height == tax_inputs.height

    result = entitlements(town, PROGRAM, PARAMETERS)
    expected = {r["person_no"]: _reference_amount(r) for r in town.iter_rows(named=True)}
    paid = {no: amount for no, amount in expected.items() if amount > 0}
    assert dict(result.select("person_no", "amount").iter_rows()) == paid
    assert len(paid) > 100, "a town has people the 定額減税 does not fully reach"
    assert result["person_no"].is_unique().all()
    assert set(result["household_no"]) <= set(town["household_no"])

    computation = plan(
        RULES[PROGRAM.code], PERSON_RESULTS, on=PROGRAM.base_date, parameters=PARAMETERS, inputs=PERSON_INPUTS
    )
    for step in computation.steps:
        assert "python_udf" not in str(step.formula), step.rule.name
