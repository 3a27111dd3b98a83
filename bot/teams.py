"""The Microsoft Teams channel (Bot Framework), at ``/webhooks/teams/webhook``.

``TeamsInput`` and ``TeamsOutput`` extend Rasa's Bot Framework connector with
what a public bot needs:

- it starts without network access: Microsoft's signing keys are fetched on the
  first request (see ``bot.teams_auth``), and without configuration the webhook
  answers 503 while the rest of the server runs;
- every activity's token is verified (signature, issuer, audience, validity,
  ``serviceUrl``); refused requests are never processed;
- malformed activities get 400, bodies over 1 MB get 413;
- the visitor's text goes through ``visitor_text`` with the bot's ``<at>``
  mention removed, and the activity's locale is passed on as metadata;
- replies go to the activity's ``serviceUrl`` with the bot's own token;
  buttons become a Hero card whose ``imBack`` actions send the button's text.

Configuration comes from the environment only: ``TEAMS_APP_ID``,
``TEAMS_APP_PASSWORD`` and, to use other endpoints, ``TEAMS_OPENID_URL`` and
``TEAMS_TOKEN_URL``.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Set, Text, Tuple
from urllib.parse import quote, urlsplit

import aiohttp
from rasa.core.channels.botframework import BotFramework, BotFrameworkInput
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from yarl import URL

from bot.channels import MAX_MESSAGE_CHARS, conversation_id, visitor_text
from bot.limits import ChannelLimits, too_fast
from bot.teams_auth import HTTP_TIMEOUT_SECONDS, AuthError, ReplyToken, SigningKeys, TokenVerifier
from common import settings

logger = logging.getLogger(__name__)

DEFAULT_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
MAX_BODY_BYTES = 1024 * 1024
MAX_ID_CHARS = 512
MAX_LOCALE_CHARS = 35
_MENTION = re.compile(r"<at\b[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0]{2,}")


@dataclass(frozen=True)
class TeamsSettings:
    """The bot's registration and Microsoft's endpoints."""

    app_id: str
    app_password: str
    openid_url: str = DEFAULT_OPENID_URL
    token_url: str = DEFAULT_TOKEN_URL

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["TeamsSettings"]:
        """The settings from ``TEAMS_*`` variables; ``None`` when the bot is not registered."""
        env = settings.environment() if env is None else env
        app_id, password = env.get("TEAMS_APP_ID", "").strip(), env.get("TEAMS_APP_PASSWORD", "")
        if not app_id or not password:
            return None
        return cls(
            app_id,
            password,
            env.get("TEAMS_OPENID_URL", "").strip() or DEFAULT_OPENID_URL,
            env.get("TEAMS_TOKEN_URL", "").strip() or DEFAULT_TOKEN_URL,
        )


def parse_activity(body: bytes) -> Tuple[Optional[Dict[str, Any]], Optional[Tuple[int, str]]]:
    """Decode and check an activity; return it, or an HTTP error."""
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, (400, "The body must be a JSON activity.")
    if not isinstance(activity, dict):
        return None, (400, "The activity must be a JSON object.")
    if not isinstance(activity.get("type"), str):
        return None, (400, "The activity has no 'type'.")
    service_url = activity.get("serviceUrl")
    if (
        not isinstance(service_url, str)
        or urlsplit(service_url).scheme not in ("http", "https")
        or not urlsplit(service_url).netloc
    ):
        return None, (400, "The activity has no valid 'serviceUrl'.")
    if activity["type"] != "message":
        return activity, None
    for field in ("conversation", "from", "recipient"):
        value = activity.get(field)
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("id"), str)
            or not value["id"].strip()
            or len(value["id"]) > MAX_ID_CHARS
        ):
            return None, (400, f"The activity's '{field}' must have an 'id'.")
    text = activity.get("text")
    if text is not None and not isinstance(text, str):
        return None, (400, "The activity's 'text' must be a string.")
    if text and len(text) > MAX_MESSAGE_CHARS:
        return None, (413, f"The activity's 'text' must be at most {MAX_MESSAGE_CHARS} characters.")
    return activity, None


def strip_mentions(text: str, activity: Dict[str, Any]) -> str:
    """Remove the bot's ``<at>`` mention; other people's mentions keep their name."""
    bot = activity.get("recipient") or {}
    for entity in activity.get("entities") or []:
        if (
            isinstance(entity, dict)
            and entity.get("type") == "mention"
            and (entity.get("mentioned") or {}).get("id") == bot.get("id")
            and isinstance(entity.get("text"), str)
            and entity["text"]
        ):
            text = text.replace(entity["text"], " ")
    bot_name = (bot.get("name") or "").strip().lower()
    text = _MENTION.sub(lambda m: "" if bot_name and m.group(1).strip().lower() == bot_name else m.group(1), text)
    return _SPACES.sub(" ", text).strip()


def activity_locale(activity: Dict[str, Any]) -> Optional[str]:
    """The visitor's locale: the activity's, else the Teams client's."""
    candidates = [activity.get("locale")] + [
        entity.get("locale")
        for entity in activity.get("entities") or []
        if isinstance(entity, dict) and entity.get("type") == "clientInfo"
    ]
    for locale in candidates:
        if isinstance(locale, str) and 0 < len(locale.strip()) <= MAX_LOCALE_CHARS:
            return locale.strip()
    return None


