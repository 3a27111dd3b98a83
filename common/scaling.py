"""The scaled set-up's endpoints file: Rasa's own SQL tracker store, Redis lock store and pika event broker.

Several Rasa processes (on one machine or many) share conversations through the
SQL tracker store on PostgreSQL (``DATABASE_URL``), take turns on a conversation
through the Redis lock store (``REDIS_URL``), and publish every conversation
event to RabbitMQ (``RABBITMQ_URL``), where the statistics consumer and a
company's own pipelines read them.

    python -m common.scaling endpoints OUT.yml --actions-url http://127.0.0.1:5055/webhook
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import parse_qsl, unquote, urlparse

from common import settings
from common.endpoints import TRACKER_STORE_TYPE, action_endpoint


@dataclass(frozen=True)
class Services:
    """Where the shared services are, and the names that keep one installation (or test run) apart."""

    database_url: str
    redis_url: str
    rabbitmq_url: str
    exchange: str
    queues: Sequence[str]
    lock_prefix: str

    @classmethod
    def from_settings(cls) -> "Services":
        """The services named by the environment (``DATABASE_URL``, ``REDIS_URL``, ``RABBITMQ_URL``…)."""
        return cls(
            database_url=settings.database_url() or "postgresql://postgres@127.0.0.1:5432/postgres",
            redis_url=settings.redis_url(),
            rabbitmq_url=settings.rabbitmq_url(),
            exchange=settings.events_exchange(),
            queues=tuple(settings.events_queues()),
            lock_prefix=settings.lock_key_prefix(),
        )


def tracker_store(database_url: str) -> Dict[str, Any]:
    """Rasa's SQL tracker store on the database of ``database_url`` (PostgreSQL for several processes)."""
    url = urlparse(database_url)
    if url.scheme.split("+")[0] not in ("postgres", "postgresql"):
        raise ValueError(f"several Rasa processes share conversations on PostgreSQL, not {url.scheme!r}")
    config: Dict[str, Any] = {
        "type": TRACKER_STORE_TYPE,
        "dialect": "postgresql",
        "url": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "db": url.path.lstrip("/") or "postgres",
    }
    if url.username:
        config["username"] = unquote(url.username)
    if url.password:
        config["password"] = unquote(url.password)
    query = dict(parse_qsl(url.query))
    if query:
        config["query"] = query
    return config


#: Rasa's Redis lock store, its tickets taken in Redis transactions (see ``bot/lock_store.py``).
LOCK_STORE_TYPE = "bot.lock_store.AtomicRedisLockStore"


def lock_store(redis_url: str, key_prefix: str) -> Dict[str, Any]:
    """Rasa's Redis lock store: one message of a conversation at a time, across every Rasa process."""
    if not key_prefix.isalnum():
        raise ValueError(f"Rasa's lock store key prefix must be alphanumeric, not {key_prefix!r}")
    url = urlparse(redis_url)
    config: Dict[str, Any] = {
        "type": LOCK_STORE_TYPE,
        "url": url.hostname or "127.0.0.1",
        "port": url.port or 6379,
        "db": int(url.path.lstrip("/") or 0),
        "key_prefix": key_prefix,
    }
    if url.password:
        config["password"] = unquote(url.password)
    if url.scheme == "rediss":
        config["use_ssl"] = True
    return config


#: Rasa's pika event broker, publishing the queued events in batches from one task (see ``bot/event_broker.py``).
EVENT_BROKER_TYPE = "bot.event_broker.PikaEventBroker"


def event_broker(rabbitmq_url: str, exchange: str, queues: Sequence[str]) -> Dict[str, Any]:
    """Rasa's pika event broker: every conversation event, as persistent messages, to durable queues."""
    url = urlparse(rabbitmq_url)
    return {
        "type": EVENT_BROKER_TYPE,
        "url": url.hostname or "127.0.0.1",
        "port": url.port or 5672,
        "username": unquote(url.username or "guest"),
        "password": unquote(url.password or "guest"),
        "exchange_name": exchange,
        "queues": list(queues),
    }


def endpoints(services: Services, actions_url: str, actions_token: Optional[str] = None) -> Dict[str, Any]:
    """The whole endpoints file as a dict (the action server, the tracker store, the lock store, the broker).

    ``actions_token``, when given, is sent to the action server in an ``Authorization`` header.
    """
    return {
        "action_endpoint": action_endpoint(actions_url, actions_token or ""),
        "tracker_store": tracker_store(services.database_url),
        "lock_store": lock_store(services.redis_url, services.lock_prefix),
        "event_broker": event_broker(services.rabbitmq_url, services.exchange, services.queues),
    }


def to_yaml(config: Dict[str, Any]) -> str:
    """YAML that Rasa reads (every value written as JSON, which YAML accepts)."""
    lines: List[str] = []
    for section, values in config.items():
        lines.append(f"{section}:")
        for key, value in values.items():
            lines.append(f"  {key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: write the scaled set-up's endpoints file."""
    parser = argparse.ArgumentParser(description="Write the endpoints file of the scaled set-up.")
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("endpoints", help="write the endpoints file")
    write.add_argument("out", help="the file to write")
    write.add_argument("--actions-url", required=True, help="the action server's webhook URL")
    args = parser.parse_args(argv)
    config = endpoints(Services.from_settings(), args.actions_url, settings.actions_token())
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(to_yaml(config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
