"""The real servers, for tests: free loopback ports, HTTP calls, start-up and shut-down.

Every test package that talks to running servers (end-to-end, browser, Slack,
Teams) starts them with :func:`running`, which waits until each answers,
stops them afterwards, keeps their logs in ``tests/artifacts/`` and fails the
run when a server logged a traceback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

from common import endpoints

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "lead-assistant.tar.gz"
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "tests" / "artifacts"
START_TIMEOUT = 240

#: A server's readiness check: the URL to GET, and what its JSON body must satisfy.
Check = Tuple[str, Callable[[Any], bool]]

#: The tokens and secrets the test servers share (never the ones of ``var/``).
RASA_API_TOKEN = "test-rasa-api-token"
ACTIONS_TOKEN = "test-actions-token"
#: Each channel's prefix of conversation ids (``bot.channels.PREFIXES``).
PREFIXES = {"rest": "rest_", "web": "web_", "teams": "teams_", "slack": ""}


def secrets_env(**overrides: str) -> Dict[str, str]:
    """The servers' tokens and secrets for a test run, and rate limits a test suite does not hit."""
    env = {
        "RASA_API_TOKEN": RASA_API_TOKEN,
        "ACTIONS_TOKEN": ACTIONS_TOKEN,
        "WEB_SESSION_SECRET": "test-web-session-secret",
        "ERASURE_SALT": "test-erasure-salt",
        "RATE_LIMIT_VISITOR": "10000",
        "RATE_LIMIT_ADDRESS": "100000",
    }
    env.update(overrides)
    return env


def api_url(base: str, path: str, token: str = RASA_API_TOKEN) -> str:
    """A URL of the Rasa HTTP API, with its token."""
    return f"{base}{path}{'&' if '?' in path else '?'}token={urllib.parse.quote(token)}"


def tracker_url(base: str, sender: str, channel: str = "rest") -> str:
    """The tracker of a channel's sender, as the Rasa HTTP API serves it (with the token)."""
    conversation = urllib.parse.quote(PREFIXES[channel] + sender, safe=":")  # as Teams ids are kept
    return api_url(base, f"/conversations/{conversation}/tracker")


#: Ports ``free_port`` handed out in this process: none is handed out twice.
_HANDED_OUT: Set[int] = set()
_HANDING_OUT = threading.Lock()


def free_port() -> int:
    """A TCP port nobody listens on, on 127.0.0.1, and not handed out before in this process.

    Servers get their ports before any of them binds; the system may offer a
    port it offered a moment ago, and two servers would then try the same one.
    """
    with _HANDING_OUT:
        for _ in range(100):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port
    raise RuntimeError("no TCP port left on 127.0.0.1 that was not handed out already")


def http(method: str, url: str, body: Any = None, raw: Optional[bytes] = None, timeout: float = 60) -> tuple:
    """``(status, JSON body or text)`` of one request; HTTP errors are returned, not raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, payload.decode(errors="replace")


def action_server(port: int) -> List[str]:
    """The command that starts the action server (loopback; its token comes from ``ACTIONS_TOKEN``)."""
    return [str(BIN / "python"), "-m", "actions.server", "--port", str(port)]


def leads_server(port: int) -> List[str]:
    """The command that starts the leads server (API, rep page, Slack buttons)."""
    return [str(BIN / "python"), "-m", "leads", "serve", "--port", str(port)]


def rasa_server(port: int, endpoints: Path, credentials: Path, token: str = RASA_API_TOKEN) -> List[str]:
    """The command that starts the Rasa server on loopback with the trained model and a protected API."""
    return [
        str(BIN / "rasa"),
        "run",
        "--model",
        str(MODEL),
        "--enable-api",
        f"--auth-token={token}",  # a token may begin with "-": given as the option's value, never as an option
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
    ]


def endpoints_file(folder: Path, actions_port: int, database_url: Optional[str] = None) -> Path:
    """The endpoints file ``make run`` writes: the action server with its token, and the SQL tracker
    store on ``database_url`` (by default an SQLite file in ``folder``)."""
    path = folder / "endpoints.yml"
    database = database_url or f"sqlite:///{folder / 'leads.db'}"
    path.write_text(endpoints.render(f"http://127.0.0.1:{actions_port}/webhook", ACTIONS_TOKEN, database))
    return path


def health(port: int) -> Check:
    """Ready when ``/health`` answers."""
    return f"http://127.0.0.1:{port}/health", lambda body: True


def rasa_status(port: int) -> Check:
    """Ready when the Rasa server has loaded its model."""
    return api_url(f"http://127.0.0.1:{port}", "/status"), lambda body: bool(body and body.get("model_file"))


def wait_ready(url: str, process: subprocess.Popen, log: Path, ready: Callable[[Any], bool]) -> None:
    """Wait until ``url`` answers 200 with a body ``ready`` accepts; fail if the server exits or never does."""
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            status, body = http("GET", url, timeout=5)
            if status == 200 and ready(body):
                return
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass
        time.sleep(1)
    raise RuntimeError(f"server did not start in {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


@contextmanager
def running(
    commands: Dict[str, List[str]], checks: Dict[str, Check], env: Dict[str, str], folder: Path, prefix: str
) -> Iterator[Dict[str, subprocess.Popen]]:
    """Start the servers, wait until each check passes (in order), and stop them afterwards.

    Logs go to ``folder/<prefix>-<name>.log`` and are copied to ``tests/artifacts/``;
    a traceback in any of them fails the run.
    """
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}: run 'make train' first")
    logs = {name: folder / f"{prefix}-{name}.log" for name in commands}
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs[name].open("w"), stderr=subprocess.STDOUT)
        for name, command in commands.items()
    }
    try:
        for name, (url, ready) in checks.items():
            wait_ready(url, processes[name], logs[name], ready)
        yield processes
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        ARTIFACTS.mkdir(exist_ok=True)
        for log in logs.values():
            (ARTIFACTS / log.name).write_text(log.read_text())
        for name, log in logs.items():
            assert "Traceback" not in log.read_text(), (
                f"the {name} server logged a traceback; see tests/artifacts/{log.name}"
            )
