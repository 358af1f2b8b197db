"""Parameters API: the value of a parameter for the caller's municipality on a date, and setting its own value."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from kiban.core.http.auth import require, tenant_session
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.params import service
from kiban.core.params.catalogue import to_json

router = APIRouter(prefix="/api/v1/parameters", tags=["parameters"])
"""Always the caller's own municipality: the tenant comes from the credentials, never from the request."""


class ParameterValue(BaseModel):
    name: str
    label: str
    on: date
    value: int | str | bool
    shown: str
    unit: str
    legal_basis: str


class SetValue(BaseModel):
    value: int | str | bool | None
    effective_from: date
    reason: str
    effective_until: date | None = None


@router.get("/{name}")
def get_value(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PARAMETERS_READ))],
    name: str,
    on: date,
) -> ParameterValue:
    parameter = service.describe(name)
    with tenant_session(request, principal) as s:
        value = service.value(s, name, on)
    return ParameterValue(
        name=name,
        label=parameter.label,
        on=on,
        value=to_json(parameter.type, value),
        shown=parameter.format(value),
        unit=parameter.unit,
        legal_basis=parameter.legal_basis.citation,
    )


@router.put("/{name}")
def set_value(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PARAMETERS_WRITE))],
    name: str,
    body: SetValue,
) -> dict[str, str]:
    with tenant_session(request, principal) as s:
        row = service.set_municipal_value(
            s,
            actor=principal,
            name=name,
            value=body.value,
            effective_from=body.effective_from,
            effective_until=body.effective_until,
            reason=body.reason,
        )
        return {"name": row.name, "effective_from": row.effective_from.isoformat(), "revision": str(row.revision)}
