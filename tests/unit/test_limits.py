"""Rate limits, web session ids and conversation ids: the public channels' own rules."""

from __future__ import annotations

from bot import web_sessions
from bot.channels import conversation_id, parse_request
from bot.limits import RateLimiter, too_fast

KEY = b"test-key"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_visitor_over_the_limit_waits_while_others_go_on():
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 0 < limiter.hit("a") <= 60
    assert limiter.hit("b") == 0.0
    clock.now += 61
    assert limiter.hit("a") == 0.0


def test_the_slow_down_message_speaks_the_visitors_language():
    assert too_fast("fr-FR").startswith("Vos messages") and too_fast("pl").startswith("Wiadomości")
    assert too_fast(None) == too_fast("de-DE") and too_fast(None).startswith("You're")


def test_without_a_locale_the_slow_down_message_follows_the_visitors_words():
    # Slack sends no locale: the language of the message decides.
    assert too_fast(None, "Bonjour, nous voulons savoir combien coûte votre offre").startswith("Vos messages")
    assert too_fast(None, "Dzień dobry, ile kosztuje wasza usługa dla firmy?").startswith("Wiadomości")
    assert too_fast("pl-PL", "ok").startswith("Wiadomości")  # too short to tell: the locale decides


def test_web_session_ids_are_issued_and_cannot_be_made_up():
    issued = web_sessions.issue(KEY)
    assert len(issued) == 44 and web_sessions.verified(issued, KEY) == issued
    assert web_sessions.issue(KEY) != issued
    forged = issued[:22] + ("A" if issued[22] != "A" else "B") + issued[23:]
    for wrong in (forged, issued[:-1], "a" * 44, None, 42, "é" * 44, web_sessions.issue(b"another")):
        assert web_sessions.verified(wrong, KEY) is None


def test_each_channel_prefixes_its_conversation_ids():
    assert conversation_id("rest", "slack_U1_D1") == "rest_slack_U1_D1"
    assert conversation_id("socketio", "abc") == "web_abc"
    assert conversation_id("teams", "29:1") == "teams_29:1"


def test_metadata_has_a_size_limit():
    _, error = parse_request({"sender": "s", "message": "hi", "metadata": {"x": "y" * 20_000}})
    assert error[0] == 413
