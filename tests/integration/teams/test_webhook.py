"""The Teams webhook of the real Rasa server, with Microsoft played by local servers (see conftest.py)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import jwt
import pytest

from bot.language import detect_language
from testkit.servers import http
from tests.fakes.microsoft import ISSUER, KEYS_PATH, OPENID_PATH, TOKEN_PATH, SigningKey
from tests.integration.teams.conftest import APP_ID, BOT


def texts(replies: List[Dict[str, Any]]) -> List[str]:
    """The text of each reply, a Hero card's included."""
    found = []
    for reply in replies:
        if reply.get("text"):
            found.append(reply["text"])
        for attachment in reply.get("attachments") or []:
            found.append(attachment["content"].get("text", ""))
    return found


def last_said(tracker: Dict[str, Any]) -> Dict[str, Any]:
    """The visitor's latest message event."""
    return [e for e in tracker["events"] if e["event"] == "user"][-1]


def test_the_server_starts_with_microsoft_unreachable_and_fetches_keys_on_first_request(teams_world):
    world = teams_world
    assert not world.login.running and world.login.requests == [], "this test must run before the others"
    assert http("GET", f"{world.rasa_url}/webhooks/teams/")[1] == {"status": "ok", "configured": True}
    activity = world.activity("Hello, we get far too many support tickets.")
    status, body = world.post(activity)
    assert status == 503 and "keys" in body["error"]
    assert world.user_events(activity["from"]["id"]) == []

    world.login.start()
    status, _ = world.post(activity)
    assert status == 202
    world.wait_for_turn(activity["from"]["id"])
    assert world.login.paths("GET") == [OPENID_PATH, KEYS_PATH]
    assert world.replies(activity)


def test_an_english_message_is_answered_at_the_service_url_with_the_bots_token(teams):
    activity = teams.activity("Hi, our support team drowns in tickets and we'd like to automate the answers.")
    status, _ = teams.post(activity)
    assert status == 202
    tracker = teams.wait_for_turn(activity["from"]["id"])
    assert tracker["latest_input_channel"] == "teams"
    assert last_said(tracker)["metadata"]["locale"] == "en-US"
    assert tracker["slots"]["need"]
    replies = teams.replies(activity)
    assert replies, teams.connector.requests[-3:]
    token_posts = [r for r in teams.login.requests if r["method"] == "POST"]
    assert token_posts and token_posts[0]["path"] == TOKEN_PATH
    for reply in replies:
        assert reply["headers"]["Authorization"] == f"Bearer {teams.login.issued[-1]}"
        assert reply["type"] == "message" and reply["replyToId"] == activity["id"]
        assert reply["conversation"]["id"] == activity["conversation"]["id"]
        assert reply["from"] == BOT and reply["recipient"]["id"] == activity["from"]["id"]
    assert all(detect_language(t) in ("en", None) for t in texts(replies))
    assert any(detect_language(t) == "en" for t in texts(replies))


def test_the_reply_token_is_reused_across_messages(teams):
    sender = f"29:1reuse-{time.time_ns()}"
    first = teams.activity("We need help with our customer support backlog.", sender=sender)
    assert teams.post(first)[0] == 202
    teams.wait_for_turn(sender)
    issued = list(teams.login.issued)
    second = teams.activity("I'm the one who signs.", sender=sender, conversation=first["conversation"])
    assert teams.post(second)[0] == 202
    teams.wait_for_turn(sender, 2)
    assert teams.login.issued == issued and issued
    assert teams.login.paths("GET").count(KEYS_PATH) == 1  # the keys stay cached too
    assert teams.tracker(sender)["slots"]["authority"] == "decision_maker"


@pytest.mark.parametrize(
    "text,locale,language",
    [
        ("Relay ?", "fr-FR", "fr"),
        ("Dzień dobry, szukam informacji o waszym systemie.", "en-US", "pl"),
    ],
)
def test_the_visitor_is_answered_in_their_language(teams, text, locale, language):
    activity = teams.activity(text, locale=locale)
    assert teams.post(activity)[0] == 202
    tracker = teams.wait_for_turn(activity["from"]["id"])
    assert tracker["slots"]["language"] == language
    replies = texts(teams.replies(activity))
    assert replies and all(detect_language(t) in (language, None) for t in replies), replies
    assert any(detect_language(t) == language for t in replies), replies


def test_buttons_arrive_as_a_hero_card_whose_actions_send_the_button_text(teams):
    sender = f"29:1buttons-{time.time_ns()}"
    activity = teams.activity(
        "Hello! We need fewer repetitive tickets, I'm the one who decides and nobody else weighs in.", sender=sender
    )
    assert teams.post(activity)[0] == 202
    turns = 1
    for _ in range(6):
        teams.wait_for_turn(sender, turns)
        cards = [a for r in teams.replies(activity) for a in r.get("attachments") or []]
        if cards:
            break
        requested = teams.tracker(sender)["slots"]["requested_slot"]
        answer = {"blockers": "Nobody is against it.", "allies": "No, nobody else."}.get(requested, "skip")
        turns += 1
        assert teams.post(teams.activity(answer, sender=sender, conversation=activity["conversation"]))[0] == 202
    assert cards, teams.tracker(sender)["slots"]["requested_slot"]
    card = cards[-1]
    assert card["contentType"] == "application/vnd.microsoft.card.hero"
    actions = card["content"]["buttons"]
    assert actions and all(a["type"] == "imBack" and a["value"] == a["title"] for a in actions)
    # pressing a button sends its text, read like anything the visitor types
    choice = actions[0]["value"]
    turns += 1
    assert teams.post(teams.activity(choice, sender=sender, conversation=activity["conversation"]))[0] == 202
    tracker = teams.wait_for_turn(sender, turns)
    assert last_said(tracker)["text"] == choice and tracker["slots"]["benefits"]


