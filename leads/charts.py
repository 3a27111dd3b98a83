"""Bar charts as inline SVG, drawn on the server: readable, accessible, no library.

Each chart has a ``<title>`` and a ``<desc>`` (screen readers read them with
``role="img"``), and every bar has its number printed next to it. Texts keep
their size at any width (the chart is not scaled: bars are sized in percent of
its width), and labels sit on their own line above their bar, so that the
chart reads the same on a phone as on a laptop. Every text is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Optional, Sequence, Tuple

ROW = 46
BAR = 18
TOP = 6
#: The share of the width the longest bar takes (the rest holds its number).
SPAN = 74
#: Characters of a label shown on the chart (the whole label is in the bar's tooltip and the CSV).
LABEL_CHARS = 40
COLORS = ("#0b5fff", "#3b7cff", "#5a8fff", "#1a7f37", "#b26b00", "#6f42c1")
TRACK = "#dfe6f2"

#: One bar: its label, its value, the number printed (the value when ``None``) and, optionally, the whole it
#: is part of (drawn behind it, lighter: "3 of 7").
Row = Tuple[str, int, Optional[str], Optional[int]]


def _short(label: str) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _percent(value: int, largest: int) -> float:
    return 0.0 if value <= 0 else max(0.6, round(SPAN * value / largest, 2))


def bar_chart(
    chart_id: str, title: str, description: str, rows: Sequence[Row], colors: Sequence[str] = COLORS[:1]
) -> str:
    """Horizontal bars, one per row, each with its label above and its number after it."""
    largest = max([max(value, whole or 0) for _, value, _, whole in rows] + [1])
    height = TOP + ROW * max(len(rows), 1)
    key = escape(chart_id)
    parts = [
        f"<svg id='{key}' class='chart' width='100%' height='{height}' role='img' "
        f"aria-labelledby='{key}-t {key}-d' xmlns='http://www.w3.org/2000/svg' font-family='system-ui,sans-serif'>",
        f"<title id='{key}-t'>{escape(title)}</title><desc id='{key}-d'>{escape(description)}</desc>",
    ]
    for index, (label, value, shown, whole) in enumerate(rows):
        y = TOP + index * ROW
        width = _percent(value, largest)
        end = max(width, _percent(whole or 0, largest))
        number = shown if shown is not None else str(value)
        track = f"<rect x='0' y='{y + 22}' width='{end}%' height='{BAR}' rx='3' fill='{TRACK}'></rect>" if whole else ""
        parts.append(
            f"<g class='bar'><title>{escape(str(label))}: {escape(number)}</title>"
            f"<text x='0' y='{y + 15}' font-size='15' fill='#1c2330'>{escape(_short(label))}</text>{track}"
            f"<rect x='0' y='{y + 22}' width='{width}%' height='{BAR}' rx='3' "
            f"fill='{colors[index % len(colors)]}'></rect>"
            f"<text x='{end}%' dx='6' y='{y + 36}' font-size='15' font-weight='600' fill='#1c2330' "
            f"class='value'>{escape(number)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
