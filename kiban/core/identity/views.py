"""Staff sign-in pages: 団体コード + ユーザーID + パスワード, then a TOTP code where the roles need one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from kiban.core.errors import FieldError, InputError, PermissionDenied
from kiban.core.http.auth import SESSION_COOKIE, public
from kiban.core.http.runtime import runtime
from kiban.core.http.templates import render
from kiban.core.identifiers import validate_lg_code
from kiban.core.identity import service
from kiban.core.identity.permissions import PLATFORM, Principal

router = APIRouter(include_in_schema=False)
Public = Annotated[Principal | None, Depends(public)]


def _safe_next(target: str) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _set_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=runtime(request).settings.environment == "production",
        max_age=int(service.SESSION_LIFETIME.total_seconds()),
    )


@router.get("/login")
def login_form(request: Request, principal: Public, next: str = "/") -> Response:
    return render(request, "identity/login.html", {"next": _safe_next(next), "form": {}}, principal=None)


@router.post("/login")
def login(
    request: Request,
    principal: Public,
    lg_code: Annotated[str, Form()] = "",
    user_id: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    form = {"lg_code": lg_code, "user_id": user_id}
    try:
        code = PLATFORM if lg_code.strip() == PLATFORM else validate_lg_code(lg_code)
        if not user_id.strip():
            raise InputError(FieldError("ユーザーID", user_id, "入力してください。"))
        with runtime(request).database.tenant(code) as s:
            result = service.sign_in(s, user_id=user_id.strip(), password=password)
    except InputError as exc:
        context = {"next": next, "form": form, "errors": exc.errors}
        return render(request, "identity/login.html", context, principal=None, status_code=422)
    except PermissionDenied as exc:
        context = {"next": next, "form": form, "denied": str(exc)}
        return render(request, "identity/login.html", context, principal=None, status_code=401)
    target = f"/login/totp?next={_safe_next(next)}" if result.needs_second_factor else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, result.cookie)
    return response


@router.get("/login/totp")
def totp_form(request: Request, principal: Public, next: str = "/") -> Response:
    return render(request, "identity/totp.html", {"next": _safe_next(next)}, principal=None)


@router.post("/login/totp")
def totp(
    request: Request, principal: Public, code: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
) -> Response:
    cookie = service.split_cookie(request.cookies.get(SESSION_COOKIE, ""))
    if cookie is None:
        return RedirectResponse("/login", status_code=303)
    try:
        with runtime(request).database.tenant(cookie[0]) as s:
            service.confirm_second_factor(s, secret=cookie[1], code=code)
    except InputError as exc:
        context = {"next": next, "errors": exc.errors}
        return render(request, "identity/totp.html", context, principal=None, status_code=422)
    except PermissionDenied:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, principal: Public) -> Response:
    cookie = service.split_cookie(request.cookies.get(SESSION_COOKIE, ""))
    if cookie is not None:
        with runtime(request).database.tenant(cookie[0]) as s:
            service.sign_out(s, secret=cookie[1])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
