"""The real leads server over a seeded SQLite database, and Chromium opened as a rep would open it.

The leads are written through the real storage and hand-off code: a qualified
Polish lead sent to Marek, a French lead to nurture, an English lead waiting in
the team queue with hostile names, partial leads without a name or company,
leads from Slack and Teams, a referral, and enough others to fill two pages.
The browser signs in with the ``Authorization: Bearer`` header only
(:func:`rep_browser`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

import pytest
import yaml

from leads.delivery import accept, deliver_pending, enqueue_handoff
from leads.routing import Route
from leads.storage.db import engine, migrate, session_scope
from leads.storage.repository import get_lead, save_lead
from testkit.servers import free_port, health, leads_server, running
from tests.fakes.receiver import Receiver
from tests.integration.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, browser_missing

TOKEN = "rep-page-token"
WIDTHS = (1280, 375)
LOCALES = {"en": "en-GB", "fr": "fr-FR", "pl": "pl-PL"}
TIMEZONES = {"en": "Europe/London", "fr": "Europe/Paris", "pl": "Europe/Warsaw"}
HOSTILE_COMPANY = "<!channel> <https://evil.example|Open CRM record> *Acme* & Co"

REPS = {
    "reps": [
        {
            "id": rid,
            "name": name,
            "language": lang,
            "languages": [lang, "en"],
            "segments": [],
            "timezone": tz,
            "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"},
        }
        for rid, name, lang, tz in (
            ("emma", "Emma Clarke", "en", "Europe/London"),
            ("chloe", "Chloé Dubois", "fr", "Europe/Paris"),
            ("marek", "Marek Zieliński", "pl", "Europe/Warsaw"),
        )
    ],
    "team_queue": {"name": "Sales team", "language": "en", "timezone": "Europe/Paris"},
}


def record(conversation_id: str, **fields: Any) -> Dict[str, Any]:
    """A lead record in the contract's shape, finished unless told otherwise."""
    base: Dict[str, Any] = {
        "conversation_id": conversation_id,
        "channel": "web",
        "language": "en",
        "contact": {},
        "need": {},
        "interest": {},
        "authority": "unknown",
        "stakeholders": [],
        "benefits": [],
        "consent": False,
        "finished": True,
    }
    base.update(fields)
    return base


POLISH = record(
    "heldout-pl-7c1f-de5a3016",
    language="pl",
    contact={
        "name": "Jan Zieliński",
        "email": "jan@hurtownia-zielinscy.pl",
        "company": "Hurtownia Zielińscy",
        "job_title": "prezes",
        "phone": None,
    },
    need={
        "summary": "Dzień dobry! Mamy za dużo telefonów w recepcji, proszę pisać na jan@hurtownia-zielinscy.pl",
        "category": "phone_calls",
    },
    interest={"level": "purchase", "signals": ["zapytał o cenę"]},
    authority="decision_maker",
    stakeholders=[
        {"name": "Ewa Nowak", "role": "księgowa", "stance": "influencer", "concern": None},
        {
            "name": "Piotr Wiśniewski",
            "role": "kierownik IT",
            "stance": "saboteur",
            "concern": "To ja podpisuję, ale nasz kierownik IT Piotr może być przeciw, "
            "bo martwi się o bezpieczeństwo danych",
        },
    ],
    benefits=["upfront_savings", "easier_work"],
    current_vendor="Genesys",
    consent=True,
    confirmed=True,
)
FRENCH = record(
    "heldout-fr-3b2a-91c0aa11",
    language="fr",
    contact={"name": "Claire Moreau", "email": "c.moreau@cabinet-moreau.fr", "company": None, "job_title": None},
    need={"summary": "Bonjour, on cherche à automatiser une partie de notre service client.", "category": None},
    interest={"level": "information", "signals": []},
    authority="none",
    stakeholders=[{"name": "Paul Moreau", "role": "gérant", "stance": "decision_maker", "concern": None}],
    benefits=["better_support"],
    consent=True,
)
HOSTILE = record(
    "heldout-en-5e5e-0b0b0b0b",
    contact={
        "name": "<script>alert(1)</script> Mallory",
        "email": "mallory@acme.example",
        "company": HOSTILE_COMPANY,
        "job_title": None,
    },
    need={
        "summary": "Hi, I'm Mallory. Our support team drowns in repetitive tickets, see https://evil.example",
        "category": "ticket_overload",
    },
    interest={"level": "comparison", "signals": ["mentioned Zendesk"]},
    authority="influencer",
    stakeholders=[
        {
            "name": "Marcus Chen",
            "role": "IT lead",
            "stance": "saboteur",
            "concern": "I sign off on purchases like this, but our IT lead Marcus Chen might push back because "
            "he's worried about data security",
        }
    ],
    benefits=["efficiency", "indirect_cost_reduction"],
    consent=True,
)
PARTIAL = record("heldout-en-9d41-de5a3016", finished=False, need={"summary": "hello", "category": None})
PARTIAL_FR = record("heldout-fr-77aa-12ab34cd", language="fr", finished=False, need={"summary": "Bonjour"})
FROM_SLACK = record(
    "slack-T1-C1-1700000000.1",
    channel="slack",
    contact={"name": "Olivia Grant", "email": "olivia@northwind.example", "company": "Northwind Traders"},
    need={"summary": "Customers wait two days for an answer", "category": "slow_response"},
    interest={"level": "benefits"},
    authority="decision_maker",
    consent=True,
)
FROM_TEAMS = record(
    "teams-19:abc@thread.tacv2",
    channel="teams",
    language="pl",
    contact={"name": "Anna Kowalska", "email": "anna@kowalska.example"},
    need={"summary": "Za dużo powtarzalnych zgłoszeń", "category": "ticket_overload"},
    interest={"level": "comparison"},
    authority="influencer",
    consent=True,
)
REFERRED = record(
    "heldout-en-4242-referred",
    contact={"name": "Grace Hopper", "email": "grace@cobol.example", "company": "Cobol Systems"},
    need={"summary": "We need a shared inbox", "category": "slow_response"},
    interest={"level": "benefits"},
    authority="decision_maker",
    consent=True,
)
#: Enough others to need a second page (25 a page): names and scores that vary.
FILLERS = [
    record(
        f"filler-{index:02d}",
        language=("en", "fr", "pl")[index % 3],
        contact={"name": f"Filler Person {index:02d}", "company": f"Filler Company {index:02d}"},
        need={"summary": "We answer the same questions all day", "category": "ticket_overload"} if index % 2 else {},
        interest={"level": ("information", "benefits", "comparison")[index % 3]} if index % 4 else {},
        authority=("decision_maker", "influencer", "unknown")[index % 3],
        finished=index % 5 != 0,
    )
    for index in range(26)
]


