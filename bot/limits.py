"""Limits for the public channels: request sizes before bodies are read, and message rates.

- ``apply_request_limit(app)``: the Rasa server's largest request body
  (``REQUEST_MAX_BYTES``, 1 MB), enforced by Sanic from the ``Content-Length``
  before a byte of the body is read (413);
- ``limit_route_bodies(app, prefix, limit)``: a smaller limit for one channel's
  routes, applied the same way, before the body is read;
- ``RateLimiter``: a sliding one-minute window per key (a visitor, a network
  address): over the limit, the caller answers 429 with ``Retry-After`` (HTTP)
  or a polite message (the web chat's socket), in the visitor's language.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Callable, Deque, Dict, Optional, Text

from sanic import Blueprint, Sanic

from bot.language import detect_language
from common import settings

WINDOW_SECONDS = 60.0
MAX_TRACKED_KEYS = 100_000

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


class ChannelLimits:
    """The per-visitor and per-address limiters of one channel."""

    def __init__(self, per_visitor: Optional[int] = None, per_address: Optional[int] = None) -> None:
        self.visitors = RateLimiter(settings.rate_per_visitor() if per_visitor is None else per_visitor)
        self.addresses = RateLimiter(settings.rate_per_address() if per_address is None else per_address)

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
