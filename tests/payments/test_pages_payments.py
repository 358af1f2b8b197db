"""Payment pages and API: a 起票者 makes a batch, the 承認者 sees every line (its bank and branch named) and approves
the hash they saw (the 起票者 is refused in Japanese), the file is issued once and downloaded, the bank's result is
uploaded and the reconciliation shows the 振込不能 line; on SQLite and PostgreSQL; refused without the payment
permissions."""

from __future__ import annotations

import re

import pytest

from kiban.benefits.population import population_of
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import confirm, run_eligibility
from kiban.core.identity.permissions import Role
from kiban.payments import zengin

from benefit_town import PROGRAM, WELFARE, account, add_user, registered_town
from web_site import Site

A = "131016"
SENDER_FORM = {
    "client_code": "1234567890",
    "client_name": "チヨダク",
    "bank_code": "0001",
    "bank_name": "ﾐｽﾞﾎ",
    "branch_code": "001",
    "branch_name": "ﾄｳｷﾖｳ",
    "account_type": "1",
    "account_number": "1234567",
}


def confirmed_town(site: Site) -> None:
    """Households 9001 (170,000 yen), 9002 and 9003 (70,000 each) confirmed with an account; 9000 is taxed."""
    with site.db.app.tenant(A) as s:
        registered_town(s, 4, children={1: 2}, taxable=1)
        inputs = population_of(s, actor=WELFARE, program=PROGRAMS[PROGRAM])
        run_eligibility(
            s, actor=WELFARE, program_code=PROGRAM, residents=inputs.residents, parameters=inputs.parameters
        )
        for i in (1, 2, 3):
            confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=str(9000 + i), account=account(i))


