"""全銀協 総合振込 (種別コード 21) files: fixed 120-byte records, written and read back.

Layout (全国銀行協会 全銀協規定形式, 総合振込; byte positions 1-based, N = digits right-aligned zero-padded,
C = JIS X 0201 characters left-aligned space-padded):

* ヘッダー (1): データ区分 "1" · 種別コード "21" · コード区分 "0" (JIS) · 委託者コード N10 · 委託者名 C40 · 振込指定日
  MMDD · 仕向銀行番号 N4 · 仕向銀行名 C15 · 仕向支店番号 N3 · 仕向支店名 C15 · 預金種目 N1 · 口座番号 N7 · ダミー C17
* データ (2): "2" · 被仕向銀行番号 N4 · 被仕向銀行名 C15 · 被仕向支店番号 N3 · 被仕向支店名 C15 · 手形交換所番号 C4
  (blank) · 預金種目 N1 · 口座番号 N7 · 受取人名 C30 · 振込金額 N10 · 新規コード "0" · 顧客コード1 N10 · 顧客コード2
  N10 · 振込指定区分 "7" (テレ振込) · 識別表示 " " · ダミー C7
* トレーラー (8): "8" · 合計件数 N6 · 合計金額 N12 · ダミー C101
* エンド (9): "9" · ダミー C119

振込結果 (the bank's result of an issued file, ``parse_result``): the same records returned with the outcome of each
transfer. The 全銀協 standard's rule for a result (処理結果明細) is that it is the request with a result code in each
data record and the result totals in the trailer, and its code list is the 振替結果コード (全国銀行協会「全銀協パーソ
ナル・コンピュータ用標準通信プロトコル（ベーシック手順）適用業務およびレコード・フォーマット」令和元年12月,
預金口座振替（処理結果明細）: 0 振替済, 1 資金不足, 2 取引なし, 3 預金者の都合による振替停止, 4 預金口座振替依頼書
なし, 8 委託者の都合による振替停止, 9 その他). The standard defines that result for 預金口座振替 only; for 総合振込
it defines none (banks return 振込不能 funds with a reason, and those that offer the result as a 全銀 file do so on
their own sheets), so Kiban reads a 総合振込 result by the same rule, at the same positions; each bank's sheet must
be checked against ``RESULT_CODE_AT`` and ``RESULT_CODES``:

* データ (2): as sent, except 振込結果コード N1 at byte 112 (振込指定区分 in the request)
* トレーラー (8): 合計件数 N6 · 合計金額 N12 · 振込済件数 N6 · 振込済金額 N12 · 振込不能件数 N6 · 振込不能金額 N12 ·
  ダミー C65

Each record ends with CR LF; the file is Shift_JIS (the half-width characters are single bytes). Names are reduced to
the 全銀 character set (``kiban.core.jtext.zengin_kana``) and cut to their field without separating a kana from its
voicing mark. The transfer date must be a bank business day (銀行法第15条, ``kiban.core.dates``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from kiban.core.dates import is_bank_business_day
from kiban.core.errors import FieldError, InputError
from kiban.core.jtext import ZENGIN_CHARACTERS, zengin_kana

RECORD = 120
ENCODING = "shift_jis"
ACCOUNT_TYPES = {"1": "普通", "2": "当座", "4": "貯蓄", "9": "その他"}
MAX_AMOUNT = 9_999_999_999
"""振込金額 N10."""
MAX_COUNT = 999_999
"""合計件数 N6."""
MAX_TOTAL = 999_999_999_999
"""合計金額 N12."""


@dataclass(frozen=True)
class Account:
    bank_code: str
    bank_name: str
    """Half-width kana (as in the 全銀 bank code table)."""
    branch_code: str
    branch_name: str
    account_type: str
    """1 普通, 2 当座, 4 貯蓄, 9 その他."""
    account_number: str


@dataclass(frozen=True)
class Sender:
    client_code: str
    """委託者コード given by the bank (10 digits)."""
    name: str
    account: Account


@dataclass(frozen=True)
class Transfer:
    account: Account
    holder: str
    """受取人名 (kana; converted to half-width 全銀 characters)."""
    amount: int
    customer_code: str
    """顧客コード1: our reference of the line (the entitlement), 10 digits, to match the bank's result."""


