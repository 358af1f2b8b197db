"""寄附金税額控除 (地方税法第314条の7 (市町村民税), 第37条の2 (道府県民税)) and the 申告特例控除 of ふるさと納税's
ワンストップ特例 (申告特例: 地方税法附則第7条第1項・第8項, as 総務省令 様式第55号の5 cites it; 申告特例控除額:
附則第7条の2, 項番号は e-Gov で未確認).

* 基本控除: (寄附金の合計額 (総所得金額等の30%まで) − 2,000円) × 市町村民税 6% / 道府県民税 4% (指定都市 8% / 2%).
  寄附金 are 都道府県・市区町村への寄附金 (ふるさと納税), 住所地の共同募金会・日本赤十字社支部への寄附金 and those the
  municipality's / the prefecture's 条例 designates (条例指定寄附金): a 条例指定寄附金 counts only for the tax of the
  body whose 条例 designates it, so each tax has its own total.
* 特例控除 (ふるさと納税 only): (都道府県・市区町村への寄附金 − 2,000円) × (90% − 所得税の税率 × 1.021) × 3/5
  (市町村民税) or 2/5 (道府県民税) (指定都市 4/5 and 1/5), at most 20% of that tax's 所得割 after the 調整控除. The
  税率 is that of the table of 第314条の7第11項第1号 on 課税総所得金額 − 人的控除差調整額 (the 住民税 side:
  ``taxable_income`` − ``personal_deduction_difference``), 90% when that is negative; × 1.021 (復興特別所得税) for
  平成26年度〜令和20年度 (地方税法附則第5条の6).
* 申告特例控除 (ワンストップ特例, input ``donation_one_stop``): 特例控除額 × 所得税の税率 × 1.021 ÷ (90% − 所得税の
  税率 × 1.021), the part the 所得税 would have given.

Sources: 総務省「ふるさと納税のしくみ 税金の控除について」
(https://www.soumu.go.jp/main_sosiki/jichi_zeisei/czaisei/czaisei_seido/furusato/mechanism/deduction.html); 倉敷市
「ふるさと納税をした場合の寄附金税額控除」の計算例 (https://www.city.kurashiki.okayama.jp/39728.htm: 基本控除・
特例控除 (20%上限)・申告特例控除); 秦野市「ふるさと寄附金税制」 (30% applies to the 基本控除 only); 長浜市「市県民税の
寄附金税額控除」 (https://www.city.nagahama.lg.jp/0000009485.html: 条例指定 by the city only 6%, by the prefecture
only 4%).

Rounding: each 控除額 is rounded **up** to the yen (1円未満切上げ), per tax. The law has no rounding rule for it
(地方税法第20条の4の2 covers the 課税標準 and the 確定金額); the municipal worked examples round up: 倉敷市's
申告特例控除額 2,195円 (= 36,500円 × 5.105/84.895 = 2,194.8円; 市 1,316.9 → 1,317円, 県 877.9 → 878円) and 新宮町's
特例控除額 40,750円 (= 48,000円 × 84.895% = 40,749.6円, https://www.town.shingu.fukuoka.jp/index.cfm/52,9881,328,300,html).
The 20% cap is rounded up as well (not confirmed by an example: the published ones are whole yen); the 30% cap on
寄附金 is rounded down (1円未満切捨て; not confirmed either).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import polars as pl

from kiban.core.money import times_rate_expr, times_rate_up_expr, times_ratio_up_expr
from kiban.core.rules.engine import Scope
from kiban.tax.rules.common import brackets, rules
from kiban.tax.rules.levy import LEVELS, at_level_rate

ARTICLES = {"municipal": "地方税法第314条の7", "prefectural": "地方税法第37条の2"}

MARGINAL_RATES: list[tuple[int, str]] = [
    # (課税総所得金額 − 人的控除差調整額 の上限（以下）, 所得税の税率): the table of 第314条の7第11項第1号
    # (第37条の2第11項第1号), whose 割合 are 90% − these rates (0円未満 90%, 195万円以下 85%, …, 4,000万円超 45%).
    # The law writes its own table (it coincides with 所得税法第89条's brackets, it does not refer to them).
    (-1, "0"),
    (1_950_000, "0.05"),
    (3_300_000, "0.10"),
    (6_950_000, "0.20"),
    (9_000_000, "0.23"),
    (18_000_000, "0.33"),
    (40_000_000, "0.40"),
]
TOP_MARGINAL_RATE = "0.45"


def _marginal_ratio(s: Scope, ratio: Callable[[Fraction], Fraction]) -> tuple[pl.Expr, pl.Expr]:
    """The numerator and denominator of ``ratio(所得税の税率)``, the 税率 by the table on
    ``donation_special_rate_base`` (one product per row afterwards, not one per row of the table)."""
    ratios = [(upper, ratio(Fraction(rate))) for upper, rate in MARGINAL_RATES]
    top = ratio(Fraction(TOP_MARGINAL_RATE))
    base = s("donation_special_rate_base")
    numerator = brackets(base, [(upper, r.numerator) for upper, r in ratios], top.numerator)
    denominator = brackets(base, [(upper, r.denominator) for upper, r in ratios], top.denominator)
    return numerator, denominator


def _surtaxed(s: Scope, marginal: Fraction) -> Fraction:
    """所得税の税率 × 1.021 (the 復興特別所得税 folded in: 5.105% …)."""
    return marginal * Fraction(s.rate("resident_tax.donation_credit.income_tax_surtax_factor"))


def _special_ratio(s: Scope, marginal: Fraction) -> Fraction:
    """90% − 所得税の税率 × 1.021 (附則第5条の6の読替え後の割合: 84.895% …)."""
    return Fraction(s.rate("resident_tax.donation_credit.special_base_rate")) - _surtaxed(s, marginal)


def _share(s: Scope, level: str) -> tuple[Fraction, Fraction]:
    """This tax's share of the 特例控除 (3/5, 2/5) and in a 指定都市 (4/5, 1/5)."""
    kind = "resident_tax.donation_credit.special_share"
    return Fraction(s.rate(f"{kind}.{level}")), Fraction(s.rate(f"{kind}.{level}_designated_city"))


