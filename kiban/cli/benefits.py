"""``kiban benefits``: 給付金 batches of a municipality — the 確認書 for printing with the print vendor's data
(``notices``) and the national duplicate check (``national-check``).

Commands act as ``cli:<OS user>`` with the permissions they need; the services check and audit them like any other
caller. Each command is one transaction: all or nothing."""

from __future__ import annotations

from pathlib import Path

import click

from kiban.benefits import mailing, national_check
from kiban.benefits.print_export import ENCODINGS, encoding_of
from kiban.benefits.programs import PROGRAMS
from kiban.cli.common import console, database_option, japanese_errors, lg_code_option, municipality, operator
from kiban.core.identity.permissions import Permission

program_option = click.option(
    "--program", required=True, type=click.Choice(sorted(PROGRAMS)), help="給付事業（kiban.benefits.programs）"
)


@click.group()
def benefits() -> None:
    """給付金：確認書の印刷データ、全国の二重給付の確認"""


@benefits.command()
@lg_code_option
@program_option
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="出力先ディレクトリ"
)
@click.option(
    "--encoding", default="cp932", show_default=True, help=f"印刷業者向けCSVの文字コード（{'・'.join(ENCODINGS)}）"
)
@click.option("--all", "include_notified", is_flag=True, help="送付済みの世帯にも再度作成する")
@database_option
@japanese_errors
def notices(
    lg_code: str, program: str, out_dir: Path, encoding: str, include_notified: bool, database_url: str | None
) -> None:
    """確認書（PDF、zip）と印刷業者向けデータ（CSV）・マニフェストを作り、対象世帯を送付済みにする"""
    chosen = encoding_of(encoding)
    with municipality(lg_code, database_url) as (code, name, database):
        actor = operator(code, Permission.WELFARE_WRITE, Permission.REGISTRY_READ)
        with console.status(f"{name} {PROGRAMS[program].name}の確認書を作成しています…"), database.tenant(code) as s:
            result = mailing.export_notices(
                s,
                actor=actor,
                program_code=program,
                out_dir=out_dir,
                encoding=chosen,
                include_notified=include_notified,
            )
    console.print(f"確認書 {result.rows:,} 通を作成しました（{result.directory}）。")
    for file_name, sha256 in result.files.items():
        console.print(f"  {file_name}  SHA-256 {sha256}")
    if result.unencodable:
        console.print(
            f"[bold yellow]注意:[/] {chosen} で表せない文字が {len(result.unencodable)} か所あり、「〓」で出力しました"
            "（マニフェストの unencodable に行・項目・コードポイントがあります）。印刷前に補記してください。"
        )
        for u in result.unencodable[:20]:
            console.print(f"  {u.row}行目 {u.column}: {u.code_point}")
    if result.missing:
        console.print(
            f"[bold yellow]注意:[/] 世帯主が基準日の住民記録にない世帯 {len(result.missing)} 件は作成していません: "
            + "、".join(result.missing[:20])
        )


@benefits.command(name="national-check")
@lg_code_option
@program_option
@database_option
@japanese_errors
def national_check_command(lg_code: str, program: str, database_url: str | None) -> None:
    """対象者を全国の二重給付の確認に登録し、他団体で支給対象となった世帯を要確認にする"""
    with municipality(lg_code, database_url) as (code, name, database):
        actor = operator(code, Permission.WELFARE_WRITE, Permission.REGISTRY_READ)
        with database.tenant(code) as s:
            result = national_check.register_claims(s, actor=actor, program_code=program)
    console.print(f"{name} {PROGRAMS[program].name}：{result.claims:,} 人を登録しました。")
    console.print(
        f"他団体で支給対象のため要確認にした世帯 {len(result.blocked):,} 件、解除 {len(result.released):,} 件。"
    )
    console.print(
        f"他の市区町村でも対象で当団体が支給する（または先に確認した団体が支給する）世帯 {len(result.shared):,} 件。"
    )
    if result.held:
        console.print(
            "[bold red]要対応:[/] 他団体で支給対象なのに支払処理中・支払済みの世帯があります（返還の確認）: "
            + "、".join(result.held)
        )
