"""The form's validation and the dialogue actions, run on trackers built from dicts (no model, no server).

Each tracker is what the Rasa server sends the action server: the slots, the
latest message as the NLU read it, and the events, with the slots the form
just extracted at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionFallback, ActionStop
from actions.conversation import FALLBACKS_BEFORE_OFFERING_A_PERSON
from actions.forms import ValidateQualificationForm
from actions.questions import ASKED_HERE, ask

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
#: The domain the Rasa server sends with each call: none (selective domain, ``common.endpoints``).
SENT: Dict[str, Any] = {}


#: Every question before the contact details, answered.
QUALIFIED = {
    "need": "support tickets pile up",
    "authority": "decision_maker",
    "allies": [],
    "blockers": [],
    "benefits": ["efficiency"],
    "interest_level": "benefits",
    "current_vendor": "none",
    "consent": True,
}


def tracker(
    text: str,
    intent: str = "inform",
    requested: Optional[str] = None,
    known: Optional[Dict[str, Any]] = None,
    extracted: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    earlier: Optional[List[Dict[str, Any]]] = None,
    confidence: float = 0.9,
) -> Tracker:
    """A tracker in the middle of the qualification form.

    ``known``: slots set in earlier turns; ``extracted``: slots set from this
    message (the events the form validates); ``earlier``: events before it.
    """
    slots = {name: None for name in DOMAIN["slots"]}
    slots.update(known or {})
    slots.update(extracted or {})
    slots["requested_slot"] = requested
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    events = list(earlier or [])
    events += [
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "user", "text": text, "parse_data": message},
    ]
    events += [{"event": "slot", "name": name, "value": value} for name, value in (extracted or {}).items()]
    return Tracker.from_dict(
        {
            "sender_id": "form-test",
            "slots": slots,
            "latest_message": message,
            "events": events,
            "active_loop": {"name": "qualification_form"},
            "latest_action_name": "action_listen",
        }
    )


async def validate(t: Tracker, domain: Optional[Dict[str, Any]] = None) -> tuple:
    """``(messages, events)`` of one run of the form's validation (with the domain Rasa sends: none)."""
    dispatcher = CollectingDispatcher()
    events = await ValidateQualificationForm().run(dispatcher, t, SENT if domain is None else domain)
    return dispatcher.messages, events


def responses(messages: List[Dict[str, Any]]) -> List[Optional[str]]:
    return [m.get("response") for m in messages]


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.asyncio
async def test_a_malformed_email_is_refused_with_a_hint_and_asked_again():
    known = {**QUALIFIED, "contact_name": "Anna Kowalska"}
    messages, events = await validate(
        tracker("anna@acme", requested="contact_email", known=known, extracted={"contact_email": "anna@acme"})
    )
    assert responses(messages) == ["utter_email_invalid"]
    assert slot_events(events)["contact_email"] is None
    assert slot_events(events)["requested_slot"] == "contact_email"


@pytest.mark.asyncio
async def test_a_free_mail_address_is_kept_with_a_word_about_work_addresses():
    known = {**QUALIFIED, "contact_name": "Anna"}
    extracted = {"contact_email": "anna.k@gmail.com"}
    messages, events = await validate(
        tracker("anna.k@gmail.com", requested="contact_email", known=known, extracted=extracted)
    )
    assert responses(messages) == ["utter_email_freemail"]
    assert slot_events(events)["contact_email"] == "anna.k@gmail.com"


@pytest.mark.asyncio
async def test_a_phone_number_too_short_is_refused_and_a_declined_one_is_kept_empty():
    known = {**QUALIFIED, "contact_name": "Anna", "contact_email": "anna@acme.pl", "company": "Acme"}
    messages, events = await validate(
        tracker("12", requested="contact_phone", known=known, extracted={"contact_phone": "12"})
    )
    assert responses(messages) == ["utter_phone_invalid"]
    assert slot_events(events)["contact_phone"] is None

    messages, events = await validate(tracker("no", "deny", "contact_phone", known, {"contact_phone": ""}))
    assert "utter_phone_invalid" not in responses(messages)
    assert slot_events(events)["contact_phone"] == ""


