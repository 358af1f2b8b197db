"""The 所得税 of ``kiban.tax.rules.income_tax``: 令和5年分 (the 令和6年 定額減税 調整給付's estimate, from the 令和6年度
assessment inputs) and 令和7年分 (年度 2026, after the 令和7年度税制改正), checked against the 国税庁 example of the
rates and the 国税庁 tables of the 令和7年分 基礎控除 and 特定親族特別控除, amounts worked out by hand from the articles
cited in the rules, the marginal-rate definition of 所得税法第89条第1項, and properties (more income never lowers
it)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.core.params.catalogue import default_catalogue
from kiban.core.rules.engine import RuleError, plan
from kiban.tax.assessment import (
    FLAT_TAX_CUT_FIGURES,
    INPUTS,
    assessment_plan,
    flat_tax_cut_figures,
    national_parameters,
    with_defaults,
)
from kiban.tax.rules import rules

from taxpayers import person

PARAMS = national_parameters(2024, kyuchi=1)
"""令和6年度: the 所得税 estimated is that of 令和5年分."""
TARGETS = ["estimated_income_tax", "income_tax_cut_persons", "flat_reduction_persons", "income_tax_taxable_income"]


def computed(rows: list[dict[str, Any]], targets: list[str] = TARGETS) -> pl.DataFrame:
    frame = with_defaults(pl.DataFrame(rows, infer_schema_length=None))
    return assessment_plan(2024, PARAMS, targets).compute(frame)


def one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return computed(rows).filter(pl.col("person_no") == "1").row(0, named=True)


def marginal_tax(taxable: int) -> int:
    """所得税法第89条第1項 as written: each slice of 課税総所得金額 at its own rate."""
    slices = [(1_950_000, 5), (3_300_000, 10), (6_950_000, 20), (9_000_000, 23), (18_000_000, 33), (40_000_000, 40)]
    tax, lower = 0, 0
    for upper, percent in slices:
        tax += (min(taxable, upper) - lower) * percent if taxable > lower else 0
        lower = upper
    tax += (taxable - 40_000_000) * 45 if taxable > 40_000_000 else 0
    return tax // 100


def test_the_rates_reproduce_the_national_tax_agency_example() -> None:
    """国税庁 タックスアンサー No.2260「所得税の税率」: 課税される所得金額 700万円 → 700万円 × 0.23 − 63万6千円 =
    97万4千円 (https://www.nta.go.jp/taxes/shiraberu/taxanswer/shotoku/2260.htm). 事業所得 748万円 − 基礎控除 48万円."""
    row = one([person("1", business_income=7_480_000)])
    assert row["income_tax_taxable_income"] == 7_000_000
    assert row["estimated_income_tax"] == 974_000


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=60_000_000))
def test_the_quick_table_equals_the_marginal_rates_of_article_89(income: int) -> None:
    row = one([person("1", business_income=income)])
    assert row["income_tax_taxable_income"] % 1_000 == 0
    assert row["estimated_income_tax"] == marginal_tax(row["income_tax_taxable_income"])


def test_a_single_salaried_person() -> None:
    """給与収入300万円: 別表第五 A = 75万円, 75万円 × 2.8 − 8万円 = 202万円; 社会保険料45万円・基礎控除48万円を引いた
    課税総所得金額109万円 × 5% = 54,500円."""
    row = one([person("1", salary_revenue=3_000_000, social_insurance=450_000)])
    assert (row["income_tax_taxable_income"], row["estimated_income_tax"]) == (1_090_000, 54_500)
    assert (row["income_tax_cut_persons"], row["flat_reduction_persons"]) == (1, 1)


def test_a_salaried_family_counts_every_person_for_the_flat_cut() -> None:
    """給与収入500万円 (A = 125万円, × 3.2 − 44万円 = 356万円), 配偶者（所得なし）38万円, 17歳の子（一般の扶養親族）
    38万円, 10歳の子（年少: 控除なし、定額減税の人数には入る）, 社会保険料70万円, 基礎控除48万円 → 162万円 × 5% =
    81,000円; 定額減税の人数は所得税・住民税とも4人."""
    family = [
        person("1", household_no="f", salary_revenue=5_000_000, social_insurance=700_000),
        person("2", household_no="f", birth_date=date(1982, 1, 1), claimant_no="1", spouse_of_claimant=True),
        person("3", household_no="f", birth_date=date(2006, 6, 1), claimant_no="1"),
        person("4", household_no="f", birth_date=date(2013, 6, 1), claimant_no="1"),
    ]
    row = one(family)
    assert (row["income_tax_taxable_income"], row["estimated_income_tax"]) == (1_620_000, 81_000)
    assert (row["income_tax_cut_persons"], row["flat_reduction_persons"]) == (4, 4)


