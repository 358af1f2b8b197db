"""Eligibility and entitlements of the 令和5年度 低所得世帯支援 over a synthetic population, with its 課税区分 from a
real assessment, and the 全銀 file of every entitled household.

    cd bench && ../.venv/bin/python benefits_eligibility.py 2500000 1000000   # ≈ 1M households; a 1M-line file

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


def main(persons: int, transfers: int) -> None:
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
    # the entitled households' amounts, repeated up to ``transfers`` lines (each its own 顧客コード)
    amounts = result.filter(pl.col("eligible"))["amount"].to_list()
    holders = population.select(pl.col("family_name_kana") + " " + pl.col("given_name_kana")).to_series().to_list()
    lines = [
        Transfer(payee, holders[i % len(holders)], amounts[i % len(amounts)], str(i + 1)) for i in range(transfers)
    ]
    per_file = 500_000  # a file holds at most 999,999 lines (合計件数 N6): large payments are split into batches
    with measured() as m:
        files = [build(sender, lines[i : i + per_file], date(2024, 2, 1)) for i in range(0, len(lines), per_file)]
    count = sum(f.count for f in files)
    report(
        "全銀 総合振込 files",
        f"{count:,} transfers in {len(files)} files",
        m,
        lambda s: f"{count / s:,.0f} transfers/s",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_500_000, int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
