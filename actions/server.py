"""The action server: Rasa SDK's, on loopback unless told otherwise, and behind a token when it is not.

``python -m actions.server --port 5055`` listens on ``ACTIONS_HOST``
(``127.0.0.1``). With ``ACTIONS_TOKEN`` set, every call but ``/health`` must
carry it (``?token=…``, as the Rasa server sends the endpoint's ``token``, or
``Authorization: Bearer``); off loopback the token is required, and the server
refuses to start without one.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import logging
import sys
from typing import List, Optional

from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request

from common import settings
from common.heap import settle

logger = logging.getLogger(__name__)
OPEN_PATHS = ("/health",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def given_token(request: Request) -> str:
    """The token a call carries: ``?token=`` or an ``Authorization: Bearer`` header."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.args.get("token", "") or ""


def protect(app: Sanic, token: str) -> None:
    """Refuse every call without ``token`` (but the health check) before its body is used."""

    @app.on_request
    async def require_token(request: Request):
        if request.path in OPEN_PATHS:
            return None
        given = given_token(request)
        if not given:
            return response.json({"error": "This action server requires its token."}, status=401)
        if not hmac.compare_digest(given.encode(), token.encode()):
            return response.json({"error": "The token is not valid."}, status=403)
        return None


def build(token: str = "") -> Sanic:
    """The action server's application, protected when ``token`` is set."""
    app = create_app("actions", cors_origins=[])
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    if token:
        protect(app, token)
    return app


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description="Run the action server.")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, token = settings.actions_host(), settings.actions_token()
    if not is_loopback(host) and not token:
        print(f"ACTIONS_HOST={host} is not loopback: set ACTIONS_TOKEN (the Rasa server sends it).", file=sys.stderr)
        return 2
    logger.info("Action server on http://%s:%s (%s)", host, args.port, "token required" if token else "loopback")
    app = build(token)
    settle()  # the actions and their libraries are loaded: kept out of garbage collections from now on
    app.run(host, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
