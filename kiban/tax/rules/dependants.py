"""Who is whose 同一生計配偶者 or 扶養親族, and what each taxpayer claims.

Each row may name its claimant (``claimant_no``: the taxpayer who declares this person, from the 扶養控除等申告書 or
申告書, or by default the household head) and says whether it is that taxpayer's spouse, lives with them, and is
their parent or grandparent (直系尊属). Whether the person qualifies depends on their own 合計所得金額; the
claimant's deductions gather the qualifying rows by ``claimant_no`` (``Aggregate``).
"""

from __future__ import annotations

import polars as pl

from kiban.core.rules.engine import Aggregate, Scope
from kiban.tax.rules.common import FY2026, age_at_year_end, brackets, income_year, rules

LAW = "地方税法第292条第1項第7号〜第9号（同一生計配偶者・控除対象配偶者・扶養親族）"
SPECIFIC_RELATIVE_LAW = (
    "地方税法第314条の2第1項第12号（特定親族特別控除、令和8年度分から、令和7年度税制改正。号番号はe-Govで未確認）"
)


@rules.rule("age_at_year_end", label="年齢（所得年の12月31日現在）", reference="所得税法第85条第3項", dtype=pl.Int32())
def _age(s: Scope) -> pl.Expr:
    return age_at_year_end(s)


def _claimed(s: Scope) -> pl.Expr:
    """Claimed by someone, and born by 31 December of the income year (the day 扶養 is judged on)."""
    born = s("birth_date") <= pl.date(income_year(s), 12, 31)
    return s("claimant_no").is_not_null() & born


@rules.rule("is_spouse_dependant", label="同一生計配偶者", reference=LAW, dtype=pl.Boolean())
def _is_spouse(s: Scope) -> pl.Expr:
    limit = s.yen("resident_tax.dependant_income_limit")
    return _claimed(s) & s("spouse_of_claimant") & (s("total_income_for_dependency") <= limit)


@rules.rule(
    "is_spouse_special",
    label="配偶者特別控除の対象配偶者",
    reference="地方税法第314条の2第1項第10号の2（配偶者の合計所得金額が上限超133万円以下）",
    dtype=pl.Boolean(),
)
def _is_spouse_special(s: Scope) -> pl.Expr:
    income = s("total_income_for_dependency")
    limit = s.yen("resident_tax.dependant_income_limit")
    return _claimed(s) & s("spouse_of_claimant") & (income > limit) & (income <= 1_330_000)


@rules.rule("is_dependant", label="扶養親族（年少扶養親族を含む）", reference=LAW, dtype=pl.Boolean())
def _is_dependant(s: Scope) -> pl.Expr:
    limit = s.yen("resident_tax.dependant_income_limit")
    return _claimed(s) & ~s("spouse_of_claimant") & (s("total_income_for_dependency") <= limit)


def _count_if(condition: pl.Expr) -> pl.Expr:
    return condition.cast(pl.Int64)


_KINDS = {
    # name: (label, condition on the dependant's age and circumstances)
    "young": ("年少扶養親族（16歳未満）", lambda s: s("age_at_year_end") < 16),
    "specific": ("特定扶養親族（19歳以上23歳未満）", lambda s: s("age_at_year_end").is_between(19, 22)),
    "elderly_parent": (
        "同居老親等（70歳以上の同居の直系尊属）",
        lambda s: (s("age_at_year_end") >= 70) & s("lives_with_claimant") & s("parent_of_claimant"),
    ),
    "elderly": (
        "老人扶養親族（70歳以上、同居老親等以外）",
        lambda s: (s("age_at_year_end") >= 70) & ~(s("lives_with_claimant") & s("parent_of_claimant")),
    ),
    "general": (
        "一般の控除対象扶養親族",
        lambda s: s("age_at_year_end").is_between(16, 18) | s("age_at_year_end").is_between(23, 69),
    ),
}


def _declare_kind(kind: str, label: str, condition: object) -> None:
    @rules.rule(f"is_{kind}_dependant_row", label=label, reference=LAW)
    def _row(s: Scope) -> pl.Expr:
        assert callable(condition)
        return _count_if(s("is_dependant") & condition(s))

    rules.aggregate(
        f"{kind}_dependants",
        Aggregate(f"is_{kind}_dependant_row", by="claimant_no", key="person_no"),
        label=f"{label}の数",
        reference=LAW,
    )


for _kind, (_label, _condition) in _KINDS.items():
    _declare_kind(_kind, _label, _condition)


@rules.rule("spouse_row", label="同一生計配偶者である行", reference=LAW)
def _spouse_row(s: Scope) -> pl.Expr:
    return _count_if(s("is_spouse_dependant"))


@rules.rule("elderly_spouse_row", label="老人控除対象配偶者（70歳以上）である行", reference=LAW)
def _elderly_spouse_row(s: Scope) -> pl.Expr:
    return _count_if(s("is_spouse_dependant") & (s("age_at_year_end") >= 70))


