"""Conversations survive a restart of ``make run``; an erased person stays erased."""

from __future__ import annotations

import json
import time
import uuid

from testkit.polling import poll as wait_for
from testkit.servers import http
from tests.integration.security.conftest import raw_status

#: Written for these tests: a need, then the visitor's part in the decision; after the restart, one more answer.
CONVERSATIONS = {
    "en": (
        "en-GB",
        "Hello, our customer service keeps answering the very same questions all week long.",
        "Yes, I'm the person who approves this kind of purchase.",
        "Nobody else has a say in it.",
    ),
    "fr": (
        "fr-FR",
        "Bonjour, notre service client répond sans arrêt aux mêmes questions, toute la semaine.",
        "Oui, c'est moi qui valide ce genre d'achat.",
        "Personne d'autre n'a son mot à dire.",
    ),
    "pl": (
        "pl-PL",
        "Dzień dobry, nasz dział obsługi klienta przez cały tydzień odpowiada na te same pytania.",
        "Tak, to ja zatwierdzam takie zakupy.",
        "Nikt inny nie ma tu nic do powiedzenia.",
    ),
}


def test_a_restart_in_the_middle_of_a_conversation_continues_it_in_each_language(stack):
    senders = {lang: f"restart-{lang}-{uuid.uuid4().hex[:6]}" for lang in CONVERSATIONS}
    for lang, (locale, need, authority, _) in CONVERSATIONS.items():
        assert stack.say(senders[lang], need, locale)[0] == 200
        assert stack.say(senders[lang], authority, locale)[0] == 200
    before = {lang: stack.tracker(sender) for lang, sender in senders.items()}
    for lang, tracker in before.items():
        assert tracker["slots"]["need"] and tracker["slots"]["language"] == lang, tracker["slots"]
    handed_off = f"handoff-{uuid.uuid4().hex[:6]}"  # a visitor handed to a rep: the bot steps back
    stack.say(handed_off, "Hi, our helpdesk is swamped with the same questions every morning.")
    pause = {"event": "pause"}  # the event a hand-off ends with (ConversationPaused)
    assert http("POST", stack.api(f"/conversations/rest_{handed_off}/tracker/events"), pause)[0] == 200
    assert stack.tracker(handed_off)["paused"]

    stack.restart()

    assert stack.tracker(handed_off)["paused"]  # the pause survives the restart
    assert stack.say(handed_off, "Hello? Is anyone there?") == (200, [])

    for lang, (locale, need, _, answer) in CONVERSATIONS.items():
        tracker = stack.tracker(senders[lang])
        said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
        assert need in said[0] and len(said) == 2  # the conversation so far, read back from the database
        assert tracker["slots"]["need"] == before[lang]["slots"]["need"]
        assert tracker["slots"]["authority"] == before[lang]["slots"]["authority"]
        status, replies = stack.say(senders[lang], answer, locale)
        assert status == 200 and replies
        after = stack.tracker(senders[lang])
        assert after["slots"]["need"] == before[lang]["slots"]["need"]  # not asked for again
        assert after["slots"]["language"] == lang
        assert after["slots"]["requested_slot"] != "need"
        conversation = f"rest_{senders[lang]}"
        lead = wait_for(lambda: stack.leads(conversation_id=conversation))  # noqa: B023 (used at once)
        assert lead and lead[0]["need"]["summary"]


PERSON = {
    "name": "Wiktoria Zawadzka-Brandt",
    "email": "w.zawadzka-brandt@lodowisko-polnoc.example",
    "phone": "+48 612 345 678",
}


def _files_mentioning(stack, values) -> list:
    found = []
    for path in stack.var.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path.name}: {v}" for v in values if v.encode() in content]
    return found


def test_after_an_erase_nothing_about_the_person_is_left_nor_comes_back(stack):
    sender = f"erase-{uuid.uuid4().hex[:8]}"
    conversation = f"rest_{sender}"
    stack.say(sender, "Hi, our support inbox is flooded with the same questions about opening hours.", "en-GB")
    stack.say(sender, f"I'm {PERSON['name']}, you can write to {PERSON['email']}.")
    stack.say(sender, f"Or call me on {PERSON['phone']}.")
    lead = wait_for(lambda: [l for l in stack.leads(conversation_id=conversation) if l["contact"]["email"]])
    assert lead, stack.tracker(sender)["slots"]
    # a write about the same person, still waiting in the outbox (as when the database was down)
    waiting = {"record": {**lead[0], "conversation_id": conversation}, "transcript": [], "queued_at": 0}
    (stack.var / "outbox" / "waiting-erase.json").write_text(json.dumps(waiting))
    with_digits = [PERSON["name"], PERSON["email"], PERSON["phone"], "612345678"]
    assert _files_mentioning(stack, with_digits[:2])  # it is there before

    result = stack.cli("erase", PERSON["email"])
    assert result.returncode == 0, result.stderr
    assert "leads: 1" in result.stdout and "tracker events:" in result.stdout

    assert _files_mentioning(stack, with_digits) == []
    tracker = stack.tracker(sender)
    assert not any(v in json.dumps(tracker) for v in with_digits)
    assert stack.leads(conversation_id=conversation) == []

    # a replay from another process's outbox, and the conversation going on, bring nothing back
    (stack.var / "outbox" / "replayed.json").write_text(json.dumps(waiting))
    assert stack.cli("retry").returncode in (0, 2)
    stack.say(sender, "Are you still there? We really need help with those tickets.")
    time.sleep(5)  # the action server's retries run every 2 seconds here
    assert stack.leads(conversation_id=conversation) == []
    assert all(l["contact"]["email"] != PERSON["email"] for l in stack.leads(limit="1000"))
    assert not list((stack.var / "outbox").glob("*.json"))


def test_erasure_through_the_leads_api_by_phone(stack):
    sender = f"phone-{uuid.uuid4().hex[:8]}"
    stack.say(sender, "Dzień dobry, tonę w powtarzających się pytaniach klientów o dostawy.", "pl-PL")
    stack.say(sender, "Mój numer telefonu to 698 765 432.")
    lead = wait_for(lambda: [l for l in stack.leads(conversation_id=f"rest_{sender}") if l["contact"]["phone"]])
    assert lead, stack.tracker(sender)["slots"]
    headers = {"Authorization": f"Bearer {stack.leads_token}", "Content-Type": "application/json"}
    body = json.dumps({"phone": "+48 698-765-432"}).encode()
    status, _ = raw_status(f"{stack.leads_url}/api/people", "DELETE", headers, body)
    assert status == 200
    assert stack.leads(conversation_id=f"rest_{sender}") == []
    assert _files_mentioning(stack, ["698 765 432", "698765432"]) == []
