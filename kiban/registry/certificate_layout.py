"""The printed form of a 住民票の写し (A4 portrait, reportlab, the Japanese font embedded).

Top to bottom: the title, the household's 住所 and 世帯主, one framed block per person (氏名 with フリガナ, then the
items two to a row), 「以下余白」, the items left out, and the certification (認証文, date in 和暦, 市区町村長). A long
household continues on the next page; a person's block and the certification are never split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kiban.core.dates import to_wareki
from kiban.core.pdf import a4_pdf, japanese_font

if TYPE_CHECKING:
    from kiban.registry.certificate import CopyPerson, ResidentCopy

TITLE = "住民票（写し）"
CERTIFICATION = "この写しは、住民票の原本と相違ないことを証明する。"
WIDTH = A4[0] - 40 * mm
LABEL, VALUE = 34 * mm, WIDTH / 2 - 34 * mm
LINE = colors.HexColor("#333333")
SHADE = colors.HexColor("#eeeeee")


class _Styles:
    def __init__(self, font: str) -> None:
        base = ParagraphStyle("base", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
        self.text = base
        self.label = ParagraphStyle("label", parent=base, fontSize=9, leading=12)
        self.kana = ParagraphStyle("kana", parent=base, fontSize=7.5, leading=10)
        self.name = ParagraphStyle("name", parent=base, fontSize=13, leading=17)
        self.title = ParagraphStyle("title", parent=base, fontSize=20, leading=26, alignment=TA_CENTER)
        self.right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
        self.issuer = ParagraphStyle("issuer", parent=base, fontSize=14, leading=20, alignment=TA_RIGHT)


def _grid(rows: list[list[Any]], spans: list[tuple[tuple[int, int], tuple[int, int]]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths)
    commands: list[Any] = [
        ("BOX", (0, 0), (-1, -1), 1.0, LINE),
        ("INNERGRID", (0, 0), (-1, -1), 0.4, LINE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    for start, end in spans:
        commands.append(("SPAN", start, end))
    for r, row in enumerate(rows):
        for c in range(0, len(row), 2):
            if row[c] != "":  # a label (not a cell covered by a span)
                commands.append(("BACKGROUND", (c, r), (c, r), SHADE))
    table.setStyle(TableStyle(commands))
    return table


def _household(copy: ResidentCopy, s: _Styles) -> Table:
    rows = [
        [Paragraph("住所", s.label), Paragraph(escape(copy.address), s.text)],
        [Paragraph("世帯主", s.label), Paragraph(escape(copy.head_name), s.text)],
    ]
    return _grid(rows, [], [LABEL, WIDTH - LABEL])


def _items(person: CopyPerson) -> list[tuple[str, str]]:
    items = [
        ("生年月日", to_wareki(person.birth_date)),
        ("性別", person.sex),
        ("住民となった日", to_wareki(person.resident_since)),
        ("住所を定めた日", to_wareki(person.address_since)),
    ]
    if person.relationship is not None:
        items.append(("続柄", person.relationship))
    if person.nationality is not None:
        items.append(("国籍・地域", person.nationality))
    if person.residence_status is not None:
        items.append(("在留資格", person.residence_status))
        until = to_wareki(person.residence_until) if person.residence_until else "（定めなし）"
        items.append(("在留期間の満了の日", until))
    if person.resident_code is not None:
        items.append(("住民票コード", person.resident_code))
    if person.my_number is not None:
        items.append(("個人番号", person.my_number))
    return items


def _person(person: CopyPerson, s: _Styles) -> Table:
    name = [Paragraph(escape(person.name_kana), s.kana), Paragraph(escape(person.name), s.name)]
    rows: list[list[Any]] = [[Paragraph("氏名", s.label), name, "", ""]]
    spans = [((1, 0), (3, 0))]
    pairs = _items(person)
    for i in range(0, len(pairs), 2):
        row: list[Any] = []
        for label, value in pairs[i : i + 2]:
            row += [Paragraph(label, s.label), Paragraph(escape(value), s.text)]
        if len(row) == 2:
            row += ["", ""]
            spans.append(((1, len(rows)), (3, len(rows))))
        rows.append(row)
    return _grid(rows, spans, [LABEL, VALUE, LABEL, VALUE])


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(japanese_font(), 8)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{TITLE}\u3000{doc.page}枚目")
    canvas.restoreState()


def render_pdf(copy: ResidentCopy) -> bytes:
    """The copy as PDF bytes (deterministic for the same content: no creation timestamp or random ids)."""
    s = _Styles(japanese_font())
    story: list[Flowable] = [Paragraph(TITLE, s.title), Spacer(0, 6 * mm), _household(copy, s), Spacer(0, 4 * mm)]
    for person in copy.persons:
        story += [KeepTogether([_person(person, s)]), Spacer(0, 3 * mm)]
    story.append(Paragraph("以下余白", s.right))
    if copy.omitted:
        story.append(Paragraph(escape(f"（{'・'.join(copy.omitted)}の記載は省略しています。）"), s.label))
    story.append(
        KeepTogether(
            [
                Spacer(0, 10 * mm),
                Paragraph(CERTIFICATION, s.text),
                Spacer(0, 4 * mm),
                Paragraph(escape(to_wareki(copy.issued_on)), s.text),
                Spacer(0, 4 * mm),
                Paragraph(escape(copy.issuer), s.issuer),
            ]
        )
    )
    return a4_pdf(story, title=TITLE, top=18 * mm, bottom=20 * mm, author=copy.issuer, on_page=_page_number)
