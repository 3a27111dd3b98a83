"""Live hand-off: which Slack thread messages reach a visitor, and which are ignored or refused.

The leads server runs for real on loopback, on SQLite and PostgreSQL; the
Rasa server is not running here, so a reply that is routed to a visitor ends
in a clear 502 (the end-to-end path is in tests/integration/slack/test_live_handoff.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select

from bot.slack_events import is_thread_reply
from common.slack_payloads import HAND_BACK_ACTION, is_rep_action
from leads import live
from leads.server import create_app
from leads.storage.db import session_scope
from leads.storage.models import LiveSession
from leads.storage.repository import save_lead
from tests.fakes.slack_api import signed_headers
from tests.samples import lead

SECRET = "live-test-signing-secret"
REP, OTHER, BOT = "UEMMA", "UOTHER", "UBOT0001"
CHANNEL, THREAD = "CREPS001", "1700000000.000100"


def envelope(**event):
    base = {
        "type": "message",
        "user": REP,
        "text": "Hello, I'm Emma &amp; I can help",
        "ts": "1700000100.000200",
        "thread_ts": THREAD,
        "channel": CHANNEL,
        "channel_type": "channel",
    }
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {k: v for k, v in {**base, **event}.items() if v is not None},
        "authorizations": [{"user_id": BOT, "is_bot": True, "team_id": "T1"}],
    }


def test_a_reps_reply_in_a_thread_is_read_as_plain_text():
    reply = live.thread_reply(envelope(text="See <https://brightline.example|our site> &lt;3"))
    assert (reply.channel, reply.thread_ts, reply.user) == (CHANNEL, THREAD, REP)
    assert reply.text == "See our site <3"


@pytest.mark.parametrize(
    "changes",
    [
        {"bot_id": "B0001"},  # the assistant's own post (the visitor's words in the thread)
        {"user": BOT},  # the bot user, named by the envelope
        {"subtype": "message_changed"},  # an edit
        {"subtype": "message_deleted"},
        {"thread_ts": None},  # not in a thread
        {"thread_ts": "1700000100.000200"},  # the thread's first message itself
        {"type": "app_mention"},
        {"text": "   "},
        {"text": 42},
        {"user": None},
    ],
)
def test_what_is_not_a_persons_reply_in_a_thread(changes):
    assert live.thread_reply(envelope(**changes)) is None
    assert live.thread_reply({"type": "url_verification"}) is None
    assert live.thread_reply({"type": "event_callback", "event": "x"}) is None


def test_the_rasa_server_passes_on_channel_thread_replies_only():
    assert is_thread_reply(envelope())
    assert not is_thread_reply(envelope(channel="D1", channel_type="im"))  # a visitor's DM is the assistant's
    assert not is_thread_reply(envelope(thread_ts=None))
    assert not is_thread_reply(envelope(type="app_mention"))


def test_the_hand_back_button_is_the_leads_servers():
    payload = {
        "type": "block_actions",
        "user": {"id": REP},
        "actions": [{"type": "button", "action_id": HAND_BACK_ACTION, "value": "lead-1"}],
        "response_url": "https://hooks.slack.com/actions/1",
    }
    assert is_rep_action(payload)
    assert live.hand_back_click(payload) == live.HandBack("lead-1", REP, "https://hooks.slack.com/actions/1")
    payload["actions"][0]["value"] = ""
    with pytest.raises(ValueError):
        live.hand_back_click(payload)


@pytest_asyncio.fixture
async def server(db_url, monkeypatch):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    with session_scope(db_url) as session:
        saved = save_lead(session, lead("web_live-visitor", channel="web"))
        session.add(
            LiveSession(
                lead_id=saved.id,
                conversation_id="web_live-visitor",
                rep_name="Emma Clarke",
                slack_user=REP,
                channel=CHANNEL,
                thread_ts=THREAD,
                started_at=datetime.now(timezone.utc),
            )
        )
        lead_id = saved.id
    runner = web.AppRunner(create_app(db_url, "token", "http://127.0.0.1:9", "rasa-token"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
        yield client, lead_id, db_url
    await runner.cleanup()


async def post_event(client, body: bytes, headers=None):
    async with client.post("/slack/events", data=body, headers=headers or signed_headers(body, SECRET)) as answer:
        return answer.status, await answer.json()


@pytest.mark.asyncio
async def test_unsigned_or_badly_signed_thread_events_are_refused(server):
    client, _, _ = server
    body = json.dumps(envelope()).encode()
    assert (await post_event(client, body, {"Content-Type": "application/json"}))[0] == 401
    assert (await post_event(client, body, signed_headers(body, "guessed")))[0] == 401
    stale = signed_headers(body, SECRET, timestamp=1_000_000_000)
    assert (await post_event(client, body, stale))[0] == 401
    assert (await post_event(client, b"{not json"))[0] == 400
    assert (await post_event(client, b"[1, 2]"))[0] == 400


@pytest.mark.asyncio
async def test_only_the_accepting_reps_reply_in_the_live_thread_goes_to_the_visitor(server):
    client, _, _ = server
    cases = [
        ("not the rep who accepted", envelope(user=OTHER)),
        ("not a live hand-off's thread", envelope(thread_ts="1700000000.999999")),
        ("not a live hand-off's thread", envelope(channel="COTHER01")),
        ("not a person's reply in a thread", envelope(bot_id="B0001")),
        ("not a person's reply in a thread", envelope(subtype="message_changed")),
    ]
    for reason, event in cases:
        assert await post_event(client, json.dumps(event).encode()) == (200, {"ignored": reason})
    # The accepting rep's reply is routed to the visitor's conversation: the Rasa server is not running here.
    status, answer = await post_event(client, json.dumps(envelope()).encode())
    assert status == 502 and "conversation" in answer["error"]


@pytest.mark.asyncio
async def test_only_the_accepting_rep_can_hand_back(server):
    client, lead_id, db_url = server

    async def click(user: str, value: str) -> dict:
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "actions": [{"type": "button", "action_id": HAND_BACK_ACTION, "value": value}],
        }
        body = ("payload=" + json.dumps(payload)).encode()
        headers = signed_headers(body, SECRET, content_type="application/x-www-form-urlencoded")
        async with client.post("/slack/interactivity", data=body, headers=headers) as answer:
            assert answer.status == 200
            return await answer.json()

    refused = await click(OTHER, lead_id)
    assert refused["response_type"] == "ephemeral" and "Emma Clarke" in refused["text"]
    gone = await click(REP, "0" * 32)
    assert gone["response_type"] == "ephemeral" and "over" in gone["text"]
    # The rep's own click reaches for the conversation; with no Rasa server the session stays open.
    failed = await click(REP, lead_id)
    assert failed["response_type"] == "ephemeral" and "try again" in failed["text"]
    with session_scope(db_url) as session:
        still_open = session.execute(select(LiveSession).where(LiveSession.ended_at.is_(None))).scalars().all()
        assert [row.rep_name for row in still_open] == ["Emma Clarke"]
