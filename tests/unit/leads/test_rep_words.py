"""Words for reps: every label in three languages, short faithful facts, titles, promises and deadlines."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from common import settings
from leads.facts import clean_need, lead_title, short_concern
from leads.labels import browser_language, format_duration, format_time, labels, rep_language, text
from leads.promise import open_promise, promise_for, time_left

PARIS_HOURS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
CHLOE = {"id": "chloe", "name": "Chloé Dubois", "timezone": "Europe/Paris", "working_hours": PARIS_HOURS}
REACHABLE = {"consent": True, "contact": {"email": "a@b.example"}}


def test_every_label_exists_in_english_french_and_polish():
    with open(settings.config_dir() / "rep_labels.yml", encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    for group, entries in raw.items():
        for key, entry in entries.items():
            assert isinstance(key, str), (group, key)  # YAML reads yes/no as booleans
            assert isinstance(entry, dict) and set(entry) == {"en", "fr", "pl"}, (group, key, entry)
            assert all(isinstance(v, str) and v.strip() for v in entry.values()), (group, key)
    for group in ("category", "benefit"):  # from the catalog
        assert labels()[group] and all(set(v) >= {"en", "fr", "pl"} for v in labels()[group].values())


@pytest.mark.parametrize(
    "group, code, language, words",
    [
        ("authority", "decision_maker", "en", "Decides"),
        ("authority", "influencer", "fr", "Prescripteur"),
        ("benefit", "upfront_savings", "pl", "niższe koszty"),
        ("category", "ticket_overload", "fr", "trop de demandes répétitives"),
        ("interest", "comparison", "pl", "Porównuje oferty"),
        ("status", "partial", "en", "Left half-way"),
    ],
)
def test_codes_become_words(group, code, language, words):
    assert text(group, code, language) == words


def test_an_unknown_code_still_reads_as_words():
    assert text("category", "new_segment_x", "en") == "new segment x"


def test_handoff_states_in_words():
    sent = text("handoff", "notified", "en", rep="Ewa", time="10:42")
    assert sent == "Sent to Ewa at 10:42, not accepted yet"


@pytest.mark.parametrize(
    "header, chosen, expected",
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", None, "fr"),
        ("de-DE,pl;q=0.7,en;q=0.5", None, "pl"),
        ("en;q=0.2, pl;q=0.9", None, "pl"),
        ("", None, "en"),
        ("xx;q=abc, fr", None, "fr"),
        ("fr-FR", "pl", "pl"),
        ("fr-FR", "de", "fr"),
    ],
)
def test_the_page_language_follows_the_browser(header, chosen, expected):
    assert browser_language(header, chosen) == expected


def test_a_rep_reads_in_their_language():
    assert rep_language({"language": "pl", "languages": ["en"]}) == "pl"
    assert rep_language({"languages": ["fr", "en"]}) == "fr"
    assert rep_language(None) == "en" and rep_language({"language": "de"}) == "en"


def test_dates_in_the_readers_time_zone_and_language():
    moment = "2026-11-30T09:42:00Z"
    assert format_time(moment, "en", "Europe/London") == "30 Nov 09:42"
    assert format_time(moment, "fr", "Europe/Paris") == "30 nov. 10:42"
    assert format_time(moment, "pl", "Europe/Warsaw") == "30 lis 10:42"
    assert format_time(None, "en") == "—" and format_time("not a date", "en") == "—"
    assert format_time(moment, "en", "Not/AZone") == "30 Nov 09:42"
    assert format_duration(45 * 60, "en") == "45 min"
    assert format_duration(3 * 3600 + 20 * 60, "pl") == "3 godz. 20 min"
    assert format_duration(2 * 86400 + 4 * 3600, "fr") == "2 j 4 h"
    assert format_duration(86400 + 14 * 3600, "pl") == "1 dzień 14 godz."


@pytest.mark.parametrize(
    "concern, short",
    [
        (
            "I sign off on purchases like this, but our IT lead Marcus Chen might push back because he's "
            "worried about data security",
            "data security",
        ),
        ("Our IT team worries about security.", "security"),
        ("he'll say it's a security risk", "a security risk"),
        ("Mon associé, un peu sceptique sur le coût.", "le coût"),
        ("Notre DSI s'inquiète pour la confidentialité des données clients", "la confidentialité des données clients"),
        ("Nasz informatyk martwi się o bezpieczeństwo danych, bo mieliśmy kiedyś wyciek.", "bezpieczeństwo danych"),
        ("Księgowa będzie przeciw, bo to za drogie", "za drogie"),
        ("security", "security"),
        ("", None),
        (None, None),
    ],
)
def test_a_blockers_concern_as_a_short_phrase_in_the_visitors_words(concern, short):
    assert short_concern(concern) == short
    if short:
        assert short in concern  # never words of our own


def test_a_long_concern_without_a_clear_marker_is_cut_not_invented():
    concern = "the whole finance department including people we have never met will object to anything new here"
    short = short_concern(concern)
    assert short.endswith("…") and short[:-1] in concern and len(short.split()) <= 8


@pytest.mark.parametrize(
    "summary, need",
    [
        (
            "Hi, I'm Sarah Collins, head of support at Northbay Logistics. We get far too many repetitive tickets.",
            "We get far too many repetitive tickets",
        ),
        (
            "Bonjour, nos conseillers passent leurs journées à répondre aux mêmes questions. Mon e-mail : j@acme.fr",
            "Nos conseillers passent leurs journées à répondre aux mêmes questions",
        ),
        (
            "Dzień dobry! Mamy za dużo telefonów w recepcji, proszę pisać na jan@firma.pl lub +48 601 234 567",
            "Mamy za dużo telefonów w recepcji",
        ),
        ("Hello, we need help with tickets, see https://evil.example", "We need help with tickets"),
        ("hello", None),
        ("", None),
    ],
)
def test_the_need_without_greetings_addresses_or_other_facts(summary, need):
    assert clean_need(summary) == need


def test_a_very_long_need_is_cut_at_a_word():
    need = clean_need("We need " + "many more automated answers " * 20)
    assert len(need) <= 161 and need.endswith("…") and "  " not in need


def test_a_title_for_every_lead():
    base = {"channel": "web", "language": "fr", "created_at": "2026-11-30T09:42:00Z"}
    assert lead_title({**base, "contact": {"company": "Acme", "name": "Ann"}}, "en") == "Acme"
    assert lead_title({**base, "contact": {"company": "  ", "name": "Ann"}}, "en") == "Ann"
    assert lead_title({**base, "contact": {}}, "en", "Europe/Paris") == "Visitor · website · FR · 30 Nov 10:42"
    assert lead_title({**base, "contact": {}}, "pl", "Europe/Warsaw") == "Odwiedzający · strona www · FR · 30 lis 10:42"


def test_a_rep_in_working_hours_promises_today_until_the_end_of_their_day():
    monday_10 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)  # 10:00 in Paris
    promise = promise_for(REACHABLE, CHLOE, False, monday_10)
    assert promise.kind == "today" and promise.deadline.isoformat() == "2026-11-30T18:00:00+01:00"
    assert time_left(promise, monday_10, "en") == "8 h 0 min left"
    assert time_left(promise, datetime(2026, 11, 30, 18, 30, tzinfo=timezone.utc), "fr") == "en retard de 1 h 30 min"


def test_the_team_queue_promises_one_business_day():
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=timezone.utc)
    promise = promise_for(REACHABLE, {**CHLOE, "name": "Sales team"}, True, friday_evening)
    assert promise.kind == "one_day" and promise.deadline.isoformat() == "2026-11-30T18:00:00+01:00"  # Monday
    assert promise_for({"consent": False, "contact": {}}, CHLOE, False, friday_evening).kind == "none"


def test_only_open_leads_have_a_promise_to_keep():
    config = {"reps": [CHLOE], "team_queue": {"name": "Sales team"}}
    open_lead = {**REACHABLE, "handoff": {"status": "notified", "rep_id": "chloe", "assigned_at": "2026-11-30T09:00Z"}}
    assert open_promise(open_lead, config).owner == "Chloé Dubois"
    assert open_promise({**open_lead, "handoff": {**open_lead["handoff"], "status": "accepted"}}, config) is None
    assert open_promise({**REACHABLE, "handoff": None}, config) is None
    queued = {**REACHABLE, "handoff": {"status": "queued", "rep_id": None, "assigned_at": "2026-11-30T09:00Z"}}
    assert open_promise(queued, config).kind == "one_day"
