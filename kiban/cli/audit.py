"""``kiban audit``: verify the hash chains and export a chain head for anchoring."""

from __future__ import annotations

import json
from typing import IO

import click
from rich.table import Table

from kiban.cli.common import console, database_option, japanese_errors, open_database
from kiban.core.audit import service
from kiban.core.identifiers import validate_lg_code
from kiban.core.identity.permissions import PLATFORM


def _code(value: str) -> str:
    return PLATFORM if value == PLATFORM else validate_lg_code(value)


@click.group()
def audit() -> None:
    """監査記録"""


@audit.command("verify")
@click.option("--lg-code", help="この団体だけ検証する（省略時は記録のあるすべての団体）")
@click.option("--anchor", type=click.File(encoding="utf-8"), help="export-head で保存した先頭記録（JSON）と照合する")
@database_option
@japanese_errors
def verify_command(lg_code: str | None, anchor: IO[str] | None, database_url: str | None) -> None:
    """ハッシュチェーンを検証し、最初の不正な記録を示す（異常があれば終了コード1）"""
    database = open_database(database_url)
    if anchor is not None:
        anchored = json.load(anchor)
        with database.tenant(str(anchored["lg_code"])) as s:
            results = [service.verify_against_anchor(s, anchored)]
    elif lg_code:
        code = _code(lg_code)
        with database.tenant(code) as s:
            results = [service.verify_chain(s, code)]
    else:
        results = service.verify_all(database)
    table = Table("団体コード", "件数", "結果", "最初の不正な記録", "内容")
    for r in results:
        mark = "[green]正常[/]" if r.ok else "[bold red]異常[/]"
        table.add_row(r.lg_code, f"{r.entries:,}", mark, str(r.first_bad_seq or ""), r.reason)
    console.print(table)
    if not all(r.ok for r in results):
        raise SystemExit(1)


@audit.command("export-head")
@click.option("--lg-code", required=True)
@database_option
@japanese_errors
def export_head_command(lg_code: str, database_url: str | None) -> None:
    """ハッシュチェーンの先頭記録をJSONで出力する（別の場所に保管して後で照合）"""
    code = _code(lg_code)
    with open_database(database_url).tenant(code) as s:
        click.echo(json.dumps(service.export_head(s, code), ensure_ascii=False))