@pytest.mark.asyncio
async def test_cost_benefits_bring_the_savings_figures_once():
    known = {"need": "support tickets", "need_category": "ticket_overload", "language": "en"}
    extracted = {"benefits": ["upfront_savings"]}
    messages, events = await validate(tracker("saving money", requested="benefits", known=known, extracted=extracted))
    pitches = [m for m in messages if "%" in (m.get("text") or "")]
    assert len(pitches) == 1 and messages[0] == pitches[0]  # then the next question (the role, still unknown)
    assert responses(messages)[1:] == ["utter_question_authority"]
    assert slot_events(events)["savings_shown"] is True

    shown = {**known, "savings_shown": True}
    messages, _ = await validate(tracker("cheaper too", requested="benefits", known=shown, extracted=extracted))
    assert responses(messages) == ["utter_question_authority"]


@pytest.mark.asyncio
async def test_a_question_during_the_form_is_answered_and_the_open_question_stays():
    known = {"need": "support tickets", "language": "en"}
    messages, events = await validate(tracker("how much is it?", "ask_pricing", "authority", known))
    assert messages and messages[0].get("text")  # the price list, from the catalog
    slots = slot_events(events)
    assert slots["last_question"] == "ask_pricing"
    assert slots["requested_slot"] == "authority"


@pytest.mark.asyncio
async def test_an_answer_with_nothing_in_it_is_asked_again_then_a_person_is_offered():
    known = {"need": "support tickets"}
    messages, events = await validate(tracker("hmm well", "inform", "authority", known))
    assert responses(messages) == ["utter_rephrase", "utter_ask_authority_choice"]  # asked again, with buttons
    assert slot_events(events)["fallback_count"] == 1

    count = FALLBACKS_BEFORE_OFFERING_A_PERSON - 1
    messages, events = await validate(tracker("hmm", "inform", "authority", {**known, "fallback_count": count}))
    assert responses(messages) == ["utter_offer_human", "utter_ask_authority_choice"]
    assert slot_events(events)["fallback_count"] == 0


@pytest.mark.asyncio
async def test_a_bare_yes_to_a_question_about_people_is_not_a_misunderstanding():
    known = {"need": "support tickets", "authority": "decision_maker"}
    messages, events = await validate(tracker("yes", "affirm", "allies", known))
    assert "utter_rephrase" not in responses(messages)
    assert slot_events(events)["requested_slot"] == "allies"


@pytest.mark.asyncio
async def test_the_next_question_follows_what_is_known():
    _, events = await validate(tracker("our tickets pile up", "inform", "need", extracted={"need": "tickets pile up"}))
    assert slot_events(events)["requested_slot"] == "authority"

    known = {"need": "tickets", "authority": "none"}
    _, events = await validate(tracker("no", "deny", "authority", known))
    assert slot_events(events)["requested_slot"] == "decision_maker"

    done = {**QUALIFIED, "consent": False}
    _, events = await validate(tracker("no thanks", "deny", "consent", done))
    assert slot_events(events)["requested_slot"] == "summary_confirmed"


@pytest.mark.asyncio
async def test_a_bare_yes_to_who_else_gets_asked_who():
    known = {"need": "tickets", "authority": "decision_maker"}
    for slot in ("allies", "blockers"):
        dispatcher = CollectingDispatcher()
        assert ask(dispatcher, tracker("yes", "affirm", slot, known), slot)
        assert responses(dispatcher.messages) == ["utter_ask_who"]

        dispatcher = CollectingDispatcher()
        assert ask(dispatcher, tracker("our CFO", "inform", "need", known), slot)
        assert responses(dispatcher.messages) == [f"utter_question_{slot}"]


@pytest.mark.asyncio
async def test_i_do_not_decide_to_who_decides_is_understood_and_asked_who_then():
    for text, language in (("No, I don't decide.", "en"), ("Non, je ne décide pas.", "fr"), ("Nie decyduję.", "pl")):
        known = {"need": "tickets", "authority": "none", "language": language}
        messages, events = await validate(tracker(text, "deny", "decision_maker", known))
        assert "utter_rephrase" not in responses(messages), text
        assert slot_events(events).get("decision_maker") is None
        assert responses(messages)[-1] == "utter_ask_who_decides_then", text

    known = {"need": "tickets", "authority": "none"}
    messages, _ = await validate(tracker("hmm", "deny", "decision_maker", known))
    assert "utter_ask_who_decides_then" not in responses(messages)


@pytest.mark.asyncio
async def test_the_fallback_names_the_languages_for_another_language_and_offers_a_person_when_stuck():
    dispatcher = CollectingDispatcher()
    events = await ActionFallback().run(
        dispatcher, tracker("Guten Tag wir suchen eine neue Lösung", "nlu_fallback"), SENT
    )
    assert responses(dispatcher.messages) == ["utter_languages"]
    assert slot_events(events)["fallback_count"] == 1

    dispatcher = CollectingDispatcher()
    events = await ActionFallback().run(dispatcher, tracker("??", "nlu_fallback", known={"fallback_count": 1}), SENT)
    assert responses(dispatcher.messages) == ["utter_offer_human"]
    assert slot_events(events)["fallback_count"] == 0


