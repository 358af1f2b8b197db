"""Encryption of personal data at rest: AES-256-GCM with keys from configuration, rotatable, plus keyed blind
indexes for exact lookup.

Why: 番号法 (行政手続における特定の個人を識別するための番号の利用等に関する法律) 第12条 obliges every
個人番号利用事務実施者 to take 安全管理措置 against leaks of 個人番号; the 個人情報保護委員会's
「特定個人情報の適正な取扱いに関するガイドライン（行政機関等編）」 names encryption of stored 特定個人情報 as one of
the 技術的安全管理措置. TOTP secrets are encrypted the same way, since a leaked secret defeats the second factor.

Keys: ``KIBAN_DATA_KEYS`` = ``"kid:base64key,kid:base64key,..."`` (32-byte keys). The first key encrypts; every
listed key decrypts, so a new key is put first, ``kiban keys rotate`` re-encrypts every row, and the old key is then
removed. ``KIBAN_BLIND_INDEX_KEY`` keys the HMAC-SHA256 blind index. The development keys below are refused in
production (:mod:`kiban.core.config`).

Stored form: ``v1:<kid>:<base64(nonce ‖ ciphertext ‖ tag)>``. The column's *context* (``"person.my_number"``) is the
GCM associated data, so a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from kiban.core.db import Base, TenantSession

FORMAT = "v1"
NONCE_BYTES = 12  # NIST SP 800-38D §8.2: 96-bit nonces, random per message
KEY_BYTES = 32  # AES-256


class CryptoError(Exception):
    """A stored value that does not decrypt (unknown key id, tampered data or wrong column)."""


@dataclass(frozen=True)
class Keyring:
    active: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        keys: dict[str, bytes] = {}
        for entry in (part.strip() for part in spec.split(",")):
            kid, sep, encoded = entry.partition(":")
            if not sep or not kid.isalnum():
                raise ValueError(f"KIBAN_DATA_KEYS entry {entry!r} must be 'kid:base64key' (kid alphanumeric)")
            key = base64.b64decode(encoded, validate=True)
            if len(key) != KEY_BYTES:
                raise ValueError(f"KIBAN_DATA_KEYS key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")
            if kid in keys:
                raise ValueError(f"KIBAN_DATA_KEYS lists key id {kid!r} twice")
            keys[kid] = key
        return cls(active=next(iter(keys)), keys=keys)


def generate_key(kid: str) -> str:
    """A new ``kid:base64key`` entry for ``KIBAN_DATA_KEYS``."""
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


@lru_cache(maxsize=4)
def _keyring(spec: str) -> Keyring:
    return Keyring.parse(spec)


def keyring() -> Keyring:
    from kiban.core.config import get_settings

    return _keyring(get_settings().data_keys)


def _blind_key() -> bytes:
    from kiban.core.config import get_settings

    return get_settings().blind_index_key.encode()


def encrypt(plaintext: str, *, context: str) -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.active]).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{FORMAT}:{ring.active}:{base64.b64encode(nonce + sealed).decode()}"


def encrypt_all(plaintexts: Iterable[str], *, context: str) -> list[str]:
    """``encrypt`` of many values with one key lookup and one cipher (bulk loads: a million values in seconds)."""
    ring = keyring()
    cipher = AESGCM(ring.keys[ring.active])
    prefix = f"{FORMAT}:{ring.active}:"
    associated = context.encode()
    sealed = []
    for plaintext in plaintexts:
        nonce = os.urandom(NONCE_BYTES)
        sealed.append(prefix + base64.b64encode(nonce + cipher.encrypt(nonce, plaintext.encode(), associated)).decode())
    return sealed


def key_id(token: str) -> str:
    version, _, rest = token.partition(":")
    if version != FORMAT:
        raise CryptoError(f"unknown encryption format {version!r}")
    return rest.partition(":")[0]


def decrypt(token: str, *, context: str) -> str:
    kid = key_id(token)
    key = keyring().keys.get(kid)
    if key is None:
        raise CryptoError(f"key {kid!r} is not in KIBAN_DATA_KEYS (removed before `kiban keys rotate` finished?)")
    raw = base64.b64decode(token.rpartition(":")[2])
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
    except InvalidTag as exc:
        raise CryptoError(f"value does not decrypt for {context} (tampered or moved from another column)") from exc


def blind_index(value: str, *, context: str) -> str:
    """HMAC-SHA256 of ``value`` under the blind-index key, separated per context: equal values give equal indexes,
    and without the key the index reveals nothing (a 12-digit number cannot be found by trying all of them)."""
    return hmac.new(_blind_key(), f"{context}\0{value}".encode(), hashlib.sha256).hexdigest()


def blind_indexes(values: Iterable[str], *, context: str) -> list[str]:
    """``blind_index`` of many values (the key and context are hashed once, then copied per value)."""
    keyed = hmac.new(_blind_key(), f"{context}\0".encode(), hashlib.sha256)
    indexes = []
    for value in values:
        mac = keyed.copy()
        mac.update(value.encode())
        indexes.append(mac.hexdigest())
    return indexes


class EncryptedString(TypeDecorator[str]):
    """A string column stored encrypted (see module docstring); reads return the plaintext."""

    impl = String
    cache_ok = True

    def __init__(self, *, context: str, length: int = 200) -> None:
        super().__init__(length)
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value, context=self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value, context=self.context)


def encrypted_columns() -> list[tuple[type[Any], str, str]]:
    """(mapped class, attribute, context) of every EncryptedString column of the mapped model."""
    found = []
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if isinstance(column.type, EncryptedString):
                found.append((mapper.class_, column.key, column.type.context))
    return sorted(found, key=lambda item: (item[0].__name__, item[1]))


def rotate(session: TenantSession) -> int:
    """Re-encrypt, under the active key, every value of the session's tenant still under an older key. Returns the
    number of values rewritten; a second run rewrites none. Reads the raw stored form so rows already under the
    active key are not touched."""
    ring = keyring()
    rewritten = 0
    for cls, attr, context in encrypted_columns():
        table = cls.__table__
        stored = table.c[attr]
        keys = list(table.primary_key.columns)
        raw = select(*keys, stored.cast(String)).where(
            stored.is_not(None), stored.cast(String).not_like(f"{FORMAT}:{ring.active}:%")
        )
        if session.lg_code is not None and "lg_code" in table.c:
            raw = raw.where(table.c.lg_code == session.lg_code)
        for row in session.execute(raw).all():
            *key_values, token = row
            plaintext = decrypt(token, context=context)
            where = [column == value for column, value in zip(keys, key_values, strict=True)]
            session.execute(update(table).where(*where).values({attr: plaintext}))
            rewritten += 1
    return rewritten
