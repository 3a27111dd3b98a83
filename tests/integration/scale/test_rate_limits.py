"""Rate limits shared in Redis: every Rasa process counts a visitor's messages together (the local Redis)."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Iterator

import pytest

from bot.limits import RateLimiter, SharedRateLimiter, rate_limiter
from testkit.scaled import REDIS, unreachable
from testkit.servers import free_port


@pytest.fixture
def prefix() -> Iterator[str]:
    reason = unreachable((REDIS,))
    if reason:
        pytest.skip(f"shared rate limits need Redis at its standard local port: {reason}")
    import redis

    name = f"ratetest{uuid.uuid4().hex[:10]}:"
    yield name
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=f"{name}*", count=500))
    if keys:
        client.delete(*keys)


def test_two_processes_count_one_visitor_together(prefix):
    first, second = SharedRateLimiter(3, REDIS, prefix), SharedRateLimiter(3, REDIS, prefix)  # a client each
    assert [first.hit("visitor:anna"), second.hit("visitor:anna"), first.hit("visitor:anna")] == [0.0, 0.0, 0.0]
    wait = second.hit("visitor:anna")
    assert 0 < wait <= 60, "the fourth message in a minute waits, whichever process receives it"
    assert first.hit("visitor:anna") > 0
    assert second.hit("visitor:bob") == 0.0, "another visitor goes on"


def test_the_window_slides(prefix):
    limiter = SharedRateLimiter(2, REDIS, prefix, window=1.0)
    assert [limiter.hit("k"), limiter.hit("k")] == [0.0, 0.0]
    wait = limiter.hit("k")
    assert 0 < wait <= 1.0
    time.sleep(wait + 0.05)
    assert limiter.hit("k") == 0.0, "a message is allowed again once the oldest has left the window"


def test_redis_keeps_hashed_keys_that_expire(prefix):
    import redis

    limiter = SharedRateLimiter(5, REDIS, prefix)
    visitor = "visitor:<script>alert(1)</script> 🙂 ' OR 1=1 --" + "x" * 5000
    assert limiter.hit(visitor) == 0.0
    client = redis.Redis.from_url(REDIS)
    keys = [key.decode() for key in client.scan_iter(match=f"{prefix}*")]
    assert keys == [limiter.redis_key(visitor)] and len(keys[0]) == len(prefix) + 32, "no visitor text in Redis"
    assert 0 < client.pttl(keys[0]) <= 60_000


def test_without_redis_each_process_counts_alone_and_nobody_is_refused_for_it(caplog):
    limiter = SharedRateLimiter(2, f"redis://127.0.0.1:{free_port()}/0", "down:")
    with caplog.at_level(logging.WARNING, logger="bot.limits"):
        hits = [limiter.hit("visitor:anna") for _ in range(3)]
    assert hits[:2] == [0.0, 0.0] and hits[2] > 0, "counted in memory meanwhile"
    assert sum("Redis did not answer" in r.getMessage() for r in caplog.records) == 1, "said once, not per message"


def test_redis_is_used_when_configured(monkeypatch):
    monkeypatch.delenv("RATE_LIMIT_REDIS_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(rate_limiter(30, "visitor"), RateLimiter)
    monkeypatch.setenv("REDIS_URL", REDIS)
    assert isinstance(rate_limiter(30, "visitor"), SharedRateLimiter)
    assert isinstance(rate_limiter(0, "visitor"), RateLimiter), "no limit: nothing to share"
    monkeypatch.setenv("RATE_LIMIT_REDIS_URL", "memory")
    assert isinstance(rate_limiter(30, "visitor"), RateLimiter)
