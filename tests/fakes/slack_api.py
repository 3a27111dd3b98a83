"""A real HTTP server on loopback speaking Slack's side: the Web API, response URLs, webhooks.

- ``POST /api/chat.postMessage``: checks the bot token, requires a channel and a
  text or blocks, records the message and answers like Slack (``ok``, ``ts``);
- ``POST /api/auth.test``: names the bot user;
- any other ``POST`` (a click's ``response_url``, incoming webhooks): recorded, ``ok``.

Also: how Slack signs what it sends, computed here independently of the code
under test.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs

from testkit.polling import wait_for

BOT_USER = "UBOT0001"


def signed_headers(
    body: bytes, secret: str, timestamp: Optional[int] = None, content_type: str = "application/json"
) -> Dict[str, str]:
    """The headers Slack sends with ``body``: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


class SlackApi:
    """Slack's cloud, as far as the assistant and the leads server talk to it."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.messages: List[Dict[str, Any]] = []
        self.other: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = api.answer(self.path, dict(self.headers), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, headers: Dict[str, str], raw: bytes) -> tuple:
        if not path.startswith("/api/"):
            with self._lock:
                self.other.append({"path": path, "body": json.loads(raw or b"null")})
            return 200, {"ok": True}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if "json" in (headers.get("Content-Type") or ""):
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        method = path[len("/api/") :]
        if method == "auth.test":
            return 200, {"ok": True, "user_id": BOT_USER, "team_id": "T0001", "bot_id": "B0001"}
        if method != "chat.postMessage":
            return 200, {"ok": False, "error": "unknown_method"}
        if not args.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return 200, {"ok": False, "error": "no_text"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        with self._lock:
            self.messages.append({**args, "ts": ts})
        return 200, {
            "ok": True,
            "channel": args["channel"],
            "ts": ts,
            "message": {"type": "message", "user": BOT_USER, "ts": ts, "text": args.get("text", "")},
        }

    def posted(self, channel: str, thread_ts: Optional[str] = None) -> List[Dict[str, Any]]:
        """Messages posted to a channel (and thread)."""
        with self._lock:
            return [
                m
                for m in self.messages
                if m["channel"] == channel and (thread_ts is None or m.get("thread_ts") == thread_ts)
            ]

    def calls_to(self, path: str) -> List[Any]:
        with self._lock:
            return [c["body"] for c in self.other if c["path"] == path]

    @staticmethod
    def wait_for(found: Callable[[], Any], timeout: float = 45) -> Any:
        """Poll until ``found()`` is truthy; its value, or an assertion error."""
        return wait_for(found, "the expected Slack calls", timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
