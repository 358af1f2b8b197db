"""``kiban tax``: the 個人住民税 batch of a municipality (``assess``) and its income declarations (``declarations
import`` from the standard CSV, ``declarations synth`` from the synthetic population ``kiban seed`` loaded).

Commands act as ``cli:<OS user>`` with the tax permissions they need (and reading the register for ``assess``);
the services check and audit them like any other caller. Each command is one transaction: all or nothing."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kiban.cli.common import console, database_option, japanese_errors, lg_code_option, municipality, operator
from kiban.core.db import Database
from kiban.core.identity.permissions import Permission
from kiban.core.money import format_yen
from kiban.registry.synth import Population, generate
from kiban.tax import declarations
from kiban.tax.assessment import LAST_FISCAL_YEAR
from kiban.tax.rules.results import STATUS_LABELS
from kiban.tax.service import STEPS, RunSummary, assess_municipality

TOTAL_LABELS = {
    "income_levy_municipal": "所得割（市区町村民税）",
    "income_levy_prefectural": "所得割（道府県民税）",
    "per_capita_municipal": "均等割（市区町村民税）",
    "per_capita_prefectural": "均等割（道府県民税）",
    "forest_environment_tax": "森林環境税",
    "annual_tax": "年税額 合計",
}

fiscal_year_option = click.option(
    "--fiscal-year", type=int, default=LAST_FISCAL_YEAR, show_default=True, help="年度（西暦。例：2026 は令和8年度）"
)


@click.group()
def tax() -> None:
    """個人住民税：申告等の取込みと賦課計算"""


@tax.command()
@lg_code_option
@fiscal_year_option
@database_option
@japanese_errors
def assess(lg_code: str, fiscal_year: int, database_url: str | None) -> None:
    """賦課期日（1月1日）の住民全員の税額を計算して保存する（何度実行しても同じ入力なら同じ結果）"""
    with municipality(lg_code, database_url) as (code, name, database):
        actor = operator(code, Permission.TAX_WRITE, Permission.TAX_READ, Permission.REGISTRY_READ)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task(f"{name} {fiscal_year}年度の賦課計算", total=STEPS)
            with database.tenant(code) as s:
                summary = assess_municipality(
                    s,
                    actor=actor,
                    fiscal_year=fiscal_year,
                    progress=lambda done: progress.update(task, description=done, advance=1),
                )
    _print_summary(name, summary)


def _print_summary(name: str, summary: RunSummary) -> None:
    table = Table(title=f"{name} {summary.fiscal_year}年度 個人住民税（第{summary.run_no}回）")
    table.add_column("課税区分")
    table.add_column("人数", justify="right")
    for status, label in STATUS_LABELS.items():
        table.add_row(label, f"{summary.by_status.get(status, 0):,}")
    table.add_row("計", f"{summary.persons:,}", style="bold")
    console.print(table)
    totals = Table(show_header=False)
    totals.add_column("税目")
    totals.add_column("金額", justify="right")
    for key, label in TOTAL_LABELS.items():
        totals.add_row(label, format_yen(summary.totals[key]))
    console.print(totals)
    if summary.changed or summary.removed:
        console.print(
            f"前回から変わった結果 {summary.changed:,} 件、なくなった結果 {summary.removed:,} 件を書き込みました。"
        )
    else:
        console.print("前回の計算から変わった結果はありません。")
    if summary.not_resident:
        console.print(f"賦課期日に住民でなかった {summary.not_resident:,} 人の申告等は計算していません。")


@tax.group(name="declarations")
def declarations_group() -> None:
    """所得の申告・給与支払報告書・公的年金等支払報告書"""


@declarations_group.command(name="import")
@lg_code_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
@japanese_errors
def import_command(lg_code: str, file: Path, database_url: str | None) -> None:
    """標準レイアウトのCSV（UTF-8 または Shift_JIS）を取り込む。誤りが1つでもあれば何も取り込まない"""
    with municipality(lg_code, database_url) as (code, _, database), database.tenant(code) as s:
        stored = declarations.import_file(s, actor=operator(code, Permission.TAX_WRITE), data=file.read_bytes())
    years = "・".join(f"{y}年度" for y in stored.fiscal_years)
    replaced = f"、うち訂正・取消 {stored.replaced:,} 件" if stored.replaced else ""
    console.print(f"{years}の申告等 {stored.declarations:,} 件（{stored.persons:,} 人{replaced}）を取り込みました。")


def store_synthetic_declarations(
    database: Database, lg_code: str, population: Population, fiscal_year: int
) -> declarations.Stored:
    """Write a synthetic population's incomes (``kiban.registry.synth``, loaded into the register) as the
    ``fiscal_year``'s declarations, in one transaction, as the command's operator (``kiban seed``, ``kiban tax
    declarations synth``)."""
    with database.tenant(lg_code) as s:
        return declarations.store_synthetic(
            s,
            actor=operator(lg_code, Permission.TAX_WRITE, Permission.TAX_READ),
            persons=population.persons,
            fiscal_year=fiscal_year,
        )


@declarations_group.command(name="synth")
@lg_code_option
@fiscal_year_option
@click.option("--persons", type=click.IntRange(min=1), required=True, help="`kiban seed` で指定した人数")
@click.option("--seed", type=int, default=0, show_default=True, help="`kiban seed` で指定した乱数の種")
@database_option
@japanese_errors
def synth(lg_code: str, fiscal_year: int, persons: int, seed: int, database_url: str | None) -> None:
    """`kiban seed` で読み込んだ架空の住民の所得を、その年度の申告等として登録する"""
    with municipality(lg_code, database_url) as (code, _, database):
        with console.status(f"住民 {persons:,} 人の所得を生成しています…"):
            population = generate(code, persons, seed=seed)
        stored = store_synthetic_declarations(database, code, population, fiscal_year)
    console.print(f"{fiscal_year}年度の申告等 {stored.declarations:,} 件（{stored.persons:,} 人）を登録しました。")
