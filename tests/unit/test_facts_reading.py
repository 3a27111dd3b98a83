"""Each visitor message is read for facts once: by the slot mapping, the form's validation or the rule's action.

The trackers are what the Rasa server sends: events as dicts, with the forms
opened and the actions logged as Rasa logs them (a form's validation sees its
own form's execution last, added by Rasa's ``FormAction``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionExtractFacts
from actions.facts import unread, visitor_messages
from actions.forms import ValidateQualificationForm

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
FORM = "qualification_form"


def user(text: str, intent: str = "inform", entities: Optional[List[Dict[str, Any]]] = None, confidence=0.95):
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    return {"event": "user", "text": text, "parse_data": parse}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def opened(requested: str) -> List[Dict[str, Any]]:
    """The form opened at an earlier message, its question asked, the assistant listening."""
    return [
        action("action_listen"),
        user("hi, we need help with support", "greet"),
        {"event": "active_loop", "name": FORM},
        action(FORM),
        {"event": "slot", "name": "requested_slot", "value": requested},
        action("action_listen"),
    ]


def tracker(events: List[Dict[str, Any]], known: Optional[Dict[str, Any]] = None, loop: Optional[str] = FORM):
    slots = {name: None for name in DOMAIN["slots"]}
    slots.update({"language": "en", **(known or {})})
    for event in events:
        if event["event"] == "slot":
            slots[event["name"]] = event["value"]
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker.from_dict(
        {
            "sender_id": "facts-test",
            "slots": slots,
            "latest_message": latest,
            "events": events,
            "active_loop": {"name": loop} if loop else {},
            "latest_action_name": "action_listen",
        }
    )


def set_slots(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_the_state_each_message_came_in_is_followed_through_forms_hand_offs_and_sessions():
    events = [
        user("old session"),
        {"event": "session_started"},
        user("no form yet"),
        {"event": "active_loop", "name": FORM},
        user("in the form"),
        action("action_request_human"),
        {"event": "pause"},
        user("to the rep"),
        {"event": "resume"},
        {"event": "active_loop", "name": None},
        user("after the form"),
    ]
    read = [(m.parse_data["text"], m.loop, m.paused, m.actions) for m in visitor_messages(events)]
    assert read == [
        ("no form yet", None, False, []),
        ("in the form", FORM, False, ["action_request_human"]),
        ("to the rep", FORM, True, []),
        ("after the form", None, False, []),
    ]


def test_a_message_with_no_form_open_was_read_by_the_slot_mapping():
    events = [action("action_listen"), user("we need a help desk"), action(FORM)]
    assert unread(tracker(events, loop=None), FORM) == []


def test_a_message_in_a_form_is_read_by_the_forms_validation_once():
    events = opened("authority") + [user("I'm the CEO and I sign the contracts")]
    assert [m.parse_data["text"] for m in unread(tracker(events + [action(FORM)]), FORM)] == [
        "I'm the CEO and I sign the contracts"
    ]
    # back in the form after another action (a rule's), the message was read already
    assert unread(tracker(events + [action("action_request_human"), action(FORM)]), FORM) == []
    # the action a rule runs after a rejected form reads it, and only that action
    assert len(unread(tracker(events), "action_stop")) == 1
    assert unread(tracker(events + [action("action_stop")]), "action_request_human") == []


def test_messages_to_a_rep_are_read_after_the_hand_back_in_order_and_only_once():
    events = opened("need") + [
        user("Could I talk to a person?", "request_human"),
        action("action_request_human"),
        {"event": "pause"},
        user("We have about 40 agents"),
        user("my email is anna@northwind.example"),
        {"event": "resume"},
    ]
    hand_back = unread(tracker(events + [action(FORM)]), FORM)
    assert [m.parse_data["text"] for m in hand_back] == [
        "We have about 40 agents",
        "my email is anna@northwind.example",
    ]
    after = events + [action(FORM), action("action_listen"), user("thanks, what does it cost?", "ask_pricing")]
    assert [m.parse_data["text"] for m in unread(tracker(after + [action(FORM)]), FORM)] == [
        "thanks, what does it cost?"
    ]


@pytest.mark.asyncio
async def test_the_validation_reads_the_facts_of_a_message_in_the_form():
    events = opened("company") + [user("We're Harbour Lane Dental, I run the place", entities=[])]
    events[-1]["parse_data"]["entities"] = [
        {"entity": "company", "value": "Harbour Lane Dental", "start": 6, "end": 25}
    ]
    dispatcher = CollectingDispatcher()
    found = await ValidateQualificationForm().run(
        dispatcher, tracker(events + [action(FORM)], {"need": "support tickets pile up"}), {}
    )
    assert set_slots(found).get("company") == "Harbour Lane Dental"
    # the same message, seen by the validation again later in the turn, gives nothing new
    again = await ValidateQualificationForm().run(
        CollectingDispatcher(),
        tracker(events + [action("action_answer_question"), action(FORM)], {"need": "support tickets pile up"}),
        {},
    )
    assert "company" not in set_slots(again)


@pytest.mark.asyncio
async def test_the_slot_mapping_reads_the_latest_message_when_no_form_is_open():
    events = [action("action_listen"), user("hi, it's Marek from Kowalski Logistics")]
    events[-1]["parse_data"]["entities"] = [
        {"entity": "company", "value": "Kowalski Logistics", "start": 20, "end": 38}
    ]
    found = await ActionExtractFacts().run(CollectingDispatcher(), tracker(events, loop=None), {})
    assert set_slots(found).get("company") == "Kowalski Logistics"


def test_the_slot_mapping_runs_only_while_no_form_is_open():
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot.get("mappings", []):
            if mapping.get("action") == "action_extract_facts":
                assert mapping.get("conditions") == [{"active_loop": None}], name


@pytest.fixture
def lead_database(tmp_path, monkeypatch):
    """A real SQLite lead database of the test's own, for the lead writes of the actions."""
    from leads import pipeline

    url = f"sqlite:///{tmp_path / 'leads.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEADS_OUTBOX_DIR", str(tmp_path / "outbox"))
    pipeline.writer.cache_clear()
    yield url
    pipeline.writer.cache_clear()


@pytest.mark.asyncio
async def test_the_lead_is_saved_in_the_language_the_message_was_recognised_in(lead_database):
    from actions.facts import detected_language
    from leads.storage.db import session_scope
    from leads.storage.repository import find_by_conversation

    text = "Bonjour, nos clients attendent trois jours une réponse à leurs e-mails"
    events = [action("action_listen"), user(text, entities=[{"entity": "language", "value": "fr"}])]
    # the language slot is set by its own mapping in the same turn: the extraction does not see it yet
    await ActionExtractFacts().run(CollectingDispatcher(), tracker(events, {"language": None}, loop=None), {})
    with session_scope(lead_database) as session:
        lead = find_by_conversation(session, "facts-test")
        assert lead is not None and lead.language == "fr"
    assert detected_language({"entities": [{"entity": "company", "value": "Morel"}]}) is None
    assert detected_language({"entities": [{"entity": "language", "value": "de"}]}) is None
