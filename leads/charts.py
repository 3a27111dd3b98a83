"""Bar charts as inline SVG, drawn on the server: readable, accessible, no library.

Each chart has a ``<title>`` and a ``<desc>`` (screen readers read them with
``role="img"``), and every bar has its number printed next to it. Labels sit
on their own line above their bar, so that the chart stays readable when the
page is as narrow as a phone. Every text is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Optional, Sequence, Tuple

WIDTH = 400
ROW = 46
BAR = 18
TOP = 8
#: Characters of a label shown on the chart (the whole label is in the bar's tooltip and the CSV).
LABEL_CHARS = 44
COLORS = ("#0b5fff", "#3b7cff", "#5a8fff", "#1a7f37", "#b26b00", "#6f42c1")


def _short(label: str) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[Tuple[str, int, Optional[str]]],
    colors: Sequence[str] = COLORS[:1],
) -> str:
    """Horizontal bars: ``rows`` are ``(label, value, shown)``; ``shown`` is the printed number (``value`` if None)."""
    largest = max([value for _, value, _ in rows] + [1])
    height = TOP + ROW * max(len(rows), 1) + 4
    number_room = 96
    span = WIDTH - number_room
    parts = [
        f"<svg id='{escape(chart_id)}' class='chart' viewBox='0 0 {WIDTH} {height}' role='img' "
        f"aria-labelledby='{escape(chart_id)}-t {escape(chart_id)}-d' xmlns='http://www.w3.org/2000/svg' "
        "font-family='system-ui,sans-serif'>",
        f"<title id='{escape(chart_id)}-t'>{escape(title)}</title>",
        f"<desc id='{escape(chart_id)}-d'>{escape(description)}</desc>",
    ]
    for index, (label, value, shown) in enumerate(rows):
        y = TOP + index * ROW
        width = 0 if value <= 0 else max(2, round(span * value / largest))
        color = colors[index % len(colors)]
        number = shown if shown is not None else str(value)
        parts.append(
            f"<g class='bar'><title>{escape(str(label))}: {escape(number)}</title>"
            f"<text x='0' y='{y + 14}' font-size='15' fill='#1c2330'>{escape(_short(label))}</text>"
            f"<rect x='0' y='{y + 20}' width='{width}' height='{BAR}' rx='3' fill='{color}'></rect>"
            f"<text x='{width + 6}' y='{y + 34}' font-size='15' font-weight='600' fill='#1c2330' "
            f"class='value'>{escape(number)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
