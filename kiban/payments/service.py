"""Payment batches, the write path: made by one person, approved by another on the exact content they saw, issued
once as a 全銀 file. The bank's result is imported by ``results``; the read-only pages' reports are in ``reports``.

Verbs: ``create_batch`` (起票), ``batch_lines`` (what a 承認者 reviews: every line and the content hash),
``approve`` (承認), ``edit_line`` (a correction, which voids the approval), ``issue_file`` (the 全銀 file, once),
``download_file`` (the stored file again, never regenerated). The shared steps of the domain are here too, one place
each: the permission checks (``may``, ``may_read_batch``), the audited refusal (``refuse``), reading a batch, its
lines and its file (``batch_of``, ``lines_of``, ``file_of``, ``line_of``) and the 顧客コード (``customer_code``).

What each step guarantees (the incidents in ``docs/architecture.md``):

* a line pays exactly its entitlement's amount (checked when made and again when issued) and a beneficiary has at
  most one line that is not ``failed`` (also a database constraint): no double payment (寝屋川市 2020);
* the 承認者 is not the 起票者, and approves the SHA-256 of the canonical lines they were shown; any change to the
  lines changes the hash and clears the approval, and a file is issued only when the current hash is the approved
  one — so nobody pays a total, or a line, that nobody checked (阿武町 2022);
* one file per batch, made once in the transaction that marks its lines sent; a second issue is refused, and so is
  a file whose bytes equal any earlier file's (垂水市 2024); the trailer's count and total must equal the approved
  ones.

All of it happens in the caller's transaction, so a process killed at any point leaves either the whole step or
none of it. Every call is authorized and audited.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update

from kiban.benefits.models import CONFIRMED, Entitlement
from kiban.benefits.national_check import exclude_blocked
from kiban.benefits.service import (
    BankAccount,
    checked_account,
    lock_program,
    program_of,
    set_account,
)
from kiban.core.audit.service import authorize, record, record_refusal
from kiban.core.dates import is_bank_business_day
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound, PermissionDenied
from kiban.core.identity.permissions import Permission, Principal
from kiban.payments import zengin
from kiban.payments.models import PENDING, SENT, PaymentBatch, PaymentFile, PaymentLine

PURPOSE = "給付金の支払"
"""Purpose written on every audit entry of the payments domain."""
MAX_BATCH_NO = 9_999
MAX_LINES = 999_999
"""The 顧客コード1 (N10) of a line is its batch number (4 digits) followed by its line number (6 digits)."""


@dataclass(frozen=True)
class Line:
    line_no: int
    household_no: str
    amount: int
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder_kana: str
    status: str


@dataclass(frozen=True)
class BatchView:
    """A batch as its 承認者 reviews it: every line, the totals, and the hash to approve."""

    batch_no: int
    program: str
    maker: str
    transfer_date: date
    lines: list[Line]
    count: int
    total: int
    content_hash: str
    approved_by: str | None
    approved_hash: str | None
    issued_sha256: str | None


@dataclass(frozen=True)
class IssuedFile:
    batch_no: int
    sha256: str
    count: int
    total: int
    content: bytes


def customer_code(batch_no: int, line_no: int) -> str:
    """The 顧客コード1 of a line in the 全銀 file: batch number and line number (``MAX_LINES``)."""
    return f"{batch_no:04d}{line_no:06d}"


def content_hash(batch: PaymentBatch, lines: Sequence[PaymentLine]) -> str:
    """SHA-256 of the canonical content: the batch's program and transfer date and every line (number, household,
    amount, account) in line order. Status is not content: sending and settling do not change it."""
    document = {
        "batch_no": batch.batch_no,
        "program": batch.program,
        "transfer_date": batch.transfer_date.isoformat(),
        "lines": [
            [
                line.line_no,
                line.household_no,
                line.amount,
                line.bank_code,
                line.branch_code,
                line.account_type,
                line.account_number,
                line.holder_kana,
            ]
            for line in sorted(lines, key=lambda x: x.line_no)
        ],
    }
    canonical = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def may(db_session: TenantSession, actor: Principal, permission: Permission, action: str) -> str:
    """``authorize`` for the payments domain (its ``PURPOSE``): the tenant's ``lg_code``, or ``PermissionDenied``."""
    return authorize(db_session, actor=actor, permission=permission, action=action, purpose=PURPOSE)


