"""The real action server and Rasa server, talking to Microsoft's side played by local servers.

The Rasa server starts while the local login server (OpenID metadata, keys,
tokens) is still down: the Teams channel must not need it before the first
request. The first test in ``test_webhook.py`` checks that, then brings it up.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from leads.storage.db import migrate
from testkit.servers import (
    ROOT,
    action_server,
    endpoints_file,
    free_port,
    health,
    http,
    rasa_server,
    rasa_status,
    running,
    secrets_env,
    tracker_url,
)
from tests.fakes.microsoft import MicrosoftLogin, SigningKey
from tests.fakes.receiver import Receiver

APP_ID = "3f1c9a52-7d4e-4b6a-8e21-5a9b0c7d2e14"
APP_PASSWORD = "teams-test-password"
BOT = {"id": f"28:{APP_ID}", "name": "Lead Assistant"}
TURN_TIMEOUT = 60


class TeamsWorld:
    """The running assistant, Microsoft's login server and the Bot Connector it replies to."""

    def __init__(
        self, rasa_url: str, login: MicrosoftLogin, connector: Receiver, key: SigningKey, rasa_log: Path
    ) -> None:
        self.rasa_url, self.login, self.connector, self.key, self.rasa_log = rasa_url, login, connector, key, rasa_log
        self.service_url = connector.url("/emea/")
        self.webhook = f"{rasa_url}/webhooks/teams/webhook"

    def activity(
        self, text: Optional[str], locale: Optional[str] = "en-US", sender: Optional[str] = None, **extra: Any
    ) -> Dict[str, Any]:
        """A message activity as Teams sends it, in a personal chat of its own."""
        body: Dict[str, Any] = {
            "type": "message",
            "id": uuid.uuid4().hex[:13],
            "timestamp": "2026-11-03T09:12:45.123Z",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {
                "id": sender or f"29:1{uuid.uuid4().hex}",
                "name": "Alex Visitor",
                "aadObjectId": str(uuid.uuid4()),
            },
            "conversation": {
                "conversationType": "personal",
                "tenantId": "tenant-1",
                "id": f"a:1{uuid.uuid4().hex};messageid=1",
            },
            "recipient": dict(BOT),
            "textFormat": "plain",
            "text": text,
            "channelData": {"tenant": {"id": "tenant-1"}},
        }
        if locale:
            body["locale"] = locale
        body.update(extra)
        return body

    def signed(self, **claims: Any) -> str:
        return self.key.token(APP_ID, self.service_url, **claims)

    def post(self, activity: Any = None, token: Optional[str] = "", raw: Optional[bytes] = None) -> Tuple[int, Any]:
        """POST to the webhook; ``token=""`` signs a genuine token, ``None`` sends none."""
        data = raw if raw is not None else json.dumps(activity).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token or self.signed()}"
        request = urllib.request.Request(self.webhook, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                return error.code, json.loads(payload)
            except ValueError:
                return error.code, payload

    def tracker(self, sender: str) -> Dict[str, Any]:
        status, tracker = http("GET", tracker_url(self.rasa_url, sender, "teams"))
        assert status == 200, tracker
        return tracker

    def user_events(self, sender: str) -> List[Dict[str, Any]]:
        return [e for e in self.tracker(sender)["events"] if e["event"] == "user"]

    def wait_for_turn(self, sender: str, turns: int = 1) -> Dict[str, Any]:
        """The tracker once ``turns`` messages are handled (it is saved after the replies are sent)."""
        deadline = time.time() + TURN_TIMEOUT
        while time.time() < deadline:
            tracker = self.tracker(sender)
            if sum(e["event"] == "user" for e in tracker["events"]) >= turns:
                return tracker
            time.sleep(0.2)
        raise AssertionError(
            f"{sender} got no answer in {TURN_TIMEOUT}s; login server saw {self.login.requests}, "
            f"the connector {len(self.connector.requests)} posts"
        )

    def replies(self, activity: Dict[str, Any]) -> List[Dict[str, Any]]:
        """What the bot posted to the activity's conversation, with the headers it sent."""
        path = f"/emea/v3/conversations/{urllib.parse.quote(activity['conversation']['id'], safe='')}/activities"
        return [
            {**json.loads(r["body"]), "headers": r["headers"]} for r in self.connector.requests if r["path"] == path
        ]

    def conversation_posts(self, activity: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Anything that reached the connector about this activity's conversation."""
        quoted = urllib.parse.quote(activity["conversation"]["id"], safe="")
        return [r for r in self.connector.requests if quoted in r["path"]]


@pytest.fixture(scope="session")
def teams_world(tmp_path_factory) -> Iterator[TeamsWorld]:
    tmp = tmp_path_factory.mktemp("teams")
    actions_port, rasa_port = free_port(), free_port()
    login = MicrosoftLogin(APP_ID, APP_PASSWORD, free_port())  # reserved, not started: Microsoft is down
    login.keys = [SigningKey()]
    connector = Receiver()
    database = f"sqlite:///{tmp / 'leads.db'}"
    migrate(database)
    unset = ("SLACK_WEBHOOK_URL", "TEAMS_WEBHOOK_URL", "CRM_WEBHOOK_URL", "LEADS_PUBLIC_URL")
    env = {
        **{k: v for k, v in os.environ.items() if k not in unset},
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DATABASE_URL": database,
        "LEADS_OUTBOX_DIR": str(tmp / "outbox"),
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_APP_PASSWORD": APP_PASSWORD,
        "TEAMS_OPENID_URL": login.openid_url,
        "TEAMS_TOKEN_URL": login.token_url,
        **secrets_env(),
    }
    commands = {
        "actions": action_server(actions_port),
        "rasa": rasa_server(rasa_port, endpoints_file(tmp, actions_port), ROOT / "credentials.yml"),
    }
    checks = {"actions": health(actions_port), "rasa": rasa_status(rasa_port)}
    try:
        with running(commands, checks, env, tmp, "teams"):
            yield TeamsWorld(f"http://127.0.0.1:{rasa_port}", login, connector, login.keys[0], tmp / "teams-rasa.log")
    finally:
        login.stop()
        connector.stop()


@pytest.fixture
def teams(teams_world) -> TeamsWorld:
    """The servers, with Microsoft's login server up."""
    if not teams_world.login.running:
        teams_world.login.start()
    return teams_world