@dataclass(frozen=True)
class ZenginFile:
    content: bytes
    count: int
    total: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _digits(value: str, width: int, field: str, errors: list[FieldError]) -> str:
    if not (value.isascii() and value.isdigit() and len(value) <= width):
        errors.append(FieldError(field, value, f"{width}桁以内の半角数字で指定してください。"))
        return "0" * width
    return value.zfill(width)


def _text(value: str, width: int) -> str:
    """Left-aligned, space-padded, cut to ``width`` without leaving a voicing mark alone at the start of the cut."""
    if len(value) > width:
        cut = width
        if value[cut] in "ﾞﾟ":
            cut -= 1  # ｶﾞ is two characters: drop both rather than the mark
        value = value[:cut]
    return value.ljust(width)


@lru_cache(maxsize=200_000)
def _converted(value: str) -> str:
    """``zengin_kana`` of one name, remembered: a file repeats bank and branch names on every line, and the
    conversion is most of the cost of a large file."""
    return zengin_kana(value, field="")


def _name(value: str, width: int, field: str, errors: list[FieldError]) -> str:
    if value == "" and field.endswith(("銀行名", "支店名")):
        return " " * width  # 被仕向銀行名・支店名 are optional: banks route transfers by the codes
    try:
        return _text(_converted(value), width)
    except InputError as exc:
        errors.extend(FieldError(field, e.received, e.fix) for e in exc.errors)
        return " " * width


def _account_fields(account: Account, where: str, errors: list[FieldError]) -> tuple[str, ...]:
    if account.account_type not in ACCOUNT_TYPES:
        errors.append(
            FieldError(f"{where}預金種目", account.account_type, "1（普通）・2（当座）・4（貯蓄）・9のいずれか")
        )
    return (
        _digits(account.bank_code, 4, f"{where}銀行番号", errors),
        _name(account.bank_name, 15, f"{where}銀行名", errors),
        _digits(account.branch_code, 3, f"{where}支店番号", errors),
        _name(account.branch_name, 15, f"{where}支店名", errors),
        account.account_type[:1] or "1",
        _digits(account.account_number, 7, f"{where}口座番号", errors),
    )


def build(sender: Sender, transfers: Sequence[Transfer], transfer_date: date) -> ZenginFile:
    """The 総合振込 file for ``transfers``; every problem is reported at once and no file is made."""
    errors: list[FieldError] = []
    if not is_bank_business_day(transfer_date):
        errors.append(FieldError("振込指定日", transfer_date.isoformat(), "銀行営業日を指定してください。"))
    if not transfers:
        errors.append(FieldError("振込データ", "0件", "振込データが1件以上必要です。"))
    if len(transfers) > MAX_COUNT:
        fix = f"1ファイルの振込は{MAX_COUNT:,}件まで（トレーラーの合計件数は6桁）です。バッチを分けてください。"
        errors.append(FieldError("振込データ", f"{len(transfers):,}件", fix))
    bank, bank_name, branch, branch_name, kind, number = _account_fields(sender.account, "仕向", errors)
    header = (
        "1210"
        + _digits(sender.client_code, 10, "委託者コード", errors)
        + _name(sender.name, 40, "委託者名", errors)
        + transfer_date.strftime("%m%d")
        + bank
        + bank_name
        + branch
        + branch_name
        + kind
        + number
        + " " * 17
    )
    records = [header]
    total = 0
    for line, transfer in enumerate(transfers, start=1):
        where = f"{line}行目の"
        if not 1 <= transfer.amount <= MAX_AMOUNT:
            errors.append(FieldError(f"{where}振込金額", str(transfer.amount), "1円以上の金額を指定してください。"))
        total += transfer.amount
        b, bn, br, brn, k, n = _account_fields(transfer.account, where, errors)
        records.append(
            "2"
            + b
            + bn
            + br
            + brn
            + " " * 4
            + k
            + n
            + _name(transfer.holder, 30, f"{where}受取人名", errors)
            + str(max(transfer.amount, 0)).zfill(10)[-10:]
            + "0"
            + _digits(transfer.customer_code, 10, f"{where}顧客コード", errors)
            + "0" * 10
            + "7"
            + " "
            + " " * 7
        )
    if total > MAX_TOTAL:
        errors.append(FieldError("合計金額", f"{total:,}円", "1ファイルの合計は12桁までです。バッチを分けてください。"))
    records.append("8" + str(len(transfers)).zfill(6)[-6:] + str(total).zfill(12)[-12:] + " " * 101)
    records.append("9" + " " * 119)
    if errors:
        raise InputError(*errors)
    malformed = [r for r in records if len(r) != RECORD or not set(r) <= ZENGIN_CHARACTERS]
    if malformed:  # every field above is padded and checked: this would be a bug here, not bad input
        raise RuntimeError(f"malformed 全銀 record: {malformed[0]!r}")
    content = "".join(r + "\r\n" for r in records).encode(ENCODING)
    return ZenginFile(content=content, count=len(transfers), total=total)


