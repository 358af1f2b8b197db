"""所得控除 (住民税の額) and 課税総所得金額: 地方税法第314条の2 (市町村民税; 道府県民税は第34条で同額).

Amounts declared by the taxpayer (社会保険料, 小規模企業共済等掛金, 生命保険料控除, 地震保険料控除, 医療費控除,
雑損控除) are inputs; the law's caps are applied here.
"""

from __future__ import annotations

import polars as pl

from kiban.core.money import floor_to_expr
from kiban.core.rules.engine import Scope
from kiban.tax.rules.common import (
    brackets,
    dependant_deduction,
    rules,
    spouse_deduction,
    spouse_special_deduction,
)

ART = "地方税法第314条の2第1項"


@rules.rule("basic_deduction", label="基礎控除", reference="地方税法第314条の2第2項")
def _basic(s: Scope) -> pl.Expr:
    table: list[tuple[int, int | pl.Expr]] = [
        (24_000_000, s.yen("resident_tax.basic_deduction.amount")),
        (24_500_000, s.yen("resident_tax.basic_deduction.amount_over_24m")),
        (25_000_000, s.yen("resident_tax.basic_deduction.amount_over_24_5m")),
    ]
    return brackets(s("total_income"), table, 0)


@rules.rule("spouse_deduction", label="配偶者控除", reference=ART + "第10号、同条第3項（老人控除対象配偶者）")
def _spouse(s: Scope) -> pl.Expr:
    return spouse_deduction(s, ordinary=(330_000, 220_000, 110_000), elderly=(380_000, 260_000, 130_000))


# 配偶者の合計所得金額の上限 → 控除額 (納税義務者の合計所得金額 900万円以下 / 950万円以下 / 1,000万円以下)
SPOUSE_SPECIAL = [
    (1_000_000, (330_000, 220_000, 110_000)),
    (1_050_000, (310_000, 210_000, 110_000)),
    (1_100_000, (260_000, 180_000, 90_000)),
    (1_150_000, (210_000, 140_000, 70_000)),
    (1_200_000, (160_000, 110_000, 60_000)),
    (1_250_000, (110_000, 80_000, 40_000)),
    (1_300_000, (60_000, 40_000, 20_000)),
    (1_330_000, (30_000, 20_000, 10_000)),
]


@rules.rule("spouse_special_deduction", label="配偶者特別控除", reference=ART + "第10号の2")
def _spouse_special(s: Scope) -> pl.Expr:
    return spouse_special_deduction(s, SPOUSE_SPECIAL)


@rules.rule(
    "dependant_deduction",
    label="扶養控除",
    reference=ART + "第11号、同条第3項・第4項（一般33万円、特定45万円、老人38万円、同居老親等45万円）",
)
def _dependants(s: Scope) -> pl.Expr:
    return dependant_deduction(s, general=330_000, specific=450_000, elderly=380_000, elderly_parent=450_000)


@rules.rule(
    "specific_relative_deduction",
    label="特定親族特別控除",
    reference=(
        ART + "第12号（令和8年度分から。号番号はe-Govで未確認）。要件は特定親族の側だけで、納税義務者の合計所得金額"
        "による制限はない（国税庁「特定親族特別控除とは」"
        "https://www.keisan.nta.go.jp/r7yokuaru/cat2/cat22/cat22b/cid1238.html）"
    ),
)
def _specific_relative(s: Scope) -> pl.Expr:
    return s("specific_relative_deduction_claimed")


@rules.rule(
    "disability_deduction",
    label="障害者控除",
    reference=ART + "第6号、同条第4項（障害者26万円、特別障害者30万円、同居特別障害者53万円）",
)
def _disability(s: Scope) -> pl.Expr:
    own = pl.when(s("disability") == "special").then(300_000).when(s("disability") == "ordinary").then(260_000)
    return (
        own.otherwise(0)
        + s("disabled_dependants") * 260_000
        + s("special_disabled_dependants") * 300_000
        + s("cohabiting_special_disabled_dependants") * 530_000
    )


@rules.rule(
    "widow_deduction",
    label="寡婦控除",
    reference=ART + "第8号（26万円、合計所得金額500万円以下）",
)
def _widow(s: Scope) -> pl.Expr:
    applies = s("widow") & ~s("single_parent") & (s("total_income") <= 5_000_000)
    return pl.when(applies).then(260_000).otherwise(0)


@rules.rule(
    "single_parent_deduction",
    label="ひとり親控除",
    reference=ART + "第8号の2（30万円、合計所得金額500万円以下）",
)
def _single_parent(s: Scope) -> pl.Expr:
    return pl.when(s("single_parent") & (s("total_income") <= 5_000_000)).then(300_000).otherwise(0)


@rules.rule("working_student_deduction", label="勤労学生控除", reference=ART + "第9号（26万円）")
def _working_student(s: Scope) -> pl.Expr:
    limit = s.yen("resident_tax.working_student_income_limit")
    non_salary = s("business_income") + s("other_income") + s("dividend_income") + s("pension_income")
    applies = s("working_student") & (s("total_income") <= limit) & (non_salary <= 100_000)
    return pl.when(applies).then(260_000).otherwise(0)


@rules.rule(
    "declared_deductions",
    label="雑損・医療費・社会保険料・小規模企業共済等掛金・生命保険料・地震保険料控除",
    reference=ART + "第1号〜第5号の3（生命保険料控除は7万円、地震保険料控除は2万5千円が上限）",
)
def _declared(s: Scope) -> pl.Expr:
    return (
        s("casualty_loss_deduction")
        + s("medical_expense_deduction")
        + s("social_insurance")
        + s("small_enterprise_mutual_aid")
        + s("life_insurance_deduction").clip(upper_bound=70_000)
        + s("earthquake_insurance_deduction").clip(upper_bound=25_000)
    )


@rules.rule("total_deductions", label="所得控除額の合計", reference="地方税法第314条の2")
def _total(s: Scope) -> pl.Expr:
    return (
        s("declared_deductions")
        + s("disability_deduction")
        + s("widow_deduction")
        + s("single_parent_deduction")
        + s("working_student_deduction")
        + s("spouse_deduction")
        + s("spouse_special_deduction")
        + s("dependant_deduction")
        + s("specific_relative_deduction")
        + s("basic_deduction")
    )


@rules.rule(
    "taxable_income",
    label="課税総所得金額等",
    reference="地方税法第314条の3、第20条の4の2第1項（課税標準額の1,000円未満の端数切捨て）",
)
def _taxable(s: Scope) -> pl.Expr:
    return floor_to_expr((s("total_income_base") - s("total_deductions")).clip(lower_bound=0), 1_000)
