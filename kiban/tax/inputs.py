"""Assessment inputs from the registry's people (a snapshot, or the synthetic generator's frame) and their incomes.

Who claims whom, where no 扶養控除等申告書 says otherwise: the household head claims every relative in the household
(the 続柄 to the head says who is the spouse and who a 直系尊属); a 同居人 is no relative and is claimed by no one.
"""

from __future__ import annotations

import polars as pl

from kiban.tax.assessment import with_defaults

SPOUSE = ("妻", "夫", "妻(未届)", "夫(未届)")
PARENTS = ("父", "母", "夫の父", "夫の母", "妻の父", "妻の母")
"""直系尊属 of the head or of the head's spouse: 同居老親等 (地方税法第314条の2第4項, 所得税法第2条第1項第34号の4の
定義による「納税義務者又はその配偶者の直系尊属」)."""
NOT_RELATIVES = ("世帯主", "同居人", "縁故者")

DESIGNATED_CITY_KINDS = ("designated_city", "designated_city_ward")
"""Tenant kinds whose residents pay 所得割 at the designated-city rates (地方税法第314条の3第2項)."""


def claims_by_household_head(people: pl.DataFrame) -> pl.DataFrame:
    """``claimant_no``, ``spouse_of_claimant``, ``lives_with_claimant`` and ``parent_of_claimant`` from each
    person's 続柄 to the head (``relationship``) and the head's 宛名番号 in the same household."""
    heads = people.filter(pl.col("relationship") == "世帯主").select(
        "household_no", pl.col("person_no").alias("claimant_no")
    )
    relationship = pl.col("relationship")
    claimed = ~relationship.is_in(NOT_RELATIVES)
    return (
        people.join(heads, on="household_no", how="left", maintain_order="left")
        .with_columns(
            pl.when(claimed).then(pl.col("claimant_no")).alias("claimant_no"),
            (claimed & relationship.is_in(SPOUSE)).alias("spouse_of_claimant"),
            claimed.alias("lives_with_claimant"),
            (claimed & relationship.is_in(PARENTS)).alias("parent_of_claimant"),
        )
        .with_columns(pl.col("claimant_no").is_not_null().alias("lives_with_claimant"))
    )


def from_synthetic(persons: pl.DataFrame, *, designated_city: bool) -> pl.DataFrame:
    """Inputs from the synthetic population's persons (``kiban.registry.synth``): its incomes are those of the
    year before the 年度 assessed."""
    frame = claims_by_household_head(persons).select(
        "person_no",
        "household_no",
        "birth_date",
        "sex",
        pl.lit(designated_city).alias("designated_city"),
        pl.col("salary_income").alias("salary_revenue"),
        pl.col("pension_income").alias("pension_revenue"),
        "business_income",
        pl.col("disability"),
        # 寡婦 is a woman (地方税法第292条第1項第11号); a widower without children has no such deduction
        (pl.col("widowed") & (pl.col("sex") == "female") & ~pl.col("single_parent")).alias("widow"),
        "single_parent",
        (pl.col("student") & (pl.col("salary_income") > 0)).alias("working_student"),
        "welfare_recipient",
        "claimant_no",
        "spouse_of_claimant",
        "lives_with_claimant",
        "parent_of_claimant",
    )
    return with_defaults(frame)
