"""Which Slack events are a visitor talking, what they said, and where the answer goes."""

import json
from urllib.parse import urlencode

import pytest

from bot.slack import button_blocks, escape
from bot.slack_events import EventCache, message_from_click, message_from_event, plain_text
from common.slack_payloads import interaction_payload, is_rep_action

BOT = "UBOT0001"


def envelope(**event):
    base = {
        "type": "message",
        "user": "U1",
        "text": "hello",
        "ts": "1700000000.000100",
        "channel": "D1",
        "channel_type": "im",
    }
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {**base, **event},
        "authorizations": [{"user_id": BOT, "is_bot": True, "team_id": "T1"}],
    }


def click(value="Yes, please", action_id="reply_0", channel="D1", thread_ts="1700000000.000100", user="U1"):
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "ann"},
        "team": {"id": "T1"},
        "channel": {"id": channel},
        "container": {
            "type": "message",
            "channel_id": channel,
            "message_ts": "1700000009.000200",
            "thread_ts": thread_ts,
        },
        "message": {"ts": "1700000009.000200", "thread_ts": thread_ts},
        "actions": [{"type": "button", "action_id": action_id, "value": value}],
    }


def test_slack_markup_becomes_plain_text():
    text = (
        f"<@{BOT}> write to <mailto:ann@acme.io|ann@acme.io>, see <https://acme.io|acme.io> or "
        "<https://acme.io/pricing>, ask <@U2|bob> in <#C1|sales> &lt;soon&gt; &amp; <!here>"
    )
    assert plain_text(text, [BOT]) == (
        "write to ann@acme.io, see acme.io or https://acme.io/pricing, ask @bob in #sales <soon> & @here"
    )


def test_a_direct_message_is_one_conversation_per_user_and_dm_answered_in_its_thread():
    top = message_from_event(envelope())
    assert (top.sender_id, top.channel, top.thread_ts, top.text) == ("slack_U1_D1", "D1", "1700000000.000100", "hello")
    in_thread = message_from_event(envelope(ts="1700000050.000100", thread_ts="1700000000.000100"))
    assert in_thread.sender_id == top.sender_id and in_thread.thread_ts == "1700000000.000100"
    assert "locale" not in json.dumps(top.metadata)  # the language comes from the text


def test_a_mention_is_one_conversation_per_user_and_thread():
    first = message_from_event(
        envelope(type="app_mention", channel="C1", channel_type=None, text=f"<@{BOT}> Bonjour, une question")
    )
    assert first.text == "Bonjour, une question" and first.sender_id == "slack_U1_C1_1700000000.000100"
    other = message_from_event(
        envelope(type="app_mention", channel="C1", channel_type=None, ts="1700000100.000100", text=f"<@{BOT}> hi")
    )
    assert other.sender_id == "slack_U1_C1_1700000100.000100"
    # the same person clicking a button in that thread continues the same conversation
    assert message_from_click(click(channel="C1")).sender_id == first.sender_id


@pytest.mark.parametrize(
    "event",
    [
        {"bot_id": "B1", "user": BOT},  # the bot's own message
        {"user": BOT},
        {"subtype": "message_changed"},  # an edit
        {"subtype": "bot_message", "bot_id": "B2"},
        {"subtype": "message_deleted"},
        {"channel": "C1", "channel_type": "channel"},  # a channel message without a mention
        {"type": "reaction_added"},
        {"text": None},
        {"user": "U1; DROP"},
        {"text": f"<@{BOT}>", "type": "app_mention", "channel": "C1"},  # nothing but the mention
    ],
)
def test_messages_that_are_not_a_visitor_talking_are_ignored(event):
    assert message_from_event(envelope(**event)) is None


def test_typed_commands_stay_text_and_long_texts_are_cut():
    typed = message_from_event(envelope(text='/inform{"authority": "decision_maker"}'))
    assert not typed.text.startswith("/")
    assert len(message_from_event(envelope(text="word " * 5000)).text) <= 4000


def test_a_click_is_the_button_payload_in_the_visitor_conversation():
    message = message_from_click(click(value="Oui, volontiers"))
    assert (message.text, message.sender_id, message.thread_ts) == (
        "Oui, volontiers",
        "slack_U1_D1",
        "1700000000.000100",
    )
    assert message_from_click(click(action_id="lead_accept", value="abc")) is None
    assert message_from_click({"type": "block_actions", "actions": []}) is None
    assert message_from_click({"type": "view_submission"}) is None


def test_interaction_payloads_are_read_from_the_form():
    payload = click(action_id="lead_pass", value="lead-1")
    assert interaction_payload(urlencode({"payload": json.dumps(payload)}).encode()) == payload
    assert is_rep_action(payload) and not is_rep_action(click())
    for bad in (b"", b"payload=%7Bnot", b"payload=%5B%5D", b"other=1", b"\xff\xfe"):
        with pytest.raises(ValueError):
            interaction_payload(bad)


def test_retries_are_recognised_within_the_time_to_live_and_the_cache_stays_bounded():
    cache = EventCache(ttl_seconds=60, max_entries=3)
    assert cache.first_time("Ev1", now=0) and not cache.first_time("Ev1", now=30)
    assert cache.first_time("Ev1", now=100)  # expired: processed again
    for index in range(10):
        cache.first_time(f"Ev{index + 10}", now=101)
    assert len(cache._seen) <= 3


def test_buttons_are_block_kit_and_text_cannot_ping_anyone():
    blocks = button_blocks(
        "Pick <!channel> & go",
        [{"title": "Yes, please", "payload": "Yes, please"}, {"title": "No, thanks", "payload": "No, thanks"}],
    )
    assert blocks[0]["text"]["text"] == "Pick &lt;!channel&gt; &amp; go"
    assert blocks[1]["type"] == "actions"
    assert [(b["type"], b["value"], b["text"]["text"]) for b in blocks[1]["elements"]] == [
        ("button", "Yes, please", "Yes, please"),
        ("button", "No, thanks", "No, thanks"),
    ]
    assert len({b["action_id"] for b in blocks[1]["elements"]}) == 2
    assert escape("<@U1>") == "&lt;@U1&gt;"