@pytest.mark.asyncio
async def test_an_answer_not_understood_is_asked_differently_then_the_question_is_left():
    known = {"need": "support tickets pile up"}
    # first miss: remembered, the question stays open (asked again, with buttons)
    messages, events = await validate(tracker("hmm it's complicated", requested="authority", known=known))
    assert slot_events(events)["question_missed"] == "authority"
    assert slot_events(events).get("requested_slot") == "authority"
    dispatcher = CollectingDispatcher()
    ask(dispatcher, tracker("", known={**known, "question_missed": "authority"}), "authority")
    assert responses(dispatcher.messages) == ["utter_ask_authority_choice"]
    # after a question on the way (answered), the buttons come without "sorry, I did not follow"
    dispatcher = CollectingDispatcher()
    asked = tracker("how much is it?", "ask_pricing", known={**known, "question_missed": "authority"})
    ask(dispatcher, asked, "authority")
    assert responses(dispatcher.messages) == ["utter_ask_authority_choice_after_question"]
    # second miss in a row: the form moves on without the fact
    missed = {**known, "question_missed": "authority"}
    messages, events = await validate(tracker("well, depends", requested="authority", known=missed))
    assert slot_events(events)["authority"] == "unknown"
    assert slot_events(events)["question_missed"] is None
    assert slot_events(events)["requested_slot"] == "allies"


@pytest.mark.asyncio
async def test_the_validation_asks_the_questions_rasa_leaves_to_it_and_only_those():
    known = {"need": "support tickets pile up"}
    # "I decide": the next question, about allies, is asked by the validation itself
    messages, events = await validate(tracker("I make the call", requested="authority", known=known,
                                              extracted={"authority": "decision_maker"}))  # fmt: skip
    assert slot_events(events)["requested_slot"] == "allies"
    assert responses(messages)[-1] == "utter_question_allies"
    # a question Rasa asks with its own response: the validation says nothing of it
    done = {**QUALIFIED, "consent": None}
    messages, events = await validate(tracker("we use Zendesk", requested="current_vendor", known=done,
                                              extracted={"current_vendor": "Zendesk"}))  # fmt: skip
    assert slot_events(events)["requested_slot"] == "consent"
    assert "utter_ask_consent" not in responses(messages)
    # a stop: nothing validated, nothing asked (Rasa rejects the form)
    assert await validate(tracker("stop, I'm done", "stop", "contact_phone", QUALIFIED, confidence=0.99)) == ([], [])


def test_the_validations_are_called_without_the_domain():
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain.yml"))  # Rasa sends it to every validate_* unless told not to
    for form in DOMAIN["forms"]:
        assert f"validate_{form}" in domain.action_names_or_texts
        assert not domain.does_custom_action_explicitly_need_domain(f"validate_{form}")


def test_rasa_asks_every_question_of_the_forms_but_those_the_validation_asks():
    actions = {name for entry in DOMAIN["actions"] for name in ([entry] if isinstance(entry, str) else entry)}
    responses_ = set(DOMAIN["responses"])
    for form, spec in DOMAIN["forms"].items():
        for slot in spec["required_slots"]:
            rasas = {f"action_ask_{form}_{slot}", f"utter_ask_{form}_{slot}", f"action_ask_{slot}", f"utter_ask_{slot}"}
            found = rasas & (actions | responses_)
            if form == "qualification_form" and slot in ASKED_HERE:
                assert not found, f"Rasa would ask {slot} too: {found}"
            else:
                assert found, f"nothing asks {slot}"


@pytest.mark.asyncio
async def test_a_meaningless_message_is_not_understood_and_stores_nothing():
    messages, events = await validate(tracker("'; DROP TABLE leads; --", requested="allies", known=QUALIFIED))
    assert "utter_rephrase" in responses(messages)
    assert "allies" not in slot_events(events)


