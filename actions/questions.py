"""The form's questions whose wording depends on the conversation, asked by the form's validation.

Rasa asks a form's next question with ``action_ask_<slot>`` or
``utter_ask_<slot>``, and with neither it leaves the asking to the form's
validation, which has just worked out that question. For these questions the
validation asks them itself (``ValidateQualificationForm``), which saves the
action server a call per question:

- the visitor's part in the decision: after an answer that was not
  understood, with buttons (unless the visitor had asked something meanwhile);
- the questions about other people: after a bare "yes", "who?";
- the summary to confirm, or what to correct.

Before the question that follows the visitor's need, read for the first time,
the validation says what it understood (``acknowledge_need``).
"""

from __future__ import annotations

from typing import Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import category_label
from actions.conversation import QUESTION_INTENTS, intent_of
from actions.extraction import says_not_deciding
from actions.qualification import MISSED_SLOT, summary_text

PEOPLE = ("decision_maker", "allies", "blockers")
#: The questions asked here (no ``utter_ask_<slot>`` response in domain.yml, so Rasa asks none of them).
ASKED_HERE = ("authority", *PEOPLE, "summary_confirmed")


def question_answered(tracker: Tracker) -> Optional[Text]:
    """The question that was open when the visitor sent their latest message."""
    open_question: Optional[Text] = None
    answered: Optional[Text] = None
    for event in tracker.events:
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            open_question = event.get("value")
        elif event.get("event") == "user":
            answered = open_question
    return answered


def need_read_this_turn(tracker: Tracker) -> bool:
    """Whether the visitor's need was first read from their latest message (it had none before)."""
    need_before: Optional[Text] = None
    need_now: Optional[Text] = None
    for event in tracker.events:
        if event.get("event") == "user":
            need_before = need_now
        elif event.get("event") == "slot" and event.get("name") == "need":
            need_now = event.get("value")
    return not need_before and bool(need_now)


def acknowledge_need(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Says what was understood of a need just read: its category when one fits, else a plain thank-you."""
    if not need_read_this_turn(tracker):
        return
    label = category_label(tracker.get_slot("need_category"), tracker.get_slot("language"))
    if label:
        dispatcher.utter_message(response="utter_need_understood", need=label)
    else:
        dispatcher.utter_message(response="utter_need_noted")


def _not_deciding(tracker: Tracker) -> bool:
    """Whether the latest message says the visitor does not decide."""
    text = str((tracker.latest_message or {}).get("text") or "")
    return says_not_deciding(text, tracker.get_slot("language"))


def ask(dispatcher: CollectingDispatcher, tracker: Tracker, slot: Text) -> bool:
    """Asks the question of ``slot`` if it is one asked here; whether it was."""
    if slot == "authority":
        if tracker.get_slot(MISSED_SLOT) != "authority":
            dispatcher.utter_message(response="utter_question_authority")
        elif intent_of(tracker) in QUESTION_INTENTS:
            # the visitor asked something on the way and was answered: nothing was misunderstood
            dispatcher.utter_message(response="utter_ask_authority_choice_after_question")
        else:
            dispatcher.utter_message(response="utter_ask_authority_choice")
    elif slot in PEOPLE:
        said_yes = intent_of(tracker) == "affirm" and question_answered(tracker) == slot
        if said_yes:
            dispatcher.utter_message(response="utter_ask_who")
        elif slot == "decision_maker" and tracker.get_slot(MISSED_SLOT) == slot and _not_deciding(tracker):
            dispatcher.utter_message(response="utter_ask_who_decides_then")  # "No, I don't decide."
        else:
            dispatcher.utter_message(response=f"utter_question_{slot}")
    elif slot == "summary_confirmed":
        if tracker.get_slot("correction_pending"):
            dispatcher.utter_message(response="utter_ask_what_to_correct")
        else:
            summary = summary_text(tracker.current_slot_values(), tracker.get_slot("language"))
            dispatcher.utter_message(response="utter_summary", summary=summary)
    else:
        return False
    return True
