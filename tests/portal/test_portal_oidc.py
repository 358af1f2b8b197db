"""The relying party against a provider served by ``httpx.MockTransport``: a good sign-in is accepted with its
``auth_time``; a token signed by another key, for another client, with another nonce, expired, without
``auth_time`` or too old for ``max_age`` is refused, as are a wrong state and a discovery document naming another
issuer; the authorization URL carries state, nonce, PKCE and, for a fresh sign-in, ``prompt=login`` and
``max_age``."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from kiban.portal.oidc import RelyingParty, SignInFailed, code_challenge, new_pending

ISSUER = "https://idp.example.jp"
CLIENT = "kiban-portal"
SECRET = "client secret"
REDIRECT = "https://kiban.example.jp/portal/callback"
KEY = RSAKey.generate_key(2048, parameters={"kid": "good"}, private=True)
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "good"}, private=True)


class Provider:
    """Discovery, JWKS and a token endpoint answering with ``id_token``; records the token requests."""

    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.id_token = ""
        self.token_requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": self.issuer,
                    "authorization_endpoint": ISSUER + "/authorize",
                    "token_endpoint": ISSUER + "/token",
                    "jwks_uri": ISSUER + "/jwks",
                },
            )
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [KEY.as_dict(private=False)]})
        if path == "/token":
            self.token_requests.append(request)
            return httpx.Response(200, json={"id_token": self.id_token, "token_type": "Bearer"})
        return httpx.Response(404)


def relying_party(provider: Provider) -> RelyingParty:
    http = httpx.Client(transport=httpx.MockTransport(provider.handle))
    return RelyingParty(issuer=ISSUER, client_id=CLIENT, client_secret=SECRET, redirect_uri=REDIRECT, http=http)


def claims(nonce: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "resident-42",
        "aud": CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "auth_time": now - 10,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def signed(payload: dict[str, Any], key: RSAKey = KEY) -> str:
    return jwt.encode({"alg": "RS256", "kid": "good"}, payload, key)


def test_a_good_sign_in_is_accepted_with_its_auth_time_and_pkce_is_sent() -> None:
    provider = Provider()
    rp = relying_party(provider)
    pending = new_pending()
    provider.id_token = signed(claims(pending.nonce, auth_time=1_700_000_000))
    result = rp.finish(pending, state=pending.state, code="the-code")
    assert (result.issuer, result.subject, result.auth_time) == (ISSUER, "resident-42", 1_700_000_000)
    sent = parse_qs(provider.token_requests[0].content.decode())
    assert sent["code"] == ["the-code"]
    assert sent["code_verifier"] == [pending.code_verifier]
    assert sent["redirect_uri"] == [REDIRECT]
    assert provider.token_requests[0].headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("why", "make"),
    [
        ("bad signature", lambda nonce: signed(claims(nonce), OTHER_KEY)),
        ("wrong nonce", lambda nonce: signed(claims("another nonce"))),
        ("wrong audience", lambda nonce: signed(claims(nonce, aud="someone-else"))),
        ("wrong issuer", lambda nonce: signed(claims(nonce, iss="https://evil.example"))),
        ("expired", lambda nonce: signed(claims(nonce, exp=int(time.time()) - 3600))),
        ("no auth_time", lambda nonce: signed(claims(nonce, auth_time=None))),
        ("no subject", lambda nonce: signed(claims(nonce, sub=None))),
        (
            "symmetric (signed with a shared secret)",
            lambda nonce: jwt.encode({"alg": "HS256"}, claims(nonce), OctKey.import_key("k" * 32)),
        ),
        ("not a token", lambda nonce: "not.a.token"),
    ],
)
def test_untrustworthy_id_tokens_are_refused(why: str, make: Any) -> None:
    provider = Provider()
    rp = relying_party(provider)
    pending = new_pending()
    provider.id_token = make(pending.nonce)
    with pytest.raises(SignInFailed):
        rp.finish(pending, state=pending.state, code="c")


def test_a_sign_in_older_than_max_age_is_refused_and_a_recent_one_accepted() -> None:
    provider = Provider()
    rp = relying_party(provider)
    pending = new_pending(max_age=300)
    provider.id_token = signed(claims(pending.nonce, auth_time=int(time.time()) - 3600))
    with pytest.raises(SignInFailed, match="本人確認をやり直す"):
        rp.finish(pending, state=pending.state, code="c")
    provider.id_token = signed(claims(pending.nonce, auth_time=int(time.time()) - 5))
    assert rp.finish(pending, state=pending.state, code="c").subject == "resident-42"


def test_a_wrong_state_is_refused_before_the_code_is_used() -> None:
    provider = Provider()
    rp = relying_party(provider)
    pending = new_pending()
    provider.id_token = signed(claims(pending.nonce))
    with pytest.raises(SignInFailed, match="一致しません"):
        rp.finish(pending, state="forged", code="c")
    assert provider.token_requests == []


def test_a_discovery_document_for_another_issuer_is_refused() -> None:
    rp = relying_party(Provider(issuer="https://other.example"))
    with pytest.raises(SignInFailed, match="発行者"):
        rp.authorization_url(new_pending())


def test_the_authorization_url_carries_state_nonce_pkce_and_a_fresh_sign_in_request() -> None:
    rp = relying_party(Provider())
    pending = new_pending(max_age=120)
    url = urlsplit(rp.authorization_url(pending, force_login=True))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == ISSUER + "/authorize"
    assert query["state"] == pending.state
    assert query["nonce"] == pending.nonce
    assert query["code_challenge"] == code_challenge(pending.code_verifier)
    assert query["code_challenge_method"] == "S256"
    assert (query["prompt"], query["max_age"], query["client_id"]) == ("login", "120", CLIENT)
    plain = {k: v[0] for k, v in parse_qs(urlsplit(rp.authorization_url(new_pending())).query).items()}
    assert "prompt" not in plain
    assert "max_age" not in plain


def test_the_pkce_challenge_is_rfc_7636_s256() -> None:
    # RFC 7636 Appendix B.
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
