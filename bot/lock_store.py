"""Rasa's Redis lock store, with its tickets issued and returned atomically across processes.

Rasa's ``RedisLockStore`` reads a conversation's lock, adds or removes a
ticket, and writes it back in three separate commands: safe within one
process (asyncio runs one of them at a time), but two Rasa processes that
receive messages of the same conversation at the same moment can both read
the same lock, both take the same ticket, and handle the two messages at once
— one of them then missing from the conversation. Here each read-change-write
is a Redis transaction (``WATCH``/``MULTI``/``EXEC``) that is retried when
another process changed the lock in between. Everything else (keys, tickets,
their lifetime, waiting) is Rasa's own.

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: 127.0.0.1      # and every other key of Rasa's ``type: redis`` lock store
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket changes are Redis transactions."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _transaction(self, conversation_id: Text, change: Callable[[TicketLock], Any]) -> Any:
        """Apply ``change`` to the stored lock (created if missing) in one transaction; its result.

        The lock is deleted when no ticket is left on it, as Rasa's clean-up does.
        """
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else TicketLock(conversation_id)
                    result = change(lock)
                    pipe.multi()
                    if lock.tickets:
                        pipe.set(key, lock.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for ``conversation_id``, taken atomically."""
        try:
            return self._transaction(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Return the ticket; the lock goes when nobody else holds one."""

        def finish(lock: TicketLock) -> None:
            lock.remove_ticket_for(ticket_number)
            lock.remove_expired_tickets()

        self._transaction(conversation_id, finish)
