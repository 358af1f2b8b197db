"""OpenID Connect relying party of the resident portal: the authorization code flow with PKCE.

OpenID Connect Core 1.0 §3.1 (authorization code flow), §3.1.3.7 (ID token validation: signature with the provider's
keys, ``iss``, ``aud``, ``exp``, ``nonce``, ``auth_time`` when ``max_age`` was asked), RFC 7636 (PKCE, ``S256``),
OpenID Connect Discovery 1.0 (``/.well-known/openid-configuration``, ``jwks_uri``). The provider is whatever
``KIBAN_PORTAL_OIDC_ISSUER`` names — the マイナンバーカード sign-in of a real provider, or the development provider of
``kiban.portal.dev_provider`` — and the code path is the same for both. Tokens are checked with ``joserfc``; only
asymmetric signatures (RS256, ES256) are accepted, so a token signed with the client secret or unsigned is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kiban.core.errors import KibanError

ALGORITHMS = ["RS256", "ES256"]
LEEWAY_SECONDS = 60
"""Clock difference tolerated between the provider and this server (``exp``, ``iat``, ``auth_time``)."""


class SignInFailed(KibanError):
    """The provider's answer could not be trusted (the message is Japanese and says what to do)."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class PendingSignIn:
    """What the relying party remembers between sending the resident to the provider and their return."""

    state: str
    nonce: str
    code_verifier: str
    max_age: int | None
    """Seconds: the sign-in must be at most this old (``auth_time``), or ``None``."""


@dataclass(frozen=True)
class SignedIn:
    issuer: str
    subject: str
    auth_time: int
    """When the resident authenticated at the provider (seconds since the epoch)."""


def code_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: ``BASE64URL(SHA256(code_verifier))`` without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_pending(max_age: int | None = None) -> PendingSignIn:
    return PendingSignIn(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48), max_age)


class RelyingParty:
    """One provider and this client's registration with it. ``http`` reaches the provider (its discovery document,
    keys and token endpoint)."""

    def __init__(
        self, *, issuer: str, client_id: str, client_secret: str, redirect_uri: str, http: httpx.Client
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.http = http

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(url)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed("認証サービスに接続できませんでした。しばらくしてからもう一度お試しください。") from exc
        if not isinstance(body, dict):
            raise SignInFailed("認証サービスの応答が正しくありません。しばらくしてからもう一度お試しください。")
        return body

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document; its ``issuer`` must be exactly the configured one (Discovery §4.3)."""
        body = self._get_json(self.issuer + "/.well-known/openid-configuration")
        try:
            found = ProviderMetadata(
                issuer=str(body["issuer"]),
                authorization_endpoint=str(body["authorization_endpoint"]),
                token_endpoint=str(body["token_endpoint"]),
                jwks_uri=str(body["jwks_uri"]),
            )
        except KeyError as exc:
            raise SignInFailed("認証サービスの設定情報が不完全です。管理者にお問い合わせください。") from exc
        if found.issuer.rstrip("/") != self.issuer:
            raise SignInFailed("認証サービスの発行者が設定と一致しません。管理者にお問い合わせください。")
        return found

    def authorization_url(self, pending: PendingSignIn, *, force_login: bool = False) -> str:
        """Where to send the resident: ``response_type=code`` with state, nonce and the PKCE challenge; with
        ``force_login`` (a fresh sign-in is needed) also ``prompt=login``."""
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        if force_login:
            params["prompt"] = "login"
        if pending.max_age is not None:
            params["max_age"] = str(pending.max_age)
        return self.metadata().authorization_endpoint + "?" + urlencode(params)

    def finish(self, pending: PendingSignIn, *, state: str, code: str) -> SignedIn:
        """The resident came back with ``state`` and ``code``: check the state, exchange the code (with the PKCE
        verifier and the client secret) and verify the ID token."""
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise SignInFailed("ログインの手続きが一致しません。最初からログインし直してください。")
        meta = self.metadata()
        try:
            response = self.http.post(
                meta.token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "code_verifier": pending.code_verifier,
                },
                auth=(self.client_id, self.client_secret),
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed("認証サービスに接続できませんでした。しばらくしてからもう一度お試しください。") from exc
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(id_token, str):
            raise SignInFailed("ログインを完了できませんでした。最初からログインし直してください。")
        return self.verify_id_token(id_token, nonce=pending.nonce, max_age=pending.max_age, metadata=meta)

    def verify_id_token(
        self, id_token: str, *, nonce: str, max_age: int | None, metadata: ProviderMetadata | None = None
    ) -> SignedIn:
        """OpenID Connect Core §3.1.3.7: the signature against the provider's JWKS, then ``iss``, ``aud``, ``exp``,
        ``iat``, ``nonce``, ``sub`` and ``auth_time`` (required, and recent enough when ``max_age`` was asked)."""
        meta = metadata or self.metadata()
        keys = KeySet.import_key_set(self._get_json(meta.jwks_uri))  # type: ignore[arg-type]
        try:
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise SignInFailed("ログイン情報の署名を確認できませんでした。最初からログインし直してください。") from exc
        claims = token.claims
        now = int(time.time())
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": meta.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
            auth_time={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise SignInFailed("ログイン情報が正しくないか期限切れです。最初からログインし直してください。") from exc
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise SignInFailed("ログイン情報の宛先が正しくありません。最初からログインし直してください。")
        auth_time = int(claims["auth_time"])
        if max_age is not None and auth_time + max_age + LEEWAY_SECONDS < now:
            raise SignInFailed("本人確認をやり直す必要があります。もう一度ログインしてください。")
        return SignedIn(issuer=meta.issuer, subject=str(claims["sub"]), auth_time=auth_time)
