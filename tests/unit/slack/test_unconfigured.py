"""Without Slack's variables the leads server's Slack endpoint answers 503.

The Rasa server's Slack endpoint is checked in tests/integration/e2e.
"""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from leads.server import create_app

SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL")


@pytest.fixture
def no_slack(monkeypatch):
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.asyncio
async def test_the_leads_server_answers_503_without_a_signing_secret(no_slack, tmp_path):
    runner = web.AppRunner(create_app(f"sqlite:///{tmp_path / 'leads.db'}", "token", "http://127.0.0.1:9"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as client:
            async with client.post(f"http://127.0.0.1:{port}/slack/interactivity", data=b"payload=%7B%7D") as response:
                assert response.status == 503
                assert "SLACK_SIGNING_SECRET" in (await response.json())["error"]
    finally:
        await runner.cleanup()
