"""One request to a CRM's API: JSON in and out, its failures as :class:`CrmError`."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Dict, Mapping, Optional

import requests

TIMEOUT = (3, 15)


class CrmError(Exception):
    """A CRM refused or did not answer: the HTTP status (if any), what it said, when to try again."""

    def __init__(self, message: str, status: Optional[int] = None, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def retry_after(value: Optional[str], now: Optional[datetime] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


def call(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any = None,
    form: Optional[Dict[str, str]] = None,
    session: Optional[requests.Session] = None,
) -> Any:
    """Send one request; the decoded JSON answer (``None`` for an empty one), or :class:`CrmError`."""
    sender = session or requests
    try:
        response = sender.request(
            method, url, headers=dict(headers), json=body if form is None else None, data=form, timeout=TIMEOUT
        )
    except requests.RequestException as error:
        raise CrmError(f"{type(error).__name__}: the CRM did not answer") from None
    if not 200 <= response.status_code < 300:
        raise CrmError(
            f"HTTP {response.status_code}: {response.text[:300]}",
            response.status_code,
            retry_after(response.headers.get("Retry-After")),
        )
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise CrmError(f"HTTP {response.status_code}: the answer is not JSON", response.status_code) from None


def updated(method: str, url: str, headers: Mapping[str, str], body: Any) -> Any:
    """Update an object the CRM made before; ``None`` when it is gone there (deleted by a
    rep: the caller makes it again), else the answer (``{}`` for an empty one)."""
    try:
        answer = call(method, url, headers, body)
    except CrmError as error:
        if error.status in (404, 410):
            return None
        raise
    return {} if answer is None else answer