def test_a_high_earners_spouse_counts_for_income_tax_only() -> None:
    """合計所得金額1,000万円超の納税者の配偶者は同一生計配偶者だが控除対象配偶者でない: 所得税の定額減税には入り
    (租税特別措置法第41条の3の3第2項)、住民税の令和6年度分には入らない (地方税法附則、令和6年度分の特別税額控除);
    配偶者控除はない."""
    rows = [
        person("1", household_no="f", business_income=11_000_000),
        person("2", household_no="f", claimant_no="1", spouse_of_claimant=True),
    ]
    row = computed(rows, [*TARGETS, "income_tax_spouse_deduction"]).row(0, named=True)
    assert row["income_tax_spouse_deduction"] == 0
    assert (row["income_tax_cut_persons"], row["flat_reduction_persons"]) == (2, 1)


def test_a_pensioner_couple() -> None:
    """70歳の公的年金等収入250万円: 公的年金等控除110万円 → 140万円; 68歳の配偶者（所得なし、老人控除対象配偶者でない）
    38万円, 社会保険料15万円, 基礎控除48万円 → 39万円 × 5% = 19,500円."""
    rows = [
        person("1", household_no="p", birth_date=date(1953, 5, 1), pension_revenue=2_500_000, social_insurance=150_000),
        person("2", household_no="p", birth_date=date(1955, 5, 1), claimant_no="1", spouse_of_claimant=True),
    ]
    row = one(rows)
    assert (row["income_tax_taxable_income"], row["estimated_income_tax"]) == (390_000, 19_500)


def test_the_income_tax_amounts_of_personal_deductions() -> None:
    """本人が特別障害者 40万円, 同居の特別障害者である扶養親族 75万円 + 一般の扶養親族 38万円, 基礎控除 48万円:
    事業所得300万円 − 201万円 = 99万円 × 5% = 49,500円 (所得税法第79条・第84条・第86条)."""
    rows = [
        person("1", household_no="d", business_income=3_000_000, disability="special"),
        person(
            "2",
            household_no="d",
            birth_date=date(1990, 1, 1),
            claimant_no="1",
            lives_with_claimant=True,
            disability="special",
        ),
    ]
    row = one(rows)
    assert (row["income_tax_taxable_income"], row["estimated_income_tax"]) == (990_000, 49_500)


@pytest.mark.parametrize(
    ("values", "taxable", "tax"),
    [
        # 生命保険料控除は所得税では12万円まで、地震保険料控除は5万円まで (所得税法第76条・第77条)
        ({"life_insurance_deduction": 150_000, "earthquake_insurance_deduction": 60_000}, 2_350_000, 137_500),
        # ひとり親控除35万円 (第81条)
        ({"single_parent": True}, 2_170_000, 119_500),
        # 基礎控除: 合計所得金額2,400万円超2,450万円以下は32万円 (第86条)
        ({"business_income": 24_200_000}, 23_880_000, 6_756_000),
    ],
)
def test_declared_and_status_deductions(values: dict[str, Any], taxable: int, tax: int) -> None:
    row = one([person("1", **{"business_income": 3_000_000, **values})])
    assert (row["income_tax_taxable_income"], row["estimated_income_tax"]) == (taxable, tax)


def test_dividend_credit_and_housing_loan_credit() -> None:
    """配当控除 (所得税法第92条第1項): 事業所得300万円＋配当所得100万円, 課税総所得金額352万円 × 20% − 427,500 =
    276,500円から配当所得の10% 10万円 → 176,500円. 課税総所得金額1,152万円では1,000万円超の部分152万円が5%:
    2,265,600 − (48万円 × 10% + 152万円 × 5%) = 2,141,600円. 住宅借入金等特別控除 (租税特別措置法第41条) は所得税額
    まで."""
    rows = [
        person("1", business_income=3_000_000, dividend_income=1_000_000),
        person("2", business_income=10_000_000, dividend_income=2_000_000),
        person("3", salary_revenue=4_000_000, social_insurance=600_000, housing_loan_credit_available=200_000),
        person("4", salary_revenue=4_000_000, social_insurance=600_000, housing_loan_credit_available=30_000),
    ]
    taxes = dict(computed(rows).select("person_no", "estimated_income_tax").iter_rows())
    # 給与収入400万円: A = 100万円 × 3.2 − 44万円 = 276万円; − 60万円 − 48万円 = 168万円 × 5% = 84,000円
    assert taxes == {"1": 176_500, "2": 2_141_600, "3": 0, "4": 54_000}


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=30_000_000),
    st.integers(min_value=0, max_value=5_000_000),
    st.integers(min_value=0, max_value=4_000_000),
    st.integers(min_value=0, max_value=3),
)
def test_more_salary_never_lowers_the_estimate(salary: int, more: int, pension: int, children: int) -> None:
    def household(no: str, revenue: int) -> list[dict[str, Any]]:
        head = person(no, household_no=no, salary_revenue=revenue, pension_revenue=pension)
        kids = [
            person(f"{no}c{i}", household_no=no, birth_date=date(2008 + i, 1, 1), claimant_no=no)
            for i in range(children)
        ]
        return [head, *kids]

    taxes = dict(
        computed(household("a", salary) + household("b", salary + more))
        .select("person_no", "estimated_income_tax")
        .iter_rows()
    )
    assert taxes["b"] >= taxes["a"]


