"""Bulk forms of encryption and blind indexes (what ``kiban.registry.load`` uses) agree with the one-value forms."""

from __future__ import annotations

import pytest

from kiban.core.crypto import CryptoError, blind_index, blind_indexes, decrypt, encrypt_all, keyring

CONTEXT = "person.my_number"


def test_encrypt_all_seals_each_value_under_the_active_key_with_its_own_nonce() -> None:
    values = ["123456789018", "123456789018", "000000000019"]
    sealed = encrypt_all(values, context=CONTEXT)
    assert [decrypt(token, context=CONTEXT) for token in sealed] == values
    assert all(token.startswith(f"v1:{keyring().active}:") for token in sealed)
    assert sealed[0] != sealed[1]
    with pytest.raises(CryptoError):
        decrypt(sealed[0], context="transfer_certificate.my_number")


def test_blind_indexes_equal_blind_index_one_by_one() -> None:
    values = ["123456789018", "000000000019", ""]
    assert blind_indexes(values, context=CONTEXT) == [blind_index(v, context=CONTEXT) for v in values]
    assert blind_indexes(values[:1], context="other") != blind_indexes(values[:1], context=CONTEXT)
