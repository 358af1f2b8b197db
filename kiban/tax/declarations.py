"""Income declarations (所得の申告・支払報告書) as the assessment reads them: imported from the standard CSV layout
(``docs/tax-declarations.md``), or made from a synthetic population's incomes.

The file is checked whole before anything is written: every problem is reported with its row (as a spreadsheet
numbers it: the header is row 1), column, the value received and how to fix it, in Japanese, and nothing is written
when there is any. A 宛名番号 the register does not know is a problem too. A load is one transaction and one audit
entry.

Who must send what: 給与支払報告書 by employers (地方税法第317条の6第1項), 公的年金等支払報告書 by pension payers
(同条第4項), 申告 by residents with other income (地方税法第317条の2第1項). All arrive by 1月31日 / 3月15日 for the
年度 that starts in April and concern the income of the calendar year before it (地方税法第313条第1項).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import func, select, update

from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError
from kiban.core.identity.permissions import Principal
from kiban.core.jtext import digits
from kiban.core.money import parse_yen
from kiban.registry.models import Person
from kiban.tax.access import PURPOSE, may_read, may_write
from kiban.tax.assessment import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR
from kiban.tax.inputs import from_synthetic
from kiban.tax.models import IncomeDeclaration
from kiban.tax.storage import insert_frame, read_frame

SALARY_REPORT, PENSION_REPORT, RETURN = "給与支払報告書", "公的年金等支払報告書", "申告"
SOURCES = (SALARY_REPORT, PENSION_REPORT, RETURN)

AMOUNTS: dict[str, str] = {
    "給与収入": "salary_revenue",
    "公的年金等収入": "pension_revenue",
    "事業所得": "business_income",
    "その他の所得": "other_income",
    "配当所得": "dividend_income",
    "社会保険料": "social_insurance",
    "小規模企業共済等掛金": "small_enterprise_mutual_aid",
    "生命保険料控除": "life_insurance_deduction",
    "地震保険料控除": "earthquake_insurance_deduction",
    "医療費控除": "medical_expense_deduction",
    "雑損控除": "casualty_loss_deduction",
    "住宅借入金等特別税額控除可能額": "housing_loan_credit_available",
    "所得税の住宅借入金等特別控除額": "housing_loan_credit_used",
    "都道府県・市区町村への寄附金": "donation_hometown",
    "共同募金会・日本赤十字社への寄附金": "donation_community_chest",
    "都道府県の条例指定寄附金": "donation_designated_prefectural",
    "市区町村の条例指定寄附金": "donation_designated_municipal",
}
"""Amount columns of the file (yen) → ``tax_income_declaration`` columns (``kiban.tax.assessment.INPUTS``). The
寄附金 are those of the 寄附金税額控除 (地方税法第314条の7第1項・第37条の2第1項): a 条例指定寄附金 goes in the column
of each body whose 条例 designates it (in both when both do)."""
SIGNED = frozenset({"事業所得"})
"""Amounts that may be a loss (「-120,000」 or 「△120,000」): 損益通算 happens in the rules."""
FLAGS: dict[str, str] = {
    "寡婦": "widow",
    "ひとり親": "single_parent",
    "勤労学生": "working_student",
    "生活保護": "welfare_recipient",
    "特定取得": "housing_loan_specified_acquisition",
    "申告特例": "donation_one_stop",
}
"""Yes/no columns: circumstances on 31 December of the income year (地方税法第314条の2第1項), 生活扶助
(地方税法第295条第1項第1号), whether the home of the 住宅借入金等特別控除 was a 特定取得 (居住開始 平成26年4月〜
令和3年12月, 消費税 8%・10%: the 住民税 credit is capped at 7% and 136,500円, 地方税法附則第5条の4の2), and whether
the person asked for the ふるさと納税 申告特例 (ワンストップ特例: the 住民税 adds the 申告特例控除額,
地方税法附則第7条の2) and filed no 確定申告 or 住民税の申告 (which cancels it)."""
DISABILITY = "障害者"
DISABILITY_VALUES = {
    "": "none",
    "なし": "none",
    "障害者": "ordinary",
    "普通": "ordinary",
    "特別障害者": "special",
    "特別": "special",
}
REQUIRED = ("宛名番号", "年度", "種別")
PAYER, SUBMISSION = "支払者番号", "提出区分"
NEW, CORRECTION, CANCELLATION = "new", "correction", "cancellation"
SUBMISSIONS = {"": NEW, "新規": NEW, "追加": NEW, "訂正": CORRECTION, "取消": CANCELLATION, "取消し": CANCELLATION}
"""提出区分 as eLTAX's 給与支払報告書 and 公的年金等支払報告書 carry it (新規・追加・訂正・取消): a 訂正 replaces the
registered declaration of the same person, 年度, 種別 and 支払者; a 取消 withdraws it. Both are kept (nothing is
lost): the replaced declaration is marked ``superseded_by`` the one that replaced or withdrew it."""
KEY = ("fiscal_year", "person_no", "source", "payer")
"""What one declaration is about: a second 新規 with the same key is refused (a resent file would count an income
twice); a 訂正 or 取消 must find a registered one."""
COLUMNS = (*REQUIRED, PAYER, SUBMISSION, *AMOUNTS, DISABILITY, *FLAGS)
"""Every column the file may have, in the documented order; only ``REQUIRED`` must be present."""

YES = frozenset({"1", "○", "〇", "◯", "該当", "あり", "はい", "有"})
NO = frozenset({"", "0", "なし", "いいえ", "無", "-"})
MAX_REPORTED = 200
"""Problems listed at most (the file is refused either way)."""

FRAME_SCHEMA: dict[str, pl.DataType] = {
    "fiscal_year": pl.Int32(),
    "person_no": pl.Utf8(),
    "source": pl.Utf8(),
    "payer": pl.Utf8(),
    "submission": pl.Utf8(),
    **{field: pl.Int64() for field in AMOUNTS.values()},
    "disability": pl.Utf8(),
    **{field: pl.Boolean() for field in FLAGS.values()},
}
"""Declarations as a frame (what ``store`` writes)."""

_YEAR = re.compile(r"(\d{4})(?:年度)?")
_REIWA = re.compile(r"(?:令和|R)(\d{1,2}|元)(?:年度)?", re.IGNORECASE)


@dataclass(frozen=True)
class RowError:
    """One problem in a declarations file."""

    row: int
    """Row as a spreadsheet shows it (the header is row 1); 0 for declarations that come from no file."""
    column: str
    received: str
    fix: str

    def field_error(self) -> FieldError:
        where = f"{self.row}行目" if self.row else ""
        return FieldError(f"{where}「{self.column}」", self.received, self.fix)


class DeclarationFileError(InputError):
    """A declarations file was refused; ``rows`` lists every problem found (at most ``MAX_REPORTED``)."""

    def __init__(self, rows: list[RowError]) -> None:
        self.rows = tuple(rows)
        super().__init__(*(r.field_error() for r in rows))


@dataclass(frozen=True)
class Stored:
    declarations: int
    persons: int
    fiscal_years: tuple[int, ...]
    replaced: int
    """Registered declarations a 訂正 or 取消 replaced."""


# --- reading a file -------------------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The text of a file in UTF-8 (with or without BOM) or CP932 (Shift_JIS as Windows writes it): Japanese text
    in CP932 is practically never valid UTF-8, so a file that is not UTF-8 is read as CP932."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DeclarationFileError(
        [RowError(1, "文字コード", "", "UTF-8 または Shift_JIS（CP932）で保存したCSVファイルを指定してください。")]
    )


def _header_name(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().replace(" ", "")


def _fiscal_year(value: str) -> int | None:
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    if m := _YEAR.fullmatch(text):
        year = int(m[1])
    elif m := _REIWA.fullmatch(text):
        year = 2018 + (1 if m[1] == "元" else int(m[1]))
    else:
        return None
    return year if FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR else None


def _amount(value: str, column: str) -> int:
    text = unicodedata.normalize("NFKC", value).strip()
    if text == "":
        return 0
    negative = column in SIGNED and text[:1] in ("-", "△", "▲", "−")
    amount = parse_yen(text[1:] if negative else text, field=column)
    return -amount if negative else amount


def _flag(value: str) -> bool | None:
    text = unicodedata.normalize("NFKC", value).strip()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def parse(text: str) -> pl.DataFrame:
    """Declarations of a file's text (``FRAME_SCHEMA``), or ``DeclarationFileError`` listing every problem.

    Checks the layout and each value; not whether a 宛名番号 is known (``store`` does). The frame's ``row`` column
    is each declaration's row in the file."""
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[RowError] = []
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise DeclarationFileError(
            [RowError(1, "見出し", "", f"1行目に見出し（{'、'.join(REQUIRED)} など）を入れてください。")]
        )
    names = [_header_name(cell) for cell in header]
    for name in names:
        if name == "":
            continue  # a column without a name (spreadsheets add them after the last one) is ignored
        if name not in COLUMNS:
            errors.append(RowError(1, "見出し", name, f"使える列名は {'、'.join(COLUMNS)} です。"))
        elif names.count(name) > 1:
            errors.append(RowError(1, "見出し", name, "同じ列名が2回あります。1列にまとめてください。"))
    for name in REQUIRED:
        if name not in names:
            errors.append(RowError(1, "見出し", "", f"「{name}」の列が必要です。"))
    if errors:
        raise DeclarationFileError(sorted(set(errors), key=lambda e: (e.row, e.received)))
    rows: list[dict[str, object]] = []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            errors.append(RowError(line, "列数", str(len(cells)), f"見出しと同じ{len(names)}列にしてください。"))
        else:
            row, row_errors = _row(line, dict(zip(names, cells, strict=True)))
            errors.extend(row_errors)
            if not row_errors:
                rows.append(row | {"row": line})
        if len(errors) >= MAX_REPORTED:
            break
    if errors:
        raise DeclarationFileError(errors[:MAX_REPORTED])
    if not rows:
        raise DeclarationFileError([RowError(2, "データ", "", "2行目から申告等を1件以上入れてください。")])
    return pl.DataFrame(rows, schema={**FRAME_SCHEMA, "row": pl.Int32()})


