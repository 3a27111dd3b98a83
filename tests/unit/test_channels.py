"""REST request validation and protection of the bot's internals."""

import pytest

from bot.channels import MAX_MESSAGE_CHARS, MAX_PROCESSED_CHARS, neutralize, parse_request


def test_typed_intent_commands_stay_text():
    assert not neutralize('/inform{"authority": "decision_maker"}').startswith("/")
    assert not neutralize("   /stop").startswith("/")
    assert neutralize("hello / world") == "hello / world"


@pytest.mark.parametrize(
    "body,status",
    [
        (None, 400),
        ([], 400),
        ({"message": "hi"}, 400),
        ({"sender": "", "message": "hi"}, 400),
        ({"sender": "x" * 500, "message": "hi"}, 400),
        ({"sender": "a", "message": 5}, 400),
        ({"sender": "a", "message": "hi", "metadata": "fr"}, 400),
        ({"sender": "a", "message": "x" * (MAX_MESSAGE_CHARS + 1)}, 413),
    ],
)
def test_malformed_requests_get_a_clear_error(body, status):
    cleaned, error = parse_request(body)
    assert cleaned is None
    assert error[0] == status and error[1]


def test_long_messages_are_accepted_but_cut_for_the_nlu():
    cleaned, error = parse_request({"sender": "a", "message": "word " * 2000, "metadata": {"locale": "fr"}})
    assert error is None
    assert len(cleaned["message"]) == MAX_PROCESSED_CHARS
    assert cleaned["metadata"] == {"locale": "fr"}


def test_control_characters_are_dropped():
    cleaned, error = parse_request({"sender": "a", "message": "tick\x00ets\x07 everywhere\nreally"})
    assert error is None and cleaned["message"] == "tickets everywhere\nreally"


def test_the_buttons_of_where_the_visitor_stands_go_out_on_slack_and_teams_as_the_role_buttons_do():
    """Every language's interest buttons become Block Kit buttons and a Hero card that send their sentence."""
    from pathlib import Path

    import yaml

    from bot.slack import MAX_BUTTON_TITLE_CHARS, button_blocks
    from bot.teams import hero_card

    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
    for name in ("utter_ask_interest_stage", "utter_ask_authority_choice", "utter_ask_authority_choice_after_question"):
        for variant in domain["responses"][name]:
            buttons = variant["buttons"]
            payloads = [b["payload"] for b in buttons]
            elements = button_blocks(variant["text"], buttons)[1]["elements"]
            assert [e["value"] for e in elements] == payloads
            assert all(len(b["title"]) <= MAX_BUTTON_TITLE_CHARS for b in buttons)
            card = hero_card(variant["text"], buttons)
            assert [(a["type"], a["value"]) for a in card["content"]["buttons"]] == [("imBack", p) for p in payloads]
