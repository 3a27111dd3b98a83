"""What the local CRM servers share: a real HTTP server on loopback, a request log, failures on demand.

Each CRM's server (``hubspot.py``, ``salesforce.py``, ``pipedrive.py``) answers
its API's requests in ``answer``; this base records every request (method,
path, headers, decoded body), and can be told to answer the next N calls with
429 (and a ``Retry-After``) or 500, as a CRM under load does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from testkit.polling import poll

#: ``(status, JSON body or None, extra headers)``
Answer = Tuple[int, Any, Dict[str, str]]


class CrmServer:
    """A CRM's cloud on 127.0.0.1: subclasses answer the API, this class serves and records it."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.failures: List[Tuple[int, Optional[str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body, headers = server.handle(self.command, self.path, dict(self.headers), raw)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def handle(self, method: str, target: str, headers: Dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if "json" in content_type:
            try:
                body: Any = json.loads(raw or b"null")
            except ValueError:
                return 400, {"error": "malformed JSON"}, {}
        elif "x-www-form-urlencoded" in content_type:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            body = raw.decode(errors="replace") or None
        entry = {"method": method, "path": parts.path, "query": query, "headers": headers, "body": body}
        with self.lock:
            self.requests.append(entry)
            failure = self.failures.pop(0) if self.failures else None
        if failure:
            status, wait = failure
            entry["answered"] = status
            return status, self.error_body(status), ({"Retry-After": wait} if wait else {})
        with self.lock:
            answer = self.answer(method, parts.path, {k.lower(): v for k, v in headers.items()}, query, body)
        entry["answered"] = answer[0]
        return answer

    def answer(self, method: str, path: str, headers: Dict[str, str], query: Dict[str, str], body: Any) -> Answer:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        """What this CRM says with a 429 or 500."""
        return {"message": "error", "status": status}

    def fail_next(self, count: int, status: int, retry_after: Optional[str] = None) -> None:
        """Answer the next ``count`` requests with ``status`` (and a ``Retry-After`` header)."""
        with self.lock:
            self.failures += [(status, retry_after)] * count

    def calls(self, method: Optional[str] = None, prefix: str = "") -> List[Dict[str, Any]]:
        with self.lock:
            return [
                r for r in self.requests if (method is None or r["method"] == method) and r["path"].startswith(prefix)
            ]

    def wait_for(self, found: Callable[[], Any], timeout: float = 60) -> Any:
        """Poll until ``found()`` is truthy; its value, or an assertion error naming the latest requests."""
        value = poll(found, timeout)
        if not value:
            raise AssertionError(f"nothing arrived within {timeout}s; requests: {self.requests[-5:]}")
        return value

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