def _route(rep_id: Optional[str], receiver: Receiver) -> Route:
    rep = next((r for r in REPS["reps"] if r["id"] == rep_id), None)
    if rep is not None:
        rep = {**rep, "slack": {"webhook_url": receiver.url(f"/slack/{rep_id}")}}
    return Route(rep, rep is None, "test", rep is not None)


def seed(url: str) -> Dict[str, str]:
    """Write every lead, hand some off, record decisions; the ids by name."""
    migrate(url)
    ids: Dict[str, str] = {}
    with session_scope(url) as session:
        for index, data in enumerate(FILLERS):
            ids[f"filler{index}"] = save_lead(session, data).id
        for name, data in (
            ("polish", POLISH),
            ("french", FRENCH),
            ("hostile", HOSTILE),
            ("partial", PARTIAL),
            ("partial_fr", PARTIAL_FR),
            ("slack", FROM_SLACK),
            ("teams", FROM_TEAMS),
        ):
            ids[name] = save_lead(session, data, transcript=_transcript(data)).id
        ids["referred"] = save_lead(session, REFERRED, transcript=_transcript(REFERRED), referred_by=ids["polish"]).id
    receiver = Receiver()
    try:
        with session_scope(url) as session:
            config = {"team_queue": REPS["team_queue"]}
            for name, rep_id in (("polish", "marek"), ("hostile", None), ("slack", "emma"), ("teams", "marek")):
                enqueue_handoff(session, get_lead(session, ids[name]), _route(rep_id, receiver), config)
        assert deliver_pending(url)["failed"] == 0  # the rep cards arrive: "sent to Marek at …"
    finally:
        receiver.stop()
    with session_scope(url) as session:
        accept(session, ids["slack"], "Emma Clarke")
        accept(session, ids["teams"], "Marek Zieliński", passed=True)
    return ids


def _transcript(data: Dict[str, Any]) -> list:
    first = (data.get("need") or {}).get("summary") or "…"
    return [
        {"sender": "visitor", "text": first, "at": "2026-11-30T09:42:00Z"},
        {"sender": "bot", "text": "Thanks, that's helpful.", "at": "2026-11-30T09:42:05Z"},
    ]


class RepSite:
    """The running leads server and the seeded leads."""

    def __init__(self, url: str, db_url: str, ids: Dict[str, str]) -> None:
        self.url, self.db_url, self.ids = url, db_url, ids


@pytest.fixture(scope="session")
def rep_site() -> Iterator[RepSite]:
    folder = Path(tempfile.mkdtemp(prefix="rep-page-"))
    db_url = f"sqlite:///{folder / 'leads.db'}"
    ids = seed(db_url)
    reps_file = folder / "reps.yml"
    reps_file.write_text(yaml.safe_dump(REPS, allow_unicode=True), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "LEADS_API_TOKEN": TOKEN,
        "REPS_FILE": str(reps_file),
        "LEADS_OUTBOX_DIR": str(folder / "outbox"),
        "LEADS_ESCALATION_SECONDS": "0",  # the seeded hand-offs keep their state (escalation: test_escalation)
    }
    try:
        with running({"leads": leads_server(port)}, {"leads": health(port)}, env, folder, "rep-page"):
            yield RepSite(f"http://127.0.0.1:{port}", db_url, ids)
    finally:
        engine(db_url).dispose()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[object]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture
def rep_browser(playwright_driver) -> Iterator[Callable[..., object]]:
    """``rep_browser(language, width)``: a page in Chromium signed in with the bearer token header."""
    opened = []

    def open_(language: str = "en", width: int = 1280):
        browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(
            locale=LOCALES[language],
            timezone_id=TIMEZONES[language],
            viewport={"width": width, "height": 900},
            extra_http_headers={"Authorization": f"Bearer {TOKEN}"},
        )
        opened.append(browser)
        return context.new_page()

    yield open_
    for browser in opened:
        browser.close()


def screenshot(page, name: str) -> Path:
    """A full-page screenshot kept in ``tests/artifacts/``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"rep_page-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
