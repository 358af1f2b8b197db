"""Registry test data: staff principals and a 転入 with sensible defaults (a real 千代田区 address)."""

from __future__ import annotations

from datetime import date
from typing import Any

from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal, Role, permissions_of
from kiban.registry import service

A = "131016"
"""千代田区."""
B = "011002"
"""札幌市."""
TODAY = date(2026, 11, 1)

CHIYODA = {"postal_code": "100-0001", "pref_name": "東京都", "city_name": "千代田区", "town": "千代田", "banchi": "1-1"}
SAPPORO = {
    "postal_code": "060-0042",
    "pref_name": "北海道",
    "city_name": "札幌市中央区",
    "town": "大通西",
    "banchi": "3丁目1番地",
}


def staff(user_id: str, role: Role, lg_code: str = A) -> Principal:
    return Principal(user_id, "職員", lg_code, lg_code, frozenset({role}), permissions_of(frozenset({role})))


def move_in(s: TenantSession, actor: Principal, person_no: str, household_no: str, **overrides: Any) -> int:
    args: dict[str, Any] = {
        "person_no": person_no,
        "household_no": household_no,
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": date(1980, 5, 1),
        "sex": "male",
        "relationship": "世帯主",
        **CHIYODA,
        "effective_date": date(2020, 4, 1),
        "today": TODAY,
    }
    args.update(overrides)
    return service.register_move_in(s, actor=actor, **args)
