"""``kiban users``: create staff accounts (the first tenant admin of a municipality, national operators)."""

from __future__ import annotations

import click
import pyotp

from kiban.cli.common import console, database_option, japanese_errors, open_database
from kiban.core.identity import service
from kiban.core.identity.permissions import ROLES, Role


@click.group()
def users() -> None:
    """職員アカウント"""


@users.command("create")
@click.option("--lg-code", required=True, help="団体コード（国・基盤運用者は 000000）")
@click.option("--user-id", required=True)
@click.option("--name", "display_name", required=True, help="氏名")
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]), required=True)
@click.password_option("--password", help="12文字以上")
@database_option
@japanese_errors
def create_command(
    lg_code: str, user_id: str, display_name: str, roles: tuple[str, ...], password: str, database_url: str | None
) -> None:
    """職員アカウントを作成する"""
    database = open_database(database_url)
    with database.tenant(lg_code) as s:
        created = service.create_user(
            s, user_id=user_id, display_name=display_name, password=password, roles=frozenset(Role(r) for r in roles)
        )
    labels = "・".join(ROLES[Role(r)].label for r in roles)
    console.print(f"{display_name}（{user_id}）を作成しました：{labels}")
    if created.totp_uri:
        console.print(f"認証アプリに登録してください（この表示は一度だけです）: {created.totp_uri}")


@users.command("totp-code")
@click.argument("secret")
def totp_code_command(secret: str) -> None:
    """TOTP secret から現在の確認コードを表示する（デモ・検証用）"""
    console.print(pyotp.TOTP(secret).now())
