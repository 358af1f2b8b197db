"""Benefits API (``/api/v1/benefits``): the programs' households and amounts per stage with their runs, the
entitlement search and one household's entitlement (account numbers masked but for the last 3 digits)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from kiban.benefits import service
from kiban.benefits.models import BenefitRun, Entitlement
from kiban.benefits.service import STAGE_LABELS, ProgramSummary
from kiban.core.banks import masked_account_number
from kiban.core.http.auth import require, tenant_session
from kiban.core.identity.permissions import Permission, Principal

router = APIRouter(prefix="/api/v1/benefits", tags=["benefits"])
Reader = Annotated[Principal, Depends(require(Permission.WELFARE_READ))]


def masked(account_number: str | None) -> str | None:
    """An account number as the API gives it (``masked_account_number``), or ``None`` when none is known."""
    return None if account_number is None else masked_account_number(account_number)


class StageOut(BaseModel):
    stage: str
    label: str
    households: int
    amount: int


class RunOut(BaseModel):
    run_no: int
    started_at: datetime
    actor: str
    households: int
    added: int
    changed: int
    removed: int
    held: int


class ProgramOut(BaseModel):
    code: str
    name: str
    base_date: date
    stages: list[StageOut]
    entitled_households: int
    entitled_amount: int
    paid_share: float
    runs: list[RunOut]


class EntitlementOut(BaseModel):
    household_no: str
    recipient_no: str
    members: int
    children: int
    base_amount: int
    child_addition: int
    top_up: int
    amount: int
    stage: str
    run_no: int
    batch_no: int | None
    bank_code: str | None
    branch_code: str | None
    account_type: str | None
    account_number: str | None
    """Masked: the last 3 digits only."""
    holder_kana: str | None
    confirmed_at: datetime | None
    review_reason: str | None
    """Why the household is held for review of its account (Japanese), or ``None``."""


class EntitlementPageOut(BaseModel):
    total: int
    page: int
    pages: int
    entitlements: list[EntitlementOut]


def _run(r: BenefitRun) -> RunOut:
    return RunOut(
        run_no=r.run_no,
        started_at=r.started_at,
        actor=r.actor,
        households=r.households,
        added=r.added,
        changed=r.changed,
        removed=r.removed,
        held=r.held,
    )


def _program(summary: ProgramSummary) -> ProgramOut:
    return ProgramOut(
        code=summary.program.code,
        name=summary.program.name,
        base_date=summary.program.base_date,
        stages=[
            StageOut(stage=stage, label=STAGE_LABELS[stage], households=c.households, amount=c.amount)
            for stage, c in summary.stages.items()
        ],
        entitled_households=summary.entitled.households,
        entitled_amount=summary.entitled.amount,
        paid_share=summary.paid_share,
        runs=[_run(r) for r in summary.runs],
    )


def _entitlement(e: Entitlement) -> EntitlementOut:
    return EntitlementOut(
        household_no=e.household_no,
        recipient_no=e.recipient_no,
        members=e.members,
        children=e.children,
        base_amount=e.base_amount,
        child_addition=e.child_addition,
        top_up=e.top_up,
        amount=e.amount,
        stage=service.stage_of(e),
        run_no=e.run_no,
        batch_no=e.batch_no,
        bank_code=e.bank_code,
        branch_code=e.branch_code,
        account_type=e.account_type,
        account_number=masked(e.account_number),
        holder_kana=e.holder_kana,
        confirmed_at=e.confirmed_at,
        review_reason=e.review_reason,
    )


@router.get("")
def programs(request: Request, principal: Reader) -> list[ProgramOut]:
    with tenant_session(request, principal) as s:
        return [_program(x) for x in service.program_summaries(s, actor=principal, runs=1)]


@router.get("/{program}")
def program(request: Request, principal: Reader, program: str) -> ProgramOut:
    code = service.program_of(program).code
    with tenant_session(request, principal) as s:
        summaries = service.program_summaries(s, actor=principal)
    return _program(next(x for x in summaries if x.program.code == code))


@router.get("/{program}/entitlements")
def search(
    request: Request, principal: Reader, program: str, q: str = "", status: str = "", page: int = 1
) -> EntitlementPageOut:
    with tenant_session(request, principal) as s:
        found = service.search_entitlements(s, actor=principal, program_code=program, number=q, stage=status, page=page)
        return EntitlementPageOut(
            total=found.total, page=found.page, pages=found.pages, entitlements=[_entitlement(e) for e in found.rows]
        )


@router.get("/{program}/entitlements/{household_no}")
def entitlement(request: Request, principal: Reader, program: str, household_no: str) -> EntitlementOut:
    with tenant_session(request, principal) as s:
        return _entitlement(service.entitlement_of(s, actor=principal, program_code=program, household_no=household_no))
