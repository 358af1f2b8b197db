"""個人住民税 rules, fiscal years 2024–2026, checked against amounts worked out by hand from the law (each step's
article is cited in the rule it tests) and the official 別表第五 table values, and against properties that must hold
for everyone (more income never lowers the tax; non-taxation exact at its limit)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.core.params.catalogue import ParamValue
from kiban.tax.assessment import assess, national_parameters
from kiban.tax.inputs import claims_by_household_head

from taxpayers import person

PARAMS = {fy: national_parameters(fy, kyuchi=1) for fy in (2023, 2024, 2025, 2026)}


def run(rows: list[dict[str, Any]], fy: int, overrides: Mapping[str, ParamValue] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return assess(frame, fiscal_year=fy, parameters={**PARAMS[fy], **(overrides or {})}, keep_all=True)


def one(rows: list[dict[str, Any]], fy: int, overrides: Mapping[str, ParamValue] | None = None) -> dict[str, Any]:
    return run(rows, fy, overrides).filter(pl.col("person_no") == "1").row(0, named=True)


@pytest.mark.parametrize(
    ("fy", "revenue", "income"),
    [
        # 所得税法別表第五 (令和2年分〜令和6年分): rows as published
        (2024, 550_999, 0),
        (2024, 551_000, 1_000),
        (2024, 1_618_999, 1_068_999),
        (2024, 1_619_000, 1_069_000),
        (2024, 1_621_999, 1_070_000),
        (2024, 1_627_999, 1_074_000),
        (2024, 1_628_000, 1_076_800),  # A = 407,000; A × 2.4 + 100,000
        (2024, 1_631_999, 1_076_800),  # the same 4,000-yen row
        (2024, 3_600_000, 2_440_000),  # A × 3.2 − 440,000
        (2024, 6_599_999, 4_836_800),  # A = 1,649,000
        (2024, 6_600_000, 4_840_000),  # 収入 × 90% − 1,100,000
        (2024, 8_500_000, 6_550_000),
        (2024, 10_000_000, 8_050_000),  # 給与所得控除 195万円 上限
        # 令和7年分から (令和8年度): 最低65万円
        (2026, 650_999, 0),
        (2026, 651_000, 1_000),
        (2026, 1_899_999, 1_249_999),
        (2026, 1_900_000, 1_250_000),  # A = 475,000; A × 2.8 − 80,000
        (2026, 5_000_000, 3_560_000),
    ],
)
def test_salary_income_follows_the_official_table(fy: int, revenue: int, income: int) -> None:
    assert one([person("1", salary_revenue=revenue)], fy)["salary_income"] == income


@pytest.mark.parametrize(
    ("birth", "revenue", "income"),
    [
        (date(1958, 12, 31), 3_300_000, 2_200_000),  # 65 on 2023-12-31: 控除 110万円
        (date(1958, 12, 31), 4_000_000, 2_725_000),  # 25% + 275,000 = 1,275,000
        (date(1959, 1, 2), 1_300_000, 700_000),  # 64 on 2023-12-31: 控除 60万円
        (date(1959, 1, 1), 1_300_000, 200_000),  # reaches 65 on 2023-12-31 (the day before the birthday)
    ],
)
def test_public_pension_income_by_age_on_31_december(birth: date, revenue: int, income: int) -> None:
    assert one([person("1", birth_date=birth, pension_revenue=revenue)], 2024)["pension_income"] == income


def family(salary: int, spouse_salary: int, child_birth: date) -> list[dict[str, Any]]:
    return [
        person("1", household_no="h", salary_revenue=salary, social_insurance=700_000),
        person("2", household_no="h", sex="female", salary_revenue=spouse_salary, birth_date=date(1982, 3, 3))
        | {"claimant_no": "1", "spouse_of_claimant": True, "lives_with_claimant": True},
        person("3", household_no="h", sex="female", birth_date=child_birth)
        | {"claimant_no": "1", "lives_with_claimant": True},
    ]


def test_a_salaried_couple_with_a_child_fy2024() -> None:
    # 給与収入 500万円 → 給与所得 356万円 (別表第五: A = 1,250,000 × 3.2 − 440,000). 所得控除: 社会保険料 70万 +
    # 基礎 43万 + 配偶者 33万 (配偶者の給与所得 45万 ≤ 48万) + 扶養 0 (子は13歳: 年少) = 146万.
    # 課税総所得金額 210万. 調整控除: 人的控除差 10万 (基礎5万 + 配偶者5万), 課税所得 200万超 →
    # max(10万 − 10万, 5万) = 5万 → 市 1,500, 県 1,000. 所得割 市 126,000 − 1,500 = 124,500, 県 84,000 − 1,000 = 83,000.
    # 定額減税 3人 × 1万: 市 18,000, 県 12,000 → 市 106,500, 県 71,000. 均等割 3,000 + 1,000, 森林環境税 1,000.
    r = one(family(5_000_000, 1_000_000, date(2010, 1, 1)), 2024)
    assert (r["total_income"], r["total_deductions"], r["taxable_income"]) == (3_560_000, 1_460_000, 2_100_000)
    assert (r["adjustment_credit_municipal"], r["adjustment_credit_prefectural"]) == (1_500, 1_000)
    assert (r["flat_reduction_municipal"], r["flat_reduction_prefectural"]) == (18_000, 12_000)
    assert (r["income_levy_municipal"], r["income_levy_prefectural"]) == (106_500, 71_000)
    assert (r["per_capita_municipal"], r["per_capita_prefectural"], r["forest_environment_tax"]) == (
        3_000,
        1_000,
        1_000,
    )
    assert (r["annual_tax"], r["tax_status"]) == (182_500, "taxable")


def test_fy2023_has_the_reconstruction_surcharge_and_no_forest_tax() -> None:
    # 令和5年度: 均等割 3,500 + 1,500 (臨時特例 500 + 500), no 森林環境税, no 定額減税: 212,500 − 5,000 + 5,000.
    r = one(family(5_000_000, 1_000_000, date(2010, 1, 1)), 2023)
    assert (r["per_capita_municipal"], r["per_capita_prefectural"], r["forest_environment_tax"]) == (3_500, 1_500, 0)
    assert r["annual_tax"] == 124_500 + 83_000 + 5_000


def test_the_same_family_in_fy2025_and_fy2026() -> None:
    # 令和7年度: no 定額減税 → 124,500 + 83,000 + 5,000 = 212,500.
    assert one(family(5_000_000, 1_000_000, date(2010, 1, 1)), 2025)["annual_tax"] == 212_500
    # 令和8年度: the child is 16 on 2025-12-31 (born 1 January: the age is reached the day before) → 一般扶養 33万.
    # 課税所得 1,770,000; 人的控除差 15万 ≤ 課税所得 → 調整控除 市 4,500 / 県 3,000.
    # 市 106,200 − 4,500 = 101,700; 県 70,800 − 3,000 = 67,800; + 5,000 = 174,500.
    r = one(family(5_000_000, 1_000_000, date(2010, 1, 1)), 2026)
    assert (r["taxable_income"], r["annual_tax"]) == (1_770_000, 174_500)
    # 配偶者の給与収入 123万円: 令和8年度 給与所得 58万円 (最低65万円控除) ≤ 58万円 → 配偶者控除 33万円;
    # 1円多いと配偶者特別控除 (33万円); 令和7年度は給与所得 68万円 > 48万円 → 配偶者特別控除.
    spouse = one(family(5_000_000, 1_230_000, date(2010, 1, 1)), 2026)
    assert (spouse["spouse_deduction"], spouse["spouse_special_deduction"]) == (330_000, 0)
    over = one(family(5_000_000, 1_230_001, date(2010, 1, 1)), 2026)
    assert (over["spouse_deduction"], over["spouse_special_deduction"]) == (0, 330_000)
    before_reform = one(family(5_000_000, 1_230_000, date(2010, 1, 1)), 2025)
    assert (before_reform["spouse_deduction"], before_reform["spouse_special_deduction"]) == (0, 330_000)


@pytest.mark.parametrize(("fy", "revenue"), [(2024, 1_000_000), (2026, 1_100_000)])
def test_single_person_non_taxation_is_exact_at_the_limit(fy: int, revenue: int) -> None:
    # 1級地, 単身: 35万円 × 1 + 10万円 = 45万円 (均等割・所得割とも).
    # 給与所得 45万円 exactly → 非課税; 1 yen more → 均等割 課税, and the 所得割 is reduced to (1円 × 率) = 0
    # (附則第3条の3第2項・第5項: tests/tax/test_income_levy_reduction.py) → 均等割のみ課税.
    at = one([person("1", salary_revenue=revenue)], fy)
    over = one([person("1", salary_revenue=revenue + 1)], fy)
    assert (at["total_income"], at["tax_status"], at["annual_tax"]) == (450_000, "exempt", 0)
    assert over["total_income"] == 450_001
    assert (over["tax_status"], over["income_levy_municipal"]) == ("per_capita_only", 0)
    assert over["per_capita_municipal"] == 3_000


def test_per_capita_only_between_the_two_limits() -> None:
    # One dependant, 1級地: 均等割 limit 35万 × 2 + 10万 + 21万 = 101万; 所得割 limit 35万 × 2 + 10万 + 32万 = 112万.
    rows = [
        person("1", household_no="h", business_income=1_050_000, single_parent=False),
        person("2", household_no="h", birth_date=date(2015, 6, 1)) | {"claimant_no": "1", "lives_with_claimant": True},
    ]
    r = one(rows, 2025)
    assert (r["per_capita_exemption_limit"], r["income_levy_exemption_limit"]) == (1_010_000, 1_120_000)
    assert (r["tax_status"], r["income_levy_municipal"], r["per_capita_municipal"]) == ("per_capita_only", 0, 3_000)
    result = run(rows, 2025)
    assert result["household_per_capita_only"].to_list() == [True, True]
    assert result["household_exempt"].to_list() == [False, False]
    # 3級地 municipality: its own (national default) limit is 28万 × 2 + 10万 + 16.8万 = 82.8万
    third = one(rows, 2025, national_parameters(2025, kyuchi=3))
    assert third["per_capita_exemption_limit"] == 828_000


def test_special_persons_and_welfare_are_not_taxed() -> None:
    limit = 1_350_000
    disabled = one([person("1", business_income=limit, disability="ordinary")], 2025)
    over = one([person("1", business_income=limit + 1, disability="ordinary")], 2025)
    minor = one([person("1", business_income=limit, birth_date=date(2007, 1, 3))], 2025)  # 17 on 2025-01-01
    adult = one([person("1", business_income=limit, birth_date=date(2007, 1, 2))], 2025)  # 18 on 2025-01-01
    welfare = one([person("1", salary_revenue=3_000_000, welfare_recipient=True)], 2025)
    assert [r["tax_status"] for r in (disabled, over, minor, adult, welfare)] == [
        "exempt",
        "taxable",
        "exempt",
        "taxable",
        "exempt",
    ]


def test_designated_city_rates_and_a_municipal_per_capita_rate() -> None:
    rows = [person("1", salary_revenue=5_000_000, designated_city=True)]
    r = one(rows, 2025)
    # 課税所得 356万 − 43万 = 313万; 市 8% 250,400 − 調整控除 4% × 5万 = 2,000 → 248,400; 県 2% 62,600 − 500 = 62,100
    assert (r["income_levy_municipal"], r["income_levy_prefectural"]) == (248_400, 62_100)
    yokohama = one(rows, 2025, {"resident_tax.per_capita.municipal": 3_900})  # 横浜みどり税 900円
    assert yokohama["per_capita_municipal"] == 3_900


def test_households_flags() -> None:
    rows = [
        person("1", household_no="a", pension_revenue=1_500_000, birth_date=date(1950, 1, 10)),
        person("2", household_no="a", pension_revenue=600_000, birth_date=date(1952, 1, 10)),
        person("3", household_no="b", salary_revenue=4_000_000),
        person("4", household_no="b"),
    ]
    result = run(rows, 2025).sort("person_no")
    assert result["household_exempt"].to_list() == [True, True, False, False]
    assert result["tax_status"].to_list() == ["exempt", "exempt", "taxable", "exempt"]


incomes = st.integers(min_value=0, max_value=30_000_000)


@settings(max_examples=60, deadline=None)
@given(
    fy=st.sampled_from([2024, 2025, 2026]),
    salary=incomes,
    pension=st.integers(min_value=0, max_value=5_000_000),
    spouse_salary=st.integers(min_value=0, max_value=2_000_000),
    children=st.integers(min_value=0, max_value=3),
    raise_by=st.integers(min_value=1, max_value=2_000_000),
)
def test_more_income_never_lowers_the_tax(
    fy: int, salary: int, pension: int, spouse_salary: int, children: int, raise_by: int
) -> None:
    def household(pay: int) -> list[dict[str, Any]]:
        rows = [person("1", household_no="h", salary_revenue=pay, pension_revenue=pension)]
        rows.append(
            person("2", household_no="h", salary_revenue=spouse_salary)
            | {"claimant_no": "1", "spouse_of_claimant": True, "lives_with_claimant": True}
        )
        for i in range(children):
            rows.append(
                person(f"c{i}", household_no="h", birth_date=date(2005 + 5 * i, 7, 1))
                | {"claimant_no": "1", "lives_with_claimant": True}
            )
        return rows

    before, after = one(household(salary), fy), one(household(salary + raise_by), fy)
    assert after["annual_tax"] >= before["annual_tax"]
    for r in (before, after):
        for name in ("income_levy_municipal", "income_levy_prefectural", "taxable_income", "annual_tax"):
            assert r[name] >= 0, name
        assert r["income_levy_municipal"] % 100 == 0
        assert r["income_levy_prefectural"] % 100 == 0


def test_salary_tax_is_monotone_over_a_whole_range() -> None:
    """Every salary from 0 to 12 million yen in 1,000-yen steps, one vectorized run per year."""
    salaries = list(range(0, 12_000_001, 1_000))
    rows = [person(str(i), salary_revenue=s) for i, s in enumerate(salaries)]
    for fy in (2024, 2025, 2026):
        result = run(rows, fy)
        taxes = result.sort("salary_revenue")["annual_tax"]
        assert (taxes.diff().drop_nulls() >= 0).all(), fy


def test_the_spouses_parent_living_with_the_taxpayer_is_a_cohabiting_elderly_parent() -> None:
    # 同居老親等 is a 直系尊属 of the taxpayer or of the spouse: 扶養控除 45万円, not 38万円.
    people = pl.DataFrame(
        {
            "person_no": ["1", "2"],
            "household_no": ["h", "h"],
            "relationship": ["世帯主", "夫の父"],
            "birth_date": [date(1980, 5, 1), date(1945, 5, 1)],
            "sex": ["female", "male"],
        }
    )
    claims = claims_by_household_head(people).with_columns(
        pl.Series("salary_revenue", [5_000_000, 0]),
        pl.lit(0).alias("pension_revenue"),
        pl.lit(0).alias("business_income"),
    )
    r = assess(claims, fiscal_year=2025, parameters=PARAMS[2025], keep_all=True).row(0, named=True)
    assert (r["elderly_parent_dependants"], r["dependant_deduction"]) == (1, 450_000)
    # 課税所得 356万 − 43万 − 45万 = 268万; 市 160,800 − 1,500, 県 107,200 − 1,000 (人的控除差 5万 + 13万 = 18万)
    assert (r["income_levy_municipal"], r["income_levy_prefectural"]) == (159_300, 106_200)


def test_both_parents_of_a_child_have_the_income_adjustment() -> None:
    # 所得金額調整控除 (措置法第41条の3の3第1項): (1,000万円上限の給与収入 − 850万円) × 10%, for each parent who has the
    # child as 扶養親族, whoever claims its 扶養控除.
    rows = [
        person("1", household_no="h", salary_revenue=9_000_000),
        person("2", household_no="h", sex="female", salary_revenue=9_000_000)
        | {"claimant_no": "1", "spouse_of_claimant": True, "lives_with_claimant": True},
        person("3", household_no="h", birth_date=date(2014, 5, 1)) | {"claimant_no": "1", "lives_with_claimant": True},
    ]
    result = run(rows, 2025).sort("person_no")
    assert result["income_adjustment_children"].to_list() == [50_000, 50_000, 0]


def test_a_child_born_after_the_income_year_is_nobodys_dependant_yet() -> None:
    rows = [
        person("1", household_no="h", salary_revenue=3_000_000),
        person("2", household_no="h", birth_date=date(2025, 1, 1)) | {"claimant_no": "1", "lives_with_claimant": True},
    ]
    assert one(rows, 2025)["young_dependants"] == 0
    assert one(rows, 2026)["young_dependants"] == 1


KANAGAWA_DESIGNATED = {"resident_tax.income_levy.rate.prefectural_designated_city": Decimal("0.02025")}
"""神奈川県: 県民税所得割 2% (指定都市) + 水源環境保全税 0.025% (県の超過課税)."""


def test_yokohama_worked_example_fy2025() -> None:
    """横浜市「令和7年度市民税・県民税・森林環境税の計算(例)」(Aさん: 夫婦、子供2人 17歳・13歳、給与 5,500,000円),
    https://www.city.yokohama.lg.jp/kurashi/koseki-zei-hoken/zeikin/y-shizei/kojin-shiminzei-kenminzei/kojin-shiminzei-shosai/kojinkeisan.html"""
    rows = [
        person(
            "1",
            household_no="h",
            designated_city=True,
            salary_revenue=5_500_000,
            social_insurance=394_800,
            life_insurance_deduction=28_000,
            earthquake_insurance_deduction=10_000,
        ),
        person("2", household_no="h", sex="female", designated_city=True)
        | {"claimant_no": "1", "spouse_of_claimant": True, "lives_with_claimant": True},
        person("3", household_no="h", birth_date=date(2007, 6, 1), designated_city=True)
        | {"claimant_no": "1", "lives_with_claimant": True},
        person("4", household_no="h", birth_date=date(2011, 6, 1), designated_city=True)
        | {"claimant_no": "1", "lives_with_claimant": True},
    ]
    r = one(rows, 2025, KANAGAWA_DESIGNATED)
    assert r["salary_income"] == 3_960_000  # (1)
    assert r["total_deductions"] == 1_522_800  # (8)
    assert r["taxable_income"] == 2_437_000  # 課税標準額 (千円未満切捨)
    assert r["income_levy_gross_municipal"] == 194_960  # (9) 8%
    assert r["income_levy_gross_prefectural"] == 49_349  # (10) 2.025%, 1円未満切捨
    # 調整控除: 合計課税所得金額 200万円超 → (15万円 − 43.7万円) は5万円を下回るので5万円 × 市4%・県1%
    assert (r["adjustment_credit_municipal"], r["adjustment_credit_prefectural"]) == (2_000, 500)
    assert (r["income_levy_municipal"], r["income_levy_prefectural"]) == (192_900, 48_800)  # 100円未満切捨


