"""The website channel: Rasa's socket.io protocol, hardened, plus the chat widget.

``WebChatInput`` speaks Rasa's socket.io protocol (``session_request`` →
``session_confirm``, ``user_uttered`` → ``bot_uttered``, session persistence)
and adds what a public endpoint needs:

- malformed packets or events get a polite ``error`` event instead of an
  exception, and never affect other conversations;
- text typed as ``/intent{...}`` stays ordinary text;
- the message ``metadata`` (the browser's locale) reaches the NLU;
- session ids are issued by the server (``web_sessions``: 128 random bits,
  signed); a browser may come back with the id it was given, any other is
  replaced, and a socket may only send messages for the session confirmed to
  it; the conversation id is the session id prefixed with ``web_``;
- after ``session_request`` with a known session id, a ``session_history``
  event carries the conversation so far, so that a page reload or a move to
  another page of the site shows it again, replies included;
- each session and each network address may send only so many messages a
  minute; beyond that the socket gets a polite ``error`` event (code
  ``rate_limited``) in the visitor's language;
- only the websites in ``WIDGET_ORIGINS`` may connect (any, by default);
- during a live hand-off (``bot.live_relay``), the rep's messages carry a
  ``live`` marker with the rep's name, and the visitor's go to the Slack thread.

It also serves the widget script and a demo page:

- ``/webhooks/socketio/widget.js``: the widget (one ``<script>`` tag);
- ``/webhooks/socketio/demo``: a fictitious company's website using it.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage, decode_jwt
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered, Event, SessionStarted, UserUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import live_relay, web_sessions
from bot.channels import MAX_MESSAGE_CHARS, conversation_id, visitor_text
from bot.limits import ChannelLimits, apply_request_limit, too_fast
from bot.socket_server import ERROR_EVENT, PoliteAsyncServer
from common import live_handoff, settings

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
HISTORY_EVENT = "session_history"
MAX_HISTORY_ENTRIES = 200
MAX_METADATA_CHARS = 10_000
#: The largest socket.io packet (a message with its metadata fits well within it).
MAX_PACKET_BYTES = 64 * 1024
#: Session ids are random tokens: long enough not to be guessed, safe as room names.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
_WORD_JOINER = "\u2060"


def valid_session_id(value: Any) -> Optional[Text]:
    """``value`` stripped if it is an acceptable session id, else ``None``."""
    if isinstance(value, str) and SESSION_ID.fullmatch(value.strip()):
        return value.strip()
    return None


def parse_metadata(value: Any) -> Dict[Text, Any]:
    """The message metadata as a dict (a JSON string is accepted too); raise ``ValueError``."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("'metadata' must be a JSON object.") from None
    if not isinstance(value, dict):
        raise ValueError("'metadata' must be a JSON object.")
    if len(json.dumps(value, default=str)) > MAX_METADATA_CHARS:
        raise ValueError(f"'metadata' must be at most {MAX_METADATA_CHARS} characters as JSON.")
    return value


def parse_event(data: Any, session_persistence: bool, metadata_key: Text = "metadata") -> Dict[Text, Any]:
    """Validate a ``user_uttered`` payload; raise ``ValueError`` with the reason."""
    if not isinstance(data, dict):
        raise ValueError("The message must be a JSON object.")
    message = data.get("message", "")
    if not isinstance(message, str):
        raise ValueError("'message' must be a string.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValueError(f"'message' must be at most {MAX_MESSAGE_CHARS} characters.")
    metadata = parse_metadata(data.get(metadata_key))
    session_id = valid_session_id(data.get("session_id"))
    if session_persistence and session_id is None:
        raise ValueError("'session_id' must be the id confirmed by 'session_confirm'.")
    return {"message": visitor_text(message), "metadata": metadata, "session_id": session_id}


def transcript(events: Iterable[Event], channel: Text) -> List[Dict[Text, Any]]:
    """What the widget shows of a conversation: its latest session, as the channel sent it.

    Bot texts are split into bubbles the way ``SocketIOOutput`` splits them,
    with the buttons on the last one. A conversation that has messages from
    another channel yields nothing: its transcript is not this channel's to show.
    """
    entries: List[Dict[Text, Any]] = []
    for event in events:
        if isinstance(event, SessionStarted):
            entries = []
        elif isinstance(event, UserUttered):
            if event.input_channel != channel:
                return []
            if event.text:
                entries.append({"from": "visitor", "text": event.text.replace(_WORD_JOINER, "")})
        elif isinstance(event, BotUttered) and live_handoff.marker({"event": "bot", "metadata": event.metadata}):
            entries.append(live_entry(event.metadata[live_handoff.KEY], event.text))
        elif isinstance(event, BotUttered) and event.text:
            parts = event.text.strip().split("\n\n") or [event.text]
            entries += [{"from": "bot", "text": part} for part in parts]
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in (event.data or {}).get("buttons") or []
                if isinstance(b, dict)
            ]
            if buttons:
                entries[-1]["buttons"] = buttons
    return entries[-MAX_HISTORY_ENTRIES:]


