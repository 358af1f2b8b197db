"""Resident pages under ``/portal`` (phone-sized, Japanese): sign in through the identity provider, link a 確認書 by
its 確認番号, see the linked benefits and their status, and give the account to pay — typed (bank and branch checked
against the 全銀協 code list and shown back by name before it is confirmed) or the registered 公金受取口座.

These routes are open (``public``) as far as staff permissions go: residents never hold a staff session. Who the
resident is comes from the portal's own session cookie (``kiban.portal.sessions``), and every form is checked
against its CSRF token. Changing an account already given needs a sign-in more recent than
``KIBAN_PORTAL_FRESH_SIGN_IN_SECONDS``: an older one is sent through the provider again (``prompt=login``,
``max_age``) and comes back to the same page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from kiban.benefits.models import (
    CONFIRMED,
    ELIGIBLE,
    FAILED,
    NEEDS_REVIEW,
    PAID,
    WITHDRAWN,
    Entitlement,
    format_confirmation_code,
)
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import BankAccount, account_of, checked_account
from kiban.core.banks import bank_branch
from kiban.core.config import Settings
from kiban.core.errors import FieldError, InputError, KibanError
from kiban.core.http.auth import public
from kiban.core.http.runtime import runtime
from kiban.core.http.templates import render
from kiban.core.identifiers import validate_lg_code
from kiban.core.identity.permissions import Principal
from kiban.portal import service, sessions
from kiban.portal.forms import CheckedAccount, account_from_form, errors_by_field
from kiban.portal.oidc import RelyingParty, SignInFailed, new_pending
from kiban.portal.public_fund import source_for
from kiban.portal.urls import callback_url, dev_issuer

router = APIRouter(include_in_schema=False)
Public = Annotated[Principal | None, Depends(public)]

RESIDENT_STATUS = {
    ELIGIBLE: "対象（口座の確認をお待ちしています）",
    NEEDS_REVIEW: "確認中（市区町村で内容を確認しています）",
    CONFIRMED: "確認済み（振込をお待ちください）",
    PAID: "振込済み",
    FAILED: "振込不能（口座をもう一度お知らせください）",
    WITHDRAWN: "対象外",
}
"""The status as a resident reads it."""
OPEN_FOR_ACCOUNT = (ELIGIBLE, FAILED, CONFIRMED)
"""Statuses in which the resident may give (or change) the account."""


class PortalUnavailable(KibanError):
    """No identity provider is configured."""


def _settings(request: Request) -> Settings:
    return runtime(request).settings


def _session(request: Request) -> sessions.ResidentSession | None:
    return sessions.read_session(_settings(request), request.cookies.get(sessions.SESSION_COOKIE, ""))


def _resident(session: sessions.ResidentSession) -> service.Resident:
    return service.Resident(session.lg_code, session.issuer, session.subject)


def _safe_next(target: str) -> str:
    """Only the portal's own pages."""
    return target if target.startswith("/portal") and not target.startswith("//") else "/portal"


@contextmanager
def _http(request: Request) -> Iterator[httpx.Client]:
    """The client that reaches the provider (tests may put one on ``app.state.portal_http``)."""
    given = getattr(request.app.state, "portal_http", None)
    if isinstance(given, httpx.Client):
        yield given
        return
    with httpx.Client(timeout=10) as client:
        yield client


def _relying_party(request: Request, http: httpx.Client) -> RelyingParty:
    settings = _settings(request)
    issuer = settings.portal_oidc_issuer
    if not issuer:
        if not settings.portal_dev_provider_enabled:
            raise PortalUnavailable("住民ポータルのログイン（認証サービス）が設定されていません。")
        issuer = dev_issuer(request)
    return RelyingParty(
        issuer=issuer,
        client_id=settings.portal_oidc_client_id,
        client_secret=settings.portal_oidc_client_secret,
        redirect_uri=callback_url(request),
        http=http,
    )


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return render(request, template, context, principal=None, status_code=status_code)


def _message(request: Request, heading: str, message: str, status_code: int) -> Response:
    return _page(request, "portal/message.html", {"heading": heading, "message": message}, status_code)


def _to_start(request: Request) -> Response:
    return RedirectResponse("/portal?" + urlencode({"next": request.url.path}), status_code=303)


def _sign_in_again(session: sessions.ResidentSession, next_page: str) -> Response:
    query = urlencode({"lg_code": session.lg_code, "next": next_page, "fresh": "1"})
    return RedirectResponse(f"/portal/login?{query}", status_code=303)


def _common(request: Request, session: sessions.ResidentSession) -> dict[str, Any]:
    return {"csrf": sessions.csrf_token(_settings(request), session), "signed_in": True}


# --- sign-in ---------------------------------------------------------------------------------------------------------