@rules.rule("spouse_special_income_row", label="配偶者特別控除の対象配偶者の合計所得金額", reference=LAW)
def _spouse_special_income_row(s: Scope) -> pl.Expr:
    return pl.when(s("is_spouse_special")).then(s("total_income_for_dependency")).otherwise(0)


@rules.rule("spouse_special_row", label="配偶者特別控除の対象配偶者である行", reference=LAW)
def _spouse_special_row(s: Scope) -> pl.Expr:
    return _count_if(s("is_spouse_special"))


def _supported(s: Scope) -> pl.Expr:
    return s("is_dependant") | s("is_spouse_dependant")


@rules.rule("disabled_row", label="障害者である同一生計配偶者・扶養親族", reference="地方税法第314条の2第1項第6号")
def _disabled_row(s: Scope) -> pl.Expr:
    return _count_if(_supported(s) & (s("disability") == "ordinary"))


@rules.rule(
    "special_disabled_row",
    label="特別障害者である同一生計配偶者・扶養親族（同居以外）",
    reference="地方税法第314条の2第1項第6号",
)
def _special_disabled_row(s: Scope) -> pl.Expr:
    return _count_if(_supported(s) & (s("disability") == "special") & ~s("lives_with_claimant"))


@rules.rule(
    "cohabiting_special_disabled_row",
    label="同居特別障害者である同一生計配偶者・扶養親族",
    reference="地方税法第314条の2第4項",
)
def _cohabiting_special_disabled_row(s: Scope) -> pl.Expr:
    return _count_if(_supported(s) & (s("disability") == "special") & s("lives_with_claimant"))


@rules.rule(
    "young_or_disabled_row",
    label="23歳未満の扶養親族又は特別障害者である同一生計配偶者・扶養親族",
    reference="租税特別措置法第41条の3の11第1項",
)
def _young_or_disabled_row(s: Scope) -> pl.Expr:
    young = s("is_dependant") & (s("age_at_year_end") < 23)
    return _count_if(young | (_supported(s) & (s("disability") == "special")))


@rules.rule(
    "specific_relative_amount_row",
    label="特定親族特別控除額（この親族の分）",
    reference=SPECIFIC_RELATIVE_LAW,
    since=FY2026,
)
def _specific_relative(s: Scope) -> pl.Expr:
    income = s("total_income_for_dependency")
    limit = s.yen("resident_tax.dependant_income_limit")
    eligible = _claimed(s) & ~s("spouse_of_claimant") & s("age_at_year_end").is_between(19, 22) & (income > limit)
    table: list[tuple[int, int | pl.Expr]] = [
        (950_000, 450_000),
        (1_000_000, 410_000),
        (1_050_000, 310_000),
        (1_100_000, 210_000),
        (1_150_000, 110_000),
        (1_200_000, 60_000),
        (1_230_000, 30_000),
    ]
    return pl.when(eligible).then(brackets(income, table, 0)).otherwise(0)


@rules.rule(
    "specific_relative_amount_row",
    label="特定親族特別控除額（この親族の分）",
    reference=SPECIFIC_RELATIVE_LAW,
)
def _no_specific_relative(s: Scope) -> pl.Expr:
    return pl.lit(0)


_AGGREGATES = {
    "spouses": ("spouse_row", "同一生計配偶者の数"),
    "elderly_spouses": ("elderly_spouse_row", "老人控除対象配偶者の数"),
    "special_spouses": ("spouse_special_row", "配偶者特別控除の対象配偶者の数"),
    "special_spouse_income": ("spouse_special_income_row", "配偶者特別控除の対象配偶者の合計所得金額"),
    "disabled_dependants": ("disabled_row", "障害者である同一生計配偶者・扶養親族の数"),
    "special_disabled_dependants": ("special_disabled_row", "特別障害者である同一生計配偶者・扶養親族の数"),
    "cohabiting_special_disabled_dependants": ("cohabiting_special_disabled_row", "同居特別障害者の数"),
    "specific_relative_deduction_claimed": ("specific_relative_amount_row", "特定親族特別控除額の合計"),
}
for _name, (_source, _label) in _AGGREGATES.items():
    rules.aggregate(_name, Aggregate(_source, by="claimant_no", key="person_no"), label=_label, reference=LAW)


rules.aggregate(
    "young_or_disabled_in_household",
    Aggregate("young_or_disabled_row", by="household_no", key="household_no"),
    label="世帯の23歳未満の扶養親族・特別障害者である同一生計配偶者又は扶養親族の行の数",
    reference="租税特別措置法第41条の3の11第1項",
)


@rules.rule(
    "young_or_disabled_dependants",
    label="世帯の23歳未満の扶養親族・特別障害者である同一生計配偶者又は扶養親族の数",
    reference="租税特別措置法第41条の3の11第1項（扶養親族を「有する」者：扶養控除を受ける者に限らない）",
)
def _young_or_disabled_in_household(s: Scope) -> pl.Expr:
    # Both parents of a child under 23 have it as their 扶養親族 in the sense of this article, whoever of them
    # claims the 扶養控除: counted over the household (a row never counts itself, as no one is their own dependant).
    return s("young_or_disabled_in_household") - s("young_or_disabled_row")
