"""Slack interactivity payloads, read the same way by the Rasa server and the leads server.

A click on a Block Kit button reaches the app's interactivity URL as a form
field ``payload=<JSON>`` of type ``block_actions``. The rep-side buttons of a
hand-off notification and of a live hand-off's thread carry the action ids in
``LEADS_ACTIONS``; every other
button belongs to a visitor's conversation with the assistant.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional
from urllib.parse import parse_qs

#: action_id -> whether the rep passes on the lead (``False``: accepts it).
REP_ACTIONS = {"lead_accept": False, "lead_pass": True}
#: The button in a live hand-off's Slack thread that gives the conversation back to the assistant.
HAND_BACK_ACTION = "live_hand_back"
#: Every rep-side button: the leads server handles these, never the assistant.
LEADS_ACTIONS = frozenset({*REP_ACTIONS, HAND_BACK_ACTION})
MAX_BODY_BYTES = 1024 * 1024


def interaction_payload(body: bytes) -> Dict[str, Any]:
    """The JSON object in the form field ``payload``; ``ValueError`` with a clear reason."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
    except UnicodeDecodeError:
        raise ValueError("The body must be UTF-8 form data.") from None
    values = fields.get("payload") or []
    if len(values) != 1:
        raise ValueError("The body must be form data with one 'payload' field.")
    try:
        payload = json.loads(values[0])
    except ValueError:
        raise ValueError("The 'payload' field must be JSON.") from None
    if not isinstance(payload, dict):
        raise ValueError("The 'payload' field must be a JSON object.")
    return payload


def first_action(payload: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The clicked element of a ``block_actions`` payload, if there is one."""
    actions = payload.get("actions") if payload.get("type") == "block_actions" else None
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return actions[0]
    return None


def is_rep_action(payload: Dict[str, Any]) -> bool:
    """Whether this is a rep's click (Accept/Pass on a hand-off notification, or a hand-back)."""
    action = first_action(payload)
    return bool(action) and action.get("action_id") in LEADS_ACTIONS
