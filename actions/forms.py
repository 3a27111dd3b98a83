"""Form validation: the order of questions, checks on answers, mid-flow questions."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import catalog, facts, questions
from actions.answers import utter_answer
from actions.conversation import (
    ANSWER_INTENTS,
    ASKED_ONCE,
    FALLBACK_SLOT,
    QUESTION_INTENTS,
    WHO_QUESTIONS,
    ends_conversation,
    fallback_count,
    intent_of,
    not_understood,
)
from actions.extraction import PHONE_ONLY, answer_intent, says_not_deciding
from actions.parsing import is_free_mail, valid_email, valid_phone
from actions.plausibility import plausible_text
from actions.qualification import FORM_QUESTIONS, MISSED_SLOT, SKIPPED, referral_slots, required_slots
from actions.resources import lexicon

COST_BENEFITS = ("upfront_savings", "indirect_cost_reduction")


def resumed_since_last_message(tracker: Tracker) -> bool:
    """Whether the conversation was paused and resumed after the visitor's latest message (a hand-back)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "resume":
            return True
    return False


class FormQuestions:
    """For a form's validation: the form's questions known here, as Rasa sends no domain (selective domain)."""

    def domain_slots(self, domain: DomainDict) -> List[Text]:
        """The form's ``required_slots`` in ``domain.yml``, whether or not the domain came with the call."""
        return list(FORM_QUESTIONS[self.form_name()])  # type: ignore[attr-defined]


class NeverLoop:
    """For a form's validation: its questions are never asked more than twice in a row."""

    async def _never_loop(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        events: List[EventType],
        requested: Any,
    ) -> List[EventType]:
        extra = never_loop(tracker, events, requested)
        if any(e.get("name") == requested for e in extra):  # given up: the next question follows
            tracker.add_slots(extra)
            following = await self.next_requested_slot(dispatcher, tracker, domain)  # type: ignore[attr-defined]
            if following:
                extra.append(following)
        return extra


