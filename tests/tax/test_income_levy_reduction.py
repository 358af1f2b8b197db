"""所得割 of a taxpayer just above the 所得割の非課税限度額 (地方税法附則第3条の3第2項・第5項): after the credits it
is at most (総所得金額等 − 限度額) × the tax's rate, so that the income left after both 所得割 is not below the limit
(坂戸市「個人住民税所得割の調整措置」https://www.city.sakado.lg.jp/soshiki/13/22493.html).

The family: taxpayer, a 同一生計配偶者 with no income and two children under 16 (年少扶養親族: they raise the limit but
give no deduction), 1級地. 所得割の非課税限度額 = 35万円 × 4 + 10万円 + 32万円 = 182万円. 所得控除 = 基礎 43万 + 配偶者
33万 = 76万円; 人的控除額の差 = 基礎 5万 + 配偶者 5万 = 10万円 (調整控除 市 3,000円・県 2,000円)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from kiban.tax.assessment import assess, national_parameters

from taxpayers import person

LIMIT = 1_820_000


def family(income: int, *, designated_city: bool = False) -> list[dict[str, Any]]:
    place = {"household_no": "h", "designated_city": designated_city}
    claimed = {"claimant_no": "1", "lives_with_claimant": True}
    return [
        person("1", business_income=income, **place),
        person("2", sex="female", birth_date=date(1982, 3, 3), **place) | claimed | {"spouse_of_claimant": True},
        person("3", birth_date=date(2015, 6, 1), **place) | claimed,
        person("4", birth_date=date(2017, 6, 1), **place) | claimed,
    ]


def taxpayer(rows: list[dict[str, Any]], fy: int) -> dict[str, Any]:
    frame = pl.DataFrame(rows, infer_schema_length=None)
    result = assess(frame, fiscal_year=fy, parameters=national_parameters(fy, kyuchi=1), keep_all=True)
    return result.filter(pl.col("person_no") == "1").row(0, named=True)


def levies(r: dict[str, Any], name: str) -> tuple[int, int]:
    return r[f"{name}_municipal"], r[f"{name}_prefectural"]


def test_exact_at_the_limit_no_income_levy() -> None:
    r = taxpayer(family(LIMIT), 2025)
    assert (r["total_income_base"], r["income_levy_exemption_limit"]) == (LIMIT, LIMIT)
    assert r["income_levy_exempt"]
    assert levies(r, "income_levy") == (0, 0)
    assert r["tax_status"] == "per_capita_only"  # 均等割 limit: 35万 × 4 + 10万 + 21万 = 171万


def test_one_yen_over_the_limit_the_income_levy_is_reduced_to_nothing() -> None:
    # 課税所得 1,060,000: 所得割 市 63,600 − 3,000 = 60,600, 県 42,400 − 2,000 = 40,400 after the credits;
    # (1,820,001 − 1,820,000) × 60% = 0.6 and × 40% = 0.4 → 0 (1円未満切捨て).
    r = taxpayer(family(LIMIT + 1), 2025)
    assert not r["income_levy_exempt"]
    assert levies(r, "income_levy_after_credits") == (60_600, 40_400)
    assert levies(r, "income_levy_before_flat_reduction") == (0, 0)
    assert (r["tax_status"], r["income_levy"]) == ("per_capita_only", 0)


@pytest.mark.parametrize(
    ("income", "after_credits", "reduced"),
    [
        # 課税所得 1,090,000: 市 65,400 − 3,000, 県 43,600 − 2,000; 超過額 30,000 × 60% / 40% → binds
        (1_850_000, (62_400, 41_600), (18_000, 12_000)),
        # 課税所得 1,140,000: 市 65,400, 県 43,600; 超過額 80,000 → 48,000 / 32,000 → binds
        (1_900_000, (65_400, 43_600), (48_000, 32_000)),
        # 課税所得 1,190,000: 市 68,400, 県 45,600; 超過額 130,000 → 78,000 / 52,000 → does not bind
        (1_950_000, (68_400, 45_600), (68_400, 45_600)),
        # 課税所得 1,340,000: 市 77,400, 県 51,600; 超過額 280,000 → does not bind
        (2_100_000, (77_400, 51_600), (77_400, 51_600)),
    ],
)
def test_the_reduction_binds_only_close_to_the_limit(
    income: int, after_credits: tuple[int, int], reduced: tuple[int, int]
) -> None:
    r = taxpayer(family(income), 2025)
    assert levies(r, "income_levy_after_credits") == after_credits
    assert levies(r, "income_levy_before_flat_reduction") == reduced
    assert levies(r, "income_levy") == reduced  # already whole hundreds; no 定額減税 in 令和7年度 for this family
    # What is left of the income after both 所得割 is never below the limit.
    assert income - sum(reduced) >= LIMIT


def test_designated_city_rates_share_the_excess_eight_to_two() -> None:
    # 指定都市: 市 8% 87,200 − 4,000 = 83,200, 県 2% 21,800 − 1,000 = 20,800; 超過額 30,000 × 80% / 20%.
    r = taxpayer(family(1_850_000, designated_city=True), 2025)
    assert levies(r, "income_levy_after_credits") == (83_200, 20_800)
    assert levies(r, "income_levy") == (24_000, 6_000)


def test_the_flat_reduction_comes_off_the_reduced_income_levy() -> None:
    # 令和6年度: 定額減税 4人 × 1万円 = 40,000 against 所得割 18,000 + 12,000 (after the reduction): 県 =
    # min(40,000 × 12,000 ÷ 30,000, 12,000) = 12,000, 市 = min(28,000, 18,000) = 18,000 → nothing left.
    r = taxpayer(family(1_850_000), 2024)
    assert levies(r, "income_levy_before_flat_reduction") == (18_000, 12_000)
    assert levies(r, "flat_reduction") == (18_000, 12_000)
    assert levies(r, "income_levy") == (0, 0)
