"""What every command shares: the database from settings (or ``--database-url``), the municipality a command acts on
(``--lg-code``: ``municipality``), the operator as actor, and Japanese error output."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, NamedTuple, TypeVar

import click
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from kiban.core.config import get_settings
from kiban.core.db import Database
from kiban.core.errors import KibanError
from kiban.core.identifiers import validate_lg_code
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.tenants import service as tenants

console = Console()
F = TypeVar("F", bound=Callable[..., Any])

database_option = click.option(
    "--database-url",
    envvar="KIBAN_DATABASE_URL",
    default=None,
    help="接続先データベース（省略時は設定 KIBAN_DATABASE_URL、なければ組込みSQLite）",
)

lg_code_option = click.option("--lg-code", required=True, help="団体コード（例：131016 千代田区）")


def open_database(url: str | None) -> Database:
    return Database(url or get_settings().effective_database_url)


def operator(lg_code: str, *permissions: Permission) -> Principal:
    """The person running a command, as the actor of the services it calls: scoped to the permissions the command
    needs (like an API token's scopes), for one tenant, and recorded in the audit log as ``cli:<OS user>``. Services
    check and audit it exactly as they do a signed-in user; running the command at all needs access to the server
    and the database settings."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name for this uid (some containers)
        name = str(os.getuid())
    user = f"cli:{name}"[:60]
    return Principal(
        user_id=user,
        display_name=f"コマンド（{user}）",
        home_lg_code=lg_code,
        lg_code=lg_code,
        roles=frozenset(),
        permissions=frozenset(permissions),
        via="cli",
    )


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


def active_tenant(database: Database, lg_code: str) -> str:
    """The tenant's name; a Japanese error when it is unknown, not active, or the database is not set up."""
    try:
        with database.tenant(None) as s:
            tenant = tenants.get(db_session=s, lg_code=lg_code)
            name, active = tenant.name, tenant.active
    except DBAPIError as exc:
        raise KibanError(
            "データベースに接続できないか、まだ作成されていません。`kiban db upgrade` で作成してから実行してください。"
        ) from exc
    if not active:
        raise KibanError(
            f"{name}（{lg_code}）は利用開始されていません。`kiban tenants activate {lg_code}` で利用開始してください。"
        )
    return name


class Municipality(NamedTuple):
    lg_code: str
    name: str
    database: Database


@contextmanager
def municipality(lg_code: str, database_url: str | None) -> Iterator[Municipality]:
    """The municipality a command acts on: its code checked, the database opened (and disposed of at the end), the
    tenant active (``active_tenant``)."""
    code = validate_lg_code(lg_code)
    database = open_database(database_url)
    try:
        yield Municipality(code, active_tenant(database, code), database)
    finally:
        database.dispose()
