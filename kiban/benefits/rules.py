"""Eligibility and amounts of the shipped programs, as rules over the residents on the base date.

Inputs, one row per resident on the program's base date: ``person_no``, ``household_no``, ``relationship`` (続柄),
``birth_date``, ``tax_status`` (課税区分 of the program's 年度; null when the municipality has no assessment of the
person, e.g. a 転入 after 1 January, whose status must be asked of the former municipality),
``tax_status_previous`` (the year before, for programs that compare) and ``supported_by_taxed_relative`` (扶養されて
いる相手が課税されている). Household quantities are computed over the household on the base date — not over the
tax year's households — and repeated on each member's row: each is an ``Aggregate`` of a quantity of every member
(the household's count, sum, or "every member", as integer work in the rules engine).

A person program (``Unit.PERSON``: the 定額減税 調整給付) reads other inputs, ``PERSON_INPUTS``: each person's tax
figures of the program's 年度, computed by the tax domain and passed in by whoever wires the domains (the benefits
domain imports no tax code); its quantities are per person.
"""

from __future__ import annotations

import polars as pl

from kiban.core.money import ceil_to_expr
from kiban.core.rules.engine import Aggregate, Entity, RuleSet, Scope

EXEMPT, PER_CAPITA_ONLY, TAXABLE = "exempt", "per_capita_only", "taxable"
INPUTS = {
    "person_no": pl.Utf8(),
    "household_no": pl.Utf8(),
    "relationship": pl.Utf8(),
    "birth_date": pl.Date(),
    "tax_status": pl.Utf8(),
    "tax_status_previous": pl.Utf8(),
    "supported_by_taxed_relative": pl.Boolean(),
}
HOUSEHOLD_RESULTS = [
    "members",
    "children",
    "eligible",
    "needs_review",
    "base_amount",
    "child_addition",
    "top_up",
    "amount",
]


def _per_household(
    rules: RuleSet, name: str, source: str, agg: str, *, label: str, reference: str, dtype: pl.DataType | None = None
) -> None:
    """``name``: ``agg`` of ``source`` over the members of the household on the base date (on each member's row)."""
    household = Aggregate(source, by="household_no", key="household_no", agg=agg)
    rules.aggregate(name, household, label=label, reference=reference, entity=Entity.HOUSEHOLD, dtype=dtype)


def _members(rules: RuleSet, reference: str) -> None:
    _per_household(rules, "members", "person_no", "count", label="基準日の世帯員数", reference=reference)


def _common(rules: RuleSet, reference: str) -> None:
    """Quantities every household program reads: each member's status, then the household's (every member's)."""
    _members(rules, reference)
    children = reference + "（こども加算）"

    @rules.rule(
        "child",
        label="18歳以下の児童（18歳に達する日以後の最初の3月31日までの者）",
        reference=children,
        dtype=pl.Boolean(),
    )
    def _child(s: Scope) -> pl.Expr:
        fy = s.on.year if s.on.month >= 4 else s.on.year - 1
        return s("birth_date") >= pl.date(fy - 18, 4, 2)

    _per_household(
        rules,
        "children",
        "child",
        "sum",
        label="18歳以下の児童の数（18歳に達する日以後の最初の3月31日までの者）",
        reference=children,
    )

    @rules.rule("tax_status_known", label="課税区分が判明している", reference=reference, dtype=pl.Boolean())
    def _status_known(s: Scope) -> pl.Expr:
        return s("tax_status").is_not_null()

    _per_household(
        rules,
        "status_known",
        "tax_status_known",
        "all",
        label="世帯全員の課税区分が判明している",
        reference=reference,
        dtype=pl.Boolean(),
    )

    @rules.rule("exempt", label="住民税非課税であることが判明している", reference=reference, dtype=pl.Boolean())
    def _exempt(s: Scope) -> pl.Expr:
        return (s("tax_status") == EXEMPT).fill_null(value=False)

    _per_household(
        rules, "exempt_household", "exempt", "all", label="住民税非課税世帯", reference=reference, dtype=pl.Boolean()
    )

    @rules.rule(
        "no_income_levy",
        label="所得割が課されていないことが判明している（非課税又は均等割のみ課税）",
        reference=reference,
        dtype=pl.Boolean(),
    )
    def _no_income_levy(s: Scope) -> pl.Expr:
        return (s("tax_status") != TAXABLE).fill_null(value=False)

    _per_household(
        rules,
        "household_no_income_levy",
        "no_income_levy",
        "all",
        label="世帯全員が所得割非課税",
        reference=reference,
        dtype=pl.Boolean(),
    )

    @rules.rule(
        "per_capita_only_household",
        label="均等割のみ課税世帯",
        reference=reference,
        entity=Entity.HOUSEHOLD,
        dtype=pl.Boolean(),
    )
    def _per_capita_only(s: Scope) -> pl.Expr:
        return s("household_no_income_levy") & ~s("exempt_household")

    _per_household(
        rules,
        "only_supported_members",
        "supported_by_taxed_relative",
        "all",
        label="課税されている他の親族等の扶養を受けている者のみで構成される世帯",
        reference=reference + "（給付対象から除く）",
        dtype=pl.Boolean(),
    )


