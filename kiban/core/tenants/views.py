"""Platform operators' screen: the tenant catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from kiban.core.http.auth import require
from kiban.core.http.runtime import NavItem, runtime
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.tenants import service

router = APIRouter(prefix="/tenants", include_in_schema=False)
NAV = [NavItem("利用団体", "/tenants", Permission.TENANTS_OPERATE)]


@router.get("")
def index(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.TENANTS_OPERATE))],
    pref: str | None = None,
) -> Response:
    with runtime(request).database.tenant(None) as s:
        rows = service.get_all(db_session=s, pref_code=pref)
    return render(request, "tenants/index.html", {"rows": rows}, principal=principal)