def may_read_batch(db_session: TenantSession, actor: Principal, action: str) -> str:
    """A batch's lines are read by the 承認者 (``PAYMENT_APPROVE``) or the 起票者 (``PAYMENT_MAKE``)."""
    permission = Permission.PAYMENT_APPROVE if actor.can(Permission.PAYMENT_APPROVE) else Permission.PAYMENT_MAKE
    return may(db_session, actor, permission, action)


def refuse(
    db_session: TenantSession, actor: Principal, action: str, batch_no: int, fix: str | FieldError, **detail: Any
) -> InputError:
    """A refusal about one batch: audited (in a transaction that survives the caller's rollback), then raised; a
    plain message is about the batch itself (field 「支払バッチ」)."""
    record_refusal(
        db_session, actor=actor, action=action, purpose=PURPOSE, subject=f"batch:{batch_no}", detail=detail or None
    )
    return InputError(fix if isinstance(fix, FieldError) else FieldError("支払バッチ", str(batch_no), fix))


def batch_of(db_session: TenantSession, batch_no: int, *, lock: bool) -> PaymentBatch:
    """The batch, read afresh (locked for update with ``lock``); ``NotFound`` if there is none."""
    query = select(PaymentBatch).where(PaymentBatch.batch_no == batch_no)
    if lock:
        query = query.with_for_update()
    found = db_session.scalar(query.execution_options(populate_existing=True))
    if found is None:
        raise NotFound(f"支払バッチ {batch_no} はありません。バッチ番号を確認してください。")
    return found


def lines_of(db_session: TenantSession, batch_no: int) -> list[PaymentLine]:
    """Every line of the batch, read afresh, in line order."""
    query = select(PaymentLine).where(PaymentLine.batch_no == batch_no).order_by(PaymentLine.line_no)
    return list(db_session.scalars(query.execution_options(populate_existing=True)))


def file_of(db_session: TenantSession, batch_no: int) -> PaymentFile | None:
    """The batch's issued 全銀 file; ``None`` until issued."""
    return db_session.scalar(select(PaymentFile).where(PaymentFile.batch_no == batch_no))


def line_of(x: PaymentLine) -> Line:
    """The line as plain data (no session attached)."""
    return Line(
        x.line_no,
        x.household_no,
        x.amount,
        x.bank_code,
        x.branch_code,
        x.account_type,
        x.account_number,
        x.holder_kana,
        x.status,
    )


def _view(batch: PaymentBatch, lines: Sequence[PaymentLine], issued: PaymentFile | None) -> BatchView:
    return BatchView(
        batch_no=batch.batch_no,
        program=batch.program,
        maker=batch.maker,
        transfer_date=batch.transfer_date,
        lines=[line_of(x) for x in lines],
        count=len(lines),
        total=sum(x.amount for x in lines),
        content_hash=content_hash(batch, lines),
        approved_by=batch.approved_by,
        approved_hash=batch.approved_hash,
        issued_sha256=issued.sha256 if issued else None,
    )


def _amounts_differ(db_session: TenantSession, batch_no: int) -> list[str]:
    """Households of the batch whose line does not pay exactly their entitlement's amount (must be none)."""
    query = (
        select(PaymentLine.household_no)
        .join(
            Entitlement,
            (Entitlement.lg_code == PaymentLine.lg_code)
            & (Entitlement.program == PaymentLine.program)
            & (Entitlement.household_no == PaymentLine.household_no),
        )
        .where(PaymentLine.batch_no == batch_no, PaymentLine.amount != Entitlement.amount)
    )
    return list(db_session.scalars(query))