def _row(line: int, cells: dict[str, str]) -> tuple[dict[str, object], list[RowError]]:
    errors: list[RowError] = []
    row: dict[str, object] = {field: 0 for field in AMOUNTS.values()}
    row.update({field: False for field in FLAGS.values()}, disability="none", payer="", submission=NEW)
    try:
        row["person_no"] = digits(cells["宛名番号"], field="宛名番号")
    except InputError as exc:
        errors.append(RowError(line, "宛名番号", cells["宛名番号"], exc.errors[0].fix))
    year = _fiscal_year(cells["年度"])
    if year is None:
        errors.append(
            RowError(
                line,
                "年度",
                cells["年度"],
                f"{FIRST_FISCAL_YEAR}〜{LAST_FISCAL_YEAR}の西暦（例：{LAST_FISCAL_YEAR}）または令和で入力してください。",
            )
        )
    row["fiscal_year"] = year
    source = unicodedata.normalize("NFKC", cells["種別"]).strip()
    if source not in SOURCES:
        errors.append(RowError(line, "種別", cells["種別"], f"{'、'.join(SOURCES)} のいずれかを入力してください。"))
    row["source"] = source
    if PAYER in cells:
        try:
            row["payer"] = digits(cells[PAYER], field=PAYER, required=False)
        except InputError as exc:
            errors.append(RowError(line, PAYER, cells[PAYER], exc.errors[0].fix))
        if len(str(row["payer"])) > 13:
            errors.append(RowError(line, PAYER, cells[PAYER], "法人番号（13桁）など13桁以内の数字を入力してください。"))
    if SUBMISSION in cells:
        submission = SUBMISSIONS.get(unicodedata.normalize("NFKC", cells[SUBMISSION]).strip())
        if submission is None:
            errors.append(
                RowError(line, SUBMISSION, cells[SUBMISSION], "新規、追加、訂正 または 取消 を入力してください。")
            )
        row["submission"] = submission or NEW
    for column, field in AMOUNTS.items():
        if column in cells:
            try:
                row[field] = _amount(cells[column], column)
            except InputError as exc:
                fix = exc.errors[0].fix
                if column in SIGNED:
                    fix = "整数の金額を入力してください（損失は「-120,000」または「△120,000」）。"
                errors.append(RowError(line, column, cells[column], fix))
    if DISABILITY in cells:
        value = unicodedata.normalize("NFKC", cells[DISABILITY]).strip()
        if value not in DISABILITY_VALUES:
            errors.append(
                RowError(line, DISABILITY, cells[DISABILITY], "空欄、障害者 または 特別障害者 を入力してください。")
            )
        row["disability"] = DISABILITY_VALUES.get(value, "none")
    for column, field in FLAGS.items():
        if column in cells:
            flag = _flag(cells[column])
            if flag is None:
                errors.append(
                    RowError(
                        line, column, cells[column], "該当するときは 1、しないときは 空欄 または 0 にしてください。"
                    )
                )
            row[field] = bool(flag)
    if source == SALARY_REPORT and row["pension_revenue"] != 0:
        errors.append(
            RowError(
                line,
                "公的年金等収入",
                cells["公的年金等収入"],
                "公的年金等は「公的年金等支払報告書」の行に入力してください。",
            )
        )
    if source == RETURN and row["donation_one_stop"]:
        errors.append(
            RowError(
                line,
                "申告特例",
                cells["申告特例"],
                "申告をした人にはワンストップ特例（申告特例）は適用されません。寄附金を申告の行に入れ、申告特例は空欄に"
                "してください。",
            )
        )
    if source == PENSION_REPORT and row["salary_revenue"] != 0:
        errors.append(RowError(line, "給与収入", cells["給与収入"], "給与は「給与支払報告書」の行に入力してください。"))
    if row["submission"] == CANCELLATION:
        errors.extend(
            RowError(
                line, column, cells[column], "取消の行には金額を入れないでください（登録済みの申告等を取り消します）。"
            )
            for column, field in AMOUNTS.items()
            if row[field] != 0
        )
    return row, errors