def test_sagamihara_worked_example_fy2024_with_the_flat_reduction() -> None:
    """相模原市「市・県民税・森林環境税の計算例」(夫婦子供2人、16歳未満と16〜18歳、給与 5,000,000円、令和6年度),
    http://www-host.city.sagamihara.kanagawa.jp/kurashi/1026448/zeikin/1026477/jyuminzei_kojin/1007716.html"""
    rows = [
        person(
            "1",
            household_no="h",
            designated_city=True,
            salary_revenue=5_000_000,
            social_insurance=500_000,
            life_insurance_deduction=91_000,  # 35,000 + 28,000 + 28,000, capped at 70,000
        ),
        person("2", household_no="h", sex="female", designated_city=True)
        | {"claimant_no": "1", "spouse_of_claimant": True, "lives_with_claimant": True},
        person("3", household_no="h", birth_date=date(2010, 6, 1), designated_city=True)
        | {"claimant_no": "1", "lives_with_claimant": True},
        person("4", household_no="h", birth_date=date(2006, 6, 1), designated_city=True)
        | {"claimant_no": "1", "lives_with_claimant": True},
    ]
    r = one(rows, 2024, KANAGAWA_DESIGNATED)
    assert (r["salary_income"], r["total_deductions"], r["taxable_income"]) == (3_560_000, 1_660_000, 1_900_000)
    assert (r["income_levy_gross_prefectural"], r["income_levy_gross_municipal"]) == (38_475, 152_000)  # (D), (E)
    assert (r["adjustment_credit_prefectural"], r["adjustment_credit_municipal"]) == (1_500, 6_000)  # (F), (G)
    before = (r["income_levy_before_flat_reduction_prefectural"], r["income_levy_before_flat_reduction_municipal"])
    assert before == (36_975, 146_000)  # (H), (I)
    assert r["flat_reduction_persons"] == 4  # 本人 + 配偶者 + 扶養親族2人 → (L) 40,000円
    # 定額減税額(県民税) = L × H ÷ (H + I) = 40,000 × 36,975 ÷ 182,975 = 8,083.07… → 8,083; 市民税 31,917
    assert (r["flat_reduction_prefectural"], r["flat_reduction_municipal"]) == (8_083, 31_917)
    assert (r["income_levy_prefectural"], r["income_levy_municipal"]) == (28_800, 114_000)