def create_batch(
    db_session: TenantSession,
    *,
    actor: Principal,
    program_code: str,
    transfer_date: date,
    max_lines: int | None = None,
) -> BatchView:
    """A batch of every confirmed entitlement of the program that has an account and no line in flight (at most
    ``max_lines``, by 世帯番号), each line paying exactly the entitlement's amount; a household another municipality
    pays, or some entitled person of which the national duplicate check has not seen, is left out and put on review
    (``national_check.exclude_blocked``: fail-closed). Needs ``PAYMENT_MAKE``; audited."""
    lg_code = may(db_session, actor, Permission.PAYMENT_MAKE, "payments.batch.create")
    program = program_of(program_code)
    if not is_bank_business_day(transfer_date):
        raise InputError(FieldError("振込指定日", transfer_date.isoformat(), "銀行営業日を指定してください。"))
    lock_program(db_session, lg_code, program.code)
    query = (
        select(Entitlement)
        .where(
            Entitlement.program == program.code,
            Entitlement.status == CONFIRMED,
            Entitlement.batch_no.is_(None),
            Entitlement.bank_code.is_not(None),
            Entitlement.amount > 0,
        )
        .order_by(Entitlement.household_no)
        .limit(min(max_lines or MAX_LINES, MAX_LINES))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payable = exclude_blocked(db_session, program=program.code, payable=list(db_session.scalars(query)))
    if not payable:
        raise InputError(
            FieldError(
                "支払対象",
                "0件",
                f"{program.name}で口座確認済み・未払いの世帯がありません。確認書の受付（口座の確認）を先に行ってください。",
            )
        )
    batch_no = (db_session.scalar(select(func.max(PaymentBatch.batch_no))) or 0) + 1
    if batch_no > MAX_BATCH_NO:
        raise InputError(FieldError("支払バッチ番号", str(batch_no), f"{MAX_BATCH_NO}件を超えるバッチは作れません。"))
    batch = PaymentBatch(
        lg_code=lg_code,
        batch_no=batch_no,
        program=program.code,
        maker=actor.user_id,
        created_at=datetime.now(UTC),
        transfer_date=transfer_date,
        line_count=len(payable),
        total=sum(e.amount for e in payable),
        content_hash="",
    )
    db_session.add(batch)
    db_session.flush()
    lines = []
    for line_no, e in enumerate(payable, start=1):
        if e.bank_code is None or e.branch_code is None or e.account_type is None or e.account_number is None:
            raise RuntimeError(f"confirmed entitlement {e.household_no} has no account")  # excluded by the query
        lines.append(
            PaymentLine(
                lg_code=lg_code,
                batch_no=batch_no,
                line_no=line_no,
                program=program.code,
                household_no=e.household_no,
                amount=e.amount,
                bank_code=e.bank_code,
                branch_code=e.branch_code,
                account_type=e.account_type,
                account_number=e.account_number,
                holder_kana=e.holder_kana or "",
                status=PENDING,
            )
        )
        e.batch_no = batch_no
    db_session.add_all(lines)
    db_session.flush()
    wrong = _amounts_differ(db_session, batch_no)
    if wrong:  # the lines were just copied from the entitlements: this would be a bug, never pay it
        raise RuntimeError(f"batch {batch_no}: line amounts differ from the entitlements of {wrong[:5]}")
    batch.content_hash = content_hash(batch, lines)
    record(
        db_session,
        actor=actor,
        action="payments.batch.create",
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={
            "program": program.code,
            "lines": len(lines),
            "total": batch.total,
            "transfer_date": transfer_date.isoformat(),
            "content_hash": batch.content_hash,
        },
    )
    db_session.flush()
    return _view(batch, lines, None)


def batch_lines(db_session: TenantSession, *, actor: Principal, batch_no: int) -> BatchView:
    """Every line of the batch and the hash a 承認者 approves. Needs ``PAYMENT_APPROVE`` or ``PAYMENT_MAKE``;
    audited."""
    may_read_batch(db_session, actor, "payments.batch.read")
    batch = batch_of(db_session, batch_no, lock=False)
    view = _view(batch, lines_of(db_session, batch_no), file_of(db_session, batch_no))
    record(
        db_session,
        actor=actor,
        action="payments.batch.read",
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={"lines": view.count, "total": view.total, "content_hash": view.content_hash},
    )
    return view


def approve(db_session: TenantSession, *, actor: Principal, batch_no: int, seen_hash: str) -> BatchView:
    """The 承認者 approves the content whose hash they were shown (``batch_lines``). Refused (and audited) when the
    承認者 is the 起票者, when the lines changed since (the hash differs), or when the file was already issued.
    Needs ``PAYMENT_APPROVE``."""
    may(db_session, actor, Permission.PAYMENT_APPROVE, "payments.batch.approve")
    batch = batch_of(db_session, batch_no, lock=True)
    action = "payments.batch.approve"
    if actor.user_id == batch.maker:
        record_refusal(
            db_session,
            actor=actor,
            action=action,
            purpose=PURPOSE,
            subject=f"batch:{batch_no}",
            detail={"reason": "maker_cannot_approve"},
        )
        raise PermissionDenied(
            f"支払バッチ {batch_no} は {batch.maker} が作成したため、同じ職員は承認できません。"
            "別の支払承認者が明細を確認して承認してください。"
        )
    issued = file_of(db_session, batch_no)
    if issued is not None:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            "全銀ファイルを発行済みのため、承認し直すことはできません。",
        )
    lines = lines_of(db_session, batch_no)
    current = content_hash(batch, lines)
    if seen_hash != current or batch.content_hash != current:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "確認した明細のハッシュ",
                seen_hash,
                "明細が確認後に変更されています。明細を表示し直し、最新の内容を確認してから承認してください。",
            ),
            # the form posts it: whatever is not a SHA-256 (e.g. a number typed in by hand) is not written
            seen_hash=seen_hash if re.fullmatch(r"[0-9a-f]{64}", seen_hash) else "（SHA-256 ではない値）",
            current_hash=current,
        )
    total = sum(x.amount for x in lines)
    if (len(lines), total) != (batch.line_count, batch.total):  # the hash matched, so this would be a bug
        raise RuntimeError(f"batch {batch_no}: stored count/total differ from its lines")
    batch.approved_by, batch.approved_at = actor.user_id, datetime.now(UTC)
    batch.approved_hash, batch.approved_total = current, total
    record(
        db_session,
        actor=actor,
        action=action,
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={"lines": len(lines), "total": total, "content_hash": current, "maker": batch.maker},
    )
    db_session.flush()
    return _view(batch, lines, None)


