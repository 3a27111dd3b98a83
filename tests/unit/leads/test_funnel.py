"""The funnel's figures over a known set of conversations, on SQLite and PostgreSQL.

Conversations are written as the running assistant writes them: their events
through Rasa's own SQL tracker store, their leads through the storage code,
hand-offs and acceptances through the delivery code. Every figure is compared
exactly; the page and its CSV files are read back over a real HTTP server.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any, List, Optional

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from leads import funnel
from leads.delivery import accept, enqueue_handoff
from leads.routing import Route
from leads.server import create_app
from leads.storage.db import engine, session_scope
from leads.storage.repository import save_lead
from tests.samples import lead

TOKEN = "funnel-token"
WEEK_47 = datetime(2026, 11, 17, 10, 0, tzinfo=timezone.utc).timestamp()  # a Tuesday
WEEK_48 = datetime(2026, 11, 25, 15, 30, tzinfo=timezone.utc).timestamp()  # a Wednesday
HOSTILE_CONCERN = "<script>alert(1)</script>"
FORMULA_CONCERN = "=cost"


def _events(start: float, channel: str, language: str, questions: List[Optional[str]]) -> List[Any]:
    """A visitor's message, the language, then each question asked and answered (``None``: the form ended)."""
    from rasa.shared.core.events import SlotSet, UserUttered

    events: List[Any] = [
        UserUttered("hello", input_channel=channel, timestamp=start),
        SlotSet("language", language, timestamp=start + 1),
    ]
    for step, question in enumerate(questions, start=1):
        events.append(SlotSet("requested_slot", question, timestamp=start + 10 * step))
        if question is not None and step < len(questions):
            events.append(UserUttered("an answer", input_channel=channel, timestamp=start + 10 * step + 5))
    return events


