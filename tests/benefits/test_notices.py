"""確認書 and the print vendor's data: the PDF states what the household is entitled to, the CSV carries every row
with its 確認番号 and barcode data in CP932 without losing a character silently, the manifest matches the files,
households are stamped as notified, and every export is audited; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from kiban.benefits.mailing import export_notices, notice_of
from kiban.benefits.models import Entitlement, format_confirmation_code
from kiban.benefits.notice import ConfirmationNotice, masked_account, notices_pdf
from kiban.benefits.print_export import GETA, HEADER, address_number, barcode_data, write_csv
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import BankAccount, run_eligibility
from kiban.cli.main import main
from kiban.core.audit.service import entries
from kiban.core.errors import InputError, PermissionDenied
from kiban.core.identity.permissions import Role
from kiban.core.tenants import service as tenants
from kiban.registry import snapshot

from benefit_town import MAKER, PARAMETERS, PROGRAM, WELFARE
from conftest import TestDatabase
from residents import A, move_in, staff

CLERK = staff("clerk1", Role.REGISTRY)
BASE_DATE = PROGRAMS[PROGRAM].base_date


def _pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text().replace(" ", "").replace("\n", "") for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_address_number_follows_the_japan_post_rules() -> None:
    assert barcode_data("100-0013", "1丁目3番2号 郵便プラザ503室") == "10000131-3-2-503"  # 日本郵便の例
    assert address_number("3丁目1番地") == "3-1"
    assert address_number("三丁目十二番地の二") == "3-12-2"
    assert address_number("２３番地Ａ棟") == "23-A"
    assert address_number("1234-5678-9012-3456") == "1234-5678-901", "13 characters at most"
    assert address_number("1-2-3-4-5-6-A") == "1-2-3-4-5-6", "a letter counts as two"
    assert barcode_data("", "1-1") == "", "no barcode without a postal code"


def _row(name: str) -> dict[str, str]:
    return dict.fromkeys(HEADER, "1") | {"氏名": name}


def test_the_csv_reports_what_cp932_cannot_hold_and_hashes_what_it_wrote() -> None:
    out = io.BytesIO()
    result = write_csv([_row("山田　太郎"), _row("𠮷田　花子")], out, "cp932")
    data = out.getvalue()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    parsed = list(csv.reader(io.StringIO(data.decode("cp932"))))
    assert parsed[0] == list(HEADER)
    assert [r[HEADER.index("氏名")] for r in parsed[1:]] == ["山田　太郎", f"{GETA}田　花子"]
    assert [(u.row, u.column, u.code_point) for u in result.unencodable] == [(2, "氏名", "U+20BB7")]
    assert data.endswith(b"\r\n")
    utf8 = io.BytesIO()
    kept = write_csv([_row("𠮷田　花子")], utf8, "utf-8")
    assert utf8.getvalue().startswith("\ufeff".encode())
    assert "𠮷田" in utf8.getvalue().decode("utf-8-sig")
    assert (kept.rows, kept.unencodable) == (1, [])


def test_a_notice_states_the_amounts_deadline_code_and_only_the_end_of_the_account() -> None:
    account = BankAccount("0005", "123", "1", "1234567", "ﾔﾏﾀﾞ ﾀﾛｳ")
    notice = ConfirmationNotice(
        issuer="千代田区長",
        issued_on=date(2023, 12, 15),
        program=PROGRAMS[PROGRAM],
        household_no="9001",
        confirmation_code="ABCDEFGHJKLM",
        name="山田　太郎",
        postal_code="1000001",
        address="東京都千代田区千代田1-1",
        members=3,
        children=2,
        base_amount=70_000,
        child_addition=100_000,
        top_up=10_000,
        amount=180_000,
        account=account,
    )
    assert masked_account(account) == "金融機関 0005・支店 123 普通 ＊＊＊＊567"
    pages = _pdf_text(notices_pdf([notice, notice]))
    assert len(pages) == 2, "one page per notice"
    for expected in (
        "支給要件確認書",
        "〒100-0001",
        "山田太郎様",
        "ABCD-EFGH-JKLM",
        "70,000円",
        "100,000円",
        "10,000円",
        "180,000円",
        "令和6年4月30日",
        "＊＊＊＊567",
        "令和5年12月15日千代田区長",
    ):
        assert expected in pages[0], expected
    assert "1234567" not in pages[0]


def _town(db: TestDatabase, households: int) -> None:
    with db.app.tenant(None) as s:
        tenants.activate(db_session=s, lg_code=A)
    with db.app.tenant(A) as s:
        for i in range(households):
            move_in(s, CLERK, f"{1001 + i}", f"{9001 + i}", given_name=f"太郎{i}", banchi=f"{i + 1}丁目2番3号")
        if households:
            move_in(
                s,
                CLERK,
                "2001",
                "9001",
                given_name="花子",
                relationship="子",
                birth_date=date(2015, 4, 1),
                banchi="1丁目2番3号",
            )
    with db.app.tenant(A) as s:
        on = snapshot.residents(s, actor=WELFARE, on=BASE_DATE)
        residents = on.select("person_no", "household_no", "relationship", "birth_date").with_columns(
            pl.lit("exempt").alias("tax_status")
        )
        run_eligibility(s, actor=WELFARE, program_code=PROGRAM, residents=residents, parameters=PARAMETERS)


def _codes(db: TestDatabase) -> dict[str, tuple[str, object]]:
    with db.app.tenant(A) as s:
        return {e.household_no: (e.confirmation_code, e.notified_at) for e in s.scalars(select(Entitlement))}


def test_export_writes_parts_csv_and_manifest_and_stamps_the_households(db: TestDatabase, tmp_path: Path) -> None:
    _town(db, 3)
    with db.app.tenant(A) as s:
        result = export_notices(s, actor=WELFARE, program_code=PROGRAM, out_dir=tmp_path / "out", part_size=2)
    assert (result.rows, result.unencodable, result.missing) == (3, [], [])
    files = {p.name.rsplit("_", 1)[-1]: p for p in (tmp_path / "out").iterdir()}
    assert set(files) == {"notices.zip", "print.csv", "manifest.json"}
    for path in files.values():
        assert result.files[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = json.loads(files["manifest.json"].read_text(encoding="utf-8"))
    assert manifest["rows"] == 3
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        n: h for n, h in result.files.items() if not n.endswith("manifest.json")
    }
    with zipfile.ZipFile(files["notices.zip"]) as zipped:
        parts = {name: zipped.read(name) for name in zipped.namelist()}
    assert [(p["name"], p["pages"]) for p in manifest["pdf_parts"]] == [
        ("kakuninsho_0001.pdf", 2),
        ("kakuninsho_0002.pdf", 1),
    ]
    assert {p["name"]: p["sha256"] for p in manifest["pdf_parts"]} == {
        n: hashlib.sha256(b).hexdigest() for n, b in parts.items()
    }
    rows = list(csv.DictReader(io.StringIO(files["print.csv"].read_bytes().decode("cp932"))))
    codes = _codes(db)
    assert [(r["世帯番号"], r["確認番号"], r["支給予定額"], r["ファイル名"], r["ページ"]) for r in rows] == [
        ("9001", codes["9001"][0], "120000", "kakuninsho_0001.pdf", "1"),
        ("9002", codes["9002"][0], "70000", "kakuninsho_0001.pdf", "2"),
        ("9003", codes["9003"][0], "70000", "kakuninsho_0002.pdf", "1"),
    ]
    assert rows[0]["郵便番号"] == "100-0001"
    assert rows[0]["氏名"] == "山田　太郎0"
    assert rows[1]["バーコード情報"] == "10000012-2-3"
    assert rows[2]["住所"] == "東京都千代田区千代田3丁目2番3号"
    second_page = _pdf_text(parts["kakuninsho_0001.pdf"])[1]
    assert "山田太郎1様" in second_page
    assert format_confirmation_code(codes["9002"][0]) in second_page
    assert all(notified is not None for _, notified in codes.values())
    with db.app.tenant(A) as s:
        audited = [x for x in entries(s, lg_code=A) if x.action == "benefits.notices.export"]
    assert len(audited) == 1
    detail = json.loads(audited[0].detail or "{}")
    assert (detail["rows"], detail["encoding"]) == (3, "cp932")
    # already notified: nothing to send again unless asked for
    with db.app.tenant(A) as s:
        again = export_notices(s, actor=WELFARE, program_code=PROGRAM, out_dir=tmp_path / "again")
    assert again.rows == 0
    with db.app.tenant(A) as s:
        reprint = export_notices(
            s, actor=WELFARE, program_code=PROGRAM, out_dir=tmp_path / "all", include_notified=True, encoding="utf-8"
        )
    assert reprint.rows == 3


def test_one_notice_again_and_who_may_export(db: TestDatabase, tmp_path: Path) -> None:
    _town(db, 1)
    with db.app.tenant(A) as s:
        pdf = notice_of(s, actor=WELFARE, program_code=PROGRAM, household_no="9001")
    assert "山田太郎0様" in _pdf_text(pdf)[0]
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied):
        export_notices(s, actor=MAKER, program_code=PROGRAM, out_dir=tmp_path / "out")
    with db.app.tenant(A) as s, pytest.raises(InputError, match="申請型"):
        export_notices(s, actor=WELFARE, program_code="special_cash_2020", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with db.app.tenant(A) as s:
        denied = [x for x in entries(s, lg_code=A) if x.outcome == "denied"]
    assert [(x.action, x.actor) for x in denied] == [("benefits.notices.export", MAKER.user_id)]


def test_the_notices_command(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    _town(sqlite_db, 2)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "benefits",
            "notices",
            "--lg-code",
            A,
            "--program",
            PROGRAM,
            "--out",
            str(out),
            "--database-url",
            sqlite_db.app_url,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "確認書2通を作成しました" in "".join(result.output.split())
    assert len(list(out.iterdir())) == 3
    with sqlite_db.app.tenant(A) as s:
        exported = [x for x in entries(s, lg_code=A) if x.action == "benefits.notices.export"]
    assert exported[0].actor.startswith("cli:")
