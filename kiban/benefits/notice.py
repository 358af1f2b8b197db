"""確認書 (支給要件確認書) of a プッシュ型 benefit as PDF (A4, the Japanese font embedded): what the municipality found
the household entitled to, for the 受給権者 to check and return by the deadline, or to confirm online with the
確認番号.

A 確認書 states (内閣府「物価高騰対応重点支援地方創生臨時交付金（低所得世帯支援枠）」制度要綱 and the 事務処理要領's
model forms, which the programs of ``kiban.benefits.programs`` follow): the 受給権者's name and address on the base
date, the program and its basis, the amounts (基本額, こども加算, the municipality's 上乗せ, the total), the account
the municipality will pay to when it already knows one (masked: a notice can be misdelivered), the reply deadline
(the program's ``confirmation_end``) and the 確認番号. Dates are printed in 和暦.

``notices_pdf`` writes many notices as one PDF (one page each); ``kiban.benefits.mailing`` streams a program's
notices in parts of a bounded size, so a large town never holds them all in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer, Table, TableStyle

from kiban.benefits.models import format_confirmation_code
from kiban.benefits.programs import Program
from kiban.benefits.service import ACCOUNT_TYPES, BankAccount
from kiban.core.banks import masked_account_number
from kiban.core.dates import to_wareki
from kiban.core.money import format_yen
from kiban.core.pdf import a4_pdf, japanese_font

TITLE = "支給要件確認書"


@dataclass(frozen=True)
class ConfirmationNotice:
    """One household's 確認書, as printed."""

    issuer: str
    """e.g. 「千代田区長」."""
    issued_on: date
    program: Program
    household_no: str
    confirmation_code: str
    name: str
    """受給権者 (the 世帯主) as on the base date."""
    postal_code: str
    """7 digits."""
    address: str
    members: int
    children: int
    base_amount: int
    child_addition: int
    top_up: int
    amount: int
    account: BankAccount | None


def masked_account(account: BankAccount) -> str:
    """「金融機関 0005・支店 123 普通 ＊＊＊＊567」: codes and the last digits only."""
    hidden = masked_account_number(account.account_number)
    kind = ACCOUNT_TYPES.get(account.account_type, account.account_type)
    return f"金融機関 {account.bank_code}・支店 {account.branch_code} {kind} {hidden}"


def postal_label(postal_code: str) -> str:
    return f"〒{postal_code[:3]}-{postal_code[3:]}"


class _Styles:
    def __init__(self, font: str) -> None:
        self.text = ParagraphStyle("text", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
        self.small = ParagraphStyle("small", parent=self.text, fontSize=8.5, leading=12)
        self.title = ParagraphStyle("title", parent=self.text, fontSize=15, leading=22, alignment=TA_CENTER)
        self.name = ParagraphStyle("name", parent=self.text, fontSize=13, leading=18)
        self.right = ParagraphStyle("right", parent=self.text, alignment=TA_RIGHT)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _grid(rows: list[list[Any]], widths: list[float], shaded_last: bool = False) -> Table:
    table = Table(rows, colWidths=widths)
    style: list[Any] = [
        ("BOX", (0, 0), (-1, -1), 1.0, colors.black),
        ("INNERGRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
    ]
    if shaded_last:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#e6e6e6")))
    table.setStyle(TableStyle(style))
    return table


def _story(notice: ConfirmationNotice, s: _Styles) -> list[Flowable]:
    program = notice.program
    deadline = to_wareki(program.confirmation_end)
    amounts = [
        [_p("基本額", s.text), _p(format_yen(notice.base_amount), s.right)],
        [
            _p(f"こども加算（18歳以下の児童 {notice.children}人）", s.text),
            _p(format_yen(notice.child_addition), s.right),
        ],
        [_p("上乗せ（市区町村独自の加算）", s.text), _p(format_yen(notice.top_up), s.right)],
        [_p("支給予定額（合計）", s.text), _p(format_yen(notice.amount), s.right)],
    ]
    account = masked_account(notice.account) if notice.account else "未登録（同封の返信用紙に記入してください）"
    facts = [
        [_p("確認番号", s.text), _p(format_confirmation_code(notice.confirmation_code), s.name)],
        [_p("世帯番号", s.text), _p(notice.household_no, s.text)],
        [_p(f"世帯の人数（{to_wareki(program.base_date)}現在）", s.text), _p(f"{notice.members}人", s.text)],
        [_p("振込先口座", s.text), _p(account, s.text)],
        [_p("返送期限", s.text), _p(f"{deadline}（当日消印有効）", s.text)],
    ]
    return [
        _p(f"{program.name}", s.text),
        _p(TITLE, s.title),
        Spacer(0, 5 * mm),
        _p(postal_label(notice.postal_code), s.text),
        _p(notice.address, s.text),
        _p(f"{notice.name} 様", s.name),
        Spacer(0, 5 * mm),
        _p(
            f"あなたの世帯は、{to_wareki(program.base_date)}（基準日）現在の住民記録と課税状況から、{program.name}の"
            "支給対象と確認されました。内容を確認し、誤りがなければ署名のうえ返送するか、確認番号でオンラインの手続を"
            "してください。",
            s.text,
        ),
        Spacer(0, 4 * mm),
        _grid(amounts, [110 * mm, 60 * mm], shaded_last=True),
        Spacer(0, 4 * mm),
        _grid(facts, [60 * mm, 110 * mm]),
        Spacer(0, 4 * mm),
        _p(
            f"{deadline}までに返送またはオンラインの手続がない場合は、給付を辞退したものとみなします。振込先口座が"
            "表示されている場合、変更がなければその口座に振り込みます。",
            s.small,
        ),
        _p(f"根拠：{program.legal_basis}", s.small),
        _p(
            "この確認書は世帯主の方あてにお送りしています。心当たりのない場合や、他の市区町村でも同じ給付の案内を"
            "受けている場合は、発行した市区町村の給付金担当までお問い合わせください。",
            s.small,
        ),
        Spacer(0, 6 * mm),
        _p(f"{to_wareki(notice.issued_on)}　{notice.issuer}", s.right),
    ]


def notices_pdf(notices: Iterable[ConfirmationNotice]) -> bytes:
    """The notices as one PDF, one page each in the order given (deterministic for the same notices)."""
    s = _Styles(japanese_font())
    story: list[Flowable] = []
    for notice in notices:
        if story:
            story.append(PageBreak())
        story += _story(notice, s)
    return a4_pdf(story, title=TITLE, top=16 * mm, bottom=16 * mm)
