"""The 納税通知書 PDF: rendered, then read back as text."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import pytest
from pypdf import PdfReader

from kiban.core.pdf import FontMissing, font_path
from kiban.tax.assessment import assess, national_parameters
from kiban.tax.notice import TaxNotice, installments, notice_pdf


@pytest.mark.parametrize(
    ("annual", "expected"),
    [(182_500, [47_500, 45_000, 45_000, 45_000]), (5_000, [2_000, 1_000, 1_000, 1_000]), (2_500, [2_500, 0, 0, 0])],
)
def test_installments_put_the_remainders_in_the_first(annual: int, expected: list[int]) -> None:
    assert installments(annual) == expected
    assert sum(installments(annual)) == annual


def test_the_notice_states_the_amounts_and_the_due_dates() -> None:
    try:
        font_path()
    except FontMissing:
        pytest.skip("no Japanese font installed (.ci/run installs fonts-ipaexfont)")
    population = pl.DataFrame(
        {
            "person_no": ["1"],
            "household_no": ["h"],
            "birth_date": [date(1980, 5, 1)],
            "sex": ["female"],
            "salary_revenue": [5_000_000],
            "pension_revenue": [0],
            "business_income": [0],
        }
    )
    # what a stored result holds (the page prints the stored row, not the intermediate values)
    result = assess(population, fiscal_year=2026, parameters=national_parameters(2026, 1))
    row = result.row(0, named=True)
    assert row["tax_credits_municipal"] > 0, "調整控除 at least"
    notice = TaxNotice(
        municipality="千代田区長",
        fiscal_year=2026,
        issued_on=date(2026, 6, 10),
        person_no="1",
        name="山田 花子",
        address="東京都千代田区千代田1-1",
        postal_code="1000001",
        result=row,
    )
    pdf = notice_pdf(notice)
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    assert "令和8年度" in text
    assert "山田花子" in text
    assert f"{row['annual_tax']:,}円" in text
    for level in ("municipal", "prefectural"):
        gross, credits = row[f"income_levy_gross_{level}"], row[f"tax_credits_{level}"]
        assert f"{gross:,}円" in text
        assert f"{credits:,}円" in text
        assert row[f"income_levy_{level}"] == (gross - credits - row[f"flat_reduction_{level}"]) // 100 * 100
    first = installments(row["annual_tax"])[0]
    assert f"{first:,}円" in text
    assert "令和8年6月" in text
    assert "令和9年1月" in text
    assert "令和8年6月10日" in text
