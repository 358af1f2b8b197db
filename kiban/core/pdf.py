"""A Japanese font for PDFs rendered with reportlab (certificates, notices), and the A4 document they are built into
(``a4_pdf``).

reportlab's built-in CID fonts are not embedded, so what a reader shows depends on the reader's own fonts; Kiban
embeds a TrueType font instead (reportlab subsets it), so a printed 住民票の写し looks the same everywhere. The font is
``KIBAN_JP_FONT`` when set, otherwise the first of ``CANDIDATES`` present (IPAex fonts as packaged by Debian and
Ubuntu: ``fonts-ipaexfont-mincho`` / ``fonts-ipaexfont-gothic``, or the older IPA fonts). TrueType outlines only:
reportlab cannot embed CFF-based OpenType fonts (such as Noto Sans CJK).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate

from kiban.core.errors import KibanError

FONT_ENV = "KIBAN_JP_FONT"
CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
    "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
)
"""Mincho first: certificates are customarily printed in a 明朝体."""


class FontMissing(KibanError):
    """No Japanese TrueType font to embed: the server needs one installed (or ``KIBAN_JP_FONT``)."""


def font_path(environ: Mapping[str, str] | None = None, candidates: Sequence[str] = CANDIDATES) -> Path:
    """The font file to embed: ``KIBAN_JP_FONT`` (which must exist when set), else the first candidate present."""
    env = os.environ if environ is None else environ
    chosen = env.get(FONT_ENV, "").strip()
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise FontMissing(
                f"環境変数 {FONT_ENV} に指定された日本語フォント「{chosen}」が見つかりません。"
                "TrueType 形式（.ttf）のフォントファイルのパスを指定してください。"
            )
        return path
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(
        "PDF に埋め込む日本語フォントが見つかりません。IPAex フォント（Debian/Ubuntu のパッケージ fonts-ipaexfont）を"
        f"導入するか、環境変数 {FONT_ENV} に TrueType 形式（.ttf）のフォントファイルのパスを指定してください。"
    )


@lru_cache(maxsize=8)
def _register(path: str) -> str:
    name = "KibanJP-" + Path(path).stem
    pdfmetrics.registerFont(TTFont(name, path))
    return name


def japanese_font() -> str:
    """The reportlab font name of the Japanese font (registered on first use); ``FontMissing`` if there is none."""
    return _register(str(font_path()))


def a4_pdf(
    story: Sequence[Flowable],
    *,
    title: str,
    top: float,
    bottom: float,
    author: str | None = None,
    on_page: Callable[[Canvas, Any], None] | None = None,
) -> bytes:
    """``story`` as A4 PDF bytes: 20 mm margins left and right, ``top``/``bottom`` as given, the document's title and
    language (ja-JP) declared, ``on_page`` drawn on every page; deterministic for the same story (``invariant``: no
    creation time or random ids)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=top,
        bottomMargin=bottom,
        title=title,
        author=author,
        lang="ja-JP",
        invariant=True,
    )
    page = on_page or (lambda canvas, doc: None)
    document.build(list(story), onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()
