"""Channel connectors.

``SafeRestInput`` is Rasa's REST channel (``/webhooks/rest/webhook``): the
back-end channel, for a company's own servers and tools rather than for
browsers. It has the checks a public endpoint needs: malformed or oversized
requests get a clear HTTP error (bodies over 64 KB are refused unread, with
413), text typed as ``/intent{...}`` stays ordinary text instead of driving the
bot's internals, ``REST_CHANNEL_TOKEN`` (when set) is required as a bearer
token, each sender and each address may send only so many messages a minute
(429 with ``Retry-After``), and the conversation id is the sender prefixed
with ``rest_``, so that no REST caller can name another channel's conversation.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import heap
from bot.limits import ChannelLimits, LimitedBlueprint, client_address, too_fast
from common import settings

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 20_000
MAX_SENDER_CHARS = 128
#: Longer texts are cut before the NLU reads them; the reply stays polite.
MAX_PROCESSED_CHARS = 4_000
MAX_METADATA_CHARS = 10_000
MAX_BODY_BYTES = 64 * 1024
#: Each channel's conversation ids start with its own prefix: no channel can name another's conversations.
PREFIXES = {"rest": "rest_", "socketio": "web_", "teams": "teams_", "slack": "slack_"}
COMMAND_PREFIX = "/"
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def visitor_text(message: Text) -> Text:
    """A visitor's message as the assistant reads it: no control characters,
    cut to ``MAX_PROCESSED_CHARS``, and never an intent command."""
    return neutralize(_CONTROLS.sub("", message)[:MAX_PROCESSED_CHARS])


def neutralize(text: Text) -> Text:
    """Keep a visitor's text from being read as an intent command."""
    stripped = text.lstrip()
    if stripped.startswith(COMMAND_PREFIX):
        return "\u2060" + stripped  # a word joiner: invisible, but not "/"
    return text


def conversation_id(channel: Text, sender: Text) -> Text:
    """The Rasa conversation id of a channel's sender: the channel's prefix, then the sender."""
    return PREFIXES[channel] + sender


def parse_request(body: Any) -> Tuple[Optional[Dict[Text, Any]], Optional[Tuple[int, Text]]]:
    """Validate a REST message body; return it cleaned, or an HTTP error."""
    if not isinstance(body, dict):
        return None, (400, "The body must be a JSON object with 'sender' and 'message'.")
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip():
        return None, (400, "'sender' must be a non-empty string.")
    if len(sender) > MAX_SENDER_CHARS:
        return None, (400, f"'sender' must be at most {MAX_SENDER_CHARS} characters.")
    if not isinstance(message, str):
        return None, (400, "'message' must be a string.")
    if len(message) > MAX_MESSAGE_CHARS:
        return None, (413, f"'message' must be at most {MAX_MESSAGE_CHARS} characters.")
    if metadata is not None and not isinstance(metadata, dict):
        return None, (400, "'metadata' must be a JSON object.")
    if metadata and len(json.dumps(metadata, default=str)) > MAX_METADATA_CHARS:
        return None, (413, f"'metadata' must be at most {MAX_METADATA_CHARS} characters as JSON.")
    text = visitor_text(message)
    return {"sender": sender.strip(), "message": text, "metadata": metadata or {}}, None


class SafeRestInput(RestInput):
    """Rasa's REST channel with request validation."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self) -> None:
        self.limits = ChannelLimits()

    def authorized(self, request: Request) -> bool:
        """Whether the request carries ``REST_CHANNEL_TOKEN`` (always, when none is set)."""
        token = settings.rest_channel_token()
        if not token:
            return True
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        return bool(given) and hmac.compare_digest(given.encode(), token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The ``/`` health and ``/webhook`` routes."""
        webhook = LimitedBlueprint(f"custom_webhook_{type(self).__name__}", __name__, body_limit=MAX_BODY_BYTES)
        heap.attach(webhook)  # the REST channel is always on: the server settles its heap after each model

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authorized(request):
                return response.json({"error": "This channel requires its bearer token."}, status=401)
            try:
                body = request.json
            except Exception:  # Sanic raises on invalid JSON
                body = None
            cleaned, error = parse_request(body)
            if error:
                return response.json({"error": error[1]}, status=error[0])
            wait = self.limits.check(cleaned["sender"], client_address(request))
            if wait:
                locale = cleaned["metadata"].get("locale")
                return response.json({"error": too_fast(locale)}, status=429, headers={"Retry-After": str(wait)})
            sender = conversation_id(self.name(), cleaned["sender"])
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        cleaned["message"],
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=cleaned["metadata"],
                    )
                )
            except CancelledError:
                logger.error("Message from %s timed out.", cleaned["sender"])
            except Exception:
                logger.exception("Message from %s could not be handled.", cleaned["sender"])
                return response.json({"error": "The assistant could not handle this message."}, status=500)
            return response.json(collector.messages)

        return webhook
