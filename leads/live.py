"""Live hand-off: a rep answers a web visitor from the Slack thread of the lead's card.

When a rep accepts, in Slack, the lead of a web visitor who asked for a person
(the conversation is paused), a live session starts: the thread gets a word
for the rep and a hand-back button, and the widget is told who is answering.
The rep's replies in that thread (relayed by the Rasa server's Slack channel,
still signed) go to the visitor as bot events marked ``live``
(``common.live_handoff``); the Rasa server posts the visitor's messages to the
thread. The hand-back button ends the session and resumes the assistant. The
lead's transcript is rewritten from the conversation after every step.

Everything reaches the widget through Rasa's HTTP API
(``/conversations/{id}/tracker/events`` with ``execute_side_effects``), so
the exchange is in the conversation, its history and its transcript.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Set
from urllib.parse import quote

import aiohttp

from common import live_handoff, settings
from common.slack_payloads import HAND_BACK_ACTION, first_action
from common.slack_text import plain_text
from leads import labels, transcripts
from leads.slack_rep import RepDecision, rep_entry
from leads.storage import live_sessions as sessions

logger = logging.getLogger(__name__)

PATH = "/slack/events"
TIMEOUT = aiohttp.ClientTimeout(total=10)
MAX_TEXT_CHARS = 4000


@dataclass
class Servers:
    """Where the conversation lives and where the session is stored."""

    db_url: Optional[str]
    rasa_url: str
    rasa_token: str


@dataclass
class ThreadReply:
    """A message someone wrote in a channel thread."""

    channel: str
    thread_ts: str
    user: str
    text: str


# -- reading Slack ---------------------------------------------------------------
def card_thread(payload: Mapping[str, Any]) -> Optional[tuple]:
    """``(channel, ts)`` of the card a click came from: its thread is the live session's."""
    container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    channel = (payload.get("channel") or {}).get("id") if isinstance(payload.get("channel"), dict) else None
    channel = channel or container.get("channel_id")
    ts = message.get("thread_ts") or message.get("ts") or container.get("thread_ts") or container.get("message_ts")
    if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
        return channel[:64], ts[:64]
    return None


def _bot_ids(envelope: Mapping[str, Any]) -> Set[str]:
    found = {a.get("user_id") for a in envelope.get("authorizations") or [] if isinstance(a, dict) and a.get("is_bot")}
    return {uid for uid in found if isinstance(uid, str)}


def thread_reply(envelope: Any) -> Optional[ThreadReply]:
    """A person's new message in a channel thread, or ``None``.

    Edits, deletions and other subtypes, bots' messages (the assistant's own
    included), top-level messages and malformed events are not.
    """
    event = envelope.get("event") if isinstance(envelope, dict) else None
    if envelope.get("type") != "event_callback" or not isinstance(event, dict) or event.get("type") != "message":
        return None
    if event.get("subtype") or event.get("bot_id") or event.get("hidden"):
        return None
    values = [event.get(key) for key in ("channel", "thread_ts", "user", "text", "ts")]
    if not all(isinstance(v, str) and v for v in values) or values[1] == values[4]:
        return None
    channel, thread_ts, user, text, _ = values
    if user in _bot_ids(envelope):
        return None
    text = plain_text(text)[:MAX_TEXT_CHARS]
    return ThreadReply(channel[:64], thread_ts[:64], user[:64], text) if text else None


@dataclass
class HandBack:
    """A click on a live session's hand-back button."""

    lead_id: str
    slack_user: str
    response_url: Optional[str]


def hand_back_click(payload: Mapping[str, Any]) -> Optional[HandBack]:
    """The hand-back click in a ``block_actions`` payload, or ``None`` when it is another click."""
    action = first_action(dict(payload))
    if not action or action.get("action_id") != HAND_BACK_ACTION:
        return None
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    lead_id, user_id = action.get("value"), user.get("id")
    if not (isinstance(lead_id, str) and 0 < len(lead_id) <= 64 and isinstance(user_id, str) and user_id):
        raise ValueError("The click must name the Slack user and carry the lead id as its value.")
    response_url = payload.get("response_url")
    url = response_url if isinstance(response_url, str) and response_url.startswith("http") else None
    return HandBack(lead_id, user_id[:64], url)


# -- the services: Rasa's HTTP API and Slack's Web API ------------------------------
async def _rasa(servers: Servers, method: str, conversation_id: str, path: str, **kwargs: Any) -> Any:
    url = f"{servers.rasa_url}/conversations/{quote(conversation_id, safe='')}/{path}"
    params = {"token": servers.rasa_token, **kwargs.pop("params", {})}
    async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
        async with client.request(method, url, params=params, **kwargs) as answer:
            if answer.status >= 300:
                raise RuntimeError(f"The assistant answered {answer.status}.")
            return await answer.json(content_type=None)


async def tracker(servers: Servers, conversation_id: str) -> Dict[str, Any]:
    """The conversation as Rasa keeps it."""
    return await _rasa(servers, "GET", conversation_id, "tracker")


async def append(servers: Servers, conversation_id: str, events: List[Dict[str, Any]]) -> None:
    """Add events to the conversation; bot messages among them go out on its latest channel (the widget)."""
    params = {"execute_side_effects": "true", "output_channel": "latest"}
    await _rasa(servers, "POST", conversation_id, "tracker/events", json=events, params=params)


async def carry_on(servers: Servers, conversation_id: str) -> None:
    """After a hand-back: a form the hand-off interrupted asks its open question again; then the assistant listens."""
    loop = ((await tracker(servers, conversation_id)).get("active_loop") or {}).get("name")
    if loop:
        params = {"output_channel": "latest"}
        await _rasa(servers, "POST", conversation_id, "execute", json={"name": loop}, params=params)
    await append(servers, conversation_id, [{"event": "action", "name": "action_listen"}])


