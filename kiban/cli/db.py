"""``kiban db``: schema migrations (run as the table owner) and the reference data every install needs."""

from __future__ import annotations

import click

from kiban.cli.common import console, database_option, open_database
from kiban.core.config import get_settings
from kiban.core.migrate import upgrade
from kiban.core.tenants.service import load_catalog


@click.group()
def db() -> None:
    """データベースの作成・更新"""


@db.command("upgrade")
@click.option("--owner-url", envvar="KIBAN_MIGRATION_DATABASE_URL", default=None, help="テーブル所有者の接続先")
@database_option
def upgrade_command(owner_url: str | None, database_url: str | None) -> None:
    """マイグレーションを適用し、団体一覧を読み込む"""
    settings = get_settings()
    url = owner_url or database_url or settings.effective_migration_url
    upgrade(url, app_role=settings.app_role)
    database = open_database(url)
    with database.tenant(None) as s:
        count = load_catalog(db_session=s)
    database.dispose()
    console.print(f"データベースを更新しました（団体 {count:,} 件）。")
