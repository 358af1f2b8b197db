"""A 世帯主変更 in headless Chromium: a 住民記録担当 signs in (with the second factor), opens a household from a
resident's record, names the new head and the former head's 続柄, and sees both on the new head's record."""

from __future__ import annotations

from collections.abc import Iterator

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
def household_server(sqlite_db: TestDatabase) -> Iterator[tuple[LiveServer, str]]:
    """山田 太郎 (1001, 世帯主) and 花子 (1002, 妻) in household 9001."""
    with sqlite_db.app.tenant(A) as s:
        created = service.create_user(
            s, user_id="clerk", display_name="住民 記録子", password=PASSWORD, roles=frozenset({Role.REGISTRY})
        )
        move_in(s, CLERK, "1001", "9001")
        move_in(s, CLERK, "1002", "9001", given_name="花子", given_name_kana="ハナコ", sex="女", relationship="妻")
    assert created.totp_secret is not None
    live = LiveServer(create_app(sqlite_db.app, Settings(environment="test")))
    yield live, created.totp_secret
    live.stop()


def test_change_the_head_of_a_household(page: Page, household_server: tuple[LiveServer, str]) -> None:
    server, totp_secret = household_server
    sign_in(page, server, lg_code=A, user_id="clerk", totp_secret=totp_secret)

    page.goto(server.url + "/registry/persons/1001")
    page.get_by_role("link", name="世帯番号 9001").click()
    expect(page.get_by_test_id("head")).to_contain_text("山田　太郎")
    page.get_by_role("link", name="世帯主変更を登録する").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("世帯主変更の登録")
    page.get_by_label("異動日（世帯主が替わった日）").fill("令和８年１０月１日")
    page.get_by_label("新しい世帯主").select_option(label="山田　花子（宛名番号 1002）")
    page.get_by_role("button", name="世帯主変更を登録する").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "これまでの世帯主（1001）の新しい世帯主との続柄を入力してください"
    )
    expect(page.get_by_label("山田　太郎の続柄")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("異動日（世帯主が替わった日）")).to_have_value("令和８年１０月１日")
    page.get_by_label("山田　太郎の続柄").fill("夫")
    page.get_by_role("button", name="世帯主変更を登録する").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("山田　花子")
    expect(page.get_by_role("status")).to_contain_text("世帯主変更を記録しました")
    expect(page.get_by_test_id("person")).to_contain_text("世帯番号 9001（続柄：世帯主）")
    changed = page.get_by_test_id("timeline").get_by_role("row").filter(has_text="世帯主変更")
    expect(changed).to_contain_text("令和8年10月1日")
    expect(changed).to_contain_text("続柄：宛名番号 1001 は夫")
    page.get_by_role("link", name="世帯番号 9001").click()
    expect(page.get_by_test_id("head")).to_contain_text("山田　花子")
    expect(page.get_by_test_id("members")).to_contain_text("夫")
