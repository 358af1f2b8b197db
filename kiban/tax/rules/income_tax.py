"""所得税 of the income year computed from the resident-tax inputs: its 課税総所得金額等, the cap of the resident
tax's 住宅借入金等特別税額控除 (地方税法附則第5条の4の2: 5% or 7% of 「所得税の課税総所得金額等」), and its 所得税の額,
the 推計所得税額 of the 令和6年 定額減税 調整給付.

The 調整給付 (当初調整給付) was computed by each municipality in 2024, before the 令和6年分 所得税 was known, from the
令和5年 incomes behind the 令和6年度 住民税: 「令和6年に把握できる課税情報である令和5年分の所得等を基にした推計額
（令和6年分推計所得税額）」 (千代田区「定額減税補足給付金（不足額給付）」,
https://www.city.chiyoda.lg.jp/koho/kurashi/sodanmadoguchi/teigakugenzei-fusokugaku.html). So the 所得税 is computed
here by the 所得税法 rules over the same inputs and the same incomes (給与所得, 公的年金等に係る雑所得,
所得金額調整控除 and 合計所得金額 are the 所得税法 computations already, ``kiban.tax.rules.income``), with the 所得税
amounts of the 所得控除 (所得税法第72条〜第86条), 課税総所得金額 rounded down to 1,000 yen (国税通則法第118条第1項),
the rates of 所得税法第89条第1項, and the 税額控除 the inputs carry (配当控除, 住宅借入金等特別控除): the 所得税の額
the 定額減税 is taken from (租税特別措置法第41条の3の3第1項), before it, without the 復興特別所得税 and not rounded
to 100 yen (the 100円未満切捨て of 国税通則法第119条 applies to the 申告納税額 after the 定額減税).

Like the resident tax, a 年度 is computed on ``date(年度, 4, 1)`` from the income of the year before: 年度 2021〜2025
are 令和2年分〜令和6年分, 年度 2026 is 令和7年分 with the 令和7年度税制改正 (令和7年法律第13号): 基礎控除 58万円 up to
合計所得金額 2,350万円 and the 特例 of 租税特別措置法第41条の16の2 (95万円 up to 132万円; 88万・68万・63万円 up to
336万・489万・655万円, 令和7年分・令和8年分 only), and the 特定親族特別控除 (所得税法第84条の2). The income limits the
two taxes share come from the resident-tax rules, whose values change on the same date: 同一生計配偶者・扶養親族 58万円
and so 配偶者特別控除 from 58万円超 (``resident_tax.dependant_income_limit``), 勤労学生 85万円
(``resident_tax.working_student_income_limit``), 給与所得控除 minimum 65万円 (``kiban.tax.rules.income``). The
``income_tax.basic_deduction.*`` parameters end with 年度 2026: 令和8年分 is not declared, so a later year is an error.

Declared deductions are the inputs the resident tax reads: ``life_insurance_deduction`` and
``earthquake_insurance_deduction`` are the amounts declared (源泉徴収票 / 申告書), capped here at the 所得税 limits
(12万円 and 5万円) where the resident tax caps them at 7万円 and 2万5千円. ``housing_loan_credit_available`` is the
住宅借入金等特別税額控除可能額: 所得税 takes what its tax allows. Not modelled: 国外居住者 (the 定額減税 counts
only 居住者; the 基礎控除の特例 is for 居住者), 寄附金控除, 外国税額控除, 分離課税の所得.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from kiban.core.money import floor_to_expr, times_rate_expr
from kiban.core.rules.engine import Aggregate, Scope
from kiban.tax.rules.common import (
    FY2026,
    brackets,
    dependant_deduction,
    rules,
    spouse_deduction,
    spouse_special_deduction,
)

LAW = "所得税法"

# --- 所得控除（所得税の額） -----------------------------------------------------------------------------------------


BASIC_LAW = LAW + "第86条第1項、租税特別措置法第41条の16の2（令和7年分からの基礎控除の特例、居住者）"


@rules.rule("income_tax_basic_deduction", label="基礎控除（所得税）", reference=BASIC_LAW)
def _basic(s: Scope) -> pl.Expr:
    table: list[tuple[int, int | pl.Expr]] = [
        (24_000_000, s.yen("income_tax.basic_deduction.amount")),
        (24_500_000, s.yen("income_tax.basic_deduction.amount_over_24m")),
        (25_000_000, s.yen("income_tax.basic_deduction.amount_over_24_5m")),
    ]
    return brackets(s("total_income"), table, 0)


@rules.rule("income_tax_basic_deduction", label="基礎控除（所得税）", reference=BASIC_LAW, since=FY2026)
def _basic_from_2025(s: Scope) -> pl.Expr:
    # 令和7年分から: 本則 58万円 (2,350万円以下) and the 特例 of 租税特別措置法第41条の16の2 up to 655万円
    table: list[tuple[int, int | pl.Expr]] = [
        (1_320_000, s.yen("income_tax.basic_deduction.amount_up_to_1_32m")),
        (3_360_000, s.yen("income_tax.basic_deduction.amount_up_to_3_36m")),
        (4_890_000, s.yen("income_tax.basic_deduction.amount_up_to_4_89m")),
        (6_550_000, s.yen("income_tax.basic_deduction.amount_up_to_6_55m")),
        (23_500_000, s.yen("income_tax.basic_deduction.amount")),
        (24_000_000, s.yen("income_tax.basic_deduction.amount_over_23_5m")),
        (24_500_000, s.yen("income_tax.basic_deduction.amount_over_24m")),
        (25_000_000, s.yen("income_tax.basic_deduction.amount_over_24_5m")),
    ]
    return brackets(s("total_income"), table, 0)


@rules.rule(
    "income_tax_spouse_deduction",
    label="配偶者控除（所得税）",
    reference=LAW + "第83条（控除対象配偶者38万円・老人控除対象配偶者48万円、納税者の合計所得金額により逓減）",
)
def _spouse(s: Scope) -> pl.Expr:
    return spouse_deduction(s, ordinary=(380_000, 260_000, 130_000), elderly=(480_000, 320_000, 160_000))


# 配偶者の合計所得金額の上限 → 控除額 (納税者の合計所得金額 900万円以下 / 950万円以下 / 1,000万円以下)
SPOUSE_SPECIAL = [
    (950_000, (380_000, 260_000, 130_000)),
    (1_000_000, (360_000, 240_000, 120_000)),
    (1_050_000, (310_000, 210_000, 110_000)),
    (1_100_000, (260_000, 180_000, 90_000)),
    (1_150_000, (210_000, 140_000, 70_000)),
    (1_200_000, (160_000, 110_000, 60_000)),
    (1_250_000, (110_000, 80_000, 40_000)),
    (1_300_000, (60_000, 40_000, 20_000)),
    (1_330_000, (30_000, 20_000, 10_000)),
]


@rules.rule("income_tax_spouse_special_deduction", label="配偶者特別控除（所得税）", reference=LAW + "第83条の2")
def _spouse_special(s: Scope) -> pl.Expr:
    return spouse_special_deduction(s, SPOUSE_SPECIAL)


@rules.rule(
    "income_tax_dependant_deduction",
    label="扶養控除（所得税）",
    reference=LAW + "第84条（一般38万円、特定63万円、老人48万円、同居老親等58万円）",
)
def _dependants(s: Scope) -> pl.Expr:
    return dependant_deduction(s, general=380_000, specific=630_000, elderly=480_000, elderly_parent=580_000)


SPECIFIC_RELATIVE_LAW = (
    LAW + "第84条の2（令和7年分から。19歳以上23歳未満の親族で合計所得金額58万円超123万円以下、国税庁タックスアンサー"
    "No.1177）。要件は住民税の特定親族特別控除と同じなので、住民税の控除額がある親族に適用する"
)
# 特定親族の合計所得金額の上限（以下） → 控除額 (国税庁 No.1177, https://www.nta.go.jp/taxes/shiraberu/taxanswer/shotoku/1177.htm)
SPECIFIC_RELATIVE: list[tuple[int, int | pl.Expr]] = [
    (850_000, 630_000),
    (900_000, 610_000),
    (950_000, 510_000),
    (1_000_000, 410_000),
    (1_050_000, 310_000),
    (1_100_000, 210_000),
    (1_150_000, 110_000),
    (1_200_000, 60_000),
    (1_230_000, 30_000),
]


@rules.rule(
    "income_tax_specific_relative_row",
    label="特定親族特別控除額（所得税、この親族の分）",
    reference=SPECIFIC_RELATIVE_LAW,
    since=FY2026,
)
def _specific_relative_row(s: Scope) -> pl.Expr:
    amount = brackets(s("total_income_for_dependency"), SPECIFIC_RELATIVE, 0)
    return pl.when(s("specific_relative_amount_row") > 0).then(amount).otherwise(0)


rules.aggregate(
    "income_tax_specific_relative_claimed",
    Aggregate("income_tax_specific_relative_row", by="claimant_no", key="person_no"),
    label="特定親族特別控除額の合計（所得税）",
    reference=SPECIFIC_RELATIVE_LAW,
)


@rules.rule(
    "income_tax_specific_relative_deduction", label="特定親族特別控除（所得税）", reference=SPECIFIC_RELATIVE_LAW
)
def _no_specific_relative(s: Scope) -> pl.Expr:
    return pl.lit(0)


@rules.rule(
    "income_tax_specific_relative_deduction",
    label="特定親族特別控除（所得税）",
    reference=SPECIFIC_RELATIVE_LAW,
    since=FY2026,
)
def _specific_relative(s: Scope) -> pl.Expr:
    return s("income_tax_specific_relative_claimed")


@rules.rule(
    "income_tax_disability_deduction",
    label="障害者控除（所得税）",
    reference=LAW + "第79条（障害者27万円、特別障害者40万円、同居特別障害者75万円）",
)
def _disability(s: Scope) -> pl.Expr:
    own = pl.when(s("disability") == "special").then(400_000).when(s("disability") == "ordinary").then(270_000)
    return (
        own.otherwise(0)
        + s("disabled_dependants") * 270_000
        + s("special_disabled_dependants") * 400_000
        + s("cohabiting_special_disabled_dependants") * 750_000
    )


@rules.rule(
    "income_tax_status_deductions",
    label="寡婦控除・ひとり親控除・勤労学生控除（所得税）",
    reference=(
        LAW + "第80条（寡婦27万円）・第81条（ひとり親35万円）・第82条（勤労学生27万円）。要件（第2条第1項第30号・"
        "第31号・第32号）は住民税と同じなので、住民税の控除が適用される者に適用する"
    ),
)
def _status(s: Scope) -> pl.Expr:
    def applies(resident_rule: str, amount: int) -> pl.Expr:
        return pl.when(s(resident_rule) > 0).then(amount).otherwise(0)

    return (
        applies("widow_deduction", 270_000)
        + applies("single_parent_deduction", 350_000)
        + applies("working_student_deduction", 270_000)
    )


@rules.rule(
    "income_tax_declared_deductions",
    label="雑損・医療費・社会保険料・小規模企業共済等掛金・生命保険料・地震保険料控除（所得税）",
    reference=LAW + "第72条〜第77条（生命保険料控除は12万円、地震保険料控除は5万円が上限）",
)
def _declared(s: Scope) -> pl.Expr:
    return (
        s("casualty_loss_deduction")
        + s("medical_expense_deduction")
        + s("social_insurance")
        + s("small_enterprise_mutual_aid")
        + s("life_insurance_deduction").clip(upper_bound=120_000)
        + s("earthquake_insurance_deduction").clip(upper_bound=50_000)
    )


@rules.rule("income_tax_total_deductions", label="所得控除額の合計（所得税）", reference=LAW + "第87条")
def _total(s: Scope) -> pl.Expr:
    return (
        s("income_tax_declared_deductions")
        + s("income_tax_disability_deduction")
        + s("income_tax_status_deductions")
        + s("income_tax_spouse_deduction")
        + s("income_tax_spouse_special_deduction")
        + s("income_tax_dependant_deduction")
        + s("income_tax_specific_relative_deduction")
        + s("income_tax_basic_deduction")
    )


@rules.rule(
    "income_tax_taxable_income",
    label="課税総所得金額（所得税）",
    reference=LAW + "第89条第2項、国税通則法第118条第1項（1,000円未満の端数切捨て）",
)
def _taxable(s: Scope) -> pl.Expr:
    return floor_to_expr((s("total_income_base") - s("income_tax_total_deductions")).clip(lower_bound=0), 1_000)


# --- 税額 ----------------------------------------------------------------------------------------------------------

RATES = [
    # (課税総所得金額の上限（以下）, 税率, 控除額): 所得税法第89条第1項の超過累進税率を速算表の形にしたもの
    (1_950_000, "0.05", 0),
    (3_300_000, "0.10", 97_500),
    (6_950_000, "0.20", 427_500),
    (9_000_000, "0.23", 636_000),
    (18_000_000, "0.33", 1_536_000),
    (40_000_000, "0.40", 2_796_000),
]
TOP_RATE = ("0.45", 4_796_000)


@rules.rule(
    "income_tax_gross",
    label="算出所得税額",
    reference=LAW + "第89条第1項（5%〜45%の7段階。国税庁タックスアンサーNo.2260の速算表）",
)
def _gross(s: Scope) -> pl.Expr:
    taxable = s("income_tax_taxable_income")

    def tax(rate: str, subtracted: int) -> pl.Expr:
        return times_rate_expr(taxable, Decimal(rate)) - subtracted

    table: list[tuple[int, int | pl.Expr]] = [(upper, tax(rate, minus)) for upper, rate, minus in RATES]
    return brackets(taxable, table, tax(*TOP_RATE))


@rules.rule(
    "income_tax_dividend_credit",
    label="配当控除（所得税）",
    reference=LAW + "第92条第1項（配当所得の10%、課税総所得金額等のうち1,000万円を超える部分に含まれるものは5%）",
)
def _dividend(s: Scope) -> pl.Expr:
    dividends = s("dividend_income")
    upper = dividends.clip(upper_bound=(s("income_tax_taxable_income") - 10_000_000).clip(lower_bound=0))
    credit = times_rate_expr(dividends - upper, Decimal("0.10")) + times_rate_expr(upper, Decimal("0.05"))
    return pl.min_horizontal(credit, s("income_tax_gross"))


@rules.rule(
    "income_tax_housing_loan_credit",
    label="住宅借入金等特別控除（所得税）",
    reference="租税特別措置法第41条（住宅借入金等特別控除可能額のうち所得税額までの額）",
)
def _housing(s: Scope) -> pl.Expr:
    remaining = s("income_tax_gross") - s("income_tax_dividend_credit")
    return pl.min_horizontal(s("housing_loan_credit_available"), remaining)


@rules.rule(
    "estimated_income_tax",
    label="推計所得税額（税額控除後、定額減税前、復興特別所得税を含まない）",
    reference=(
        "租税特別措置法第41条の3の3第1項（定額減税はその年分の所得税の額から控除）、" + LAW + "第92条、"
        "租税特別措置法第41条。前年の所得による推計（令和6年 調整給付の「令和6年分推計所得税額」）"
    ),
)
def _estimated(s: Scope) -> pl.Expr:
    credits = s("income_tax_dividend_credit") + s("income_tax_housing_loan_credit")
    return (s("income_tax_gross") - credits).clip(lower_bound=0)


# --- 定額減税の人数と定額減税前の所得割 ------------------------------------------------------------------------------


@rules.rule(
    "income_tax_cut_persons",
    label="所得税の定額減税の人数（本人＋同一生計配偶者＋扶養親族）",
    reference=(
        "租税特別措置法第41条の3の3第2項（居住者本人3万円、同一生計配偶者又は扶養親族1人につき3万円を加算。"
        "控除対象配偶者に限らない）"
    ),
)
def _cut_persons(s: Scope) -> pl.Expr:
    kinds = ("young", "specific", "elderly_parent", "elderly", "general")
    return 1 + s("spouses") + sum((s(f"{k}_dependants") for k in kinds), pl.lit(0))


@rules.rule(
    "income_levy_before_flat_reduction",
    label="所得割額（市町村民税＋道府県民税、税額控除後・定額減税前）",
    reference="地方税法附則「令和6年度分の個人の市町村民税・道府県民税の特別税額控除」（令和6年法律第4号、条番号は未確認）（定額減税はこの所得割の額から控除する）",
)
def _levy_before(s: Scope) -> pl.Expr:
    return s("income_levy_before_flat_reduction_municipal") + s("income_levy_before_flat_reduction_prefectural")
