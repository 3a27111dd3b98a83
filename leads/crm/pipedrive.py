"""Pipedrive (API v1): a person, a lead linked to them, and a note on the lead with the summary.

Authenticated with a user's API token (``PIPEDRIVE_API_TOKEN``) in the ``x-api-token`` header.
"""

from __future__ import annotations

from typing import Any, Dict, MutableMapping

from common import settings
from leads.crm.http import CrmError, call, updated
from leads.crm.text import as_html

NAME = "pipedrive"


def enabled() -> bool:
    """On when an API token is set."""
    return bool(settings.pipedrive_api_token())


def base_url() -> str:
    return settings.pipedrive_api_url()


def _id(answer: Any) -> str:
    data = answer.get("data") if isinstance(answer, dict) and answer.get("success") else None
    if not isinstance(data, dict) or not data.get("id"):
        raise CrmError(f"Pipedrive did not accept the request: {str(answer)[:300]}")
    return str(data["id"])


def _updated(method: str, url: str, headers: Dict[str, str], body: Dict[str, Any]) -> bool:
    """Update an object made before; ``False`` when it is gone from Pipedrive (it is made again)."""
    answer = updated(method, url, headers, body)
    if answer is None:
        return False
    _id(answer)
    return True


def _person(fields: Dict[str, Any]) -> Dict[str, Any]:
    """Pipedrive keeps e-mail addresses and phone numbers as lists of labelled values."""
    person = dict(fields)
    for key in ("email", "phone"):
        if isinstance(person.get(key), str):
            person[key] = [{"value": person[key], "primary": True, "label": "work"}]
    return person


def push(data: Dict[str, Any], ids: MutableMapping[str, str]) -> None:
    """Create or update the person, the lead and its note; ``ids`` holds their ids as each one is made."""
    base = f"{base_url()}/api/v1"
    headers = {"x-api-token": settings.pipedrive_api_token(), "Content-Type": "application/json"}
    objects = data["objects"]
    person = _person(objects.get("person") or {})
    if ids.get("person") and _updated("PUT", f"{base}/persons/{ids['person']}", headers, person):
        pass
    else:
        ids["person"] = _id(call("POST", f"{base}/persons", headers, person))
    lead = dict(objects.get("lead") or {})
    budget = data.get("budget") or {}
    if budget.get("amount") is not None and budget.get("currency"):
        lead["value"] = {"amount": budget["amount"], "currency": budget["currency"]}
    if ids.get("lead") and _updated("PATCH", f"{base}/leads/{ids['lead']}", headers, lead):
        pass
    else:
        ids["lead"] = _id(call("POST", f"{base}/leads", headers, {**lead, "person_id": int(ids["person"])}))
    note = {"content": as_html(data["summary"])}
    if ids.get("note") and _updated("PUT", f"{base}/notes/{ids['note']}", headers, note):
        pass
    else:
        ids["note"] = _id(call("POST", f"{base}/notes", headers, {**note, "lead_id": ids["lead"]}))
