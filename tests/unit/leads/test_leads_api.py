"""The leads API and the rep page, served for real on loopback."""

from __future__ import annotations

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from leads import auth
from leads.server import create_app
from leads.storage.db import session_scope
from leads.storage.repository import save_lead
from tests.samples import lead

TOKEN = "test-token-123"


@pytest_asyncio.fixture
async def api(db_url):
    with session_scope(db_url) as session:
        qualified = save_lead(
            session,
            lead("conv-q", need={"summary": "<b>calls</b> & more", "category": None}),
            transcript=[{"sender": "visitor", "text": "<script>alert(1)</script>", "at": "x"}],
        ).id
        save_lead(session, lead("conv-p", finished=False))
    runner = web.AppRunner(create_app(db_url, TOKEN, "http://127.0.0.1:9"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        yield client, qualified
    await runner.cleanup()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.asyncio
async def test_token_is_required(api):
    client, lead_id = api
    for path in ("/api/leads", f"/api/leads/{lead_id}"):
        async with client.get(path) as response:
            assert response.status == 401
        async with client.get(path, headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401


@pytest.mark.asyncio
async def test_list_filter_and_detail(api):
    client, lead_id = api
    async with client.get("/api/leads", headers=AUTH) as response:
        assert response.status == 200
        assert {l["conversation_id"] for l in (await response.json())["leads"]} == {"conv-q", "conv-p"}
    async with client.get("/api/leads?status=partial", headers=AUTH) as response:
        assert [l["conversation_id"] for l in (await response.json())["leads"]] == ["conv-p"]
    async with client.get("/api/leads?conversation_id=conv-q&since=2020-01-01T00:00:00Z", headers=AUTH) as response:
        leads = (await response.json())["leads"]
        assert [l["id"] for l in leads] == [lead_id]
    async with client.get(f"/api/leads/{lead_id}", headers=AUTH) as response:
        body = await response.json()
        assert body["status"] == "qualified" and body["contact"]["email"] == "tom@greenleafdental.com"
        assert body["stakeholders"][1]["stance"] == "saboteur"
    async with client.get("/api/leads/nope", headers=AUTH) as response:
        assert response.status == 404


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["status=hot", "since=yesterday", "limit=0", "limit=abc"])
async def test_bad_filters_are_clear_400s(api, query):
    client, _ = api
    async with client.get(f"/api/leads?{query}", headers=AUTH) as response:
        assert response.status == 400
        assert "must" in (await response.json())["error"]


@pytest.mark.asyncio
async def test_accept_records_who_took_the_lead(api):
    client, lead_id = api
    async with client.post(f"/api/leads/{lead_id}/accept", headers=AUTH, data=b"{oops") as response:
        assert response.status == 400
    async with client.post(f"/api/leads/{lead_id}/accept", headers=AUTH, json={}) as response:
        assert response.status == 400
    async with client.post(f"/api/leads/{lead_id}/accept", headers=AUTH, json={"rep": "Anna"}) as response:
        body = await response.json()
        assert body["handoff"]["status"] == "accepted" and body["handoff"]["accepted_at"]
    async with client.post("/api/leads/nope/accept", headers=AUTH, json={"rep": "Anna"}) as response:
        assert response.status == 404


@pytest.mark.asyncio
async def test_resume_reports_an_unreachable_assistant(api):
    client, lead_id = api
    async with client.post(f"/api/leads/{lead_id}/resume", headers=AUTH) as response:
        assert response.status == 502


@pytest.mark.asyncio
async def test_rep_page_escapes_what_visitors_wrote(api):
    client, lead_id = api
    async with client.get("/reps") as response:
        assert response.status == 401
    async with client.post("/reps/login", data={"token": TOKEN}) as response:
        page = await response.text()
        assert response.status == 200 and "&lt;b&gt;calls&lt;/b&gt; &amp; more" in page
    async with client.get(f"/reps/leads/{lead_id}") as response:
        page = await response.text()
        assert "&lt;script&gt;" in page and "<script>alert" not in page
        assert "class='saboteur'" in page and "Ben" in page


@pytest.mark.asyncio
async def test_reps_sign_in_with_a_form_and_get_a_signed_session_cookie(api):
    client, lead_id = api
    async with client.get(f"/reps?token={TOKEN}") as response:  # a token in the address is not taken
        assert response.status == 401 and "<form method='post'" in await response.text()
    async with client.get("/reps/login", headers={"Accept-Language": "pl-PL,pl;q=0.9"}) as response:
        assert response.status == 200 and "Zaloguj się" in await response.text()
    async with client.post("/reps/login", data={"token": "wrong"}, headers={"Accept-Language": "fr"}) as response:
        assert response.status == 401 and "Ce jeton" in await response.text()
    async with client.post("/reps/login", data={"token": TOKEN}, allow_redirects=False) as response:
        assert response.status == 303 and response.headers["Location"] == "/reps"
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    assert "Secure" not in cookie  # plain http on loopback; https sets it
    async with client.get(f"/reps/leads/{lead_id}") as response:
        assert response.status == 200
    async with client.get("/api/leads") as response:  # the session cookie works for the API too
        assert response.status == 200
    client.cookie_jar.clear()
    async with client.get("/reps", headers=AUTH) as response:  # tools keep using the bearer token
        assert response.status == 200


@pytest.mark.asyncio
async def test_a_forged_session_cookie_is_refused(api):
    client, _ = api
    forged = auth.session_value("another-token")
    async with client.get("/reps", headers={"Cookie": f"{auth.COOKIE}={forged}"}) as response:
        assert response.status == 401
    expired = auth.session_value(TOKEN, now=1_000_000)
    async with client.get("/reps", headers={"Cookie": f"{auth.COOKIE}={expired}"}) as response:
        assert response.status == 401
    async with client.post(
        "/reps/login", data={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"}, allow_redirects=False
    ) as response:
        assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.asyncio
async def test_a_person_is_erased_through_the_api(api):
    client, _ = api
    async with client.delete("/api/people", json={"email": "tom@greenleafdental.com"}) as response:
        assert response.status == 401
    async with client.delete("/api/people", json={"email": "Tom"}, headers=AUTH) as response:
        assert response.status == 400
    async with client.delete("/api/people", json={"email": "TOM@greenleafdental.com"}, headers=AUTH) as response:
        assert response.status == 200 and (await response.json())["erased"]["leads"] == 2
    async with client.get("/api/leads", headers=AUTH) as response:
        assert (await response.json())["leads"] == []
