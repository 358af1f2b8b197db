"""Tax test data: a person's row of assessment inputs (``kiban.tax.assessment``), with sensible defaults."""

from __future__ import annotations

from datetime import date
from typing import Any


def person(no: str, **values: Any) -> dict[str, Any]:
    """A man born on 1980-05-01 with no income, his own household (``"h" + no``) unless ``values`` say otherwise."""
    row: dict[str, Any] = {
        "person_no": no,
        "household_no": "h" + no,
        "birth_date": date(1980, 5, 1),
        "sex": "male",
        "salary_revenue": 0,
        "pension_revenue": 0,
        "business_income": 0,
    }
    row.update(values)
    return row
