"""The scaled set-up for tests and the benchmark: shared services, isolated per run, and their processes.

A run gets its own PostgreSQL schema, Redis lock key prefix, RabbitMQ exchange
and queue, so that it neither sees nor leaves anything of another run's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import urlparse

from common.scaling import Services, endpoints, to_yaml
from testkit.servers import ACTIONS_TOKEN, BIN

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"


def unreachable(urls: Tuple[str, ...] = (POSTGRES, REDIS, RABBITMQ)) -> Optional[str]:
    """``None`` when every service answers on its port, else which one does not."""
    for url in urls:
        parsed = urlparse(url)
        try:
            with socket.create_connection((parsed.hostname, parsed.port), timeout=3):
                pass
        except OSError:
            return f"{parsed.scheme} is not running at {parsed.hostname}:{parsed.port}"
    return None


@dataclass(frozen=True)
class Isolated:
    """One run's names in the shared services."""

    tag: str

    @classmethod
    def new(cls, kind: str) -> "Isolated":
        return cls(f"{kind}{os.getpid()}{int(time.time() * 1000) % 10**9}")

    @property
    def database_url(self) -> str:
        return f"{POSTGRES}?options=-csearch_path%3D{self.tag}"

    @property
    def services(self) -> Services:
        return Services(self.database_url, REDIS, RABBITMQ, f"{self.tag}-events", (f"{self.tag}-analytics",), self.tag)

    def create(self) -> None:
        """The run's database schema."""
        from sqlalchemy import create_engine, text

        admin = create_engine(POSTGRES, future=True)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.tag}"'))
        admin.dispose()

    def drop(self) -> None:
        """The schema, the lock keys, the exchange and the queues: gone."""
        from sqlalchemy import create_engine, text

        admin = create_engine(POSTGRES, future=True)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.tag}" CASCADE'))
        admin.dispose()
        import redis

        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(match=f"{self.tag}:*", count=500))
        if keys:
            client.delete(*keys)
        asyncio.run(self._delete_broker_objects())

    async def _delete_broker_objects(self) -> None:
        import aio_pika

        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            for queue in self.services.queues:
                await channel.queue_delete(queue)
            await channel.exchange_delete(self.services.exchange)


def endpoints_file(folder: Path, services: Services, actions_port: int, name: str = "endpoints") -> Path:
    """The scaled set-up's endpoints file for one Rasa process, calling the action server on ``actions_port``."""
    path = folder / f"{name}.yml"
    config = endpoints(services, f"http://127.0.0.1:{actions_port}/webhook", ACTIONS_TOKEN)
    path.write_text(to_yaml(config))
    return path


def consumer_command() -> List[str]:
    """The statistics consumer."""
    return [str(BIN / "python"), "-m", "analytics", "consume"]


def consumer_env(services: Services) -> dict:
    """The variables that point the consumer (and the Rasa processes' endpoints) at a run's services."""
    return {
        "DATABASE_URL": services.database_url,
        "REDIS_URL": services.redis_url,
        "RABBITMQ_URL": services.rabbitmq_url,
        "RASA_EVENTS_EXCHANGE": services.exchange,
        "RASA_EVENTS_QUEUES": ",".join(services.queues),
        "RASA_LOCK_PREFIX": services.lock_prefix,
    }


def rabbitmq(command: str) -> None:
    """``rabbitmqctl stop_app`` / ``start_app`` / ``await_startup`` on the local broker."""
    subprocess.run(["rabbitmqctl", command], check=True, capture_output=True, timeout=120)
