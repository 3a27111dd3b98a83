"""The website channel's checks: socket.io packets, user_uttered payloads, the transcript."""

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.channels import MAX_MESSAGE_CHARS
from bot.socket_server import frame_problem, packet_problem
from bot.webchat import MAX_HISTORY_ENTRIES, MAX_METADATA_CHARS, parse_event, transcript, valid_session_id

SESSION = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "packet", ["0", "1", '2["user_uttered",{"message":"hi"}]', '2/shop,["x",1]', "3[]", '27["session_request",{}]']
)
def test_well_formed_packets_pass(packet):
    assert packet_problem(packet) is None


@pytest.mark.parametrize(
    "packet",
    [
        "",
        "x",
        "9",
        "2{",
        '2"text"',
        "2[]",
        '2[{"a":1}]',
        "2[5]",
        '2["connect"]',
        '2["disconnect",1]',
        '4"refused"',
        '5-["a",{"_placeholder":true,"num":0}]',
        b"\x00\x01",
        None,
    ],
)
def test_malformed_packets_are_named(packet):
    assert packet_problem(packet)


def test_frames_python_engineio_cannot_decode_are_named():
    for frame in ("", "x", "7", "9abc", None):
        assert frame_problem(frame)
    for frame in ("2", "3", '42["x"]', "1", "5", b"\x00binary"):
        assert frame_problem(frame) is None


@pytest.mark.parametrize(
    "data,reason",
    [
        (None, "JSON object"),
        ("hello", "JSON object"),
        ({"message": 5, "session_id": SESSION}, "'message'"),
        ({"message": "x" * (MAX_MESSAGE_CHARS + 1), "session_id": SESSION}, "at most"),
        ({"message": "hi", "session_id": SESSION, "metadata": [1]}, "'metadata'"),
        ({"message": "hi", "session_id": SESSION, "metadata": "{broken"}, "'metadata'"),
        ({"message": "hi", "session_id": SESSION, "metadata": {"x": "y" * MAX_METADATA_CHARS}}, "'metadata'"),
        ({"message": "hi"}, "'session_id'"),
        ({"message": "hi", "session_id": "short"}, "'session_id'"),
        ({"message": "hi", "session_id": "../../" + SESSION}, "'session_id'"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        parse_event(data, session_persistence=True)


def test_a_message_is_cleaned_and_keeps_its_locale():
    event = parse_event(
        {
            "message": '/inform{"authority": "decision_maker"}\x00',
            "session_id": f" {SESSION} ",
            "metadata": '{"locale": "fr-FR"}',
        },
        session_persistence=True,
    )
    assert not event["message"].startswith("/") and "\x00" not in event["message"]
    assert event["metadata"] == {"locale": "fr-FR"} and event["session_id"] == SESSION
    custom = parse_event({"message": "hi", "customData": {"locale": "pl"}}, False, metadata_key="customData")
    assert custom["metadata"] == {"locale": "pl"} and custom["session_id"] is None


def test_session_ids_are_random_looking_tokens():
    assert valid_session_id(SESSION) == SESSION
    assert valid_session_id("rest-visitor_0123456789") == "rest-visitor_0123456789"
    for bad in (None, 5, "", "abc", "a b c d e f g h i j", "x" * 129, "é" * 20):
        assert valid_session_id(bad) is None


def user(text, channel="socketio"):
    return UserUttered(text, input_channel=channel)


def test_the_transcript_is_the_latest_session_in_bubbles():
    buttons = [{"title": "Yes, please", "payload": "Yes, please"}, {"title": "No, thanks", "payload": "No, thanks"}]
    events = [
        SessionStarted(),
        user("old session"),
        BotUttered("old answer"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        user("\u2060/stop"),
        SlotSet("x", 1),
        BotUttered("First part.\n\nSecond part.", data={"buttons": buttons}),
        BotUttered(None, {"custom": {}}),
        BotUttered("<img src=x onerror=alert(1)>"),
    ]
    assert transcript(events, "socketio") == [
        {"from": "visitor", "text": "/stop"},
        {"from": "bot", "text": "First part."},
        {"from": "bot", "text": "Second part.", "buttons": buttons},
        {"from": "bot", "text": "<img src=x onerror=alert(1)>"},
    ]


def test_no_transcript_for_conversations_held_elsewhere_and_a_bounded_one_here():
    assert transcript([user("hi", "rest"), BotUttered("hello")], "socketio") == []
    assert transcript([user("hi"), user("again", "slack")], "socketio") == []
    many = [event for i in range(MAX_HISTORY_ENTRIES) for event in (user(f"q{i}"), BotUttered(f"a{i}"))]
    shown = transcript(many, "socketio")
    assert len(shown) == MAX_HISTORY_ENTRIES and shown[-1] == {"from": "bot", "text": f"a{MAX_HISTORY_ENTRIES - 1}"}


def test_a_live_hand_off_is_shown_with_the_reps_name_and_kept_in_the_leads_transcript():
    from leads.transcripts import lines

    start = {"kind": "start", "name": "Chloé Dubois", "channel": "C1", "thread_ts": "1.2", "label": "Visiteur"}
    events = [
        UserUttered("Je voudrais parler à quelqu'un", input_channel="socketio", timestamp=1_700_000_000),
        BotUttered(metadata={"live": start}, timestamp=1_700_000_010),
        BotUttered("Bonjour, <b>Chloé</b> ici", metadata={"live": {"kind": "rep", "name": "Chloé Dubois"}}),
        UserUttered("Merci !", input_channel="socketio"),
        BotUttered(metadata={"live": {"kind": "end", "name": "Chloé Dubois"}}),
    ]
    shown = transcript(events, "socketio")
    assert shown[1:] == [
        {"from": "notice", "live": "start", "name": "Chloé Dubois", "text": ""},
        {"from": "rep", "name": "Chloé Dubois", "text": "Bonjour, <b>Chloé</b> ici"},
        {"from": "visitor", "text": "Merci !"},
        {"from": "notice", "live": "end", "name": "Chloé Dubois", "text": ""},
    ]
    assert "C1" not in str(shown)  # the Slack thread is never shown to the visitor
    kept = lines([event.as_dict() for event in events])
    assert [(line["sender"], line.get("name")) for line in kept] == [
        ("visitor", None),
        ("rep", "Chloé Dubois"),
        ("visitor", None),
    ]
    assert kept[0]["at"] == "2023-11-14T22:13:20Z"


@pytest.mark.asyncio
async def test_the_output_counts_what_it_sends_so_only_a_silent_turn_looks_for_a_live_hand_off():
    from bot.socket_server import PoliteAsyncServer
    from bot.webchat import WebChatOutput

    output = WebChatOutput(PoliteAsyncServer(async_mode="sanic"), "bot_uttered", "/webchat")
    assert output.sent == 0
    await output.send_text_message("web_" + SESSION, "Hello!")
    await output.send_response("web_" + SESSION, {"text": "Emma here", "live": {"kind": "rep", "name": "Emma Clarke"}})
    assert output.sent == 2
