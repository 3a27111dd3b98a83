"""Without their variables the Slack and Teams channels are open but answer 503, and nothing else suffers."""

from __future__ import annotations

from bot.slack import NOT_CONFIGURED
from testkit.servers import http


def test_slack_answers_503_without_its_variables(assistant):
    for path in ("webhook", "interactivity"):
        status, body = http(
            "POST", f"{assistant.url}/webhooks/slack/{path}", {"type": "url_verification", "challenge": "x"}
        )
        assert status == 503 and body == {"error": NOT_CONFIGURED}
    assert http("GET", f"{assistant.url}/webhooks/slack/")[1] == {"status": "not configured"}


def test_teams_answers_503_without_its_variables(assistant):
    assert http("GET", f"{assistant.url}/webhooks/teams/")[1] == {"status": "ok", "configured": False}
    status, body = http(
        "POST",
        f"{assistant.url}/webhooks/teams/webhook",
        {"type": "message", "text": "hello", "serviceUrl": "https://smba.example/"},
    )
    assert status == 503 and "TEAMS_APP_ID" in body["error"]


def test_the_other_channels_still_answer(assistant):
    assert assistant.say("unconfigured-channels", "hello")
