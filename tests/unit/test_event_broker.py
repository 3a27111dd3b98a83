"""The pika event broker of bot/event_broker.py, against the local RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Dict, List

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.event_broker import PikaEventBroker
from common.scaling import EVENT_BROKER_TYPE
from testkit.scaled import RABBITMQ, unreachable

pytestmark = pytest.mark.skipif(bool(unreachable((RABBITMQ,))), reason="RabbitMQ is not running at 127.0.0.1:5672")


def _events(sender: str, count: int) -> List[Dict[str, Any]]:
    return [
        {"sender_id": sender, "event": "user", "timestamp": 1000.0 + i, "text": f"message {i} <b>ż</b>'; --"}
        for i in range(count)
    ]


async def _broker(tag: str, **kwargs: Any) -> PikaEventBroker:
    config = EndpointConfig(
        type=EVENT_BROKER_TYPE,
        url="127.0.0.1",
        port=5672,
        username="guest",
        password="guest",
        exchange_name=f"unit-{tag}",
        queues=[f"unit-{tag}-q"],
        **kwargs,
    )
    broker = await EventBroker.create(config, asyncio.get_running_loop())
    assert isinstance(broker, PikaEventBroker), "Rasa loads the broker the endpoints name"
    return broker


async def _taken(broker: PikaEventBroker) -> None:
    """Until the broker has nothing queued (taken by RabbitMQ, or dropped), for at most 5 s."""
    for _ in range(100):
        if broker.queued == 0:
            return
        await asyncio.sleep(0.05)


async def _recreate(channel: Any, tag: str) -> None:
    """The test's exchange and queue, declared and bound again."""
    import aio_pika

    exchange = await channel.declare_exchange(f"unit-{tag}", aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(f"unit-{tag}-q", durable=True)
    await queue.bind(exchange, "")


async def _drain(tag: str, expected: int, seconds: float = 30) -> List[Any]:
    """The messages of the test's queue (until ``expected`` came, or ``seconds`` passed); the queue is deleted."""
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ)
    received: List[Any] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"unit-{tag}-q", durable=True)
        deadline = asyncio.get_running_loop().time() + seconds
        while len(received) < expected and asyncio.get_running_loop().time() < deadline:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            received.append(message)
        await asyncio.sleep(0.3)  # anything more than expected would be here by now
        while (extra := await queue.get(no_ack=True, fail=False)) is not None:
            received.append(extra)
        await channel.queue_delete(f"unit-{tag}-q")
        await channel.exchange_delete(f"unit-{tag}")
    return received


def test_every_event_reaches_the_queues_once_in_order_as_rasas_message() -> None:
    tag = uuid.uuid4().hex[:10]
    events = _events("many", 3000)

    async def scenario() -> List[Any]:
        broker = await _broker(tag)
        for event in events:  # as fast as Rasa's tracker store hands them over
            broker.publish(event, headers={"rasa-sender": "many"})
        await asyncio.sleep(0)
        await broker.close()
        assert broker.queued == 0
        return await _drain(tag, len(events))

    received = asyncio.run(scenario())
    assert [json.loads(m.body) for m in received] == events
    assert all(m.delivery_mode == 2 for m in received), "persistent, as Rasa's broker publishes them"
    assert all(m.headers == {"rasa-sender": "many"} for m in received)


def test_events_published_while_the_exchange_is_missing_arrive_once_it_is_back() -> None:
    import aio_pika

    tag = uuid.uuid4().hex[:10]
    before, during = _events("gap", 5), _events("gap", 20)[5:]

    async def scenario() -> List[Any]:
        broker = await _broker(tag, retry_delay_in_seconds=0.2)
        for event in before:
            broker.publish(event)
        await _taken(broker)
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            await channel.exchange_delete(f"unit-{tag}")
            for event in during:  # the broker refuses these: the channel is closed on the first
                broker.publish(event)
            await asyncio.sleep(1.0)
            assert broker.queued == len(during), "nothing dropped while RabbitMQ refuses the events"
            await _recreate(channel, tag)
        await _taken(broker)
        await broker.close()
        return await _drain(tag, len(before) + len(during))

    received = asyncio.run(scenario())
    assert [json.loads(m.body) for m in received] == before + during


def test_closing_a_broker_that_never_published_does_not_wait_for_events(monkeypatch) -> None:
    import bot.event_broker

    monkeypatch.setattr(bot.event_broker, "CLOSE_SECONDS", 3600.0)  # waiting for events would hang the test
    tag = uuid.uuid4().hex[:10]

    async def scenario() -> None:
        broker = await _broker(tag)
        try:
            await asyncio.wait_for(broker.close(), 60)
        finally:
            await _drain(tag, 0, seconds=0)

    asyncio.run(scenario())


def test_a_broker_told_not_to_keep_unpublished_events_drops_them_and_goes_on() -> None:
    import aio_pika

    tag = uuid.uuid4().hex[:10]
    refused, later = _events("drop", 10)[:4], _events("drop", 10)[4:]

    async def scenario() -> List[Any]:
        broker = await _broker(tag, retry_delay_in_seconds=0.2, should_keep_unpublished_messages=False)
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            await channel.exchange_delete(f"unit-{tag}")
            for event in refused:
                broker.publish(event)
            await _taken(broker)
            await asyncio.sleep(1.0)  # the broker's channel, closed by RabbitMQ's refusal, is open again
            await _recreate(channel, tag)
        for event in later:
            broker.publish(event)
        await broker.close()
        return await _drain(tag, len(later))

    received = asyncio.run(scenario())
    assert [json.loads(m.body) for m in received] == later