# --- writing --------------------------------------------------------------------------------------------------------


def _unknown_persons(db_session: TenantSession, person_nos: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(person_nos), 900):
        chunk = person_nos[start : start + 900]
        known.update(db_session.scalars(select(Person.person_no).where(Person.person_no.in_(chunk))))
    return set(person_nos) - known


def _registered(db_session: TenantSession, fiscal_years: list[int]) -> pl.DataFrame:
    """The declarations in force (not replaced or withdrawn) of ``fiscal_years``: ``KEY`` and ``declaration_no``."""
    d = IncomeDeclaration
    query = select(*(getattr(d, name) for name in (*KEY, "declaration_no"))).where(
        d.lg_code == db_session.lg_code,
        d.fiscal_year.in_(fiscal_years),
        d.superseded_by.is_(None),
        d.submission != CANCELLATION,
    )
    schema = {k: FRAME_SCHEMA[k] for k in KEY} | {"declaration_no": pl.Int64()}
    return read_frame(db_session, query, schema)


def _replaced(db_session: TenantSession, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[RowError]]:
    """For each declaration of ``frame`` (with its file ``row``), the registered one it replaces (``replaces``, null
    for a 新規); and the rows whose 提出区分 does not match what is registered, or that repeat a key of the file."""
    registered = _registered(db_session, frame["fiscal_year"].unique().to_list())
    joined = frame.with_row_index("position").join(
        registered.rename({"declaration_no": "replaces"}), on=list(KEY), how="left", nulls_equal=True
    )
    errors: list[RowError] = []
    first_row = pl.col("row").first().over(list(KEY))
    repeated = joined.with_columns(first_row.alias("first")).filter(pl.col("row") != pl.col("first"))
    errors.extend(
        RowError(
            line,
            "宛名番号",
            person_no,
            f"{first}行目と同じ人・年度・種別・支払者番号です。支払者が違うときは支払者番号を入れ、同じものは1行にしてください。",
        )
        for line, person_no, first in repeated.select("row", "person_no", "first").iter_rows()
    )
    clash = joined.filter((pl.col("submission") == NEW) & pl.col("replaces").is_not_null())
    errors.extend(
        RowError(
            line,
            SUBMISSION,
            "新規",
            f"同じ人・年度・種別・支払者番号の申告等が登録済みです（受付番号{no}）。改めるときは「訂正」、取り消すときは"
            "「取消」にしてください。",
        )
        for line, no in clash.select("row", "replaces").iter_rows()
    )
    orphan = joined.filter((pl.col("submission") != NEW) & pl.col("replaces").is_null())
    errors.extend(
        RowError(
            line,
            SUBMISSION,
            "訂正" if submission == CORRECTION else "取消",
            "訂正・取消する登録済みの申告等がありません。宛名番号・年度・種別・支払者番号を確かめるか、「新規」にしてください。",
        )
        for line, submission in orphan.select("row", "submission").iter_rows()
    )
    return joined.select("position", "replaces"), sorted(errors, key=lambda e: (e.row, e.column))


