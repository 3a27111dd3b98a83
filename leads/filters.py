"""Which leads to list: filters, search, sort and paging read from a query string or the command line, checked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

from common.languages import LANGUAGES

STATUSES = ("qualified", "nurture", "disqualified", "partial")
CHANNELS = ("web", "slack", "teams", "rest")
SORTS = ("newest", "oldest", "score", "score_low")
PER_PAGE = 25
MAX_PER_PAGE = 200


class FilterError(ValueError):
    """A filter that cannot be read; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _moment(field: str, value: str, end_of_day: bool) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(field, f"'{field}' must be an ISO 8601 date or time, e.g. 2026-11-01T00:00:00Z.") from None
    if end_of_day and len(value.strip()) == 10:  # a whole day: up to its end
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _number(field: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise FilterError(field, f"'{field}' must be a number from {low} to {high}.")
    return int(value)


def _one_of(field: str, value: str, allowed: Tuple[str, ...]) -> str:
    if value not in allowed:
        raise FilterError(field, f"'{field}' must be one of {', '.join(allowed)}.")
    return value


def _read(field: str, value: str) -> Any:
    if field == "status":
        return _one_of(field, value, STATUSES)
    if field == "language":
        return _one_of(field, value, LANGUAGES)
    if field == "channel":
        return _one_of(field, value, CHANNELS)
    if field == "sort":
        return _one_of(field, value, SORTS)
    if field in ("since", "until"):
        return _moment(field, value, end_of_day=field == "until")
    if field == "limit":
        return _number(field, value, 1, 1000)
    if field == "page":
        return _number(field, value, 1, 100_000)
    if field == "per_page":
        return _number(field, value, 1, MAX_PER_PAGE)
    return " ".join(value.split())[:200]  # rep, conversation_id, q


FIELDS = ("status", "since", "until", "rep", "language", "channel", "conversation_id", "q", "sort", "limit")
PAGE_FIELDS = FIELDS[:-1] + ("page", "per_page")


def parse_filters(query: Any, fields: Tuple[str, ...] = FIELDS) -> Dict[str, Any]:
    """Validated filters from the query string; :class:`FilterError` (a ``ValueError``) with a clear message."""
    filters: Dict[str, Any] = {}
    for field in fields:
        value = query.get(field)
        if isinstance(value, str) and value.strip():
            filters[field] = _read(field, value.strip() if field != "q" else value)
    return filters


def parse_page_filters(query: Any) -> Tuple[Dict[str, Any], List[str]]:
    """The rep page's filters: those that read well, and the names of those that do not (left out)."""
    filters: Dict[str, Any] = {}
    bad: List[str] = []
    for field in PAGE_FIELDS:
        try:
            filters.update(parse_filters({field: query.get(field)}, (field,)))
        except FilterError:
            bad.append(field)
    return filters, bad
