"""The resident portal in headless Chromium at a phone's size (390×844): sign in through the development provider,
link the 確認書 with its 確認番号, see the notice, type a wrong branch and read the Japanese error next to it, correct
it, confirm, see 確認済み, and — once the fresh sign-in window has passed — be sent to sign in again to change the
account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kiban.benefits.models import Entitlement, format_confirmation_code
from kiban.core.config import Settings
from kiban.web.app import create_app

from benefit_town import household_no, in_register, run, town
from browser import LiveServer
from conftest import TestDatabase
from residents import A

pytestmark = pytest.mark.browser
FRESH_SECONDS = 3


@pytest.fixture
def portal_server(sqlite_db: TestDatabase) -> Iterator[tuple[LiveServer, str]]:
    with sqlite_db.app.tenant(A) as s:
        run(s, in_register(s, town(2, children={0: 1})))
    with sqlite_db.app.tenant(A) as s:
        code = s.scalar(select(Entitlement.confirmation_code).where(Entitlement.household_no == household_no(0)))
    assert code is not None
    settings = Settings(environment="test", portal_fresh_sign_in_seconds=FRESH_SECONDS)
    live = LiveServer(create_app(sqlite_db.app, settings))
    yield live, code
    live.stop()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True)
    opened = context.new_page()
    yield opened
    context.close()


def snapshot(page: Page, name: str) -> None:
    """Screenshots for a person to look at, when KIBAN_SCREENSHOTS names a folder."""
    folder = os.environ.get("KIBAN_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"portal-{name}.png"), full_page=True)


def sign_in_at_the_provider(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("開発用ログイン")
    page.get_by_label("デモ住民1").check()
    page.get_by_label("暗証番号（数字4桁）").fill("１２３４")
    page.get_by_role("button", name="ログインする").click()


def test_a_resident_confirms_an_account_on_a_phone(phone: Page, portal_server: tuple[LiveServer, str]) -> None:
    server, code = portal_server
    page = phone
    page.goto(server.url + "/portal")
    page.get_by_label("市区町村コード（6桁）").fill(A)
    page.get_by_role("button", name="マイナンバーカードでログイン").click()
    sign_in_at_the_provider(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("あなたの給付金")
    page.get_by_label("確認番号").fill(format_confirmation_code(code).lower())
    page.get_by_role("button", name="確認書を紐付ける").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("低所得世帯支援")
    expect(page.get_by_test_id("status")).to_have_text("対象（口座の確認をお待ちしています）")
    expect(page.get_by_test_id("benefit")).to_contain_text("120,000円")  # 7万円 + こども加算 5万円
    snapshot(page, "1-notice")

    page.get_by_label("金融機関コード（4桁）").fill("０００５")
    page.get_by_label("支店コード（3桁）").fill("999")
    page.get_by_label("口座番号（7桁以内）").fill("1234567")
    page.get_by_label("口座名義（カナ）").fill("やまだ　たろう")
    page.get_by_role("button", name="入力内容を確認する").click()
    branch = page.get_by_label("支店コード（3桁）")
    expect(branch).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#branch_code-error")).to_have_text(
        "三菱ＵＦＪにこの支店コードは見つかりません。通帳に記載の3桁の支店番号（店番）を確認してください。"
    )
    snapshot(page, "2-branch-error")

    branch.fill("123")
    page.get_by_role("button", name="入力内容を確認する").click()
    checked = page.get_by_test_id("checked-account")
    expect(checked).to_contain_text("三菱ＵＦＪ")
    expect(checked).to_contain_text("横浜中山")
    expect(checked).to_contain_text("ﾔﾏﾀﾞ ﾀﾛｳ")
    snapshot(page, "3-check")
    page.get_by_role("button", name="この口座で確定する").click()

    expect(page.get_by_test_id("status")).to_contain_text("確認済み")
    expect(page.get_by_test_id("current-account")).to_contain_text("＊＊＊＊567")
    snapshot(page, "4-confirmed")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"

    page.wait_for_timeout((FRESH_SECONDS + 1.5) * 1000)
    page.get_by_role("link", name="口座を変更する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("開発用ログイン")
    assert "prompt=login" in page.url
    sign_in_at_the_provider(page)
    expect(page.get_by_role("heading", level=2).first).to_have_text("振込先の口座")
    expect(page.get_by_label("金融機関コード（4桁）")).to_be_visible()
