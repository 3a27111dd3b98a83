"""Answers to the visitor's own questions, from the catalog, in their language."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import catalog

WHY_RESPONSES = {
    "need": "utter_why_need",
    "authority": "utter_why_role",
    "decision_maker": "utter_why_role",
    "allies": "utter_why_people",
    "blockers": "utter_why_people",
    "benefits": "utter_why_priorities",
    "current_vendor": "utter_why_priorities",
    "interest_stage": "utter_why_priorities",
    "consent": "utter_why_contact",
    "contact_name": "utter_why_contact",
    "contact_email": "utter_why_contact",
    "company": "utter_why_contact",
    "contact_phone": "utter_why_contact",
}


def answer(
    intent: Optional[str], text: str, slots: Dict[str, Any], requested: Optional[str], vendors: List[str]
) -> Dict[str, str]:
    """What to say for a question intent: ``{"text": ...}`` or ``{"response": ...}``."""
    language = slots.get("language")
    if intent == "why_ask":
        return {"response": WHY_RESPONSES.get(requested or "", "utter_why_generic")}
    if intent in ("ask_pricing", "ask_purchase"):
        return {"text": catalog.pricing_answer(language)}
    if intent == "compare":
        vendor = vendors[0] if vendors else slots.get("current_vendor")
        return {"text": catalog.comparison_answer(None if vendor in (None, "none") else vendor, language)}
    if intent == "ask_benefits":
        category = slots.get("need_category")
        return {"text": catalog.savings_pitch(category, language) if category else catalog.faq_answer(text, language)}
    return {"text": catalog.faq_answer(text, language)}


def utter_answer(dispatcher: CollectingDispatcher, tracker: Tracker, requested: Any = None) -> None:
    """Answers the question in the latest message (one place for all channels)."""
    message = tracker.latest_message or {}
    vendors = [e.get("value") for e in message.get("entities") or [] if e.get("entity") == "vendor"]
    intent = (message.get("intent") or {}).get("name")
    reply = answer(intent, message.get("text") or "", tracker.current_slot_values(), requested, vendors)
    if "response" in reply:
        dispatcher.utter_message(response=reply["response"])
    elif reply.get("text"):
        dispatcher.utter_message(text=reply["text"])
