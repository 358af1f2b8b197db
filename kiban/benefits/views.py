"""Benefit staff pages (給付金): the programs' dashboard (households and amounts per stage, runs, running the
eligibility with its difference for review; a link to the progress of payment in every stage, ``/payments/progress``),
the entitlement search, and a household's entitlement (「他の市区町村でも対象」 and who pays when another
municipality claims a member too, ``national_check.flags_of``) with the form that records a paper reply (紙の確認書)
and its account (bank and branch named from the 全銀協 list), and, for a household held because its account is also
another household's, the reason and the form that clears it with the staff's written reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from kiban.benefits import claims, national_check, population, service
from kiban.benefits.service import ACCOUNT_TYPES, STAGE_LABELS, STAGES, BankAccount
from kiban.core import banks
from kiban.core.errors import FieldError, InputError
from kiban.core.http.auth import require, tenant_session
from kiban.core.http.runtime import NavItem
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal

router = APIRouter(prefix="/benefits", include_in_schema=False)
NAV = [NavItem("給付金", "/benefits", Permission.WELFARE_READ)]
Reader = Annotated[Principal, Depends(require(Permission.WELFARE_READ))]
Writer = Annotated[Principal, Depends(require(Permission.WELFARE_WRITE))]
ACCOUNT_FIELDS = {
    "bank_code": "金融機関コード",
    "branch_code": "支店コード",
    "account_type": "預金種目",
    "account_number": "口座番号",
    "holder_kana": "口座名義（カナ）",
}
"""Form field → the label ``kiban.benefits.service.checked_account`` names in its errors."""
DIFFERENCE_ROWS = 500
"""Households listed per kind of difference after a run (the counts are always complete)."""


def _page_number(raw: str) -> int:
    text = raw.strip() or "1"
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InputError(FieldError("ページ", raw, "1以上の半角数字で指定してください。"))
    return int(text)


@router.get("")
def index(request: Request, principal: Reader) -> Response:
    with tenant_session(request, principal) as s:
        summaries = service.program_summaries(s, actor=principal, runs=1)
    context = {"summaries": summaries, "stages": STAGES, "labels": STAGE_LABELS}
    return render(request, "benefits/index.html", context, principal=principal)


def _program_page(request: Request, principal: Principal, code: str, **extra: object) -> Response:
    program = service.program_of(code)
    with tenant_session(request, principal) as s:
        summary = next(x for x in service.program_summaries(s, actor=principal) if x.program.code == program.code)
    context: dict[str, object] = {
        "summary": summary,
        "program": program,
        "stages": STAGES,
        "labels": STAGE_LABELS,
        "result": None,
        "limit": DIFFERENCE_ROWS,
    }
    context.update(extra)
    return render(request, "benefits/program.html", context, principal=principal)


@router.get("/{program}")
def program_page(request: Request, principal: Reader, program: str) -> Response:
    return _program_page(request, principal, program)


@router.post("/{program}/runs")
def run(request: Request, principal: Writer, program: str) -> Response:
    declared = service.program_of(program)
    with tenant_session(request, principal) as s:
        inputs = population.population_of(s, actor=principal, program=declared)
        result = service.run_eligibility(
            s, actor=principal, program_code=declared.code, residents=inputs.residents, parameters=inputs.parameters
        )
    return _program_page(request, principal, declared.code, result=result)


@router.get("/{program}/entitlements")
def search(
    request: Request, principal: Reader, program: str, q: str = "", status: str = "", page: str = "1"
) -> Response:
    declared = service.program_of(program)
    form = {"q": q, "status": status}
    with tenant_session(request, principal) as s:
        found = service.search_entitlements(
            s, actor=principal, program_code=declared.code, number=q, stage=status, page=_page_number(page)
        )
    context = {"program": declared, "found": found, "form": form, "stages": STAGES, "labels": STAGE_LABELS}
    return render(request, "benefits/search.html", context, principal=principal)


def _entitlement_page(
    request: Request,
    principal: Principal,
    program: str,
    household_no: str,
    *,
    errors: tuple[FieldError, ...] = (),
    form: dict[str, str] | None = None,
    saved: bool = False,
    cleared: bool = False,
) -> Response:
    declared = service.program_of(program)
    with tenant_session(request, principal) as s:
        entitlement = service.entitlement_of(s, actor=principal, program_code=declared.code, household_no=household_no)
        flags = national_check.flags_of(s, actor=principal, program_code=declared.code, household_no=household_no)
    national = national_check.household_state(flags)
    labels = set(ACCOUNT_FIELDS.values())
    context = {
        "program": declared,
        "e": entitlement,
        "stage": service.stage_of(entitlement),
        "flags": flags,
        "national_state": national_check.STATE_LABELS[national],
        "national_blocked": national == claims.BLOCKED,
        "labels": STAGE_LABELS,
        "account_types": ACCOUNT_TYPES,
        "fields": ACCOUNT_FIELDS,
        "field_errors": {e.field: e for e in errors if e.field in labels},
        "review_error": next((e for e in errors if e.field == service.CLEAR_REASON), None),
        "errors": [e for e in errors if e.field not in labels and e.field != service.CLEAR_REASON],
        "max_clear_reason": service.MAX_CLEAR_REASON_LENGTH,
        "form": form or {},
        "saved": saved,
        "cleared": cleared,
        "bank": banks.names(entitlement.bank_code, entitlement.branch_code)
        if entitlement.bank_code and entitlement.branch_code
        else None,
    }
    return render(
        request, "benefits/entitlement.html", context, principal=principal, status_code=422 if errors else 200
    )


@router.get("/{program}/entitlements/{household_no}")
def entitlement(
    request: Request, principal: Reader, program: str, household_no: str, saved: str = "", cleared: str = ""
) -> Response:
    return _entitlement_page(request, principal, program, household_no, saved=saved == "1", cleared=cleared == "1")


@router.post("/{program}/entitlements/{household_no}/confirm")
def confirm(
    request: Request,
    principal: Writer,
    program: str,
    household_no: str,
    bank_code: Annotated[str, Form()] = "",
    branch_code: Annotated[str, Form()] = "",
    account_type: Annotated[str, Form()] = "",
    account_number: Annotated[str, Form()] = "",
    holder_kana: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "bank_code": bank_code,
        "branch_code": branch_code,
        "account_type": account_type,
        "account_number": account_number,
        "holder_kana": holder_kana,
    }
    account = BankAccount(
        bank_code.strip(), branch_code.strip(), account_type.strip(), account_number.strip(), holder_kana
    )
    try:
        with tenant_session(request, principal) as s:
            service.confirm(s, actor=principal, program_code=program, household_no=household_no, account=account)
    except InputError as exc:
        return _entitlement_page(request, principal, program, household_no, errors=exc.errors, form=form)
    return RedirectResponse(f"/benefits/{program}/entitlements/{household_no}?saved=1", status_code=303)


@router.post("/{program}/entitlements/{household_no}/clear-review")
def clear_review(
    request: Request, principal: Writer, program: str, household_no: str, reason: Annotated[str, Form()] = ""
) -> Response:
    """Staff checked the shared account (e.g. a guardian's for two wards) and release the household for payment,
    giving the reason (an error is shown next to the field, with what was typed kept)."""
    try:
        with tenant_session(request, principal) as s:
            service.clear_account_review(
                s, actor=principal, program_code=program, household_no=household_no, reason=reason
            )
    except InputError as exc:
        return _entitlement_page(request, principal, program, household_no, errors=exc.errors, form={"reason": reason})
    return RedirectResponse(f"/benefits/{program}/entitlements/{household_no}?cleared=1", status_code=303)
