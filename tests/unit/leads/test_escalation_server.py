"""Escalation as the leads server shows and runs it, served for real on loopback.

The lead page lists the hand-off's steps in the rep's language; a late Accept
is refused politely (rep page, API); and the server's own clock moves a lead a
rep passed on to the next rep, whose card reaches a local HTTP server.
"""

from __future__ import annotations

import asyncio
import html
from datetime import datetime, timezone

import aiohttp
import pytest
import pytest_asyncio
import yaml
from aiohttp import web
from sqlalchemy import select

from leads.escalation import escalate_due
from leads.server import create_app
from leads.storage.db import session_scope
from leads.storage.models import Handoff
from tests.fakes.receiver import Receiver
from tests.unit.leads.test_escalation import MINUTE, MONDAY_NOON, config, hand_off

TOKEN = "escalation-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOSTILE = "<script>alert('late')</script> Mallory"


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def serve(db_url, tmp_path, monkeypatch):
    """Start the leads server over ``db_url`` with a reps file; yields a client factory."""
    runners = []

    async def start(cfg: dict, escalate_every: float = 0) -> aiohttp.ClientSession:
        reps_file = tmp_path / "reps.yml"
        reps_file.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("REPS_FILE", str(reps_file))
        runner = web.AppRunner(create_app(db_url, TOKEN, "http://127.0.0.1:9", escalate_every=escalate_every))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        client = aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=AUTH)
        runners.append((runner, client))
        return client

    yield start
    for runner, client in runners:
        await client.close()
        await runner.cleanup()


async def page_text(client: aiohttp.ClientSession, path: str) -> str:
    async with client.get(path) as response:
        assert response.status == 200
        return await response.text()


@pytest.mark.asyncio
async def test_the_lead_page_shows_each_step_in_the_reps_language(db_url, receiver, serve):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    escalate_due(db_url, MONDAY_NOON + 15 * MINUTE, cfg)
    client = await serve(cfg)
    async with client.post(f"/api/leads/{lead_id}/accept", json={"rep": "Bob"}) as response:
        assert response.status == 200 and (await response.json())["handoff"]["status"] == "accepted"
    expected = {
        "en": ("Hand-off history", "Offered to Anna", "Not accepted in time by Anna", "Offered next to Bob"),
        "fr": (
            "Historique de la transmission",
            "Proposé à Anna",
            "Pas accepté à temps par Anna",
            "Proposé ensuite à Bob",
        ),
        "pl": (
            "Historia przekazania",
            "Zaproponowany: Anna",
            "Nieprzyjęty na czas przez: Anna",
            "kolejnej osobie: Bob",
        ),
    }
    accepted = {"en": "Accepted by Bob", "fr": "Accepté par Bob", "pl": "Przyjęty przez: Bob"}
    for language, words in expected.items():
        body = html.unescape(await page_text(client, f"/reps/leads/{lead_id}?lang={language}"))
        steps = body[body.index("<ol id='steps'>") : body.index("</ol>", body.index("<ol id='steps'>"))]
        positions = [steps.index(w) for w in (*words[1:], accepted[language])]
        assert words[0] in body and positions == sorted(positions)  # oldest first
        assert steps.count("<time") == 4  # each step with its time


@pytest.mark.asyncio
async def test_a_late_accept_is_refused_politely_and_recorded_escaped(db_url, receiver, serve):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    client = await serve(cfg)
    async with client.post(f"/api/leads/{lead_id}/accept", json={"rep": "Anna"}) as response:
        assert response.status == 200
    async with client.post(f"/api/leads/{lead_id}/accept", json={"rep": "Bob"}) as response:
        assert response.status == 409 and "accepted this lead first" in (await response.json())["error"]
    form = {"rep": HOSTILE, "decision": "accept"}
    async with client.post(f"/reps/leads/{lead_id}/decision?lang=fr", data=form, allow_redirects=False) as response:
        assert response.status == 303 and "done=taken" in response.headers["Location"]
        location = response.headers["Location"]
    body = await page_text(client, location)
    assert "Quelqu'un d'autre a accepté ce contact avant vous" in html.unescape(body)
    assert "<script>alert" not in body and "&lt;script&gt;" in body  # the typed name is shown, inert
    assert "a répondu alors qu'il était déjà accepté" in html.unescape(body)
    with session_scope(db_url) as session:
        handoff = session.execute(select(Handoff).where(Handoff.lead_id == lead_id)).scalar_one()
        assert (handoff.status, handoff.accepted_by) == ("accepted", "Anna")


@pytest.mark.asyncio
async def test_the_servers_clock_moves_a_passed_lead_and_sends_the_card(db_url, receiver, serve):
    cfg = config(receiver)
    always = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "23:59:59.999999"}
    cfg["reps"] = [{**rep, "working_hours": always} for rep in cfg["reps"]]
    now = datetime.now(timezone.utc)
    lead_id = hand_off(db_url, cfg, now)
    client = await serve(cfg, escalate_every=0.2)
    async with client.post(f"/api/leads/{lead_id}/pass", json={"rep": "Anna"}) as response:
        assert response.status == 200
    deadline = asyncio.get_running_loop().time() + 20
    while not (receiver.json("/slack/bob") and receiver.json("/teams/bob")):
        assert asyncio.get_running_loop().time() < deadline, "the clock never moved the lead"
        await asyncio.sleep(0.1)
    assert len(receiver.json("/slack/bob")) == 1 and len(receiver.json("/teams/bob")) == 1
    with session_scope(db_url) as session:
        handoff = session.execute(select(Handoff).where(Handoff.lead_id == lead_id)).scalar_one()
        assert (handoff.rep_id, handoff.status, handoff.offer_round) == ("bob", "notified", 1)
    body = html.unescape(await page_text(client, f"/reps/leads/{lead_id}?lang=en"))
    assert "Passed on by Anna" in body and "Offered next to Bob" in body
