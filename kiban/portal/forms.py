"""The account form of the portal: what the resident typed (全角/半角 either) → a checked ``BankAccount`` with the
names of its bank and branch, or every problem at once, each naming its field."""

from __future__ import annotations

from dataclasses import dataclass

from kiban.benefits.service import ACCOUNT_TYPES, BankAccount, checked_account
from kiban.core.banks import BANK, BRANCH, BankBranch, bank_branch
from kiban.core.errors import FieldError, InputError
from kiban.core.jtext import digits

NUMBER = "口座番号"
FIELDS = {
    BANK: "bank_code",
    BRANCH: "branch_code",
    "預金種目": "account_type",
    NUMBER: "account_number",
    "口座名義（カナ）": "holder_kana",
}
"""Japanese field label (as in ``FieldError.field``) → form field name."""
NUMBER_LENGTH = 7


@dataclass(frozen=True)
class CheckedAccount:
    account: BankAccount
    """Half-width digits, the number padded to 7 digits, the holder in 全銀 characters."""
    names: BankBranch

    @property
    def type_label(self) -> str:
        return ACCOUNT_TYPES[self.account.account_type]


def errors_by_field(errors: tuple[FieldError, ...] | list[FieldError]) -> dict[str, FieldError]:
    """The first error of each form field, keyed by the form field's name."""
    found: dict[str, FieldError] = {}
    for error in errors:
        found.setdefault(FIELDS.get(error.field, error.field), error)
    return found


def account_from_form(
    *, bank_code: str, branch_code: str, account_type: str, account_number: str, holder_kana: str
) -> CheckedAccount:
    errors: list[FieldError] = []

    def number(value: str, field: str, length: int | None) -> str:
        try:
            return digits(value, field=field, length=length)
        except InputError as exc:
            errors.extend(exc.errors)
            return value.strip()

    bank = number(bank_code, BANK, 4)
    branch = number(branch_code, BRANCH, 3)
    account_no = number(account_number, NUMBER, None)
    if account_no.isdigit() and len(account_no) > NUMBER_LENGTH:
        fix = f"{NUMBER_LENGTH}桁以内の数字で入力してください（通帳の口座番号。ゆうちょ銀行は振込用の店名・口座番号）。"
        errors.append(FieldError(NUMBER, account_number, fix))
    elif account_no.isdigit():
        account_no = account_no.zfill(NUMBER_LENGTH)
    account = BankAccount(bank, branch, account_type.strip(), account_no, holder_kana)
    try:
        account = checked_account(account)  # also checks the codes against the 全銀協 list
    except InputError as exc:
        already = {e.field for e in errors}
        errors.extend(e for e in exc.errors if e.field not in already)
    if errors:
        order = list(FIELDS)
        raise InputError(*sorted(errors, key=lambda e: order.index(e.field) if e.field in order else len(order)))
    return CheckedAccount(account, bank_branch(account.bank_code, account.branch_code))