@pytest.mark.asyncio
async def test_the_buttons_offered_for_the_role_are_understood():
    from actions.extraction import extract_facts

    for language, expected in (
        ("en", ("decision_maker", "influencer", "none")),
        ("fr", ("decision_maker", "influencer", "none")),
        ("pl", ("decision_maker", "influencer", "none")),
    ):
        variant = next(
            v
            for v in DOMAIN["responses"]["utter_ask_authority_choice"]
            if (v.get("condition") or [{}])[0].get("value", "en") == language
        )
        for button, authority in zip(variant["buttons"], expected):
            message = {"text": button["payload"], "intent": {"name": "inform"}, "entities": []}
            updates = extract_facts(message, {"language": language}, "authority")
            assert updates.get("authority") == authority, (language, button["payload"], updates)


# -- ending the conversation ------------------------------------------------------


async def stop(t: Tracker) -> tuple:
    """``(messages, events)`` of ``action_stop``."""
    dispatcher = CollectingDispatcher()
    events = await ActionStop().run(dispatcher, t, DOMAIN)
    return dispatcher.messages, events


def follows_up(events: List[Dict[str, Any]]) -> bool:
    """Whether ``action_stop`` handed back to the form (nothing ended)."""
    return [(e["event"], e.get("name")) for e in events] == [("followup", "qualification_form")]


@pytest.mark.asyncio
async def test_a_short_answer_misread_as_stop_is_the_answer_and_the_form_goes_on():
    from actions.extraction import extract_facts

    known = {**QUALIFIED, "contact_name": "Ewa Nowak", "contact_email": "ewa@ogrody.pl", "language": "pl"}
    for text, intent, confidence in (("Ogrody Malinowe", "stop", 0.6), ("Ogrody Malinowe", "goodbye", 0.97)):
        message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
        assert extract_facts(message, known, "company")["company"] == text
        messages, events = await stop(tracker(text, intent, "company", known, confidence=confidence))
        assert messages == []
        assert follows_up(events)
        messages, events = await validate(
            tracker(text, intent, "company", known, {"company": text}, confidence=confidence)
        )
        assert slot_events(events)["company"] == text
        assert "utter_rephrase" not in responses(messages)


@pytest.mark.asyncio
async def test_a_benefit_misread_as_stop_with_confidence_is_still_the_answer():
    from actions.extraction import extract_facts

    message = {"text": "Répondre plus vite.", "intent": {"name": "stop", "confidence": 0.95}, "entities": []}
    updates = extract_facts(message, {"need": "colis", "authority": "none", "language": "fr"}, "benefits")
    assert updates["benefits"] == ["efficiency"]
    messages, events = await stop(
        tracker("Répondre plus vite.", "stop", "benefits", {"language": "fr"}, confidence=0.95)
    )
    assert follows_up(events)


@pytest.mark.asyncio
async def test_a_clear_stop_ends_the_qualification_in_each_language():
    said = (
        "please stop, I don't want to continue",
        "laissez tomber, on en reste là",
        "nie chcę już odpowiadać, koniec",
    )
    for text in said:
        # in so many words: whatever the question and however unsure the classifier
        messages, events = await stop(tracker(text, "stop", "company", QUALIFIED, confidence=0.4))
        assert responses(messages) == ["utter_stop"], text
        assert ("active_loop", None) in [(e["event"], e.get("name")) for e in events]
    # a confident stop under a question with fixed answers ends it too
    messages, events = await stop(tracker("meh, whatever, bye then", "stop", "consent", QUALIFIED, confidence=0.95))
    assert responses(messages) == ["utter_stop"]
    # and outside the qualification a stop is always one
    outside = Tracker.from_dict(
        {
            "sender_id": "form-test",
            "slots": {"requested_slot": None},
            "latest_message": {"text": "Acme", "intent": {"name": "stop", "confidence": 0.3}, "entities": []},
            "events": [],
            "active_loop": {},
        }
    )
    dispatcher = CollectingDispatcher()
    await ActionStop().run(dispatcher, outside, DOMAIN)
    assert responses(dispatcher.messages) == ["utter_stop"]


@pytest.mark.asyncio
async def test_an_unsure_stop_under_a_question_with_fixed_answers_does_not_end_it():
    messages, events = await stop(tracker("hmm, rather the other one", "stop", "consent", QUALIFIED, confidence=0.55))
    assert messages == []
    assert follows_up(events)


# -- where the visitor stands -----------------------------------------------------

#: Every question before where the visitor stands, answered, with nothing that showed their interest.
NO_INTEREST_SHOWN = {
    "need": "support tickets pile up",
    "authority": "decision_maker",
    "allies": [],
    "blockers": [],
    "benefits": [],
    "current_vendor": "none",
}


