"""The tax screens in headless Chromium: a 税務担当 signs in (with the second factor), opens a taxpayer's 2026年度
assessment from the tax menu, reads the explanation, and runs a what-if of the 均等割."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from kiban.core.config import Settings
from kiban.core.identity import service
from kiban.core.identity.permissions import Role
from kiban.tax import declarations
from kiban.tax.service import assess_municipality
from kiban.web.app import create_app

from browser import PASSWORD, LiveServer, sign_in
from conftest import TestDatabase
from residents import A, move_in, staff

pytestmark = pytest.mark.browser
CLERK = staff("clerk1", Role.REGISTRY)
TAX = staff("tax1", Role.TAX)
FILE = "宛名番号,年度,種別,給与収入,社会保険料\n1001,2026,給与支払報告書,5000000,700000\n"


@pytest.fixture
def tax_server(sqlite_db: TestDatabase) -> Iterator[tuple[LiveServer, str]]:
    with sqlite_db.app.tenant(A) as s:
        created = service.create_user(
            s, user_id="zeimu", display_name="税務 花子", password=PASSWORD, roles=frozenset({Role.TAX})
        )
        move_in(s, CLERK, "1001", "9001")
        declarations.import_file(s, actor=TAX, data=FILE.encode())
        assess_municipality(s, actor=TAX, fiscal_year=2026)
    assert created.totp_secret is not None
    live = LiveServer(create_app(sqlite_db.app, Settings(environment="test")))
    yield live, created.totp_secret
    live.stop()


def test_open_an_assessment_and_run_a_what_if(page: Page, tax_server: tuple[LiveServer, str]) -> None:
    server, totp_secret = tax_server
    sign_in(page, server, lg_code=A, user_id="zeimu", totp_secret=totp_secret)

    page.get_by_role("navigation", name="業務メニュー").get_by_role("link", name="個人住民税").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("個人住民税")
    page.get_by_label("宛名番号").fill("1001")
    page.get_by_role("button", name="課税内容を表示").click()

    # 給与所得 356万 − (社会保険料 70万 + 基礎控除 43万) = 243万; 所得割 6% 145,800 − 調整控除 1,500 → 144,300
    assessment = page.get_by_test_id("assessment")
    expect(assessment).to_contain_text("課税")
    expect(assessment).to_contain_text("144,300円")
    expect(page.get_by_test_id("trace").locator('tr[data-name="taxable_income"]')).to_contain_text("2,430,000")

    page.goto(server.url + "/tax/what-if")
    page.get_by_label("パラメータ").select_option("resident_tax.per_capita.municipal")
    page.get_by_label("変更後の値").fill("３５００")
    page.get_by_role("button", name="計算する").click()
    per_capita = page.get_by_test_id("changes").get_by_role("row").filter(has_text="per_capita")
    expect(per_capita).to_contain_text("1人")
    expect(per_capita).to_contain_text("4,500円")
