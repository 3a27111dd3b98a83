"""The assistant's three servers on a fresh database, a known set of conversations played over the REST channel.

The conversations are written for this test. Their leads are made by the real
assistant (Rasa, the action server, the lead pipeline) and handed off to one
rep, on duty around the clock, so that who gets them does not depend on the
hour the test runs.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from testkit.conversations import API_TOKEN, Result, assistant, play

TOKEN = API_TOKEN  # the leads server's token in these runs
REP = "Ada Moreau"
REPS = {
    "reps": [
        {
            "id": "ada",
            "name": REP,
            "language": "en",
            "languages": ["en", "fr", "pl"],
            "segments": [],
            "timezone": "UTC",
            "working_hours": {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "00:00",
                "end": "23:59:59",
            },  # fmt: skip
        }
    ],
    "team_queue": {"name": "Sales team", "language": "en", "timezone": "UTC"},
}

#: Each conversation, the language it is in, and what it should become.
CONVERSATIONS: List[Dict[str, Any]] = [
    {
        "name": "dental-qualified",
        "language": "en",
        "turns": [
            "Hi there, I run operations at Harbour Dental, three practices. Our receptionists spend all morning "
            "on the phone rebooking appointments. I make the call on tools like this.",
            "Our practice manager Nadia Reyes will weigh in as well.",
            "Our IT contractor, Owen, worries about patient data leaving our servers.",
            "Giving the front desk some breathing room.",
            "We use the phone system from Vodafone.",
            {"if_asked": "consent", "say": "Yes, that's fine."},
            {"if_asked": "contact_name", "say": "Grace Pell"},
            {"if_asked": "contact_email", "say": "grace.pell@harbourdental.example"},
            {"if_asked": "company", "say": "Harbour Dental"},
            {"if_asked": "contact_phone", "say": "No phone, thanks."},
            {"if_asked": "summary_confirmed", "say": "That's right."},
        ],
    },
    {
        "name": "agence-besoin-seulement",
        "language": "fr",
        "turns": ["Bonjour, nos clients attendent trop longtemps une réponse à leurs e-mails, parfois trois jours."],
    },
    {"name": "powitanie", "language": "pl", "turns": ["Dzień dobry"]},
]


class Played:
    """The running servers and the conversations played, by name."""

    def __init__(self, urls: Dict[str, str], results: Dict[str, Result]) -> None:
        self.urls, self.results = urls, results


@pytest.fixture(scope="session")
def played() -> Iterator[Played]:
    folder = Path(tempfile.mkdtemp(prefix="funnel-"))
    reps_file = folder / "reps.yml"
    reps_file.write_text(yaml.safe_dump(REPS, allow_unicode=True), encoding="utf-8")
    try:
        with assistant(folder, "funnel", {"REPS_FILE": str(reps_file)}) as urls:
            results = {c["name"]: play(urls, c, c["language"]) for c in CONVERSATIONS}
            yield Played(urls, results)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
