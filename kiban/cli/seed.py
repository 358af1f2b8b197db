"""``kiban seed``: a realistic synthetic population for any municipality (registry issue #3).

For now it writes the population as Parquet (what batch rules read); loading it into the registry tables comes with
the registry's tables.
"""

from __future__ import annotations

from pathlib import Path

import click

from kiban.cli.common import console, japanese_errors
from kiban.core.identifiers import validate_lg_code
from kiban.registry.synth import generate, write_parquet


@click.command()
@click.option("--lg-code", required=True, help="団体コード（例：011002 札幌市）")
@click.option("--persons", type=click.IntRange(min=1), required=True, help="人数")
@click.option("--seed", type=int, default=0, show_default=True, help="乱数の種（同じ値なら同じ住民）")
@click.option("--parquet", "directory", type=click.Path(path_type=Path), required=True, help="Parquetの出力先")
@japanese_errors
def seed(lg_code: str, persons: int, seed: int, directory: Path) -> None:
    """架空の住民（世帯・所得・異動履歴を含む）を生成する"""
    code = validate_lg_code(lg_code)
    with console.status(f"{code} の住民 {persons:,} 人を生成しています…"):
        population = generate(code, persons, seed=seed)
        paths = write_parquet(population, directory)
    console.print(
        f"世帯 {population.households.height:,}、住民 {population.persons.height:,}、"
        f"異動 {population.events.height:,} 件を書き出しました："
    )
    for path in paths:
        console.print(f"  {path}")