def edit_line(
    db_session: TenantSession, *, actor: Principal, batch_no: int, line_no: int, account: BankAccount
) -> BatchView:
    """Correct a line's account before the file is issued (the entitlement's account too). The content hash changes
    and any approval is voided: the batch must be approved again. Needs ``PAYMENT_MAKE``; audited."""
    may(db_session, actor, Permission.PAYMENT_MAKE, "payments.line.edit")
    given = checked_account(account)
    batch = batch_of(db_session, batch_no, lock=True)
    action = "payments.line.edit"
    if file_of(db_session, batch_no) is not None:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            "全銀ファイルを発行済みのため明細は直せません。振込不能の結果を取り込んでから口座を確認し直してください。",
        )
    lines = lines_of(db_session, batch_no)
    line = next((x for x in lines if x.line_no == line_no), None)
    if line is None:
        raise NotFound(f"支払バッチ {batch_no} に明細 {line_no} はありません。明細番号を確認してください。")
    old_hash = batch.content_hash
    line.bank_code, line.branch_code, line.account_type = given.bank_code, given.branch_code, given.account_type
    line.account_number, line.holder_kana = given.account_number, given.holder_kana
    entitlement = db_session.get(Entitlement, (batch.lg_code, line.program, line.household_no))
    if entitlement is not None:
        set_account(entitlement, given)
    voided = batch.approved_hash is not None
    batch.approved_by = batch.approved_at = batch.approved_hash = batch.approved_total = None
    batch.content_hash = content_hash(batch, lines)
    record(
        db_session,
        actor=actor,
        action=action,
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={
            "line_no": line_no,
            "household_no": line.household_no,
            "approval_voided": voided,
            "old_hash": old_hash,
            "new_hash": batch.content_hash,
        },
    )
    db_session.flush()
    return _view(batch, lines, None)


