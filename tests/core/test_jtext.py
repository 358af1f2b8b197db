"""Normalization per field kind, and the 全銀 character set."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.core.errors import InputError
from kiban.core.jtext import (
    ZENGIN_CHARACTERS,
    FieldKind,
    digits,
    normalize,
    to_fullwidth_katakana,
    to_halfwidth_ascii,
    zengin_kana,
)


def _error_fix(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    (error,) = excinfo.value.errors
    return error.fix


# --- NAME -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  山田   太郎 ", "山田　太郎"),
        ("山田\u3000 \u3000太郎", "山田　太郎"),
        ("髙橋　﨑子", "髙橋　﨑子"),  # characters typed are kept, never "corrected" to 高/崎
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ"),  # half-width katakana become full-width
        ("ＹＡＭＡＤＡ Taro", "ＹＡＭＡＤＡ　Taro"),  # latin width is kept
        ("カ\u3099ン", "ガン"),  # NFC composes a combining voicing mark
    ],
)
def test_name_keeps_characters_and_unifies_spaces(typed: str, expected: str) -> None:
    assert normalize(typed, FieldKind.NAME, field="氏名") == expected


def test_name_refuses_control_characters() -> None:
    with pytest.raises(InputError, match="氏名"):
        normalize("山田\n太郎", FieldKind.NAME, field="氏名")


# --- KANA -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("やまだ　たろう", "ヤマダ　タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ"),
        ("ｶﾞｯｺｳ", "ガッコウ"),
        ("ﾊﾟｰｸ", "パーク"),
        ("コ-ヒ－", "コーヒー"),
        ("ｺｰﾋｰ", "コーヒー"),
        ("ヤマダ   \u3000タロウ", "ヤマダ　タロウ"),
        (" ゔぁいおりん ", "ヴァイオリン"),
    ],
)
def test_kana_becomes_fullwidth_katakana(typed: str, expected: str) -> None:
    assert normalize(typed, FieldKind.KANA, field="フリガナ") == expected


@pytest.mark.parametrize("typed", ["山田", "yamada", "ヤマダ1", "ヤマダ・タロウ", "ﾔﾏﾀﾞ（ﾀﾛｳ）"])
def test_kana_refuses_other_characters(typed: str) -> None:
    with pytest.raises(InputError) as excinfo:
        normalize(typed, FieldKind.KANA, field="フリガナ")
    assert "フリガナ" in str(excinfo.value)
    assert _error_fix(excinfo) == "カタカナまたはひらがなで入力してください（例：ヤマダ　タロウ）。"


kana_input = st.text(
    alphabet=st.sampled_from(list("あいうえおかがぱっゃアイガパッャヴーｱｲｶﾞﾊﾟｯｬｰ -　")), min_size=1, max_size=20
)


@given(kana_input)
def test_kana_is_idempotent(typed: str) -> None:
    try:
        once = normalize(typed, FieldKind.KANA, field="フリガナ")
    except InputError:
        return
    assert normalize(once, FieldKind.KANA, field="フリガナ") == once


# --- empty values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FieldKind))
def test_empty_is_refused_unless_optional(kind: FieldKind) -> None:
    with pytest.raises(InputError) as excinfo:
        normalize(" \u3000 ", kind, field="項目")
    assert _error_fix(excinfo) == "入力してください。"
    assert normalize(" \u3000 ", kind, field="項目", required=False) == ""


# --- DIGITS, ALNUM --------------------------------------------------------------------------------------------


def test_digits() -> None:
    assert normalize("０３－１２３４－５６７８", FieldKind.DIGITS, field="電話番号") == "0312345678"
    assert digits("100 0001", field="郵便番号", length=7) == "1000001"
    assert digits("１００ー０００１", field="郵便番号", length=7) == "1000001"
    with pytest.raises(InputError) as excinfo:
        digits("12345", field="郵便番号", length=7)
    assert _error_fix(excinfo) == "7桁の数字で入力してください。"
    with pytest.raises(InputError, match="電話番号"):
        normalize("03-1234-567a", FieldKind.DIGITS, field="電話番号")
    with pytest.raises(InputError):
        normalize("①②③", FieldKind.DIGITS, field="番号")  # circled digits are not digits


def test_alnum() -> None:
    assert normalize("ＡＢＣ１２３", FieldKind.ALNUM, field="記号") == "ABC123"
    assert normalize(" abc123 ", FieldKind.ALNUM, field="記号") == "abc123"
    with pytest.raises(InputError, match="記号"):
        normalize("ABC-123", FieldKind.ALNUM, field="記号")
    with pytest.raises(InputError):
        normalize("あ1", FieldKind.ALNUM, field="記号")


# --- ADDRESS, FREE --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("東京都千代田区霞が関１－２－３", "東京都千代田区霞が関1-2-3"),
        ("霞が関1ー2ー3", "霞が関1-2-3"),
        ("霞が関１‐２−３　コーポ山田１０１", "霞が関1-2-3　コーポ山田101"),  # ー inside コーポ is kept
        ("二丁目3番4号  ﾊｲﾂ", "二丁目3番4号　ハイツ"),
    ],
)
def test_address(typed: str, expected: str) -> None:
    assert normalize(typed, FieldKind.ADDRESS, field="住所") == expected


def test_free_only_trims_and_composes() -> None:
    assert normalize("  ｶﾞ ＡＢ\n備考 ", FieldKind.FREE, field="備考") == "ｶﾞ ＡＢ\n備考"
    assert normalize("カ\u3099", FieldKind.FREE, field="備考") == "ガ"


# --- helpers --------------------------------------------------------------------------------------------------


def test_width_helpers() -> None:
    assert to_fullwidth_katakana("やまだ ﾀﾞｲｽｹ") == "ヤマダ ダイスケ"
    assert to_halfwidth_ascii("ＡＢＣ　１２３－ヤマダ") == "ABC 123-ヤマダ"


# --- 全銀 -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ヤマダ　キョウコ", "ﾔﾏﾀﾞ ｷﾖｳｺ"),
        ("やまだ  たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ｻﾄｳ ｼｮｳｺﾞ", "ｻﾄｳ ｼﾖｳｺﾞ"),
        ("ハットリ", "ﾊﾂﾄﾘ"),
        ("コーヒー", "ｺ-ﾋ-"),
        ("ヴァイオリン", "ｳﾞｱｲｵﾘﾝ"),
        ("カ）ヤマダショウジ", "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"),
        ("smith john", "SMITH JOHN"),
        ("ｽﾐｽ・ｼﾞｮﾝ", "ｽﾐｽ.ｼﾞﾖﾝ"),
    ],
)
def test_zengin_kana(typed: str, expected: str) -> None:
    assert zengin_kana(typed) == expected


@pytest.mark.parametrize("typed", ["山田太郎", "ﾔﾏﾀﾞ,ﾀﾛｳ", "ヤマダ＆カンパニー", ""])
def test_zengin_kana_refuses_what_has_no_zengin_form(typed: str) -> None:
    with pytest.raises(InputError, match="受取人名"):
        zengin_kana(typed)


@given(st.text(alphabet=st.sampled_from(list("あぁゃっアァャッヴヰーｰｧｶﾞabcXYZ０１ 　().-・（）")), max_size=30))
def test_zengin_kana_output_uses_only_allowed_characters(typed: str) -> None:
    try:
        result = zengin_kana(typed)
    except InputError:
        return
    assert set(result) <= ZENGIN_CHARACTERS
    assert "  " not in result
    assert zengin_kana(result) == result
