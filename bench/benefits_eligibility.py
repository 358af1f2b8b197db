"""Eligibility and entitlements of the 令和5年度 低所得世帯支援 over a synthetic population, with its 課税区分 from a
real assessment, and the 全銀 file of every entitled household.

    cd bench && ../.venv/bin/python benefits_eligibility.py 2500000    # ≈ 1M households

The registry and tax inputs are prepared first (not timed); the timed steps are eligibility (rules over every
resident on the base date → one row per entitled household) and the 全銀 総合振込 file for all of them.
"""

from __future__ import annotations

import sys
from datetime import date

import polars as pl
from measure import measured, report

from kiban.benefits.eligibility import entitlements, national_parameters
from kiban.benefits.programs import PROGRAMS
from kiban.payments.zengin import Account, Sender, Transfer, build
from kiban.registry.synth import generate
from kiban.tax.assessment import assess
from kiban.tax.assessment import national_parameters as tax_parameters
from kiban.tax.inputs import from_synthetic


def main(persons: int) -> None:
    population = generate("011002", persons, seed=1).persons
    taxes = assess(
        from_synthetic(population, designated_city=True), fiscal_year=2023, parameters=tax_parameters(2023, 1)
    )
    residents = population.select("person_no", "household_no", "relationship", "birth_date").join(
        taxes.select("person_no", "tax_status"), on="person_no"
    )
    households = residents["household_no"].n_unique()
    program = PROGRAMS["low_income_2023"]
    with measured() as m:
        result = entitlements(residents, program, national_parameters(program, 1))
    report(
        "benefit eligibility (令和5年度 低所得世帯支援)",
        f"{persons:,} persons, {households:,} households → {result.height:,} entitled",
        m,
        lambda s: f"{persons / s:,.0f} persons/s",
    )
    sender = Sender("1234567890", "ｻﾂﾎﾟﾛｼ", Account("0001", "ﾐｽﾞﾎ", "001", "ｻﾂﾎﾟﾛ", "1", "1234567"))
    payee = Account("0005", "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", "123", "ｻﾂﾎﾟﾛ", "1", "7654321")
    rows = result.filter(pl.col("eligible")).select("recipient_no", "amount").iter_rows()
    transfers = [Transfer(payee, "ﾃｽﾄ ﾀﾛｳ", amount, str(i)) for i, (_, amount) in enumerate(rows, start=1)]
    with measured() as m:
        made = build(sender, transfers, date(2024, 2, 1))
    report("全銀 総合振込 file", f"{made.count:,} transfers", m, lambda s: f"{made.count / s:,.0f} transfers/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_500_000)