def test_the_figures_the_adjustment_reads() -> None:
    rows = [person("1", salary_revenue=3_000_000, social_insurance=450_000)]
    figures = flat_tax_cut_figures(pl.DataFrame(rows), parameters=PARAMS)
    assert figures.columns == ["person_no", "household_no", *FLAT_TAX_CUT_FIGURES]
    # 住民税: 202万円 − 45万円 − 43万円 = 114万円 × 10% = 114,000円, 調整控除 5万円 × 5% = 2,500円 → 111,500円
    assert figures.row(0, named=True) == {
        "person_no": "1",
        "household_no": "h1",
        "total_income": 2_020_000,
        "income_tax_cut_persons": 1,
        "estimated_income_tax": 54_500,
        "flat_reduction_persons": 1,
        "income_levy_before_flat_reduction": 111_500,
    }


# --- 令和7年分 (年度 2026) ----------------------------------------------------------------------------------------

PARAMS_2026 = national_parameters(2026, kyuchi=1)


def computed_2026(rows: list[dict[str, Any]], targets: list[str]) -> pl.DataFrame:
    frame = with_defaults(pl.DataFrame(rows, infer_schema_length=None))
    return assessment_plan(2026, PARAMS_2026, targets).compute(frame)


def one_2026(rows: list[dict[str, Any]], targets: list[str]) -> dict[str, Any]:
    return computed_2026(rows, targets).filter(pl.col("person_no") == "1").row(0, named=True)


@pytest.mark.parametrize(
    ("income", "deduction"),
    [
        # 国税庁 タックスアンサー No.1199「基礎控除」(https://www.nta.go.jp/taxes/shiraberu/taxanswer/shotoku/1199.htm),
        # 令和7年分・令和8年分: 合計所得金額 132万円以下 95万円, 336万円以下 88万円, 489万円以下 68万円,
        # 655万円以下 63万円, 2,350万円以下 58万円, 2,400万円以下 48万円, 2,450万円以下 32万円, 2,500万円以下 16万円
        (1_320_000, 950_000),
        (1_320_001, 880_000),
        (3_360_000, 880_000),
        (3_360_001, 680_000),
        (4_890_000, 680_000),
        (4_890_001, 630_000),
        (6_550_000, 630_000),
        (6_550_001, 580_000),
        (23_500_000, 580_000),
        (23_500_001, 480_000),
        (24_000_001, 320_000),
        (24_500_001, 160_000),
        (25_000_001, 0),
    ],
)
def test_the_2025_basic_deduction_by_total_income(income: int, deduction: int) -> None:
    row = one_2026([person("1", business_income=income)], ["income_tax_basic_deduction"])
    assert row["income_tax_basic_deduction"] == deduction


@pytest.mark.parametrize(
    ("salary", "taxable", "tax"),
    [
        # 国税庁「令和7年度税制改正による所得税の基礎控除の見直し等について」
        # (https://www.nta.go.jp/users/gensen/2025kiso/index.htm): 給与収入160万円までは所得税がかからない
        # (給与所得控除65万円 + 基礎控除95万円), and the 基礎控除 steps fall at 給与収入 200万円・475万円・665万円・
        # 850万円. Taxes by 所得税法第89条第1項 (国税庁 No.2260 速算表), no other deduction.
        (1_600_000, 0, 0),  # 95万円 − 95万円
        (2_000_000, 370_000, 18_500),  # 132万円 − 95万円
        (4_750_000, 2_478_000, 150_300),  # A = 1,187,000 × 3.2 − 44万円 = 3,358,400 − 88万円; × 10% − 97,500
        (6_650_000, 4_205_000, 413_500),  # × 90% − 110万円 = 4,885,000 − 68万円; × 20% − 427,500
        (8_500_000, 5_920_000, 756_500),  # − 195万円 = 6,550,000 − 63万円; × 20% − 427,500
        (10_000_000, 7_470_000, 1_082_100),  # 8,050,000 − 58万円; × 23% − 636,000
    ],
)
def test_the_2025_income_tax_of_salaries(salary: int, taxable: int, tax: int) -> None:
    row = one_2026([person("1", salary_revenue=salary)], ["income_tax_taxable_income", "estimated_income_tax"])
    assert (row["income_tax_taxable_income"], row["estimated_income_tax"]) == (taxable, tax)