def store(
    db_session: TenantSession,
    *,
    actor: Principal,
    declarations: pl.DataFrame,
    origin: str,
    received_on: date | None = None,
) -> Stored:
    """Write ``declarations`` (``FRAME_SCHEMA``) in the caller's transaction, numbered after the tenant's last one,
    and audit it (``origin`` says where they came from: a file's SHA-256, or the synthetic population). A 訂正 or 取消
    marks the declaration it replaces. Refused, with nothing written, when a 宛名番号 is not in the register or a
    提出区分 does not match what is registered (``_replaced``), reported at the file row of each declaration when
    ``declarations`` has a ``row`` column."""
    lg_code = may_write(db_session, actor)
    lines = declarations["row"] if "row" in declarations.columns else pl.Series("row", [0] * declarations.height)
    frame = declarations.select([pl.col(k).cast(t) for k, t in FRAME_SCHEMA.items()])
    unknown = _unknown_persons(db_session, frame["person_no"].unique().to_list())
    if unknown:
        errors = [
            RowError(line, "宛名番号", person_no, "住民記録にない宛名番号です。番号を確かめてください。")
            for line, person_no in zip(lines.to_list(), frame["person_no"].to_list(), strict=True)
            if person_no in unknown
        ]
        raise DeclarationFileError(errors[:MAX_REPORTED])
    replaced, errors = _replaced(db_session, frame.with_columns(lines.cast(pl.Int32).alias("row")))
    if errors:
        raise DeclarationFileError(errors[:MAX_REPORTED])
    last = db_session.scalar(select(func.max(IncomeDeclaration.declaration_no))) or 0
    numbered = frame.with_columns(
        pl.lit(lg_code).alias("lg_code"),
        pl.int_range(last + 1, last + 1 + frame.height, dtype=pl.Int64).alias("declaration_no"),
        pl.lit(received_on or date.today()).alias("received_on"),
    )
    insert_frame(db_session, IncomeDeclaration.__table__, numbered)  # type: ignore[arg-type]
    superseded = replaced.filter(pl.col("replaces").is_not_null())
    if superseded.height:
        db_session.execute(
            update(IncomeDeclaration),
            [
                {"lg_code": lg_code, "declaration_no": old, "superseded_by": last + 1 + position}
                for position, old in superseded.select("position", "replaces").iter_rows()
            ],
        )
    stored = Stored(
        declarations=frame.height,
        persons=frame["person_no"].n_unique(),
        fiscal_years=tuple(sorted(frame["fiscal_year"].unique().to_list())),
        replaced=superseded.height,
    )
    record(
        db_session,
        actor=actor,
        action="tax.declarations.import",
        purpose=PURPOSE,
        detail={
            "origin": origin,
            "declarations": stored.declarations,
            "persons": stored.persons,
            "fiscal_years": list(stored.fiscal_years),
            "first_no": last + 1,
            "replaced": stored.replaced,
        },
    )
    return stored


