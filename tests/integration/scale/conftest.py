"""Two Rasa processes, two action servers, the leads server and the statistics consumer, on the local
PostgreSQL, Redis and RabbitMQ, started once for the module (each Rasa process loads the model)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from leads.storage.db import migrate
from testkit.scaled import Isolated, consumer_command, consumer_env, endpoints_file, unreachable
from testkit.servers import (
    ARTIFACTS,
    BIN,
    ROOT,
    action_server,
    free_port,
    health,
    http,
    leads_server,
    rasa_server,
    rasa_status,
    secrets_env,
    tracker_url,
    wait_ready,
)
from tests.fakes.receiver import Receiver
from tests.integration.e2e.conftest import _reps_file

API_TOKEN = "scale-leads-token"
#: Messages a visitor may send per minute, to both processes together.
VISITOR_LIMIT = 12
#: How long a process may take to answer (two Rasa processes load the model at once).
START_SECONDS = 600


class Cluster:
    """The running processes of the scaled set-up, and how to talk to each Rasa process."""

    def __init__(self, folder: Path, isolated: Isolated, env: Dict[str, str], receiver: Receiver) -> None:
        self.folder, self.isolated, self.env, self.receiver = folder, isolated, env, receiver
        self.services = isolated.services
        self.db_url = isolated.database_url
        self.processes: Dict[str, subprocess.Popen] = {}
        self.logs: Dict[str, Path] = {}
        self.commands: Dict[str, List[str]] = {}
        self.rasa_ports: List[int] = []

    def start(self, name: str, command: List[str], check=None) -> None:
        log = self.folder / f"scale-{name}.log"
        self.commands[name], self.logs[name] = command, log
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log.open("a"), stderr=subprocess.STDOUT
        )

    def wait(self, name: str, check) -> None:
        """Until the process answers its check; loading the model takes longer on a busy machine."""
        url, ready = check
        deadline = time.time() + START_SECONDS
        while True:
            try:
                wait_ready(url, self.processes[name], self.logs[name], ready)
                return
            except RuntimeError:
                if self.processes[name].poll() is not None or time.time() > deadline:
                    raise

    def kill(self, name: str) -> None:
        """SIGKILL: no clean-up, no goodbye."""
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    def say(self, index: int, sender: str, text: str) -> List[Dict[str, Any]]:
        status, replies = http("POST", f"{self.url(index)}/webhooks/rest/webhook", {"sender": sender, "message": text})
        assert status == 200, (status, replies)
        assert isinstance(replies, list)
        return replies

    def tracker(self, index: int, sender: str) -> Dict[str, Any]:
        status, tracker = http("GET", tracker_url(self.url(index), sender) + "&include_events=ALL")
        assert status == 200, tracker
        return tracker

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        ARTIFACTS.mkdir(exist_ok=True)
        for log in self.logs.values():
            (ARTIFACTS / log.name).write_text(log.read_text(errors="replace"))

    def tracebacks(self) -> List[str]:
        """The processes that logged a traceback."""
        return [name for name, log in self.logs.items() if "Traceback" in log.read_text(errors="replace")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    reason = unreachable()
    if reason:
        pytest.skip(f"the scaled set-up needs PostgreSQL, Redis and RabbitMQ at their standard local ports: {reason}")
    tmp = tmp_path_factory.mktemp("scale")
    isolated = Isolated.new("scale")
    isolated.create()
    receiver = Receiver()
    found = None
    try:
        migrate(isolated.database_url)
        actions_ports = [free_port(), free_port()]
        rasa_ports = [free_port(), free_port()]
        leads_port = free_port()
        leads_url = f"http://127.0.0.1:{leads_port}"
        channel_secrets = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD")
        env = {
            **{k: v for k, v in os.environ.items() if k not in channel_secrets},
            **consumer_env(isolated.services),
            **secrets_env(),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "LEADS_OUTBOX_DIR": str(tmp / "outbox"),
            "LEADS_RETRY_SECONDS": "2",
            "REPS_FILE": str(_reps_file(tmp, receiver, leads_url)),
            "LEADS_API_TOKEN": API_TOKEN,
            "RASA_URL": f"http://127.0.0.1:{rasa_ports[0]}",
            # Above any one conversation of these tests, low enough to be reached (counted in Redis).
            "RATE_LIMIT_VISITOR": str(VISITOR_LIMIT),
        }
        found = Cluster(tmp, isolated, env, receiver)
        found.rasa_ports = rasa_ports
        found.start("consumer", consumer_command())
        found.start("leads", leads_server(leads_port))
        for i, port in enumerate(actions_ports):
            found.start(f"actions-{i}", action_server(port))
        # One Rasa process as the tests start them, the other as make scale and docker compose do.
        endpoints = endpoints_file(tmp, isolated.services, actions_ports[0], "endpoints-0")
        found.start("rasa-0", rasa_server(rasa_ports[0], endpoints, ROOT / "credentials.yml"))
        found.env = {
            **env,
            "PYTHON_BIN": str(BIN / "python"),
            "RASA_BIN": str(BIN / "rasa"),
            "RASA_INTERFACE": "127.0.0.1",
            "RASA_PORT": str(rasa_ports[1]),
            "ACTIONS_URL": f"http://127.0.0.1:{actions_ports[1]}/webhook",
        }
        found.start("rasa-1", [str(ROOT / "scripts" / "rasa-process.sh")])
        found.env = env
        found.wait("leads", health(leads_port))
        for i, port in enumerate(actions_ports):
            found.wait(f"actions-{i}", health(port))
        found.checks = {f"rasa-{i}": rasa_status(port) for i, port in enumerate(rasa_ports)}
        for name, check in found.checks.items():
            found.wait(name, check)
        yield found
    finally:
        if found:
            found.stop()
        receiver.stop()
        time.sleep(0.5)
        isolated.drop()
    assert found.tracebacks() == [], "see tests/artifacts/scale-*.log"
