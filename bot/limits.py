"""Limits for the public channels: request sizes before bodies are read, and message rates.

- ``apply_request_limit(app)``: the Rasa server's largest request body
  (``REQUEST_MAX_BYTES``, 1 MB), enforced by Sanic from the ``Content-Length``
  before a byte of the body is read (413);
- ``limit_route_bodies(app, prefix, limit)``: a smaller limit for one channel's
  routes, applied the same way, before the body is read;
- ``RateLimiter``: a sliding one-minute window per key (a visitor, a network
  address): over the limit, the caller answers 429 with ``Retry-After`` (HTTP)
  or a polite message (the web chat's socket), in the visitor's language;
- ``SharedRateLimiter``: the same window kept in Redis (one Lua script per
  message, atomic), so that several Rasa processes count a visitor's messages
  together; used when Redis is configured (``settings.rate_limit_redis_url``).
  While Redis does not answer, each process counts in memory.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections import OrderedDict, deque
from typing import Any, Callable, Deque, Dict, Optional, Text, Union

from sanic import Blueprint, Sanic

from bot.language import detect_language
from common import settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
MAX_TRACKED_KEYS = 100_000
#: How long a process counts in memory after Redis failed to answer, before it asks Redis again.
REDIS_RETRY_SECONDS = 30.0
#: Redis must answer within this (it is on the message's path); else the count is kept in memory.
REDIS_TIMEOUT_SECONDS = 0.5

#: One key's sliding window in a sorted set, in one atomic step on the Redis server's clock.
#: KEYS[1]: the key; ARGV: the limit, the window in ms, a unique member. Returns the ms to wait (0: counted).
SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, window - (now - tonumber(oldest[2])))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""

#: What a visitor who sends too fast reads, per language.
TOO_FAST = {
    "en": "You're sending messages faster than I can read them. Please wait a few seconds and try again.",
    "fr": "Vos messages arrivent plus vite que je ne peux les lire. Merci de patienter quelques secondes, "
    "puis de réessayer.",
    "pl": "Wiadomości przychodzą szybciej, niż zdążę je przeczytać. Proszę odczekać kilka sekund i spróbować ponownie.",
}


def too_fast(locale: Any, text: Optional[str] = None) -> Text:
    """The polite "slow down" in the visitor's language: read from ``text`` when it is clear, else from a
    locale such as ``fr-FR`` (Slack sends none), else English."""
    hint = locale[:2].lower() if isinstance(locale, str) else None
    code = detect_language(text, hint) if text else hint
    return TOO_FAST.get(code or "", TOO_FAST["en"])


class RateLimiter:
    """At most ``limit`` events per key in any minute; thread-safe, bounded in memory."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one event for ``key``; ``0`` when allowed, else the seconds to wait."""
        if self.limit <= 0 or not key:
            return 0.0
        now = self.clock()
        with self._lock:
            times = self._seen.pop(key, None) or deque()
            while times and now - times[0] >= self.window:
                times.popleft()
            self._seen[key] = times  # most recently used last
            if len(self._seen) > MAX_TRACKED_KEYS:
                self._seen.popitem(last=False)
            if len(times) >= self.limit:
                return max(0.001, self.window - (now - times[0]))
            times.append(now)
            return 0.0


