"""The servers exactly as ``make run`` starts them (``scripts/run.sh``), in a private ``VAR_DIR``.

Nothing is given but ports, folders, a local notification receiver and a low
rate limit: the tokens are generated into the test's ``var/`` as in
production, and read from there the way an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

from testkit.servers import ROOT, free_port, http, wait_ready
from tests.fakes.receiver import Receiver
from tests.integration.e2e.conftest import _reps_file

#: Messages one visitor may send per minute in this suite (the flood test goes over it).
VISITOR_LIMIT = 8
#: Variables of the calling shell that would change what ``make run`` does.
CLEARED = (
    "DATABASE_URL",
    "RASA_API_TOKEN",
    "ACTIONS_TOKEN",
    "LEADS_API_TOKEN",
    "LEADS_OUTBOX_DIR",
    "LEADS_DB_PATH",
    "LEADS_TOKEN_FILE",
    "RASA_TOKEN_FILE",
    "WEB_SESSION_SECRET",
    "ERASURE_SALT",
    "REST_CHANNEL_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "TEAMS_APP_ID",
    "TEAMS_APP_PASSWORD",
    "SLACK_WEBHOOK_URL",
    "TEAMS_WEBHOOK_URL",
    "CRM_WEBHOOK_URL",
)


class Stack:
    """``scripts/run.sh`` in its own process group: started, stopped, started again."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.var = tmp / "var"
        self.logs = tmp / "logs"
        self.rasa_port, self.actions_port, self.leads_port = free_port(), free_port(), free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        self.leads_url = f"http://127.0.0.1:{self.leads_port}"
        self.receiver = Receiver()
        self.process: Optional[subprocess.Popen] = None
        self.starts = 0
        self.env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        self.env.update(
            {
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "RASA_PORT": str(self.rasa_port),
                "ACTIONS_PORT": str(self.actions_port),
                "LEADS_PORT": str(self.leads_port),
                "VAR_DIR": str(self.var),
                "LOGS_DIR": str(self.logs),
                "LEADS_RETRY_SECONDS": "2",
                "RATE_LIMIT_VISITOR": str(VISITOR_LIMIT),
                "REPS_FILE": str(_reps_file(tmp, self.receiver, self.leads_url)),
            }
        )

    def start(self) -> None:
        self.starts += 1
        log = self.tmp / f"run-{self.starts}.log"
        self.process = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + 30
        while not (self.var / "rasa_api_token").exists() and time.time() < deadline:
            time.sleep(0.2)
        wait_ready(f"{self.actions_url}/health", self.process, log, lambda body: True)
        wait_ready(f"{self.leads_url}/health", self.process, log, lambda body: True)
        wait_ready(self.api("/status"), self.process, log, lambda body: bool(body and body.get("model_file")))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        time.sleep(1)  # the servers in the group release their ports

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def rasa_token(self) -> str:
        return (self.var / "rasa_api_token").read_text().strip()

    @property
    def leads_token(self) -> str:
        return (self.var / "leads_api_token").read_text().strip()

    def api(self, path: str) -> str:
        return f"{self.rasa_url}{path}{'&' if '?' in path else '?'}token={self.rasa_token}"

    def say(self, sender: str, text: str, locale: Optional[str] = None) -> tuple:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if locale:
            body["metadata"] = {"locale": locale}
        return http("POST", f"{self.rasa_url}/webhooks/rest/webhook", body)

    def tracker(self, sender: str) -> Dict[str, Any]:
        status, tracker = http("GET", self.api(f"/conversations/rest_{sender}/tracker"))
        assert status == 200, tracker
        return tracker

    def leads(self, **query: str) -> list:
        url = f"{self.leads_url}/api/leads?" + "&".join(f"{k}={v}" for k, v in query.items())
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.leads_token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["leads"]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "leads", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def logged_tracebacks(self) -> str:
        return "".join(
            path.name for path in list(self.logs.glob("*.log")) if "Traceback" in path.read_text(errors="replace")
        )


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("security"))
    try:
        running.start()
        yield running
    finally:
        running.stop()
        running.receiver.stop()
    assert not running.logged_tracebacks(), f"a server logged a traceback: {running.logged_tracebacks()}"


def raw_status(url: str, method: str = "GET", headers: Optional[Dict[str, str]] = None, data: bytes = b"") -> tuple:
    """``(status, headers)`` of one request, errors included."""
    request = urllib.request.Request(url, data=data or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)
