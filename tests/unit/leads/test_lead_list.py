"""The rep page's list query and its actions, on SQLite and PostgreSQL, and the server's form routes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select

from leads.delivery import accept
from leads.filters import FilterError, parse_filters, parse_page_filters
from leads.server import create_app
from leads.storage.db import migrate, session_scope
from leads.storage.erasure import erase
from leads.storage.models import Handoff, Lead, Note
from leads.storage.repository import add_note, notes_of, referred_leads, save_lead, search_leads
from tests.samples import lead

TOKEN = "list-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _seed(db_url) -> dict:
    ids = {}
    with session_scope(db_url) as session:
        ids["tom"] = save_lead(session, lead("c-tom")).id
        ids["ola"] = save_lead(
            session,
            lead("c-ola", language="pl", channel="slack", contact={"name": "Ola Nowak", "email": "ola@firma.pl"}),
        ).id
        ids["anne"] = save_lead(
            session,
            lead(
                "c-anne",
                language="fr",
                channel="web",
                finished=False,
                authority="unknown",
                contact={"name": "Anne 100%_Sûre", "company": "Boulangerie Martin", "email": "anne@martin.fr"},
            ),
            referred_by=ids["tom"],
        ).id
        for index in range(7):
            save_lead(session, lead(f"c-more-{index}", contact={"company": f"More {index}"}, finished=False))
        accept(session, ids["ola"], "Marek Zieliński")
    return ids


def test_search_filters_sort_paging_and_counts(db_url):
    ids = _seed(db_url)
    with session_scope(db_url) as session:
        everything = search_leads(session, per_page=4)
        assert everything.total == 10 and everything.pages == 3 and len(everything.leads) == 4
        assert everything.counts == {"qualified": 2, "partial": 8}
        last = search_leads(session, per_page=4, page=99)
        assert last.page == 3 and len(last.leads) == 2
        pages = [lead.id for p in (1, 2, 3) for lead in search_leads(session, per_page=4, page=p).leads]
        assert len(set(pages)) == 10

        assert [l.id for l in search_leads(session, q="greenleaf").leads] == [ids["tom"]]
        assert [l.id for l in search_leads(session, q="OLA@FIRMA").leads] == [ids["ola"]]
        assert [l.id for l in search_leads(session, q="100%_").leads] == [ids["anne"]]
        assert [l.id for l in search_leads(session, q="%").leads] == [ids["anne"]]  # a percent sign, not "anything"
        assert [l.id for l in search_leads(session, q="_").leads] == [ids["anne"]]
        assert search_leads(session, q="'; DROP TABLE leads; --").total == 0
        assert [l.id for l in search_leads(session, language="fr").leads] == [ids["anne"]]
        assert [l.id for l in search_leads(session, channel="slack").leads] == [ids["ola"]]
        assert [l.id for l in search_leads(session, rep="Marek Zieliński").leads] == [ids["ola"]]
        only = search_leads(session, status="qualified", language="pl")
        assert only.total == 1 and only.counts == {"qualified": 1}

        future = datetime.now(timezone.utc) + timedelta(days=1)
        assert search_leads(session, since=future).total == 0
        assert search_leads(session, until=future).total == 10

        by_score = [l.score for l in search_leads(session, sort="score").leads]
        assert by_score == sorted(by_score, reverse=True) and by_score[0] > by_score[-1]
        assert [l.score for l in search_leads(session, sort="score_low").leads] == sorted(by_score)


def test_notes_referrals_and_erasure(db_url):
    ids = _seed(db_url)
    with session_scope(db_url) as session:
        assert add_note(session, ids["tom"], "Emma", "Called, \x00 demo on Tuesday") is not None
        assert add_note(session, "missing", "Emma", "x") is None
        [note] = notes_of(session, ids["tom"])
        assert note["author"] == "Emma" and note["text"] == "Called,  demo on Tuesday" and note["at"].endswith("Z")
        assert [r["id"] for r in referred_leads(session, ids["tom"])] == [ids["anne"]]
    with session_scope(db_url) as session:
        assert erase(session, "tom@greenleafdental.com")["leads"] == 1
    with session_scope(db_url) as session:
        assert list(session.execute(select(Note)).scalars()) == []
        anne = session.get(Lead, ids["anne"])
        assert anne.referred_by is None


def test_filters_are_checked():
    assert parse_filters({"q": "  Ann  Lee ", "sort": "score", "channel": "teams"}) == {
        "q": "Ann Lee",
        "sort": "score",
        "channel": "teams",
    }
    until = parse_filters({"until": "2026-11-30"})["until"]
    assert until == datetime(2026, 12, 1, tzinfo=timezone.utc)  # the whole day
    for bad in ({"sort": "name"}, {"language": "de"}, {"channel": "fax"}, {"page": "0"}, {"per_page": "201"}):
        with pytest.raises(FilterError):
            parse_filters(bad, tuple(bad))
    filters, bad = parse_page_filters({"status": "hot", "q": "x", "page": "2", "until": "tomorrow"})
    assert filters == {"q": "x", "page": 2} and bad == ["status", "until"]


def test_the_migration_adds_notes_to_an_existing_database(tmp_path):
    from alembic import command
    from alembic.config import Config

    from leads.storage.db import MIGRATIONS, engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine(url)
    command.upgrade(config, "0001")
    with session_scope(url) as session:
        session.execute(Lead.__table__.insert().values(**_row("old-1")))
    migrate(url)
    with session_scope(url) as session:
        assert add_note(session, "old1", "Emma", "still here") is not None
    engine(url).dispose()


def _row(conversation_id: str) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "id": "old1",
        "conversation_id": conversation_id,
        "channel": "web",
        "language": "en",
        "interest_signals": [],
        "authority": "unknown",
        "benefits": [],
        "consent": False,
        "confirmed": False,
        "finished": False,
        "score": 0,
        "status": "partial",
        "reasons": [],
        "risks": [],
        "transcript": [],
        "created_at": now,
        "updated_at": now,
    }


@pytest_asyncio.fixture
async def server(db_url):
    ids = _seed(db_url)
    runner = web.AppRunner(create_app(db_url, TOKEN, "http://127.0.0.1:9"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=AUTH) as client:
        yield client, ids
    await runner.cleanup()


@pytest.mark.asyncio
async def test_the_page_and_its_forms_over_http(server, db_url):
    client, ids = server
    async with client.get("/reps?q=martin&per_page=1", headers={"Accept-Language": "fr-FR,fr"}) as response:
        page = await response.text()
        assert response.status == 200 and "Boulangerie Martin" in page and "Greenleaf" not in page
        assert "<html lang='fr'>" in page and "Page 1 sur 1" in page
    async with client.get("/reps?sort=bogus&lang=pl") as response:
        page = await response.text()
        assert response.status == 200 and "Nie można odczytać filtru" in page
    async with client.get("/api/leads?q=ola&channel=slack") as response:
        assert [l["id"] for l in (await response.json())["leads"]] == [ids["ola"]]
    async with client.get("/api/leads?sort=bogus") as response:
        assert response.status == 400 and "'sort' must be one of" in (await response.json())["error"]

    path = f"/reps/leads/{ids['tom']}"
    async with client.post(
        f"{path}/notes", data={"author": "Emma Clarke", "text": "<i>Demo</i> booked"}, allow_redirects=False
    ) as response:
        assert response.status == 303 and response.headers["Location"] == f"{path}?done=note"
    async with client.post(
        f"{path}/notes", data={"author": "Emma Clarke", "text": "   "}, allow_redirects=False
    ) as response:
        assert response.headers["Location"] == f"{path}?done=note_empty"
    async with client.post(f"{path}/notes?lang=pl", data={"text": "x"}, allow_redirects=False) as response:
        assert response.headers["Location"] == f"{path}?done=who_missing&lang=pl"
    async with client.post(
        f"{path}/decision", data={"rep": "Emma Clarke", "decision": "accept"}, allow_redirects=False
    ) as response:
        assert response.status == 303 and response.headers["Location"] == f"{path}?done=accept"
    async with client.post(f"{path}/decision", data={"rep": "Emma", "decision": "maybe"}) as response:
        assert response.status == 400
    async with client.post("/reps/leads/missing/decision", data={"rep": "Emma", "decision": "pass"}) as response:
        assert response.status == 404
    async with client.post(
        f"{path}/notes", data=b"x" * 70_000, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ) as response:
        assert response.status == 413
    async with client.get(path) as response:
        page = await response.text()
        assert "&lt;i&gt;Demo&lt;/i&gt; booked" in page and "<i>Demo" not in page
        assert "Accepted by Emma Clarke" in page
    with session_scope(db_url) as session:
        handoff = session.execute(select(Handoff).where(Handoff.lead_id == ids["tom"])).scalar_one()
        assert handoff.status == "accepted" and handoff.accepted_by == "Emma Clarke"


@pytest.mark.asyncio
async def test_the_page_needs_the_token(db_url):
    runner = web.AppRunner(create_app(db_url, TOKEN, "http://127.0.0.1:9"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
            for method, path in (("GET", "/reps"), ("POST", "/reps/leads/x/notes"), ("POST", "/reps/leads/x/decision")):
                async with client.request(method, path, data={"author": "x", "text": "y"}) as response:
                    assert response.status == 401
    finally:
        await runner.cleanup()