def hero_card(text: str, buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A Hero card; each button sends its payload (a plain sentence) as the visitor's message."""
    actions = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "")
        value = str(button.get("payload") or title)
        if button.get("url"):
            actions.append({"type": "openUrl", "title": title, "value": button["url"]})
        elif title:
            actions.append({"type": "imBack", "title": title, "value": value})
    body = "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))
    return {"contentType": "application/vnd.microsoft.card.hero", "content": {"text": body, "buttons": actions}}


class TeamsOutput(BotFramework):
    """Replies to one activity, posted to its conversation at its ``serviceUrl``."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    def __init__(
        self, settings: TeamsSettings, activity: Dict[str, Any], token: ReplyToken, session: aiohttp.ClientSession
    ) -> None:
        super().__init__(
            settings.app_id,
            settings.app_password,
            activity["conversation"],
            activity["recipient"],
            activity["serviceUrl"],
        )
        self.visitor = activity["from"]
        self.reply_to_id = activity.get("id") if isinstance(activity.get("id"), str) else None
        self.locale = activity_locale(activity)
        self._token, self._session = token, session

    @property
    def activities_url(self) -> URL:
        """``{serviceUrl}/v3/conversations/{conversation id}/activities``, the id percent-encoded."""
        return URL(f"{self.global_uri}conversations/{quote(self.conversation['id'], safe='')}/activities", encoded=True)

    async def _get_headers(self) -> Optional[Dict[Text, Any]]:
        token = await self._token.get()
        if token is None:
            return None
        return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def prepare_message(self, recipient_id: Text, message_data: Dict[Text, Any]) -> Dict[Text, Any]:
        data = super().prepare_message(recipient_id, message_data)
        data["recipient"] = {key: self.visitor[key] for key in ("id", "name") if key in self.visitor}
        data["conversation"] = {"id": self.conversation["id"]}
        if self.reply_to_id:
            data["replyToId"] = self.reply_to_id
        if self.locale:
            data["locale"] = self.locale
        return data

    async def send(self, message_data: Dict[Text, Any]) -> None:
        """Post one activity; a failure is logged and the conversation goes on."""
        headers = await self._get_headers()
        if headers is None:
            logger.error("A Teams reply was dropped: no Bot Framework token.")
            return
        try:
            url = self.activities_url
            async with self._session.post(url, json=message_data, headers=headers) as answer:
                if answer.status == 401:
                    self._token.invalidate()
                if answer.status >= 300:
                    logger.error(
                        "The Bot Connector refused a reply (HTTP %s): %s", answer.status, (await answer.text())[:300]
                    )
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.error("Could not post a Teams reply to %s: %s", self.global_uri, error or type(error).__name__)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        # Teams renders a single newline as a space: each line becomes a paragraph.
        paragraphs = "\n\n".join(text.strip().split("\n"))
        await self.send(self.prepare_message(recipient_id, {"text": paragraphs, "textFormat": "markdown"}))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send(self.prepare_message(recipient_id, {"attachments": [hero_card(text, buttons)]}))


class TeamsInput(BotFrameworkInput):
    """Receives Teams activities; see the module's documentation.

    Rasa's ``BotFrameworkInput.__init__`` downloads Microsoft's keys at once, so
    it is not called: the keys are fetched by ``SigningKeys`` when first needed.
    """

    @classmethod
    def name(cls) -> Text:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TeamsInput":
        if credentials:
            logger.warning(
                "The Teams channel reads its settings from TEAMS_* variables; "
                "the entries in credentials.yml are ignored."
            )
        return cls(TeamsSettings.from_env())

    def __init__(self, settings: Optional[TeamsSettings]) -> None:
        self.settings = settings
        self.app_id = settings.app_id if settings else None
        self.app_password = settings.app_password if settings else None
        self.verifier: Optional[TokenVerifier] = None
        self.reply_token: Optional[ReplyToken] = None
        self._tasks: Set[asyncio.Task] = set()
        self.limits = ChannelLimits(per_address=0)  # activities come from Microsoft: per visitor only
        if settings:
            self.verifier = TokenVerifier(settings.app_id, SigningKeys(settings.openid_url))
            self.reply_token = ReplyToken(settings.token_url, settings.app_id, settings.app_password)
        else:
            logger.info(
                "Microsoft Teams is not configured (TEAMS_APP_ID, TEAMS_APP_PASSWORD); its webhook answers 503."
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The ``/`` health and ``/webhook`` routes."""
        webhook = Blueprint(f"teams_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.settings is not None})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return webhook

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """Check one activity and, when it is a message, answer it in the background."""
        if self.settings is None or self.verifier is None:
            return _error(
                503, "Microsoft Teams is not configured on this server: set TEAMS_APP_ID and TEAMS_APP_PASSWORD."
            )
        if len(request.body or b"") > MAX_BODY_BYTES:
            return _error(413, f"The activity must be at most {MAX_BODY_BYTES} bytes.")
        try:
            token = await self.verifier.verify(request.headers.get("Authorization"))
        except AuthError as error:
            logger.warning("Refused a Teams request: %s", error.message)
            return _error(error.status, error.message)
        activity, problem = parse_activity(request.body or b"")
        if problem:
            return _error(*problem)
        try:
            self.verifier.check_activity(token, activity)
        except AuthError as error:
            logger.warning("Refused a Teams activity: %s", error.message)
            return _error(error.status, error.message)
        message = self.user_message(activity) if activity["type"] == "message" else None
        if message is not None:
            task = asyncio.create_task(self._handle(message, on_new_message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return response.empty(status=202)

    def user_message(self, activity: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """What the visitor said, ready for Rasa; ``None`` when there is no text."""
        text = visitor_text(strip_mentions(activity.get("text") or "", activity))
        if not text.strip():
            return None
        locale = activity_locale(activity)
        return {
            "activity": activity,
            "text": text,
            "sender": conversation_id(self.name(), activity["from"]["id"].strip()),
            "metadata": {"locale": locale} if locale else {},
        }

    async def _handle(self, message: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                output = TeamsOutput(self.settings, message["activity"], self.reply_token, session)
                if self.limits.check(message["sender"]):  # too many messages: a polite word, nothing processed
                    polite = too_fast(message["metadata"].get("locale"), message["text"])
                    await output.send_text_message(message["sender"], polite)
                    return
                await on_new_message(
                    UserMessage(
                        message["text"],
                        output,
                        message["sender"],
                        input_channel=self.name(),
                        metadata=message["metadata"],
                    )
                )
        except Exception:  # one conversation's failure must not affect the others
            logger.exception("Could not handle a Teams message from %s", message["sender"])


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)
