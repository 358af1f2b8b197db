"""Benefit and payment test data: a town whose households are entitled to the 令和5年度 低所得世帯支援 (7万円 per
住民税非課税世帯, こども加算 5万円 per child), the staff who run, confirm, make and approve, and helpers."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select, text

from kiban.benefits.eligibility import national_parameters
from kiban.benefits.models import Entitlement
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import BankAccount, RunResult, run_eligibility
from kiban.core.db import Database, TenantSession
from kiban.core.identity.permissions import Role
from kiban.payments.zengin import Account, Sender

from residents import A, staff

PROGRAM = "low_income_2023"
PARAMETERS = national_parameters(PROGRAMS[PROGRAM])
WELFARE = staff("welfare1", Role.WELFARE)
MAKER = staff("maker1", Role.PAYMENT_MAKER)
CHECKER = staff("checker1", Role.PAYMENT_CHECKER)
CHECKER2 = staff("checker2", Role.PAYMENT_CHECKER)
SENDER = Sender(
    client_code="1234567890", name="チヨダク", account=Account("0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳ", "1", "1234567")
)
TRANSFER_DAY = date(2026, 12, 1)
"""A Tuesday (a bank business day)."""


def household_no(i: int) -> str:
    return f"H{i:05d}"


def resident(no: str, household: str, relationship: str, birth: date, status: str | None) -> dict[str, Any]:
    return {
        "person_no": no,
        "household_no": household,
        "relationship": relationship,
        "birth_date": birth,
        "tax_status": status,
    }


def town(households: int, *, children: dict[int, int] | None = None, taxable: set[int] | None = None) -> pl.DataFrame:
    """``households`` one-adult 住民税非課税世帯 (70,000 yen each), with ``children[i]`` children in household ``i``
    (+50,000 each) and the households in ``taxable`` taxed (not entitled)."""
    rows = []
    for i in range(households):
        status = "taxable" if taxable and i in taxable else "exempt"
        rows.append(resident(f"P{i:05d}", household_no(i), "世帯主", date(1970, 1, 1), status))
        for c in range((children or {}).get(i, 0)):
            rows.append(resident(f"P{i:05d}c{c}", household_no(i), "子", date(2015, 1, 1), "exempt"))
    return pl.DataFrame(rows)


def account(i: int) -> BankAccount:
    return BankAccount("0005", "123", "1", f"{i:07d}", "ヤマダ タロウ")


def run(s: TenantSession, residents: pl.DataFrame) -> RunResult:
    return run_eligibility(s, actor=WELFARE, program_code=PROGRAM, residents=residents, parameters=PARAMETERS)


def confirm_all_directly(s: TenantSession, numbers: range) -> None:
    """Test setup shortcut: mark households confirmed with an account in one statement (``confirm`` is tested on
    its own)."""
    for i in numbers:
        a = account(i)
        s.execute(
            text(
                "UPDATE benefit_entitlement SET status = 'confirmed', bank_code = :b, branch_code = :br, "
                "account_type = :t, account_number = :n, holder_kana = 'ﾔﾏﾀﾞ ﾀﾛｳ' "
                "WHERE lg_code = :lg AND program = :p AND household_no = :h AND status = 'eligible'"
            ),
            {
                "b": a.bank_code,
                "br": a.branch_code,
                "t": a.account_type,
                "n": a.account_number,
                "lg": A,
                "p": PROGRAM,
                "h": household_no(i),
            },
        )


def entitlements(database: Database) -> dict[str, Entitlement]:
    with database.tenant(A) as s:
        return {e.household_no: e for e in s.scalars(select(Entitlement).order_by(Entitlement.household_no))}