def _hash(html: str) -> str:
    found = re.search(r'name="seen_hash" value="([0-9a-f]{64})"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_make_approve_issue_settle_and_reconcile(site: Site) -> None:
    confirmed_town(site)
    add_user(site, "checker", Role.PAYMENT_CHECKER)
    add_user(site, "maker", Role.PAYMENT_MAKER)

    both = site.login("a_all")  # holds the maker's and the checker's roles
    sunday = both.post("/payments", data={"program": PROGRAM, "transfer_date": "2026-11-29"})
    assert sunday.status_code == 422
    assert "銀行営業日" in sunday.text
    made = both.post("/payments", data={"program": PROGRAM, "transfer_date": "令和8年12月1日"}, follow_redirects=False)
    assert (made.status_code, made.headers["location"]) == (303, "/payments/1")
    own = both.post("/payments/1/approve", data={"seen_hash": _hash(both.get("/payments/1").text)})
    assert own.status_code == 403
    assert re.search(r'data-testid="refusal"><p>[^<]*同じ職員は承認できません', own.text)

    checker = site.login("checker")
    page = checker.get("/payments/1").text
    lines = re.search(r'data-testid="lines">(.*?)</table>', page, re.S)
    assert lines is not None
    assert re.findall(r'<tr data-line="(\d+)">', lines.group(1)) == ["1", "2", "3"]
    assert lines.group(1).count("＊＊＊＊") == 3
    assert "0000001" not in lines.group(1)  # account numbers masked
    assert lines.group(1).count("<td>0005 三菱ＵＦＪ／123 横浜中山</td>") == 3  # codes with their 全銀協 names
    assert "170,000円" in lines.group(1)
    assert "310,000円" in page
    assert "ﾔﾏﾀﾞ ﾀﾛｳ" in page
    stale = checker.post("/payments/1/approve", data={"seen_hash": "0" * 64})
    assert stale.status_code == 422
    assert "明細が確認後に変更されています" in stale.text
    approved = checker.post("/payments/1/approve", data={"seen_hash": _hash(page)}, follow_redirects=False)
    assert approved.status_code == 303
    assert "承認しました" in checker.get(approved.headers["location"]).text
    assert checker.post("/payments/1/file", data=SENDER_FORM).status_code == 403  # 承認者 do not issue

    maker = site.login("maker")
    wrong = maker.post("/payments/1/file", data={**SENDER_FORM, "client_code": "abc"})
    assert wrong.status_code == 422
    assert re.search(r'id="client_code-error">委託者コード：「abc」', wrong.text)
    issued = maker.post("/payments/1/file", data=SENDER_FORM, follow_redirects=False)
    assert issued.status_code == 303
    again = maker.post("/payments/1/file", data=SENDER_FORM)
    assert again.status_code == 422
    assert "発行済み" in again.text
    download = maker.get("/payments/1/file")
    parsed = zengin.parse(download.content)
    assert (parsed.count, parsed.total) == (3, 310_000)
    assert download.headers["x-content-sha256"] in maker.get("/payments/1").text

    result = zengin.bank_result(download.content, {"0001000002": "2"})  # line 2 (9002): 取引なし
    uploaded = maker.post("/payments/1/result", files={"file": ("result.txt", result, "text/plain")})
    assert uploaded.status_code == 200
    assert "2：取引なし" in uploaded.text  # the bank's reason, shown as imported
    report = maker.get("/payments/1/reconciliation").text
    assert 'data-testid="balanced"' in report
    for row, expected in (
        ("approved", "3件 310,000円"),
        ("trailer", "3件 310,000円"),
        ("paid", "2件 240,000円"),
        ("failed", "1件 70,000円"),
    ):
        found = re.search(rf'<tr data-row="{row}">(.*?)</tr>', report, re.S)
        assert found is not None
        assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip().endswith(expected), row
    failed = re.search(r'data-testid="failed">(.*?)</table>', report, re.S)
    assert failed is not None
    assert ">9002</a>" in failed.group(1)
    assert "振込不能（口座の再確認が必要）" in failed.group(1)
    twice = maker.post("/payments/1/result", files={"file": ("result.txt", result, "text/plain")})
    assert twice.status_code == 422
    assert "取り込み済み" in twice.text

    listed = maker.get("/api/v1/payments").json()
    assert [(b["batch_no"], b["stage"], b["lines_by_status"]) for b in listed] == [
        (1, "settled", {"paid": 2, "failed": 1})
    ]
    api_lines = maker.get("/api/v1/payments/1").json()
    assert [
        (x["household_no"], x["account_number"], x["amount"], x["entitlement_amount"]) for x in api_lines["lines"]
    ] == [
        ("9001", "＊＊＊＊001", 170_000, 170_000),
        ("9002", "＊＊＊＊002", 70_000, 70_000),
        ("9003", "＊＊＊＊003", 70_000, 70_000),
    ]
    assert api_lines["approved_hash"] == api_lines["content_hash"]
    api_report = maker.get("/api/v1/payments/1/reconciliation").json()
    assert api_report["balanced"] is True
    assert api_report["trailer"] == {"count": 3, "amount": 310_000}
    assert [(x["household_no"], x["entitlement_status"]) for x in api_report["failed_lines"]] == [("9002", "failed")]

    # 9002 gives a new account and is paid in the next batch: its history holds both lines
    with site.db.app.tenant(A) as s:
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no="9002", account=account(22))
    assert maker.post("/payments", data={"program": PROGRAM, "transfer_date": "2026-12-02"}).status_code == 200
    history = maker.get(f"/payments/households/{PROGRAM}/9002").text
    rows = re.search(r'data-testid="payment-history">(.*?)</table>', history, re.S)
    assert rows is not None
    assert re.findall(r'<a href="/payments/(\d)">', rows.group(1)) == ["1", "2"]
    assert rows.group(1).index("振込不能") < rows.group(1).index("未送信")
    assert "＊＊＊＊022" in rows.group(1)
    assert rows.group(1).count("0005 三菱ＵＦＪ／123 横浜中山") == 2
    api_history = maker.get(f"/api/v1/payments/households/{PROGRAM}/9002").json()
    assert [(h["batch_no"], h["status"], h["issued"]) for h in api_history] == [
        (1, "failed", True),
        (2, "pending", False),
    ]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_payment_pages_need_the_payment_permissions(site: Site) -> None:
    confirmed_town(site)
    add_user(site, "welfare", Role.WELFARE)
    both = site.login("a_all")
    assert both.post("/payments", data={"program": PROGRAM, "transfer_date": "2026-12-01"}).status_code == 200

    school = site.login("a_school")
    history = f"/payments/households/{PROGRAM}/9001"
    for path in (
        "/payments",
        "/payments/1",
        "/payments/1/reconciliation",
        "/api/v1/payments",
        "/api/v1/payments/1",
        history,
    ):
        assert school.get(path).status_code == 403, path
    welfare = site.login("welfare")  # sees the batches, not their accounts, and makes nothing
    listed = welfare.get("/payments")
    assert listed.status_code == 200
    assert "支払バッチを作る" not in listed.text
    seen = welfare.get(history)  # the household's history (accounts masked), without the batch's lines
    assert seen.status_code == 200
    assert "＊＊＊＊001" in seen.text
    assert 'href="/payments/1"' not in seen.text
    assert welfare.get("/payments/1").status_code == 403
    assert welfare.get("/api/v1/payments/1").status_code == 403
    assert welfare.post("/payments", data={"program": PROGRAM, "transfer_date": "2026-12-01"}).status_code == 403
    assert welfare.post("/payments/1/approve", data={"seen_hash": "0" * 64}).status_code == 403
    assert welfare.get("/payments/1/file").status_code == 403
    assert site.login("b_all").get("/payments/1").status_code == 404  # 札幌市 has no batch 1
