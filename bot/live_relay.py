"""The Rasa server's part in a live hand-off (``common.live_handoff``).

- A web visitor's message, while a rep talks to them live, goes to the Slack
  thread of the lead's card (``chat.postMessage`` with ``thread_ts``, on
  ``SLACK_API_URL``), made inert for Slack.
- A reply in a channel thread reaches the Slack channel here; it goes on,
  still signed by Slack, to the leads server (``LEADS_URL``), which knows the
  live sessions and relays the accepting rep's replies to the visitor.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Iterable, Optional

import aiohttp
from rasa.shared.core.events import BotUttered, Event, Restarted, SessionStarted
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from common import live_handoff, settings
from common.slack_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from common.slack_text import slack_escape

logger = logging.getLogger(__name__)

LEADS_EVENTS_PATH = "/slack/events"
TIMEOUT = aiohttp.ClientTimeout(total=10)


def active_session(events: Iterable[Event]) -> Optional[Dict[str, Any]]:
    """The live hand-off under way in a conversation's events (its ``start`` marker), or ``None``."""
    plain = []
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            plain.append({"event": "restart"})
        elif isinstance(event, BotUttered):
            plain.append({"event": "bot", "metadata": event.metadata})
    return live_handoff.active(plain)


async def to_thread(session: Dict[str, Any], text: str) -> bool:
    """Post the visitor's message in the live session's thread; whether Slack took it."""
    channel, thread_ts = session.get("channel"), session.get("thread_ts")
    token = settings.slack_bot_token()
    if not (isinstance(channel, str) and isinstance(thread_ts, str) and token):
        return False
    label = str(session.get("label") or "Visitor")
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url().rstrip("/") + "/")
    try:
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=f"*{label}:* {slack_escape(text)}")
        return True
    except SlackApiError as error:
        logger.warning("Slack refused a visitor's message for a live thread: %s", error.response.get("error"))
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
        logger.warning("Slack could not be reached for a live thread (%s).", type(error).__name__)
    return False


async def relay_thread_reply(leads_url: str, body: bytes, timestamp: str, signature: str) -> None:
    """Pass a thread reply, with Slack's signature, to the leads server; failures are logged."""
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
            async with client.post(f"{leads_url}{LEADS_EVENTS_PATH}", data=body, headers=headers) as answer:
                if answer.status >= 300:
                    logger.warning("The leads server answered %s to a Slack thread reply.", answer.status)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
        logger.warning("Could not pass a Slack thread reply to the leads server (%s).", type(error).__name__)