@rules.rule(
    "donation_special_rate_base",
    label="特例控除の割合を求める金額（課税総所得金額 − 人的控除差調整額）",
    reference="地方税法第314条の7第11項第1号・第37条の2第11項第1号（項番号はe-Govで未確認）",
)
def _rate_base(s: Scope) -> pl.Expr:
    # 人的控除差調整額 is the 人的控除額の差の合計額 of the 調整控除 (地方税法第314条の6第1号イ).
    return s("taxable_income") - s("personal_deduction_difference")


def _declare_level(level: str, japanese: str) -> None:
    article = ARTICLES[level]

    @rules.rule(
        f"donation_basic_base_{level}",
        label=f"基本控除の対象額（{japanese}：寄附金の合計額（総所得金額等の30%まで）− 2,000円）",
        reference=(
            f"{article}第1項（都道府県・市区町村、住所地の共同募金会・日本赤十字社支部、条例で指定する寄附金の合計額。"
            "総所得金額等の100分の30を超える部分と2,000円は控除しない）"
        ),
    )
    def _basic_base(s: Scope) -> pl.Expr:
        # A 条例指定寄附金 counts for the tax of the body whose 条例 designates it (長浜市: 市の指定のみ 6%、県の指定
        # のみ 4%); a donation both designate is in both inputs.
        total = s("donation_hometown") + s("donation_community_chest") + s(f"donation_designated_{level}")
        cap = times_rate_expr(s("total_income_base"), s.rate("resident_tax.donation_credit.income_cap_rate"))
        minimum = s.yen("resident_tax.donation_credit.minimum_donation")
        return (pl.min_horizontal(total, cap) - minimum).clip(lower_bound=0)

    @rules.rule(
        f"donation_basic_credit_{level}",
        label=f"寄附金税額控除の基本控除額（{japanese}）",
        reference=f"{article}第1項（市町村民税100分の6・道府県民税100分の4、指定都市100分の8・100分の2）",
    )
    def _basic(s: Scope) -> pl.Expr:
        base = s(f"donation_basic_base_{level}")
        return at_level_rate(s, base, "donation_credit.basic_rate", level, times=times_rate_up_expr)

    @rules.rule(
        f"donation_special_cap_{level}",
        label=f"特例控除額の上限（{japanese}：調整控除後の所得割額の20%）",
        reference=f"{article}第11項（税率と調整控除を適用した所得割の額の100分の20。項番号はe-Govで未確認）",
    )
    def _special_cap(s: Scope) -> pl.Expr:
        levied = (s(f"income_levy_gross_{level}") - s(f"adjustment_credit_{level}")).clip(lower_bound=0)
        return times_rate_up_expr(levied, s.rate("resident_tax.donation_credit.special_cap_rate"))

    @rules.rule(
        f"donation_special_credit_{level}",
        label=f"寄附金税額控除の特例控除額（{japanese}）",
        reference=(
            f"{article}第11項（都道府県・市区町村への寄附金 − 2,000円）×（90% − 所得税の税率）× 5分の3（道府県民税"
            "5分の2、指定都市5分の4・5分の1）、所得割の20%まで。附則第5条の6（平成26年度〜令和20年度は所得税の税率×1.021）"
        ),
    )
    def _special(s: Scope) -> pl.Expr:
        # Not limited to 30% of 総所得金額等 (秦野市「ふるさと寄附金税制」: the 30% applies to the 基本控除).
        minimum = s.yen("resident_tax.donation_credit.minimum_donation")
        eligible = (s("donation_hometown") - minimum).clip(lower_bound=0)
        ordinary, designated = _share(s, level)
        ordinary_ratio = _marginal_ratio(s, lambda rate: _special_ratio(s, rate) * ordinary)
        designated_ratio = _marginal_ratio(s, lambda rate: _special_ratio(s, rate) * designated)
        in_city = s("designated_city")
        numerator = pl.when(in_city).then(designated_ratio[0]).otherwise(ordinary_ratio[0])
        denominator = pl.when(in_city).then(designated_ratio[1]).otherwise(ordinary_ratio[1])
        amount = times_ratio_up_expr(eligible, numerator, denominator)
        return pl.min_horizontal(amount, s(f"donation_special_cap_{level}"))

    @rules.rule(
        f"donation_one_stop_credit_{level}",
        label=f"申告特例控除額（{japanese}）",
        reference=(
            "地方税法附則第7条の2（特例控除額 × 所得税の税率×1.021 ÷（90% − 所得税の税率×1.021）。申告特例"
            "（附則第7条第1項・第8項）の求めをした者で、確定申告・住民税の申告をしなかったもの。項番号はe-Govで未確認）"
        ),
    )
    def _one_stop(s: Scope) -> pl.Expr:
        # 倉敷市の計算例: 特例控除額 36,500円 × 5.105/84.895 = 2,195円 (端数切上げ). The ratio is 0 when the
        # 課税総所得金額 − 人的控除差調整額 is negative (割合 90%: no 所得税 to make up for).
        def ratio(rate: Fraction) -> Fraction:
            return _surtaxed(s, rate) / _special_ratio(s, rate)

        credit = times_ratio_up_expr(s(f"donation_special_credit_{level}"), *_marginal_ratio(s, ratio))
        return pl.when(s("donation_one_stop")).then(credit).otherwise(0)

    @rules.rule(
        f"donation_credit_{level}",
        label=f"寄附金税額控除額（{japanese}、申告特例控除額を含む）",
        reference=f"{article}、地方税法附則第7条の2",
    )
    def _total(s: Scope) -> pl.Expr:
        parts = ("donation_basic_credit", "donation_special_credit", "donation_one_stop_credit")
        return sum((s(f"{part}_{level}") for part in parts), pl.lit(0))


for _level, _japanese in LEVELS.items():
    _declare_level(_level, _japanese)
