"""Tax staff pages: a person's assessment of a 年度 with the explanation of every value, the 納税通知書 PDF, and the
what-if page of policy staff (a parameter changed, the whole municipality recomputed)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from kiban.core.errors import FieldError, InputError
from kiban.core.http.auth import require, tenant_session
from kiban.core.http.runtime import NavItem
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.params.catalogue import default_catalogue
from kiban.core.tenants import service as tenants
from kiban.registry import service as registry
from kiban.tax import inquiry, service
from kiban.tax.assessment import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR
from kiban.tax.notice import TaxNotice, notice_pdf
from kiban.tax.rules.results import STATUS_LABELS

router = APIRouter(prefix="/tax", include_in_schema=False)
NAV = [NavItem("個人住民税", "/tax", Permission.TAX_READ)]
Reader = Annotated[Principal, Depends(require(Permission.TAX_READ))]
YEARS = list(range(LAST_FISCAL_YEAR, FIRST_FISCAL_YEAR - 1, -1))


def _year(raw: str) -> int:
    text = raw.strip() or str(LAST_FISCAL_YEAR)
    if not text.isdigit() or int(text) not in YEARS:
        raise InputError(
            FieldError("年度", raw, f"{FIRST_FISCAL_YEAR}〜{LAST_FISCAL_YEAR}の西暦年で指定してください。")
        )
    return int(text)


@router.get("")
def index(request: Request, principal: Reader, fiscal_year: str = "", person_no: str = "") -> Response:
    year = _year(fiscal_year)
    if person_no.strip():
        return RedirectResponse(f"/tax/persons/{person_no.strip()}?fiscal_year={year}", status_code=303)
    with tenant_session(request, principal) as s:
        run = service.latest_run(s, actor=principal, fiscal_year=year)
    return render(request, "tax/index.html", {"year": year, "years": YEARS, "run": run}, principal=principal)


@router.get("/persons/{person_no}")
def person(request: Request, principal: Reader, person_no: str, fiscal_year: str = "") -> Response:
    year = _year(fiscal_year)
    with tenant_session(request, principal) as s:
        stored = service.assessment_of(s, actor=principal, person_no=person_no, fiscal_year=year)
        trace = inquiry.explain_assessment(s, actor=principal, person_no=person_no, fiscal_year=year)
    current = {t.name: t.value for t in trace}
    drifted = current.get("annual_tax") != stored.annual_tax
    context = {
        "person_no": person_no,
        "year": year,
        "stored": stored,
        "status_label": STATUS_LABELS[stored.tax_status],
        "trace": trace,
        "drifted": drifted,
    }
    return render(request, "tax/person.html", context, principal=principal)


@router.get("/persons/{person_no}/notice.pdf")
def notice(request: Request, principal: Reader, person_no: str, fiscal_year: str = "") -> Response:
    year = _year(fiscal_year)
    today = date.today()
    with tenant_session(request, principal) as s:
        stored = service.assessment_of(s, actor=principal, person_no=person_no, fiscal_year=year)
        state = registry.person_state(s, actor=principal, person_no=person_no, as_of=date(year, 1, 1))
        tenant = tenants.get(db_session=s, lg_code=principal.lg_code)
    if state is None or state.address is None:
        raise InputError(FieldError("宛名番号", person_no, "賦課期日の住民記録がありません。"))
    result = {column: getattr(stored, column) for column in service.RESULT_SCHEMA}
    a = state.address
    pdf = notice_pdf(
        TaxNotice(
            municipality=f"{tenant.pref_name}{tenant.gun or ''}{tenant.name}長",
            fiscal_year=year,
            issued_on=today,
            person_no=person_no,
            name=f"{state.family_name} {state.given_name}",
            address=f"{a.pref_name}{a.city_name}{a.town}{a.banchi}",
            postal_code=state.address.postal_code,
            result=result,
        )
    )
    name = quote(f"納税通知書_{year}_{person_no}.pdf")
    headers = {
        "Content-Disposition": f"inline; filename=\"notice-{year}-{person_no}.pdf\"; filename*=UTF-8''{name}",
        "Cache-Control": "no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


def _what_if_page(request: Request, principal: Principal, **extra: object) -> Response:
    parameters = [
        (name, p.label) for name, p in default_catalogue().items() if name.startswith(("resident_tax", "forest"))
    ]
    context: dict[str, object] = {"years": YEARS, "parameters": parameters, "form": {}, "result": None}
    context.update(extra)
    return render(
        request, "tax/what_if.html", context, principal=principal, status_code=422 if extra.get("errors") else 200
    )


@router.get("/what-if")
def what_if_form(request: Request, principal: Reader) -> Response:
    return _what_if_page(request, principal)


@router.post("/what-if")
def what_if(
    request: Request,
    principal: Reader,
    fiscal_year: Annotated[str, Form()] = "",
    parameter: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
) -> Response:
    form = {"fiscal_year": fiscal_year, "parameter": parameter, "value": value}
    try:
        year = _year(fiscal_year)
        with tenant_session(request, principal) as s:
            result = inquiry.what_if(s, actor=principal, fiscal_year=year, changes={parameter: value})
    except InputError as exc:
        return _what_if_page(request, principal, errors=exc.errors, form=form)
    return _what_if_page(request, principal, form=form, result=result, labels=STATUS_LABELS)
