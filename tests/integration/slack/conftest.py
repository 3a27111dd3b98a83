"""The real action server, leads server and Rasa server, with Slack pointed at a local Slack API."""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest
import yaml

from leads.storage.db import engine, migrate
from testkit.servers import (
    ROOT,
    action_server,
    endpoints_file,
    free_port,
    health,
    http,
    leads_server,
    rasa_server,
    rasa_status,
    running,
    secrets_env,
    tracker_url,
)
from tests.fakes.slack_api import BOT_USER, SlackApi, signed_headers
from tests.integration.e2e.conftest import _reps_file

BOT_TOKEN = "xoxb-slack-test-token"
SIGNING_SECRET = "slack-test-signing-secret"
API_TOKEN = "slack-leads-token"
TEAM = "T0001"
SLACK_CHANNEL = "bot.slack.SlackEventsInput"
WEB_CHANNEL = "bot.webchat.WebChatInput"


def post(url: str, raw: bytes, headers: Dict[str, str], timeout: float = 30) -> tuple:
    """POST raw bytes; (status, JSON or text answer)."""
    request = urllib.request.Request(url, data=raw, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, payload = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    try:
        return status, json.loads(payload or b"null")
    except ValueError:
        return status, payload.decode(errors="replace")


class Workspace:
    """Slack's side of the conversation: signed events and clicks sent to the servers."""

    def __init__(self, rasa_url: str, leads_url: str, slack: SlackApi, db_url: str, reps_file: str = "") -> None:
        self.rasa_url, self.leads_url, self.slack, self.db_url = rasa_url, leads_url, slack, db_url
        self.reps_file = reps_file
        self._ids = itertools.count(1)

    def next_ts(self) -> str:
        return f"{int(time.time())}.{900000 + next(self._ids):06d}"

    def event(
        self,
        text: str,
        user: str,
        channel: str,
        kind: str = "message",
        ts: Optional[str] = None,
        thread_ts: Optional[str] = None,
        **extra: Any,
    ) -> Dict[str, Any]:
        """An ``event_callback`` envelope as Slack sends it."""
        ts = ts or self.next_ts()
        event = {
            "type": kind,
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "team": TEAM,
            "client_msg_id": str(uuid.uuid4()),
            **extra,
        }
        if kind == "message":
            event.setdefault("channel_type", "im" if channel.startswith("D") else "channel")
        if thread_ts:
            event["thread_ts"] = thread_ts
        return {
            "token": "deprecated",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event": event,
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM,
                    "user_id": BOT_USER,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }

    def send(
        self,
        envelope: Any,
        headers: Optional[Dict[str, str]] = None,
        raw: Optional[bytes] = None,
        secret: str = SIGNING_SECRET,
        timestamp: Optional[int] = None,
    ) -> tuple:
        """Deliver an Events API request, signed like Slack unless ``headers`` are given."""
        body = raw if raw is not None else json.dumps(envelope).encode()
        return post(
            f"{self.rasa_url}/webhooks/slack/webhook",
            body,
            headers if headers is not None else signed_headers(body, secret, timestamp),
        )

    def click_body(
        self,
        value: str,
        user: str,
        channel: str,
        thread_ts: str,
        action_id: str = "reply_0",
        response_url: Optional[str] = None,
    ) -> bytes:
        """A ``block_actions`` payload for a click on a button in the thread, form-encoded."""
        message_ts = self.next_ts()
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0001",
            "token": "deprecated",
            "trigger_id": f"trigger-{next(self._ids)}",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
                "thread_ts": thread_ts,
            },
            "channel": {"id": channel, "name": "directmessage" if channel.startswith("D") else "sales"},
            "message": {
                "type": "message",
                "user": BOT_USER,
                "ts": message_ts,
                "thread_ts": thread_ts,
                "text": "question",
            },
            "response_url": response_url or self.slack.url(f"/actions/{TEAM}/{next(self._ids)}/hook"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "text": {"type": "plain_text", "text": value},
                    "action_ts": str(time.time()),
                }
            ],
        }
        return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()

    def click(self, body: bytes, url: str, secret: str = SIGNING_SECRET, timestamp: Optional[int] = None) -> tuple:
        return post(url, body, signed_headers(body, secret, timestamp, "application/x-www-form-urlencoded"))

    def tracker(self, sender: str) -> Dict[str, Any]:
        status, tracker = http("GET", tracker_url(self.rasa_url, sender, "slack"))
        assert status == 200, tracker
        return tracker

    def user_texts(self, sender: str) -> list:
        return [e["text"] for e in self.tracker(sender)["events"] if e["event"] == "user"]


def _credentials(tmp) -> str:
    """The repository's Slack and website channel entries, next to the REST channel (live hand-offs)."""
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert SLACK_CHANNEL in channels, "credentials.yml must open the Slack channel"
    assert WEB_CHANNEL in channels, "credentials.yml must open the website channel"
    path = tmp / "credentials.yml"
    chosen = {"bot.channels.SafeRestInput": None, SLACK_CHANNEL: channels[SLACK_CHANNEL]}
    path.write_text(yaml.safe_dump({**chosen, WEB_CHANNEL: channels[WEB_CHANNEL]}))
    return str(path)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp("slack")
    slack = SlackApi(BOT_TOKEN)
    actions_port, rasa_port, leads_port = free_port(), free_port(), free_port()
    db_url = f"sqlite:///{tmp / 'leads.db'}"
    migrate(db_url)
    leads_url, rasa_url = f"http://127.0.0.1:{leads_port}", f"http://127.0.0.1:{rasa_port}"
    reps_file = _reps_file(tmp, slack, leads_url)
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DATABASE_URL": db_url,
        "LEADS_OUTBOX_DIR": str(tmp / "outbox"),
        "LEADS_RETRY_SECONDS": "2",
        "REPS_FILE": str(reps_file),
        "LEADS_API_TOKEN": API_TOKEN,
        "RASA_URL": rasa_url,
        "LEADS_URL": leads_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url("/api/"),
        **secrets_env(),
    }
    commands = {
        "actions": action_server(actions_port),
        "leads": leads_server(leads_port),
        "rasa": rasa_server(rasa_port, endpoints_file(tmp, actions_port), Path(_credentials(tmp))),
    }
    checks = {"actions": health(actions_port), "leads": health(leads_port), "rasa": rasa_status(rasa_port)}
    try:
        with running(commands, checks, env, tmp, "slack"):
            yield Workspace(rasa_url, leads_url, slack, db_url, str(reps_file))
    finally:
        slack.stop()
        engine(db_url).dispose()
