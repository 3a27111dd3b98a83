"""The website channel's socket.io protocol, spoken over a real WebSocket.

Rasa runs for real (see conftest.py); these tests talk Engine.IO 4 / Socket.IO 5
to it the way the widget does, and send what a broken or hostile client could.
They need no browser.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import websockets

from testkit.servers import http, tracker_url

MALFORMED = [
    "4x",  # not a Socket.IO packet
    "42{",  # broken JSON
    '42"just a string"',  # an event that is not a list
    '42[{"name": "user_uttered"}]',  # an event whose name is an object
    '42["disconnect"]',  # a reserved name
    '42["no_such_event", 1]',  # an unknown event
    '42["user_uttered", "hello"]',  # a message that is not an object
    '42["user_uttered", {"message": 5, "session_id": "%s"}]',
    '42["user_uttered", {"message": "hi", "session_id": "short"}]',
    '42["user_uttered", {"message": "hi", "session_id": "%s", "metadata": "{not json"}]',
    '42["user_uttered", {"message": "%s", "session_id": "%s"}]' % ("x" * 30_000, "%s"),
    '45-["user_uttered",{"_placeholder":true,"num":0}]',  # a binary event
    b"\x00\x01binary",
]
#: Frames that are not even Engine.IO packets: dropped, and the connection goes on.
NOT_ENGINE_IO = ["", "x", "9abc", "0"]


class Client:
    """A minimal Socket.IO client on a WebSocket, as the widget speaks it."""

    def __init__(self, base_url: str, origin: Optional[str] = None) -> None:
        self.rasa_url, self.origin = base_url, origin
        self.url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws: Any = None
        self.open: Dict[str, Any] = {}

    async def __aenter__(self) -> "Client":
        self.ws = await websockets.connect(self.url, origin=self.origin)
        frame = await self.ws.recv()
        assert frame.startswith("0"), frame
        self.open = json.loads(frame[1:])
        await self.ws.send("40")
        frame = await self.ws.recv()
        assert frame.startswith("40"), frame
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.ws.close()

    async def emit(self, event: str, data: Any) -> None:
        await self.ws.send("42" + json.dumps([event, data]))

    async def next_event(self, timeout: float = 20) -> Tuple[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            if frame == "2":  # the server's ping
                await self.ws.send("3")
            elif frame.startswith("42"):
                name, *args = json.loads(frame[2:])
                return name, (args[0] if args else None)

    async def events_until(self, name: str, timeout: float = 20) -> List[Tuple[str, Any]]:
        seen = []
        while not seen or seen[-1][0] != name:
            seen.append(await self.next_event(timeout))
        return seen

    async def session(self, session_id: Optional[str]) -> Tuple[List[Dict[str, Any]], str]:
        await self.emit("session_request", {"session_id": session_id})
        events = dict(await self.events_until("session_confirm"))
        return events.get("session_history"), events["session_confirm"]

    async def say(self, session_id: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict]:
        """Sends a message; returns the bot's messages once all that the tracker logged has arrived."""
        before = tracker_events(self.rasa_url, session_id)
        await self.emit("user_uttered", {"message": text, "session_id": session_id, "metadata": metadata or {}})
        replies: List[Dict] = []
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                name, data = await self.next_event(timeout=0.3)
                assert name == "bot_uttered", (name, data)
                replies.append(data)
                continue
            except asyncio.TimeoutError:
                pass
            expected = messages_sent(before, tracker_events(self.rasa_url, session_id))
            if expected is not None and len(replies) >= expected:
                return replies
        raise AssertionError(f"no complete answer to {text!r} within 30s: {replies}")


def tracker_events(rasa_url: str, session_id: str) -> List[Dict[str, Any]]:
    return http("GET", tracker_url(rasa_url, session_id, "web"))[1].get("events") or []


def messages_sent(before: List[Dict[str, Any]], after: List[Dict[str, Any]]) -> Optional[int]:
    """How many ``bot_uttered`` messages the turn between two trackers sent, once it is over."""
    users = [event for event in after if event["event"] == "user"]
    if len(users) <= sum(1 for event in before if event["event"] == "user"):
        return None
    if not (after[-1]["event"] == "action" and after[-1]["name"] == "action_listen"):
        return None
    bots = [event for event in after[len(before) :] if event["event"] == "bot"]
    return sum(max(1, len((event.get("text") or "").strip().split("\n\n"))) for event in bots)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


