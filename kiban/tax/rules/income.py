"""所得: 給与所得, 所得金額調整控除, 公的年金等に係る雑所得, 合計所得金額, 総所得金額等.

住民税 computes these as 所得税 does (地方税法第313条第2項・第32条第2項: 総所得金額 is computed by the 所得税法
rules), so the citations are to 所得税法 and 租税特別措置法. Inputs are yen per year of the income year.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from kiban.core.money import times_rate_expr
from kiban.core.rules.engine import Scope
from kiban.tax.rules.common import FY2026, brackets, rules

SALARY_TABLE = "所得税法第28条第3項・第4項、別表第五（給与所得控除後の給与等の金額の表）"


def _quarter(revenue: pl.Expr) -> pl.Expr:
    """別表第五 for 収入 from 162.8万円 to under 660万円: 収入金額 ÷ 4, 千円未満の端数切捨て (the table's 4,000円
    steps), as whole yen."""
    return revenue // 4_000 * 1_000


def _from_quarter(revenue: pl.Expr) -> list[tuple[int, pl.Expr]]:
    q = _quarter(revenue)
    return [
        (3_599_999, q * 14 // 5 - 80_000),  # A × 2.8 − 80,000
        (6_599_999, q * 16 // 5 - 440_000),  # A × 3.2 − 440,000
        (8_499_999, revenue * 9 // 10 - 1_100_000),  # 収入 × 90% − 1,100,000 (1円未満切捨て)
    ]


@rules.rule(
    "salary_income_before_adjustment",
    label="給与所得控除後の給与等の金額",
    reference=SALARY_TABLE + "（令和2年分から令和6年分まで：給与所得控除 最低55万円）",
)
def _salary_until_2024(s: Scope) -> pl.Expr:
    revenue = s("salary_revenue")
    q = _quarter(revenue)
    table: list[tuple[int, int | pl.Expr]] = [
        (550_999, 0),
        (1_618_999, revenue - 550_000),
        (1_619_999, 1_069_000),
        (1_621_999, 1_070_000),
        (1_623_999, 1_072_000),
        (1_627_999, 1_074_000),
        (1_799_999, q * 12 // 5 + 100_000),  # A × 2.4 + 100,000
        *_from_quarter(revenue),
    ]
    return brackets(revenue, table, revenue - 1_950_000)


@rules.rule(
    "salary_income_before_adjustment",
    label="給与所得控除後の給与等の金額",
    reference=SALARY_TABLE + "（令和7年分から：給与所得控除 最低65万円、令和7年法律第13号）",
    since=FY2026,
)
def _salary_from_2025(s: Scope) -> pl.Expr:
    revenue = s("salary_revenue")
    table: list[tuple[int, int | pl.Expr]] = [(650_999, 0), (1_899_999, revenue - 650_000), *_from_quarter(revenue)]
    return brackets(revenue, table, revenue - 1_950_000)


@rules.rule(
    "pension_income",
    label="公的年金等に係る雑所得",
    reference="所得税法第35条第2項・第4項（公的年金等控除額）、租税特別措置法第41条の15の3（65歳以上の特例）",
)
def _pension_income(s: Scope) -> pl.Expr:
    revenue = s("pension_revenue")
    other = s("other_than_pension_income")
    senior = s("age_at_year_end") >= 65
    common = [
        (4_099_999, times_rate_expr(revenue, Decimal("0.25")) + 275_000),
        (7_699_999, times_rate_expr(revenue, Decimal("0.15")) + 685_000),
        (9_999_999, times_rate_expr(revenue, Decimal("0.05")) + 1_455_000),
    ]
    deduction = (
        pl.when(senior)
        .then(pl.when(revenue <= 3_300_000).then(1_100_000).otherwise(brackets(revenue, common, pl.lit(1_955_000))))
        .otherwise(pl.when(revenue <= 1_300_000).then(600_000).otherwise(brackets(revenue, common, pl.lit(1_955_000))))
    )
    # 公的年金等に係る雑所得以外の合計所得金額が1,000万円超: 10万円、2,000万円超: 20万円 少ない控除額
    reduced = deduction - brackets(other, [(10_000_000, 0), (20_000_000, 100_000)], 200_000)
    return (revenue - reduced).clip(lower_bound=0)


@rules.rule(
    "income_adjustment_pension",
    label="所得金額調整控除（給与所得と年金所得の双方を有する者）",
    reference=(
        "租税特別措置法第41条の3の11第2項（令和5年分までは第41条の3の3。住民税は地方税法第32条第2項・第313条第2項"
        "（所得税法の計算の例）、同法施行令第48条の5の2）"
    ),
)
def _adjustment_pension(s: Scope) -> pl.Expr:
    salary = s("salary_income_before_adjustment")
    pension_revenue = s("pension_revenue")
    has_both = (salary > 0) & (pension_revenue > 0)
    # 給与所得控除後の給与等の金額（10万円超は10万円）+ 公的年金等に係る雑所得（10万円超は10万円）− 10万円
    amount = salary.clip(upper_bound=100_000) + s("pension_income").clip(upper_bound=100_000) - 100_000
    return pl.when(has_both).then(amount.clip(lower_bound=0)).otherwise(0)


@rules.rule(
    "other_than_pension_income",
    label="公的年金等に係る雑所得以外の合計所得金額",
    reference="所得税法第35条第4項（公的年金等控除額の区分）",
)
def _other_than_pension(s: Scope) -> pl.Expr:
    # Read before the 所得金額調整控除 (which itself reads the pension income): it changes this sum by at most 10万円,
    # and only where 給与 and 年金 are both present.
    return (
        s("salary_income_before_adjustment") + s("business_income") + s("other_income") + s("dividend_income")
    ).clip(lower_bound=0)


@rules.rule(
    "income_adjustment_children",
    label="所得金額調整控除（子ども・特別障害者等を有する者）",
    reference="租税特別措置法第41条の3の11第1項（令和5年分までは第41条の3の3。給与等の収入金額850万円超、1円未満切上げ）",
)
def _adjustment_children(s: Scope) -> pl.Expr:
    revenue = s("salary_revenue")
    qualifies = (s("disability") == "special") | (s("young_or_disabled_dependants") > 0)
    # (給与等の収入金額（1,000万円超は1,000万円）− 850万円）× 10%, 1円未満の端数切上げ
    amount = -(-(revenue.clip(upper_bound=10_000_000) - 8_500_000) // 10)
    return pl.when(qualifies & (revenue > 8_500_000)).then(amount).otherwise(0)


@rules.rule("salary_income", label="給与所得", reference="所得税法第28条、租税特別措置法第41条の3の11")
def _salary_income(s: Scope) -> pl.Expr:
    before = s("salary_income_before_adjustment")
    return (before - s("income_adjustment_children") - s("income_adjustment_pension")).clip(lower_bound=0)


@rules.rule(
    "total_income_for_dependency",
    label="合計所得金額（扶養判定用）",
    reference="地方税法第292条第1項第13号",
)
def _total_for_dependency(s: Scope) -> pl.Expr:
    # The same sum as 合計所得金額 but for the 所得金額調整控除 for children, which needs 給与収入 over 850万円: no
    # one with that salary can be a dependant, so leaving it out changes no one's status and breaks the cycle
    # dependant → 合計所得金額 → 所得金額調整控除 → dependants.
    salary = (s("salary_income_before_adjustment") - s("income_adjustment_pension")).clip(lower_bound=0)
    return (salary + s("pension_income") + s("business_income") + s("other_income") + s("dividend_income")).clip(
        lower_bound=0
    )


@rules.rule(
    "total_income",
    label="合計所得金額",
    reference="地方税法第292条第1項第13号（純損失等の繰越控除前の総所得金額等の合計額）",
)
def _total_income(s: Scope) -> pl.Expr:
    # 事業所得の損失は他の所得と損益通算する（所得税法第69条）; the sum is not below 0.
    return (
        s("salary_income") + s("pension_income") + s("business_income") + s("other_income") + s("dividend_income")
    ).clip(lower_bound=0)


@rules.rule(
    "total_income_base",
    label="総所得金額等",
    reference="地方税法第313条第1項・第2項（繰越控除後。分離課税の所得は入力にない）",
)
def _total_income_base(s: Scope) -> pl.Expr:
    return s("total_income")
