"""The real servers (Rasa, actions, leads on SQLite) with HubSpot, Salesforce and Pipedrive as local servers."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator

import pytest

from leads.storage.db import engine, migrate
from testkit.servers import (
    ROOT,
    action_server,
    endpoints_file,
    free_port,
    health,
    leads_server,
    rasa_server,
    rasa_status,
    running,
    secrets_env,
)
from tests.fakes.hubspot import HubSpot
from tests.fakes.pipedrive import Pipedrive
from tests.fakes.receiver import Receiver
from tests.fakes.salesforce import Salesforce
from tests.integration.e2e.conftest import _reps_file

HUBSPOT_TOKEN = "pat-na1-integration-token"
PIPEDRIVE_TOKEN = "pipedrive-integration-token"
SF_ID, SF_SECRET = "3MVG9-integration-client", "sf-integration-secret"
API_TOKEN = "crm-leads-token"
#: Channel credentials a developer may have set: not for these runs.
CHANNEL_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "CRM_WEBHOOK_URL")


class Stack:
    """The running assistant and the three CRMs it sends leads to."""

    def __init__(self, rasa_url: str, leads_url: str, db_url: str, crms: Dict[str, Any]) -> None:
        self.url, self.leads_url, self.db_url, self.crms = rasa_url, leads_url, db_url, crms


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("crm")
    crms = {
        "hubspot": HubSpot(HUBSPOT_TOKEN),
        "salesforce": Salesforce(SF_ID, SF_SECRET),
        "pipedrive": Pipedrive(PIPEDRIVE_TOKEN),
    }
    receiver = Receiver()
    actions_port, rasa_port, leads_port = free_port(), free_port(), free_port()
    db_url = f"sqlite:///{tmp / 'leads.db'}"
    migrate(db_url)
    leads_url = f"http://127.0.0.1:{leads_port}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in CHANNEL_SECRETS},
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DATABASE_URL": db_url,
        "LEADS_OUTBOX_DIR": str(tmp / "outbox"),
        "LEADS_RETRY_SECONDS": "1",
        "REPS_FILE": str(_reps_file(tmp, receiver, leads_url)),
        "LEADS_API_TOKEN": API_TOKEN,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_API_URL": crms["hubspot"].url,
        "SALESFORCE_CLIENT_ID": SF_ID,
        "SALESFORCE_CLIENT_SECRET": SF_SECRET,
        "SALESFORCE_URL": crms["salesforce"].url,
        "PIPEDRIVE_API_TOKEN": PIPEDRIVE_TOKEN,
        "PIPEDRIVE_API_URL": crms["pipedrive"].url,
        **secrets_env(),
    }
    commands = {
        "actions": action_server(actions_port),
        "leads": leads_server(leads_port),
        "rasa": rasa_server(rasa_port, endpoints_file(tmp, actions_port, db_url), ROOT / "credentials.yml"),
    }
    checks = {"actions": health(actions_port), "leads": health(leads_port), "rasa": rasa_status(rasa_port)}
    try:
        with running(commands, checks, env, tmp, "crm"):
            yield Stack(f"http://127.0.0.1:{rasa_port}", leads_url, db_url, crms)
    finally:
        receiver.stop()
        for server in crms.values():
            server.stop()
        engine(db_url).dispose()