special_cash_2020 = RuleSet("special_cash_2020")
SPECIAL_CASH = "特別定額給付金給付事業費補助金交付要綱"


_members(special_cash_2020, SPECIAL_CASH)


@special_cash_2020.rule("children", label="児童の数（加算なし）", reference=SPECIAL_CASH, entity=Entity.HOUSEHOLD)
def _cash_children(s: Scope) -> pl.Expr:
    return pl.lit(0)


@special_cash_2020.rule(
    "eligible",
    label="給付対象世帯",
    reference=SPECIAL_CASH + "（基準日に住民基本台帳に記録されている者）",
    dtype=pl.Boolean(),
)
def _cash_eligible(s: Scope) -> pl.Expr:
    return pl.lit(value=True)


@special_cash_2020.rule("needs_review", label="要確認", reference=SPECIAL_CASH, dtype=pl.Boolean())
def _cash_review(s: Scope) -> pl.Expr:
    return pl.lit(value=False)


@special_cash_2020.rule("base_amount", label="給付額", reference=SPECIAL_CASH + "（1人につき10万円）")
def _cash_base(s: Scope) -> pl.Expr:
    return s("members") * s.yen("benefits.special_cash_2020.per_person")


@special_cash_2020.rule("child_addition", label="こども加算", reference=SPECIAL_CASH)
def _cash_child(s: Scope) -> pl.Expr:
    return pl.lit(0)


@special_cash_2020.rule("top_up", label="団体独自の上乗せ", reference=SPECIAL_CASH)
def _cash_top_up(s: Scope) -> pl.Expr:
    return pl.lit(0)


@special_cash_2020.rule("amount", label="給付額（世帯）", reference=SPECIAL_CASH)
def _cash_amount(s: Scope) -> pl.Expr:
    return s("base_amount")


def _low_income_amounts(rules: RuleSet, code: str, reference: str) -> None:
    @rules.rule(
        "child_addition",
        label="こども加算",
        reference=reference + "（18歳以下の児童1人につき）",
    )
    def _child(s: Scope) -> pl.Expr:
        per_child = s.yen(f"benefits.{code}.child_addition")
        return pl.when(s("eligible")).then(s("children") * per_child).otherwise(0)

    @rules.rule("top_up", label="団体独自の上乗せ", reference="地方自治法第232条の2、団体の要綱")
    def _top_up(s: Scope) -> pl.Expr:
        return pl.when(s("eligible")).then(s.yen(f"benefits.{code}.top_up")).otherwise(0)

    @rules.rule("amount", label="給付額（世帯）", reference=reference)
    def _amount(s: Scope) -> pl.Expr:
        return s("base_amount") + s("child_addition") + s("top_up")

    @rules.rule(
        "needs_review",
        label="要確認（課税区分が不明な世帯員がいる）",
        reference=reference + "（転入者は前住所地に課税状況を照会）",
        dtype=pl.Boolean(),
    )
    def _review(s: Scope) -> pl.Expr:
        return ~s("status_known")


low_income_2023 = RuleSet("low_income_2023")
LOW_INCOME = "物価高騰対応重点支援地方創生臨時交付金（低所得世帯支援枠）制度要綱"
_common(low_income_2023, LOW_INCOME)
_low_income_amounts(low_income_2023, "low_income_2023", LOW_INCOME)


