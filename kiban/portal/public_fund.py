"""公金受取口座: the account a resident registered with the national government for public benefits, offered as the
account to pay instead of typing one.

公的給付の支給等の迅速かつ確実な実施のための預貯金口座の登録等に関する法律（令和3年法律第38号）第1条: 行政機関の長等
(municipalities included) may ask for the registered account's details to pay a 公的給付. In production the
municipality reads it through the デジタル庁 interface (情報提供ネットワークシステム / the 公金受取口座 照会 of the
デジタル庁), which is not connected to Kiban yet: ``source_for`` returns no source there and the portal does not
offer the choice. Outside production a development source derives a registered account for some residents of the
synthetic registry, deterministically from the municipality and 宛名番号, with the resident's own フリガナ as holder.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from sqlalchemy import select

from kiban.benefits.service import BankAccount
from kiban.core.config import Settings
from kiban.core.db import TenantSession
from kiban.registry.models import Person

DEVELOPMENT_BRANCHES = (("0005", "001"), ("0001", "001"), ("0009", "001"), ("9900", "019"))
"""Real bank and branch codes (三菱ＵＦＪ本店, みずほ東京営業部, 三井住友神保町, ゆうちょ〇一九) the development source
spreads its accounts over."""


class PublicFundAccounts(Protocol):
    def account_of(self, db_session: TenantSession, person_no: str) -> BankAccount | None:
        """The 公金受取口座 registered by the person with this 宛名番号 in the session's municipality, or ``None``."""
        ...


class DevelopmentPublicFundAccounts:
    """Three residents in four have a registered account (development and tests only)."""

    def account_of(self, db_session: TenantSession, person_no: str) -> BankAccount | None:
        person = db_session.scalar(select(Person).where(Person.person_no == person_no))
        if person is None:
            return None
        digest = hashlib.sha256(f"{person.lg_code}:{person_no}".encode()).digest()
        if digest[0] % 4 == 0:
            return None
        bank_code, branch_code = DEVELOPMENT_BRANCHES[digest[1] % len(DEVELOPMENT_BRANCHES)]
        number = f"{int.from_bytes(digest[2:6], 'big') % 10_000_000:07d}"
        holder = f"{person.family_name_kana}\u3000{person.given_name_kana}"
        return BankAccount(bank_code, branch_code, "1", number, holder)


def source_for(settings: Settings) -> PublicFundAccounts | None:
    """The development source outside production; none in production until the デジタル庁 interface is connected."""
    return DevelopmentPublicFundAccounts() if settings.environment != "production" else None
