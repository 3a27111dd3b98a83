"""Slack and Teams cards as a real local HTTP server receives them: words, the promise, nothing a visitor can inject."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from leads.delivery import deliver_pending, enqueue_handoff
from leads.routing import Route
from leads.storage.db import session_scope
from leads.storage.repository import save_lead
from tests.fakes.receiver import Receiver
from tests.samples import lead

#: Internal codes and raw JSON keys a rep must never read on a card.
CODES = re.compile(
    r"decision_maker|\binfluencer\b|\bsaboteur\b|upfront_savings|easier_work|better_support|indirect_cost|"
    r"ticket_overload|phone_calls|slow_response|notified_at|accepted_at|\bnull\b|\bNone\b|"
    r"\b(queued|pending|nurture|comparison)\b"
)
HOSTILE_COMPANY = "<!channel> <https://evil.example|Open CRM record> [click](https://evil.example) **now**"
HOSTILE_NAME = "<@U999> Mallory <!here> & co"
MONDAY_10_WARSAW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def rep(rid: str, name: str, language: str, tz: str, receiver: Receiver) -> dict:
    return {
        "id": rid,
        "name": name,
        "language": language,
        "languages": [language],
        "timezone": tz,
        "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"},
        "slack": {"user_id": "UMAREK", "webhook_url": receiver.url(f"/slack/{rid}")},
        "teams": {"webhook_url": receiver.url(f"/teams/{rid}")},
    }


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def _deliver(db_url, receiver, record, route, team=None):
    config = {"team_queue": team or {}, "transcript_base_url": "https://leads.example"}
    with session_scope(db_url) as session:
        saved = save_lead(session, record)
        enqueue_handoff(session, saved, route, config, now=MONDAY_10_WARSAW)  # a known deadline
        lead_id = saved.id
    assert deliver_pending(db_url)["failed"] == 0
    return lead_id


def elements(node):
    """Every object in a card, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from elements(value)
    elif isinstance(node, list):
        for value in node:
            yield from elements(value)


def _texts(card: dict) -> str:
    """Every text a person reads on the card."""
    return "\n".join(e[key] for e in elements(card) for key in ("text", "title") if isinstance(e.get(key), str))


def test_a_polish_lead_for_marek_reads_in_polish_with_the_promise_and_deadline(db_url, receiver):
    marek = rep("marek", "Marek Zieliński", "pl", "Europe/Warsaw", receiver)
    record = lead(
        "pl-1",
        language="pl",
        contact={"name": "Jan Zieliński", "email": "jan@hurtownia.pl", "company": "Hurtownia Zielińscy"},
        need={
            "summary": "Dzień dobry! Mamy za dużo telefonów w recepcji, proszę pisać na jan@hurtownia.pl",
            "category": "phone_calls",
        },
        authority="decision_maker",
        stakeholders=[
            {
                "name": "Piotr",
                "role": "kierownik IT",
                "stance": "saboteur",
                "concern": "Podpisuję ja, ale Piotr może być przeciw, bo martwi się o bezpieczeństwo danych",
            },
            {"name": "Ewa", "role": "księgowa", "stance": "influencer", "concern": None},
        ],
    )
    _deliver(db_url, receiver, record, Route(marek, False, "test", True))
    [slack] = receiver.json("/slack/marek")
    [teams] = receiver.json("/teams/marek")
    for card in (slack, teams):
        shown = _texts(card)
        assert not CODES.search(shown), CODES.search(shown).group(0)
        for words in (
            "Potrzeba",
            "Rola w decyzji",
            "Decyduje",
            "Mogą blokować",
            "Piotr (kierownik IT): bezpieczeństwo danych",
            "za dużo telefonów",
            "Marek Zieliński skontaktuje się jeszcze dziś",
            "Odpowiedz do 30 lis 17:00 (zostało 7 godz. 0 min)",
            "Dla: Marek Zieliński",
        ):
            assert words in shown, (words, shown)
        assert "proszę pisać" not in shown and "Dzień dobry" not in shown  # the need, without the rest
    # the three facts first: need, role, who may push back
    fields = next(b for b in slack["blocks"] if b.get("fields"))["fields"]
    assert [f["text"].split("\n")[0] for f in fields] == ["*Potrzeba*", "*Rola w decyzji*", "*Mogą blokować*"]
    assert [b["action_id"] for b in slack["blocks"][-1]["elements"]] == ["lead_accept", "lead_pass"]
    assert "<@UMAREK>" in _texts(slack)


