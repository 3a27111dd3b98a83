"""Salesforce (REST API): a Lead sobject with the qualification in mapped fields.

The access token comes from the OAuth 2.0 client credentials flow
(``/services/oauth2/token`` on the org's My Domain, ``SALESFORCE_URL``); the Lead
is created once, then updated with ``PATCH`` on its stored id.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, MutableMapping, Tuple

from common import settings
from leads.crm.http import CrmError, call, updated

NAME = "salesforce"
_tokens: Dict[Tuple[str, str], Tuple[str, str]] = {}
_lock = threading.Lock()


def enabled() -> bool:
    """On when the connected app's client id and secret and the org's URL are set."""
    return bool(settings.salesforce_client_id() and settings.salesforce_client_secret() and settings.salesforce_url())


def base_url() -> str:
    return settings.salesforce_url()


def _token(renew: bool = False) -> Tuple[str, str]:
    """``(access token, instance URL)``, asked once per process and again when it expired."""
    key = (settings.salesforce_url(), settings.salesforce_client_id())
    with _lock:
        if renew or key not in _tokens:
            answer = call(
                "POST",
                f"{key[0]}/services/oauth2/token",
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                form={
                    "grant_type": "client_credentials",
                    "client_id": key[1],
                    "client_secret": settings.salesforce_client_secret(),
                },
            )
            if not isinstance(answer, dict) or not answer.get("access_token"):
                raise CrmError("Salesforce gave no access token")
            _tokens[key] = (answer["access_token"], (answer.get("instance_url") or key[0]).rstrip("/"))
        return _tokens[key]


def _send(method: str, path: str, body: Dict[str, Any], send: Any = call) -> Any:
    """One API call with the org's token; a token refused (expired) is renewed once."""
    for renew in (False, True):
        token, instance = _token(renew)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            return send(method, f"{instance}/services/data/{settings.salesforce_api_version()}{path}", headers, body)
        except CrmError as error:
            if error.status != 401 or renew:
                raise
    return None  # not reached


def push(data: Dict[str, Any], ids: MutableMapping[str, str]) -> None:
    """Create the Lead, or update the one created before."""
    fields = data["objects"].get("lead") or {}
    if ids.get("lead") and _send("PATCH", f"/sobjects/Lead/{ids['lead']}", fields, updated) is not None:
        return
    answer = _send("POST", "/sobjects/Lead/", fields)
    if not isinstance(answer, dict) or not answer.get("success") or not answer.get("id"):
        raise CrmError(f"Salesforce did not create the Lead: {str(answer)[:300]}")
    ids["lead"] = str(answer["id"])
