"""The resident-tax rule set and what its formulas share: the fiscal years, ages on the law's reference dates, and
bracket tables.

A run computes one 年度 (fiscal year FY) on ``date(FY, 4, 1)``: income is that of the previous calendar year (所得年
FY − 1), ages for deductions are taken on 31 December of that year (所得税法第85条, applied to 住民税 through
地方税法第314条の2第6項 and 第34条第8項), and the 賦課期日 is 1 January of FY (地方税法第39条・第318条).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from kiban.core.dates import age_on_expr
from kiban.core.rules.engine import RuleSet, Scope

rules = RuleSet("resident_tax")

FY2024 = date(2024, 4, 1)
"""令和6年度: 均等割 3,000 + 1,000 and 森林環境税 1,000 (the 復興特別 500 + 500 ended), 定額減税."""
FY2025 = date(2025, 4, 1)
"""令和7年度: the 定額減税 ended."""
FY2026 = date(2026, 4, 1)
"""令和8年度: the 令和7年度税制改正 reaches 住民税 (給与所得控除 minimum 65万円, 扶養 income limit 58万円,
特定親族特別控除)."""


def income_year(scope: Scope) -> int:
    return scope.on.year - 1


def age_at_year_end(scope: Scope) -> pl.Expr:
    """Age on 31 December of the income year (the date 扶養・配偶者・年金 categories are judged on)."""
    return age_on_expr(scope("birth_date"), date(income_year(scope), 12, 31))


def age_on_levy_date(scope: Scope) -> pl.Expr:
    """Age on 1 January of the fiscal year (賦課期日): 未成年者 for 非課税 (地方税法第295条第1項第2号)."""
    return age_on_expr(scope("birth_date"), date(scope.on.year, 1, 1))


def brackets(value: pl.Expr, table: Sequence[tuple[int, int | pl.Expr]], above: int | pl.Expr) -> pl.Expr:
    """``table`` is (inclusive upper bound, result) in increasing order; values above the last bound give ``above``."""
    chain: pl.Expr | None = None
    for upper, result in reversed(table):
        out = result if isinstance(result, pl.Expr) else pl.lit(result, dtype=pl.Int64)
        fallback = (above if isinstance(above, pl.Expr) else pl.lit(above, dtype=pl.Int64)) if chain is None else chain
        chain = pl.when(value <= upper).then(out).otherwise(fallback)
    assert chain is not None, "a bracket table has at least one row"
    return chain


def by_taxpayer_income(total_income: pl.Expr, amounts: tuple[int, int, int]) -> pl.Expr:
    """The three steps of 配偶者控除・配偶者特別控除 by the taxpayer's 合計所得金額 (900万円以下 / 950万円以下 /
    1,000万円以下); 0 above 1,000万円 (地方税法第314条の2第1項第10号・第10号の2)."""
    return brackets(total_income, [(9_000_000, amounts[0]), (9_500_000, amounts[1]), (10_000_000, amounts[2])], 0)


SteppedAmounts = tuple[int, int, int]
"""A deduction at the taxpayer's 合計所得金額 900万円以下 / 950万円以下 / 1,000万円以下 (``by_taxpayer_income``)."""


def spouse_deduction(scope: Scope, *, ordinary: SteppedAmounts, elderly: SteppedAmounts) -> pl.Expr:
    """配偶者控除: ``elderly`` for a 老人控除対象配偶者 (70 or over), ``ordinary`` for another 控除対象配偶者; the
    所得税 and the 住民税 share the shape, each passes its own amounts."""
    income = scope("total_income")
    return (
        pl.when(scope("elderly_spouses") > 0)
        .then(by_taxpayer_income(income, elderly))
        .when(scope("spouses") > 0)
        .then(by_taxpayer_income(income, ordinary))
        .otherwise(0)
    )


def spouse_special_deduction(scope: Scope, table: Sequence[tuple[int, SteppedAmounts]]) -> pl.Expr:
    """配偶者特別控除: ``table`` is (inclusive upper bound of the spouse's 合計所得金額, the stepped amounts); only
    for a taxpayer with no 控除対象配偶者."""
    income = scope("total_income")
    rows: list[tuple[int, int | pl.Expr]] = [(upper, by_taxpayer_income(income, amounts)) for upper, amounts in table]
    amount = brackets(scope("special_spouse_income"), rows, 0)
    return pl.when((scope("special_spouses") > 0) & (scope("spouses") == 0)).then(amount).otherwise(0)


def dependant_deduction(scope: Scope, *, general: int, specific: int, elderly: int, elderly_parent: int) -> pl.Expr:
    """扶養控除: each kind of 控除対象扶養親族 times its amount (年少扶養親族 give none)."""
    return (
        scope("general_dependants") * general
        + scope("specific_dependants") * specific
        + scope("elderly_dependants") * elderly
        + scope("elderly_parent_dependants") * elderly_parent
    )
