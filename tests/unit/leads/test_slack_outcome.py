"""What Slack shows after a rep's Accept or Pass: in the rep's language, nothing a name could turn into a ping."""

from __future__ import annotations

from leads.slack_rep import decision, outcome_message

REPS = {
    "reps": [
        {"id": "ewa", "name": "Ewa Kowalska", "language": "pl", "slack": {"user_id": "UEWA"}},
        {"id": "louise", "name": "Louise Martin", "languages": ["fr", "en"], "slack": {"user_id": "ULOUISE"}},
    ],
    "team_queue": {"name": "Sales team"},
}


def click(user: dict, action_id: str = "lead_accept") -> dict:
    return {
        "type": "block_actions",
        "user": user,
        "actions": [{"action_id": action_id, "value": "lead-1"}],
        "response_url": "https://hooks.slack.test/actions/1",
    }


def test_the_reply_is_in_the_reps_language():
    polish = decision(click({"id": "UEWA"}), REPS)
    assert polish.language == "pl" and polish.by == "Ewa Kowalska"
    assert outcome_message(polish, True)["text"] == "<@UEWA> przyjmuje ten kontakt (zapisano jako: Ewa Kowalska)."

    french = decision(click({"id": "ULOUISE"}, "lead_pass"), REPS)
    assert (
        outcome_message(french, True)["text"] == "<@ULOUISE> a refusé ce contact (enregistré au nom de Louise Martin)."
    )
    assert outcome_message(french, False)["text"] == "Ce contact n'est plus dans la base."


def test_someone_not_in_the_reps_file_gets_english_and_their_name_cannot_ping_or_link():
    stranger = decision(click({"id": "UX", "name": "<!channel> <https://evil.example|CRM>"}), REPS)
    text = outcome_message(stranger, True)["text"]
    assert text.startswith("<@UX> accepted this lead (recorded as ")
    assert "<!channel>" not in text and "<https://" not in text and "&lt;!channel&gt;" in text
