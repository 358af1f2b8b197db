"""Eligibility and entitlements of the 令和5年度 低所得世帯支援 over synthetic populations, with their 課税区分 from a
real assessment, and the 全銀 file of every entitled household:

    ../.venv/bin/python benefits_eligibility.py [persons] [transfers] [--partition N] [--repeat N]
        [--store sqlite|ADMIN_URL]

    ../.venv/bin/python benefits_eligibility.py 2500000 1000000 --store sqlite   # ≈ 1M households; a 1M-line file
    ../.venv/bin/python benefits_eligibility.py 10000000 0 --partition 2500000    # 10M persons in one computation
    ../.venv/bin/python benefits_eligibility.py 2500000 0 --repeat 5              # eligibility 5 times, and the median

**Inputs** (not timed): ``persons`` residents in municipality partitions of ``--partition`` persons (default: one
partition), each generated on the base date's 賦課期日 (1 January 2023) and assessed for 令和5年度 with its 級地's
parameters; of each, the program's input columns are kept (宛名番号 and 世帯番号 prefixed with the 団体コード) and
the partitions are put together. **Timed:** eligibility over all of them at once (``kiban.benefits.eligibility
.entitlements``: rules over every resident → one row per entitled or to-be-reviewed household; ``--repeat`` times
over the same inputs, then the median); with ``--store``,
the stored run of the first partition (``kiban.benefits.service.run_eligibility``: entitlements written in one
transaction, audited), then the same run again (nothing changes: the run is idempotent); the 全銀 総合振込 files of
``transfers`` lines (a file holds at most 999,999, so two files). Peak memory is the resident high-water mark during
the timed step (``VmHWM``, reset before it), so the inputs held in memory are counted but not the generator's peak.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import polars as pl
import registry_db
from measure import Measurement, peak_mb, report, reset_peak
from resident_tax import PARTITIONS, municipality

from kiban.benefits.eligibility import entitlements, national_parameters
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import run_eligibility
from kiban.core.db import Database
from kiban.core.identity.permissions import Principal, Role, permissions_of
from kiban.core.migrate import upgrade
from kiban.core.tenants.service import activate, load_catalog
from kiban.payments.zengin import Account, Sender, Transfer, build
from kiban.registry.synth import generate
from kiban.tax.assessment import assess
from kiban.tax.assessment import national_parameters as tax_parameters
from kiban.tax.inputs import from_synthetic

PROGRAM = PROGRAMS["low_income_2023"]
FISCAL_YEAR = 2023
COLUMNS = ["person_no", "household_no", "relationship", "birth_date", "tax_status"]
T = TypeVar("T")


def measure(step: Callable[[], T]) -> tuple[T, Measurement]:
    """The step's result, its wall time and the resident high-water mark while it ran."""
    reset_peak()
    started = time.perf_counter()
    result = step()
    return result, Measurement(time.perf_counter() - started, peak_mb())


