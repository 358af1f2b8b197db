"""The staff UI in headless Chromium: sign in, see the municipality, set a parameter, read the error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from kiban.core.config import Settings
from kiban.core.identity import service
from kiban.core.identity.permissions import Role
from kiban.web.app import create_app

from browser import PASSWORD, LiveServer
from conftest import TestDatabase

pytestmark = pytest.mark.browser


@pytest.fixture
def server(sqlite_db: TestDatabase) -> Iterator[LiveServer]:
    with sqlite_db.app.tenant("131016") as s:
        service.create_user(
            s, user_id="admin", display_name="団体 管理子", password=PASSWORD, roles=frozenset({Role.TENANT_ADMIN})
        )
    live = LiveServer(create_app(sqlite_db.app, Settings(environment="test")))
    yield live
    live.stop()


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(f"{server.url}/login?next=/")
    page.get_by_label("団体コード（6桁）").fill("１３１０１６")  # full-width digits are accepted
    page.get_by_label("ユーザーID").fill("admin")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_sign_in_shows_the_municipality_and_the_roles_menu(page: Page, server: LiveServer) -> None:
    _sign_in(page, server)
    expect(page.get_by_test_id("tenant-name")).to_have_text("千代田区")
    nav = page.get_by_role("navigation", name="業務メニュー")
    expect(nav.get_by_role("link", name="パラメータ")).to_be_visible()
    expect(nav.get_by_role("link", name="監査記録")).to_have_count(0)  # a tenant admin is not an auditor
    tokens = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--color-primitive-blue-900')")
    assert tokens.strip(), "デジタル庁 design tokens are loaded"


def test_a_tenant_admin_sets_a_parameter_and_sees_errors_in_japanese(page: Page, server: LiveServer) -> None:
    _sign_in(page, server)
    page.get_by_role("navigation", name="業務メニュー").get_by_role("link", name="パラメータ").click()
    page.get_by_role("link", name="個人市町村民税 均等割の税率").click()
    page.get_by_label("値（円）").fill("９９９９９")
    page.get_by_label("適用開始日").fill("令和8年4月1日")
    page.get_by_label("変更理由（根拠となる条例など）").fill("市税条例の改正")
    page.get_by_role("button", name="設定する").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("99999")
    expect(alert).to_contain_text("以下で入力してください")
    page.get_by_label("値（円）").fill("3,500")
    page.get_by_role("button", name="設定する").click()
    expect(page.get_by_role("status")).to_contain_text("設定しました")
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("令和8年4月1日")
    expect(history).to_contain_text("3,500円")
    expect(history).to_contain_text("市税条例の改正")