async def post_in_thread(channel: str, thread_ts: str, text: str, blocks: Optional[list] = None) -> bool:
    """``chat.postMessage`` in the thread (``SLACK_API_URL``, ``SLACK_BOT_TOKEN``); whether Slack took it."""
    url = settings.slack_api_url().rstrip("/") + "/chat.postMessage"
    body: Dict[str, Any] = {"channel": channel, "thread_ts": thread_ts, "text": text}
    if blocks:
        body["blocks"] = blocks
    headers = {"Authorization": f"Bearer {settings.slack_bot_token()}"}
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
            async with client.post(url, json=body, headers=headers) as answer:
                result = await answer.json(content_type=None)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as error:
        logger.warning("Could not post in a live hand-off thread (%s).", type(error).__name__)
        return False
    if not (isinstance(result, dict) and result.get("ok")):
        logger.warning("Slack refused a post in a live hand-off thread: %s", (result or {}).get("error"))
        return False
    return True


def _db(work: Any, *args: Any) -> Any:
    return asyncio.get_running_loop().run_in_executor(None, work, *args)


async def sync_transcript(servers: Servers, conversation_id: str) -> None:
    """Rewrite the lead's transcript from the conversation (the live exchange included)."""
    try:
        events = (await tracker(servers, conversation_id)).get("events") or []
        await _db(sessions.store_transcript, servers.db_url, conversation_id, transcripts.lines(events))
    except Exception as error:  # the transcript catches up at the next step
        logger.warning("Could not update the transcript of %s (%s).", conversation_id, error)


# -- the three steps ----------------------------------------------------------------
async def start(servers: Servers, choice: RepDecision, payload: Mapping[str, Any]) -> bool:
    """After a rep's Accept: start a live session when the web visitor is waiting for a person."""
    thread = card_thread(payload)
    if choice.passed or thread is None or not settings.slack_bot_token():
        return False
    opened = await _db(sessions.open_session, servers.db_url, choice.lead_id, choice.by, choice.slack_user, thread)
    if opened is None:
        return False
    conversation_id = opened["conversation_id"]
    try:
        if not (await tracker(servers, conversation_id)).get("paused"):
            # the assistant is still talking: nobody waits for a person
            await _db(sessions.drop_open, servers.db_url, choice.lead_id)
            return False
    except Exception as error:
        logger.warning("No live hand-off for %s: %s", conversation_id, error)
        await _db(sessions.drop_open, servers.db_url, choice.lead_id)
        return False
    language = choice.language
    intro = labels.text("live", "intro", language)
    button = {
        "type": "button",
        "action_id": HAND_BACK_ACTION,
        "value": choice.lead_id,
        "text": {"type": "plain_text", "text": labels.text("live", "hand_back", language)},
    }
    blocks = [
        {"type": "section", "text": {"type": "plain_text", "text": intro}},
        {"type": "actions", "elements": [button]},
    ]
    await post_in_thread(thread[0], thread[1], intro, blocks)
    started = {
        "kind": live_handoff.START,
        "name": choice.by,
        "channel": thread[0],
        "thread_ts": thread[1],
        "label": labels.text("live", "visitor", language),
    }
    try:
        await append(servers, conversation_id, [{"event": "bot", "metadata": {live_handoff.KEY: started}}])
    except Exception as error:
        logger.warning("Could not tell %s who is answering (%s).", conversation_id, error)
        await _db(sessions.drop_open, servers.db_url, choice.lead_id)
        return False
    return True


async def rep_message(servers: Servers, reply: ThreadReply) -> str:
    """A reply in a thread: to the visitor when it is the accepting rep's, in a live session's thread."""
    session = await _db(sessions.open_in_thread, servers.db_url, reply.channel, reply.thread_ts)
    if session is None:
        return "not a live hand-off's thread"
    if reply.user != session["slack_user"]:
        return "not the rep who accepted"
    marker = {"kind": live_handoff.REP, "name": session["rep_name"]}
    said = {"event": "bot", "text": reply.text, "metadata": {live_handoff.KEY: marker}}
    await append(servers, session["conversation_id"], [said])
    await sync_transcript(servers, session["conversation_id"])
    return "relayed"


async def hand_back(servers: Servers, lead_id: str, slack_user: str) -> Dict[str, Any]:
    """The hand-back button: end the session, resume the assistant; what Slack shows the rep."""
    language = reps_language(slack_user)
    session = await _db(sessions.open_of_lead, servers.db_url, lead_id)
    if session is None:
        return _ephemeral(labels.text("live", "over", language))
    if slack_user != session["slack_user"]:
        return _ephemeral(labels.text("live", "not_yours", language, rep=session["rep_name"]))
    ended = {"kind": live_handoff.END, "name": session["rep_name"]}
    try:
        await append(
            servers,
            session["conversation_id"],
            [{"event": "bot", "metadata": {live_handoff.KEY: ended}}, {"event": "resume"}],
        )
        await carry_on(servers, session["conversation_id"])
    except Exception as error:
        logger.warning("Could not hand %s back to the assistant (%s).", session["conversation_id"], error)
        return _ephemeral(labels.text("live", "failed", language))
    await _db(sessions.close, servers.db_url, lead_id)
    await sync_transcript(servers, session["conversation_id"])
    said = labels.text("live", "handed_back", language, by=session["rep_name"])
    return {"response_type": "in_channel", "replace_original": False, "text": said}


def _ephemeral(text: str) -> Dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def reps_language(slack_user: str) -> str:
    """The language of the Slack user's entry in the reps file (English for anyone else)."""
    return labels.rep_language(rep_entry(slack_user) or {})
