"""The Slack signature check shared by the Rasa server and the leads server."""

import hashlib
import hmac

from common.slack_signature import MAX_AGE_SECONDS, check, signature

# The worked example in Slack's documentation ("Verifying requests from Slack").
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
NOW = int(DOC_TIMESTAMP) + 30


def test_slack_documented_example():
    assert signature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    assert check(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=NOW) is None


def test_matches_an_independent_hmac():
    body = '{"type":"event_callback","event":{"text":"zażółć"}}'.encode()
    expected = "v0=" + hmac.new(b"s3cret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert check("s3cret", "1700000000", expected, body, now=1700000000) is None


def test_wrong_secret_body_or_signature_is_401():
    assert check("other", DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=NOW)[0] == 401
    assert check(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY + b"&x=1", now=NOW)[0] == 401
    assert check(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE.replace("a2", "b2", 1), DOC_BODY, now=NOW)[0] == 401
    assert check(DOC_SECRET, DOC_TIMESTAMP, "v0=zażółć", DOC_BODY, now=NOW)[0] == 401
    # the same signature for another timestamp is not valid
    assert check(DOC_SECRET, str(NOW), DOC_SIGNATURE, DOC_BODY, now=NOW)[0] == 401


def test_missing_headers_are_401_and_a_malformed_timestamp_is_400():
    assert check(DOC_SECRET, None, DOC_SIGNATURE, DOC_BODY, now=NOW)[0] == 401
    assert check(DOC_SECRET, DOC_TIMESTAMP, None, DOC_BODY, now=NOW)[0] == 401
    assert check(DOC_SECRET, DOC_TIMESTAMP, "", DOC_BODY, now=NOW)[0] == 401
    assert check(DOC_SECRET, "yesterday", DOC_SIGNATURE, DOC_BODY, now=NOW)[0] == 400
    assert check(DOC_SECRET, "1" * 40, DOC_SIGNATURE, DOC_BODY, now=NOW)[0] == 400


def test_timestamps_more_than_five_minutes_away_are_refused():
    stamp = int(DOC_TIMESTAMP)
    assert check(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=stamp + MAX_AGE_SECONDS) is None
    assert check(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=stamp - MAX_AGE_SECONDS) is None
    stale = check(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=stamp + MAX_AGE_SECONDS + 1)
    assert stale[0] == 401 and "replay" in stale[1]
    assert check(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=stamp - MAX_AGE_SECONDS - 1)[0] == 401


def test_no_secret_means_not_configured():
    assert check("", DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=NOW)[0] == 503
