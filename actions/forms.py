"""Form validation: the order of questions, checks on answers, mid-flow questions."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import catalog
from actions.answers import utter_answer
from actions.conversation import (
    ANSWER_INTENTS,
    FALLBACK_SLOT,
    QUESTION_INTENTS,
    WHO_QUESTIONS,
    fallback_count,
    intent_of,
    not_understood,
)
from actions.parsing import is_free_mail, valid_email, valid_phone
from actions.qualification import required_slots
from actions.resources import lexicon

COST_BENEFITS = ("upfront_savings", "indirect_cost_reduction")


class ValidateQualificationForm(FormValidationAction):
    """Validates the qualification form and answers questions asked during it."""

    def name(self) -> Text:
        return "validate_qualification_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return required_slots(tracker.slots)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = intent_of(tracker)
        requested = tracker.get_slot("requested_slot")
        events: List[EventType] = []
        if intent in QUESTION_INTENTS and not _answered_this_turn(tracker):
            utter_answer(dispatcher, tracker, requested)
            events.append(SlotSet("last_question", intent))
        events += await super().run(dispatcher, tracker, domain)
        if intent in ANSWER_INTENTS and requested and not _facts_this_turn(tracker, events):
            # an answer that says nothing we can use: ask again instead of rejecting the form
            # (a hello mid-way, or "yes" to "is anyone else...?", which makes the question "who?")
            if intent != "greet" and not (intent == "affirm" and requested in WHO_QUESTIONS):
                events += not_understood(dispatcher, tracker)
        if not any(e.get("event") == "slot" and e.get("name") != "requested_slot" for e in events):
            # Rasa rejects a form whose validation sets nothing, and the policies then loop until the
            # circuit breaker trips: the form always goes on and asks its open question again.
            events.append(SlotSet(FALLBACK_SLOT, fallback_count(tracker)))
        return events

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not valid_email(value):
            dispatcher.utter_message(response="utter_email_invalid", value=str(value)[:80])
            return {"contact_email": None}
        if is_free_mail(value, lexicon().free_mail_domains):
            dispatcher.utter_message(response="utter_email_freemail")
        return {"contact_email": value}

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == "" or valid_phone(value):
            return {"contact_phone": value}
        dispatcher.utter_message(response="utter_phone_invalid")
        return {"contact_phone": None}

    def validate_benefits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if any(b in COST_BENEFITS for b in value or []) and not tracker.get_slot("savings_shown"):
            dispatcher.utter_message(
                text=catalog.savings_pitch(tracker.get_slot("need_category"), tracker.get_slot("language"))
            )
            return {"benefits": value, "savings_shown": True}
        return {"benefits": value}

    def validate_blockers(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value:
            dispatcher.utter_message(response="utter_noted_blockers")
        return {"blockers": value}


class ValidateReferralForm(FormValidationAction):
    """Validates the referral form (an existing customer naming others)."""

    def name(self) -> Text:
        return "validate_referral_form"


def _facts_this_turn(tracker: Tracker, events: List[EventType]) -> bool:
    """Whether the latest message gave any fact (from extraction or validation)."""
    bookkeeping = {"requested_slot", "last_question", FALLBACK_SLOT, "language"}
    if any(e.get("event") == "slot" and e.get("name") not in bookkeeping for e in events):
        return True
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") not in bookkeeping:
            return True
    return False


def _answered_this_turn(tracker: Tracker) -> bool:
    """Whether the visitor's latest question was already answered."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "last_question":
            return True
    return False