@pytest.mark.parametrize(
    ("child_salary", "income_tax", "resident_tax"),
    [
        # 国税庁 No.1177「特定親族特別控除」(https://www.nta.go.jp/taxes/shiraberu/taxanswer/shotoku/1177.htm):
        # 特定親族の合計所得金額 58万円超85万円以下 63万円, 90万円以下 61万円, 95万円以下 51万円, 100万円以下 41万円,
        # … 123万円以下 3万円; 住民税は 95万円以下 45万円 (平群町, kiban.tax.rules.dependants)
        (1_230_000, 0, 0),  # 給与所得58万円: 特定扶養親族 (扶養控除 63万円), not this deduction
        (1_500_000, 630_000, 450_000),  # 85万円
        (1_550_000, 610_000, 450_000),  # 90万円
        (1_600_000, 510_000, 450_000),  # 95万円
        (1_650_000, 410_000, 410_000),  # 100万円
        (1_880_000, 30_000, 30_000),  # 123万円
        (1_890_000, 0, 0),  # 124万円
    ],
)
def test_the_2025_specific_relative_deduction(child_salary: int, income_tax: int, resident_tax: int) -> None:
    rows = [
        person("1", household_no="s", salary_revenue=6_000_000),
        person("2", household_no="s", birth_date=date(2005, 6, 1), salary_revenue=child_salary, claimant_no="1"),
    ]
    row = one_2026(rows, ["income_tax_specific_relative_deduction", "specific_relative_deduction"])
    assert (row["income_tax_specific_relative_deduction"], row["specific_relative_deduction"]) == (
        income_tax,
        resident_tax,
    )


@pytest.mark.parametrize(
    ("spouse_salary", "child_salary", "spouse", "dependants"),
    [
        # 令和7年分: 同一生計配偶者・扶養親族は合計所得金額58万円以下 (給与収入123万円以下)
        (1_230_000, 1_230_000, 380_000, 380_000),
        # 58万円超: 配偶者特別控除 38万円 (95万円以下), 17歳の子は扶養親族でない
        (1_240_000, 1_240_000, 380_000, 0),
    ],
)
def test_the_2025_income_limit_of_spouses_and_dependants(
    spouse_salary: int, child_salary: int, spouse: int, dependants: int
) -> None:
    rows = [
        person("1", household_no="f", salary_revenue=6_000_000),
        person("2", household_no="f", salary_revenue=spouse_salary, claimant_no="1", spouse_of_claimant=True),
        person("3", household_no="f", birth_date=date(2008, 6, 1), salary_revenue=child_salary, claimant_no="1"),
    ]
    targets = ["income_tax_spouse_deduction", "income_tax_spouse_special_deduction", "income_tax_dependant_deduction"]
    row = one_2026(rows, targets)
    assert row["income_tax_spouse_deduction"] + row["income_tax_spouse_special_deduction"] == spouse
    assert (row["income_tax_spouse_deduction"] > 0) == (spouse_salary <= 1_230_000)
    assert row["income_tax_dependant_deduction"] == dependants


@pytest.mark.parametrize(("salary", "deduction"), [(1_500_000, 270_000), (1_510_000, 0)])
def test_the_2025_working_student_limit(salary: int, deduction: int) -> None:
    """勤労学生控除 27万円: 令和7年分から合計所得金額85万円以下 (給与収入150万円以下)."""
    row = one_2026([person("1", salary_revenue=salary, working_student=True)], ["income_tax_status_deductions"])
    assert row["income_tax_status_deductions"] == deduction


def test_no_income_tax_for_income_years_whose_rules_are_not_declared() -> None:
    """令和8年分 (年度 2027) is not declared: the 所得税 parameters end with 年度 2026, so planning it is refused."""
    on = date(2027, 4, 1)
    with pytest.raises(RuleError, match=r"income_tax\.basic_deduction"):
        plan(
            rules,
            ["income_tax_taxable_income"],
            on=on,
            parameters=default_catalogue().national_values(on, 1),
            inputs=INPUTS,
        )
