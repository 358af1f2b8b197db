"""Tax API: the explanation of a person's assessment and the what-if of a parameter change (the caller's own
municipality; errors in the platform's JSON shape)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from kiban.core.http.auth import require, tenant_session
from kiban.core.identity.permissions import Permission, Principal
from kiban.tax import inquiry

router = APIRouter(prefix="/api/v1/tax", tags=["tax"])
Reader = Annotated[Principal, Depends(require(Permission.TAX_READ))]
Value = int | str | bool | None


def _plain(value: object) -> Value:
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (int, str, bool)):
        return value
    return str(value)


class TraceOut(BaseModel):
    name: str
    label: str
    reference: str
    value: Value
    reads: list[str]
    parameters: dict[str, Value]


class WhatIfIn(BaseModel):
    fiscal_year: int
    changes: dict[str, str]
    """Parameter name → new value as typed (「400000」「0.07」)."""


class ChangeOut(BaseModel):
    target: str
    changed: int
    total_before: int | None
    total_after: int | None
    counts_before: dict[str, int]
    counts_after: dict[str, int]


class WhatIfOut(BaseModel):
    changes: list[ChangeOut]
    persons_changed: int
    first_changed: list[str]
    """宛名番号 of the first 100 people whose result changes."""


@router.get("/persons/{person_no}/explain")
def explain(request: Request, principal: Reader, person_no: str, fiscal_year: int) -> list[TraceOut]:
    with tenant_session(request, principal) as s:
        trace = inquiry.explain_assessment(s, actor=principal, person_no=person_no, fiscal_year=fiscal_year)
    return [
        TraceOut(
            name=t.name,
            label=t.label,
            reference=t.reference,
            value=_plain(t.value),
            reads=list(t.reads),
            parameters={k: _plain(v) for k, v in t.parameters.items()},
        )
        for t in trace
    ]


@router.post("/what-if")
def what_if(request: Request, principal: Reader, body: WhatIfIn) -> WhatIfOut:
    with tenant_session(request, principal) as s:
        result = inquiry.what_if(s, actor=principal, fiscal_year=body.fiscal_year, changes=body.changes)
    return WhatIfOut(
        changes=[ChangeOut(**vars(c)) for c in result.changes],
        persons_changed=result.differing.height,
        first_changed=result.differing["person_no"].head(100).to_list(),
    )
