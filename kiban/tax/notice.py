"""納税通知書（税額決定通知書）of the 個人住民税, 普通徴収, as a PDF (A4, the Japanese font embedded).

What it states follows 地方税法第1条第1項第6号 (納税通知書: 賦課の根拠となった法律及び条例, 納税者の住所及び氏名,
課税標準額, 税率, 税額, 納期, 各納期における納付額, 納付の場所) and 第319条の2 (普通徴収の納税通知書); the 納期 are
those of 第320条 (6月, 8月, 10月, 1月, unless the municipality's 条例 says otherwise). The installments follow
第20条の4の2第6項: an amount under 1,000 yen of each installment, or an installment under 1,000 yen, goes to the
first 納期.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from kiban.core.dates import fiscal_year_label, to_wareki
from kiban.core.money import format_yen
from kiban.core.pdf import a4_pdf, japanese_font

DUE_MONTHS = (6, 8, 10, 1)
"""地方税法第320条: 6月, 8月, 10月 and 翌年1月 (the last day of each, by the municipality's 条例)."""


@dataclass(frozen=True)
class TaxNotice:
    municipality: str
    """Issuer, e.g. 「千代田区長」."""
    fiscal_year: int
    issued_on: date
    person_no: str
    name: str
    address: str
    postal_code: str
    result: Mapping[str, object]
    """A stored result of the assessment (``kiban.tax.assessment.RESULTS``)."""


def installments(annual: int) -> list[int]:
    """The four 普通徴収 installments of ``annual`` yen (地方税法第20条の4の2第6項: remainders under 1,000 yen to the
    first)."""
    if annual <= 0:
        return [0, 0, 0, 0]
    later = annual // 4 // 1_000 * 1_000
    return [annual - 3 * later, later, later, later]


def _yen(result: Mapping[str, object], name: str) -> str:
    value = result.get(name, 0)
    return format_yen(value if isinstance(value, int) else 0)


ROWS = [
    ("総所得金額等", "total_income_base"),
    ("所得控除額の合計", "total_deductions"),
    ("課税総所得金額等", "taxable_income"),
    ("所得割額（市町村民税、税額控除前）", "income_levy_gross_municipal"),
    ("所得割額（道府県民税、税額控除前）", "income_levy_gross_prefectural"),
    ("税額控除額等（市町村民税）", "tax_credits_municipal"),
    ("税額控除額等（道府県民税）", "tax_credits_prefectural"),
    ("所得割額（市町村民税）", "income_levy_municipal"),
    ("所得割額（道府県民税）", "income_levy_prefectural"),
    ("定額減税額（市町村民税）", "flat_reduction_municipal"),
    ("定額減税額（道府県民税）", "flat_reduction_prefectural"),
    ("均等割額（市町村民税）", "per_capita_municipal"),
    ("均等割額（道府県民税）", "per_capita_prefectural"),
    ("森林環境税", "forest_environment_tax"),
]


def notice_pdf(notice: TaxNotice) -> bytes:
    font = japanese_font()
    text = ParagraphStyle("text", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    title = ParagraphStyle("title", parent=text, fontSize=14, leading=20, alignment=TA_CENTER)
    year = fiscal_year_label(notice.fiscal_year)
    annual = notice.result.get("annual_tax", 0)
    total = annual if isinstance(annual, int) else 0
    story: list[Flowable] = [
        Paragraph(escape(f"{year} 市町村民税・道府県民税 納税通知書（税額決定通知書）"), title),
        Spacer(1, 6 * mm),
        Paragraph(escape(f"〒{notice.postal_code[:3]}-{notice.postal_code[3:]}"), text),
        Paragraph(escape(notice.address), text),
        Paragraph(escape(f"{notice.name} 様（宛名番号 {notice.person_no}）"), text),
        Spacer(1, 5 * mm),
        Paragraph(
            escape(f"あなたの{year}の個人住民税（森林環境税を含みます）の税額を次のとおり決定しましたので通知します。"),
            text,
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [[Paragraph(escape(label), text), Paragraph(_yen(notice.result, name), text)] for label, name in ROWS]
    rows.append([Paragraph("年税額", text), Paragraph(escape(format_yen(total)), text)])
    table = Table(rows, colWidths=[80 * mm, 60 * mm])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.0, colors.black),
                ("INNERGRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#eeeeee")),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ]
        )
    )
    story += [table, Spacer(1, 5 * mm)]
    due = [(notice.fiscal_year + (1 if month < 4 else 0), month) for month in DUE_MONTHS]
    schedule = [
        [
            Paragraph(escape(f"第{i}期（{to_wareki(date(y, m, 1))[:-2]}末日）"), text),
            Paragraph(format_yen(amount), text),
        ]
        for i, ((y, m), amount) in enumerate(zip(due, installments(total), strict=True), start=1)
    ]
    plan = Table(schedule, colWidths=[80 * mm, 60 * mm])
    plan.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    story += [
        Paragraph("納期及び各納期の納付額（普通徴収、地方税法第320条）", text),
        plan,
        Spacer(1, 6 * mm),
        Paragraph(
            escape(
                "課税の根拠：地方税法第24条・第294条（納税義務者）、第35条・第314条の3（所得割の税率）、"
                "第38条・第310条（均等割の税率）、森林環境税及び森林環境譲与税に関する法律第4条、及び市町村税条例。"
            ),
            text,
        ),
        Paragraph(
            escape(
                "この処分に不服がある場合は、この通知を受け取った日の翌日から起算して3か月以内に、市町村長に対して"
                "審査請求をすることができます（行政不服審査法第2条・第18条）。"
            ),
            text,
        ),
        Spacer(1, 6 * mm),
        Paragraph(escape(f"{to_wareki(notice.issued_on)}　{notice.municipality}"), text),
    ]
    return a4_pdf(story, title=f"{year} 納税通知書", top=18 * mm, bottom=25.4 * mm)