def import_file(db_session: TenantSession, *, actor: Principal, data: bytes, received_on: date | None = None) -> Stored:
    """Import a declarations file (bytes as read from disk or an upload): all of it, or nothing and a
    ``DeclarationFileError``."""
    may_write(db_session, actor)
    frame = parse(decode(data))
    return store(
        db_session,
        actor=actor,
        declarations=frame,
        origin=f"sha256:{hashlib.sha256(data).hexdigest()}",
        received_on=received_on,
    )


def from_synthetic_population(persons: pl.DataFrame, *, fiscal_year: int) -> pl.DataFrame:
    """Declarations (``FRAME_SCHEMA``) carrying a synthetic population's incomes and circumstances
    (``kiban.registry.synth``; its incomes are those of the year before the 年度): one per person who has any,
    a 給与支払報告書 or 公的年金等支払報告書 when that is the only income, otherwise a 申告."""
    inputs = from_synthetic(persons, designated_city=False)
    has_flags = (pl.col("disability") != "none") | pl.any_horizontal(*FLAGS.values())
    salary, pension, business = (
        pl.col("salary_revenue") > 0,
        pl.col("pension_revenue") > 0,
        pl.col("business_income") != 0,
    )
    source = (
        pl.when(salary & ~pension & (~business))
        .then(pl.lit(SALARY_REPORT))
        .when(pension & ~salary & (~business))
        .then(pl.lit(PENSION_REPORT))
        .otherwise(pl.lit(RETURN))
    )
    return (
        inputs.filter(salary | pension | business | has_flags)
        .with_columns(
            pl.lit(fiscal_year).alias("fiscal_year"),
            source.alias("source"),
            pl.lit("").alias("payer"),
            pl.lit(NEW).alias("submission"),
        )
        .select([pl.col(k).cast(t) for k, t in FRAME_SCHEMA.items()])
    )


