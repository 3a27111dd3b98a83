"""Microsoft's side of the Bot Framework, as real HTTP servers on loopback.

``MicrosoftLogin`` serves the OpenID metadata, the signing keys (JWKS) and the
OAuth token endpoint, with an RSA key pair generated here; ``SigningKey`` signs
activity tokens the way the Bot Framework does. The Bot Connector a bot replies
to is ``tests.fakes.receiver.Receiver``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
OPENID_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
TOKEN_PATH = "/botframework.com/oauth2/v2.0/token"


class SigningKey:
    """An RSA key pair that signs tokens, published under ``kid``."""

    def __init__(self, kid: Optional[str] = None, endorsements: Optional[List[str]] = None) -> None:
        self.kid = kid or secrets.token_hex(8)
        self.endorsements = endorsements if endorsements is not None else ["msteams"]
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> Dict[str, Any]:
        """The public key as the JWKS lists it."""
        key = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**key, "kid": self.kid, "use": "sig", "endorsements": self.endorsements}

    def token(
        self,
        audience: str,
        service_url: Optional[str] = None,
        issuer: str = ISSUER,
        lifetime: int = 3600,
        age: int = 0,
        kid: Optional[str] = None,
        **extra: Any,
    ) -> str:
        """A token as the Bot Framework signs it; ``age`` seconds old."""
        now = int(time.time()) - age
        claims: Dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            **extra,
        }
        if service_url is not None:
            claims["serviceUrl"] = service_url
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


class MicrosoftLogin:
    """OpenID metadata, JWKS and token endpoint; records every request.

    Created stopped on a reserved port, so that a server can be started while
    Microsoft is unreachable; ``start()`` brings it up on that port.
    """

    def __init__(self, app_id: str, app_password: str, port: int) -> None:
        self.app_id, self.app_password, self.port = app_id, app_password, port
        self.keys: List[SigningKey] = []
        self.requests: List[Dict[str, Any]] = []
        self.issued: List[str] = []
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openid_url(self) -> str:
        return self.base + OPENID_PATH

    @property
    def token_url(self) -> str:
        return self.base + TOKEN_PATH

    @property
    def running(self) -> bool:
        return self._server is not None

    def paths(self, method: str = "GET") -> List[str]:
        return [r["path"] for r in self.requests if r["method"] == method]

    def start(self) -> None:
        login = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802
                login.requests.append({"method": "GET", "path": self.path})
                if self.path == OPENID_PATH:
                    self._answer(
                        200,
                        {
                            "issuer": ISSUER,
                            "jwks_uri": login.base + KEYS_PATH,
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                        },
                    )
                elif self.path == KEYS_PATH:
                    self._answer(200, {"keys": [key.jwk() for key in login.keys]})
                else:
                    self._answer(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                login.requests.append({"method": "POST", "path": self.path, "form": form})
                if self.path != TOKEN_PATH:
                    self._answer(404, {"error": "not found"})
                elif (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                    "client_credentials",
                    login.app_id,
                    login.app_password,
                ):
                    self._answer(401, {"error": "invalid_client"})
                elif form.get("scope") != "https://api.botframework.com/.default":
                    self._answer(400, {"error": "invalid_scope"})
                else:
                    token = secrets.token_urlsafe(24)
                    login.issued.append(token)
                    self._answer(
                        200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
                    )

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
