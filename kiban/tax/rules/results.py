"""What other domains read of the resident tax: each person's totals and 課税区分, and each household's flags
(住民税非課税世帯, 均等割のみ課税世帯) as the national benefit programs define them."""

from __future__ import annotations

import polars as pl

from kiban.core.rules.engine import Aggregate, Entity, Scope
from kiban.tax.rules.common import rules

EXEMPT, PER_CAPITA_ONLY, TAXABLE = "exempt", "per_capita_only", "taxable"
STATUS_LABELS = {EXEMPT: "非課税", PER_CAPITA_ONLY: "均等割のみ課税", TAXABLE: "課税"}


@rules.rule("income_levy", label="所得割額（市町村民税＋道府県民税）", reference="地方税法第314条の3・第35条")
def _income_levy(s: Scope) -> pl.Expr:
    return s("income_levy_municipal") + s("income_levy_prefectural")


def _declare_credits(level: str, japanese: str) -> None:
    @rules.rule(
        f"tax_credits_{level}",
        label=f"税額控除額等（{japanese}）",
        reference=(
            "税額控除前の所得割額から定額減税前の所得割額まで: 調整控除（地方税法第314条の6）、配当控除（附則第5条）、"
            "住宅借入金等特別税額控除（附則第5条の4の2）、寄附金税額控除（第314条の7）、所得割の非課税と減額（附則第3条の3）"
        ),
    )
    def _credits(s: Scope) -> pl.Expr:
        # What the 納税通知書 shows between the 所得割 before credits and the 定額減税 (both stored with the result).
        return s(f"income_levy_gross_{level}") - s(f"income_levy_before_flat_reduction_{level}")


_declare_credits("municipal", "市町村民税")
_declare_credits("prefectural", "道府県民税")


@rules.rule("per_capita", label="均等割額（市町村民税＋道府県民税）", reference="地方税法第310条・第38条")
def _per_capita(s: Scope) -> pl.Expr:
    return s("per_capita_municipal") + s("per_capita_prefectural")


@rules.rule(
    "annual_tax",
    label="年税額（個人住民税＋森林環境税）",
    reference="地方税法第319条（普通徴収）・第321条の3（特別徴収）、森林環境税法第4条",
)
def _annual(s: Scope) -> pl.Expr:
    return s("income_levy") + s("per_capita") + s("forest_environment_tax")


@rules.rule(
    "tax_status",
    label="課税区分",
    reference=(
        "地方税法第295条（非課税）、附則第3条の3（所得割の非課税）。均等割のみ課税は税額控除・定額減税前の所得割が"
        "0円の者（給付金の定義による）"
    ),
    dtype=pl.Utf8(),
)
def _status(s: Scope) -> pl.Expr:
    levied = s("income_levy_before_flat_reduction_municipal") + s("income_levy_before_flat_reduction_prefectural")
    return (
        pl.when(s("exempt"))
        .then(pl.lit(EXEMPT))
        .when(levied == 0)
        .then(pl.lit(PER_CAPITA_ONLY))
        .otherwise(pl.lit(TAXABLE))
    )


@rules.rule(
    "supported_by",
    label="この人を同一生計配偶者又は扶養親族とする納税義務者の宛名番号",
    reference="地方税法第292条第1項第7号〜第9号（給付金の「課税者の扶養親族等のみからなる世帯」の判定に使う）",
    dtype=pl.Utf8(),
)
def _supported_by(s: Scope) -> pl.Expr:
    return pl.when(s("is_spouse_dependant") | s("is_dependant")).then(s("claimant_no"))


rules.aggregate(
    "household_exempt",
    Aggregate("exempt", by="household_no", key="household_no", agg="all"),
    label="住民税非課税世帯",
    reference="世帯全員が住民税均等割非課税である世帯（各給付金の実施要領の定義）",
    entity=Entity.HOUSEHOLD,
    dtype=pl.Boolean(),
)


@rules.rule(
    "no_income_levy",
    label="所得割が課されない者（非課税又は均等割のみ課税）",
    reference="課税区分が課税でない者（各給付金の実施要領の定義）",
    dtype=pl.Boolean(),
)
def _no_income_levy(s: Scope) -> pl.Expr:
    return s("tax_status") != TAXABLE


rules.aggregate(
    "household_no_income_levy",
    Aggregate("no_income_levy", by="household_no", key="household_no", agg="all"),
    label="世帯全員が所得割非課税",
    reference="世帯全員が所得割非課税である世帯（各給付金の実施要領の定義）",
    entity=Entity.HOUSEHOLD,
    dtype=pl.Boolean(),
)


@rules.rule(
    "household_per_capita_only",
    label="均等割のみ課税世帯",
    reference="世帯全員が所得割非課税で、均等割が課される者がいる世帯（各給付金の実施要領の定義）",
    entity=Entity.HOUSEHOLD,
    dtype=pl.Boolean(),
)
def _household_per_capita_only(s: Scope) -> pl.Expr:
    return s("household_no_income_levy") & ~s("household_exempt")
