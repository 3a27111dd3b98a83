"""The atomic Redis lock store, on the local Redis: tickets taken at the same moment by many clients are all
different, and the lock goes once every ticket is returned."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore


def _redis_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_running(), reason="Redis is not running at 127.0.0.1:6379")


def store(prefix: str) -> AtomicRedisLockStore:
    config = EndpointConfig(url="127.0.0.1", port=6379, db=0, key_prefix=prefix, type="x")
    return AtomicRedisLockStore(endpoint_config=config)


def test_tickets_taken_at_once_by_many_clients_are_all_different() -> None:
    prefix, conversation = f"unit{uuid.uuid4().hex[:10]}", "visitor-1"
    clients = [store(prefix) for _ in range(12)]
    start, tickets = threading.Barrier(len(clients)), []

    def take(client: AtomicRedisLockStore) -> None:
        start.wait()
        for _ in range(5):
            tickets.append(client.issue_ticket(conversation, 30))

    threads = [threading.Thread(target=take, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(tickets) == list(range(60))
        lock = clients[0].get_lock(conversation)
        assert lock is not None and lock.is_locked(59) and not lock.is_locked(0)
    finally:
        for number in tickets:
            clients[0].cleanup(conversation, number)
    assert clients[0].get_lock(conversation) is None, "the lock goes with the last ticket"


@pytest.mark.asyncio
async def test_the_lock_serves_one_holder_at_a_time() -> None:
    prefix, conversation = f"unit{uuid.uuid4().hex[:10]}", "visitor-2"
    first, second = store(prefix), store(prefix)
    async with first.lock(conversation) as held:
        assert not held.is_locked(0)
        ticket = second.issue_ticket(conversation, 30)
        assert second.get_lock(conversation).is_locked(ticket), "the second waits for the first"
        second.cleanup(conversation, ticket)
    assert first.get_lock(conversation) is None
