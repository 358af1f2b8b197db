"""寄附金税額控除 (地方税法第314条の7・第37条の2) and the 申告特例控除 of the ふるさと納税 ワンストップ特例: the 倉敷市
worked example to the yen, the 20% and 30% caps, the 指定都市 split, the 90% 割合 without 所得税, and the declarations
CSV reaching the assessment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kiban.core.identity.permissions import Role
from kiban.tax.assessment import assess, national_parameters
from kiban.tax.declarations import DeclarationFileError, import_file, parse
from kiban.tax.explain import explain_person
from kiban.tax.service import declared_incomes, population_of

from conftest import TestDatabase
from residents import A, move_in, staff
from taxpayers import person

PARAMS = {fy: national_parameters(fy, kyuchi=1) for fy in (2025, 2026)}
LEVELS = ("municipal", "prefectural")


def one(rows: list[dict[str, Any]], fy: int = 2025) -> dict[str, Any]:
    frame = pl.DataFrame(rows, infer_schema_length=None)
    computed = assess(frame, fiscal_year=fy, parameters=PARAMS[fy], keep_all=True)
    return computed.filter(pl.col("person_no") == "1").row(0, named=True)


def by_level(row: dict[str, Any], quantity: str) -> tuple[int, int]:
    return row[f"{quantity}_municipal"], row[f"{quantity}_prefectural"]


def kurashiki(**values: Any) -> dict[str, Any]:
    """倉敷市「ふるさと納税をした場合の寄附金税額控除」の計算例 (https://www.city.kurashiki.okayama.jp/39728.htm):
    総所得金額等 3,000,000円, 所得控除 1,200,000円 (所得税)・1,150,000円 (市県民税), 課税総所得金額 1,800,000円・
    1,850,000円, 所得税の税率 5%, 市県民税所得割額 (調整控除後) 182,500円. Here: 給与収入 4,300,000円 (給与所得
    3,000,000円) and 社会保険料 720,000円 (+ 基礎控除 430,000円 / 480,000円)."""
    return person("1", salary_revenue=4_300_000, social_insurance=720_000, **values)


def test_the_kurashiki_worked_example_to_the_yen() -> None:
    """寄附金 102,000円: ① (102,000 − 2,000) × 10% = 10,000円; ② 100,000 × (90% − 5% × 1.021) = 84,895円 > 所得割の
    20% 36,500円 → 36,500円; ③ ② × 5.105/84.895 = 2,195円. ワンストップ特例 48,695円, 確定申告なら 46,500円."""
    row = one([kurashiki(donation_hometown=102_000, donation_one_stop=True)])
    assert (row["total_income"], row["taxable_income"], row["income_tax_taxable_income"]) == (
        3_000_000,
        1_850_000,
        1_800_000,
    ), "the page's premises"
    levied = [row[f"income_levy_gross_{lv}"] - row[f"adjustment_credit_{lv}"] for lv in LEVELS]
    assert sum(levied) == 182_500
    assert row["donation_special_rate_base"] == 1_800_000  # 1,850,000 − 人的控除差調整額 50,000: 5% の区分
    assert by_level(row, "donation_basic_credit") == (6_000, 4_000)
    assert by_level(row, "donation_special_cap") == (21_900, 14_600)
    assert by_level(row, "donation_special_credit") == (21_900, 14_600)  # the 20% cap binds
    # 21,900 × 5.105/84.895 = 1,316.9 and 14,600 × 5.105/84.895 = 877.9, each rounded up (the page's total 2,195円)
    assert by_level(row, "donation_one_stop_credit") == (1_317, 878)
    assert sum(by_level(row, "donation_credit")) == 48_695
    assert by_level(row, "income_levy_after_credits") == (levied[0] - 29_217, levied[1] - 19_478)

    filed = one([kurashiki(donation_hometown=102_000)])
    assert by_level(filed, "donation_one_stop_credit") == (0, 0)
    assert sum(by_level(filed, "donation_credit")) == 46_500


def test_the_trace_shows_the_credit_and_the_rates_it_used() -> None:
    row = kurashiki(donation_hometown=102_000, donation_one_stop=True, claimant_no=None)
    population = pl.DataFrame([row], schema_overrides={"claimant_no": pl.Utf8()})
    trace = {t.name: t for t in explain_person(population, fiscal_year=2025, parameters=PARAMS[2025], person_no="1")}
    assert trace["donation_one_stop_credit_municipal"].value == 1_317
    assert "附則第7条の2" in trace["donation_one_stop_credit_municipal"].reference
    used = trace["donation_special_credit_municipal"].parameters
    assert used["resident_tax.donation_credit.income_tax_surtax_factor"] == Decimal("1.021")
    assert trace["donation_credit_prefectural"].label == "寄附金税額控除額（道府県民税、申告特例控除額を含む）"


def test_under_the_20_percent_cap_the_resident_tax_gives_back_all_but_2000_yen() -> None:
    """寄附金 30,000円: 特例控除 28,000 × 84.895% = 23,770.6円 → 市 14,262.36 → 14,263円, 県 9,508.24 → 9,509円
    (1円未満切上げ); 申告特例 14,263 × 5.105/84.895 = 857.7 → 858円, 9,509 × … = 571.8 → 572円."""
    row = one([kurashiki(donation_hometown=30_000, donation_one_stop=True)])
    assert by_level(row, "donation_basic_credit") == (1_680, 1_120)
    assert by_level(row, "donation_special_credit") == (14_263, 9_509)
    assert by_level(row, "donation_one_stop_credit") == (858, 572)
    # ワンストップ特例: the 住民税 alone returns 寄附金 − 2,000円, here 2円 more from the four amounts rounded up
    assert sum(by_level(row, "donation_credit")) == 28_002


def test_the_basic_credit_counts_donations_up_to_30_percent_of_income_and_ordinance_ones_per_tax() -> None:
    """総所得金額等 1,000,000円: 寄附金 500,000円 counts as 300,000円. A 条例指定寄附金 of the municipality only is a
    credit of the 市町村民税 only (長浜市「市県民税の寄附金税額控除」: 市の指定のみ 6%)."""
    designated = one([person("1", business_income=1_000_000, donation_designated_municipal=500_000)])
    assert by_level(designated, "donation_basic_base") == (298_000, 0)
    assert by_level(designated, "donation_basic_credit") == (17_880, 0)
    assert by_level(designated, "donation_special_credit") == (0, 0), "no 特例控除 for a 条例指定寄附金"
    chest = one([person("1", business_income=1_000_000, donation_community_chest=500_000)])
    assert by_level(chest, "donation_basic_credit") == (17_880, 11_920)
    below = one([person("1", business_income=1_000_000, donation_community_chest=2_000)])
    assert by_level(below, "donation_basic_credit") == (0, 0), "2,000円 is the 適用下限額"


def test_a_designated_city_splits_4_to_1() -> None:
    """指定都市: 基本控除 8% / 2%; 所得割 1,850,000 × 8% − 2,000 = 146,000円 and × 2% − 500 = 36,500円, so the caps are
    29,200円 and 7,300円; the 特例控除 (84,895 × 4/5, × 1/5) reaches both."""
    row = one([kurashiki(designated_city=True, donation_hometown=102_000, donation_one_stop=True)])
    assert by_level(row, "donation_basic_credit") == (8_000, 2_000)
    assert by_level(row, "donation_special_credit") == (29_200, 7_300)
    assert by_level(row, "donation_one_stop_credit") == (1_756, 439)  # 1,755.9 and 438.97 rounded up
    assert sum(by_level(row, "donation_credit")) == 48_695


def test_without_income_tax_the_ratio_is_90_percent_and_nothing_is_added_for_one_stop() -> None:
    """総所得金額等 470,000円: 課税総所得金額 40,000円 − 人的控除差調整額 50,000円 < 0, so the 割合 is 90% (所得税の税率
    0): 400円 × 90% × 3/5 = 216円 and × 2/5 = 144円 (under the caps 240円 and 160円); the 申告特例控除 is 0."""
    row = one([person("1", business_income=470_000, donation_hometown=2_400, donation_one_stop=True)])
    assert row["donation_special_rate_base"] == -10_000
    assert by_level(row, "donation_special_cap") == (240, 160)
    assert by_level(row, "donation_special_credit") == (216, 144)
    assert by_level(row, "donation_one_stop_credit") == (0, 0)


# --- the declarations file --------------------------------------------------------------------------------------------

CLERK, TAX = staff("clerk1", Role.REGISTRY), staff("tax1", Role.TAX)


def test_a_one_stop_claim_is_refused_on_a_return() -> None:
    data = '宛名番号,年度,種別,都道府県・市区町村への寄附金,申告特例\n1001,2026,申告,"50,000",○\n'
    with pytest.raises(DeclarationFileError) as refused:
        parse(data)
    assert [(e.row, e.column, e.received) for e in refused.value.rows] == [(2, "申告特例", "○")]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_donations_in_the_file_reach_the_assessment(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001")
        move_in(s, CLERK, "1002", "9002", given_name="花子", sex="female")
    data = (
        "宛名番号,年度,種別,給与収入,事業所得,社会保険料,都道府県・市区町村への寄附金,共同募金会・日本赤十字社への寄附金,"
        "都道府県の条例指定寄附金,市区町村の条例指定寄附金,申告特例\n"
        '1001,2026,給与支払報告書,"4,300,000",,"720,000","102,000",,,,○\n'
        '1002,2026,申告,,"1,000,000",,"2,000","3,000","4,000","5,000",\n'
    )
    with db.app.tenant(A) as s:
        import_file(s, actor=TAX, data=data.encode("utf-8"))
        declared = {r["person_no"]: r for r in declared_incomes(s, 2026).iter_rows(named=True)}
        population = population_of(s, actor=TAX, fiscal_year=2026)
    assert {k: v for k, v in declared["1002"].items() if k.startswith("donation")} == {
        "donation_hometown": 2_000,
        "donation_community_chest": 3_000,
        "donation_designated_prefectural": 4_000,
        "donation_designated_municipal": 5_000,
        "donation_one_stop": False,
    }
    computed = assess(population.inputs, fiscal_year=2026, parameters=population.parameters, keep_all=True)
    rows = {r["person_no"]: r for r in computed.iter_rows(named=True)}
    # The 倉敷市 example again (令和7年分: the same 給与所得 and 住民税の所得控除 as 令和6年分 at this income)
    assert by_level(rows["1001"], "donation_special_credit") == (21_900, 14_600)
    assert by_level(rows["1001"], "donation_one_stop_credit") == (1_317, 878)
    assert sum(by_level(rows["1001"], "donation_credit")) == 48_695
    # 市: (2,000 + 3,000 + 5,000 − 2,000) × 6% = 480円; 県: (2,000 + 3,000 + 4,000 − 2,000) × 4% = 280円
    assert by_level(rows["1002"], "donation_basic_credit") == (480, 280)
    assert by_level(rows["1002"], "donation_special_credit") == (0, 0)
