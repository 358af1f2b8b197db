"""The portal's pages through the web app: sign-in through the development provider (discovery, PKCE, RS256 ID
token), a resident session that is not a staff session, CSRF on forms, the account form's errors next to their
fields, the confirmation step naming the bank and branch, the fresh sign-in an account change needs, and the
provider's refusals (client secret, PKCE verifier, a code used twice) and its absence in production."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from kiban.benefits.models import Entitlement
from kiban.core.config import Settings
from kiban.core.db import Database
from kiban.core.identity.permissions import Role
from kiban.portal.public_fund import DevelopmentPublicFundAccounts
from kiban.web.app import create_app

from benefit_town import household_no, in_register, resident, run, town
from conftest import TestDatabase
from residents import A, move_in, staff

PAGE = f"/portal/benefits/low_income_2023/{household_no(0)}"


def code_of(database: Database, i: int) -> str:
    with database.tenant(A) as s:
        found = s.scalar(select(Entitlement.confirmation_code).where(Entitlement.household_no == household_no(i)))
    assert found is not None
    return found


@dataclass
class Portal:
    app: FastAPI
    client: TestClient
    db: TestDatabase


def make_portal(db: TestDatabase, settings: Settings) -> Iterator[Portal]:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(2)))
    app = create_app(db.app, settings)
    app.state.portal_http = TestClient(app)  # the relying party reaches the development provider in-process
    with TestClient(app) as client:
        yield Portal(app, client, db)


@pytest.fixture
def portal(db: TestDatabase) -> Iterator[Portal]:
    yield from make_portal(db, Settings(environment="test"))


def provider_redirect(client: TestClient, location: str, subject: str = "demo-resident-1") -> httpx.Response:
    """At the development provider: choose ``subject``, enter the code, and come back with the authorization code."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    page = client.get(location)
    assert page.status_code == 200
    assert "開発用ログイン" in page.text
    form = {k: query[k] for k in ("response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge")}
    form |= {"code_challenge_method": "S256", "subject": subject, "pin": "１２３４"}
    answer: httpx.Response = client.post("/portal/dev-idp/authorize", data=form, follow_redirects=False)
    return answer


def sign_in(client: TestClient, subject: str = "demo-resident-1", next_page: str = "/portal") -> httpx.Response:
    start = client.get("/portal/login", params={"lg_code": A, "next": next_page}, follow_redirects=False)
    assert start.status_code == 303
    back = provider_redirect(client, start.headers["location"], subject)
    assert back.status_code == 303
    assert back.headers["location"].startswith("http://testserver/portal/callback?")
    done: httpx.Response = client.get(back.headers["location"], follow_redirects=False)
    assert done.status_code == 303, done.text
    return done


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


ACCOUNT = {
    "bank_code": "0005",
    "branch_code": "123",
    "account_type": "1",
    "account_number": "1234567",
    "holder_kana": "ヤマダ　タロウ",
}


