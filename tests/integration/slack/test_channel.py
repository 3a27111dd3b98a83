"""Prospects talk to the assistant in Slack: signed events in, replies posted to Slack's Web API.

The Rasa server, the action server and the leads server run for real (see
conftest.py); Slack's cloud is a local HTTP server (slack_api.py).
"""

from __future__ import annotations

import json
import re
import time
from functools import lru_cache
from typing import Dict, List, Optional, Set

import yaml

from leads.storage.db import session_scope
from leads.storage.repository import find_by_conversation
from testkit.servers import ROOT
from tests.fakes.slack_api import BOT_USER, signed_headers
from tests.integration.slack.conftest import SIGNING_SECRET, Workspace


@lru_cache(maxsize=1)
def _variants() -> List[tuple]:
    """(pattern, language, buttons) of every response variant in the domain."""
    found = []
    for variants in yaml.safe_load((ROOT / "domain.yml").read_text())["responses"].values():
        for variant in variants:
            language = next((c["value"] for c in variant.get("condition") or [] if c.get("name") == "language"), "en")
            pattern = re.compile(".+?".join(re.escape(part) for part in re.split(r"\{\w+\}", variant["text"])), re.S)
            found.append((pattern, language, [b["payload"] for b in variant.get("buttons") or []]))
    return found


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def languages_of(text: str) -> Set[str]:
    """The languages of the domain responses this posted text is."""
    return {language for pattern, language, _ in _variants() if pattern.fullmatch(unescape(text))}


def reply(workspace: Workspace, channel: str, thread_ts: str, count: int = 1) -> List[Dict]:
    """Wait for at least ``count`` messages posted in the thread; return them all."""
    return workspace.slack.wait_for(
        lambda: len(workspace.slack.posted(channel, thread_ts)) >= count and workspace.slack.posted(channel, thread_ts)
    )


def settle(workspace: Workspace, sender: str, messages: int = 1) -> Dict:
    """The tracker once the assistant has read ``messages`` visitor messages and listens again."""

    def listening():
        tracker = workspace.tracker(sender)
        heard = [e for e in tracker["events"] if e["event"] == "user"]
        return tracker if len(heard) >= messages and tracker.get("latest_action_name") == "action_listen" else None

    return workspace.slack.wait_for(listening)


def lead_channel(workspace: Workspace, sender: str) -> Optional[str]:
    """The channel of the lead recorded for this conversation, once there is one."""
    with session_scope(workspace.db_url) as session:
        lead = find_by_conversation(session, sender)
        return lead.channel if lead else None