@pytest.mark.asyncio
async def test_where_the_visitor_stands_is_asked_only_when_nothing_showed_it():
    from actions.qualification import required_slots

    assert (
        required_slots(NO_INTEREST_SHOWN).index("interest_stage")
        == required_slots(NO_INTEREST_SHOWN).index("consent") - 1
    )
    asked_what_it_does = {
        **NO_INTEREST_SHOWN,
        "interest_level": "information",
        "interest_signals": ["asked what the product does"],
    }
    assert "interest_stage" in required_slots(asked_what_it_does)
    for known in (
        {"interest_level": "benefits"},
        {"interest_level": "purchase"},
        {"interest_level": "information", "interest_signals": ["said they only gather information for now"]},
    ):
        assert "interest_stage" not in required_slots({**NO_INTEREST_SHOWN, **known}), known
    # the answer to the vendor question leads to it
    messages, events = await validate(tracker("nothing yet", "deny", "current_vendor", NO_INTEREST_SHOWN))
    assert slot_events(events)["requested_slot"] == "interest_stage"


def test_the_buttons_offered_for_where_the_visitor_stands_are_understood_in_each_language():
    from actions.extraction import extract_facts

    stages = ("information", "benefits", "comparison", "purchase")
    for variant in DOMAIN["responses"]["utter_ask_interest_stage"]:
        language = (variant.get("condition") or [{}])[0].get("value", "en")
        assert len(variant["buttons"]) == len(stages)
        for button, stage in zip(variant["buttons"], stages):
            message = {"text": button["payload"], "intent": {"name": "inform"}, "entities": []}
            updates = extract_facts(message, {**NO_INTEREST_SHOWN, "language": language}, "interest_stage")
            assert updates.get("interest_level") == stage, (language, button["payload"], updates)
            assert updates.get("interest_stage") == stage


def test_free_answers_to_where_the_visitor_stands_are_read_and_the_level_never_goes_down():
    from actions.extraction import extract_facts

    def read(text: str, language: str, intent: str = "inform", **known: Any) -> Dict[str, Any]:
        message = {"text": text, "intent": {"name": intent}, "entities": []}
        return extract_facts(message, {**NO_INTEREST_SHOWN, "language": language, **known}, "interest_stage")

    assert read("we're weighing you against our current helpdesk", "en")["interest_level"] == "comparison"
    assert read("on cherche surtout à voir ce que ça pourrait nous apporter", "fr")["interest_level"] == "benefits"
    assert read("chcemy już rozmawiać o umowie", "pl")["interest_level"] == "purchase"
    assert read("na razie tylko się rozglądam", "pl")["interest_level"] == "information"
    # a question about the price answers it as well
    assert read("how much would it cost us?", "en", "ask_pricing")["interest_stage"] == "purchase"
    # a lower stage chosen later does not bring the level down; saying they only gather information does
    assert "interest_level" not in read("Seeing how it could help us", "en", interest_level="comparison")
    assert read("just gathering info", "en", interest_level="benefits")["interest_level"] == "information"


@pytest.mark.asyncio
async def test_an_answer_not_understood_leaves_where_the_visitor_stands_at_once():
    messages, events = await validate(tracker("hmm", "inform", "interest_stage", NO_INTEREST_SHOWN))
    assert slot_events(events)["interest_stage"] == ""
    assert slot_events(events)["requested_slot"] == "consent"
    assert "utter_rephrase" not in responses(messages)


@pytest.mark.asyncio
async def test_a_clear_stop_is_not_validated_so_that_the_stop_rule_ends_the_form():
    # Rasa runs the form first; a validation that sets nothing rejects it, and the stop rule follows
    messages, events = await validate(tracker("stop, I'm done", "stop", "contact_phone", QUALIFIED, confidence=0.99))
    assert (messages, events) == ([], [])
    messages, events = await validate(
        tracker("Harbour Lane", "stop", "company", QUALIFIED, {"company": "Harbour Lane"})
    )
    assert slot_events(events)["company"] == "Harbour Lane"


@pytest.mark.asyncio
async def test_asking_for_a_person_mid_way_sets_nothing_so_rasa_hands_over_to_the_hand_off_rule():
    known = {"need": "support tickets", "language": "en", "contact_email": "anna@northwind.example"}
    messages, events = await validate(
        tracker("Could I talk to a real person, please?", "request_human", "authority", known)
    )
    assert messages == [] and events == []