class ValidateQualificationForm(FormQuestions, NeverLoop, FormValidationAction):
    """Validates the qualification form and answers questions asked during it."""

    def name(self) -> Text:
        return "validate_qualification_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return required_slots(tracker.slots)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await self._validate(dispatcher, tracker, domain)
        if events:  # (nothing: Rasa rejects the form and asks nothing)
            tracker.add_slots(events)
            if not resumed_since_last_message(tracker):  # after a hand-back, the open question only
                questions.acknowledge_need(dispatcher, tracker)
            asked = question_rasa_asks(events, tracker, self.form_name())
            if asked in questions.ASKED_HERE:  # Rasa asks none of these: the validation does (actions.questions)
                questions.ask(dispatcher, tracker, asked)
        return events

    async def _validate(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if ends_conversation(tracker):
            return []  # a clear stop: nothing validated, Rasa rejects the form and the stop rule ends it
        requested = tracker.get_slot("requested_slot")
        message = tracker.latest_message or {}
        confidence = float((message.get("intent") or {}).get("confidence") or 0.0)
        text = str(message.get("text") or "")
        intent = answer_intent(intent_of(tracker), confidence, text, requested)
        if intent == "request_human" and requested:
            # Setting nothing makes Rasa reject the form: the rule for "a person, please" takes over.
            return []
        events: List[EventType] = await _read(tracker, self.form_name())
        if resumed_since_last_message(tracker):
            # Back after a hand-off (a rep's hand-back): the latest message was for the rep, not an
            # answer to the open question, which is simply asked again.
            return events + await super().run(dispatcher, tracker, domain)
        meaningless = not _plausible(tracker)
        if meaningless and intent != "nlu_fallback" and requested:
            events += not_understood(dispatcher, tracker)  # nothing is read from it, and the visitor is told
        elif intent in QUESTION_INTENTS and not _answered_this_turn(tracker):
            utter_answer(dispatcher, tracker, requested)
            events.append(SlotSet("last_question", intent))
        events += await super().run(dispatcher, tracker, domain)
        if intent in ANSWER_INTENTS and requested and not meaningless and not _facts_this_turn(tracker, events):
            # an answer that says nothing we can use: ask again instead of rejecting the form
            # (a hello mid-way, or "yes" to "is anyone else...?", which makes the question "who?")
            # (a question asked with its buttons from the start is left at once: no "please rephrase")
            if (
                intent != "greet"
                and not (intent == "affirm" and requested in WHO_QUESTIONS)
                and requested not in ASKED_ONCE
                and not (requested == "decision_maker" and says_not_deciding(text, tracker.get_slot("language")))
            ):
                events += not_understood(dispatcher, tracker)  # "No, I don't decide" is understood: asked who then
        events += await self._never_loop(dispatcher, tracker, domain, events, requested)
        if not any(e.get("event") == "slot" and e.get("name") != "requested_slot" for e in events):
            # Rasa rejects a form whose validation sets nothing, and the policies then loop until the
            # circuit breaker trips: the form always goes on and asks its open question again.
            events.append(SlotSet(FALLBACK_SLOT, fallback_count(tracker)))
        return events

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == SKIPPED:
            return {"contact_email": value}
        if not valid_email(value):
            dispatcher.utter_message(response="utter_email_invalid", value=str(value)[:80])
            return {"contact_email": None}
        if is_free_mail(value, lexicon().free_mail_domains):
            dispatcher.utter_message(response="utter_email_freemail")
        return {"contact_email": value}

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == SKIPPED or valid_phone(value):
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


class ValidateReferralForm(FormQuestions, NeverLoop, FormValidationAction):
    """Validates the referral form (an existing customer naming others, then who they are)."""

    def name(self) -> Text:
        return "validate_referral_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return referral_slots(tracker.slots)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if ends_conversation(tracker):
            return []  # a clear stop ends the referral questions (the stop rule)
        requested = tracker.get_slot("requested_slot")
        events: List[EventType] = await _read(tracker, self.form_name())
        if requested and not _plausible(tracker) and intent_of(tracker) != "nlu_fallback":
            events += not_understood(dispatcher, tracker)
        events += await super().run(dispatcher, tracker, domain)
        events += await self._never_loop(dispatcher, tracker, domain, events, requested)
        if not any(e.get("event") == "slot" and e.get("name") != "requested_slot" for e in events):
            events.append(SlotSet(FALLBACK_SLOT, fallback_count(tracker)))
        return events


#: What a question's answer becomes when it was not understood twice in a row: the form moves on.
GIVE_UP = {
    "need": SKIPPED,
    "authority": "unknown",
    "decision_maker": "unknown",
    "allies": [],
    "blockers": [],
    "benefits": [],
    "current_vendor": SKIPPED,
    "interest_stage": SKIPPED,
    "consent": False,
    "contact_name": SKIPPED,
    "contact_email": SKIPPED,
    "company": SKIPPED,
    "contact_phone": SKIPPED,
    "summary_confirmed": False,
    "referrals": [],
    "referrer": SKIPPED,
}


def never_loop(tracker: Tracker, events: List[EventType], requested: Any) -> List[EventType]:
    """No question is asked more than twice in a row.

    The first answer that leaves the open question unanswered is remembered
    (the question is then asked differently: buttons, or an example); after a
    second one the form moves on without that fact. A question that came with
    its buttons from the start (``ASKED_ONCE``) is left after the first.
    """
    if not requested or not _after_visitor_message(tracker):
        return []
    if _value_after(tracker, events, requested) is not None:
        return [SlotSet(MISSED_SLOT, None)] if tracker.get_slot(MISSED_SLOT) else []
    if requested == "summary_confirmed" and _facts_this_turn(tracker, events):
        return []  # a correction under way
    if requested in ASKED_ONCE or (tracker.get_slot(MISSED_SLOT) == requested and requested in GIVE_UP):
        return [SlotSet(requested, GIVE_UP[requested]), SlotSet(MISSED_SLOT, None)]
    return [SlotSet(MISSED_SLOT, requested)]


def _value_after(tracker: Tracker, events: List[EventType], slot: str) -> Any:
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return tracker.get_slot(slot)


def _after_visitor_message(tracker: Tracker) -> bool:
    """Whether the form runs because the visitor wrote (not because it was just activated)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "active_loop" and event.get("name"):
            return False
    return False


def question_rasa_asks(events: List[EventType], tracker: Tracker, form: str) -> Any:
    """The question Rasa's form asks after a validation that returned ``events`` (``tracker`` has them).

    As ``FormAction.request_next_slot`` decides: none when a ``requested_slot``
    is set to nothing, else the first ``requested_slot`` set, else the form's
    first question still without an answer.
    """
    requested = [e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == "requested_slot"]
    if None in requested:
        return None
    if requested:
        return requested[0]
    return next((slot for slot in FORM_QUESTIONS[form] if tracker.get_slot(slot) is None), None)


async def _read(tracker: Tracker, form: str) -> List[EventType]:
    """The facts of the messages no action read yet (``actions.facts``), set in ``tracker`` for what follows."""
    read = await facts.read_unread(tracker, form)
    tracker.add_slots(read)
    return read


def _plausible(tracker: Tracker) -> bool:
    text = str((tracker.latest_message or {}).get("text") or "")
    return plausible_text(text) or bool(PHONE_ONLY.fullmatch(text.strip()))


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
