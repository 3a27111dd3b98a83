"""Starts the real action server and Rasa server on free loopback ports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from leads.storage.db import migrate
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
from testkit.tcp_proxy import TcpProxy
from tests.fakes.receiver import Receiver

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CRM_SECRET = "e2e-crm-secret"
API_TOKEN = "e2e-leads-token"


class Assistant:
    """A running assistant, spoken to over the REST channel."""

    def __init__(self, url: str) -> None:
        self.url = url

    def say(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        status, replies = http("POST", f"{self.url}/webhooks/rest/webhook", body)
        assert status == 200, (status, replies)
        assert isinstance(replies, list)
        return replies

    def slots(self, sender: str, channel: str = "rest") -> Dict[str, Any]:
        status, tracker = http("GET", tracker_url(self.url, sender, channel))
        assert status == 200, tracker
        return tracker["slots"]

    def tracker(self, sender: str, channel: str = "rest") -> Dict[str, Any]:
        return http("GET", tracker_url(self.url, sender, channel))[1]


def _database(tmp) -> tuple:
    """PostgreSQL behind a switchable proxy when it runs here, else an SQLite file."""
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(POSTGRES, future=True, connect_args={"connect_timeout": 3})
        schema = f"e2e_{os.getpid()}_{int(time.time())}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    except Exception:
        return f"sqlite:///{tmp / 'leads.db'}", None, None
    proxy = TcpProxy("127.0.0.1", 5432)
    options = f"?options=-csearch_path%3D{schema}"
    return f"{POSTGRES}{options}", proxy, (f"postgresql://postgres@127.0.0.1:{proxy.port}/test{options}", schema)


def _reps_file(tmp, receiver: Receiver, leads_url: str) -> Path:
    hours = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "23:59:59"}
    reps = [
        {
            "id": rid,
            "name": name,
            "languages": [lang],
            "segments": [],
            "timezone": "UTC",
            "working_hours": hours,
            "slack": {"user_id": f"U{rid.upper()}", "webhook_url": receiver.url("/slack")},
            "meeting_link": f"https://meet.example/{rid}",
        }
        for rid, name, lang in (
            ("emma", "Emma Clarke", "en"),
            ("chloe", "Chloé Dubois", "fr"),
            ("marek", "Marek Zieliński", "pl"),
        )
    ]
    config = {
        "reps": reps,
        "team_queue": {"name": "Sales team", "slack": {"webhook_url": receiver.url("/queue")}},
        "crm": {"webhook_url": receiver.url("/crm"), "secret_env": "CRM_WEBHOOK_SECRET"},
        "transcript_base_url": leads_url,
    }
    path = tmp / "reps.yml"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="session")
def assistant(tmp_path_factory) -> Iterator[Assistant]:
    tmp = tmp_path_factory.mktemp("servers")
    actions_port, rasa_port, leads_port = free_port(), free_port(), free_port()
    receiver = Receiver()
    direct_url, proxy, proxied = _database(tmp)
    served_url = proxied[0] if proxied else direct_url
    migrate(direct_url)
    leads_url = f"http://127.0.0.1:{leads_port}"
    channel_secrets = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD")
    env = {
        **{k: v for k, v in os.environ.items() if k not in channel_secrets},
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DATABASE_URL": served_url,
        "LEADS_OUTBOX_DIR": str(tmp / "outbox"),
        "LEADS_RETRY_SECONDS": "2",
        "REPS_FILE": str(_reps_file(tmp, receiver, leads_url)),
        "CRM_WEBHOOK_SECRET": CRM_SECRET,
        "LEADS_API_TOKEN": API_TOKEN,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        **secrets_env(),
    }
    commands = {
        "actions": action_server(actions_port),
        "leads": leads_server(leads_port),
        "rasa": rasa_server(rasa_port, endpoints_file(tmp, actions_port, direct_url), ROOT / "credentials.yml"),
    }
    checks = {"actions": health(actions_port), "leads": health(leads_port), "rasa": rasa_status(rasa_port)}
    try:
        with running(commands, checks, env, tmp, "e2e"):
            found = Assistant(f"http://127.0.0.1:{rasa_port}")
            found.db_url, found.proxy, found.receiver, found.leads_url = direct_url, proxy, receiver, leads_url
            yield found
    finally:
        receiver.stop()
        if proxy:
            proxy.stop()
            _drop_schema(proxied[1])


def _drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()
