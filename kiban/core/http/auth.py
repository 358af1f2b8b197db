"""Who is calling, and may they? Deny by default.

Every route declares the permission it needs by depending on ``require(permission)``; ``kiban.web.app`` refuses to
start when a route declares none. Browsers authenticate with the session cookie (``<lg_code>.<secret>``), systems
with ``Authorization: Bearer kbn_<lg_code>_...``. Every refusal of a signed-in caller is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from kiban.core.audit.service import record_denied
from kiban.core.db import TenantSession
from kiban.core.errors import KibanError, PermissionDenied
from kiban.core.http.runtime import runtime
from kiban.core.identity import service
from kiban.core.identity.permissions import Permission, Principal, missing_permission_message

SESSION_COOKIE = "kiban_session"


class NotSignedIn(KibanError):
    """No valid session or token: browsers go to the login page, API callers get 401."""


def _resolve(request: Request) -> Principal | None:
    database = runtime(request).database
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
        parsed = service.split_token(token)
        if parsed is None:
            return None
        with database.tenant(parsed[0]) as s:
            return service.principal_for_token(s, token=token)
    cookie = service.split_cookie(request.cookies.get(SESSION_COOKIE, ""))
    if cookie is None:
        return None
    with database.tenant(cookie[0]) as s:
        return service.principal_for_session(s, secret=cookie[1])


def current_principal(request: Request) -> Principal | None:
    """The caller, resolved once per request."""
    if not hasattr(request.state, "principal"):
        request.state.principal = _resolve(request)
    principal = request.state.principal
    return principal if isinstance(principal, Principal) else None


def require(permission: Permission) -> Callable[[Request], Principal]:
    """FastAPI dependency: the caller, if they hold ``permission``; else 401 (not signed in) or 403 (audited)."""
    if permission is Permission.PUBLIC:
        raise ValueError("use `public` for routes open to everyone")

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal is None:
            raise NotSignedIn("ログインしてください。")
        if not principal.can(permission):
            route = request.scope.get("route")
            path = getattr(route, "path", request.url.path)
            record_denied(
                runtime(request).database.engine,
                actor=principal,
                action=f"{request.method} {path}",
                purpose="アクセス制御",
                lg_code=principal.lg_code,
                detail={"permission": permission.value},
            )
            raise PermissionDenied(missing_permission_message(permission))
        return principal

    dependency.kiban_permission = permission  # type: ignore[attr-defined]
    return dependency


def public(request: Request) -> Principal | None:
    """FastAPI dependency of routes open to everyone (declared like any other permission): the caller, if any."""
    return current_principal(request)


public.kiban_permission = Permission.PUBLIC  # type: ignore[attr-defined]


@contextmanager
def tenant_session(request: Request, principal: Principal) -> Iterator[TenantSession]:
    """One unit of work on the caller's tenant (commit on success, rollback on error)."""
    with runtime(request).database.tenant(principal.lg_code) as s:
        yield s


def _declared(dependant: Dependant) -> Iterator[Permission]:
    for sub in dependant.dependencies:
        permission = getattr(sub.call, "kiban_permission", None)
        if isinstance(permission, Permission):
            yield permission
        yield from _declared(sub)


def declared_permissions(route: APIRoute) -> list[Permission]:
    return list(_declared(route.dependant))


PUBLIC_MOUNTS = frozenset({"/static"})
"""Mounted sub-apps are public files only (CSS, design tokens); nothing else may be mounted."""


def undeclared_routes(routes: Iterable[BaseRoute]) -> list[str]:
    """Routes that declare no permission (must be empty: deny by default)."""
    missing: list[str] = []
    for route in routes:
        if isinstance(route, APIRoute):
            if not declared_permissions(route):
                missing.append(f"{','.join(sorted(route.methods or ()))} {route.path}")
        elif isinstance(route, Mount):
            if route.path not in PUBLIC_MOUNTS:
                missing.append(f"MOUNT {route.path}")
        elif getattr(route, "path", None) not in {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}:
            missing.append(f"ROUTE {getattr(route, 'path', route)!r}")
    return missing
