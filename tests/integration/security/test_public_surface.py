"""Attacks on what ``make run`` exposes: only the channels answer without a token."""

from __future__ import annotations

import json
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.security.conftest import VISITOR_LIMIT, raw_status

#: Every route of Rasa's HTTP API that needs the token (method, path, body).
API_ROUTES = [
    ("GET", "/status", None),
    ("GET", "/domain", None),
    ("GET", "/conversations/rest_someone/tracker", None),
    ("GET", "/conversations/rest_someone/story", None),
    ("POST", "/conversations/rest_someone/tracker/events", {"event": "slot", "name": "authority", "value": "x"}),
    ("PUT", "/conversations/rest_someone/tracker/events", []),
    ("POST", "/conversations/rest_someone/execute", {"name": "action_submit_lead"}),
    ("POST", "/conversations/rest_someone/trigger_intent", {"name": "greet"}),
    ("POST", "/conversations/rest_someone/predict", None),
    ("POST", "/conversations/rest_someone/messages", {"text": "hi", "sender": "user"}),
    ("POST", "/model/parse", {"text": "hello"}),
    ("POST", "/model/predict", []),
    ("POST", "/model/train", {}),
    ("POST", "/model/test/intents", {}),
    ("POST", "/model/test/stories", {}),
    ("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}),
    ("DELETE", "/model", None),
]


def _send(stack, method: str, path: str, body, token: str = "") -> int:
    url = f"{stack.rasa_url}{path}" + (f"?token={token}" if token else "")
    data = json.dumps(body).encode() if body is not None else b""
    return raw_status(url, method, {"Content-Type": "application/json"}, data)[0]


@pytest.mark.parametrize("method,path,body", API_ROUTES, ids=[f"{m} {p}" for m, p, _ in API_ROUTES])
def test_every_route_of_the_http_api_needs_the_token(stack, method, path, body):
    assert _send(stack, method, path, body) in (401, 403)
    assert _send(stack, method, path, body, token="guessed-token") in (401, 403)


def test_the_api_works_with_the_generated_token(stack):
    assert oct((stack.var / "rasa_api_token").stat().st_mode & 0o777) == "0o600"
    assert _send(stack, "GET", "/status", None, stack.rasa_token) == 200
    assert _send(stack, "POST", "/model/parse", {"text": "hello"}, stack.rasa_token) == 200
    assert _send(stack, "GET", "/conversations/rest_someone/tracker", None, stack.rasa_token) == 200


def _outward_address() -> str:
    """This machine's address on a network (not loopback), or skip."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # nothing is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        pytest.skip("this machine has no network address besides loopback")
    return address


@pytest.mark.parametrize("server", ["actions", "leads"])
def test_the_action_and_leads_servers_are_not_on_the_network(stack, server):
    port = stack.actions_port if server == "actions" else stack.leads_port
    with pytest.raises(OSError):
        socket.create_connection((_outward_address(), port), timeout=3).close()


def test_the_action_server_refuses_calls_without_its_token(stack):
    sender = f"forged-{uuid.uuid4().hex[:8]}"
    call = {
        "next_action": "action_submit_lead",
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": {"need": "forged", "authority": "decision_maker", "contact_email": "forger@evil.example"},
            "events": [],
            "latest_message": {},
            "active_loop": {},
        },
        "domain": {},
        "version": "3.6.21",
    }
    headers = {"Content-Type": "application/json"}
    data = json.dumps(call).encode()
    assert raw_status(f"{stack.actions_url}/webhook", "POST", headers, data)[0] == 401
    assert raw_status(f"{stack.actions_url}/webhook?token=guess", "POST", headers, data)[0] == 403
    assert raw_status(f"{stack.actions_url}/actions", "GET")[0] == 401
    assert stack.leads(conversation_id=sender) == []


def test_a_forged_lead_through_the_http_api_is_refused(stack):
    sender = f"rest_forged-{uuid.uuid4().hex[:8]}"
    slot = {"event": "slot", "name": "authority", "value": "decision_maker"}
    assert _send(stack, "POST", f"/conversations/{sender}/tracker/events", slot) == 401
    assert _send(stack, "POST", f"/conversations/{sender}/execute", {"name": "action_submit_lead"}) == 401
    time.sleep(3)
    assert stack.leads(conversation_id=sender) == []


def test_a_rest_sender_cannot_join_another_channels_conversation(stack):
    slack_id = f"slack_U1_D{uuid.uuid4().hex[:6]}"
    status, _ = stack.say(slack_id, "Hi, we need help with our support tickets.")
    assert status == 200
    status, tracker = _send_json(stack, f"/conversations/{slack_id}/tracker")
    assert status == 200 and not [e for e in tracker["events"] if e["event"] == "user"]
    assert stack.tracker(slack_id)["events"]  # it went to the REST conversation of that name


def _send_json(stack, path: str) -> tuple:
    from testkit.servers import http

    return http("GET", stack.api(path))


def _unread_body(port: int, path: str, length: int) -> str:
    """Announce a large body, send none of it, and return the status line the server answers with."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {length}\r\n\r\n"
            ).encode()
        )
        answer = connection.recv(4096).decode(errors="replace")
    return answer.split("\r\n", 1)[0]


@pytest.mark.parametrize(
    "path,length",
    [
        ("/webhooks/rest/webhook", 200_000),  # over the REST channel's 64 KB
        ("/webhooks/teams/webhook", 5_000_000),  # over the server's 1 MB
        ("/webhooks/slack/webhook", 100_000_000),
        ("/model/parse", 100_000_000),
    ],
)
def test_an_oversized_body_gets_413_without_being_read(stack, path, length):
    assert " 413 " in _unread_body(stack.rasa_port, path, length) + " "


def test_a_flood_from_one_visitor_gets_429_while_another_is_served(stack):
    flooder, other = f"flood-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    url = f"{stack.rasa_url}/webhooks/rest/webhook"

    def send(sender: str) -> tuple:
        body = json.dumps({"sender": sender, "message": "hello?", "metadata": {"locale": "fr-FR"}}).encode()
        return raw_status(url, "POST", {"Content-Type": "application/json"}, body)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, [flooder] * (VISITOR_LIMIT + 4)))
    refused = [headers for status, headers in answers if status == 429]
    assert len(refused) >= 4
    assert all(int(h["Retry-After"]) >= 1 for h in refused)
    assert send(other)[0] == 200


def test_the_rep_page_takes_no_token_in_its_address(stack):
    status, _ = raw_status(f"{stack.leads_url}/reps?token={stack.leads_token}")
    assert status == 401  # the sign-in form, not the leads
    log = (stack.logs / "leads.log").read_text()
    assert stack.leads_token not in log and "token=" not in log
    for name in ("leads.db", "leads_api_token", "rasa_api_token", "actions_token"):
        assert oct((stack.var / name).stat().st_mode & 0o777) == "0o600", name