def live_entry(live: Dict[Text, Any], text: Optional[Text]) -> Dict[Text, Any]:
    """A live hand-off's message as the widget shows it: a rep's words, or who is answering now."""
    marker = live_handoff.public(live)
    if marker["kind"] == live_handoff.REP:
        return {"from": "rep", "name": marker["name"], "text": text or ""}
    return {"from": "notice", "live": marker["kind"], "name": marker["name"], "text": ""}


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, sent in the channel's namespace."""

    def __init__(self, sio: PoliteAsyncServer, bot_message_evt: Text, namespace: Optional[Text]) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace
        #: How many messages went out (none: the conversation is paused, perhaps for a live hand-off).
        self.sent = 0

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """A live hand-off's message goes out whole, with its ``live`` marker (the rep's name)."""
        live = message.get(live_handoff.KEY)
        if isinstance(live, dict) and live.get("kind") in live_handoff.KINDS:
            entry = live_entry(live, message.get("text"))
            await self._send_message(recipient_id, {"text": entry["text"], "live": live_handoff.public(live)})
            return
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent += 1
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, namespace=self.namespace)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """Sends a custom payload as the message itself."""
        await self._send_message(recipient_id, json_message)


class WebChatBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint that tells the channel which app it joined."""

    def __init__(self, channel: "WebChatInput", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.channel = channel

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        self.ctx.channel.app = app
        apply_request_limit(app)
        super().register(app, options)


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with request validation, history and the widget's files."""

    app: Optional[Sanic] = None

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebChatInput":
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", True),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
        )

    def get_output_channel(self) -> Optional[OutputChannel]:
        """The output for messages the server sends on its own (e.g. after a hand-back)."""
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt, self.namespace)

    def _authorized(self, auth: Any) -> bool:
        if not self.jwt_key:
            return True
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            return False
        try:
            return bool(decode_jwt(token, self.jwt_key, self.jwt_algorithm))
        except Exception as error:  # an invalid token is the visitor's problem, not the server's
            logger.warning("Refused a web chat connection: %s", error)
            return False

    async def history(self, session_id: Text) -> List[Dict[Text, Any]]:
        """The transcript of a web conversation, or ``[]`` when there is none to show."""
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return []
        try:
            tracker = await store.retrieve(conversation_id(self.name(), session_id))
        except Exception as error:
            logger.warning("Could not read the conversation %s: %s", session_id, error)
            return []
        return transcript(tracker.events, self.name()) if tracker else []

    async def relay_if_live(self, sender: Text, text: Text) -> None:
        """While a rep talks to the visitor live, the visitor's message goes to the Slack thread too."""
        store = getattr(getattr(getattr(self.app, "ctx", None), "agent", None), "tracker_store", None)
        if store is None or not text.strip():
            return
        try:
            tracker = await store.retrieve(sender)
        except Exception as error:
            logger.warning("Could not read the conversation %s: %s", sender, error)
            return
        session = live_relay.active_session(tracker.events) if tracker and tracker.is_paused() else None
        if session:
            await live_relay.to_thread(session, text)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # The widget runs on the company's own websites: WIDGET_ORIGINS, or any ([] turns the check off).
        origins = settings.widget_origins()
        sio = PoliteAsyncServer(
            async_mode="sanic",
            cors_allowed_origins=[] if origins == ["*"] else origins,
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        self.sio = sio
        limits = ChannelLimits()
        confirmed: Dict[Text, Text] = {}  # socket id -> the session id confirmed to it
        addresses: Dict[Text, Text] = {}  # socket id -> the visitor's network address
        namespace = self.namespace
        blueprint = WebChatBlueprint(self, sio, self.socketio_path, "socketio_webhook", __name__)

        async def refuse(sid: Text, reason: Text, code: Text) -> None:
            await sio.emit(ERROR_EVENT, {"error": reason, "code": code}, to=sid, namespace=namespace)

        async def connect(sid: Text, environ: Any = None, auth: Any = None, *_: Any) -> bool:
            request = environ.get("sanic.request") if isinstance(environ, dict) else None
            addresses[sid] = (getattr(request, "remote_addr", "") or getattr(request, "ip", "")) if request else ""
            return self._authorized(auth)

        async def disconnect(sid: Text, *_: Any) -> None:
            confirmed.pop(sid, None)
            addresses.pop(sid, None)
            logger.debug("Web chat connection %s closed.", sid)

        async def session_request(sid: Text, data: Any = None, *_: Any) -> None:
            wanted = web_sessions.verified(data.get("session_id")) if isinstance(data, dict) else None
            session_id = wanted or web_sessions.issue()
            confirmed[sid] = session_id
            if self.session_persistence:
                sio.enter_room(sid, conversation_id(self.name(), session_id), namespace=namespace)
                past = await self.history(session_id) if wanted else []
                await sio.emit(HISTORY_EVENT, past, to=sid, namespace=namespace)
            await sio.emit("session_confirm", session_id, to=sid, namespace=namespace)

        async def handle_message(sid: Text, data: Any = None, *_: Any) -> None:
            try:
                event = parse_event(data, self.session_persistence, self.metadata_key)
            except ValueError as error:
                await refuse(sid, str(error), "bad_message")
                return
            if self.session_persistence and event["session_id"] != confirmed.get(sid):
                await refuse(sid, "'session_id' must be the id confirmed by 'session_confirm'.", "unknown_session")
                return
            session = event["session_id"] if self.session_persistence else sid
            wait = limits.check(session, addresses.get(sid, ""))
            if wait:
                message = too_fast(event["metadata"].get("locale"))
                await sio.emit(
                    ERROR_EVENT,
                    {"error": message, "code": "rate_limited", "retry_after": wait},
                    to=sid,
                    namespace=namespace,
                )
                return
            sender = conversation_id(self.name(), session)
            if self.session_persistence:
                sio.enter_room(sid, sender, namespace=namespace)
            output = WebChatOutput(sio, self.bot_message_evt, namespace)
            message = UserMessage(
                event["message"],
                output,
                sender,
                input_channel=self.name(),
                metadata=event["metadata"],
            )
            try:
                await on_new_message(message)
            except Exception:  # one bad message must not affect other conversations
                logger.exception("Could not handle a web chat message from %s", sender)
                await refuse(sid, "The assistant could not handle this message.", "failed")
                return
            if not output.sent:  # only a paused conversation answers nothing: a rep may be talking live
                await self.relay_if_live(sender, event["message"])

        async def unknown_event(event: Text, sid: Text, *_: Any) -> None:
            await refuse(sid, f"Unknown event {event[:40]!r}.", "unknown_event")

        sio.on("connect", connect, namespace=namespace)
        sio.on("disconnect", disconnect, namespace=namespace)
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        sio.on("*", unknown_event, namespace=namespace)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/widget.js", methods=["GET"])
        async def widget(_: Request) -> HTTPResponse:
            return await response.file(
                STATIC / "widget.js",
                mime_type="application/javascript; charset=utf-8",
                headers={"Cache-Control": "no-cache"},
            )

        @blueprint.route("/demo", methods=["GET"])
        async def demo(_: Request) -> HTTPResponse:
            return await response.file(STATIC / "demo.html", mime_type="text/html; charset=utf-8")

        return blueprint
