"""Custom actions called by the Rasa server."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import facts, lead_bridge
from actions.answers import utter_answer
from actions.conversation import ends_conversation, intent_of, not_understood
from actions.plausibility import foreign_language
from actions.resources import lexicon

logger = logging.getLogger(__name__)


class ActionExtractFacts(Action):
    """Reads the visitor's messages for facts about the lead while no form is open (``actions.facts``)."""

    def name(self) -> Text:
        return "action_extract_facts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return await facts.read_facts(tracker, facts.latest(tracker))


class ActionAnswerQuestion(Action):
    """Answers a question asked outside the qualification questions."""

    def name(self) -> Text:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        utter_answer(dispatcher, tracker)
        return [SlotSet("last_question", intent_of(tracker))]


class ActionFallback(Action):
    """Asks to rephrase; after repeated failures offers a person."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        message = tracker.latest_message or {}
        languages = [e.get("value") for e in message.get("entities") or [] if e.get("entity") == "language"]
        other_language = not languages and _looks_like_another_language(message.get("text") or "")
        return not_understood(dispatcher, tracker, other_language)


class ActionCoreFallback(ActionFallback):
    """What the dialogue policies fall back to when unsure of the next step: the same
    answer as for a message that was not understood, then wait for the visitor (a
    fallback that let the policies predict again could repeat itself)."""

    def name(self) -> Text:
        return "action_core_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return await super().run(dispatcher, tracker, domain) + [FollowupAction("action_listen")]


def _looks_like_another_language(text: str) -> bool:
    """A sentence of real words that is not English, French or Polish."""
    words = [w for w in text.split() if w.isalpha()]
    return len(words) >= 4 or foreign_language(text)


class ActionStop(Action):
    """Ends the qualification when the visitor clearly wants to stop; what they said is kept.

    A stop that is not clear (``conversation.wants_to_end``) was read as the
    answer to the open question, and the form goes on.
    """

    def name(self) -> Text:
        return "action_stop"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        read = await facts.read_unread(tracker, self.name())  # a stop during a form: what it said is kept
        if tracker.active_loop_name and not ends_conversation(tracker):
            return read + [FollowupAction(tracker.active_loop_name)]
        tracker.add_slots(read)
        dispatcher.utter_message(response="utter_stop")
        await lead_bridge.save_progress(tracker, tracker.current_slot_values(), finished=False)
        return read + [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionSubmitLead(Action):
    """Closes the qualification: records the lead and tells the visitor what happens next."""

    def name(self) -> Text:
        return "action_submit_lead"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        slots = tracker.current_slot_values()
        await lead_bridge.save_progress(tracker, slots, finished=True)
        route = await lead_bridge.hand_off(tracker)
        language = slots.get("language")
        if route is not None and route.rep and slots.get("consent") and slots.get("contact_email"):
            when = lexicon().label("when", "today" if route.in_hours else "next_day", language)
            dispatcher.utter_message(response="utter_next_steps_rep", rep_name=route.rep["name"], when=when)
            if route.rep.get("meeting_link"):
                dispatcher.utter_message(
                    response="utter_meeting_link", rep_name=route.rep["name"], meeting_link=route.rep["meeting_link"]
                )
        elif slots.get("consent") and slots.get("contact_email"):
            dispatcher.utter_message(response="utter_next_steps")
        else:
            dispatcher.utter_message(response="utter_next_steps_no_contact")
        return [SlotSet("lead_submitted", True)]


class ActionThankReferral(Action):
    """Thanks an existing customer for the people they referred."""

    def name(self) -> Text:
        return "action_thank_referral"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        referrals = tracker.get_slot("referrals") or []
        dispatcher.utter_message(response="utter_referral_thanks" if referrals else "utter_referral_none")
        return []


class ActionRequestHuman(Action):
    """A person now: in working hours the lead goes to a rep at once and the bot steps back."""

    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        read = await facts.read_unread(tracker, self.name())  # asked during a form: what it said is kept
        tracker.add_slots(read)
        slots = tracker.current_slot_values()
        reachable = bool(slots.get("contact_email") or slots.get("contact_phone")) or lead_bridge.channel_of(
            tracker
        ) in ("slack", "teams")
        route = None
        if reachable:  # otherwise the questions go on, contact details included, and the lead follows
            await lead_bridge.save_progress(
                tracker, {**slots, "need": slots.get("need") or "asked to talk to a person"}
            )
            route = await lead_bridge.hand_off(tracker, force=True)
        if route is not None and route.rep and route.in_hours and reachable:
            dispatcher.utter_message(response="utter_handoff_now", rep_name=route.rep["name"])
            return read + [ConversationPaused()]
        dispatcher.utter_message(response="utter_human_request")
        return read
