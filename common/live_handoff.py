"""How a live hand-off is written in a conversation, read the same way by the Rasa server and the leads server.

While a rep talks to a web visitor through Slack, the conversation (Rasa's
tracker, paused) records bot events whose ``metadata`` carries ``live``:

- ``{"kind": "start", "name": rep, "channel": …, "thread_ts": …, "label": …}``
  when the rep accepts (``label``: how the thread names the visitor);
- ``{"kind": "rep", "name": rep}`` with the rep's text, for each reply;
- ``{"kind": "end", "name": rep}`` when the rep hands the conversation back.

Plain Python over event dicts (Rasa's JSON): no Rasa, no database.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Optional

KEY = "live"
START, REP, END = "start", "rep", "end"
KINDS = (START, REP, END)


def marker(event: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The ``live`` metadata of a bot event, if it has a valid one."""
    if event.get("event") != "bot":
        return None
    live = (event.get("metadata") or {}).get(KEY)
    if isinstance(live, dict) and live.get("kind") in KINDS and isinstance(live.get("name"), str):
        return live
    return None


def active(events: Iterable[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The ``start`` marker of the live hand-off under way in these events, or ``None``."""
    current: Optional[Dict[str, Any]] = None
    for event in events:
        if event.get("event") in ("restart", "session_started"):
            current = None
        live = marker(event)
        if live and live["kind"] == START:
            current = live
        elif live and live["kind"] == END:
            current = None
    return current


def public(live: Mapping[str, Any]) -> Dict[str, Any]:
    """What the widget is told of a marker: its kind and the rep's name (never the Slack thread)."""
    return {"kind": live.get("kind"), "name": str(live.get("name") or "")[:200]}