@dataclass(frozen=True)
class ParsedLine:
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder: str
    amount: int
    customer_code: str


@dataclass(frozen=True)
class Parsed:
    client_code: str
    transfer_date: str
    """MMDD as written."""
    lines: list[ParsedLine]
    count: int
    total: int


def _malformed(fix: str, received: str = "") -> InputError:
    return InputError(FieldError("全銀ファイル", received, fix))


def _records(content: bytes) -> tuple[str, list[str], str]:
    """Header, data records and trailer of a 総合振込 file (or its result), checked for structure."""
    try:
        text = content.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise _malformed("Shift_JIS の全銀ファイルではありません。", f"{exc.start}バイト目") from exc
    records = text.split("\r\n")
    if records[-1] == "":
        records.pop()
    short = next((i for i, r in enumerate(records, start=1) if len(r) != RECORD), None)
    if short is not None:
        raise _malformed("各レコードは120バイト＋改行（CR LF）です。", f"{short}レコード目")
    kinds = "".join(r[0] for r in records)
    if not (kinds.startswith("1") and kinds.endswith("89") and set(kinds[1:-2]) <= {"2"}):
        raise _malformed("レコードはヘッダー（1）、データ（2）…、トレーラー（8）、エンド（9）の順です。", kinds[:20])
    header = records[0]
    if header[1:3] != "21":
        raise _malformed("総合振込（種別コード21）のファイルではありません。", f"種別コード {header[1:3]}")
    return header, records[1:-2], records[-2]


def _line(r: str) -> ParsedLine:
    if not (r[80:90].isdigit() and r[91:101].isdigit()):
        raise _malformed("振込金額・顧客コードは数字です。", r[80:101])
    return ParsedLine(
        bank_code=r[1:5],
        branch_code=r[20:23],
        account_type=r[42],
        account_number=r[43:50],
        holder=r[50:80].rstrip(),
        amount=int(r[80:90]),
        customer_code=r[91:101],
    )


def _number(value: str, field: str) -> int:
    if not value.isdigit():
        raise _malformed(f"トレーラーの{field}は数字です。", value)
    return int(value)


def parse(content: bytes) -> Parsed:
    """Read a 総合振込 file back, checking its structure and that the trailer matches the data records."""
    header, data, trailer = _records(content)
    lines = [_line(r) for r in data]
    count, total = _number(trailer[1:7], "合計件数"), _number(trailer[7:19], "合計金額")
    if count != len(lines) or total != sum(line.amount for line in lines):
        actual = f"{len(lines)}件 {sum(line.amount for line in lines):,}円"
        raise _malformed(f"トレーラーの合計がデータレコード（{actual}）と一致しません。", f"{count}件 {total:,}円")
    return Parsed(client_code=header[4:14], transfer_date=header[54:58], lines=lines, count=count, total=total)


