"""Authentication with the Bot Framework, the service behind Microsoft Teams bots.

- ``SigningKeys``: Microsoft's signing keys (OpenID metadata, then its JWKS),
  fetched on first use rather than at start-up, cached for a day, and fetched
  again (at most every few minutes) when a token names a key not seen yet.
- ``TokenVerifier``: checks the JWT that comes with every activity: RS256
  signature by one of those keys, issuer, audience (the bot's app id), expiry
  and not-before with a small clock skew, then binds it to the activity (the
  token's ``serviceUrl`` claim and the key's endorsement of the channel).
- ``ReplyToken``: the bearer token the bot sends its replies with, obtained by
  client credentials and cached until shortly before it expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

import aiohttp
import jwt

logger = logging.getLogger(__name__)

ISSUER = "https://api.botframework.com"
REPLY_SCOPE = "https://api.botframework.com/.default"
ALGORITHM = "RS256"
#: Microsoft allows five minutes of clock skew between its servers and the bot.
CLOCK_SKEW_SECONDS = 300
HTTP_TIMEOUT_SECONDS = 10.0

Clock = Callable[[], float]


class AuthError(Exception):
    """A request that cannot be accepted; ``status`` is the HTTP answer."""

    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(AuthError):
    """No token, or a token that is not genuine or not meant for this bot."""

    status = 401


class Forbidden(AuthError):
    """A genuine token that does not cover this activity."""

    status = 403


class KeysUnavailable(AuthError):
    """Microsoft's signing keys could not be fetched: nothing can be verified."""

    status = 503


