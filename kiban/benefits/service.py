"""Entitlements stored: eligibility runs that change only what the facts changed, and confirmations of the account.

Verbs: ``run_eligibility`` (the batch over a program's residents), ``confirm`` (a household's 確認書 / 申請: the
account the benefit is paid to), ``entitlement_of``, ``entitlements_of``.

A run is idempotent: the same residents and parameters change nothing. Changed facts produce a reviewable
difference (households added, changed and removed, with old and new amounts) and are applied to households that
are not being paid; a household with a line in a payment batch, or already paid, is never changed by a run — its
difference is returned as ``held`` for staff to review (寝屋川市 2020: payments decided on stale lists). Removed
households are ``withdrawn``, never deleted.

Everything happens in the caller's transaction; every call is authorized and audited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select, text

from kiban.benefits.eligibility import entitlements
from kiban.benefits.models import (
    CONFIRMED,
    ELIGIBLE,
    FAILED,
    NEEDS_REVIEW,
    PAID,
    STATUS_LABELS,
    WITHDRAWN,
    BenefitRun,
    Entitlement,
)
from kiban.benefits.programs import PROGRAMS, Program
from kiban.benefits.rules import HOUSEHOLD_RESULTS, INPUTS, RULES
from kiban.core.audit.service import authorize, record, record_refusal
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.jtext import zengin_kana
from kiban.core.params.catalogue import ParamValue, default_catalogue, to_json
from kiban.core.rules.engine import plan

PURPOSE = "給付金の支給決定"
"""Purpose written on every audit entry of the benefits domain."""
COMPARED = ("recipient_no", *HOUSEHOLD_RESULTS)
"""What a run compares between the stored entitlement and the new computation."""
ACCOUNT_TYPES = {"1": "普通", "2": "当座", "4": "貯蓄", "9": "その他"}


@dataclass(frozen=True)
class BankAccount:
    """The account a benefit is paid to (given on the 確認書, or the 公金受取口座 the resident chose)."""

    bank_code: str
    branch_code: str
    account_type: str
    """1 普通, 2 当座, 4 貯蓄, 9 その他."""
    account_number: str
    holder_kana: str
    """口座名義 (kana); stored in 全銀 characters."""


@dataclass(frozen=True)
class Difference:
    """One household whose entitlement a run found different (amounts in yen; ``None``: none)."""

    household_no: str
    old_amount: int | None
    new_amount: int | None
    old_status: str | None
    new_status: str | None
    """The status after the run (for ``held``: the status it would have had; the stored one is unchanged)."""


@dataclass(frozen=True)
class RunResult:
    run_no: int
    program: str
    households: int
    """Households the computation found entitled or needing review."""
    added: list[Difference] = field(default_factory=list)
    changed: list[Difference] = field(default_factory=list)
    removed: list[Difference] = field(default_factory=list)
    held: list[Difference] = field(default_factory=list)
    """Differences not applied: the household is in a payment batch or paid. Staff review these (a correction
    after payment is a 返還 or 追加支給, never a silent change)."""

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed or self.held)


def program_of(code: str) -> Program:
    program = PROGRAMS.get(code)
    if program is None:
        raise InputError(FieldError("給付事業", code, f"次のいずれかを指定してください：{'、'.join(PROGRAMS)}。"))
    return program


def lock_program(db_session: TenantSession, lg_code: str, program: str) -> None:
    """Work that numbers runs or batches of a program, or reads its entitlements to change them, queues per tenant and
    program (PostgreSQL: a transaction-level advisory lock). SQLite serializes writers by itself."""
    if db_session.connection().dialect.name == "postgresql":
        db_session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"benefits:{lg_code}:{program}"}
        )


def is_frozen(entitlement: Entitlement) -> bool:
    """In a payment batch (a pending or sent line) or paid: a run never changes it."""
    return entitlement.batch_no is not None or entitlement.status == PAID


def checked_account(account: BankAccount) -> BankAccount:
    """The account with its holder in 全銀 characters; every problem is reported at once."""
    errors: list[FieldError] = []
    for label, value, width in (
        ("金融機関コード", account.bank_code, 4),
        ("支店コード", account.branch_code, 3),
        ("口座番号", account.account_number, 7),
    ):
        if not (value.isascii() and value.isdigit() and len(value) == width):
            errors.append(FieldError(label, value, f"{width}桁の半角数字で入力してください。"))
    if account.account_type not in ACCOUNT_TYPES:
        errors.append(
            FieldError("預金種目", account.account_type, "1（普通）・2（当座）・4（貯蓄）・9（その他）のいずれか。")
        )
    holder = account.holder_kana
    try:
        holder = zengin_kana(account.holder_kana, field="口座名義（カナ）")
    except InputError as exc:
        errors.extend(exc.errors)
    if len(holder) > 60:
        errors.append(FieldError("口座名義（カナ）", account.holder_kana, "60文字以内で入力してください。"))
    if errors:
        raise InputError(*errors)
    return BankAccount(account.bank_code, account.branch_code, account.account_type, account.account_number, holder)


def account_of(entitlement: Entitlement) -> BankAccount | None:
    e = entitlement
    if e.bank_code is None or e.branch_code is None or e.account_type is None or e.account_number is None:
        return None
    return BankAccount(e.bank_code, e.branch_code, e.account_type, e.account_number, e.holder_kana or "")


def set_account(entitlement: Entitlement, account: BankAccount | None) -> None:
    e = entitlement
    e.bank_code = account.bank_code if account else None
    e.branch_code = account.branch_code if account else None
    e.account_type = account.account_type if account else None
    e.account_number = account.account_number if account else None
    e.holder_kana = account.holder_kana if account else None


def _parameters_json(program: Program, parameters: Mapping[str, ParamValue]) -> str:
    catalogue = default_catalogue()
    used = plan(RULES[program.code], HOUSEHOLD_RESULTS, on=program.base_date, parameters=parameters, inputs=INPUTS)
    return json.dumps(
        {name: to_json(catalogue[name].type, value) for name, value in used.parameters.items()},
        ensure_ascii=False,
        sort_keys=True,
    )


def _values(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "recipient_no": str(row["recipient_no"]),
        **{
            name: bool(row[name]) if name in ("eligible", "needs_review") else int(row[name])
            for name in HOUSEHOLD_RESULTS
        },
    }


def _stored_values(entitlement: Entitlement) -> dict[str, Any]:
    return {name: getattr(entitlement, name) for name in COMPARED}


def _status_after(old: str, eligible: bool) -> str:
    """The status of a household whose amounts a run changed: a confirmed (or 振込不能) household stays so while
    still eligible; otherwise the new computation decides."""
    if not eligible:
        return NEEDS_REVIEW if old in (CONFIRMED, FAILED) else _fresh(eligible)
    return old if old in (CONFIRMED, FAILED) else ELIGIBLE


def _fresh(eligible: bool) -> str:
    return ELIGIBLE if eligible else NEEDS_REVIEW


def run_eligibility(
    db_session: TenantSession,
    *,
    actor: Principal,
    program_code: str,
    residents: pl.DataFrame,
    parameters: Mapping[str, ParamValue],
) -> RunResult:
    """Compute the program over ``residents`` (one row per resident on the base date, ``kiban.benefits.rules``
    inputs) and store the entitlements (see the module docstring). Needs ``WELFARE_WRITE``; audited."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.WELFARE_WRITE, action="benefits.run", purpose=PURPOSE
    )
    program = program_of(program_code)
    started = datetime.now(UTC)
    computed = entitlements(residents, program, parameters)
    parameters_json = _parameters_json(program, parameters)
    lock_program(db_session, lg_code, program.code)
    query = select(Entitlement).where(Entitlement.program == program.code).with_for_update()
    stored = {e.household_no: e for e in db_session.scalars(query.execution_options(populate_existing=True))}
    run_no = (db_session.scalar(select(func.max(BenefitRun.run_no))) or 0) + 1
    added: list[Difference] = []
    changed: list[Difference] = []
    removed: list[Difference] = []
    held: list[Difference] = []
    seen: set[str] = set()
    for row in computed.iter_rows(named=True):
        household_no = str(row["household_no"])
        seen.add(household_no)
        values = _values(row)
        old = stored.get(household_no)
        if old is None:
            status = _fresh(values["eligible"])
            db_session.add(
                Entitlement(
                    lg_code=lg_code,
                    program=program.code,
                    household_no=household_no,
                    status=status,
                    run_no=run_no,
                    **values,
                )
            )
            added.append(Difference(household_no, None, values["amount"], None, status))
            continue
        if _stored_values(old) == values and old.status != WITHDRAWN:
            continue
        if is_frozen(old):
            held.append(
                Difference(
                    household_no,
                    old.amount,
                    values["amount"],
                    old.status,
                    _status_after(old.status, values["eligible"]),
                )
            )
            continue
        difference_of = added if old.status == WITHDRAWN else changed
        status = (
            _fresh(values["eligible"]) if old.status == WITHDRAWN else _status_after(old.status, values["eligible"])
        )
        difference_of.append(Difference(household_no, old.amount, values["amount"], old.status, status))
        for name, value in values.items():
            setattr(old, name, value)
        old.status, old.run_no = status, run_no
    for household_no, old in stored.items():
        if household_no in seen or old.status == WITHDRAWN:
            continue
        if is_frozen(old):
            held.append(Difference(household_no, old.amount, None, old.status, WITHDRAWN))
            continue
        removed.append(Difference(household_no, old.amount, None, old.status, WITHDRAWN))
        old.status, old.run_no = WITHDRAWN, run_no
    db_session.add(
        BenefitRun(
            lg_code=lg_code,
            run_no=run_no,
            program=program.code,
            started_at=started,
            households=computed.height,
            added=len(added),
            changed=len(changed),
            removed=len(removed),
            held=len(held),
            parameters=parameters_json,
            actor=actor.user_id,
        )
    )
    result = RunResult(run_no, program.code, computed.height, added, changed, removed, held)
    record(
        db_session,
        actor=actor,
        action="benefits.run",
        purpose=PURPOSE,
        detail={
            "program": program.code,
            "run_no": run_no,
            "households": computed.height,
            "added": len(added),
            "changed": len(changed),
            "removed": len(removed),
            "held": len(held),
        },
    )
    db_session.flush()
    return result