@router.get("/portal")
def home(request: Request, principal: Public, lg_code: str = "", next: str = "/portal") -> Response:
    session = _session(request)
    if session is None:
        return _page(request, "portal/start.html", {"form": {"lg_code": lg_code}, "next": _safe_next(next)})
    with runtime(request).database.tenant(session.lg_code) as s:
        linked = service.linked_entitlements(s, resident=_resident(session))
    context = {**_common(request, session), "entitlements": linked, "programs": PROGRAMS, "labels": RESIDENT_STATUS}
    return _page(request, "portal/home.html", context)


@router.get("/portal/login")
def login(request: Request, principal: Public, lg_code: str = "", next: str = "/portal", fresh: str = "") -> Response:
    try:
        code = validate_lg_code(lg_code)
    except InputError as exc:
        context = {"form": {"lg_code": lg_code}, "next": _safe_next(next), "errors": exc.errors}
        return _page(request, "portal/start.html", context, 422)
    settings = _settings(request)
    force = fresh == "1"
    pending = new_pending(settings.portal_fresh_sign_in_seconds if force else None)
    try:
        with _http(request) as http:
            url = _relying_party(request, http).authorization_url(pending, force_login=force)
    except (SignInFailed, PortalUnavailable) as exc:
        return _message(request, "ログインできません", str(exc), 503)
    response = RedirectResponse(url, status_code=303)
    sessions.remember_login(response, settings, sessions.PendingLogin(code, _safe_next(next), pending))
    return response


@router.get("/portal/callback")
def callback(request: Request, principal: Public, code: str = "", state: str = "", error: str = "") -> Response:
    settings = _settings(request)
    login = sessions.recall_login(settings, request.cookies.get(sessions.LOGIN_COOKIE, ""))
    if login is None:
        return _message(
            request, "ログインできません", "ログインの有効期限が切れました。最初からやり直してください。", 400
        )
    if error or not code:
        return _message(
            request, "ログインできません", "ログインが完了しませんでした。最初からやり直してください。", 400
        )
    try:
        with _http(request) as http:
            signed = _relying_party(request, http).finish(login.pending, state=state, code=code)
    except (SignInFailed, PortalUnavailable) as exc:
        return _message(request, "ログインできません", str(exc), 401)
    response = RedirectResponse(login.next, status_code=303)
    sessions.forget_login(response)
    sessions.start_session(
        response,
        settings,
        lg_code=login.lg_code,
        issuer=signed.issuer,
        subject=signed.subject,
        auth_time=signed.auth_time,
    )
    return response


@router.post("/portal/logout")
def logout(request: Request, principal: Public, csrf: Annotated[str, Form()] = "") -> Response:
    session = _session(request)
    if session is not None:
        sessions.check_csrf(_settings(request), session, csrf)
    response = RedirectResponse("/portal", status_code=303)
    sessions.end_session(response)
    return response


# --- linking ---------------------------------------------------------------------------------------------------------


@router.post("/portal/link")
def link(
    request: Request, principal: Public, csrf: Annotated[str, Form()] = "", code: Annotated[str, Form()] = ""
) -> Response:
    session = _session(request)
    if session is None:
        return _to_start(request)
    sessions.check_csrf(_settings(request), session, csrf)
    resident = _resident(session)
    try:
        with runtime(request).database.tenant(session.lg_code) as s:
            entitlement = service.link(s, resident=resident, code=code)
    except InputError as exc:
        with runtime(request).database.tenant(session.lg_code) as s:
            linked = service.linked_entitlements(s, resident=resident)
        context = {
            **_common(request, session),
            "entitlements": linked,
            "programs": PROGRAMS,
            "labels": RESIDENT_STATUS,
            "code": code,
            "errors": exc.errors,
        }
        return _page(request, "portal/home.html", context, 422)
    return RedirectResponse(f"/portal/benefits/{entitlement.program}/{entitlement.household_no}", status_code=303)


# --- one benefit -----------------------------------------------------------------------------------------------------


def _public_fund(
    request: Request, session: sessions.ResidentSession, entitlement: Entitlement
) -> CheckedAccount | None:
    source = source_for(_settings(request))
    if source is None:
        return None
    with runtime(request).database.tenant(session.lg_code) as s:
        registered = source.account_of(s, entitlement.recipient_no)
    if registered is None:
        return None
    account = checked_account(registered)
    return CheckedAccount(account, bank_branch(account.bank_code, account.branch_code))


