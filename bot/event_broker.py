"""Rasa's pika event broker, publishing the events in batches from one task.

Rasa's ``PikaEventBroker`` starts a task per event, and each task publishes its
message through the channel's lock, waiting for the frames to be written and
the socket drained before the next task may go: one message per turn of the
event loop. In a busy Rasa process the loop turns more slowly than visitors'
messages make events, and the waiting tasks pile up (several thousand after a
minute of load, tens of MB). Here the events wait in a queue, in order, and
one task publishes them in batches, each batch a RabbitMQ transaction: the
broker has taken a batch once it commits (persistent messages on durable
queues), and a batch that fails is published again once the connection is
back, before the events that came after it. Nothing is dropped unless
``should_keep_unpublished_messages`` is false, as with Rasa's broker; a batch
whose commit was lost on the way may reach the queues twice (consumers count
each event once: ``analytics/store.py``). The exchange, the queues, the
messages (body, headers, persistence) and the connection are Rasa's own.

    event_broker:
      type: bot.event_broker.PikaEventBroker
      url: 127.0.0.1      # and every other key of Rasa's ``type: pika`` broker
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Text, Tuple

import aio_pika
import aiormq
from rasa.core.brokers import pika

logger = logging.getLogger(__name__)

#: The most events in one transaction.
BATCH = 500
#: How long closing the broker waits for the queued events to be published.
CLOSE_SECONDS = 10.0

Outgoing = Tuple[Dict[Text, Any], Optional[Dict[Text, Text]]]


class PikaEventBroker(pika.PikaEventBroker):
    """``PikaEventBroker`` whose events are published in order, in batches, by one task."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: Deque[Outgoing] = deque()
        self._waiting = asyncio.Event()
        self._published = asyncio.Event()
        self._channel: Optional[aio_pika.abc.AbstractRobustChannel] = None
        self._selected: Optional[aiormq.abc.AbstractChannel] = None
        self._pump: Optional[asyncio.Task] = None

    async def connect(self) -> None:
        """Rasa's connection, exchange and queues, then the channel the batches go through."""
        await super().connect()
        assert self._connection is not None
        self._channel = await self._connection.channel(publisher_confirms=False)
        self._pump = self._loop.create_task(self._publish_queued())

    def publish(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]] = None) -> None:
        """Queues ``event`` for publication (with ``headers`` on its message)."""
        self._outgoing.append((event, headers))
        self._waiting.set()

    @property
    def queued(self) -> int:
        """Events not yet taken by the broker."""
        return len(self._outgoing)

    async def _publish_queued(self) -> None:
        """Publishes the queued events, a batch at a time, until cancelled."""
        failures = 0
        while True:
            if not self._outgoing:
                self._published.set()
                self._waiting.clear()
                await self._waiting.wait()
            self._published.clear()
            batch = [self._outgoing.popleft() for _ in range(min(BATCH, len(self._outgoing)))]
            try:
                await self._publish_batch(batch)
            except asyncio.CancelledError:
                self._outgoing.extendleft(reversed(batch))
                raise
            except Exception as error:  # the connection is down or the channel was closed
                self._selected = None
                if self.should_keep_unpublished_messages:
                    self._outgoing.extendleft(reversed(batch))
                if failures == 0:
                    kept = (
                        f"{len(self._outgoing)} events are kept and published again once it answers"
                        if self.should_keep_unpublished_messages
                        else "they are dropped (should_keep_unpublished_messages: false)"
                    )
                    logger.error(f"Publishing {len(batch)} events to RabbitMQ failed ({error!r}); {kept}.")
                failures += 1
                await asyncio.sleep(self._retry_delay_in_seconds)
            else:
                if failures:
                    logger.info(f"RabbitMQ takes the events again ({len(self._outgoing)} still queued).")
                failures = 0

    async def _publish_batch(self, batch: List[Outgoing]) -> None:
        """One transaction: every event of ``batch``, in order, then the commit."""
        assert self._channel is not None
        channel = self._channel.channel  # raises while the connection is being restored
        if channel is not self._selected:  # a new channel after a reconnection
            await channel.tx_select()
            self._selected = channel
        for event, headers in batch:
            message = self._message(event, headers)
            await channel.basic_publish(
                message.body,
                exchange=self.exchange_name,
                routing_key="",
                properties=message.properties,
                wait=False,
            )
        await channel.tx_commit()

    async def close(self) -> None:
        """Publishes what is queued (for at most ``CLOSE_SECONDS``), then closes Rasa's connection."""
        if self._pump is not None:
            if self._outgoing or not self._published.is_set():
                try:
                    await asyncio.wait_for(self._published.wait(), CLOSE_SECONDS)
                except asyncio.TimeoutError:
                    logger.error(f"{len(self._outgoing)} events were not published to RabbitMQ before closing.")
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None
        await super().close()