def test_the_bots_mention_is_removed_from_channel_messages(teams):
    mention = f"<at>{BOT['name']}</at>"
    activity = teams.activity(
        f"{mention} we need to cut the repetitive questions <at>Dana Smith</at> answers all day",
        entities=[{"type": "mention", "text": mention, "mentioned": BOT}],
    )
    activity["conversation"]["conversationType"] = "channel"
    assert teams.post(activity)[0] == 202
    tracker = teams.wait_for_turn(activity["from"]["id"])
    assert last_said(tracker)["text"] == "we need to cut the repetitive questions Dana Smith answers all day"
    assert teams.replies(activity)


def test_an_intent_typed_in_teams_stays_text(teams):
    activity = teams.activity('/inform{"authority": "decision_maker", "need": "hacked"}')
    assert teams.post(activity)[0] == 202
    tracker = teams.wait_for_turn(activity["from"]["id"])
    assert tracker["slots"]["authority"] is None and tracker["slots"]["need"] in (None, "")
    said = last_said(tracker)  # read as words by the NLU, not as a command with its entities
    assert said["text"].lstrip("\u2060") == activity["text"] and not said["text"].startswith("/")
    assert all(e.get("extractor") for e in said["parse_data"]["entities"])
    assert teams.replies(activity)


def _unsigned(teams) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": ISSUER, "aud": APP_ID, "exp": now + 600, "serviceUrl": teams.service_url},
        None,
        algorithm="none",
        headers={"kid": teams.key.kid},
    )


REFUSED = {
    "forged signature": (lambda t: SigningKey(kid=t.key.kid).token(APP_ID, t.service_url), 401),
    "unsigned": (_unsigned, 401),
    "expired": (lambda t: t.signed(lifetime=3600, age=7200), 401),
    "wrong audience": (lambda t: t.key.token("another-bot", t.service_url), 401),
    "wrong issuer": (lambda t: t.key.token(APP_ID, t.service_url, issuer="https://login.example/"), 401),
    "no token": (lambda t: None, 401),
    "serviceUrl not the token's": (lambda t: t.key.token(APP_ID, "https://smba.trafficmanager.net/amer/"), 403),
    "no serviceUrl claim": (lambda t: t.key.token(APP_ID, None), 403),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_requests_that_are_not_from_the_bot_framework_are_refused(teams, case):
    make_token, expected = REFUSED[case]
    activity = teams.activity("Hello, I'm the one who signs and we need a new helpdesk.")
    status, body = teams.post(activity, token=make_token(teams))
    assert status == expected and body["error"]
    time.sleep(0.5)
    assert teams.user_events(activity["from"]["id"]) == []
    assert teams.conversation_posts(activity) == []


def test_malformed_oversized_and_other_activities(teams):
    assert teams.post(raw=b"{not json")[0] == 400
    assert teams.post(raw=b"[1, 2]")[0] == 400
    assert teams.post({"type": "message", "text": "hi"})[0] == 400  # no serviceUrl
    broken = teams.activity("hi")
    del broken["from"]
    assert teams.post(broken)[0] == 400
    assert teams.post(raw=json.dumps(teams.activity("x" * (1024 * 1024 + 10))).encode())[0] == 413
    assert teams.post(raw=b"{not json", token=None)[0] == 401  # nothing is read before the token is checked
    update = teams.activity(None, type="conversationUpdate", membersAdded=[BOT])
    assert teams.post(update)[0] == 202
    time.sleep(0.5)
    assert teams.user_events(update["from"]["id"]) == [] and teams.conversation_posts(update) == []


def test_a_reply_the_connector_refuses_is_logged_and_the_conversation_goes_on(teams):
    sender = f"29:1refused-{time.time_ns()}"
    first = teams.activity("We need help with the support tickets piling up.", sender=sender)
    teams.connector.fail_next = 1
    assert teams.post(first)[0] == 202
    teams.wait_for_turn(sender)
    assert teams.connector.fail_next == 0
    second = teams.activity("I'm the one who signs.", sender=sender, conversation=first["conversation"])
    assert teams.post(second)[0] == 202
    assert teams.wait_for_turn(sender, 2)["slots"]["authority"] == "decision_maker"
    assert any(r["replyToId"] == second["id"] for r in teams.replies(first))
    assert "The Bot Connector refused a reply (HTTP 500)" in teams.rasa_log.read_text()


def test_concurrent_conversations_are_each_answered_and_a_bad_request_affects_none(teams):
    activities = [
        teams.activity(text, locale=locale)
        for text, locale in (
            ("Our support inbox is overflowing, we need help.", "en-GB"),
            ("Nous avons trop d'appels au service client.", "fr-FR"),
            ("Mamy za dużo powtarzających się pytań od klientów.", "pl-PL"),
            ("We'd like to automate answers to repetitive questions.", "en-US"),
        )
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        bad = [
            pool.submit(teams.post, raw=b'{"type": "message", "serviceUrl": '),
            pool.submit(teams.post, activities[0], token=teams.signed(lifetime=60, age=3600)),
        ]
        good = [pool.submit(teams.post, activity) for activity in activities]
        assert [f.result()[0] for f in bad] == [400, 401]
        assert [f.result()[0] for f in good] == [202] * len(activities)
    for activity in activities:
        language = activity["locale"][:2]
        assert teams.wait_for_turn(activity["from"]["id"])["slots"]["language"] == language
        replies = texts(teams.replies(activity))
        assert replies and any(detect_language(t) == language for t in replies), replies
