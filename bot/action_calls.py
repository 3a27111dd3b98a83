"""What the Rasa server sends the action server: the conversation without what no action reads.

With every call Rasa sends the whole tracker, every event in full. Most of it
is for Rasa itself: the model and assistant ids stamped on every event, the
NLU's full reading (all intents ranked, token offsets) of every past message,
and the buttons of every past bot message. Through Rasa's own plugin hook for
the action call's body (``prefix_stripping_for_custom_actions`` in
``rasa/plugin.py``) each call carries every event still, in order, with:

- the latest visitor message as it was read, in full (also in ``latest_message``);
- earlier visitor messages with their text, intent and entities;
- every other event without the model and assistant ids Rasa stamps in its ``metadata``
  (what else is there, such as a live hand-off's marker on a rep's message, stays);
- earlier bot messages with their text, without buttons and attachments.

What the actions read (slots, the latest message, each event's kind, name,
value, text, time and input channel) is all there, so the replies are the
same; a call carries about half the bytes (see docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import pluggy

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa")

#: What Rasa stamps on every event's metadata; anything else there is kept.
RASA_STAMPS = ("model_id", "assistant_id")
#: What is kept of the NLU's reading of a visitor message before the latest one.
KEPT_PARSE_DATA = ("intent", "entities", "text", "message_id")


def slim_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events as the actions need them (new dicts: the tracker's own are left as they are)."""
    latest_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    slim: List[Dict[str, Any]] = []
    for index, event in enumerate(events):
        if index >= latest_user and event.get("event") == "user":
            slim.append(event)  # the message being answered: as it was read
            continue
        copy = {key: value for key, value in event.items() if key != "metadata"}
        kept = {k: v for k, v in (event.get("metadata") or {}).items() if k not in RASA_STAMPS}
        if kept:  # what the channels and the leads server put there (a live hand-off's marker) stays
            copy["metadata"] = kept
        kind = event.get("event")
        if kind == "user" and isinstance(event.get("parse_data"), dict):
            copy["parse_data"] = {k: v for k, v in event["parse_data"].items() if k in KEPT_PARSE_DATA}
        elif kind == "bot" and index < latest_user:
            copy.pop("data", None)
        slim.append(copy)
    return slim


def slim_call(json_body: Dict[str, Any]) -> Dict[str, Any]:
    """An action call's body with the slimmer tracker (a new dict)."""
    tracker = json_body.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("events"), list):
        return json_body
    return {**json_body, "tracker": {**tracker, "events": slim_events(tracker["events"])}}


class ActionCallPlugin:
    """Rasa plugin: every custom action call's body goes through ``slim_call``."""

    @hookimpl  # type: ignore[misc]
    def prefix_stripping_for_custom_actions(self, json_body: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
        try:
            return slim_call(json_body)
        except Exception:  # the call goes out as Rasa made it rather than not at all
            logger.exception("Could not slim the action call; sending it whole")
            return None


PLUGIN = ActionCallPlugin()


def register() -> None:
    """Add the plugin to Rasa's plugin manager (once per process)."""
    from rasa.plugin import plugin_manager

    manager = plugin_manager()
    if not manager.is_registered(PLUGIN):
        manager.register(PLUGIN, name="lead_assistant_action_calls")
