"""The Teams channel's pieces: settings, activity checks, mentions, cards, replies, the unconfigured webhook."""

from __future__ import annotations

import json
import logging
from typing import Iterator

import aiohttp
import pytest

from bot.channels import MAX_MESSAGE_CHARS
from bot.teams import (
    DEFAULT_OPENID_URL,
    DEFAULT_TOKEN_URL,
    TeamsInput,
    TeamsOutput,
    TeamsSettings,
    activity_locale,
    hero_card,
    parse_activity,
    strip_mentions,
)
from bot.teams_auth import ReplyToken
from testkit.servers import free_port
from tests.fakes.microsoft import MicrosoftLogin
from tests.fakes.receiver import Receiver

APP_ID = "0b7e4f3a-2c1d-4e5f-8a9b-1c2d3e4f5a6b"
BOT = {"id": f"28:{APP_ID}", "name": "Lead Assistant"}


def activity(**fields) -> dict:
    base = {
        "type": "message",
        "id": "1700000000001",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "channelId": "msteams",
        "from": {"id": "29:1visitor", "name": "Alex"},
        "conversation": {"id": "a:1conversation"},
        "recipient": dict(BOT),
        "text": "Hello",
    }
    base.update(fields)
    return base


def test_settings_come_from_the_environment_only():
    assert TeamsSettings.from_env({}) is None
    assert TeamsSettings.from_env({"TEAMS_APP_ID": APP_ID}) is None
    assert TeamsSettings.from_env({"TEAMS_APP_ID": " ", "TEAMS_APP_PASSWORD": "pw"}) is None
    settings = TeamsSettings.from_env({"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "pw"})
    assert (settings.openid_url, settings.token_url) == (DEFAULT_OPENID_URL, DEFAULT_TOKEN_URL)
    local = TeamsSettings.from_env(
        {
            "TEAMS_APP_ID": APP_ID,
            "TEAMS_APP_PASSWORD": "pw",
            "TEAMS_OPENID_URL": "http://127.0.0.1:1/openid",
            "TEAMS_TOKEN_URL": "http://127.0.0.1:1/token",
        }
    )
    assert (local.openid_url, local.token_url) == ("http://127.0.0.1:1/openid", "http://127.0.0.1:1/token")


def test_the_channel_is_named_for_the_leads_channel_and_opens_without_network():
    channel = TeamsInput(TeamsSettings(APP_ID, "pw", "http://127.0.0.1:9/unreachable", "http://127.0.0.1:9/t"))
    assert channel.name() == "teams" and channel.url_prefix() == "teams"
    assert not channel.verifier.keys.fetched


@pytest.mark.parametrize(
    "body,status",
    [
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[]", 400),
        (json.dumps({"serviceUrl": "https://x.example/"}).encode(), 400),
        (json.dumps(activity(serviceUrl="javascript:alert(1)")).encode(), 400),
        (json.dumps(activity(serviceUrl=None)).encode(), 400),
        (json.dumps(activity(conversation=None)).encode(), 400),
        (json.dumps(activity(**{"from": {"name": "no id"}})).encode(), 400),
        (json.dumps(activity(recipient={"id": ""})).encode(), 400),
        (json.dumps(activity(text=42)).encode(), 400),
        (json.dumps(activity(text="x" * (MAX_MESSAGE_CHARS + 1))).encode(), 413),
    ],
)
def test_malformed_activities_get_a_clear_error(body, status):
    parsed, error = parse_activity(body)
    assert parsed is None and error[0] == status and error[1]


def test_other_activity_types_need_only_a_service_url():
    parsed, error = parse_activity(
        json.dumps({"type": "conversationUpdate", "serviceUrl": "https://x.example/"}).encode()
    )
    assert error is None and parsed["type"] == "conversationUpdate"


def test_the_bots_mention_is_removed_and_other_people_keep_their_names():
    mention = "<at>Lead Assistant</at>"
    with_entity = activity(entities=[{"type": "mention", "text": mention, "mentioned": BOT}])
    assert strip_mentions(f"{mention} can <at>Dana Smith</at> sign?", with_entity) == "can Dana Smith sign?"
    assert strip_mentions(f"Hi {mention}, we need help", activity()) == "Hi , we need help"
    assert strip_mentions("<AT>lead assistant</AT> hello", activity()) == "hello"
    other_bot = activity(entities=[{"type": "mention", "text": "<at>Other</at>", "mentioned": {"id": "28:other"}}])
    assert strip_mentions("<at>Other</at> hello", other_bot) == "Other hello"
    assert strip_mentions("line one\nline two", activity()) == "line one\nline two"


def test_the_locale_comes_from_the_activity_or_the_teams_client():
    assert activity_locale(activity(locale="fr-FR")) == "fr-FR"
    assert activity_locale(activity(entities=[{"type": "clientInfo", "locale": "pl-PL"}])) == "pl-PL"
    assert activity_locale(activity(locale=5)) is None
    assert activity_locale(activity(locale="x" * 100)) is None


def test_the_visitors_message_is_text_without_commands_and_with_the_locale():
    channel = TeamsInput(TeamsSettings(APP_ID, "pw"))
    message = channel.user_message(activity(text='/inform{"authority": "decision_maker"}', locale="pl-PL"))
    assert not message["text"].startswith("/") and "inform" in message["text"]
    assert message["metadata"] == {"locale": "pl-PL"} and message["sender"] == "teams_29:1visitor"
    assert channel.user_message(activity(text="<at>Lead Assistant</at>")) is None
    assert channel.user_message(activity(text=None)) is None


def test_buttons_become_a_hero_card_with_im_back_actions():
    card = hero_card(
        "Would you like a call?\nIt's <b>free</b> & quick.",
        [
            {"title": "Oui, volontiers", "payload": "Oui, volontiers"},
            {"title": "Website", "url": "https://brightline.example"},
        ],
    )
    assert card["contentType"] == "application/vnd.microsoft.card.hero"
    assert card["content"]["text"] == "Would you like a call?<br>It's &lt;b&gt;free&lt;/b&gt; &amp; quick."
    assert card["content"]["buttons"] == [
        {"type": "imBack", "title": "Oui, volontiers", "value": "Oui, volontiers"},
        {"type": "openUrl", "title": "Website", "value": "https://brightline.example"},
    ]


@pytest.fixture
def login() -> Iterator[MicrosoftLogin]:
    server = MicrosoftLogin(APP_ID, "pw", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def connector() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.mark.asyncio
async def test_replies_go_to_the_conversation_at_the_service_url(login, connector):
    incoming = activity(
        serviceUrl=connector.url("/amer"), locale="fr-FR", conversation={"id": "19:abc@thread.tacv2;messageid=17"}
    )
    async with aiohttp.ClientSession() as session:
        output = TeamsOutput(TeamsSettings(APP_ID, "pw"), incoming, ReplyToken(login.token_url, APP_ID, "pw"), session)
        await output.send_response(
            "29:1visitor",
            {
                "text": "Voici ce que j'ai noté :\n• Besoin : moins de tickets",
                "buttons": [{"title": "Oui", "payload": "Oui"}],
            },
        )
        await output.send_text_message("29:1visitor", "Merci !\nÀ bientôt.")
    posts = connector.requests
    assert [p["path"] for p in posts] == [
        "/amer/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D17/activities"
    ] * 2
    assert {p["headers"]["Authorization"] for p in posts} == {f"Bearer {login.issued[0]}"} and len(login.issued) == 1
    card, text = (json.loads(p["body"]) for p in posts)
    for reply in (card, text):
        assert reply["replyToId"] == "1700000000001" and reply["locale"] == "fr-FR"
        assert reply["from"] == BOT and reply["recipient"] == {"id": "29:1visitor", "name": "Alex"}
        assert reply["conversation"] == {"id": "19:abc@thread.tacv2;messageid=17"}
    assert card["attachments"][0]["content"]["buttons"] == [{"type": "imBack", "title": "Oui", "value": "Oui"}]
    assert text["text"] == "Merci !\n\nÀ bientôt."


@pytest.mark.asyncio
async def test_a_failing_reply_is_logged_not_raised(login, connector, caplog):
    caplog.set_level(logging.ERROR, logger="bot.teams")
    async with aiohttp.ClientSession() as session:
        refused = TeamsOutput(
            TeamsSettings(APP_ID, "pw"),
            activity(serviceUrl=connector.url("/")),
            ReplyToken(login.token_url, APP_ID, "pw"),
            session,
        )
        connector.fail_next = 1
        await refused.send_text_message("29:1visitor", "Hello")
        unreachable = TeamsOutput(
            TeamsSettings(APP_ID, "pw"),
            activity(serviceUrl=f"http://127.0.0.1:{free_port()}/"),
            ReplyToken(login.token_url, APP_ID, "pw"),
            session,
        )
        await unreachable.send_text_message("29:1visitor", "Hello")
        no_token = TeamsOutput(
            TeamsSettings(APP_ID, "pw"),
            activity(serviceUrl=connector.url("/")),
            ReplyToken(login.token_url, APP_ID, "wrong"),
            session,
        )
        await no_token.send_text_message("29:1visitor", "Hello")
    assert connector.requests == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP 500" in m for m in messages) and any("Could not post" in m for m in messages)
    assert any("no Bot Framework token" in m for m in messages)


def test_the_app_manifest_declares_the_bot_in_every_scope_and_language():
    from PIL import Image

    from testkit.servers import ROOT

    folder = ROOT / "teams"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["manifestVersion"] == "1.16" and manifest["id"] == "{{TEAMS_APP_ID}}"
    (bot,) = manifest["bots"]
    assert bot["botId"] == "{{TEAMS_APP_ID}}" and set(bot["scopes"]) == {"personal", "team", "groupchat"}
    assert Image.open(folder / manifest["icons"]["color"]).size == (192, 192)
    assert Image.open(folder / manifest["icons"]["outline"]).size == (32, 32)
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    for language in manifest["localizationInfo"]["additionalLanguages"]:
        texts = json.loads((folder / language["file"]).read_text())
        assert {"name.short", "name.full", "description.short", "description.full"} <= set(texts)
        assert len(texts["name.short"]) <= 30 and len(texts["description.short"]) <= 80
