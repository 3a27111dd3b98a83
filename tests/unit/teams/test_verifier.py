"""The token checks, the key cache and the reply token, against a real local login server."""

from __future__ import annotations

import asyncio
import time
from typing import Iterator

import jwt
import pytest

from bot.teams_auth import (
    Forbidden,
    KeysUnavailable,
    ReplyToken,
    SigningKeys,
    TokenVerifier,
    Unauthorized,
    bearer_token,
)
from testkit.servers import free_port
from tests.fakes.microsoft import ISSUER, KEYS_PATH, OPENID_PATH, TOKEN_PATH, MicrosoftLogin, SigningKey

APP_ID = "8e2a6a1c-5b0e-4d7f-9a55-0c1b2d3e4f50"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"


class Clock:
    """A clock the key cache reads; the tests move it forward."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def login(key) -> Iterator[MicrosoftLogin]:
    server = MicrosoftLogin(APP_ID, "s3cret", free_port())
    server.keys = [key]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(login, clock) -> TokenVerifier:
    return TokenVerifier(APP_ID, SigningKeys(login.openid_url, clock=clock, retry_after_failure=60))


def fetches(login: MicrosoftLogin) -> int:
    return login.paths("GET").count(KEYS_PATH)


@pytest.mark.asyncio
async def test_a_genuine_token_is_accepted_and_the_keys_are_cached(verifier, login, key):
    assert login.requests == []  # nothing is fetched before the first request
    token = await verifier.verify(f"Bearer {key.token(APP_ID, SERVICE_URL)}")
    assert token.claims["aud"] == APP_ID and token.claims["serviceUrl"] == SERVICE_URL and token.kid == key.kid
    assert login.paths("GET") == [OPENID_PATH, KEYS_PATH]
    await verifier.verify(f"Bearer {key.token(APP_ID, SERVICE_URL)}")
    assert fetches(login) == 1


def _alg_none(key: SigningKey) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": ISSUER, "aud": APP_ID, "exp": now + 600, "nbf": now}, None, algorithm="none", headers={"kid": key.kid}
    )


def _hmac_with_public_key(key: SigningKey) -> str:
    now = int(time.time())
    secret = str(key.jwk()["n"]).encode()
    return jwt.encode(
        {"iss": ISSUER, "aud": APP_ID, "exp": now + 600}, secret, algorithm="HS256", headers={"kid": key.kid}
    )


REFUSED = {
    "forged with another key under the same kid": lambda key: SigningKey(kid=key.kid).token(APP_ID),
    "unsigned": _alg_none,
    "HS256 with the public key as secret": _hmac_with_public_key,
    "expired an hour ago": lambda key: key.token(APP_ID, lifetime=3600, age=7200),
    "not valid for another hour": lambda key: key.token(APP_ID, age=-3600),
    "for another bot": lambda key: key.token("another-app-id"),
    "from another issuer": lambda key: key.token(APP_ID, issuer="https://sts.windows.net/evil/"),
    "with an unknown kid": lambda key: key.token(APP_ID, kid="no-such-key"),
    "not a JWT": lambda key: "not.a.jwt",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_tokens_that_are_not_genuine_are_refused(verifier, key, case):
    with pytest.raises(Unauthorized) as refused:
        await verifier.verify(f"Bearer {REFUSED[case](key)}")
    assert refused.value.status == 401 and refused.value.message


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "token-without-scheme"])
def test_the_authorization_header_must_carry_a_bearer_token(header):
    with pytest.raises(Unauthorized):
        bearer_token(header)


@pytest.mark.asyncio
async def test_a_small_clock_skew_is_tolerated(verifier, key):
    late = key.token(APP_ID, lifetime=60, age=120)  # expired a minute ago
    early = key.token(APP_ID, age=-60)  # valid from a minute from now
    assert (await verifier.verify(f"Bearer {late}")).claims["aud"] == APP_ID
    assert (await verifier.verify(f"Bearer {early}")).claims["aud"] == APP_ID


@pytest.mark.asyncio
async def test_an_unknown_kid_fetches_the_keys_again_at_most_every_few_minutes(verifier, login, key, clock):
    await verifier.verify(f"Bearer {key.token(APP_ID)}")
    rotated = SigningKey()
    login.keys = [key, rotated]
    with pytest.raises(Unauthorized):  # the cache is fresh: no new fetch for a kid seen within 5 minutes
        await verifier.verify(f"Bearer {rotated.token(APP_ID)}")
    assert fetches(login) == 1
    clock.now += 301
    assert (await verifier.verify(f"Bearer {rotated.token(APP_ID)}")).kid == rotated.kid
    assert fetches(login) == 2
    for _ in range(3):  # a stream of tokens with made-up kids does not hammer Microsoft
        with pytest.raises(Unauthorized):
            await verifier.verify(f"Bearer {key.token(APP_ID, kid='made-up')}")
    assert fetches(login) == 2


@pytest.mark.asyncio
async def test_the_keys_are_fetched_again_after_a_day(verifier, login, key, clock):
    await verifier.verify(f"Bearer {key.token(APP_ID)}")
    clock.now += 23 * 3600
    await verifier.verify(f"Bearer {key.token(APP_ID)}")
    assert fetches(login) == 1
    clock.now += 3600
    await verifier.verify(f"Bearer {key.token(APP_ID)}")
    assert fetches(login) == 2


@pytest.mark.asyncio
async def test_without_keys_nothing_is_accepted_until_microsoft_answers(verifier, login, key):
    login.stop()
    with pytest.raises(KeysUnavailable) as unavailable:
        await verifier.verify(f"Bearer {key.token(APP_ID)}")
    assert unavailable.value.status == 503
    login.start()
    assert (await verifier.verify(f"Bearer {key.token(APP_ID)}")).kid == key.kid


@pytest.mark.asyncio
async def test_stale_keys_are_kept_while_microsoft_is_unreachable(verifier, login, key, clock):
    await verifier.verify(f"Bearer {key.token(APP_ID)}")
    login.stop()
    clock.now += 25 * 3600
    assert (await verifier.verify(f"Bearer {key.token(APP_ID)}")).kid == key.kid  # the refresh failed
    login.start()
    assert (await verifier.verify(f"Bearer {key.token(APP_ID)}")).kid == key.kid
    assert fetches(login) == 1  # a failed refresh waits a minute before the next try
    clock.now += 61
    await verifier.verify(f"Bearer {key.token(APP_ID)}")
    assert fetches(login) == 2


@pytest.mark.asyncio
async def test_concurrent_first_requests_share_one_fetch(verifier, login, key):
    tokens = [key.token(APP_ID) for _ in range(5)]
    verified = await asyncio.gather(*(verifier.verify(f"Bearer {t}") for t in tokens))
    assert len(verified) == 5 and fetches(login) == 1


@pytest.mark.asyncio
async def test_the_token_must_cover_the_activity(verifier, key):
    token = await verifier.verify(f"Bearer {key.token(APP_ID, SERVICE_URL)}")
    verifier.check_activity(token, {"serviceUrl": SERVICE_URL, "channelId": "msteams"})
    verifier.check_activity(token, {"serviceUrl": SERVICE_URL.rstrip("/"), "channelId": "msteams"})
    with pytest.raises(Forbidden) as forbidden:
        verifier.check_activity(token, {"serviceUrl": "https://attacker.example/", "channelId": "msteams"})
    assert forbidden.value.status == 403
    with pytest.raises(Forbidden):  # the key is endorsed for Teams only
        verifier.check_activity(token, {"serviceUrl": SERVICE_URL, "channelId": "slack"})
    without_claim = await verifier.verify(f"Bearer {key.token(APP_ID)}")
    with pytest.raises(Forbidden):  # replies would otherwise go wherever the activity says
        verifier.check_activity(without_claim, {"serviceUrl": "https://any.example/", "channelId": "msteams"})


@pytest.mark.asyncio
async def test_the_reply_token_comes_from_the_token_endpoint_and_is_cached(login, clock):
    token = ReplyToken(login.token_url, APP_ID, "s3cret", clock=clock)
    first = await token.get()
    assert first == login.issued[-1]
    assert await token.get() == first
    posts = [r for r in login.requests if r["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["path"] == TOKEN_PATH
    assert posts[0]["form"] == {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": "s3cret",
        "scope": "https://api.botframework.com/.default",
    }
    clock.now += 3599 - 300  # renewed five minutes before it expires
    renewed = await token.get()
    assert renewed != first and renewed == login.issued[-1]
    token.invalidate()
    assert await token.get() == login.issued[-1] and len(login.issued) == 3


@pytest.mark.asyncio
async def test_a_refused_reply_token_is_none_and_retried_later(login, clock):
    token = ReplyToken(login.token_url, APP_ID, "wrong-password", clock=clock)
    assert await token.get() is None
    assert await token.get() is None  # not asked again at once
    assert len(login.paths("POST")) == 1
    clock.now += 11
    assert await token.get() is None
    assert len(login.paths("POST")) == 2 and login.issued == []


@pytest.mark.asyncio
async def test_concurrent_requests_share_a_failed_fetch_too(verifier, login, key):
    login.keys = []  # Microsoft answers, but with no usable key
    outcomes = await asyncio.gather(
        *(verifier.verify(f"Bearer {key.token(APP_ID)}") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, KeysUnavailable) for outcome in outcomes)
    assert fetches(login) == 1
    login.keys = [key]
    assert (await verifier.verify(f"Bearer {key.token(APP_ID)}")).kid == key.kid
