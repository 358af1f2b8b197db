"""住宅借入金等特別税額控除 (地方税法附則第5条の4の2): what the 所得税 could not take of the 住宅借入金等特別控除可能額,
capped at 5% (97,500円) of the **所得税の** 課税総所得金額等, or 7% (136,500円) for a home of 特定取得; shared 3:2
(指定都市 4:1) between 市町村民税 and 道府県民税. Checked against the 岐阜市 worked example and the caps the municipal
pages publish."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from kiban.tax.assessment import assess, national_parameters

from taxpayers import person

PARAMS = {fy: national_parameters(fy, kyuchi=1) for fy in (2023, 2026)}


def one(rows: list[dict[str, Any]], fy: int) -> dict[str, Any]:
    frame = pl.DataFrame(rows, infer_schema_length=None)
    computed = assess(frame, fiscal_year=fy, parameters=PARAMS[fy], keep_all=True)
    return computed.filter(pl.col("person_no") == "1").row(0, named=True)


def credits(row: dict[str, Any]) -> tuple[int, int]:
    return row["housing_loan_credit_municipal"], row["housing_loan_credit_prefectural"]


def gifu_household(*, specified_acquisition: bool) -> list[dict[str, Any]]:
    """岐阜市「計算例(6) 給与所得があり住宅ローン控除(特定取得に該当する住宅借入金等特別控除)を適用する人（令和5年度）」
    (https://www.city.gifu.lg.jp/35186.htm): 給与収入650万円, 社会保険料631,752円, 生命保険料 (所得税12万円・住民税
    7万円), 地震保険料5万円, 配偶者・72歳の母（別居）・17歳と18歳の子を扶養; 住宅ローン残高2,000万円 × 1% = 控除可能額
    20万円, 所得税 1,858,000円 × 5% = 92,900円 を所得税で控除."""
    return [
        person(
            "1",
            household_no="g",
            salary_revenue=6_500_000,
            social_insurance=631_752,
            life_insurance_deduction=120_000,
            earthquake_insurance_deduction=50_000,
            housing_loan_credit_available=200_000,
            housing_loan_credit_used=92_900,
            housing_loan_specified_acquisition=specified_acquisition,
        ),
        person(
            "2", household_no="g", sex="female", birth_date=date(1982, 3, 3), claimant_no="1", spouse_of_claimant=True
        ),
        person(
            "3", household_no="m", sex="female", birth_date=date(1950, 3, 3), claimant_no="1", parent_of_claimant=True
        ),
        person("4", household_no="g", birth_date=date(2005, 3, 3), claimant_no="1"),
        person("5", household_no="g", birth_date=date(2004, 6, 3), claimant_no="1"),
    ]


def test_the_gifu_worked_example_of_a_specified_acquisition() -> None:
    """The page: 課税総所得金額 2,233,000円 (住民税); 所得税の課税総所得金額 1,858,000円 × 7% = 130,060円 と控除しきれ
    なかった 107,100円 のいずれか小さい額 107,100円 → 市民税 3/5 = 64,260円, 県民税 2/5 = 42,840円; 所得割
    131,970円 − 64,260円 → 67,700円, 87,980円 − 42,840円 → 45,100円 (100円未満切捨て)."""
    row = one(gifu_household(specified_acquisition=True), 2023)
    assert (row["taxable_income"], row["income_tax_taxable_income"]) == (2_233_000, 1_858_000)
    assert credits(row) == (64_260, 42_840)
    assert (row["income_levy_municipal"], row["income_levy_prefectural"]) == (67_700, 45_100)


def test_the_cap_is_a_share_of_the_income_tax_base_not_of_the_resident_tax_base() -> None:
    """Without 特定取得 the cap is 5% of 所得税の課税総所得金額等 1,858,000円 = 92,900円. On the resident tax's
    2,233,000円 it would have been 111,650円, capped at 97,500円: a larger credit than the law gives."""
    row = one(gifu_household(specified_acquisition=False), 2023)
    assert row["taxable_income"] * 5 // 100 > 97_500 > 92_900
    assert credits(row) == (92_900 * 3 // 5, 92_900 * 2 // 5) == (55_740, 37_160)


@pytest.mark.parametrize(
    ("specified", "designated_city", "expected"),
    [
        # 茅野市 (https://www.city.chino.lg.jp/soshiki/zeimu/975.html): 市民税3%・県民税2%【最高97,500円】,
        # 特定取得は市民税4.2%・県民税2.8%【最高136,500円】
        (False, False, (58_500, 39_000)),
        (True, False, (81_900, 54_600)),
        # 指定都市: 市民税 4/5, 道府県民税 1/5
        (False, True, (78_000, 19_500)),
        (True, True, (109_200, 27_300)),
    ],
)
def test_the_caps_and_their_split(specified: bool, designated_city: bool, expected: tuple[int, int]) -> None:
    row = one(
        [
            person(
                "1",
                salary_revenue=9_000_000,
                designated_city=designated_city,
                housing_loan_credit_available=400_000,
                housing_loan_credit_used=100_000,
                housing_loan_specified_acquisition=specified,
            )
        ],
        2026,
    )
    assert row["income_tax_taxable_income"] * 7 // 100 > 136_500
    assert credits(row) == expected


def test_fiscal_year_2026_reads_the_2025_income_tax() -> None:
    """令和8年度: the base is 令和7年分 所得税's. 給与収入300万円 → 給与所得202万円; 所得税: 社会保険料45万円,
    基礎控除88万円 (合計所得金額132万円超336万円以下) → 69万円, 所得税 34,500円; 特定取得: 69万円 × 7% = 48,300円 <
    控除しきれなかった 165,500円. (住民税の課税総所得金額 114万円 × 7% would give 79,800円.)"""
    row = one(
        [
            person(
                "1",
                salary_revenue=3_000_000,
                social_insurance=450_000,
                housing_loan_credit_available=200_000,
                housing_loan_credit_used=34_500,
                housing_loan_specified_acquisition=True,
            )
        ],
        2026,
    )
    # 住民税: 202万円 − 45万円 − 43万円 = 114万円; 所得税: 69万円 (基礎控除88万円)
    assert (row["taxable_income"], row["income_tax_taxable_income"]) == (1_140_000, 690_000)
    assert credits(row) == (48_300 * 3 // 5, 48_300 * 2 // 5)


def test_nothing_left_by_the_income_tax_gives_no_credit() -> None:
    row = one(
        [
            person(
                "1",
                salary_revenue=6_000_000,
                housing_loan_credit_available=150_000,
                housing_loan_credit_used=150_000,
                housing_loan_specified_acquisition=True,
            )
        ],
        2026,
    )
    assert credits(row) == (0, 0)
