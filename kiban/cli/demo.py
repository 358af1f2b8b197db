"""``kiban demo``: a demo municipality end to end on embedded SQLite, then the staff UI on 127.0.0.1.

Grows with every issue: each step is one function below, run in order with a progress bar.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kiban.cli.common import console, japanese_errors, operator
from kiban.cli.seed import load_synthetic
from kiban.cli.serve import run_server
from kiban.cli.tax import store_synthetic_declarations
from kiban.core.config import get_settings
from kiban.core.db import Database
from kiban.core.identity import service as identity
from kiban.core.identity.permissions import PLATFORM, ROLES, Permission, Role
from kiban.core.migrate import upgrade
from kiban.core.tenants import service as tenants
from kiban.registry.synth import Population
from kiban.tax.service import assess_municipality

DEMO_PERSONS = 3_000
"""Synthetic residents loaded into the demo municipality (enough to search, quick to build)."""
DEMO_SEED = 1
"""Fixed, so every demo has the same residents."""
DEMO_TAX_YEAR = 2026
"""The 年度 assessed in the demo (its declarations are the synthetic residents' incomes)."""

DEMO_STAFF: list[tuple[str, str, frozenset[Role]]] = [
    ("admin", "団体 管理子", frozenset({Role.TENANT_ADMIN})),
    ("juki", "住記 一郎", frozenset({Role.REGISTRY})),
    ("zeimu", "税務 花子", frozenset({Role.TAX})),
    ("fukushi", "福祉 次郎", frozenset({Role.WELFARE})),
    ("hoiku", "保育 三奈", frozenset({Role.CHILDCARE})),
    ("gakumu", "学務 四郎", frozenset({Role.SCHOOL})),
    ("kaigo", "介護 五月", frozenset({Role.CARE})),
    ("kiso", "支払 起票", frozenset({Role.PAYMENT_MAKER})),
    ("shonin", "支払 承認", frozenset({Role.PAYMENT_CHECKER})),
    ("kansa", "監査 六郎", frozenset({Role.AUDITOR})),
]


@dataclass
class DemoState:
    database: Database
    lg_code: str
    accounts: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    """(団体コード, ユーザーID, パスワード, 役割, TOTP secret)"""
    population: Population | None = None


def _create_database(state: DemoState) -> None:
    upgrade(state.database.url, app_role=get_settings().app_role)


def _load_tenants(state: DemoState) -> None:
    with state.database.tenant(None) as s:
        tenants.load_catalog(db_session=s)
        tenants.activate(db_session=s, lg_code=state.lg_code)


def _create_staff(state: DemoState) -> None:
    staff = [(state.lg_code, *row) for row in DEMO_STAFF]
    staff.append((PLATFORM, "unyo", "基盤 運用", frozenset({Role.NATIONAL_OPERATOR})))
    for lg_code, user_id, name, roles in staff:
        password = secrets.token_urlsafe(9)
        with state.database.tenant(lg_code) as s:
            created = identity.create_user(s, user_id=user_id, display_name=name, password=password, roles=roles)
        labels = "・".join(ROLES[r].label for r in sorted(roles))
        state.accounts.append((lg_code, user_id, password, labels, created.totp_secret or ""))


def _load_residents(state: DemoState) -> None:
    state.population, _ = load_synthetic(state.database, state.lg_code, DEMO_PERSONS, seed=DEMO_SEED)


def _assess_taxes(state: DemoState) -> None:
    assert state.population is not None, "residents are loaded first"
    store_synthetic_declarations(state.database, state.lg_code, state.population, DEMO_TAX_YEAR)
    actor = operator(state.lg_code, Permission.TAX_WRITE, Permission.TAX_READ, Permission.REGISTRY_READ)
    with state.database.tenant(state.lg_code) as s:
        assess_municipality(s, actor=actor, fiscal_year=DEMO_TAX_YEAR)


STEPS: list[tuple[str, Callable[[DemoState], None]]] = [
    ("データベースを作成", _create_database),
    ("全国の団体を登録", _load_tenants),
    ("デモ職員を作成", _create_staff),
    (f"架空の住民 {DEMO_PERSONS:,} 人を登録", _load_residents),
    (f"{DEMO_TAX_YEAR}年度の個人住民税を賦課計算", _assess_taxes),
]


@click.command()
@click.option("--lg-code", default="131016", show_default=True, help="デモ団体の団体コード")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("var/demo"), show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--no-serve", is_flag=True, help="画面を起動せずに終了する")
@japanese_errors
def demo(lg_code: str, data_dir: Path, port: int, no_serve: bool) -> None:
    """デモ団体を一から作り、職員画面を起動する（組込みSQLite）"""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "kiban.sqlite3"
    for stale in data_dir.glob("kiban.sqlite3*"):
        stale.unlink()
    state = DemoState(database=Database(f"sqlite:///{path.resolve()}"), lg_code=lg_code)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("デモの準備", total=len(STEPS))
        for label, step in STEPS:
            progress.update(task, description=label)
            step(state)
            progress.advance(task)
    _print_accounts(state)
    if no_serve:
        return
    console.print(f"\n職員画面: [bold]http://127.0.0.1:{port}/[/]（終了は Ctrl+C）")
    run_server(state.database.url, "127.0.0.1", port)


def _print_accounts(state: DemoState) -> None:
    table = Table(title="デモ職員")
    for header in ("団体コード", "ユーザーID", "パスワード", "役割", "TOTP（認証アプリ用）"):
        table.add_column(header, overflow="fold")
    for row in state.accounts:
        table.add_row(*row)
    console.print(table)
    console.print(
        "TOTP が表示された役割は、ログイン後に認証アプリの6桁コードが必要です"
        "（`kiban users totp-code <secret>` で表示できます）。"
    )
