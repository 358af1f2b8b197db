"""Bank and branch codes against the 全銀協 code list (``zengin-code``): names of known codes, one error per unknown
field saying what to fix, the names cached per pair, and the benefit account check refusing unknown codes."""

from __future__ import annotations

import pytest

from kiban.benefits.service import BankAccount, checked_account
from kiban.core import banks
from kiban.core.banks import BANK, BRANCH, BankBranch
from kiban.core.errors import InputError


def test_known_codes_are_named() -> None:
    assert banks.names("0001", "001") == BankBranch("みずほ", "東京営業部")
    assert banks.names("0005", "123") == BankBranch("三菱ＵＦＪ", "横浜中山")
    assert banks.bank_branch("0001", "001").branch_name == "東京営業部"
    assert banks.unknown_codes("0001", "001") == []
    assert banks.unknown_codes("0001", None) == []  # the bank alone (the branch was malformed)


def test_unknown_codes_say_which_field_and_what_to_fix() -> None:
    assert banks.names("9999", "001") is None
    assert banks.names("0001", "999") is None
    [bank] = banks.unknown_codes("9999", "001")
    assert (bank.field, bank.received) == (BANK, "9999")
    assert "4桁の金融機関コードを確認" in bank.fix
    [branch] = banks.unknown_codes("0001", "999")
    assert (branch.field, branch.received) == (BRANCH, "999")
    assert branch.fix.startswith("みずほにこの支店コードは見つかりません")
    with pytest.raises(InputError) as refused:
        banks.bank_branch("0001", "999")
    assert [e.field for e in refused.value.errors] == [BRANCH]


def test_names_are_looked_up_once_per_pair() -> None:
    banks.names.cache_clear()
    for _ in range(1_000):
        banks.names("0001", "001")
        banks.names("0005", "123")
    info = banks.names.cache_info()
    assert (info.misses, info.hits) == (2, 1_998)


def test_a_benefit_account_with_an_unknown_bank_or_branch_is_refused_per_field() -> None:
    good = BankAccount("0001", "001", "1", "1234567", "ヤマダ タロウ")
    assert checked_account(good).holder_kana == "ﾔﾏﾀﾞ ﾀﾛｳ"
    with pytest.raises(InputError) as unknown_branch:
        checked_account(BankAccount("0001", "999", "1", "1234567", "ヤマダ タロウ"))
    assert [(e.field, e.received) for e in unknown_branch.value.errors] == [(BRANCH, "999")]
    with pytest.raises(InputError) as several:  # an unknown bank, a malformed branch and number: all at once
        checked_account(BankAccount("9999", "12", "1", "123", "ヤマダ タロウ"))
    assert [e.field for e in several.value.errors] == [BANK, BRANCH, "口座番号"]
    assert "見つかりません" in several.value.errors[0].fix
    assert "3桁の半角数字" in several.value.errors[1].fix