def issue_file(db_session: TenantSession, *, actor: Principal, batch_no: int, sender: zengin.Sender) -> IssuedFile:
    """The batch's 全銀 総合振込 file, made once: only for an approved batch whose content is still what was approved;
    stored with its SHA-256 and its lines marked sent in the caller's transaction. A second issue, or a file
    identical to an earlier one, is refused. Needs ``PAYMENT_MAKE``; audited."""
    may(db_session, actor, Permission.PAYMENT_MAKE, "payments.file.issue")
    action = "payments.file.issue"
    batch = batch_of(db_session, batch_no, lock=True)
    issued = file_of(db_session, batch_no)
    if issued is not None:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            f"全銀ファイルは {issued.issued_at:%Y-%m-%d %H:%M} に発行済みです（SHA-256 {issued.sha256[:16]}…）。"
            "再送が必要なときは保存済みのファイルをダウンロードしてください（作り直しはできません）。",
        )
    if batch.approved_hash is None:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            "承認されていません。支払承認者に明細の確認と承認を依頼してください。",
        )
    lines = lines_of(db_session, batch_no)
    current = content_hash(batch, lines)
    if current != batch.approved_hash or batch.content_hash != batch.approved_hash:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            "承認後に明細が変更されています。支払承認者に明細の確認と再承認を依頼してください。",
            approved_hash=batch.approved_hash,
            current_hash=current,
        )
    if any(x.status != PENDING for x in lines):  # only a file marks lines sent, and there is none
        raise RuntimeError(f"batch {batch_no} has lines already sent without a file")
    wrong = _amounts_differ(db_session, batch_no)
    if wrong:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "振込金額",
                "、".join(wrong[:5]),
                "支給決定額と一致しない明細があります。支給決定を確認し、バッチを作り直してください。",
            ),
        )
    transfers = [
        zengin.Transfer(
            account=zengin.Account(x.bank_code, "", x.branch_code, "", x.account_type, x.account_number),
            holder=x.holder_kana,
            amount=x.amount,
            customer_code=customer_code(batch_no, x.line_no),
        )
        for x in lines
    ]
    made = zengin.build(sender, transfers, batch.transfer_date)
    earlier = db_session.scalar(select(PaymentFile.batch_no).where(PaymentFile.sha256 == made.sha256))
    if earlier is not None:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "全銀ファイル",
                made.sha256[:16] + "…",
                f"支払バッチ {earlier} で発行済みのファイルと同じ内容です。二重振込を防ぐため発行できません。",
            ),
        )
    parsed = zengin.parse(made.content)
    expected = [(customer_code(batch_no, x.line_no), x.amount, x.account_number) for x in lines]
    written = [(p.customer_code, p.amount, p.account_number) for p in parsed.lines]
    if (parsed.count, parsed.total) != (len(lines), batch.approved_total) or written != expected:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "トレーラーの合計",
                f"{parsed.count}件 {parsed.total:,}円",
                f"承認された {len(lines)}件 {batch.approved_total or 0:,}円と一致しません。発行を中止しました。",
            ),
        )
    now = datetime.now(UTC)
    db_session.add(
        PaymentFile(
            lg_code=batch.lg_code,
            batch_no=batch_no,
            sha256=made.sha256,
            content=made.content,
            line_count=made.count,
            total=made.total,
            issued_at=now,
            issued_by=actor.user_id,
        )
    )
    db_session.flush()
    db_session.execute(
        update(PaymentLine)
        .where(PaymentLine.batch_no == batch_no, PaymentLine.status == PENDING)
        .values(status=SENT)
        .execution_options(synchronize_session=False)
    )
    record(
        db_session,
        actor=actor,
        action=action,
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={
            "sha256": made.sha256,
            "lines": made.count,
            "total": made.total,
            "content_hash": current,
        },
    )
    db_session.flush()
    return IssuedFile(batch_no, made.sha256, made.count, made.total, made.content)


def download_file(db_session: TenantSession, *, actor: Principal, batch_no: int) -> IssuedFile:
    """The stored file of the batch, byte for byte as issued. Needs ``PAYMENT_MAKE``; audited."""
    may(db_session, actor, Permission.PAYMENT_MAKE, "payments.file.download")
    issued = file_of(db_session, batch_no)
    if issued is None:
        raise NotFound(f"支払バッチ {batch_no} の全銀ファイルはまだ発行されていません。")
    record(
        db_session,
        actor=actor,
        action="payments.file.download",
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={"sha256": issued.sha256},
    )
    return IssuedFile(batch_no, issued.sha256, issued.line_count, issued.total, issued.content)