def test_the_team_queue_card_promises_one_business_day(db_url, receiver):
    team = {
        "name": "Sales team",
        "language": "fr",
        "timezone": "Europe/Paris",
        "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"},
        "slack": {"webhook_url": receiver.url("/queue")},
    }
    record = lead("fr-1", language="fr")
    _deliver(db_url, receiver, record, Route(None, True, "queue", False), team)
    [slack] = receiver.json("/queue")
    shown = _texts(slack)
    assert "Pour l'équipe commerciale" in shown
    assert "Notre équipe reprendra contact sous un jour ouvré" in shown
    assert "Répondre avant 1 déc. 18:00" in shown  # Monday's hand-off: the end of Tuesday, Paris time
    assert "Prescripteur" in shown and "Pourraient freiner" in shown and not CODES.search(shown)


def test_hostile_names_arrive_inert_in_slack_and_teams(db_url, receiver):
    emma = rep("emma", "Emma Clarke", "en", "Europe/London", receiver)
    record = lead(
        "evil-1",
        contact={"name": HOSTILE_NAME, "email": "mallory@evil.example", "company": HOSTILE_COMPANY},
        need={"summary": "We need <b>help</b> with *tickets* <!everyone> see www.evil.example", "category": None},
        current_vendor="<https://evil.example|Zendesk>",
    )
    _deliver(db_url, receiver, record, Route(emma, False, "test", True))
    [slack] = receiver.json("/slack/emma")
    everything = json.dumps(slack, ensure_ascii=False)
    for forbidden in ("https://evil", "www.evil", "@here", "@everyone"):
        assert forbidden not in everything, forbidden  # no live link or mention, in any kind of text
    mrkdwn = "\n".join(e["text"] for e in elements(slack) if e.get("type") == "mrkdwn")
    for forbidden in ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<https://evil", "<b>"):
        assert forbidden not in mrkdwn, forbidden
    assert "&lt;!channel&gt;" in mrkdwn and "&lt;@U999&gt;" in mrkdwn and "&amp; co" in mrkdwn
    links = re.findall(r"<(https?://[^|>]+)\|", mrkdwn)
    assert len(links) == 1 and links[0].startswith("https://leads.example/reps/leads/")  # ours only
    assert "mallory@evil.example" in mrkdwn  # e-mail addresses stay whole, for copying

    [teams] = receiver.json("/teams/emma")
    card = teams["attachments"][0]["content"]
    visitor_bits = ("Mallory", "evil", "tickets", "click")
    for element in elements(card["body"]):
        for key in ("text", "value", "title"):
            value = element.get(key)
            if isinstance(value, str) and any(b in value for b in visitor_bits):
                assert element["type"] == "TextRun", element  # never Markdown
                assert "https://evil" not in value and "www.evil" not in value
    assert [a["url"] for a in card["actions"]][0].startswith("https://leads.example/reps/leads/")


def test_the_crm_gets_a_note_in_words_next_to_the_contract(db_url, receiver):
    chloe = rep("chloe", "Chloé Dubois", "fr", "Europe/Paris", receiver)
    config = {"crm": {"webhook_url": receiver.url("/crm")}}
    with session_scope(db_url) as session:
        saved = save_lead(session, lead("crm-1"))
        enqueue_handoff(session, saved, Route(chloe, False, "test", True), config)
    deliver_pending(db_url)
    [body] = receiver.json("/crm")
    assert body["lead"]["authority"] == "influencer"  # the contract keeps its codes
    assert body["note"]["language"] == "fr" and body["note"]["for"] == "Chloé Dubois"
    assert "Rôle dans la décision\u00a0: Prescripteur" in body["note"]["text"]
    assert "Ben (IT contractor)\u00a0: a security risk" in body["note"]["text"]
    assert not CODES.search(body["note"]["text"])
