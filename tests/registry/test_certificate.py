"""住民票の写し as PDF: what it states (read back from the PDF's text), for one person or a household, the optional
items, 個人番号 only when asked by staff allowed to, the audit of every issue, and tenancy; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pypdf
import pytest

from kiban.core.audit.service import entries
from kiban.core.errors import InputError, NotFound, PermissionDenied
from kiban.core.identity.permissions import Role
from kiban.core.pdf import FONT_ENV, FontMissing, font_path
from kiban.registry import service
from kiban.registry.certificate import resident_copy_pdf

from conftest import TestDatabase
from residents import SAPPORO, TODAY, A, B, move_in, staff

CLERK = staff("clerk1", Role.REGISTRY)
SCHOOL = staff("school1", Role.SCHOOL)
B_CLERK = staff("clerk-b", Role.REGISTRY, B)
MY_NUMBER = "123456789018"
RESIDENT_CODE = "12345678903"


def _text(pdf: bytes) -> str:
    """The PDF's text with every kind of space removed (the extraction turns 全角 spaces and line ends into spaces)."""
    assert pdf.startswith(b"%PDF-")
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))


def _household(db: TestDatabase) -> None:
    """山田 household 9001 on 千代田1-1: 太郎 (head), 花子 (妻), 一郎 (子), and 次郎 (子) who moved out; 佐藤 lives
    alone in 9002."""
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001", my_number=MY_NUMBER, resident_code=RESIDENT_CODE)
        move_in(
            s,
            CLERK,
            "1002",
            "9001",
            given_name="花子",
            given_name_kana="ハナコ",
            birth_date=date(1982, 3, 15),
            sex="女",
            relationship="妻",
        )
        move_in(
            s,
            CLERK,
            "1003",
            "9001",
            given_name="一郎",
            given_name_kana="イチロウ",
            birth_date=date(2010, 7, 7),
            relationship="子",
        )
        move_in(
            s,
            CLERK,
            "1004",
            "9001",
            given_name="次郎",
            given_name_kana="ジロウ",
            birth_date=date(2012, 1, 9),
            relationship="子",
        )
        service.register_move_out(
            s, actor=CLERK, person_no="1004", effective_date=date(2025, 3, 31), destination="北海道札幌市", today=TODAY
        )
        move_in(s, CLERK, "2001", "9002", family_name="佐藤", family_name_kana="サトウ", birth_date=date(1975, 1, 2))


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_copy_of_one_person_states_their_record(db: TestDatabase) -> None:
    _household(db)
    with db.app.tenant(A) as s:
        text = _text(resident_copy_pdf(s, actor=CLERK, person_no="1001", today=TODAY))
    assert "住民票（写し）" in text
    assert "山田太郎" in text
    assert "ヤマダタロウ" in text
    assert "住所東京都千代田区千代田1-1" in text
    assert "世帯主山田太郎" in text
    assert "生年月日昭和55年5月1日" in text
    assert "性別男" in text
    assert "住民となった日令和2年4月1日" in text
    assert "この写しは、住民票の原本と相違ないことを証明する。令和8年11月1日東京都千代田区長" in text
    for absent in ("花子", "一郎", "次郎", "佐藤", "続柄世帯主", RESIDENT_CODE, MY_NUMBER):
        assert absent not in text, absent
    assert "（続柄・住民票コード・個人番号の記載は省略しています。）" in text


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_household_copy_lists_every_member_on_the_date(db: TestDatabase) -> None:
    _household(db)
    with db.app.tenant(A) as s:
        now = _text(
            resident_copy_pdf(
                s, actor=CLERK, person_no="1002", household=True, items={"relationship", "resident_code"}, today=TODAY
            )
        )
        before_move_out = _text(
            resident_copy_pdf(s, actor=CLERK, person_no="1003", household=True, today=date(2025, 3, 30))
        )
    names = ["山田太郎", "山田花子", "山田一郎"]
    assert all(name in now for name in names)
    assert [now.index(name) for name in names] == sorted(now.index(name) for name in names), "head first"
    assert "次郎" not in now, "moved out on 2025-03-31"
    assert "佐藤" not in now, "another household"
    assert "続柄世帯主" in now
    assert "続柄妻" in now
    assert now.count("続柄子") == 1
    assert f"住民票コード{RESIDENT_CODE}" in now
    assert "生年月日昭和57年3月15日" in now
    assert "生年月日平成22年7月7日" in now
    assert "個人番号の記載は省略しています" in now
    assert "山田次郎" in before_move_out, "still a member the day before"
    assert "生年月日平成24年1月9日" in before_move_out
    assert "令和7年3月30日東京都千代田区長" in before_move_out


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_my_number_only_when_asked_by_staff_allowed_to(db: TestDatabase) -> None:
    _household(db)
    with db.app.tenant(A) as s:
        assert MY_NUMBER not in _text(resident_copy_pdf(s, actor=CLERK, person_no="1001", today=TODAY))
        assert MY_NUMBER not in _text(resident_copy_pdf(s, actor=SCHOOL, person_no="1001", today=TODAY))
        asked = _text(resident_copy_pdf(s, actor=CLERK, person_no="1001", my_number=True, today=TODAY))
        assert f"個人番号{MY_NUMBER}" in asked
        assert "個人番号の記載は省略" not in asked
        issued = [e for e in entries(s, lg_code=A) if e.action == "registry.certificate.issue"]
        assert [(e.subject, e.actor, json.loads(e.detail or "{}")["my_number"]) for e in reversed(issued)] == [
            ("1001", "clerk1", False),
            ("1001", "school1", False),
            ("1001", "clerk1", True),
        ]
        assert json.loads(issued[0].detail or "{}")["persons"] == ["1001"]
        assert all(MY_NUMBER not in (e.detail or "") for e in entries(s, lg_code=A))
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match=r"my_number\.read"):
        resident_copy_pdf(s, actor=SCHOOL, person_no="1001", my_number=True, today=TODAY)
    with db.app.tenant(A) as s:
        newest = entries(s, lg_code=A, limit=1)[0]
        assert (newest.action, newest.outcome, newest.actor) == ("registry.certificate.my_number", "denied", "school1")


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_other_tenants_people_absent_and_bad_requests_refused(db: TestDatabase) -> None:
    _household(db)
    with db.app.tenant(B) as s:
        move_in(s, B_CLERK, "5001", "9501", **SAPPORO)
        assert "北海道札幌市中央区大通西3丁目1番地" in _text(
            resident_copy_pdf(s, actor=B_CLERK, person_no="5001", today=TODAY)
        )
    with db.app.tenant(A) as s:
        with pytest.raises(NotFound, match="5001"):
            resident_copy_pdf(s, actor=CLERK, person_no="5001", today=TODAY)
        with pytest.raises(PermissionDenied):
            resident_copy_pdf(s, actor=B_CLERK, person_no="1001", today=TODAY)
        with pytest.raises(InputError, match="転出"):
            resident_copy_pdf(s, actor=CLERK, person_no="1004", today=TODAY)
        with pytest.raises(InputError, match="まだ記録されていません"):
            resident_copy_pdf(s, actor=CLERK, person_no="1001", today=date(2020, 3, 31))
        with pytest.raises(InputError, match="honseki"):
            resident_copy_pdf(s, actor=CLERK, person_no="1001", items={"honseki"}, today=TODAY)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_foreign_resident_states_nationality_and_on_request_status(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        move_in(
            s,
            CLERK,
            "3001",
            "9301",
            family_name="SMITH",
            given_name="JOHN",
            family_name_kana="スミス",
            given_name_kana="ジョン",
            nationality="USA",
            residence_status="技術・人文知識・国際業務",
            residence_until=date(2028, 3, 31),
        )
        short = _text(resident_copy_pdf(s, actor=CLERK, person_no="3001", today=TODAY))
        full = _text(resident_copy_pdf(s, actor=CLERK, person_no="3001", items={"residence"}, today=TODAY))
    assert "SMITHJOHN" in short
    assert "国籍・地域USA" in short
    assert "技術・人文知識・国際業務" not in short
    assert "（続柄・住民票コード・在留資格・在留期間の満了の日・個人番号の記載は省略しています。）" in short
    assert "在留資格技術・人文知識・国際業務" in full
    assert "在留期間の満了の日令和10年3月31日" in full


def test_font_is_found_or_explained(tmp_path: Path) -> None:
    font = tmp_path / "font.ttf"
    font.write_bytes(b"not really a font")
    assert font_path({FONT_ENV: str(font)}) == font
    with pytest.raises(FontMissing, match=FONT_ENV):
        font_path({FONT_ENV: str(tmp_path / "missing.ttf")})
    with pytest.raises(FontMissing, match="fonts-ipaexfont"):
        font_path({}, candidates=[str(tmp_path / "none.ttf")])
    assert font_path({}, candidates=[str(tmp_path / "none.ttf"), str(font)]) == font