def count(db_session: TenantSession, *, actor: Principal, fiscal_year: int) -> int:
    """How many declarations the tenant holds for ``fiscal_year``."""
    may_read(db_session, actor)
    total = db_session.scalar(
        select(func.count()).select_from(IncomeDeclaration).where(IncomeDeclaration.fiscal_year == fiscal_year)
    )
    return int(total or 0)


def check_fiscal_year(fiscal_year: int) -> int:
    """``fiscal_year`` if its rules are written (``FIRST_FISCAL_YEAR``〜``LAST_FISCAL_YEAR``); otherwise refused."""
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        raise InputError(
            FieldError("年度", str(fiscal_year), f"{FIRST_FISCAL_YEAR}〜{LAST_FISCAL_YEAR}年度を指定してください。")
        )
    return fiscal_year


def store_synthetic(db_session: TenantSession, *, actor: Principal, persons: pl.DataFrame, fiscal_year: int) -> Stored:
    """Write the synthetic population's incomes as ``fiscal_year``'s declarations, so a seeded town can be assessed.
    Refused when the tenant already holds declarations for that 年度 (a second load would count incomes twice)."""
    may_write(db_session, actor)
    check_fiscal_year(fiscal_year)
    if count(db_session, actor=actor, fiscal_year=fiscal_year):
        raise InputError(
            FieldError(
                "年度", str(fiscal_year), "この年度の申告等はすでに登録されています。空の年度にだけ作成できます。"
            )
        )
    return store(
        db_session,
        actor=actor,
        declarations=from_synthetic_population(persons, fiscal_year=fiscal_year),
        origin="synthetic",
    )
