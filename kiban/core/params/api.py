"""Parameters API: the value of a parameter for the caller's municipality on a date, and setting its own value."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from kiban.core.errors import NotFound
from kiban.core.http.auth import require, signed_in, tenant_session
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.params import service
from kiban.core.params.catalogue import to_json

router = APIRouter(prefix="/api/v1/tenants/{lg_code}/parameters", tags=["parameters"])


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


def _own_tenant(principal: Principal, lg_code: str) -> None:
    """Only the caller's own municipality: another tenant's values are not found, whatever the permission."""
    if lg_code != principal.lg_code:
        raise NotFound(f"団体コード「{lg_code}」のパラメータは参照できません。")


@router.get("/{name}")
def get_value(
    request: Request,
    principal: Annotated[Principal | None, Depends(require(Permission.PARAMETERS_READ))],
    lg_code: str,
    name: str,
    on: date,
) -> ParameterValue:
    p = signed_in(principal)
    _own_tenant(p, lg_code)
    parameter = service.describe(name)
    with tenant_session(request, p) as s:
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
    principal: Annotated[Principal | None, Depends(require(Permission.PARAMETERS_WRITE))],
    lg_code: str,
    name: str,
    body: SetValue,
) -> dict[str, str]:
    p = signed_in(principal)
    _own_tenant(p, lg_code)
    with tenant_session(request, p) as s:
        row = service.set_municipal_value(
            s,
            actor=p,
            name=name,
            value=body.value,
            effective_from=body.effective_from,
            effective_until=body.effective_until,
            reason=body.reason,
        )
        return {"name": row.name, "effective_from": row.effective_from.isoformat(), "revision": str(row.revision)}
