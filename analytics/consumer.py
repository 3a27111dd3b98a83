"""The event consumer: Rasa's events from RabbitMQ into the statistics, each counted once.

It declares the same fanout exchange Rasa's pika broker publishes to and a
durable queue bound to it, so events published while it is down wait for it.
A message is acknowledged only once its event is written (or found already
written); a robust connection reconnects, and re-subscribes, after the broker
restarts or drops the connection. A message that is not a Rasa event is
logged and dropped; a database that does not answer puts the message back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Optional

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from analytics import store
from common import settings

logger = logging.getLogger(__name__)

#: Seconds between attempts to reach the broker, and before a message the database refused comes back.
RETRY_SECONDS = 2.0


@dataclass
class Consumer:
    """Reads one queue into the statistics' database."""

    engine: Engine
    url: str
    exchange: str
    queue: str
    prefetch: int = 100
    counted: int = 0
    duplicates: int = 0
    dropped: int = 0
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    handling: int = 0

    async def handle(self, message: AbstractIncomingMessage) -> None:
        """Record one message, then acknowledge it."""
        self.handling += 1
        try:
            await self._handle(message)
        finally:
            self.handling -= 1

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            new = store.record_message(self.engine, message.body)
        except (ValueError, UnicodeDecodeError) as error:
            self.dropped += 1
            logger.warning("Dropped a message that is not a Rasa event: %s", error)
            await message.reject(requeue=False)
            return
        except SQLAlchemyError as error:
            logger.warning("The statistics' database refused an event (%s); it will come back", error)
            await asyncio.sleep(RETRY_SECONDS)
            await message.nack(requeue=True)
            return
        if new:
            self.counted += 1
        else:
            self.duplicates += 1
        await message.ack()

    async def connect(self) -> aio_pika.abc.AbstractRobustConnection:
        """A robust connection, retried until the broker answers (or the consumer is stopped)."""
        while True:
            try:
                return await aio_pika.connect_robust(self.url, reconnect_interval=RETRY_SECONDS)
            except (ConnectionError, OSError, aio_pika.exceptions.AMQPError) as error:
                if self.stopping.is_set():
                    raise
                logger.warning("RabbitMQ at %s does not answer (%s); trying again", _safe(self.url), error)
                await asyncio.sleep(RETRY_SECONDS)

    async def run(self, ready: Optional[asyncio.Event] = None) -> None:
        """Consume until :meth:`stop`."""
        connection = await self.connect()
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            # Declared as Rasa declares it (fanout, not durable), so either may come first.
            exchange = await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(self.queue, durable=True)
            await queue.bind(exchange, "")
            tag = await queue.consume(self.handle)
            logger.info("Counting events from queue %s of exchange %s", self.queue, self.exchange)
            if ready:
                ready.set()
            await self.stopping.wait()
            # No new deliveries; let the messages being written finish (the others come back to the queue).
            await queue.cancel(tag)
            for _ in range(50):
                if not self.handling:
                    break
                await asyncio.sleep(0.1)
        finally:
            await connection.close()

    def stop(self) -> None:
        self.stopping.set()


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    return f"{scheme}://{rest.split('@', 1)[1]}"


def from_settings() -> Consumer:
    """The consumer of ``RABBITMQ_URL``, ``RASA_EVENTS_EXCHANGE`` and the first of ``RASA_EVENTS_QUEUES``."""
    queues = settings.events_queues()
    if not queues:
        raise ValueError("RASA_EVENTS_QUEUES names no queue")
    return Consumer(store.engine(), settings.rabbitmq_url(), settings.events_exchange(), queues[0])
