"""The conversation's vocabulary, defined once: intent groups, kinds of questions, the fallback counter."""

from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.resources import lexicon

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
#: Questions answered in the visitor's own words (a need, a benefit, a name, a company, an address).
OPEN_QUESTIONS = FREE_TEXT_QUESTIONS + (
    "need",
    "benefits",
    "contact_email",
    "contact_phone",
    "referrals",
    "referrer",
)

# -- interest -------------------------------------------------------------------
#: The interest scale of the concept, lowest first.
INTEREST_ORDER = ("information", "benefits", "comparison", "purchase")
#: The signal recorded when the visitor says they only gather information (their level is then known).
STATED_INFORMATION = "said they only gather information for now"
#: Questions asked with buttons from the start: an answer not understood leaves them at once.
ASKED_ONCE = ("interest_stage",)

# -- ending the conversation ----------------------------------------------------
#: Intents that end the qualification (their rules run ``action_stop``).
ENDING_INTENTS = ("stop", "goodbye")
#: Below this confidence, a stop read by the classifier does not end the qualification on its own.
STOP_CONFIDENCE = 0.9


def wants_to_end(intent: Optional[str], confidence: float, text: str, requested: Optional[str]) -> bool:
    """Whether a message read as ``stop`` (or goodbye) really ends the qualification.

    Outside a question it does. With a question open, ending needs a clear
    stop: the visitor's words say so (``stop`` in ``config/lexicon.yml``, any of
    the three languages), or the classifier is confident and the question is
    not one answered in free words, where a short answer (a company, "Faster
    replies.") is easily misread as a stop.
    """
    if intent not in ENDING_INTENTS:
        return False
    if not requested:
        return True
    if lexicon().matches_in_any_language("stop", text or ""):
        return True
    return requested not in OPEN_QUESTIONS and confidence >= STOP_CONFIDENCE


def ends_conversation(tracker: Tracker) -> bool:
    """``wants_to_end`` for the visitor's latest message and the question open in the tracker."""
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    requested = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
    return wants_to_end(
        intent.get("name"), float(intent.get("confidence") or 0.0), str(message.get("text") or ""), requested
    )


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
