"""Bank and branch codes (統一金融機関コード, 4 digits, and 店舗コード, 3 digits) checked against the code list of the
全国銀行協会 as the ``zengin-code`` package ships it (refreshed with its releases), and their names.

An account is checked when it is given (the resident portal, or staff keying a paper 確認書), so an unknown code is
refused with what to fix instead of coming back from the bank as 振込不能 weeks later; the pages that show accounts
name the bank and branch beside the codes. Callers check the format (digits and widths) first: these functions
only answer whether well-formed codes exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from kiban.core.errors import FieldError, InputError

BANK = "金融機関コード"
BRANCH = "支店コード"


SHOWN_DIGITS = 3
"""Digits of an account number shown in clear on screens, notices and the API."""


def masked_account_number(number: str) -> str:
    """An account number as every screen, notice and API response shows it: the last ``SHOWN_DIGITS`` digits only
    (「＊＊＊＊567」), enough for the resident or staff to recognise it, not to pay into it."""
    return "＊＊＊＊" + number[-SHOWN_DIGITS:]


@dataclass(frozen=True)
class BankBranch:
    bank_name: str
    branch_name: str


@cache
def _banks() -> dict[str, Any]:
    """Bank code → ``zengin_code.Bank`` (the whole list, loaded once per process on first use)."""
    from zengin_code import Bank

    return dict(Bank.all)


@lru_cache(maxsize=65_536)
def names(bank_code: str, branch_code: str) -> BankBranch | None:
    """The names of a bank and one of its branches, or ``None`` when either is unknown (cached per pair: a page of
    10,000 transfers looks up each distinct branch once)."""
    bank = _banks().get(bank_code)
    branch = None if bank is None else bank.branches.get(branch_code)
    if bank is None or branch is None:
        return None
    return BankBranch(str(bank.name), str(branch.name))


def unknown_codes(bank_code: str, branch_code: str | None) -> list[FieldError]:
    """What is wrong with well-formed codes, one error per field: the bank is not in the list, or (``branch_code``
    given: pass ``None`` when the branch is malformed) the bank has no such branch. Empty when both exist."""
    bank = _banks().get(bank_code)
    if bank is None:
        fix = (
            "この金融機関コードは見つかりません。通帳やキャッシュカードに記載の4桁の金融機関コードを確認してください。"
        )
        return [FieldError(BANK, bank_code, fix)]
    if branch_code is not None and branch_code not in bank.branches:
        fix = f"{bank.name}にこの支店コードは見つかりません。通帳に記載の3桁の支店番号（店番）を確認してください。"
        return [FieldError(BRANCH, branch_code, fix)]
    return []


def bank_branch(bank_code: str, branch_code: str) -> BankBranch:
    """The names of a 4-digit bank code and 3-digit branch code; ``InputError`` naming the field that is unknown."""
    found = names(bank_code, branch_code)
    if found is None:
        raise InputError(*unknown_codes(bank_code, branch_code))
    return found
