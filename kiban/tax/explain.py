"""Why a person's tax is what it is, and what a change of parameters would do to a whole municipality.

``explain_person`` computes the person's household (and everyone its members claim) with the assessment's own plan
and returns the trace of every intermediate value with the parameters it used: what a staff page or the API shows
a resident who asks. ``simulate`` is the what-if of policy staff: the same rules over the same population under
the parameters in force and under changed ones (``kiban.core.rules.whatif``).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.jtext import to_halfwidth_ascii
from kiban.core.params.catalogue import ParamValue, coerce, default_catalogue
from kiban.core.rules.engine import Trace, explain
from kiban.core.rules.whatif import Comparison, compare
from kiban.tax.assessment import RESULTS, assessment_plan, computation_date, with_defaults
from kiban.tax.rules import rules

WHAT_IF_TARGETS = ["annual_tax", "income_levy", "per_capita", "tax_status", "household_exempt"]


def _group_of(population: pl.DataFrame, person_no: str) -> pl.DataFrame:
    """The person's household and every row its members claim: all that the person's values depend on."""
    own = population.filter(pl.col("person_no") == person_no)
    if own.height == 0:
        raise NotFound(f"宛名番号 {person_no} の課税資料がありません。")
    household = own["household_no"][0]
    members = population.filter(pl.col("household_no") == household)["person_no"].to_list()
    return population.filter((pl.col("household_no") == household) | pl.col("claimant_no").is_in(members))


def explain_person(
    population: pl.DataFrame, *, fiscal_year: int, parameters: Mapping[str, ParamValue], person_no: str
) -> list[Trace]:
    group = with_defaults(_group_of(population, person_no))
    computation = assessment_plan(fiscal_year, parameters, RESULTS)
    return explain(computation.compute(group), computation, key="person_no", value=person_no)


def parse_overrides(raw: Mapping[str, str]) -> dict[str, ParamValue]:
    """Parameter values typed by policy staff (「1000」「0.07」), checked against the catalogue's types."""
    catalogue = default_catalogue()
    values: dict[str, ParamValue] = {}
    errors: list[FieldError] = []
    for name, text in raw.items():
        if name not in catalogue:
            errors.append(FieldError(name, text, "パラメータ一覧にある名前を指定してください。"))
            continue
        parameter = catalogue[name]
        value = coerce(parameter.type, to_halfwidth_ascii(text).strip().removesuffix("円"))
        if value is None:
            errors.append(FieldError(parameter.label, text, f"{parameter.unit}の値を半角数字で入力してください。"))
        else:
            values[name] = value
    if errors:
        raise InputError(*errors)
    return values


def simulate(
    population: pl.DataFrame,
    *,
    fiscal_year: int,
    parameters: Mapping[str, ParamValue],
    changes: Mapping[str, ParamValue],
) -> Comparison:
    """The assessment of ``population`` under ``parameters`` and under ``parameters`` with ``changes``."""
    return compare(
        rules,
        with_defaults(population),
        targets=WHAT_IF_TARGETS,
        on=computation_date(fiscal_year),
        before=parameters,
        after={**parameters, **changes},
        key="person_no",
    )