@low_income_2023.rule("eligible", label="給付対象世帯", reference=LOW_INCOME, dtype=pl.Boolean())
def _low_eligible(s: Scope) -> pl.Expr:
    return (s("exempt_household") | s("per_capita_only_household")) & ~s("only_supported_members")


@low_income_2023.rule(
    "base_amount",
    label="基本給付額",
    reference=LOW_INCOME + "（住民税非課税世帯7万円、均等割のみ課税世帯10万円）",
)
def _low_base(s: Scope) -> pl.Expr:
    exempt = s.yen("benefits.low_income_2023.exempt_household")
    per_capita = s.yen("benefits.low_income_2023.per_capita_only_household")
    eligible = s("eligible")
    return pl.when(eligible & s("exempt_household")).then(exempt).when(eligible).then(per_capita).otherwise(0)


newly_exempt_2024 = RuleSet("newly_exempt_2024")
NEWLY = LOW_INCOME + "（令和6年度 新たに住民税非課税等となる世帯）"
_common(newly_exempt_2024, NEWLY)
_low_income_amounts(newly_exempt_2024, "newly_exempt_2024", NEWLY)


@newly_exempt_2024.rule(
    "no_income_levy_previously",
    label="令和5年度に所得割が課されていないことが判明している（非課税又は均等割のみ課税）",
    reference=NEWLY,
    dtype=pl.Boolean(),
)
def _no_income_levy_previously(s: Scope) -> pl.Expr:
    return (s("tax_status_previous") != TAXABLE).fill_null(value=False)


_per_household(
    newly_exempt_2024,
    "was_low_income_previously",
    "no_income_levy_previously",
    "all",
    label="令和5年度に非課税又は均等割のみ課税の世帯（令和5年度の給付の対象）",
    reference=NEWLY,
    dtype=pl.Boolean(),
)


@newly_exempt_2024.rule("eligible", label="給付対象世帯", reference=NEWLY, dtype=pl.Boolean())
def _newly_eligible(s: Scope) -> pl.Expr:
    now_low = s("exempt_household") | s("per_capita_only_household")
    return now_low & ~s("was_low_income_previously") & ~s("only_supported_members")


@newly_exempt_2024.rule("base_amount", label="基本給付額", reference=NEWLY + "（1世帯10万円）")
def _newly_base(s: Scope) -> pl.Expr:
    return pl.when(s("eligible")).then(s.yen("benefits.newly_exempt_2024.household")).otherwise(0)


# --- 令和6年 定額減税 調整給付（当初調整給付）: per person ----------------------------------------------------------

PERSON_INPUTS = {
    "person_no": pl.Utf8(),
    "household_no": pl.Utf8(),
    "total_income": pl.Int64(),
    "income_tax_cut_persons": pl.Int64(),
    "estimated_income_tax": pl.Int64(),
    "flat_reduction_persons": pl.Int64(),
    "income_levy_before_flat_reduction": pl.Int64(),
}
"""One row per person assessed for the program's 年度 (``kiban.tax.assessment.FLAT_TAX_CUT_FIGURES``): 合計所得金額,
the 定額減税 counts of 所得税 (本人＋同一生計配偶者＋扶養親族) and 住民税 (本人＋控除対象配偶者＋扶養親族), the
令和6年分 推計所得税額 and the 令和6年度 所得割 before the 定額減税. Null figures: the person is not known to the
assessment."""
PERSON_RESULTS = [
    "income_tax_cut_possible",
    "resident_tax_cut_possible",
    "income_tax_shortfall",
    "resident_tax_shortfall",
    "shortfall",
    "eligible",
    "needs_review",
    "amount",
]

fixed_tax_cut_adjustment_2024 = RuleSet("fixed_tax_cut_adjustment_2024")
ADJUSTMENT = (
    "物価高騰対応重点支援地方創生臨時交付金（給付金・定額減税一体支援枠）制度要綱（定額減税補足給付金（調整給付））"
)
_FIGURES = [name for name in PERSON_INPUTS if name not in ("person_no", "household_no")]


@fixed_tax_cut_adjustment_2024.rule(
    "figures_known", label="税額等が判明している", reference=ADJUSTMENT, dtype=pl.Boolean()
)
def _figures_known(s: Scope) -> pl.Expr:
    return pl.all_horizontal([s(name).is_not_null() for name in _FIGURES])


