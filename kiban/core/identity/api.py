"""Identity API: who am I, and the tenant's staff accounts (tenant admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select

from kiban.core.db import TenantSession
from kiban.core.errors import NotFound
from kiban.core.http.auth import require, tenant_session
from kiban.core.identity.models import StaffUser
from kiban.core.identity.permissions import ROLES, Permission, Principal
from kiban.core.identity.service import roles_of

router = APIRouter(prefix="/api/v1", tags=["identity"])


class Me(BaseModel):
    user_id: str
    display_name: str
    lg_code: str
    roles: list[str]
    permissions: list[str]


class UserOut(BaseModel):
    user_id: str
    display_name: str
    roles: list[str]
    active: bool


@router.get("/me")
def me(principal: Annotated[Principal, Depends(require(Permission.SIGNED_IN))]) -> Me:
    return Me(
        user_id=principal.user_id,
        display_name=principal.display_name,
        lg_code=principal.lg_code,
        roles=sorted(r.value for r in principal.roles),
        permissions=sorted(x.value for x in principal.permissions),
    )


UsersManager = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


@router.get("/users")
def list_users(request: Request, principal: UsersManager) -> list[UserOut]:
    with tenant_session(request, principal) as s:
        users = s.scalars(select(StaffUser).order_by(StaffUser.user_id)).all()
        return [_out(s, u) for u in users]


@router.get("/users/{user_id}")
def get_user(request: Request, principal: UsersManager, user_id: str) -> UserOut:
    with tenant_session(request, principal) as s:
        user = s.get(StaffUser, (principal.lg_code, user_id))
        if user is None:
            raise NotFound(f"ユーザーID「{user_id}」の職員はこの団体に登録されていません。")
        return _out(s, user)


def _out(s: TenantSession, user: StaffUser) -> UserOut:
    return UserOut(
        user_id=user.user_id,
        display_name=user.display_name,
        roles=[ROLES[r].label for r in sorted(roles_of(s, user.user_id))],
        active=user.active,
    )
