"""What a Slack event or button click means for the assistant.

Pure functions over Slack's JSON, no Rasa: which events are a visitor talking
(direct messages and mentions; never the bot itself, edits or other message
subtypes), the visitor's text without Slack's markup, the thread to answer in,
and the conversation (Rasa sender id) it belongs to:

- in a direct message, one conversation per user and DM channel, whichever
  thread they write in;
- in a channel, one conversation per user and thread, so that people who
  mention the assistant in the same channel never share a conversation.

``EventCache`` remembers recent event ids, so that Slack's retries of an event
are not processed twice.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Set

from bot.channels import visitor_text
from common.slack_payloads import LEADS_ACTIONS, first_action
from common.slack_text import plain_text

_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^<>]*)?>")
_SLACK_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class SlackMessage:
    """A visitor's message: what they said, who they are, where to answer."""

    sender_id: str
    text: str
    channel: str
    thread_ts: str
    user: str
    metadata: Dict[str, Any] = field(default_factory=dict)


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_SLACK_ID.match(value))


def is_direct(channel: str, channel_type: Optional[str] = None) -> bool:
    """Whether the channel is a direct message with the bot (DM ids start with ``D``)."""
    return channel_type == "im" or channel.startswith("D")


def conversation_id(user: str, channel: str, thread_ts: str, direct: bool) -> str:
    """The Rasa sender id: per user and DM channel, or per user and thread in a channel."""
    return f"slack_{user}_{channel}" if direct else f"slack_{user}_{channel}_{thread_ts}"


def bot_user_ids(envelope: Dict[str, Any]) -> Set[str]:
    """The bot's own user ids, as the event envelope names them."""
    found = {a.get("user_id") for a in envelope.get("authorizations") or [] if isinstance(a, dict) and a.get("is_bot")}
    found.update(envelope.get("authed_users") or [])
    return {uid for uid in found if isinstance(uid, str)}


def message_from_event(envelope: Dict[str, Any]) -> Optional[SlackMessage]:
    """The visitor's message in an ``event_callback``, or ``None`` when it is not one to answer."""
    event = envelope.get("event")
    if not isinstance(event, dict) or event.get("type") not in ("message", "app_mention"):
        return None
    if event.get("subtype") or event.get("bot_id") or event.get("hidden"):
        return None  # edits, deletions, joins, other bots' and our own messages
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    text = event.get("text")
    if not (_valid_id(user) and _valid_id(channel) and _valid_id(ts) and isinstance(text, str)):
        return None
    bots = bot_user_ids(envelope)
    if user in bots:
        return None
    direct = is_direct(channel, event.get("channel_type"))
    if event["type"] == "message" and event.get("channel_type") != "im":
        return None  # in channels the assistant answers only when mentioned
    if event["type"] == "app_mention":
        text = _LEADING_MENTION.sub("", text)
    thread_ts = event.get("thread_ts") if _valid_id(event.get("thread_ts")) else ts
    return _message(user, channel, thread_ts, direct, plain_text(text, bots), envelope.get("team_id"))


def is_thread_reply(envelope: Dict[str, Any]) -> bool:
    """Whether the event is a message in a channel thread that does not mention the assistant.

    Such messages are not for the assistant: they may be a rep's replies in a
    live hand-off's thread, which the leads server relays to the visitor.
    """
    event = envelope.get("event")
    if envelope.get("type") != "event_callback" or not isinstance(event, dict) or event.get("type") != "message":
        return False
    channel, thread_ts = event.get("channel"), event.get("thread_ts")
    return (
        _valid_id(channel)
        and _valid_id(thread_ts)
        and thread_ts != event.get("ts")
        and not is_direct(channel, event.get("channel_type"))
    )


def message_from_click(payload: Dict[str, Any]) -> Optional[SlackMessage]:
    """A visitor's button click as the message it stands for (the button's value)."""
    action = first_action(payload)
    if not action or action.get("type") != "button" or action.get("action_id") in LEADS_ACTIONS:
        return None
    value = action.get("value")
    user = (payload.get("user") or {}).get("id") if isinstance(payload.get("user"), dict) else None
    container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    channel = (payload.get("channel") or {}).get("id") if isinstance(payload.get("channel"), dict) else None
    channel = channel or container.get("channel_id")
    thread_ts = (
        message.get("thread_ts") or container.get("thread_ts") or message.get("ts") or container.get("message_ts")
    )
    if not (isinstance(value, str) and _valid_id(user) and _valid_id(channel) and _valid_id(thread_ts)):
        return None
    team = (payload.get("team") or {}).get("id") if isinstance(payload.get("team"), dict) else None
    return _message(user, channel, thread_ts, is_direct(channel), value, team)


def _message(user: str, channel: str, thread_ts: str, direct: bool, text: str, team: Any) -> Optional[SlackMessage]:
    text = visitor_text(text)
    if not text.strip():
        return None
    metadata = {
        "slack": {
            "user": user,
            "channel": channel,
            "thread_ts": thread_ts,
            "team": team if isinstance(team, str) else None,
        }
    }
    return SlackMessage(conversation_id(user, channel, thread_ts, direct), text, channel, thread_ts, user, metadata)


class EventCache:
    """Event ids seen recently (bounded, with a time to live), to drop Slack's retries."""

    def __init__(self, ttl_seconds: float = 3600, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def first_time(self, event_id: str, now: Optional[float] = None) -> bool:
        """Record the id; ``True`` when it was not seen within the time to live."""
        now = time.monotonic() if now is None else now
        while self._seen and (next(iter(self._seen.values())) < now - self.ttl or len(self._seen) >= self.max_entries):
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True