@pytest.mark.parametrize(
    ("salary", "persons"),
    [
        (5_000_000, 0),  # 合計所得 356万: the spouse is a 控除対象配偶者, counted in 令和6年度 already
        (11_950_000, 0),  # 給与所得 1,000万 exactly: still a 控除対象配偶者 (配偶者控除 11万)
        (11_951_000, 1),  # 給与所得 1,000万1千 (> 1,000万): 同一生計配偶者 but not 控除対象配偶者
        (20_000_000, 1),  # 給与所得 1,805万 exactly: still counted
        (20_000_001, 0),  # 合計所得 1,805万超: excluded
    ],
)
def test_fy2025_flat_reduction_counts_the_same_household_spouse_above_10_million(salary: int, persons: int) -> None:
    """令和7年度分の定額減税: 1万円 per 控除対象配偶者以外の同一生計配偶者 of a taxpayer with 合計所得金額 1,000万円超
    1,805万円以下 (いわき市「令和7年度 個人住民税の定額減税について」,
    https://www.city.iwaki.lg.jp/www/contents/1745387532157/index.html), shared between the two taxes as in
    令和6年度."""
    rows = [
        person("1", household_no="h", salary_revenue=salary),
        person("2", household_no="h", sex="female", birth_date=date(1982, 3, 3))
        | {"claimant_no": "1", "spouse_of_claimant": True, "lives_with_claimant": True},
    ]
    r = one(rows, 2025)
    assert r["flat_reduction_persons"] == persons
    total = r["flat_reduction_municipal"] + r["flat_reduction_prefectural"]
    assert total == 10_000 * persons
    before_m, before_p = (
        r["income_levy_before_flat_reduction_municipal"],
        r["income_levy_before_flat_reduction_prefectural"],
    )
    assert r["flat_reduction_prefectural"] == 10_000 * persons * before_p // (before_m + before_p)
    assert (r["spouse_deduction"] == 0) == (salary > 11_950_000)
    assert one(rows, 2026)["flat_reduction_municipal"] == 0


@pytest.mark.parametrize(
    ("available", "used", "credit"),
    [
        (0, 0, 0),
        (200_000, 150_000, 50_000),  # what the 所得税 left
        (200_000, 200_000, 0),  # the 所得税 took all of it
        (400_000, 100_000, 97_500),  # the rest above the cap: 5% of 課税総所得金額等, at most 97,500円
    ],
)
def test_the_housing_loan_credit_is_what_the_income_tax_left_within_the_cap(
    available: int, used: int, credit: int
) -> None:
    """地方税法附則第5条の4の2: the resident tax credits the 住宅借入金等特別控除可能額 the 所得税 could not take, up to
    5% of 課税総所得金額等 and 97,500円, shared 3:2 between 市町村民税 and 道府県民税."""
    rows = [
        person(
            "1",
            salary_revenue=8_000_000,
            social_insurance=1_100_000,
            housing_loan_credit_available=available,
            housing_loan_credit_used=used,
        )
    ]
    r = one(rows, 2026)
    assert r["taxable_income"] * 5 // 100 >= 97_500
    assert (r["housing_loan_credit_municipal"], r["housing_loan_credit_prefectural"]) == (
        credit * 3 // 5,
        credit * 2 // 5,
    )
