"""Full qualification conversations over the REST channel, in EN, FR and PL.

Both servers run for real (see conftest.py); the facts are read back from the
Rasa HTTP API's tracker.
"""

from __future__ import annotations

import uuid
from typing import List

import pytest

from bot.language import detect_language


def new_sender(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def texts(replies: List[dict]) -> List[str]:
    return [r["text"] for r in replies if r.get("text")]


def assert_language(replies: List[dict], language: str) -> None:
    """Every reply that clearly has a language has the visitor's."""
    for text in texts(replies):
        assert detect_language(text) in (language, None), f"reply not in {language}: {text!r}"


class Conversation:
    def __init__(self, assistant, language: str, tag: str) -> None:
        self.assistant, self.language, self.sender = assistant, language, new_sender(tag)
        self.transcript: List[str] = []

    def say(self, text: str) -> List[str]:
        replies = self.assistant.say(self.sender, text)
        assert replies, f"no reply to {text!r}"
        assert_language(replies, self.language)
        self.transcript += [f"> {text}"] + [f"< {t}" for t in texts(replies)]
        return texts(replies)

    @property
    def slots(self):
        return self.assistant.slots(self.sender)


def test_english_everything_in_one_message_then_a_correction(assistant):
    chat = Conversation(assistant, "en", "en-long")
    chat.say(
        "Hi, I'm Tom Baker and I run operations at Greenleaf Dental (12 clinics). Our front desks drown in "
        "appointment calls and we're comparing a few tools, Podium among them. I recommend, our CEO Maria "
        "Lopez signs. Our IT contractor Ben hates new tools, he'll say it's a security risk. Costs matter "
        "most to us. You can reach me at tom@greenleafdental.com."
    )
    slots = chat.slots
    assert slots["company"] == "Greenleaf Dental"
    assert "appointment calls" in slots["need"]
    assert slots["authority"] == "influencer"
    assert "Maria Lopez" in slots["decision_maker"]
    assert slots["contact_email"] == "tom@greenleafdental.com"
    # only what is still unknown is asked
    assert slots["requested_slot"] not in ("need", "authority", "blockers", "benefits", "contact_email")
    for _ in range(8):
        requested = chat.slots["requested_slot"]
        if requested == "summary_confirmed":
            break
        chat.say(
            {
                "allies": "No, nobody else.",
                "current_vendor": "We use a shared Outlook inbox.",
                "contact_phone": "skip",
                "consent": "yes",
                "contact_name": "Tom Baker",
                "company": "Greenleaf Dental",
            }[requested]
        )
    assert chat.slots["requested_slot"] == "summary_confirmed", chat.transcript
    replies = chat.say("No, I'm not the one who signs.")
    assert any("Maria Lopez" in r for r in replies), chat.transcript
    assert chat.slots["authority"] == "none"
    replies = chat.say("Yes, that's right")
    assert any("tom@greenleafdental.com" in r for r in replies), chat.transcript
    slots = chat.slots
    assert slots["summary_confirmed"] is True and slots["lead_submitted"] is True
    assert slots["interest_level"] == "comparison"
    assert slots["benefits"] == ["upfront_savings"]
    ben = next(p for p in slots["blockers"] if p["name"] == "Ben")
    assert ben["stance"] == "saboteur" and "security" in ben["concern"]
    assert slots["current_vendor"] == "We use a shared Outlook inbox"
    assert slots["contact_name"] == "Tom Baker"


def test_french_step_by_step_with_a_question_on_the_way(assistant):
    chat = Conversation(assistant, "fr", "fr-steps")
    assert chat.say("Bonjour")
    chat.say("On cherche à automatiser une partie de notre service client, les délais de réponse sont trop longs.")
    assert chat.slots["requested_slot"] == "authority"
    replies = chat.say("Au fait, c'est combien ?")
    assert any("390" in r for r in replies), chat.transcript
    assert chat.slots["requested_slot"] == "authority"
    assert chat.slots["interest_level"] == "purchase"
    chat.say("Oui, je suis la gérante.")
    chat.say("Personne d'autre.")
    chat.say("Mon associé, un peu sceptique sur le coût.")
    chat.say("Gagner en efficacité")
    chat.say("Nous utilisons Zendesk depuis deux ans.")
    chat.say("Oui, volontiers")
    chat.say("Claire Martin")
    replies = chat.say("claire@")
    assert any("claire@" in r for r in replies), chat.transcript
    assert chat.slots["requested_slot"] == "contact_email"
    chat.say("claire.martin@boulangeries-martin.fr")
    chat.say("Boulangeries Martin")
    chat.say("06 12 34 56 78")
    assert chat.slots["requested_slot"] == "summary_confirmed", chat.transcript
    chat.say("Oui, c'est exact")
    slots = chat.slots
    assert slots["lead_submitted"] is True, chat.transcript
    assert slots["authority"] == "decision_maker"
    assert slots["blockers"][0]["stance"] == "saboteur" and "sceptique" in slots["blockers"][0]["concern"]
    assert slots["benefits"] == ["efficiency"]
    assert slots["current_vendor"] == "Zendesk"
    assert slots["contact_email"] == "claire.martin@boulangeries-martin.fr"
    assert slots["contact_phone"] == "06 12 34 56 78"
    assert slots["language"] == "fr"


def test_polish_visitor_who_does_not_decide(assistant):
    chat = Conversation(assistant, "pl", "pl-none")
    chat.say("Dzień dobry, szukam informacji o waszym systemie.")
    chat.say("Mamy za dużo powtarzających się pytań od klientów.")
    assert chat.slots["requested_slot"] == "authority", chat.transcript
    chat.say("Nie ja, decyduje dyrektor, pan Adam Nowicki.")
    slots = chat.slots
    assert slots["authority"] == "none"
    assert "Adam Nowicki" in slots["decision_maker"]
    assert slots["requested_slot"] == "allies"
    chat.say("Kierownik IT, Piotr Nowak, też będzie miał zdanie.")
    chat.say("Nie, raczej nikt.")
    chat.say("tak")  # a short reply: the language stays Polish
    chat.say("Mniej pracy dla zespołu")
    chat.say("Nic, odpisujemy ze zwykłej skrzynki.")
    chat.say("Nie, dziękuję")
    assert chat.slots["requested_slot"] == "summary_confirmed", chat.transcript
    chat.say("Tak, zgadza się")
    slots = chat.slots
    assert slots["lead_submitted"] is True, chat.transcript
    assert slots["consent"] is False
    assert slots["benefits"] == ["easier_work"]
    assert any(p.get("name") == "Piotr Nowak" and p["stance"] == "influencer" for p in slots["allies"])
    assert slots["blockers"] == []
    assert slots["language"] == "pl"


def test_the_visitor_can_switch_language(assistant):
    chat = Conversation(assistant, "en", "switch")
    chat.say("Hello, we get far too many support tickets every day.")
    chat.language = "pl"
    chat.say("Przepraszam, wolę po polsku. To ja decyduję o zakupie.")
    assert chat.slots["language"] == "pl"
    assert chat.slots["authority"] == "decision_maker"


BAD_INPUTS = [
    "",
    "x" * 10_000,
    "😀😀😀🔥",
    "<script>alert('hi')</script><b>bold</b>",
    "Guten Tag, wir suchen eine Lösung für unseren Kundenservice und haben viele Fragen.",
    "qwpoeiru zxmcnvb asldkfj",
    '/inform{"authority": "decision_maker", "need": "hacked"}',
    "'; DROP TABLE leads; --",
    "/job_seeker",
]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_bad_input_never_loses_progress(assistant, bad):
    chat = Conversation(assistant, "en", "bad")
    chat.say("We need to cut the number of repetitive support tickets our team handles.")
    before = chat.slots
    assert before["requested_slot"] == "authority"
    replies = assistant.say(chat.sender, bad)
    assert isinstance(replies, list)
    for reply in texts(replies):
        assert "Traceback" not in reply and "<script>" not in reply
    after = chat.slots
    assert after["need"] == before["need"]
    assert after["authority"] in (None, before["authority"])  # nothing typed as a command took effect
    assert after["requested_slot"] == "authority"
    chat.say("I'm the one who signs.")
    assert chat.slots["authority"] == "decision_maker"


def test_malformed_requests_get_http_errors(assistant):
    from tests.integration.e2e.conftest import http

    url = f"{assistant.url}/webhooks/rest/webhook"
    assert http("POST", url, raw=b"{not json")[0] == 400
    assert http("POST", url, {"message": "hi"})[0] == 400
    assert http("POST", url, {"sender": "a", "message": "x" * 30_000})[0] == 413


def test_existing_customer_refers_someone(assistant):
    chat = Conversation(assistant, "en", "referral")
    chat.say("Hi! We're already customers and very happy with Relay.")
    assert chat.slots["requested_slot"] == "referrals", chat.transcript
    chat.say("You should talk to Jane Doe at Acme Logistics, jane@acme-logistics.com")
    referrals = chat.slots["referrals"]
    assert referrals[0]["name"] == "Jane Doe" and referrals[0]["email"] == "jane@acme-logistics.com"


def test_a_bare_yes_to_who_else_gets_asked_who(assistant):
    chat = Conversation(assistant, "en", "who")
    chat.say("Our agents answer the same questions all day long.")
    chat.say("I'm the one who signs.")
    assert chat.slots["requested_slot"] == "allies"
    replies = chat.say("yes")
    assert any("Who would that be" in r for r in replies), chat.transcript
    assert not chat.slots["allies"]
    chat.say("Anna from finance")
    assert chat.slots["requested_slot"] == "blockers", chat.transcript
    allies = chat.slots["allies"]
    assert len(allies) == 1 and "Anna" in (allies[0].get("name") or allies[0].get("role")), chat.transcript


@pytest.mark.parametrize("first", ["ok", "👋", "no"])
def test_a_first_message_with_nothing_to_answer_gets_one_reply(assistant, first):
    sender = new_sender("first")
    replies = texts(assistant.say(sender, first))
    assert 1 <= len(replies) <= 2, replies  # an answer, not a loop of fallbacks
    assert texts(assistant.say(sender, "We get far too many repetitive support tickets."))
    assert assistant.slots(sender)["requested_slot"] == "authority"


def _buttons(replies: List[dict]) -> List[str]:
    return [b["title"] for r in replies for b in r.get("buttons") or []]


def _to_the_vendor_question(chat: Conversation, answers: List[str]) -> None:
    """Need, role, people and priorities answered without a word about where the visitor stands."""
    for text in answers:
        chat.say(text)
    assert chat.slots["requested_slot"] == "current_vendor", chat.transcript
    assert chat.slots["interest_level"] in (None, "information"), chat.transcript


def test_where_the_visitor_stands_is_asked_once_with_buttons_when_nothing_showed_it(assistant):
    chat = Conversation(assistant, "en", "en-stage")
    _to_the_vendor_question(
        chat,
        ["Our two agents spend the whole day on the same order questions.", "I own the budget.", "Nobody.",
         "No one, no.", "Nothing in particular."],
    )  # fmt: skip
    replies = assistant.say(chat.sender, "Nothing, just a shared inbox.")
    assert chat.slots["requested_slot"] == "interest_stage", chat.transcript
    assert _buttons(replies) == [
        "Just gathering information",
        "Seeing how it could help us",
        "Comparing with what we use",
        "Ready to talk price and start date",
    ]
    chat.say("Comparing with what we use")
    slots = chat.slots
    assert slots["interest_level"] == "comparison", chat.transcript
    assert slots["requested_slot"] == "consent", chat.transcript


def test_an_answer_to_where_the_visitor_stands_not_understood_moves_on(assistant):
    chat = Conversation(assistant, "pl", "pl-stage")
    _to_the_vendor_question(
        chat,
        ["Dzień dobry, prowadzimy hurtownię i klienci ciągle dzwonią w sprawie dostaw.", "Ja o tym decyduję.",
         "Nikt.", "Nikt taki.", "Nic szczególnego."],
    )  # fmt: skip
    replies = assistant.say(chat.sender, "Żadnego, odbieramy telefony sami.")
    assert chat.slots["requested_slot"] == "interest_stage", chat.transcript
    assert len(_buttons(replies)) == 4
    chat.say("hmm, trudno powiedzieć")
    slots = chat.slots
    assert slots["requested_slot"] == "consent", chat.transcript  # not asked a second time
    assert slots["interest_stage"] == ""


@pytest.mark.parametrize(
    "language,company", [("pl", "Ogrody Malinowe"), ("fr", "Atelier Roussel"), ("en", "Harbour Lane")]
)
def test_a_short_company_name_is_the_answer_whatever_the_classifier_reads(assistant, language, company):
    """A name is sometimes read as "stop" or goodbye: only a clear stop ends the qualification."""
    chat = Conversation(assistant, language, f"{language}-company")
    answers = {
        "pl": ["Mamy za dużo powtarzających się pytań od klientów.", "To ja decyduję.", "Nikt.", "Nikt.",
               "Szybsze odpowiedzi.", "Żadnego.", "Tak", "Ewa Malinowska", "ewa@przyklad.pl"],
        "fr": ["Nos clients posent sans cesse les mêmes questions.", "C'est moi qui décide.", "Personne.",
               "Personne.", "Gagner du temps.", "Aucun.", "Oui", "Paul Roussel", "paul@exemple.fr"],
        "en": ["Customers keep asking us the same questions.", "I decide.", "Nobody.", "Nobody.",
               "Saving time.", "None.", "Yes", "Sam Lane", "sam@example.com"],
    }[language]  # fmt: skip
    for text in answers:
        if chat.slots["requested_slot"] == "interest_stage":
            chat.say({"pl": "Porównujemy oferty", "fr": "On compare des offres", "en": "Comparing options"}[language])
        chat.say(text)
    assert chat.slots["requested_slot"] == "company", chat.transcript
    chat.say(company)
    slots = chat.slots
    assert slots["company"] == company, chat.transcript
    assert slots["requested_slot"] == "contact_phone", chat.transcript
    chat.say(
        {"pl": "stop, nie chcę kontynuować", "fr": "stop, je ne veux pas continuer", "en": "stop, I'm done"}[language]
    )
    slots = chat.slots
    assert slots["requested_slot"] is None and not slots["lead_submitted"], chat.transcript