@pytest.mark.asyncio
async def test_after_a_hand_back_the_visitors_words_to_the_rep_are_not_read_as_an_answer():
    known = {"need": "support tickets", "language": "en"}
    said_to_the_rep = tracker("About 40 agents, mostly on phones", "inform", "authority", known)
    said_to_the_rep.events += [
        {"event": "bot", "text": "How many agents?", "metadata": {"live": {"kind": "rep", "name": "Emma Clarke"}}},
        {"event": "resume"},
    ]
    messages, events = await validate(said_to_the_rep)
    assert "utter_rephrase" not in responses(messages)
    assert slot_events(events).get("authority") is None
    assert "fallback_count" not in slot_events(events)


def test_the_forms_questions_known_to_the_action_server_are_those_of_the_domain():
    from actions.forms import ValidateReferralForm
    from actions.qualification import FORM_QUESTIONS

    assert FORM_QUESTIONS == {name: form["required_slots"] for name, form in DOMAIN["forms"].items()}
    for action in (ValidateQualificationForm(), ValidateReferralForm()):
        assert (
            action.domain_slots({})
            == action.domain_slots(DOMAIN)
            == DOMAIN["forms"][action.form_name()]["required_slots"]
        )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text,intent,requested,known,extracted",
    [
        ("anna@acme", "inform", "contact_email", {**QUALIFIED, "contact_name": "Anna"}, {"contact_email": "anna@acme"}),
        (
            "Yes, with all of us",
            "affirm",
            "summary_confirmed",
            {**QUALIFIED, "contact_name": "A", "contact_email": "a@b.co", "company": "Acme", "contact_phone": ""},
            {"summary_confirmed": True},
        ),
        ("hmm", "inform", "authority", {"need": "tickets"}, None),
        ("'; DROP TABLE leads; --", "inform", "allies", QUALIFIED, None),
        (
            "Our CFO decides",
            "inform",
            "authority",
            {"need": "tickets", "question_missed": "authority"},
            {"authority": "none"},
        ),
        ("no", "deny", "consent", {k: v for k, v in QUALIFIED.items() if k != "consent"}, {"consent": False}),
    ],
)
async def test_the_validation_says_and_sets_the_same_without_the_domain(text, intent, requested, known, extracted):
    """Rasa sends no domain to the action server (selective domain): every answer is what it was with it."""
    with_domain = await validate(tracker(text, intent, requested, known, extracted), DOMAIN)
    without = await validate(tracker(text, intent, requested, known, extracted), SENT)
    assert without == with_domain


@pytest.mark.asyncio
async def test_a_need_read_for_the_first_time_is_acknowledged_before_the_next_question():
    extracted = {"need": "our front desk can't keep up with calls", "need_category": "phone_calls"}
    messages, _ = await validate(
        tracker(
            "our front desk can't keep up with calls", requested="need", known={"language": "fr"}, extracted=extracted
        )
    )
    assert responses(messages) == ["utter_need_understood", "utter_question_authority"]
    assert messages[0]["need"] == "trop d'appels téléphoniques"


@pytest.mark.asyncio
async def test_a_need_no_category_fits_is_thanked_for_without_a_label():
    extracted = {"need": "we want the chat to sound like us", "need_category": None}
    messages, _ = await validate(tracker("we want the chat to sound like us", requested="need", extracted=extracted))
    assert responses(messages) == ["utter_need_noted", "utter_question_authority"]


@pytest.mark.asyncio
async def test_a_need_known_before_is_not_acknowledged_again():
    known = {"need": "support tickets pile up", "need_category": "ticket_overload"}
    earlier = [{"event": "slot", "name": "need", "value": "support tickets pile up"}]
    extracted = {"authority": "decision_maker", "need": "support tickets pile up, and calls too"}
    messages, _ = await validate(
        tracker(
            "I decide, and calls pile up too", requested="authority", known=known, extracted=extracted, earlier=earlier
        )
    )
    assert "utter_need_understood" not in responses(messages) and "utter_need_noted" not in responses(messages)


@pytest.mark.asyncio
async def test_after_a_hand_back_the_open_question_comes_without_an_acknowledgement():
    # The need was first read from what the visitor told the rep: the assistant only asks its open question.
    extracted = {"need": "our front desk can't keep up with calls", "need_category": "phone_calls"}
    told_the_rep = tracker("our front desk can't keep up with calls", "inform", "authority", extracted=extracted)
    told_the_rep.events += [
        {"event": "bot", "text": "Noted!", "metadata": {"live": {"kind": "rep", "name": "Emma Clarke"}}},
        {"event": "resume"},
    ]
    messages, _ = await validate(told_the_rep)
    assert responses(messages) == ["utter_question_authority"]
