"""``kiban tenants``: the catalogue of municipalities, prefectures and wards."""

from __future__ import annotations

import click
from rich.table import Table

from kiban.cli.common import console, database_option, japanese_errors, open_database
from kiban.core.tenants import service
from kiban.core.tenants.catalog import KINDS

KIND_LABELS = {
    "prefecture": "都道府県",
    "designated_city": "政令市",
    "city": "市",
    "special_ward": "特別区",
    "town": "町",
    "village": "村",
    "designated_city_ward": "行政区",
}


@click.group()
def tenants() -> None:
    """団体（利用テナント）"""


@tenants.command("list")
@click.option("--pref", "pref_code", help="都道府県コード（2桁、例：13）")
@click.option("--kind", type=click.Choice(KINDS), help="種別")
@click.option("--active", is_flag=True, help="利用中の団体だけ")
@database_option
@japanese_errors
def list_command(pref_code: str | None, kind: str | None, active: bool, database_url: str | None) -> None:
    """団体の一覧"""
    database = open_database(database_url)
    with database.tenant(None) as s:
        rows = service.get_all(db_session=s, pref_code=pref_code, kind=kind, active=True if active else None)
        table = Table("団体コード", "名称", "種別", "都道府県", "人口", "級地", "利用")
        for t in rows:
            grade = f"{t.kyuchi}級地-{t.kyuchi_sub}" if t.kyuchi else ""
            table.add_row(
                t.lg_code, t.name, KIND_LABELS[t.kind], t.pref_name, f"{t.population:,}", grade, "○" if t.active else ""
            )
    console.print(table)
    console.print(f"{len(rows):,} 団体")


@tenants.command("show")
@click.argument("lg_code")
@database_option
@japanese_errors
def show_command(lg_code: str, database_url: str | None) -> None:
    """団体の詳細"""
    database = open_database(database_url)
    with database.tenant(None) as s:
        t = service.get(db_session=s, lg_code=lg_code)
        table = Table(show_header=False)
        for label, value in (
            ("団体コード", t.lg_code),
            ("名称", f"{t.name}（{t.name_kana}）"),
            ("種別", KIND_LABELS[t.kind]),
            ("都道府県", f"{t.pref_name}（{t.pref_code}）"),
            ("郡", t.gun or ""),
            ("所属する市", t.parent_code or ""),
            ("人口（住民基本台帳 令和7年1月1日）", f"{t.population:,}人"),
            ("世帯数", f"{t.households:,}世帯"),
            ("生活保護 級地", f"{t.kyuchi}級地-{t.kyuchi_sub}" if t.kyuchi else "（該当なし）"),
            ("利用状況", "利用中" if t.active else "未利用"),
        ):
            table.add_row(label, value)
    console.print(table)


@tenants.command("activate")
@click.argument("lg_code")
@database_option
@japanese_errors
def activate_command(lg_code: str, database_url: str | None) -> None:
    """団体を利用開始にする"""
    database = open_database(database_url)
    with database.tenant(None) as s:
        t = service.activate(db_session=s, lg_code=lg_code)
    console.print(f"{t.name}（{t.lg_code}）を利用開始にしました。")
