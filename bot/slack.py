"""The Slack channel: prospects talk to the assistant in direct messages or by mentioning it.

``SlackEventsInput`` is Rasa's Slack connector with what a public endpoint
needs. It reads ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and
``SLACK_API_URL`` (default ``https://slack.com/api/``) from the environment;
without them the Rasa server still starts and the endpoints answer 503.

- ``POST /webhooks/slack/webhook``: the Events API (``url_verification``,
  ``message`` in direct messages, ``app_mention``);
- ``POST /webhooks/slack/interactivity``: button clicks (``block_actions``),
  also accepted on ``/webhook``.

Replies in a channel thread that do not mention the assistant (a rep talking
to a visitor in a live hand-off) go on, still signed, to the leads server's
``/slack/events`` (``LEADS_URL``).

Every request must carry a valid Slack signature (``common.slack_signature``).
Events are acknowledged at once and processed in the background; Slack's
retries of an event already received are dropped. Replies go to the thread of
the visitor's message, buttons as a Block Kit ``actions`` block.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.limits import ChannelLimits, too_fast
from bot.live_relay import relay_thread_reply
from bot.slack_events import EventCache, SlackMessage, is_thread_reply, message_from_click, message_from_event
from common import settings
from common.slack_payloads import MAX_BODY_BYTES, interaction_payload, is_rep_action
from common.slack_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, check

logger = logging.getLogger(__name__)

DEFAULT_API_URL = settings.SLACK_DEFAULT_API_URL
MAX_SECTION_CHARS = 3000
MAX_BUTTON_TITLE_CHARS = 75
MAX_BUTTONS = 25
NOT_CONFIGURED = "The Slack channel is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET."


def escape(text: Text) -> Text:
    """Text as Slack shows it literally (``&``, ``<``, ``>`` escaped, so nothing pings anyone)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def button_blocks(text: Text, buttons: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """A section with the text and an ``actions`` block whose buttons carry their payloads."""
    elements = [
        {
            "type": "button",
            "action_id": f"reply_{index}",
            "text": {
                "type": "plain_text",
                "text": str(button.get("title") or button.get("payload"))[:MAX_BUTTON_TITLE_CHARS],
            },
            "value": str(button.get("payload") or button.get("title")),
        }
        for index, button in enumerate(buttons[:MAX_BUTTONS])
    ]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)[:MAX_SECTION_CHARS]}},
        {"type": "actions", "elements": elements},
    ]


class SlackOutput(SlackBot):
    """Rasa's Slack output, posting to ``SLACK_API_URL`` in the visitor's thread."""

    def __init__(self, token: Text, channel: Text, thread_ts: Optional[Text], api_url: Text) -> None:
        super().__init__(token, channel, thread_ts)
        self.client = AsyncWebClient(token=token, base_url=api_url)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._post_message(channel=self.slack_channel or recipient_id, text=escape(text.strip()))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._post_message(
            channel=self.slack_channel or recipient_id, text=escape(text), blocks=button_blocks(text, buttons)
        )

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._post_message(
            channel=self.slack_channel or recipient_id,
            text=image,
            blocks=[{"type": "image", "image_url": image, "alt_text": image}],
        )

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        await self._post_message(channel=self.slack_channel or recipient_id, attachments=[attachment])

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        message = {k: v for k, v in json_message.items() if k not in ("channel", "as_user", "thread_ts")}
        await self._post_message(channel=self.slack_channel or recipient_id, **message)


