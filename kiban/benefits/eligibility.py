"""Entitlements of a program in one municipality: its rules over the residents on the base date, one row per
household (or, for a person program, per person) that is entitled or needs review. Vectorized over the whole
municipality; the same frame is what the batch stores and what the duplicate check compares across municipalities."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kiban.benefits.programs import Program, Unit
from kiban.benefits.rules import HOUSEHOLD_RESULTS, INPUTS, PERSON_INPUTS, PERSON_RESULTS, RULES
from kiban.core.params.catalogue import ParamValue, default_catalogue
from kiban.core.rules.engine import Plan, plan

DEFAULTS: dict[str, object] = {"tax_status": None, "tax_status_previous": None, "supported_by_taxed_relative": False}


def national_parameters(program: Program, kyuchi: int | None = None) -> dict[str, ParamValue]:
    return default_catalogue().national_values(program.base_date, kyuchi)


def computation(program: Program, parameters: Mapping[str, ParamValue]) -> Plan:
    """The program's rules planned on its base date: the household results over ``INPUTS``, or for a person program
    the person results over ``PERSON_INPUTS``."""
    person = program.unit == Unit.PERSON
    return plan(
        RULES[program.code],
        PERSON_RESULTS if person else HOUSEHOLD_RESULTS,
        on=program.base_date,
        parameters=parameters,
        inputs=PERSON_INPUTS if person else INPUTS,
    )


def _inputs(residents: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit(v, dtype=INPUTS[k]).alias(k) for k, v in DEFAULTS.items() if k not in residents.columns]
    frame = residents.with_columns(missing) if missing else residents
    absent = set(INPUTS) - set(frame.columns)
    if absent:
        raise ValueError(f"入力に列がありません: {', '.join(sorted(absent))}")
    typed = frame.with_columns([pl.col(k).cast(t) for k, t in INPUTS.items()])
    return typed.with_columns(pl.col("supported_by_taxed_relative").fill_null(value=False))


def _person_inputs(people: pl.DataFrame) -> pl.DataFrame:
    absent = set(PERSON_INPUTS) - set(people.columns)
    if absent:
        raise ValueError(f"入力に列がありません: {', '.join(sorted(absent))}")
    return people.with_columns([pl.col(k).cast(t) for k, t in PERSON_INPUTS.items()])


def entitlements(residents: pl.DataFrame, program: Program, parameters: Mapping[str, ParamValue]) -> pl.DataFrame:
    """One row per household entitled or needing review: ``household_no``, ``recipient_no`` (the 世帯主, who is the
    受給権者), and ``HOUSEHOLD_RESULTS``. For a person program (``Unit.PERSON``), ``residents`` holds
    ``PERSON_INPUTS`` and the result is one row per person: ``person_no``, ``household_no``, the figures read and
    ``PERSON_RESULTS``."""
    if program.unit == Unit.PERSON:
        return _person_entitlements(residents, program, parameters)
    computed = computation(program, parameters).compute(_inputs(residents))
    # Household results are the same on every member's row: keep the households that matter, then one row each —
    # the 世帯主's (the lowest 宛名番号 if the register names none, or several).
    kept = computed.filter(pl.col("eligible") | pl.col("needs_review")).select(
        "household_no", "person_no", (pl.col("relationship") != "世帯主").alias("not_head"), *HOUSEHOLD_RESULTS
    )
    return (
        kept.sort("household_no", "not_head", "person_no")
        .unique("household_no", keep="first", maintain_order=True)
        .select("household_no", pl.col("person_no").alias("recipient_no"), *HOUSEHOLD_RESULTS)
    )


def _person_entitlements(people: pl.DataFrame, program: Program, parameters: Mapping[str, ParamValue]) -> pl.DataFrame:
    computed = computation(program, parameters).compute(_person_inputs(people))
    return (
        computed.filter(pl.col("eligible") | pl.col("needs_review"))
        .select(*PERSON_INPUTS, *PERSON_RESULTS)
        .sort("person_no")
    )