def test_engine_io_handshake_and_sessions(assistant):
    async def scenario() -> None:
        # the widget runs on the customer's website: another origin than the assistant's
        async with Client(assistant.url, origin="https://www.customer.example") as client:
            assert {"sid", "pingInterval", "pingTimeout"} <= set(client.open)
            history, session_id = await client.session(None)
            assert history == [] and len(session_id) >= 16  # a new session gets a random id
            history, refused = await client.session("../../etc")
            assert refused != "../../etc"  # not a usable id: a fresh one instead
            made_up = uuid.uuid4().hex
            history, confirmed = await client.session(made_up)
            assert confirmed != made_up and history == []  # ids are the server's to issue
            history, again = await client.session(confirmed)
            assert again == confirmed  # an id it issued is taken back (a reload)
            replies = await client.say(confirmed, "Hallo", {"locale": "pl-PL"})
            assert replies and "Dzień dobry" in replies[0]["text"]
            await client.say(confirmed, "We need fewer repetitive support tickets.")

    run(scenario())


def test_the_history_comes_back_with_the_session(assistant):
    async def scenario() -> None:
        async with Client(assistant.url) as first:
            _, session_id = await first.session(None)
            await first.say(session_id, "Hi, our support team drowns in repetitive tickets every day.")
            replies = await first.say(session_id, "I'm the one who signs.")
        async with Client(assistant.url) as second:  # a reload: a new connection, the same session
            history, confirmed = await second.session(session_id)
        assert confirmed == session_id
        assert history[0] == {"from": "visitor", "text": "Hi, our support team drowns in repetitive tickets every day."}
        assert {"from": "visitor", "text": "I'm the one who signs."} in history
        assert history[-1]["from"] == "bot" and history[-1]["text"] == replies[-1]["text"]
        slots = assistant.slots(session_id, "web")
        assert slots["authority"] == "decision_maker"

        # A conversation held on another channel is not shown to whoever asks for its id.
        other = f"rest-{uuid.uuid4().hex}"
        assistant.say(other, "Hi, we need help with our support tickets, I'm jane@example.com")
        async with Client(assistant.url) as snooper:
            history, _ = await snooper.session(other)
        assert history == []

    run(scenario())


def test_malformed_packets_get_a_polite_error_and_harm_nothing(assistant):
    async def scenario() -> None:
        async with Client(assistant.url) as bad, Client(assistant.url) as good:
            _, bad_id = await bad.session(None)
            _, good_id = await good.session(None)
            await good.say(good_id, "Hi, we get far too many repetitive support tickets.")
            for frame in MALFORMED:
                if isinstance(frame, str) and "%s" in frame:
                    frame = frame % bad_id
                await bad.ws.send(frame)
                name, error = await bad.next_event(timeout=10)
                assert name == "error", (frame[:60], name, error)
                assert error["error"] and error["code"], error
            for frame in NOT_ENGINE_IO:
                await bad.ws.send(frame)
                await bad.emit("no_such_event", frame)  # answered: the connection is still there
                assert (await bad.next_event(timeout=10))[0] == "error", repr(frame)
            # the other conversation goes on, and so does the one that sent the garbage
            replies = await good.say(good_id, "Yes, I'm the one who signs.")
            assert replies
            assert assistant.slots(good_id, "web")["authority"] == "decision_maker"
            replies = await bad.say(bad_id, "Hello, we need help with our support inbox.")
            assert replies and not any("Traceback" in r.get("text", "") for r in replies)
        status, body = http("GET", f"{assistant.url}/webhooks/socketio/")
        assert status == 200 and body == {"status": "ok"}

    run(scenario())


def test_the_widget_and_demo_are_served(assistant):
    import urllib.request

    with urllib.request.urlopen(f"{assistant.url}/webhooks/socketio/widget.js") as resp:
        assert resp.headers["Content-Type"].startswith("application/javascript")
        assert b"session_request" in resp.read()
    with urllib.request.urlopen(f"{assistant.url}/webhooks/socketio/demo") as resp:
        assert resp.headers["Content-Type"].startswith("text/html")
        assert b'src="/webhooks/socketio/widget.js"' in resp.read()