def test_url_verification_is_answered(workspace):
    status, body = workspace.send(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    assert (status, body) == (200, {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    unsigned = json.dumps({"challenge": "abc", "type": "url_verification"}).encode()
    assert workspace.send(None, raw=unsigned, headers={"Content-Type": "application/json"})[0] == 401


def test_english_dm_is_answered_in_its_thread_with_buttons_and_clicks(workspace):
    """A DM conversation in English; its buttons are Block Kit; a click (through the leads
    server, the app's interactivity URL) is read as the button's payload."""
    user, channel = "UENGLISH1", "DENGLISH1"
    sender = f"slack_{user}_{channel}"
    first = workspace.next_ts()
    assert workspace.send(
        workspace.event("Hi, our support team drowns in tickets. I sign the contracts myself.", user, channel, ts=first)
    ) == (200, {"ok": True})
    question = reply(workspace, channel, first)[0]
    assert question["thread_ts"] == first
    assert languages_of(question["text"]) == {"en"}, question["text"]
    settle(workspace, sender)
    for count, answer in enumerate(("Nobody else.", "No, nobody would object."), start=2):  # in the thread
        assert workspace.send(workspace.event(answer, user, channel, thread_ts=first))[0] == 200
        settle(workspace, sender, count)
    posted = workspace.slack.posted(channel, first)
    assert workspace.user_texts(sender) == [
        "Hi, our support team drowns in tickets. I sign the contracts myself.",
        "Nobody else.",
        "No, nobody would object.",
    ]
    with_buttons = [m for m in posted if m.get("blocks")]
    assert with_buttons, posted
    blocks = with_buttons[-1]["blocks"]
    assert blocks[0]["type"] == "section" and blocks[1]["type"] == "actions"
    values = [button["value"] for button in blocks[1]["elements"]]
    assert any(
        values == buttons
        for pattern, language, buttons in _variants()
        if language == "en" and pattern.fullmatch(unescape(with_buttons[-1]["text"]))
    )
    before = len(posted)
    click = workspace.click_body(
        values[1], user, channel, thread_ts=first, action_id=blocks[1]["elements"][1]["action_id"]
    )
    status, body = workspace.click(click, f"{workspace.leads_url}/slack/interactivity")
    assert (status, body) == (200, {"ok": True})
    reply(workspace, channel, first, before + 1)
    tracker = settle(workspace, sender, 4)
    assert workspace.user_texts(sender)[-1] == values[1]
    assert tracker["slots"]["language"] == "en"
    assert tracker["latest_input_channel"] == "slack"


def test_french_dm_and_a_click_on_the_assistant(workspace):
    user, channel = "UFRENCH1", "DFRENCH1"
    sender = f"slack_{user}_{channel}"
    first = workspace.next_ts()
    workspace.send(workspace.event("Bonjour, notre équipe support croule sous les tickets.", user, channel, ts=first))
    question = reply(workspace, channel, first)[0]
    assert languages_of(question["text"]) == {"fr"}, question["text"]
    settle(workspace, sender)
    status, body = workspace.click(
        workspace.click_body("Oui, volontiers", user, channel, thread_ts=first),
        f"{workspace.rasa_url}/webhooks/slack/interactivity",
    )
    assert (status, body) == (200, {"ok": True})
    reply(workspace, channel, first, 2)
    settle(workspace, sender, 2)
    assert workspace.user_texts(sender)[-1] == "Oui, volontiers"
    assert all(languages_of(m["text"]) == {"fr"} for m in workspace.slack.posted(channel, first))


def test_polish_mention_in_a_channel_is_answered_in_its_thread(workspace):
    user, channel = "UPOLISH1", "CSALES01"
    first = workspace.next_ts()
    text = f"<@{BOT_USER}> Dzień dobry, nasz zespół wsparcia tonie w zgłoszeniach, <mailto:anna@firma.pl|anna@firma.pl>"
    assert workspace.send(workspace.event(text, user, channel, kind="app_mention", ts=first))[0] == 200
    question = reply(workspace, channel, first)[0]
    assert languages_of(question["text"]) == {"pl"}, question["text"]
    sender = f"slack_{user}_{channel}_{first}"  # one conversation per user and thread in a channel
    tracker = settle(workspace, sender)
    assert workspace.user_texts(sender) == ["Dzień dobry, nasz zespół wsparcia tonie w zgłoszeniach, anna@firma.pl"]
    assert tracker["slots"]["language"] == "pl"
    assert tracker["slots"]["contact_email"] == "anna@firma.pl"
    assert workspace.slack.wait_for(lambda: lead_channel(workspace, sender)) == "slack"


def test_a_retried_event_is_processed_once(workspace):
    user, channel = "URETRY01", "DRETRY01"
    sender = f"slack_{user}_{channel}"
    event = workspace.event("Hello, we'd like to automate our help desk.", user, channel)
    body = json.dumps(event).encode()
    assert workspace.send(event, raw=body) == (200, {"ok": True})
    headers = {**signed_headers(body, SIGNING_SECRET), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    status, answer = workspace.send(event, raw=body, headers=headers)
    assert status == 200 and answer == {"ignored": "already received"}
    reply(workspace, channel, event["event"]["ts"])
    tracker = settle(workspace, sender)
    time.sleep(1.5)  # a second processing, if there were one, would show by now
    assert workspace.user_texts(sender) == ["Hello, we'd like to automate our help desk."]
    bot_texts = [e["text"] for e in workspace.tracker(sender)["events"] if e["event"] == "bot"]
    assert [unescape(m["text"]) for m in workspace.slack.posted(channel)] == bot_texts
    assert tracker["latest_input_channel"] == "slack"


def test_typed_intent_commands_stay_text(workspace):
    user, channel = "UINFORM1", "DINFORM1"
    sender = f"slack_{user}_{channel}"
    first = workspace.next_ts()
    workspace.send(workspace.event('/inform{"authority": "decision_maker", "need": "hacked"}', user, channel, ts=first))
    reply(workspace, channel, first)
    tracker = settle(workspace, sender)
    assert tracker["slots"]["authority"] is None
    assert tracker["slots"]["need"] != "hacked"
    typed = [e for e in tracker["events"] if e["event"] == "user"][0]
    assert not typed["text"].startswith("/") and typed["text"].endswith(
        '/inform{"authority": "decision_maker", "need": "hacked"}'
    )


def test_unsigned_stale_or_malformed_requests_are_refused_and_nothing_is_posted(workspace):
    user, channel = "UFORGED1", "DFORGED1"
    event = workspace.event("Hi, I want a price list.", user, channel)
    body = json.dumps(event).encode()
    assert workspace.send(event, raw=body, secret="not-the-secret")[0] == 401
    assert workspace.send(event, raw=body, timestamp=int(time.time()) - 6 * 60)[0] == 401
    assert workspace.send(event, raw=body, timestamp=int(time.time()) + 6 * 60)[0] == 401
    assert workspace.send(event, raw=body, headers={"Content-Type": "application/json"})[0] == 401
    tampered = {**signed_headers(body, SIGNING_SECRET)}
    assert workspace.send(event, raw=body.replace(b"price", b"PRICE"), headers=tampered)[0] == 401
    bad_stamp = {**signed_headers(body, SIGNING_SECRET), "X-Slack-Request-Timestamp": "yesterday"}
    assert workspace.send(event, raw=body, headers=bad_stamp)[0] == 400
    click = workspace.click_body("Yes, please", user, channel, thread_ts=event["event"]["ts"])
    assert workspace.click(click, f"{workspace.rasa_url}/webhooks/slack/interactivity", secret="wrong")[0] == 401
    status, error = workspace.send(None, raw=b'{"type": "event_callback", "event": ')
    assert status == 400 and "JSON" in error["error"]
    assert workspace.send(None, raw=b"x" * (1024 * 1024 + 1))[0] == 413
    assert workspace.click(b"payload=%7Bnot-json", f"{workspace.rasa_url}/webhooks/slack/interactivity")[0] == 400
    # the bot's own messages and edits are acknowledged and ignored
    own = workspace.event("I am the bot", BOT_USER, channel, bot_id="B0001")
    edit = workspace.event("Hi, I want a price list!", user, channel, subtype="message_changed")
    assert workspace.send(own)[1] == {"ignored": "not a visitor's message"}
    assert workspace.send(edit)[1] == {"ignored": "not a visitor's message"}
    # a genuine message afterwards is answered; nothing above was
    control = workspace.event("Hi, I want a price list.", "UCONTROL", "DCONTROL")
    workspace.send(control)
    reply(workspace, "DCONTROL", control["event"]["ts"])
    settle(workspace, "slack_UCONTROL_DCONTROL")
    assert workspace.slack.posted(channel) == []
    assert workspace.user_texts(f"slack_{user}_{channel}") == []
