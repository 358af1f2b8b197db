"""Resident sessions: signed cookies of their own, never a staff session.

Two cookies, each an HMAC-SHA256-signed JSON value with its own expiry (keys derived from ``KIBAN_SECRET_KEY`` per
purpose, so neither can be passed off as the other, nor as a staff cookie):

* ``kiban_portal_login`` — the pending sign-in (state, nonce, PKCE verifier, the municipality, where to return) while
  the resident is at the provider; 10 minutes; ``SameSite=Lax`` because the provider sends the resident back with a
  top-level cross-site GET.
* ``kiban_portal_session`` — who is signed in (municipality, provider, subject, ``auth_time``) for
  ``KIBAN_PORTAL_SESSION_MINUTES``; ``HttpOnly``, ``Secure`` in production, ``SameSite=Lax``.

Every form carries a CSRF token bound to the session (HMAC of its random id), checked on every POST: the cookie is
sent on top-level navigations from other sites, so ``SameSite=Lax`` alone does not protect forms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import Response

from kiban.core.config import Settings
from kiban.core.errors import PermissionDenied
from kiban.portal.oidc import PendingSignIn

SESSION_COOKIE = "kiban_portal_session"
LOGIN_COOKIE = "kiban_portal_login"
LOGIN_SECONDS = 600
PATH = "/portal"


def _key(settings: Settings, purpose: str) -> bytes:
    return hmac.new(settings.secret_key.encode(), f"kiban.portal.{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(settings: Settings, purpose: str, payload: dict[str, Any], *, seconds: int) -> str:
    body = _b64(json.dumps({**payload, "exp": int(time.time()) + seconds}, separators=(",", ":")).encode())
    signature = _b64(hmac.new(_key(settings, purpose), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def unseal(settings: Settings, purpose: str, value: str) -> dict[str, Any] | None:
    """The payload, or ``None`` when the value is missing, altered or expired."""
    body, _, signature = value.partition(".")
    expected = _b64(hmac.new(_key(settings, purpose), body.encode(), hashlib.sha256).digest())
    if not body or not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    try:
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(payload, dict) or int(payload.get("exp", 0)) < time.time():
        return None
    return payload


@dataclass(frozen=True)
class ResidentSession:
    lg_code: str
    issuer: str
    subject: str
    auth_time: int
    sid: str
    """Random id of this session (the CSRF token is derived from it)."""

    def fresh(self, seconds: int) -> bool:
        """Signed in at the provider at most ``seconds`` ago."""
        return time.time() - self.auth_time <= seconds


@dataclass(frozen=True)
class PendingLogin:
    lg_code: str
    next: str
    pending: PendingSignIn


def _cookie(response: Response, settings: Settings, name: str, value: str, seconds: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path=PATH,
        httponly=True,
        secure=settings.environment == "production",
        samesite="lax",
    )


def start_session(
    response: Response, settings: Settings, *, lg_code: str, issuer: str, subject: str, auth_time: int
) -> None:
    session = ResidentSession(lg_code, issuer, subject, auth_time, secrets.token_urlsafe(16))
    seconds = settings.portal_session_minutes * 60
    _cookie(response, settings, SESSION_COOKIE, seal(settings, "session", asdict(session), seconds=seconds), seconds)


def read_session(settings: Settings, value: str) -> ResidentSession | None:
    payload = unseal(settings, "session", value)
    if payload is None:
        return None
    try:
        return ResidentSession(
            str(payload["lg_code"]),
            str(payload["issuer"]),
            str(payload["subject"]),
            int(payload["auth_time"]),
            str(payload["sid"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH)


def remember_login(response: Response, settings: Settings, login: PendingLogin) -> None:
    payload = {"lg_code": login.lg_code, "next": login.next, **asdict(login.pending)}
    _cookie(response, settings, LOGIN_COOKIE, seal(settings, "login", payload, seconds=LOGIN_SECONDS), LOGIN_SECONDS)


def recall_login(settings: Settings, value: str) -> PendingLogin | None:
    payload = unseal(settings, "login", value)
    if payload is None:
        return None
    try:
        max_age = payload["max_age"]
        pending = PendingSignIn(
            str(payload["state"]),
            str(payload["nonce"]),
            str(payload["code_verifier"]),
            None if max_age is None else int(max_age),
        )
        return PendingLogin(str(payload["lg_code"]), str(payload["next"]), pending)
    except (KeyError, TypeError, ValueError):
        return None


def forget_login(response: Response) -> None:
    response.delete_cookie(LOGIN_COOKIE, path=PATH)


def csrf_token(settings: Settings, session: ResidentSession) -> str:
    return _b64(hmac.new(_key(settings, "csrf"), session.sid.encode(), hashlib.sha256).digest())


def check_csrf(settings: Settings, session: ResidentSession, token: str) -> None:
    if not hmac.compare_digest(token.encode(), csrf_token(settings, session).encode()):
        raise PermissionDenied(
            "画面の有効期限が切れたか、別の画面からの送信です。ページを開き直してから送信してください。"
        )
