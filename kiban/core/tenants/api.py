"""Tenant catalogue API (platform operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from kiban.core.http.auth import require
from kiban.core.http.runtime import runtime
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.tenants import service

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    lg_code: str
    name: str
    name_kana: str
    kind: str
    pref_name: str
    parent_code: str | None
    population: int
    households: int
    kyuchi: int | None
    kyuchi_sub: int | None
    active: bool


@router.get("/{lg_code}")
def get_tenant(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.TENANTS_OPERATE))],
    lg_code: str,
) -> TenantOut:
    with runtime(request).database.tenant(None) as s:
        return TenantOut.model_validate(service.get(db_session=s, lg_code=lg_code))