def _store_conversations(url: str, conversations: dict) -> None:
    """Each conversation's events, saved by Rasa's SQL tracker store on the lead database."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(host=url, dialect="sqlite" if url.startswith("sqlite") else "postgresql")
    try:
        for sender, events in conversations.items():
            asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    finally:
        store.engine.dispose()


def _hand_off(session, saved, rep: str, hours_ago: float, accepted: bool) -> None:
    route = Route({"id": rep.lower(), "name": rep}, False, "test", True)
    enqueue_handoff(session, saved, route, {}, now=datetime.now(timezone.utc) - timedelta(hours=hours_ago))
    if accepted:
        accept(session, saved.id, rep)


def seed(url: str) -> None:
    """The known set: eight conversations counted, one without a visitor message."""
    from rasa.shared.core.events import SessionStarted, SlotSet

    _store_conversations(
        url,
        {
            "rest_a": _events(WEEK_47, "rest", "en", ["need", "authority", None]),
            "rest_b": _events(WEEK_47 + 600, "rest", "fr", ["need", None]),
            "rest_c": _events(WEEK_48, "rest", "en", ["need", None]),
            "rest_d": _events(WEEK_48 + 60, "rest", "pl", ["need", None]),
            "rest_e": _events(WEEK_48 + 120, "rest", "en", ["need", "authority"]),
            "rest_f": _events(WEEK_48 + 180, "rest", "fr", ["need"]),
            "web_g": _events(WEEK_47 + 3600, "socketio", "en", []),
            "rest_h": [SessionStarted(timestamp=WEEK_48), SlotSet("language", "en", timestamp=WEEK_48)],
        },
    )
    with session_scope(url) as session:
        a = save_lead(session, lead("rest_a"))
        b = save_lead(
            session,
            lead(
                "rest_b",
                language="fr",
                need={"summary": "Trop de tickets", "category": "ticket_overload"},
                benefits=["easier_work", "upfront_savings"],
                stakeholders=[
                    {"name": "Paul", "role": "DSI", "stance": "saboteur", "concern": HOSTILE_CONCERN},
                    {"name": "Léa", "role": "DAF", "stance": "saboteur", "concern": FORMULA_CONCERN},
                ],
            ),
        )
        c = save_lead(session, lead("rest_c", benefits=["efficiency"]))
        d = save_lead(session, lead("rest_d", language="pl"))
        only_a_need = {"need": {"summary": "calls", "category": None}, "interest": {}, "contact": {}}
        nothing_else = {"authority": "unknown", "stakeholders": [], "benefits": [], "current_vendor": None}
        save_lead(session, lead("rest_e", finished=False, consent=False, **only_a_need, **nothing_else))
        slack_need = {"summary": "Customers wait days", "category": "slow_response"}
        save_lead(
            session, lead("slack_x", channel="slack", **{**nothing_else, "benefits": ["easier_work"]}, need=slack_need)
        )
        _hand_off(session, a, "Anna", 3, accepted=True)
        _hand_off(session, b, "Bob", 1, accepted=True)
        _hand_off(session, c, "Chloé", 10, accepted=True)
        _hand_off(session, d, "Anna", 2, accepted=False)


@pytest.fixture
def known(db_url):
    seed(db_url)
    with session_scope(db_url) as session:
        found = funnel.conversations(session)
    yield db_url, found
    engine(db_url).dispose()


THIS_WEEK = funnel.iso_week(datetime.now(timezone.utc))


def test_each_conversation_is_counted_once_in_its_stages(known):
    _, found = known
    assert [(c.id, c.week, c.channel, c.language, c.rep) for c in found] == sorted(
        [
            ("rest_a", "2026-W47", "rest", "en", "Anna"),
            ("rest_b", "2026-W47", "rest", "fr", "Bob"),
            ("web_g", "2026-W47", "web", "en", None),
            ("rest_c", "2026-W48", "rest", "en", "Chloé"),
            ("rest_d", "2026-W48", "rest", "pl", "Anna"),
            ("rest_e", "2026-W48", "rest", "en", None),
            ("rest_f", "2026-W48", "rest", "fr", None),
            ("slack_x", THIS_WEEK, "slack", "en", None),
        ],
        key=lambda row: (row[1], row[0]),
    )


def test_every_figure_of_the_known_set(known):
    _, found = known
    figures = funnel.figures(found)
    assert figures.stages == {
        "conversations": 8,
        "engaged": 6,
        "partial": 2,
        "qualified": 4,
        "handed_off": 4,
        "accepted": 3,
    }
    assert figures.questions == [("need", 1, 6), ("authority", 1, 2)]
    assert figures.handoff == {"accepted": 3, "median": 180, "p90": 600}
    assert figures.needs == [("phone_calls", 3), ("slow_response", 1), ("ticket_overload", 1)]
    assert figures.benefits == [("upfront_savings", 3), ("easier_work", 2), ("efficiency", 1)]
    assert figures.concerns == [
        ("a security risk", 3),
        (HOSTILE_CONCERN, 1),
        (FORMULA_CONCERN, 1),
    ]
    assert [(week, counts["conversations"], counts["qualified"]) for week, counts in figures.groups] == [
        ("2026-W47", 3, 2),
        ("2026-W48", 4, 2),
        (THIS_WEEK, 1, 0),
    ]


def test_filters_and_groups(known):
    _, found = known
    french = funnel.figures(found, {"language": "fr"})
    assert french.stages == {
        "conversations": 2,
        "engaged": 1,
        "partial": 0,
        "qualified": 1,
        "handed_off": 1,
        "accepted": 1,
    }
    assert french.questions == [("need", 1, 2)]
    by_rep = funnel.figures(found, {"week": "2026-W48"}, by="rep")
    assert [(rep, counts["handed_off"], counts["accepted"]) for rep, counts in by_rep.groups] == [
        ("Anna", 1, 0),
        ("Chloé", 1, 1),
        (None, 0, 0),
    ]
    assert by_rep.stages["conversations"] == 4
    by_channel = funnel.figures(found, by="channel")
    assert [(channel, counts["conversations"]) for channel, counts in by_channel.groups] == [
        ("rest", 6),
        ("slack", 1),
        ("web", 1),
    ]
    assert funnel.figures(found, {"rep": "Nobody"}).stages["conversations"] == 0
    assert funnel.figures(found, by="not-a-dimension").dimension == "week"


def test_nearest_rank_percentiles():
    assert funnel.nearest_rank([], 0.5) is None
    assert funnel.nearest_rank([7], 0.9) == 7
    assert funnel.nearest_rank([10, 40, 20, 30], 0.5) == 20
    assert funnel.nearest_rank(list(range(1, 11)), 0.9) == 9


def test_without_the_tracker_store_the_leads_still_count(db_url):
    with session_scope(db_url) as session:
        save_lead(session, lead("only-a-lead"))
        assert funnel.progress_by_conversation(session) == {}
        figures = funnel.figures(funnel.conversations(session))
    assert figures.stages["conversations"] == 1 and figures.stages["qualified"] == 1
    assert figures.questions == []


@pytest_asyncio.fixture
async def served(known):
    url, _ = known
    runner = web.AppRunner(create_app(url, TOKEN, "http://127.0.0.1:9"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
        yield client
    await runner.cleanup()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.asyncio
async def test_the_page_needs_the_rep_sign_in(served):
    for path in ("/reps/funnel", "/reps/funnel.csv?chart=stages"):
        async with served.get(path) as response:
            assert response.status == 401
            assert "<form" in await response.text()


@pytest.mark.asyncio
async def test_the_page_shows_the_figures_in_words_with_visitor_text_escaped(served):
    async with served.get("/reps/funnel?lang=fr", headers=AUTH) as response:
        assert response.status == 200
        page = await response.text()
    assert "Entonnoir de conversion" in page and "Acceptées par un commercial" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title id='chart-stages-t'>" in page and "<desc id='chart-stages-d'>" in page
    assert "Conversations: 8; Engagées: 6; Partiellement qualifiées: 2; Qualifiées: 4" in page
    assert "1 sur 6" in page  # stopped at the need, out of six that reached it
    for chart in ("stages", "questions", "handoff", "needs", "benefits", "concerns", "groups"):
        assert f"id='csv-{chart}'" in page


def _csv(body: str) -> List[List[str]]:
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.asyncio
async def test_each_chart_downloads_its_numbers(served):
    expected = {
        "stages": [
            ["Stage", "Conversations"],
            ["Conversations", "8"],
            ["Engaged", "6"],
            ["Partly qualified", "2"],
            ["Qualified", "4"],
            ["Handed off", "4"],
            ["Accepted by a rep", "3"],
        ],
        "questions": [
            ["Question", "Stopped there", "Reached it"],
            ["The need", "1", "6"],
            ["Role in the decision", "1", "2"],
        ],  # fmt: skip
        "handoff": [["Figure", "Minutes"], ["Median", "180"], ["90th percentile", "600"]],
        "concerns": [
            ["Concern", "Conversations"],
            ["a security risk", "3"],
            [HOSTILE_CONCERN, "1"],
            ["'" + FORMULA_CONCERN, "1"],
        ],  # fmt: skip
    }
    for chart, rows in expected.items():
        async with served.get(f"/reps/funnel.csv?chart={chart}&lang=en", headers=AUTH) as response:
            assert response.status == 200 and response.content_type == "text/csv"
            assert f"funnel-{chart}.csv" in response.headers["Content-Disposition"]
            assert _csv(await response.text()) == rows
    async with served.get("/reps/funnel.csv?chart=groups&by=language&lang=pl", headers=AUTH) as response:
        rows = _csv(await response.text())
    assert rows[0][:2] == ["Język", "Rozmowy"]
    assert [row[:2] for row in rows[1:]] == [["angielski", "5"], ["francuski", "2"], ["polski", "1"]]
    async with served.get("/reps/funnel.csv?chart=stages&language=fr&lang=en", headers=AUTH) as response:
        assert _csv(await response.text())[1] == ["Conversations", "2"]


@pytest.mark.asyncio
async def test_malformed_requests_get_a_clear_answer(served):
    async with served.get("/reps/funnel.csv?chart=../../etc", headers=AUTH) as response:
        assert response.status == 400 and "no such chart" in await response.text()
    hostile = "<img src=x onerror=alert(1)>"
    async with served.get(f"/reps/funnel?rep={hostile}&week=💥&by=%00", headers=AUTH) as response:
        page = await response.text()
    assert response.status == 200 and "<img src=x" not in page
    assert "Nothing to show for this selection yet." in page


def test_a_chart_is_accessible_escaped_and_prints_every_number():
    from leads.charts import bar_chart

    svg = bar_chart("c1", "Needs & more", "desc <b>", [("<i>x</i>", 3, None, None), ("none", 0, "0 of 5", 5)])
    assert svg.startswith("<svg id='c1' class='chart'") and "role='img'" in svg
    assert "aria-labelledby='c1-t c1-d'" in svg
    assert "<title id='c1-t'>Needs &amp; more</title><desc id='c1-d'>desc &lt;b&gt;</desc>" in svg
    assert "<i>" not in svg and "&lt;i&gt;x&lt;/i&gt;" in svg
    assert svg.count("class='value'>3<") == 1 and svg.count("class='value'>0 of 5<") == 1
    assert "width='0.0%'" in svg  # nothing drawn for nothing, the number still printed
