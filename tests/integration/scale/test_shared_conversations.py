"""Two Rasa processes share one conversation store (PostgreSQL), one lock store (Redis) and one event broker
(RabbitMQ): any of them answers any message, one at a time per conversation, and every event is counted once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from analytics import store
from leads.storage.db import session_scope
from leads.storage.models import Lead
from testkit.conversations import qualifying_turns
from testkit.polling import poll as wait_for
from testkit.scaled import rabbitmq
from testkit.servers import PREFIXES, http
from tests.integration.scale.conftest import VISITOR_LIMIT

QUALIFICATION = tuple(qualifying_turns())


def shown(replies: List[Dict[str, Any]]) -> List[tuple]:
    """What the visitor sees of the replies: texts and buttons."""
    return [(r.get("text"), json.dumps(r.get("buttons"), sort_keys=True)) for r in replies]


def leads_of(cluster, sender: str) -> List[Lead]:
    with session_scope(cluster.db_url) as session:
        query = (
            select(Lead).options(selectinload(Lead.handoff)).where(Lead.conversation_id == PREFIXES["rest"] + sender)
        )
        return list(session.execute(query).scalars())


def stats_engine(cluster):
    return store.engine(cluster.db_url)


def test_messages_alternating_between_processes_make_the_same_conversation_as_one_process(cluster):
    alone, shared = f"alone-{uuid.uuid4().hex[:8]}", f"shared-{uuid.uuid4().hex[:8]}"
    reference = [shown(cluster.say(0, alone, text)) for text in QUALIFICATION]
    alternating = [shown(cluster.say(i % 2, shared, text)) for i, text in enumerate(QUALIFICATION)]
    assert alternating == reference, "the same answers, whichever process read each message"
    assert all(reference), "every message was answered"

    seen_by = [cluster.tracker(i, shared) for i in (0, 1)]
    assert seen_by[0]["slots"] == seen_by[1]["slots"]
    slots = seen_by[0]["slots"]
    assert slots["contact_email"] == "s.collins@northbay-logistics.com" and slots["authority"] == "decision_maker"
    assert slots["lead_submitted"] is True
    bot_events = [e for e in seen_by[0]["events"] if e["event"] == "bot"]
    assert len(bot_events) == sum(len(r) for r in alternating), "no reply doubled, none lost"

    notified = wait_for(lambda: [x for x in leads_of(cluster, shared) if x.handoff and x.handoff.status == "notified"])
    assert notified, "the lead was handed off"
    [lead] = leads_of(cluster, shared)
    assert lead.status == "qualified" and lead.contact_email == "s.collins@northbay-logistics.com"
    time.sleep(3)  # a second notification, if there were one, would have arrived by now
    slack = [r for r in cluster.receiver.requests if r["path"] == "/slack" and lead.id in r["body"].decode()]
    assert len(slack) == 1, "one hand-off notification"


def test_concurrent_messages_to_one_conversation_are_taken_one_at_a_time(cluster):
    sender = f"burst-{uuid.uuid4().hex[:8]}"
    texts = [
        "Hi there",
        "What does Relay cost?",
        "Our support team is overwhelmed by tickets.",
        "Does it work with Slack?",
        "How long does it take to set up?",
        "Thanks",
    ]
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        answered = list(pool.map(lambda item: cluster.say(item[0] % 2, sender, item[1]), enumerate(texts)))
    assert all(answered), "every message was answered"
    events = cluster.tracker(1, sender)["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert sorted(e["text"] for e in events if e["event"] == "user") == sorted(texts), [
        (e["event"], e.get("text") or e.get("name"), e.get("timestamp")) for e in events
    ]
    for previous, following in zip(users, users[1:]):
        actions = [e["name"] for e in events[previous:following] if e["event"] == "action"]
        assert actions and actions[-1] == "action_listen", "each message's turn ended before the next began"
        assert actions.count("action_listen") == 1, "no two turns interleaved"
    bot_events = [e for e in events if e["event"] == "bot"]
    assert len(bot_events) == sum(len(r) for r in answered)


async def _publish_again(url: str, exchange: str, bodies: List[bytes]) -> None:
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        target = await channel.get_exchange(exchange)
        for body in bodies:
            await target.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")


def test_every_event_is_counted_once_across_a_broker_restart(cluster):
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    for i, text in enumerate(QUALIFICATION[:3]):
        cluster.say(i % 2, sender, text)
    rabbitmq("stop_app")
    try:
        for i, text in enumerate(QUALIFICATION[3:6]):
            assert cluster.say(i % 2, sender, text), "the visitor is answered while the broker is down"
    finally:
        rabbitmq("start_app")
        rabbitmq("await_startup")
    for i, text in enumerate(QUALIFICATION[6:]):
        cluster.say(i % 2, sender, text)

    engine = stats_engine(cluster)
    events = cluster.tracker(0, sender)["events"]
    counted = wait_for(lambda: store.events_of(engine, PREFIXES["rest"] + sender) == len(events), timeout=120)
    conversation = PREFIXES["rest"] + sender
    assert counted, f"{store.events_of(engine, conversation)} events counted, {len(events)} in the conversation"

    # The broker delivers a message again when its acknowledgement was lost: the same events once more.
    bodies = [json.dumps({"sender_id": PREFIXES["rest"] + sender, **event}).encode() for event in events]
    asyncio.run(_publish_again(cluster.services.rabbitmq_url, cluster.services.exchange, bodies))
    time.sleep(5)
    assert store.events_of(engine, PREFIXES["rest"] + sender) == len(events), "no event counted twice"

    rows = {(r.question, r.language, r.channel): r for r in store.question_statistics(engine)}
    asked = {e["value"] for e in events if e["event"] == "slot" and e["name"] == "requested_slot" and e["value"]}
    assert asked and all(rows[(question, "en", "rest")].reached >= 1 for question in asked), (asked, rows)
    totals = store.totals(engine)
    assert totals["conversations_by_channel"].get("rest", 0) >= 1


def test_a_visitor_is_limited_across_the_processes_not_per_process(cluster):
    sender = f"limit-{uuid.uuid4().hex[:8]}"
    for i in range(VISITOR_LIMIT):  # half to each process: each alone would allow twice as many
        cluster.say(i % 2, sender, "Hi there")
    for index in (0, 1):
        status, body = http(
            "POST", f"{cluster.url(index)}/webhooks/rest/webhook", {"sender": sender, "message": "Hi there"}
        )
        assert status == 429, (index, status, body)
        assert body["error"].startswith("You're sending messages faster")
    other = f"limit-{uuid.uuid4().hex[:8]}"
    assert cluster.say(1, other, "Hi there"), "another visitor goes on"
    users = [e for e in cluster.tracker(0, sender)["events"] if e["event"] == "user"]
    assert len(users) == VISITOR_LIMIT, "a refused message is not processed"


def test_a_process_killed_mid_conversation_leaves_the_conversation_to_the_other(cluster):
    sender = f"killed-{uuid.uuid4().hex[:8]}"
    cluster.say(0, sender, QUALIFICATION[0])
    cluster.say(1, sender, QUALIFICATION[1])
    cluster.say(0, sender, QUALIFICATION[2])
    cluster.kill("rasa-0")
    for text in QUALIFICATION[3:]:
        assert cluster.say(1, sender, text), "the remaining process answers"
    slots = cluster.tracker(1, sender)["slots"]
    assert slots["authority"] == "decision_maker", "what was said before the kill is kept"
    assert slots["lead_submitted"] is True
    assert wait_for(lambda: [x for x in leads_of(cluster, sender) if x.handoff and x.handoff.status == "notified"])
    assert len(leads_of(cluster, sender)) == 1