@fixed_tax_cut_adjustment_2024.rule(
    "income_tax_cut_possible",
    label="所得税分定額減税可能額",
    reference="租税特別措置法第41条の3の3第2項（3万円 ×（本人＋同一生計配偶者＋扶養親族））",
)
def _income_tax_possible(s: Scope) -> pl.Expr:
    per_person = s.yen("benefits.fixed_tax_cut_adjustment_2024.income_tax_per_person")
    return s("income_tax_cut_persons") * per_person


@fixed_tax_cut_adjustment_2024.rule(
    "resident_tax_cut_possible",
    label="個人住民税所得割分定額減税可能額",
    reference=(
        "地方税法附則「令和6年度分の個人の市町村民税・道府県民税の特別税額控除」（令和6年法律第4号、条番号は未確認）"
        "各条第2項（1万円 ×（本人＋控除対象配偶者＋扶養親族））"
    ),
)
def _resident_tax_possible(s: Scope) -> pl.Expr:
    per_person = s.yen("benefits.fixed_tax_cut_adjustment_2024.resident_tax_per_person")
    return s("flat_reduction_persons") * per_person


@fixed_tax_cut_adjustment_2024.rule(
    "income_tax_shortfall",
    label="所得税分の控除不足額（所得税分定額減税可能額 − 令和6年分推計所得税額）",
    reference=ADJUSTMENT,
)
def _income_tax_shortfall(s: Scope) -> pl.Expr:
    return (s("income_tax_cut_possible") - s("estimated_income_tax")).clip(lower_bound=0).fill_null(0)


@fixed_tax_cut_adjustment_2024.rule(
    "resident_tax_shortfall",
    label="個人住民税所得割分の控除不足額（所得割分定額減税可能額 − 令和6年度分所得割額）",
    reference=ADJUSTMENT,
)
def _resident_tax_shortfall(s: Scope) -> pl.Expr:
    return (s("resident_tax_cut_possible") - s("income_levy_before_flat_reduction")).clip(lower_bound=0).fill_null(0)


@fixed_tax_cut_adjustment_2024.rule("shortfall", label="控除不足額の合計", reference=ADJUSTMENT)
def _shortfall(s: Scope) -> pl.Expr:
    return s("income_tax_shortfall") + s("resident_tax_shortfall")


@fixed_tax_cut_adjustment_2024.rule(
    "eligible",
    label="給付対象者（定額減税の対象で、定額減税しきれないと見込まれる者）",
    reference=(
        ADJUSTMENT + "（令和6年分推計所得税額又は令和6年度分所得割額がある者で、合計所得金額1,805万円以下。"
        "所得税・所得割とも0円の者は定額減税の対象でない）"
    ),
    dtype=pl.Boolean(),
)
def _eligible(s: Scope) -> pl.Expr:
    taxed = (s("estimated_income_tax") > 0) | (s("income_levy_before_flat_reduction") > 0)
    within = s("total_income") <= s.yen("benefits.fixed_tax_cut_adjustment_2024.income_limit")
    return (s("figures_known") & taxed & within & (s("shortfall") > 0)).fill_null(value=False)


@fixed_tax_cut_adjustment_2024.rule(
    "needs_review",
    label="要確認（税額等が不明：賦課期日後の転入など）",
    reference=ADJUSTMENT,
    dtype=pl.Boolean(),
)
def _adjustment_review(s: Scope) -> pl.Expr:
    return ~s("figures_known")


@fixed_tax_cut_adjustment_2024.rule(
    "amount",
    label="調整給付額（控除不足額の合計を1万円単位に切上げ）",
    reference=ADJUSTMENT + "（「合計額を1万円単位で切り上げた額」）",
)
def _adjustment_amount(s: Scope) -> pl.Expr:
    unit = s.yen("benefits.fixed_tax_cut_adjustment_2024.unit")
    return pl.when(s("eligible")).then(ceil_to_expr(s("shortfall"), unit)).otherwise(0)


RULES: dict[str, RuleSet] = {
    r.name: r for r in (special_cash_2020, low_income_2023, newly_exempt_2024, fixed_tax_cut_adjustment_2024)
}
