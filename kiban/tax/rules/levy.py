"""所得割, 税額控除, 均等割, 森林環境税, and 非課税 (市町村民税 and 道府県民税, which the municipality assesses
together: 地方税法第41条第1項).

Rounding: 所得割 is computed in whole yen (1円未満切捨て) and each tax's 確定金額 is rounded down to 100 yen
(地方税法第20条の4の2第3項) after every credit.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import polars as pl

from kiban.core.money import floor_to_expr, times_rate_expr
from kiban.core.rules.engine import Scope
from kiban.tax.rules.common import FY2024, FY2025, FY2026, age_on_levy_date, by_taxpayer_income, rules

LEVELS = {"municipal": "市町村民税", "prefectural": "道府県民税"}


def at_level_rate(
    s: Scope, amount: pl.Expr, kind: str, level: str, times: Callable[[pl.Expr, Decimal], pl.Expr] = times_rate_expr
) -> pl.Expr:
    """``amount`` × the rate of parameter ``resident_tax.{kind}.{level}`` (``…_designated_city`` in a 指定都市),
    rounded as ``times`` does (1円未満切捨て by default)."""
    ordinary = times(amount, s.rate(f"resident_tax.{kind}.{level}"))
    designated = times(amount, s.rate(f"resident_tax.{kind}.{level}_designated_city"))
    return pl.when(s("designated_city")).then(designated).otherwise(ordinary)


# --- 非課税 -----------------------------------------------------------------------------------------------------------


@rules.rule(
    "household_size_for_exemption",
    label="非課税限度額の人数（本人＋同一生計配偶者＋扶養親族）",
    reference="地方税法施行令第47条の3、地方税法附則第3条の3",
)
def _size(s: Scope) -> pl.Expr:
    kinds = ("young", "specific", "elderly_parent", "elderly", "general")
    return 1 + s("spouses") + sum((s(f"{k}_dependants") for k in kinds), pl.lit(0))


@rules.rule(
    "age_on_levy_date",
    label="年齢（賦課期日現在）",
    reference="地方税法第295条第1項第2号（未成年者）、第318条（賦課期日）",
    dtype=pl.Int32(),
)
def _age_on_levy_date(s: Scope) -> pl.Expr:
    return age_on_levy_date(s)


@rules.rule(
    "exempt_special_person",
    label="障害者・未成年者・寡婦・ひとり親で合計所得金額135万円以下",
    reference="地方税法第295条第1項第2号（道府県民税は第24条の5第1項）",
    dtype=pl.Boolean(),
)
def _special_person(s: Scope) -> pl.Expr:
    special = (s("disability") != "none") | (s("age_on_levy_date") < 18) | s("widow") | s("single_parent")
    return special & (s("total_income") <= s.yen("resident_tax.exemption.special_persons_income_limit"))


def _exemption_limit(s: Scope, parameters: str) -> pl.Expr:
    """基本額 × 人数 + 固定加算額 (+ 扶養加算額 with a 同一生計配偶者 or 扶養親族): the form of both limits."""
    n = s("household_size_for_exemption")
    base = n * s.yen(f"{parameters}.per_person") + s.yen(f"{parameters}.fixed_addition")
    return base + pl.when(n > 1).then(s.yen(f"{parameters}.dependants_addition")).otherwise(0)


@rules.rule(
    "per_capita_exemption_limit",
    label="均等割の非課税限度額",
    reference="地方税法第295条第3項、地方税法施行令第47条の3（市町村の条例で定める額）",
)
def _per_capita_limit(s: Scope) -> pl.Expr:
    return _exemption_limit(s, "resident_tax.per_capita.exemption")


@rules.rule(
    "income_levy_exemption_limit",
    label="所得割の非課税限度額",
    reference="地方税法附則第3条の3第1項・第4項",
)
def _income_levy_limit(s: Scope) -> pl.Expr:
    return _exemption_limit(s, "resident_tax.income_levy.exemption")


@rules.rule(
    "exempt",
    label="非課税（均等割・所得割とも）",
    reference="地方税法第295条第1項（生活保護法の生活扶助、障害者等）・第3項（均等割の非課税限度額）",
    dtype=pl.Boolean(),
)
def _exempt(s: Scope) -> pl.Expr:
    by_limit = s("total_income") <= s("per_capita_exemption_limit")
    return s("welfare_recipient") | s("exempt_special_person") | by_limit


@rules.rule(
    "income_levy_exempt",
    label="所得割の非課税",
    reference="地方税法附則第3条の3（総所得金額等が所得割の非課税限度額以下）",
    dtype=pl.Boolean(),
)
def _income_levy_exempt(s: Scope) -> pl.Expr:
    return s("exempt") | (s("total_income_base") <= s("income_levy_exemption_limit"))


# --- 所得割 -----------------------------------------------------------------------------------------------------------


@rules.rule(
    "personal_deduction_difference",
    label="人的控除額の差の合計額",
    reference="地方税法第314条の6第1号イ（道府県民税は第37条）",
)
def _difference(s: Scope) -> pl.Expr:
    income = s("total_income")
    spouse = (
        pl.when(s("elderly_spouses") > 0)
        .then(by_taxpayer_income(income, (100_000, 60_000, 30_000)))
        .when(s("spouses") > 0)
        .then(by_taxpayer_income(income, (50_000, 40_000, 20_000)))
        .otherwise(0)
    )
    special_income = s("special_spouse_income")
    spouse_special = (
        pl.when((s("special_spouses") > 0) & (special_income < 500_000))
        .then(by_taxpayer_income(income, (50_000, 40_000, 20_000)))
        .when((s("special_spouses") > 0) & (special_income < 550_000))
        .then(by_taxpayer_income(income, (30_000, 20_000, 10_000)))
        .otherwise(0)
    )
    own_disability = (
        pl.when(s("disability") == "special")
        .then(100_000)
        .when(s("disability") == "ordinary")
        .then(10_000)
        .otherwise(0)
    )
    single_parent = pl.when(s("single_parent_deduction") > 0).then(
        pl.when(s("sex") == "female").then(50_000).otherwise(10_000)
    )
    return (
        pl.lit(50_000)  # 基礎控除
        + spouse
        + spouse_special
        + s("general_dependants") * 50_000
        + s("specific_dependants") * 180_000
        + s("elderly_dependants") * 100_000
        + s("elderly_parent_dependants") * 130_000
        + own_disability
        + s("disabled_dependants") * 10_000
        + s("special_disabled_dependants") * 100_000
        + s("cohabiting_special_disabled_dependants") * 220_000
        + pl.when(s("widow_deduction") > 0).then(10_000).otherwise(0)
        + single_parent.otherwise(0)
        + pl.when(s("working_student_deduction") > 0).then(10_000).otherwise(0)
    )


@rules.rule(
    "adjustment_credit_base",
    label="調整控除の計算基礎",
    reference="地方税法第314条の6第1号（合計所得金額2,500万円超は適用なし）",
)
def _adjustment_base(s: Scope) -> pl.Expr:
    taxable, difference = s("taxable_income"), s("personal_deduction_difference")
    minimum = s.yen("resident_tax.adjustment_credit.minimum_base")
    small = pl.min_horizontal(difference, taxable)
    large = (difference - (taxable - 2_000_000)).clip(lower_bound=minimum)
    base = pl.when(taxable <= 2_000_000).then(small).otherwise(large)
    return pl.when(s("total_income") <= 25_000_000).then(base).otherwise(0)


def _declare_level(level: str, japanese: str, article: str) -> None:
    @rules.rule(f"income_levy_gross_{level}", label=f"所得割額（{japanese}、税額控除前）", reference=article)
    def _gross(s: Scope) -> pl.Expr:
        return at_level_rate(s, s("taxable_income"), "income_levy.rate", level)

    @rules.rule(
        f"adjustment_credit_{level}",
        label=f"調整控除額（{japanese}）",
        reference="地方税法第314条の6・第37条（市町村民税3%・道府県民税2%、指定都市4%・1%）",
    )
    def _adjustment(s: Scope) -> pl.Expr:
        return at_level_rate(s, s("adjustment_credit_base"), "adjustment_credit.rate", level)

    @rules.rule(
        f"dividend_credit_{level}",
        label=f"配当控除額（{japanese}）",
        reference="地方税法附則第5条第1項・第2項",
    )
    def _dividend(s: Scope) -> pl.Expr:
        # 課税総所得金額等のうち1,000万円を超える部分に含まれる配当所得は半分の率
        rates = {"municipal": ("0.016", "0.008"), "prefectural": ("0.012", "0.006")}[level]
        designated = {"municipal": ("0.0224", "0.0112"), "prefectural": ("0.0056", "0.0028")}[level]
        dividends = s("dividend_income")
        upper = dividends.clip(upper_bound=(s("taxable_income") - 10_000_000).clip(lower_bound=0))
        lower = dividends - upper
        ordinary = times_rate_expr(lower, Decimal(rates[0])) + times_rate_expr(upper, Decimal(rates[1]))
        city = times_rate_expr(lower, Decimal(designated[0])) + times_rate_expr(upper, Decimal(designated[1]))
        return pl.when(s("designated_city")).then(city).otherwise(ordinary)

    @rules.rule(
        f"housing_loan_credit_{level}",
        label=f"住宅借入金等特別税額控除額（{japanese}）",
        reference=(
            "地方税法附則第5条の4の2（所得税で控除しきれなかった額、所得税の課税総所得金額等の5%・97,500円（特定取得は"
            "7%・136,500円）が上限、市町村民税と道府県民税は3:2、指定都市は4:1）"
        ),
    )
    def _housing(s: Scope) -> pl.Expr:
        # The cap is a share of the 所得税's 課税総所得金額等, not the resident tax's (松江市「所得税の課税総所得金額等
        # ×5%(上限97,500円)」; 特定取得 ×7%, 上限136,500円). The base is a multiple of 1,000 yen, so the product is
        # whole yen (times_rate_expr would truncate a fraction: 1円未満切捨て).
        base = s("income_tax_taxable_income")

        def cap(suffix: str) -> pl.Expr:
            rate = s.rate(f"resident_tax.housing_loan_credit.rate{suffix}")
            return pl.min_horizontal(
                times_rate_expr(base, rate), pl.lit(s.yen(f"resident_tax.housing_loan_credit.cap{suffix}"))
            )

        limit = pl.when(s("housing_loan_specified_acquisition")).then(cap("_specified_acquisition")).otherwise(cap(""))
        # Only what the 所得税 could not take: 控除可能額 − 所得税の住宅借入金等特別控除額.
        left = (s("housing_loan_credit_available") - s("housing_loan_credit_used")).clip(lower_bound=0)
        total = pl.min_horizontal(left, limit)
        # Each tax's share: 3/5 and 2/5 (指定都市 4/5 and 1/5), 1円未満切捨て.
        fifths, fifths_designated = {"municipal": (3, 4), "prefectural": (2, 1)}[level]
        return pl.when(s("designated_city")).then(total * fifths_designated // 5).otherwise(total * fifths // 5)

    @rules.rule(
        f"income_levy_after_credits_{level}",
        label=f"所得割額（{japanese}、税額控除後）",
        reference=article + "、地方税法第314条の6・第314条の7、附則第5条・第5条の4の2・第7条の2",
    )
    def _after_credits(s: Scope) -> pl.Expr:
        credits = s(f"adjustment_credit_{level}") + s(f"dividend_credit_{level}") + s(f"housing_loan_credit_{level}")
        # 寄附金税額控除 (申告特例控除額を含む) after the 住宅借入金等特別税額控除 (kiban.tax.rules.donations).
        credits = credits + s(f"donation_credit_{level}")
        return (s(f"income_levy_gross_{level}") - credits).clip(lower_bound=0)

    reduction_law = {"municipal": "第5項", "prefectural": "第2項"}[level]

    @rules.rule(
        f"income_levy_before_flat_reduction_{level}",
        label=f"所得割額（{japanese}、非課税限度額を超える者の減額後、定額減税前）",
        reference=(
            f"地方税法附則第3条の3{reduction_law}（総所得金額等が所得割の非課税限度額を少し超える者：税額控除後の所得割額"
            "は、総所得金額等から限度額を控除した金額に率を乗じた額まで）"
        ),
    )
    def _before_flat(s: Scope) -> pl.Expr:
        # 所得割 after the credits (調整控除・配当控除・住宅借入金等特別税額控除) is at most
        # (総所得金額等 − 所得割の非課税限度額) × this tax's rate, 1円未満切捨て, so that what is left of the income
        # after both 所得割 is not below the limit (坂戸市「個人住民税所得割の調整措置」
        # https://www.city.sakado.lg.jp/soshiki/13/22493.html; 棚倉町の計算例
        # https://www.town.tanagura.fukushima.jp/temporary/page000126.html). The 定額減税 comes off the reduced amount.
        excess = (s("total_income_base") - s("income_levy_exemption_limit")).clip(lower_bound=0)
        cap = at_level_rate(s, excess, "income_levy.exemption.reduction_rate", level)
        amount = pl.min_horizontal(s(f"income_levy_after_credits_{level}"), cap)
        return pl.when(s("income_levy_exempt")).then(0).otherwise(amount)

    flat_label = f"定額減税額（{japanese}）"
    flat_law = (
        "地方税法附則（令和6年法律第4号により追加）の「令和6年度分の個人の道府県民税・市町村民税の特別税額控除」の規定"
        "（条番号はe-Govで未確認。各条第2項：本人・控除対象配偶者・扶養親族（国外居住者を除く）1人につき1万円、合計所得"
        "金額1,805万円超は対象外、市町村民税と道府県民税は両者の所得割額の比で按分）。令和7年度分は同じ法律による"
        "「令和7年度分の個人の道府県民税・市町村民税の特別税額控除」の規定：控除対象配偶者以外の同一生計配偶者1人に"
        "つき1万円（総務省「個人住民税における定額減税について」）"
    )

    @rules.rule(f"flat_reduction_{level}", label=flat_label, reference=flat_law)
    def _no_flat(s: Scope) -> pl.Expr:
        return pl.lit(0)

    @rules.rule(f"flat_reduction_{level}", label=flat_label, reference=flat_law, since=FY2024)
    def _flat(s: Scope) -> pl.Expr:
        # The 1万円 per person is shared between the two taxes in proportion to their 所得割 (after the 附則第3条の3
        # reduction, before this credit): 道府県民税分 = 控除額 × 道府県民税所得割 ÷ (市町村民税所得割 + 道府県民税
        # 所得割), 1円未満切捨て, the rest to the 市町村民税 (as the 相模原市 worked example computes it); each at most
        # its own 所得割. The rounding is not confirmed by the law text (the 平成10年度 特別減税 rounded this share up);
        # the 相模原市 example gives the same 100-yen amounts either way.
        total = s("flat_reduction_persons") * s.yen("resident_tax.flat_reduction.per_person")
        municipal = s("income_levy_before_flat_reduction_municipal")
        prefectural = s("income_levy_before_flat_reduction_prefectural")
        levied = (municipal + prefectural).clip(lower_bound=1)
        prefectural_share = pl.min_horizontal(total * prefectural // levied, prefectural)
        share = prefectural_share if level == "prefectural" else pl.min_horizontal(total - prefectural_share, municipal)
        eligible = (s("total_income") <= 18_050_000) & (municipal + prefectural > 0)
        return pl.when(eligible).then(share).otherwise(0)

    @rules.rule(f"flat_reduction_{level}", label=flat_label, reference=flat_law, since=FY2025)
    def _flat_spouse(s: Scope) -> pl.Expr:
        # 令和7年度: the same split of 1万円 per 控除対象配偶者以外の同一生計配偶者 (flat_reduction_persons).
        return _flat(s)

    @rules.rule(f"flat_reduction_{level}", label=flat_label, reference=flat_law, since=FY2026)
    def _flat_ended(s: Scope) -> pl.Expr:
        return pl.lit(0)

    @rules.rule(
        f"income_levy_{level}",
        label=f"所得割額（{japanese}）",
        reference=article + "、地方税法第20条の4の2第3項（100円未満切捨て）",
    )
    def _final(s: Scope) -> pl.Expr:
        after = (s(f"income_levy_before_flat_reduction_{level}") - s(f"flat_reduction_{level}")).clip(lower_bound=0)
        return floor_to_expr(after, 100)

    per_capita_law = {"municipal": "地方税法第310条", "prefectural": "地方税法第38条"}[level]

    @rules.rule(f"per_capita_{level}", label=f"均等割額（{japanese}）", reference=per_capita_law)
    def _per_capita(s: Scope) -> pl.Expr:
        return pl.when(s("exempt")).then(0).otherwise(s.yen(f"resident_tax.per_capita.{level}"))


FLAT_PERSONS_LAW = (
    "令和6年度: 本人＋控除対象配偶者＋扶養親族（地方税法附則「令和6年度分の個人の道府県民税・市町村民税の特別税額"
    "控除」の各条第2項、令和6年法律第4号。条番号はe-Govで未確認）。令和7年度: 控除対象配偶者以外の同一生計配偶者"
    "（地方税法附則「令和7年度分の個人の道府県民税・市町村民税の特別税額控除」、同法律。総務省「個人住民税における"
    "定額減税について」; いわき市・利根町「令和7年度 個人住民税の定額減税"
    "について」: 納税義務者の前年の合計所得金額が1,000万円超1,805万円以下で、前年の合計所得金額48万円以下の同一生計"
    "配偶者（国外居住者を除く）を有する者）"
)


@rules.rule("flat_reduction_persons", label="定額減税の対象人数", reference=FLAT_PERSONS_LAW)
def _flat_persons(s: Scope) -> pl.Expr:
    kinds = ("young", "specific", "elderly_parent", "elderly", "general")
    spouse = pl.when(s("spouse_deduction") > 0).then(1).otherwise(0)
    return 1 + spouse + sum((s(f"{k}_dependants") for k in kinds), pl.lit(0))


@rules.rule("flat_reduction_persons", label="定額減税の対象人数", reference=FLAT_PERSONS_LAW, since=FY2025)
def _flat_spouses(s: Scope) -> pl.Expr:
    # Above 1,000万円 the 同一生計配偶者 is not a 控除対象配偶者 (地方税法第292条第1項第9号), so the 令和6年度 定額減税
    # did not count them; 令和7年度 does. (国外居住者 are not in the register's inputs.)
    above = (s("total_income") > 10_000_000) & (s("total_income") <= 18_050_000)
    return pl.when(above).then(s("spouses")).otherwise(0)


@rules.rule("flat_reduction_persons", label="定額減税の対象人数", reference=FLAT_PERSONS_LAW, since=FY2026)
def _flat_none(s: Scope) -> pl.Expr:
    return pl.lit(0)


@rules.rule("forest_environment_tax", label="森林環境税", reference="森林環境税及び森林環境譲与税に関する法律第4条")
def _no_forest_tax(s: Scope) -> pl.Expr:
    return pl.lit(0)


@rules.rule(
    "forest_environment_tax",
    label="森林環境税",
    reference="森林環境税及び森林環境譲与税に関する法律第4条（令和6年度分から年額1,000円、住民税均等割の非課税者は非課税）",
    since=FY2024,
)
def _forest_tax(s: Scope) -> pl.Expr:
    return pl.when(s("exempt")).then(0).otherwise(s.yen("forest_environment_tax.per_capita"))


_declare_level("municipal", "市町村民税", "地方税法第314条の3（所得割の税率）")
_declare_level("prefectural", "道府県民税", "地方税法第35条（所得割の税率）")
