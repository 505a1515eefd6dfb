"""The dashboard's charts as inline SVG, drawn on the server: no script, no CDN, works offline.

Each function returns markup for one `<svg>`; the page puts it in a `<figure>` with a caption and a
table of the same figures (the alternative for screen readers and for anyone who wants numbers).
The SVG is `role="img"` with a one-sentence label, so assistive technology reads the label and not
the drawing's loose texts. Colours come from classes in static/analytics.css (the console's CSP
allows no inline style); every label is escaped, since entry ids and reasons are staff-written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LINE_HEIGHT = 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 16, 16, 32
BAR_ROW = 28
BAR_LABEL = 220  # room on the left for the bar's name
BAR_NOTE = 150  # room on the right for its value or note
MAX_X_LABELS = 8
MAX_POINTS = 62  # mark each day with a dot up to two months; beyond that only the line
MAX_LABEL_CHARS = 30


@dataclass(frozen=True)
class Series:
    """One line of a line chart: one value per x label (its colour follows its place: s1, s2)."""

    values: tuple[float, ...]


def nice_max(value: float) -> float:
    """The axis top: the smallest 1, 2, 4, 5 or 8 x 10^k at or above `value` (1 for nothing), so
    its quarters are round numbers."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 4, 5, 8, 10) if step * power >= value)


def tick(value: float, percent: bool) -> str:
    """An axis or bar label: a whole number, one decimal when needed, or a percentage."""
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _svg(label: str, height: int, body: list[str], css: str) -> Markup:
    head = (
        f'<svg class="chart {css}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text in it went through escape()


def line_chart(
    label: str, x_labels: Sequence[str], series: Sequence[Series], percent: bool = False
) -> Markup:
    """One line per series over the days in `x_labels` (shown as MM-DD), y from 0; percent: 0..1."""
    top = 1.0 if percent else nice_max(max((v for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, LINE_HEIGHT - PAD_TOP - PAD_BOTTOM
    count = len(x_labels)

    def x(i: int) -> float:
        return PAD_LEFT + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    def y(v: float) -> float:
        return PAD_TOP + plot_h * (1 - min(v, top) / top)

    body = []
    for step in range(5):  # gridlines and y labels at 0, 1/4 ... top
        value = top * step / 4
        body.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(value):.1f}"'
            f' y2="{y(value):.1f}"/>'
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{escape(tick(value, percent))}</text>"
        )
    every = max(1, math.ceil(count / MAX_X_LABELS))
    for i, name in enumerate(x_labels):
        if i % every == 0:
            body.append(
                f'<text class="axis" x="{x(i):.1f}" y="{LINE_HEIGHT - 10}" text-anchor="middle">'
                f"{escape(name[5:] if len(name) == 10 else name)}</text>"
            )
    for number, line in enumerate(series, start=1):
        points = [(x(i), y(v)) for i, v in enumerate(line.values[:count])]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        body.append(f'<polyline class="series s{number}" points="{path}"/>')
        if count <= MAX_POINTS:
            body += [
                f'<circle class="dot s{number}" cx="{px:.1f}" cy="{py:.1f}" r="3"/>' for px, py in points
            ]
    return _svg(label, LINE_HEIGHT, body, "line")


def bar_chart(
    label: str, rows: Sequence[tuple[str, float]], percent: bool = False, notes: Sequence[str] = ()
) -> Markup:
    """Horizontal bars, one per (name, value), in the given order; percent: values 0..1. A bar's
    text after it is its value, or its note when `notes` has one (e.g. "12 (75% helpful)")."""
    top = 1.0 if percent else nice_max(max((v for _, v in rows), default=0))
    height = PAD_TOP + BAR_ROW * max(len(rows), 1) + 8
    room = WIDTH - BAR_LABEL - PAD_RIGHT - BAR_NOTE  # the value's text goes after the bar
    body = [f'<line class="grid" x1="{BAR_LABEL}" x2="{BAR_LABEL}" y1="{PAD_TOP - 4}" y2="{height - 4}"/>']
    for i, (name, value) in enumerate(rows):
        top_y = PAD_TOP + i * BAR_ROW
        width = room * min(value, top) / top
        body.append(
            f'<text class="axis" x="{BAR_LABEL - 8}" y="{top_y + 17}" text-anchor="end">'
            f"{escape(_short(name))}</text>"
            f'<rect class="bar" x="{BAR_LABEL}" y="{top_y + 4}" width="{width:.1f}" height="{BAR_ROW - 8}"/>'
            f'<text class="value" x="{BAR_LABEL + width + 6:.1f}" y="{top_y + 17}">'
            f"{escape(notes[i] if i < len(notes) else tick(value, percent))}</text>"
        )
    return _svg(label, height, body, "bars")
