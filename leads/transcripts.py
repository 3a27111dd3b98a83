"""A conversation's transcript as the lead keeps it: who said what, and when.

Built from Rasa's events (as dicts): the visitor's messages, the assistant's,
and, during a live hand-off, the rep's (with the rep's name).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping

from common import live_handoff

MAX_LINES = 400
MAX_CHARS = 4000


def _at(timestamp: Any) -> str:
    moment = datetime.fromtimestamp(float(timestamp or 0), tz=timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def lines(events: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The transcript: ``{"sender": "visitor"|"bot"|"rep", "text", "at"}`` (and ``name`` for a rep)."""
    found: List[Dict[str, Any]] = []
    for event in events:
        kind, text = event.get("event"), (event.get("text") or "")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text.strip():
            continue
        line: Dict[str, Any] = {"sender": "visitor" if kind == "user" else "bot", "text": text[:MAX_CHARS]}
        live = live_handoff.marker(event)
        if live and live["kind"] == live_handoff.REP:
            line["sender"], line["name"] = "rep", live["name"][:200]
        line["at"] = _at(event.get("timestamp"))
        found.append(line)
    return found[-MAX_LINES:]
