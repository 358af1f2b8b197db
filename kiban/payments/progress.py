"""Where each program stands from entitlement to the bank's result (the program dashboard): households and amounts
in every stage of the lifecycle, and the progress of payment (paid amount out of the entitled amount).

The stages split a program's entitlements with no overlap; each is one condition on the entitlement, its payment
batch (approved or not) and the batch's 全銀 file (issued or not), which only this domain reads — so the lifecycle
is counted here, not in ``kiban.benefits``:

* 対象・未通知 / 通知済み: ``eligible``, its 確認書 not yet / already exported for printing (``notified_at``);
* 要確認: ``needs_review``;
* 支給決定（口座確認済み）: ``confirmed``, in no payment batch;
* 支払準備中（承認待ち） / 承認済み: ``confirmed`` with a line in a batch not yet approved (or whose approval a
  later change voided) / approved, whose file is not issued;
* 振込依頼済み（送付済み）: ``confirmed`` with a line in a batch whose file was issued (at the bank, result awaited);
* 振込済み / 振込不能 / 対象外: ``paid`` / ``failed`` / ``withdrawn``.

The counts are one grouped query over the entitlements joined to their batch and file (primary-key joins); a
stage's households are listed with the same condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select

from kiban.benefits.models import (
    CONFIRMED,
    ELIGIBLE,
    FAILED,
    NEEDS_REVIEW,
    PAID,
    WITHDRAWN,
    Entitlement,
)
from kiban.benefits.programs import PROGRAMS, Program
from kiban.benefits.service import STAGES as BENEFIT_STAGES
from kiban.benefits.service import StageCount, StageCounts, program_of
from kiban.core.audit.service import authorize, record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError
from kiban.core.identity.permissions import Permission, Principal
from kiban.payments.models import PaymentBatch, PaymentFile
from kiban.payments.service import PURPOSE

UNNOTIFIED, NOTIFIED, AWAITING_APPROVAL, APPROVED, ISSUED = (
    "unnotified",
    "notified",
    "awaiting_approval",
    "approved",
    "issued",
)
STAGE_LABELS = {
    UNNOTIFIED: "対象・未通知",
    NOTIFIED: "通知済み",
    NEEDS_REVIEW: "要確認",
    CONFIRMED: "支給決定（口座確認済み）",
    AWAITING_APPROVAL: "支払準備中（承認待ち）",
    APPROVED: "承認済み",
    ISSUED: "振込依頼済み（送付済み）",
    PAID: "振込済み",
    FAILED: "振込不能",
    WITHDRAWN: "対象外",
}
STAGES = tuple(STAGE_LABELS)
"""In the order of the lifecycle."""
SEARCHABLE = frozenset(STAGES) & frozenset(BENEFIT_STAGES)
"""Stages the benefits search filters on exactly (same key): their counts link to it, the others to
``stage_households``."""
LIST_PAGE = 50
"""Households per page of a stage's list."""


def _conditions() -> dict[str, ColumnElement[bool]]:
    """Each stage's condition on ``Entitlement``, ``PaymentBatch`` and ``PaymentFile`` (outer-joined)."""
    e, b, f = Entitlement, PaymentBatch, PaymentFile
    in_batch = and_(e.status == CONFIRMED, e.batch_no.is_not(None))
    return {
        UNNOTIFIED: and_(e.status == ELIGIBLE, e.notified_at.is_(None)),
        NOTIFIED: and_(e.status == ELIGIBLE, e.notified_at.is_not(None)),
        NEEDS_REVIEW: e.status == NEEDS_REVIEW,
        CONFIRMED: and_(e.status == CONFIRMED, e.batch_no.is_(None)),
        AWAITING_APPROVAL: and_(in_batch, b.approved_by.is_(None), f.batch_no.is_(None)),
        APPROVED: and_(in_batch, b.approved_by.is_not(None), f.batch_no.is_(None)),
        ISSUED: and_(in_batch, f.batch_no.is_not(None)),
        PAID: e.status == PAID,
        FAILED: e.status == FAILED,
        WITHDRAWN: e.status == WITHDRAWN,
    }


def _joined(query: Any) -> Any:
    """``query`` over the entitlements with their batch and its file (if any)."""
    e, b, f = Entitlement, PaymentBatch, PaymentFile
    return query.outerjoin(b, and_(b.lg_code == e.lg_code, b.batch_no == e.batch_no)).outerjoin(
        f, and_(f.lg_code == e.lg_code, f.batch_no == e.batch_no)
    )


@dataclass(frozen=True)
class ProgramProgress(StageCounts):
    """A program's households and amounts in every stage of the payment progress (``STAGES``, zero when none)."""


@dataclass(frozen=True)
class StagePage:
    """One page of a stage's households, how many there are in all, and the page number (1-based)."""

    program: Program
    stage: str
    rows: list[Entitlement]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def program_progress(
    db_session: TenantSession, *, actor: Principal, program_code: str | None = None
) -> list[ProgramProgress]:
    """Every program's (or one program's) households and amounts per stage, in one grouped query. Needs
    ``WELFARE_READ``; audited (counts only: no household is named)."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_READ, action="payments.progress", purpose=PURPOSE)
    programs = [program_of(program_code)] if program_code is not None else list(PROGRAMS.values())
    codes = [p.code for p in programs]
    e = Entitlement
    stage = case(*((condition, literal_column(f"'{key}'")) for key, condition in _conditions().items()))
    query = _joined(
        select(e.program, stage.label("stage"), func.count(), func.coalesce(func.sum(e.amount), 0)).select_from(e)
    ).where(e.program.in_(codes))
    counts = {code: dict.fromkeys(STAGES, StageCount(0, 0)) for code in codes}
    for program, key, households, amount in db_session.execute(query.group_by(e.program, literal_column("stage"))):
        counts[program][key] = StageCount(households, int(amount))
    record(db_session, actor=actor, action="payments.progress", purpose=PURPOSE, detail={"programs": codes})
    return [ProgramProgress(p, counts[p.code]) for p in programs]


def stage_households(
    db_session: TenantSession, *, actor: Principal, program_code: str, stage: str, page: int = 1
) -> StagePage:
    """The households of the program in ``stage`` (a key of ``STAGE_LABELS``), by 世帯番号, one page. Needs
    ``WELFARE_READ``; audited (counts only)."""
    authorize(
        db_session, actor=actor, permission=Permission.WELFARE_READ, action="payments.progress.list", purpose=PURPOSE
    )
    program = program_of(program_code)
    conditions = _conditions()
    if stage not in conditions:
        raise InputError(FieldError("段階", stage, f"次のいずれかを指定してください：{'、'.join(STAGES)}。"))
    if page < 1:
        raise InputError(FieldError("ページ", str(page), "1以上の数で指定してください。"))
    e = Entitlement
    where = (e.program == program.code, conditions[stage])
    total = db_session.scalar(_joined(select(func.count()).select_from(e)).where(*where)) or 0
    query = (
        _joined(select(e).select_from(e))
        .where(*where)
        .order_by(e.household_no)
        .offset((page - 1) * LIST_PAGE)
        .limit(LIST_PAGE)
    )
    rows = list(db_session.scalars(query))
    record(
        db_session,
        actor=actor,
        action="payments.progress.list",
        purpose=PURPOSE,
        detail={"program": program.code, "stage": stage, "page": page, "count": len(rows), "total": total},
    )
    return StagePage(program, stage, rows, total, page, LIST_PAGE)
