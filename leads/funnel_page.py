"""The funnel page and its CSV files, in the rep's language: charts drawn on the server, every visitor text escaped.

Each chart's numbers come from :func:`numbers`, which the chart, the CSV file
and the page's table all read, so that what a manager downloads is what the
page shows.
"""

from __future__ import annotations

from html import escape
from typing import Any, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlencode

from leads.charts import COLORS, bar_chart
from leads.funnel import DIMENSIONS, STAGES, Figures, week_start
from leads.labels import MONTHS, colon, format_duration, text
from leads.rep_page import page, select_field
from leads.spreadsheet import to_text

CHARTS = ("stages", "groups", "questions", "handoff", "needs", "benefits", "concerns")
STYLE = (
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:4px 14px}"
    ".charts section{min-width:0}svg.chart{display:block;width:100%;max-width:560px;overflow:visible}"
    ".csv{font-size:.9em}dl.defs dt{font-weight:600;margin-top:6px}dl.defs dd{margin:0 0 0 0}"
    "table.groups td,table.groups th{text-align:right}table.groups td:first-child,table.groups th:first-child"
    "{text-align:left}.figures{display:flex;flex-wrap:wrap;gap:8px 24px;margin:6px 0}.figures b{font-size:1.25em}"
    "@media (max-width:700px){table.groups td{text-align:left}}"
)
#: How long a filter's value may be.
MAX_FILTER = 200


def _t(key: str, language: str, **values: Any) -> str:
    return text("funnel", key, language, **values)


def dimension_name(dimension: str, language: str) -> str:
    """``Week``, ``Channel``, ``Language`` or ``Rep`` in the rep's language."""
    return _t("week", language) if dimension == "week" else text("field", dimension, language)


def group_label(dimension: str, key: Optional[str], language: str) -> str:
    """A week, channel, language or rep as a rep reads it."""
    if dimension == "week":
        monday = week_start(key or "")
        if monday is None:
            return key or _t("unknown", language)
        date = f"{monday.day} {MONTHS[language][monday.month - 1]} {monday.year}"
        return _t("week_of", language, date=date)
    if dimension == "rep":
        return key or _t("no_rep", language)
    if not key:
        return _t("unknown", language)
    return text(dimension, key, language)


def _minutes(value: Optional[int], language: str) -> str:
    return "—" if value is None else format_duration(value * 60, language)


def numbers(figures: Figures, chart: str, language: str) -> Tuple[List[str], List[List[Any]]]:
    """The header and rows of one chart's numbers, in the rep's language."""
    if chart == "stages":
        return [_t("stage", language), _t("count", language)], [
            [text("stage", s, language), figures.stages[s]] for s in STAGES
        ]
    if chart == "groups":
        header = [dimension_name(figures.dimension, language)] + [text("stage", s, language) for s in STAGES]
        rows = [
            [(key or "") if figures.dimension == "week" else group_label(figures.dimension, key, language)]
            + [counts[s] for s in STAGES]
            for key, counts in figures.groups
        ]
        return header, rows
    if chart == "questions":
        header = [_t("question", language), _t("left", language), _t("reached", language)]
        return header, [[text("question", q, language), left, reached] for q, left, reached in figures.questions]
    if chart == "handoff":
        rows = [[_t(k, language), figures.handoff[k]] for k in ("median", "p90") if figures.handoff[k] is not None]
        return [_t("figure", language), _t("minutes", language)], rows
    if chart == "needs":
        return [text("field", "category", language), _t("count", language)], [
            [text("category", c, language), n] for c, n in figures.needs
        ]
    if chart == "benefits":
        return [text("field", "benefits", language), _t("count", language)], [
            [text("benefit", b, language), n] for b, n in figures.benefits
        ]
    if chart == "concerns":
        return [_t("concern", language), _t("count", language)], [[c, n] for c, n in figures.concerns]
    raise ValueError(f"no chart {chart!r}")


def csv_text(figures: Figures, chart: str, language: str) -> str:
    """One chart's numbers as CSV."""
    header, rows = numbers(figures, chart, language)
    return to_text(header, rows)


def _query(raw: Mapping[str, str], **changes: str) -> str:
    kept = {k: v for k, v in {**raw, **changes}.items() if v}
    return urlencode(kept)


def _csv_link(chart: str, raw: Mapping[str, str], language: str) -> str:
    href = "/reps/funnel.csv?" + _query(raw, chart=chart)
    return f"<p class='csv'><a href='{escape(href)}' download id='csv-{chart}'>{escape(_t('csv', language))}</a></p>"


