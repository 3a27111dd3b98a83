"""The conversation's vocabulary, defined once: intent groups, kinds of questions, the fallback counter."""

from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

# -- intents --------------------------------------------------------------------
#: The visitor asks something: answered from the catalog, and a signal of interest.
QUESTION_INTENTS = ("ask_product", "ask_pricing", "ask_purchase", "ask_benefits", "compare", "why_ask")
#: The visitor steers the conversation; each has its own rule.
CONTROL_INTENTS = ("stop", "request_human", "bot_challenge", "job_seeker", "greet", "goodbye", "out_of_scope")
#: Intents that can answer the open question.
ANSWER_INTENTS = ("affirm", "deny", "inform", "existing_customer", "greet")

# -- questions ------------------------------------------------------------------
#: Questions about other people: a bare "yes" to one of them calls for "who?".
WHO_QUESTIONS = ("decision_maker", "allies", "blockers")
#: Questions whose answer may name people: there, a bare role ("our CFO") is a person.
PEOPLE_QUESTIONS = ("authority", *WHO_QUESTIONS, "summary_confirmed")
#: Questions about the visitor's own contact details: a name given there is theirs.
CONTACT_QUESTIONS = ("consent", "contact_name", "contact_email", "company", "contact_phone", "referrals", "referrer")
#: Questions whose free answer is kept as typed when nothing more specific was read.
FREE_TEXT_QUESTIONS = ("decision_maker", "allies", "blockers", "current_vendor", "contact_name", "company")

# -- interest -------------------------------------------------------------------
#: The interest scale of the concept, lowest first.
INTEREST_ORDER = ("information", "benefits", "comparison", "purchase")

# -- messages that were not understood ------------------------------------------
FALLBACK_SLOT = "fallback_count"
#: After this many messages in a row that were not understood, a person is offered.
FALLBACKS_BEFORE_OFFERING_A_PERSON = 2


def intent_of(tracker: Tracker) -> Optional[str]:
    """The intent of the visitor's latest message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def fallback_count(tracker: Tracker) -> int:
    """How many messages in a row were not understood."""
    return int(tracker.get_slot(FALLBACK_SLOT) or 0)


def not_understood(dispatcher: CollectingDispatcher, tracker: Tracker, other_language: bool = False) -> List[EventType]:
    """The reply to a message that was not understood: ask to rephrase, then offer a person.

    ``other_language``: the message looks like another language, so the languages
    the assistant speaks are named instead.
    """
    count = fallback_count(tracker) + 1
    if other_language:
        dispatcher.utter_message(response="utter_languages")
    elif count >= FALLBACKS_BEFORE_OFFERING_A_PERSON:
        dispatcher.utter_message(response="utter_offer_human")
        count = 0
    else:
        dispatcher.utter_message(response="utter_rephrase")
    return [SlotSet(FALLBACK_SLOT, count)]
