"""Slack request signatures, checked the same way by the Rasa server and the leads server.

Slack signs every request it sends with the app's signing secret:
``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`` and
``X-Slack-Request-Timestamp: <Unix seconds>``. A request whose signature does
not match, or whose timestamp is more than five minutes away from now (a
replay), is refused. Plain Python: no Rasa, no web framework.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Optional, Tuple

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
VERSION = "v0"
MAX_AGE_SECONDS = 5 * 60
_MAX_TIMESTAMP_DIGITS = 12


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``v0=<hex>`` signature Slack sends for this timestamp and body."""
    base = f"{VERSION}:{timestamp}:".encode("utf-8") + body
    return f"{VERSION}=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def check(
    secret: str, timestamp: Optional[str], given: Optional[str], body: bytes, now: Optional[float] = None
) -> Optional[Tuple[int, str]]:
    """``None`` when the request is Slack's, else ``(HTTP status, reason)``.

    Missing, wrong or stale signatures give 401; a timestamp that is not a
    number gives 400.
    """
    if not secret:
        return 503, "The Slack signing secret is not configured."
    if not timestamp or not given:
        return 401, f"The request is not signed: {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required."
    timestamp = timestamp.strip()
    if not timestamp.isdigit() or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        return 400, f"{TIMESTAMP_HEADER} must be a Unix time in seconds."
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_AGE_SECONDS:
        return 401, "The request timestamp is more than five minutes away from now; it may be a replay."
    expected = signature(secret, timestamp, body).encode("utf-8")
    if not hmac.compare_digest(expected, given.strip().encode("utf-8", "replace")):
        return 401, "The Slack signature does not match this request."
    return None
