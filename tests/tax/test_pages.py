"""Tax pages and API: a person's assessment with its explanation, the 納税通知書, and the what-if, on SQLite and
PostgreSQL; refused without the tax role and blind to other municipalities."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from kiban.core.identity.permissions import Role
from kiban.tax import declarations
from kiban.tax.service import assess_municipality

from residents import A, move_in, staff
from web_site import Site

CLERK = staff("clerk1", Role.REGISTRY)
TAX = staff("tax1", Role.TAX)
FILE = (
    "宛名番号,年度,種別,給与収入,社会保険料\n"
    "1001,2026,給与支払報告書,5000000,700000\n"
    "1002,2026,給与支払報告書,1000000,\n"
)
PARAMETER = "resident_tax.per_capita.municipal"


def _assessed_town(site: Site) -> None:
    with site.db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001")
        move_in(s, CLERK, "1002", "9001", given_name="花子", given_name_kana="ハナコ", sex="female", relationship="妻")
        declarations.import_file(s, actor=TAX, data=FILE.encode())
        assess_municipality(s, actor=TAX, fiscal_year=2026)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_persons_assessment_is_explained_and_its_notice_printed(site: Site) -> None:
    _assessed_town(site)
    client = site.login("a_all")
    page = client.get("/tax/persons/1001", params={"fiscal_year": "2026"})
    assert page.status_code == 200
    # 給与所得 356万 − (社会保険料 70万 + 基礎 43万 + 配偶者 33万) = 課税所得 210万 (令和8年度: 妻の給与所得 35万)
    assert "2,100,000円" in page.text
    assert 'data-name="spouse_deduction"' in page.text
    assert "地方税法第314条の2第1項第10号" in page.text
    assert "課税資料が賦課計算の後に変わっています" not in page.text
    pdf = client.get("/tax/persons/1001/notice.pdf", params={"fiscal_year": "2026"})
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace(" ", "")
    assert "令和8年度" in text
    assert "山田太郎" in text
    trace = client.get("/api/v1/tax/persons/1001/explain", params={"fiscal_year": 2026}).json()
    by_name = {t["name"]: t for t in trace}
    assert by_name["taxable_income"]["value"] == 2_100_000
    assert by_name["basic_deduction"]["parameters"]["resident_tax.basic_deduction.amount"] == 430_000
    assert client.get("/api/v1/tax/persons/9999/explain", params={"fiscal_year": 2026}).status_code == 404


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_what_if_over_the_municipality(site: Site) -> None:
    _assessed_town(site)
    client = site.login("a_all")
    body = {"fiscal_year": 2026, "changes": {PARAMETER: "4000"}}
    result = client.post("/api/v1/tax/what-if", json=body).json()
    per_capita = next(c for c in result["changes"] if c["target"] == "per_capita")
    assert (per_capita["changed"], per_capita["total_before"], per_capita["total_after"]) == (1, 4_000, 5_000)
    assert result["first_changed"] == ["1001"]
    page = client.post(
        "/tax/what-if",
        data={"fiscal_year": "2026", "parameter": "resident_tax.per_capita.municipal", "value": "４０００"},
    )
    assert page.status_code == 200
    assert 'data-testid="changes"' in page.text
    bad = client.post("/tax/what-if", data={"fiscal_year": "2026", "parameter": PARAMETER, "value": "多め"})
    assert bad.status_code == 422
    assert "半角数字" in bad.text


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_tax_pages_need_the_tax_role_and_see_only_their_municipality(site: Site) -> None:
    _assessed_town(site)
    school = site.login("a_school")
    assert school.get("/tax/persons/1001", params={"fiscal_year": "2026"}).status_code == 403
    other = site.login("b_all")
    assert other.get("/tax/persons/1001", params={"fiscal_year": "2026"}).status_code == 404
    assert other.get("/tax", params={"fiscal_year": "2026"}).status_code == 200
