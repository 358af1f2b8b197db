"""The registry screens in headless Chromium: a 住民記録担当 signs in (with the second factor), finds a resident by
kana, opens the record, registers a 転居 through the form and sees it in the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from kiban.core.config import Settings
from kiban.core.identity import service
from kiban.core.identity.permissions import Role
from kiban.web.app import create_app

from browser import PASSWORD, LiveServer, sign_in
from conftest import TestDatabase
from residents import A, move_in, staff

pytestmark = pytest.mark.browser
CLERK = staff("clerk1", Role.REGISTRY)


@pytest.fixture
def registry_server(sqlite_db: TestDatabase) -> Iterator[tuple[LiveServer, str]]:
    with sqlite_db.app.tenant(A) as s:
        created = service.create_user(
            s, user_id="clerk", display_name="住民 記録子", password=PASSWORD, roles=frozenset({Role.REGISTRY})
        )
        move_in(s, CLERK, "1001", "9001")
        move_in(s, CLERK, "1002", "9001", given_name="花子", given_name_kana="ハナコ", sex="女", relationship="妻")
        move_in(s, CLERK, "2001", "9002", family_name="鈴木", family_name_kana="スズキ", birth_date=date(1975, 1, 2))
    assert created.totp_secret is not None
    live = LiveServer(create_app(sqlite_db.app, Settings(environment="test")))
    yield live, created.totp_secret
    live.stop()


def test_find_a_resident_and_register_a_move_within(page: Page, registry_server: tuple[LiveServer, str]) -> None:
    server, totp_secret = registry_server
    sign_in(page, server, lg_code=A, user_id="clerk", totp_secret=totp_secret)

    page.get_by_role("navigation", name="業務メニュー").get_by_role("link", name="住民記録").click()
    page.get_by_label("フリガナ").fill("やまだ　た")
    page.get_by_role("button", name="検索する").click()
    results = page.get_by_test_id("results")
    expect(results.get_by_role("row")).to_have_count(2)  # the header and 山田 太郎 only
    results.get_by_role("link", name="山田　太郎").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("山田　太郎")
    expect(page.get_by_test_id("person")).to_contain_text("昭和55年5月1日")
    page.get_by_role("link", name="転居を登録する").click()
    expect(page.get_by_label("市区町村")).to_have_value("千代田区")
    page.get_by_label("異動日（転居した日）").fill("令和８年１０月１日")
    page.get_by_label("郵便番号").fill("１００－０００５")
    page.get_by_label("町域").fill("丸の内一丁目")
    page.get_by_label("番地").fill("１－１")
    page.get_by_role("button", name="転居を登録する").click()

    expect(page.get_by_role("status")).to_contain_text("転居を記録しました")
    moved = page.get_by_test_id("timeline").get_by_role("row").filter(has_text="転居")
    expect(moved).to_contain_text("令和8年10月1日")
    expect(moved).to_contain_text("〒100-0005 東京都千代田区丸の内一丁目1-1")
    expect(page.get_by_test_id("person")).to_contain_text("〒100-0005 東京都千代田区丸の内一丁目1-1")