def _refuse(
    db_session: TenantSession, actor: Principal, action: str, subject: str, error: FieldError, **detail: Any
) -> InputError:
    record_refusal(db_session, actor=actor, action=action, purpose=PURPOSE, subject=subject, detail=detail or None)
    return InputError(error)


def confirm(
    db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str, account: BankAccount
) -> Entitlement:
    """The household confirmed its entitlement and the account to pay (the 確認書 returned, or the 公金受取口座
    chosen): ``eligible`` or ``failed`` become ``confirmed`` with the account. Confirming again with the same account
    changes nothing; another account replaces it while the household is not in a payment batch. Safe under
    concurrency: the entitlement row is locked, so identical confirmations arriving together make one change and
    one audited change. Needs ``WELFARE_WRITE``; audited (``detail.changed`` says whether anything changed)."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_WRITE, action="benefits.confirm", purpose=PURPOSE)
    program = program_of(program_code)
    given = checked_account(account)
    query = (
        select(Entitlement)
        .where(Entitlement.program == program.code, Entitlement.household_no == household_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    entitlement = db_session.scalar(query)
    if entitlement is None:
        raise NotFound(f"世帯番号 {household_no} は{program.name}の対象として登録されていません。")
    status = entitlement.status
    where = f"世帯番号 {household_no} の状態"
    if status in (NEEDS_REVIEW, WITHDRAWN, PAID):
        fix = {
            NEEDS_REVIEW: "課税区分が確認できていません。前住所地への照会などで確認し、再計算してから受け付けて"
            "ください。",
            WITHDRAWN: "再計算で給付の対象から外れています。対象となる理由があれば再計算の入力を確認してください。",
            PAID: "既に振り込み済みです。重複して受け付けることはできません。",
        }[status]
        raise _refuse(
            db_session, actor, "benefits.confirm", household_no, FieldError(where, STATUS_LABELS[status], fix)
        )
    unchanged = status == CONFIRMED and account_of(entitlement) == given
    if status == CONFIRMED and not unchanged and entitlement.batch_no is not None:
        fix = (
            f"支払バッチ {entitlement.batch_no} に含まれています。口座を直すには、支払バッチの明細を修正してください"
            "（承認はやり直しになります）。"
        )
        raise _refuse(db_session, actor, "benefits.confirm", household_no, FieldError(where, "支払処理中", fix))
    if not unchanged:
        set_account(entitlement, given)
        entitlement.status = CONFIRMED
        entitlement.confirmed_by = actor.user_id
        entitlement.confirmed_at = datetime.now(UTC)
    record(
        db_session,
        actor=actor,
        action="benefits.confirm",
        purpose=PURPOSE,
        subject=household_no,
        detail={"program": program.code, "changed": not unchanged, "previous_status": status},
    )
    db_session.flush()
    return entitlement


def entitlement_of(db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str) -> Entitlement:
    """One household's entitlement; ``NotFound`` if none. Needs ``WELFARE_READ``; audited."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_READ, action="benefits.read", purpose=PURPOSE)
    program = program_of(program_code)
    found = db_session.scalar(
        select(Entitlement).where(Entitlement.program == program.code, Entitlement.household_no == household_no)
    )
    record(
        db_session,
        actor=actor,
        action="benefits.read",
        purpose=PURPOSE,
        subject=household_no,
        detail={"program": program.code, "found": found is not None},
    )
    if found is None:
        raise NotFound(f"世帯番号 {household_no} は{program.name}の対象として登録されていません。")
    return found


def entitlements_of(db_session: TenantSession, *, actor: Principal, program_code: str) -> list[Entitlement]:
    """Every stored entitlement of the program, by 世帯番号. Needs ``WELFARE_READ``; audited."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_READ, action="benefits.list", purpose=PURPOSE)
    program = program_of(program_code)
    found = list(
        db_session.scalars(
            select(Entitlement).where(Entitlement.program == program.code).order_by(Entitlement.household_no)
        )
    )
    record(
        db_session,
        actor=actor,
        action="benefits.list",
        purpose=PURPOSE,
        detail={"program": program.code, "count": len(found)},
    )
    return found