def partition_inputs(lg_code: str, persons: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The program's inputs for one municipality, and its synthetic persons (names for the transfers)."""
    designated, kyuchi = municipality(lg_code)
    population = generate(lg_code, persons, seed=1, as_of=date(FISCAL_YEAR, 1, 1)).persons
    taxes = assess(
        from_synthetic(population, designated_city=designated),
        fiscal_year=FISCAL_YEAR,
        parameters=tax_parameters(FISCAL_YEAR, kyuchi),
    )
    return population.select(COLUMNS[:4]).join(taxes.select("person_no", "tax_status"), on="person_no"), population


def store(target: str, lg_code: str, residents: pl.DataFrame) -> None:
    """Run the program twice over one municipality's residents into a fresh database (the second run changes
    nothing)."""
    roles = frozenset({Role.WELFARE})
    actor = Principal("fukushi", "福祉 次郎", lg_code, lg_code, roles, permissions_of(roles))
    with tempfile.TemporaryDirectory() as directory:
        if target == "sqlite":
            url = f"sqlite:///{Path(directory) / 'kiban.sqlite3'}"
            upgrade(url, app_role=registry_db.APP_ROLE)
            with Database(url).tenant(None) as s:
                load_catalog(db_session=s)
                activate(db_session=s, lg_code=lg_code)
        else:
            registry_db.NAME = "kiban_bench_benefits"  # the registry benchmarks' database is left alone
            registry_db.create(target, lg_code)
            url = registry_db.app_url(target)
        database = Database(url)
        backend = database.engine.dialect.name
        parameters = national_parameters(PROGRAM, municipality(lg_code)[1])
        for label in ("stored run", "rerun, nothing changed"):

            def one_run() -> int:
                with database.tenant(lg_code) as s:
                    result = run_eligibility(
                        s, actor=actor, program_code=PROGRAM.code, residents=residents, parameters=parameters
                    )
                return len(result.added) + len(result.changed) + len(result.removed)

            changed, m = measure(one_run)
            report(
                f"benefit entitlements: {label} ({backend})",
                f"{residents.height:,} persons of {lg_code} → {changed:,} households written",
                m,
                lambda s: f"{residents.height / s:,.0f} persons/s",
            )
        database.dispose()
        if target != "sqlite":
            registry_db.drop(target)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("persons", type=int, nargs="?", default=2_500_000)
    parser.add_argument("transfers", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--partition", type=int, default=0, help="persons per municipality (0: one municipality)")
    parser.add_argument("--repeat", type=int, default=1, help="times to time the eligibility (then the median)")
    parser.add_argument("--store", default=None, help="sqlite, or a PostgreSQL admin URL")
    args = parser.parse_args()
    size = args.partition or args.persons
    parts: list[pl.DataFrame] = []
    first_population = pl.DataFrame()
    for i, start in enumerate(range(0, args.persons, size)):
        residents, population = partition_inputs(PARTITIONS[i], min(size, args.persons - start))
        parts.append(residents)
        if i == 0:
            first_population = population
    everyone = pl.concat(
        [
            p.with_columns((pl.lit(code) + pl.col(c)).alias(c) for c in ("person_no", "household_no"))
            for code, p in zip(PARTITIONS, parts, strict=False)
        ],
        rechunk=True,
    )
    households = everyone["household_no"].n_unique()
    parameters = national_parameters(PROGRAM, 1)
    times: list[Measurement] = []
    computed = pl.DataFrame()
    for run in range(1, args.repeat + 1):
        computed, m = measure(lambda: entitlements(everyone, PROGRAM, parameters))
        times.append(m)
        report(
            f"benefit eligibility (令和5年度 低所得世帯支援){f', run {run}' if args.repeat > 1 else ''}",
            f"{everyone.height:,} persons in {len(parts)} municipalit{'y' if len(parts) == 1 else 'ies'}, "
            f"{households:,} households → {computed.filter(pl.col('eligible')).height:,} entitled, "
            f"{computed.filter(pl.col('needs_review')).height:,} to review",
            m,
            lambda s: f"{everyone.height / s:,.0f} persons/s",
        )
    if args.repeat > 1:
        median = statistics.median(m.seconds for m in times)
        peak = max(m.peak_rss_mb for m in times)
        report(
            f"benefit eligibility, median of {args.repeat}",
            f"{everyone.height:,} persons",
            Measurement(median, peak),
            lambda s: f"{everyone.height / s:,.0f} persons/s",
        )
    if args.store:
        lg_code = PARTITIONS[0]
        store(args.store, lg_code, parts[0])
    if not args.transfers:
        return
    sender = Sender("1234567890", "ｻﾂﾎﾟﾛｼ", Account("0001", "ﾐｽﾞﾎ", "001", "ｻﾂﾎﾟﾛ", "1", "1234567"))
    payee = Account("0005", "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", "123", "ｻﾂﾎﾟﾛ", "1", "7654321")
    # the entitled households' amounts, repeated up to ``transfers`` lines (each its own 顧客コード)
    amounts = computed.filter(pl.col("eligible"))["amount"].to_list()
    holders = (
        first_population.select(pl.col("family_name_kana") + " " + pl.col("given_name_kana")).to_series().to_list()
    )
    lines = [
        Transfer(payee, holders[i % len(holders)], amounts[i % len(amounts)], str(i + 1)) for i in range(args.transfers)
    ]
    per_file = 500_000  # a file holds at most 999,999 lines (合計件数 N6): large payments are split into batches
    files, m = measure(
        lambda: [build(sender, lines[i : i + per_file], date(2024, 2, 1)) for i in range(0, len(lines), per_file)]
    )
    count = sum(f.count for f in files)
    report(
        "全銀 総合振込 files",
        f"{count:,} transfers in {len(files)} files",
        m,
        lambda s: f"{count / s:,.0f} transfers/s",
    )


if __name__ == "__main__":
    main()
