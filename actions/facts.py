"""Every visitor message is read for facts once, by whichever action runs first after it.

- With no form open, Rasa calls ``action_extract_facts`` after each message:
  it is the custom mapping of the slots about the lead, under the condition
  ``active_loop: null`` in ``domain.yml``.
- While a form is open, the form's validation reads the message itself, which
  saves the action server one call per message.
- When the visitor stops or asks for a person during a form, the validation
  sets nothing so that Rasa leaves the form to the rules, and the action the
  rule runs (``action_stop``, ``action_request_human``) reads the message.

Messages a visitor wrote during a live hand-off that began in a form are
read by the first reader after the hand-back, before the latest message, as
they would have been read one by one (the leads server keeps the lead's
transcript up to date meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions import lead_bridge
from actions.extraction import extract_facts
from common.languages import LANGUAGE_ENTITY, LANGUAGES


@dataclass
class VisitorMessage:
    """A visitor message of the conversation, and the state it came in."""

    parse_data: Dict[str, Any]
    loop: Optional[str]  # the form open when it came (``None``: ``action_extract_facts`` read it)
    paused: bool  # it came during a live hand-off
    actions: List[str] = field(default_factory=list)  # the actions logged after it


def visitor_messages(events: List[Dict[str, Any]]) -> List[VisitorMessage]:
    """The visitor messages of the latest session, in order, with the state each came in."""
    loop: Optional[str] = None
    paused = False
    messages: List[VisitorMessage] = []
    for event in events:
        kind = event.get("event")
        if kind in ("restart", "session_started"):
            loop, paused, messages = None, False, []
        elif kind == "active_loop":
            loop = event.get("name") or None
        elif kind == "pause":
            paused = True
        elif kind == "resume":
            paused = False
        elif kind == "user":
            message = dict(event.get("parse_data") or {})
            message.setdefault("text", event.get("text"))
            messages.append(VisitorMessage(message, loop, paused))
        elif kind == "action" and messages:
            messages[-1].actions.append(str(event.get("name")))
    return messages


def unread(tracker: Tracker, reader: str) -> List[VisitorMessage]:
    """The messages ``reader`` is the first to read now (oldest first; none when they were read).

    The latest message is unread when a form was open as it came and no action
    but ``reader`` itself ran since (a form's validation sees its own form's
    execution last); the messages of a live hand-off just before it, after
    which no action ran, come first.
    """
    messages = visitor_messages(tracker.events)
    if not messages:
        return []
    latest = messages[-1]
    if latest.loop is None or any(action != reader for action in latest.actions):
        return []
    during_handoff: List[VisitorMessage] = []
    for message in reversed(messages[:-1]):
        if not (message.paused and message.loop is not None) or message.actions:
            break  # read as it came, or by an action that ran after it (the hand-back's)
        during_handoff.insert(0, message)
    latest.parse_data = dict(tracker.latest_message or latest.parse_data)  # as it was read, in full
    return during_handoff + [latest]


async def read_facts(tracker: Tracker, messages: List[VisitorMessage]) -> List[EventType]:
    """The slot updates of ``messages`` (read in order), and the lead saved with them."""
    requested = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
    slots = tracker.current_slot_values()
    updates: Dict[str, Any] = {}
    for message in messages:  # read in the light of the open question, which did not change meanwhile
        updates.update(extract_facts(message.parse_data, {**slots, **updates}, requested))
    saved = {**slots, **updates}
    language = detected_language(messages[-1].parse_data)
    if language:  # what the ``language`` slot's own mapping sets in the same turn, unseen here yet
        saved["language"] = language
    await lead_bridge.save_progress(tracker, saved, finished=bool(slots.get("lead_submitted")))
    return [SlotSet(slot, value) for slot, value in updates.items()]


def detected_language(parse_data: Dict[str, Any]) -> Optional[str]:
    """The language the NLU recognised the message in (its ``language`` entity), if it was sure."""
    found = [e.get("value") for e in parse_data.get("entities") or [] if e.get("entity") == LANGUAGE_ENTITY]
    return str(found[-1]) if found and found[-1] in LANGUAGES else None


def latest(tracker: Tracker) -> List[VisitorMessage]:
    """The latest message alone, as it was read (for ``action_extract_facts``)."""
    return [VisitorMessage(dict(tracker.latest_message or {}), tracker.active_loop_name, False)]


async def read_unread(tracker: Tracker, reader: str) -> List[EventType]:
    """What ``reader`` reads of the messages nobody read yet (nothing, and no lead write, when none)."""
    messages = unread(tracker, reader)
    return await read_facts(tracker, messages) if messages else []
