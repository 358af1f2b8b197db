"""What every command shares: the database from settings (or ``--database-url``) and Japanese error output."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from kiban.core.config import get_settings
from kiban.core.db import Database
from kiban.core.errors import KibanError

console = Console()
F = TypeVar("F", bound=Callable[..., Any])

database_option = click.option(
    "--database-url",
    envvar="KIBAN_DATABASE_URL",
    default=None,
    help="接続先データベース（省略時は設定 KIBAN_DATABASE_URL、なければ組込みSQLite）",
)


def open_database(url: str | None) -> Database:
    return Database(url or get_settings().effective_database_url)


def japanese_errors(func: F) -> F:
    """Show Kiban's own errors as one Japanese message and exit 1, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KibanError as exc:
            console.print(f"[bold red]エラー:[/] {exc}")
            raise SystemExit(1) from exc

    return wrapper  # type: ignore[return-value]