class SlackEventsInput(SlackInput):
    """Rasa's Slack input with signature checks, retry de-duplication and threads."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Configured from the environment only; ``credentials.yml`` holds no secrets."""
        return cls(settings.slack_bot_token(), settings.slack_signing_secret(), settings.slack_api_url())

    def __init__(self, slack_token: Text, slack_signing_secret: Text, api_url: Text = DEFAULT_API_URL) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.events = EventCache()
        self.limits = ChannelLimits(per_address=0)  # events come from Slack: per visitor only
        super().__init__(
            slack_token, use_threads=True, slack_signing_secret=slack_signing_secret, conversation_granularity="thread"
        )

    @property
    def configured(self) -> bool:
        return bool(self.slack_token and self.slack_signing_secret)

    def _validate_credentials(self) -> None:
        """Start without credentials: the endpoints then answer 503."""
        if not self.configured:
            logger.info("Slack channel not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET); it answers 503.")

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or "", thread_id, self.api_url)

    def _refusal(self, request: Request) -> Optional[HTTPResponse]:
        """The error response for a request that must not be processed, if any."""
        if not self.configured:
            return response.json({"error": NOT_CONFIGURED}, status=503)
        if len(request.body or b"") > MAX_BODY_BYTES:
            return response.json({"error": "The body is larger than 1 MB."}, status=413)
        error = check(
            self.slack_signing_secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            request.body or b"",
        )
        if error:
            logger.warning("Refused a Slack request: %s", error[1])
            return response.json({"error": error[1]}, status=error[0])
        return None

    def _dispatch(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: SlackMessage) -> None:
        """Hand the message to the assistant in the background (Slack wants an answer within 3 s)."""
        user_message = UserMessage(
            message.text,
            self.get_output_channel(message.channel, message.thread_ts),
            message.sender_id,
            input_channel=self.name(),
            metadata=message.metadata,
        )
        if self.limits.check(message.sender_id):  # too many messages: a polite word, nothing processed
            polite = too_fast(message.metadata.get("locale"), message.text)
            reply = user_message.output_channel.send_text_message(message.sender_id, polite)
            task = asyncio.create_task(self._handle_reply(reply, message.sender_id))
        else:
            task = asyncio.create_task(self._handle(on_new_message, user_message))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    @staticmethod
    async def _handle_reply(reply: Awaitable[Any], sender_id: Text) -> None:
        try:
            await reply
        except Exception as error:  # a failed notice is only logged
            logger.warning("Could not tell %s to slow down (%s).", sender_id, type(error).__name__)

    @staticmethod
    async def _handle(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except SlackApiError as error:
            logger.error("Slack refused a reply to %s: %s", message.sender_id, error.response.get("error"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("Slack could not be reached to answer %s (%s).", message.sender_id, type(error).__name__)
        except Exception:  # one bad message must not affect other conversations
            logger.exception("Could not handle a Slack message from %s", message.sender_id)

    async def _receive_event(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        try:
            envelope = json.loads(request.body)
        except ValueError:
            return response.json({"error": "The body must be JSON."}, status=400)
        if not isinstance(envelope, dict):
            return response.json({"error": "The body must be a JSON object."}, status=400)
        if envelope.get("type") == "url_verification":
            challenge = envelope.get("challenge")
            if not isinstance(challenge, str):
                return response.json({"error": "'challenge' must be a string."}, status=400)
            return response.json({"challenge": challenge})
        if envelope.get("type") != "event_callback":
            return response.json({"ignored": "not an event callback"})
        message = message_from_event(envelope)
        if message is None and is_thread_reply(envelope):
            if self._first_time(envelope, request):
                self._relay_to_leads(request)
            return response.json({"ok": True})
        if message is None:
            return response.json({"ignored": "not a visitor's message"})
        if not self._first_time(envelope, request):
            return response.json({"ignored": "already received"}, headers={"X-Slack-No-Retry": "1"})
        self._dispatch(on_new_message, message)
        return response.json({"ok": True})

    def _first_time(self, envelope: Dict[str, Any], request: Request) -> bool:
        """``False`` for Slack's retry of an event already received."""
        event_id = envelope.get("event_id")
        if isinstance(event_id, str) and not self.events.first_time(event_id):
            logger.info(
                "Slack delivered event %s again (retry %s); already processed.",
                event_id,
                request.headers.get("X-Slack-Retry-Num"),
            )
            return False
        return True

    def _relay_to_leads(self, request: Request) -> None:
        """Pass a thread reply, still signed by Slack, to the leads server (live hand-offs)."""
        task = asyncio.create_task(
            relay_thread_reply(
                settings.leads_url(),
                request.body or b"",
                request.headers.get(TIMESTAMP_HEADER, ""),
                request.headers.get(SIGNATURE_HEADER, ""),
            )
        )
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _receive_click(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        try:
            payload = interaction_payload(request.body or b"")
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        if is_rep_action(payload):
            logger.warning(
                "A rep's Accept/Pass click reached the assistant: point the Slack app's "
                "interactivity URL at the leads server's /slack/interactivity."
            )
            return response.json({"error": "Rep buttons are handled by the leads server."}, status=404)
        message = message_from_click(payload)
        if message is None:
            return response.json({"ignored": "not a visitor's button"})
        self._dispatch(on_new_message, message)
        return response.json({"ok": True})

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @slack.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.configured else "not configured"})

        @slack.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refusal = self._refusal(request)
            if refusal:
                return refusal
            if (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded"):
                return await self._receive_click(request, on_new_message)
            return await self._receive_event(request, on_new_message)

        @slack.route("/interactivity", methods=["POST"])
        async def interactivity(request: Request) -> HTTPResponse:
            return self._refusal(request) or await self._receive_click(request, on_new_message)

        return slack