class SharedRateLimiter:
    """At most ``limit`` events per key in any minute, counted in Redis for every process that shares it.

    Keys are stored hashed under ``prefix`` (no visitor id or address is written
    to Redis). When Redis does not answer, the process counts in memory for
    ``REDIS_RETRY_SECONDS``, then tries Redis again: visitors are never refused
    because Redis is down.
    """

    def __init__(
        self,
        limit: int,
        url: str,
        prefix: str,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import redis

        self.limit, self.window, self.prefix, self.clock = limit, window, prefix, clock
        self.fallback = RateLimiter(limit, window, clock)
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._script = self._client.register_script(SLIDING_WINDOW)
        self._in_memory_until = 0.0

    def redis_key(self, key: str) -> str:
        """Where ``key``'s window is kept in Redis."""
        return f"{self.prefix}{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()[:32]}"

    def hit(self, key: str) -> float:
        """Count one event for ``key``; ``0`` when allowed, else the seconds to wait."""
        if self.limit <= 0 or not key:
            return 0.0
        now = self.clock()
        if now >= self._in_memory_until:
            try:
                wait_ms = self._script(
                    keys=[self.redis_key(key)], args=[self.limit, int(self.window * 1000), uuid.uuid4().hex]
                )
                return int(wait_ms) / 1000.0
            except self._errors as error:
                self._in_memory_until = now + REDIS_RETRY_SECONDS
                logger.warning(
                    "Rate counters: Redis did not answer (%s); this process counts alone for %.0f s",
                    type(error).__name__,
                    REDIS_RETRY_SECONDS,
                )
        return self.fallback.hit(key)


Limiter = Union[RateLimiter, SharedRateLimiter]


def rate_limiter(limit: int, kind: str) -> Limiter:
    """A limiter of ``limit`` events a minute: shared in Redis when configured, else in this process.

    ``kind`` (``visitor``, ``address``) keeps the counters of different limits apart in Redis.
    """
    url = settings.rate_limit_redis_url()
    if not url or limit <= 0:
        return RateLimiter(limit)
    return SharedRateLimiter(limit, url, f"{settings.lock_key_prefix()}:rate:{kind}:")


class ChannelLimits:
    """The per-visitor and per-address limiters of one channel."""

    def __init__(self, per_visitor: Optional[int] = None, per_address: Optional[int] = None) -> None:
        self.visitors = rate_limiter(settings.rate_per_visitor() if per_visitor is None else per_visitor, "visitor")
        self.addresses = rate_limiter(settings.rate_per_address() if per_address is None else per_address, "address")

    def check(self, visitor: str, address: str = "") -> int:
        """``0`` when the message may go on, else the whole seconds to wait (for ``Retry-After``)."""
        wait = self.addresses.hit(f"address:{address}") if address else 0.0
        if not wait:
            wait = self.visitors.hit(f"visitor:{visitor}")
        return math.ceil(wait) if wait else 0


def apply_request_limit(app: Sanic) -> None:
    """Set the server-wide body limit (Sanic refuses larger requests with 413 before reading them)."""
    limit = settings.request_max_bytes()
    if getattr(app.config, "REQUEST_MAX_SIZE", limit) > limit:
        app.config.REQUEST_MAX_SIZE = limit


def limit_route_bodies(app: Sanic, prefix: Text, limit: int) -> None:
    """Refuse bodies over ``limit`` bytes on routes under ``prefix``, from their Content-Length, unread."""
    limits: Dict[Text, int] = app.ctx.__dict__.setdefault("route_body_limits", {})
    first = not limits
    limits[prefix] = limit
    if not first:
        return

    @app.signal("http.routing.after")
    async def _smaller_limit(request: Any, route: Any, kwargs: Any, handler: Any) -> None:
        stream = getattr(request, "stream", None)
        if stream is None:
            return
        for route_prefix, route_limit in limits.items():
            if request.path.startswith(route_prefix):
                stream.request_max_size = min(stream.request_max_size, route_limit)


class LimitedBlueprint(Blueprint):
    """A channel's blueprint that brings its request limits: the server-wide one and its own."""

    def __init__(self, *args: Any, body_limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.body_limit = body_limit

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        apply_request_limit(app)
        prefix = options.get("url_prefix") or self.url_prefix or ""
        limit_route_bodies(app, prefix, self.ctx.body_limit)
        super().register(app, options)


def client_address(request: Any) -> str:
    """The caller's network address (Sanic's ``remote_addr`` when a proxy is configured, else the peer)."""
    return getattr(request, "remote_addr", "") or getattr(request, "ip", "") or ""
