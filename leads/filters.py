"""Which leads to list: filters read from a query string or the command line, checked."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict

STATUSES = ("qualified", "nurture", "disqualified", "partial")


def parse_filters(query: Any) -> Dict[str, Any]:
    """Validated filters from the query string; ``ValueError`` with a clear message."""
    filters: Dict[str, Any] = {}
    status = query.get("status")
    if status:
        if status not in STATUSES:
            raise ValueError(f"'status' must be one of {', '.join(STATUSES)}.")
        filters["status"] = status
    if query.get("since"):
        try:
            since = datetime.fromisoformat(query["since"].replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("'since' must be an ISO 8601 date or time, e.g. 2026-11-01T00:00:00Z.") from None
        filters["since"] = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
    for key in ("rep", "conversation_id"):
        if query.get(key):
            filters[key] = query[key][:200]
    if query.get("limit"):
        if not query["limit"].isdigit() or not 1 <= int(query["limit"]) <= 1000:
            raise ValueError("'limit' must be a number from 1 to 1000.")
        filters["limit"] = int(query["limit"])
    return filters
