"""The benefit and payment screens in headless Chromium, end to end: a 福祉・給付担当 runs the eligibility from the
dashboard and sees its difference, finds a household, records its paper 確認書 (a wrong account first, with the
error beside the field); a 起票者 makes the batch; a 承認者 sees every line and approves; the 起票者 issues and
downloads the 全銀 file and uploads the bank's result; the reconciliation shows the 振込不能 line, and the
household's payment history shows it too; after the approval the program's progress shows the households in the
承認済み stage and lists them. And a paper reply giving an account another household already gave: the
household's page says why it is held, the dashboard lists it, and the 福祉・給付担当 clears it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kiban.core.config import Settings
from kiban.core.identity import service
from kiban.core.identity.permissions import Role
from kiban.payments import zengin
from kiban.web.app import create_app

from benefit_town import PROGRAM, registered_town
from browser import PASSWORD, LiveServer, sign_in
from conftest import TestDatabase
from residents import A

pytestmark = pytest.mark.browser
USERS = {"kyufu": Role.WELFARE, "kihyo": Role.PAYMENT_MAKER, "shonin": Role.PAYMENT_CHECKER}


@pytest.fixture
def benefit_server(sqlite_db: TestDatabase) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    secrets = {}
    with sqlite_db.app.tenant(A) as s:
        registered_town(s, 4, children={1: 2}, taxable=1)
        for user_id, role in USERS.items():
            created = service.create_user(
                s, user_id=user_id, display_name=f"{user_id} 職員", password=PASSWORD, roles=frozenset({role})
            )
            assert created.totp_secret is not None
            secrets[user_id] = created.totp_secret
    live = LiveServer(create_app(sqlite_db.app, Settings(environment="test")))
    yield live, secrets
    live.stop()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()


def fill_account(page: Page, bank: str, number: str, holder: str, branch: str = "123") -> None:
    page.get_by_label("金融機関コード").fill(bank)
    page.get_by_label("支店コード").fill(branch)
    page.get_by_label("預金種目").select_option("1")
    page.get_by_label("口座番号").fill(number)
    page.get_by_label("口座名義（カナ）").fill(holder)
    page.get_by_role("button", name="確認書を受け付ける").click()


def test_from_eligibility_to_reconciliation(
    page: Page, benefit_server: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    server, secrets = benefit_server
    sign_in(page, server, lg_code=A, user_id="kyufu", totp_secret=secrets["kyufu"])
    page.get_by_role("navigation", name="業務メニュー").get_by_role("link", name="給付金", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("給付金")
    page.get_by_role("link", name="令和5年度 住民税非課税世帯等に対する給付（低所得世帯支援）").click()
    page.get_by_role("button", name="判定を実行する").click()
    added = page.get_by_test_id("diff-added")
    expect(added.get_by_role("row")).to_have_count(4)  # header + 9001, 9002, 9003 (9000 is taxed)
    expect(added.get_by_role("row").filter(has_text="9001")).to_contain_text("170,000円")
    expect(page.get_by_test_id(f"stages-{PROGRAM}").locator('tr[data-stage="eligible"]')).to_contain_text("310,000円")

    for household, head, number in (("9001", "1001", "1234567"), ("9002", "1002", "7654321")):
        page.goto(f"{server.url}/benefits/{PROGRAM}")
        page.get_by_label("世帯番号または宛名番号").fill(head)
        page.get_by_role("button", name="検索する").click()
        page.get_by_test_id("results").get_by_role("link", name=household).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"世帯番号 {household} の給付")
        if household == "9001":
            expect(page.get_by_test_id("amounts")).to_contain_text("100,000円")  # こども加算 2 × 50,000
            fill_account(page, "12", number, "ヤマダ タロウ")
            expect(page.get_by_test_id("error-bank_code")).to_contain_text("4桁の半角数字")
            expect(page.get_by_label("金融機関コード")).to_have_attribute("aria-invalid", "true")
            expect(page.get_by_test_id("error-account_number")).to_have_count(0)
        fill_account(page, "0005", number, "ヤマダ タロウ")
        expect(page.get_by_test_id("saved")).to_be_visible()
        expect(page.get_by_test_id("account")).to_contain_text(f"＊＊＊＊{number[-3:]}")
        expect(page.get_by_test_id("status")).to_have_text("支給決定（口座確認済み）")
    sign_out(page)

    sign_in(page, server, lg_code=A, user_id="kihyo", totp_secret=secrets["kihyo"])
    page.get_by_role("navigation", name="業務メニュー").get_by_role("link", name="給付金の支払").click()
    page.get_by_label("給付事業").select_option(PROGRAM)
    page.get_by_label("振込指定日").fill("2026-12-01")
    page.get_by_role("button", name="支払バッチを作る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("支払バッチ 1")
    expect(page.get_by_role("button", name="この内容で承認する")).to_have_count(0)  # 起票者 cannot approve
    sign_out(page)

    sign_in(page, server, lg_code=A, user_id="shonin", totp_secret=secrets["shonin"])
    page.goto(server.url + "/payments")
    page.get_by_test_id("batches").get_by_role("link", name="1", exact=True).click()
    lines = page.get_by_test_id("lines").locator("tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("170,000円")
    expect(lines.nth(1)).to_contain_text("＊＊＊＊321")
    expect(page.get_by_test_id("total")).to_have_text("240,000円")
    page.get_by_role("button", name="この内容で承認する").click()
    expect(page.get_by_test_id("done")).to_contain_text("承認しました")
    expect(page.get_by_test_id("approval")).to_contain_text("shonin が承認済み")
    # the program's progress in every stage: the approved batch, the household not yet notified
    page.goto(f"{server.url}/benefits/{PROGRAM}")
    page.get_by_test_id("progress-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("支給の進捗")
    stages = page.get_by_test_id(f"stages-{PROGRAM}")
    expect(stages.locator('tr[data-stage="approved"]')).to_contain_text("2世帯")
    expect(stages.locator('tr[data-stage="approved"]')).to_contain_text("240,000円")
    expect(stages.locator('tr[data-stage="unnotified"]')).to_contain_text("70,000円")
    expect(stages.locator('tr[data-stage="awaiting_approval"]')).to_contain_text("0世帯")
    expect(page.get_by_test_id("paid-share")).to_contain_text("0.0%")
    stages.locator('tr[data-stage="approved"]').get_by_role("link", name="2世帯").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("承認済みの世帯")
    expect(page.get_by_test_id("stage-households").locator("tbody tr")).to_have_count(2)
    sign_out(page)

    sign_in(page, server, lg_code=A, user_id="kihyo", totp_secret=secrets["kihyo"])
    page.goto(server.url + "/payments/1")
    for label, value in (
        ("委託者コード", "1234567890"),
        ("委託者名", "チヨダク"),
        ("仕向銀行番号", "0001"),
        ("仕向銀行名", "ﾐｽﾞﾎ"),
        ("仕向支店番号", "001"),
        ("仕向支店名", "ﾄｳｷﾖｳ"),
        ("仕向預金種目", "1"),
        ("仕向口座番号", "1234567"),
    ):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="全銀ファイルを発行する").click()
    expect(page.get_by_test_id("done")).to_contain_text("全銀ファイルを発行しました")
    with page.expect_download() as download:
        page.get_by_role("link", name="全銀ファイルをダウンロード").click()
    issued = Path(download.value.path()).read_bytes()
    parsed = zengin.parse(issued)
    assert (parsed.count, parsed.total) == (2, 240_000)
    result = tmp_path / "result.txt"
    result.write_bytes(zengin.bank_result(issued, {"0001000002": "2"}))  # the bank: 9002 取引なし
    page.get_by_label("振込結果ファイル").set_input_files(result)
    page.get_by_role("button", name="振込結果を取り込む").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("支払バッチ 1 の照合")
    expect(page.get_by_test_id("balanced")).to_be_visible()
    expect(page.get_by_test_id("totals").locator('tr[data-row="paid"]')).to_contain_text("170,000円")
    failed = page.get_by_test_id("failed").locator("tbody tr")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("9002")
    expect(failed).to_contain_text("取引なし")
    expect(failed).to_contain_text("振込不能（口座の再確認が必要）")
    failed.get_by_role("link", name="9002").click()
    expect(page.get_by_test_id("status")).to_have_text("振込不能（口座の再確認が必要）")
    page.get_by_role("link", name="支払の履歴（支払バッチごとの振込）を見る").click()
    expect(page.get_by_test_id("payment-history").locator("tbody tr")).to_contain_text("振込不能")


def open_household(page: Page, server: LiveServer, household: str, head: str) -> None:
    page.goto(f"{server.url}/benefits/{PROGRAM}")
    page.get_by_label("世帯番号または宛名番号").fill(head)
    page.get_by_role("button", name="検索する").click()
    page.get_by_test_id("results").get_by_role("link", name=household).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"世帯番号 {household} の給付")


def test_a_shared_account_is_held_shown_and_cleared(
    page: Page, benefit_server: tuple[LiveServer, dict[str, str]]
) -> None:
    server, secrets = benefit_server
    sign_in(page, server, lg_code=A, user_id="kyufu", totp_secret=secrets["kyufu"])
    page.goto(f"{server.url}/benefits/{PROGRAM}")
    page.get_by_role("button", name="判定を実行する").click()
    expect(page.get_by_test_id("run-result")).to_be_visible()

    open_household(page, server, "9001", "1001")
    fill_account(page, "0005", "5555555", "ヤマダ タロウ")
    expect(page.get_by_test_id("status")).to_have_text("支給決定（口座確認済み）")
    expect(page.get_by_test_id("bank")).to_have_text("0005 三菱ＵＦＪ／123 横浜中山")

    open_household(page, server, "9002", "1002")
    fill_account(page, "0005", "5555555", "スズキ ハナコ", branch="999")  # a branch 三菱ＵＦＪ does not have
    expect(page.get_by_test_id("error-branch_code")).to_contain_text("三菱ＵＦＪにこの支店コードは見つかりません")
    expect(page.get_by_label("支店コード")).to_have_attribute("aria-invalid", "true")
    fill_account(page, "0005", "5555555", "スズキ ハナコ")  # the account 9001 gave
    expect(page.get_by_test_id("saved")).to_contain_text("支払を止めています")
    review = page.get_by_test_id("review")
    expect(review).to_contain_text("口座の確認が必要です")
    expect(review.get_by_test_id("review-reason")).to_contain_text("0005-123 普通 5555555")
    expect(review.get_by_test_id("review-reason")).to_contain_text("世帯番号 9001")
    expect(page.get_by_test_id("status")).to_have_text("要確認")

    page.goto(f"{server.url}/benefits")  # the dashboard's count lists the households in review
    page.get_by_test_id(f"stages-{PROGRAM}").locator('tr[data-stage="needs_review"]').get_by_role("link").click()
    results = page.get_by_test_id("results").locator("tbody tr")
    expect(results.filter(has=page.get_by_test_id("review-marker"))).to_have_count(2)  # 9001 is held as well
    results.filter(has_text="9002").get_by_role("link", name="9002").click()

    page.get_by_role("button", name="確認を解除する（支払を認める）").click()  # without a reason
    expect(page.get_by_test_id("error-reason")).to_contain_text("確認した書類と内容")
    expect(page.get_by_label("解除の理由")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("解除の理由").fill("9001・9002とも成年後見人の口座であることを登記事項証明書で確認")
    page.get_by_role("button", name="確認を解除する（支払を認める）").click()
    expect(page.get_by_test_id("cleared")).to_contain_text("口座の確認を解除しました")
    expect(page.get_by_test_id("review")).to_have_count(0)
    expect(page.get_by_test_id("status")).to_have_text("支給決定（口座確認済み）")
