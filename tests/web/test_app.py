"""The web skeleton: deny by default, sign-in, the tenant shown on every page, cross-tenant requests refused."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from kiban.core.http.auth import declared_permissions, undeclared_routes
from kiban.web import app as web_app
from kiban.web.app import UndeclaredRoutes, create_app

from web_site import PASSWORD, A, B, Site


def test_every_route_declares_a_permission(site: Site) -> None:
    routes = site.client.app.routes  # type: ignore[attr-defined]
    assert undeclared_routes(routes) == []
    api_routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(api_routes) >= 8
    assert all(declared_permissions(r) for r in api_routes)


def test_app_refuses_to_start_with_an_undeclared_route(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    rogue = APIRouter()

    @rogue.get("/api/v1/rogue")
    def rogue_route() -> dict[str, str]:
        return {"secret": "data"}

    monkeypatch.setattr(web_app, "ROUTERS", [*web_app.ROUTERS, rogue])
    with pytest.raises(UndeclaredRoutes, match="/api/v1/rogue"):
        create_app(site.db.app)


def test_health_and_openapi_are_public(site: Site) -> None:
    health = site.client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": site.db.backend}
    assert health.headers["x-request-id"]
    assert "/api/v1/me" in site.client.get("/openapi.json").json()["paths"]


def test_pages_need_sign_in_and_show_the_municipality(site: Site) -> None:
    response = site.client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    client = site.login("a_school")
    home = client.get("/")
    assert home.status_code == 200
    assert '<div class="tenant" data-testid="tenant-name">千代田区</div>' in home.text
    assert "教育委員会（学務）" in home.text
    assert client.get("/api/v1/me").json()["lg_code"] == A


def test_wrong_password_is_explained_without_saying_which_field(site: Site) -> None:
    form = {"lg_code": A, "user_id": "a-school", "password": "not the password"}
    response = site.client.post("/login", data=form)
    assert response.status_code == 401
    assert "団体コード、ユーザーID、パスワードのいずれかが正しくありません" in response.text
    bad_code = site.client.post("/login", data={**form, "lg_code": "131017"})
    assert bad_code.status_code == 422
    assert "検査数字" in bad_code.text


def test_api_without_credentials_is_401_and_without_permission_403(site: Site) -> None:
    assert site.client.get("/api/v1/users").status_code == 401
    site.login("a_school")
    denied = site.client.get("/api/v1/users")
    assert denied.status_code == 403
    assert "users.manage" in denied.json()["message"]


def test_second_factor_is_required_before_anything(site: Site) -> None:
    person = site.staff["a_all"]
    form = {"lg_code": A, "user_id": person.user_id, "password": "web test password 1"}
    response = site.client.post("/login", data=form, follow_redirects=False)
    assert response.headers["location"].startswith("/login/totp")
    assert site.client.get("/api/v1/me").status_code == 401


SAMPLE_PATH_VALUES = {
    "lg_code": A,
    "user_id": "a-admin",
    "person_no": "1001",
    "household_no": "9001",
    "program": "low_income_2023",
    "batch_no": "1",
}
"""Tenant A's ids for every path parameter an API route takes; a new route must add its parameter here."""
SAMPLE_QUERY = {"on": "2025-04-01", "fiscal_year": "2026"}
SAMPLE_BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/api/v1/registry/persons/{person_no}/move-within"): {
        "effective_date": "2025-04-01",
        "postal_code": "1000005",
        "pref_name": "東京都",
        "city_name": "千代田区",
        "town": "丸の内一丁目",
        "banchi": "1-1",
    },
}
"""A valid body for every API route that takes one, so that only the tenant check can refuse the call."""
NOT_TENANT_IDS = {"name", "program"}
"""Path parameters that name something shared by every tenant (a declared parameter, a benefit program), not a
tenant's record."""


def test_every_api_route_refuses_the_other_tenants_ids(site: Site) -> None:
    site.login("b_all")
    routes = [r for r in site.client.app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]  # type: ignore[attr-defined]
    called = 0
    for route in routes:
        params = [p for p in re.findall(r"{(\w+)}", route.path) if p not in NOT_TENANT_IDS]
        if not params:
            continue
        missing = [p for p in params if p not in SAMPLE_PATH_VALUES]
        assert not missing, f"add sample values for {missing} ({route.path})"
        path = route.path.format(**SAMPLE_PATH_VALUES)
        for method in route.methods or ():
            body = SAMPLE_BODIES.get((method, route.path))
            response = site.client.request(method, path, params=SAMPLE_QUERY, json=body)
            assert response.status_code in (403, 404), (method, path, response.status_code, response.text)
            assert "a-admin 職員" not in response.text
            called += 1
    assert called >= 1
    # Routes without ids answer about B only.
    users = site.client.get("/api/v1/users").json()
    assert {u["user_id"] for u in users} == {"b-all"}
    assert site.client.get("/api/v1/me").json()["lg_code"] == B


def test_a_tenant_admin_sets_a_municipal_parameter_and_it_is_audited(site: Site) -> None:
    client = site.login("a_admin")
    url = "/api/v1/parameters/resident_tax.per_capita.municipal"
    body = {"value": 3500, "effective_from": "2026-04-01", "reason": "市税条例第24条改正（超過課税）"}
    assert client.put(url, json=body).status_code == 200
    after = client.get(url, params={"on": "2026-04-01"}).json()
    before = client.get(url, params={"on": "2026-03-31"}).json()
    assert (before["value"], after["value"]) == (3000, 3500)
    assert after["shown"] == "3,500円"
    site.login("b_all")
    assert site.client.get(url, params={"on": "2026-04-01"}).json()["value"] == 3000  # 札幌市 keeps the national value
    client = site.login("a_admin")
    refused = client.put(url, json={**body, "value": 999999})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"]
    site.login("a_all")
    verify = site.client.get("/api/v1/audit/verify").json()
    assert verify["ok"] is True
    assert verify["entries"] >= 1


def test_denied_requests_are_audited(site: Site) -> None:
    site.login("a_school")
    assert site.client.get("/api/v1/users").status_code == 403
    assert site.client.get("/audit").status_code == 403
    site.login("a_all")
    page = site.client.get("/audit")
    assert page.status_code == 200
    assert "GET /api/v1/users" in page.text
    assert "拒否" in page.text
    assert "正常です" in page.text


def test_a_national_operator_sees_the_tenant_catalogue(site: Site) -> None:
    client = site.login("operator")
    tenant = client.get(f"/api/v1/tenants/{B}").json()
    assert (tenant["name"], tenant["kind"], tenant["kyuchi"]) == ("札幌市", "designated_city", 1)
    assert client.get("/api/v1/tenants/131017").status_code == 422  # wrong check digit, explained
    page = client.get("/tenants", params={"pref": "13"})
    assert "千代田区" in page.text
    assert "札幌市" not in page.text
    assert '<div class="tenant" data-testid="tenant-name">基盤運用（国）</div>' in page.text


def test_sign_out_ends_the_session_and_next_stays_on_this_site(site: Site) -> None:
    form = {"lg_code": A, "user_id": "a-school", "password": PASSWORD, "next": "//evil.example/"}
    response = site.client.post("/login", data=form, follow_redirects=False)
    assert response.headers["location"] == "/"
    assert site.client.get("/api/v1/me").status_code == 200
    site.client.post("/logout", follow_redirects=False)
    cookie = response.cookies.get("kiban_session")
    assert cookie is not None
    site.client.cookies.set("kiban_session", cookie)  # even a copy of the old cookie is dead
    assert site.client.get("/api/v1/me").status_code == 401
