"""A live hand-off, end to end: a visitor in the widget (headless Chromium) and a rep in a Slack thread.

The servers are the Slack ones (``conftest.py``: action server, leads server,
Rasa server with the REST, Slack and website channels; Slack is the local
Slack API in ``tests/fakes``). The reps file puts every rep in working hours
all week, so that routing never depends on the clock. The visitor asks for a
person, the rep accepts the card in Slack, they talk (the rep's thread replies
are signed Events API requests to the Rasa server, the visitor's messages
arrive at the local Slack as ``chat.postMessage`` in the card's thread), and
the rep's hand-back button gives the conversation back to the assistant.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from leads.storage.db import session_scope
from leads.storage.repository import find_by_conversation
from testkit.polling import wait_for
from testkit.servers import http, tracker_url
from tests.fakes.slack_api import BOT_USER
from tests.integration.browser.conftest import (  # noqa: F401  (the browser fixtures)
    ARTIFACTS,
    browser_missing,
    open_browser,
    playwright_driver,
)
from tests.integration.slack.conftest import Workspace

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")

REP_USER, REPS_CHANNEL = "UEMMA", "CREPS001"

SHOWN = """() => Array.from(document.querySelectorAll('.relay-log > .relay-msg, .relay-log > .relay-notice'))
    .map(node => ({
    kind: node.classList.contains('relay-notice') ? 'notice'
        : node.classList.contains('rep') ? 'rep' : node.classList.contains('visitor') ? 'visitor' : 'bot',
    name: (node.querySelector('.relay-name') || {}).textContent || null,
    text: node.textContent, elements: node.querySelectorAll('b, script, img').length}))"""
SESSION_ID = """() => {
    const key = Object.keys(localStorage).find(k => k.startsWith('relay-chat:'));
    return key ? JSON.parse(localStorage.getItem(key)).sessionId : null; }"""


class Visitor:
    """A person on the demo page, typing in the widget."""

    def __init__(self, page, workspace: Workspace) -> None:
        self.page, self.workspace = page, workspace

    def shown(self) -> List[Dict[str, Any]]:
        return self.page.evaluate(SHOWN)

    def say(self, text: str) -> None:
        self.page.fill(".relay-form input", text)
        self.page.click(".relay-send")

    @property
    def conversation_id(self) -> str:
        return "web_" + self.page.evaluate(SESSION_ID)

    def tracker(self) -> Dict[str, Any]:
        status, tracker = http("GET", tracker_url(self.workspace.rasa_url, self.page.evaluate(SESSION_ID), "web"))
        assert status == 200, tracker
        return tracker

    def bot_answers_after(self, count: int) -> List[Dict[str, Any]]:
        return [e for e in self.shown()[count:] if e["kind"] == "bot"]


def thread_posts(workspace: Workspace, thread_ts: str) -> List[Dict[str, Any]]:
    return workspace.slack.posted(REPS_CHANNEL, thread_ts)


def lead_of(workspace: Workspace, conversation_id: str) -> Dict[str, Any]:
    with session_scope(workspace.db_url) as session:
        found = find_by_conversation(session, conversation_id)
        if found is None:
            return {}
        return {"id": found.id, "transcript": list(found.transcript or [])}


def test_a_visitor_and_a_rep_talk_live_and_the_assistant_resumes(workspace, open_browser):  # noqa: F811
    page = open_browser("en-GB").new_page()
    page.goto(f"{workspace.rasa_url}/webhooks/socketio/demo")
    page.click(".relay-launcher")
    visitor = Visitor(page, workspace)

    visitor.say("Hi, I'm Anna Nowak from Northwind, you can reach me at anna.nowak@northwind.example")
    wait_for(lambda: visitor.bot_answers_after(2), "the assistant's first answer")
    visitor.say("Could I talk to a real person, please?")
    try:
        wait_for(lambda: visitor.tracker().get("paused"), "the conversation paused for a person")
    except AssertionError:
        said = [(e["event"], e.get("text") or e.get("name")) for e in visitor.tracker()["events"]]
        raise AssertionError(f"the conversation did not pause for a person: {said}") from None
    lead = wait_for(lambda: lead_of(workspace, visitor.conversation_id), "the lead")
    cards = wait_for(
        lambda: [c for c in workspace.slack.calls_to("/slack") if lead["id"] in str(c.get("blocks"))],
        "the card in Emma's Slack",
    )
    accept = next(b for b in cards[0]["blocks"][-1]["elements"] if b["action_id"] == "lead_accept")

    # Emma accepts in Slack: the card's thread becomes the conversation.
    card_ts = workspace.next_ts()
    body = workspace.click_body(accept["value"], REP_USER, REPS_CHANNEL, card_ts, action_id="lead_accept")
    assert workspace.click(body, f"{workspace.leads_url}/slack/interactivity")[0] == 200
    intro = wait_for(lambda: thread_posts(workspace, card_ts), "the word to the rep in the thread")[0]
    hand_back = intro["blocks"][-1]["elements"][0]
    assert hand_back["action_id"] == "live_hand_back" and hand_back["value"] == lead["id"]
    wait_for(
        lambda: any(e["kind"] == "notice" and e["text"] == "Emma Clarke is answering" for e in visitor.shown()),
        "who is answering, in the widget",
    )

    # Emma's reply in the thread (Slack escapes what she typed) reaches the widget, with her name, as text.
    reply = "Hi Anna, Emma here &lt;b&gt;from sales&lt;/b&gt; &amp; happy to help. How many agents?"
    assert workspace.send(workspace.event(reply, REP_USER, REPS_CHANNEL, thread_ts=card_ts))[0] == 200
    said = wait_for(lambda: [e for e in visitor.shown() if e["kind"] == "rep"], "Emma's reply in the widget")
    assert said[0]["name"] == "Emma Clarke"
    assert said[0]["text"] == "Emma ClarkeHi Anna, Emma here <b>from sales</b> & happy to help. How many agents?"
    assert said[0]["elements"] == 0

    # Others in the thread, the bot's own posts and edits do not reach the visitor.
    noise = [
        workspace.event("I can take this one too", "UCHLOE", REPS_CHANNEL, thread_ts=card_ts),
        workspace.event("echo", BOT_USER, REPS_CHANNEL, thread_ts=card_ts, bot_id="B0001"),
        workspace.event("edited", REP_USER, REPS_CHANNEL, thread_ts=card_ts, subtype="message_changed"),
    ]
    for envelope in noise:
        assert workspace.send(envelope)[0] == 200

    # The visitor's answer goes to the thread, made inert for Slack.
    before = len(thread_posts(workspace, card_ts))
    visitor.say("About 40 agents <script>x</script> @channel")
    posted = wait_for(lambda: thread_posts(workspace, card_ts)[before:], "the visitor's message in the thread")
    assert posted[0]["text"].startswith("*Visitor:* About 40 agents &lt;script&gt;x&lt;/script&gt; @\u2060channel")
    time.sleep(2)  # the noise had time to arrive
    assert [e["text"] for e in visitor.shown() if e["kind"] == "rep"] == [said[0]["text"]]
    assert not visitor.bot_answers_after(len(visitor.shown()) - 1), "the assistant stays quiet meanwhile"

    # Emma hands the conversation back: the widget says so and the assistant answers again.
    body = workspace.click_body(lead["id"], REP_USER, REPS_CHANNEL, card_ts, action_id="live_hand_back")
    assert workspace.click(body, f"{workspace.leads_url}/slack/interactivity")[0] == 200
    wait_for(
        lambda: any(e["kind"] == "notice" and e["text"] == "The assistant is back" for e in visitor.shown()),
        "the assistant's return, in the widget",
    )
    assert wait_for(lambda: not visitor.tracker().get("paused"), "the conversation resumed")
    back = next(i for i, e in enumerate(visitor.shown()) if e["text"] == "The assistant is back")
    reasked = wait_for(lambda: visitor.bot_answers_after(back + 1), "the open question, asked again")
    assert "sign off" in reasked[0]["text"], reasked  # the question the hand-off interrupted
    shown_before = len(visitor.shown())
    visitor.say("Thanks! How much does Relay cost?")
    answers = wait_for(lambda: visitor.bot_answers_after(shown_before + 1), "the assistant's answer after hand-back")
    assert "€" in answers[0]["text"], answers  # the prices, not a fallback
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live-handoff.png"))

    # The lead's transcript holds the exchange: who said what, and when.
    transcript = wait_for(
        lambda: [line for line in lead_of(workspace, visitor.conversation_id)["transcript"] if line["sender"] == "rep"],
        "the rep's words in the lead's transcript",
    )
    assert transcript[0]["name"] == "Emma Clarke" and transcript[0]["at"].endswith("Z")
    assert transcript[0]["text"].startswith("Hi Anna, Emma here <b>from sales</b>")
    lines = lead_of(workspace, visitor.conversation_id)["transcript"]
    texts = [(line["sender"], line["text"]) for line in lines]
    assert ("visitor", "About 40 agents <script>x</script> @channel") in texts
    assert texts.index(("visitor", "About 40 agents <script>x</script> @channel")) > texts.index(
        ("rep", transcript[0]["text"])
    )
