"""Web chat session ids are issued by the server: 128 random bits, signed, so that none can be made up.

An id is 22 random URL-safe characters followed by 22 characters of an
HMAC-SHA256 of them (key: ``WEB_SESSION_SECRET``, or one generated into
``var/web_session_secret``). A browser may come back with an id it was given
(a reload, another page of the site); any other id is replaced with a new one,
so a visitor can never join somebody else's conversation by naming it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Any, Optional, Text

from common.tokens import web_session_secret

RANDOM_CHARS = 22  # 16 bytes, base64url without padding
LENGTH = 2 * RANDOM_CHARS


@lru_cache(maxsize=1)
def _key() -> bytes:
    return web_session_secret().encode("utf-8")


def _signature(random_part: Text, key: Optional[bytes] = None) -> Text:
    digest = hmac.new(key or _key(), random_part.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:RANDOM_CHARS]


def issue(key: Optional[bytes] = None) -> Text:
    """A new session id: 128 random bits and their signature."""
    random_part = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")
    return random_part + _signature(random_part, key)


def verified(value: Any, key: Optional[bytes] = None) -> Optional[Text]:
    """``value`` when it is an id this server issued, else ``None``."""
    if not isinstance(value, str) or len(value.strip()) != LENGTH:
        return None
    value = value.strip()
    random_part, signature = value[:RANDOM_CHARS], value[RANDOM_CHARS:]
    try:
        expected = _signature(random_part, key)
    except UnicodeEncodeError:
        return None
    return value if hmac.compare_digest(signature.encode(), expected.encode()) else None
