"""``kiban seed``: a realistic synthetic population for any municipality (registry issue #3), loaded into the
register of an active tenant (``kiban.registry.load``, one transaction, COPY on PostgreSQL) and/or written as
Parquet (what batch rules read).

The command acts as ``cli:<OS user>`` with the registry write permission only; the load is checked and audited like
any other write, and is refused when the register already holds anyone. The residents' incomes are then registered
as the ``--tax-year``'s declarations (``kiban.tax.declarations``, as ``cli:<OS user>`` with the tax permissions), so
the seeded town can be assessed with ``kiban tax assess``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from kiban.cli.common import active_tenant, console, database_option, japanese_errors, open_database, operator
from kiban.cli.tax import store_synthetic_declarations
from kiban.core.db import Database
from kiban.core.identifiers import validate_lg_code
from kiban.core.identity.permissions import Permission
from kiban.registry.load import Loaded, ensure_empty, load_population
from kiban.registry.synth import Population, generate, write_parquet
from kiban.tax.assessment import LAST_FISCAL_YEAR
from kiban.tax.declarations import check_fiscal_year

STEPS = 7
"""Steps ``load_synthetic`` reports: the checks, generation, the four tables ``load_population`` writes, the
commit."""


def load_synthetic(
    database: Database, lg_code: str, persons: int, *, seed: int, step: Callable[[str], None] | None = None
) -> tuple[Population, Loaded]:
    """Generate ``persons`` residents of the active tenant ``lg_code`` and load them into its empty register in
    one transaction, as the command's operator. ``kiban seed``, ``kiban demo`` and ``bench/registry_load.py`` share
    it. Refused (nothing written) when the register is not empty. ``step`` is told what was just done, ``STEPS``
    times."""
    done = step or (lambda description: None)
    active_tenant(database, lg_code)
    actor = operator(lg_code, Permission.REGISTRY_WRITE)
    with database.tenant(lg_code) as s:
        ensure_empty(s, actor=actor)
    done("団体と空の住民記録を確認")
    population = generate(lg_code, persons, seed=seed)
    done(f"住民 {population.persons.height:,} 人を生成")
    with database.tenant(lg_code) as s:
        loaded = load_population(
            s, actor=actor, population=population, progress=lambda label, rows: done(f"{label} {rows:,} 件を書き込み")
        )
    done("確定")
    return population, loaded


@click.command()
@click.option("--lg-code", required=True, help="団体コード（例：011002 札幌市）")
@click.option("--persons", type=click.IntRange(min=1), required=True, help="人数")
@click.option("--seed", type=int, default=0, show_default=True, help="乱数の種（同じ値なら同じ住民）")
@click.option("--parquet", "directory", type=click.Path(path_type=Path), default=None, help="Parquetの出力先（任意）")
@click.option(
    "--database/--no-database",
    "load",
    default=True,
    show_default=True,
    help="データベースの住民記録に読み込む（利用中の団体の、空の住民記録だけ）",
)
@click.option(
    "--tax-year",
    type=int,
    default=LAST_FISCAL_YEAR,
    show_default=True,
    help="住民の所得をこの年度の申告等として登録する（`kiban tax assess` で賦課計算できる）",
)
@database_option
@japanese_errors
def seed(
    lg_code: str,
    persons: int,
    seed: int,
    directory: Path | None,
    load: bool,
    tax_year: int,
    database_url: str | None,
) -> None:
    """架空の住民（世帯・所得・異動履歴を含む）を生成し、住民記録に読み込む（Parquetにも書き出せる）"""
    code = validate_lg_code(lg_code)
    check_fiscal_year(tax_year)
    if not load and directory is None:
        raise click.UsageError("--no-database のときは --parquet で出力先を指定してください。")
    if load:
        database = open_database(database_url)
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                tasks: list[TaskID] = []

                def step(done: str) -> None:
                    if not tasks:  # shown once the checks have passed
                        tasks.append(progress.add_task("", total=STEPS))
                    progress.update(tasks[0], description=f"{done}：済", advance=1)

                population, loaded = load_synthetic(database, code, persons, seed=seed, step=step)
            console.print(
                f"{code} の住民記録に 世帯 {loaded.households:,}、住民 {loaded.persons:,}（転出・死亡を含む）、"
                f"異動 {loaded.events:,} 件を読み込みました。"
            )
            declared = store_synthetic_declarations(database, code, population, tax_year)
            console.print(
                f"{tax_year}年度の申告等 {declared.declarations:,} 件を登録しました"
                f"（`kiban tax assess --lg-code {code} --fiscal-year {tax_year}` で賦課計算できます）。"
            )
        finally:
            database.dispose()
    else:
        with console.status(f"{code} の住民 {persons:,} 人を生成しています…"):
            population = generate(code, persons, seed=seed)
    if directory is not None:
        paths = write_parquet(population, directory)
        console.print(
            f"世帯 {population.households.height:,}、住民 {population.persons.height:,}、"
            f"異動 {population.events.height:,} 件を書き出しました："
        )
        for path in paths:
            console.print(f"  {path}")
