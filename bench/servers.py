"""Starting and stopping the servers the benchmark talks to, on loopback ports.

Start-up checks (free ports, waiting for ``/status``) are the end-to-end
tests' own helpers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from bench.settings import ROOT, redis_address
from common.endpoints import action_endpoint, tracker_store
from testkit.servers import free_port, wait_ready

BIN = Path(sys.executable).parent
#: Variables that would make the servers talk to the outside world; the benchmark stays on loopback.
OUTSIDE = (
    "SLACK_WEBHOOK_URL",
    "TEAMS_WEBHOOK_URL",
    "CRM_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_API_URL",
    "TEAMS_APP_ID",
    "TEAMS_APP_PASSWORD",
    "SANIC_WORKERS",
)


@dataclass
class Server:
    """A running server process and where it answers."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Terminate the process (and so its Sanic workers), killing it if it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def tracebacks(self) -> int:
        """How many tracebacks the server logged."""
        return self.log.read_text(errors="replace").count("Traceback") if self.log.exists() else 0


def environment(work: Path, database_url: str, **extra: str) -> Dict[str, str]:
    """The servers' environment: the lead database, a private outbox, nothing that leaves the machine."""
    env = {key: value for key, value in os.environ.items() if key not in OUTSIDE}
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": "127.0.0.1",
            "DATABASE_URL": database_url,
            "LEADS_OUTBOX_DIR": str(work / "outbox"),
            # the load comes from one address on purpose: no rate limit (0 switches it off)
            "RATE_LIMIT_VISITOR": "0",
            "RATE_LIMIT_ADDRESS": "0",
            "ERASURE_SALT": "bench",
            "WEB_SESSION_SECRET": "bench",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    env.update(extra)
    return env


def _start(name: str, command: List[str], cwd: Path, env: Dict[str, str], logs: Path, port: int) -> Server:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return Server(name, process, port, log)


def start_actions(env: Dict[str, str], logs: Path, port: Optional[int] = None, timed: Optional[Path] = None) -> Server:
    """The real action server; with ``timed``, the same server recording its timings to that file."""
    port = port or free_port()
    if timed:
        command = [str(BIN / "python"), "-m", "bench.timed_actions", "--port", str(port), "--timings", str(timed)]
    else:
        command = [str(BIN / "python"), "-m", "actions.server", "--port", str(port)]  # as make run starts it
    server = _start("actions-timed" if timed else "actions", command, ROOT, env, logs, port)
    wait_ready(f"{server.url}/health", server.process, server.log, lambda body: True)
    return server


def endpoints_file(
    folder: Path,
    actions_url: Optional[str],
    shared_stores: Optional[str] = None,
    database_url: Optional[str] = None,
) -> Path:
    """An endpoints file: the action server, and where conversations are kept.

    With ``database_url``, the SQL tracker store on that database, as ``make run``
    writes it (``common.endpoints``). For several Sanic workers, Redis lock and
    tracker stores instead; ``shared_stores`` is the key prefix that keeps the
    benchmark's conversations apart in Redis.
    """
    lines = []
    if actions_url:  # as make run calls the action server (common.endpoints.action_endpoint)
        action = action_endpoint(f"{actions_url}/webhook")
        lines.append("action_endpoint:" + "".join(f"\n  {key}: {json.dumps(value)}" for key, value in action.items()))
    if database_url and not shared_stores:
        store = tracker_store(database_url)
        lines.append("tracker_store:" + "".join(f"\n  {key}: {json.dumps(value)}" for key, value in store.items()))
    if shared_stores:
        redis, port = redis_address()
        for store in ("tracker_store", "lock_store"):
            expiry = "\n  record_exp: 3600" if store == "tracker_store" else ""
            lines.append(
                f"{store}:\n  type: redis\n  url: {redis}\n  port: {port}\n  db: 0\n"
                f"  key_prefix: {shared_stores}{expiry}"
            )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("endpoints.workers.yml" if shared_stores else "endpoints.yml")
    path.write_text("\n".join(lines) + "\n")
    return path


def start_rasa(
    name: str,
    model: Path,
    env: Dict[str, str],
    logs: Path,
    cwd: Path = ROOT,
    endpoints: Optional[Path] = None,
    credentials: Optional[Path] = None,
    wait: bool = True,
) -> Server:
    """``rasa run`` with the HTTP API on a free loopback port; returns once the model is loaded
    (at once with ``wait=False``: then :func:`wait_for_model`)."""
    port = free_port()
    command = [
        str(BIN / "rasa"),
        "run",
        "--model",
        str(model),
        "--enable-api",
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
    ]
    if endpoints:
        command += ["--endpoints", str(endpoints)]
    if credentials:
        command += ["--credentials", str(credentials)]
    server = _start(name, command, cwd, env, logs, port)
    if wait:
        wait_for_model(server)
    return server


def wait_for_model(server: Server) -> None:
    """Until the Rasa server answers ``/status`` with its model loaded."""
    wait_ready(f"{server.url}/status", server.process, server.log, lambda body: bool(body and body.get("model_file")))


def start_process(name: str, command: List[str], env: Dict[str, str], logs: Path) -> Server:
    """Any other process (no port), e.g. the statistics consumer."""
    return _start(name, command, ROOT, env, logs, 0)
