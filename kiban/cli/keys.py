"""``kiban keys``: the keys that encrypt personal data at rest (``KIBAN_DATA_KEYS``, :mod:`kiban.core.crypto`).

Rotation: put a new key first in ``KIBAN_DATA_KEYS`` (``kiban keys generate`` prints one), run ``kiban keys rotate``,
then remove the old key. Every tenant is rotated in its own transaction (inside its row-level security), so an
interrupted run is simply run again: values already under the new key are not touched."""

from __future__ import annotations

import click
from rich.table import Table

import kiban.models  # noqa: F401  (every encrypted column must be mapped before rotating)
from kiban.cli.common import console, database_option, japanese_errors, open_database
from kiban.core import crypto
from kiban.core.errors import KibanError
from kiban.core.identity.permissions import PLATFORM
from kiban.core.tenants import service as tenants


@click.group()
def keys() -> None:
    """個人データを暗号化する鍵"""


@keys.command("generate")
@click.argument("kid")
@japanese_errors
def generate_command(kid: str) -> None:
    """新しい鍵（KIBAN_DATA_KEYS の1項目）を表示する"""
    if not kid.isalnum():
        raise KibanError(f"鍵ID「{kid}」は受け付けられません。英数字だけで指定してください（例：k2）。")
    console.print(crypto.generate_key(kid), soft_wrap=True)


@keys.command("rotate")
@database_option
@japanese_errors
def rotate_command(database_url: str | None) -> None:
    """暗号化された項目をすべて、KIBAN_DATA_KEYS の先頭の鍵で暗号化し直す（団体ごと）"""
    try:
        ring = crypto.keyring()
    except ValueError as exc:
        raise KibanError(f"KIBAN_DATA_KEYS が正しくありません：{exc}") from exc
    database = open_database(database_url)
    try:
        with database.tenant(None) as s:
            codes = [PLATFORM, *(t.lg_code for t in tenants.get_all(db_session=s))]
        counts: dict[str, int] = {}
        for lg_code in codes:
            with database.tenant(lg_code) as s:
                counts[lg_code] = crypto.rotate(s)
    except crypto.CryptoError as exc:
        raise KibanError(
            f"復号できない値があります（{exc}）。古い鍵を KIBAN_DATA_KEYS に残したまま実行してください。"
            "それまでに暗号化し直した団体の分は確定しています。"
        ) from exc
    finally:
        database.dispose()
    rotated = {code: n for code, n in counts.items() if n}
    if rotated:
        table = Table("団体コード", "暗号化し直した値", title=f"鍵「{ring.active}」で暗号化し直しました")
        for code, n in rotated.items():
            table.add_row(code, f"{n:,}")
        console.print(table)
    console.print(
        f"{len(codes):,} 団体を確認し、{sum(rotated.values()):,} 件を鍵「{ring.active}」で暗号化し直しました"
        f"（{len(rotated):,} 団体）。古い鍵は KIBAN_DATA_KEYS から外せます。"
    )
