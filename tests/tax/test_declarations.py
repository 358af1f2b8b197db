"""Importing income declarations from the standard CSV: encodings, full-width digits, the row-level report, and
nothing written when anything is wrong."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from kiban.core.audit.service import entries
from kiban.core.errors import PermissionDenied
from kiban.core.identity.permissions import Role
from kiban.tax import declarations
from kiban.tax.assessment import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR
from kiban.tax.declarations import DeclarationFileError, RowError, decode, import_file, parse
from kiban.tax.models import IncomeDeclaration
from kiban.tax.service import declared_incomes

from conftest import TestDatabase
from residents import A, move_in, staff

CLERK = staff("clerk1", Role.REGISTRY)
TAX = staff("tax1", Role.TAX)
SCHOOL = staff("school1", Role.SCHOOL)

GOOD = (
    "宛名番号,年度,種別,給与収入,公的年金等収入,事業所得,社会保険料,生命保険料控除,障害者,寡婦\n"
    '1001,2026,給与支払報告書,"5,000,000",,,"700,000","40,000",,\n'
    "\n"
    "１００２,令和８年度,申告,,,△１２０，０００,,,特別障害者,○\n"
    '1001,2026,公的年金等支払報告書,,"600,000",,,,,\n'
)


def _town(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001")
        move_in(s, CLERK, "1002", "9001", given_name="花子", sex="female", relationship="妻")


def _stored(db: TestDatabase) -> list[tuple[int, str, str, int, int, int, str, bool]]:
    d = IncomeDeclaration
    with db.app.tenant(A) as s:
        rows = s.execute(
            select(
                d.declaration_no,
                d.person_no,
                d.source,
                d.salary_revenue,
                d.pension_revenue,
                d.business_income,
                d.disability,
                d.widow,
            ).order_by(d.declaration_no)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


EXPECTED = [
    (1, "1001", "給与支払報告書", 5_000_000, 0, 0, "none", False),
    (2, "1002", "申告", 0, 0, -120_000, "special", True),
    (3, "1001", "公的年金等支払報告書", 0, 600_000, 0, "none", False),
]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_utf8_file_with_bom_is_imported_whole_and_audited(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        stored = import_file(s, actor=TAX, data=b"\xef\xbb\xbf" + GOOD.encode("utf-8"), received_on=date(2026, 2, 1))
    assert (stored.declarations, stored.persons, stored.fiscal_years) == (3, 2, (2026,))
    assert _stored(db) == EXPECTED
    with db.app.tenant(A) as s:
        logged = [e for e in entries(s, lg_code=A) if e.action == "tax.declarations.import"]
        assert len(logged) == 1
        detail = json.loads(logged[0].detail or "{}")
        assert (detail["declarations"], detail["first_no"]) == (3, 1)
        assert detail["origin"].startswith("sha256:")


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_cp932_file_with_full_width_digits_is_imported(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        import_file(s, actor=TAX, data=GOOD.replace("\n", "\r\n").encode("cp932"))
        assert declarations.count(s, actor=TAX, fiscal_year=2026) == 3
    assert _stored(db) == EXPECTED


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_bad_file_is_reported_by_row_and_column_and_nothing_is_written(db: TestDatabase) -> None:
    _town(db)
    bad = (
        "宛名番号,年度,種別,給与収入,事業所得,勤労学生\n"
        "1001,2026,給与支払報告書,5000000,,\n"
        "1002,2031,年末調整,12.5万,abc,はいはい\n"
        "10a1,2026,申告,,,\n"
        "1001,2026,申告\n"
    )
    with db.app.tenant(A) as s, pytest.raises(DeclarationFileError) as refused:
        import_file(s, actor=TAX, data=bad.encode("cp932"))
    assert [(e.row, e.column, e.received) for e in refused.value.rows] == [
        (3, "年度", "2031"),
        (3, "種別", "年末調整"),
        (3, "給与収入", "12.5万"),
        (3, "事業所得", "abc"),
        (3, "勤労学生", "はいはい"),
        (4, "宛名番号", "10a1"),
        (5, "列数", "3"),
    ]
    assert f"3行目「年度」：「2031」は受け付けられません。{FIRST_FISCAL_YEAR}〜{LAST_FISCAL_YEAR}の西暦" in str(
        refused.value
    )
    assert "損失は「-120,000」" in refused.value.rows[3].fix
    # every value is valid, but one 宛名番号 is not in the register: still nothing is written
    unknown = "宛名番号,年度,種別,給与収入\n1001,2026,給与支払報告書,100\n\n9999,2026,給与支払報告書,100\n"
    with db.app.tenant(A) as s, pytest.raises(DeclarationFileError) as refused:
        import_file(s, actor=TAX, data=unknown.encode())
    assert refused.value.rows == (
        RowError(4, "宛名番号", "9999", "住民記録にない宛名番号です。番号を確かめてください。"),
    )
    assert _stored(db) == []


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_importing_needs_the_tax_role(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match="税務担当"):
        import_file(s, actor=SCHOOL, data=GOOD.encode())
    with db.app.tenant(A) as s:
        assert s.scalar(select(func.count()).select_from(IncomeDeclaration)) == 0
        newest = entries(s, lg_code=A, limit=1)[0]
        assert (newest.action, newest.outcome) == ("tax.write", "denied")


def test_the_header_is_checked_before_any_row() -> None:
    with pytest.raises(DeclarationFileError) as refused:
        parse("宛名番号,種別,給与,給与\n1001,申告,1,1\n")
    assert [(e.row, e.column, e.received) for e in refused.value.rows] == [
        (1, "見出し", ""),
        (1, "見出し", "給与"),
    ]
    assert "「年度」の列が必要です" in refused.value.rows[0].fix
    trailing = parse("宛名番号,年度,種別,給与収入,,\n1001,2026,給与支払報告書,100,,\n")
    assert trailing.select("person_no", "salary_revenue", "row").rows() == [("1001", 100, 2)]
    with pytest.raises(DeclarationFileError, match="1件以上"):
        parse("宛名番号,年度,種別\n\n")


def test_encodings_are_detected() -> None:
    text = "宛名番号,年度,種別\n１,2026,申告\n"
    assert decode(text.encode("utf-8")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode(text.encode("cp932")) == text
    with pytest.raises(DeclarationFileError, match="CP932"):
        decode(b"\xff\xfe\x00\x81")


def _in_force(db: TestDatabase) -> dict[str, tuple[int, int]]:
    """What the assessment reads: salary and pension revenue per person, summed over the declarations in force."""
    with db.app.tenant(A) as s:
        summed = declared_incomes(s, 2026)
    return {
        p: (salary, pension)
        for p, salary, pension in summed.select("person_no", "salary_revenue", "pension_revenue").iter_rows()
    }


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_resent_file_is_refused_and_counts_nothing_twice(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        import_file(s, actor=TAX, data=GOOD.encode())
    with db.app.tenant(A) as s, pytest.raises(DeclarationFileError) as refused:
        import_file(s, actor=TAX, data=GOOD.encode("cp932"))
    assert [(e.row, e.column) for e in refused.value.rows] == [(2, "提出区分"), (4, "提出区分"), (5, "提出区分")]
    assert "受付番号1" in refused.value.rows[0].fix
    assert "「訂正」" in refused.value.rows[0].fix
    assert _stored(db) == EXPECTED
    assert _in_force(db) == {"1001": (5_000_000, 600_000), "1002": (0, 0)}


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_correction_replaces_and_a_cancellation_withdraws_keeping_both(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        import_file(s, actor=TAX, data=GOOD.encode())
        second_employer = (
            "宛名番号,年度,種別,支払者番号,給与収入\n1001,2026,給与支払報告書,１２３４５６７８９０１２３,300000\n"
        )
        import_file(s, actor=TAX, data=second_employer.encode())
    assert _in_force(db)["1001"] == (5_300_000, 600_000)
    corrections = (
        "宛名番号,年度,種別,支払者番号,提出区分,給与収入\n"
        "1001,2026,給与支払報告書,,訂正,4800000\n"
        "1001,2026,公的年金等支払報告書,,取消,\n"
    )
    with db.app.tenant(A) as s:
        stored = import_file(s, actor=TAX, data=corrections.encode())
    assert (stored.declarations, stored.replaced) == (2, 2)
    assert _in_force(db)["1001"] == (4_800_000 + 300_000, 0)
    d = IncomeDeclaration
    with db.app.tenant(A) as s:
        marks = {no: by for no, by in s.execute(select(d.declaration_no, d.superseded_by).order_by(d.declaration_no))}
    assert marks == {1: 5, 2: None, 3: 6, 4: None, 5: None, 6: None}
    with db.app.tenant(A) as s:
        corrected_again = "宛名番号,年度,種別,提出区分,給与収入\n1001,2026,給与支払報告書,訂正,4900000\n"
        import_file(s, actor=TAX, data=corrected_again.encode())
    assert _in_force(db)["1001"] == (4_900_000 + 300_000, 0)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_correction_must_find_what_it_corrects_and_a_file_may_not_repeat_itself(db: TestDatabase) -> None:
    _town(db)
    bad = (
        "宛名番号,年度,種別,支払者番号,提出区分,給与収入\n"
        "1001,2026,給与支払報告書,,訂正,4800000\n"
        "1002,2026,給与支払報告書,777,,100000\n"
        "1002,2026,給与支払報告書,777,新規,200000\n"
        "1002,2026,申告,,取消,5\n"
        "1002,2026,申告,12345678901234,削除,\n"
    )
    with db.app.tenant(A) as s, pytest.raises(DeclarationFileError) as refused:
        import_file(s, actor=TAX, data=bad.encode())
    assert [(e.row, e.column, e.received) for e in refused.value.rows] == [
        (5, "給与収入", "5"),
        (6, "支払者番号", "12345678901234"),
        (6, "提出区分", "削除"),
    ]
    without_row_errors = "\n".join(bad.splitlines()[:4]) + "\n"
    with db.app.tenant(A) as s, pytest.raises(DeclarationFileError) as refused:
        import_file(s, actor=TAX, data=without_row_errors.encode())
    assert [(e.row, e.column, e.received) for e in refused.value.rows] == [
        (2, "提出区分", "訂正"),
        (4, "宛名番号", "1002"),
    ]
    assert "3行目と同じ" in refused.value.rows[1].fix
    assert _stored(db) == []


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_a_specified_acquisition_reaches_the_assessment_inputs(db: TestDatabase) -> None:
    _town(db)
    data = (
        "宛名番号,年度,種別,給与収入,住宅借入金等特別税額控除可能額,特定取得\n"
        '1001,2026,給与支払報告書,"6,000,000","300,000",○\n'
        '1002,2026,給与支払報告書,"2,000,000","100,000",\n'
    )
    with db.app.tenant(A) as s:
        import_file(s, actor=TAX, data=data.encode("utf-8"), received_on=date(2026, 2, 1))
        incomes = declared_incomes(s, 2026).sort("person_no")
    assert incomes["housing_loan_specified_acquisition"].to_list() == [True, False]
    assert incomes["housing_loan_credit_available"].to_list() == [300_000, 100_000]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_return_filed_elsewhere_voids_the_one_stop_request(db: TestDatabase) -> None:
    _town(db)
    data = (
        "宛名番号,年度,種別,給与収入,都道府県・市区町村への寄附金,申告特例\n"
        '1001,2026,給与支払報告書,"6,000,000",,\n'
        '1001,2026,申告,,"30,000",\n'
        '1002,2026,給与支払報告書,"3,000,000",,○\n'
    )
    with db.app.tenant(A) as s:
        import_file(s, actor=TAX, data=data.encode("utf-8"), received_on=date(2026, 2, 1))
        incomes = declared_incomes(s, 2026).sort("person_no")
    assert incomes["donation_one_stop"].to_list() == [False, True]
