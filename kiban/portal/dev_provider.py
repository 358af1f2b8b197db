"""Development identity provider standing in for マイナンバーカード sign-in (never served in production:
``KIBAN_PORTAL_DEV_PROVIDER`` is refused there by ``kiban.core.config``).

A real OpenID Connect provider in miniature, so the relying party runs exactly the code it runs against a real one:
discovery (``/.well-known/openid-configuration``), the public keys (``jwks``), an authorization page where one picks
a demo resident (or types a subject) and enters a 4-digit code standing in for the card's 利用者証明用暗証番号 (every
request is a new sign-in, so ``prompt=login`` and ``max_age`` are always met), and a token endpoint that checks the
client's secret, the redirect URI and the PKCE verifier and returns an RS256-signed ID token with ``auth_time``.
Codes are single-use and live 60 seconds. The signing key is made when the application first serves the provider
and lives in its memory (restarting signs everyone out).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.http.auth import public
from kiban.core.http.runtime import runtime
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Principal
from kiban.core.jtext import digits
from kiban.portal.oidc import code_challenge

PREFIX = "/portal/dev-idp"
CODE_SECONDS = 60
TOKEN_SECONDS = 300
DEMO_RESIDENTS = (
    ("demo-resident-1", "デモ住民1"),
    ("demo-resident-2", "デモ住民2"),
    ("demo-resident-3", "デモ住民3"),
)
"""Subjects the page offers (a real provider issues a pairwise subject per relying party)."""

router = APIRouter(prefix=PREFIX, include_in_schema=False)
_CREATE = threading.Lock()
Public = Annotated[Principal | None, Depends(public)]


@dataclass
class _Grant:
    subject: str
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    auth_time: int
    expires: float


@dataclass
class DevProvider:
    """The provider's key and outstanding codes (one per application)."""

    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)}, private=True)
    )
    grants: dict[str, _Grant] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            for stale in [c for c, g in self.grants.items() if g.expires < now]:
                del self.grants[stale]
            self.grants[code] = grant
        return code

    def redeem(self, code: str) -> _Grant | None:
        with self.lock:
            grant = self.grants.pop(code, None)
        return grant if grant is not None and grant.expires >= time.time() else None


def issuer_of(request: Request) -> str:
    """The development provider's issuer on this server."""
    return str(request.base_url).rstrip("/") + PREFIX


def redirect_uri_of(request: Request) -> str:
    """The portal's callback on this server (the only redirect URI the development provider accepts)."""
    return str(request.base_url).rstrip("/") + "/portal/callback"


def _provider(request: Request) -> DevProvider:
    if not runtime(request).settings.portal_dev_provider_enabled:
        raise NotFound("開発用の認証サービスは、この環境では使えません。")
    state = request.app.state
    with _CREATE:
        if not hasattr(state, "portal_dev_provider"):
            state.portal_dev_provider = DevProvider()
    provider = state.portal_dev_provider
    assert isinstance(provider, DevProvider)
    return provider


@router.get("/.well-known/openid-configuration")
def discovery(request: Request, principal: Public) -> Response:
    _provider(request)
    issuer = issuer_of(request)
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "jwks_uri": issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "auth_time"],
        }
    )


@router.get("/jwks")
def jwks(request: Request, principal: Public) -> Response:
    key = _provider(request).key
    return JSONResponse({"keys": [{**key.as_dict(private=False), "use": "sig", "alg": "RS256"}]})


def _check_request(request: Request, params: dict[str, str]) -> None:
    settings = runtime(request).settings
    problems = []
    if params.get("response_type") != "code":
        problems.append(FieldError("response_type", params.get("response_type", ""), "code を指定してください。"))
    if params.get("client_id") != settings.portal_oidc_client_id:
        problems.append(FieldError("client_id", params.get("client_id", ""), "登録されたクライアントではありません。"))
    if params.get("redirect_uri") != redirect_uri_of(request):
        problems.append(FieldError("redirect_uri", params.get("redirect_uri", ""), "登録された戻り先ではありません。"))
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        problems.append(FieldError("code_challenge", params.get("code_challenge", ""), "PKCE（S256）が必要です。"))
    for name in ("state", "nonce"):
        if not params.get(name):
            problems.append(FieldError(name, "", "指定してください。"))
    if problems:
        raise InputError(*problems)


AUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


@router.get("/authorize")
def authorize_page(request: Request, principal: Public) -> Response:
    _provider(request)
    params = {name: request.query_params.get(name, "") for name in AUTH_PARAMS}
    _check_request(request, params)
    context = {"params": params, "residents": DEMO_RESIDENTS, "form": {"subject": DEMO_RESIDENTS[0][0]}}
    return render(request, "portal/dev_authorize.html", context, principal=None)


@router.post("/authorize")
def authorize(
    request: Request,
    principal: Public,
    subject: Annotated[str, Form()] = "",
    other_subject: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    response_type: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
    code_challenge: Annotated[str, Form()] = "",
    code_challenge_method: Annotated[str, Form()] = "",
) -> Response:
    provider = _provider(request)
    params = {
        "response_type": response_type,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method,
    }
    _check_request(request, params)
    chosen = other_subject.strip() or subject
    errors: list[FieldError] = []
    if not chosen:
        errors.append(FieldError("利用者", "", "デモ住民を選ぶか、利用者IDを入力してください。"))
    try:
        digits(pin, field="暗証番号", length=4)
    except InputError as exc:
        errors.extend(exc.errors)
    if errors:
        context = {"params": params, "residents": DEMO_RESIDENTS, "form": {"subject": subject}, "errors": errors}
        return render(request, "portal/dev_authorize.html", context, principal=None, status_code=422)
    now = int(time.time())
    grant = _Grant(chosen, client_id, redirect_uri, nonce, code_challenge, now, now + CODE_SECONDS)
    code = provider.issue(grant)
    return RedirectResponse(redirect_uri + "?" + urlencode({"code": code, "state": state}), status_code=303)


def _client(request: Request, form: dict[str, str]) -> str | None:
    """The authenticated client id (``client_secret_basic`` or ``client_secret_post``), or ``None``."""
    settings = runtime(request).settings
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
    ok = hmac.compare_digest(client_id.encode(), settings.portal_oidc_client_id.encode()) and hmac.compare_digest(
        secret.encode(), settings.portal_oidc_client_secret.encode()
    )
    return client_id if ok else None


def _token_error(error: str, status: int = 400) -> Response:
    return JSONResponse({"error": error}, status_code=status)


@router.post("/token")
async def token(request: Request, principal: Public) -> Response:
    provider = _provider(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client_id = _client(request, form)
    if client_id is None:
        return _token_error("invalid_client", 401)
    if form.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type")
    grant = provider.redeem(form.get("code", ""))
    if (
        grant is None
        or grant.client_id != client_id
        or grant.redirect_uri != form.get("redirect_uri")
        or not hmac.compare_digest(code_challenge(form.get("code_verifier", "")), grant.challenge)
    ):
        return _token_error("invalid_grant")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer_of(request),
        "sub": grant.subject,
        "aud": client_id,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "nonce": grant.nonce,
        "auth_time": grant.auth_time,
        "amr": ["pin"],
    }
    id_token = jwt.encode({"alg": "RS256", "kid": provider.key.kid}, claims, provider.key)
    return JSONResponse(
        {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "id_token": id_token,
        },
        headers={"Cache-Control": "no-store"},
    )
