"""Data for the print vendor (印刷業者向けデータ): one CSV row per 確認書 with what a 封入封緘 vendor needs to print
and post it, and a manifest (row count, SHA-256 of every file) the vendor checks what it received against.

* Encoding ``cp932`` (what vendors' systems usually read) or ``utf-8`` (with BOM, for spreadsheet software). A
  character CP932 cannot encode (e.g. 「𠮷」 or an IVS variant of a name) is never dropped silently: it is written as
  「〓」 (げた記号, the customary mark for a 外字 to be set by hand) and listed in the result and the manifest with its
  row, column and code point, so the vendor or staff set it before printing.
* バーコード情報: the カスタマバーコード data of 日本郵便「郵便番号・バーコードマニュアル」 — the 7-digit 郵便番号
  followed by the 住所表示番号 taken from the address after the 町域 (丁目・番地・号 and the like become 「-」, 漢数字
  become digits, at most 13 characters, a letter counting as 2). The vendor's software adds the check digit and the
  start/stop codes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from kiban.core.errors import FieldError, InputError

Encoding = Literal["cp932", "utf-8"]
ENCODINGS: tuple[Encoding, ...] = ("cp932", "utf-8")
GETA = "〓"
"""Stands for a character the encoding cannot hold (listed in ``Unencodable``)."""
HEADER = (
    "連番",
    "確認番号",
    "世帯番号",
    "郵便番号",
    "住所",
    "氏名",
    "基本額",
    "こども加算",
    "上乗せ",
    "支給予定額",
    "返送期限",
    "バーコード情報",
    "ファイル名",
    "ページ",
)
ADDRESS_NUMBER_WIDTH = 13
"""住所表示番号 in the カスタマバーコード: 13 barcode characters (a letter takes 2)."""
KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile(f"[{''.join(KANJI_DIGITS)}{''.join(KANJI_UNITS)}]+")
_NOT_NUMBER = re.compile(r"[^0-9A-Z]+")


@dataclass(frozen=True)
class Unencodable:
    """A character the chosen encoding cannot hold (row 1 is the first data row)."""

    row: int
    column: str
    character: str

    @property
    def code_point(self) -> str:
        return "+".join(f"U+{ord(c):04X}" for c in self.character)


@dataclass(frozen=True)
class CsvResult:
    rows: int
    sha256: str
    unencodable: list[Unencodable] = field(default_factory=list)


def encoding_of(value: str) -> Encoding:
    """``cp932`` or ``utf-8`` (also 「sjis」「shift_jis」「utf8」); ``InputError`` otherwise."""
    name = value.strip().lower().replace("_", "-")
    if name in ("cp932", "sjis", "shift-jis", "windows-31j", "ms932"):
        return "cp932"
    if name in ("utf-8", "utf8"):
        return "utf-8"
    raise InputError(FieldError("文字コード", value, "cp932（Shift_JIS）または utf-8 を指定してください。"))


def _kanji_number(text: str) -> str:
    """「三」→「3」, 「十二」→「12」, 「二十三」→「23」, 「一〇五」→「105」."""
    if not any(c in KANJI_UNITS for c in text):
        return "".join(str(KANJI_DIGITS[c]) for c in text)
    total, digit = 0, 0
    for c in text:
        if c in KANJI_DIGITS:
            digit = KANJI_DIGITS[c]
        else:
            total += (digit or 1) * KANJI_UNITS[c]
            digit = 0
    return str(total + digit)


def address_number(after_town: str) -> str:
    """The 住所表示番号 of the address after the 町域: 「3丁目1番地」→「3-1」, 「1-3-2 プラザ503室」→「1-3-2-503」."""
    text = unicodedata.normalize("NFKC", after_town).upper()
    text = _KANJI_NUMBER.sub(lambda m: _kanji_number(m.group()), text)
    parts = [p for p in _NOT_NUMBER.split(text) if p]
    result, width = "", 0
    for token in "-".join(parts):
        cost = 2 if token.isalpha() else 1
        if width + cost > ADDRESS_NUMBER_WIDTH:
            break
        result, width = result + token, width + cost
    return result.rstrip("-")


def barcode_data(postal_code: str, after_town: str) -> str:
    """カスタマバーコード data: 郵便番号 (7 digits, no hyphen) + 住所表示番号; empty without a 7-digit 郵便番号."""
    digits = postal_code.replace("-", "")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 7):
        return ""
    return digits + address_number(after_town)


def _encodable(value: str, encoding: Encoding, row: int, column: str, found: list[Unencodable]) -> str:
    if encoding == "utf-8":
        return value
    try:
        value.encode(encoding)
    except UnicodeEncodeError:
        pass
    else:
        return value
    kept = []
    for c in value:
        try:
            c.encode(encoding)
        except UnicodeEncodeError:
            found.append(Unencodable(row, column, c))
            kept.append(GETA)
        else:
            kept.append(c)
    return "".join(kept)


def write_csv(rows: Iterable[dict[str, str]], out: BinaryIO, encoding: Encoding) -> CsvResult:
    """Write the header and ``rows`` (keys: ``HEADER``) as CSV (CRLF, every field quoted) in ``encoding``, one row at
    a time (streamed, hashed as written)."""
    line = io.StringIO()
    writer = csv.writer(line, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    digest = hashlib.sha256()

    def emit(fields: Iterable[str], prefix: bytes = b"") -> None:
        writer.writerow(fields)
        data = prefix + line.getvalue().encode(encoding)
        digest.update(data)
        out.write(data)
        line.seek(0)
        line.truncate()

    emit(HEADER, "\ufeff".encode() if encoding == "utf-8" else b"")
    found: list[Unencodable] = []
    count = 0
    for count, row in enumerate(rows, start=1):
        emit([_encodable(row[name], encoding, count, name, found) for name in HEADER])
    return CsvResult(count, digest.hexdigest(), found)
