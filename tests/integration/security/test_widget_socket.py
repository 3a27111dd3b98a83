"""The widget's socket: session ids are the server's, and a flood gets a polite answer."""

from __future__ import annotations

import asyncio
import time

from tests.integration.browser.test_socket_channel import Client
from tests.integration.security.conftest import VISITOR_LIMIT


async def _events_until(client: Client, wanted, timeout: float = 60) -> list:
    seen, deadline = [], time.time() + timeout
    while time.time() < deadline:
        try:
            seen.append(await client.next_event(timeout=max(0.1, deadline - time.time())))
        except asyncio.TimeoutError:
            break
        if wanted(seen[-1]):
            break
    return seen


def test_a_flood_on_the_socket_gets_a_polite_answer_while_another_visitor_is_served(stack):
    async def scenario() -> None:
        async with Client(stack.rasa_url) as flooder, Client(stack.rasa_url) as calm:
            _, flooding = await flooder.session(None)
            _, served = await calm.session(None)
            for _ in range(VISITOR_LIMIT + 3):
                message = {"message": "allô ?", "session_id": flooding, "metadata": {"locale": "fr-FR"}}
                await flooder.emit("user_uttered", message)
            seen = await _events_until(flooder, lambda e: e[0] == "error")
            errors = [data for name, data in seen if name == "error"]
            assert errors and errors[0]["code"] == "rate_limited" and errors[0]["retry_after"] >= 1
            assert errors[0]["error"].startswith("Vos messages")  # in the visitor's language
            await calm.emit(
                "user_uttered", {"message": "Hello, we need help with support tickets.", "session_id": served}
            )
            replies = await _events_until(calm, lambda e: e[0] == "bot_uttered")
            assert replies and replies[-1][0] == "bot_uttered"

    asyncio.run(asyncio.wait_for(scenario(), 180))


def test_a_socket_cannot_speak_in_another_visitors_session(stack):
    async def scenario() -> None:
        async with Client(stack.rasa_url) as owner, Client(stack.rasa_url) as intruder:
            _, theirs = await owner.session(None)
            _, mine = await intruder.session("made-up-session-id-0123456789")
            assert mine != "made-up-session-id-0123456789"
            await intruder.emit("user_uttered", {"message": "What did they say?", "session_id": theirs})
            name, data = await intruder.next_event(timeout=20)
            assert name == "error" and data["code"] == "unknown_session"

    asyncio.run(asyncio.wait_for(scenario(), 120))