def test_a_resident_signs_in_links_and_confirms_an_account(portal: Portal) -> None:
    client = portal.client
    assert "マイナンバーカードでログイン" in client.get("/portal").text
    done = sign_in(client)
    assert done.headers["location"] == "/portal"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("kiban_portal_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/portal" in cookie
    home = client.get("/portal")
    assert "まだ確認書が紐付けられていません" in home.text
    token = csrf(home.text)

    refused = client.post("/portal/link", data={"csrf": "forged", "code": code_of(portal.db.app, 0)})
    assert refused.status_code == 403
    wrong = client.post("/portal/link", data={"csrf": token, "code": "ABCD-EFGH-JKLM"})
    assert wrong.status_code == 422
    assert "この確認番号は見つかりません" in wrong.text
    linked = client.post(
        "/portal/link", data={"csrf": token, "code": code_of(portal.db.app, 0)}, follow_redirects=False
    )
    assert linked.headers["location"] == PAGE

    page = client.get(PAGE)
    assert "対象（口座の確認をお待ちしています）" in page.text
    bad = client.post(PAGE + "/account", data={"csrf": token, **ACCOUNT, "branch_code": "999", "holder_kana": "山田"})
    assert bad.status_code == 422
    assert re.search(r'id="branch_code-error">三菱ＵＦＪにこの支店コードは見つかりません', bad.text)
    assert re.search(r'id="holder_kana-error">カタカナ・英大文字・数字', bad.text)
    assert 'value="999"' in bad.text  # what was typed stays in the form
    check = client.post(PAGE + "/account", data={"csrf": token, **ACCOUNT, "branch_code": "１２３"})
    assert check.status_code == 200
    assert "三菱ＵＦＪ" in check.text
    assert "横浜中山" in check.text
    assert "ﾔﾏﾀﾞ ﾀﾛｳ" in check.text
    confirmed = client.post(
        PAGE + "/account", data={"csrf": token, **ACCOUNT, "step": "confirm"}, follow_redirects=False
    )
    assert confirmed.status_code == 303
    assert "確認済み" in client.get(PAGE).text

    other = client.post(PAGE + "/account", data={"csrf": token, **ACCOUNT, "step": "confirm", "account_number": "7"})
    assert other.status_code == 200  # signed in moments ago: the change is accepted
    assert "＊＊＊＊007" in other.text


def test_the_resident_session_is_not_a_staff_session_and_a_forged_one_is_ignored(portal: Portal) -> None:
    client = portal.client
    sign_in(client)
    staff_page = client.get("/benefits", follow_redirects=False)
    assert staff_page.status_code == 303
    assert staff_page.headers["location"].startswith("/login")
    value = client.cookies.get("kiban_portal_session")
    assert value is not None
    client.cookies.set(
        "kiban_portal_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/portal"
    )
    assert "マイナンバーカードでログイン" in client.get("/portal").text


@pytest.fixture
def strict_portal(db: TestDatabase) -> Iterator[Portal]:
    yield from make_portal(db, Settings(environment="test", portal_fresh_sign_in_seconds=2))


def test_changing_the_account_after_the_window_goes_through_the_provider_again(strict_portal: Portal) -> None:
    client = strict_portal.client
    sign_in(client)
    token = csrf(client.get("/portal").text)
    client.post("/portal/link", data={"csrf": token, "code": code_of(strict_portal.db.app, 0)})
    client.post(PAGE + "/account", data={"csrf": token, **ACCOUNT, "step": "confirm"})  # a first account: no check
    time.sleep(3.1)
    again = client.get(PAGE + "?change=1", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/portal/login?")
    posted = client.post(PAGE + "/account", data={"csrf": token, **ACCOUNT, "step": "confirm", "account_number": "7"})
    assert posted.url.path == "/portal/dev-idp/authorize"  # sent to sign in again, nothing changed
    query = parse_qs(posted.url.query.decode())
    assert (query["prompt"], query["max_age"]) == (["login"], ["2"])
    assert "＊＊＊＊567" in client.get(PAGE).text
    back = provider_redirect(client, str(posted.url))
    done = client.get(back.headers["location"], follow_redirects=False)
    assert done.headers["location"] == PAGE + "?change=1"
    token = csrf(client.get(PAGE + "?change=1").text)
    changed = client.post(PAGE + "/account", data={"csrf": token, **ACCOUNT, "step": "confirm", "account_number": "7"})
    assert "＊＊＊＊007" in changed.text


def test_the_provider_refuses_a_wrong_secret_a_wrong_verifier_and_a_reused_code(portal: Portal) -> None:
    client = portal.client
    start = client.get("/portal/login", params={"lg_code": A}, follow_redirects=False)
    back = provider_redirect(client, start.headers["location"])
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://testserver/portal/callback",
        "code_verifier": "not the verifier",
    }
    assert client.post("/portal/dev-idp/token", data=form, auth=("kiban-portal", "wrong")).status_code == 401
    answer = client.post(
        "/portal/dev-idp/token", data=form, auth=("kiban-portal", Settings().portal_oidc_client_secret)
    )
    assert answer.json() == {"error": "invalid_grant"}
    # The code was spent by that attempt: the real callback cannot use it any more.
    failed = client.get(back.headers["location"])
    assert failed.status_code == 401
    assert "ログインを完了できませんでした" in failed.text
    jwks = client.get("/portal/dev-idp/jwks").json()
    assert [k["kty"] for k in jwks["keys"]] == ["RSA"]
    assert "d" not in jwks["keys"][0]  # the public half only


def test_the_development_provider_is_refused_in_production(db: TestDatabase) -> None:
    production = {
        "environment": "production",
        "secret_key": "s" * 40,
        "data_keys": "k1:" + "QUFB" * 11,
        "blind_index_key": "b" * 40,
        "database_url": "postgresql+psycopg://kiban_app@127.0.0.1/kiban",
    }
    with pytest.raises(ValidationError, match="KIBAN_PORTAL_DEV_PROVIDER"):
        Settings(**production, portal_dev_provider=True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="KIBAN_PORTAL_OIDC_CLIENT_SECRET"):
        Settings(**production, portal_oidc_issuer="https://idp.example.jp")  # type: ignore[arg-type]
    settings = Settings(**production)  # type: ignore[arg-type]
    assert not settings.portal_dev_provider_enabled
    app = create_app(db.app, settings)
    with TestClient(app) as client:
        assert client.get("/portal/dev-idp/jwks").status_code == 404
        assert client.get("/portal/login", params={"lg_code": A}).status_code == 503


def test_a_resident_chooses_the_registered_public_fund_account(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        move_in(s, staff("clerk1", Role.REGISTRY), "1001", "9001")
    with db.app.tenant(A) as s:
        run(s, pl.DataFrame([resident("1001", "9001", "世帯主", date(1970, 1, 1), "exempt")]))
    with db.app.tenant(A) as s:
        code = s.scalar(select(Entitlement.confirmation_code).where(Entitlement.household_no == "9001"))
        registered = DevelopmentPublicFundAccounts().account_of(s, "1001")
    assert code is not None
    assert registered is not None
    app = create_app(db.app, Settings(environment="test"))
    app.state.portal_http = TestClient(app)
    with TestClient(app) as client:
        sign_in(client)
        token = csrf(client.get("/portal").text)
        client.post("/portal/link", data={"csrf": token, "code": code})
        page = client.get("/portal/benefits/low_income_2023/9001")
        assert "公金受取口座で受け取る" in page.text
        chosen = client.post("/portal/benefits/low_income_2023/9001/public-fund", data={"csrf": token})
        assert "確認済み" in chosen.text
    with db.app.tenant(A) as s:
        stored = s.scalar(select(Entitlement).where(Entitlement.household_no == "9001"))
    assert stored is not None
    assert (stored.bank_code, stored.account_number, stored.holder_kana) == (
        registered.bank_code,
        registered.account_number,
        "ﾔﾏﾀﾞ ﾀﾛｳ",
    )
