"""The action call's body: Rasa's own tracker state, slimmed, gives the actions exactly what the full one does."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateQualificationForm, _after_visitor_message
from actions.lead_bridge import channel_of, transcript
from actions.questions import ask, question_answered
from bot import action_calls

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
STAMP = {"model_id": "70c5d996f60c41469f6829c2090136b8", "assistant_id": "lead-qualification-assistant"}


def _read(text: str, intent: str, entities: List[Dict[str, Any]] = ()) -> Dict[str, Any]:
    ranking = [{"name": name, "confidence": 0.05} for name in DOMAIN.intents[:10]]
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": list(entities),
        "intent_ranking": [{"name": intent, "confidence": 0.9}] + ranking,
        "text_tokens": [[0, len(text)]],
        "message_id": f"m-{abs(hash(text))}",
    }


def _user(text: str, intent: str, entities: List[Dict[str, Any]] = ()) -> UserUttered:
    read = _read(text, intent, entities)
    return UserUttered(
        text,
        read["intent"],
        read["entities"],
        read,
        input_channel="slack",
        message_id=read["message_id"],
        metadata=STAMP,
    )


def conversation(last: UserUttered, extracted: Dict[str, Any]) -> DialogueStateTracker:
    """A qualification under way, as the Rasa server keeps it, the ``last`` message being answered."""
    events = [
        ActionExecuted("action_session_start", metadata=STAMP),
        ActionExecuted("action_listen", metadata=STAMP),
        _user("Hello", "greet", [{"entity": "language", "value": "en"}]),
        SlotSet("language", "en", metadata=STAMP),
        ActionExecuted("utter_greet", metadata=STAMP),
        BotUttered("Hi! What brings you here?", {"buttons": [{"title": "Pricing", "payload": "/ask_pricing"}]}, STAMP),
        ActionExecuted("action_listen", metadata=STAMP),
        _user("Our support is drowning in tickets", "inform"),
        SlotSet("need", "Our support is drowning in tickets", metadata=STAMP),
        ActionExecuted("qualification_form", metadata=STAMP),
        ActiveLoop("qualification_form", metadata=STAMP),
        SlotSet("requested_slot", "authority", metadata=STAMP),
        BotUttered("Who decides?", {"buttons": [{"title": "I do", "payload": "I do"}]}, STAMP),
        ActionExecuted("action_listen", metadata=STAMP),
        _user("I do, with our CFO Anna Nowak", "inform", [{"entity": "person", "value": "Anna Nowak"}]),
        SlotSet("authority", "decision_maker", metadata=STAMP),
        SlotSet("allies", [{"name": "Anna Nowak", "role": "CFO"}], metadata=STAMP),
        SlotSet("requested_slot", "allies", metadata=STAMP),
        ActionExecuted("action_listen", metadata=STAMP),
        last,
        *[SlotSet(name, value, metadata=STAMP) for name, value in extracted.items()],
    ]
    return DialogueStateTracker.from_events("slim-test", events, DOMAIN.slots)


def bodies(tracker: DialogueStateTracker) -> tuple:
    """The body Rasa makes for an action call (as ``RemoteAction._action_call_format``), and the slimmed one."""
    state = tracker.current_state(EventVerbosity.ALL)
    body = {"next_action": "validate_qualification_form", "sender_id": tracker.sender_id, "tracker": state}
    return body, action_calls.slim_call(body)


TURNS = [
    (_user("yes", "affirm"), {}),
    (_user("Nobody else", "deny"), {"allies": []}),
    (_user("How much does it cost?", "ask_pricing"), {}),
    (_user("'; DROP TABLE leads; --", "inform"), {}),
]


def test_the_slim_call_keeps_every_event_and_what_the_actions_read():
    body, slim = bodies(conversation(*TURNS[0]))
    full_events, events = body["tracker"]["events"], slim["tracker"]["events"]
    assert [(e["event"], e.get("name"), e.get("value"), e.get("text")) for e in events] == [
        (e["event"], e.get("name"), e.get("value"), e.get("text")) for e in full_events
    ]
    assert [e.get("timestamp") for e in events] == [e.get("timestamp") for e in full_events]
    users = [e for e in events if e["event"] == "user"]
    assert users[-1] == [e for e in full_events if e["event"] == "user"][-1], "the message answered, in full"
    assert all("intent_ranking" not in e["parse_data"] and e["parse_data"]["intent"] for e in users[:-1])
    assert all(e["input_channel"] == "slack" for e in users)
    assert not any("metadata" in e for e in events if e is not users[-1])
    assert len(json.dumps(slim)) < 0.7 * len(json.dumps(body))


def test_metadata_other_than_rasas_stamps_stays():
    from bot.action_calls import slim_events

    live = {"live": {"kind": "rep", "name": "Emma Clarke"}}
    events = [
        {"event": "bot", "text": "Hi, Emma here", "metadata": {**STAMP, **live}, "data": {"buttons": []}},
        {"event": "user", "text": "hello", "metadata": STAMP, "parse_data": {"intent": {"name": "greet"}}},
    ]
    slim = slim_events(events)
    assert slim[0]["metadata"] == live and "data" not in slim[0]
    assert slim[1] == events[1]


def test_the_tracker_itself_is_left_as_it_was():
    tracker = conversation(*TURNS[0])
    before = copy.deepcopy(tracker.current_state(EventVerbosity.ALL))
    bodies(tracker)
    assert tracker.current_state(EventVerbosity.ALL) == before


async def _run_everything(state: Dict[str, Any]) -> List[Any]:
    """What the actions that read the history say and set, and what the lead record takes from it."""
    said = []
    dispatcher = CollectingDispatcher()
    events = await ValidateQualificationForm().run(dispatcher, Tracker.from_dict(copy.deepcopy(state)), {})
    said.append((dispatcher.messages, events))
    for slot in ("allies", "authority", "summary_confirmed"):
        dispatcher = CollectingDispatcher()
        asked = ask(dispatcher, Tracker.from_dict(copy.deepcopy(state)), slot)
        said.append((slot, dispatcher.messages, asked))
    tracker = Tracker.from_dict(copy.deepcopy(state))
    said.append((transcript(tracker), channel_of(tracker), question_answered(tracker), _after_visitor_message(tracker)))
    return said


@pytest.mark.asyncio
@pytest.mark.parametrize("last,extracted", TURNS)
async def test_the_actions_say_and_set_the_same_with_the_slim_call(last, extracted):
    body, slim = bodies(conversation(last, extracted))
    assert await _run_everything(slim["tracker"]) == await _run_everything(body["tracker"])


def test_the_plugin_is_registered_once_and_used_by_rasas_hook():
    from rasa.plugin import plugin_manager

    action_calls.register()
    action_calls.register()
    assert plugin_manager().get_plugin("lead_assistant_action_calls") is action_calls.PLUGIN
    body, slim = bodies(conversation(*TURNS[1]))
    assert plugin_manager().hook.prefix_stripping_for_custom_actions(json_body=body) == slim
    assert action_calls.slim_call({"next_action": "x"}) == {"next_action": "x"}, "no tracker: as it came"
