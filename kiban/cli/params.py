"""``kiban params``: the declared parameter catalogue and the values in force."""

from __future__ import annotations

from datetime import date

import click
from rich.table import Table

from kiban.cli.common import console, database_option, japanese_errors, open_database
from kiban.core.dates import parse_date, to_wareki
from kiban.core.identifiers import validate_lg_code
from kiban.core.params import service


@click.group()
def params() -> None:
    """パラメータ（国の標準値と団体独自の値）"""


@params.command("list")
@click.option("--lg-code", help="この団体の値（省略時は国の値）")
@click.option("--on", "on_text", help="基準日（例：令和7年4月1日、2025-04-01）")
@database_option
@japanese_errors
def list_command(lg_code: str | None, on_text: str | None, database_url: str | None) -> None:
    """基準日に適用される値の一覧"""
    on = parse_date(on_text, field="基準日") if on_text else date.today()
    code = validate_lg_code(lg_code) if lg_code else None
    with open_database(database_url).tenant(code) as s:
        values = service.values_on(s, on)
    table = Table("名前", "名称", "値", "設定", "根拠", title=f"{to_wareki(on)}の値")
    for name, parameter in service.catalogue().items():
        shown = parameter.format(values[name]) if name in values else "—"
        table.add_row(
            name, parameter.label, shown, "団体" if parameter.municipal else "国", parameter.legal_basis.citation
        )
    console.print(table)


@params.command("show")
@click.argument("name")
@japanese_errors
def show_command(name: str) -> None:
    """パラメータの定義（根拠、国の値の推移、団体が設定できる範囲）"""
    p = service.describe(name)
    console.print(
        f"[bold]{p.label}[/]（{p.name}）\n{p.description}\n根拠：{p.legal_basis.citation} {p.legal_basis.url or ''}"
    )
    for n in p.national:
        until = to_wareki(n.end) if n.end else ""
        console.print(f"  {to_wareki(n.start)}〜{until}：{p.format(n.value) if n.value is not None else '級地による'}")
    if p.bounds:
        console.print(f"団体が設定できる範囲：{p.format(p.bounds.minimum)}〜{p.format(p.bounds.maximum)}")
