"""Conversation statistics from Rasa's events: each event counted once, questions reached and left, per language
and channel — on SQLite and, when it runs here, on PostgreSQL; and the consumer on the local RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from typing import Any, Dict, Iterator, List

import pytest
from sqlalchemy import create_engine, text

from analytics import store
from analytics.consumer import Consumer
from analytics.store import QuestionFigures

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _running(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[Any]:
    if request.param == "sqlite":
        yield store.engine(f"sqlite:///{tmp_path / 'analytics.db'}")
        return
    if not _running(5432):
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    schema = f"analytics_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield store.engine(f"{POSTGRES}?options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def conversation(sender: str, channel: str, language: str, questions: List[str], done: bool) -> List[Dict[str, Any]]:
    """The events Rasa publishes for a conversation that reached ``questions`` (and finished the form or not)."""
    clock = iter(range(1000))
    events: List[Dict[str, Any]] = [
        {"sender_id": sender, "event": "user", "timestamp": 1.0 + next(clock), "text": "hi", "input_channel": channel},
        {"sender_id": sender, "event": "slot", "timestamp": 1.0 + next(clock), "name": "language", "value": language},
    ]
    for question in questions:
        events.append(
            {
                "sender_id": sender,
                "event": "slot",
                "timestamp": 1.0 + next(clock),
                "name": "requested_slot",
                "value": question,
            }
        )
    if done:
        events.append(
            {
                "sender_id": sender,
                "event": "slot",
                "timestamp": 1.0 + next(clock),
                "name": "requested_slot",
                "value": None,
            }
        )
    return events


def record_all(engine, events) -> List[bool]:
    return [store.record_message(engine, json.dumps(event).encode()) for event in events]


def test_every_event_is_counted_once(engine) -> None:
    events = conversation("v1", "rest", "en", ["need", "authority"], done=False)
    assert record_all(engine, events) == [True] * len(events)
    assert record_all(engine, events) == [False] * len(events), "delivered again: not counted again"
    assert store.events_of(engine, "v1") == len(events)
    assert store.totals(engine)["events"] == len(events)


def test_questions_reached_and_left_per_language_and_channel(engine) -> None:
    record_all(engine, conversation("a", "rest", "en", ["need", "authority"], done=False))
    record_all(engine, conversation("b", "rest", "en", ["need", "authority", "allies"], done=True))
    record_all(engine, conversation("c", "slack", "fr", ["need"], done=False))
    rows = store.question_statistics(engine)
    assert QuestionFigures("need", "en", "rest", reached=2, left=0) in rows
    assert QuestionFigures("authority", "en", "rest", reached=2, left=1) in rows
    assert QuestionFigures("allies", "en", "rest", reached=1, left=0) in rows
    assert QuestionFigures("need", "fr", "slack", reached=1, left=1) in rows
    totals = store.totals(engine)
    assert totals["conversations_by_language"] == {"en": 2, "fr": 1}
    assert totals["conversations_by_channel"] == {"rest": 2, "slack": 1}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"event": "user"}', b'{"sender_id": "x"}', "\u00e9".encode("latin-1")],
)
def test_a_message_that_is_not_a_rasa_event_is_refused(engine, body: bytes) -> None:
    with pytest.raises((ValueError, UnicodeDecodeError)):
        store.record_message(engine, body)
    assert store.totals(engine)["events"] == 0


def test_visitor_text_is_stored_as_data(engine) -> None:
    hostile = "x'); DROP TABLE analytics_events; --"
    events = conversation(hostile, "<script>alert(1)</script>", "en", ["need"], done=False)
    record_all(engine, events)
    assert store.events_of(engine, hostile) == len(events)
    assert store.question_statistics(engine)[0].channel == "<script>alert(1)</script>"


@pytest.mark.skipif(not _running(5672), reason="RabbitMQ is not running at 127.0.0.1:5672")
def test_the_consumer_counts_what_is_published_and_drops_what_is_not_an_event(tmp_path) -> None:
    import aio_pika

    engine = store.engine(f"sqlite:///{tmp_path / 'consumer.db'}")
    tag = uuid.uuid4().hex[:10]
    url, exchange, queue = "amqp://guest:guest@127.0.0.1:5672/", f"unit-{tag}", f"unit-{tag}-analytics"
    events = conversation("pub", "rest", "pl", ["need"], done=False)

    async def scenario() -> Consumer:
        consumer = Consumer(engine, url, exchange, queue)
        ready = asyncio.Event()
        running = asyncio.create_task(consumer.run(ready))
        await asyncio.wait_for(ready.wait(), 30)
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            target = await channel.get_exchange(exchange)
            for body in [json.dumps(e).encode() for e in events] * 2 + [b"garbage"]:
                await target.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")
            for _ in range(100):
                if consumer.counted + consumer.duplicates + consumer.dropped == 2 * len(events) + 1:
                    break
                await asyncio.sleep(0.1)
            consumer.stop()
            await running
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)
        return consumer

    consumer = asyncio.run(scenario())
    assert (consumer.counted, consumer.duplicates, consumer.dropped) == (len(events), len(events), 1)
    assert store.events_of(engine, "pub") == len(events)
