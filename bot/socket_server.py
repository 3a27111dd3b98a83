"""A socket.io server that answers malformed packets politely.

python-socketio decodes whatever a client sends and lets a broken packet raise
inside its message handler (``ValueError`` for ``4x``, ``TypeError`` for an
event whose name is an object), which ends up as a traceback in the log.
``PoliteAsyncServer`` checks every packet first: a packet that is not valid
Socket.IO text, a binary packet, or an event without a name gets an ``error``
event on that connection and is dropped, and so is an event that uses a
reserved name (``connect``, ``disconnect``). One level down, an Engine.IO
frame that python-engineio cannot decode (empty, or of an unknown type, which
would end the connection with a traceback) is dropped with a warning. Nothing
else is affected: other connections, and later packets on the same one, go on
as usual.
"""

from __future__ import annotations

import logging
from typing import Any, Optional, Text, Type

from socketio import AsyncServer, packet

logger = logging.getLogger(__name__)

#: The event a client receives when one of its packets is refused.
ERROR_EVENT = "error"
_ACCEPTED_TYPES = (packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK)
#: Engine.IO packet types: open, close, ping, pong, message, upgrade, noop.
ENGINE_IO_TYPES = "0123456"
#: Events the server raises itself; a client may not send them.
RESERVED_EVENTS = ("connect", "disconnect", "connect_error")


def frame_problem(data: Any) -> Optional[Text]:
    """Why a WebSocket frame is not an Engine.IO packet python-engineio can decode, or ``None``."""
    if isinstance(data, bytes):
        return None  # a binary message: Engine.IO passes it on, and the Socket.IO check refuses it
    if not isinstance(data, str) or not data or data[0] not in ENGINE_IO_TYPES:
        return "The frame is not an Engine.IO packet."
    return None


def polite_websocket(driver: Type[Any]) -> Type[Any]:
    """The async driver's WebSocket class, skipping the frames ``frame_problem`` refuses."""

    class PoliteWebSocket(driver):
        async def wait(self) -> Any:
            while True:
                data = await super().wait()
                problem = frame_problem(data)
                if problem is None:
                    return data
                logger.warning("Dropped a WebSocket frame: %s", problem)

    return PoliteWebSocket


def packet_problem(data: Any) -> Optional[Text]:
    """Why an Engine.IO message is not an acceptable Socket.IO packet, or ``None``."""
    if not isinstance(data, str):
        return "Binary messages are not accepted."
    try:
        decoded = packet.Packet(encoded_packet=data)
    except Exception:  # the decoder raises ValueError, TypeError, IndexError…
        return "The message is not a valid Socket.IO packet."
    if decoded.packet_type not in _ACCEPTED_TYPES:
        return "Only connect, disconnect, event and acknowledgement packets are accepted."
    if decoded.packet_type == packet.EVENT:
        event = decoded.data
        if not isinstance(event, list) or not event or not isinstance(event[0], str):
            return "An event must be a list that starts with the event's name."
        if event[0] in RESERVED_EVENTS:
            return f"'{event[0]}' is a reserved event name."
    return None


class PoliteAsyncServer(AsyncServer):
    """``socketio.AsyncServer`` that refuses malformed packets with an ``error`` event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        drivers = getattr(self.eio, "_async", None)  # python-engineio's async mode: its WebSocket class
        if isinstance(drivers, dict) and drivers.get("websocket"):
            self.eio._async = dict(drivers, websocket=polite_websocket(drivers["websocket"]))

    async def _handle_eio_message(self, eio_sid: Text, data: Any) -> None:
        problem = packet_problem(data)
        if problem is None:
            await super()._handle_eio_message(eio_sid, data)
            return
        logger.warning("Refused a socket.io packet from %s: %s", eio_sid, problem)
        for namespace in list(self.manager.get_namespaces()):
            sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
            if sid is not None and self.manager.is_connected(sid, namespace):
                await self.emit(ERROR_EVENT, {"error": problem, "code": "bad_packet"}, to=sid, namespace=namespace)
