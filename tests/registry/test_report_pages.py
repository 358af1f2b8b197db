"""Staff pages of the registry's outputs: the 住民票の写し form and PDF, and the population statistics page with its
SVG charts; permissions and errors as the browser sees them (both backends, through the ``site`` fixture)."""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import unquote

import pypdf

from kiban.core.identity.permissions import Role

from residents import TODAY, A, move_in, staff
from web_site import Site

CLERK = staff("clerk1", Role.REGISTRY)
MY_NUMBER = "123456789018"


def _residents(site: Site) -> None:
    with site.db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001", my_number=MY_NUMBER)
        move_in(
            s,
            CLERK,
            "1002",
            "9001",
            given_name="花子",
            given_name_kana="ハナコ",
            sex="女",
            birth_date=date(1985, 2, 3),
            relationship="妻",
            effective_date=date(2026, 2, 1),
            today=TODAY,
        )


def _pdf_text(content: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages))


def test_statistics_page_shows_tables_and_charts(site: Site) -> None:
    _residents(site)
    client = site.login("a_all")
    assert '<a href="/registry/statistics">人口統計</a>' in client.get("/").text
    page = client.get("/registry/statistics", params={"on": "令和8年3月1日"})
    assert page.status_code == 200
    assert "令和8年3月1日現在" in page.text
    assert page.text.count("<svg ") == 2
    assert 'data-chart="pyramid"' in page.text
    assert 'data-chart="moves"' in page.text
    totals = re.search(r'<table data-testid="totals"[^>]*>(.*?)</table>', page.text, re.S)
    assert totals is not None
    assert re.search(r"人口</th><td class=\"num\">2人", totals.group(1))
    assert re.search(r"世帯数</th><td class=\"num\">1世帯", totals.group(1))
    assert "<title>令和8年2月 転入：1件</title>" in page.text
    before = client.get("/registry/statistics", params={"on": "2026-01-31"})
    assert re.search(r"人口</th><td class=\"num\">1人", before.text)


def test_statistics_page_refuses_bad_dates_and_other_roles(site: Site) -> None:
    client = site.login("a_all")
    assert client.get("/registry/statistics", params={"on": "きのう"}).status_code == 422
    future = client.get("/registry/statistics", params={"on": "2999-01-01"})
    assert future.status_code == 422
    assert "以前の日付" in future.text
    client = site.login("a_admin")
    assert "/registry/statistics" not in client.get("/").text
    assert client.get("/registry/statistics").status_code == 403


def test_copy_pdf_route(site: Site) -> None:
    _residents(site)
    client = site.login("a_all")
    response = client.get("/registry/persons/1001/copy.pdf", params={"household": "1", "items": "relationship"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    disposition = response.headers["content-disposition"]
    assert 'filename="juminhyo-1001-' in disposition
    assert "住民票の写し_1001_" in unquote(disposition)
    assert response.headers["cache-control"] == "no-store"
    text = _pdf_text(response.content)
    assert "山田太郎" in text
    assert "続柄妻" in text
    assert MY_NUMBER not in text
    with_number = client.get("/registry/persons/1001/copy.pdf", params={"my_number": "1"})
    assert f"個人番号{MY_NUMBER}" in _pdf_text(with_number.content)
    checkboxes = client.get(
        "/registry/persons/1001/copy.pdf", params=[("items", "relationship"), ("items", "resident_code")]
    )
    assert checkboxes.status_code == 200
    assert client.get("/registry/persons/1001/copy.pdf", params={"items": "honseki"}).status_code == 422
    assert client.get("/registry/persons/9999/copy.pdf").status_code == 404


def test_copy_pdf_needs_the_permissions(site: Site) -> None:
    _residents(site)
    school = site.login("a_school")
    assert school.get("/registry/persons/1001/copy.pdf").status_code == 200, "school staff may read the register"
    denied = school.get("/registry/persons/1001/copy.pdf", params={"my_number": "1"})
    assert denied.status_code == 403
    assert "my_number.read" in denied.text
    admin = site.login("a_admin")
    assert admin.get("/registry/persons/1001/copy.pdf").status_code == 403
    assert admin.get("/registry/persons/1001/copy").status_code == 403
    other = site.login("b_all")
    assert other.get("/registry/persons/1001/copy.pdf").status_code == 404, "札幌市 has no such resident"


def test_copy_form_offers_what_the_user_may_ask_for(site: Site) -> None:
    _residents(site)
    form = site.login("a_all").get("/registry/persons/1001/copy")
    assert form.status_code == 200
    assert 'action="/registry/persons/1001/copy.pdf"' in form.text
    assert "山田　太郎" in form.text
    for value in ("relationship", "resident_code", "residence"):
        assert f'name="items" value="{value}"' in form.text
    assert 'name="my_number"' in form.text
    school_form = site.login("a_school").get("/registry/persons/1001/copy")
    assert 'name="my_number"' not in school_form.text
    assert "my_number.read" in school_form.text