def _benefit_page(
    request: Request,
    session: sessions.ResidentSession,
    entitlement: Entitlement,
    *,
    editing: bool,
    form: dict[str, str] | None = None,
    errors: tuple[FieldError, ...] = (),
    status_code: int = 200,
) -> Response:
    current = account_of(entitlement)
    shown = None
    if current is not None:
        shown = CheckedAccount(current, bank_branch(current.bank_code, current.branch_code))
    may_give = entitlement.status in OPEN_FOR_ACCOUNT and entitlement.batch_no is None
    context = {
        **_common(request, session),
        "e": entitlement,
        "program": PROGRAMS[entitlement.program],
        "status_label": RESIDENT_STATUS[entitlement.status],
        "code": format_confirmation_code(entitlement.confirmation_code),
        "current": shown,
        "editing": may_give and (editing or current is None or entitlement.status == FAILED),
        "may_change": may_give and current is not None,
        "public_fund": _public_fund(request, session, entitlement) if may_give else None,
        "form": form or {"account_type": "1"},
        "errors": errors_by_field(errors),
        "error_list": errors,
    }
    return _page(request, "portal/benefit.html", context, status_code)


def _linked(request: Request, session: sessions.ResidentSession, program: str, household_no: str) -> Entitlement:
    with runtime(request).database.tenant(session.lg_code) as s:
        return service.linked_entitlement(s, resident=_resident(session), program=program, household_no=household_no)


@router.get("/portal/benefits/{program}/{household_no}")
def benefit(request: Request, principal: Public, program: str, household_no: str, change: str = "") -> Response:
    session = _session(request)
    if session is None:
        return _to_start(request)
    entitlement = _linked(request, session, program, household_no)
    editing = change == "1"
    if (
        editing
        and account_of(entitlement) is not None
        and not session.fresh(_settings(request).portal_fresh_sign_in_seconds)
    ):
        return _sign_in_again(session, f"{request.url.path}?change=1")
    return _benefit_page(request, session, entitlement, editing=editing)


def _confirm(
    request: Request, session: sessions.ResidentSession, entitlement: Entitlement, account: BankAccount
) -> Response:
    fresh = session.fresh(_settings(request).portal_fresh_sign_in_seconds)
    path = f"/portal/benefits/{entitlement.program}/{entitlement.household_no}"
    try:
        with runtime(request).database.tenant(session.lg_code) as s:
            service.confirm_account(
                s,
                resident=_resident(session),
                program=entitlement.program,
                household_no=entitlement.household_no,
                account=account,
                fresh=fresh,
            )
    except service.FreshSignInNeeded:
        return _sign_in_again(session, path + "?change=1")
    except InputError as exc:
        return _benefit_page(request, session, entitlement, editing=True, errors=exc.errors, status_code=422)
    return RedirectResponse(path + "?done=1", status_code=303)


@router.post("/portal/benefits/{program}/{household_no}/account")
def give_account(
    request: Request,
    principal: Public,
    program: str,
    household_no: str,
    csrf: Annotated[str, Form()] = "",
    step: Annotated[str, Form()] = "check",
    bank_code: Annotated[str, Form()] = "",
    branch_code: Annotated[str, Form()] = "",
    account_type: Annotated[str, Form()] = "",
    account_number: Annotated[str, Form()] = "",
    holder_kana: Annotated[str, Form()] = "",
) -> Response:
    """Two steps: ``check`` shows the bank and branch names back with the account as it will be paid; ``confirm``
    (from that page) records it. ``edit`` goes back to the form with what was typed."""
    session = _session(request)
    if session is None:
        return _to_start(request)
    sessions.check_csrf(_settings(request), session, csrf)
    entitlement = _linked(request, session, program, household_no)
    form = {
        "bank_code": bank_code,
        "branch_code": branch_code,
        "account_type": account_type,
        "account_number": account_number,
        "holder_kana": holder_kana,
    }
    if step == "edit":
        return _benefit_page(request, session, entitlement, editing=True, form=form)
    try:
        checked = account_from_form(**form)
    except InputError as exc:
        return _benefit_page(request, session, entitlement, editing=True, form=form, errors=exc.errors, status_code=422)
    if step == "confirm":
        return _confirm(request, session, entitlement, checked.account)
    context = {
        **_common(request, session),
        "e": entitlement,
        "program": PROGRAMS[entitlement.program],
        "checked": checked,
        "form": form,
    }
    return _page(request, "portal/check_account.html", context)


@router.post("/portal/benefits/{program}/{household_no}/public-fund")
def use_public_fund_account(
    request: Request, principal: Public, program: str, household_no: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    session = _session(request)
    if session is None:
        return _to_start(request)
    sessions.check_csrf(_settings(request), session, csrf)
    entitlement = _linked(request, session, program, household_no)
    registered = _public_fund(request, session, entitlement)
    if registered is None:
        return _message(
            request, "公金受取口座がありません", "公金受取口座が登録されていません。口座を入力してください。", 422
        )
    return _confirm(request, session, entitlement, registered.account)