def _listing(rows: Sequence[Tuple[str, Any]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in rows) or "—"


def _section(chart: str, title: str, svg: str, raw: Mapping[str, str], language: str, empty: bool) -> str:
    body = f"<p class='muted'>{escape(_t('none_yet', language))}</p>" if empty else svg
    return (
        f"<section class='box' id='section-{chart}'><h2>{escape(title)}</h2>{body}"
        f"{'' if empty else _csv_link(chart, raw, language)}</section>"
    )


def _bars(figures: Figures, chart: str, title_key: str, language: str, description_key: str = "list_desc") -> str:
    header, rows = numbers(figures, chart, language)
    listing = _listing([(str(r[0]), r[1]) for r in rows])
    return bar_chart(
        f"chart-{chart}",
        _t(title_key, language),
        _t(description_key, language, figures=listing),
        [(str(r[0]), int(r[1]), None, None) for r in rows],
    )


def _filter_form(figures: Figures, raw: Mapping[str, str], language: str) -> str:
    alls = {
        "week": _t("all_weeks", language),
        "channel": text("page", "all_channels", language),
        "language": text("page", "all_languages", language),
        "rep": text("page", "all_reps", language),
    }
    fields = "".join(
        select_field(
            d,
            dimension_name(d, language),
            [("", alls[d])] + [(v, group_label(d, v, language)) for v in figures.options.get(d, [])],
            raw.get(d),
        )
        for d in DIMENSIONS
    )
    by = select_field(
        "by", _t("by", language), [(d, dimension_name(d, language)) for d in DIMENSIONS], figures.dimension
    )
    hidden = f"<input type='hidden' name='lang' value='{escape(raw['lang'])}'>" if raw.get("lang") else ""
    clear = "/reps/funnel" + (f"?lang={escape(raw['lang'])}" if raw.get("lang") else "")
    return (
        "<form class='filters box' method='get' action='/reps/funnel'>"
        + fields
        + by
        + hidden
        + f"<button type='submit'>{escape(text('page', 'apply', language))}</button>"
        f"<a href='{clear}'>{escape(text('page', 'clear', language))}</a></form>"
    )


def _groups_table(figures: Figures, language: str) -> str:
    header, rows = numbers(figures, "groups", language)
    if not rows:
        return ""
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + f"<td>{escape(group_label(figures.dimension, key, language))}</td>"
        + "".join(f"<td data-label='{escape(h)}'>{n}</td>" for h, n in zip(header[1:], row[1:]))
        + "</tr>"
        for (key, _), row in zip(figures.groups, rows)
    )
    return f"<table class='leads groups' id='groups'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _handoff(figures: Figures, language: str) -> str:
    median, p90 = figures.handoff["median"], figures.handoff["p90"]
    description = _t(
        "handoff_desc",
        language,
        count=figures.handoff["accepted"],
        median=_minutes(median, language),
        p90=_minutes(p90, language),
    )
    figures_shown = (
        ("accepted_count", "handoff-count", str(figures.handoff["accepted"])),
        ("median", "handoff-median", _minutes(median, language)),
        ("p90", "handoff-p90", _minutes(p90, language)),
    )
    boxes = (
        "<div class='figures'>"
        + "".join(
            f"<span>{escape(_t(key, language) + colon(language))}<b id='{name}'>{escape(value)}</b></span>"
            for key, name, value in figures_shown
        )
        + "</div>"
    )
    rows = [
        (_t(k, language), v, _minutes(v, language), None)
        for k, v in (("median", median), ("p90", p90))
        if v is not None
    ]
    chart = bar_chart("chart-handoff", _t("handoff", language), description, rows, COLORS[3:4])
    return boxes + chart


def render(figures: Figures, raw: Mapping[str, str], language: str) -> str:
    """The whole funnel page."""
    stage_rows = [(text("stage", s, language), figures.stages[s], None, None) for s in STAGES]
    stages_chart = bar_chart(
        "chart-stages",
        _t("stages", language),
        _t("stages_desc", language, figures=_listing([(label, n) for label, n, _, _ in stage_rows])),
        stage_rows,
        COLORS,
    )
    question_rows = [
        (text("question", q, language), left, _t("left_of", language, left=left, reached=reached), reached)
        for q, left, reached in figures.questions
    ]
    questions_chart = bar_chart(
        "chart-questions",
        _t("questions", language),
        _t("questions_desc", language, figures=_listing([(label, shown) for label, _, shown, _ in question_rows])),
        question_rows,
        COLORS[4:5],
    )
    lang_suffix = f"?lang={escape(raw['lang'])}" if raw.get("lang") else ""
    definitions = "".join(
        f"<dt>{escape(text('stage', s, language))}</dt><dd>{escape(text('stage_definition', s, language))}</dd>"
        for s in STAGES
    ) + "".join(f"<dd>{escape(text('stage_definition', k, language))}</dd>" for k in ("questions", "handoff", "week"))
    groups_title = _t("groups", language, dimension=dimension_name(figures.dimension, language).lower())
    sections = [
        _section("stages", _t("stages", language), stages_chart, raw, language, False),
        _section("questions", _t("questions", language), questions_chart, raw, language, not figures.questions),
        _section("handoff", _t("handoff", language), _handoff(figures, language), raw, language, False),
        _section(
            "needs", _t("needs", language), _bars(figures, "needs", "needs", language), raw, language, not figures.needs
        ),  # fmt: skip
        _section(
            "benefits",
            _t("benefits", language),
            _bars(figures, "benefits", "benefits", language),
            raw,
            language,
            not figures.benefits,
        ),  # fmt: skip
        _section(
            "concerns",
            _t("concerns", language),
            _bars(figures, "concerns", "concerns", language),
            raw,
            language,
            not figures.concerns,
        ),  # fmt: skip
    ]
    body = (
        f"<p><a href='/reps{lang_suffix}'>{escape(text('page', 'back', language))}</a></p>"
        f"<h1>{escape(_t('title', language))}</h1><p class='muted'>{escape(_t('intro', language))}</p>"
        + _filter_form(figures, raw, language)
        + f"<div class='charts'>{''.join(sections)}</div>"
        + f"<section class='box' id='section-groups'><h2>{escape(groups_title)}</h2>"
        + (_groups_table(figures, language) or f"<p class='muted'>{escape(_t('none_yet', language))}</p>")
        + (_csv_link("groups", raw, language) if figures.groups else "")
        + "</section>"
        + f"<section class='box'><h2>{escape(_t('definitions', language))}</h2><dl class='defs'>{definitions}</dl>"
        "</section>"
    )
    return page(_t("title", language), body, language, STYLE)