async def get_json(url: str, timeout: float = HTTP_TIMEOUT_SECONDS) -> Any:
    """GET ``url`` and decode its JSON body; raise on any failure."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.get(url) as response:
            response.raise_for_status()
            return await response.json(content_type=None)


class SigningKeys:
    """Microsoft's token-signing keys, fetched lazily and cached by ``kid``."""

    def __init__(
        self,
        openid_url: str,
        ttl: float = 24 * 3600,
        refetch_interval: float = 300,
        retry_after_failure: float = 60,
        timeout: float = HTTP_TIMEOUT_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.openid_url = openid_url
        self.ttl, self.refetch_interval = ttl, refetch_interval
        self.retry_after_failure, self.timeout = retry_after_failure, timeout
        self._clock = clock
        self._keys: Dict[str, jwt.PyJWK] = {}
        self._endorsements: Dict[str, Optional[frozenset]] = {}
        self._fetched_at: Optional[float] = None
        self._attempts = 0
        self._next_attempt = 0.0
        self._lock: Optional[asyncio.Lock] = None

    @property
    def fetched(self) -> bool:
        """Whether a key set has been fetched at least once."""
        return self._fetched_at is not None

    async def get(self, kid: str) -> jwt.PyJWK:
        """The key with id ``kid``; raise ``Unauthorized`` if Microsoft has no such key."""
        if not self._needs_fetch(kid):
            return self._known(kid)
        attempts = self._attempts
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            # Requests that waited for another one's fetch use its result.
            if self._attempts == attempts and self._needs_fetch(kid):
                await self._fetch()
        if not self._keys:
            raise KeysUnavailable("Microsoft's signing keys are unavailable; try again later.")
        return self._known(kid)

    def endorsements(self, kid: str) -> Optional[frozenset]:
        """The channels a key is endorsed for (``None``: the key names none)."""
        return self._endorsements.get(kid)

    def _known(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The token is signed with an unknown key.")
        return key

    def _needs_fetch(self, kid: str) -> bool:
        now = self._clock()
        if not self._keys:
            return True  # nothing can be verified without keys: always worth a try
        if now < self._next_attempt:
            return False
        if self._fetched_at is None or now - self._fetched_at >= self.ttl:
            return True
        return kid not in self._keys and now - self._fetched_at >= self.refetch_interval

    async def _fetch(self) -> None:
        try:
            await self._download()
        finally:
            self._attempts += 1

    async def _download(self) -> None:
        try:
            metadata = await get_json(self.openid_url, self.timeout)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str):
                raise ValueError("the OpenID metadata has no 'jwks_uri'")
            document = await get_json(jwks_uri, self.timeout)
            keys, endorsements = _parse_jwks(document)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            self._next_attempt = self._clock() + self.retry_after_failure
            logger.warning("Could not fetch the Bot Framework signing keys from %s: %s", self.openid_url, error)
            return
        self._keys, self._endorsements = keys, endorsements
        self._fetched_at = self._clock()
        self._next_attempt = 0.0
        logger.info("Fetched %d Bot Framework signing keys.", len(keys))


def _parse_jwks(document: Any) -> tuple:
    """The usable RSA keys of a JWKS document, and their endorsements."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the JWKS document has no 'keys' list")
    keys: Dict[str, jwt.PyJWK] = {}
    endorsements: Dict[str, Optional[frozenset]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or entry.get("kty") != "RSA":
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, ALGORITHM)
        except jwt.PyJWTError as error:
            logger.warning("Skipping signing key %s: %s", entry["kid"], error)
            continue
        listed = entry.get("endorsements")
        endorsements[entry["kid"]] = (
            frozenset(x for x in listed if isinstance(x, str)) if isinstance(listed, list) else None
        )
    if not keys:
        raise ValueError("the JWKS document holds no usable RSA key")
    return keys, endorsements


@dataclass(frozen=True)
class VerifiedToken:
    """The claims of a genuine token, and the id of the key that signed it."""

    claims: Dict[str, Any]
    kid: str


class TokenVerifier:
    """Checks the ``Authorization: Bearer`` JWT of an incoming activity."""

    def __init__(self, app_id: str, keys: SigningKeys, issuer: str = ISSUER, leeway: int = CLOCK_SKEW_SECONDS) -> None:
        self.app_id, self.keys, self.issuer, self.leeway = app_id, keys, issuer, leeway

    async def verify(self, authorization: Optional[str]) -> VerifiedToken:
        """The token's claims; raise an ``AuthError`` unless it is genuine and for this bot."""
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The token is not a valid JWT.") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"The token must be signed with {ALGORITHM}.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("The token does not name its signing key.")
        key = await self.keys.get(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.app_id,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("The token is not valid yet.") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("The token is not meant for this bot.") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("The token was not issued by the Bot Framework.") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("The token's signature is not valid.") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"The token is not valid: {error}.") from None
        return VerifiedToken(claims, kid)

    def check_activity(self, token: VerifiedToken, activity: Dict[str, Any]) -> None:
        """Raise ``Forbidden`` unless the token covers this activity."""
        claimed = token.claims.get("serviceUrl")
        if claimed is None:  # replies carry the bot's own token: they go only where Microsoft said
            raise Forbidden("The token names no serviceUrl.")
        if not _same_url(claimed, activity.get("serviceUrl")):
            raise Forbidden("The activity's serviceUrl does not match the token.")
        endorsed = self.keys.endorsements(token.kid)
        if endorsed is not None and activity.get("channelId") not in endorsed:
            raise Forbidden("The signing key is not endorsed for this channel.")


def bearer_token(authorization: Optional[str]) -> str:
    """The token of an ``Authorization: Bearer …`` header; raise ``Unauthorized`` otherwise."""
    if not authorization:
        raise Unauthorized("No Authorization header.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def _same_url(claimed: Any, actual: Any) -> bool:
    if not isinstance(claimed, str) or not isinstance(actual, str):
        return False
    return claimed.rstrip("/").lower() == actual.rstrip("/").lower()


class ReplyToken:
    """The bot's own bearer token for the Bot Connector API (OAuth client credentials)."""

    def __init__(
        self,
        token_url: str,
        app_id: str,
        app_password: str,
        margin: float = 300,
        retry_after_failure: float = 10,
        timeout: float = HTTP_TIMEOUT_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.token_url, self.app_id, self._password = token_url, app_id, app_password
        self.margin, self.retry_after_failure, self.timeout = margin, retry_after_failure, timeout
        self._clock = clock
        self._token: Optional[str] = None
        self._renew_at = 0.0
        self._next_attempt = 0.0
        self._lock: Optional[asyncio.Lock] = None

    def invalidate(self) -> None:
        """Forget the cached token (the connector refused it)."""
        self._token, self._renew_at = None, 0.0

    async def get(self) -> Optional[str]:
        """A valid access token, or ``None`` (logged) when none can be obtained."""
        if self._valid():
            return self._token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self._valid() and self._clock() >= self._next_attempt:
                await self._fetch()
        return self._token if self._valid() else None

    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._renew_at

    async def _fetch(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self._password,
            "scope": REPLY_SCOPE,
        }
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                async with session.post(self.token_url, data=form) as response:
                    if response.status != 200:
                        raise ValueError(f"HTTP {response.status}: {(await response.text())[:300]}")
                    body = await response.json(content_type=None)
            token, lifetime = body.get("access_token"), float(body.get("expires_in", 3600))
            if not isinstance(token, str) or not token:
                raise ValueError("no access_token in the answer")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, TypeError, AttributeError) as error:
            self._next_attempt = self._clock() + self.retry_after_failure
            logger.error("Could not obtain a Bot Framework token from %s: %s", self.token_url, error)
            return
        # Renewed ``margin`` seconds before it expires (half-way for short-lived tokens).
        self._token, self._renew_at = token, self._clock() + max(lifetime - self.margin, lifetime / 2)
