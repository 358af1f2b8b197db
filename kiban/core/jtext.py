"""Japanese text normalization, one rule per kind of field.

A field's kind decides what is changed and what is refused:

* ``NAME`` (氏名): the characters typed are kept (a 髙 stays 髙); only spaces are trimmed and unified (runs of half- or
  full-width spaces become one 「　」), the text is NFC-composed, and half-width katakana become full-width.
* ``KANA`` (フリガナ): hiragana or katakana of either width; the result is full-width katakana with 「ー」 for the long
  vowel and one full-width space between 氏 and 名. Anything else (kanji, latin letters) is refused.
* ``DIGITS``: full-width digits become half-width; hyphens and spaces of any width are removed.
* ``ALNUM``: latin letters and digits of either width become half-width (「ＡＢＣ１２３」→「ABC123」).
* ``ADDRESS`` (住所): kanji and kana are kept; full-width digits become half-width and a hyphen-like character between
  two digits becomes 「-」 (「１－２－３」「1ー2ー3」→「1-2-3」), the way 住所 are usually keyed and printed.
* ``FREE``: NFC and trimming only.

``zengin_kana`` converts a name to the single-byte character set of 全銀 transfer files (see ``/work/shared/guide/
DOMAIN.md``, 全銀協「全銀協標準通信プロトコル」総合振込 record format).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

import jaconv

from kiban.core.errors import FieldError, InputError


class FieldKind(StrEnum):
    NAME = "name"
    KANA = "kana"
    DIGITS = "digits"
    ALNUM = "alnum"
    ADDRESS = "address"
    FREE = "free"


_REQUIRED = "入力してください。"
_KANA_FIX = "カタカナまたはひらがなで入力してください（例：ヤマダ　タロウ）。"
_DIGITS_FIX = "数字で入力してください（例：0312345678）。"
_ALNUM_FIX = "英字と数字で入力してください（例：ABC123）。"
_CONTROL_FIX = "改行や制御文字を含めずに入力してください。"
_ZENGIN_FIX = "カタカナ・英大文字・数字と「( ) - .」で入力してください（例：ﾔﾏﾀﾞ ﾀﾛｳ）。漢字は使えません。"

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SPACE_RUN = re.compile(r"[ \u3000\t]+")
_HYPHENS = "-－‐‑‒–—―−ー─━ｰ"
_DIGIT_HYPHEN = re.compile(rf"(?<=[0-9])[{_HYPHENS}](?=[0-9])")
_DIGIT_SEPARATORS = re.compile(rf"[\s\u3000{_HYPHENS}]")
_KANA_LONG_VOWEL = str.maketrans(dict.fromkeys("-－‐‑‒–—―−─━ｰ", "ー"))
_KANA_RESULT = re.compile(r"[ァ-ヶヽヾー]+(\u3000[ァ-ヶヽヾー]+)*")


def _fail(field: str, value: str, fix: str) -> InputError:
    return InputError(FieldError(field, value, fix))


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text if c != "\t")


def _unify_spaces(text: str) -> str:
    """Trim, then turn every run of half-/full-width spaces into one full-width space."""
    return _SPACE_RUN.sub("\u3000", text.strip(" \u3000\t\r\n"))


def to_fullwidth_katakana(text: str) -> str:
    """Hiragana and half-width katakana (with ﾞ ﾟ combined: 「ｶﾞ」→「ガ」) become full-width katakana."""
    widened = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    return str(jaconv.hira2kata(unicodedata.normalize("NFC", widened)))


def to_halfwidth_ascii(text: str) -> str:
    """Full-width latin letters, digits, symbols and the full-width space become ASCII; kana are left alone."""
    return str(jaconv.z2h(text, kana=False, ascii=True, digit=True))


def _widen_halfwidth_kana(text: str) -> str:
    """Only half-width katakana (U+FF61–U+FF9F) become full-width; latin letters and digits keep their width."""
    return str(jaconv.h2z(text, kana=True, ascii=False, digit=False))


def normalize(value: str, kind: FieldKind, *, field: str, required: bool = True) -> str:
    """Normalize ``value`` as a field of ``kind``; raise ``InputError`` naming ``field`` when it is not acceptable.

    An empty value (after trimming) is refused with 「入力してください。」, or returned as ``""`` when ``required`` is
    false.
    """
    text = unicodedata.normalize("NFC", value).strip(" \u3000\t\r\n")
    if text == "":
        if required:
            raise _fail(field, value, _REQUIRED)
        return ""
    if kind is FieldKind.FREE:
        return text
    if _has_control(text):
        raise _fail(field, value, _CONTROL_FIX)
    match kind:
        case FieldKind.NAME:
            return unicodedata.normalize("NFC", _widen_halfwidth_kana(_unify_spaces(text)))
        case FieldKind.KANA:
            return _kana(text, value, field)
        case FieldKind.DIGITS:
            return _digits(text, value, field)
        case FieldKind.ALNUM:
            result = to_halfwidth_ascii(text)
            if not re.fullmatch(r"[A-Za-z0-9]+", result):
                raise _fail(field, value, _ALNUM_FIX)
            return result
        case FieldKind.ADDRESS:
            widened = unicodedata.normalize("NFC", _widen_halfwidth_kana(_unify_spaces(text)))
            return _DIGIT_HYPHEN.sub("-", widened.translate(_FULLWIDTH_DIGITS))
    raise AssertionError(kind)  # pragma: no cover - every kind is handled above


def _kana(text: str, value: str, field: str) -> str:
    katakana = to_fullwidth_katakana(_unify_spaces(text)).translate(_KANA_LONG_VOWEL)
    if not _KANA_RESULT.fullmatch(katakana):
        raise _fail(field, value, _KANA_FIX)
    return katakana


def _digits(text: str, value: str, field: str) -> str:
    result = _DIGIT_SEPARATORS.sub("", text.translate(_FULLWIDTH_DIGITS))
    if not re.fullmatch(r"[0-9]+", result):
        raise _fail(field, value, _DIGITS_FIX)
    return result


def digits(value: str, *, field: str, length: int | None = None, required: bool = True) -> str:
    """Half-width digits without separators (「０３－１２３４－５６７８」→「0312345678」), of ``length`` if given."""
    result = normalize(value, FieldKind.DIGITS, field=field, required=required)
    if length is not None and result != "" and len(result) != length:
        raise _fail(field, value, f"{length}桁の数字で入力してください。")
    return result


# --- 全銀 character set --------------------------------------------------------------------------------------
# 全銀協「全銀協標準通信プロトコル」総合振込: single-byte JIS X 0201 only — digits, A–Z, half-width katakana with ﾞ ﾟ as
# separate characters, space; no small kana, no ｰ (use -), no commas; names may use ( ) - . (DOMAIN.md, 全銀 section).

_ZENGIN_KATAKANA = "ｦｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ"
ZENGIN_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ().-" + _ZENGIN_KATAKANA)
"""Every character ``zengin_kana`` may return."""

_ZENGIN_LARGE_KANA = str.maketrans(
    {
        "ァ": "ア",
        "ィ": "イ",
        "ゥ": "ウ",
        "ェ": "エ",
        "ォ": "オ",
        "ャ": "ヤ",
        "ュ": "ユ",
        "ョ": "ヨ",
        "ッ": "ツ",
        "ヮ": "ワ",
        "ヵ": "カ",
        "ヶ": "ケ",
        "ヰ": "イ",
        "ヱ": "エ",
        "・": ".",
        "（": "(",
        "）": ")",
        "．": ".",
        **dict.fromkeys("ー－‐‑‒–—―−─━ｰ", "-"),
    }
)


def zengin_kana(value: str, *, field: str = "受取人名") -> str:
    """Convert a kana or latin name to the 全銀 character set (「ヤマダ　キョウコ」→「ﾔﾏﾀﾞ ｷﾖｳｺ」).

    Small kana become large (ャ→ﾔ, ッ→ﾂ), the long vowel becomes 「-」, latin letters become upper case, and space runs
    become one space. Kanji and other characters that have no 全銀 form raise ``InputError``.
    """
    text = to_fullwidth_katakana(unicodedata.normalize("NFC", value).strip(" \u3000\t\r\n"))
    text = text.translate(_ZENGIN_LARGE_KANA)
    text = str(jaconv.z2h(text, kana=True, ascii=True, digit=True)).upper()
    text = re.sub(r" +", " ", text.replace("\u3000", " "))
    if text == "":
        raise _fail(field, value, _REQUIRED)
    if not set(text) <= ZENGIN_CHARACTERS:
        raise _fail(field, value, _ZENGIN_FIX)
    return text