# --- 振込結果 ---------------------------------------------------------------------------------------------------

RESULT_CODE_AT = 111
"""0-based position of 振込結果コード in a data record (byte 112)."""
PAID = "0"
RESULT_CODES: dict[str, str] = {
    PAID: "振込済",
    "1": "資金不足",
    "2": "取引なし（口座なし・解約済み）",
    "3": "預金者の都合による停止",
    "4": "依頼書なし",
    "8": "委託者の都合による停止",
    "9": "その他",
}
"""振込結果コード (全銀協 振替結果コード); every code but 0 is a 振込不能 and its reason."""
_RESULT_TOTALS = (  # trailer of a result: (start, end, field), 0-based
    (1, 7, "合計件数"),
    (7, 19, "合計金額"),
    (19, 25, "振込済件数"),
    (25, 37, "振込済金額"),
    (37, 43, "振込不能件数"),
    (43, 55, "振込不能金額"),
)


@dataclass(frozen=True)
class ResultLine:
    line: ParsedLine
    code: str

    @property
    def paid(self) -> bool:
        return self.code == PAID

    @property
    def reason(self) -> str:
        return RESULT_CODES[self.code]


@dataclass(frozen=True)
class ParsedResult:
    client_code: str
    transfer_date: str
    """MMDD as written."""
    lines: list[ResultLine]
    count: int
    total: int
    paid_count: int
    paid_total: int
    failed_count: int
    failed_total: int


def parse_result(content: bytes) -> ParsedResult:
    """Read the bank's 振込結果, checking its structure, every result code, and that the trailer's totals (all, 振込済,
    振込不能) equal its data records'. Whether it is the result of a given file is the caller's question."""
    header, data, trailer = _records(content)
    lines = [ResultLine(_line(r), r[RESULT_CODE_AT]) for r in data]
    unknown = [f"{i}件目: {x.code!r}" for i, x in enumerate(lines, start=1) if x.code not in RESULT_CODES]
    if unknown:
        codes = "・".join(f"{k}（{v}）" for k, v in RESULT_CODES.items())
        raise InputError(FieldError("振込結果コード", "、".join(unknown[:5]), f"次のいずれかです：{codes}。"))
    stated = [_number(trailer[a:b], field) for a, b, field in _RESULT_TOTALS]
    paid = [x.line.amount for x in lines if x.paid]
    failed = [x.line.amount for x in lines if not x.paid]
    actual = [len(lines), sum(paid) + sum(failed), len(paid), sum(paid), len(failed), sum(failed)]
    if stated != actual:
        wrong = [
            f"{field} {s:,}（データは{a:,}）"
            for (_, _, field), s, a in zip(_RESULT_TOTALS, stated, actual, strict=True)
            if s != a
        ]
        raise InputError(FieldError("振込結果のトレーラー", "、".join(wrong), "データレコードの集計と一致しません。"))
    return ParsedResult(header[4:14], header[54:58], lines, *actual)


def bank_result(issued: bytes, codes: Mapping[str, str]) -> bytes:
    """The 振込結果 a bank returns for an issued file: every data record with its code (``codes`` by 顧客コード;
    0 振込済 for the others) and the trailer with the result totals. What the demo's simulated bank and the tests send
    back."""
    header, data, trailer = _records(issued)
    records = [header]
    paid, failed = [0, 0], [0, 0]
    for r in data:
        line = _line(r)
        code = codes.get(line.customer_code, PAID)
        if code not in RESULT_CODES:
            raise ValueError(f"unknown 振込結果コード {code!r}")
        outcome = paid if code == PAID else failed
        outcome[0] += 1
        outcome[1] += line.amount
        records.append(r[:RESULT_CODE_AT] + code + r[RESULT_CODE_AT + 1 :])
    totals = f"{paid[0]:06d}{paid[1]:012d}{failed[0]:06d}{failed[1]:012d}"
    records.append(trailer[:19] + totals + " " * 65)
    records.append("9" + " " * 119)
    return "".join(r + "\r\n" for r in records).encode(ENCODING)
