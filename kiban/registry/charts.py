"""Charts of ``kiban.registry.statistics`` as inline SVG, drawn on the server (no JavaScript).

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (WAI-ARIA ``aria-labelledby``), every bar
carries its own ``<title>`` (shown on hover, read by screen readers), and the page shows the same figures as tables.
Colours are from the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies. Every text is
escaped before it is placed in the markup.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from kiban.core.dates import to_wareki, wareki_year
from kiban.registry.events import EventType
from kiban.registry.statistics import MOVE_KINDS, Statistics

FONT = 'font-family="sans-serif"'
MALE, FEMALE = "#0072B2", "#D55E00"
MOVE_COLOURS = {
    EventType.MOVE_IN: "#0072B2",
    EventType.MOVE_OUT: "#D55E00",
    EventType.BIRTH: "#009E73",
    EventType.DEATH: "#7F7F7F",
    EventType.MOVE_WITHIN: "#CC79A7",
}


def nice_step(largest: int, ticks: int = 5) -> int:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving at most ``ticks`` steps up to ``largest``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if largest <= step * factor * ticks:
                return step * factor
        step *= 10


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" {FONT}{extra}>{escape(text)}</text>'
    )


def _bar(x: float, y: float, width: float, height: float, colour: str, title: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{colour}">'
        f"<title>{escape(title)}</title></rect>"
    )


def _svg(key: str, width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" role="img" aria-labelledby="{key}-title {key}-desc" data-chart="{key}">'
        f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (every text above is escaped)


def pyramid_svg(stats: Statistics) -> Markup:
    """The age pyramid: men to the left, women to the right, oldest band at the top."""
    row, top, width, middle = 16, 36, 640, 76
    height = top + row * len(stats.pyramid) + 12
    centre = width / 2
    half = centre - middle / 2 - 48  # room for the count beside the longest bar
    largest = max([max(b.male, b.female) for b in stats.pyramid] + [1])
    body = [
        _text(centre - middle / 2 - 4, 20, f"男（{stats.male:,}人）", anchor="end", size=13),
        _text(centre + middle / 2 + 4, 20, f"女（{stats.female:,}人）", size=13),
    ]
    for i, band in enumerate(reversed(stats.pyramid)):
        y = top + i * row
        body.append(_text(centre, y + row - 4, band.label, anchor="middle", size=11))
        for count, sex, colour, sign in ((band.male, "男", MALE, -1), (band.female, "女", FEMALE, 1)):
            length = half * count / largest
            edge = centre + sign * middle / 2
            x = edge - length if sign < 0 else edge
            body.append(_bar(x, y + 2, length, row - 4, colour, f"{sex} {band.label}：{count:,}人"))
            if count:
                tip = edge + sign * (length + 3)
                body.append(_text(tip, y + row - 4, f"{count:,}", anchor="end" if sign < 0 else "start", size=10))
    title = f"人口ピラミッド（{to_wareki(stats.on)}現在）"
    desc = f"5歳階級別の男女別人口。男{stats.male:,}人、女{stats.female:,}人。数値は下の表にもあります。"
    return _svg("pyramid", width, height, title, desc, body)


def moves_svg(stats: Statistics) -> Markup:
    """Grouped bars of the 異動 per month (転入, 転出, 出生, 死亡, 転居), with a legend."""
    width, height = 720, 320
    left, right, top, bottom = 44, 10, 44, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    largest = max([n for m in stats.moves for n in m.counts.values()] + [1])
    step = nice_step(largest)
    scale_top = step * -(-largest // step)
    body: list[str] = []
    for i, kind in enumerate(MOVE_KINDS):
        x = left + i * 80
        body.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{MOVE_COLOURS[kind]}"/>')
        body.append(_text(x + 16, 21, kind.label))
    for value in range(0, scale_top + 1, step):
        y = top + plot_h - plot_h * value / scale_top
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#cccccc"/>')
        body.append(_text(left - 6, y + 4, f"{value:,}", anchor="end", size=10))
    body.append(_text(left - 6, top - 8, "（件）", anchor="end", size=10))
    group = plot_w / max(len(stats.moves), 1)
    bar = group * 0.8 / len(MOVE_KINDS)
    for g, month in enumerate(stats.moves):
        x0 = left + g * group + group * 0.1
        for i, kind in enumerate(MOVE_KINDS):
            count = month.counts[kind]
            h = plot_h * count / scale_top
            title = f"{month.label} {kind.label}：{count:,}件"
            body.append(_bar(x0 + i * bar, top + plot_h - h, bar, h, MOVE_COLOURS[kind], title))
        centre = left + g * group + group / 2
        body.append(_text(centre, top + plot_h + 16, f"{month.month.month}月", anchor="middle", size=11))
        if g == 0 or month.month.month == 1:
            body.append(_text(centre, top + plot_h + 32, wareki_year(month.month), anchor="middle", size=10))
    first, last = stats.moves[0].label, stats.moves[-1].label
    title = f"月別の異動件数（{first}〜{last}）"
    desc = "転入・転出・出生・死亡・転居の月別件数の棒グラフ。数値は下の表にもあります。"
    return _svg("moves", width, height, title, desc, body)
