"""``kiban demo``: a demo municipality end to end on embedded SQLite, then the staff UI on 127.0.0.1.

Grows with every issue: each step is one function below, run in order with a progress bar. Registry and tax: the
synthetic residents and their 個人住民税. Benefits (issue #5): the 令和5年度 低所得世帯支援 from its 年度's
assessment, the 確認書 printed, a few paper replies keyed by 福祉 staff, a payment batch made by the 支払起票者 and
approved by the 支払承認者, the 全銀 file, and the bank's 振込結果 (simulated, with one 振込不能) imported. Every
step acts as a demo staff member, through the same services and checks as the staff pages. The files are written
under ``<data-dir>/output``; each run starts from an empty database and output directory.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kiban.benefits.mailing import export_notices
from kiban.benefits.models import ELIGIBLE, STATUS_LABELS
from kiban.benefits.population import population_of
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import BankAccount, checked_account, confirm, entitlements_of, run_eligibility
from kiban.cli.common import console, japanese_errors, operator
from kiban.cli.seed import load_synthetic
from kiban.cli.serve import run_server
from kiban.cli.tax import store_synthetic_declarations
from kiban.core.config import get_settings
from kiban.core.dates import add_bank_business_days
from kiban.core.db import Database
from kiban.core.errors import InputError
from kiban.core.identity import service as identity
from kiban.core.identity.models import StaffUser
from kiban.core.identity.permissions import PLATFORM, ROLES, Permission, Principal, Role
from kiban.core.migrate import upgrade
from kiban.core.tenants import service as tenants
from kiban.payments import zengin
from kiban.payments.results import ResultSummary, import_result
from kiban.payments.service import (
    approve,
    batch_lines,
    create_batch,
    customer_code,
    issue_file,
)
from kiban.registry import snapshot
from kiban.registry.synth import Population
from kiban.tax.service import assess_municipality

DEMO_PERSONS = 3_000
"""Synthetic residents loaded into the demo municipality (enough to search, quick to build)."""
DEMO_SEED = 1
"""Fixed, so every demo has the same residents."""
DEMO_TAX_YEAR = 2026
"""The 年度 assessed in the demo (its declarations are the synthetic residents' incomes)."""

DEMO_PROGRAM = PROGRAMS["low_income_2023"]
"""The benefit program run in the demo: it reads the 令和5年度 課税区分, so the demo assesses that 年度 too."""
PROGRAM_TAX_YEAR = 2023
"""``DEMO_PROGRAM.tax_fiscal_year``: the 年度 whose 課税区分 the program reads."""
DEMO_REPLIES = 8
"""確認書 returned (on paper, keyed by 福祉 staff) before the payment batch."""
DEMO_FAILED_LINE = 2
"""The line the simulated bank returns as 振込不能 (code 2: 取引なし)."""
DEMO_SENDER_CODE = "9000000001"
"""委託者コード of the demo municipality (given by its bank in real life)."""

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
    output: Path = Path("output")
    """Where the 確認書, the 全銀 file and the bank's result are written."""
    population: Population | None = None
    batch_no: int = 0
    """The payment batch made in the demo."""
    result: ResultSummary | None = None


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


def _assess(state: DemoState, fiscal_year: int) -> None:
    """The 年度's 個人住民税 of the residents, from their synthetic incomes declared for that 年度."""
    assert state.population is not None, "residents are loaded first"
    store_synthetic_declarations(state.database, state.lg_code, state.population, fiscal_year)
    actor = operator(state.lg_code, Permission.TAX_WRITE, Permission.TAX_READ, Permission.REGISTRY_READ)
    with state.database.tenant(state.lg_code) as s:
        assess_municipality(s, actor=actor, fiscal_year=fiscal_year)


def _staff(state: DemoState, user_id: str) -> Principal:
    """A demo staff member as the services see them (their roles and permissions)."""
    with state.database.tenant(state.lg_code) as s:
        return identity.principal_of(s, s.get_one(StaffUser, (state.lg_code, user_id)))


def _run_program(state: DemoState) -> None:
    welfare = _staff(state, "fukushi")
    with state.database.tenant(state.lg_code) as s:
        found = population_of(s, actor=welfare, program=DEMO_PROGRAM)
        run_eligibility(
            s, actor=welfare, program_code=DEMO_PROGRAM.code, residents=found.residents, parameters=found.parameters
        )


def _write_notices(state: DemoState) -> None:
    with state.database.tenant(state.lg_code) as s:
        export_notices(
            s, actor=_staff(state, "fukushi"), program_code=DEMO_PROGRAM.code, out_dir=state.output / "notices"
        )


def _account(i: int, holder: str) -> BankAccount | None:
    """The account written on the i-th returned 確認書 (None when the holder's name has no 全銀 spelling)."""
    try:
        return checked_account(BankAccount("0005", "123", "1", f"{3_000_001 + i:07d}", holder))
    except InputError:
        return None


def _key_replies(state: DemoState) -> None:
    """福祉 staff key the first returned 確認書 (paper): each household's own account in its 受給権者's name."""
    welfare = _staff(state, "fukushi")
    with state.database.tenant(state.lg_code) as s:
        stored = entitlements_of(s, actor=welfare, program_code=DEMO_PROGRAM.code)
        waiting = [e for e in stored if e.status == ELIGIBLE]
        heads = snapshot.residents(s, actor=welfare, on=DEMO_PROGRAM.base_date)
        kana = dict(zip(heads["person_no"], heads["family_name_kana"] + "　" + heads["given_name_kana"], strict=True))
        accounts = ((e.household_no, _account(i, kana.get(e.recipient_no, ""))) for i, e in enumerate(waiting))
        replies = [(h, a) for h, a in accounts if a is not None][:DEMO_REPLIES]
        for household_no, given in replies:
            confirm(s, actor=welfare, program_code=DEMO_PROGRAM.code, household_no=household_no, account=given)


def _pay(state: DemoState) -> None:
    """The 支払起票者 makes the batch, the 支払承認者 approves what they were shown, the 起票者 issues the file."""
    maker, checker = _staff(state, "kiso"), _staff(state, "shonin")
    transfer_day = add_bank_business_days(date.today(), 3)
    with state.database.tenant(state.lg_code) as s:
        batch_no = create_batch(s, actor=maker, program_code=DEMO_PROGRAM.code, transfer_date=transfer_day).batch_no
    with state.database.tenant(state.lg_code) as s:
        seen = batch_lines(s, actor=checker, batch_no=batch_no)
        approve(s, actor=checker, batch_no=batch_no, seen_hash=seen.content_hash)
    with state.database.tenant(state.lg_code) as s:
        tenant = tenants.get(db_session=s, lg_code=state.lg_code)
        account = zengin.Account("0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ", "1", "1234567")
        sender = zengin.Sender(DEMO_SENDER_CODE, tenant.name_kana, account)
        issued = issue_file(s, actor=maker, batch_no=batch_no, sender=sender)
    (state.output / f"zengin-{batch_no:04d}.txt").write_bytes(issued.content)
    state.batch_no = batch_no


def _settle(state: DemoState) -> None:
    """The bank's 振込結果 (simulated: every transfer done but one, 取引なし) imported by the 支払起票者."""
    batch_no = state.batch_no
    issued = (state.output / f"zengin-{batch_no:04d}.txt").read_bytes()
    result = zengin.bank_result(issued, {customer_code(batch_no, DEMO_FAILED_LINE): "2"})
    (state.output / f"zengin-{batch_no:04d}-result.txt").write_bytes(result)
    with state.database.tenant(state.lg_code) as s:
        state.result = import_result(s, actor=_staff(state, "kiso"), batch_no=batch_no, content=result)


STEPS: list[tuple[str, Callable[[DemoState], None]]] = [
    ("データベースを作成", _create_database),
    ("全国の団体を登録", _load_tenants),
    ("デモ職員を作成", _create_staff),
    (f"架空の住民 {DEMO_PERSONS:,} 人を登録", _load_residents),
    (f"{DEMO_TAX_YEAR}年度の個人住民税を賦課計算", lambda state: _assess(state, DEMO_TAX_YEAR)),
    (f"{PROGRAM_TAX_YEAR}年度の個人住民税を賦課計算（給付金の判定用）", lambda state: _assess(state, PROGRAM_TAX_YEAR)),
    (f"{DEMO_PROGRAM.name}の対象世帯を判定", _run_program),
    ("確認書を作成", _write_notices),
    (f"確認書の返送 {DEMO_REPLIES} 件を受付", _key_replies),
    ("支払バッチを起票・承認し、全銀ファイルを発行", _pay),
    ("振込結果（1件 振込不能）を取込", _settle),
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
    output = data_dir / "output"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir()
    state = DemoState(database=Database(f"sqlite:///{path.resolve()}"), lg_code=lg_code, output=output)
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
    _print_benefits(state)
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


def _print_benefits(state: DemoState) -> None:
    with state.database.tenant(state.lg_code) as s:
        stored = entitlements_of(s, actor=_staff(state, "fukushi"), program_code=DEMO_PROGRAM.code)
    table = Table(title=DEMO_PROGRAM.name)
    for header in ("状態", "世帯数", "金額"):
        table.add_column(header, justify="right" if header != "状態" else "left")
    for status, label in STATUS_LABELS.items():
        mine = [e.amount for e in stored if e.status == status]
        if mine:
            table.add_row(label, f"{len(mine):,}", f"{sum(mine):,}円")
    table.add_row("計", f"{len(stored):,}", f"{sum(e.amount for e in stored):,}円")
    console.print(table)
    if state.result is not None:
        r = state.result
        failures = "".join(f"（世帯番号 {f.household_no}: {f.reason}）" for f in r.failures)
        console.print(
            f"支払バッチ {r.batch_no}: 振込済 {r.paid} 件 {r.paid_total:,}円、"
            f"振込不能 {r.failed} 件 {r.failed_total:,}円{failures}"
        )
    console.print(f"確認書・全銀ファイル・振込結果: {state.output.resolve()}")
