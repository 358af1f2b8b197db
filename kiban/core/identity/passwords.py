"""Password hashing (argon2id, RFC 9106 via argon2-cffi) and the password policy.

Policy after NIST SP 800-63B §5.1.1 and デジタル庁「政府情報システムにおける認証に関するガイドライン」: length over
composition rules, at least 12 characters, no more than 128.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiban.core.errors import FieldError, InputError

_hasher = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 128


def policy_error(password: str) -> FieldError | None:
    if MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return None
    return FieldError("パスワード", "（表示しません）", f"{MIN_LENGTH}文字以上{MAX_LENGTH}文字以下で設定してください。")


def hash_password(password: str) -> str:
    error = policy_error(password)
    if error is not None:
        raise InputError(error)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")
"""Verified against when the user does not exist, so a wrong user id takes as long as a wrong password."""
